#ifndef KV_CENTRAL_PREFILLED_WAL_FILE_SYSTEM_H_
#define KV_CENTRAL_PREFILLED_WAL_FILE_SYSTEM_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "rocksdb/file_system.h"

namespace kv::central {

// A RocksDB FileSystem whose write-ahead log files are filled with zeros
// ahead of the data, so that a WAL sync overwrites blocks the file already
// has instead of growing it.
//
// Why: on ext4 an fdatasync after an append must also commit the journal
// (the file's size and its new or unwritten extents changed), while an
// fdatasync after an overwrite of written blocks only writes the data and
// flushes the disk cache. On the build VM that is 150–200 µs against
// 110–130 µs per sync (baselines' fsync_bench: append vs overwrite), and a
// durable put is one sync (docs/write-path.md, "Zero-filled WAL files").
// RocksDB's own answer, recycle_log_file_num, is disabled by RocksDB 7.8
// under its default point-in-time WAL recovery.
//
// How: a WAL file ("<digits>.log") is written at its logical end with
// pwrite; when a write would pass the zero-filled end, the file is first
// extended by `chunk_bytes` of zeros (the next sync then pays the journal
// commit once per chunk). Close() truncates the file to its data. Every
// other file goes to the base FileSystem unchanged.
//
// Guarantees: the bytes RocksDB wrote and synced are the file's bytes up
// to its logical size, so recovery after a crash reads exactly what a
// plain WAL would hold, followed by zeros when the process died before
// Close(); RocksDB's log reader skips zero-filled blocks as padding
// (records of type 0 and length 0, the format of preallocated logs) and
// reports no corruption. Thread-safe as RocksDB requires (Sync may run
// beside Append).
std::shared_ptr<rocksdb::FileSystem> NewPrefilledWalFileSystem(
    std::shared_ptr<rocksdb::FileSystem> base, size_t chunk_bytes);

// True when `path`'s file name is a RocksDB WAL's ("000123.log").
bool IsWalFileName(absl::string_view path);

}  // namespace kv::central

#endif  // KV_CENTRAL_PREFILLED_WAL_FILE_SYSTEM_H_
