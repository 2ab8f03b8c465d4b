"""The demo environment: the three venue simulators on loopback with their connections and in-memory secrets.

Part of the composition root (``boot``): ``blotter --demo`` (the window), ``blotter sim serve`` and the tests
start the demo venues the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..core import ConnectionSpec, Venue
from ..store.credentials import MemoryCredentialStore


@contextmanager
def demo_environment(seed: int = 7) -> Iterator[tuple[list[ConnectionSpec], MemoryCredentialStore, Any]]:
    """Serve the demo simulators; yields their connections with in-memory secrets (no keyring)."""
    from ..sim.demo import demo_connections, demo_scenario
    from ..sim.runner import SimServer, SimSet

    scenario = demo_scenario(seed)
    sims = SimSet.from_scenario(scenario)
    with SimServer(sims) as server:
        store = MemoryCredentialStore()
        specs = []
        for name, venue, options, secrets in demo_connections(scenario, server.urls):
            specs.append(ConnectionSpec(name=name, venue=Venue(venue), base_url=server.urls[venue],
                                        options=options))
            for field_name, value in secrets.items():
                store.set(name, field_name, value)
        yield specs, store, sims
