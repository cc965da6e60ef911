// An Event Platform receiver written from the docs' snippet (event-platform-facts.md section 2, C):
// it parses the body first, as express.json() does, then signs JSON.stringify(body) and compares that with
// the signature headers. That is only right while the platform's bytes are what JSON.stringify writes; a
// body with "\/" or "\u00e9" (valid JSON, same value, other bytes) is refused. Correct in every other way.
// The fix: HMAC the raw bytes (express.json({ verify: (req, res, buf) => { req.rawBody = buf; } })).
//
// Usage: AKENEO_EP_SECRETS=new,old AKENEO_CLIENT_ID=... PORT=... node event_platform_stringify.js
"use strict";

const { apply, matchesAny, send, serve } = require("./event_platform_store");

serve((req, res, rawBody) => {
  let body;
  try {
    body = JSON.parse(rawBody.toString("utf8"));
  } catch (error) {
    return send(res, 400, { error: "invalid JSON" });
  }
  const signed = JSON.stringify(body);
  if (req.headers["x-akeneo-signature-algorithm"] !== "HmacSHA256"
      || !(matchesAny(req.headers["x-akeneo-signature-primary"], signed)
           || matchesAny(req.headers["x-akeneo-signature-secondary"], signed))) {
    return send(res, 401, { error: "bad signature" });
  }
  if (typeof body.id !== "string" || Number.isNaN(Date.parse(body.time))) return send(res, 400, { error: "not a CloudEvent" });
  apply(body);
  return send(res, 200, { ok: true });
});
