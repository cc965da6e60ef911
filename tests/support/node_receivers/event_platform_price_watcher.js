// An Akeneo Event Platform receiver in Node.js that only cares about prices, the way a Cloud Function
// pushing prices to a shop is written: it verifies the signature over the raw bytes, acknowledges every
// authentic event at once, and acts only on product deltas that change the "price" attribute. For those it
// deduplicates on id, ignores a delta older than the last price change it applied (by time) and patches
// the price it holds. Everything else (creations, full updates, deletions, other attributes) is answered
// 200 and left alone, on purpose: judge it with
//     --scope type=product.updated.delta --scope attribute=price
//
// Usage: AKENEO_EP_SECRETS=secret AKENEO_CLIENT_ID=... PORT=... node event_platform_price_watcher.js
"use strict";

const http = require("http");
const crypto = require("crypto");

const SECRETS = (process.env.AKENEO_EP_SECRETS || "").split(",").filter(Boolean);
const CLIENT_ID = process.env.AKENEO_CLIENT_ID || "";

const seen = new Set();
const applied = [];
const prices = {};  // product uuid -> { event_id, at, values }

function hexMatches(value, rawBody) {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) return false;
  return SECRETS.some((secret) => {
    const expected = crypto.createHmac("sha256", secret).update(rawBody).digest();
    return crypto.timingSafeEqual(expected, Buffer.from(value, "hex"));
  });
}

function isAuthentic(headers, rawBody) {
  if (headers["x-akeneo-signature-algorithm"] !== "HmacSHA256") return false;
  return hexMatches(headers["x-akeneo-signature-primary"], rawBody)
    || hexMatches(headers["x-akeneo-signature-secondary"], rawBody);
}

function onPriceChange(event) {
  if (!String(event.type).endsWith(".product.updated.delta")) return;
  const product = (event.data || {}).product || {};
  const priceChanges = ((product.changes || {}).values || {}).price;
  if (!Array.isArray(priceChanges)) return;  // a delta of other attributes: not ours
  const author = event.data.author || {};
  if (CLIENT_ID && author.type === "api" && author.identifier === CLIENT_ID) return;  // our own push
  if (seen.has(event.id)) return;
  seen.add(event.id);
  const at = Date.parse(event.time);
  const current = prices[product.uuid];
  if (current && at < current.at) return;  // an older price change arriving late
  const values = current ? current.values : {};
  for (const change of priceChanges) values[`${change.scope}/${change.locale}`] = change.new;
  prices[product.uuid] = { event_id: event.id, at, values };
  applied.push(event.id);
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
    if (req.method === "GET" && req.url === "/state") {
      const resources = {};
      for (const [uuid, held] of Object.entries(prices)) {
        resources[`product:${uuid}`] = { event_id: held.event_id, removed: false };
      }
      return send(res, 200, { applied, resources });
    }
    if (req.method !== "POST") return send(res, 405, { error: "use POST" });
    const rawBody = Buffer.concat(chunks);
    if (!isAuthentic(req.headers, rawBody)) return send(res, 401, { error: "bad signature" });
    let event;
    try {
      event = JSON.parse(rawBody.toString("utf8"));
      if (typeof event.id !== "string" || Number.isNaN(Date.parse(event.time))) throw new Error("shape");
    } catch (error) {
      return send(res, 400, { error: "not a CloudEvent" });
    }
    onPriceChange(event);
    return send(res, 200, { ok: true });
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
