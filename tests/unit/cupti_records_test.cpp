// CUPTI activity records, built by hand as CUPTI lays them out, translated to
// GPU events: only what the driver callbacks cannot see becomes an event.
#include <gtest/gtest.h>

#include <cstring>

#include "gpu/cupti_records.h"

namespace memtide::agent::gpu {
namespace {

CUpti_ActivityMemory4 memory_record(CUpti_ActivityMemoryOperationType op,
                                    CUpti_ActivityMemoryKind kind, uint64_t address,
                                    uint64_t bytes) {
  CUpti_ActivityMemory4 m;
  std::memset(&m, 0, sizeof m);
  m.kind = CUPTI_ACTIVITY_KIND_MEMORY2;
  m.memoryOperationType = op;
  m.memoryKind = kind;
  m.address = address;
  m.bytes = bytes;
  m.timestamp = 123456789;
  m.deviceId = 3;
  return m;
}

const CUpti_Activity* as_activity(const void* record) {
  return static_cast<const CUpti_Activity*>(record);
}

TEST(CuptiRecords, ModuleGlobalsBecomeStaticBlocks) {
  auto m = memory_record(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION,
                         CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC, 0x7f0000001000, 4096);
  Translated t;
  ASSERT_TRUE(translate_activity(as_activity(&m), t));
  EXPECT_EQ(t.call.kind, EventKind::kCudaStatic);
  EXPECT_EQ(t.call.api, GpuApi::kActivityRecord);
  EXPECT_EQ(t.call.device, 3u);
  EXPECT_EQ(t.call.address, 0x7f0000001000u);
  EXPECT_EQ(t.call.size, 4096u);
  EXPECT_EQ(t.time_ns, 123456789u);

  m.memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
  m.memoryKind = CUPTI_ACTIVITY_MEMORY_KIND_MANAGED_STATIC;
  ASSERT_TRUE(translate_activity(as_activity(&m), t));
  EXPECT_EQ(t.call.kind, EventKind::kCudaStaticFree);
}

TEST(CuptiRecords, GraphMemoryIsTheDeviceRecordWithoutAddress) {
  auto m = memory_record(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION,
                         CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, 0, 32 << 20);
  Translated t;
  ASSERT_TRUE(translate_activity(as_activity(&m), t));
  EXPECT_EQ(t.call.kind, EventKind::kCudaGraph);
  EXPECT_EQ(t.call.size, 32u << 20);
  m.memoryOperationType = CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
  ASSERT_TRUE(translate_activity(as_activity(&m), t));
  EXPECT_EQ(t.call.kind, EventKind::kCudaGraphFree);
}

TEST(CuptiRecords, ApiCallsSeenByCallbacksAreNotCountedTwice) {
  for (auto kind : {CUPTI_ACTIVITY_MEMORY_KIND_DEVICE, CUPTI_ACTIVITY_MEMORY_KIND_PINNED,
                    CUPTI_ACTIVITY_MEMORY_KIND_MANAGED}) {
    auto m = memory_record(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION, kind,
                           0x7f0000200000, 1 << 20);
    Translated t;
    EXPECT_FALSE(translate_activity(as_activity(&m), t)) << kind;
  }
  auto invalid = memory_record(CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_INVALID,
                               CUPTI_ACTIVITY_MEMORY_KIND_DEVICE_STATIC, 0x1000, 64);
  Translated t;
  EXPECT_FALSE(translate_activity(as_activity(&invalid), t));
}

TEST(CuptiRecords, PoolRecordsGiveTheReserveLevel) {
  CUpti_ActivityMemoryPool3 p;
  std::memset(&p, 0, sizeof p);
  p.kind = CUPTI_ACTIVITY_KIND_MEMORY_POOL;
  p.memoryPoolOperationType = CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_CREATED;
  p.address = 0x7f1000000000;
  p.size = 32 << 20;
  p.deviceId = 1;
  p.timestamp = 42;
  Translated t;
  ASSERT_TRUE(translate_activity(as_activity(&p), t));
  EXPECT_EQ(t.call.kind, EventKind::kCudaPoolReserve);
  EXPECT_EQ(t.call.address, 0x7f1000000000u);
  EXPECT_EQ(t.call.size, 32u << 20);
  EXPECT_EQ(t.call.device, 1u);
  EXPECT_EQ(t.time_ns, 42u);

  p.memoryPoolOperationType = CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_TRIMMED;
  p.size = 8 << 20;
  ASSERT_TRUE(translate_activity(as_activity(&p), t));
  EXPECT_EQ(t.call.size, 8u << 20);

  p.memoryPoolOperationType = CUPTI_ACTIVITY_MEMORY_POOL_OPERATION_TYPE_DESTROYED;
  ASSERT_TRUE(translate_activity(as_activity(&p), t));
  EXPECT_EQ(t.call.size, 0u);
}

TEST(CuptiRecords, OtherActivityKindsAreIgnored) {
  CUpti_Activity other{CUPTI_ACTIVITY_KIND_KERNEL};
  Translated t;
  EXPECT_FALSE(translate_activity(&other, t));
  EXPECT_FALSE(translate_activity(nullptr, t));
}

TEST(GpuAux, PacksAndUnpacksEveryField) {
  GpuAux a;
  a.device = 7;
  a.api = GpuApi::kMemAllocFromPoolAsync;
  a.result = 2;
  a.object = 0xDEADBEEF;
  const GpuAux b = unpack_gpu_aux(pack_gpu_aux(a));
  EXPECT_EQ(b.device, 7u);
  EXPECT_EQ(b.api, GpuApi::kMemAllocFromPoolAsync);
  EXPECT_EQ(b.result, 2u);
  EXPECT_EQ(b.object, 0xDEADBEEFu);
}

}  // namespace
}  // namespace memtide::agent::gpu
