#include "tools/faultproxy/link.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace kv::faultproxy {

absl::StatusOr<std::unique_ptr<Link>> Link::Open(std::string name, LinkOptions options) {
  int port = 0;
  absl::StatusOr<UniqueFd> listener = OpenListener(options.listen, &port);
  if (!listener.ok()) return listener.status();
  std::unique_ptr<Link> link(new Link(std::move(name), std::move(options), std::move(*listener),
                                      port));
  if (link->wake_.fd() < 0) return absl::UnavailableError("eventfd failed");
  link->accept_thread_ = std::thread([l = link.get()] { l->AcceptLoop(); });
  return link;
}

Link::Link(std::string name, LinkOptions options, UniqueFd listener, int port)
    : name_(std::move(name)),
      options_(std::move(options)),
      state_(std::make_shared<LinkState>(options_.max_queued_bytes)),
      listener_(std::move(listener)),
      listen_port_(port),
      target_(options_.target) {}

Link::~Link() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.Signal();
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<std::unique_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
  }
  for (auto& c : connections) c->Reset();
  connections.clear();  // joins each
}

void Link::SetTarget(std::optional<HostPort> target) {
  absl::MutexLock lock(&mu_);
  target_ = std::move(target);
}

absl::Status Link::SetFaults(const LinkFaults& faults) {
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    state_->set_faults(faults);
    // The accept thread never polls the listener while it is stopped, so
    // it is safe to stop and resume it from here.
    if (faults.refuse && listening_) {
      status = StopListening(listener_.get());
      if (status.ok()) listening_ = false;
    } else if (!faults.refuse && !listening_) {
      status = ResumeListening(listener_.get());
      if (status.ok()) listening_ = true;
    }
    for (auto& c : connections_) c->Wake();
  }
  wake_.Signal();
  return status;
}

int Link::ResetConnections() {
  std::vector<Connection*> reset;
  {
    absl::MutexLock lock(&mu_);
    ReapFinished();
    for (auto& c : connections_) {
      c->Reset();
      reset.push_back(c.get());
    }
    // Wait (bounded) until they have sent their RSTs, so a caller that then
    // checks its client sockets sees them closed. Connection threads finish
    // without taking mu_.
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    for (Connection* c : reset) {
      while (!c->finished() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
    }
    ReapFinished();
  }
  return static_cast<int>(reset.size());
}

void Link::ReapFinished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->finished()) {
      it = connections_.erase(it);  // joins a thread that has ended
    } else {
      ++it;
    }
  }
}

void Link::AcceptLoop() {
  LinkCounters& counters = state_->counters();
  while (true) {
    bool listening;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      listening = listening_;
    }
    pollfd fds[2] = {{wake_.fd(), POLLIN, 0}, {listening ? listener_.get() : -1, POLLIN, 0}};
    const int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      LOG(ERROR) << "link " << name_ << ": poll: " << strerror(errno);
      return;
    }
    if ((fds[0].revents & POLLIN) != 0) wake_.Drain();
    if (fds[1].revents == 0) continue;
    UniqueFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
          errno == EINVAL) {  // EINVAL: stopped listening meanwhile
        continue;
      }
      LOG(WARNING) << "link " << name_ << ": accept: " << strerror(errno);
      // Out of descriptors or memory: back off instead of spinning.
      absl::SleepFor(absl::Milliseconds(10));
      continue;
    }
    counters.connections_accepted.fetch_add(1);
    absl::MutexLock lock(&mu_);
    ReapFinished();
    if (!target_.has_value()) {
      counters.rejected_no_target.fetch_add(1);
      SetLingerZero(client.get());
      continue;  // closes: RST
    }
    auto connection = std::make_unique<Connection>(std::move(client), *target_, state_);
    connection->Start();
    connections_.push_back(std::move(connection));
  }
}

nlohmann::json Link::ToJson() {
  nlohmann::json out;
  int64_t open_connections = 0;
  {
    absl::MutexLock lock(&mu_);
    ReapFinished();
    open_connections = static_cast<int64_t>(connections_.size());
    out["name"] = name_;
    out["listen_port"] = listen_port_;
    out["listen_addr"] = HostPort{options_.listen.host, listen_port_}.ToString();
    out["target"] = target_.has_value() ? target_->ToString() : "";
  }
  out["faults"] = FaultsToJson(state_->faults());
  const LinkCounters& c = state_->counters();
  out["counters"] = {
      {"bytes_up", c.bytes_up.load()},
      {"bytes_down", c.bytes_down.load()},
      {"dropped_bytes_up", c.dropped_bytes_up.load()},
      {"dropped_bytes_down", c.dropped_bytes_down.load()},
      {"connections_accepted", c.connections_accepted.load()},
      {"connections_active", open_connections},
      {"connections_reset", c.connections_reset.load()},
      {"rejected_no_target", c.rejected_no_target.load()},
      {"upstream_connect_failures", c.upstream_connect_failures.load()},
  };
  return out;
}

}  // namespace kv::faultproxy
