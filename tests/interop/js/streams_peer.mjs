// A Node cluster member for tests/managers/test_redis_streams.py:
//
//   node streams_peer.mjs <redis url> <key>
//
// Runs a socket.io 4.x server with @socket.io/redis-streams-adapter 0.3.1 on 127.0.0.1 (free
// port; stream name, channel prefix and session key prefix from <key>) and one socket.io-client
// connected to it. The commands are those of redis_peer.mjs, less the emitter's.
// STREAMS_PEER_RECOVERY=1 turns connection state recovery on.
// Reads one JSON command per line on stdin ({id, cmd, ...}) and answers {id, ok, result}; every
// event the Node client receives is written as {event, args}. Binary values are written and
// read as {"$hex": "..."}. Every wait is bounded; nothing sleeps.

import http from "node:http";
import readline from "node:readline";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";

const [redisUrl, key] = process.argv.slice(2);
const TIMEOUT = 10_000;

const write = (message) => process.stdout.write(JSON.stringify(message) + "\n");

function plain(value) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $hex: Buffer.from(value).toString("hex") };
  if (value instanceof ArrayBuffer) return { $hex: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value === undefined ? null : value;
}

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    if (typeof value.$hex === "string") return Buffer.from(value.$hex, "hex");
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

const pub = createClient({ url: redisUrl });
pub.on("error", (err) => console.error("redis:", err.message));
await pub.connect();

const httpServer = http.createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(pub, { streamName: key, channelPrefix: key, sessionKeyPrefix: `${key}:session:` }),
  // STREAMS_PEER_RECOVERY=1: connection state recovery on (sessions in Redis, offsets appended)
  connectionStateRecovery: process.env.STREAMS_PEER_RECOVERY ? { maxDisconnectionDuration: 60_000 } : undefined,
});
const chat = io.of("/chat");

for (const nsp of [io.of("/"), chat]) {
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

const target = (nsp, { room, except }) => {
  let op = nsp;
  if (room !== undefined && room !== null) op = op.to(room);
  if (except !== undefined && except !== null) op = op.except(except);
  return op;
};

const commands = {
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
  client.disconnect();
  io.close();
  await Promise.allSettled([pub.quit()]);
  process.exit(0);
});
