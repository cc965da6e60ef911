// A correct Akeneo Events API receiver in 28 lines of Node.js, with the kit's observation contract.
const http = require("http"), crypto = require("crypto");
const SECRET = process.env.AKENEO_EVENTS_SECRET, seen = new Set(), applied = [], resources = {};
const keyOf = (e) => e.action.startsWith("product_model") ? `product_model:${e.data.resource.code}`
  : `product:${e.data.resource.uuid || e.data.resource.identifier}`;
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
    if (!Array.isArray(events) || events.length < 1 || events.length > 10) { res.statusCode = 400; return res.end(); }
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
