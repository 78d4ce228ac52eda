// Connection state recovery with socket.io-client 4.x against tests/apps/recovery_app.py.
//
//   node recovery.mjs <url> <transports comma list> <scenario>
//
// Prints ONE JSON line with what it observed (tests/interop/test_recovery_node.py checks it).
// Every wait is on an event, bounded by TIMEOUT; the connection is lost with
// `socket.io.engine.close()`, as a network drop would, and the socket comes back with
// `socket.connect()` once the test has made sure the server saw it go.

import { io } from "socket.io-client";
import { TIMEOUT, opened, runScenario, transports, url, within } from "./scenario_run.mjs";

function client(path = "/socket.io/", auth = {}) {
  const socket = io(url + "/chat", { path, transports, auth, forceNew: true, reconnection: false });
  opened.push(socket);
  socket.numbers = [];
  socket.offsets = [];
  socket.privates = [];
  socket.waiters = [];
  socket.on("n", (n, offset) => {
    socket.numbers.push(n);
    socket.offsets.push(offset);
    for (const [wanted, resolve] of socket.waiters) if (n === wanted) resolve();
  });
  socket.on("private", (...args) => socket.privates.push(args));
  return socket;
}

function number(socket, n) {
  if (socket.numbers.includes(n)) return Promise.resolve();
  return within(new Promise((resolve) => socket.waiters.push([n, resolve])), `n=${n}`);
}

function connected(socket) {
  return within(new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
  }), "connect");
}

function refusal(socket) {
  return within(new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected although a refusal was expected")));
    socket.once("connect_error", (err) => resolve(err.message));
  }), "connect_error");
}

function call(socket, event, ...args) {
  return socket.timeout(TIMEOUT).emitWithAck(event, ...args);
}

/** The transport goes away under the socket; resolves with the client's disconnect reason. */
function drop(socket) {
  const reason = within(new Promise((resolve) => socket.once("disconnect", resolve)), "disconnect");
  socket.io.engine.close();
  return reason;
}

async function back(socket) {
  const done = connected(socket);
  socket.connect();
  await done;
  return { id: socket.id, recovered: socket.recovered };
}

/** A client in `room` that has seen n=0..2, its transport then lost and the server told. */
async function away(ctl, room, path = "/socket.io/", auth = {}) {
  const a = await connected(client(path, auth));
  await call(a, "join", room);
  await call(ctl, "publish", room, 0, 2);
  await number(a, 2);
  const before = { id: a.id, pid: a._pid, offset: a.offsets.at(-1) };
  const clientReason = await drop(a);
  const serverReason = await call(ctl, "wait_gone", before.id);
  return { a, before, clientReason, serverReason };
}

const room = () => "room-" + Math.random().toString(36).slice(2);

const scenarios = {
  // A paced stream of COUNT numbers; the transport is lost at n=30; the socket comes back
  // once the server saw it go and the stream is past n=60 (so some were missed).
  async stream() {
    const COUNT = 150;
    const r = room();
    const ctl = await connected(client());
    const a = await connected(client());
    await call(a, "join", r);
    const before = a.id;
    let returned;
    const dropped = number(a, 30).then(async () => {
      const clientReason = await drop(a);
      const serverReason = await call(ctl, "wait_gone", before);
      await call(ctl, "private", before, "while away");
      await call(ctl, "wait_past", r, 60);
      const missedFrom = a.numbers.length;
      returned = { ...(await back(a)), clientReason, serverReason, missedFrom };
    });
    await call(ctl, "stream", r, COUNT, 0.005);
    await dropped;
    await number(a, COUNT - 1);
    const whoami = await call(a, "whoami");
    return {
      before, ...returned, numbers: a.numbers, privates: a.privates,
      offsetsAreStrings: a.offsets.every((o) => typeof o === "string"), whoami,
    };
  },

  // Someone else's offset with a made-up pid: a fresh socket; the real owner still recovers.
  async forged() {
    const ctl = await connected(client());
    const { a, before } = await away(ctl, room());
    const forger = await connected(client("/socket.io/", { pid: "x".repeat(22), offset: before.offset }));
    const forgerSeen = { id: forger.id, recovered: forger.recovered, whoami: await call(forger, "whoami") };
    const owner = await back(a);
    return { before, forger: forgerSeen, owner };
  },

  // The pid and offset of a session that was already recovered: a fresh socket.
  async reused() {
    const ctl = await connected(client());
    const { a, before } = await away(ctl, room());
    const owner = await back(a);
    const again = await connected(client("/socket.io/", { pid: before.pid, offset: before.offset }));
    return { before, owner, again: { id: again.id, recovered: again.recovered } };
  },

  // The recovery clock moves past the window while the socket is away.
  async expired() {
    const ctl = await connected(client());
    const { a, before } = await away(ctl, room());
    await call(ctl, "advance_clock", 120);
    const after = await back(a);
    return { before, after, whoami: await call(a, "whoami") };
  },

  // socket.disconnect() and connect(): the client left on purpose, nothing was kept.
  async explicit() {
    const ctl = await connected(client());
    const r = room();
    const a = await connected(client());
    await call(a, "join", r);
    await call(ctl, "publish", r, 0, 2);
    await number(a, 2);
    const before = a.id;
    a.disconnect();
    const serverReason = await call(ctl, "wait_gone", before);
    const after = await back(a);
    return { before, serverReason, after, whoami: await call(a, "whoami") };
  },

  // skip_middlewares False: on_connect runs again, sees recovered, and here accepts.
  async strict_accepted() {
    const ctl = await connected(client("/strict.io/"));
    const { a, before } = await away(ctl, room(), "/strict.io/");
    const after = await back(a);
    return { before, after, whoami: await call(a, "whoami") };
  },

  // skip_middlewares False: on_connect runs again and refuses the recovered socket.
  async strict_refused() {
    const ctl = await connected(client("/strict.io/"));
    const { a, before } = await away(ctl, room(), "/strict.io/", { refuse_recovery: true });
    const done = refusal(a);
    a.connect();
    return { before, refusal: await done };
  },
};

runScenario(scenarios, "recovery.mjs");
