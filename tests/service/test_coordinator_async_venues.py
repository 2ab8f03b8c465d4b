"""The lifecycle on the venues whose cancel is only queued: tanX and SnapTrade, over loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from blotter.core import CancelOutcome, ConnectionSpec, OrderKey, OrderStatus, Provenance, Venue
from blotter.service import BlotterService, CancelEvent, CancelPhase, OrderFilter
from blotter.sim.tanx import address_of
from blotter.store.credentials import MemoryCredentialStore

KEY = "0x" + "5a" * 32
ADDR = address_of(KEY)
NOW = datetime.now(UTC)


def _tanx_order(order_id: int, cancel: dict[str, Any] | None = None, market: str = "btcusdc") -> dict[str, Any]:
    order: dict[str, Any] = {"id": order_id, "wallet": ADDR, "market": market, "side": "buy", "ord_type": "limit",
                             "price": "60000", "origin_volume": "0.5", "executed_volume": "0", "state": "wait",
                             "created_at": (NOW - timedelta(minutes=order_id)).isoformat()}
    if cancel:
        order["cancel"] = cancel
    return order


def _tanx_service(serve: Any, orders: list[dict[str, Any]]) -> tuple[BlotterService, Any, list[CancelEvent]]:
    sims, urls = serve({"tanx": {"wallets": [{"name": "Desk", "private_key": KEY}], "orders": orders}})
    spec = ConnectionSpec("tx", Venue.TANX, urls["tanx"], timeout_s=0.5)
    svc = BlotterService([spec], MemoryCredentialStore({("tx", "private_key"): KEY}), reconcile_timeout_s=2.0)
    svc.coordinator._poll_initial_s = 0.05
    events: list[CancelEvent] = []
    svc.coordinator.subscribe(events.append)
    return svc, sims["tanx"], events


async def test_tanx_queued_is_pending_until_the_order_shows_cancel(serve) -> None:
    svc, sim, events = _tanx_service(serve, [_tanx_order(1, {"mode": "accept", "delay_ms": 300})])
    key = OrderKey("tx", ADDR, "1")
    try:
        [result] = await svc.cancel([key], Provenance.ROW_ACTION)
    finally:
        await svc.aclose()
    phases = [e.phase for e in events]
    assert phases == [CancelPhase.SENDING, CancelPhase.PENDING, CancelPhase.DONE]
    assert events[1].message == "Order is successfully queued for cancellation"
    assert result.outcome is CancelOutcome.CANCELLED and result.final_status is OrderStatus.CANCELLED
    assert result.message == "Order is successfully queued for cancellation"
    assert "Order cancelled by user" in result.detail
    assert len(sim.requests_matching("POST", r"/orders/cancel/?$")) == 1


async def test_tanx_queued_then_filled_is_too_late(serve) -> None:
    svc, _, _ = _tanx_service(serve, [_tanx_order(2, {"mode": "fill", "delay_ms": 100})])
    try:
        [result] = await svc.cancel([OrderKey("tx", ADDR, "2")], Provenance.HOTKEY)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.REJECTED and result.too_late
    assert result.final_status is OrderStatus.FILLED and result.venue_status == "done"


async def test_tanx_never_confirmed_stays_pending_with_a_warning(serve) -> None:
    svc, _, _ = _tanx_service(serve, [_tanx_order(3, {"mode": "never"})])
    try:
        [result] = await svc.cancel([OrderKey("tx", ADDR, "3")], Provenance.CLI)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.PENDING and "still shows the order wait" in result.detail


async def test_tanx_cancel_all_by_account_settles_every_order(serve) -> None:
    orders = [_tanx_order(10 + i, market=("btcusdc", "ethusdc")[i % 2]) for i in range(12)]
    svc, sim, events = _tanx_service(serve, orders)
    try:
        results, listing = await svc.cancel_all(OrderFilter(connection="tx"))
        after = await svc.open_orders(OrderFilter(connection="tx"))
    finally:
        await svc.aclose()
    assert len(listing.orders) == 12 and len(results) == 12
    assert all(r.outcome is CancelOutcome.CANCELLED for r in results)
    assert len({r.batch_id for r in results}) == 1 and results[0].batch_id
    assert after.orders == []
    assert len([e for e in events if e.phase is CancelPhase.DONE]) == 12
    assert len(sim.requests_matching("POST", r"/orders/cancel/?$")) == 12  # one request per order


async def test_snaptrade_demo_account_cancel_all_skips_read_only_accounts(serve) -> None:
    import random

    from blotter.sim import snaptrade

    section = snaptrade.demo_section(random.Random(3))
    sims, urls = serve({"snaptrade": section})
    [(name, options, secrets)] = snaptrade.demo_connections(section, urls["snaptrade"])
    spec = ConnectionSpec(name, Venue.SNAPTRADE, urls["snaptrade"], options)
    creds = MemoryCredentialStore({(name, k): v for k, v in secrets.items()})
    svc = BlotterService([spec], creds, reconcile_timeout_s=6.0)
    svc.coordinator._poll_initial_s = 0.05
    try:
        accounts = (await svc.accounts()).accounts
        read_only = {a.account_id for a in accounts if a.read_only}
        assert read_only, "the demo has a read-only SnapTrade account"
        results, listing = await svc.cancel_all(OrderFilter(connection=name))
    finally:
        await svc.aclose()
    assert {r.key.account for r in results}.isdisjoint(read_only)
    assert not sims["snaptrade"].requests_matching("POST", "|".join(f"/accounts/{a}/trading" for a in read_only))
    expected = [o.key for o in listing.orders if o.key.account not in read_only]
    assert sorted(r.key for r in results) == sorted(expected)
    by_mode = {str(o["brokerage_order_id"]): (o.get("cancel") or {}).get("mode", "accept")
               for o in section["orders"]}
    for r in results:
        mode = by_mode[r.key.order_id]
        if mode == "accept":
            assert r.outcome is CancelOutcome.CANCELLED, r
        elif mode == "fill":
            assert r.too_late, r
        elif mode == "reject":
            assert r.outcome is CancelOutcome.REJECTED and r.http_status == 400, r
        elif mode == "never":
            assert r.outcome is CancelOutcome.PENDING, r
