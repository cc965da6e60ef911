// An Event Platform receiver that verifies the raw body correctly but, on a bad signature, returns from
// its handler without answering (`if (!valid) return;`, the res.end forgotten): the platform waits its
// 5 s timeout, the connection stays held, and the refusal is never seen. Correct in every other way.
//
// Usage: AKENEO_EP_SECRETS=new,old AKENEO_CLIENT_ID=... PORT=... node event_platform_hangs.js
"use strict";

const { apply, matchesAny, send, serve } = require("./event_platform_store");

serve((req, res, rawBody) => {
  const valid = req.headers["x-akeneo-signature-algorithm"] === "HmacSHA256"
    && (matchesAny(req.headers["x-akeneo-signature-primary"], rawBody)
        || matchesAny(req.headers["x-akeneo-signature-secondary"], rawBody));
  if (!valid) return;  // the bug: no res.statusCode = 401; res.end()
  let event;
  try {
    event = JSON.parse(rawBody.toString("utf8"));
    if (typeof event.id !== "string" || Number.isNaN(Date.parse(event.time))) throw new Error();
  } catch (error) {
    return send(res, 400, { error: "not a CloudEvent" });
  }
  apply(event);
  return send(res, 200, { ok: true });
});
