"""Scenario shaping shared by test packages."""

from __future__ import annotations

import copy
from typing import Any


def plain_and_small(scenario: dict[str, Any], per_account: int) -> dict[str, Any]:
    """A copy with no latency, every cancel plain, and at most ``per_account`` orders per account."""
    out = copy.deepcopy(scenario)
    for venue in ("autoshares", "snaptrade", "tanx"):
        section = out[venue]
        section["latency_ms"] = 0
        kept: dict[Any, int] = {}
        orders = []
        for order in section["orders"]:
            order.pop("cancel", None)
            owner = order.get("account_id", order.get("wallet"))
            kept[owner] = kept.get(owner, 0) + 1
            if kept[owner] <= per_account:
                orders.append(order)
        section["orders"] = orders
    return out
