// Data sets and batches.
//
// A data set is `count` fixed-size records made by a SampleGenerator: the input (f32 features or
// pixels, or i32 tokens) followed by i32 labels. It lives either
//   in memory     one heap buffer, generated in place; or
//   mapped        (`--mmap-data`) written record by record to a binary file, then mapped
//                 read-only: the bytes are page cache, not heap, and the kernel may drop and
//                 re-read them under memory pressure. The heap never holds the data set.
//
// File format (little-endian), written and checked by this file only:
//   offset 0   char[8]  magic "MTDSET01" (the last two characters are the version)
//          8   i64      record count
//         16   i64      bytes per record
//         24   i64      input elements, 32  i64 input dtype (engine::DType), 40 i64 labels
//         48   16 bytes zero;  64: records, back to back
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "layer.h"
#include "rng.h"

namespace engine {

struct SampleLayout {
  Shape input_shape;    // one sample: (F), (C, H, W) or (T)
  DType input_dtype;    // F32 or I32
  int64_t label_count;  // i32 labels per sample: 1 (class) or T (one per position)
  int64_t classes;      // labels are in [0, classes)

  size_t input_bytes() const {
    return static_cast<size_t>(input_shape.numel()) * dtype_size(input_dtype);
  }
  size_t record_bytes() const { return input_bytes() + static_cast<size_t>(label_count) * 4; }
};

class SampleGenerator {
 public:
  virtual ~SampleGenerator() = default;
  virtual SampleLayout layout() const = 0;
  // Fills one record. Must depend only on the index and the generator's seed.
  virtual void generate(int64_t index, std::byte* record) const = 0;
};

// A read-only file mapping that unmaps (and optionally deletes the file) when it goes.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const std::string& path, bool remove_on_close);
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  ~MappedFile();

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void close() noexcept;
  const std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  bool remove_ = false;
};

class Dataset {
 public:
  static Dataset in_memory(const SampleGenerator& gen, int64_t count);
  // Writes the file (replacing any), maps it; the file is deleted with the Dataset when
  // remove_file is set.
  static Dataset mapped(const SampleGenerator& gen, int64_t count, const std::string& path,
                        bool remove_file);

  const SampleLayout& layout() const { return layout_; }
  int64_t size() const { return count_; }
  size_t bytes() const { return static_cast<size_t>(count_) * layout_.record_bytes(); }
  bool is_mapped() const { return file_.data() != nullptr; }
  const std::string& path() const { return file_.path(); }
  const std::byte* record(int64_t i) const { return base_ + static_cast<size_t>(i) * stride_; }

 private:
  SampleLayout layout_{};
  int64_t count_ = 0;
  size_t stride_ = 0;
  std::unique_ptr<std::byte[]> heap_;
  MappedFile file_;
  const std::byte* base_ = nullptr;
};

struct Batch {
  Tensor inputs;   // (B, input shape...): the context's float dtype, or i32 tokens
  Tensor targets;  // i32 (B) or (B, T)
};

// Copies records into a batch: float inputs are converted to the context's dtype.
Batch make_batch(const Dataset& data, const int64_t* indices, int64_t count, Context& ctx);

// Batches from records [begin, end), in an order reshuffled each epoch (seeded).
class DataLoader {
 public:
  DataLoader(const Dataset& data, int64_t begin, int64_t end, int64_t batch, uint64_t seed);
  Batch next(Context& ctx);

 private:
  void shuffle();
  const Dataset& data_;
  int64_t batch_;
  std::vector<int64_t> order_;  // sized once; reshuffled in place
  size_t pos_ = 0;
  Rng rng_;
};

}  // namespace engine
