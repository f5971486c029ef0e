// Stack trie nodes as the agent stores them: batches of (id, parent, ip)
// rows, delta-coded and zstd-compressed, in table stack_node_pages. The
// nodes repeat the same few thousand return addresses under different
// parents, and a node's parent is usually the node just before it, so a
// batch compresses to about half a byte per node where a row of table
// stack_nodes costs about 19. The analyzer expands the batches into
// stack_nodes when it opens a trace. docs/trace-format.md gives the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace memtide {

struct StackNodeRow {
  uint64_t id;
  uint64_t parent;  // 0 = root
  uint64_t ip;      // a canonical 48-bit address, sign-extended

  bool operator==(const StackNodeRow&) const = default;
};

// Encodes `nodes` (any order; the agent writes ascending ids) into `body`.
void encode_node_page(std::span<const StackNodeRow> nodes, std::vector<uint8_t>& body);

// Decodes an uncompressed body; false with a reason on malformed input.
bool decode_node_page(const uint8_t* body, size_t size, std::vector<StackNodeRow>& out,
                      std::string& error);

// Decompresses a stored batch (`body_bytes` uncompressed) and decodes it.
bool decode_stored_node_page(const void* blob, size_t blob_size, size_t body_bytes,
                             std::vector<StackNodeRow>& out, std::string& error);

}  // namespace memtide
