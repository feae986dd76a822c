#ifndef KV_TOOLS_FAULTPROXY_CONNECTION_H_
#define KV_TOOLS_FAULTPROXY_CONNECTION_H_

// One proxied TCP connection: a client accepted by a link, forwarded to the
// link's target with the link's current faults.

#include <atomic>
#include <memory>
#include <thread>

#include "absl/time/time.h"
#include "tools/faultproxy/link_state.h"
#include "tools/faultproxy/net_util.h"

namespace kv::faultproxy {

// Owns the client socket and the socket to the target, and one thread that
// connects to the target and then moves bytes both ways in a poll() loop
// (non-blocking sockets, a queue of timestamped chunks per direction for
// latency, bounded by LinkState::max_queued_bytes so a slow reader slows
// the writer as TCP would). Half-closes are forwarded (a FIN becomes a
// shutdown(SHUT_WR) once the queue ahead of it is written); an error or RST
// on one side resets the other.
// Thread-safe: Reset() and Wake() may be called from any thread. The
// destructor resets a running connection and joins its thread.
class Connection {
 public:
  // Connect timeout to the target. Default: 10 s.
  static constexpr absl::Duration kConnectTimeout = absl::Seconds(10);

  Connection(UniqueFd client, HostPort target, std::shared_ptr<LinkState> state);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the thread. Call once.
  void Start();
  // Asks the thread to end the connection with an RST to both sides (SO_LINGER
  // 0). Returns at once; finished() turns true when done.
  void Reset();
  // Tells the thread the faults changed.
  void Wake() { wake_.Signal(); }
  bool finished() const { return finished_.load(); }

 private:
  void Run();
  // Returns after the connection ended; sets finished_.
  void Pump(UniqueFd& upstream);

  UniqueFd client_;
  const HostPort target_;
  const std::shared_ptr<LinkState> state_;
  WakeFd wake_;
  std::atomic<bool> reset_requested_{false};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_CONNECTION_H_
