// A correct Akeneo Events API receiver in 30 lines of Node.js, with the kit's observation contract.
const http = require("http"), crypto = require("crypto");
const SECRET = process.env.AKENEO_EVENTS_SECRET, seen = new Set(), applied = [], resources = {};
const idOf = (e) => e.action.startsWith("product_model") ? e.data.resource.code
  : e.data.resource.uuid || e.data.resource.identifier, keyOf = (e) => `${e.action.split(".")[0]}:${idOf(e)}`;
const valid = (e) => typeof e?.event_id === "string" && /^product(_model)?\.(created|updated|removed)$/.test(e.action)
  && typeof e.data?.resource === "object" && e.data.resource !== null && typeof idOf(e) === "string"
  && !Number.isNaN(Date.parse(e.event_datetime));                // a malformed event: refuse the whole batch
http.createServer((req, res) => {
  const chunks = []; req.on("data", (c) => chunks.push(c)); req.on("end", () => {
    if (req.method === "GET" && req.url === "/state") return res.end(JSON.stringify({ applied, resources }));
    const raw = Buffer.concat(chunks), ts = req.headers["x-akeneo-request-timestamp"] || "";
    const sig = Buffer.from(req.headers["x-akeneo-request-signature"] || "");
    const good = Buffer.from(crypto.createHmac("sha256", SECRET).update(`${ts}.`).update(raw).digest("hex"));
    const fresh = /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
    if (!fresh || sig.length !== good.length || !crypto.timingSafeEqual(sig, good)) { res.statusCode = 401; return res.end(); }
    if (raw.length === 0) return res.end();                       // the PIM's "Test" button
    let events; try { events = JSON.parse(raw).events; } catch (e) { events = null; }
    if (!Array.isArray(events) || events.length < 1 || events.length > 10 || !events.every(valid)) { res.statusCode = 400; return res.end(); }
    for (const e of events) {
      if (seen.has(e.event_id)) continue;                          // deduplicate by event_id
      seen.add(e.event_id);
      const key = keyOf(e), at = Date.parse(e.event_datetime), cur = resources[key];
      if (cur && at < cur.at) continue;                            // ignore outdated events (ties may apply)
      resources[key] = { event_id: e.event_id, removed: e.action.endsWith(".removed"), at };  // tombstones kept
      applied.push(e.event_id);
    }
    res.end();
  });
}).listen(Number(process.env.PORT || 8000), "127.0.0.1", () => console.log("listening"));
