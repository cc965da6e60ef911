"""The Flask receiver under the akeneo-events pytest plugin, delivered to in-process through WSGI."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_app import create_app

from akeneo_events_testkit.pytest_plugin import AkeneoCheck


@pytest.fixture
def app(akeneo_secret: str) -> Flask:
    app = create_app(akeneo_secret)
    app.testing = True  # exceptions propagate, so the plugin shows them instead of a bare 500
    return app


def state_of(app: Flask) -> Any:
    return app.test_client().get("/state").get_json()


def test_receiver_handles_faults_and_probes(app: Flask, akeneo_check: AkeneoCheck) -> None:
    akeneo_check(app, path="/webhook", observe=lambda: state_of(app))


@pytest.mark.akeneo_events(profile="5.0", faults="chaos", events=300)
def test_receiver_handles_chaos_from_pim_5(app: Flask, akeneo_check: AkeneoCheck) -> None:
    akeneo_check(app, path="/webhook", observe=lambda: state_of(app))
