"""pytest plugin: fixtures, a marker and options to test an Events API receiver inside its own test suite.

Loaded automatically once the kit is installed (entry point ``pytest11``: ``akeneo_events``); with plugin
autoloading disabled, add ``-p akeneo_events_testkit.pytest_plugin``. It stays thin (convention 2): it reads
options, ini keys and the ``akeneo_events`` marker, and hands over to :mod:`.assertions` and :mod:`.pim`.

* Settings resolve as marker > command line > ini file > default, and are validated early: options when
  pytest configures, markers when tests are collected, so a typo never surfaces as a puzzling test failure.
* The reference receiver runs once per session on a loopback port and is reset for every test, as
  pytest-httpserver does with its server; exceptions inside servers and in-process apps fail the test at
  teardown instead of hiding behind a 500 (pytest-httpserver issue #68).
* A failing test that used the kit shows its seed in a report section, and ``akeneo_check`` failures end
  with ``Reproduce with:`` naming the pytest command and the equivalent ``akeneo-events fuzz`` command.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .assertions import AppErrorGuard, ObservationRecorder
    from .event_platform.emitter import EpEmitter
    from .events_api.pim import MockPim
    from .judging.profile import CampaignOutcome, WireProfile
    from .receiver import ReceiverServer, ReferenceReceiver
    from .transport.targets import Target

__all__ = ["MARKER", "MARKER_ARGUMENTS", "AkeneoCheck", "ReceiverHandle"]

MARKER = "akeneo_events"
#: Marker keyword arguments (and ``akeneo_check`` overrides) with what each accepts.
MARKER_ARGUMENTS: dict[str, str] = {
    "seed": "an integer >= 0",
    "events": "an integer >= 1",
    "faults": "none, default, gentle, chaos or kind=p,... (kinds reorder, duplicate, drop, delay)",
    "profile": "5.0, 6.0, 7.0, saas or event-platform",
    "uuid_mode": "True, False or None (7.0 and saas only)",
    "probes": "True or False",
    "strict": "True or False (Events API profiles)",
    "delta": "a ratio in [0, 1]: the share of updates sent as *.updated.delta (event-platform only)",
    "client_id": "the receiver's own API client id, whose events it must drop, or None (event-platform only)",
    "keep_going": "True or False: deliver past a suspension, still reported (event-platform only)",
    "types": "the event types the subscription receives, shell patterns such as 'product.*,product-model.*', "
             "or None for every type the emitter sends (event-platform only)",
    "design": "apply (default) or refetch (a notify-then-re-fetch receiver; needs akeneo_check(..., rest_api=))",
    "catalog": "the path of a catalog file: JSON with the families, attributes and channels the PIM's REST API "
               "returns (examples/catalog-rugs.json), or None for the kit's own catalog",
    "rest_latency": "seconds >= 0: the mock REST API's mean response time (needs akeneo_check(..., rest_api=))",
    "scope": "what the receiver is responsible for, e.g. 'family=rug identifier=RUG-*' or a list of criteria "
             "(kind, family, identifier, type, attribute; README: scope)",
    "receiver_cmd": "a command line with {port} that starts the receiver, which the kit runs (and crashes with "
                    "crashes=), or None",
    "crashes": "an integer >= 0: SIGKILLs of the receiver_cmd receiver at seeded moments, each then restarted",
    "listen_timeout": "seconds > 0 the receiver_cmd receiver gets to listen on its port (default 20)",
}
_DEFAULTS: dict[str, Any] = {"seed": 0, "faults": "default", "profile": "saas"}
_OPTIONS = ("seed", "faults", "profile", "catalog")  # settable by --akeneo-<name> and the ini key akeneo_<name>
_KIT_FIXTURES = frozenset({"akeneo_seed", "akeneo_config", "akeneo_pim", "akeneo_receiver", "akeneo_check",
                           "akeneo_observation"})


# -- settings --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Settings:
    """The session-wide settings, and which came from the command line (a rerun must repeat those)."""

    seed: int
    faults: str
    profile: str
    from_command_line: tuple[str, ...]
    catalog: str | None = None


_SETTINGS = pytest.StashKey[_Settings]()
#: what akeneo_check last ran, for the failure section
_LAST_CONFIG = pytest.StashKey[Any]()


def _check(name: str, value: Any, *, where: str, option: bool = False) -> Any:
    """``value`` for setting ``name`` if valid, else a ``UsageError`` naming what is accepted."""
    from .errors import UsageError
    from .events_api.faults import parse_fault_spec
    from .profiles import resolve

    def bad(detail: str = "") -> UsageError:
        subject = f"{where}={value!r}" if option else f"{where}: {name}={value!r}"
        return UsageError(f"{subject} is not valid{detail}; {name} takes {MARKER_ARGUMENTS[name]}")

    def parsed_by(parse: Callable[[Any], Any]) -> None:
        """``value`` as ``parse`` reads it, its usage error named after the setting."""
        try:
            parse(value)
        except UsageError as exc:
            raise bad(f" ({exc})") from None

    if name in ("seed", "events"):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "seed" else 1):
            raise bad()
    elif name == "faults":
        if not isinstance(value, str):
            raise bad()
        parsed_by(parse_fault_spec)
    elif name == "profile":
        if not isinstance(value, str):
            raise bad()
        try:
            return resolve(value).name
        except UsageError:
            raise bad() from None
    elif name == "delta":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise bad()
    elif name == "types":
        from .event_platform.wire import subscribed_types

        if value is not None and not isinstance(value, (str, list, tuple)):
            raise bad()
        parsed_by(subscribed_types)
    elif name == "design":
        from .judging.checks import DESIGNS

        if value not in DESIGNS:
            raise bad()
    elif name == "scope":
        from .judging.scope import parse_scope

        if value is not None and not isinstance(value, (str, list, tuple)):
            raise bad()
        parsed_by(parse_scope)
    elif name == "catalog":
        if value is not None:
            from .world.shape import load_catalog_shape

            if not isinstance(value, str) or not value:
                raise bad()
            parsed_by(load_catalog_shape)
    elif name == "receiver_cmd":
        if value is not None:
            from .transport.process import check_command

            if not isinstance(value, str):
                raise bad()
            parsed_by(lambda command: check_command(command, option="receiver_cmd"))
    elif name == "crashes":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad()
    elif name == "listen_timeout":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise bad()
    elif name == "rest_latency":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise bad()
    elif name == "client_id":
        if value is not None and (not isinstance(value, str) or not value):
            raise bad()
    elif name == "uuid_mode":
        if value is not None and not isinstance(value, bool):
            raise bad()
    elif not isinstance(value, bool):
        raise bad()
    return value


def _given(value: Any) -> bool:
    """Whether a setting was given a value that means something (None and False are the defaults)."""
    return value is not None and value is not False


def _select(profile: WireProfile) -> str:
    return f"use profile={profile.selector!r}"


def _check_all(arguments: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """Validate names and values together, including the one rule across them (UUID mode needs 7.0+)."""
    from .errors import UsageError
    from .profiles import refuse_foreign_options, resolve
    from .versions import get_profile

    unknown = sorted(set(arguments) - set(MARKER_ARGUMENTS))
    if unknown:
        raise UsageError(f"{where}: unknown argument(s) {', '.join(unknown)}; valid ones are "
                         f"{', '.join(MARKER_ARGUMENTS)}")
    checked = {name: _check(name, value, where=where) for name, value in arguments.items()}
    if "profile" in checked:
        resolved = resolve(checked["profile"])
        refuse_foreign_options(resolved.wire, [name for name, value in checked.items() if _given(value)],
                               select=_select, where=f"{where}: ")
        if checked.get("uuid_mode") and resolved.version is not None:
            try:
                get_profile(resolved.version, uuid_mode=True)
            except UsageError as exc:
                raise UsageError(f"{where}: {exc}") from None
    return checked


def _resolve(config: pytest.Config) -> _Settings:
    values: dict[str, Any] = dict(_DEFAULTS)
    from_command_line: list[str] = []
    for name in _OPTIONS:
        given = config.getoption(f"akeneo_{name}")
        source = f"--akeneo-{name}"
        if given is None:
            given = str(config.getini(f"akeneo_{name}") or "").strip() or None
            source = f"ini key akeneo_{name}"
        else:
            from_command_line.append(name)
        if given is None:
            continue
        if name == "seed":
            if not given.isdigit():
                raise pytest.UsageError(f"{source}={given!r}: the seed must be an integer >= 0")
            values[name] = int(given)
        elif name == "catalog":
            ini = source.startswith("ini") and config.inipath is not None
            base = config.inipath.parent if ini and config.inipath else config.invocation_params.dir
            given = str(base / given)
            try:
                values[name] = _check(name, given, where=source, option=True)
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None
        else:
            try:
                values[name] = _check(name, given, where=source, option=True)
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None
    return _Settings(values["seed"], values["faults"], values["profile"], tuple(from_command_line),
                     values.get("catalog"))


def _marker_arguments(item: pytest.Item) -> dict[str, Any]:
    """Marker keywords merged from module to class to function: the closest wins."""
    merged: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers(MARKER))):
        if mark.args:
            raise _marker_error(item, f"@pytest.mark.{MARKER}: keyword arguments only "
                                      f"({', '.join(MARKER_ARGUMENTS)}), got {mark.args!r}")
        merged.update(mark.kwargs)
    return merged


def _marker_error(item: pytest.Item, message: str) -> pytest.Collector.CollectError:
    return pytest.Collector.CollectError(f"{item.nodeid}: {message}")


def _effective(item: pytest.Item) -> dict[str, Any]:
    settings = item.config.stash[_SETTINGS]
    merged: dict[str, Any] = {"seed": settings.seed, "faults": settings.faults, "profile": settings.profile}
    if settings.catalog is not None:
        merged["catalog"] = settings.catalog
    merged.update(_marker_arguments(item))
    return merged


# -- hooks -----------------------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("akeneo-events", "Akeneo Events API receiver tests (akeneo-events-testkit)")
    helps = {
        "seed": "seed of the PIM's generated traffic (default 0); a failing test prints the seed it used",
        "faults": "delivery faults: none, default, gentle, chaos or kind=p,... (kinds reorder, duplicate, drop, "
                  "delay); default 'default'",
        "profile": "PIM version to mimic: 5.0, 6.0, 7.0 or saas (default saas), or event-platform",
        "catalog": "a catalog file (JSON of the PIM's REST API: families, attributes, channels) shaping the "
                   "generated catalog; the ini key's path is relative to the ini file",
    }
    for name in _OPTIONS:
        group.addoption(f"--akeneo-{name}", dest=f"akeneo_{name}", default=None, metavar=name.upper(),
                        help=helps[name])
        parser.addini(f"akeneo_{name}", help=f"default for --akeneo-{name}", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}({', '.join(f'{name}=...' for name in MARKER_ARGUMENTS)}): settings of the Akeneo Events API "
        "traffic this test sends (akeneo-events-testkit)",
    )
    config.addinivalue_line(
        "markers", "akeneo_rest_api(lag=0.0): the akeneo_rest_api fixture answers like a replica lag seconds behind",
    )
    config.stash[_SETTINGS] = _resolve(config)


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Validate the marker while collecting: a bad argument is a collection error naming the valid ones."""
    result = yield
    items = result if isinstance(result, list) else [result]
    for item in items:
        if isinstance(item, pytest.Item) and item.get_closest_marker(MARKER) is not None:
            try:
                _check_all(_marker_arguments(item), where=f"@pytest.mark.{MARKER}")
            except ValueError as exc:
                raise _marker_error(item, str(exc)) from None
    return result


def _uses_kit(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return item.get_closest_marker(MARKER) is not None or any(name in _KIT_FIXTURES for name in names)


def _rerun_command(item: pytest.Item, seed: int) -> str:
    """The pytest command that reruns ``item`` with the same traffic."""
    settings = item.config.stash[_SETTINGS]
    parts = ["pytest", "'" + item.nodeid.replace("'", "'\"'\"'") + "'", "--akeneo-seed", str(seed)]
    for name in settings.from_command_line:
        if name != "seed":
            parts += [f"--akeneo-{name}", str(getattr(settings, name))]
    return " ".join(parts)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """On failure of a test using the kit, add a section naming its seed and how to rerun it."""
    report = yield
    if report.failed and _uses_kit(item):
        from .assertions import DEFAULT_EVENTS
        from .failures import ReceiverServerError

        if call.excinfo is not None and call.when == "teardown" and isinstance(call.excinfo.value,
                                                                                ReceiverServerError):
            # the fixture's source says nothing; the exception's own traceback is the story
            report.longrepr = f"{type(call.excinfo.value).__module__}.ReceiverServerError: {call.excinfo.value}"
        try:
            effective = _effective(item)
        except pytest.Collector.CollectError:
            return report
        if _LAST_CONFIG in item.stash:
            used = item.stash[_LAST_CONFIG]
            effective.update(seed=used.seed, events=used.events, profile=used.profile, faults=used.faults)
        seed = effective["seed"]
        details = ", ".join(f"{name} {effective.get(name, default)}" for name, default in
                            (("events", DEFAULT_EVENTS), ("profile", None), ("faults", None)))
        report.sections.append((f"akeneo-events: seed {seed}",
                                f"seed {seed} ({details})\nReproduce with: {_rerun_command(item, seed)}"))
    return report


# -- fixtures --------------------------------------------------------------------------------------------

class _RedactedSecret(str):
    """A secret that reprs as ``[redacted]``: pytest's ``--showlocals`` and assertion rewriting show reprs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[redacted]'"


@pytest.fixture(scope="session")
def akeneo_secret(pytestconfig: pytest.Config) -> str:
    """The subscription secret, shaped like the PIM's and derived from the session seed.

    Override it (session-scoped) to test with your receiver's own secret.
    """
    from .credentials import generate_secret

    seed = pytestconfig.stash[_SETTINGS].seed
    return _RedactedSecret(generate_secret(random.Random(f"akeneo-events-secret:{seed}")))


@pytest.fixture
def akeneo_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this test's traffic: marker > ``--akeneo-seed`` > ini ``akeneo_seed`` > 0."""
    seed: int = _effective(request.node)["seed"]
    return seed


def _make_config(settings: Mapping[str, Any]) -> Any:
    """The campaign config of the settings' wire profile (a ``CampaignConfig``, an ``EpCampaignConfig``);
    a setting of the other profile is a usage error naming the profile it needs."""
    from .profiles import foreign_options, refuse_foreign_options, resolve

    values = dict(settings)
    resolved = resolve(values.pop("profile", _DEFAULTS["profile"]))
    refuse_foreign_options(resolved.wire, [name for name, value in values.items() if _given(value)],
                           select=_select)
    foreign = foreign_options(resolved.wire)
    return resolved.wire.config(resolved.version, **{k: v for k, v in values.items() if k not in foreign})


@pytest.fixture
def akeneo_config(request: pytest.FixtureRequest) -> Any:
    """The campaign settings of this test, from its marker and the session's options: a
    :class:`~.events_api.campaign.CampaignConfig`, or an :class:`~.event_platform.campaign.EpCampaignConfig`
    for ``event-platform``."""
    from .assertions import DEFAULT_EVENTS

    return _make_config({"events": DEFAULT_EVENTS, **_effective(request.node)})


@pytest.fixture
def _akeneo_guard() -> Iterator[AppErrorGuard]:
    """Collects exceptions of in-process apps; those no failure has shown yet fail the test at teardown."""
    from .assertions import AppErrorGuard
    from .failures import ReceiverServerError

    guard = AppErrorGuard()
    yield guard
    errors = guard.unreported()
    if errors:
        guard.mark_reported()
        raise ReceiverServerError("the in-process receiver app", errors)


@pytest.fixture
def akeneo_pim(akeneo_config: Any, _akeneo_guard: AppErrorGuard, akeneo_secret: str) -> MockPim | EpEmitter:
    """A :class:`~.events_api.pim.MockPim` with this test's seed, profile, faults and events.

    ``akeneo_pim.run(target, secret=akeneo_secret)`` delivers to a URL, an ASGI app or a WSGI app and returns
    the ground truth; an in-process app that raises fails the test at teardown. With the ``event-platform``
    profile it is an :class:`~.event_platform.emitter.EpEmitter` signing with ``akeneo_secret``:
    ``akeneo_pim.run(target)`` returns an :class:`~.event_platform.truth.EpTruth` (virtual clock: retries and
    rate limits take no real time).
    """
    from .profiles import profile_of

    emitter: MockPim | EpEmitter = profile_of(akeneo_config).emitter(akeneo_config, secret=str(akeneo_secret),
                                                                       wrap_target=_akeneo_guard.wrap)
    return emitter


@dataclass
class ReceiverHandle:
    """The session's reference receiver as one test sees it (``akeneo_receiver``)."""

    server: ReceiverServer
    secret: str

    @property
    def receiver(self) -> ReferenceReceiver:
        return self.server.receiver

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state_url(self) -> str:
        return self.server.state_url

    def observation(self) -> dict[str, Any]:
        return self.receiver.observation()

    def __repr__(self) -> str:
        return f"ReceiverHandle(url={self.url!r}, secret='[redacted]')"


@pytest.fixture(scope="session")
def akeneo_receiver_server(akeneo_secret: str) -> Iterator[ReceiverServer]:
    """The reference receiver on a free loopback port, started once per session (in-memory store).

    It accepts both wire profiles; Event Platform events of the default client id are its own (dropped)."""
    from .event_platform.rules import DEFAULT_CLIENT_ID
    from .receiver import MemoryStore, ReceiverServer, ReferenceReceiver

    receiver = ReferenceReceiver(str(akeneo_secret), store=MemoryStore(), own_client_id=DEFAULT_CLIENT_ID)
    with ReceiverServer(receiver) as server:
        yield server
    receiver.close()


@pytest.fixture
def akeneo_receiver(akeneo_receiver_server: ReceiverServer, akeneo_secret: str) -> Iterator[ReceiverHandle]:
    """The session's reference receiver, emptied for this test; ``.url``, ``.state_url``, ``.receiver``.

    At teardown, an exception inside the receiver (answered 500) or a crash of its server thread fails the
    test, and a crashed server is restarted for the next test.
    """
    from .event_platform.rules import DEFAULT_CLIENT_ID
    from .failures import ReceiverServerError

    server = akeneo_receiver_server
    if server.thread_error is not None:
        server.stop()
        server.thread_error = None
        server.start()
    server.receiver.reset()
    server.receiver.own_client_id = DEFAULT_CLIENT_ID  # akeneo_check sets the test's own
    yield ReceiverHandle(server, akeneo_secret)
    errors = list(server.receiver.internal_errors)
    if server.thread_error is not None:
        errors.append(server.thread_error)
    if errors:
        raise ReceiverServerError(f"the reference receiver's server at {server.base_url}", errors)


@pytest.fixture
def akeneo_observation() -> ObservationRecorder:
    """An empty :class:`~.assertions.ObservationRecorder`: call ``.record(event)`` where your app applies one."""
    from .assertions import ObservationRecorder

    return ObservationRecorder()


class AkeneoCheck:
    """The ``akeneo_check`` fixture: ``akeneo_check(target, observe=... | state_url=..., **overrides)``.

    Runs a campaign with the test's settings (``overrides`` take the marker's argument names) and fails the
    test with the failure anatomy when the oracle finds errors. ``target`` is a URL, an ASGI or WSGI app, or
    the ``akeneo_receiver`` fixture; ``path`` is where an in-process app takes the POSTs (default ``/``).
    With ``receiver_cmd="... {port} ..."`` the kit runs the receiver itself (no target needed: the URLs
    default to the reference receiver's paths, and may say ``{port}``), and ``crashes=N`` kills and restarts
    it at seeded moments (README: crashes).
    """

    def __init__(self, item: pytest.Item, config: Any, secret: str, guard: AppErrorGuard) -> None:
        self._item = item
        self.config = config
        self.secret = secret
        self._guard = guard
        self.results: list[CampaignOutcome] = []

    def __repr__(self) -> str:
        return f"AkeneoCheck(seed={self.config.seed}, events={self.config.events}, profile={self.config.profile!r})"

    def __call__(
        self,
        target: Target | ReceiverHandle | None = None,
        *,
        observe: Callable[[], Any] | Any = None,
        state_url: str | None = None,
        path: str | None = None,
        secret: str | None = None,
        rest_api: Any = None,
        **overrides: Any,
    ) -> Any:
        __tracebackhide__ = True
        from .assertions import assert_campaign
        from .profiles import profile_of

        checked = _check_all(overrides, where="akeneo_check()")
        config = self._config(checked)
        if target is None and not getattr(config, "receiver_cmd", None):
            from .errors import UsageError

            raise UsageError("akeneo_check(): pass the target (a URL, an app or akeneo_receiver), or "
                             "receiver_cmd=\"... {port} ...\" for a receiver the kit starts itself")
        profile = profile_of(config)
        label = fuzz = None
        if isinstance(target, ReceiverHandle):
            state_url = state_url if state_url is not None or observe is not None else target.state_url
            label = f"the reference receiver at {target.url}"
            profile.configure_reference(target.receiver, config)
            fuzz = profile.reproduce(config)  # ``akeneo-events fuzz`` starts its own reference receiver
            target = target.url
        self._item.stash[_LAST_CONFIG] = config
        result = assert_campaign(
            config, target, secret=secret or self.secret, observe=observe, state_url=state_url, path=path,
            rerun=_rerun_command(self._item, config.seed), fuzz_command=fuzz, label=label, guard=self._guard,
            rest_api=getattr(rest_api, "api", rest_api),
        )
        self.results.append(result)
        return result

    def _config(self, overrides: Mapping[str, Any]) -> Any:
        """This test's config with ``overrides``; a change of wire profile builds the other profile's config."""
        from .profiles import profile_of, refuse_foreign_options, resolve

        current = profile_of(self.config)
        wanted = resolve(overrides["profile"]) if "profile" in overrides else None
        wire = wanted.wire if wanted is not None else current
        refuse_foreign_options(wire, list(overrides), select=_select, where="akeneo_check(): ")
        if wire is current:
            changes = {k: v for k, v in overrides.items() if k != "profile"}
            if wanted is not None and wanted.version is not None:
                changes["profile"] = wanted.version.name
            return dataclasses.replace(self.config, **changes)
        base = {"seed": self.config.seed, "events": self.config.events, "faults": self.config.faults,
                "probes": self.config.probes, "design": self.config.design, "catalog": self.config.catalog,
                "rest_latency": self.config.rest_latency, "scope": self.config.scope}
        return _make_config({**base, **overrides})


@pytest.fixture
def akeneo_check(
    request: pytest.FixtureRequest, akeneo_config: Any, akeneo_secret: str,
    _akeneo_guard: AppErrorGuard,
) -> AkeneoCheck:
    """Run the oracle on a receiver with this test's settings; fail with the full violation report."""
    return AkeneoCheck(request.node, akeneo_config, akeneo_secret, _akeneo_guard)


class RestApiHandle:
    """The ``akeneo_rest_api`` fixture: a mock PIM REST API on a loopback port for one test.

    Give ``base_url`` and ``credentials`` to the receiver under test, then pass the handle to
    ``akeneo_check(..., rest_api=akeneo_rest_api)``: the API serves that campaign's timeline, and the data
    the receiver reports in its observation is judged (``stale_content``, ``removal_not_propagated``).
    """

    def __init__(self, api: Any, server: Any) -> None:
        self.api = api
        self.server = server

    @property
    def base_url(self) -> str:
        return str(self.server.base_url)

    @property
    def credentials(self) -> Any:
        return self.api.credentials

    def __repr__(self) -> str:
        return f"RestApiHandle({self.base_url})"


@pytest.fixture
def akeneo_rest_api(request: pytest.FixtureRequest) -> Iterator[RestApiHandle]:
    """A mock PIM REST API for receivers that re-fetch; ``@pytest.mark.akeneo_rest_api(lag=...)`` sets a lag."""
    from .restapi import RestApi

    marker = request.node.get_closest_marker("akeneo_rest_api")
    lag = float(marker.kwargs.get("lag", 0.0)) if marker is not None else 0.0
    api = RestApi(lag=lag)
    with api.server() as server:
        yield RestApiHandle(api, server)
