// Every operator new/delete variant, called explicitly so sizes are exact.
#include <memtide/annotate.h>

#include <cstdlib>
#include <new>

int main() {
  memtide_marker("begin");
  const std::align_val_t a64{64};
  void* p1 = ::operator new(10);
  ::operator delete(p1);
  void* p2 = ::operator new[](20);
  ::operator delete[](p2);
  void* p3 = ::operator new(30, std::nothrow);
  ::operator delete(p3, std::nothrow);
  void* p4 = ::operator new[](40, std::nothrow);
  ::operator delete[](p4, std::nothrow);
  void* p5 = ::operator new(50);
  ::operator delete(p5, 50);
  void* p6 = ::operator new[](60);
  ::operator delete[](p6, 60);
  void* p7 = ::operator new(70, a64);
  ::operator delete(p7, a64);
  void* p8 = ::operator new[](80, a64);
  ::operator delete[](p8, a64);
  void* p9 = ::operator new(90, a64, std::nothrow);
  ::operator delete(p9, a64, std::nothrow);
  void* p10 = ::operator new[](100, a64, std::nothrow);
  ::operator delete[](p10, a64, std::nothrow);
  void* p11 = ::operator new(110, a64);
  ::operator delete(p11, 110, a64);
  void* p12 = ::operator new[](120, a64);
  ::operator delete[](p12, 120, a64);
  char* mismatched = new char[130];
  std::free(mismatched);  // new[] released by free: the trace must show both kinds
  memtide_marker("end");
  return 0;
}
