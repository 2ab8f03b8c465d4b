"""The demo scenario: realistic US equities at AutoShares and SnapTrade, crypto pairs at tanX."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any


def demo_scenario(seed: int = 7) -> dict[str, Any]:
    from . import autoshares, snaptrade, tanx

    rng = random.Random(seed)
    return {
        "name": "demo",
        "description": "Blotter demo: three venues, several accounts, a few hundred open orders",
        "autoshares": autoshares.demo_section(rng),
        "snaptrade": snaptrade.demo_section(rng),
        "tanx": tanx.demo_section(rng),
    }


def demo_connections(
    scenario: Mapping[str, Any], urls: Mapping[str, str]
) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(connection name, venue, options, secrets) for every demo login in a served scenario."""
    from . import autoshares, snaptrade, tanx

    modules: dict[str, Any] = {"autoshares": autoshares, "snaptrade": snaptrade, "tanx": tanx}
    out: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
    for venue, module in modules.items():
        if venue in scenario and venue in urls:
            for name, options, secrets in module.demo_connections(scenario[venue], urls[venue]):
                out.append((name, venue, options, secrets))
    return out
