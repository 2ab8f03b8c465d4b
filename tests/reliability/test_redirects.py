"""A redirect is never followed (it could carry credentials to another host), and says so in plain words
(RELIABILITY-FINDINGS LOW: a 302 to another host printed `blotter: as: ""`)."""

from __future__ import annotations

from typing import Any

import pytest
from venue_kits import KITS, single_service

from blotter.service import OrderFilter


@pytest.mark.parametrize("venue", ["autoshares", "snaptrade", "tanx"])
async def test_a_redirect_is_refused_with_a_clear_message(serve: Any, venue: str) -> None:
    kit = KITS[venue]
    sims, urls = serve({venue: kit.section([1])})
    sim = sims[venue]
    svc = single_service(kit, urls[venue], timeout_s=3.0)
    try:
        assert not (await svc.accounts()).failures  # logged in
        sim.add_fault({"method": kit.list_path[0], "path": kit.list_path[1], "action": "status", "status": 302,
                       "body": "", "headers": {"Location": "https://elsewhere.example/steal?token=abc"},
                       "times": 0})
        listing = await svc.open_orders(OrderFilter())
    finally:
        await svc.aclose()
    assert not listing.failures  # the connection was read; its one account's listing was redirected
    [failure] = listing.account_failures
    words = str(failure.error)
    assert "redirected" in words and "does not follow redirects" in words and "elsewhere.example" in words, words
    assert words.strip() not in ('""', "")
    assert not sim.requests_matching("GET", r"/steal")
