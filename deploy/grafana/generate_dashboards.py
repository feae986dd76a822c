#!/usr/bin/env python3
"""Writes the Grafana dashboards in deploy/grafana/dashboards/ (JSON).

The JSON files are generated so that panel ids, grid positions and the
datasource reference are consistent; edit this file, run it, and commit
both (tests/deploy/static_checks.py fails when they differ):

    python3 deploy/grafana/generate_dashboards.py

Every panel query groups by `node`, the label deploy/prometheus puts on
each target. tests/deploy/prometheus_scrape_test.py runs every query here
against a real Prometheus scraping a live cluster and fails on one that
returns no data.
"""
import json
import os
import sys

DATASOURCE = {"type": "prometheus", "uid": "kv-prometheus"}
HERE = os.path.dirname(os.path.abspath(__file__))


def target(expr, legend="{{node}}", ref="A", fmt=None):
    t = {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}
    if fmt:
        t["format"] = fmt
    return t


def node_rate(metric, selector):
    """PromQL: a counter's per-second rate, summed per node."""
    return f"sum by (node) (rate({metric}{{{selector}}}[$__rate_interval]))"


def rate_by_result(metric, selector, legend="{{result}} {{node}}", ref="A"):
    """A counter with a `result` label as a per-second rate, per node and result."""
    return target(f"sum by (node, result) (rate({metric}{{{selector}}}[$__rate_interval]))", legend, ref)


def timeseries(title, targets, unit="short", description="", stack=False, min_zero=True):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    defaults = {"unit": unit, "custom": custom}
    if min_zero:
        defaults["min"] = 0
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom",
                               "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
    }


def stat(title, targets, unit="short", description="", thresholds=None):
    steps = thresholds or [{"color": "green", "value": None}]
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit,
                                     "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "area", "textMode": "value_and_name"},
    }


def heatmap(title, expr, description=""):
    return {
        "type": "heatmap",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(expr, legend="{{le}}", fmt="heatmap")],
        "options": {"calculate": False, "yAxis": {"unit": "s"},
                    "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
                    "cellGap": 1, "tooltip": {"show": True, "yHistogram": True}},
        "fieldConfig": {"defaults": {}, "overrides": []},
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def node_variable(name, label, metric):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": f"label_values({metric}, node)", "refId": f"{name}-values"},
        "definition": f"label_values({metric}, node)",
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def layout(panels):
    """Assigns ids and grid positions: rows span the width, other panels
    flow two (or, for stats, four) to a line."""
    y = 0
    x = 0
    line_height = 0
    for i, p in enumerate(panels, start=1):
        p["id"] = i
        if p["type"] == "row":
            if x:
                y += line_height
            p["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
            x = 0
            line_height = 0
            continue
        w, h = (6, 4) if p["type"] == "stat" else (12, 8)
        if x + w > 24:
            y += line_height
            x = 0
            line_height = 0
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
        line_height = max(line_height, h)
    return panels


def dashboard(uid, title, description, variables, panels):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["workers-kv"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["workers-kv"], "title": "Workers KV",
                   "asDropdown": True}],
        "panels": layout(panels),
    }


EDGE = 'node=~"$edge"'
CENTRAL = 'node=~"$central"'
NODE = 'node=~"$node"'


def propagation():
    q = lambda p: (f"histogram_quantile({p}, sum by (node, le) "
                   f"(rate(kv_propagation_latency_seconds_bucket{{{EDGE}}}[$__rate_interval])))")
    return dashboard(
        "kv-propagation", "Workers KV: propagation",
        "How fast changes reach the edges (commit at a central to applied at an edge), "
        "and the health of the invalidation streams that carry them.",
        [node_variable("edge", "Edge", "kv_stream_connected")],
        [
            row("Propagation latency"),
            heatmap("Propagation latency (all selected edges)",
                    f"sum by (le) (increase(kv_propagation_latency_seconds_bucket{{{EDGE}}}[$__rate_interval]))",
                    "Distribution of commit-to-applied time of live stream events. "
                    "Replays after a reconnect are counted separately."),
            timeseries("Propagation p50 / p99 / p99.9 per edge",
                       [target(q(0.5), "p50 {{node}}", "A"),
                        target(q(0.99), "p99 {{node}}", "B"),
                        target(q(0.999), "p99.9 {{node}}", "C"),
                        target(f"kv_edge_window_seconds{{{EDGE}}}", "window {{node}}", "D")],
                       unit="s",
                       description="The window is the hard bound on staleness; "
                                   "the KvPropagationP99NearWindow alert fires at half of it."),
            timeseries("Changes applied per second",
                       [target(node_rate("kv_propagation_latency_seconds_count", EDGE),
                               "live {{node}}", "A"),
                        target(node_rate("kv_stream_replayed_events_total", EDGE),
                               "replayed {{node}}", "B")],
                       unit="ops"),
            timeseries("Mean propagation latency",
                       [target(node_rate("kv_propagation_latency_seconds_sum", EDGE) + " / " +
                               node_rate("kv_propagation_latency_seconds_count", EDGE))],
                       unit="s"),
            row("Invalidation streams"),
            stat("Streams connected",
                 [target(f"sum(kv_stream_connected{{{EDGE}}})", "connected"),
                  target(f"count(kv_stream_connected{{{EDGE}}})", "edges", "B")]),
            stat("Oldest heartbeat",
                 [target(f"max(kv_stream_heartbeat_age_seconds{{{EDGE}}})", "age")], unit="s",
                 thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 5},
                             {"color": "red", "value": 10}]),
            stat("Stream reconnects (1h)",
                 [target(f"sum(increase(kv_stream_reconnects_total{{{EDGE}}}[1h]))", "reconnects")]),
            stat("Continuity lost (1h)",
                 [target(f"sum(increase(kv_stream_continuity_lost_total{{{EDGE}}}[1h]))", "lost")],
                 thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}]),
            timeseries("Stream connected", [target(f"kv_stream_connected{{{EDGE}}}")],
                       description="1 while the edge has an invalidation stream to a central."),
            timeseries("Heartbeat age and staleness",
                       [target(f"kv_stream_heartbeat_age_seconds{{{EDGE}}}", "heartbeat age {{node}}", "A"),
                        target(f"kv_stream_staleness_seconds{{{EDGE}}}", "staleness {{node}}", "B")],
                       unit="s", min_zero=False,
                       description="Staleness: how old the edge's proof that it missed no change is. "
                                   "Past the window the edge revalidates before serving. "
                                   "-1 until the first heartbeat."),
            timeseries("Last applied sequence", [target(f"kv_stream_last_applied_sequence{{{EDGE}}}")]),
            timeseries("Reconnects per second",
                       [target(f"rate(kv_stream_reconnects_total{{{EDGE}}}[$__rate_interval])")],
                       unit="ops"),
        ])


def edges():
    return dashboard(
        "kv-edges", "Workers KV: edge caches",
        "Hit ratio, size and churn of the edges' LRU caches, and reads the edges refused.",
        [node_variable("edge", "Edge", "kv_cache_capacity_bytes")],
        [
            row("Hit ratio"),
            timeseries("Hit ratio per edge",
                       [target(node_rate("kv_cache_hits_total", EDGE) + " / (" +
                               node_rate("kv_cache_hits_total", EDGE) + " + " +
                               node_rate("kv_cache_misses_total", EDGE) + ")")],
                       unit="percentunit"),
            timeseries("Hits, misses and revalidations per second",
                       [target(node_rate("kv_cache_hits_total", EDGE), "hits {{node}}", "A"),
                        target(node_rate("kv_cache_misses_total", EDGE), "misses {{node}}", "B"),
                        target(node_rate("kv_cache_revalidations_total", EDGE),
                               "revalidations {{node}}", "C")],
                       unit="ops"),
            row("Size"),
            timeseries("Cache bytes / capacity",
                       [target(f"kv_cache_bytes{{{EDGE}}}", "used {{node}}", "A"),
                        target(f"kv_cache_capacity_bytes{{{EDGE}}}", "capacity {{node}}", "B")],
                       unit="bytes"),
            timeseries("Entries", [target(f"kv_cache_entries{{{EDGE}}}")]),
            timeseries("Evictions per second",
                       [target(f"rate(kv_cache_evictions_total{{{EDGE}}}[$__rate_interval])")], unit="ops"),
            timeseries("Bulk revalidations and refused reads per second",
                       [rate_by_result("kv_cache_bulk_revalidated_total", EDGE, "revalidated {{result}} {{node}}", "A"),
                        target(f"rate(kv_edge_unavailable_reads_total{{{EDGE}}}[$__rate_interval])",
                               "refused reads {{node}}", "B")],
                       unit="ops",
                       description="Bulk revalidation: after the edge could not prove it missed nothing, "
                                   "cached entries checked with a central (current = kept, changed = dropped). "
                                   "A refused read: the cache was past the window and no central answered."),
        ])


def requests():
    return dashboard(
        "kv-requests", "Workers KV: requests",
        "Client requests on every node (centrals and edges) by operation and status code.",
        [node_variable("node", "Node", "kv_requests_total")],
        [
            row("Rate"),
            timeseries("Requests per second by operation",
                       [target(f"sum by (op) (rate(kv_requests_total{{{NODE}}}[$__rate_interval]))", "{{op}}")],
                       unit="reqps", stack=True),
            timeseries("Requests per second by code",
                       [target(f"sum by (code) (rate(kv_requests_total{{{NODE}}}[$__rate_interval]))", "{{code}}")],
                       unit="reqps", stack=True),
            timeseries("Requests per second by node",
                       [target(node_rate("kv_requests_total", NODE))],
                       unit="reqps"),
            timeseries("Server-error ratio by node",
                       [target(f"node:kv_request_errors:ratio_rate5m{{{NODE}}}")], unit="percentunit",
                       description="INTERNAL, UNAVAILABLE, DATA_LOSS, UNKNOWN, DEADLINE_EXCEEDED over all "
                                   "requests, 5 minutes (recording rule). Alert KvRequestErrorsHigh at 5%."),
            row("Latency"),
            timeseries("p99 latency by operation",
                       [target(f"histogram_quantile(0.99, sum by (op, le) "
                               f"(rate(kv_request_duration_seconds_bucket{{{NODE}}}[$__rate_interval])))", "{{op}}")],
                       unit="s"),
            timeseries("p50 latency by operation",
                       [target(f"histogram_quantile(0.5, sum by (op, le) "
                               f"(rate(kv_request_duration_seconds_bucket{{{NODE}}}[$__rate_interval])))", "{{op}}")],
                       unit="s"),
            timeseries("p99 latency by node",
                       [target(f"histogram_quantile(0.99, sum by (node, le) "
                               f"(rate(kv_request_duration_seconds_bucket{{{NODE}}}[$__rate_interval])))")],
                       unit="s"),
            stat("Build versions",
                 [target(f"count by (version) (kv_build_info{{{NODE}}})", "{{version}}")]),
            stat("TLS certificates: time to expiry",
                 [target(f"kv_tls_certificate_expiry_timestamp_seconds{{{NODE}}} - time()",
                         "{{node}} {{certificate}}")],
                 unit="s",
                 description="Until each node's certificate (node) and the cluster CA (ca) expire. "
                             "Alert KvTlsCertificateExpiresSoon under 14 days; certificates are read "
                             "at start, so renewing one is a restart.",
                 thresholds=[{"color": "red", "value": None},
                             {"color": "orange", "value": 7 * 24 * 3600},
                             {"color": "green", "value": 14 * 24 * 3600}]),
        ])


def centrals():
    return dashboard(
        "kv-centrals", "Workers KV: centrals and replication",
        "Replication between centrals (lag, acknowledged positions, repairs, quorum failures, "
        "clocks), completeness, and storage.",
        [node_variable("central", "Central", "kv_disk_free_bytes")],
        [
            row("Replication"),
            timeseries("Replication lag by peer",
                       [target(f"kv_replication_lag_seconds{{{CENTRAL}}}", "{{node}} ← {{peer}}")], unit="s",
                       description="How far behind each peer's stream this central is. Alert at 10 s."),
            timeseries("Acknowledged sequence by peer",
                       [target(f"kv_replication_acked_sequence{{{CENTRAL}}}", "{{node}} → {{peer}}")]),
            timeseries("Anti-entropy rounds and repairs per second",
                       [target(node_rate("kv_anti_entropy_repairs_total", CENTRAL) +
                               f" or sum by (node) (kv_cluster_size{{{CENTRAL}}}) * 0", "repairs {{node}}", "A"),
                        target(node_rate("kv_anti_entropy_rounds_total", CENTRAL) +
                               f" or sum by (node) (kv_cluster_size{{{CENTRAL}}}) * 0", "rounds {{node}}", "B")],
                       unit="ops",
                       description="Records repaired after a partition or crash; steady non-zero "
                                   "repairs mean replication loses mutations. (0 until the first "
                                   "round or repair creates the per-peer series.)"),
            timeseries("Peers connected",
                       [target(f"sum by (node) (kv_replication_connected{{{CENTRAL}}})", "connected {{node}}", "A"),
                        target(f"kv_cluster_size{{{CENTRAL}}} - 1", "peers {{node}}", "B")],
                       description="Open Pull streams from peers, against the membership's size."),
            timeseries("Replicated entries received and relays left out per second",
                       [target(node_rate("kv_replication_entries_total", CENTRAL),
                               "received {{node}}", "A"),
                        target(node_rate("kv_replication_relays_left_out_total", CENTRAL),
                               "left out {{node}}", "B")],
                       unit="ops",
                       description="Entries each central receives from its peers' streams (NOOPs included), "
                                   "and entries it sent to a peer as NOOPs because the peer said it held "
                                   "them: relays of writes that reached the peer from their origin."),
            timeseries("Quorum failures per second",
                       [target(f"rate(kv_quorum_failures_total{{{CENTRAL}}}[$__rate_interval])")], unit="ops"),
            timeseries("Quorum wait (local commit to write quorum)",
                       [target(f"histogram_quantile(0.5, sum by (node, le) "
                               f"(rate(kv_quorum_wait_seconds_bucket{{{CENTRAL}}}[$__rate_interval])))",
                               "p50 {{node}}", "A"),
                        target(f"histogram_quantile(0.99, sum by (node, le) "
                               f"(rate(kv_quorum_wait_seconds_bucket{{{CENTRAL}}}[$__rate_interval])))",
                               "p99 {{node}}", "B")],
                       unit="s",
                       description="What replication adds to a write's latency at the central that "
                                   "accepted it: from its WAL sync to the acks of W - 1 peers (their "
                                   "apply and WAL sync, and the messages both ways). Writes that miss "
                                   "the quorum are counted as quorum failures instead."),
            timeseries("Completeness age (complete_as_of)",
                       [target(f"kv_complete_as_of_age_seconds{{{CENTRAL}}}")], unit="s",
                       description="Past the window a central refuses reads from its data."),
            timeseries("Tombstone purge horizon age",
                       [target(f"kv_tombstone_purge_horizon_age_seconds{{{CENTRAL}}}")], unit="s",
                       min_zero=False,
                       description="Deletes older than this (and the grace) may be purged: every central "
                                   "holds them. -1: none may be (a central has not caught up)."),
            timeseries("Peer clock offset",
                       [target(f"kv_peer_clock_offset_seconds{{{CENTRAL}}}", "{{node}} vs {{peer}}")],
                       unit="s", min_zero=False),
            timeseries("Refused future versions per second",
                       [target(f"rate(kv_future_versions_total{{{CENTRAL}}}[$__rate_interval])")], unit="ops"),
            row("Storage"),
            timeseries("Free disk bytes", [target(f"kv_disk_free_bytes{{{CENTRAL}}}")], unit="bytes"),
            timeseries("Change log retained sequences",
                       [target(f"kv_change_log_last_sequence{{{CENTRAL}}}", "last {{node}}", "A"),
                        target(f"kv_change_log_first_sequence{{{CENTRAL}}}", "first {{node}}", "B")],
                       description="The change log is trimmed by age (--log_retention); edges resume "
                                   "from a sequence inside this span."),
            timeseries("Edge streams per central",
                       [target(f"kv_invalidation_streams{{{CENTRAL}}}")],
                       description="Invalidation streams open on each central; they move on failover."),
            row("Write path"),
            timeseries("WAL syncs and client writes per second",
                       [target(node_rate("kv_rocksdb_wal_synced_total", CENTRAL),
                               "syncs {{node}}", "A"),
                        target(node_rate("kv_requests_total", f'{CENTRAL},op=~"put|delete|bulk_put|bulk_delete"') +
                               f" or sum by (node) (kv_cluster_size{{{CENTRAL}}}) * 0",
                               "writes {{node}}", "B")],
                       unit="ops",
                       description="Group commit: concurrent writes share one WAL sync (fdatasync), so "
                                   "writes per second above syncs per second is the batching at work "
                                   "(docs/write-path.md). Replicated applies sync too."),
            timeseries("Group commit waits per second",
                       [rate_by_result("kv_group_commit_waits_total", CENTRAL)],
                       unit="ops",
                       description="The poller waiting up to --group_commit_wait for the next writes of "
                                   "clients that have none at the central. Mostly timed_out: clients do "
                                   "not come back that fast, and waiting backs off by itself."),
            timeseries("Poller idle spins per second",
                       [rate_by_result("kv_poller_idle_spins_total", CENTRAL)],
                       unit="ops",
                       description="The poller, out of work, polling without sleeping up to --idle_poll "
                                   "because its previous idle period was that short (closed-loop "
                                   "clients). event: work came meanwhile, no wake-up paid; expired: "
                                   "CPU spent for nothing, then it slept."),
        ])


DASHBOARDS = {
    "kv-propagation.json": propagation,
    "kv-edges.json": edges,
    "kv-requests.json": requests,
    "kv-centrals.json": centrals,
}


def render(name):
    return json.dumps(DASHBOARDS[name](), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else os.path.join(HERE, "dashboards")
    os.makedirs(out_dir, exist_ok=True)
    for name in DASHBOARDS:
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
