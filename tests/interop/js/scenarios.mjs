// One socket.io-client 4.x scenario against a wsgi_sio server (tests/apps/interop.py).
//
//   node scenarios.mjs <url> <transports comma list> <scenario>
//
// Prints ONE JSON line with what it observed and exits 0, or prints {"ok":false,"error":...}
// and exits 1 on error or timeout. It asserts nothing: tests/interop/test_node_client.py
// checks the values. Every wait is bounded by TIMEOUT; there are no fixed sleeps.
// Binary data in the output is written as {"$hex": "..."} so the Python side can compare it.

import { io } from "socket.io-client";
import { TIMEOUT, finish, opened, runScenario, transports, url, within } from "./scenario_run.mjs";

/** JSON-safe copy: Buffers / typed arrays / ArrayBuffers become {"$hex": ...}. */
function plain(value) {
  if (value instanceof ArrayBuffer) return { $hex: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $hex: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "function") return { $function: true };
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value === undefined ? null : value;
}

/** Records every event a socket receives, in order; next(event) waits for the next one. */
class Recorder {
  constructor(socket) {
    this.log = [];
    this.queues = new Map();
    this.waiters = new Map();
    socket.onAny((event, ...args) => {
      if (typeof args[args.length - 1] === "function") args = args.slice(0, -1);
      this.log.push([event, ...args]);
      const waiting = this.waiters.get(event);
      if (waiting && waiting.length) waiting.shift()(args);
      else this.queue(event).push(args);
    });
  }

  queue(event) {
    if (!this.queues.has(event)) this.queues.set(event, []);
    return this.queues.get(event);
  }

  next(event) {
    const queued = this.queue(event);
    if (queued.length) return Promise.resolve(queued.shift());
    return within(new Promise((resolve) => {
      if (!this.waiters.has(event)) this.waiters.set(event, []);
      this.waiters.get(event).push(resolve);
    }), `event ${JSON.stringify(event)}`);
  }

  received() {
    return this.log.map(plain);
  }
}

function socketFor(auth, extra = {}) {
  const socket = io(url + "/chat", {
    transports, auth, forceNew: true, reconnection: false, ...extra,
  });
  opened.push(socket);
  return socket;
}

/** Connects; resolves once "connect" fires, rejects with the connect_error. */
function connected(socket) {
  return within(new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
  }), "connect");
}

/** The connect_error a refused connection gets: message and data. */
function refusal(socket) {
  return within(new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected although a refusal was expected")));
    socket.once("connect_error", (err) => resolve({ message: err.message, data: err.data ?? null }));
  }), "connect_error");
}

/** Single-value ack, as most callers use it. */
function call(socket, event, ...args) {
  return socket.timeout(TIMEOUT).emitWithAck(event, ...args);
}

/** Every argument of the ack (emitWithAck resolves with the first one only). */
function callAll(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(TIMEOUT).emit(event, ...args, (err, ...answer) => {
      if (err) reject(new Error(`no ack for ${event}: ${err.message}`));
      else resolve(answer);
    });
  });
}

function engineOf(socket) {
  return socket.io.engine;
}

/** Waits for a polling -> websocket upgrade when it is allowed; reports whether it happened. */
async function settledTransport(socket) {
  const engine = engineOf(socket);
  const canUpgrade = transports[0] === "polling" && transports.includes("websocket");
  if (canUpgrade && engine.transport.name !== "websocket") {
    await within(new Promise((resolve) => engine.once("upgrade", resolve)), "transport upgrade");
  }
  return engine.transport.name;
}

function answerQuestions(socket) {
  socket.on("question", (...args) => {
    const ack = args.pop();
    ack("answer to " + args[0]);
  });
}

const scenarios = {
  async connect_auth() {
    const socket = socketFor({ user: "ann" });
    const rec = new Recorder(socket);
    // The engine is created synchronously by io(); the upgrade may finish before the
    // Socket.IO "connect", so the first transport is read when the handshake opens.
    let transportAtOpen = null;
    engineOf(socket).once("open", () => { transportAtOpen = engineOf(socket).transport.name; });
    await connected(socket);
    const welcome = await rec.next("welcome");
    const transport = await settledTransport(socket);
    const whoami = await call(socket, "whoami");
    return {
      welcome: plain(welcome),
      sid: socket.id,
      engine_id: engineOf(socket).id,
      whoami,
      transport_at_open: transportAtOpen,
      transport,
    };
  },

  async refused() {
    return { error: await refusal(socketFor({ refuse: true })) };
  },

  async invalid_namespace() {
    const socket = io(url + "/nowhere", { transports, forceNew: true, reconnection: false });
    opened.push(socket);
    return { error: await refusal(socket) };
  },

  async acks_binary() {
    const socket = socketFor(undefined);
    const rec = new Recorder(socket);
    answerQuestions(socket);
    await connected(socket);
    const payload = {
      blob: Buffer.from([0x00, 0x01, 0xff]),
      list: [new Uint8Array([0x61, 0x62, 0x63]), 1, "é"],
      nested: { deep: [{ bytes: Buffer.from("€", "utf8") }] },
    };
    const echo = await callAll(socket, "echo", payload, Buffer.from("raw"));
    const echoTypes = [
      Buffer.isBuffer(echo[0]?.blob) || echo[0]?.blob instanceof ArrayBuffer,
      Buffer.isBuffer(echo[1]) || echo[1] instanceof ArrayBuffer,
    ];
    const ping = await callAll(socket, "ping", 1, "2");
    const catchAll = await call(socket, "unheard_of", 5);
    socket.emit("emit_back", "bytes", Buffer.from([0x10, 0x20]));
    const bytes = await rec.next("bytes");
    const ask = await call(socket, "ask", "life");
    socket.emit("ask_callback", "x");
    const told = await rec.next("told");
    const questions = rec.log.filter(([event]) => event === "question").map(plain);
    return {
      echo: plain(echo),
      echo_binary_types: echoTypes,
      ping: plain(ping),
      catch_all: plain(catchAll),
      bytes: plain(bytes),
      ask,
      told: plain(told),
      questions,
      transport: engineOf(socket).transport.name,
    };
  },

  async failing_handler() {
    const socket = socketFor(undefined);
    await connected(socket);
    socket.emit("fail");
    const echo = await call(socket, "echo", "still here");
    return { echo, connected: socket.connected };
  },

  async rooms() {
    const sockets = [socketFor(undefined), socketFor(undefined), socketFor(undefined)];
    const recs = sockets.map((s) => new Recorder(s));
    await Promise.all(sockets.map(connected));
    const [a, b, c] = sockets;
    const [ra, rb, rc] = recs;
    const joins = [await call(a, "join", "red"), await call(b, "join", "red")];
    const toRoom = await call(a, "to_room", "red", "news", { n: 1 });
    await ra.next("news");
    await rb.next("news");
    const toRoomOthers = await call(a, "to_room_others", "red", "gossip");
    await rb.next("gossip");
    const broadcast = await call(c, "broadcast", "all", Buffer.from([0x01]));
    await Promise.all(recs.map((r) => r.next("all")));
    const leave = await call(b, "leave", "red");
    const toRoomAgain = await call(a, "to_room", "red", "news", { n: 2 });
    await ra.next("news");
    // Round trips after the last room emit: anything the server sent b or c before it
    // answered these has arrived, so the logs below are complete.
    const syncs = [await call(b, "echo", "sync"), await call(c, "echo", "sync")];
    return {
      joins, to_room: [toRoom, toRoomAgain], to_room_others: toRoomOthers, broadcast, leave,
      syncs,
      received: { a: ra.received(), b: rb.received(), c: rc.received() },
    };
  },

  async disconnect() {
    const observer = socketFor(undefined);
    const client = socketFor(undefined);
    await Promise.all([connected(observer), connected(client)]);
    const before = (await call(observer, "disconnects")).length;
    const clientReason = within(new Promise((resolve) => client.once("disconnect", resolve)),
      "client-side disconnect event");
    client.disconnect();
    const clientSide = await clientReason;
    // The server runs the disconnect handler on its own; poll until it shows up.
    const deadline = Date.now() + TIMEOUT;
    let seen = [];
    while (Date.now() < deadline) {
      seen = (await call(observer, "disconnects")).slice(before);
      if (seen.some(([nsp, why]) => nsp === "/chat" && why === "client namespace disconnect")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const other = socketFor(undefined);
    await connected(other);
    const otherSid = other.id;
    const beforeServer = (await call(observer, "disconnects")).length;
    const gone = within(new Promise((resolve) => other.once("disconnect", resolve)),
      "disconnect after disconnect_me");
    other.emit("disconnect_me");
    const serverReason = await gone;
    let serverSeen = [];
    const deadline2 = Date.now() + TIMEOUT;
    while (Date.now() < deadline2) {
      serverSeen = (await call(observer, "disconnects")).slice(beforeServer);
      if (serverSeen.some(([, why]) => why === "server namespace disconnect")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stillAlive = await call(observer, "echo", "still here");
    return {
      client_side_reason: clientSide,
      server_saw_client: seen,
      server_disconnect_reason: serverReason,
      other_sid_cleared: other.id === undefined && otherSid !== undefined,
      other_connected: other.connected,
      server_saw_server: serverSeen,
      observer_echo: stillAlive,
    };
  },

  async polling_only_upgrade_off() {
    const socket = socketFor(undefined, { upgrade: false });
    let upgradeEvents = 0;
    const engine = engineOf(socket); // created synchronously by io(), before the handshake
    engine.on("upgrading", () => { upgradeEvents += 1; });
    engine.on("upgrade", () => { upgradeEvents += 1; });
    let transportAtOpen = null;
    engine.once("open", () => { transportAtOpen = engine.transport.name; });
    await connected(socket);
    // Several round trips: an upgrade would have begun right after the handshake.
    const echoes = [];
    for (let i = 0; i < 5; i++) echoes.push(await call(socket, "echo", i));
    return {
      transport_at_open: transportAtOpen,
      transport: engine.transport.name,
      upgrade_events: upgradeEvents,
      echoes,
    };
  },
};

runScenario(scenarios, "scenarios.mjs", true);
