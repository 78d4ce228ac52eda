"""wsgi_sio against python-socketio, side by side: ``python bench/run.py`` (or ``make bench``).

For every scenario, a fresh server process of each (python-socketio, then wsgi_sio) is started
on 127.0.0.1 with the same handlers (``bench/apps/``), driven by the same Node load generator
(``bench/loadgen/loadgen.mjs``, a separate process speaking raw Engine.IO / Socket.IO frames),
then stopped. One markdown table comes out; the raw results go to ``bench/results/latest.json``.

    python bench/run.py [--quick] [--only echo,ack,...] [--json PATH]

Every run is bounded: fixed warm-up and measuring windows, a fixed number of clients, and a
hard timeout on every process. This is a benchmark, not a test: nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOADGEN = BENCH / "loadgen"
RESULTS = BENCH / "results"
LOGS = RESULTS / "logs"

# name: (title, loadgen options full, loadgen options quick, better)
# better: "higher" (ratio = wsgi_sio / python-socketio) or "lower" (ratio = python-socketio / wsgi_sio),
# so a ratio above 1 always means wsgi_sio is better.
SCENARIOS: dict[str, tuple[str, dict, dict, str]] = {
    "echo": ("echo, 50 websocket clients, 1 in flight each (round trips/s)",
             {"clients": 50, "warmup": 2, "duration": 8}, {"clients": 50, "warmup": 0.5, "duration": 1.5}, "higher"),
    "ack": ("echo with acks, 50 websocket clients (round trips/s)",
            {"clients": 50, "warmup": 2, "duration": 8}, {"clients": 50, "warmup": 0.5, "duration": 1.5}, "higher"),
    "broadcast": ("broadcast to 1,000 clients, back to back (deliveries/s)",
                  {"clients": 1000, "warmup": 2, "duration": 8}, {"clients": 200, "warmup": 0.5, "duration": 1.5},
                  "higher"),
    "latency": ("broadcast to 1,000 clients at 20/s: p99 delivery latency (ms)",
                {"clients": 1000, "warmup": 2, "duration": 10, "rate": 20},
                {"clients": 200, "warmup": 0.5, "duration": 2, "rate": 20}, "lower"),
    "memory": ("5,000 idle websocket connections: server RSS per connection (KB)",
               {"clients": 5000, "warmup": 2}, {"clients": 1000, "warmup": 1}, "lower"),
    "polling": ("long-polling echo, 50 clients (round trips/s)",
                {"clients": 50, "warmup": 2, "duration": 8}, {"clients": 50, "warmup": 0.5, "duration": 1.5}, "higher"),
    "connects": ("connects/s (handshake + namespace connect + close, 50 concurrent)",
                 {"clients": 50, "warmup": 2, "duration": 8}, {"clients": 50, "warmup": 0.5, "duration": 1.5},
                 "higher"),
}

SERVERS = {
    "python-socketio": [sys.executable, str(BENCH / "apps" / "pysio_app.py"), "--port", "0"],
    "wsgi_sio": [sys.executable, "-m", "wsgi_sio", "bench.apps.wsgi_sio_app:application",
                 "--bind", "127.0.0.1:0", "--log-level", "warning"],
    # the reference implementation, to calibrate the generator (not part of the ratio)
    "node socket.io": ["node", str(LOADGEN / "node_server.mjs"), "--port", "0"],
}
READY = re.compile(rb"serving on http://127\.0\.0\.1:(\d+)/")

GENERATOR_SATURATED = 0.8  # of one core: above it the generator, not the server, may be the limit
MACHINE_BUSY = 0.25  # cores used by other processes during the window: the numbers are disturbed


def ensure_npm() -> None:
    marker = LOADGEN / "node_modules" / ".installed"
    if marker.exists() and marker.stat().st_mtime >= (LOADGEN / "package.json").stat().st_mtime:
        return
    if shutil.which("npm") is None:
        sys.exit("bench: npm (Node.js 18+) is needed for the load generator")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=LOADGEN,
                   check=True, timeout=300)
    marker.touch()


def raise_fd_limit(needed: int) -> int:
    """Raise the soft open-files limit to the hard one; the servers and the generator inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        print(f"bench: warning: open-files limit {soft} < {needed}; raise `ulimit -Hn`", file=sys.stderr)
    return soft


class ServerProcess:
    """One server on 127.0.0.1:0, its output in a log file, stopped (or killed) at the end."""

    def __init__(self, name: str, scenario: str) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{scenario}-{name}.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(SERVERS[name], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.port = self._wait_ready(timeout=30)

    def _wait_ready(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = READY.search(self.log_path.read_bytes())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def run_one(scenario: str, server: str, options: dict) -> dict:
    srv = ServerProcess(server, scenario)
    budget = 60 + options.get("warmup", 2) + options.get("duration", 0) * 2
    cmd = ["node", str(LOADGEN / "loadgen.mjs"), "--scenario", scenario, "--port", str(srv.port),
           "--pid", str(srv.proc.pid), "--clk-tck", str(os.sysconf("SC_CLK_TCK")),
           "--deadline", str(budget)]
    for key, value in options.items():
        cmd += [f"--{key}", str(value)]
    try:
        out = subprocess.run(cmd, cwd=LOADGEN, capture_output=True, text=True, timeout=budget + 10)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {"error": f"no result; stderr: {out.stderr[-2000:]}"}
    except subprocess.TimeoutExpired:
        result = {"error": f"load generator timed out after {budget + 10}s"}
    finally:
        srv.stop()
    result["server_exit"] = srv.proc.returncode
    return result


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if "ms" in unit or "KB" in unit:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def cell(r: dict) -> str:
    if "error" in r:
        return "error"
    text = fmt(r.get("value"), r.get("unit", ""))
    if r.get("unit") == "round trips/s" and r.get("latency", {}).get("p50_ms") is not None:
        text += f" (p50 {r['latency']['p50_ms']:.1f} ms)"
    flags = []
    if r.get("generator_cpu", 0) > GENERATOR_SATURATED:
        flags.append(f"⚠ generator {r['generator_cpu']:.0%} CPU")
    if r.get("other_cpu", 0) > MACHINE_BUSY and r.get("unit") != "KB/connection":  # RSS does not care
        flags.append(f"⚠ machine busy ({r['other_cpu']:.2f} cores used by others)")
    if r.get("errors"):
        flags.append(f"⚠ {len(r['errors'])} errors")
    if r.get("missing_deliveries"):
        flags.append(f"⚠ {r['missing_deliveries']} deliveries missing")
    return text + (" " + "; ".join(flags) if flags else "")


def ratio(a: dict, b: dict, better: str) -> str:
    va, vb = a.get("value"), b.get("value")
    if "error" in a or "error" in b or not va or not vb:
        return "n/a"
    r = vb / va if better == "higher" else va / vb
    return f"{r:.2f}x" + (" (lower is better: python-socketio / wsgi_sio)" if better == "lower" else "")


def table(results: dict) -> str:
    rows = ["| scenario | python-socketio | wsgi_sio | ratio (>1: wsgi_sio better) | Node socket.io (reference) |",
            "|---|---|---|---|---|"]
    for name, per_server in results.items():
        title, _, _, better = SCENARIOS[name]
        a, b = per_server.get("python-socketio", {}), per_server.get("wsgi_sio", {})
        node = per_server.get("node socket.io")
        rows.append(f"| {title} | {cell(a)} | {cell(b)} | {ratio(a, b, better)} | "
                    f"{cell(node) if node else 'not run'} |")
    rows += ["", "| scenario | server | server CPU | generator CPU | other CPU |", "|---|---|---|---|---|"]
    for name, per_server in results.items():
        for server, r in per_server.items():
            if "error" in r:
                rows.append(f"| {name} | {server} | error: {r['error'].splitlines()[0][:120]} | | |")
                continue
            rows.append(f"| {name} | {server} | {r.get('server_cpu', 0):.0%} | {r.get('generator_cpu', 0):.0%} "
                        f"| {r.get('other_cpu', 0):.2f} cores |")
    return "\n".join(rows)


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    ws_version = json.loads((LOADGEN / "node_modules" / "ws" / "package.json").read_text())["version"]
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "wsgi_sio"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "cpu_model": model, "platform": platform.platform(),
        "python": platform.python_version(), "gevent": version("gevent"),
        "gevent-websocket": version("gevent-websocket"), "python-socketio": version("python-socketio"),
        "python-engineio": version("python-engineio"), "node": node, "ws": ws_version,
        "wsgi_sio_commit": commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~30 s): fewer clients, short windows")
    parser.add_argument("--only", default="", help=f"comma-separated scenarios: {','.join(SCENARIOS)}")
    parser.add_argument("--json", default=str(RESULTS / "latest.json"), help="where to write the raw results")
    parser.add_argument("--no-node", action="store_true", help="skip the Node socket.io reference column")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")

    ensure_npm()
    raise_fd_limit(max(SCENARIOS["memory"][1]["clients"] * 2 + 500, 1024))
    info = machine()
    if tuple(int(x) for x in re.findall(r"\d+", info["python-socketio"])[:2]) < (5, 18):
        print("bench: warning: python-socketio < 5.18; `pip install -U python-socketio` for the latest",
              file=sys.stderr)
    print(f"bench: {info['cpus']} cores, Python {info['python']}, gevent {info['gevent']}, "
          f"python-socketio {info['python-socketio']}, Node {info['node']}, wsgi_sio {info['wsgi_sio_commit']}",
          file=sys.stderr)
    results: dict[str, dict] = {}
    started = time.monotonic()
    for name in only:
        options = SCENARIOS[name][2 if args.quick else 1]
        results[name] = {}
        for server in SERVERS:
            if server == "node socket.io" and args.no_node:
                continue
            print(f"bench: {name} on {server} ...", file=sys.stderr, flush=True)
            results[name][server] = r = run_one(name, server, options)
            print(f"bench:   {cell(r)}", file=sys.stderr, flush=True)
    out = table(results)
    print(out)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": info, "quick": args.quick, "seconds": round(time.monotonic() - started, 1),
                                "results": results, "table": out}, indent=2) + "\n")
    print(f"\nbench: raw results in {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=sys.stderr)


if __name__ == "__main__":
    main()
