// A status-hub client built the way live-timing-backend.md shows it: @microsoft/signalr's
// HubConnectionBuilder().withUrl(url).withAutomaticReconnect(), run by node for the Python tests.
//
//   node hub_client.mjs <hub url> [--token T] [--skip-negotiation]
//
// Commands come on stdin, one JSON object a line:
//   {"op": "start"}   {"op": "subscribe", "event": 42}   {"op": "unsubscribe", "event": 42}
//   {"op": "restart"} (stop, start, subscribe again)   {"op": "stop"} (stop and exit)
// Everything the client sees goes to stdout as JSON lines:
//   {"kind": "started"} | {"kind": "start-failed", "error": "..."}
//   {"kind": "status", "full": true, "payload": {...}}  (full: base64 -> gunzip -> JSON)
//   {"kind": "done", "op": "subscribe", "event": 42, "error": null | "..."}
//   {"kind": "reconnecting"} | {"kind": "reconnected"} | {"kind": "closed", "error": ...}
import * as signalR from "@microsoft/signalr";
import { gunzipSync } from "node:zlib";
import { createInterface } from "node:readline";

const args = process.argv.slice(2);
const url = args[0];
const token = args.includes("--token") ? args[args.indexOf("--token") + 1] : null;
const skipNegotiation = args.includes("--skip-negotiation");

const print = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const warnings = {
  log(level, message) {
    if (level >= signalR.LogLevel.Warning) process.stderr.write(`signalr: ${message}\n`);
  },
};

const options = {};
if (token) options.accessTokenFactory = () => token;
if (skipNegotiation) {
  options.skipNegotiation = true;
  options.transport = signalR.HttpTransportType.WebSockets;
}
const connection = new signalR.HubConnectionBuilder()
  .withUrl(url, options)
  .withAutomaticReconnect()
  .configureLogging(warnings)
  .build();

// Full payloads are gzip + base64; incremental ones plain JSON (they start with "{").
connection.on("ReceiveMessage", (status) => {
  const full = !status.startsWith("{");
  const text = full ? gunzipSync(Buffer.from(status, "base64")).toString("utf8") : status;
  print({ kind: "status", full, payload: JSON.parse(text) });
});

const following = new Set();

async function call(op, event) {
  const target = op === "subscribe" ? "SubscribeToEvent" : "UnsubscribeFromEvent";
  try {
    await connection.invoke(target, event);
    if (op === "subscribe") following.add(event);
    else following.delete(event);
    print({ kind: "done", op, event, error: null });
  } catch (error) {
    print({ kind: "done", op, event, error: String(error.message ?? error) });
  }
}

async function start() {
  try {
    await connection.start();
    print({ kind: "started", connectionId: connection.connectionId });
    return true;
  } catch (error) {
    print({ kind: "start-failed", error: String(error.message ?? error) });
    return false;
  }
}

// A reconnected connection is a new one on the server: follow the same events again.
connection.onreconnecting(() => print({ kind: "reconnecting" }));
connection.onreconnected(async () => {
  print({ kind: "reconnected" });
  for (const event of following) await call("subscribe", event);
});
connection.onclose((error) => print({ kind: "closed", error: error ? String(error) : null }));

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.op === "start") {
    await start();
  } else if (command.op === "subscribe" || command.op === "unsubscribe") {
    await call(command.op, command.event);
  } else if (command.op === "restart") {
    await connection.stop();
    if (await start()) for (const event of following) await call("subscribe", event);
  } else if (command.op === "stop") {
    break;
  }
}
await connection.stop();
process.exit(0);
