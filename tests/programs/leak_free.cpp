// A leak-free program that allocates heavily through libstdc++ containers,
// iostreams, stdio, dlerror and threads: the leak scan must report nothing
// lost, and whatever glibc and libstdc++ keep for themselves as reachable.
#include <dlfcn.h>
#include <pthread.h>

#include <cstdio>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

thread_local std::string t_name;

std::map<int, std::string> g_table;  // freed by its destructor at exit

void containers() {
  std::vector<std::unique_ptr<std::vector<int>>> nested;
  for (int i = 0; i < 2000; ++i) nested.push_back(std::make_unique<std::vector<int>>(i % 50, i));
  std::unordered_map<std::string, std::list<double>> index;
  for (int i = 0; i < 5000; ++i) index["key" + std::to_string(i % 700)].push_back(i * 0.5);
  for (int i = 0; i < 3000; ++i) g_table[i] = std::string(40 + i % 30, 'x');
  std::ostringstream text;
  for (int i = 0; i < 1000; ++i) text << i << ' ';
  std::cout << "text " << text.str().size() << std::endl;
}

void stdio_and_dl() {
  FILE* f = std::fopen("/proc/self/status", "r");
  char line[256];
  while (f && std::fgets(line, sizeof line, f)) {
  }
  if (f) std::fclose(f);
  std::printf("stdio %d\n", 1);
  if (dlopen("libmemtide-does-not-exist.so", RTLD_NOW) == nullptr)
    std::printf("dl %d\n", dlerror() != nullptr);
}

void threads() {
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([t] {
      t_name = "worker " + std::to_string(t) + std::string(64, '.');
      std::vector<std::string> words;
      for (int i = 0; i < 5000; ++i) words.push_back(std::to_string(i * t));
      std::cerr << "";
    });
  for (std::thread& th : pool) th.join();
  pthread_t raw;
  pthread_create(
      &raw, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  pthread_join(raw, nullptr);
}

}  // namespace

int main() {
  containers();
  stdio_and_dl();
  threads();
  return 0;
}
