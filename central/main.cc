// kv-central: parses flags into CentralOptions and runs the node.
#include <cstdint>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/central_node.h"
#include "central/grpc_polling.h"
#include "common/clock.h"
#include "common/deadlock_detection.h"
#include "common/logging.h"
#include "common/termination_signals.h"
#include "common/node_flags.h"

ABSL_FLAG(std::string, data_dir, "", "Directory of this central's RocksDB (required).");
ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:7100", "gRPC listen address; port 0 = any.");
ABSL_FLAG(std::string, http_addr, "",
          "REST API v4 listen address (e.g. 127.0.0.1:7180); port 0 = any; empty = off.");
ABSL_FLAG(absl::Duration, http_idle_timeout, absl::Seconds(60),
          "HTTP: longest wait for the next request on a connection.");
ABSL_FLAG(absl::Duration, http_request_timeout, absl::Seconds(30),
          "HTTP: longest a request body may take to arrive, or a response to be written.");
ABSL_FLAG(int, http_threads, 16, "HTTP: threads running requests.");
ABSL_FLAG(int, grpc_poll_threads, 1,
          "gRPC: threads polling the completion queue (client API, health, invalidation "
          "streams); a poller commits the writes of the requests it read together when the "
          "commit queue is idle.");
ABSL_FLAG(absl::Duration, idle_poll, absl::Microseconds(200),
          "Longest a poller out of work polls without sleeping before it blocks, when its "
          "previous idle period was no longer (closed-loop clients are then read without a "
          "wake-up; sparse requests never cause it); 0 = always block at once.");
ABSL_FLAG(absl::Duration, group_commit_wait, absl::Microseconds(200),
          "Longest a poller waits, before committing a group, for the next writes of the "
          "clients that wrote in the last 10 ms and have none at the central, so they join the "
          "group (timeouts turn waiting off for 10 ms to 1 s); 0 = never wait.");
ABSL_FLAG(int, grpc_worker_threads, 16,
          "gRPC: threads running client calls that may block (reads, lists, namespaces).");
ABSL_FLAG(std::string, grpc_poll_strategy, "poll",
          "gRPC's polling engine: poll (fewer thread hand-offs per replicated write), "
          "epoll1 (gRPC's default), or empty (gRPC decides); GRPC_POLL_STRATEGY wins.");
ABSL_FLAG(std::string, ready_file, "", "Written (grpc_port=, http_port=, pid=) once serving.");
ABSL_FLAG(uint32_t, node_id, 1, "This central's id (part of every version).");
ABSL_FLAG(std::string, tokens_file, "", "Lines `<token> <account_id> <read|write>`.");
ABSL_FLAG(bool, dev, false, "Open mode without auth, loopback addresses only.");
ABSL_FLAG(std::string, default_account, "devaccount", "Account used in dev mode.");
ABSL_FLAG(bool, insecure, false, "Allow a non-loopback address without TLS.");
ABSL_FLAG(uint64_t, max_value_bytes, 25 << 20, "Value size limit.");
ABSL_FLAG(uint64_t, max_metadata_bytes, 1024, "Metadata size limit.");
ABSL_FLAG(absl::Duration, min_ttl, absl::Seconds(60), "Minimum expiration TTL.");
ABSL_FLAG(absl::Duration, min_cache_ttl, absl::Seconds(30), "Minimum cache_ttl.");
ABSL_FLAG(uint64_t, max_namespaces_per_account, 100, "Namespaces per account.");
ABSL_FLAG(uint64_t, max_bulk_entries, 10000, "Entries per bulk put/delete.");
ABSL_FLAG(uint64_t, min_blob_bytes, 4096, "Records at least this big go to blob files.");
ABSL_FLAG(uint64_t, inline_value_bytes, 1024, "Values up to this size ride in the change log.");
ABSL_FLAG(absl::Duration, log_retention, absl::Hours(1), "Change-log retention.");
ABSL_FLAG(bool, sync_writes, true,
          "Sync the WAL before acknowledging a write. false loses acknowledged writes on a "
          "crash: for benchmarks that say so only.");
ABSL_FLAG(uint64_t, wal_prefill_bytes, 1 << 20,
          "Zero-fill WAL files this far ahead of their data, so that a WAL sync overwrites "
          "written blocks instead of growing the file (no journal commit per sync). 0: "
          "RocksDB's own WAL files; otherwise 4096 to 67108864.");
ABSL_FLAG(uint64_t, records_memtable_buckets, 1 << 18,
          "Buckets of the records' memtable, a hash table (records are read by key only, so "
          "a put needs no ordered insert); 0: RocksDB's skiplist. At most 4194304.");
ABSL_FLAG(absl::Duration, tombstone_grace, absl::Hours(24), "Tombstone retention.");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(1),
          "How often a caught-up invalidation stream gets a heartbeat.");
ABSL_FLAG(uint64_t, stream_batch_entries, 512, "Most events per invalidation batch.");
ABSL_FLAG(uint64_t, stream_queue_bytes, 8 << 20,
          "Bound of each invalidation stream's queue (bytes); a stream stuck at it is told "
          "to reconnect and resume.");

ABSL_FLAG(std::string, metrics_addr, "",
          "Prometheus /metrics listen address (e.g. 127.0.0.1:9100; port 0 = any); empty = off.");
ABSL_FLAG(std::string, peers, "",
          "Every central of the cluster, this one included: `1=host:port,2=host:port,...` "
          "(node id = gRPC address). Empty and no --peers_file: a cluster of one.");
ABSL_FLAG(std::string, peers_file, "",
          "File with lines `<node_id> <host:port>` listing every central; re-read when it "
          "changes. Writes are refused until it has been read.");
ABSL_FLAG(uint32_t, write_quorum, 0,
          "Centrals that must hold a write durably before it is acknowledged (this one "
          "included); 0 = a majority.");
ABSL_FLAG(absl::Duration, write_deadline, absl::Seconds(5),
          "Longest a write waits for its quorum before failing with UNAVAILABLE.");
ABSL_FLAG(std::string, peer_token_file, "",
          "File holding the token (edge scope in the peers' tokens files) this central sends "
          "to its peers; empty in dev mode.");
ABSL_FLAG(absl::Duration, max_clock_offset, absl::Milliseconds(500),
          "Largest clock difference tolerated between nodes.");
ABSL_FLAG(double, anti_entropy_max_busy, 0.05,
          "Periodic anti-entropy rounds take at most this share of the time (rounds of a large "
          "store get further apart than --anti_entropy_interval).");
ABSL_FLAG(uint32_t, anti_entropy_keys_per_page, 10000,
          "Keys per page when anti-entropy lists the keys of differing buckets.");
ABSL_FLAG(absl::Duration, anti_entropy_interval, absl::Seconds(10),
          "How often digests are compared with each peer.");
ABSL_FLAG(absl::Duration, replication_silence_timeout, absl::Seconds(3),
          "A replication stream silent this long is re-opened.");
ABSL_FLAG(uint64_t, replication_batches_in_flight, 4,
          "Batches a replication stream to a peer may have unacknowledged (at least 1).");
ABSL_FLAG(absl::Duration, replication_relay_linger, absl::Milliseconds(20),
          "How long a replication batch holding none of this central's own writes gathers "
          "entries before it is sent.");
ABSL_FLAG(absl::Duration, replication_follower_linger, absl::Milliseconds(5),
          "How long this central's writes gather before they go to a peer whose ack the write "
          "quorum does not need (the quorum peers get them at once).");

ABSL_FLAG(absl::Duration, window, absl::Seconds(60),
          "Staleness bound: a central whose completeness is older than this refuses reads "
          "(UNAVAILABLE / 503); set it as the edges' --window.");
ABSL_FLAG(absl::Duration, clock_skew_for_testing, absl::ZeroDuration(),
          "Tests only: shifts this central's wall clock by this much.");
ABSL_FLAG(absl::Duration, trim_interval, absl::Minutes(1),
          "How often the change log is trimmed to --log_retention.");

int main(int argc, char** argv) {
  kv::ConfigureMutexDeadlockDetection();  // before any thread starts
  kv::BlockTerminationSignals();  // before any thread starts

  absl::SetProgramUsageMessage("kv-central: a central node of the KV store");
  kv::ListProjectFlagsInHelp();
  absl::ParseCommandLine(argc, argv);
  kv::InitLogging(argv[0]);
  // Before any gRPC object exists: gRPC reads it once.
  if (absl::Status polling =
          kv::central::SetGrpcPollStrategy(absl::GetFlag(FLAGS_grpc_poll_strategy));
      !polling.ok()) {
    LOG(ERROR) << "kv-central: " << polling;
    return 1;
  }
  kv::RealClock::SetSkewForTesting(absl::GetFlag(FLAGS_clock_skew_for_testing));
  kv::central::CentralOptions options;
  options.storage.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.storage.node_id = absl::GetFlag(FLAGS_node_id);
  options.storage.min_blob_bytes = absl::GetFlag(FLAGS_min_blob_bytes);
  options.storage.inline_value_bytes = absl::GetFlag(FLAGS_inline_value_bytes);
  options.storage.log_retention = absl::GetFlag(FLAGS_log_retention);
  options.storage.tombstone_grace = absl::GetFlag(FLAGS_tombstone_grace);
  options.storage.sync_writes = absl::GetFlag(FLAGS_sync_writes);
  options.storage.wal_prefill_bytes = absl::GetFlag(FLAGS_wal_prefill_bytes);
  options.storage.records_memtable_buckets = absl::GetFlag(FLAGS_records_memtable_buckets);
  options.grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  options.ready_file = absl::GetFlag(FLAGS_ready_file);
  options.http.addr = absl::GetFlag(FLAGS_http_addr);
  options.http.idle_timeout = absl::GetFlag(FLAGS_http_idle_timeout);
  options.http.request_timeout = absl::GetFlag(FLAGS_http_request_timeout);
  options.http.worker_threads = absl::GetFlag(FLAGS_http_threads);
  options.tokens_file = absl::GetFlag(FLAGS_tokens_file);
  options.dev = absl::GetFlag(FLAGS_dev);
  options.default_account = absl::GetFlag(FLAGS_default_account);
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.tls = kv::TlsFilesFromFlags();
  options.limits.max_value_bytes = absl::GetFlag(FLAGS_max_value_bytes);
  options.limits.max_metadata_bytes = absl::GetFlag(FLAGS_max_metadata_bytes);
  options.limits.min_ttl = absl::GetFlag(FLAGS_min_ttl);
  options.limits.min_cache_ttl = absl::GetFlag(FLAGS_min_cache_ttl);
  options.limits.max_namespaces_per_account = absl::GetFlag(FLAGS_max_namespaces_per_account);
  options.limits.max_bulk_entries = absl::GetFlag(FLAGS_max_bulk_entries);
  options.storage.limits = options.limits;
  options.streams.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.streams.batch_entries = absl::GetFlag(FLAGS_stream_batch_entries);
  options.streams.queue_bytes = absl::GetFlag(FLAGS_stream_queue_bytes);

  options.metrics_addr = absl::GetFlag(FLAGS_metrics_addr);
  options.trim_interval = absl::GetFlag(FLAGS_trim_interval);
  options.window = absl::GetFlag(FLAGS_window);
  options.grpc_threads.poll_threads = absl::GetFlag(FLAGS_grpc_poll_threads);
  options.grpc_threads.worker_threads = absl::GetFlag(FLAGS_grpc_worker_threads);
  options.grpc_threads.group_commit_wait = absl::GetFlag(FLAGS_group_commit_wait);
  options.grpc_threads.idle_poll = absl::GetFlag(FLAGS_idle_poll);
  options.storage.max_clock_offset = absl::GetFlag(FLAGS_max_clock_offset);
  options.replication.peers = absl::GetFlag(FLAGS_peers);
  options.replication.peers_file = absl::GetFlag(FLAGS_peers_file);
  options.replication.write_quorum = absl::GetFlag(FLAGS_write_quorum);
  options.replication.write_deadline = absl::GetFlag(FLAGS_write_deadline);
  options.replication.silence_timeout = absl::GetFlag(FLAGS_replication_silence_timeout);
  options.replication_sender.batches_in_flight =
      absl::GetFlag(FLAGS_replication_batches_in_flight);
  options.replication_sender.relay_linger = absl::GetFlag(FLAGS_replication_relay_linger);
  options.replication_sender.follower_linger = absl::GetFlag(FLAGS_replication_follower_linger);
  options.replication.anti_entropy.interval = absl::GetFlag(FLAGS_anti_entropy_interval);
  options.replication.anti_entropy.keys_per_page = absl::GetFlag(FLAGS_anti_entropy_keys_per_page);
  options.replication.anti_entropy.max_busy = absl::GetFlag(FLAGS_anti_entropy_max_busy);
  if (const std::string path = absl::GetFlag(FLAGS_peer_token_file); !path.empty()) {
    std::ifstream in(path);
    std::string token;
    if (!(in >> token)) {
      LOG(ERROR) << "kv-central: cannot read a token from --peer_token_file " << path;
      return 1;
    }
    options.replication.peer_token = token;
  }

  absl::Status status = kv::central::RunCentral(options);
  if (!status.ok()) {
    LOG(ERROR) << "kv-central: " << status;
    return 1;
  }
  return 0;
}
