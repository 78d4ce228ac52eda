// Connection state recovery under Django with socket.io-client 4.x: the test project of
// tests/django under runserver_sio, recovery on, and the session cookie of a real login.
//
//   DJANGO_COOKIE='sessionid=...' node django_recovery.mjs <url> <transports> <scenario>
//
// Prints ONE JSON line with what it observed (tests/django/test_recovery_live.py checks it).
// The client opens /private (logged-in users only) and /open (anyone) on one connection,
// loses it with `socket.io.engine.close()`, as a network drop would, waits until the server
// saw both sockets go ("wait_gone" on "/", from a second, anonymous connection), and comes
// back with `socket.connect()`. Every wait is on an event, bounded by TIMEOUT.
//
// A socket asks to recover only with the offset of an event it received (as the reference
// client does), so each gets one before the drop: /open's "welcome", and on /private an
// "announcement" from the site's announce view (POST /announce/, to the room "members").
//
// The cookie goes in `extraHeaders`. Over polling, Node's XMLHttpRequest shim would drop a
// Cookie header, so polling uses engine.io-client's fetch transport, which sends it.

import { Fetch, Manager } from "socket.io-client";
import { TIMEOUT, opened, runScenario, transports, url, within } from "./scenario_run.mjs";

const cookie = process.env.DJANGO_COOKIE ?? "";
const engineTransports = transports.map((name) => (name === "polling" ? Fetch : name));

/** /private and /open, multiplexed on one connection that carries the login's cookie. */
function loggedIn() {
  const manager = new Manager(url, {
    transports: engineTransports, extraHeaders: { Cookie: cookie }, reconnection: false,
    autoConnect: false,
  });
  const sockets = { private: manager.socket("/private"), open: manager.socket("/open") };
  opened.push(sockets.private, sockets.open);
  for (const [socket, event] of [[sockets.private, "announcement"], [sockets.open, "welcome"]]) {
    socket.received = [];
    socket.waiters = [];
    socket.on(event, (text, offset) => {
      socket.received.push({ text, offsetIsString: typeof offset === "string" });
      for (const [wanted, resolve] of socket.waiters) if (text === wanted) resolve();
    });
  }
  return sockets;
}

/** Resolves once `socket` has received the event with `text`. */
function received(socket, text) {
  if (socket.received.some((event) => event.text === text)) return Promise.resolve();
  return within(new Promise((resolve) => socket.waiters.push([text, resolve])), `"${text}"`);
}

/** A real request to the site, with the login's cookie. */
async function post(path, fields) {
  const response = await within(fetch(url + path, {
    method: "POST", headers: { Cookie: cookie }, body: new URLSearchParams(fields),
  }), path);
  return { status: response.status, body: await response.json() };
}

/** An anonymous connection to "/", to ask the server whether a socket is gone. */
function control() {
  const manager = new Manager(url, { transports: engineTransports, reconnection: false, autoConnect: false });
  const socket = manager.socket("/");
  opened.push(socket);
  return socket;
}

/** Connects `socket` (now, or when `start` runs); resolves once connected. */
function connected(socket, start = () => socket.connect()) {
  const done = within(new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
  }), "connect");
  start();
  return done;
}

/** Connects `socket` expecting a refusal; resolves with its message and data. */
function refused(socket) {
  const done = within(new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error(
      `connected (recovered: ${socket.recovered}) although a refusal was expected`)));
    socket.once("connect_error", (err) => resolve({ message: err.message, data: err.data ?? null }));
  }), "connect_error");
  socket.connect();
  return done;
}

function call(socket, event, ...args) {
  return socket.timeout(TIMEOUT).emitWithAck(event, ...args);
}

function seen(socket) {
  return {
    id: socket.id ?? null, recovered: socket.recovered, connected: socket.connected,
    received: [...socket.received],
  };
}

/** Logged in on both namespaces; then the transport is lost and the server has seen it. */
async function away() {
  const ctl = await connected(control());
  const sockets = loggedIn();
  await Promise.all([connected(sockets.private), connected(sockets.open)]);
  await received(sockets.open, "ann");
  await post("/announce/", { text: "before", room: "members" });
  await received(sockets.private, "before");
  const before = {
    private: { ...seen(sockets.private), whoami: await call(sockets.private, "whoami") },
    open: { ...seen(sockets.open), whoami: await call(sockets.open, "whoami") },
  };
  const lost = Promise.all([sockets.private, sockets.open].map(
    (socket) => within(new Promise((resolve) => socket.once("disconnect", resolve)), "disconnect")));
  sockets.open.io.engine.close();
  await lost;
  const serverReason = {
    private: await call(ctl, "wait_gone", "/private", before.private.id),
    open: await call(ctl, "wait_gone", "/open", before.open.id),
  };
  return { sockets, before, serverReason };
}

const scenarios = {
  // Still logged in: both sockets come back as they were, and /private gets what was
  // announced while it was away.
  async kept() {
    const { sockets, before, serverReason } = await away();
    const announced = await post("/announce/", { text: "while away", room: "members" });
    await Promise.all([connected(sockets.private), connected(sockets.open)]);
    await received(sockets.private, "while away");
    const after = {
      private: { ...seen(sockets.private), whoami: await call(sockets.private, "whoami") },
      open: { ...seen(sockets.open), whoami: await call(sockets.open, "whoami") },
    };
    return { before, serverReason, announced, after };
  },

  // Logged out (through the site's logout view) while away: nothing is restored; /open
  // connects anew as an anonymous socket, /private refuses the anonymous user.
  async logged_out() {
    const { sockets, before, serverReason } = await away();
    const logout = await post("/logout/", {});
    // Both listen before either connects: the answers may come in one payload.
    const [refusal, open] = await Promise.all([refused(sockets.private), connected(sockets.open)]);
    await received(open, "");   // the new socket's welcome: an anonymous user has no name
    const after = {
      open: { ...seen(open), whoami: await call(open, "whoami") },
      private: { ...seen(sockets.private), refusal },
    };
    return { before, serverReason, logout, after };
  },
};

runScenario(scenarios, "django_recovery.mjs", true);
