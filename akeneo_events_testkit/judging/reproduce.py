"""What both profiles' reproduce lines share: the options every campaign has, the receiver's URLs and secrets.

Each profile builds its line in one place (``events_api.campaign.reproduce_command``,
``event_platform.campaign.reproduce_ep``) from its config and the run's options, with these pieces. The line
is what ``akeneo-events fuzz`` parses back into the same config: every option that changes the run, the
URLs as given, and secrets only as the environment variables ``--secret`` and ``--old-secret`` default to
(never their values).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from ..credentials import OLD_SECRET_ENV, SECRET_ENV
from .scope import Scope

__all__ = ["command_line", "observer_options", "receiver_options", "shared_options", "target_options"]


def command_line(parts: Sequence[str]) -> str:
    """``parts`` as one shell line: quoted, except the ``$NAME`` references to environment variables."""
    return " ".join(part if part.startswith("$") else shlex.quote(part) for part in parts)


def shared_options(config: Any, *, start: int | None, rest_api: Any = None) -> list[str]:
    """The options both profiles' configs have, as given (defaults left out), and the mock REST API's."""
    parts: list[str] = []
    if start is not None:
        parts += ["--start", str(start)]
    if not config.probes:
        parts.append("--no-probes")
    if config.design != "apply":
        parts += ["--design", config.design]
    if isinstance(config.scope, Scope):
        parts += [piece for option in config.scope.options() for piece in option.split(" ", 1)]
    if config.catalog is not None:
        parts += ["--catalog", str(config.catalog)]
    if rest_api is not None:
        parts.append("--rest-api")
        if getattr(rest_api, "lag", 0):
            parts += ["--rest-lag", str(float(rest_api.lag))]
    if config.rest_latency:
        parts += ["--rest-latency", str(float(config.rest_latency))]
    return parts


def receiver_options(config: Any, *, url: str | None = None, state_url: str | None = None,
                     old_secret: bool = False) -> list[str]:
    """``--receiver-cmd`` and ``--crashes`` of a receiver the kit ran itself, ``--url``/``--state-url`` when
    given (as templates: ``{port}`` stays), and the secret as an environment variable (the receiver gets it
    from its environment too); nothing when the kit ran no receiver command."""
    command = getattr(config, "receiver_cmd", None)
    if not command:
        return []
    parts = ["--receiver-cmd", command]
    if config.crashes:
        parts += ["--crashes", str(config.crashes)]
    if url:
        parts += ["--url", url]
    if state_url:
        parts += ["--state-url", state_url]
    parts += ["--secret", f"${SECRET_ENV}"]
    if old_secret:
        parts += ["--old-secret", f"${OLD_SECRET_ENV}"]
    return parts


def observer_options(observe: Any) -> list[str]:
    """How ``fuzz`` observes like ``observe`` does: a built-in observer (``observers/``) names its options
    (``--sink``, ``--observe-sql``, ``--observe-log``); any other callable has none."""
    options = getattr(observe, "command_options", None)
    return list(options()) if callable(options) else []


def target_options(url: str | None, state_url: str | None, *, old_secret: bool = False,
                   observed_with: Sequence[str] = ()) -> list[str]:
    """``--url`` and ``--state-url`` as given (or the options of the observer that replaced ``--state-url``)
    and the secrets as environment variables; nothing without a URL (the line then fuzzes the reference
    receiver)."""
    if not url:
        return []
    parts = ["--url", url] + (["--state-url", state_url] if state_url else list(observed_with))
    parts += ["--secret", f"${SECRET_ENV}"]
    if old_secret:
        parts += ["--old-secret", f"${OLD_SECRET_ENV}"]
    return parts
