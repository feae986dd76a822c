#!/usr/bin/env python3
"""Runs kv-bench with --json and checks the report's shape (CTest smoke test).

usage: check_report.py WORKLOAD -- KV_BENCH_COMMAND...
Fails when kv-bench exits non-zero, a result lacks a field, or errors != 0.
With --plot FILE among the command's arguments, FILE must be a PNG.
"""
import json
import subprocess
import sys

COMMON = ["name", "concurrency", "ops", "ops_per_sec", "p50_us", "p90_us", "p99_us",
          "p999_us", "errors", "server_rss_kb", "ratio_to_baseline"]
FIELDS = {
    "put": COMMON,
    "edge-hit": COMMON + ["server_cpu", "server_us_per_op", "client_cpu", "pinned"],
    "edge-miss": COMMON + ["server_cpu", "server_us_per_op", "client_cpu", "pinned"],
    "mixed": COMMON + ["server_cpu", "client_cpu", "reads", "writes", "read_p99_us",
                       "write_p99_us"],
    "bulk": COMMON + ["batch", "requests_per_sec"],
    "propagation": ["name", "edges", "write_rate_target", "write_rate", "writes",
                    "events_expected", "events_observed", "events_live", "events_replayed",
                    "propagation_p50_ms", "propagation_p99_ms", "propagation_max_ms",
                    "errors", "baseline"],
}


def main():
    workload = sys.argv[1]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=110)
    sys.stderr.write(proc.stderr)
    print(proc.stdout, end="")
    if proc.returncode != 0:
        sys.exit(f"kv-bench exited {proc.returncode}")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if not results:
        sys.exit("no results")
    for r in results:
        missing = [f for f in FIELDS[workload] if f not in r]
        if missing:
            sys.exit(f"result {r.get('name')} lacks {missing}")
        if r["errors"] != 0:
            sys.exit(f"result {r.get('name')} has {r['errors']} errors")
    if workload == "edge-hit":
        edge = [r for r in results if r["name"].startswith("kv-edge")]
        bare = [r for r in results if r["name"].startswith("bare")]
        if len(edge) != 1 or len(bare) != 1:
            sys.exit("expected one kv-edge and one bare result")
        if edge[0].get("hit_fraction", 0) < 0.99:
            sys.exit(f"hit fraction {edge[0].get('hit_fraction')}")
        if edge[0]["ops"] <= 0 or edge[0]["ratio_to_baseline"] <= 0:
            sys.exit("no edge calls measured")
    elif workload == "edge-miss":
        edge = [r for r in results if r["name"].startswith("kv-edge")]
        bare = [r for r in results if r["name"].startswith("bare")]
        direct = [r for r in results if r["name"].startswith("kv-central")]
        if len(edge) != 1 or len(bare) != 1 or len(direct) != 1:
            sys.exit("expected one kv-edge, one bare and one kv-central result")
        if edge[0].get("hit_fraction", 1) > 0.1:
            sys.exit(f"hit fraction {edge[0].get('hit_fraction')}: not misses")
        if edge[0]["ops"] <= 0 or edge[0]["ratio_to_baseline"] <= 0:
            sys.exit("no edge calls measured")
    elif workload == "mixed":
        edge = [r for r in results if r["name"].startswith("kv-edge")]
        redis = [r for r in results if r["name"].startswith("redis")]
        if len(edge) != 1 or len(redis) != 1:
            sys.exit("expected one kv-edge and one redis result")
        for r in edge + redis:
            if r["reads"] <= 0 or r["writes"] <= 0:
                sys.exit(f"{r['name']}: no reads or no writes measured")
        if edge[0]["ratio_to_baseline"] <= 0:
            sys.exit("no ratio to the baseline")
    elif workload == "bulk":
        ours = [r for r in results if r["name"].startswith("kv-central")]
        base = [r for r in results if r["name"].startswith("db_bench")]
        if len(ours) != 1 or len(base) != 1:
            sys.exit("expected one kv-central and one db_bench result")
        if ours[0]["ops"] <= 0 or ours[0]["ratio_to_baseline"] <= 0:
            sys.exit("no bulk puts measured")
    elif workload == "propagation":
        r = results[0]
        if r["baseline"] != "none" or r["writes"] <= 0 or r["events_observed"] <= 0:
            sys.exit("no writes or no events observed")
    else:
        if results[0]["ops"] <= 0:
            sys.exit("no puts measured")
    for i, arg in enumerate(cmd):
        plot = arg[len("--plot="):] if arg.startswith("--plot=") else None
        if plot:
            with open(plot, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    sys.exit(f"{plot} is not a PNG")
    print(f"ok: {len(results)} result(s)")


if __name__ == "__main__":
    main()
