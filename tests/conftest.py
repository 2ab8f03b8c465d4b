"""Fixtures shared by every test package."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from blotter.sim.runner import SimServer, SimSet  # noqa: E402

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
