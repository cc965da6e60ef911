"""A sink: the kit serves the HTTP endpoint a receiver forwards its effects to, and reads the observation
out of the bodies it was sent.

A receiver whose effect is a downstream call (a search index, an ERP, a queue's HTTP gateway) is pointed at
the sink's URL instead. A small mapping of JSON pointers (RFC 6901) names, in each body, the event id, the
resource (a whole key, or the product uuid / identifier / model code that builds it), a removal flag and
optionally the resource's data. Bodies are taken in the order they arrive: a receiver forwards each event
as it applies it. A body that is a JSON array holds one record per item.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ..errors import InvalidObservation, UsageError
from .records import KEY_FIELDS, Application, build_observation, coerce_data, coerce_removed, resource_key_of

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MAP_FIELDS", "Sink", "parse_sink_map", "resolve_pointer"]

#: what a sink mapping may name
MAP_FIELDS = ("event_id", *KEY_FIELDS, "removed", "data")
_EXAMPLE = "event_id=/event/id,uuid=/product/uuid,removed=/deleted"
_MISSING = object()
#: a body larger than this is refused (413): a forwarded resource is a few KiB
MAX_BODY = 16 * 1024 * 1024


def parse_sink_map(spec: str | Mapping[str, str]) -> dict[str, str]:
    """``event_id=/event/id,uuid=/product/uuid,removed=/deleted`` (or a mapping) checked: known names,
    pointers that start with ``/`` (or are empty: the whole body, for ``data``), an event id and a resource."""
    if isinstance(spec, Mapping):
        pairs = [(str(name), str(pointer)) for name, pointer in spec.items()]
    else:
        pairs = []
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, pointer = item.partition("=")
            if not sep:
                raise UsageError(f"--sink-map {item!r}: write NAME=/json/pointer, e.g. {_EXAMPLE}")
            pairs.append((name.strip(), pointer.strip()))
    mapping: dict[str, str] = {}
    for name, pointer in pairs:
        if name not in MAP_FIELDS:
            raise UsageError(f"--sink-map: unknown name {name!r}; use {', '.join(MAP_FIELDS)} (e.g. {_EXAMPLE})")
        if pointer and not pointer.startswith("/"):
            raise UsageError(f"--sink-map {name}={pointer}: a JSON pointer starts with / (e.g. /product/uuid), "
                             "or is empty for the whole body")
        if name in mapping:
            raise UsageError(f"--sink-map: {name} is given twice")
        mapping[name] = pointer
    if "event_id" not in mapping:
        raise UsageError(f"--sink-map needs event_id=POINTER: where each body holds the event id (e.g. {_EXAMPLE})")
    if not any(name in mapping for name in KEY_FIELDS):
        raise UsageError(f"--sink-map needs the resource: one of {', '.join(f'{n}=POINTER' for n in KEY_FIELDS)} "
                         f"(uuid and identifier build product:<value>, code product_model:<code>; e.g. {_EXAMPLE})")
    return mapping


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901), or ``_MISSING`` when the path is absent."""
    if pointer == "":
        return document
    current = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return _MISSING
    return current


def record_of(body: Any, mapping: Mapping[str, str], where: str) -> Application:
    """One :class:`Application` from one forwarded body under ``mapping``."""
    values = {name: resolve_pointer(body, pointer) for name, pointer in mapping.items()}
    event_id = values["event_id"]
    if event_id is _MISSING or not isinstance(event_id, (str, int)) or isinstance(event_id, bool):
        raise InvalidObservation(f"{where}: no event id at {mapping['event_id']} (got "
                                 f"{'nothing' if event_id is _MISSING else repr(event_id)}); fix --sink-map "
                                 "event_id=, or forward the event id in each body")
    fields = {name: value for name, value in values.items() if name in KEY_FIELDS and value is not _MISSING}
    key = resource_key_of(fields, where)
    removed = coerce_removed(None if values.get("removed", _MISSING) is _MISSING else values["removed"], where)
    has_data = "data" in mapping and values["data"] is not _MISSING
    data = coerce_data(values["data"], where) if has_data else None
    return Application(str(event_id), key, removed, has_data, data)


class Sink:
    """An HTTP endpoint on loopback that the receiver forwards to; a context manager (or ``start()`` /
    ``stop()``), ``url`` once started, ``observation()`` for the oracle.

    >>> with Sink("event_id=/event/id,uuid=/product/uuid,removed=/deleted") as sink:  # doctest: +SKIP
    ...     akeneo_check(app, observe=sink)   # the app forwards to sink.url
    """

    def __init__(self, mapping: str | Mapping[str, str], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mapping = parse_sink_map(mapping)
        if not 0 <= port <= 65535:
            raise UsageError(f"--sink {port}: a port is 0 to 65535 (or give no port for a free one)")
        self._address = (host, port)
        self._lock = threading.Lock()
        self._bodies: list[Any] = []
        self._errors: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Sink(url={self.url if self._server else None!r}, received={len(self._bodies)})"

    @property
    def url(self) -> str:
        """Where the receiver forwards (any path is taken)."""
        if self._server is None:
            raise UsageError("start the sink first: `with Sink(...) as sink:` or sink.start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> Self:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._take()

            do_PUT = do_PATCH = do_POST

            def _take(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_response(413)
                    self.end_headers()
                    return
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    sink._error(f"a {self.command} to {self.path} is not JSON: {raw[:80]!r}")
                    self.send_response(400)
                else:
                    sink._take(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        try:
            self._server = ThreadingHTTPServer(self._address, Handler)
        except OSError as exc:
            raise UsageError(f"the sink cannot listen on {self._address[0]}:{self._address[1]}: {exc.strerror}; "
                             "choose another port, or give --sink with no port for a free one") from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="akeneo-events-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(5)
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _take(self, body: Any) -> None:
        with self._lock:
            self._bodies.extend(body if isinstance(body, list) else [body])

    def _error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def reset(self) -> None:
        """Forget what was received (between two runs against one sink)."""
        with self._lock:
            self._bodies.clear()
            self._errors.clear()

    def received(self) -> list[Any]:
        """The bodies received so far, in order (one per array item)."""
        with self._lock:
            return list(self._bodies)

    def observation(self) -> dict[str, Any]:
        """The observation contract from the bodies received so far; a body the mapping cannot read is an
        :class:`InvalidObservation` naming it and the fix."""
        with self._lock:
            bodies, errors = list(self._bodies), list(self._errors)
        if errors:
            raise InvalidObservation(f"the sink received {len(errors)} body(ies) it cannot read: {errors[0]}; "
                                     "forward JSON")
        return build_observation(record_of(body, self.mapping, f"sink body {index + 1}")
                                 for index, body in enumerate(bodies))

    __call__ = observation

    def command_options(self) -> list[str]:
        """``--sink PORT --sink-map MAP``: how ``akeneo-events fuzz`` observes the same way (the port this sink
        listens on, which the receiver was told)."""
        port = self._server.server_address[1] if self._server is not None else self._address[1]
        mapping = ",".join(f"{name}={pointer}" for name, pointer in self.mapping.items())
        return (["--sink", str(port)] if port else ["--sink"]) + ["--sink-map", mapping]
