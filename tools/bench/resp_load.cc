#include "tools/bench/resp_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/bench/latency_recorder.h"

namespace kv::bench {
namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string Command(std::initializer_list<absl::string_view> parts) {
  std::string out = absl::StrCat("*", parts.size(), "\r\n");
  for (absl::string_view p : parts) absl::StrAppend(&out, "$", p.size(), "\r\n", p, "\r\n");
  return out;
}

// One reply at the front of `buf`: returns its length (0: incomplete) and
// sets *kind ('+', '-', ':', '$') and *bulk_len (-1 for nil).
size_t ParseReply(const std::string& buf, char* kind, int64_t* bulk_len) {
  const size_t eol = buf.find("\r\n");
  if (eol == std::string::npos) return 0;
  *kind = buf[0];
  if (*kind != '$') return eol + 2;
  if (!absl::SimpleAtoi(absl::string_view(buf).substr(1, eol - 1), bulk_len)) {
    *kind = '?';
    return eol + 2;
  }
  if (*bulk_len < 0) return eol + 2;
  const size_t total = eol + 2 + static_cast<size_t>(*bulk_len) + 2;
  return buf.size() >= total ? total : 0;
}

struct Rng {  // xorshift64*
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

struct Conn {
  int fd = -1;
  std::string in;
  bool is_set = false;
  Clock::time_point start;
};

}  // namespace

absl::Status RespLoadKeys(int port, const std::vector<std::string>& keys, size_t value_size) {
  const int fd = Connect(port);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot connect to redis on ", port));
  const std::string value(value_size, 'v');
  std::string in;
  char buf[65536];
  for (size_t start = 0; start < keys.size(); start += 1000) {
    const size_t end = std::min(keys.size(), start + 1000);
    std::string batch;
    for (size_t i = start; i < end; ++i) batch += Command({"SET", keys[i], value});
    if (!WriteAll(fd, batch)) {
      close(fd);
      return absl::UnavailableError("redis: write failed");
    }
    size_t replies = 0;
    while (replies < end - start) {
      char kind;
      int64_t len;
      const size_t n = ParseReply(in, &kind, &len);
      if (n > 0) {
        if (kind != '+') {
          close(fd);
          return absl::InternalError(absl::StrCat("redis SET: ", in.substr(0, n)));
        }
        in.erase(0, n);
        ++replies;
        continue;
      }
      const ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r <= 0) {
        close(fd);
        return absl::UnavailableError("redis: connection closed");
      }
      in.append(buf, static_cast<size_t>(r));
    }
  }
  close(fd);
  return absl::OkStatus();
}

Result RunRespLoad(const RespLoadConfig& config) {
  Result r;
  r.name = config.name;
  r.concurrency = config.concurrency;
  const std::string value(config.value_size, 'w');
  const std::vector<std::string>& keys = *config.keys;
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<size_t>(config.concurrency));
  std::vector<Rng> rngs;
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = Connect(config.port);
    if (conns[i].fd < 0) {
      std::cerr << "kv-bench: cannot connect to redis on port " << config.port << "\n";
      r.errors = 1;
      for (Conn& c : conns) if (c.fd >= 0) close(c.fd);
      close(ep);
      return r;
    }
    fcntl(conns[i].fd, F_SETFL, fcntl(conns[i].fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    rngs.push_back(Rng{0x9E3779B97F4A7C15ULL * (i + 1) | 1});
  }
  auto issue = [&](size_t i) {
    Conn& c = conns[i];
    Rng& rng = rngs[i];
    const std::string& key = config.zipf != nullptr ? keys[config.zipf->Next(rng.Uniform())]
                                                    : keys[rng.Next() % keys.size()];
    c.is_set = config.read_ratio < 1.0 && rng.Uniform() >= config.read_ratio;
    c.start = Clock::now();
    return WriteAll(c.fd, c.is_set ? Command({"SET", key, value}) : Command({"GET", key}));
  };

  LatencyRecorder all, reads, writes;
  LatencySeries series;
  uint64_t errors = 0, reads_ok = 0, writes_ok = 0;
  std::string first_error;
  bool measuring = false;
  const absl::Time warm_end = absl::Now() + config.warmup;
  absl::Time t0, t1;
  Clock::time_point measure_start;
  double s0 = -1, s1 = -1, c0 = 0, c1 = 0, m0 = -1, m1 = -1;
  for (size_t i = 0; i < conns.size(); ++i) {
    if (!issue(i)) ++errors;
  }
  std::vector<epoll_event> events(conns.size());
  char buf[65536];
  while (true) {
    const absl::Time now = absl::Now();
    if (!measuring && now >= warm_end) {
      measuring = true;
      t0 = now;
      measure_start = Clock::now();
      s0 = config.server_pid > 0 ? ProcessCpuSeconds(config.server_pid) : -1;
      c0 = SelfCpuSeconds();
      m0 = MachineBusySeconds();
    }
    if (measuring && now >= t0 + config.duration) {
      t1 = now;
      s1 = config.server_pid > 0 ? ProcessCpuSeconds(config.server_pid) : -1;
      c1 = SelfCpuSeconds();
      m1 = MachineBusySeconds();
      break;
    }
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
    for (int e = 0; e < n; ++e) {
      const size_t i = events[e].data.u64;
      Conn& c = conns[i];
      const ssize_t got = recv(c.fd, buf, sizeof(buf), 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (first_error.empty()) first_error = "connection closed";
        ++errors;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        continue;
      }
      c.in.append(buf, static_cast<size_t>(got));
      char kind;
      int64_t len = 0;
      const size_t used = ParseReply(c.in, &kind, &len);
      if (used == 0) continue;
      const Clock::time_point done = Clock::now();
      const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(done - c.start).count();
      std::string error;
      if (kind == '-') {
        error = c.in.substr(1, c.in.find("\r\n") - 1);
      } else if (c.is_set ? kind != '+' : (kind != '$' || len != static_cast<int64_t>(config.value_size))) {
        error = c.is_set ? "unexpected SET reply" : absl::StrCat("GET reply of length ", len);
      }
      c.in.erase(0, used);
      if (measuring) {
        if (error.empty()) {
          all.Record(ns);
          series.Record(std::chrono::duration<double>(done - measure_start).count(), ns / 1000.0);
          if (c.is_set) {
            ++writes_ok;
            writes.Record(ns);
          } else {
            ++reads_ok;
            reads.Record(ns);
          }
        } else {
          if (first_error.empty()) first_error = error;
          ++errors;
        }
      }
      if (!issue(i)) ++errors;
    }
  }
  r.rss_kb = config.server_pid > 0 ? RssKb(config.server_pid) : -1;
  for (Conn& c : conns) close(c.fd);
  close(ep);
  const double secs = absl::ToDoubleSeconds(t1 - t0);
  r.ops = all.count();
  r.errors = errors;
  r.ops_per_sec = static_cast<double>(r.ops) / secs;
  r.p50_us = all.Percentile(50) / 1000.0;
  r.p90_us = all.Percentile(90) / 1000.0;
  r.p99_us = all.Percentile(99) / 1000.0;
  r.p999_us = all.Percentile(99.9) / 1000.0;
  r.client_cpu = (c1 - c0) / secs;
  if (s0 >= 0 && s1 >= 0) {
    r.server_cpu = (s1 - s0) / secs;
    r.server_us_per_op = r.ops > 0 ? (s1 - s0) * 1e6 / static_cast<double>(r.ops) : 0;
  }
  if (m0 >= 0 && m1 >= 0) {
    const double ours = (c1 - c0) + (s0 >= 0 && s1 >= 0 ? s1 - s0 : 0);
    r.other_cpu = std::max(0.0, (m1 - m0 - ours) / secs);
  }
  r.pinned = config.pinned;
  r.series = series.Points();
  if (config.read_ratio < 1.0) {
    r.extra.emplace_back("reads", static_cast<double>(reads_ok));
    r.extra.emplace_back("writes", static_cast<double>(writes_ok));
    r.extra.emplace_back("read_p99_us", reads.Percentile(99) / 1000.0);
    r.extra.emplace_back("write_p99_us", writes.Percentile(99) / 1000.0);
  }
  if (errors > 0) {
    std::cerr << "kv-bench: " << config.name << ": " << errors << " errors; the first: "
              << first_error << "\n";
  }
  return r;
}

}  // namespace kv::bench
