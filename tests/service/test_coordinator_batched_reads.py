"""Reconciling many cancels of one account: the re-reads are batched, the outcomes are what single reads say.

Against the AutoShares simulator over loopback: with more than ``BATCH_READS_ABOVE`` cancels of an account in
flight, re-reads waiting together go out as one ``Id in (…)`` read of the orders list; every order still ends
exactly as it would with one ``get_order`` each (cancelled, too late, rejected, pending, not found). Also the
client-side rate limiter's guarantee (what cancel-all relies on to spare the venue 429s).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blotter.core import CancelOutcome, ConnectionSpec, OrderKey, OrderStatus, Provenance, Venue
from blotter.service import BlotterService
from blotter.service.coordinator import BATCH_READS_ABOVE
from blotter.store.credentials import MemoryCredentialStore
from blotter.venues.http import RateLimiter

APP_KEY = "batch-app-key-5e0c"
PASSWORD = "batch-password-31"
ACCOUNT = 7301
NOW = datetime.now(UTC)
PLAIN = 60  # orders cancelled plainly, well above BATCH_READS_ABOVE


def _order(order_id: int, cancel: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    order = {"id": order_id, "account_id": ACCOUNT, "symbol": "MSFT", "side": "Sell", "type": "Limit",
             "quantity": 5, "price": 410.25, "status": "New",
             "create_date": (NOW - timedelta(minutes=3)).isoformat().replace("+00:00", "Z")}
    if cancel:
        order["cancel"] = cancel
    order.update(extra)
    return order


def _scenario() -> dict[str, Any]:
    special = [
        _order(901, {"mode": "fill"}),                                              # 204, but it filled
        _order(902, {"mode": "reject", "status": 422, "message": "Order cannot be cancelled now"}),
        _order(903, {"mode": "accept", "delay_ms": 300}),                           # PendingCancel first
        _order(904, {"mode": "never"}),                                             # never confirmed
    ]
    return {"autoshares": {
        "app_keys": [APP_KEY],
        "users": [{"user_id": 43, "username": "batch", "password": PASSWORD, "first_name": "B",
                   "last_name": "Atch", "accounts": [ACCOUNT]}],
        "accounts": [{"id": ACCOUNT, "clearing_account": "5XX07301", "access_type": "Full",
                      "margin_type": "Cash", "owner_type": "IndividualCustomer", "alias": "main",
                      "currency": "USD", "enabled": True, "cash": 1000}],
        "orders": [_order(100 + i) for i in range(PLAIN)] + special,
    }}


def _key(order_id: int) -> OrderKey:
    return OrderKey("as", str(ACCOUNT), str(order_id))


async def test_many_cancels_are_reconciled_with_batched_reads_and_the_same_outcomes(serve: Any) -> None:
    assert PLAIN > BATCH_READS_ABOVE
    sims, urls = serve(_scenario())
    sim = sims["autoshares"]
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "batch"}, timeout_s=2.0)
    creds = MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD})
    svc = BlotterService([spec], creds, reconcile_timeout_s=1.5)
    svc.coordinator._poll_initial_s = 0.05
    keys = [_key(100 + i) for i in range(PLAIN)] + [_key(i) for i in (901, 902, 903, 904)]
    try:
        results = {r.key.order_id: r for r in await svc.cancel(keys, Provenance.CANCEL_ALL)}
    finally:
        await svc.aclose()

    plain = [results[str(100 + i)] for i in range(PLAIN)]
    assert all(r.outcome is CancelOutcome.CANCELLED and r.final_status is OrderStatus.CANCELLED for r in plain)
    assert all("confirmed" in r.detail for r in plain)
    assert results["901"].outcome is CancelOutcome.REJECTED and results["901"].too_late  # filled: too late
    assert results["902"].outcome is CancelOutcome.REJECTED and "cannot be cancelled" in results["902"].message
    assert results["903"].outcome is CancelOutcome.CANCELLED  # pending at first, then confirmed
    assert results["904"].outcome is CancelOutcome.PENDING  # accepted, never confirmed: not claimed

    assert len(sim.requests_matching("DELETE")) == len(keys)  # one cancel each, nothing sent twice
    batched = [r for r in sim.requests_matching("GET", rf"/accounts/{ACCOUNT}/orders$") if "Id+in" in r.query
               or "Id%20in" in r.query]
    single = sim.requests_matching("GET", rf"/accounts/{ACCOUNT}/orders/\d+$")
    assert batched, "the re-reads of many cancels were not batched"
    assert len(batched) + len(single) < len(keys) // 2


async def test_a_few_cancels_keep_one_read_each(serve: Any) -> None:
    sims, urls = serve(_scenario())
    sim = sims["autoshares"]
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "batch"}, timeout_s=2.0)
    creds = MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD})
    svc = BlotterService([spec], creds, reconcile_timeout_s=1.5)
    keys = [_key(100 + i) for i in range(3)]
    try:
        results = await svc.cancel(keys, Provenance.SELECTION)
    finally:
        await svc.aclose()
    assert Counter(r.outcome for r in results) == {CancelOutcome.CANCELLED: 3}
    for k in keys:
        assert len(sim.requests_matching("GET", rf"/orders/{k.order_id}$")) == 1
    assert not [r for r in sim.requests_matching("GET", r"/orders$") if "Id" in r.query]


@pytest.mark.parametrize("rate", [50.0, 200.0])
async def test_rate_limiter_never_exceeds_its_rate_plus_the_catch_up(rate: float) -> None:
    limiter = RateLimiter(rate)
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        stamps.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(int(rate // 2))))
    await asyncio.sleep(0.05)  # a pause: afterwards at most CATCH_UP + 1 requests may go at once
    await asyncio.gather(*(one() for _ in range(int(rate // 4))))
    stamps.sort()
    window = 0.25
    allowed = rate * window + RateLimiter.CATCH_UP + 1
    assert all(sum(1 for t in stamps if s <= t < s + window) <= allowed for s in stamps)
