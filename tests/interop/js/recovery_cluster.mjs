// Connection state recovery through nginx, round robin over two wsgi_sio processes that share
// a Redis stream (tests/apps/streams_app.py with WSGI_SIO_RECOVERY=1), with socket.io-client
// 4.x. Run by tests/interop/test_recovery_cluster.py:
//
//   node recovery_cluster.mjs '{"url": "http://nginx", "transports": [...], "upgrade": bool,
//                               "rounds": N}'
//
// One control socket per process (WebSocket: one nginx pick each, found by asking `ready` for
// the process's uid) watches every room. Each round: a client with the transports under test
// joins a fresh room; the process that does not hold its session streams n=0..149 (plus 1000
// times the round's index), paced; at n=30 the client's transport is lost
// (`socket.io.engine.close()`, as a network drop would); once the owner no longer lists the
// socket (its session is in Redis) and 30 more numbers went out, the client comes back
// through nginx; the other process then sends n=150..199, live. The client must get its sid
// back, `recovered`, and every number once, in order.
//
// Where the comeback lands is steered, not left to chance: nginx's round robin (one worker)
// alternates, and nothing else picks an upstream while the client is away (the control
// sockets keep their WebSocket), so a probe socket that lands on X means the next connection,
// the comeback's handshake, lands on the other process. Rounds alternate between "land on
// the other process" and "land on the same one", until both happened (or `rounds` ran out).
// Every wait is on an event, bounded. Prints ONE JSON line.

import { io } from "socket.io-client";

const TIMEOUT = 10_000;
const COUNT = 150;                // paced, from one process, while the client drops and returns
const TAIL = 50;                  // from the other process once the client is back
const options = JSON.parse(process.argv[2] ?? "{}");
const { url, transports, upgrade = false, rounds = 4 } = options;
const opened = [];
let stage = "start";               // where a failure happened, for its report

function within(promise, what, ms = TIMEOUT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function client(transportList) {
  const socket = io(url, { transports: transportList, upgrade, forceNew: true, reconnection: false });
  opened.push(socket);
  socket.numbers = [];
  socket.offsets = [];
  socket.waiters = [];
  socket.on("n", (n, offset) => {
    socket.numbers.push(n);
    socket.offsets.push(offset);
    for (const [wanted, resolve] of socket.waiters) if (n >= wanted) resolve();
  });
  return socket;
}

/** Resolves once the socket has seen a number >= n. */
function past(socket, n) {
  if (socket.numbers.some((m) => m >= n)) return Promise.resolve();
  return within(new Promise((resolve) => socket.waiters.push([n, resolve])), `n>=${n}`);
}

function connected(socket) {
  return within(new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error(`connect_error: ${err.message} `
      + `(${err.description?.message ?? err.description ?? ""} ${err.context?.responseText ?? ""})`)));
  }), "connect");
}

function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return within(new Promise((resolve) => engine.once("upgrade", resolve)), "upgrade");
}

const call = (socket, event, ...args) => within(socket.timeout(TIMEOUT).emitWithAck(event, ...args), event);
const uidOf = async (socket) => (await call(socket, "ready")).uid;
const room = () => "room-" + Math.random().toString(36).slice(2);

/** One WebSocket connection through nginx (one upstream pick): which process took it. */
async function probe() {
  const socket = await connected(client(["websocket"]));
  const uid = await uidOf(socket);
  socket.disconnect();
  return uid;
}

/** Makes the next connection through nginx land on `target` (see the top): true if it should. */
async function steer(target) {
  for (let i = 0; i < 4; i++) if ((await probe()) !== target) return true;
  return false;
}

/** A control socket on each of the two processes: { uid: socket }. */
async function controls() {
  const found = {};
  for (let i = 0; i < 8 && Object.keys(found).length < 2; i++) {
    const socket = await connected(client(["websocket"]));
    const uid = await uidOf(socket);
    if (found[uid]) socket.disconnect();
    else found[uid] = socket;
  }
  if (Object.keys(found).length < 2) throw new Error(`one process took every connection: ${Object.keys(found)}`);
  return found;
}

async function round(ctl, index, wantCross) {
  // numbers of a round of their own: what a control socket still gets of earlier rounds
  // (it stays in their rooms) is smaller and cannot end a wait of this one
  const base = index * 1000;
  const r = room();
  for (const socket of Object.values(ctl)) await call(socket, "join", r);
  stage = `round ${index}: connecting`;
  const a = await connected(client(transports));
  if (upgrade) await upgraded(a);
  await call(a, "join", r);
  const before = { id: a.id, uid: await uidOf(a), transport: a.io.engine.transport.name };
  const other = Object.keys(ctl).find((uid) => uid !== before.uid);
  const [owner, elsewhere] = [ctl[before.uid], ctl[other]];

  // at n=30 (or the end of the polling payload that held it) the transport goes away
  const dropped = past(a, base + 30).then(async () => {
    const gone = within(new Promise((resolve) => a.once("disconnect", resolve)), "disconnect");
    a.io.engine.close();
    return gone;
  });
  await call(elsewhere, "stream", r, base, COUNT, 0.005);
  const clientReason = await dropped;
  const lastBefore = a.numbers.at(-1);
  // the owner keeps the session (in Redis) before it forgets the socket
  while ((await call(owner, "list", r)).some(([sid]) => sid === before.id)) { /* a round trip each */ }
  const awayUntil = Math.min(lastBefore + 30, base + COUNT - 1);
  await past(owner, awayUntil);       // numbers went out while it was away
  const target = wantCross ? other : before.uid;
  const steered = await steer(target);
  const missedFrom = a.numbers.length;
  stage = `round ${index}: coming back (to ${target}, from ${before.uid})`;
  const back = connected(a);
  a.connect();
  await back;
  const after = { id: a.id, recovered: a.recovered, uid: await uidOf(a) };
  const whoami = await call(a, "ready");

  stage = `round ${index}: the tail`;
  await past(owner, base + COUNT - 1); // all of 0..149 are in the stream (owner read them there)
  await call(owner, "stream", r, base + COUNT, TAIL);
  await past(a, base + COUNT + TAIL - 1);
  const numbers = a.numbers;
  const transportAfter = a.io.engine.transport.name;
  a.disconnect();
  return {
    base, before, after, whoamiSid: whoami.sid, clientReason, lastBefore, awayUntil, missedFrom,
    numbers, offsetsAreStrings: a.offsets.every((o) => typeof o === "string"),
    wanted: target, steered, crossed: after.uid !== before.uid,
    transportAfter,
  };
}

async function main() {
  const ctl = await controls();
  const done = [];
  for (let i = 0; i < rounds; i++) {
    done.push(await round(ctl, i, i % 2 === 0));
    if (done.some((d) => d.crossed) && done.some((d) => !d.crossed)) break;
  }
  return { uids: Object.keys(ctl), rounds: done };
}

let result;
let code = 0;
try {
  result = { ok: true, ...(await within(main(), "the whole run", 60_000)) };
} catch (err) {
  result = { ok: false, stage, error: String(err?.stack ?? err) };
  code = 1;
}
process.stdout.write(JSON.stringify(result) + "\n");
for (const socket of opened) socket.disconnect();
setTimeout(() => process.exit(code), 500).unref();
