#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "os_memory.h"
#include "stack_table.h"

namespace memtide::agent {
namespace {

std::vector<uint64_t> unwind(const StackTable& table, uint32_t id) {
  std::vector<uint64_t> ips;
  for (; id != 0; id = table.node(id).parent) ips.push_back(table.node(id).ip());
  return ips;
}

StackCache* new_cache() {
  return static_cast<StackCache*>(map_zeroed(sizeof(StackCache)));
}

// A small deterministic generator: the same random stacks on every run.
struct XorShift {
  uint64_t x;
  uint64_t operator()() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

TEST(StackTable, SameFramesSameIdAndSharedPrefixesShareNodes) {
  StackTable table;
  StackCache* cache = new_cache();
  const uint64_t a[] = {0x30, 0x20, 0x10};  // innermost first
  const uint64_t b[] = {0x31, 0x20, 0x10};
  uint32_t id_a = table.intern(a, 3, cache);
  uint32_t id_b = table.intern(b, 3, cache);
  EXPECT_NE(id_a, id_b);
  EXPECT_EQ(table.intern(a, 3, cache), id_a);
  EXPECT_EQ(table.intern(a, 3, nullptr), id_a);  // found through the trie, not the cache
  EXPECT_EQ(table.published_count(), 4u);        // 0x10, 0x20, 0x30, 0x31
  EXPECT_EQ(unwind(table, id_a), (std::vector<uint64_t>{0x30, 0x20, 0x10}));
  EXPECT_EQ(unwind(table, id_b), (std::vector<uint64_t>{0x31, 0x20, 0x10}));
  EXPECT_EQ(table.intern(a, 0, cache), 0u);
  // A suffix is a stack of its own: its leaf is an inner trie node.
  EXPECT_EQ(table.intern(a + 1, 2, cache), table.node(id_a).parent);
}

TEST(StackTable, CacheCollisionsNeverReturnAWrongStack) {
  StackTable table;
  StackCache* cache = new_cache();
  std::vector<uint32_t> ids;
  // Far more stacks than cache entries: every lookup must still be exact.
  for (uint64_t i = 0; i < 20000; ++i) {
    const uint64_t frames[] = {0x1000 + i, 0x2000 + i % 7, 0x3000};
    ids.push_back(table.intern(frames, 3, cache));
  }
  for (uint64_t i = 0; i < 20000; ++i) {
    const uint64_t frames[] = {0x1000 + i, 0x2000 + i % 7, 0x3000};
    ASSERT_EQ(table.intern(frames, 3, cache), ids[i]);
    ASSERT_EQ(unwind(table, ids[i]), (std::vector<uint64_t>{0x1000 + i, 0x2000 + i % 7, 0x3000}));
  }
  EXPECT_EQ(table.published_count(), 20000u + 7u + 1u);
}

TEST(StackTable, ConcurrentInternsAgree) {
  StackTable table;
  constexpr int kThreads = 4, kStacks = 5000;
  std::vector<std::vector<uint32_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      StackCache* cache = new_cache();
      for (int i = 0; i < kStacks; ++i) {
        const uint64_t frames[] = {uint64_t(0x500 + i), uint64_t(0x900 + i % 13), 0x77};
        seen[t].push_back(table.intern(frames, 3, cache));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]);
  EXPECT_EQ(table.published_count(), uint32_t(kStacks + 13 + 1));
}

}  // namespace
}  // namespace memtide::agent

namespace memtide::agent {
namespace {

// Consecutive stacks of one thread share their outer frames; the cache reuses
// their nodes. Whatever the order and depths, each id must unwind to exactly
// the frames it was interned from.
TEST(StackTable, SharedOuterFramesResolveToTheRightStack) {
  StackTable table;
  StackCache* cache = new_cache();
  XorShift next{12345};
  std::vector<uint64_t> outer = {0x100, 0x200, 0x300, 0x400, 0x500, 0x600};
  for (int round = 0; round < 20000; ++round) {
    // A random inner part on top of a random-length slice of the outer frames.
    const size_t keep = next() % (outer.size() + 1);
    std::vector<uint64_t> frames;
    const size_t inner = next() % 5;
    for (size_t i = 0; i < inner; ++i) frames.push_back(0x9000 + next() % 4);
    frames.insert(frames.end(), outer.end() - keep, outer.end());
    if (frames.empty()) continue;
    const uint32_t id = table.intern(frames.data(), uint32_t(frames.size()), cache);
    ASSERT_EQ(unwind(table, id), frames) << "round " << round;
  }
}

// A stack that changes a few inner frames takes no hash, so the prefix
// hashes no longer describe the frames beyond those it shares: a later stack
// hashed through them must not borrow the older stack's outer frames, or a
// third stack made of those outer frames and its inner ones would be found
// in the whole-stack cache under the wrong id.
TEST(StackTable, PrefixHashesSkippedForAFewNewFramesAreNotReusedBeyondTheShared) {
  StackTable table;
  StackCache* cache = new_cache();
  const uint64_t a[] = {0xa1, 0x02, 0x01};  // innermost first
  const uint64_t b[] = {0xb2, 0xb1, 0x01};  // shares 1 with a: a few new frames
  const uint64_t c[] = {0xc7, 0xc6, 0xc5, 0xc4, 0xc3, 0xc2, 0xc1, 0xb1, 0x01};  // 2 with b
  const uint64_t d[] = {0xc7, 0xc6, 0xc5, 0xc4, 0xc3, 0xc2, 0xc1, 0x02, 0x01};  // 1 with c
  table.intern(a, 3, cache);
  table.intern(b, 3, cache, 1);
  const uint32_t id_c = table.intern(c, 9, cache, 2);
  EXPECT_EQ(unwind(table, id_c), std::vector<uint64_t>(c, c + 9));
  const uint32_t id_d = table.intern(d, 9, cache, 1);
  EXPECT_EQ(unwind(table, id_d), std::vector<uint64_t>(d, d + 9));
  EXPECT_EQ(table.intern(c, 9, cache, 1), id_c);  // c again, through the cache
}

// The recorder's claim of shared outer frames, on a random walk of stacks
// that change a few inner frames (no hash taken), many, or return to an
// earlier stack (a whole-stack cache hit): every id must be that of its own
// frames, so no hash may be built from another stack's outer frames.
TEST(StackTable, KnownSharedFramesOnARandomWalkOfStacksResolveExactly) {
  StackTable table;
  StackCache* cache = new_cache();
  XorShift next{977};
  std::vector<std::vector<uint64_t>> seen;
  std::vector<uint64_t> previous;
  for (int round = 0; round < 50000; ++round) {
    std::vector<uint64_t> frames;  // innermost first
    const uint64_t pick = next() % 8;
    if (pick == 0 && !seen.empty()) {
      frames = seen[next() % seen.size()];
    } else {
      frames = previous.empty() ? std::vector<uint64_t>{0x10, 0x20} : previous;
      // Replace the innermost few (or many) frames; keep at least one outer.
      const size_t replace = std::min(frames.size() - 1, size_t(pick < 6 ? next() % 4 : 8));
      frames.erase(frames.begin(), frames.begin() + replace);
      const size_t add = 1 + next() % (pick < 6 ? 4 : 12);
      for (size_t i = 0; i < add; ++i) frames.insert(frames.begin(), 0x1000 + next() % 6);
      if (frames.size() > 40) frames.resize(40);  // drops outer frames: a new outer part
    }
    uint32_t shared = 0;
    while (shared < frames.size() && shared < previous.size() &&
           frames[frames.size() - 1 - shared] == previous[previous.size() - 1 - shared])
      ++shared;
    const uint32_t claim = next() % 4 == 0 ? shared / 2 : shared;  // never more than true
    const uint32_t id = table.intern(frames.data(), uint32_t(frames.size()), cache, claim);
    ASSERT_EQ(unwind(table, id), frames) << "round " << round;
    if (seen.size() < 64)
      seen.push_back(frames);
    else if (next() % 16 == 0)
      seen[next() % 64] = frames;
    previous = frames;
  }
}

// Nodes keep 48 bits of an instruction pointer: every canonical address
// comes back whole, the top of user space and the kernel half (the vsyscall
// page some old binaries call through) alike.
// The recorder passes how many outer frames a capture shares with the
// previous one (the unwinder knows); that count may be trusted only while the
// cache's record of the previous stack is that stack.
TEST(StackTable, KnownSharedFramesAreUsedOnlyAgainstTheLatestStack) {
  StackTable table;
  StackCache* cache = new_cache();
  const uint64_t a[] = {0x13, 0x12, 0x11, 0x10};  // innermost first
  const uint64_t b[] = {0x23, 0x22, 0x11, 0x10};  // shares 2 outer frames with a
  const uint64_t c[] = {0x33, 0x32, 0x31, 0x10};  // shares 1 outer frame with a and b
  const uint32_t id_a = table.intern(a, 4, cache);
  const uint32_t id_b = table.intern(b, 4, cache, 2);
  EXPECT_EQ(unwind(table, id_b), (std::vector<uint64_t>{0x23, 0x22, 0x11, 0x10}));
  EXPECT_EQ(table.node(table.node(id_b).parent).parent, table.node(table.node(id_a).parent).parent);
  // a again: a hit in the whole-stack cache, which does not record it as the
  // latest stack; a claim against it must not be applied to b's record.
  EXPECT_EQ(table.intern(a, 4, cache), id_a);
  const uint64_t d[] = {0x43, 0x12, 0x11, 0x10};  // shares 3 with a, 2 with b
  const uint32_t id_d = table.intern(d, 4, cache, 3);
  EXPECT_EQ(unwind(table, id_d), (std::vector<uint64_t>{0x43, 0x12, 0x11, 0x10}));
  EXPECT_EQ(table.node(id_d).parent, table.node(id_a).parent);
  const uint32_t id_c = table.intern(c, 4, cache, 1);
  EXPECT_EQ(unwind(table, id_c), (std::vector<uint64_t>{0x33, 0x32, 0x31, 0x10}));
  EXPECT_EQ(table.intern(c, 4, nullptr), id_c);
}

// Two threads' caches with one edge table between them, as the writer keeps
// them: each resolves its stacks exactly through edges the other stored.
TEST(StackTable, CachesSharingOneEdgeTableResolveEveryStackExactly) {
  StackTable table;
  StackCache* edges = new_cache();
  StackCache* caches[2] = {new_cache(), new_cache()};
  for (StackCache* cache : caches) cache->shared_edges = edges;
  XorShift random{0x2545f4914f6cdd1dULL};
  std::vector<uint64_t> previous[2];
  for (int round = 0; round < 20000; ++round) {
    const int t = static_cast<int>(random() % 2);
    std::vector<uint64_t>& last = previous[t];
    std::vector<uint64_t> stack(1 + random() % 8);
    for (uint64_t& ip : stack) ip = 0x400000 + (random() % 32) * 16;
    const uint32_t kept = last.empty() ? 0 : random() % (std::min<size_t>(last.size(), 56) + 1);
    stack.insert(stack.end(), last.end() - kept, last.end());
    const auto depth = static_cast<uint32_t>(stack.size());
    const uint32_t id = table.intern(stack.data(), depth, caches[t], kept);
    ASSERT_EQ(unwind(table, id), stack) << "round " << round;
    last = stack;
  }
  // The threads' own edge tables were never written.
  for (StackCache* cache : caches)
    for (const StackCache::Edge& edge : cache->edges) ASSERT_EQ(edge.child, 0u);
  EXPECT_GT(edges->index_lookups, 0u);
}

// A stack hashed through the previous stack's prefix hashes (only its new
// inner frames hashed) gets the hashes hashing it whole gives.
TEST(StackTable, PrefixHashesEqualWholeStackHashes) {
  StackCache* cache = new_cache();
  std::vector<uint64_t> previous;
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  auto random = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 2000; ++round) {
    // Keep some outer frames of the previous stack, add new inner ones.
    const uint32_t kept = previous.empty() ? 0 : random() % (previous.size() + 1);
    const uint32_t added = 1 + random() % 12;
    std::vector<uint64_t> stack(added);
    for (uint64_t& ip : stack) ip = 0x400000 + random() % 64;  // repeats likely
    stack.insert(stack.end(), previous.end() - kept, previous.end());
    if (stack.size() > StackCache::kMaxFrames) stack.resize(StackCache::kMaxFrames);
    const auto depth = static_cast<uint32_t>(stack.size());
    const uint32_t shared = std::min(kept, depth);
    const FrameHashes whole = hash_frames(stack.data(), depth);
    const FrameHashes incremental = hash_frames(stack.data(), depth, *cache, shared);
    ASSERT_EQ(incremental.hash, whole.hash) << "round " << round;
    ASSERT_EQ(incremental.check, whole.check) << "round " << round;
    previous = stack;
  }
}

// A stack deeper than the cache keeps leaves no prefix hashes behind: the
// next stack's shared outer frames are its, not those of the stack before.
TEST(StackTable, PrefixHashesAreDroppedAfterAStackTooDeepToKeep) {
  StackTable table;
  StackCache* cache = new_cache();
  const uint64_t p[] = {0x13, 0x12, 0x11, 0x10};
  table.intern(p, 4, cache);
  std::vector<uint64_t> deep(StackCache::kMaxFrames + 20);
  for (size_t i = 0; i < deep.size(); ++i) deep[i] = 0x5000 + i;
  table.intern(deep.data(), static_cast<uint32_t>(deep.size()), cache);
  // x shares its two outer frames with the deep stack.
  const uint64_t x[] = {0x61, 0x60, deep[deep.size() - 2], deep.back()};
  const uint32_t id_x = table.intern(x, 4, cache, 2);
  // y is what x would hash as against p's prefix: it must not find x's id.
  const uint64_t y[] = {0x61, 0x60, 0x11, 0x10};
  const uint32_t id_y = table.intern(y, 4, cache);
  EXPECT_NE(id_y, id_x);
  EXPECT_EQ(unwind(table, id_y), std::vector<uint64_t>(y, y + 4));
  EXPECT_EQ(unwind(table, id_x), std::vector<uint64_t>(x, x + 4));
}

TEST(StackTable, CanonicalAddressesSurviveTheCompactNode) {
  StackTable table;
  const uint64_t frames[] = {0xffffffffff600400ULL, 0x7ffffffff000ULL, 0x555555554000ULL, 0x1};
  const uint32_t id = table.intern(frames, 4, nullptr);
  ASSERT_NE(id, 0u);
  EXPECT_EQ(unwind(table, id), std::vector<uint64_t>(frames, frames + 4));
  // A non-canonical address (a broken stack's garbage) is kept as its
  // canonical form, and the same garbage finds the same node again.
  const uint64_t garbage[] = {0x1234000000001000ULL, 0x555555554000ULL};
  const uint32_t first = table.intern(garbage, 2, nullptr);
  const uint32_t nodes = table.published_count();
  EXPECT_EQ(table.intern(garbage, 2, nullptr), first);
  EXPECT_EQ(table.published_count(), nodes);
  EXPECT_EQ(unwind(table, first)[0], 0x1000ULL);
}

// Below a node that a call creates, every frame is new: those nodes are added
// as one chain of consecutive ids without looking them up, across index
// growth. Each is still findable, nothing is stored twice, and a later stack
// that shares a chain's outer frames reuses its nodes.
TEST(StackTable, NewInnerFramesBecomeOneChainThatLaterLookupsFind) {
  StackTable table;
  StackCache* cache = new_cache();
  constexpr uint32_t kStacks = 20000, kDepth = 40, kNewAt = 5;  // frames from the outermost
  auto frames_of = [](uint32_t stack, uint64_t leaf) {
    std::vector<uint64_t> frames(kDepth);
    for (uint32_t r = 0; r < kDepth; ++r) {  // r: position from the outermost frame
      frames[kDepth - 1 - r] = r < kNewAt ? 0x1000 + r : 0x500000 + 64 * uint64_t(r);
    }
    frames[kDepth - 1 - kNewAt] = 0x900000 + 16 * uint64_t(stack);  // the first new frame
    frames[0] = leaf;
    return frames;
  };
  std::vector<uint32_t> ids(kStacks);
  for (uint32_t i = 0; i < kStacks; ++i) {
    const uint32_t before = table.published_count();
    const std::vector<uint64_t> frames = frames_of(i, 0x7000);
    ids[i] = table.intern(frames.data(), kDepth, i % 2 ? cache : nullptr);
    ASSERT_NE(ids[i], 0u);
    const uint32_t added = table.published_count() - before;
    ASSERT_EQ(added, i == 0 ? kDepth : kDepth - kNewAt) << i;
    ASSERT_EQ(ids[i], table.published_count());  // the leaf is the chain's last node
    for (uint32_t id = ids[i]; id > ids[i] - added + 1; --id)
      ASSERT_EQ(table.node(id).parent, id - 1);
    ASSERT_EQ(unwind(table, ids[i]), frames);
  }
  const uint32_t nodes = kDepth + (kStacks - 1) * (kDepth - kNewAt);
  EXPECT_EQ(table.published_count(), nodes);
  for (uint32_t i = 0; i < kStacks; ++i) {
    const std::vector<uint64_t> frames = frames_of(i, 0x7000);
    ASSERT_EQ(table.intern(frames.data(), kDepth, nullptr), ids[i]) << i;
  }
  // Another leaf under each chain: one new node, the rest found.
  for (uint32_t i = 0; i < kStacks; i += 97) {
    const std::vector<uint64_t> frames = frames_of(i, 0x7008);
    const uint32_t id = table.intern(frames.data(), kDepth, nullptr);
    EXPECT_EQ(table.node(id).parent, table.node(ids[i]).parent);
  }
  EXPECT_EQ(table.published_count(), nodes + (kStacks + 96) / 97);
}

// A thread's edge cache widens once the thread has looked up
// kEdgeGrowthLookups edges in the shared index; the entries stored before
// that only miss, and every stack still resolves to its own id.
TEST(StackTable, EdgeCacheWidensAfterManyIndexLookupsAndStaysExact) {
  StackTable table;
  StackCache* cache = new_cache();
  constexpr uint32_t kStacks = StackCache::kEdgeGrowthLookups;  // one lookup each
  std::vector<uint32_t> ids(kStacks);
  for (uint32_t i = 0; i < kStacks; ++i) {
    const uint64_t frames[] = {0x400000 + 16 * uint64_t(i), 0x300000};
    ids[i] = table.intern(frames, 2, cache);
    // The outer frame is found in the edge cache from the second stack on;
    // the first stack's inner frame was added below a new node, unlooked.
    ASSERT_EQ(cache->index_lookups, i + 1);
    ASSERT_EQ(cache->edge_bits_added, i + 1 == kStacks ? 2u : 0u) << i;
  }
  const uint64_t next[] = {0x500000, 0x300000};
  const uint32_t next_id = table.intern(next, 2, cache);
  EXPECT_EQ(cache->index_lookups, kStacks);
  EXPECT_EQ(table.published_count(), kStacks + 2);
  for (uint32_t i = 0; i < kStacks; ++i) {
    const uint64_t frames[] = {0x400000 + 16 * uint64_t(i), 0x300000};
    ASSERT_EQ(table.intern(frames, 2, cache), ids[i]) << i;
  }
  EXPECT_EQ(table.intern(next, 2, cache), next_id);
  EXPECT_EQ(table.published_count(), kStacks + 2);
}

// The shared index grows by half many times over (its capacities are not
// powers of two): every node stays findable under the id it was given, and
// no key is ever stored twice.
TEST(StackTable, NodesStayFindableAcrossIndexGrowth) {
  StackTable table;
  constexpr uint32_t kStacks = 300000;
  std::vector<uint32_t> ids(kStacks);
  for (uint32_t i = 0; i < kStacks; ++i) {
    const uint64_t frames[] = {0x400000 + 16 * uint64_t(i), 0x7f0000001000ULL + (i % 7)};
    ids[i] = table.intern(frames, 2, nullptr);
    ASSERT_NE(ids[i], 0u);
  }
  EXPECT_EQ(table.published_count(), kStacks + 7);  // 7 shared outer frames
  for (uint32_t i = 0; i < kStacks; ++i) {
    const uint64_t frames[] = {0x400000 + 16 * uint64_t(i), 0x7f0000001000ULL + (i % 7)};
    ASSERT_EQ(table.intern(frames, 2, nullptr), ids[i]) << i;
  }
  EXPECT_EQ(table.published_count(), kStacks + 7);
}

}  // namespace
}  // namespace memtide::agent
