"""The refresh scheduler: diffs, interval, backoff on errors, refresh-now — against a fake source."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from blotter.core import (
    Account,
    OrderKey,
    OrderStatus,
    OrderType,
    OutcomeUnknown,
    Side,
    Venue,
)
from blotter.core.model import Order
from blotter.service.refresh import RefreshEvent, RefreshPhase, RefreshScheduler, diff_orders
from blotter.service.session import ConnectionFailure, Listing, OrderFilter


def order(conn: str, oid: str, status: OrderStatus = OrderStatus.OPEN, filled: str = "0") -> Order:
    return Order(
        key=OrderKey(conn, "A1", oid), venue=Venue.AUTOSHARES, symbol="AAPL", side=Side.BUY,
        order_type=OrderType.LIMIT, quantity=Decimal(100), filled=Decimal(filled),
        remaining=Decimal(100) - Decimal(filled), limit_price=Decimal("101.5"), stop_price=None,
        status=status, venue_status=status.value, created_at=datetime(2026, 1, 2, tzinfo=UTC),
    )


class FakeSource:
    def __init__(self, names: list[str]) -> None:
        self.specs = {n: object() for n in names}
        self.orders: dict[str, list[Order]] = {n: [] for n in names}
        self.fail: dict[str, str] = {}
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None

    async def open_orders(self, flt: OrderFilter | None = None) -> Listing:
        assert flt is not None
        name = flt.connection
        self.calls.append(name)
        if self.gate is not None:
            await self.gate.wait()
        if name in self.fail:
            return Listing(failures=[ConnectionFailure(name, OutcomeUnknown(self.fail[name]))])
        account = Account(name, Venue.AUTOSHARES, "A1", "Main")
        return Listing(accounts=[account], orders=list(self.orders[name]))


def test_diff_orders_reports_added_changed_removed_and_drops_terminal() -> None:
    a, b, c = order("x", "1"), order("x", "2"), order("x", "3")
    snap, added, changed, removed = diff_orders({}, [a, b])
    assert added == [a, b]
    assert not changed
    assert not removed
    b2 = replace(b, filled=Decimal(10), status=OrderStatus.PARTIALLY_FILLED)
    snap, added, changed, removed = diff_orders(snap, [b2, c, replace(a, status=OrderStatus.FILLED)])
    assert added == [c]
    assert changed == [b2]
    assert removed == [a.key]
    assert set(snap) == {b.key, c.key}


async def test_refresh_once_publishes_diffs() -> None:
    src = FakeSource(["x", "y"])
    src.orders["x"] = [order("x", "1"), order("x", "2")]
    sched = RefreshScheduler(src, interval_s=10)
    events: list[RefreshEvent] = []
    sched.subscribe(events.append)
    results = await sched.refresh_once()
    assert [r.phase for r in results] == [RefreshPhase.UPDATED, RefreshPhase.UPDATED]
    diff = results[0].diff
    assert diff is not None
    assert diff.first
    assert len(diff.added) == 2
    assert diff.accounts[0].account_id == "A1"
    assert [e.phase for e in events].count(RefreshPhase.STARTED) == 2
    src.orders["x"] = [order("x", "2", OrderStatus.PARTIALLY_FILLED, "5")]
    (again,) = await sched.refresh_once("x")
    assert again.diff is not None
    assert not again.diff.first
    assert [o.key.order_id for o in again.diff.changed] == ["2"]
    assert [k.order_id for k in again.diff.removed] == ["1"]
    assert set(sched.snapshot()) == {OrderKey("x", "A1", "2")}
    (same,) = await sched.refresh_once("x")
    assert same.diff is not None
    assert same.diff.empty


async def test_failures_back_off_and_success_resets() -> None:
    src = FakeSource(["x"])
    src.fail["x"] = "no answer from X within 10 s (timed out)"
    sched = RefreshScheduler(src, interval_s=2, backoff_factor=2, max_backoff_s=10)
    (ev,) = await sched.refresh_once()
    assert ev.phase is RefreshPhase.FAILED
    assert ev.error is not None
    assert "timed out" in str(ev.error)
    assert ev.retry_in_s == 4
    await sched.refresh_once()
    assert sched.next_delay("x") == 8
    await sched.refresh_once()
    assert sched.next_delay("x") == 10  # capped
    del src.fail["x"]
    (ok,) = await sched.refresh_once()
    assert ok.phase is RefreshPhase.UPDATED
    assert sched.failures("x") == 0
    assert sched.next_delay("x") == 2


async def test_loops_run_at_interval_and_refresh_now_wakes_them() -> None:
    src = FakeSource(["x", "y"])
    sched = RefreshScheduler(src, interval_s=3600)
    updated: list[str] = []
    got = asyncio.Event()

    def listener(ev: RefreshEvent) -> None:
        if ev.phase is RefreshPhase.UPDATED:
            updated.append(ev.connection)
            got.set()

    sched.subscribe(listener)
    sched.start()
    try:
        while len(updated) < 2:
            got.clear()
            await asyncio.wait_for(got.wait(), 5)
        assert sorted(updated) == ["x", "y"]
        updated.clear()
        sched.refresh_now("y")
        while not updated:
            got.clear()
            await asyncio.wait_for(got.wait(), 5)
        assert updated == ["y"]
        assert sched.running
    finally:
        await sched.aclose()
    assert not sched.running


async def test_short_interval_rereads_by_itself() -> None:
    src = FakeSource(["x"])
    sched = RefreshScheduler(src, interval_s=0.01)
    sched.start()
    try:
        for _ in range(500):
            if len(src.calls) >= 3:
                break
            await asyncio.sleep(0.01)
        assert len(src.calls) >= 3
    finally:
        await sched.aclose()


async def test_reads_of_one_connection_never_overlap() -> None:
    src = FakeSource(["x"])
    src.gate = asyncio.Event()
    sched = RefreshScheduler(src, interval_s=60)
    first = asyncio.create_task(sched.refresh_once("x"))
    second = asyncio.create_task(sched.refresh_once("x"))
    await asyncio.sleep(0.01)
    assert src.calls == ["x"]  # the second waits for the first
    src.gate.set()
    await asyncio.gather(first, second)
    assert src.calls == ["x", "x"]


async def test_a_broken_listener_does_not_stop_refreshing() -> None:
    src = FakeSource(["x"])
    sched = RefreshScheduler(src, interval_s=60)

    def broken(_ev: RefreshEvent) -> None:
        raise RuntimeError("boom")

    seen: list[RefreshPhase] = []
    sched.subscribe(broken)
    sched.subscribe(lambda ev: seen.append(ev.phase))
    await sched.refresh_once()
    assert seen == [RefreshPhase.STARTED, RefreshPhase.UPDATED]


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RefreshScheduler(FakeSource(["x"]), interval_s=0)


async def test_forget_and_interval_setter() -> None:
    src = FakeSource(["x"])
    src.orders["x"] = [order("x", "1")]
    sched = RefreshScheduler(src, interval_s=60)
    await sched.refresh_once()
    sched.forget([OrderKey("x", "A1", "1")])
    src.orders["x"] = []
    (ev,) = await sched.refresh_once()
    assert ev.diff is not None
    assert ev.diff.empty
    sched.interval_s = 1.5
    assert sched.next_delay("x") == 1.5
    with pytest.raises(KeyError):
        sched.refresh_now("nope")
