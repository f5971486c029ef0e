// The rectangles of a flame graph (icicle: callers above their callees),
// computed off the UI thread from a top-down call tree, as hotspot builds
// its scene: one row per depth, each frame as wide as its inclusive value,
// children side by side under their parent, largest first. Positions are in
// the measure's own units, so zooming is a change of scale, not a relayout.
#pragma once

#include <cstdint>
#include <vector>

#include "memtide/analysis/stack_tree.h"

namespace memtide::gui {

struct FlameRect {
  uint32_t node = 0;              // in the top-down tree
  uint64_t start = 0, width = 0;  // in the measure's units, from 0 to the total
};

struct FlameLayout {
  std::vector<std::vector<FlameRect>> rows;  // by depth, each sorted by start
  uint64_t total = 0;
};

FlameLayout layoutFlameGraph(const analysis::CallTree& top_down);

}  // namespace memtide::gui
