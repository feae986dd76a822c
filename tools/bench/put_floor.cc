// kv-put-floor: the floor of a durable put, single and replicated, on this
// machine. A server that does only what the write contract itself needs
// (DESIGN §4.2, issue 5) and nothing a real store does besides:
//
//   single:        a kv.v1.Kv Put is read, appended to a preallocated file
//                  with the other Puts that arrived meanwhile (group
//                  commit), fdatasync'd, answered;
//   --quorum_peer: the same, and a second process (--replica_of=source,
//                  node 2) keeps the same file, fed over a Replication.Pull
//                  stream: each synced group goes to it as one EntryBatch,
//                  it appends and syncs what arrived and acks the last
//                  sequence; the source answers a Put once it is synced
//                  locally *and* acked (a write quorum of 2). A third
//                  (--node_id=3), if one connects, gets the same entries
//                  gathered for --follower_linger, as kv-central's
//                  follower does.
//                  --send_before_sync sends each group before the source's
//                  own sync (the Raft leader's overlap), which the product
//                  does not do (docs/replication.md, "The write path").
//
// No RocksDB, no record codec, no last-writer-wins lookup, no change log,
// no metrics, no heartbeats, no relays, and no hand-off
// between threads: each process is one thread polling its completion queue,
// which takes every event that is ready, then commits what arrived as one
// group and answers or sends on the spot (kv-central's poller commits the
// requests of a poll the same way, docs/write-path.md). So the floor's
// single/replicated ratio bounds what an implementation of the same
// contract reaches on this machine, and the gap between kv-central and the
// floor is what the store's own work costs. A floor for this design (group
// commit on the polling thread, one sync in flight per process), not for
// every conceivable one.
// tools/bench/replication_floor.sh runs it with kv-bench.
//
//   kv-put-floor --data_dir=D --ready_file=F [--quorum_peer [--send_before_sync]]
//   kv-put-floor --data_dir=D --ready_file=F --replica_of=HOST:PORT [--node_id=2|3]
// Serves 127.0.0.1:0 until SIGTERM; writes grpc_port= and pid= to F.
#include <fcntl.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/completion_tag.h"
#include "common/ready_file.h"
#include "common/termination_signals.h"
#include "proto/kv.grpc.pb.h"
#include "proto/replication.grpc.pb.h"

ABSL_FLAG(std::string, data_dir, "", "Directory for the log file (created if missing).");
ABSL_FLAG(std::string, ready_file, "", "Where to write grpc_port= and pid= once serving.");
ABSL_FLAG(std::string, replica_of, "",
          "Be a peer (--node_id) of the floor server at this address (HOST:PORT); empty: "
          "serve Puts.");
ABSL_FLAG(bool, quorum_peer, false,
          "Source: answer a Put only once a peer (kv-put-floor --replica_of=this) acked it.");
ABSL_FLAG(uint32_t, node_id, 2,
          "--replica_of: 2 is the source's quorum peer, 3 its follower (acks not awaited).");
ABSL_FLAG(absl::Duration, follower_linger, absl::Milliseconds(5),
          "Source: how long entries gather before they go to the follower (node 3), as "
          "kv-central's --replication_follower_linger.");
ABSL_FLAG(bool, send_before_sync, false,
          "Source: send each group to the peer before its own sync (overlap the two syncs).");

namespace {

using kv::replication::v1::PullRequest;
using kv::replication::v1::PullResponse;

// An append-only log on a preallocated, zero-filled file (as the central's
// WAL files are: docs/write-path.md, round 4), so fdatasync writes data
// blocks only. Wraps around; only its durability cost matters.
class FloorLog {
 public:
  static constexpr off_t kSize = 16 << 20;  // wraps every few seconds at full speed

  bool Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0) return false;
    std::vector<char> zeros(1 << 20, 0);
    for (off_t off = 0; off < kSize; off += static_cast<off_t>(zeros.size())) {
      if (::pwrite(fd_, zeros.data(), zeros.size(), off) != static_cast<ssize_t>(zeros.size()))
        return false;
    }
    return ::fsync(fd_) == 0;
  }

  // Appends `bytes` and syncs; dies on an I/O error (a benchmark tool).
  void AppendAndSync(const std::string& bytes) {
    if (offset_ + static_cast<off_t>(bytes.size()) > kSize) offset_ = 0;
    if (::pwrite(fd_, bytes.data(), bytes.size(), offset_) != static_cast<ssize_t>(bytes.size()) ||
        ::fdatasync(fd_) != 0) {
      std::cerr << "kv-put-floor: write failed: " << std::strerror(errno) << "\n";
      std::_Exit(1);
    }
    offset_ += static_cast<off_t>(bytes.size());
  }

 private:
  int fd_ = -1;
  off_t offset_ = 0;
};

void AppendRecord(std::string* out, const std::string& key, const std::string& value) {
  const uint32_t sizes[2] = {static_cast<uint32_t>(key.size()),
                             static_cast<uint32_t>(value.size())};
  out->append(reinterpret_cast<const char*>(sizes), sizeof(sizes));
  out->append(key);
  out->append(value);
}

// One thread does everything on each process (no hand-off between
// threads): it polls its completion queue, takes every event that is ready,
// then commits what arrived as one group and answers or sends on the spot.
// Each event's tag is a kv::CompletionTag (common/completion_tag.h).
using kv::CompletionTag;
using kv::MemberTag;

// Runs `cq` until it shuts down: a blocking Next, then every event already
// there, then `after_poll` (the group commit).
template <typename AfterPoll>
void Poll(grpc::CompletionQueue* cq, AfterPoll after_poll) {
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
    static_cast<CompletionTag*>(tag)->Proceed(ok);
    while (cq->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC)) ==
           grpc::CompletionQueue::GOT_EVENT) {
      static_cast<CompletionTag*>(tag)->Proceed(ok);
    }
    after_poll();
  }
}

using AsyncPutService = kv::v1::Kv::WithAsyncMethod_Put<kv::v1::Kv::Service>;
using AsyncPullService = kv::replication::v1::Replication::AsyncService;
class Source;

// One unary Put: requested, queued for the next group, finished once durable.
class PutCall final : public CompletionTag {
 public:
  PutCall(AsyncPutService* svc, grpc::ServerCompletionQueue* cq, Source* source)
      : svc_(svc), cq_(cq), source_(source), responder_(&ctx_) {
    svc_->RequestPut(&ctx_, &req_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) override;
  const kv::v1::PutRequest& request() const { return req_; }
  void Answer(uint64_t sequence) {
    resp_.mutable_version()->set_physical_ms(static_cast<int64_t>(sequence));
    resp_.mutable_version()->set_node_id(1);
    responder_.Finish(resp_, grpc::Status::OK, this);
  }

 private:
  AsyncPutService* svc_;
  grpc::ServerCompletionQueue* cq_;
  Source* source_;
  grpc::ServerContext ctx_;
  kv::v1::PutRequest req_;
  kv::v1::PutResponse resp_;
  grpc::ServerAsyncResponseWriter<kv::v1::PutResponse> responder_;
  bool finishing_ = false;
};

// The source's end of one receiver's Pull stream: one write in flight at a
// time, batches queue behind it; the receiver's start and acks go to the
// Source.
class PeerStream {
 public:
  PeerStream(Source* source, AsyncPullService* pull, grpc::ServerCompletionQueue* cq)
      : source_(source), stream_(&ctx_) {
    pull->RequestPull(&ctx_, &stream_, cq, cq, &accepted_);
  }
  uint32_t node_id() const { return node_id_; }
  void Send(PullResponse batch) {
    outbox_.push_back(std::move(batch));
    WriteNext();
  }

 private:
  void WriteNext() {
    if (node_id_ == 0 || writing_ || outbox_.empty()) return;
    writing_ = true;
    stream_.Write(outbox_.front(), &written_);
  }
  void OnAccepted(bool ok) {
    if (ok) stream_.Read(&request_, &read_);
  }
  void OnRead(bool ok);
  void OnWritten(bool ok) {
    writing_ = false;
    outbox_.pop_front();
    if (ok) WriteNext();
  }

  Source* source_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<PullResponse, PullRequest> stream_;
  MemberTag<PeerStream, &PeerStream::OnAccepted> accepted_{this};
  MemberTag<PeerStream, &PeerStream::OnRead> read_{this};
  MemberTag<PeerStream, &PeerStream::OnWritten> written_{this};
  PullRequest request_;
  uint32_t node_id_ = 0;  // 0 until the receiver's start
  bool writing_ = false;
  std::deque<PullResponse> outbox_;
};

// The source: Puts arrive on the completion queue; after each poll the
// group is appended and synced, and (with peers) sent on the same thread:
// at once as one batch to the quorum peer (node 2), gathered for
// --follower_linger to the follower (node 3, when one connects), as
// kv-central sends them (docs/replication.md). Node 2's acks arrive on the
// same queue and answer the Puts they make durable on both.
class Source {
 public:
  Source(FloorLog* log, bool quorum_peer, bool send_before_sync, absl::Duration follower_linger,
         AsyncPutService* kv, AsyncPullService* pull, grpc::ServerCompletionQueue* cq)
      : log_(log), quorum_peer_(quorum_peer), send_before_sync_(send_before_sync),
        follower_linger_(follower_linger), kv_(kv), pull_(pull), cq_(cq) {}

  void Start() {
    for (int i = 0; i < 64; ++i) new PutCall(kv_, cq_, this);
    if (!quorum_peer_) return;
    for (auto& stream : streams_) stream = std::make_unique<PeerStream>(this, pull_, cq_);
  }
  void Arrived(PutCall* call) { group_.push_back(call); }

  void CommitGroup() {
    if (group_.empty()) return;
    bytes_.clear();
    PullResponse batch;
    const uint64_t first = next_sequence_;
    for (PutCall* call : group_) {
      const kv::v1::PutRequest& r = call->request();
      AppendRecord(&bytes_, r.key(), r.value());
      if (quorum_peer_) {
        kv::replication::v1::ReplicatedEntry* e = batch.mutable_batch()->add_entries();
        e->set_sequence(next_sequence_);
        e->mutable_entry()->set_key(r.key());
        e->mutable_entry()->set_value(r.value());
      }
      ++next_sequence_;
    }
    if (quorum_peer_ && send_before_sync_) Send(std::move(batch));
    log_->AppendAndSync(bytes_);
    local_durable_ = next_sequence_ - 1;
    if (!quorum_peer_) {
      for (size_t i = 0; i < group_.size(); ++i) group_[i]->Answer(first + i);
    } else {
      if (!send_before_sync_) Send(std::move(batch));
      for (size_t i = 0; i < group_.size(); ++i) awaiting_.emplace_back(first + i, group_[i]);
      FinishDurable();
    }
    group_.clear();
  }

  // A receiver's start: node 2 gets what was sent before it connected.
  void Connected(uint32_t node_id) {
    if (node_id != 2) return;
    for (PullResponse& batch : early_) Stream(2)->Send(std::move(batch));
    early_.clear();
  }

  void Acked(uint32_t node_id, uint64_t sequence) {
    if (node_id != 2) return;  // the follower's acks count for nothing here
    peer_durable_ = std::max(peer_durable_, sequence);
    FinishDurable();
  }

 private:
  PeerStream* Stream(uint32_t node_id) {
    for (auto& stream : streams_) {
      if (stream->node_id() == node_id) return stream.get();
    }
    return nullptr;
  }
  void Send(PullResponse batch) {
    if (PeerStream* follower = Stream(3); follower != nullptr) {
      for (const auto& e : batch.batch().entries()) *lingering_.mutable_batch()->add_entries() = e;
      if (!linger_set_) {
        linger_set_ = true;
        linger_.Set(cq_, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                      gpr_time_from_micros(absl::ToInt64Microseconds(follower_linger_),
                                                           GPR_TIMESPAN)),
                    &linger_done_);
      }
    }
    if (PeerStream* quorum = Stream(2); quorum != nullptr) {
      quorum->Send(std::move(batch));
    } else {
      early_.push_back(std::move(batch));  // before node 2's start
    }
  }
  void OnLingered(bool /*ok*/) {
    linger_set_ = false;
    if (PeerStream* follower = Stream(3); follower != nullptr) follower->Send(std::move(lingering_));
    lingering_.Clear();
  }
  void FinishDurable() {
    const uint64_t durable = std::min(local_durable_, peer_durable_);
    while (!awaiting_.empty() && awaiting_.front().first <= durable) {
      awaiting_.front().second->Answer(awaiting_.front().first);
      awaiting_.pop_front();
    }
  }

  FloorLog* log_;
  const bool quorum_peer_;
  const bool send_before_sync_;
  const absl::Duration follower_linger_;
  AsyncPutService* kv_;
  AsyncPullService* pull_;
  grpc::ServerCompletionQueue* cq_;
  std::unique_ptr<PeerStream> streams_[2];
  std::deque<PullResponse> early_;
  PullResponse lingering_;
  grpc::Alarm linger_;
  bool linger_set_ = false;
  MemberTag<Source, &Source::OnLingered> linger_done_{this};
  std::vector<PutCall*> group_;
  std::string bytes_;
  std::deque<std::pair<uint64_t, PutCall*>> awaiting_;
  uint64_t next_sequence_ = 1;
  uint64_t local_durable_ = 0;
  uint64_t peer_durable_ = 0;
};

void PeerStream::OnRead(bool ok) {
  if (!ok) return;  // the receiver went away: Puts wait (a benchmark tool)
  if (request_.has_start()) {
    node_id_ = request_.start().node_id();
    source_->Connected(node_id_);
    WriteNext();
  } else if (request_.has_ack()) {
    source_->Acked(node_id_, request_.ack().sequence());
  }
  stream_.Read(&request_, &read_);
}

void PutCall::Proceed(bool ok) {
  if (finishing_ || !ok) {
    delete this;
    return;
  }
  new PutCall(svc_, cq_, source_);
  finishing_ = true;
  source_->Arrived(this);
}

// Namespace calls answer at once (kv-bench creates and deletes one); Put is
// on the completion queue.
class FloorKv final : public AsyncPutService {
 public:
  grpc::Status CreateNamespace(grpc::ServerContext*, const kv::v1::CreateNamespaceRequest* req,
                               kv::v1::Namespace* ns) override {
    ns->set_id("floor");
    ns->set_title(req->title());
    return grpc::Status::OK;
  }
  grpc::Status DeleteNamespace(grpc::ServerContext*, const kv::v1::DeleteNamespaceRequest*,
                               kv::v1::DeleteNamespaceResponse*) override {
    return grpc::Status::OK;
  }
};

// The quorum peer, on one thread: reads batches, and after each poll
// appends and syncs what arrived, then acks the last sequence (one write in
// flight at a time; a later ack supersedes one not yet sent).
class Replica {
 public:
  explicit Replica(FloorLog* log) : log_(log) {}

  int Run(const std::string& source) {
    auto channel = grpc::CreateChannel(source, grpc::InsecureChannelCredentials());
    stub_ = kv::replication::v1::Replication::NewStub(channel);
    stream_ = stub_->PrepareAsyncPull(&ctx_, &cq_);
    stream_->StartCall(&started_);
    std::thread poller([this] {
      Poll(&cq_, [this] { ApplyArrived(); });
    });
    kv::WaitForTerminationSignal();
    std::_Exit(0);  // a benchmark tool: nothing to hand over
  }

 private:
  void OnStarted(bool ok) {
    if (!ok) {
      std::cerr << "kv-put-floor: cannot reach the source\n";
      std::_Exit(1);
    }
    PullRequest start;
    start.mutable_start()->set_node_id(absl::GetFlag(FLAGS_node_id));
    outgoing_.push_back(start);
    WriteNext();
    stream_->Read(&response_, &read_);
  }
  void OnRead(bool ok) {
    if (!ok) return;
    for (const auto& e : response_.batch().entries()) {
      AppendRecord(&bytes_, e.entry().key(), e.entry().value());
      last_ = e.sequence();
    }
    response_.Clear();
    stream_->Read(&response_, &read_);
  }
  void ApplyArrived() {
    if (bytes_.empty()) return;
    log_->AppendAndSync(bytes_);
    bytes_.clear();
    PullRequest ack;
    ack.mutable_ack()->set_sequence(last_);
    if (outgoing_.size() > 1) {
      outgoing_.back() = ack;  // behind the write in flight: supersedes that ack
    } else {
      outgoing_.push_back(ack);
    }
    WriteNext();
  }
  void WriteNext() {
    if (writing_ || outgoing_.empty()) return;
    writing_ = true;
    stream_->Write(outgoing_.front(), &written_);
  }
  void OnWritten(bool ok) {
    writing_ = false;
    outgoing_.pop_front();
    if (ok) WriteNext();
  }

  FloorLog* log_;
  grpc::CompletionQueue cq_;
  grpc::ClientContext ctx_;
  std::unique_ptr<kv::replication::v1::Replication::Stub> stub_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<PullRequest, PullResponse>> stream_;
  MemberTag<Replica, &Replica::OnStarted> started_{this};
  MemberTag<Replica, &Replica::OnRead> read_{this};
  MemberTag<Replica, &Replica::OnWritten> written_{this};
  PullResponse response_;
  std::deque<PullRequest> outgoing_;
  bool writing_ = false;
  std::string bytes_;
  uint64_t last_ = 0;
};

bool WriteReady(const std::string& path, int port) {
  absl::Status written = kv::WriteReadyFile(
      path, {{"grpc_port", std::to_string(port)}, {"pid", std::to_string(getpid())}});
  if (!written.ok()) std::cerr << "kv-put-floor: " << written << "\n";
  return written.ok();
}

}  // namespace

int main(int argc, char** argv) {
  kv::BlockTerminationSignals();  // before any thread starts
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  const std::string ready = absl::GetFlag(FLAGS_ready_file);
  if (dir.empty() || ready.empty()) {
    std::cerr << "usage: kv-put-floor --data_dir=D --ready_file=F [--quorum_peer "
                 "[--send_before_sync] | --replica_of=HOST:PORT]\n";
    return 2;
  }
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as the nodes do
  ::mkdir(dir.c_str(), 0755);
  FloorLog log;
  if (!log.Open(dir + "/floor.log")) {
    std::cerr << "kv-put-floor: cannot prepare " << dir << "/floor.log: " << std::strerror(errno)
              << "\n";
    return 1;
  }
  const std::string source = absl::GetFlag(FLAGS_replica_of);
  if (!source.empty()) {
    if (!WriteReady(ready, 0)) return 1;
    Replica replica(&log);
    return replica.Run(source);
  }

  FloorKv kv_service;
  AsyncPullService pull_service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  builder.RegisterService(&kv_service);
  builder.RegisterService(&pull_service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "kv-put-floor: cannot start the server\n";
    return 1;
  }
  Source src(&log, absl::GetFlag(FLAGS_quorum_peer), absl::GetFlag(FLAGS_send_before_sync),
             absl::GetFlag(FLAGS_follower_linger), &kv_service, &pull_service, cq.get());
  src.Start();
  std::thread poller([&] { Poll(cq.get(), [&src] { src.CommitGroup(); }); });
  if (!WriteReady(ready, port)) return 1;
  kv::WaitForTerminationSignal();
  // A benchmark tool: calls in flight are abandoned with the process.
  std::_Exit(0);
}
