"""SnapTrade: many cancels of one account are confirmed with a few order-list reads, and truthfully.

Against the SnapTrade simulator over loopback, through ``BlotterService`` as the product uses it (list, then
cancel). On a connection that serves real-time data, the confirmations of more than a few in-flight cancels
of one account are batched into one ``orders?state=all`` read each; every order still ends exactly as its
own ``get_order`` would make it end: cancelled, too late (filled at the cancel, or filled while the cancel
was pending), rejected, pending (never confirmed), and orders the list cannot show (placed through
SnapTrade more than 90 days ago) are confirmed through the detail endpoint. A connection served from
SnapTrade's cache is never batched.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from blotter.core import CancelOutcome, ConnectionSpec, OrderKey, OrderStatus, Provenance, Venue
from blotter.service import BlotterService, CancelEvent, CancelPhase
from blotter.store.credentials import MemoryCredentialStore

CID = "BATCH-CLIENT"
KEY = "ck_batch_0123456789abcdef"
UID = "batch-user"
SECRET = "batch-secret-4711"
LIVE = "11111111-2222-4333-8444-555555555555"
CACHED = "66666666-7777-4888-8999-aaaaaaaaaaaa"
DAY = 86400
PLAIN = 30


def _order(oid: str, account: str = LIVE, **fields: Any) -> dict[str, Any]:
    base = {"brokerage_order_id": oid, "account_id": account, "symbol": "AAPL", "description": "Apple",
            "currency": "USD", "exchange": "NASDAQ", "action": "BUY", "order_type": "Limit",
            "time_in_force": "GTC", "total_quantity": "10", "filled_quantity": "0", "limit_price": "190.5",
            "status": "ACCEPTED", "time_placed": -DAY}
    return {**base, **fields}


def _account(account_id: str, n: int, freshness: str) -> dict[str, Any]:
    return {"id": account_id, "brokerage_authorization": f"0000000{n}-0000-4000-8000-00000000000{n}",
            "name": f"Acct {n}", "number": f"N{n}", "institution_name": "Alpaca",
            "balance": {"amount": 1000, "currency": "USD"}, "data_freshness": freshness}


def _scenario() -> dict[str, Any]:
    special = [
        _order("901", cancel={"mode": "fill"}),                       # fills as the cancel arrives: too late
        _order("902", cancel={"mode": "reject", "message": "Order cannot be cancelled now"}),
        _order("903", cancel={"mode": "accept", "delay_ms": 300}),    # CANCEL_PENDING first, then CANCELED
        _order("904", cancel={"mode": "never"}),                      # never confirmed: stays pending
        _order("905", cancel={"mode": "never"}),                      # fills while its cancel is pending
        _order("906", via_snaptrade=False, cancel={"mode": "accept", "delay_ms": 200}),  # only the list knows it
        _order("907", time_placed=-120 * DAY, cancel={"mode": "accept", "delay_ms": 200}),  # only the detail does
    ]
    orders = [_order(str(100 + i)) for i in range(PLAIN)] + special
    orders += [_order(str(500 + i), account=CACHED, cancel={"mode": "accept", "delay_ms": 200}) for i in range(12)]
    return {"snaptrade": {
        "clients": [{"client_id": CID, "consumer_key": KEY}],
        "users": [{"user_id": UID, "user_secret": SECRET, "accounts": [LIVE, CACHED]}],
        "accounts": [_account(LIVE, 1, "realtime"), _account(CACHED, 2, "delayed")],
        "orders": orders,
    }}


def _service(serve: Any) -> tuple[BlotterService, Any]:
    sims, urls = serve(_scenario())
    spec = ConnectionSpec("st", Venue.SNAPTRADE, urls["snaptrade"], {"client_id": CID, "user_id": UID},
                          timeout_s=2.0)
    creds = MemoryCredentialStore({("st", "consumer_key"): KEY, ("st", "user_secret"): SECRET})
    svc = BlotterService([spec], creds, reconcile_timeout_s=1.5)
    svc.coordinator._poll_initial_s = 0.05
    return svc, sims["snaptrade"]


def _reads(sim: Any, account: str) -> tuple[list[Any], list[Any]]:
    """(order-list reads with state=all, detail reads) of one account."""
    listed = [r for r in sim.requests_matching("GET", rf"/accounts/{account}/orders$") if "state=all" in r.query]
    return listed, sim.requests_matching("POST", rf"/accounts/{account}/orders/details$")


async def test_many_cancels_are_confirmed_with_few_reads_and_the_outcomes_single_reads_give(serve: Any) -> None:
    svc, sim = _service(serve)

    def fill_905_once_pending(event: CancelEvent) -> None:
        if event.key.order_id == "905" and event.phase is CancelPhase.PENDING:
            sim.set_status("905", "EXECUTED", LIVE)

    svc.coordinator.subscribe(fill_905_once_pending)
    try:
        listing = await svc.open_orders()
        keys = [o.key for o in listing.orders if o.key.account == LIVE]
        assert len(keys) == PLAIN + 6  # 907 is older than the list's 90 days: cancelled by its id
        keys.append(OrderKey("st", LIVE, "907"))
        results = {r.key.order_id: r for r in await svc.cancel(keys, Provenance.CANCEL_ALL)}
    finally:
        await svc.aclose()

    plain = [results[str(100 + i)] for i in range(PLAIN)]
    assert all(r.outcome is CancelOutcome.CANCELLED and r.final_status is OrderStatus.CANCELLED for r in plain)
    assert all("confirmed" in r.detail for r in plain)
    assert results["901"].outcome is CancelOutcome.REJECTED and results["901"].final_status is OrderStatus.FILLED
    assert results["902"].outcome is CancelOutcome.REJECTED and "cannot be cancelled now" in results["902"].message
    assert results["903"].outcome is CancelOutcome.CANCELLED and "confirmed" in results["903"].detail
    assert results["904"].outcome is CancelOutcome.PENDING  # accepted, never confirmed: not claimed
    assert results["904"].final_status is OrderStatus.PENDING_CANCEL
    assert results["905"].outcome is CancelOutcome.REJECTED and "too late" in results["905"].detail
    assert results["906"].outcome is CancelOutcome.CANCELLED  # confirmed from the list
    assert results["907"].outcome is CancelOutcome.CANCELLED  # beyond the list's 90 days: the detail read

    assert len(sim.requests_matching("POST", "/trading/cancel$")) == len(keys)  # one cancel each
    listed, details = _reads(sim, LIVE)
    assert listed, "the confirmations of many cancels were not batched"
    assert len(listed) <= 8  # vs one read per order (37) and more while some wait for their cancel
    asked = Counter(json.loads(r.body)["brokerage_order_id"] for r in details)
    assert not [oid for oid in asked if int(oid) < 900], "a plain order was confirmed by its own read"
    assert asked["907"] >= 1  # beyond the list: asked for in detail
    # Once few cancels remain in flight (904 waits out its timeout alone), single reads resume.
    assert asked["904"] >= 2


async def test_a_cached_connection_keeps_one_real_time_read_per_order(serve: Any) -> None:
    svc, sim = _service(serve)
    try:
        listing = await svc.open_orders()
        keys = [o.key for o in listing.orders if o.key.account == CACHED]
        assert len(keys) == 12
        results = await svc.cancel(keys, Provenance.CANCEL_ALL)
    finally:
        await svc.aclose()
    assert Counter(r.outcome for r in results) == {CancelOutcome.CANCELLED: 12}
    listed, details = _reads(sim, CACHED)
    assert not listed  # its order list may be a day old: never used to confirm
    assert len(details) >= len(keys)  # every order confirmed by its own detail read (pending first)


async def test_without_knowing_the_connection_cancels_are_confirmed_one_by_one(serve: Any) -> None:
    svc, sim = _service(serve)
    keys = [OrderKey("st", LIVE, str(100 + i)) for i in range(PLAIN)]
    try:
        # straight to the coordinator, no accounts listing first: freshness unknown
        # (BlotterService.cancel lists the accounts first, to refuse venue-read-only ones)
        results = await svc.coordinator.cancel_many(keys, Provenance.CLI)
    finally:
        await svc.aclose()
    assert Counter(r.outcome for r in results) == {CancelOutcome.CANCELLED: PLAIN}
    listed, details = _reads(sim, LIVE)
    assert not listed and len(details) == PLAIN
