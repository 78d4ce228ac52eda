// What the one-scenario scripts (scenarios.mjs, scenarios_v2.mjs, recovery.mjs) share:
//
//   node <script> <url> <transports comma list> <scenario>
//
// the arguments, the sockets to close at the end (`opened`), `finish` (ONE JSON line, then
// exit) and `within` (every wait bounded by TIMEOUT; there are no fixed sleeps).

export const TIMEOUT = 10_000;

export const [url, transportList = "", scenario] = process.argv.slice(2);
export const transports = transportList.split(",").filter(Boolean);
export const opened = [];

export function finish(result, code) {
  process.exitCode = code;
  process.stdout.write(JSON.stringify(result) + "\n");
  // Close cleanly and let Node exit once the last packets (e.g. a polling POST carrying the
  // DISCONNECT) are out, so the server sees the disconnects rather than ping timeouts later;
  // the unref'd timer only cuts short a client that would not let go.
  for (const socket of opened) socket.disconnect();
  setTimeout(() => process.exit(code), 3000).unref();
}

/** A promise that rejects after `ms` with a message naming what was awaited. */
export function within(promise, what, ms = TIMEOUT) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Run the scenario named on the command line (usage and exit 2 when there is none such),
 * within 4 * TIMEOUT; `script` names the script in the usage line. */
export function runScenario(scenarios, script, needsTransports = false) {
  const run = Object.hasOwn(scenarios, scenario ?? "") ? scenarios[scenario] : undefined;
  if (!run || (needsTransports && (!url || !transports.length))) {
    const names = Object.keys(scenarios).join("|");
    finish({ ok: false, error: `usage: node ${script} <url> <transports> <${names}>` }, 2);
  } else {
    within(run(), `scenario ${scenario}`, 4 * TIMEOUT)
      .then((observed) => finish({ ok: true, scenario, transports, ...observed }, 0))
      .catch((err) => finish({ ok: false, scenario, transports, error: String(err?.stack ?? err) }, 1));
  }
}
