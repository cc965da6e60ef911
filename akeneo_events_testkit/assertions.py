"""One-call checks for a receiver's own test suite: run a fuzz campaign, fail with the whole story.

:func:`assert_receiver_correct` is the plain-Python entry point (any test runner); the pytest plugin's
``akeneo_check`` fixture calls :func:`assert_campaign` with the test's settings and a pytest command line to
rerun it. A failure is a :class:`~.failures.ViolationsFound` whose message is the failure anatomy
(convention 6). In-process apps are wrapped so that an exception they raise is kept and shown, not just
answered 500 (pytest-httpserver issue #68 is the mistake avoided).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .errors import KitError, UsageError
from .failures import ReceiverServerError, ViolationsFound, describe_exception
from .judging.observation import ObservationSource
from .judging.render import MORE_IN_PYTHON, MORE_WITH_REPORT
from .judging.verdict import Verdict
from .profiles import profile_of, refuse_foreign_options, resolve
from .versions import Action, resource_key

if TYPE_CHECKING:
    from .judging.profile import CampaignOutcome
    from .transport.targets import Target

__all__ = [
    "DEFAULT_EVENTS",
    "AppErrorGuard",
    "ObservationRecorder",
    "assert_campaign",
    "assert_receiver_correct",
    "observation_source",
    "render_failure",
]

#: Events per check: enough for every fault and probe to show up (~0.5 s against an in-process app).
DEFAULT_EVENTS = 200


class ObservationRecorder:
    """The observation contract kept for an in-process receiver that has no state endpoint of its own.

    Call :meth:`record` where the receiver applies an event, and pass the recorder as ``observe=``. The oracle
    needs every application in order (to see duplicates) and the current event per resource (to see stale
    or lost state). Thread-safe: WSGI apps are called from worker threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._applied: list[str] = []
        self._resources: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"ObservationRecorder(applied={len(self._applied)}, resources={len(self._resources)})"

    def record(self, event: Mapping[str, Any]) -> None:
        """Record that ``event`` was applied: one item of an Events API request's ``events`` list, or one
        Event Platform CloudEvent (recognised by its ``specversion``), as decoded JSON."""
        if isinstance(event, Mapping) and "specversion" in event:
            self._record_cloud_event(event)
            return
        try:
            action = Action(event["action"])
            key = resource_key(action, event["data"]["resource"])
            event_id = str(event["event_id"])
        except (KeyError, TypeError, ValueError):
            raise UsageError("record() takes one decoded event: {'action', 'event_id', 'data': {'resource'}}") from None
        self.record_id(event_id, key, removed=action.is_removal)

    def _record_cloud_event(self, event: Mapping[str, Any]) -> None:
        from .event_platform.wire import ep_resource_key

        try:
            event_id, kind, key = str(event["id"]), str(event["type"]), ep_resource_key(event)
        except (KeyError, TypeError, ValueError):
            raise UsageError("record() takes one decoded CloudEvent: {'id', 'type', 'data': {'product': {'uuid'}}} "
                             "or {'data': {'product_model': {'code'}}}") from None
        self.record_id(event_id, key, removed=kind.endswith(".deleted"))

    def record_id(self, event_id: str, key: str, *, removed: bool = False) -> None:
        """Record an application by id and resource key (``product:<uuid>``, ``product_model:<code>``...)."""
        with self._lock:
            self._applied.append(event_id)
            self._resources[key] = {"event_id": event_id, "removed": removed}

    def observation(self) -> dict[str, Any]:
        """A snapshot in the contract's shape: ``{"applied": [...], "resources": {...}}``."""
        with self._lock:
            return {"applied": list(self._applied), "resources": copy.deepcopy(self._resources)}

    __call__ = observation

    def reset(self) -> None:
        with self._lock:
            self._applied.clear()
            self._resources.clear()



def observation_source(source: Any) -> ObservationSource:
    """A reader of the receiver's observation from whatever a user has at hand.

    Accepts a callable returning the observation (a mapping, or JSON text or bytes), an object with an
    ``observation()`` method (:class:`ObservationRecorder`, the reference receiver, its stores) or a mapping
    that the receiver mutates in place. Each read is a snapshot: the oracle reads twice to see the receiver
    settle, and a live object compared with itself would always look settled.
    """
    reader: Callable[[], Any]
    method = getattr(source, "observation", None)
    if callable(method):
        reader = method
    elif isinstance(source, Mapping):
        reader = lambda: source  # noqa: E731
    elif callable(source):
        reader = source
    else:
        raise UsageError(f"observe={type(source).__name__}: pass a callable returning the observation, an "
                         "ObservationRecorder, or an object with an observation() method")

    def read() -> Any:
        value = reader()
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", errors="replace")
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value  # parse_observation names the contract
        return copy.deepcopy(value)

    return read


class AppErrorGuard:
    """Wraps in-process ASGI/WSGI apps so that exceptions they raise are kept, then shown.

    The PIM (like any HTTP client) only sees a 500 when the app raises; the exception itself must surface in
    the test, at the latest at teardown. ``errors`` collects them; :meth:`unreported` returns those no failure
    message has shown yet.
    """

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._reported = 0
        self._lock = threading.Lock()

    def _keep(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)

    def wrap(self, target: Target, *, path: str | None = None) -> Target:
        """``target`` itself for URLs and transports; for an app, a transport that records its exceptions.

        ``path`` is where an in-process app receives the PIM's POSTs (the kit posts to ``/`` otherwise), so
        that an app routed at ``/webhook`` is tested as it is deployed.
        """
        from .transport.targets import make_transport
        from .transport.wsgi import WSGITransport

        if path is not None and not path.startswith("/"):
            raise UsageError(f"path={path!r} must start with '/', like /webhook")
        if isinstance(target, (str, httpx.AsyncBaseTransport, httpx.BaseTransport)) or not callable(target):
            if path is not None:
                raise UsageError("path= is for in-process apps; for a URL, put the path in the URL")
            return target
        transport, _, _ = make_transport(target)  # the kit's own ASGI-or-WSGI decision, reused
        if isinstance(transport, httpx.ASGITransport):
            return httpx.ASGITransport(app=self._asgi(target, path), raise_app_exceptions=False)
        return WSGITransport(target, on_error=self._keep, path=path)

    def _asgi(self, app: Callable[..., Any], path: str | None) -> Callable[..., Any]:
        async def recording(scope: Any, receive: Any, send: Any) -> None:
            if path is not None and scope.get("type") == "http":
                scope = {**scope, "path": path, "raw_path": path.encode("latin-1")}
            try:
                await app(scope, receive, send)
            except Exception as exc:
                self._keep(exc)
                raise

        return recording

    def unreported(self) -> list[BaseException]:
        with self._lock:
            return self.errors[self._reported:]

    def mark_reported(self) -> None:
        with self._lock:
            self._reported = len(self.errors)


def _label(target: Target) -> str:
    if isinstance(target, str):
        return target
    name = getattr(target, "__name__", None) or type(target).__name__
    return f"{name} (in-process)"


def render_failure(
    result: CampaignOutcome,
    *,
    label: str,
    rerun: str | None = None,
    fuzz_command: str | None = None,
    app_errors: Iterable[BaseException] = (),
) -> str:
    """The failure anatomy: headline, each violation (expected, received, witness), crashes, ``Reproduce with:``.

    The oracle's own text puts the fuzz command alone on the ``Reproduce with:`` line; here the line leads
    with ``rerun`` (the pytest command) so the first thing to paste reruns the very test.
    """
    profile = profile_of(result)
    result.target = label
    return _anatomy(profile.headline(result), profile.format_verdict(result, _without_reproduce(result.verdict)),
                    app_errors=app_errors, rerun=rerun, fuzz=fuzz_command or result.reproduce)


def _without_reproduce(verdict: Verdict) -> Verdict:
    """The verdict with each violation's own reproduce line dropped: the anatomy ends with one for all."""
    return Verdict([replace(v, reproduce="") for v in verdict.violations], verdict.stats, verdict.strict)


def _anatomy(headline: str, report: str, *, app_errors: Iterable[BaseException], rerun: str | None,
             fuzz: str) -> str:
    """Headline, the oracle's report, the in-process crashes, then ``Reproduce with:`` (both profiles)."""
    lines = [headline, report.replace(MORE_WITH_REPORT, MORE_IN_PYTHON)]
    errors = list(app_errors)
    if errors:
        lines.append(f"\nThe receiver raised {len(errors)} exception(s) in-process, each answered HTTP 500. "
                     f"The first:\n{describe_exception(errors[0])}")
    line = f"{rerun}  # or, with the receiver served over HTTP: {fuzz}" if rerun else fuzz
    lines.append(f"\nReproduce with: {line}")
    return "\n".join(lines)


def _check_inputs(secret: str, observe: Any, state_url: str | None) -> None:
    if not secret:
        raise UsageError("pass secret=: the secret the receiver verifies signatures with")
    if observe is None and state_url is None:
        raise UsageError("pass observe= (a callable returning the observation, or an ObservationRecorder) or "
                         "state_url= (where the receiver serves it); see README: observation contract")


_Result = TypeVar("_Result", bound="CampaignOutcome")


def _passed_or_raise(result: _Result, guard: AppErrorGuard, anatomy: Callable[[list[BaseException]], str]
                     ) -> _Result:
    """``result`` if the receiver passed and nothing crashed in-process; else the failure, once reported."""
    __tracebackhide__ = True
    crashes = guard.unreported()
    if not result.passed:
        guard.mark_reported()
        raise ViolationsFound(anatomy(crashes), verdict=result.verdict, result=result)
    if crashes:
        guard.mark_reported()
        raise ReceiverServerError(f"the receiver {result.target}", crashes)
    return result


def assert_campaign(
    config: Any,
    target: Target,
    *,
    secret: str,
    observe: Any = None,
    state_url: str | None = None,
    path: str | None = None,
    rerun: str | None = None,
    fuzz_command: str | None = None,
    label: str | None = None,
    guard: AppErrorGuard | None = None,
    rest_api: Any = None,
) -> Any:
    """Run one campaign of ``config``'s wire profile against ``target`` and raise :class:`ViolationsFound`
    if the oracle finds errors.

    ``config`` is a :class:`~.events_api.campaign.CampaignConfig` or an
    :class:`~.event_platform.campaign.EpCampaignConfig`. The receiver holds ``secret``; with an Event Platform
    rotation, the kit generates the other secret of the pair (the new one when ``secret`` is the old). With
    ``rest_api`` (a :class:`~akeneo_events_testkit.restapi.RestApi`), the API serves the campaign's timeline
    and the data the receiver reports is judged too.

    Warnings (``replay_accepted`` unless ``strict``) do not fail. Kit misuse and an unreachable receiver raise
    :mod:`errors` (``ReceiverUnreachable``, ``InvalidObservation``...), never a hang: every wait is bounded.
    """
    __tracebackhide__ = True
    profile = profile_of(config)
    command = getattr(config, "receiver_cmd", None)  # the kit runs the receiver, which serves /state
    _check_inputs(secret, observe, state_url if command is None else state_url or "")
    guard = guard if guard is not None else AppErrorGuard()
    reader = observation_source(observe) if observe is not None else None
    try:
        result = profile.run(config, target=guard.wrap(target, path=path), secret=str(secret), state_url=state_url,
                             observe=reader, rest_api=rest_api, receiver_holds_secret=True)
    except KitError as exc:  # its message names the fix; the kit's frames would only bury it
        raise exc.with_traceback(None) from None
    if command is not None:  # the campaign named the receiver it ran, and its reproduce line runs it again
        target_label, fuzz = label or result.target, fuzz_command or result.reproduce
    else:
        fuzz = fuzz_command if fuzz_command is not None else profile.reproduce(
            config, url=target if isinstance(target, str) else "URL", state_url=state_url or "STATE_URL",
            start=result.start, rest_api=rest_api)
        target_label = label or _label(target)
    result.target = target_label
    return _passed_or_raise(result, guard, lambda crashes: render_failure(
        result, label=target_label, rerun=rerun, fuzz_command=fuzz, app_errors=crashes))


#: The Event Platform spelling of :func:`assert_campaign`, kept for callers of 0.1.
assert_ep_campaign = assert_campaign


def assert_receiver_correct(
    target: Target,
    *,
    secret: str,
    observe: Any = None,
    state_url: str | None = None,
    path: str | None = None,
    seed: int = 0,
    events: int = DEFAULT_EVENTS,
    faults: str = "default",
    profile: str = "saas",
    uuid_mode: bool | None = None,
    probes: bool = True,
    strict: bool = False,
) -> Any:
    """Fuzz ``target`` (a URL, an ASGI app or a WSGI app) like the PIM would, and judge what it did.

    ``observe`` (or ``state_url``) gives the receiver's observation; ``path`` is where an in-process app
    takes the PIM's POSTs (default ``/``). ``profile`` is a PIM version of the Events API or
    ``event-platform``; ``uuid_mode`` and ``strict`` apply to the Events API only.

    >>> assert_receiver_correct(app, secret=SECRET, observe=recorder)  # doctest: +SKIP

    Returns the campaign result when the receiver is correct; raises :class:`~.failures.ViolationsFound` with
    the failure anatomy otherwise.
    """
    __tracebackhide__ = True
    resolved = resolve(profile)
    specific = {name: value for name, value in (("uuid_mode", uuid_mode), ("strict", strict))
                if value or name in resolved.wire.options}
    refuse_foreign_options(resolved.wire, [name for name, value in specific.items() if value],
                           select=lambda other: f"use profile={other.selector!r}")
    config = resolved.wire.config(resolved.version, seed=seed, events=events, faults=faults, probes=probes,
                                  **specific)
    return assert_campaign(config, target, secret=secret, observe=observe, state_url=state_url, path=path)
