#include "core/format.h"

#include <QLocale>
#include <cstdint>

namespace memtide::gui {

QString formatBytes(uint64_t bytes) {
  if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes);
  // QLocale takes a signed size: the top half of the range is done here.
  if (bytes > uint64_t(INT64_MAX))
    return QStringLiteral("%1 EiB").arg(double(bytes) / double(uint64_t(1) << 60), 0, 'f', 1);
  return QLocale::c().formattedDataSize(qint64(bytes), 1, QLocale::DataSizeIecFormat);
}

QString formatSignedBytes(int64_t bytes) {
  const uint64_t magnitude = bytes < 0 ? uint64_t(-(bytes + 1)) + 1 : uint64_t(bytes);
  return (bytes < 0 ? QStringLiteral("-") : QStringLiteral("+")) + formatBytes(magnitude);
}

QString formatDuration(uint64_t ns) {
  if (ns < 1000) return QStringLiteral("%1 ns").arg(ns);
  if (ns < 1000000) return QStringLiteral("%1 µs").arg(double(ns) / 1e3, 0, 'f', 1);
  if (ns < 1000000000) return QStringLiteral("%1 ms").arg(double(ns) / 1e6, 0, 'f', 1);
  return QStringLiteral("%1 s").arg(double(ns) / 1e9, 0, 'f', 2);
}

QString formatOffset(uint64_t time_ns, uint64_t start_ns, uint64_t resolution_ns) {
  const double seconds = time_ns >= start_ns ? double(time_ns - start_ns) / 1e9 : 0.0;
  int decimals = 3;
  for (uint64_t unit = 1000000; decimals < 9 && resolution_ns < unit; unit /= 10) ++decimals;
  return QStringLiteral("+%1 s").arg(seconds, 0, 'f', decimals);
}

QString formatCount(uint64_t n) {
  QLocale english(QLocale::English);
  return english.toString(qulonglong(n));
}

}  // namespace memtide::gui
