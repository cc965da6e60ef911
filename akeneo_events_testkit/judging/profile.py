"""The interface each wire profile implements, so that entry points dispatch on the profile once.

A *wire profile* is a way the PIM delivers events: the Events API (``events_api``) or the Event Platform
(``event_platform``). Each package exposes one object satisfying :class:`WireProfile`; the CLI, the pytest
plugin, :func:`~akeneo_events_testkit.assertions.assert_receiver_correct` and the reports look a profile up
(:mod:`akeneo_events_testkit.profiles`) and call it, instead of asking which profile they hold. Adding a
profile means implementing this protocol and registering the object there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .verdict import Verdict

if TYPE_CHECKING:
    from ..transport.targets import Target
    from ..versions import PimVersion
    from .observation import ObservationSource

__all__ = ["CampaignOutcome", "EmitOutcome", "ReplayOutcome", "TimelineRow", "WireProfile"]


class CampaignOutcome(Protocol):
    """What a campaign of either profile returns: its config, the verdict and how to reproduce it."""

    config: Any
    verdict: Verdict
    observation: Mapping[str, Any]
    target: str
    duration: float
    reproduce: str

    @property
    def passed(self) -> bool: ...

    @property
    def start(self) -> int | None:
        """The Unix time the activity started at, when a rerun must repeat it."""
        ...

    def report(self) -> dict[str, Any]:
        """The JSON report (``--report``, ``--json``)."""
        ...

    def failure_text(self, *, report: str | None = None) -> str:
        """The violations, rendered for a person; ``report``: the JSON report written, if any."""
        ...


@dataclass(frozen=True)
class TimelineRow:
    """One event on a resource's timeline (the HTML report), whatever the wire profile."""

    epoch: int
    order: int
    action: str
    event_id: str
    removal: bool
    deliveries: tuple[tuple[int, str, bool, tuple[str, ...]], ...]  # (request, status, acknowledged, faults)


@dataclass(frozen=True)
class ReplayOutcome:
    """What ``akeneo-events replay`` prints, and whether the receiver passed (always when not judged)."""

    text: str
    passed: bool


@dataclass(frozen=True)
class EmitOutcome:
    """What ``akeneo-events emit`` prints, how many requests were sent and how many got an answer (any HTTP
    status): none answered means nothing listens there, a failure of the command (exit 1), with ``reason``
    (the first failure seen)."""

    text: str
    requests: int
    answered: int
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.answered > 0 or self.requests == 0


class WireProfile(Protocol):
    """One wire profile: its options, the violations it judges, and how it runs, replays and reports."""

    #: the name users type (``--profile``) for this wire profile, or for its family (``events-api``)
    name: str
    #: how messages name it: "Events API", "Event Platform"
    label: str
    #: how a user selects it, for messages: "--profile event-platform" style, without the option name
    selector: str
    #: the options (config field and CLI option names, ``_`` spelt) that apply to this profile only
    options: tuple[str, ...]
    #: every property judged, kind -> (severity, description): one JUnit test case each
    violation_kinds: Mapping[str, tuple[str, str]]
    #: kind -> the one-line fix in the receiver (the README glossary's), shown beside each kind found
    kind_fixes: Mapping[str, str]

    #: whether a signature covers a request timestamp besides the body (``--timestamp``)
    signs_timestamp: bool

    def sign(self, secret: str, body: bytes, *, timestamp: str | None = None) -> str:
        """The signature header value the platform sends for ``body``."""
        ...

    def verify(self, secret: str, body: bytes, signature: str, *, timestamp: str | None = None) -> bool:
        """Whether ``signature`` is the platform's for ``body`` under ``secret``."""
        ...

    def owns(self, thing: object) -> bool:
        """Whether ``thing`` (a config or a campaign result) belongs to this profile."""
        ...

    def config(self, version: PimVersion | None, **options: Any) -> Any:
        """This profile's campaign config; ``version`` is the PIM version the name resolved to."""
        ...

    def emitter(self, config: Any, *, secret: str, wrap_target: Callable[[Target], Target] | None = None) -> Any:
        """The sender of ``config``'s traffic, signing with ``secret`` (a ``MockPim``, an ``EpEmitter``);
        ``wrap_target`` wraps every target it sends to (app-error capture)."""
        ...

    def configure_reference(self, receiver: Any, config: Any) -> None:
        """Set the reference receiver up for ``config`` (e.g. the client id whose events are its own)."""
        ...

    def run(self, config: Any, *, target: Target | None = None, secret: str | None = None,
            old_secret: str | None = None, state_url: str | None = None, observe: ObservationSource | None = None,
            record: str | Path | None = None, rest_api: Any = None, on_request: Callable[[int], None] | None = None,
            start: int | None = None, receiver_holds_secret: bool = False) -> CampaignOutcome:
        """Deliver, probe, read the observation and judge it (the reference receiver without ``target``).
        ``start`` is the Unix time the activity starts at (None: the config's, else the profile's default).
        ``receiver_holds_secret``: the receiver holds ``secret`` alone, and a rotation's other secret is
        generated by the kit."""
        ...

    def emit(self, config: Any, url: str, *, secret: str, record: str | Path | None = None,
             save_plan: str | Path | None = None, on_request: Callable[[int], None] | None = None,
             start: int | None = None) -> EmitOutcome:
        """Deliver ``config``'s traffic to ``url`` like the platform, without judging; returns the summary.
        ``save_plan`` saves the fault plan applied, for profiles that have plans; ``start`` as in :meth:`run`."""
        ...

    def save_plan(self, result: Any, path: str | Path) -> None:
        """Save the fault plan a run applied (a usage error for profiles without plans)."""
        ...

    def reproduce(self, config: Any, *, url: str | None = None, state_url: str | None = None,
                  start: int | None = None, rest_api: Any = None) -> str:
        """The ``akeneo-events fuzz`` command line that runs ``config`` again (``rest_api``: the mock REST API
        the run served, :class:`~akeneo_events_testkit.restapi.RestApi`)."""
        ...

    def headline(self, result: Any) -> str:
        """The first line of the failure anatomy: what was run against whom."""
        ...

    def format_verdict(self, result: Any, verdict: Verdict) -> str:
        """``verdict`` (the result's, or a variant of it) rendered for a person, with this profile's context."""
        ...

    def summary(self, result: Any, *, quiet: bool = False, colour: bool = False,
                report: str | None = None) -> str:
        """The console text after a run (``fuzz``); ANSI colours with ``colour``; ``report`` is the JSON report
        written, if any (named for the violations the text leaves out)."""
        ...

    def is_tape(self, path: str | Path) -> bool:
        """Whether ``path`` is a tape this profile recorded."""
        ...

    def replay(self, tape: str | Path, url: str, *, secret: str, state_url: str | None = None) -> ReplayOutcome:
        """Send a recorded tape again, re-signed with ``secret``; with ``state_url``, judge the result."""
        ...

    def timeline(self, result: Any) -> dict[str, list[TimelineRow]]:
        """Per resource key, its events with the requests that delivered them (HTML report)."""
        ...

    def report_facts(self, result: Any) -> list[tuple[str, Any]]:
        """PimVersion-specific facts for the report's header (ties, retries, suspension...)."""
        ...
