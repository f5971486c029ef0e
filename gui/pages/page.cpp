#include "pages/page.h"

namespace memtide::gui {

QUrl pageLink(const QString& page, const QString& key, const QString& value) {
  QUrl url;
  url.setScheme(QStringLiteral("memtide"));
  url.setHost(page);
  if (!key.isEmpty()) {
    QUrlQuery query;
    query.addQueryItem(key, value);
    url.setQuery(query);
  }
  return url;
}

}  // namespace memtide::gui
