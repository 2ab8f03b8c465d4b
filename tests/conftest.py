"""Fixtures shared by every test package."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from blotter.sim.runner import SimServer, SimSet

ServeFn = Callable[[dict[str, Any]], tuple[SimSet, dict[str, str]]]


@pytest.fixture
def serve() -> Iterator[ServeFn]:
    """Start simulators for a scenario on loopback; returns (sims, base URLs by venue)."""
    servers: list[SimServer] = []

    def _serve(scenario: dict[str, Any]) -> tuple[SimSet, dict[str, str]]:
        sims = SimSet.from_scenario(scenario)
        server = SimServer(sims)
        urls = server.start()
        servers.append(server)
        return sims, urls

    yield _serve
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _blotter_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own BLOTTER_HOME so nothing touches the real config or keyring."""
    home = tmp_path_factory.mktemp("blotter-home")
    monkeypatch.setenv("BLOTTER_HOME", str(home))


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    # Dead qasync loop objects collected from a worker thread segfaulted (FIELD-NOTES); collect here.
    yield
    gc.collect()


@pytest.fixture(scope="session")
def secret_service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of a real, unlocked Secret Service (gnome-keyring) for this test session."""
    from keyring_session import SecretServiceUnavailable, secret_service

    try:
        with secret_service(tmp_path_factory.mktemp("keyring-home")) as env:
            yield env
    except SecretServiceUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"no Secret Service for keyring tests: {exc}")
        pytest.skip(f"no Secret Service for keyring tests: {exc}")


@pytest.fixture
def real_keyring(secret_service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """keyring talks to the session's gnome-keyring for this test (and subprocesses it starts)."""
    import keyring
    import keyring.core

    for name, value in secret_service_env.items():
        monkeypatch.setenv(name, value)
    keyring.core.init_backend()
    yield
    keyring.core.init_backend()
