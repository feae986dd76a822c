#ifndef KV_CENTRAL_PEER_SET_H_
#define KV_CENTRAL_PEER_SET_H_

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace kv::central {

struct Peer {
  uint32_t id = 0;
  std::string address;  // host:port of its gRPC server
};

// The centrals of the cluster (DESIGN §4.2): node id -> gRPC address, from
// `--peers` (`1=host:port,2=host:port,...`) or a peers file (lines
// `<id> <host:port>`, '#' comments), which is re-read when it changes so a
// launcher can start every central on port 0 and write the file once all
// ports are known. Either lists every central; this node's own entry is
// allowed (and needed to count it). Neither given: a cluster of one.
// Thread-safe.
class PeerSet {
 public:
  // INVALID_ARGUMENT for a malformed `peers` flag.
  static absl::StatusOr<std::unique_ptr<PeerSet>> Create(uint32_t self_id,
                                                         const std::string& peers_flag,
                                                         const std::string& peers_file);

  // Re-reads the peers file when its modification time changed. A file
  // that is missing or malformed leaves the membership as it was (logged).
  void Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // The number of centrals including this one; 0 while a peers file has not
  // been read yet (membership unknown: writes are refused).
  size_t cluster_size() const ABSL_LOCKS_EXCLUDED(mu_);
  // The other centrals, by id.
  std::vector<Peer> peers() const ABSL_LOCKS_EXCLUDED(mu_);
  // The address of a peer; empty when unknown.
  std::string AddressOf(uint32_t id) const ABSL_LOCKS_EXCLUDED(mu_);
  uint32_t self_id() const { return self_id_; }

  // Parses the file format above. INVALID_ARGUMENT naming the line.
  static absl::StatusOr<std::map<uint32_t, std::string>> ParseFile(const std::string& text);
  // Parses the flag format above.
  static absl::StatusOr<std::map<uint32_t, std::string>> ParseFlag(const std::string& text);

 private:
  PeerSet(uint32_t self_id, std::string peers_file)
      : self_id_(self_id), peers_file_(std::move(peers_file)) {}

  const uint32_t self_id_;
  const std::string peers_file_;
  mutable absl::Mutex mu_;
  bool known_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint32_t, std::string> members_ ABSL_GUARDED_BY(mu_);
  struct timespec file_mtime_ ABSL_GUARDED_BY(mu_) = {0, 0};
};

}  // namespace kv::central

#endif  // KV_CENTRAL_PEER_SET_H_
