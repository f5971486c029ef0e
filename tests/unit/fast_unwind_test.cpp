// memtide's unwinder against libunwind: every capture must list exactly the
// return addresses libunwind's unw_backtrace lists, with and without the
// previous-stack reuse, through recursion, libc callbacks, stack-realigning
// functions, threads, stale histories and dropped rules.
#include "fast_unwind.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace memtide::agent {
namespace {

using Frames = std::vector<uint64_t>;

struct Capture {
  Frames fast;  // memtide's, from the caller of capture_here() outwards
  Frames libunwind;
  int fast_count = 0;
};

UnwindHistory* g_history = nullptr;  // set by a test that exercises reuse
UnwindStats g_stats{};

// Both unwinders from the same function, so the frames from its caller on
// must agree: fast_unwind lists its own frame and this one's first,
// unw_backtrace this one's first.
__attribute__((noinline)) Capture capture_here() {
  Capture c;
  uint64_t scratch[UnwindHistory::kMaxFrames];
  const uint64_t* frames = nullptr;
  c.fast_count = fast_unwind(g_history, scratch, UnwindHistory::kMaxFrames, &frames, &g_stats);
  void* raw[UnwindHistory::kMaxFrames];
  const int n = unw_backtrace(raw, UnwindHistory::kMaxFrames - 1);
  for (int i = 2; i < c.fast_count; ++i) c.fast.push_back(frames[i]);
  for (int i = 1; i < n; ++i) c.libunwind.push_back(reinterpret_cast<uint64_t>(raw[i]));
  asm volatile("" ::: "memory");  // keep the calls above from becoming tail calls
  return c;
}

void expect_same(const Capture& c) {
  ASSERT_GT(c.fast_count, 0) << "memtide's unwinder gave up where libunwind did not";
  ASSERT_FALSE(c.libunwind.empty());
  EXPECT_EQ(c.fast, c.libunwind);
}

// Deep call chains whose frames differ in shape: one keeps a frame pointer,
// one does not and uses rbp for data, so reuse must not depend on its value.
__attribute__((noinline)) Capture recurse_framed(int depth);
__attribute__((noinline, optimize("omit-frame-pointer"))) Capture recurse_frameless(
    int depth, uint64_t noise) {
  register uint64_t data asm("rbp") = noise * 2654435761u;  // rbp as a general register
  asm volatile("" : "+r"(data));
  Capture c = depth <= 0 ? capture_here() : recurse_framed(depth - 1);
  asm volatile("" : "+r"(data));
  c.fast_count += static_cast<int>(data & 0);
  return c;
}
__attribute__((noinline)) Capture recurse_framed(int depth) {
  volatile char pad[48];
  pad[depth % 48] = 1;
  Capture c = depth <= 0 ? capture_here() : recurse_frameless(depth - 1, depth + pad[0]);
  asm volatile("" ::: "memory");
  return c;
}

// A function whose prologue realigns the stack through a spare register (an
// over-aligned local beside a variable-length one): GCC describes its CFA
// with a DWARF expression through rbp (memtide's kCfaDerefRbp rule).
__attribute__((noinline)) Capture realigned(int depth) {
  alignas(64) volatile char buffer[64];
  volatile char* variable = static_cast<volatile char*>(__builtin_alloca(depth + 16));
  variable[depth] = 1;
  buffer[depth & 63] = 1;
  Capture c = recurse_framed(depth + buffer[depth & 63] + variable[depth] - 2);
  asm volatile("" ::: "memory");
  return c;
}

TEST(FastUnwind, MatchesLibunwindThroughDeepRecursion) {
  for (int depth : {0, 1, 5, 30, 120}) {
    SCOPED_TRACE(depth);
    expect_same(recurse_framed(depth));
  }
}

// A frame over 1 KiB: its rule is too wide for the one-word table.
__attribute__((noinline)) Capture big_frame(int depth) {
  volatile char buffer[4096];
  buffer[depth & 4095] = 1;
  Capture c = depth <= 0 ? capture_here() : recurse_framed(depth - 1 + buffer[depth & 4095] - 1);
  asm volatile("" ::: "memory");
  return c;
}

TEST(FastUnwind, MatchesLibunwindThroughALargeFrame) {
  expect_same(big_frame(0));
  expect_same(big_frame(6));
}

TEST(FastUnwind, StopsAtTheRequestedNumberOfFrames) {
  uint64_t scratch[8];
  const uint64_t* frames = nullptr;
  EXPECT_EQ(fast_unwind(nullptr, scratch, 3, &frames, nullptr), 3);
  EXPECT_EQ(frames, scratch);
  EXPECT_EQ(fast_unwind(nullptr, scratch, 0, &frames, nullptr), 0);
}

TEST(FastUnwind, MatchesLibunwindThroughARealignedStack) {
  expect_same(realigned(3));
  expect_same(realigned(40));
}

Capture g_from_qsort;
int compare_and_capture(const void* a, const void* b) {
  if (g_from_qsort.fast_count == 0) g_from_qsort = capture_here();
  return *static_cast<const int*>(a) - *static_cast<const int*>(b);
}

TEST(FastUnwind, MatchesLibunwindThroughLibcCallbacks) {
  std::vector<int> values{5, 3, 9, 1, 7, 2, 8};
  g_from_qsort = Capture{};
  qsort(values.data(), values.size(), sizeof(int), compare_and_capture);
  expect_same(g_from_qsort);
}

TEST(FastUnwind, MatchesLibunwindOnAnotherThread) {
#if defined(__SANITIZE_THREAD__)
  // libunwind's per-thread cache destructor crashes inside ThreadSanitizer's
  // mutex interceptor at thread exit; the threads test below covers memtide.
  GTEST_SKIP() << "libunwind on a second thread under ThreadSanitizer";
#endif
  Capture c;
  std::thread([&] { c = recurse_framed(7); }).join();
  expect_same(c);
}

// A signal frame is beyond memtide's rules: the capture reports -1 and the
// recorder asks libunwind instead.
volatile int g_signal_result = 0;
void capture_in_handler(int) {
  uint64_t scratch[UnwindHistory::kMaxFrames];
  const uint64_t* frames = nullptr;
  g_signal_result = fast_unwind(nullptr, scratch, UnwindHistory::kMaxFrames, &frames, nullptr);
}

TEST(FastUnwind, GivesUpOnSignalFrames) {
  struct sigaction action {
  }, old{};
  action.sa_handler = capture_in_handler;
  sigaction(SIGUSR2, &action, &old);
  g_signal_result = 0;
  raise(SIGUSR2);
  sigaction(SIGUSR2, &old, nullptr);
  EXPECT_EQ(g_signal_result, -1);
}

// With a history, captures reuse the previous stack where its words are
// unchanged: results must still equal libunwind's, whatever changed between
// two captures (depth, the path taken, rbp's contents, a dropped rule table).
class FastUnwindWithHistory : public ::testing::Test {
 protected:
  void SetUp() override {
    history_ = std::make_unique<UnwindHistory>();
    g_history = history_.get();
    g_stats = {};
  }
  void TearDown() override { g_history = nullptr; }
  std::unique_ptr<UnwindHistory> history_;
};

TEST_F(FastUnwindWithHistory, ReusesTheSharedOuterFramesExactly) {
  for (int round = 0; round < 3; ++round) {
    for (int depth : {20, 20, 21, 19, 60, 3, 60, 61}) {
      SCOPED_TRACE(depth);
      expect_same(recurse_framed(depth));
    }
  }
  // Repeated and neighbouring depths share most of their frames.
  EXPECT_GT(g_stats.frames_reused, g_stats.frames_walked);
}

TEST_F(FastUnwindWithHistory, NoticesADifferentPathAtTheSameDepth) {
  // Same depth through different functions: the same stack addresses hold
  // different return addresses, which the comparison must catch.
  for (int i = 0; i < 4; ++i) {
    expect_same(recurse_framed(10));
    expect_same(recurse_frameless(10, i));
    expect_same(realigned(10));
  }
}

// Two callers with the same frame size: the inner frames of their captures
// have the same registers, so the new capture joins the previous stack
// there, and only the return address word of the caller tells them apart.
__attribute__((noinline)) Capture outer_a(int depth) {
  Capture c = recurse_framed(depth);
  asm volatile("" ::: "memory");
  return c;
}
__attribute__((noinline)) Capture outer_b(int depth) {
  Capture c = recurse_framed(depth);
  asm volatile("" ::: "memory");
  return c;
}

TEST_F(FastUnwindWithHistory, NoticesADifferentCallerBehindTheSameInnerFrames) {
  for (int i = 0; i < 3; ++i) {
    const Capture a = outer_a(8);
    expect_same(a);
    const Capture b = outer_b(8);
    expect_same(b);
    ASSERT_EQ(a.fast.size(), b.fast.size());
    EXPECT_NE(a.fast, b.fast);
  }
  EXPECT_GT(g_stats.frames_reused, 0u);
}

// Two call sites in one function below the same outer frames: a capture
// from the second joins the first at the top, parts at the function's
// return address, and must join again at its caller's frame.
__attribute__((noinline)) Capture from_site(int site) {
  // Different code after each call keeps the compiler from merging them.
  if (site == 0) {
    Capture c = capture_here();
    asm volatile("nop" ::: "memory");
    return c;
  }
  Capture c = capture_here();
  asm volatile("nop; nop" ::: "memory");
  return c;
}
__attribute__((noinline)) Capture two_sites_below(int depth, int site) {
  Capture c = depth <= 0 ? from_site(site) : two_sites_below(depth - 1, site);
  asm volatile("" ::: "memory");  // not a tail call: each level keeps its frame
  return c;
}

TEST_F(FastUnwindWithHistory, JoinsThePreviousStackAgainBelowACallSiteThatDiffers) {
  constexpr int kDepth = 12;
  for (int round = 0; round < 3; ++round) {
    for (int site : {0, 1}) {  // one call site here: only from_site's differ
      SCOPED_TRACE(site);
      const UnwindStats before = g_stats;
      const Capture c = two_sites_below(kDepth, site);
      expect_same(c);
      if (round == 0 && site == 0) continue;  // the first capture walks everything
      // Every frame from from_site's caller outwards is shared; not
      // fast_unwind's own, capture_here's and from_site's.
      EXPECT_GE(g_history->shared_tail, static_cast<uint32_t>(kDepth + 1));
      EXPECT_EQ(g_history->shared_tail + 3, static_cast<uint32_t>(c.fast_count));
      // Walked: the step out of capture_here into from_site's other call
      // site and the one out of from_site; the frames below are compared.
      EXPECT_EQ(g_stats.frames_walked - before.frames_walked, 2u);
      EXPECT_FALSE(g_history->repeated);
    }
  }
}

TEST_F(FastUnwindWithHistory, KeepsWorkingAfterTheRulesAreForgotten) {
  expect_same(recurse_framed(12));
  forget_frame_rules();
  expect_same(recurse_framed(12));
  expect_same(recurse_framed(13));
}

// The unwind-table header of the object holding `code`.
const uint8_t* eh_frame_hdr_of(const void* code) {
  struct Search {
    uintptr_t code;
    const uint8_t* hdr;
  } search{reinterpret_cast<uintptr_t>(code), nullptr};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* arg) {
        auto* s = static_cast<Search*>(arg);
        bool holds = false;
        const uint8_t* hdr = nullptr;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && s->code >= begin && s->code < begin + ph.p_memsz)
            holds = true;
          if (ph.p_type == PT_GNU_EH_FRAME)
            hdr = reinterpret_cast<const uint8_t*>(info->dlpi_addr + ph.p_vaddr);
        }
        if (holds) s->hdr = hdr;
        return holds ? 1 : 0;
      },
      &search);
  return search.hdr;
}

// Whether the page holding `address` is mapped in this process (bit 63 of
// its /proc/self/pagemap entry; reading it does not touch the page).
bool page_present(const void* address) {
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  uint64_t entry = 0;
  const off_t offset = static_cast<off_t>(reinterpret_cast<uintptr_t>(address) / 4096 * 8);
  const bool read_ok = pread(fd, &entry, sizeof(entry), offset) == sizeof(entry);
  close(fd);
  return !read_ok || (entry >> 63) != 0;
}

int g_written_global = 1;  // in a writable segment: release must leave it alone

TEST(FastUnwindTablePages, ReleasedPagesAreReadAgainAndDataIsUntouched) {
  const uint8_t* hdr = eh_frame_hdr_of(reinterpret_cast<const void*>(&capture_here));
  ASSERT_NE(hdr, nullptr);
  g_written_global = 42;
  forget_frame_rules();
  expect_same(recurse_framed(5));  // reads this binary's unwind tables again
  uint8_t saved[64];
  std::memcpy(saved, hdr, sizeof(saved));
  ASSERT_TRUE(page_present(hdr));

  release_unwind_table_pages();
  EXPECT_FALSE(page_present(hdr)) << "the unwind-table page is still mapped";
  EXPECT_TRUE(page_present(&g_written_global));
  EXPECT_EQ(g_written_global, 42);
  EXPECT_EQ(std::memcmp(saved, hdr, sizeof(saved)), 0);  // mapped again from the file

  // Nothing read since: a second call leaves the pages that are mapped now.
  release_unwind_table_pages();
  EXPECT_TRUE(page_present(hdr));
  // Rules learned from the released tables still come out right.
  forget_frame_rules();
  expect_same(recurse_framed(7));
  expect_same(recurse_frameless(7, 3));
}

TEST(FastUnwindThreads, EachThreadsHistoryGivesItsOwnStack) {
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &mismatches] {
      auto history = std::make_unique<UnwindHistory>();
      for (int i = 0; i < 200; ++i) {
        uint64_t scratch[UnwindHistory::kMaxFrames];
        const uint64_t* frames = nullptr;
        const int n = fast_unwind(history.get(), scratch, 64, &frames, nullptr);
        uint64_t again[UnwindHistory::kMaxFrames];
        const uint64_t* fresh = nullptr;
        const int m = fast_unwind(nullptr, again, 64, &fresh, nullptr);
        // Two calls from this function: from its caller on, the frames agree.
        if (n != m || n < 3 || !std::equal(frames + 2, frames + n, fresh + 2)) ++mismatches[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace memtide::agent
