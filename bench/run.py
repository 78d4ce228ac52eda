"""wsgi_sio against python-socketio, side by side: ``python bench/run.py`` (or ``make bench``).

For every scenario, a fresh server process of each (python-socketio, then wsgi_sio) is started
on 127.0.0.1 with the same handlers (``bench/apps/``), driven by the same Node load generator
(``bench/loadgen/loadgen.mjs``, a separate process speaking raw Engine.IO / Socket.IO frames),
then stopped. One markdown table comes out; the raw results go to ``bench/results/latest.json``.

    python bench/run.py [--quick] [--only echo,ack,...,workers,handoff] [--repeat N] [--json PATH]

Two more scenarios are about wsgi_sio alone, each in a table of its own: ``workers`` (echo and
polling at ``python -m wsgi_sio --workers 1,2,4``, as ratios to one worker) and ``handoff`` (a
polling request handed to the session's owner in a ``WSGI_SIO_GROUP`` pair, against the same
request served directly). Their arms are interleaved and repeated (``--repeat``); medians are shown.

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

# wsgi_sio alone (no python-socketio column): name -> (title, options full, options quick)
WORKER_COUNTS = (1, 2, 4)
WORKER_RUNS: dict[str, tuple[str, dict, dict]] = {
    "echo": ("echo, 50 websocket clients, 1 in flight each (round trips/s)",
             {"clients": 50, "warmup": 1.5, "duration": 5}, {"clients": 50, "warmup": 0.5, "duration": 1.5}),
    "polling": ("long-polling echo, 50 clients, keep-alive (round trips/s)",
                {"clients": 50, "warmup": 1.5, "duration": 5}, {"clients": 50, "warmup": 0.5, "duration": 1.5}),
}
HANDOFF_TITLE = "long-polling echo, 50 clients, a fresh connection per request (round trips/s)"
HANDOFF_OPTIONS = ({"clients": 50, "warmup": 1.5, "duration": 5}, {"clients": 50, "warmup": 0.5, "duration": 1.5})
EXTRA_SCENARIOS = ("workers", "handoff")

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
    """One server on 127.0.0.1:0, its output in a log file, stopped (or killed) at the end.

    ``workers`` > 1: a pre-fork master, whose children are found once they are forked
    (:attr:`pids` is the master and its workers, whose CPU the generator adds up)."""

    def __init__(self, name: str, scenario: str, *, workers: int = 1, env: dict | None = None,
                 log_name: str | None = None) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{scenario}-{log_name or name}.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        cmd = SERVERS[name] + (["--workers", str(workers)] if workers > 1 else [])
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.port = self._wait_ready(timeout=30)
        self.pids = [self.proc.pid]
        if workers > 1:
            self.pids += self._wait_children(workers, timeout=30)

    def _wait_children(self, n: int, timeout: float) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = children_of(self.proc.pid)
            if len(children) >= n:
                return children
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{n} workers did not start; see {self.log_path}")

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
            self.proc.send_signal(signal.SIGTERM)  # a pre-fork master stops its workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        try:  # whatever of its session is left (workers of a killed master)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()


def children_of(pid: int) -> list[int]:
    """The live children of ``pid``, from ``/proc`` (field 4 of ``stat`` is the parent)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def generate(scenario: str, port: int, pids: list[int], options: dict, extra: list[str] = ()) -> dict:
    """Run the load generator once against a server that is up; its JSON result."""
    budget = 60 + options.get("warmup", 2) + options.get("duration", 0) * 2
    cmd = ["node", str(LOADGEN / "loadgen.mjs"), "--scenario", scenario, "--port", str(port),
           "--pid", str(pids[0]), "--clk-tck", str(os.sysconf("SC_CLK_TCK")),
           "--deadline", str(budget), *extra]
    if len(pids) > 1:
        cmd += ["--pids", ",".join(map(str, pids))]
    for key, value in options.items():
        cmd += [f"--{key}", str(value)]
    try:
        out = subprocess.run(cmd, cwd=LOADGEN, capture_output=True, text=True, timeout=budget + 10)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {"error": f"no result; stderr: {out.stderr[-2000:]}"}
    except subprocess.TimeoutExpired:
        return {"error": f"load generator timed out after {budget + 10}s"}


def run_one(scenario: str, server: str, options: dict, *, workers: int = 1, log_name: str | None = None) -> dict:
    srv = ServerProcess(server, scenario, workers=workers, log_name=log_name)
    try:
        result = generate(scenario, srv.port, srv.pids, options)
    finally:
        srv.stop()
    result["server_exit"] = srv.proc.returncode
    if workers > 1:
        result["workers"] = workers
    return result


def run_handoff_arm(arm: str, options: dict, repeat: int) -> dict:
    """One arm of ``handoff``: two wsgi_sio processes in one ``WSGI_SIO_GROUP``; the handshake
    goes to A; every later request, each on a fresh connection with ``Connection: close``, goes
    to A again (``direct``) or to B (``handed off``: B hands every one of them to A, the owner).
    Both processes run in both arms, so the arms differ only in where the follow-ups go."""
    group = {"WSGI_SIO_GROUP": f"bench-{os.getpid()}-{repeat}-{'d' if arm == 'direct' else 'h'}"}
    slug = arm.replace(" ", "-")
    a = ServerProcess("wsgi_sio", "handoff", env=group, log_name=f"{slug}-{repeat}-A")
    try:
        b = ServerProcess("wsgi_sio", "handoff", env=group, log_name=f"{slug}-{repeat}-B")
    except BaseException:
        a.stop()
        raise
    follow = a.port if arm == "direct" else b.port
    try:
        result = generate("polling", a.port, [a.proc.pid, b.proc.pid], options,
                          ["--follow-url", f"http://127.0.0.1:{follow}/", "--fresh-connections"])
    finally:
        a.stop()
        b.stop()
    result["server_exit"] = [a.proc.returncode, b.proc.returncode]
    result["logs"] = [str(a.log_path.relative_to(ROOT)), str(b.log_path.relative_to(ROOT))]
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


def median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def summarize(runs: list[dict]) -> dict:
    """Medians over repeated runs of one arm (runs with an error left out, and counted)."""
    ok = [r for r in runs if "error" not in r]
    out: dict = {"runs": len(runs), "failed": len(runs) - len(ok),
                 "errors": sum(len(r.get("errors", [])) for r in ok)}
    if not ok:
        return out
    out["value"] = median([r["value"] for r in ok])
    out["values"] = [round(r["value"], 1) for r in ok]
    out["p50_ms"] = median([r.get("latency", {}).get("p50_ms") for r in ok])
    out["server_cpu"] = median([r.get("server_cpu") for r in ok])
    out["generator_cpu"] = median([r.get("generator_cpu") for r in ok])
    out["other_cpu"] = median([r.get("other_cpu") for r in ok])
    if all("http_requests" in r for r in ok):
        out["http_per_s"] = median([r["http_requests"] / r["seconds"] for r in ok])
        n = len(ok[0].get("server_cpus", []))
        # µs of each process's CPU per HTTP request answered
        out["cpu_us_per_request"] = [median([r["server_cpus"][i] * r["seconds"] / r["http_requests"] * 1e6
                                             for r in ok]) for i in range(n)]
    return out


def flags(s: dict) -> str:
    out = []
    if (s.get("generator_cpu") or 0) > GENERATOR_SATURATED:
        out.append(f"⚠ generator {s['generator_cpu']:.0%} CPU")
    if (s.get("other_cpu") or 0) > MACHINE_BUSY:
        out.append(f"⚠ machine busy ({s['other_cpu']:.2f} cores used by others)")
    if s.get("failed"):
        out.append(f"⚠ {s['failed']} of {s['runs']} runs failed")
    if s.get("errors"):
        out.append(f"⚠ {s['errors']} errors")
    return (" " + "; ".join(out)) if out else ""


def workers_table(runs: dict, repeat: int) -> str:
    head = " | ".join(f"{n} worker{'s' if n > 1 else ''}" for n in WORKER_COUNTS)
    rows = [f"| wsgi_sio `--workers N`, median of {repeat} | {head} |", "|---" * (len(WORKER_COUNTS) + 1) + "|"]
    cpu = ["", "| scenario | workers | server CPU (all its processes) | generator CPU | other CPU |",
           "|---|---|---|---|---|"]
    for name, per_count in runs.items():
        sums = {n: summarize(per_count[str(n)]) for n in WORKER_COUNTS}
        base = sums[1].get("value")
        cells = []
        for n in WORKER_COUNTS:
            sm = sums[n]
            if sm.get("value") is None:
                cells.append("error")
                continue
            text = f"{sm['value']:,.0f} (p50 {sm['p50_ms']:.1f} ms)"
            if n > 1 and base:
                text += f" **{sm['value'] / base:.2f}x**"
            cells.append(text + flags(sm))
            cpu.append(f"| {name} | {n} | {sm['server_cpu']:.0%} | {sm['generator_cpu']:.0%} | "
                       f"{sm['other_cpu']:.2f} cores |")
        rows.append(f"| {WORKER_RUNS[name][0]} | " + " | ".join(cells) + " |")
    return "\n".join(rows + cpu)


def handoff_table(runs: dict, repeat: int) -> str:
    head = (f"| {HANDOFF_TITLE}, median of {repeat} | round trips/s | p50 | HTTP requests/s "
            "| CPU per request: A (owner) | B | A + B | generator CPU |")
    rows = [head, "|---|---|---|---|---|---|---|---|"]
    sums = {arm: summarize(r) for arm, r in runs.items()}
    for arm, sm in sums.items():
        if sm.get("value") is None:
            rows.append(f"| {arm} | error | | | | | | |")
            continue
        us = sm.get("cpu_us_per_request") or [None, None]
        total = sum(us) if None not in us else None
        rows.append(f"| {arm} | {sm['value']:,.0f}{flags(sm)} | {sm['p50_ms']:.1f} ms | {sm.get('http_per_s', 0):,.0f} "
                    f"| {us[0]:.0f} µs | {us[1]:.0f} µs | {total:.0f} µs | {sm['generator_cpu']:.0%} |")
    d, h = sums.get("direct", {}), sums.get("handed off", {})
    if d.get("value") and h.get("value"):
        rows.append(f"| handed off / direct | **{h['value'] / d['value']:.2f}x** | {h['p50_ms'] / d['p50_ms']:.2f}x "
                    f"| | | | {sum(h['cpu_us_per_request']) / sum(d['cpu_us_per_request']):.2f}x | |")
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
    parser.add_argument("--only", default="",
                        help=f"comma-separated scenarios: {','.join([*SCENARIOS, *EXTRA_SCENARIOS])}")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of each arm of workers and handoff, interleaved; medians shown "
                             "(default 3, 1 with --quick)")
    parser.add_argument("--json", default=str(RESULTS / "latest.json"), help="where to write the raw results")
    parser.add_argument("--no-node", action="store_true", help="skip the Node socket.io reference column")
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()] or [*SCENARIOS, *EXTRA_SCENARIOS]
    unknown = [s for s in only if s not in SCENARIOS and s not in EXTRA_SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {[*SCENARIOS, *EXTRA_SCENARIOS]}")
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)

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
        if name not in SCENARIOS:
            continue
        options = SCENARIOS[name][2 if args.quick else 1]
        results[name] = {}
        for server in SERVERS:
            if server == "node socket.io" and args.no_node:
                continue
            print(f"bench: {name} on {server} ...", file=sys.stderr, flush=True)
            results[name][server] = r = run_one(name, server, options)
            print(f"bench:   {cell(r)}", file=sys.stderr, flush=True)
    extra: dict[str, dict] = {}
    if "workers" in only:
        # interleaved: every worker count once per repeat, in alternating order
        runs = extra["workers"] = {name: {str(n): [] for n in WORKER_COUNTS} for name in WORKER_RUNS}
        for r in range(repeat):
            for name, (_, full, quick) in WORKER_RUNS.items():
                for n in (WORKER_COUNTS if r % 2 == 0 else WORKER_COUNTS[::-1]):
                    print(f"bench: workers: {name} on wsgi_sio --workers {n} ({r + 1}/{repeat}) ...",
                          file=sys.stderr, flush=True)
                    res = run_one(name, "wsgi_sio", quick if args.quick else full, workers=n,
                                  log_name=f"wsgi_sio-workers{n}-{r + 1}")
                    runs[name][str(n)].append(res)
                    print(f"bench:   {cell(res)}", file=sys.stderr, flush=True)
    if "handoff" in only:
        runs = extra["handoff"] = {"direct": [], "handed off": []}
        for r in range(repeat):
            for arm in (("direct", "handed off") if r % 2 == 0 else ("handed off", "direct")):
                print(f"bench: handoff: {arm} ({r + 1}/{repeat}) ...", file=sys.stderr, flush=True)
                res = run_handoff_arm(arm, HANDOFF_OPTIONS[1 if args.quick else 0], r + 1)
                runs[arm].append(res)
                print(f"bench:   {cell(res)}", file=sys.stderr, flush=True)
    parts = [table(results)] if results else []
    if "workers" in extra:
        parts.append(workers_table(extra["workers"], repeat))
    if "handoff" in extra:
        parts.append(handoff_table(extra["handoff"], repeat))
    out = "\n\n".join(parts)
    print(out)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": info, "quick": args.quick, "seconds": round(time.monotonic() - started, 1),
                                "results": results, **extra, "repeat": repeat, "table": out}, indent=2) + "\n")
    print(f"\nbench: raw results in {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=sys.stderr)


if __name__ == "__main__":
    main()
