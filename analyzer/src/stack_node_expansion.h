// The agent stores stack trie nodes compressed, in batches (table
// stack_node_pages); queries read table stack_nodes. Opening a trace expands
// the batches not expanded yet into stack_nodes (and records them in
// expanded_node_pages), so a trace still being written gains its new nodes
// on the next open. A read-only trace gets a temporary stack_nodes table and
// stacks_flat view instead, which shadow the empty ones for this connection.
#pragma once

#include <sqlite3.h>

#include <string>

namespace memtide::analysis {

// Throws TraceError naming the batch that cannot be decoded.
void expand_stack_nodes(sqlite3* db, const std::string& path);

}  // namespace memtide::analysis
