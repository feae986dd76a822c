// Invariants of the pump loop (Connection::Pump):
// - Each direction (Pipe) has one source and one destination socket; the
//   client socket is the source of "up" and the destination of "down".
// - A chunk read at time t gets release time max(t + latency + U[0, jitter],
//   release of the previous chunk), so chunks leave in the order they came.
// - A blackholed direction neither reads, writes nor forwards its FIN; its
//   queue and the kernel buffers keep what was sent.
// - A direction stops reading once its queue holds max_queued_bytes.
// - A socket no direction wants anything from is left out of poll() (fd -1),
//   so an error on it cannot spin the loop while it is blackholed.
#include "tools/faultproxy/connection.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "common/logging.h"

namespace kv::faultproxy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadBytes = 64 << 10;

struct Chunk {
  std::string bytes;
  size_t offset = 0;  // bytes already written
  SteadyTime release;
};

struct Pipe {
  int src = -1;
  int dst = -1;
  std::deque<Chunk> queue;
  size_t queued_bytes = 0;
  bool src_eof = false;
  bool dst_shut = false;
  SteadyTime last_release;
  std::atomic<uint64_t>* forwarded = nullptr;
  std::atomic<uint64_t>* dropped = nullptr;

  bool Done() const { return src_eof && queue.empty() && dst_shut; }
};

Clock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(d));
}

}  // namespace

Connection::Connection(UniqueFd client, HostPort target, std::shared_ptr<LinkState> state)
    : client_(std::move(client)), target_(std::move(target)), state_(std::move(state)) {}

Connection::~Connection() {
  Reset();
  if (thread_.joinable()) thread_.join();
}

void Connection::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Connection::Reset() {
  reset_requested_.store(true);
  wake_.Signal();
}

void Connection::Run() {
  LinkCounters& counters = state_->counters();
  absl::StatusOr<UniqueFd> upstream =
      ConnectTcp(target_, Clock::now() + ToSteady(kConnectTimeout), wake_.fd());
  if (!upstream.ok()) {
    if (!reset_requested_.load()) {
      counters.upstream_connect_failures.fetch_add(1);
      VLOG(1) << "upstream connect failed: " << upstream.status();
    } else {
      counters.connections_reset.fetch_add(1);
    }
    SetLingerZero(client_.get());
    client_.Reset();
  } else {
    Pump(*upstream);
  }
  finished_.store(true);
}

void Connection::Pump(UniqueFd& upstream) {
  LinkCounters& counters = state_->counters();
  const size_t max_queued = state_->max_queued_bytes();
  SetNoDelay(client_.get());
  SetNoDelay(upstream.get());
  std::mt19937_64 rng(std::random_device{}());

  Pipe pipes[2];
  pipes[0].src = client_.get();
  pipes[0].dst = upstream.get();
  pipes[0].forwarded = &counters.bytes_up;
  pipes[0].dropped = &counters.dropped_bytes_up;
  pipes[1].src = upstream.get();
  pipes[1].dst = client_.get();
  pipes[1].forwarded = &counters.bytes_down;
  pipes[1].dropped = &counters.dropped_bytes_down;

  std::vector<char> buf(kReadBytes);
  // true: end with RST to both sides; false: both directions ended cleanly.
  bool abort = false;
  while (true) {
    if (reset_requested_.load()) {
      counters.connections_reset.fetch_add(1);
      abort = true;
      break;
    }
    LinkFaults faults = state_->faults();
    const DirectionFaults* dir_faults[2] = {&faults.up, &faults.down};
    SteadyTime now = Clock::now();
    short client_events = 0;
    short upstream_events = 0;
    SteadyTime wake_at = SteadyTime::max();

    // Write what is due, forward FINs, and decide what to wait for.
    for (int i = 0; i < 2 && !abort; ++i) {
      Pipe& p = pipes[i];
      const DirectionFaults& f = *dir_faults[i];
      short src_events = 0;
      short dst_events = 0;
      if (!f.blackhole) {
        while (!p.queue.empty() && p.queue.front().release <= now) {
          Chunk& c = p.queue.front();
          const ssize_t n =
              send(p.dst, c.bytes.data() + c.offset, c.bytes.size() - c.offset, MSG_NOSIGNAL);
          if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
              dst_events |= POLLOUT;
              break;
            }
            abort = true;  // EPIPE, ECONNRESET: the destination is gone
            break;
          }
          c.offset += static_cast<size_t>(n);
          p.queued_bytes -= static_cast<size_t>(n);
          p.forwarded->fetch_add(static_cast<uint64_t>(n));
          if (c.offset == c.bytes.size()) p.queue.pop_front();
        }
        if (!p.queue.empty() && p.queue.front().release > now) {
          wake_at = std::min(wake_at, p.queue.front().release);
        }
        if (p.src_eof && p.queue.empty() && !p.dst_shut) {
          shutdown(p.dst, SHUT_WR);
          p.dst_shut = true;
        }
        if (!p.src_eof && p.queued_bytes < max_queued) src_events |= POLLIN;
      }
      if (i == 0) {
        client_events |= src_events;
        upstream_events |= dst_events;
      } else {
        upstream_events |= src_events;
        client_events |= dst_events;
      }
    }
    if (abort) break;
    if (pipes[0].Done() && pipes[1].Done()) break;

    int timeout_ms = -1;
    if (wake_at != SteadyTime::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(wake_at - now);
      timeout_ms = static_cast<int>((left.count() + 999) / 1000);  // round up
    }
    pollfd fds[3] = {{client_events != 0 ? client_.get() : -1, client_events, 0},
                     {upstream_events != 0 ? upstream.get() : -1, upstream_events, 0},
                     {wake_.fd(), POLLIN, 0}};
    const int r = poll(fds, 3, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      LOG(ERROR) << "poll: " << strerror(errno);
      abort = true;
      break;
    }
    if ((fds[2].revents & POLLIN) != 0) wake_.Drain();
    // Faults set while we waited apply to what was read: a caller whose
    // SetFaults returned before it sent sees its bytes treated by them.
    faults = state_->faults();

    // Read from the sources that are readable (or in error: recv says which).
    now = Clock::now();
    for (int i = 0; i < 2 && !abort; ++i) {
      Pipe& p = pipes[i];
      const pollfd& pf = p.src == client_.get() ? fds[0] : fds[1];
      if ((pf.events & POLLIN) == 0 || (pf.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = recv(p.src, buf.data(), buf.size(), 0);
      if (n == 0) {
        p.src_eof = true;
      } else if (n < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) abort = true;
      } else if (dir_faults[i]->drop) {
        p.dropped->fetch_add(static_cast<uint64_t>(n));
      } else {
        const DirectionFaults& f = *dir_faults[i];
        absl::Duration delay = f.latency;
        if (f.jitter > absl::ZeroDuration()) {
          std::uniform_int_distribution<int64_t> jitter_us(0, absl::ToInt64Microseconds(f.jitter));
          delay += absl::Microseconds(jitter_us(rng));
        }
        Chunk c;
        c.bytes.assign(buf.data(), static_cast<size_t>(n));
        c.release = std::max(now + ToSteady(delay), p.last_release);
        p.last_release = c.release;
        p.queued_bytes += c.bytes.size();
        p.queue.push_back(std::move(c));
      }
    }
    // A POLLERR/POLLHUP on a destination we wait to write to: the next send
    // reports the error.
  }
  if (abort) {
    SetLingerZero(client_.get());
    SetLingerZero(upstream.get());
  }
  client_.Reset();
  upstream.Reset();
}

}  // namespace kv::faultproxy
