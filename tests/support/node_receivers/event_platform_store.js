// What the Event Platform test receivers in this folder share: the state a correct receiver keeps (dedupe on
// id, order by time, tombstones, own events dropped, event-platform-facts.md sections 3 and 6), served at
// GET /state, and an HTTP server on PORT that exits when its stdin closes. Each receiver script brings its
// own request handler, where its one bug lives.
"use strict";

const http = require("http");
const crypto = require("crypto");

const SECRETS = (process.env.AKENEO_EP_SECRETS || "").split(",").filter(Boolean);
const CLIENT_ID = process.env.AKENEO_CLIENT_ID || "";

const seen = new Set();
const applied = [];
const resources = {};

function hmacHex(secret, data) {
  return crypto.createHmac("sha256", secret).update(data).digest("hex");
}

// Whether `value` is exactly the hex HMAC of `data` with one of the secrets held.
function matchesAny(value, data) {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) return false;
  return SECRETS.some((secret) => crypto.timingSafeEqual(Buffer.from(hmacHex(secret, data)), Buffer.from(value)));
}

// Apply one CloudEvent; `dedupe: false` is the bug of a receiver that forgot at-least-once delivery.
function apply(event, { dedupe = true } = {}) {
  const data = event.data || {};
  if (dedupe && seen.has(event.id)) return;
  seen.add(event.id);
  const author = data.author || {};
  if (CLIENT_ID && author.type === "api" && author.identifier === CLIENT_ID) return;  // our own change
  let key;
  if (data.product_model) key = `product_model:${data.product_model.code}`;
  else if (data.product) key = `product:${data.product.uuid}`;
  else return;
  const at = Date.parse(event.time);
  const current = resources[key];
  if (current && at < current.at) return;  // outdated; a same-second event may apply
  resources[key] = { event_id: event.id, removed: String(event.type).endsWith(".deleted"), at };
  applied.push(event.id);
}

function send(res, status, document) {
  const body = JSON.stringify(document);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

// Serve `handle(req, res, rawBody)` for POSTs and the observation at GET /state.
function serve(handle) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/state") return send(res, 200, { applied, resources });
      if (req.method !== "POST") return send(res, 405, { error: "use POST" });
      return handle(req, res, Buffer.concat(chunks));
    });
  });
  server.listen(Number(process.env.PORT), "127.0.0.1");
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

module.exports = { SECRETS, apply, hmacHex, matchesAny, send, serve };
