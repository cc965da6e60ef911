"""The wire profiles, looked up once: a profile name resolves to (wire profile, PIM version), a config or a
result names its own profile, and an option of the other profile is refused by one rule.

Entry points (the CLI, the pytest plugin, :mod:`~akeneo_events_testkit.assertions`, the reports) call these
instead of testing which profile they hold; each profile is a
:class:`~akeneo_events_testkit.judging.profile.WireProfile`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import KitError, UsageError
from .event_platform.profile import EVENT_PLATFORM_PROFILE
from .events_api.profile import EVENTS_API
from .judging.profile import WireProfile
from .versions import PimVersion, resolve_profile_name

__all__ = ["WIRE_PROFILES", "ResolvedProfile", "foreign_options", "profile_of", "refuse_foreign_options", "resolve"]

#: Every wire profile, by name.
WIRE_PROFILES: dict[str, WireProfile] = {EVENTS_API.name: EVENTS_API,
                                         EVENT_PLATFORM_PROFILE.name: EVENT_PLATFORM_PROFILE}


@dataclass(frozen=True)
class ResolvedProfile:
    """What a profile name means: the wire profile, and the Events API's PIM version (None otherwise)."""

    wire: WireProfile
    version: PimVersion | None

    @property
    def name(self) -> str:
        """The canonical name: the PIM version's for the Events API, else the wire profile's."""
        return self.version.name if self.version is not None else self.wire.name


def resolve(name: str | PimVersion) -> ResolvedProfile:
    """``5.0``, ``6.0``, ``7.0``, ``saas`` or ``event-platform`` as (wire profile, PIM version)."""
    wire, version = resolve_profile_name(name)
    return ResolvedProfile(WIRE_PROFILES[wire], version)


def profile_of(thing: object) -> WireProfile:
    """The wire profile a campaign config or result belongs to."""
    for profile in WIRE_PROFILES.values():
        if profile.owns(thing):
            return profile
    raise KitError(f"{type(thing).__name__} belongs to no wire profile: pass a campaign config or result")


def foreign_options(profile: WireProfile) -> tuple[str, ...]:
    """The options of every other wire profile, those that do not apply to ``profile``, in the order the
    profiles declare them (the order messages name them in)."""
    return tuple(name for other in WIRE_PROFILES.values() if other is not profile for name in other.options)


def refuse_foreign_options(profile: WireProfile, given: Iterable[str], *, spell: Callable[[str], str] = str,
                           select: Callable[[WireProfile], str] | None = None, where: str = "") -> None:
    """The one rule for options that do not apply: raise :class:`UsageError` naming those of ``given`` that
    belong to another wire profile, which profile they are for and how to choose it.

    ``spell`` writes an option name as the caller's users type it (``--uuid-mode``, ``uuid_mode``);
    ``select`` says how they choose a profile (``add --profile event-platform``); ``where`` prefixes the
    message (``akeneo_check(): ``).
    """
    names = list(given)
    for other in WIRE_PROFILES.values():
        if other is profile:
            continue
        foreign = [name for name in names if name in other.options]
        if foreign:
            how = f", {select(other)}" if select is not None else ""
            raise UsageError(f"{where}{', '.join(spell(n) for n in foreign)}: {other.label} only "
                             f"(not the {profile.label}){how}")
