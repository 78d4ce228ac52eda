// Load generator for bench/run.py: one scenario against one server, then one JSON line on stdout.
//
// It speaks raw Engine.IO v4 / Socket.IO v5 frames, no socket.io-client, so that its own cost per
// message stays small: WebSocket through `ws` (no compression, no UTF-8 validation), long-polling
// through a minimal HTTP/1.1 keep-alive client on `net` sockets (Node's http module costs about
// twice as much CPU per request). It measures its own CPU (process.cpuUsage) and the server's
// (/proc/<pid>/stat) over the measured window, so the report can say who was the bottleneck.
//
//   node loadgen.mjs --scenario echo --port 8000 --pid 1234 [--clients 50] [--warmup 2]
//                    [--duration 8] [--clk-tck 100] [--deadline 60] [--pids 1234,1235,...]
//                    [--follow-url http://127.0.0.1:8001] [--fresh-connections]
//
// --pids: the server is several processes (a pre-fork master and its workers, or a pair of
// servers); their CPU is summed in server_cpu and listed one by one in server_cpus.
// --follow-url (polling): every request after the handshake goes to this base URL instead.
// --fresh-connections (polling): a new TCP connection, with `Connection: close`, per request.
//
// Every scenario is bounded: a warm-up and a measured window of fixed length, a bounded number of
// clients and of messages in flight, and a hard deadline after which the process exits.

import fs from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

const HOST = "127.0.0.1";

// ---------------------------------------------------------------------------------------------
// arguments

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) {
      out[a.slice(2)] = "1"; // a flag
      continue;
    }
    out[a.slice(2)] = argv[i + 1];
    i++;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const SCENARIO = args.scenario;
const PORT = Number(args.port);
const PID = Number(args.pid);
const CLK_TCK = Number(args["clk-tck"] || 100);
const WARMUP = Number(args.warmup ?? 2) * 1000;
const DURATION = Number(args.duration ?? 8) * 1000;
const CLIENTS = args.clients !== undefined ? Number(args.clients) : undefined;
const DEADLINE = Number(args.deadline ?? 120) * 1000;
const RATE = Number(args.rate ?? 20);           // broadcasts/s in the latency scenario
const WINDOW = Number(args.window ?? 32);       // broadcasts in flight in the throughput scenario
const CONCURRENCY = Number(args.concurrency ?? 50);
// every process whose CPU counts as the server's (PID alone unless --pids says otherwise)
const PIDS = args.pids ? args.pids.split(",").map(Number) : [PID];
// polling only: where the requests after the handshake go, and whether each gets its own connection
const FOLLOW = args["follow-url"] ? new URL(args["follow-url"]) : null;
const FOLLOW_HOST = FOLLOW ? FOLLOW.hostname : HOST;
const FOLLOW_PORT = FOLLOW ? Number(FOLLOW.port) : PORT;
const FRESH = args["fresh-connections"] === "1";
let httpResponses = 0; // HTTP responses received by the polling clients (all of them, all phases)

const errors = [];
function noteError(what) {
  if (errors.length < 20) errors.push(String(what));
}

// The process never outlives its deadline, whatever the server does.
const deadlineTimer = setTimeout(() => {
  finish({ error: `deadline of ${DEADLINE / 1000}s reached in phase ${phase}` }, 2);
}, DEADLINE);
let phase = "start";

function finish(result, code = 0) {
  clearTimeout(deadlineTimer);
  const out = { scenario: SCENARIO, ...result, errors };
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
}

// ---------------------------------------------------------------------------------------------
// measuring

function readProcStat(pid) {
  // utime and stime (fields 14, 15) in clock ticks; the command name may contain spaces
  const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // seconds
}

// CPU seconds used by the whole machine (all cores), from the first line of /proc/stat.
function readMachineBusy() {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + (steal || 0)) / CLK_TCK;
}

function readRssKb(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(s);
  return m ? Number(m[1]) : NaN;
}

function readFdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

// The measured window: wall time, the generator's CPU and the server's CPU.
class Window {
  start() {
    this.t0 = performance.now();
    this.cpu0 = process.cpuUsage();
    this.srv0 = PIDS.map(readProcStat);
    this.busy0 = readMachineBusy();
    this.http0 = httpResponses;
  }
  stop() {
    this.elapsed = (performance.now() - this.t0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    this.genCpu = (cpu.user + cpu.system) / 1e6 / this.elapsed;
    this.srvCpus = PIDS.map((pid, i) => (readProcStat(pid) - this.srv0[i]) / this.elapsed);
    this.srvCpu = this.srvCpus.reduce((a, b) => a + b, 0);
    this.httpRequests = httpResponses - this.http0;
    // whatever else ran on the machine meanwhile (other people's processes, the kernel's
    // softirq work for loopback traffic is partly in here too)
    this.otherCpu = Math.max(0, (readMachineBusy() - this.busy0) / this.elapsed - this.genCpu - this.srvCpu);
  }
  report() {
    return {
      seconds: round(this.elapsed, 3),
      generator_cpu: round(this.genCpu, 3), // fraction of one core
      server_cpu: round(this.srvCpu, 3),
      other_cpu: round(this.otherCpu, 3),
      ...(PIDS.length > 1 ? { server_cpus: this.srvCpus.map((c) => round(c, 3)), pids: PIDS } : {}),
      ...(this.httpRequests ? { http_requests: this.httpRequests } : {}),
    };
  }
}

// Latency samples in ms, bounded in count.
class Samples {
  constructor(max = 4_000_000) {
    this.a = new Float64Array(max);
    this.n = 0;
  }
  add(v) {
    if (this.n < this.a.length) this.a[this.n++] = v;
  }
  reset() {
    this.n = 0;
  }
  summary() {
    if (this.n === 0) return { count: 0 };
    const s = this.a.slice(0, this.n).sort();
    const q = (p) => s[Math.min(this.n - 1, Math.floor(p * this.n))];
    return {
      count: this.n,
      p50_ms: round(q(0.5), 3),
      p90_ms: round(q(0.9), 3),
      p99_ms: round(q(0.99), 3),
      max_ms: round(s[this.n - 1], 3),
    };
  }
}

function round(v, d) {
  const k = 10 ** d;
  return Math.round(v * k) / k;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Socket.IO over WebSocket, raw frames

const WS_URL = `ws://${HOST}:${PORT}/socket.io/?EIO=4&transport=websocket`;

class WsClient {
  // Resolves `ready` once the namespace `/` is joined (`40{"sid":..}` received).
  constructor() {
    this.onRaw = null; // (Buffer) -> true when it consumed the message: a fast path, no decoding
    this.onEvent = null; // (text) for `42...` packets
    this.onAck = null; // (text) for `43...` packets
    this.closed = false;
    this.ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    const ws = new WebSocket(WS_URL, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 20_000,
    });
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      if (this.onRaw !== null && this.onRaw(data)) return;
      const text = data.toString();
      const c0 = text.charCodeAt(0);
      if (c0 === 0x34 /* 4: message */) {
        const c1 = text.charCodeAt(1);
        if (c1 === 0x32 /* 2: EVENT */) {
          if (this.onEvent) this.onEvent(text);
        } else if (c1 === 0x33 /* 3: ACK */) {
          if (this.onAck) this.onAck(text);
        } else if (c1 === 0x30 /* 0: CONNECT */) {
          this._resolve(this);
        } else if (c1 === 0x34 /* 4: CONNECT_ERROR */) {
          this._reject(new Error(`connect_error ${text}`));
        }
      } else if (c0 === 0x32 /* 2: ping */) {
        ws.send("3");
      } else if (c0 === 0x30 /* 0: open */) {
        ws.send("40");
      }
    });
    ws.on("error", (err) => {
      if (!this.closed) noteError(`ws: ${err.message}`);
      this._reject(err);
    });
    ws.on("close", () => {
      this.closed = true;
      this._reject(new Error("closed before connect"));
      if (this.onClose) this.onClose();
    });
  }
  send(text) {
    this.ws.send(text);
  }
  close() {
    this.closed = true;
    try {
      this.ws.terminate();
    } catch {}
  }
  // A clean close (close frame both ways), or a TCP close after `ms`.
  closeGracefully(ms = 2000) {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      const t = setTimeout(() => {
        this.close();
        resolve();
      }, ms);
      this.onClose = () => {
        clearTimeout(t);
        resolve();
      };
      this.closed = true;
      this.ws.close();
    });
  }
}

// Connect `n` clients, at most `concurrency` handshakes at a time.
async function connectMany(n, concurrency = 100) {
  const clients = new Array(n);
  let next = 0;
  let failed = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const c = new WsClient();
      try {
        await c.ready;
        clients[i] = c;
      } catch (e) {
        failed++;
        noteError(`connect ${i}: ${e.message}`);
        c.close();
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  if (failed) throw new Error(`${failed} of ${n} clients failed to connect`);
  return clients;
}

function closeAll(clients) {
  for (const c of clients) if (c) c.close();
}

// ---------------------------------------------------------------------------------------------
// scenarios

// (a) / (b): N clients, one message in flight each, as fast as the server answers.
async function echo({ ack }) {
  const n = CLIENTS ?? 50;
  phase = "connect";
  const clients = await connectMany(n);
  const lat = new Samples();
  let count = 0;
  let running = true;
  let inFlight = 0;
  for (const [i, c] of clients.entries()) {
    let k = 0;
    let t0 = 0;
    const sendNext = () => {
      if (!running) return;
      k++;
      t0 = performance.now();
      inFlight++;
      if (ack) c.send(`42${k}["echo_ack",{"c":${i},"k":${k},"msg":"hello"}]`);
      else c.send(`42["echo",{"c":${i},"k":${k},"msg":"hello"}]`);
    };
    const got = () => {
      inFlight--;
      count++;
      lat.add(performance.now() - t0);
      sendNext();
    };
    if (ack) c.onAck = got;
    else c.onEvent = (text) => {
      if (text.startsWith('42["echo"')) got();
    };
    sendNext();
  }
  phase = "warmup";
  await sleep(WARMUP);
  const w = new Window();
  count = 0;
  lat.reset();
  w.start();
  phase = "measure";
  await sleep(DURATION);
  const measured = count;
  w.stop();
  running = false;
  const latency = lat.summary();
  // let the last messages come back (bounded), so nothing is cut mid-write on the server
  for (let i = 0; i < 50 && inFlight > 0; i++) await sleep(10);
  closeAll(clients);
  return {
    clients: n,
    value: measured / w.elapsed,
    unit: "round trips/s",
    latency,
    ...w.report(),
  };
}

// (c) broadcast to N clients back to back: one sender keeps WINDOW broadcasts in flight, sending
// the next when its own copy of an earlier one arrives; and never more than 4 * WINDOW broadcasts
// that have not yet reached every client, so the slowest client bounds the rate too.
async function broadcastThroughput() {
  const n = CLIENTS ?? 1000;
  phase = "connect";
  const clients = await connectMany(n);
  const RING = 4096;
  const perSeq = new Int32Array(RING);
  let seq = 0; // broadcasts sent
  let complete = 0; // broadcasts delivered to all n clients
  let deliveries = 0;
  let running = true;
  let ownInFlight = 0;
  let stalls = 0;
  const sender = clients[0];
  const maxIncomplete = 4 * WINDOW;
  const pump = () => {
    while (running && ownInFlight < WINDOW && seq - complete < maxIncomplete) {
      seq++;
      ownInFlight++;
      sender.send(`42["bcast",${seq},"broadcast payload"]`);
    }
  };
  for (const c of clients) {
    const isSender = c === sender;
    // 42["b",SEQ,...] read from the bytes: at a million deliveries/s decoding them would cost
    // the generator more than the server's work
    c.onRaw = (buf) => {
      if (buf[0] !== 0x34 || buf[1] !== 0x32 || buf[4] !== 0x62 || buf[5] !== 0x22) return false;
      deliveries++;
      let s = 0;
      for (let i = 7; i < buf.length; i++) {
        const d = buf[i] - 0x30;
        if (d < 0 || d > 9) break;
        s = s * 10 + d;
      }
      const slot = s % RING;
      if (++perSeq[slot] === n) {
        perSeq[slot] = 0;
        complete++;
      }
      if (isSender) ownInFlight--;
      pump();
      return true;
    };
  }
  pump();
  phase = "warmup";
  await sleep(WARMUP);
  const w = new Window();
  deliveries = 0;
  const seq0 = seq;
  w.start();
  phase = "measure";
  await sleep(DURATION);
  const measured = deliveries;
  const sent = seq - seq0;
  w.stop();
  running = false;
  for (let i = 0; i < 200 && complete < seq; i++) await sleep(10);
  if (complete < seq) stalls = seq - complete;
  closeAll(clients);
  return {
    clients: n,
    value: measured / w.elapsed,
    unit: "deliveries/s",
    broadcasts_per_s: round(sent / w.elapsed, 1),
    window: WINDOW,
    undelivered_at_end: stalls,
    ...w.report(),
  };
}

// (d) broadcast to N clients at RATE/s: delivery latency from the sender's timestamp (the sender
// and the receivers live in this one process, so they share a clock).
async function broadcastLatency() {
  const n = CLIENTS ?? 1000;
  phase = "connect";
  const clients = await connectMany(n);
  const lat = new Samples();
  let deliveries = 0;
  let recording = false;
  for (const c of clients) {
    c.onEvent = (text) => {
      if (!text.startsWith('42["b",')) return;
      const now = performance.now();
      const payload = JSON.parse(text.slice(2));
      // ["b", seq, sender timestamp, tag]
      if (recording && payload[3] === "rec") {
        lat.add(now - payload[2]);
        deliveries++;
      }
    };
  }
  const sender = clients[0];
  let seq = 0;
  let sentRecorded = 0;
  const interval = 1000 / RATE;
  async function sendFor(ms, tag) {
    const t0 = performance.now();
    let i = 0;
    while (performance.now() - t0 < ms) {
      seq++;
      if (tag === "rec") sentRecorded++;
      sender.send(`42["bcast",${seq},${performance.now()},"${tag}"]`);
      i++;
      // schedule on the start time, not on the previous send, so the rate does not drift
      const wait = t0 + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  phase = "warmup";
  await sendFor(WARMUP, "warm");
  const w = new Window();
  recording = true;
  w.start();
  phase = "measure";
  await sendFor(DURATION, "rec");
  w.stop();
  // the last broadcasts still count: wait (bounded) for them to arrive
  for (let i = 0; i < 200 && deliveries < sentRecorded * n; i++) await sleep(10);
  recording = false;
  closeAll(clients);
  const summary = lat.summary();
  return {
    clients: n,
    value: summary.p99_ms,
    unit: "ms p99",
    latency: summary,
    broadcasts: sentRecorded,
    rate: RATE,
    missing_deliveries: sentRecorded * n - deliveries,
    ...w.report(),
  };
}

// (e) N idle connections joined to `/`: server RSS growth per connection.
async function idleMemory() {
  const n = CLIENTS ?? 5000;
  phase = "warmup";
  // a few connections first, so one-time costs (lazy imports, first allocations) are not
  // counted per connection
  const warm = await connectMany(20);
  for (const c of warm) await c.closeGracefully();
  await sleep(500);
  const rss0 = readRssKb(PID);
  const fd0 = readFdCount(PID);
  const w = new Window();
  w.start();
  phase = "connect";
  const t0 = performance.now();
  const clients = await connectMany(n, 100);
  const connectSeconds = (performance.now() - t0) / 1000;
  phase = "settle";
  await sleep(Math.min(2000, WARMUP));
  const rss1 = readRssKb(PID);
  const fd1 = readFdCount(PID);
  w.stop();
  closeAll(clients);
  return {
    clients: n,
    value: (rss1 - rss0) / n,
    unit: "KB/connection",
    rss_before_kb: rss0,
    rss_after_kb: rss1,
    server_fds_before: fd0,
    server_fds_after: fd1,
    connect_seconds: round(connectSeconds, 3),
    ...w.report(),
  };
}

// (g) connects/s: CONCURRENCY workers, each in a loop: WebSocket handshake, Engine.IO open,
// namespace connect, then a clean close (close frames both ways) before its next connect.
async function connects() {
  const conc = CLIENTS ?? CONCURRENCY;
  const MAX = 200_000;
  let count = 0;
  let total = 0;
  let running = true;
  const lat = new Samples();
  async function worker() {
    while (running && total < MAX) {
      total++;
      const t0 = performance.now();
      const c = new WsClient();
      try {
        await c.ready;
        count++;
        lat.add(performance.now() - t0);
      } catch (e) {
        noteError(`connect: ${e.message}`);
        c.close();
        await sleep(10);
        continue;
      }
      await c.closeGracefully();
    }
  }
  phase = "warmup";
  const workers = Array.from({ length: conc }, worker);
  await sleep(WARMUP);
  const w = new Window();
  count = 0;
  lat.reset();
  w.start();
  phase = "measure";
  await sleep(DURATION);
  const measured = count;
  w.stop();
  running = false;
  await Promise.race([Promise.all(workers), sleep(5000)]);
  return {
    clients: conc,
    value: measured / w.elapsed,
    unit: "connects/s",
    latency: lat.summary(),
    ...w.report(),
  };
}

// ---------------------------------------------------------------------------------------------
// Engine.IO long-polling over a minimal HTTP/1.1 keep-alive client

// One persistent connection, one request at a time (no pipelining); reconnects when the server
// closes it. Parses Content-Length and chunked bodies. With `fresh`, every request gets a new
// connection and says `Connection: close`.
class HttpConn {
  constructor(host = HOST, port = PORT, fresh = false) {
    this.host = host;
    this.port = port;
    this.fresh = fresh;
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.pending = null; // {resolve, reject}
    this.dead = false;
  }
  _open() {
    const sock = net.connect({ host: this.host, port: this.port });
    sock.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    // a connection we have moved on from (answered, closed by us) no longer speaks for this one
    sock.on("data", (chunk) => {
      if (this.sock !== sock) return;
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this._parse();
    });
    sock.on("error", (err) => {
      if (!this.dead && this.sock === sock) noteError(`http: ${err.message}`);
    });
    sock.on("close", () => {
      if (this.sock !== sock) return;
      this.sock = null;
      this.buf = Buffer.alloc(0);
      if (this.pending) {
        const p = this.pending;
        this.pending = null;
        p.reject(new Error("connection closed"));
      }
    });
    this.sock = sock;
  }
  request(method, path, body) {
    if (this.pending) throw new Error("one request at a time");
    if (!this.sock) this._open();
    const connection = this.fresh ? "close" : "keep-alive";
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nConnection: ${connection}\r\n`;
    if (body !== undefined) {
      head += `Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    } else {
      head += "\r\n";
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.sock.write(head);
    });
  }
  _parse() {
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buf.toString("latin1", 0, end);
    const lines = head.split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    let length = -1;
    let chunked = false;
    let close = false;
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim().toLowerCase();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding" && value.includes("chunked")) chunked = true;
      else if (name === "connection" && value === "close") close = true;
    }
    let body;
    let consumed;
    if (chunked) {
      const parts = [];
      let pos = end + 4;
      for (;;) {
        const lineEnd = this.buf.indexOf("\r\n", pos);
        if (lineEnd < 0) return;
        const size = parseInt(this.buf.toString("latin1", pos, lineEnd), 16);
        if (this.buf.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          consumed = lineEnd + 4;
          break;
        }
        parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString();
    } else if (length >= 0) {
      if (this.buf.length < end + 4 + length) return;
      body = this.buf.toString("utf8", end + 4, end + 4 + length);
      consumed = end + 4 + length;
    } else {
      return; // a body up to the close: not used by either server
    }
    this.buf = this.buf.subarray(consumed);
    const p = this.pending;
    this.pending = null;
    httpResponses++;
    if ((close || this.fresh) && this.sock) {
      const s = this.sock;
      this.sock = null;
      s.end();
    }
    if (p) p.resolve({ status, body });
  }
  destroy() {
    this.dead = true;
    if (this.sock) this.sock.destroy();
  }
}

// A Socket.IO client over long-polling: one connection keeps a GET pending, the other POSTs.
// The handshake goes to --port; the requests after it to --follow-url (the same when not given),
// each on a fresh connection with --fresh-connections.
class PollClient {
  constructor() {
    this.get = new HttpConn(FOLLOW_HOST, FOLLOW_PORT, FRESH);
    this.post = new HttpConn(FOLLOW_HOST, FOLLOW_PORT, FRESH);
    this.handshake = FOLLOW ? new HttpConn(HOST, PORT, FRESH) : this.get;
    this.sid = null;
    this.onEvent = null;
    this.running = true;
    this.postQueue = [];
    this.posting = false;
  }
  _path() {
    return `/socket.io/?EIO=4&transport=polling&sid=${this.sid}`;
  }
  async connect() {
    const open = await this.handshake.request("GET", "/socket.io/?EIO=4&transport=polling");
    if (open.status !== 200 || open.body[0] !== "0") throw new Error(`handshake: ${open.status} ${open.body}`);
    this.sid = JSON.parse(open.body.slice(1)).sid;
    this.connected = new Promise((resolve) => (this._connected = resolve));
    this.pollLoop();
    await this.send("40");
    await this.connected;
  }
  async pollLoop() {
    while (this.running) {
      let res;
      try {
        res = await this.get.request("GET", this._path());
      } catch (e) {
        if (this.running) noteError(`poll: ${e.message}`);
        return;
      }
      if (res.status !== 200) {
        noteError(`poll: ${res.status} ${res.body}`);
        return;
      }
      for (const pkt of res.body.split("\x1e")) {
        if (pkt.startsWith("42")) {
          if (this.onEvent) this.onEvent(pkt);
        } else if (pkt === "2") {
          this.send("3");
        } else if (pkt.startsWith("40")) {
          this._connected();
        } else if (pkt === "1") {
          return;
        }
      }
    }
  }
  // POSTs go out one at a time on their own connection; packets queued meanwhile share a body.
  send(packet) {
    return new Promise((resolve, reject) => {
      this.postQueue.push({ packet, resolve, reject });
      if (!this.posting) this._flush();
    });
  }
  async _flush() {
    this.posting = true;
    while (this.postQueue.length && this.running) {
      const batch = this.postQueue.splice(0);
      try {
        const res = await this.post.request("POST", this._path(), batch.map((b) => b.packet).join("\x1e"));
        if (res.status !== 200) throw new Error(`POST ${res.status} ${res.body}`);
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.posting = false;
  }
  close() {
    this.running = false;
    this.get.destroy();
    this.post.destroy();
    if (this.handshake !== this.get) this.handshake.destroy();
  }
}

// (f) long-polling echo: N clients, one echo in flight each; the next is sent when the echo has
// come back in a GET and the previous POST has been answered.
async function pollingEcho() {
  const n = CLIENTS ?? 50;
  phase = "connect";
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(new PollClient());
  await Promise.all(clients.map((c) => c.connect()));
  const lat = new Samples();
  let count = 0;
  let running = true;
  for (const [i, c] of clients.entries()) {
    let k = 0;
    let t0 = 0;
    let posted = Promise.resolve();
    const sendNext = async () => {
      await posted; // never two POSTs of ours queued
      if (!running) return;
      k++;
      t0 = performance.now();
      posted = c.send(`42["echo",{"c":${i},"k":${k},"msg":"hello"}]`).catch((e) => {
        if (running) noteError(`post: ${e.message}`);
      });
    };
    c.onEvent = (text) => {
      if (!text.startsWith('42["echo"')) return;
      count++;
      lat.add(performance.now() - t0);
      sendNext();
    };
    sendNext();
  }
  phase = "warmup";
  await sleep(WARMUP);
  const w = new Window();
  count = 0;
  lat.reset();
  w.start();
  phase = "measure";
  await sleep(DURATION);
  const measured = count;
  w.stop();
  running = false;
  const latency = lat.summary();
  await sleep(50);
  for (const c of clients) c.close();
  return {
    clients: n,
    value: measured / w.elapsed,
    unit: "round trips/s",
    latency,
    ...(FOLLOW ? { follow_url: FOLLOW.href } : {}),
    ...(FRESH ? { fresh_connections: true } : {}),
    ...w.report(),
  };
}

// ---------------------------------------------------------------------------------------------

const SCENARIOS = {
  echo: () => echo({ ack: false }),
  ack: () => echo({ ack: true }),
  broadcast: broadcastThroughput,
  latency: broadcastLatency,
  memory: idleMemory,
  polling: pollingEcho,
  connects,
};

if (!SCENARIOS[SCENARIO]) {
  finish({ error: `unknown scenario ${SCENARIO}; one of ${Object.keys(SCENARIOS).join(", ")}` }, 2);
} else {
  SCENARIOS[SCENARIO]()
    .then((r) => finish(r))
    .catch((e) => finish({ error: e.stack || String(e) }, 1));
}
