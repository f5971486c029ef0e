#include "memtide_common/node_page_codec.h"

#include <cstring>

#include "memtide_common/page_codec.h"

namespace memtide {
namespace {

constexpr char kMagic[4] = {'M', 'T', 'N', '1'};
// The agent writes at most 16384 nodes a batch; the limit only rejects counts
// no writer produces, before they size a buffer.
constexpr uint64_t kMaxNodesPerPage = uint64_t(1) << 24;
constexpr size_t kIpBytes = 6;

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

bool get_varint(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (p == end) return false;
    const uint8_t b = *p++;
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

}  // namespace

void encode_node_page(std::span<const StackNodeRow> nodes, std::vector<uint8_t>& body) {
  body.clear();
  for (char c : kMagic) body.push_back(static_cast<uint8_t>(c));
  put_varint(body, nodes.size());
  uint64_t previous_id = 0;
  for (const StackNodeRow& node : nodes) {
    put_varint(body, zigzag(static_cast<int64_t>(node.id - previous_id - 1)));
    put_varint(body, zigzag(static_cast<int64_t>(node.id - node.parent)));
    for (size_t i = 0; i < kIpBytes; ++i) body.push_back(static_cast<uint8_t>(node.ip >> (8 * i)));
    previous_id = node.id;
  }
}

bool decode_node_page(const uint8_t* body, size_t size, std::vector<StackNodeRow>& out,
                      std::string& error) {
  out.clear();
  const uint8_t* p = body;
  const uint8_t* end = body + size;
  if (size < 4 || std::memcmp(p, kMagic, 4) != 0) {
    error = "stack node batch does not start with MTN1";
    return false;
  }
  p += 4;
  uint64_t count;
  if (!get_varint(p, end, count) || count > kMaxNodesPerPage) {
    error = "stack node batch has no plausible node count";
    return false;
  }
  out.reserve(count);
  uint64_t previous_id = 0;
  for (uint64_t n = 0; n < count; ++n) {
    uint64_t id_delta, parent_delta;
    if (!get_varint(p, end, id_delta) || !get_varint(p, end, parent_delta) ||
        static_cast<size_t>(end - p) < kIpBytes) {
      error =
          "stack node batch ends inside node " + std::to_string(n) + " of " + std::to_string(count);
      return false;
    }
    StackNodeRow row;
    row.id = previous_id + 1 + static_cast<uint64_t>(unzigzag(id_delta));
    row.parent = row.id - static_cast<uint64_t>(unzigzag(parent_delta));
    uint64_t ip = 0;
    for (size_t i = 0; i < kIpBytes; ++i) ip |= uint64_t(p[i]) << (8 * i);
    p += kIpBytes;
    row.ip = static_cast<uint64_t>(static_cast<int64_t>(ip << 16) >> 16);
    if (row.id == 0 || row.parent >= row.id) {
      error = "stack node batch has node " + std::to_string(row.id) + " with parent " +
              std::to_string(row.parent) + " (a parent precedes its children)";
      return false;
    }
    out.push_back(row);
    previous_id = row.id;
  }
  if (p != end) {
    error = "stack node batch has " + std::to_string(end - p) + " bytes after its last node";
    return false;
  }
  return true;
}

bool decode_stored_node_page(const void* blob, size_t blob_size, size_t body_bytes,
                             std::vector<StackNodeRow>& out, std::string& error) {
  if (body_bytes > kMaxNodesPerPage * 32) {
    error = "stack node batch size " + std::to_string(body_bytes) + " is implausible";
    return false;
  }
  std::vector<uint8_t> body;
  if (!decompress_frame(blob, blob_size, body_bytes, "stack node batch", body, error)) return false;
  return decode_node_page(body.data(), body.size(), out, error);
}

}  // namespace memtide
