// An Akeneo Event Platform receiver in Node.js, correct but for one race: it deduplicates on the CloudEvent id
// with check-then-create against an asynchronous store, as code backed by a database does:
//
//     if (await db.get(event.id)) return 200;   // seen: acknowledge
//     await db.insert(event.id);
//     apply(event);
//
// Two deliveries of one event in flight at once (a redelivery while the first attempt still runs,
// event-platform-facts.md section 3) both read "not seen" before either inserts, and the event is applied
// twice. Everything else is right: raw-body HMAC over PRIMARY and SECONDARY with every secret held, exact hex,
// HmacSHA256 required, ordering by time (synchronous, so it cannot race), tombstones, own events dropped.
//
// Usage: AKENEO_EP_SECRETS=new,old AKENEO_CLIENT_ID=... ROUND_TRIP_MS=5 PORT=... node event_platform_check_then_create.js
"use strict";

const http = require("http");
const crypto = require("crypto");

const SECRETS = (process.env.AKENEO_EP_SECRETS || "").split(",").filter(Boolean);
const CLIENT_ID = process.env.AKENEO_CLIENT_ID || "";
const ROUND_TRIP_MS = Number(process.env.ROUND_TRIP_MS || "5");

const applied = [];
const resources = {};

// The store: a database a few milliseconds away.
const roundTrip = () => new Promise((resolve) => setTimeout(resolve, ROUND_TRIP_MS));
const db = {
  ids: new Set(),
  async get(id) { await roundTrip(); return this.ids.has(id); },
  async insert(id) { await roundTrip(); this.ids.add(id); },
};

function signatureMatches(value, rawBody) {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) return false;
  const sent = Buffer.from(value, "hex");
  return SECRETS.some((secret) => {
    const expected = crypto.createHmac("sha256", secret).update(rawBody).digest();
    return crypto.timingSafeEqual(expected, sent);
  });
}

function isAuthentic(headers, rawBody) {
  if (headers["x-akeneo-signature-algorithm"] !== "HmacSHA256") return false;
  return signatureMatches(headers["x-akeneo-signature-primary"], rawBody)
    || signatureMatches(headers["x-akeneo-signature-secondary"], rawBody);
}

function send(res, status, document) {
  const body = JSON.stringify(document);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function apply(event) {
  const data = event.data || {};
  const type = String(event.type);
  const author = data.author || {};
  if (CLIENT_ID && author.type === "api" && author.identifier === CLIENT_ID) return;  // our own change
  let key;
  if (data.product_model) key = `product_model:${data.product_model.code}`;
  else if (data.product) key = `product:${data.product.uuid}`;
  else return;
  if (!/\.(created|updated|updated\.delta|deleted)$/.test(type)) return;
  const at = Date.parse(event.time);
  const current = resources[key];
  if (current && at < current.at) return;  // outdated; a same-second event may apply
  resources[key] = { event_id: event.id, removed: type.endsWith(".deleted"), at };  // tombstones kept
  applied.push(event.id);
}

async function deliver(event) {
  if (await db.get(event.id)) return;  // the race: another delivery of this id may be between get and insert
  await db.insert(event.id);
  apply(event);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/state") {
      const shown = {};
      for (const [key, value] of Object.entries(resources)) shown[key] = { event_id: value.event_id, removed: value.removed };
      return send(res, 200, { applied, resources: shown });
    }
    if (req.method !== "POST") return send(res, 405, { error: "use POST" });
    const rawBody = Buffer.concat(chunks);
    if (!isAuthentic(req.headers, rawBody)) return send(res, 401, { error: "bad signature" });
    let event;
    try {
      event = JSON.parse(rawBody.toString("utf8"));
      if (typeof event.id !== "string" || !event.id || Number.isNaN(Date.parse(event.time))) throw new Error();
    } catch (error) {
      return send(res, 400, { error: "not a CloudEvent" });
    }
    deliver(event).then(() => send(res, 200, { ok: true }), () => send(res, 500, { error: "store failed" }));
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
