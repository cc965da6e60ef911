"""What a test may see besides the violations it expects from a receiver in another process."""

from __future__ import annotations

from collections.abc import Iterable

from akeneo_events_testkit.judging.verdict import Violation


def without_unconfirmed_slowness(violations: Iterable[Violation]) -> list[Violation]:
    """``violations`` but the unconfirmed ``slow_ack`` warnings. Over HTTP to a receiver in another process
    (Node, PHP), a loaded machine can slow it where the kit cannot see; the oracle then reports the slowness
    as a warning (judging.checks.answers), which never fails the run, and a test judges the rest. A confirmed
    slow_ack is an error and stays."""
    return [v for v in violations if not (v.kind == "slow_ack" and v.severity == "warning")]
