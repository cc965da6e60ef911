// An Events API receiver half ported to the Event Platform. Its new handler for *.updated.delta events,
// written from the Event Platform docs, checks X-AKENEO-SIGNATURE-PRIMARY over the raw body; every other
// event still goes through the old check, which reads X-Akeneo-Request-Signature over "<ts>.<body>"
// (event-platform-facts.md section 6, the old Events API) and so answers 401 to all of them: the
// subscription is suspended under the 90 % threshold (section 3). Its other bug hides behind that: the
// new handler never deduplicates on id, so a redelivered delta is applied twice.
//
// Usage: AKENEO_EP_SECRETS=new,old AKENEO_CLIENT_ID=... PORT=... node event_platform_old_header.js
"use strict";

const { SECRETS, apply, hmacHex, matchesAny, send, serve } = require("./event_platform_store");

function oldApiAuthentic(headers, rawBody) {
  const signature = headers["x-akeneo-request-signature"];
  const timestamp = headers["x-akeneo-request-timestamp"];
  return typeof signature === "string" && typeof timestamp === "string"
    && SECRETS.some((secret) => hmacHex(secret, `${timestamp}.${rawBody}`) === signature);
}

serve((req, res, rawBody) => {
  let event;
  try {
    event = JSON.parse(rawBody.toString("utf8"));
    if (typeof event.id !== "string" || Number.isNaN(Date.parse(event.time))) throw new Error();
  } catch (error) {
    return send(res, 400, { error: "not a CloudEvent" });
  }
  if (String(event.type).endsWith(".updated.delta")) {
    if (!matchesAny(req.headers["x-akeneo-signature-primary"], rawBody)) return send(res, 401, { error: "bad signature" });
    apply(event, { dedupe: false });  // the hidden bug: at-least-once delivery forgotten
    return send(res, 200, { ok: true });
  }
  if (!oldApiAuthentic(req.headers, rawBody)) return send(res, 401, { error: "bad signature" });
  apply(event);
  return send(res, 200, { ok: true });
});
