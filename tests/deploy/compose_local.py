"""Replays deploy/docker-compose.yml as local processes.

There is no container engine on the CI machines, so the tests run the
compose topology the way Docker would, but as processes on 127.0.0.1:

* the model is what `docker-compose config` prints (anchors, merges and
  ${VAR:-default} interpolation resolved, bind-mount sources made absolute),
  so the file tested is the file Docker would read;
* every port a service lists in `expose` gets a free port on 127.0.0.1
  (bind port 0, read it back, close); in a service's command,
  `0.0.0.0:P` becomes its own 127.0.0.1:<port>, and `<service>:P` the other
  service's, so --peers, --centrals and the listen flags keep their meaning;
  a starting node that loses the race for its port fails, and the caller
  starts the topology again with new ports (start_all retries);
* a bind mount's container path becomes its host source; a named volume's
  becomes a fresh directory under the work dir, one per volume name, shared
  by the services that mount it (as Docker's named volumes are);
* a service that another depends on with `service_completed_successfully`
  (the `certs` service) is a one-shot: it is run to completion, and must
  exit 0, before its dependents start; starting a service starts what it
  depends on first, as `docker-compose up SERVICE` does;
* the command's program (kv-central, kv-edge, prometheus) becomes the
  local binary given for it; environment entries are passed on, a value
  equal to one of the service's exposed ports mapped like the ports;
* `--ready_file=<work>/<service>.ready` is appended to kv nodes so the
  replay knows when each one serves; nothing else is added or dropped.

LocalTopology is not thread-safe; children get PR_SET_PDEATHSIG so they die
with the test.
"""
import ctypes
import os
import re
import signal
import socket
import subprocess
import time

import yaml

PR_SET_PDEATHSIG = 1
KV_PROGRAMS = ("kv-central", "kv-edge")


def node_programs(repo, central_bin, edge_bin):
    """The local stand-ins for the programs of the project's image."""
    return {"kv-central": central_bin, "kv-edge": edge_bin,
            "kv-make-certs": os.path.join(repo, "deploy/tls/make-certs.sh")}


def _die_with_parent():
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    """A port on 127.0.0.1 that was free a moment ago (bound and closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_compose(compose_path, docker_compose="docker-compose"):
    """The normalized model `docker-compose config` prints, as a dict."""
    out = subprocess.run([docker_compose, "-f", compose_path, "config"],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"docker-compose config failed ({out.returncode}): {out.stderr}")
    return yaml.safe_load(out.stdout)


def eventually(what, fn, timeout=20.0, interval=0.05):
    """Polls fn() until it returns a truthy value (returned) or raises no
    AssertionError; fails after `timeout` with the last error."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            result = fn()
            if result:
                return result
            last = f"{what}: got {result!r}"
        except (AssertionError, RuntimeError, OSError, subprocess.SubprocessError) as e:
            last = f"{what}: {e}"
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {last}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def topological_order(services):
    """Service names with every service after those it depends_on."""
    order, seen = [], set()

    def visit(name, path=()):
        if name in seen:
            return
        if name in path:
            raise RuntimeError(f"depends_on cycle: {' -> '.join(path + (name,))}")
        deps = services[name].get("depends_on") or {}
        for dep in sorted(deps):
            visit(dep, path + (name,))
        seen.add(name)
        order.append(name)

    for name in sorted(services):
        visit(name)
    return order


class Node:
    """One started service: its process, log and ready-file fields."""

    def __init__(self, name, argv, env, log_path, ready_path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.ready_path = ready_path
        self.proc = None
        self.ready = {}

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class LocalTopology:
    """The services of one compose model, run as local processes.

    `programs` maps a command's program name to the local binary that
    replaces it (e.g. {"kv-central": ".../kv-central"}); a service whose
    program is not in it cannot be started (skip it with `services=`).
    """

    def __init__(self, model, programs, work_dir):
        self.model = model
        self.services = model["services"]
        self.programs = programs
        self.work_dir = work_dir
        self.ports = {}
        self.nodes = {}
        self.allocate_ports()

    # -- translation ------------------------------------------------------

    def allocate_ports(self):
        """A new free 127.0.0.1 port for every (service, exposed port)."""
        self.ports = {}
        for name, svc in self.services.items():
            for p in svc.get("expose") or []:
                self.ports[(name, int(str(p).split("/")[0]))] = free_port()

    def port(self, service, container_port):
        try:
            return self.ports[(service, int(container_port))]
        except KeyError:
            raise RuntimeError(
                f"{service} does not expose port {container_port} "
                f"(compose `expose` must list every port its command uses)") from None

    def addr(self, service, container_port):
        return f"127.0.0.1:{self.port(service, container_port)}"

    def volume_map(self, name):
        """Container path → host path for the service's volumes."""
        mapping = {}
        for v in self.services[name].get("volumes") or []:
            if isinstance(v, str):
                parts = v.split(":")
                source, target = parts[0], parts[1]
                kind = "bind" if source.startswith("/") or source.startswith(".") else "volume"
            else:
                source, target, kind = v.get("source"), v["target"], v.get("type", "volume")
            if kind == "bind":
                mapping[target] = source
                continue
            if source:  # named: shared by every service that mounts it
                host = os.path.join(self.work_dir, "volumes", source)
            else:  # anonymous: the service's own
                host = os.path.join(self.work_dir, "volumes", "anon", name, target.strip("/"))
            os.makedirs(host, exist_ok=True)
            mapping[target] = host
        return mapping

    def translate(self, name, text):
        """One command argument or environment value, as run locally."""
        own = lambda m: self.addr(name, m.group(1))
        text = re.sub(r"\b0\.0\.0\.0:(\d+)\b", own, text)
        services = "|".join(re.escape(s) for s in sorted(self.services, key=len, reverse=True))
        text = re.sub(r"(?<![\w.-])(" + services + r"):(\d+)\b",
                      lambda m: self.addr(m.group(1), m.group(2)), text)
        for target, host in sorted(self.volume_map(name).items(), key=lambda kv: -len(kv[0])):
            text = re.sub(r"(?<![\w/])" + re.escape(target) + r"(?=/|$|\b)", host, text)
        return text

    def command(self, name):
        svc = self.services[name]
        cmd = svc.get("command")
        if isinstance(cmd, str):
            cmd = cmd.split()
        entry = svc.get("entrypoint")
        if entry:
            cmd = (entry if isinstance(entry, list) else entry.split()) + (cmd or [])
        if not cmd:
            raise RuntimeError(f"{name} has no command")
        return list(cmd)

    def program(self, name):
        """The basename of the service's program; None when the file gives
        no command (the image's default)."""
        svc = self.services[name]
        if not svc.get("command") and not svc.get("entrypoint"):
            return None
        return os.path.basename(self.command(name)[0])

    def kv_services(self, program=None):
        """Services running kv-central or kv-edge (or only `program`)."""
        wanted = (program,) if program else KV_PROGRAMS
        return sorted(n for n in self.services if self.program(n) in wanted)

    def local_argv(self, name):
        cmd = self.command(name)
        program = os.path.basename(cmd[0])
        if program not in self.programs:
            raise RuntimeError(f"{name}: no local binary for program {program!r}")
        argv = [self.programs[program]] + [self.translate(name, a) for a in cmd[1:]]
        return program, argv

    def tls_ca(self, name):
        """The local path of the CA file the service's --tls_ca flag names
        (what its clients verify it with), or None without TLS."""
        for arg in self.local_argv(name)[1]:
            if arg.startswith("--tls_ca="):
                return arg.split("=", 1)[1]
        return None

    def kvctl_target(self, name, container_port):
        """kvctl's flags to reach the service's port: --addr, and --tls_ca
        when the service runs TLS."""
        ca = self.tls_ca(name)
        return ["--addr", self.addr(name, container_port)] + (["--tls_ca", ca] if ca else [])

    def local_env(self, name):
        env = dict(os.environ)
        exposed = {str(p) for p in self.services[name].get("expose") or []}
        for k, v in (self.services[name].get("environment") or {}).items():
            v = "" if v is None else str(v)
            env[k] = str(self.port(name, v)) if v in exposed else self.translate(name, v)
        return env

    def one_shot(self, name):
        """Whether a dependent waits for the service to exit 0."""
        return any((deps.get(name) or {}).get("condition") == "service_completed_successfully"
                   for deps in (svc.get("depends_on") or {} for svc in self.services.values())
                   if isinstance(deps, dict))

    def with_dependencies(self, names):
        """`names` and everything they depend on, transitively."""
        wanted, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name not in wanted:
                wanted.add(name)
                todo.extend(self.services[name].get("depends_on") or {})
        return wanted

    # -- processes --------------------------------------------------------

    def start(self, name, replace=None, timeout=30.0):
        """Starts the service; `replace` maps an argument's prefix (e.g.
        "--config.file=") to the argument run instead (the test's own
        config); a prefix the command lacks is an error."""
        program, argv = self.local_argv(name)
        for prefix, new in (replace or {}).items():
            hits = [i for i, a in enumerate(argv) if a.startswith(prefix)]
            if not hits:
                raise RuntimeError(f"{name}: the command has no argument {prefix}...")
            for i in hits:
                argv[i] = new
        ready = os.path.join(self.work_dir, f"{name}.ready")
        if program in KV_PROGRAMS:
            argv.append(f"--ready_file={ready}")
        if os.path.exists(ready):
            os.remove(ready)
        node = Node(name, argv, self.local_env(name), os.path.join(self.work_dir, f"{name}.log"),
                    ready)
        with open(node.log_path, "ab") as log:
            log.write(("== " + " ".join(argv) + "\n").encode())
            log.flush()
            node.proc = subprocess.Popen(argv, env=node.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        if self.one_shot(name):
            try:
                rc = node.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()
                raise RuntimeError(f"{name} did not finish within {timeout}s:\n{node.log_tail()}")
            if rc != 0:
                raise RuntimeError(f"{name} exited {rc}:\n{node.log_tail()}")
            return node
        self.nodes[name] = node
        if program in KV_PROGRAMS:
            self.wait_ready(node, timeout)
        return node

    def wait_ready(self, node, timeout):
        deadline = time.monotonic() + timeout
        while not os.path.exists(node.ready_path):
            if node.proc.poll() is not None:
                raise RuntimeError(f"{node.name} exited {node.proc.returncode} before it was ready:\n"
                                   f"{node.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} not ready within {timeout}s:\n{node.log_tail()}")
            time.sleep(0.02)
        with open(node.ready_path) as f:
            node.ready = dict(l.strip().split("=", 1) for l in f if "=" in l)

    def start_all(self, names, attempts=3, timeout=30.0):
        """Starts `names` and what they depend on, in depends_on order; on a
        failure (e.g. a port taken between allocation and bind) stops
        everything and tries again with new ports, `attempts` times in
        all."""
        wanted = self.with_dependencies(names)
        order = [n for n in topological_order(self.services) if n in wanted]
        for attempt in range(1, attempts + 1):
            try:
                for name in order:
                    self.start(name, timeout=timeout)
                return
            except RuntimeError as e:
                self.stop_all(check=False)
                if attempt == attempts:
                    raise
                print(f"compose_local: attempt {attempt} failed, new ports: {e}", flush=True)
                self.allocate_ports()

    def stop(self, name, timeout=30.0, check=True):
        """SIGTERM and wait; with `check`, fails unless the exit is clean."""
        self.stop_many([name], timeout, check)

    def stop_many(self, names, timeout=30.0, check=True):
        """SIGTERM to all of `names` at once, then waits for each."""
        nodes = [self.nodes.pop(n) for n in names if n in self.nodes]
        for node in nodes:
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        errors = []
        for node in nodes:
            try:
                rc = node.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()
                errors.append(f"{node.name} did not stop within {timeout}s of SIGTERM")
                continue
            if rc != 0:
                errors.append(f"{node.name} exited {rc} on SIGTERM:\n{node.log_tail()}")
        if check and errors:
            raise RuntimeError("\n".join(errors))

    def stop_all(self, check=True):
        """Stops dependents before what they depend on (docker-compose
        down's order), each layer at once."""
        errors = []
        while self.nodes:
            running = set(self.nodes)
            needed = {d for n in running for d in (self.services[n].get("depends_on") or {})}
            layer = [n for n in running if n not in needed] or list(running)
            try:
                self.stop_many(layer, check=check)
            except RuntimeError as e:
                errors.append(str(e))
        if errors:
            raise RuntimeError("\n".join(errors))
