"""Hostile requests for the reference receiver served over real HTTP, as raw bytes with their expected answers.

Anyone on the internet can reach a receiver; only the signature proves the PIM sent a request
(events-api-facts.md sections 1 and 2). Each :class:`Case` is a script of raw socket steps (httpx cannot
send most of these) and what a correct receiver behind a real HTTP server answers: a 4xx (never a 5xx),
or a closed connection when there is no one left to answer, and nothing applied.

Signed cases are signed at :data:`NOW`; the server under test runs on a ``FakeClock(NOW)``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from akeneo_events_testkit.events_api.probes import PROBE_KINDS, make_probe
from akeneo_events_testkit.events_api.signing import sign
from akeneo_events_testkit.events_api.wire import Delivery, Event
from akeneo_events_testkit.receiver import DEFAULT_MAX_BODY
from akeneo_events_testkit.versions import Action, AuthorType, format_event_datetime, get_profile

SECRET = "hardening0k2ps0wggoc84ww80000o0ogs0ssc444w008s8kk"
NOW = 1_700_000_000
HeaderValue = str | bytes


# -- script steps -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """Stay silent this long; meanwhile the runner checks that other clients are still served."""

    seconds: float


@dataclass(frozen=True)
class Trickle:
    """Send ``data`` in ``pieces`` parts, ``interval`` seconds apart (a slow client)."""

    data: bytes
    pieces: int
    interval: float


SHUT_WR = "shut_wr"  # half-close: the client will send nothing more
Step = bytes | Pause | Trickle | str


@dataclass(frozen=True)
class Case:
    """One hostile request script and the answer it must get.

    ``statuses`` are the final answers in order (``100 Continue`` excluded). With ``may_close`` the server may
    instead drop the connection without a word (garbage, an upload it aborted). ``closes`` requires the
    connection closed after the answers. ``applies`` lists the only event ids that may be applied.
    """

    name: str
    build: Callable[[], Sequence[Step]]
    statuses: tuple[int, ...]
    may_close: bool = False
    closes: bool = False
    head: bool = False
    no_continue: bool = False
    applies: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.name


# -- building blocks ----------------------------------------------------------------------------------------


def request(
    method: str = "POST",
    target: str = "/webhook",
    headers: Sequence[tuple[str, HeaderValue]] = (),
    body: bytes = b"",
    *,
    version: str = "HTTP/1.1",
    host: bool = True,
    length: int | None = -1,
) -> bytes:
    """A raw request; ``length`` -1 sends the true Content-Length, None sends none."""
    lines = [f"{method} {target} {version}".encode("latin-1")]
    if host:
        lines.append(b"Host: 127.0.0.1")
    for name, value in headers:
        raw = value if isinstance(value, bytes) else value.encode("latin-1")
        lines.append(name.encode("latin-1") + b": " + raw)
    if length is not None:
        lines.append(b"Content-Length: %d" % (len(body) if length == -1 else length))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed_headers(body: bytes, *, ts: int | str = NOW, secret: str = SECRET) -> list[tuple[str, HeaderValue]]:
    return [
        ("Content-Type", "application/json"),
        ("X-Akeneo-Request-Signature", sign(secret, ts, body)),
        ("X-Akeneo-Request-Timestamp", str(ts)),
    ]


def forged_headers(body: bytes) -> list[tuple[str, HeaderValue]]:
    return signed_headers(body, secret=SECRET + "-forged")


def signed(body: bytes, **options: object) -> bytes:
    """A POST of ``body`` validly signed at :data:`NOW`."""
    return request(headers=signed_headers(body), body=body, **options)  # type: ignore[arg-type]


def forged(body: bytes, **options: object) -> bytes:
    return request(headers=forged_headers(body), body=body, **options)  # type: ignore[arg-type]


def chunked(body: bytes, size: int = 64 * 1024, *, terminate: bool = True) -> bytes:
    """``body`` in chunked transfer coding."""
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + (b"0\r\n\r\n" if terminate else b"")


def chunked_request(headers: Sequence[tuple[str, HeaderValue]], body: bytes, *, terminate: bool = True) -> bytes:
    head = request(headers=[*headers, ("Transfer-Encoding", "chunked")], length=None)
    return head + chunked(body, terminate=terminate)


def event(rng: random.Random, identifier: str, *, at: int = NOW - 60, action: str = "product.updated") -> Event:
    """A small valid product event on a resource of its own."""
    act = Action(action)
    resource: dict[str, object] = {"identifier": identifier}
    if not act.is_removal:
        resource["values"] = {"name": [{"locale": None, "scope": None, "data": identifier}]}
    return Event(act, str(uuid.UUID(int=rng.getrandbits(128), version=4)), format_event_datetime(at), "julia",
                 AuthorType.UI, "https://demo.akeneo.com", {"resource": resource})


def valid_delivery(rng: random.Random, identifier: str = "hardening-ok", *, ts: int = NOW) -> Delivery:
    return Delivery.build([event(rng, identifier)], secret=SECRET, timestamp=ts)


_TEMPLATE = (
    '{"events":[{"action":"product.updated","event_id":"5f0c5f54-4a4e-4c1e-9f51-0d3c9b8a7e21",'
    '"event_datetime":"2023-11-14T22:12:20+00:00","author":"julia","author_type":"ui",'
    '"pim_source":"https:\\/\\/demo.akeneo.com","data":{"resource":{"identifier":"hard-1",'
    '"values":{"n":[{"locale":null,"scope":null,"data":%s}]}}}}]}'
)
TEMPLATE_EVENT_ID = "5f0c5f54-4a4e-4c1e-9f51-0d3c9b8a7e21"


def envelope_with(value_json: str | bytes) -> bytes:
    """A well-formed one-event envelope whose one product value holds ``value_json`` verbatim.

    With a benign value (``"x"``) the reference receiver applies it; the hostile part is the only flaw.
    """
    raw = value_json.encode("latin-1") if isinstance(value_json, str) else value_json
    head, tail = _TEMPLATE.encode("ascii").split(b"%s")
    return head + raw + tail


def nested(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * depth + closer * depth


# -- the corpus ---------------------------------------------------------------------------------------------


#: Robustness probes the reference receiver refuses as unauthentic (401): harmless to accept, not the PIM's.
_NOT_THE_PIMS_SIGNATURE = frozenset({"uppercase_signature", "non_numeric_timestamp"})


def _probe_cases() -> list[Case]:
    cases = []
    for number, name in enumerate(PROBE_KINDS):
        probe = make_probe(name, rng=random.Random(f"probe:{name}"), secret=SECRET, timestamp=NOW,
                           profile=get_profile("saas"), pim_source="https://demo.akeneo.com", number=number)
        wire = request(headers=probe.headers, body=probe.body)
        kind = PROBE_KINDS[name]
        if name in ("wrong_content_type", "event_id_not_uuid", "unknown_fields"):
            # Validly signed and well-formed: the signature, not the Content-Type, proves origin; an event_id
            # need not be a UUID to be unique, and unknown fields are what later PIM versions send. The
            # corpus entries that apply (only their own probe-... resources).
            cases.append(Case(f"probe-{name}", lambda w=wire: [w], (200,), applies=probe.event_ids))
        elif kind.family == "robustness" and name not in _NOT_THE_PIMS_SIGNATURE:
            cases.append(Case(f"probe-{name}", lambda w=wire: [w], (400,)))
        else:  # authenticity, freshness and the robustness probes whose headers the PIM never sends: 401
            cases.append(Case(f"probe-{name}", lambda w=wire: [w], (401,), headers=(
                ("www-authenticate", 'Akeneo-Signature realm="events-api"'),)))
    return cases


def _body() -> bytes:
    return valid_delivery(random.Random("corpus-body"), "hardening-victim").body


def _truncated_cases() -> list[Case]:
    def declared_more() -> list[Step]:
        body = _body()  # the whole signed body arrives, but Content-Length promises 50 bytes more
        return [request(headers=signed_headers(body), body=body, length=len(body) + 50), SHUT_WR]

    def half_body() -> list[Step]:
        body = _body()
        return [request(headers=signed_headers(body), length=len(body)) + body[: len(body) // 2], SHUT_WR]

    def headers_only() -> list[Step]:
        return [request(headers=signed_headers(_body()), length=500), SHUT_WR]

    def mid_headers() -> list[Step]:
        return [signed(_body())[:40], SHUT_WR]

    def chunked_unterminated() -> list[Step]:
        body = _body()
        return [chunked_request(signed_headers(body), body, terminate=False), SHUT_WR]

    def chunk_promising_more() -> list[Step]:
        body = _body()
        head = request(headers=[*signed_headers(body), ("Transfer-Encoding", "chunked")], length=None)
        return [head + b"%x\r\n" % (len(body) + 10) + body, SHUT_WR]

    def stalled_then_gone() -> list[Step]:
        body = _body()
        return [request(headers=signed_headers(body), length=len(body)) + body[:-1], Pause(0.3), SHUT_WR]

    return [
        Case("truncated-content-length-50-more", declared_more, ()),
        Case("truncated-half-body", half_body, ()),
        Case("truncated-headers-only", headers_only, ()),
        Case("truncated-inside-headers", mid_headers, ()),
        Case("truncated-chunked-no-last-chunk", chunked_unterminated, ()),
        Case("truncated-chunk-shorter-than-declared", chunk_promising_more, ()),
        Case("truncated-stalled-one-byte-short", stalled_then_gone, ()),
    ]


def _oversized_cases() -> list[Case]:
    limit = DEFAULT_MAX_BODY
    too_big = (("content-type", "application/json"), ("connection", "close"))

    def declared(length: int, *extra: tuple[str, str]) -> Callable[[], list[Step]]:
        return lambda: [request(headers=[*forged_headers(b"{}"), *extra], length=length)]

    def chunked_over() -> list[Step]:
        body = b'{"events":["' + b"x" * (limit + 100) + b'"]}'
        return [chunked_request(signed_headers(body), body)]

    def at_the_limit() -> list[Step]:
        body = b'{"events":["' + b"x" * (limit - 15) + b'"]}'
        assert len(body) == limit
        return [forged(body)]

    return [
        Case("oversized-declared-max-plus-1", declared(limit + 1), (413,), closes=True, no_continue=True,
             headers=too_big),
        Case("oversized-declared-20mb-expect-100-continue", declared(20_000_000, ("Expect", "100-continue")),
             (413,), closes=True, no_continue=True, headers=too_big),
        Case("oversized-declared-18-digit-length", declared(999_999_999_999_999_999), (413,), closes=True),
        Case("oversized-19-digit-length", declared(9_999_999_999_999_999_999), (400,), closes=True),
        Case("oversized-chunked-signed-10mb-plus", chunked_over, (413,), may_close=True),
        Case("oversized-exactly-the-limit-is-read-then-401", at_the_limit, (401,)),
    ]


def _json_cases() -> list[Case]:
    def signed_case(name: str, body: Callable[[], bytes]) -> Case:
        return Case(name, lambda: [signed(body())], (400,))

    return [
        signed_case("nesting-100000-arrays", lambda: nested(100_000)),
        signed_case("nesting-100000-objects", lambda: b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        signed_case("nesting-65-levels-in-a-value", lambda: envelope_with(nested(60))),
        Case("nesting-deep-unsigned", lambda: [forged(nested(100_000))], (401,)),
        signed_case("utf8-invalid-byte", lambda: envelope_with(b'"caf\xe9"')),
        signed_case("utf8-overlong-slash", lambda: envelope_with(b'"\xc0\xaf"')),
        signed_case("utf8-encoded-surrogate", lambda: envelope_with(b'"\xed\xa0\x80"')),
        signed_case("utf8-escaped-lone-surrogate", lambda: envelope_with(b'"\\ud800"')),
        signed_case("utf8-bom-prefix", lambda: b"\xef\xbb\xbf" + envelope_with(b'"x"')),
        signed_case("utf16-body", lambda: envelope_with(b'"x"').decode().encode("utf-16")),
        signed_case("duplicate-key-events", lambda: envelope_with(b'"x"')[:-1] + b',"events":[]}'),
        signed_case("duplicate-key-event-id", lambda: envelope_with(b'"x"').replace(
            b'"action"', b'"event_id":"0b0c5f54-4a4e-4c1e-9f51-0d3c9b8a7e21","action"', 1)),
        signed_case("duplicate-key-in-a-value", lambda: envelope_with(b'{"a":1,"a":2}')),
        signed_case("number-1e400", lambda: envelope_with(b"1e400")),
        signed_case("number-minus-1e400", lambda: envelope_with(b"-1e400")),
        signed_case("number-5000-digits", lambda: envelope_with(b"1" + b"0" * 5000)),
        signed_case("number-2-pow-64", lambda: envelope_with(str(2**64).encode())),
        signed_case("number-long-fraction", lambda: envelope_with(b"0." + b"1" * 5000)),
        signed_case("literal-nan", lambda: envelope_with(b"NaN")),
        signed_case("literal-infinity", lambda: envelope_with(b"Infinity")),
        signed_case("literal-minus-infinity", lambda: envelope_with(b"-Infinity")),
    ]


def _method_and_path_cases() -> list[Case]:
    def plain(method: str, target: str, body: bytes = b"", **options: object) -> Callable[[], list[Step]]:
        return lambda: [request(method, target, forged_headers(body), body, **options)]  # type: ignore[arg-type]

    allow_post = (("allow", "POST"),)
    allow_get = (("allow", "GET"),)
    cases = [
        Case(f"method-{method.lower()}-webhook", plain(method, "/webhook", b'{"events":[]}'), (405,),
             headers=allow_post)
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS")
    ]
    cases += [
        Case("method-head-webhook", plain("HEAD", "/webhook", length=None), (405,), head=True, headers=allow_post),
        Case("method-get-root-webhook-path", plain("GET", "/", length=None), (405,), headers=allow_post),
        Case("method-lowercase-post", plain("post", "/webhook"), (405,), headers=allow_post),
        Case("method-post-state", plain("POST", "/state", b'{"applied":[]}'), (405,), headers=allow_get),
        Case("method-delete-state", plain("DELETE", "/state"), (405,), headers=allow_get),
        Case("method-post-state-huge-declared", plain("POST", "/state", length=20_000_000), (405,)),
        Case("path-unknown", plain("POST", "/nope", b"{}"), (404,)),
        Case("path-trailing-slash", plain("POST", "/webhook/", b"{}"), (404,)),
        Case("path-upper-case", plain("POST", "/WEBHOOK", b"{}"), (404,)),
        Case("path-dot-dot", plain("GET", "/webhook/../state", length=None), (404,)),
        Case("path-encoded-nul", plain("POST", "/webhook%00", b"{}"), (404,)),
        Case("path-absolute-form-unknown", plain("POST", "http://127.0.0.1/nope", b"{}"), (404,)),
        Case("path-asterisk", plain("OPTIONS", "*", length=None), (404,)),
        Case("path-100kb", plain("GET", "/" + "a" * 100_000, length=None), (404,)),
    ]
    return cases


def _header_cases() -> list[Case]:
    body_for = _body

    def with_headers(edit: Callable[[list[tuple[str, HeaderValue]], bytes], list[tuple[str, HeaderValue]]]
                     ) -> Callable[[], list[Step]]:
        def build() -> list[Step]:
            body = body_for()
            return [request(headers=edit(signed_headers(body), body), body=body)]
        return build

    def replace(name: str, value: HeaderValue) -> Callable[[list[tuple[str, HeaderValue]], bytes],
                                                           list[tuple[str, HeaderValue]]]:
        return lambda headers, _: [(n, value if n == name else v) for n, v in headers]

    sig, ts = "X-Akeneo-Request-Signature", "X-Akeneo-Request-Timestamp"

    def duplicated(name: str) -> Callable[[list[tuple[str, HeaderValue]], bytes], list[tuple[str, HeaderValue]]]:
        return lambda headers, _: headers + [(n, v) for n, v in headers if n == name]

    def lf_injected(headers: list[tuple[str, HeaderValue]], body: bytes) -> list[tuple[str, HeaderValue]]:
        good = sign(SECRET, NOW, body)
        return [(n, (good + "\nX-Akeneo-Request-Signature: " + "0" * 64) if n == sig else v) for n, v in headers]

    def cr_injected(headers: list[tuple[str, HeaderValue]], body: bytes) -> list[tuple[str, HeaderValue]]:
        return [(n, sign(SECRET, NOW, body) + "\rX-Injected: 1" if n == sig else v) for n, v in headers]

    def comma_joined(headers: list[tuple[str, HeaderValue]], body: bytes) -> list[tuple[str, HeaderValue]]:
        good = sign(SECRET, NOW, body)
        return [(n, f"{good}, {good}" if n == sig else v) for n, v in headers]

    def obs_fold(headers: list[tuple[str, HeaderValue]], body: bytes) -> list[tuple[str, HeaderValue]]:
        good = sign(SECRET, NOW, body)
        return [(n, f"{good[:32]}\r\n {good[32:]}" if n == sig else v) for n, v in headers]

    def extra(name: str, value: HeaderValue) -> Callable[[list[tuple[str, HeaderValue]], bytes],
                                                         list[tuple[str, HeaderValue]]]:
        return lambda headers, _: [*headers, (name, value)]

    return [
        Case("header-cr-in-signature", with_headers(cr_injected), (400,), may_close=True),
        Case("header-lf-injects-second-signature", with_headers(lf_injected), (401,)),
        Case("header-nul-in-value", with_headers(extra("X-Note", "a\x00b")), (400,), may_close=True),
        Case("header-duplicated-signature", with_headers(duplicated(sig)), (401,)),
        Case("header-duplicated-timestamp", with_headers(duplicated(ts)), (401,)),
        Case("header-comma-joined-signatures", with_headers(comma_joined), (401,)),
        Case("header-obs-fold-signature", with_headers(obs_fold), (401,)),
        Case("header-8kb-signature", with_headers(replace(sig, "a" * 8192)), (401,)),
        Case("header-1mb-value", with_headers(extra("X-Long", "a" * 1_000_000)), (400,), may_close=True),
        Case("header-20000-headers", lambda: [request(headers=[(f"X-H{i}", "v") for i in range(20_000)])],
             (400,), may_close=True),
        Case("header-non-ascii-signature", with_headers(replace(sig, "é".encode() * 32)), (401,)),
        Case("header-latin1-superscript-timestamp", with_headers(replace(ts, "\xb2\xb3")), (401,)),
        Case("header-5000-digit-timestamp", with_headers(replace(ts, "1" * 5000)), (401,)),
        Case("header-negative-timestamp", with_headers(replace(ts, f"-{NOW}")), (401,)),
        Case("header-non-ascii-name", with_headers(extra("X-\xe9", "v")), (400,), may_close=True),
        Case("header-space-before-colon", lambda: [request(headers=[(sig + " ", "v")])], (400,), may_close=True),
        Case("header-line-without-colon", lambda: [signed(body_for()).replace(b"Host: 127.0.0.1", b"Host", 1)],
             (400,), may_close=True),
        Case("header-two-content-lengths", lambda: [request(headers=[("Content-Length", "3")], body=b"{}")],
             (400,), may_close=True),
        Case("header-negative-content-length", lambda: [request(length=None, headers=[("Content-Length", "-1")])],
             (400,), may_close=True),
        Case("header-duplicate-host", lambda: [request("GET", "/state", [("Host", "evil.example")],
                                                       length=None)], (400,), may_close=True),
        Case("header-no-host-http-1-1", lambda: [request(host=False, headers=forged_headers(b"{}"), body=b"{}")],
             (400,), may_close=True),
    ]


def _transfer_cases() -> list[Case]:
    def forged_chunked() -> list[Step]:
        body = _body()
        return [chunked_request(forged_headers(body), body)]

    def bad_chunk_size() -> list[Step]:
        return [request(headers=forged_headers(b""), length=None).replace(
            b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n")]

    def gzip_chunked() -> list[Step]:
        return [request(headers=[("Transfer-Encoding", "gzip, chunked")], length=None) + b"0\r\n\r\n"]

    def length_and_chunked() -> list[Step]:
        body = _body()
        return [request(headers=[*forged_headers(body), ("Transfer-Encoding", "chunked")], length=len(body))
                + chunked(body)]

    def huge_chunk() -> list[Step]:
        return [request(headers=signed_headers(b""), length=None).replace(
            b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nab"), SHUT_WR]

    return [
        Case("chunked-forged-signature", forged_chunked, (401,)),
        Case("chunked-bad-chunk-size", bad_chunk_size, (400,), may_close=True),
        Case("chunked-under-gzip", gzip_chunked, (400,), may_close=True),
        Case("chunked-and-content-length", length_and_chunked, (401,)),
        Case("chunked-80-bit-chunk-size", huge_chunk, ()),
    ]


def _slow_cases() -> list[Case]:
    def trickled_body() -> list[Step]:
        body = _body()
        wire = forged(body)
        split = wire.index(b"\r\n\r\n") + 4
        return [wire[:split], Trickle(wire[split:], 20, 0.04)]

    def trickled_headers() -> list[Step]:
        wire = forged(_body())
        split = wire.index(b"\r\n\r\n")
        return [Trickle(wire[:split], 25, 0.03), wire[split:]]

    def stalled_headers() -> list[Step]:
        wire = forged(_body())
        return [wire[:60], Pause(0.6), wire[60:]]

    def stalled_body() -> list[Step]:
        body = _body()
        wire = forged(body)
        return [wire[:-20], Pause(0.6), wire[-20:]]

    return [
        Case("slow-trickled-body", trickled_body, (401,)),
        Case("slow-trickled-headers", trickled_headers, (401,)),
        Case("slow-stall-in-headers", stalled_headers, (401,)),
        Case("slow-stall-in-body", stalled_body, (401,)),
    ]


def _protocol_cases() -> list[Case]:
    def http10_forged() -> list[Step]:
        return [forged(_body(), version="HTTP/1.0", host=False)]

    def pipelined(*parts: Callable[[], bytes]) -> Callable[[], list[Step]]:
        return lambda: [b"".join(part() for part in parts)]

    return [
        Case("http-1-0-forged-post", http10_forged, (401,), closes=True),
        Case("http-1-0-unknown-path", lambda: [request("GET", "/nope", version="HTTP/1.0", host=False,
                                                       length=None)], (404,), closes=True),
        Case("http-1-0-chunked", lambda: [request(headers=[("Transfer-Encoding", "chunked")], version="HTTP/1.0",
                                                  host=False, length=None) + b"0\r\n\r\n"], (401,), closes=True),
        Case("http-0-9-request-line", lambda: [b"GET /state\r\n\r\n"], (400,), may_close=True),
        Case("http-2-preface", lambda: [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"], (404, 400), may_close=True),
        Case("http-version-9-9", lambda: [request("GET", "/nope", version="HTTP/9.9", length=None)], (404,)),
        Case("pipelined-forged-then-unknown-path", pipelined(lambda: forged(_body()),
                                                             lambda: request("GET", "/nope", length=None)),
             (401, 404)),
        Case("pipelined-put-with-body-then-get", pipelined(lambda: request("PUT", "/webhook", body=b"hello"),
                                                           lambda: request("GET", "/nope", length=None)),
             (405, 404)),
        Case("pipelined-three-forged", pipelined(*[lambda: forged(_body())] * 3), (401, 401, 401)),
        Case("pipelined-oversized-then-signed", lambda: [
            request(headers=forged_headers(b""), length=DEFAULT_MAX_BODY + 1) + signed(_body())], (413,),
             closes=True),
        Case("empty-request-line", lambda: [b"\r\n\r\n"], (400,), may_close=True),
        Case("blank-request-line", lambda: [b" \r\n\r\n"], (400,), may_close=True),
        Case("crlf-before-request", lambda: [b"\r\n" + forged(_body())], (400,), may_close=True),
        Case("method-only-request-line", lambda: [b"POST\r\n\r\n"], (400,), may_close=True),
        Case("garbage-random-bytes", lambda: [random.Random(7).randbytes(2048) + b"\r\n\r\n"], (400,),
             may_close=True),
        Case("garbage-random-bytes-then-half-close", lambda: [random.Random(8).randbytes(2048), SHUT_WR], (400,),
             may_close=True),
        Case("garbage-all-byte-values", lambda: [bytes(range(256)) * 4], (400,), may_close=True),
        Case("garbage-nul-bytes", lambda: [b"\x00" * 4096], (400,), may_close=True),
        Case("garbage-tls-client-hello", lambda: [bytes.fromhex("16030100a5010000a10303") + bytes(160)], (400,),
             may_close=True),
    ]


def corpus() -> list[Case]:
    """Every case; names are unique and used as test ids."""
    cases = [*_probe_cases(), *_truncated_cases(), *_oversized_cases(), *_json_cases(),
             *_method_and_path_cases(), *_header_cases(), *_transfer_cases(), *_slow_cases(),
             *_protocol_cases()]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "corpus case names must be unique"
    return cases
