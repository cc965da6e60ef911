"""What the strategy modules share: the defaults, and the argument checks that raise when a strategy is made.

Misuse raises :class:`~akeneo_events_testkit.errors.InvalidStrategyArgument` (a Hypothesis
``InvalidArgument``) with a message that names the fix, as Hypothesis's house style asks.
"""

from __future__ import annotations

from typing import NoReturn

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ...errors import InvalidStrategyArgument, UnknownProfile
from ...versions import Action, AuthorType, PimVersion, get_profile

__all__ = [
    "AUTHORS",
    "DEFAULT_SECRET",
    "DEFAULT_START",
    "as_action",
    "check_int",
    "check_secret",
    "check_strategy",
    "fail",
    "resolve_profile",
    "uuid_modes",
]

#: The secret of the docs' example (facts section 2); any non-empty secret works.
DEFAULT_SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"
#: 2026-01-01T00:00:00+00:00: where workloads start their virtual time.
DEFAULT_START = 1_767_225_600
#: Authors of the three kinds (facts section 4): UI users, connection users, the system user.
AUTHORS: dict[str, AuthorType] = {
    "julia": AuthorType.UI, "peter": AuthorType.UI, "magento_0000": AuthorType.API,
    "erp_0000": AuthorType.API, "system": AuthorType.SYSTEM,
}


def fail(message: str) -> NoReturn:
    """Raise the misuse of a strategy's argument, ``message`` naming the fix."""
    raise InvalidStrategyArgument(message)


def check_strategy(name: str, value: object) -> None:
    """``value`` must be a Hypothesis strategy; a plain value is refused with the strategy to pass instead."""
    if isinstance(value, SearchStrategy):
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        hint = f"pass {name}=st.sampled_from({sorted(map(str, value))!r})"
    else:
        hint = f"pass {name}=st.just({value!r})"
    fail(f"{name} must be a Hypothesis strategy, got {type(value).__name__}: {hint}")


def as_action(value: object) -> Action:
    """An ``actions`` strategy's draw as an :class:`Action`, or the misuse named."""
    try:
        return Action(value)
    except ValueError as exc:
        fail(f"actions generated {exc}: generate Action members or their values such as 'product.created'")


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int of at least ``minimum`` (a bool is no int here)."""
    if not isinstance(value, int) or isinstance(value, bool):
        fail(f"{name} must be an int, got {value!r}")
    if value < minimum:
        fail(f"{name}={value} must be at least {minimum}")
    return value


def check_secret(secret: object) -> str:
    """``secret`` as a non-empty str."""
    if not isinstance(secret, str) or not secret:
        fail("secret must be a non-empty str: the one the receiver under test is configured with")
    return secret


def resolve_profile(profile: object, uuid_mode: object) -> PimVersion:
    """The :class:`PimVersion` named by ``profile``, checked against ``uuid_mode`` (True, False or None)."""
    if not isinstance(profile, (str, PimVersion)):
        fail(f"profile must be a profile name such as 'saas' or a PimVersion, got {profile!r}")
    try:
        resolved = get_profile(profile)
    except UnknownProfile as exc:
        fail(str(exc))
    if uuid_mode is not None and not isinstance(uuid_mode, bool):
        fail(f"uuid_mode must be True, False or None (both modes), got {uuid_mode!r}")
    if uuid_mode and not resolved.has_uuid:
        fail(f"profile {resolved.name} has no UUID mode: use profile='7.0' or 'saas', or leave uuid_mode=None")
    return resolved


def uuid_modes(profile: PimVersion, uuid_mode: bool | None) -> SearchStrategy[bool]:
    """UUID mode exists in 7.0 and SaaS only; ``None`` draws either (it is a per-subscription option)."""
    if not profile.has_uuid:
        return st.just(False)
    if uuid_mode is None:
        return st.just(True) if profile.uuid_mode else st.booleans()
    return st.just(uuid_mode)
