// How memtide-gui writes numbers: bytes in IEC units, durations and trace
// times relative to the start of the run.
#pragma once

#include <QString>
#include <cstdint>

namespace memtide::gui {

QString formatBytes(uint64_t bytes);       // "1.5 MiB"
QString formatSignedBytes(int64_t bytes);  // "+1.5 MiB", "-512 B"
QString formatDuration(uint64_t ns);       // "12.3 ms", "4.20 s"
// A time of the trace as an offset from its start: "+1.234 s", with as
// many decimals as it takes to tell apart times `resolution_ns` apart (an
// axis passes its tick spacing; at least milliseconds, at most ns).
QString formatOffset(uint64_t time_ns, uint64_t start_ns, uint64_t resolution_ns = 1000000);
QString formatCount(uint64_t n);  // "1,234,567"

}  // namespace memtide::gui
