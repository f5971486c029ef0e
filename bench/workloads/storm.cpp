// bench-storm: a two-thread malloc/free storm of mixed sizes.
//
// usage: bench-storm [OPS_PER_THREAD] [THREADS]
//   (defaults 4000000 and 2: about 4M allocation events per thread)
//
// Each operation is made at the bottom of a call stack about 7..30 frames deep
// (a recursion of 1..24 frames under the thread's own frames) whose
// frames alternate between two functions along a pseudo-random path, so the
// allocations come from a few thousand distinct call stacks. Every thread has
// its own fixed seed, so the run is deterministic in what it asks for. The mix:
// mostly malloc of 8 B..1 KiB, some up to 1 MiB (glibc maps the largest),
// about 10% calloc, about 12% of the frees turned into realloc, and 0.5% of
// the allocations anonymous mmap/munmap.
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr unsigned kSlots = 4096;

enum class Kind : uint8_t { kNone, kHeap, kMapped };

struct Slot {
  void* ptr = nullptr;
  size_t size = 0;
  Kind kind = Kind::kNone;
};

struct Counts {
  uint64_t malloc = 0, calloc = 0, realloc = 0, free = 0, mmap = 0, munmap = 0;
  uint64_t live = 0, live_peak = 0, checksum = 0;
};

struct Ctx {
  uint64_t rng;
  Slot slots[kSlots];
  Counts n;

  uint64_t next() {  // xorshift64*
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
  }
};

size_t pick_size(uint64_t r) {
  const unsigned c = static_cast<unsigned>(r % 100);
  r >>= 8;
  if (c < 60) return 8 + r % 121;          // 8..128
  if (c < 85) return 129 + r % 896;        // 129..1024
  if (c < 97) return 1025 + r % 15360;     // 1 KiB..16 KiB
  if (c < 99) return 16385 + r % 114688;   // 16 KiB..128 KiB
  return 131073 + r % (1048576 - 131072);  // 128 KiB..1 MiB
}

void touch(Ctx& c, void* p, size_t size) {
  auto* b = static_cast<unsigned char*>(p);
  b[0] = static_cast<unsigned char>(size);
  b[size - 1] = static_cast<unsigned char>(size >> 8);
  c.n.checksum += b[0] + size;
}

__attribute__((noinline)) void do_op(Ctx& c) {
  const uint64_t r = c.next();
  Slot& s = c.slots[r % kSlots];
  const unsigned how = static_cast<unsigned>((r >> 16) % 1000);
  if (s.kind == Kind::kNone) {
    if (how < 5) {
      const size_t size = (1 + (r >> 32) % 64) * 4096;
      void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) std::abort();
      s = {p, size, Kind::kMapped};
      ++c.n.mmap;
    } else {
      const size_t size = pick_size(c.next());
      void* p;
      if (how < 105) {
        p = std::calloc(1, size);
        ++c.n.calloc;
      } else {
        p = std::malloc(size);
        ++c.n.malloc;
      }
      if (!p) std::abort();
      s = {p, size, Kind::kHeap};
    }
    touch(c, s.ptr, s.size);
    if (++c.n.live > c.n.live_peak) c.n.live_peak = c.n.live;
  } else if (s.kind == Kind::kHeap && how < 120) {
    const size_t size = pick_size(c.next());
    void* p = std::realloc(s.ptr, size);
    if (!p) std::abort();
    s.ptr = p;
    s.size = size;
    touch(c, p, size);
    ++c.n.realloc;
  } else {
    c.n.checksum += static_cast<unsigned char*>(s.ptr)[0];
    if (s.kind == Kind::kMapped) {
      munmap(s.ptr, s.size);
      ++c.n.munmap;
    } else {
      std::free(s.ptr);
      ++c.n.free;
    }
    s = {};
    --c.n.live;
  }
}

__attribute__((noinline)) void descend_b(Ctx& c, unsigned depth, uint64_t path);

__attribute__((noinline)) void descend_a(Ctx& c, unsigned depth, uint64_t path) {
  if (depth == 0) {
    do_op(c);
  } else if (path & 1) {
    descend_b(c, depth - 1, path >> 1);
  } else {
    descend_a(c, depth - 1, path >> 1);
  }
  asm volatile("" ::: "memory");  // keep the frame: no tail call
  c.n.checksum += depth;
}

__attribute__((noinline)) void descend_b(Ctx& c, unsigned depth, uint64_t path) {
  if (depth == 0) {
    do_op(c);
  } else if (path & 1) {
    descend_a(c, depth - 1, path >> 1);
  } else {
    descend_b(c, depth - 1, path >> 1);
  }
  asm volatile("" ::: "memory");
  c.n.checksum ^= depth;
}

void run_thread(Ctx* c, uint64_t ops) {
  for (uint64_t i = 0; i < ops; ++i) {
    const uint64_t r = c->next();
    // descend_* recursion of 1..24 frames, plus do_op below it and
    // run_thread, the std::thread trampolines, start_thread and clone3 above
    // it: stacks of about 7..30 frames at each malloc/free call.
    const unsigned depth = static_cast<unsigned>(r % 24);
    const uint64_t path = (r >> 8) & 0x1f;  // branching only in the top 5 levels
    descend_a(*c, depth, path);
  }
  for (Slot& s : c->slots) {
    if (s.kind == Kind::kMapped) {
      munmap(s.ptr, s.size);
      ++c->n.munmap;
    } else if (s.kind == Kind::kHeap) {
      std::free(s.ptr);
      ++c->n.free;
    }
    s = {};
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t ops = 4000000;
  unsigned threads = 2;
  if (argc > 1) ops = std::strtoull(argv[1], nullptr, 10);
  if (argc > 2) threads = static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10));
  if (ops == 0 || threads == 0) {
    std::fprintf(stderr, "usage: %s [OPS_PER_THREAD] [THREADS]\n", argv[0]);
    return 2;
  }
  std::vector<Ctx*> ctx;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    ctx.push_back(new Ctx{});
    ctx.back()->rng = 0x243F6A8885A308D3ull * (t + 1) + 12345;
  }
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(run_thread, ctx[t], ops);
  for (auto& th : pool) th.join();
  Counts total;
  for (Ctx* c : ctx) {
    total.malloc += c->n.malloc;
    total.calloc += c->n.calloc;
    total.realloc += c->n.realloc;
    total.free += c->n.free;
    total.mmap += c->n.mmap;
    total.munmap += c->n.munmap;
    total.live_peak += c->n.live_peak;  // an upper bound on the process's peak
    total.checksum += c->n.checksum;
    delete c;
  }
  std::printf(
      "bench-storm: threads=%u malloc=%llu calloc=%llu realloc=%llu free=%llu mmap=%llu "
      "munmap=%llu live_peak=%llu checksum=%016llx\n",
      threads, (unsigned long long)total.malloc, (unsigned long long)total.calloc,
      (unsigned long long)total.realloc, (unsigned long long)total.free,
      (unsigned long long)total.mmap, (unsigned long long)total.munmap,
      (unsigned long long)total.live_peak, (unsigned long long)total.checksum);
  return 0;
}
