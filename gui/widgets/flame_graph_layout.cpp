#include "widgets/flame_graph_layout.h"

#include <algorithm>

namespace memtide::gui {

FlameLayout layoutFlameGraph(const analysis::CallTree& tree) {
  FlameLayout layout;
  layout.total = tree.total;
  // Depth first with an explicit stack: call chains can be thousands deep.
  struct Pending {
    uint32_t node;
    uint64_t start;
  };
  std::vector<Pending> pending;
  uint64_t start = 0;
  for (uint32_t root : tree.roots) {
    pending.push_back({root, start});
    start += tree.nodes[root].inclusive;
  }
  while (!pending.empty()) {
    const Pending p = pending.back();
    pending.pop_back();
    const analysis::CallTreeNode& node = tree.nodes[p.node];
    if (node.inclusive == 0) continue;
    if (layout.rows.size() <= node.depth) layout.rows.resize(node.depth + 1);
    layout.rows[node.depth].push_back({p.node, p.start, node.inclusive});
    uint64_t child_start = p.start;
    for (uint32_t child : node.children) {
      pending.push_back({child, child_start});
      child_start += tree.nodes[child].inclusive;
    }
  }
  for (std::vector<FlameRect>& row : layout.rows)
    std::sort(row.begin(), row.end(),
              [](const FlameRect& a, const FlameRect& b) { return a.start < b.start; });
  return layout;
}

}  // namespace memtide::gui
