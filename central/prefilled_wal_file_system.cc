#include "central/prefilled_wal_file_system.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/io_status.h"

namespace kv::central {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

IOStatus ErrnoStatus(absl::string_view what, const std::string& path, int err) {
  const std::string context = absl::StrCat(what, " ", path);
  if (err == ENOSPC) return IOStatus::NoSpace(context, std::strerror(err));
  return IOStatus::IOError(context, std::strerror(err));
}

// Writes all of [data, data + size) at `offset`, through short writes and
// EINTR. Returns 0 or the errno.
int PwriteAll(int fd, const char* data, size_t size, uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

// Fills [begin, end) of the file with zeros. Returns 0 or the errno.
int WriteZeros(int fd, uint64_t begin, uint64_t end) {
  static constexpr size_t kBlock = 64 << 10;
  static const char kZeros[kBlock] = {};
  while (begin < end) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kBlock, end - begin));
    if (int err = PwriteAll(fd, kZeros, n, begin); err != 0) return err;
    begin += n;
  }
  return 0;
}

// One WAL file: data written at the logical end, zeros ahead of it up to
// `filled_end_`. RocksDB calls Append, Flush, Truncate and Close from one
// writer at a time; Sync and GetFileSize may run beside them.
class PrefilledWalFile final : public FSWritableFile {
 public:
  PrefilledWalFile(std::string path, int fd, uint64_t chunk_bytes,
                   const FileOptions& options)
      : FSWritableFile(options),
        path_(std::move(path)),
        fd_(fd),
        chunk_bytes_(chunk_bytes) {}

  ~PrefilledWalFile() override {
    if (fd_ >= 0) Close(IOOptions(), nullptr).PermitUncheckedError();
  }

  IOStatus Append(const Slice& data, const IOOptions& /*options*/,
                  IODebugContext* /*dbg*/) override {
    const uint64_t offset = size_.load(std::memory_order_relaxed);
    const uint64_t end = offset + data.size();
    if (int err = PwriteAll(fd_, data.data(), data.size(), offset); err != 0)
      return ErrnoStatus("write", path_, err);
    if (end > filled_end_) {
      // Past the zeros: the data extended the file; fill the next chunk so
      // that the syncs until then overwrite (one journal commit, at the
      // next sync, for the whole chunk).
      const uint64_t next = (end / chunk_bytes_ + 1) * chunk_bytes_;
      if (int err = WriteZeros(fd_, end, next); err != 0) {
        // The data is written; only the zeros are missing. Leave the file
        // as long as its data and keep going without a fill.
        filled_end_ = end;
        if (::ftruncate(fd_, static_cast<off_t>(end)) != 0)
          return ErrnoStatus("truncate", path_, errno);
        size_.store(end, std::memory_order_release);
        return IOStatus::OK();
      }
      filled_end_ = next;
    }
    size_.store(end, std::memory_order_release);
    return IOStatus::OK();
  }

  IOStatus Truncate(uint64_t size, const IOOptions& /*options*/,
                    IODebugContext* /*dbg*/) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return ErrnoStatus("truncate", path_, errno);
    size_.store(size, std::memory_order_release);
    filled_end_ = size;
    return IOStatus::OK();
  }

  IOStatus Close(const IOOptions& /*options*/,
                 IODebugContext* /*dbg*/) override {
    if (fd_ < 0) return IOStatus::OK();
    IOStatus s;
    const uint64_t size = size_.load(std::memory_order_acquire);
    // The zeros past the data go; a crash before this leaves them, which
    // recovery skips.
    if (filled_end_ > size && ::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      s = ErrnoStatus("truncate", path_, errno);
    if (::close(fd_) != 0 && s.ok()) s = ErrnoStatus("close", path_, errno);
    fd_ = -1;
    return s;
  }

  // Append writes through to the kernel; nothing is buffered here.
  IOStatus Flush(const IOOptions& /*options*/,
                 IODebugContext* /*dbg*/) override {
    return IOStatus::OK();
  }

  IOStatus Sync(const IOOptions& /*options*/,
                IODebugContext* /*dbg*/) override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return IOStatus::OK();
  }

  IOStatus Fsync(const IOOptions& /*options*/,
                 IODebugContext* /*dbg*/) override {
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    return IOStatus::OK();
  }

  bool IsSyncThreadSafe() const override { return true; }

  uint64_t GetFileSize(const IOOptions& /*options*/,
                       IODebugContext* /*dbg*/) override {
    return size_.load(std::memory_order_acquire);
  }

  // The zeros are this file's preallocation; RocksDB's (fallocate with
  // KEEP_SIZE, unwritten extents) would bring the journal commit back.
  void PrepareWrite(size_t /*offset*/, size_t /*len*/,
                    const IOOptions& /*options*/,
                    IODebugContext* /*dbg*/) override {}
  IOStatus Allocate(uint64_t /*offset*/, uint64_t /*len*/,
                    const IOOptions& /*options*/,
                    IODebugContext* /*dbg*/) override {
    return IOStatus::OK();
  }

  IOStatus InvalidateCache(size_t /*offset*/, size_t /*length*/) override {
    return IOStatus::OK();
  }

 private:
  const std::string path_;
  int fd_;
  const uint64_t chunk_bytes_;
  std::atomic<uint64_t> size_{0};
  uint64_t filled_end_ = 0;  // the writer's only
};

class PrefilledWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  PrefilledWalFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                         size_t chunk_bytes)
      : FileSystemWrapper(base), chunk_bytes_(chunk_bytes) {}

  static const char* kClassName() { return "PrefilledWalFileSystem"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewWritableFile(const std::string& fname, const FileOptions& options,
                           std::unique_ptr<FSWritableFile>* result,
                           IODebugContext* dbg) override {
    if (chunk_bytes_ == 0 || !IsWalFileName(fname) ||
        options.use_direct_writes || options.use_mmap_writes) {
      return target()->NewWritableFile(fname, options, result, dbg);
    }
    int fd;
    do {
      fd = ::open(fname.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus("open", fname, errno);
    *result = std::make_unique<PrefilledWalFile>(fname, fd, chunk_bytes_, options);
    return IOStatus::OK();
  }

 private:
  const size_t chunk_bytes_;
};

}  // namespace

bool IsWalFileName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view name =
      slash == absl::string_view::npos ? path : path.substr(slash + 1);
  if (!absl::ConsumeSuffix(&name, ".log") || name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isdigit(c); });
}

std::shared_ptr<rocksdb::FileSystem> NewPrefilledWalFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, size_t chunk_bytes) {
  return std::make_shared<PrefilledWalFileSystem>(std::move(base), chunk_bytes);
}

}  // namespace kv::central
