"""A venue answer meaning "a cancel is already pending" is pending, not rejected (issue 14 rule 4).

One process's cancel is at the venue (AutoShares ``PendingCancel``, SnapTrade ``CANCEL_PENDING``) when a
second process (no shared trail here, so nothing stops its request) cancels the same order: AutoShares
answers 409, SnapTrade 400 "already has a pending cancel request". The second attempt must follow the
venue's pending cancel to its end (cancelled), not report "rejected" for an order that is being cancelled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from reliability_support import wait_for
from venue_kits import KITS, single_service

from blotter.core import CancelOutcome, OrderStatus, Provenance


@pytest.mark.parametrize("venue", ["autoshares", "snaptrade"])
async def test_already_pending_answer_is_followed_to_its_end(serve: Any, venue: str) -> None:
    kit = KITS[venue]
    section = kit.section([1])
    section["orders"][0]["cancel"] = {"mode": "accept", "delay_ms": 1500}
    sims, urls = serve({venue: section})
    sim = sims[venue]
    first = single_service(kit, urls[venue], "c", reconcile_s=10.0)
    second = single_service(kit, urls[venue], "c", reconcile_s=10.0)
    try:
        await asyncio.gather(first.accounts(), second.accounts())
        earlier = first.coordinator.submit(kit.key("c", 1), Provenance.ROW_ACTION)
        await wait_for(lambda: len(kit.cancel_requests(sim, 1)) == 1 and kit.is_open(sim, 1), "the first cancel")
        [result] = await second.cancel([kit.key("c", 1)], Provenance.CLI)
        first_result = await earlier
    finally:
        await asyncio.gather(first.aclose(), second.aclose())
    refusal = kit.cancel_requests(sim, 1)[1]
    assert refusal.status in (400, 409)  # the venue's "already pending" answer
    assert (result.outcome, result.final_status) == (CancelOutcome.CANCELLED, OrderStatus.CANCELLED), result
    assert first_result.outcome is CancelOutcome.CANCELLED
