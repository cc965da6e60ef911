// An Akeneo Events API receiver in Node.js, written the usual way and correct but for one thing: it decodes
// the signature header with Buffer.from(signature, "hex"), which stops at the first character that is not
// hex (and drops an odd last digit) instead of failing. The length check compares decoded bytes, so the
// valid signature followed by anything non-hex passes. The fix: require /^[0-9a-f]{64}$/ before decoding.
//
// Usage: AKENEO_EVENTS_SECRET=... PORT=... node events_api_lax_hex.js  (exits when its stdin closes)
"use strict";

const http = require("http");
const crypto = require("crypto");

const SECRET = process.env.AKENEO_EVENTS_SECRET;
const TOLERANCE_SECONDS = 300;

const seen = new Set();
const applied = [];
const resources = {};

function isAuthentic(headers, rawBody) {
  const signature = headers["x-akeneo-request-signature"];
  const timestamp = headers["x-akeneo-request-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string") return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    return false;
  }
  const expected = crypto.createHmac("sha256", SECRET).update(timestamp + "." + rawBody).digest("hex");
  const expectedBytes = Buffer.from(expected, "hex");
  const signatureBytes = Buffer.from(signature, "hex");
  return signatureBytes.length === expectedBytes.length && crypto.timingSafeEqual(expectedBytes, signatureBytes);
}

function resourceKey(event) {
  const resource = event.data.resource;
  if (event.action.startsWith("product_model.")) return `product_model:${resource.code}`;
  return `product:${resource.uuid || resource.identifier}`;
}

function parseBatch(rawBody) {
  const events = JSON.parse(rawBody).events;
  if (!Array.isArray(events) || events.length < 1 || events.length > 10) throw new Error("not a batch");
  return events.map((event) => {
    const at = Date.parse(event.event_datetime);
    if (typeof event.event_id !== "string" || typeof event.action !== "string" || Number.isNaN(at)
        || typeof event.data !== "object" || event.data === null || typeof event.data.resource !== "object"
        || event.data.resource === null) {
      throw new Error("not an event");
    }
    return { id: event.event_id, key: resourceKey(event), at, removed: event.action.endsWith(".removed") };
  });
}

function send(res, status, document) {
  const body = JSON.stringify(document);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/state") return send(res, 200, { applied, resources });
    if (req.method !== "POST") return send(res, 405, { error: "use POST" });
    const rawBody = Buffer.concat(chunks).toString("utf8");
    if (!isAuthentic(req.headers, rawBody)) return send(res, 401, { error: "bad signature" });
    if (rawBody.length === 0) return send(res, 200, { test: true });
    let items;
    try {
      items = parseBatch(rawBody);
    } catch (error) {
      return send(res, 400, { error: "malformed batch" });
    }
    for (const item of items) {
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      const current = resources[item.key];
      if (current && item.at < current.at) continue;  // outdated; a same-second event may apply
      resources[item.key] = { event_id: item.id, removed: item.removed, at: item.at };  // tombstones kept
      applied.push(item.id);
    }
    return send(res, 200, { ok: true });
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
