"""The FastAPI receiver under the akeneo-events pytest plugin: in-process over ASGI, and over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi_app import create_app

from akeneo_events_testkit.pytest_plugin import AkeneoCheck


@pytest.fixture
def app(akeneo_secret: str) -> FastAPI:
    return create_app(akeneo_secret)


def test_receiver_in_process(app: FastAPI, akeneo_check: AkeneoCheck) -> None:
    akeneo_check(app, path="/webhook", observe=app.state.observation)


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app on a free loopback port, as it runs in production."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.02)
        assert thread.is_alive(), "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.mark.akeneo_events(profile="7.0", uuid_mode=True, faults="gentle", events=150)
def test_receiver_over_http(served: str, akeneo_check: AkeneoCheck) -> None:
    akeneo_check(served + "/webhook", state_url=served + "/state")
