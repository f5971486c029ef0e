// The exports on synthetic traces (hand-made events, written as the agent
// writes them) for what real programs rarely do: a realloc in place at the
// heap's peak, scopes left out of order or never left; and the JSON writer's
// escaping byte by byte.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "exports/json_stream.h"
#include "memtide/analysis/chrome_trace_export.h"
#include "memtide/analysis/folded_export.h"
#include "memtide_common/event.h"
#include "memtide_common/page_codec.h"
#include "memtide_common/trace_schema.h"
#include "synthetic_trace.h"

namespace memtide::analysis {
namespace {

using test::SyntheticTrace;

std::string escaped(std::string_view text) {
  std::ostringstream out;
  {
    JsonStream json(out);
    json.string(text);
  }
  return out.str();
}

TEST(JsonStream, EscapesWhatWouldBreakJsonOrHtml) {
  EXPECT_EQ(escaped("a\"b\\c\nd\te\x01\x7f"), R"("a\"b\\c\nd\te\u0001\u007f")");
  EXPECT_EQ(escaped("</script><b>&"), R"("\u003c/script\u003e\u003cb\u003e\u0026")");
  EXPECT_EQ(escaped("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  // A stray continuation byte, an overlong '/', a surrogate, a cut sequence.
  EXPECT_EQ(escaped("\x80"), R"("\ufffd")");
  EXPECT_EQ(escaped("\xc0\xaf"), R"("\ufffd\ufffd")");
  EXPECT_EQ(escaped("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(escaped("x\xe2\x82"), R"("x\ufffd\ufffd")");
  EXPECT_EQ(escaped("\xe2\x80\xa8\xe2\x80\xa9"), R"("\u2028\u2029")");
}

TEST(JsonStream, MicrosecondsKeepEveryNanosecond) {
  std::ostringstream out;
  {
    JsonStream json(out);
    json.microseconds(0).raw(" ").microseconds(1234567).raw(" ").microseconds(-1500);
    json.raw(" ").microseconds(INT64_MIN);
  }
  EXPECT_EQ(out.str(), "0.000 1234.567 -1.500 -9223372036854775.808");
}

// Stack node n has return address 0x1000 * n; no module covers them, so the
// frames read [unknown]+0x(address - 1).
void add_stacks(SyntheticTrace& t) {
  t.sql("INSERT INTO stack_nodes VALUES(1, 0, 4096), (2, 0, 8192), (3, 0, 12288);");
}

std::string folded(const std::string& trace, FoldedWeight weight) {
  std::ostringstream out;
  FoldedOptions options;
  options.weight = weight;
  write_folded_stacks(TraceFile(trace), options, out);
  return out.str();
}

TEST(FoldedExport, AReallocInPlaceAtThePeakCountsOnlyItsNewSize) {
  SyntheticTrace t("folded_peak");
  add_stacks(t);
  t.add(EventKind::kMalloc, 0x10000, 100, 0, 1);
  t.add(EventKind::kMalloc, 0x20000, 50, 0, 2);
  t.add(EventKind::kReallocInPlace, 0x10000, 300, 0, 1);  // the peak: 350
  t.add(EventKind::kFree, 0x20000, 0);
  t.add(EventKind::kMalloc, 0x30000, 10, 0, 3);  // never freed, as is the resized block
  const std::string trace = t.write();
  // Lines sorted as text.
  EXPECT_EQ(folded(trace, FoldedWeight::kPeakBytes), "[unknown]+0x1fff 50\n[unknown]+0xfff 300\n");
  EXPECT_EQ(folded(trace, FoldedWeight::kBytes),
            "[unknown]+0x1fff 50\n[unknown]+0x2fff 10\n[unknown]+0xfff 400\n");
  EXPECT_EQ(folded(trace, FoldedWeight::kCount),
            "[unknown]+0x1fff 1\n[unknown]+0x2fff 1\n[unknown]+0xfff 2\n");
  EXPECT_EQ(folded(trace, FoldedWeight::kLeakedBytes),
            "[unknown]+0x2fff 10\n[unknown]+0xfff 300\n");
}

TEST(ChromeTraceExport, ScopesLeftOutOfOrderOrNeverLeftStillPairUp) {
  SyntheticTrace t("chrome_scopes");
  t.sql(
      "INSERT INTO strings VALUES(1, 'outer'), (2, 'inner'), (3, 'open'), (4, 'tick');"
      "INSERT INTO scopes VALUES(1, 0, 1, 1, 'annotate'), (2, 1, 2, 2, 'annotate'), "
      "(3, 0, 3, 1, 'annotate');"
      "INSERT INTO samples(time_ns, rss_bytes, live_heap_bytes, live_mmap_bytes, "
      "live_pool_bytes) VALUES(500, 8192, 64, NULL, 0);"
      "INSERT INTO gpu_samples(time_ns, device, live_device_bytes, live_managed_bytes, "
      "driver_used_bytes) VALUES(500, 1, 4096, 0, NULL);");
  t.add(EventKind::kScopeEnter, 0, 0, 1);  // t = 1 us
  t.add(EventKind::kScopeEnter, 0, 0, 2);
  t.add(EventKind::kScopeExit, 0, 0, 1);  // outer leaves before inner
  t.add(EventKind::kScopeExit, 0, 0, 2);  // inner was already closed: no event
  t.add(EventKind::kStep, 0, 0, 7);
  t.add(EventKind::kMark, 0, 0, 4);
  t.add(EventKind::kScopeEnter, 0, 0, 3);  // never left: closed at the end (1 ms)
  std::ostringstream out;
  const ChromeTraceStats stats = write_chrome_trace(TraceFile(t.write()), out);
  EXPECT_EQ(stats.scopes, 3u);
  EXPECT_EQ(stats.unmatched_scope_exits, 1u);
  EXPECT_EQ(stats.scopes_open_at_end, 1u);

  const nlohmann::json trace = nlohmann::json::parse(out.str());
  std::vector<std::string> events;
  for (const auto& e : trace["traceEvents"]) {
    nlohmann::json brief = e;
    brief.erase("cat");
    brief.erase("pid");
    events.push_back(brief.dump());
  }
  const std::vector<std::string> expected = {
      R"({"args":{"name":"synthetic"},"name":"process_name","ph":"M","tid":42,"ts":0.0})",
      R"({"args":{"name":"main"},"name":"thread_name","ph":"M","tid":4242,"ts":0.0})",
      R"({"args":{"bytes":64},"name":"live heap","ph":"C","tid":42,"ts":0.5})",
      R"({"args":{"bytes":0},"name":"live pool","ph":"C","tid":42,"ts":0.5})",
      R"({"args":{"bytes":8192},"name":"RSS","ph":"C","tid":42,"ts":0.5})",
      R"({"args":{"device":4096,"managed":0},"name":"GPU 1 live","ph":"C","tid":42,"ts":0.5})",
      R"({"args":{"path":"outer","scope":1},"name":"outer","ph":"B","tid":4242,"ts":1.0})",
      R"({"args":{"path":"outer/inner","scope":2},"name":"inner","ph":"B","tid":4242,"ts":2.0})",
      R"({"args":{"closed_by":"exit of an enclosing scope"},"name":"inner","ph":"E","tid":4242,"ts":3.0})",
      R"({"name":"outer","ph":"E","tid":4242,"ts":3.0})",
      R"({"args":{"step":7},"name":"step 7","ph":"i","s":"p","tid":4242,"ts":5.0})",
      R"({"name":"tick","ph":"i","s":"t","tid":4242,"ts":6.0})",
      R"({"args":{"path":"open","scope":3},"name":"open","ph":"B","tid":4242,"ts":7.0})",
      R"({"args":{"closed_by":"end of trace"},"name":"open","ph":"E","tid":4242,"ts":1000.0})",
  };
  EXPECT_EQ(events, expected);
}

}  // namespace
}  // namespace memtide::analysis
