// The benchmark's handlers on Node's socket.io 4.x, the reference implementation: a third
// column that calibrates the load generator (what the reference server reaches here).
// Same handlers as bench/apps/wsgi_sio_app.py and pysio_app.py; prints the ready line run.py
// waits for. Served on 127.0.0.1 only; port 0 picks a free one.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[process.argv.indexOf("--port") + 1] || 0);
const http = createServer((req, res) => { res.end("node socket.io bench"); });
const io = new Server(http, { pingInterval: 25000, pingTimeout: 20000, maxHttpBufferSize: 1e6 });

io.on("connection", (socket) => {
  socket.join("all");
  socket.on("echo", (...args) => { socket.emit("echo", ...args); });
  socket.on("echo_ack", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(...args);
  });
  socket.on("bcast", (...args) => { io.to("all").emit("b", ...args); });
});

http.listen(port, "127.0.0.1", () => {
  console.log(`node socket.io: serving on http://127.0.0.1:${http.address().port}/`);
});
process.on("SIGTERM", () => { io.close(); http.close(); process.exit(0); });
