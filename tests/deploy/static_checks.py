#!/usr/bin/env python3
"""Offline checks of everything under deploy/, with the real tools:

* Prometheus: `promtool check config` (both configurations), `promtool
  check rules`, `promtool test rules`; every alert has a firing and a
  quiet case in the rule tests, a severity, a summary and a description,
  and an expression `<signal> <comparison> <threshold>`.
* Compose: `docker-compose config`; the topology (3 centrals, 3 edges,
  Prometheus, Grafana); every listen port exposed; Prometheus scrapes
  every node's metrics port under its service name; Grafana's mounts match
  the provisioning.
* Kubernetes: `kubectl kustomize deploy/k8s`, every object validated
  against the Kubernetes schemas (npm kubernetes-models, offline), and the
  conventions a schema cannot see (probes on declared ports, scrape
  annotations, selectors that select, PDBs, resources, non-root).
* Flags: every flag in the compose commands and in the Kubernetes
  containers' commands (run through /bin/sh with Kubernetes' $(VAR)
  substitution, stand-in binaries recording the argv) is one the real
  kv-central / kv-edge accept.
* Grafana: the dashboards are what deploy/grafana/generate_dashboards.py
  writes; ids unique, every target on the provisioned datasource.
* Dockerfile: bookworm stages, a non-root USER, a HEALTHCHECK, COPY sources
  that exist; runtime-packages.sh finds a Debian package for every
  library the built binaries link.
"""
import argparse
import copy
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compose_local  # noqa: E402
import deploy_queries  # noqa: E402

ARGS = None


def repo(*parts):
    return os.path.join(ARGS.repo, *parts)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


def known_flags(binary):
    """Flag names the binary accepts, from --helpfull."""
    out = run([binary, "--helpfull"])
    names = set(re.findall(r"^\s+--(\w+) ", out.stdout + out.stderr, re.M))
    if not names:
        raise AssertionError(f"{binary} --helpfull listed no flags")
    return names


def flag_names(argv):
    return [re.match(r"--([\w-]+)", a).group(1).replace("-", "_")
            for a in argv if a.startswith("--")]


class PrometheusTest(unittest.TestCase):
    def promtool(self, *args):
        out = run([ARGS.promtool, *args])
        self.assertEqual(out.returncode, 0, f"promtool {' '.join(args)}:\n{out.stdout}{out.stderr}")
        return out.stdout

    def assert_metrics_token(self, token_file, tokens_file):
        """`token_file` holds a token that `tokens_file` gives the metrics
        scope (what the nodes' /metrics accepts)."""
        with open(token_file) as f:
            token = f.read().strip()
        with open(tokens_file) as f:
            scopes = {l.split()[0]: l.split()[2] for l in f
                      if l.strip() and not l.startswith("#") and len(l.split()) == 3}
        self.assertEqual(scopes.get(token), "metrics", f"{token_file} in {tokens_file}")

    def check_config(self, config, token_file):
        """promtool check config on `config` (a dict), its rule files made
        absolute and the metrics token it reads (promtool wants the file to
        exist) at `token_file`."""
        config["rule_files"] = [os.path.abspath(repo("deploy/prometheus", r)) for r in config["rule_files"]]
        for job in config["scrape_configs"]:
            if "authorization" in job:
                job["authorization"]["credentials_file"] = token_file
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            yaml.safe_dump(config, f)
            f.flush()
            out = self.promtool("check", "config", f.name)
        self.assertIn(f"{len(deploy_queries.rule_files(ARGS.repo))} rule files found", out)

    def test_check_config(self):
        with open(repo("deploy/prometheus/prometheus.yml")) as f:
            config = yaml.safe_load(f)
        # The compose file mounts the token file Prometheus reads.
        model = compose_local.load_compose(repo("deploy/docker-compose.yml"), ARGS.docker_compose)
        topo = compose_local.LocalTopology(model, {}, tempfile.mkdtemp(prefix="kv-static-"))
        tokens = {topo.translate("prometheus", j["authorization"]["credentials_file"])
                  for j in config["scrape_configs"] if "authorization" in j}
        self.assertEqual(tokens, {os.path.realpath(repo("deploy/config/metrics-token.txt"))})
        self.assert_metrics_token(repo("deploy/config/metrics-token.txt"), repo("deploy/config/tokens.txt"))
        self.check_config(config, tokens.pop())

    def test_check_kubernetes_config(self):
        # Debian's Prometheus is built without Kubernetes discovery, so
        # promtool rejects kubernetes_sd_configs; every other part (relabel
        # rules, regexes, rule files) is checked with a file_sd stand-in.
        with open(repo("deploy/prometheus/prometheus-kubernetes.yml")) as f:
            config = yaml.safe_load(f)
        for job in config["scrape_configs"]:
            self.assertIn("kubernetes_sd_configs", job)
            job.pop("kubernetes_sd_configs")
            job["file_sd_configs"] = [{"files": ["/nonexistent/targets.json"]}]
        self.assert_metrics_token(repo("deploy/k8s/config/metrics-token.txt"),
                                  repo("deploy/k8s/config/tokens.txt"))
        self.check_config(config, repo("deploy/k8s/config/metrics-token.txt"))

    def test_check_rules(self):
        files = deploy_queries.rule_files(ARGS.repo)
        self.assertGreaterEqual(len(files), 2)
        self.promtool("check", "rules", *files)

    def test_rule_unit_tests(self):
        tests = sorted(os.path.join(repo("deploy/prometheus/tests"), f)
                       for f in os.listdir(repo("deploy/prometheus/tests")) if f.endswith(".yml"))
        self.assertTrue(tests)
        out = self.promtool("test", "rules", *tests)
        self.assertIn("SUCCESS", out)

    def test_every_alert_has_firing_and_quiet_cases(self):
        alerts = {r["alert"]: r for _, r in deploy_queries.rules(ARGS.repo) if "alert" in r}
        self.assertGreaterEqual(len(alerts), 10, sorted(alerts))
        firing, quiet = set(), set()
        test_dir = repo("deploy/prometheus/tests")
        for name in os.listdir(test_dir):
            with open(os.path.join(test_dir, name)) as f:
                doc = yaml.safe_load(f)
            for t in doc["tests"]:
                for case in t.get("alert_rule_test", []):
                    (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
        self.assertEqual(sorted(set(alerts) - firing), [], "alerts with no firing case")
        self.assertEqual(sorted(set(alerts) - quiet), [], "alerts with no quiet case")
        self.assertEqual(sorted((firing | quiet) - set(alerts)), [], "tests of unknown alerts")

    def test_alerts_are_documented_and_split(self):
        for _, rule in deploy_queries.rules(ARGS.repo):
            if "alert" not in rule:
                continue
            self.assertIn(rule.get("labels", {}).get("severity"), ("critical", "warning"), rule["alert"])
            for key in ("summary", "description"):
                self.assertTrue(rule.get("annotations", {}).get(key), f"{rule['alert']}: no {key}")
        # Raises for an expression with no top-level comparison.
        self.assertTrue(deploy_queries.alert_queries(ARGS.repo))


class ComposeTest(unittest.TestCase):
    def setUp(self):
        self.model = compose_local.load_compose(repo("deploy/docker-compose.yml"), ARGS.docker_compose)
        self.topo = compose_local.LocalTopology(self.model, {}, tempfile.mkdtemp(prefix="kv-static-"))
        self.addCleanup(shutil.rmtree, self.topo.work_dir)

    def test_docker_compose_config_quiet(self):
        out = run([ARGS.docker_compose, "-f", repo("deploy/docker-compose.yml"), "config", "-q"])
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_topology(self):
        self.assertEqual(len(self.topo.kv_services("kv-central")), 3)
        self.assertEqual(len(self.topo.kv_services("kv-edge")), 3)
        self.assertIn("prometheus", self.model["services"])
        self.assertIn("grafana", self.model["services"])
        for name in self.topo.kv_services():
            svc = self.model["services"][name]
            self.assertEqual(svc["build"]["dockerfile"], "deploy/Dockerfile", name)
            exposed = {int(p) for p in svc["expose"]}
            for arg in self.topo.command(name):
                for port in re.findall(r"0\.0\.0\.0:(\d+)", arg):
                    self.assertIn(int(port), exposed, f"{name} listens on {port} without exposing it")
            env = svc.get("environment", {})
            for key in ("KV_HEALTH_GRPC_PORT", "KV_HEALTH_METRICS_PORT"):
                self.assertIn(int(env[key]), exposed, f"{name}: {key}")
        windows = {a for n in self.topo.kv_services() for a in self.topo.command(n)
                   if a.startswith("--window=")}
        self.assertEqual(len(windows), 1, f"centrals and edges need one --window: {windows}")
        for name in self.topo.kv_services("kv-edge"):
            deps = self.model["services"][name].get("depends_on", {})
            nodes = sorted(d for d in deps if not self.topo.one_shot(d))
            self.assertEqual(nodes, self.topo.kv_services("kv-central"), name)
            for central in nodes:
                self.assertEqual(deps[central]["condition"], "service_healthy", name)

    def test_every_node_runs_tls_from_the_certs_service(self):
        # TLS on every port and mutual TLS between nodes (DESIGN §6): no
        # node is --insecure, and each one's certificate comes from the
        # one-shot `certs` service's volume, made before it starts.
        for name in self.topo.kv_services():
            command = self.topo.command(name)
            self.assertNotIn("--insecure", command, name)
            flags = dict(a.split("=", 1) for a in command if a.startswith("--tls_"))
            self.assertEqual(sorted(flags), ["--tls_ca", "--tls_cert", "--tls_key"], name)
            deps = self.model["services"][name].get("depends_on", {})
            makers = [d for d in deps if self.topo.one_shot(d)]
            self.assertEqual(len(makers), 1, f"{name}: {sorted(deps)}")
            maker = self.model["services"][makers[0]]
            self.assertEqual(self.topo.program(makers[0]), "kv-make-certs")
            made_in = maker["command"][1]
            for path in flags.values():
                self.assertEqual(os.path.dirname(path), made_in, f"{name}: {path}")
            # The same volume as the maker's, at the same place.
            self.assertEqual(self.topo.volume_map(name).get(made_in),
                             self.topo.volume_map(makers[0])[made_in], name)
            self.assertEqual(self.model["services"][name]["environment"]["KV_HEALTH_TLS_CA"],
                             flags["--tls_ca"], name)

    def test_prometheus_scrapes_every_node(self):
        with open(repo("deploy/prometheus/prometheus.yml")) as f:
            config = yaml.safe_load(f)
        scraped = {}
        for job in config["scrape_configs"]:
            for sc in job["static_configs"]:
                for t in sc["targets"]:
                    host, port = t.split(":")
                    self.assertIn(host, self.model["services"], f"target {t}")
                    self.topo.port(host, port)  # raises unless exposed
                    self.assertEqual(sc["labels"]["node"], host, t)
                    scraped[host] = job["job_name"]
        for name in self.topo.kv_services():
            metrics = [a for a in self.topo.command(name) if a.startswith("--metrics_addr=")]
            self.assertEqual(len(metrics), 1, f"{name} has no --metrics_addr")
            self.assertEqual(scraped.get(name), self.topo.program(name), f"{name} is not scraped")

    def test_grafana_mounts_match_provisioning(self):
        grafana = self.model["services"]["grafana"]
        targets = {}
        for v in grafana["volumes"]:
            parts = v.split(":") if isinstance(v, str) else [v.get("source"), v["target"]]
            targets[parts[1]] = parts[0]
        self.assertEqual(os.path.realpath(targets["/etc/grafana/provisioning"]),
                         os.path.realpath(repo("deploy/grafana/provisioning")))
        with open(repo("deploy/grafana/provisioning/dashboards/workers-kv.yml")) as f:
            path = yaml.safe_load(f)["providers"][0]["options"]["path"]
        self.assertEqual(os.path.realpath(targets[path]), os.path.realpath(repo("deploy/grafana/dashboards")))
        home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        self.assertTrue(os.path.exists(os.path.join(targets[path], os.path.relpath(home, path))), home)

    def test_compose_flags_are_known(self):
        known = {"kv-central": known_flags(ARGS.central_bin), "kv-edge": known_flags(ARGS.edge_bin)}
        for name in self.topo.kv_services():
            unknown = set(flag_names(self.topo.command(name))) - known[self.topo.program(name)]
            self.assertEqual(sorted(unknown), [], f"{name}: flags the binary does not know")


def kustomize():
    """deploy/k8s rendered as an operator would: in a copy of deploy/ whose
    config/tls/ deploy/k8s/make-certs.sh has just made (it is not in git)."""
    with tempfile.TemporaryDirectory() as tmp:
        deploy = os.path.join(tmp, "deploy")
        shutil.copytree(repo("deploy"), deploy)
        shutil.rmtree(os.path.join(deploy, "k8s/config/tls"), ignore_errors=True)
        made = run(["sh", os.path.join(deploy, "k8s/make-certs.sh")])
        if made.returncode != 0:
            raise AssertionError(f"deploy/k8s/make-certs.sh: {made.stdout}{made.stderr}")
        out = run([ARGS.kubectl, "kustomize", os.path.join(deploy, "k8s")])
        if out.returncode != 0:
            raise AssertionError(f"kubectl kustomize: {out.stderr}")
        tls_dir = os.path.join(deploy, "k8s/config/tls")
        certificate = run(["openssl", "x509", "-in", os.path.join(tls_dir, "node.crt"), "-noout",
                           "-ext", "subjectAltName"]).stdout
    return [d for d in yaml.safe_load_all(out.stdout) if d], certificate


def pod_templates(objects):
    return [(o, o["spec"]["template"]) for o in objects if o["kind"] in ("StatefulSet", "Deployment")]


def k8s_expand(text, env):
    """Kubernetes' substitution in command/args: $$ is $, $(VAR) a defined
    variable's value, anything else left as is."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), text)


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects, cls.certificate_names = kustomize()
        cls.by_kind = {}
        for o in cls.objects:
            cls.by_kind.setdefault(o["kind"], []).append(o)

    def test_schema(self):
        objects = copy.deepcopy(self.objects)
        for o in objects:
            if o["kind"] == "Secret":
                # kustomize wraps base64 over lines; the API server's decoder
                # skips newlines, the schema's "byte" format does not.
                o["data"] = {k: "".join(v.split()) for k, v in o.get("data", {}).items()}
        node_modules = repo("tests/deploy/k8s_schema/node_modules/kubernetes-models")
        self.assertTrue(os.path.isdir(node_modules),
                        "npm package kubernetes-models missing: run scripts/install-deps.sh")
        out = run([ARGS.node, repo("tests/deploy/k8s_schema/validate.js")], input=json.dumps(objects))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(out.stdout.count("\nok ") + out.stdout.startswith("ok "), len(objects), out.stdout)

    def test_kinds(self):
        for kind in ("Namespace", "ConfigMap", "Secret", "Service", "StatefulSet", "Deployment",
                     "PodDisruptionBudget"):
            self.assertIn(kind, self.by_kind)
        central = self.by_kind["StatefulSet"][0]
        self.assertEqual(central["spec"]["replicas"], 3)
        self.assertTrue(central["spec"]["volumeClaimTemplates"], "no PVC template")
        headless = [s for s in self.by_kind["Service"] if s["metadata"]["name"] == central["spec"]["serviceName"]]
        self.assertEqual(len(headless), 1, "the StatefulSet's serviceName names no Service")
        self.assertEqual(headless[0]["spec"].get("clusterIP"), "None", "the centrals' Service is not headless")

    def test_pods(self):
        configmaps = {c["metadata"]["name"] for c in self.by_kind["ConfigMap"]}
        secrets = {s["metadata"]["name"] for s in self.by_kind["Secret"]}
        for owner, template in pod_templates(self.objects):
            name = owner["metadata"]["name"]
            spec = template["spec"]
            self.assertTrue(spec["securityContext"]["runAsNonRoot"], name)
            annotations = template["metadata"]["annotations"]
            self.assertEqual(annotations["prometheus.io/scrape"], "true", name)
            for c in spec["containers"]:
                ports = {p["containerPort"]: p["name"] for p in c["ports"]}
                self.assertEqual(ports.get(int(annotations["prometheus.io/port"])), "metrics", name)
                # Probes: the image's health check (gRPC health and
                # /metrics over TLS), told the container's own ports.
                env = {e["name"]: e.get("value") for e in c.get("env", [])}
                for probe in ("readinessProbe", "livenessProbe"):
                    self.assertEqual(c[probe]["exec"]["command"], ["kv-healthcheck"], f"{name} {probe}")
                self.assertEqual(ports.get(int(env["KV_HEALTH_GRPC_PORT"])), "grpc", name)
                self.assertEqual(ports.get(int(env["KV_HEALTH_METRICS_PORT"])), "metrics", name)
                self.assertIn("memory", c["resources"]["limits"], name)
                self.assertIn("cpu", c["resources"]["requests"], name)
                self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"], name)
                for ref in c.get("envFrom", []):
                    self.assertIn(ref["configMapRef"]["name"], configmaps, name)
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        self.assertIn(ref["name"], secrets, name)
            for v in spec.get("volumes", []):
                if "secret" in v:
                    self.assertIn(v["secret"]["secretName"], secrets, name)

    def test_certificate_names_the_probes_and_prometheus(self):
        # The probes dial 127.0.0.1 (kv-healthcheck's default host);
        # Prometheus scrapes pod IPs and verifies the name it is given.
        self.assertIn("IP Address:127.0.0.1", self.certificate_names)
        with open(repo("deploy/prometheus/prometheus-kubernetes.yml")) as f:
            config = yaml.safe_load(f)
        for job in config["scrape_configs"]:
            self.assertEqual(job["scheme"], "https", job["job_name"])
            self.assertIn(f"DNS:{job['tls_config']['server_name']},", self.certificate_names + ",")

    def test_selectors_select(self):
        def selects(selector, labels):
            return selector and all(labels.get(k) == v for k, v in selector.items())

        templates = pod_templates(self.objects)
        for owner, template in templates:
            self.assertTrue(selects(owner["spec"]["selector"]["matchLabels"], template["metadata"]["labels"]))
        for kind, get in (("Service", lambda o: o["spec"]["selector"]),
                          ("PodDisruptionBudget", lambda o: o["spec"]["selector"]["matchLabels"])):
            for o in self.by_kind[kind]:
                matched = [t for _, t in templates if selects(get(o), t["metadata"]["labels"])]
                self.assertEqual(len(matched), 1, f"{kind} {o['metadata']['name']} selects {len(matched)} workloads")
                if kind == "Service":
                    names = {p["name"] for c in matched[0]["spec"]["containers"] for p in c["ports"]}
                    for p in o["spec"]["ports"]:
                        self.assertIn(p["targetPort"], names, f"Service {o['metadata']['name']}")

    def test_commands_run_and_flags_are_known(self):
        """Runs each container's command through /bin/sh as Kubernetes
        would (ConfigMap and Secret variables, a pod hostname), with
        stand-ins for the binaries that record their argv."""
        known = {"kv-central": known_flags(ARGS.central_bin), "kv-edge": known_flags(ARGS.edge_bin)}
        config = {k: v for c in self.by_kind["ConfigMap"] for k, v in c["data"].items()}
        with tempfile.TemporaryDirectory() as bindir:
            for prog in known:
                path = os.path.join(bindir, prog)
                with open(path, "w") as f:
                    f.write('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
                os.chmod(path, stat.S_IRWXU)
            seen = set()
            for owner, template in pod_templates(self.objects):
                for c in template["spec"]["containers"]:
                    env = dict(config, HOSTNAME=f"{owner['metadata']['name']}-2",
                               KV_EDGE_TOKEN="token-from-secret")
                    env.update({e["name"]: e.get("value", env.get(e["name"], "x")) for e in c.get("env", [])})
                    argv = [k8s_expand(a, env) for a in c["command"] + c.get("args", [])]
                    out = run(argv, env=dict(env, PATH=bindir + ":/usr/bin:/bin"))
                    self.assertEqual(out.returncode, 0, f"{c['name']}: {out.stderr}")
                    args = out.stdout.splitlines()
                    prog = c["name"]
                    seen.add(prog)
                    unknown = set(flag_names(args)) - known[prog]
                    self.assertEqual(sorted(unknown), [], f"{prog}: flags the binary does not know")
                    self.assertNotIn("$", "".join(args), f"{prog}: unexpanded variable in {args}")
                    flags = dict(a[2:].split("=", 1) for a in args if "=" in a)
                    # TLS from the kv-tls Secret's mount; the probe's CA is
                    # the node's.
                    self.assertNotIn("--insecure", args, prog)
                    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
                    secrets = {v["name"]: v["secret"]["secretName"]
                               for v in template["spec"]["volumes"] if "secret" in v}
                    tls_secrets = {o["metadata"]["name"] for o in self.by_kind["Secret"]
                                   if o.get("type") == "kubernetes.io/tls"}
                    tls_mount = [mounts[n] for n, s in secrets.items() if s in tls_secrets]
                    self.assertEqual(len(tls_mount), 1, prog)
                    for flag, key in (("tls_cert", "tls.crt"), ("tls_key", "tls.key"),
                                      ("tls_ca", "ca.crt")):
                        self.assertEqual(flags.get(flag), f"{tls_mount[0]}/{key}", prog)
                    self.assertEqual(env["KV_HEALTH_TLS_CA"], flags["tls_ca"], prog)
                    # The certificate names every address nodes are dialled by.
                    dialled = flags["peers"] if prog == "kv-central" else flags["centrals"]
                    for addr in dialled.split(","):
                        host = addr.split("=")[-1].rsplit(":", 1)[0]
                        self.assertIn(f"DNS:{host}", self.certificate_names, prog)
                    if prog == "kv-central":
                        self.assertEqual(flags["node_id"], "3", "pod kv-central-2 is node 3")
                        self.assertEqual(len(flags["peers"].split(",")), 3)
                    else:
                        centrals = flags["centrals"].split(",")
                        self.assertEqual(sorted(centrals), sorted(config["KV_CENTRALS"].split(",")))
                        self.assertEqual(flags["upstream_token"], "token-from-secret")
        self.assertEqual(seen, set(known))


class GrafanaTest(unittest.TestCase):
    def test_dashboards_are_generated(self):
        with tempfile.TemporaryDirectory() as out:
            res = run([sys.executable, repo("deploy/grafana/generate_dashboards.py"), out])
            self.assertEqual(res.returncode, 0, res.stderr)
            for name in sorted(os.listdir(out)):
                with open(os.path.join(out, name)) as a, open(repo("deploy/grafana/dashboards", name)) as b:
                    self.assertEqual(a.read(), b.read(),
                                     f"{name} differs from generate_dashboards.py's output: rerun it")
            self.assertEqual(sorted(os.listdir(out)), sorted(os.listdir(repo("deploy/grafana/dashboards"))))

    def test_dashboards_use_the_provisioned_datasource(self):
        with open(repo("deploy/grafana/provisioning/datasources/prometheus.yml")) as f:
            uid = yaml.safe_load(f)["datasources"][0]["uid"]
        uids = set()
        for name, dash in deploy_queries.dashboards(ARGS.repo).items():
            self.assertNotIn(dash["uid"], uids)
            uids.add(dash["uid"])
            ids = [p["id"] for p in dash["panels"]]
            self.assertEqual(len(ids), len(set(ids)), name)
            for p in dash["panels"]:
                if p["type"] == "row":
                    continue
                self.assertTrue(p["targets"], f"{name}: panel {p['title']} has no query")
                for t in p["targets"]:
                    self.assertEqual(t["datasource"]["uid"], uid, f"{name}: {p['title']}")
                    self.assertTrue(t["expr"].strip())


class DockerfileTest(unittest.TestCase):
    def test_dockerfile(self):
        with open(repo("deploy/Dockerfile")) as f:
            lines = [l.strip() for l in f.read().replace("\\\n", " ").splitlines()
                     if l.strip() and not l.strip().startswith("#")]
        froms = [l.split()[1] for l in lines if l.startswith("FROM ")]
        self.assertGreaterEqual(len(froms), 2, "not multi-stage")
        for image in froms:
            self.assertTrue(image.startswith("debian:bookworm"), image)
        final = lines[max(i for i, l in enumerate(lines) if l.startswith("FROM ")):]
        users = [l.split()[1] for l in final if l.startswith("USER ")]
        self.assertTrue(users and not users[-1].startswith(("0", "root")), f"final stage USER {users}")
        self.assertTrue(any(l.startswith("HEALTHCHECK ") for l in final))
        for l in lines:
            if l.startswith("COPY ") and "--from=" not in l:
                for src in l.split()[1:-1]:
                    self.assertTrue(os.path.exists(repo(src)), f"COPY source {src} missing")
        for script in ("deploy/docker/healthcheck.sh", "deploy/docker/runtime-packages.sh"):
            self.assertEqual(run(["bash", "-n", repo(script)]).returncode, 0, script)

    def test_runtime_packages(self):
        out = run(["bash", repo("deploy/docker/runtime-packages.sh"), ARGS.central_bin, ARGS.edge_bin,
                   ARGS.kvctl_bin])
        self.assertEqual(out.returncode, 0, out.stderr)
        packages = out.stdout.split()
        for p in ("libgrpc++1.51", "libprotobuf32", "libc6"):
            self.assertIn(p, packages)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--central-bin", required=True)
    parser.add_argument("--edge-bin", required=True)
    parser.add_argument("--kvctl-bin", required=True)
    parser.add_argument("--promtool", default="promtool")
    parser.add_argument("--docker-compose", default="docker-compose")
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--node", default="node")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
