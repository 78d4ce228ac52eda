// What redis_peer.mjs and streams_peer.mjs share: a Node cluster member (a socket.io 4.x
// server with the adapter the caller made, and one socket.io-client connected to it) that
// reads one JSON command per line on stdin ({id, cmd, ...}) and answers {id, ok, result};
// every event the Node client receives is written as {event, args}. Binary values are
// written and read as {"$hex": "..."}. Every wait is bounded; nothing sleeps.

import readline from "node:readline";
import { io as connect } from "socket.io-client";

export const TIMEOUT = 10_000;

export const write = (message) => process.stdout.write(JSON.stringify(message) + "\n");

export function plain(value) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $hex: Buffer.from(value).toString("hex") };
  if (value instanceof ArrayBuffer) return { $hex: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value === undefined ? null : value;
}

export function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    if (typeof value.$hex === "string") return Buffer.from(value.$hex, "hex");
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

export const target = (nsp, { room, except }) => {
  let op = nsp;
  if (room !== undefined && room !== null) op = op.to(room);
  if (except !== undefined && except !== null) op = op.except(except);
  return op;
};

// The namespaces "/" and "/chat" of `io` (on `httpServer`) with the tests' handlers, served on
// 127.0.0.1 (a free port), and the Node client connected to "/": {port, client}.
export async function serve(io, httpServer) {
  for (const nsp of [io.of("/"), io.of("/chat")]) {
    nsp.on("connection", (socket) => {
      socket.on("join", (room, ack) => { socket.join(room); ack?.([...socket.rooms]); });
    });
    // server-side events from other servers: tell this server's clients, and answer the ack
    nsp.on("relay", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      nsp.local.emit("relayed", ...args);
      ack?.({ relayed_by: "node" });
    });
  }

  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const port = httpServer.address().port;

  const client = connect(`http://127.0.0.1:${port}/`, { transports: ["websocket"], reconnection: false });
  client.onAny((event, ...args) => {
    if (typeof args[args.length - 1] === "function") args.pop()("ack from node");
    write({ event, args: plain(args) });
  });
  client.on("disconnect", (reason) => write({ event: "disconnect", args: [reason] }));
  await new Promise((resolve, reject) => {
    client.on("connect", resolve);
    client.on("connect_error", reject);
    setTimeout(() => reject(new Error("node client did not connect")), TIMEOUT).unref();
  });
  return { port, client };
}

// The commands every adapter's peer answers.
export function clusterCommands(io, client, port) {
  return {
    hello: async () => ({ port, sid: client.id }),
    join: async ({ room }) => client.timeout(TIMEOUT).emitWithAck("join", room),
    emit: async ({ nsp = "/", event, args = [], ...to }) => {
      target(io.of(nsp), to).emit(event, ...revive(args));
      return true;
    },
    emitWithAck: async ({ nsp = "/", event, args = [], ...to }) =>
      plain(await target(io.of(nsp), to).timeout(5000).emitWithAck(event, ...revive(args))),
    fetch: async ({ nsp = "/", ...to }) => {
      const sockets = await target(io.of(nsp), to).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), auth: s.handshake.auth ?? null,
                                   data: s.data ?? null }));
    },
    serverCount: async ({ nsp = "/" }) => io.of(nsp).adapter.serverCount(),
    serverSideEmit: async ({ nsp = "/", event, args = [] }) => {
      io.of(nsp).serverSideEmit(event, ...args);
      return true;
    },
    serverSideEmitWithAck: async ({ nsp = "/", event, args = [] }) =>
      io.of(nsp).serverSideEmitWithAck(event, ...args),
    socketsJoin: async ({ nsp = "/", join, ...to }) => { target(io.of(nsp), to).socketsJoin(join); return true; },
    socketsLeave: async ({ nsp = "/", leave, ...to }) => { target(io.of(nsp), to).socketsLeave(leave); return true; },
    disconnectSockets: async ({ nsp = "/", close = false, ...to }) => {
      target(io.of(nsp), to).disconnectSockets(close);
      return true;
    },
  };
}

// Answer `commands` from stdin until it closes; then `close()` and exit.
export function answer(commands, close) {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    let request;
    try {
      request = JSON.parse(line);
      const handler = commands[request.cmd];
      if (!handler) throw new Error(`unknown command ${request.cmd}`);
      write({ id: request.id, ok: true, result: await handler(request) });
    } catch (err) {
      write({ id: request?.id ?? null, ok: false, error: String(err?.stack ?? err) });
    }
  });
  lines.on("close", async () => {
    await close();
    process.exit(0);
  });
}
