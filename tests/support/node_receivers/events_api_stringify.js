// An Akeneo Events API receiver in Node.js that parses the body first, as express.json() does, then signs
// "<ts>." + JSON.stringify(body). The PIM signs the bytes PHP's json_encode wrote, with "\/" and "\uXXXX"
// (events-api-facts.md section 3), which JSON.stringify writes as "/" and raw UTF-8, so nearly every
// genuine request is refused. Correct in every other way (freshness, dedupe, order, tombstones).
//
// Usage: AKENEO_EVENTS_SECRET=... PORT=... node events_api_stringify.js  (exits when its stdin closes)
"use strict";

const http = require("http");
const crypto = require("crypto");

const SECRET = process.env.AKENEO_EVENTS_SECRET;
const TOLERANCE_SECONDS = 300;

const seen = new Set();
const applied = [];
const resources = {};

function isAuthentic(headers, body) {
  const signature = headers["x-akeneo-request-signature"];
  const timestamp = headers["x-akeneo-request-timestamp"];
  if (typeof signature !== "string" || typeof timestamp !== "string" || !/^[0-9a-f]{64}$/.test(signature)) return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  const serialised = body === undefined ? "" : JSON.stringify(body);
  const expected = crypto.createHmac("sha256", SECRET).update(timestamp + "." + serialised).digest("hex");
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
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
    const raw = Buffer.concat(chunks).toString("utf8");
    let body;
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw);  // express.json() leaves an empty body unset
    } catch (error) {
      return send(res, 400, { error: "invalid JSON" });
    }
    if (!isAuthentic(req.headers, body)) return send(res, 401, { error: "bad signature" });
    if (body === undefined) return send(res, 200, { test: true });
    const events = body.events;
    if (!Array.isArray(events) || events.length < 1 || events.length > 10) return send(res, 400, { error: "not a batch" });
    for (const event of events) {
      const resource = event && event.data && event.data.resource;
      const at = Date.parse(event && event.event_datetime);
      if (!resource || typeof event.event_id !== "string" || typeof event.action !== "string" || Number.isNaN(at)) {
        return send(res, 400, { error: "not an event" });
      }
    }
    for (const event of events) {
      if (seen.has(event.event_id)) continue;
      seen.add(event.event_id);
      const resource = event.data.resource;
      const key = event.action.startsWith("product_model.") ? `product_model:${resource.code}`
        : `product:${resource.uuid || resource.identifier}`;
      const at = Date.parse(event.event_datetime);
      const current = resources[key];
      if (current && at < current.at) continue;
      resources[key] = { event_id: event.event_id, removed: event.action.endsWith(".removed"), at };
      applied.push(event.event_id);
    }
    return send(res, 200, { ok: true });
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
