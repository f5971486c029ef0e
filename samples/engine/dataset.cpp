#include "dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace engine {

namespace {

constexpr char kMagic[8] = {'M', 'T', 'D', 'S', 'E', 'T', '0', '1'};
constexpr size_t kHeaderBytes = 64;

struct FileHeader {
  char magic[8];
  int64_t count, record_bytes, input_elems, input_dtype, label_count;
  char reserved[16];
};
static_assert(sizeof(FileHeader) == kHeaderBytes);

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path);
}

// Closes a FILE* on every path out, including exceptions.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

MappedFile::MappedFile(const std::string& path, bool remove_on_close)
    : path_(path), remove_(remove_on_close) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail("cannot stat", path);
  }
  size_ = static_cast<size_t>(st.st_size);
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file open
  if (p == MAP_FAILED) fail("cannot map", path);
  data_ = static_cast<const std::byte*>(p);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(o.data_), size_(o.size_), path_(std::move(o.path_)), remove_(o.remove_) {
  o.data_ = nullptr;
  o.remove_ = false;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    close();
    data_ = o.data_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    remove_ = o.remove_;
    o.data_ = nullptr;
    o.remove_ = false;
  }
  return *this;
}

MappedFile::~MappedFile() {
  close();
}

void MappedFile::close() noexcept {
  if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
  if (remove_) ::unlink(path_.c_str());
  data_ = nullptr;
  remove_ = false;
}

Dataset Dataset::in_memory(const SampleGenerator& gen, int64_t count) {
  Dataset d;
  d.layout_ = gen.layout();
  d.count_ = count;
  d.stride_ = d.layout_.record_bytes();
  d.heap_ = std::make_unique_for_overwrite<std::byte[]>(d.bytes());
  for (int64_t i = 0; i < count; ++i)
    gen.generate(i, d.heap_.get() + static_cast<size_t>(i) * d.stride_);
  d.base_ = d.heap_.get();
  return d;
}

Dataset Dataset::mapped(const SampleGenerator& gen, int64_t count, const std::string& path,
                        bool remove_file) {
  Dataset d;
  d.layout_ = gen.layout();
  d.count_ = count;
  d.stride_ = d.layout_.record_bytes();
  {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "wb"));
    if (!f) fail("cannot create", path);
    FileHeader h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.count = count;
    h.record_bytes = static_cast<int64_t>(d.stride_);
    h.input_elems = d.layout_.input_shape.numel();
    h.input_dtype = static_cast<int64_t>(d.layout_.input_dtype);
    h.label_count = d.layout_.label_count;
    // One record at a time: the heap holds one record, never the data set.
    std::vector<std::byte> record(d.stride_);
    bool ok = std::fwrite(&h, sizeof h, 1, f.get()) == 1;
    for (int64_t i = 0; ok && i < count; ++i) {
      gen.generate(i, record.data());
      ok = std::fwrite(record.data(), 1, record.size(), f.get()) == record.size();
    }
    if (!ok || std::fflush(f.get()) != 0) fail("cannot write", path);
  }
  d.file_ = MappedFile(path, remove_file);
  FileHeader h{};
  if (d.file_.size() < kHeaderBytes) throw std::runtime_error(path + ": shorter than a header");
  std::memcpy(&h, d.file_.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.count != count ||
      h.record_bytes != static_cast<int64_t>(d.stride_) ||
      d.file_.size() != kHeaderBytes + d.bytes()) {
    throw std::runtime_error(path + ": not a MTDSET01 file of " + std::to_string(count) +
                             " records of " + std::to_string(d.stride_) + " bytes");
  }
  d.base_ = d.file_.data() + kHeaderBytes;
  return d;
}

Batch make_batch(const Dataset& data, const int64_t* indices, int64_t count, Context& ctx) {
  const SampleLayout& l = data.layout();
  Shape in_shape;
  switch (l.input_shape.rank()) {
    case 1:
      in_shape = {count, l.input_shape[0]};
      break;
    case 2:
      in_shape = {count, l.input_shape[0], l.input_shape[1]};
      break;
    case 3:
      in_shape = {count, l.input_shape[0], l.input_shape[1], l.input_shape[2]};
      break;
    default:
      throw std::invalid_argument("make_batch: sample rank must be 1 to 3");
  }
  const DType in_dtype = l.input_dtype == DType::I32 ? DType::I32 : ctx.dtype;
  Batch b{Tensor::empty(in_shape, in_dtype, ctx.alloc),
          Tensor::empty(l.label_count == 1 ? Shape{count} : Shape{count, l.label_count}, DType::I32,
                        ctx.alloc)};
  const int64_t per = l.input_shape.numel();
  for (int64_t i = 0; i < count; ++i) {
    const std::byte* rec = data.record(indices[i]);
    if (l.input_dtype == DType::I32 || in_dtype == DType::F32) {
      std::memcpy(
          static_cast<std::byte*>(b.inputs.raw()) + static_cast<size_t>(i) * l.input_bytes(), rec,
          l.input_bytes());
    } else {
      // Records may sit at any offset of a mapping: copy out before reading floats.
      float row[1024];
      for (int64_t off = 0; off < per; off += 1024) {
        const int64_t m = std::min<int64_t>(1024, per - off);
        std::memcpy(row, rec + off * 4, static_cast<size_t>(m) * 4);
        narrow_from_f32(row, static_cast<std::byte*>(b.inputs.raw()) + (i * per + off) * 2,
                        in_dtype, m);
      }
    }
    std::memcpy(b.targets.data<int32_t>() + i * l.label_count, rec + l.input_bytes(),
                static_cast<size_t>(l.label_count) * 4);
  }
  return b;
}

DataLoader::DataLoader(const Dataset& data, int64_t begin, int64_t end, int64_t batch,
                       uint64_t seed)
    : data_(data), batch_(batch), rng_(seed) {
  if (batch <= 0 || end - begin < batch) {
    throw std::invalid_argument("DataLoader: need at least one full batch of records");
  }
  for (int64_t i = begin; i < end; ++i) order_.push_back(i);
  shuffle();
}

void DataLoader::shuffle() {
  // Fisher-Yates with our own generator: the same order on every platform.
  for (size_t i = order_.size() - 1; i > 0; --i) {
    std::swap(order_[i], order_[static_cast<size_t>(rng_.below(static_cast<int64_t>(i) + 1))]);
  }
  pos_ = 0;
}

Batch DataLoader::next(Context& ctx) {
  if (pos_ + static_cast<size_t>(batch_) > order_.size()) shuffle();  // drop the ragged tail
  Batch b = make_batch(data_, order_.data() + pos_, batch_, ctx);
  pos_ += static_cast<size_t>(batch_);
  return b;
}

}  // namespace engine
