#ifndef KV_CENTRAL_CENTRAL_METRICS_H_
#define KV_CENTRAL_CENTRAL_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <string>

namespace kv::central {

// A central's Prometheus metrics (DESIGN §7), in one registry. Per-peer
// series are labelled peer="<node id>". prometheus-cpp metrics are
// thread-safe; the references live as long as the registry.
struct CentralMetrics {
  explicit CentralMetrics(prometheus::Registry& registry);

  prometheus::Gauge& ReplicationConnected(uint32_t peer);
  prometheus::Gauge& ReplicationLagSeconds(uint32_t peer);
  prometheus::Gauge& ReplicationAckedSequence(uint32_t peer);
  prometheus::Gauge& ReplicationAppliedSequence(uint32_t peer);
  prometheus::Gauge& PeerClockOffsetSeconds(uint32_t peer);
  prometheus::Counter& ReplicationApplies(uint32_t peer);
  prometheus::Counter& ReplicationEntries(uint32_t peer);
  prometheus::Counter& ReplicationApplySeconds(uint32_t peer);
  prometheus::Counter& ReplicationRelaysLeftOut(uint32_t peer);
  prometheus::Counter& AntiEntropyRepairs(uint32_t peer);
  prometheus::Counter& AntiEntropyRounds(uint32_t peer, bool ok);
  prometheus::Counter& AntiEntropySeconds(uint32_t peer);

  prometheus::Family<prometheus::Gauge>& replication_connected;
  prometheus::Family<prometheus::Gauge>& replication_lag_seconds;
  prometheus::Family<prometheus::Gauge>& replication_acked_sequence;
  prometheus::Family<prometheus::Gauge>& replication_applied_sequence;
  prometheus::Family<prometheus::Gauge>& peer_clock_offset_seconds;
  prometheus::Family<prometheus::Counter>& replication_applies;
  prometheus::Family<prometheus::Counter>& replication_entries;
  prometheus::Family<prometheus::Counter>& replication_apply_seconds;
  prometheus::Family<prometheus::Counter>& replication_relays_left_out;
  prometheus::Family<prometheus::Counter>& anti_entropy_repairs;
  prometheus::Family<prometheus::Counter>& anti_entropy_rounds;
  prometheus::Family<prometheus::Counter>& anti_entropy_seconds;
  prometheus::Counter& quorum_failures;
  // From a write's local commit to its write quorum (W - 1 peers' acks), for
  // the writes that reached it: the replication share of a write's latency.
  prometheus::Histogram& quorum_wait_seconds;
  // The poller's waits for a fuller group (GroupCommitWait), by outcome.
  prometheus::Family<prometheus::Counter>& group_commit_waits;
  prometheus::Counter& group_commit_waits_complete;
  prometheus::Counter& group_commit_waits_timed_out;
  // The poller's polls without sleeping when out of work (IdleSpin), by
  // outcome: an event came, or the window passed and it slept.
  prometheus::Family<prometheus::Counter>& idle_spins;
  prometheus::Counter& idle_spins_event;
  prometheus::Counter& idle_spins_expired;
  prometheus::Counter& future_versions;
  prometheus::Gauge& complete_as_of_age_seconds;
  // Now minus the tombstone purge horizon; -1 when no tombstone may be
  // purged (a central has not caught up), 0 for a single central.
  prometheus::Gauge& tombstone_purge_horizon_age_seconds;
  prometheus::Gauge& cluster_size;
  prometheus::Gauge& change_log_last_sequence;
  prometheus::Gauge& change_log_first_sequence;
  prometheus::Gauge& edge_streams;
  prometheus::Gauge& build_info;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_CENTRAL_METRICS_H_
