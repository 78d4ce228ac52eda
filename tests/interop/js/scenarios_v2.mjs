// One socket.io-client 2.5.0 (Engine.IO v3, Socket.IO protocol v4) scenario against a wsgi_sio
// server with allow_eio3 (tests/apps/eio3.py); "mixed_room" adds a socket.io-client 4.x.
//
//   node scenarios_v2.mjs <url> <transports comma list> <scenario>
//
// Prints ONE JSON line with what it observed and exits 0, or {"ok":false,"error":...} and
// exits 1. It asserts nothing: tests/interop/test_node_client_v2.py checks the values. Every
// wait is bounded by TIMEOUT; there are no fixed sleeps. Binary values are {"$hex": "..."}.

import ioV2 from "socket.io-client-v2";
import { io as ioV4 } from "socket.io-client";
import { finish, opened, scenario, transports, url, within } from "./scenario_run.mjs";

function plain(value) {
  if (value instanceof ArrayBuffer) return { $hex: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $hex: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value === undefined ? null : value;
}

const once = (emitter, event) => within(new Promise((resolve) => emitter.once(event, (...a) => resolve(a))),
                                        `event ${event}`);

function v2(nsp = "") {
  const socket = ioV2(url + nsp, { transports, forceNew: true, reconnection: false });
  opened.push(socket);
  return socket;
}

function call(socket, event, ...args) {
  return within(new Promise((resolve) => socket.emit(event, ...args, (...answer) => resolve(answer))),
                `ack of ${event}`);
}

async function connected(socket) {
  if (!socket.connected) await once(socket, "connect");
  return socket;
}

/** The transport once an upgrade (if one is to happen) is over. */
async function settledTransport(socket) {
  const engine = socket.io.engine;
  if (transports[0] === "polling" && transports.includes("websocket") && engine.transport.name !== "websocket") {
    await once(engine, "upgrade");
  }
  return engine.transport.name;
}

const scenarios = {
  async basics() {
    const socket = v2();
    const welcome = once(socket, "welcome");
    await connected(socket);
    socket.on("question", (...args) => args.pop()("answer to " + args[0]));
    const transport = await settledTransport(socket);
    const echo = await call(socket, "echo", { blob: Buffer.from([0, 1, 0xff]), n: 1 }, Buffer.from("raw"), "é😀");
    const whoami = await call(socket, "whoami");
    const bytes = once(socket, "bytes");
    socket.emit("emit_back", "bytes", Buffer.from([0x10, 0x20]));
    const ask = await call(socket, "ask", "life");
    const told = once(socket, "told");
    socket.emit("ask_callback", "x");
    return {
      welcome: plain((await welcome)[0]),
      id: socket.id,
      engine_id: socket.io.engine.id,
      whoami,
      echo: plain(echo),
      echo_is_binary: Buffer.isBuffer(echo[1]) || echo[1] instanceof ArrayBuffer,
      bytes: plain(await bytes),
      ask,
      told: await told,
      transport,
      final_transport: socket.io.engine.transport.name,
    };
  },

  async namespaces() {
    const root = v2();
    await connected(root);
    const chat = v2("/chat?user=ann");
    const welcome = once(chat, "welcome");
    await connected(chat);
    const whoami = await call(chat, "whoami");
    // listeners first: the refusals may come in any order
    const [refused, refusedPlain, invalid] = ["/refuse", "/refuse-plain", "/nowhere"]
      .map((nsp) => once(v2(nsp), "error"));
    return {
      welcome: (await welcome)[0],
      id: chat.id,
      engine_id: chat.io.engine.id,
      whoami,
      refused: (await refused)[0],
      refused_plain: (await refusedPlain)[0],
      invalid: (await invalid)[0],
    };
  },

  async heartbeat() {
    // The v3 client pings pingInterval (5 s here) after the open; the server answers.
    const socket = v2();
    await connected(socket);
    const engine = socket.io.engine;
    const pong = once(engine, "pong");
    await once(engine, "ping");
    await pong;
    const echo = await call(socket, "echo", "still here");
    return { echo, connected: socket.connected, transport: engine.transport.name };
  },

  async mixed_room() {
    const old = v2();
    const modern = ioV4(url, { transports, forceNew: true, reconnection: false });
    opened.push(modern);
    await connected(old);
    await connected(modern);
    await call(old, "join", "mix");
    await call(modern, "join", "mix");
    const oldGets = once(old, "from_modern");
    const modernGets = once(modern, "from_old");
    const oldGetsOwn = once(old, "from_old");
    await call(old, "to_room", "mix", "from_old", "v2 says", Buffer.from([1, 2, 3]));
    await call(modern, "to_room_others", "mix", "from_modern", "v4 says", Buffer.from([4, 5]));
    return {
      modern_got: plain(await modernGets),
      old_got_own: plain(await oldGetsOwn),
      old_got: plain(await oldGets),
    };
  },
};

try {
  const result = await within(scenarios[scenario](), `scenario ${scenario}`, 30_000);
  finish({ ok: true, scenario, transports, ...result }, 0);
} catch (error) {
  finish({ ok: false, scenario, error: String(error?.stack || error) }, 1);
}
