// Many socket.io-client 4.x sessions in one Node process against a cluster of workers
// (tests/apps/cluster.py): each session makes `calls` ordered emitWithAck("echo_ack", i) calls,
// one after the other; the sessions run concurrently.
//
//   node sessions.mjs '{"url": "http://127.0.0.1:8000", "count": 100, "calls": 20,
//                       "transports": ["polling", "websocket"], "upgrade": true}'
//
// Optional: "stats": true (each session asks its owner for the engine's stats at the end),
// "ack_timeout_ms" (10000), "timeout_ms" (60000: the whole run).
//
// "pause": true holds every session after it connected (and upgraded, if it upgrades) and
// asked "whoami": once all of them are there, the driver prints one line
// {"paused": [{"index", "owner", "sid"}, ...]} (owner: the pid that answered, i.e. the
// session's owner; sid: the Engine.IO sid) and waits for a line on stdin before the acks.
// The summary line follows at the end as usual; each record also has "owner" and "sid", and
// "retries": calls made again because the server went away while they were on their way.
//
// Prints ONE JSON line: per session what it saw (connects, disconnect reasons, acks in order,
// pids that answered, the transport at the end, errors), and exits 0 when the run finished,
// 1 on the timeout guard. It asserts nothing: tests/interop/test_cluster_*.py check the values.
// Reconnection stays on (reconnectionDelay 50 ms), so a session the server lost shows up as
// a second connect rather than as a hang. There are no fixed sleeps.

import { io } from "socket.io-client";

const options = JSON.parse(process.argv[2] ?? "{}");
const {
  url, count = 1, calls = 20, transports = ["polling", "websocket"], upgrade = true,
  stats = false, ack_timeout_ms: ackTimeout = 10_000, timeout_ms: runTimeout = 60_000,
  pause = false,
} = options;
const canUpgrade = upgrade && transports[0] === "polling" && transports.includes("websocket");

// the pause point (see "pause" above): every session arrives, then stdin releases them all
let arrived = 0;
let release;
const released = new Promise((resolve) => { release = resolve; });
function arrive(seen) {
  if (seen.arrived) return;
  seen.arrived = true;
  arrived += 1;
  if (arrived < count) return;
  const paused = everything.map(({ index, owner, sid }) => ({ index, owner, sid }));
  process.stdout.write(JSON.stringify({ paused }) + "\n");
  process.stdin.once("data", () => {
    process.stdin.pause(); // lets the process end once the run is over
    release();
  });
}

const sockets = [];
const everything = []; // what each session saw so far: reported by the timeout guard too
let finished = false;

function finish(result, code) {
  if (finished) return;
  finished = true;
  process.exitCode = code;
  process.stdout.write(JSON.stringify(result) + "\n");
  // Close cleanly, so the server sees disconnects rather than ping timeouts later; the
  // unref'd timer only cuts short a client that would not let go.
  for (const socket of sockets) socket.disconnect();
  setTimeout(() => process.exit(code), 3000).unref();
}

/** A promise that rejects after `ms` with a message naming what was awaited. */
function within(promise, what, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function message(err) {
  return String(err?.message ?? err);
}

const LOST = "socket has been disconnected";

/** One echo_ack call. With "pause", a call the client sent just before it noticed that the
 * server had gone (it rejects it with LOST) is made again: the client buffers it until it has
 * reconnected. Without "pause" a disconnect is a failure, reported as such. */
async function echo(socket, i, seen) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await socket.timeout(ackTimeout).emitWithAck("echo_ack", i);
    } catch (err) {
      if (!pause || attempt >= 3 || message(err) !== LOST) throw err;
      seen.retries += 1;
    }
  }
}

async function session(index) {
  const seen = {
    index, connects: 0, disconnects: [], connect_errors: [], acks: 0, bad_acks: [],
    pids: new Set(), engine_ids: [], transport_at_open: null, transport: null, upgraded: false,
    stats: null, errors: [], owner: null, sid: null, retries: 0, arrived: false,
  };
  everything.push(seen);
  const socket = io(url, {
    transports, upgrade, forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 500,
    timeout: ackTimeout,
  });
  sockets.push(socket);
  const engine = socket.io.engine; // created synchronously by io()
  engine.on("upgrade", () => { seen.upgraded = true; });
  const upgraded = new Promise((resolve) => engine.on("upgrade", resolve));
  const connected = new Promise((resolve) => {
    socket.on("connect", () => {
      seen.connects += 1;
      seen.engine_ids.push(socket.io.engine.id);
      if (seen.transport_at_open === null) seen.transport_at_open = socket.io.engine.transport.name;
      resolve();
    });
  });
  socket.on("disconnect", (reason) => { if (!finished) seen.disconnects.push(reason); });
  socket.on("connect_error", (err) => { seen.connect_errors.push(message(err)); });
  try {
    await within(connected, "connect", ackTimeout);
    if (pause) {
      if (canUpgrade && !seen.upgraded) await within(upgraded, "the upgrade", ackTimeout);
      seen.owner = await socket.timeout(ackTimeout).emitWithAck("whoami");
      seen.sid = socket.io.engine.id;
      arrive(seen);
      await released;
    }
    for (let i = 0; i < calls; i += 1) {
      const answer = await echo(socket, i, seen);
      if (JSON.stringify(answer?.args) === JSON.stringify([i])) seen.acks += 1;
      else seen.bad_acks.push({ expected: i, got: answer });
      seen.pids.add(answer?.pid);
    }
    if (canUpgrade && !seen.upgraded) await within(upgraded, "the upgrade", ackTimeout);
    if (stats) seen.stats = await socket.timeout(ackTimeout).emitWithAck("stats");
  } catch (err) {
    seen.errors.push(message(err));
    if (pause) arrive(seen); // the others are not held for ever by one that failed
  }
  seen.transport = socket.io.engine?.transport?.name ?? null;
  return seen;
}

/** The summary: the sessions' records (pid sets as lists) and every pid that answered. */
function report() {
  const sessions = everything.map(({ arrived: _, ...seen }) => ({ ...seen, pids: [...seen.pids] }));
  const pids = [...new Set(sessions.flatMap((s) => s.pids))].sort((a, b) => a - b);
  return { options, pids, sessions };
}

if (!url) {
  finish({ ok: false, error: "usage: node sessions.mjs '{\"url\": ..., \"count\": N, ...}'" }, 2);
} else {
  const guard = setTimeout(() => {
    finish({ ok: false, error: `the run did not finish within ${runTimeout} ms`, ...report() }, 1);
  }, runTimeout);
  Promise.all(Array.from({ length: count }, (_, index) => session(index)))
    .then(() => {
      clearTimeout(guard);
      finish({ ok: true, ...report() }, 0);
    })
    .catch((err) => finish({ ok: false, options, error: String(err?.stack ?? err) }, 1));
}
