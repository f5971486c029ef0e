#include "app/page_list.h"

#include "pages/calltree_page.h"
#include "pages/compare_page.h"
#include "pages/fragmentation_page.h"
#include "pages/layers_page.h"
#include "pages/leaks_page.h"
#include "pages/summary_page.h"
#include "pages/timeline_page.h"

namespace memtide::gui {

QList<Page*> createPages(QWidget* parent) {
  return {new SummaryPage(parent), new TimelinePage(parent), new LayersPage(parent),
          new LeaksPage(parent),   new CalltreePage(parent), new FragmentationPage(parent),
          new ComparePage(parent)};
}

}  // namespace memtide::gui
