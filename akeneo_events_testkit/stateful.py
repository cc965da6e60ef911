"""A ready-made Hypothesis state machine that drives a receiver like the PIM and judges it with the oracle.

::

    from akeneo_events_testkit.stateful import receiver_state_machine

    TestMyReceiver = receiver_state_machine(lambda: (make_app(), observe), secret="s3cret").TestCase

Rules make PIM activity (unitary saves, removals, bulk saves whose saves share a second) and deliver it the
way Pub/Sub does (events-api-facts.md section 6): in order, late (overtaken by newer messages), twice
(redelivered with the same event ids, rebuilt data and a new signature), replayed byte for byte, or never.
Requests are encoded, signed and batched by the emitter's own pieces and sent in-process to a handler, a
WSGI app or an ASGI app. After every step the oracle judges the receiver's observation; on failure the
assertion carries ``format_violations`` and Hypothesis prints the shrunk, replayable program.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule

from .clock import Clock, SystemClock
from .encoding import reserialisation_stable
from .events_api.batching import Message, batch_operations
from .events_api.oracle import judge
from .events_api.truth import GeneratedEvent, GroundTruth, RequestRecord
from .events_api.wire import Delivery, Event
from .judging.observation import parse_observation
from .judging.render import format_violations
from .strategies._internal.common import AUTHORS, DEFAULT_START, check_int, check_secret, fail, resolve_profile
from .strategies._internal.schedules import Schedule
from .strategies._internal.workloads import ResourceHistory, Slot, operation_kind
from .transport.sender import Outcome
from .versions import AuthorType, PimVersion, format_event_datetime
from .world.activity import Change, Operation
from .world.catalog import DEFAULT_PIM_URL

__all__ = ["Handle", "as_handle", "asgi_handle", "deliver", "receiver_state_machine", "wsgi_handle"]

#: ``handle(method, path, headers, body)`` answering an HTTP status: an int, or an object with ``status``
#: (such as ``ReferenceReceiver.handle``'s ``Response``) or ``status_code``.
Handle = Callable[[str, str, Sequence[tuple[str, str]], bytes], Any]


def _status_of(answer: Any) -> int:
    for candidate in (answer, getattr(answer, "status", None), getattr(answer, "status_code", None)):
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            return candidate
    raise TypeError(f"a handle must answer an HTTP status (an int, .status or .status_code), got {answer!r:.100}")


def wsgi_handle(app: Callable[..., Iterable[bytes]]) -> Handle:
    """Call a WSGI application in-process (PEP 3333 environ), answering its status."""

    def handle(method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes) -> int:
        path_info, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path_info, "QUERY_STRING": query,
            "SERVER_NAME": "receiver.invalid", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name, value in headers:
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        statuses: list[int] = []

        def start_response(status: str, response_headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
            statuses.append(int(status.split(" ", 1)[0]))
            return lambda data: None

        result = app(environ, start_response)
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not statuses:
            raise AssertionError("the WSGI application returned without calling start_response")
        return statuses[-1]

    return handle


class _AsgiHandle:
    """An ASGI 3 application called in-process on one event loop of its own."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def __call__(self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes) -> int:
        return self.loop.run_until_complete(self._call(method, path, headers, body))

    async def _call(self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes) -> int:
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            "server": ("receiver.invalid", 80), "client": ("127.0.0.1", 40000),
        }
        inbox: list[dict[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]
        done = asyncio.Event()
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Mapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                done.set()

        await self.app(scope, receive, send)
        done.set()
        if not statuses:
            raise AssertionError("the ASGI application returned without starting a response")
        return statuses[-1]

    def close(self) -> None:
        self.loop.close()


def asgi_handle(app: Callable[..., Any]) -> _AsgiHandle:
    """Call an ASGI application in-process; ``close()`` the result when done."""
    return _AsgiHandle(app)


def as_handle(target: Any) -> Handle:
    """A handle for ``target``: an ASGI app (async, 3 arguments), a WSGI app (2 arguments), or a handle."""
    if not callable(target):
        fail(f"a receiver target must be callable (a handle, a WSGI or an ASGI app), got {target!r:.80}")
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(type(target).__call__):
        return asgi_handle(target)
    handle: Handle = target
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return handle
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return wsgi_handle(target) if len(positional) == 2 else handle


def _request_headers(delivery: Delivery) -> list[tuple[str, str]]:
    """The PIM's headers plus those Guzzle adds, ``Host`` and ``Content-Length`` (facts section 1)."""
    return [("Host", "receiver.invalid"), *delivery.headers, ("Content-Length", str(len(delivery.body)))]


def _record(truth: GroundTruth, delivery: Delivery, status: int, *, versions: tuple[int, ...],
            faults: tuple[str, ...], message: int) -> None:
    outcome = Outcome.SENT if status < 400 else Outcome.ERROR
    truth.add_request(RequestRecord(len(truth.requests), "default", delivery.event_ids, versions,
                                    delivery.timestamp, len(delivery.body), outcome, status, 0.0,
                                    faults=faults, message=message,
                                    unstable=not reserialisation_stable(delivery.body)))


def deliver(schedule: Schedule, target: Any, *, clock: Any = None, path: str = "/") -> GroundTruth:
    """POST a schedule's requests to ``target`` in order and return the ground truth for ``oracle.judge``.

    ``target`` is a handle, a WSGI app or an ASGI app; its exceptions propagate. ``clock`` (anything with
    ``set(seconds)``, such as ``FakeClock``) is moved to each request's virtual send time first.
    """
    handle = as_handle(target)
    truth = schedule.truth()
    try:
        for item in schedule.items:
            if clock is not None:
                clock.set(item.at)
            status = _status_of(handle("POST", path, _request_headers(item.delivery), item.delivery.body))
            _record(truth, item.delivery, status, versions=item.versions, faults=item.faults, message=item.message)
    finally:
        if isinstance(handle, _AsgiHandle):
            handle.close()
    return truth


def _open(made: Any) -> tuple[Handle, Callable[[], Any], Callable[[], None] | None]:
    """(handle, observe, close) from what ``make_receiver`` returned."""
    if isinstance(made, tuple) and len(made) == 2 and callable(made[1]):
        handle = as_handle(made[0])
        return handle, made[1], handle.close if isinstance(handle, _AsgiHandle) else None
    if callable(getattr(made, "handle", None)) and callable(getattr(made, "observation", None)):
        return made.handle, made.observation, getattr(made, "close", None)
    fail(f"make_receiver must return (target, observe) or an object with handle() and observation(), "
          f"got {made!r:.80}")


class _Sent:
    """A request the machine sent: kept to redeliver or replay it."""

    def __init__(self, message: Message, delivery: Delivery, versions: tuple[int, ...]) -> None:
        self.message, self.delivery, self.versions = message, delivery, versions

    def __repr__(self) -> str:
        return f"<request of message {self.message.seq}: {len(self.delivery.events)} event(s)>"


def receiver_state_machine(
    make_receiver: Callable[[], Any],
    *,
    secret: str,
    profile: str | PimVersion = "saas",
    uuid_mode: bool | None = None,
    clock: Clock | None = None,
    path: str = "/",
    products: int = 3,
    product_models: int = 1,
) -> type[RuleBasedStateMachine]:
    """A ``RuleBasedStateMachine`` class testing the receivers ``make_receiver()`` returns, one per example.

    ``make_receiver`` returns ``(target, observe)``, where ``target`` is a handle, a WSGI app or an ASGI
    app and ``observe()`` the receiver's observation (README: observation contract), or an object with
    ``handle()`` and ``observation()`` such as ``ReferenceReceiver``; a ``close()`` is called at the end.
    Requests are signed with ``secret`` at ``clock``'s time (the wall clock by default, as the receiver's);
    events happen on a virtual timeline. ``products`` and ``product_models`` size the catalog.
    """
    if not callable(make_receiver):
        fail(f"make_receiver must be a callable returning a receiver, got {make_receiver!r:.80}")
    secret = check_secret(secret)
    resolved = resolve_profile(profile, uuid_mode)
    mode = resolved.uuid_mode if uuid_mode is None else uuid_mode
    check_int("products", products, 0)
    check_int("product_models", product_models, 0)
    if products + product_models < 1:
        fail("products + product_models must be at least 1: the machine needs a resource to change")
    if not isinstance(path, str) or not path.startswith("/"):
        fail(f"path must start with '/', got {path!r}")
    signing_clock: Clock = clock if clock is not None else SystemClock()
    slots = [Slot("product", f"sku-{n + 1}") for n in range(products)]
    slots += [Slot("product_model", f"model-{n + 1}", family="clothing") for n in range(product_models)]
    resources = st.integers(0, len(slots) - 1)
    authors = st.sampled_from(sorted(AUTHORS))

    class ReceiverStateMachine(RuleBasedStateMachine):
        """PIM activity and Pub/Sub delivery against one receiver, judged after every step."""

        sent: Bundle[_Sent] = Bundle("sent")

        def __init__(self) -> None:
            super().__init__()
            self._handle, self._observe, self._close = _open(make_receiver())
            self._pim = ResourceHistory(slots, profile=resolved, uuid_mode=mode, pim_source=DEFAULT_PIM_URL)
            self._truth = GroundTruth()
            self._pending: list[Message] = []
            self._now = DEFAULT_START
            self._operations = 0
            self._messages = 0
            self._failed = False  # set while a request or a check is under way: teardown then only closes

        # -- PIM activity (facts section 4) -------------------------------------------------------------

        def _publish(self, author: str, unitary: bool, changes: list[Change]) -> None:
            author_type = AUTHORS[author]
            unitary = unitary and author_type is not AuthorType.SYSTEM
            operation = Operation(self._operations, operation_kind(unitary, changes, author_type), author, author_type,
                                  unitary, changes[0].epoch, tuple(changes))
            self._operations += 1
            for change in changes:
                self._truth.add_event(GeneratedEvent(change.event_id, change.key, change.action, change.epoch,
                                                     change.version, author, operation.seq))
            for message in batch_operations([operation]):
                self._pending.append(replace(message, seq=self._messages))
                self._messages += 1

        @rule(resource=resources, author=authors, seconds=st.integers(0, 2))
        def save(self, resource: int, author: str, seconds: int) -> None:
            """A unitary save: creates the resource if absent (re-creates it after a removal), else updates."""
            self._now += seconds
            change = self._pim.touch(resource, self._now, remove=False)
            assert change is not None
            self._publish(author, True, [change])

        @rule(resource=resources, author=authors, seconds=st.integers(0, 2))
        def remove(self, resource: int, author: str, seconds: int) -> None:
            """A unitary removal; nothing happens if the resource is absent."""
            self._now += seconds
            change = self._pim.touch(resource, self._now, remove=True)
            if change is not None:
                self._publish(author, True, [change])

        @rule(chosen=st.lists(resources, min_size=2, max_size=12), author=authors, seconds=st.integers(0, 2))
        def bulk_save(self, chosen: list[int], author: str, seconds: int) -> None:
            """A ``saveAll`` within one second: same-second ties, maybe twice the same resource, batches of 10."""
            self._now += seconds
            changes = [self._pim.touch(index, self._now, remove=False) for index in chosen]
            self._publish(author, False, [change for change in changes if change is not None])

        # -- delivery (facts section 6) -----------------------------------------------------------------

        def _post(self, delivery: Delivery, versions: tuple[int, ...], faults: tuple[str, ...], seq: int) -> None:
            self._failed = True
            answer = self._handle("POST", path, _request_headers(delivery), delivery.body)
            _record(self._truth, delivery, _status_of(answer), versions=versions, faults=faults, message=seq)
            self._failed = False

        def _send(self, message: Message, faults: tuple[str, ...] = ()) -> Any:
            """Build the request now: data read at send time, removed resources' upserts dropped (section 4)."""
            batch: list[Event] = []
            versions: list[int] = []
            for change in message.changes:
                current = (change.version, change.snapshot) if change.action.is_removal else \
                    self._pim.current.get(change.key)
                if current is None:
                    self._truth.drop("not_found_at_send_time")
                    continue
                versions.append(current[0])
                batch.append(Event(change.action, change.event_id, format_event_datetime(change.epoch),
                                   message.author, message.author_type, DEFAULT_PIM_URL, {"resource": current[1]}))
            if not batch:
                return multiple()
            delivery = Delivery.build(batch, secret=secret, timestamp=int(signing_clock.now()), profile=resolved)
            self._post(delivery, tuple(versions), faults, message.seq)
            return _Sent(message, delivery, tuple(versions))

        @precondition(lambda self: bool(self._pending))
        @rule(target=sent)
        def deliver_now(self) -> Any:
            """Send the oldest pending message."""
            return self._send(self._pending.pop(0))

        @precondition(lambda self: len(self._pending) > 1)
        @rule(target=sent, overtaking=st.integers(1, 8))
        def deliver_late(self, overtaking: int) -> Any:
            """Send a newer message first, so the older ones arrive late: no ordering key in Pub/Sub."""
            return self._send(self._pending.pop(min(overtaking, len(self._pending) - 1)), ("late",))

        @rule(request=sent)
        def duplicate(self, request: _Sent) -> None:
            """Pub/Sub redelivers the message: same event ids, data rebuilt, new timestamp and signature."""
            self._send(request.message, ("redeliver",))

        @rule(request=sent)
        def replay(self, request: _Sent) -> None:
            """The very same bytes, headers, timestamp and signature again."""
            self._post(request.delivery, request.versions, ("replay",), request.message.seq)

        @precondition(lambda self: bool(self._pending))
        @rule(skip=st.integers(0, 8))
        def drop(self, skip: int) -> None:
            """A message is lost: no retry, a failed publish, an acked failure."""
            lost = self._pending.pop(min(skip, len(self._pending) - 1))
            self._truth.drop("lost", len(lost.changes))

        # -- judgement ------------------------------------------------------------------------------------

        def _check(self) -> None:
            self._failed = True
            verdict = judge(self._truth, parse_observation(self._observe()))
            if not verdict.passed:
                raise AssertionError(format_violations(verdict))
            self._failed = False

        @invariant()
        def receiver_agrees_with_the_oracle(self) -> None:
            self._check()

        def teardown(self) -> None:
            """The PIM eventually sends what is still pending; judge once more, then close the receiver."""
            try:
                if not self._failed:
                    while self._pending:
                        self._send(self._pending.pop(0))
                    self._check()
            finally:
                if self._close is not None:
                    self._close()

    ReceiverStateMachine.__name__ = ReceiverStateMachine.__qualname__ = "ReceiverStateMachine"
    return ReceiverStateMachine

