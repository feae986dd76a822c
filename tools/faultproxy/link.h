#ifndef KV_TOOLS_FAULTPROXY_LINK_H_
#define KV_TOOLS_FAULTPROXY_LINK_H_

// One named link of kv-faultproxy: a listener whose connections are
// forwarded to a target through a set of faults.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "tools/faultproxy/connection.h"
#include "tools/faultproxy/faults.h"
#include "tools/faultproxy/link_state.h"
#include "tools/faultproxy/net_util.h"

namespace kv::faultproxy {

struct LinkOptions {
  // Where to listen. Default: 127.0.0.1, a port chosen by the kernel.
  HostPort listen{"127.0.0.1", 0};
  // Where to forward; unset: accepted connections are reset until a target
  // is set. Default: unset.
  std::optional<HostPort> target;
  // Bytes one direction of one connection may hold (delayed or blackholed)
  // before the proxy stops reading from its sender. Default: 4 MiB.
  size_t max_queued_bytes = size_t{4} << 20;
};

// A listener plus the connections accepted on it. An accept thread takes
// connections and starts a Connection for each; finished ones are reaped on
// the next accept or query.
// Thread-safe. Retargeting affects new connections only (Reset() moves the
// current ones). The destructor stops the listener and resets and joins
// every connection.
class Link {
 public:
  // Binds and listens. UNAVAILABLE with errno's text when the address cannot
  // be bound.
  static absl::StatusOr<std::unique_ptr<Link>> Open(std::string name, LinkOptions options);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  const std::string& name() const { return name_; }
  int listen_port() const { return listen_port_; }

  void SetTarget(std::optional<HostPort> target) ABSL_LOCKS_EXCLUDED(mu_);
  // Replaces the faults. Starting or stopping `refuse` stops or resumes
  // listening before this returns; UNAVAILABLE when that fails (the other
  // faults are set anyway). Running connections see new faults at once.
  absl::Status SetFaults(const LinkFaults& faults) ABSL_LOCKS_EXCLUDED(mu_);
  LinkFaults faults() const { return state_->faults(); }
  // Resets (RST) every current connection and waits up to 5 s until they
  // have closed. Returns how many there were.
  int ResetConnections() ABSL_LOCKS_EXCLUDED(mu_);
  // {name, listen_port, target, faults, counters}.
  nlohmann::json ToJson() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Link(std::string name, LinkOptions options, UniqueFd listener, int port);
  void AcceptLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void ReapFinished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const LinkOptions options_;
  const std::shared_ptr<LinkState> state_;
  UniqueFd listener_;  // closed in the destructor only
  const int listen_port_;
  WakeFd wake_;

  absl::Mutex mu_;
  std::optional<HostPort> target_ ABSL_GUARDED_BY(mu_);
  bool listening_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::list<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  std::thread accept_thread_;
};

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_LINK_H_
