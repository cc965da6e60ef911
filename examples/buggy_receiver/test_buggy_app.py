"""The plugin catches the buggy receiver: the test is expected to fail, and it does."""

from __future__ import annotations

import pytest
from buggy_app import create_app
from flask import Flask

from akeneo_events_testkit.assertions import ObservationRecorder
from akeneo_events_testkit.failures import ViolationsFound
from akeneo_events_testkit.pytest_plugin import AkeneoCheck


@pytest.fixture
def app(akeneo_secret: str, akeneo_observation: ObservationRecorder) -> Flask:
    app = create_app(akeneo_secret, on_apply=akeneo_observation.record)
    app.testing = True
    return app


@pytest.mark.xfail(raises=ViolationsFound, strict=True, reason="applies redelivered events twice")
def test_receiver_applies_each_event_once(
    app: Flask, akeneo_check: AkeneoCheck, akeneo_observation: ObservationRecorder
) -> None:
    akeneo_check(app, path="/webhook", observe=akeneo_observation)


@pytest.mark.akeneo_events(faults="duplicate=0.3", probes=False, events=100)
def test_the_failure_names_the_bug(
    app: Flask, akeneo_check: AkeneoCheck, akeneo_observation: ObservationRecorder
) -> None:
    with pytest.raises(ViolationsFound) as caught:
        akeneo_check(app, path="/webhook", observe=akeneo_observation)
    assert "duplicate_applied" in caught.value.verdict.counts()
    assert "Reproduce with: pytest" in str(caught.value)
