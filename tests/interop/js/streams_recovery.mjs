// Connection state recovery across two wsgi_sio processes sharing a Redis stream
// (RedisStreamsManager, tests/apps/streams_app.py with WSGI_SIO_RECOVERY=1), with
// socket.io-client 4.x. Run by tests/managers/test_redis_streams.py:
//
//   node streams_recovery.mjs <url of A> <url of B> [node]
//
// A client on A joins a room and gets a broadcast (its offset is a stream entry id); its
// transport is lost; while it is away, broadcasts to the room come from both processes; it
// comes back *to B* with its pid and last offset, and must get its sid, its room and the
// missed broadcasts back. With "node", B is a Node server with the streams adapter (it has
// only a "join" event, so A sends every broadcast); with "from-node", the same, but the
// client starts on B (Node keeps the session) and comes back to A. Prints ONE JSON line;
// every wait is on an event, bounded.

import { io } from "socket.io-client";

const TIMEOUT = 10_000;
const [urlA, urlB, mode] = process.argv.slice(2);
const opened = [];

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function client(url, auth = {}) {
  const socket = io(url, { transports: ["websocket"], auth, forceNew: true, reconnection: false });
  opened.push(socket);
  socket.news = [];
  socket.waiters = [];
  socket.on("news", (...args) => {
    socket.news.push(args);
    for (const [wanted, resolve] of socket.waiters) if (args[0] === wanted) resolve();
  });
  return socket;
}

const news = (socket, n) => socket.news.some((args) => args[0] === n)
  ? Promise.resolve()
  : within(new Promise((resolve) => socket.waiters.push([n, resolve])), `news ${n}`);
const connected = (socket) => within(new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
}), "connect");
const call = (socket, ...args) => within(socket.timeout(TIMEOUT).emitWithAck(...args), args[0]);

let result;
try {
  const helperA = client(urlA);
  const helperB = mode ? helperA : client(urlB);
  const [firstUrl, backUrl] = mode === "from-node" ? [urlB, urlA] : [urlA, urlB];
  const first = client(firstUrl);
  await Promise.all([connected(helperA), connected(helperB), connected(first)]);
  await call(first, "join", "room");
  await call(helperB, "to", "room", "news", 0);          // from the other process
  await news(first, 0);
  const sid = first.id;
  const pid = first._pid;
  const offset = first._lastOffset;

  const gone = within(new Promise((resolve) => first.once("disconnect", resolve)), "disconnect");
  first.io.engine.close();                                // as a network drop would
  await gone;
  // the server keeps the session (SET ... PX) before it forgets the socket, and answers
  // fetchSockets on the connection it SET on: once the socket is not listed, it is kept
  while ((await call(helperA, "list")).some(([s]) => s === sid)) { /* one round trip each */ }

  await call(helperB, "to", "room", "news", 1);
  await call(helperA, "to", "room", "news", 2);
  await call(helperA, "to", "elsewhere", "news", 99);      // not for it
  const back = client(backUrl, { pid, offset });
  await connected(back);
  await news(back, 2);
  await call(helperA, "to", "room", "news", 3);           // live again, through the stream
  await news(back, 3);
  const rooms = await call(back, "join", "another");
  const reused = client(firstUrl, { pid, offset });       // a pid is single use
  await connected(reused);
  result = {
    ok: true, sid, pid, offset, backId: back.id, recovered: back.recovered, rooms,
    firstNews: first.news, backNews: back.news, reusedId: reused.id, reusedRecovered: reused.recovered,
  };
} catch (err) {
  result = { ok: false, error: String(err?.stack ?? err) };
}
process.stdout.write(JSON.stringify(result) + "\n");
for (const socket of opened) socket.disconnect();
setTimeout(() => process.exit(result.ok ? 0 : 1), 500).unref();
