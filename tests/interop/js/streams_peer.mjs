// A Node cluster member for tests/managers/test_redis_streams.py:
//
//   node streams_peer.mjs <redis url> <key>
//
// Runs a socket.io 4.x server with @socket.io/redis-streams-adapter 0.3.1 on 127.0.0.1 (free
// port; stream name, channel prefix and session key prefix from <key>) and one socket.io-client
// connected to it. The commands are those of redis_peer.mjs, less the emitter's.
// STREAMS_PEER_RECOVERY=1 turns connection state recovery on.
// Reads one JSON command per line on stdin ({id, cmd, ...}) and answers {id, ok, result}; every
// event the Node client receives is written as {event, args} (cluster_peer.mjs). Binary values
// are written and read as {"$hex": "..."}. Every wait is bounded; nothing sleeps.

import http from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import { answer, clusterCommands, serve } from "./cluster_peer.mjs";

const [redisUrl, key] = process.argv.slice(2);

const pub = createClient({ url: redisUrl });
pub.on("error", (err) => console.error("redis:", err.message));
await pub.connect();

const httpServer = http.createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(pub, { streamName: key, channelPrefix: key, sessionKeyPrefix: `${key}:session:` }),
  // STREAMS_PEER_RECOVERY=1: connection state recovery on (sessions in Redis, offsets appended)
  connectionStateRecovery: process.env.STREAMS_PEER_RECOVERY ? { maxDisconnectionDuration: 60_000 } : undefined,
});

const { port, client } = await serve(io, httpServer);

answer(clusterCommands(io, client, port), async () => {
  client.disconnect();
  io.close();
  await Promise.allSettled([pub.quit()]);
});
