// A Node cluster member for tests/managers/test_redis_node_interop.py:
//
//   node redis_peer.mjs <redis url> <key>
//
// Runs a socket.io 4.x server with @socket.io/redis-adapter 8.x on 127.0.0.1 (free port), one
// socket.io-client connected to it, and an @socket.io/redis-emitter 5.x, all on the given key.
// Reads one JSON command per line on stdin ({id, cmd, ...}) and answers {id, ok, result}; every
// event the Node client receives is written as {event, args} (cluster_peer.mjs). Binary values
// are written and read as {"$hex": "..."}. Every wait is bounded; nothing sleeps.

import http from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";
import { answer, clusterCommands, revive, serve, target } from "./cluster_peer.mjs";

const [redisUrl, key] = process.argv.slice(2);

const pub = createClient({ url: redisUrl });
const sub = pub.duplicate();
const emitterClient = pub.duplicate();
for (const client of [pub, sub, emitterClient]) client.on("error", (err) => console.error("redis:", err.message));
await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);

const httpServer = http.createServer();
const io = new Server(httpServer, { adapter: createAdapter(pub, sub, { key, requestsTimeout: 5000 }) });
const emitter = new Emitter(emitterClient, { key });

const { port, client } = await serve(io, httpServer);

answer({
  ...clusterCommands(io, client, port),
  allRooms: async ({ nsp = "/" }) => [...(await io.of(nsp).adapter.allRooms())].sort(),
  emitter: async ({ nsp = "/", event, args = [], ...to }) => {
    target(emitter.of(nsp), to).emit(event, ...revive(args));
    return true;
  },
  emitterJoin: async ({ nsp = "/", join, ...to }) => { target(emitter.of(nsp), to).socketsJoin(join); return true; },
  emitterServerSideEmit: async ({ nsp = "/", event, args = [] }) => {
    emitter.of(nsp).serverSideEmit(event, ...args);
    return true;
  },
}, async () => {
  client.disconnect();
  io.close();
  await Promise.allSettled([pub.quit(), sub.quit(), emitterClient.quit()]);
});
