#include "central/central_metrics.h"

#include "absl/strings/str_cat.h"

namespace kv::central {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {

// 100 µs (a quorum peer on the same host) to the default write deadline.
prometheus::Histogram::BucketBoundaries QuorumWaitBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01,
          0.025,  0.05,    0.1,    0.25,  0.5,   1,     2.5, 5};
}

}  // namespace

CentralMetrics::CentralMetrics(prometheus::Registry& registry)
    : replication_connected(BuildGauge()
                                .Name("kv_replication_connected")
                                .Help("1 while this central's Pull stream from the peer is open")
                                .Register(registry)),
      replication_lag_seconds(
          BuildGauge()
              .Name("kv_replication_lag_seconds")
              .Help("How far behind the peer this central is provably complete (now minus the "
                    "time up to which it holds everything the peer had applied)")
              .Register(registry)),
      replication_acked_sequence(
          BuildGauge()
              .Name("kv_replication_acked_sequence")
              .Help("The last sequence of this central's change log the peer has durably")
              .Register(registry)),
      replication_applied_sequence(
          BuildGauge()
              .Name("kv_replication_applied_sequence")
              .Help("The last sequence of the peer's change log applied here")
              .Register(registry)),
      peer_clock_offset_seconds(
          BuildGauge()
              .Name("kv_peer_clock_offset_seconds")
              .Help("The peer's clock minus this central's, from its last heartbeat")
              .Register(registry)),
      replication_applies(
          BuildCounter()
              .Name("kv_replication_applies_total")
              .Help("Applies of entries received from the peer (each at most one WAL sync; "
                    "entries divided by applies is the mean batch)")
              .Register(registry)),
      replication_entries(BuildCounter()
                              .Name("kv_replication_entries_total")
                              .Help("Entries of the peer's change log received here, NOOPs and "
                                    "entries already held included")
                              .Register(registry)),
      replication_apply_seconds(
          BuildCounter()
              .Name("kv_replication_apply_seconds_total")
              .Help("Time spent applying the peer's entries (WAL sync included)")
              .Register(registry)),
      replication_relays_left_out(
          BuildCounter()
              .Name("kv_replication_relays_left_out_total")
              .Help("Entries received from another central that the stream to this peer sent "
                    "as NOOPs, the peer having said it held them (PullHoldings)")
              .Register(registry)),
      anti_entropy_repairs(BuildCounter()
                               .Name("kv_anti_entropy_repairs_total")
                               .Help("Records repaired from the peer by anti-entropy")
                               .Register(registry)),
      anti_entropy_rounds(BuildCounter()
                              .Name("kv_anti_entropy_rounds_total")
                              .Help("Anti-entropy rounds with the peer, by result")
                              .Register(registry)),
      anti_entropy_seconds(BuildCounter()
                               .Name("kv_anti_entropy_seconds_total")
                               .Help("Time spent in anti-entropy rounds with the peer (rate: the "
                                     "share of time they take)")
                               .Register(registry)),
      quorum_failures(BuildCounter()
                          .Name("kv_quorum_failures_total")
                          .Help("Writes that did not reach the write quorum before the deadline")
                          .Register(registry)
                          .Add({})),
      quorum_wait_seconds(
          BuildHistogram()
              .Name("kv_quorum_wait_seconds")
              .Help("From a write's local commit (WAL synced) to its write quorum: the wait "
                    "for the peers' acks, for the writes that reached the quorum")
              .Register(registry)
              .Add({}, QuorumWaitBuckets())),
      group_commit_waits(BuildCounter()
                             .Name("kv_group_commit_waits_total")
                             .Help("Waits of the poller for the next writes of active clients "
                                   "before committing a group, by result (complete: they all "
                                   "came; timed_out: --group_commit_wait passed, waits back off)")
                             .Register(registry)),
      group_commit_waits_complete(group_commit_waits.Add({{"result", "complete"}})),
      group_commit_waits_timed_out(group_commit_waits.Add({{"result", "timed_out"}})),
      idle_spins(BuildCounter()
                     .Name("kv_poller_idle_spins_total")
                     .Help("Times the poller, out of work, polled without sleeping (up to "
                           "--idle_poll), by result (event: work came meanwhile; expired: it "
                           "slept after the window)")
                     .Register(registry)),
      idle_spins_event(idle_spins.Add({{"result", "event"}})),
      idle_spins_expired(idle_spins.Add({{"result", "expired"}})),
      future_versions(BuildCounter()
                          .Name("kv_future_versions_total")
                          .Help("Replicated versions further in the future than the maximum "
                                "clock offset (stored, not observed by the HLC)")
                          .Register(registry)
                          .Add({})),
      complete_as_of_age_seconds(
          BuildGauge()
              .Name("kv_complete_as_of_age_seconds")
              .Help("Now minus the time up to which this central holds every acknowledged write")
              .Register(registry)
              .Add({})),
      tombstone_purge_horizon_age_seconds(
          BuildGauge()
              .Name("kv_tombstone_purge_horizon_age_seconds")
              .Help("Now minus the time before which every central holds every write (tombstones "
                    "older than it and the grace may be purged); -1 = none may be")
              .Register(registry)
              .Add({})),
      cluster_size(BuildGauge()
                       .Name("kv_cluster_size")
                       .Help("Centrals in the membership (0 = not known yet)")
                       .Register(registry)
                       .Add({})),
      change_log_last_sequence(BuildGauge()
                                   .Name("kv_change_log_last_sequence")
                                   .Help("The last sequence of this central's change log")
                                   .Register(registry)
                                   .Add({})),
      change_log_first_sequence(BuildGauge()
                                    .Name("kv_change_log_first_sequence")
                                    .Help("The first retained sequence of the change log")
                                    .Register(registry)
                                    .Add({})),
      edge_streams(BuildGauge()
                       .Name("kv_invalidation_streams")
                       .Help("Edges' invalidation streams open on this central")
                       .Register(registry)
                       .Add({})),
      build_info(BuildGauge()
                     .Name("kv_build_info")
                     .Help("1, labelled with the build")
                     .Register(registry)
                     .Add({{"version", "0.1.0"}, {"kind", "central"}})) {
  build_info.Set(1);
}

prometheus::Gauge& CentralMetrics::ReplicationConnected(uint32_t peer) {
  return replication_connected.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Gauge& CentralMetrics::ReplicationLagSeconds(uint32_t peer) {
  return replication_lag_seconds.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Gauge& CentralMetrics::ReplicationAckedSequence(uint32_t peer) {
  return replication_acked_sequence.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Gauge& CentralMetrics::ReplicationAppliedSequence(uint32_t peer) {
  return replication_applied_sequence.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Gauge& CentralMetrics::PeerClockOffsetSeconds(uint32_t peer) {
  return peer_clock_offset_seconds.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::ReplicationApplies(uint32_t peer) {
  return replication_applies.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::ReplicationEntries(uint32_t peer) {
  return replication_entries.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::ReplicationApplySeconds(uint32_t peer) {
  return replication_apply_seconds.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::ReplicationRelaysLeftOut(uint32_t peer) {
  return replication_relays_left_out.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::AntiEntropyRepairs(uint32_t peer) {
  return anti_entropy_repairs.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::AntiEntropySeconds(uint32_t peer) {
  return anti_entropy_seconds.Add({{"peer", absl::StrCat(peer)}});
}
prometheus::Counter& CentralMetrics::AntiEntropyRounds(uint32_t peer, bool ok) {
  return anti_entropy_rounds.Add({{"peer", absl::StrCat(peer)}, {"result", ok ? "ok" : "error"}});
}

}  // namespace kv::central
