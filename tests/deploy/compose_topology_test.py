#!/usr/bin/env python3
"""deploy/docker-compose.yml makes a working cluster: its centrals and edges,
with the commands, flags, volumes and environment in the file, run as local
processes (tests/deploy/compose_local.py), serve writes through one edge
and reads through the others, pass the image's health check, and stop
cleanly on SIGTERM.

    tests/deploy/compose_topology_test.py --repo . --central-bin build/central/kv-central \
        --edge-bin build/edge/kv-edge --kvctl-bin build/tools/kvctl
"""
import argparse
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compose_local  # noqa: E402

ARGS = None


def write_token(tokens_path):
    with open(tokens_path) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 3 and not fields[0].startswith("#") and fields[2] == "write":
                return fields[0]
    raise AssertionError(f"{tokens_path} has no write token")


class ComposeTopologyTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kv-compose-")
        self.addCleanup(self.tmp.cleanup)
        self.model = compose_local.load_compose(os.path.join(ARGS.repo, "deploy/docker-compose.yml"))
        self.topo = compose_local.LocalTopology(
            self.model, compose_local.node_programs(ARGS.repo, ARGS.central_bin, ARGS.edge_bin),
            self.tmp.name)
        self.addCleanup(self.topo.stop_all, False)
        self.kv = self.topo.kv_services()
        self.centrals = self.topo.kv_services("kv-central")
        self.edges = self.topo.kv_services("kv-edge")
        self.token = write_token(os.path.join(ARGS.repo, "deploy/config/tokens.txt"))

    def kvctl(self, edge, *args, check=True):
        out = subprocess.run([ARGS.kvctl_bin, *self.topo.kvctl_target(edge, 7300),
                              "--token", self.token, "--timeout", "10s", *args],
                             capture_output=True, text=True, timeout=30)
        if check and out.returncode != 0:
            raise AssertionError(f"kvctl {' '.join(args)} at {edge}: exit {out.returncode}: "
                                 f"{out.stderr.strip()}")
        return out

    def get(self, edge, ns, key):
        out = self.kvctl(edge, "key", "get", key, "--namespace-id", ns, check=False)
        if out.returncode != 0:
            return None if "not found" in out.stderr else f"<error: {out.stderr.strip()}>"
        return out.stdout

    def test_compose_cluster_serves_writes_and_reads_through_every_edge(self):
        self.assertEqual(len(self.centrals), 3, self.centrals)
        self.assertEqual(len(self.edges), 3, self.edges)
        self.topo.start_all(self.kv)

        # The image's HEALTHCHECK script passes for every node, with the
        # ports each service's environment names.
        health = os.path.join(ARGS.repo, "deploy/docker/healthcheck.sh")
        for name in self.kv:
            env = dict(self.topo.local_env(name), KV_HEALTH_KVCTL=ARGS.kvctl_bin)
            out = subprocess.run(["bash", health], env=env,
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(out.returncode, 0, f"{name}: {out.stderr}")

        first, second, third = self.edges
        title = f"compose-{uuid.uuid4().hex[:8]}"
        created = self.kvctl(first, "namespace", "create", title).stdout
        ns = created.strip().removeprefix("id=")
        self.assertRegex(ns, r"^[0-9a-f]{32}$", created)

        # Written through one edge, read through the others.
        self.kvctl(first, "key", "put", "greeting", "hello", "--namespace-id", ns)
        for edge in self.edges:
            compose_local.eventually(f"greeting at {edge}",
                                     lambda: self.get(edge, ns, "greeting") == "hello")
        # An update through another edge reaches every edge (the cached
        # copies are invalidated or refreshed by the streams).
        self.kvctl(second, "key", "put", "greeting", "hello again", "--namespace-id", ns)
        for edge in self.edges:
            compose_local.eventually(f"update at {edge}",
                                     lambda: self.get(edge, ns, "greeting") == "hello again")
        # A delete through the third.
        self.kvctl(third, "key", "delete", "greeting", "--namespace-id", ns)
        for edge in self.edges:
            compose_local.eventually(f"delete at {edge}",
                                     lambda: self.get(edge, ns, "greeting") is None)

        # Every node stops cleanly on SIGTERM (docker stop).
        self.topo.stop_all(check=True)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--central-bin", required=True)
    parser.add_argument("--edge-bin", required=True)
    parser.add_argument("--kvctl-bin", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
