// An Akeneo Event Platform receiver in Node.js, correct but for one thing: it decodes each signature header
// with Buffer.from(value, "hex"), which stops at the first character that is not hex instead of failing,
// so a valid signature followed by anything non-hex passes. It checks PRIMARY and SECONDARY against every
// secret it holds (a rotation), requires HmacSHA256, deduplicates on id, orders by time, keeps tombstones
// and drops the events of its own API client.
//
// Usage: AKENEO_EP_SECRETS=new,old AKENEO_CLIENT_ID=... PORT=... node event_platform_lax_hex.js
"use strict";

const http = require("http");
const crypto = require("crypto");

const SECRETS = (process.env.AKENEO_EP_SECRETS || "").split(",").filter(Boolean);
const CLIENT_ID = process.env.AKENEO_CLIENT_ID || "";

const seen = new Set();
const applied = [];
const resources = {};

function signatureMatches(value, rawBody) {
  if (typeof value !== "string") return false;
  const sent = Buffer.from(value, "hex");
  return SECRETS.some((secret) => {
    const expected = crypto.createHmac("sha256", secret).update(rawBody).digest();
    return sent.length === expected.length && crypto.timingSafeEqual(expected, sent);
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

function handle(event) {
  const data = event.data || {};
  const type = String(event.type);
  if (seen.has(event.id)) return;
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
  resources[key] = { event_id: event.id, removed: type.endsWith(".deleted"), at };  // tombstones kept
  applied.push(event.id);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/state") return send(res, 200, { applied, resources });
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
    handle(event);
    return send(res, 200, { ok: true });
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
