"""The desk without Qt: plans with reasons, in-flight and pending rules, batches and their lasting summary,
refresh coalescing, the kill-switch preview and its skips — against an AutoShares simulator over loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from blotter.core import ConnectionSpec, OrderKey, Provenance, Venue
from blotter.service import BlotterService
from blotter.service.desk import (
    BatchProgress,
    CancelPlan,
    CancelStep,
    Confirmation,
    Desk,
    DeskEvent,
    Refused,
    confirmation_for,
)
from blotter.service.status_log import OutcomeKind
from blotter.store.credentials import MemoryCredentialStore

APP_KEY = "desk-app-key-3c4d5e6f"
PASSWORD = "desk-password-7a8b9c0d"


def order(n: int, account: int = 6303, cancel: dict[str, Any] | None = None) -> dict[str, Any]:
    o: dict[str, Any] = {"id": n, "account_id": account, "symbol": "AAPL", "side": "Buy", "type": "Limit",
                         "quantity": 10, "price": 190.5, "status": "New", "create_date": "2026-12-01T14:30:00Z"}
    if cancel:
        o["cancel"] = cancel
    return o


SCENARIO: dict[str, Any] = {"autoshares": {
    "app_keys": [APP_KEY],
    "users": [{"user_id": 9, "username": "desk", "password": PASSWORD, "first_name": "D", "last_name": "Esk",
               "accounts": [6303, 6304, 6305]}],
    "accounts": [
        {"id": 6303, "clearing_account": "5DK06303", "access_type": "Full", "margin_type": "Cash",
         "owner_type": "IndividualCustomer", "alias": "Active trading", "currency": "USD", "enabled": True,
         "cash": 1000},
        {"id": 6304, "clearing_account": "5DK06304", "access_type": "ReadOnly", "margin_type": "Cash",
         "owner_type": "IndividualCustomer", "alias": "Family office", "currency": "USD", "enabled": True,
         "cash": 1000},
        {"id": 6305, "clearing_account": "5DK06305", "access_type": "Full", "margin_type": "Cash",
         "owner_type": "IndividualCustomer", "alias": "Hedges", "currency": "USD", "enabled": True, "cash": 1000},
    ],
    "orders": [order(1), order(2, cancel={"mode": "reject", "status": 409, "message": "Order is locked"}),
               order(3, cancel={"mode": "fill"}), order(4, cancel={"mode": "never"}),
               order(10, 6304), order(11, 6304), order(20, 6305)],
}}


class FakeTimer:
    """call_later for the desk: records what is scheduled; the test fires it (no sleeping, no timing)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, Callable[[], None], list[bool]]] = []

    def __call__(self, delay: float, fn: Callable[[], None]) -> Any:
        cancelled = [False]  # cancelled, or fired

        def fire() -> None:
            cancelled[0] = True
            fn()

        self.calls.append((delay, fire, cancelled))

        class Handle:
            def cancel(self) -> None:
                cancelled[0] = True

        return Handle()

    def live(self) -> list[tuple[float, Callable[[], None]]]:
        return [(d, fn) for d, fn, c in self.calls if not c[0]]


@pytest.fixture
def desk_env(serve: Any) -> Any:
    sims, urls = serve(SCENARIO)
    def make(*, read_only: bool = False, connection_read_only: bool = False) -> tuple[Desk, Any, FakeTimer]:
        spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "desk"}, timeout_s=3.0,
                              read_only=connection_read_only)
        creds = MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD})
        service = BlotterService([spec], creds, read_only=read_only, reconcile_timeout_s=1.0)
        service.coordinator._poll_initial_s = 0.05
        timer = FakeTimer()
        return Desk(service, call_later=timer, clock=lambda: 100.0), sims["autoshares"], timer

    return make


async def close(desk: Desk) -> None:
    await desk.aclose()
    await desk.service.aclose()


def key(n: int, account: int = 6303) -> OrderKey:
    return OrderKey("as", str(account), str(n))


async def settle(desk: Desk) -> None:
    """Wait until every cancel submitted from the desk has its outcome (on the desk's own event)."""
    done = asyncio.Event()

    def check(_event: DeskEvent) -> None:
        if not desk.requested:
            done.set()

    unsubscribe = desk.subscribe(check)
    try:
        if desk.requested:
            await asyncio.wait_for(done.wait(), 20)
    finally:
        unsubscribe()


async def test_a_plan_says_why_each_key_is_not_sent(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    try:
        await desk.scheduler.refresh_once()
        plan = desk.plan_cancel([key(1), key(10, 6304), key(999)], Provenance.SELECTION)
        assert plan.send == (key(1),)
        assert {(r.key, r.why) for r in plan.refused} == {(key(10, 6304), Refused.READ_ONLY),
                                                           (key(999), Refused.NOT_OPEN)}
        assert "read-only" in plan.refused_for(Refused.READ_ONLY)[0].text
        assert plan.why_not() == "Not sent: 1 read-only, 1 no longer open"
        assert sim.requests_matching("DELETE") == []  # planning sends nothing
    finally:
        await close(desk)


@pytest.mark.parametrize(("app", "connection"), [(True, False), (False, True)])
async def test_read_only_app_or_connection_refuses_everything(desk_env: Any, app: bool, connection: bool) -> None:
    desk, sim, _ = desk_env(read_only=app, connection_read_only=connection)
    try:
        await desk.scheduler.refresh_once()
        plan = desk.plan_cancel(desk.open_orders(), Provenance.KILL_SWITCH)
        assert plan.send == () and {r.why for r in plan.refused} == {Refused.READ_ONLY}
        assert desk.submit(plan) == "" and sim.requests_matching("DELETE") == []
    finally:
        await close(desk)


async def test_in_flight_keys_are_refused_and_never_sent_twice(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    held = sim.add_fault({"method": "DELETE", "path": r"/orders/1$", "action": "hold", "times": 1})
    try:
        await desk.scheduler.refresh_once()
        desk.submit(desk.plan_cancel([key(1)], Provenance.ROW_ACTION))
        again = desk.plan_cancel([key(1), OrderKey("as", "06303", "0001")], Provenance.ROW_ACTION)
        assert again.send == () and {r.why for r in again.refused} == {Refused.IN_FLIGHT}
        held.release()
        await settle(desk)
    finally:
        await close(desk)
    assert len(sim.requests_matching("DELETE", r"/orders/1$")) == 1


async def test_a_batch_counts_every_outcome_and_what_it_skipped(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    events: list[DeskEvent] = []
    desk.subscribe(events.append)
    try:
        await desk.scheduler.refresh_once()
        plan = desk.plan_cancel([key(1), key(2), key(3), key(10, 6304), key(11, 6304)], Provenance.SELECTION)
        batch_id = desk.submit(plan)
        assert batch_id
        await settle(desk)
    finally:
        await close(desk)
    progress = [e for e in events if isinstance(e, BatchProgress)]
    assert [p.done for p in progress] == [0, 1, 2, 3] and progress[-1].finished
    summary = progress[-1].batch
    assert dict(summary.outcomes) == {"cancelled": 1, "rejected": 1, "too late": 1}
    assert dict(summary.skipped) == {"read_only": 2}
    assert summary.text() == ("Cancelling 3 orders: done — 1 cancelled, 1 rejected, 1 too late, "
                              "2 skipped (read-only)")
    # one lasting entry in the status log, with the batch id
    [entry] = [e for e in desk.status_log.items if e.batch_id == batch_id and e.action == "selection"]
    assert entry.message == summary.text() and entry.kind is OutcomeKind.ERROR
    assert len([e for e in events if isinstance(e, CancelStep) and e.event.result is not None]) == 3
    assert len(sim.requests_matching("DELETE")) == 3


async def test_a_pending_cancel_is_not_sent_again_by_the_kill_switch(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    try:
        await desk.scheduler.refresh_once()
        desk.submit(desk.plan_cancel([key(4)], Provenance.ROW_ACTION))  # "never": ends pending at the venue
        await settle(desk)
        assert key(4) in desk.pending
        preview = await desk.kill_switch_preview()
        assert key(4) not in preview.keys and key(10, 6304) not in preview.keys
        assert set(preview.keys) == {key(1), key(2), key(3), key(20, 6305)}
        notes = {(line.account, line.note) for line in preview.lines}
        assert ("6303", "1 with a cancel already pending at the venue — not cancelled") in notes
        assert ("6304", "read-only — not cancelled") in notes
        names = {line.account: line.account_name for line in preview.lines}
        assert names == {"6303": "Active trading", "6304": "Family office", "6305": "Hedges"}
        batch = desk.fire_kill_switch(list(preview.keys))
        await settle(desk)
        [summary] = [b for b in desk.finished_batches if b.batch_id == batch]
        assert summary.total == 4
    finally:
        await close(desk)
    assert len(sim.requests_matching("DELETE", r"/orders/4$")) == 1  # only the first cancel


async def test_a_failing_connection_is_listed_in_the_preview_and_nothing_there_is_cancelled(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    try:
        sim.add_fault({"method": "GET", "path": r"/users/@me/accounts$", "action": "status", "status": 503,
                       "body": {"Message": "The service is unavailable."}, "times": 0})
        preview = await desk.kill_switch_preview()
    finally:
        await close(desk)
    assert preview.keys == ()
    [line] = preview.lines
    assert "could not be read" in line.note and "unavailable" in line.note


async def test_refreshes_after_a_burst_of_cancels_are_coalesced(desk_env: Any, monkeypatch: Any) -> None:
    desk, _, timer = desk_env()
    refreshed: list[str] = []
    monkeypatch.setattr(desk.scheduler, "refresh_now", lambda connection="": refreshed.append(connection))
    try:
        await desk.scheduler.refresh_once()
        desk.submit(desk.plan_cancel([key(1), key(2), key(3)], Provenance.SELECTION))
        await settle(desk)
        [(delay, fire)] = timer.live()  # three outcomes, one refresh waiting
        assert 0 < delay <= 0.4
        assert len(timer.calls) == 3
        fire()
    finally:
        await close(desk)
    assert refreshed == ["as"]


async def test_subscribe_and_unsubscribe(desk_env: Any) -> None:
    desk, _, _ = desk_env()
    seen: list[DeskEvent] = []
    unsubscribe = desk.subscribe(seen.append)
    try:
        await desk.scheduler.refresh_once()
        assert seen
        unsubscribe()
        count = len(seen)
        await desk.scheduler.refresh_once()
        assert len(seen) == count
    finally:
        await close(desk)


def _plan(keys: list[OrderKey], provenance: Provenance = Provenance.SELECTION) -> CancelPlan:
    return CancelPlan(provenance, tuple(keys))


def test_confirmation_scales_with_the_blast_radius() -> None:
    assert confirmation_for(_plan([key(1)], Provenance.ROW_ACTION)) is Confirmation.SINGLE
    assert confirmation_for(_plan([key(1)], Provenance.ROW_ACTION), confirm_single=False) is Confirmation.NONE
    assert confirmation_for(_plan([key(1), key(2)])) is Confirmation.KEEP_DEFAULT
    assert confirmation_for(_plan([key(1)], Provenance.CANCEL_ALL)) is Confirmation.KEEP_DEFAULT
    assert confirmation_for(_plan([key(1), key(20, 6305)])) is Confirmation.TYPED  # two accounts
    assert confirmation_for(_plan([key(n) for n in range(21)])) is Confirmation.TYPED  # above 20
    assert confirmation_for(_plan([key(n) for n in range(20)])) is Confirmation.KEEP_DEFAULT
    assert confirmation_for(_plan([key(n) for n in range(6)]), typed_above=5) is Confirmation.TYPED


async def test_a_burst_waits_for_its_last_cancel_but_at_most_three_seconds(desk_env: Any,
                                                                           monkeypatch: Any) -> None:
    desk, _, timer = desk_env()
    now = [1000.0]
    desk._clock = lambda: now[0]
    refreshed: list[str] = []
    monkeypatch.setattr(desk.scheduler, "refresh_now", lambda connection="": refreshed.append(connection))
    monkeypatch.setattr(desk.service, "specs", {"a": None, "b": None, "c": None})
    try:
        desk._queue_refresh("a")  # a cancel ended: re-list 400 ms after it…
        assert [d for d, _ in timer.live()] == [0.4]
        now[0] += 2.8
        desk._queue_refresh("b")  # …unless another ends meanwhile, but at most 3 s after the first
        [(delay, fire)] = timer.live()
        assert delay == pytest.approx(0.2)
        fire()
        assert refreshed == ["a", "b"]  # both listed together
        now[0] += 0.5
        desk._queue_refresh("c")  # a new burst starts a new wait
        assert [d for d, _ in timer.live()] == [0.4]
    finally:
        monkeypatch.undo()
        await close(desk)


async def test_an_account_that_cannot_be_listed_is_said_in_the_status_log(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    try:
        sim.add_fault({"method": "GET", "path": r"/accounts/6305/orders$", "action": "status", "status": 503,
                       "body": {"Message": "The service is unavailable."}, "times": 0})
        await desk.scheduler.refresh_once()
        await desk.scheduler.refresh_once()
    finally:
        await close(desk)
    shown = [e for e in desk.status_log.items if e.action == "list_orders"]
    assert len(shown) == 1 and shown[0].count >= 2  # the venue's answer, on that account, repeats folded
    assert shown[0].account == "6305" and "unavailable" in shown[0].message
    assert {k.account for k in desk.open_orders()} == {"6303", "6304"}  # the others are listed


async def test_an_unreadable_order_is_said_in_the_status_log(desk_env: Any) -> None:
    desk, sim, _ = desk_env()
    try:
        sim.add_fault({"method": "GET", "path": r"/accounts/6305/orders$", "action": "status", "status": 200,
                       "body": {"Result": [{"Id": 9, "AccountId": 6305, "Symbol": "AAPL", "Side": "Buy",
                                            "Type": "Limit", "Quantity": "NaN", "Status": "New"}],
                                "TotalCount": 1}, "times": 0})
        await desk.scheduler.refresh_once()
    finally:
        await close(desk)
    [note] = [e for e in desk.status_log.items if e.action == "list_orders"]
    assert "as/6305/9" in note.message and "cannot read" in note.message


async def test_a_batch_summary_is_also_in_the_audit_trail(serve: Any, tmp_path: Any) -> None:
    from blotter.store.audit import AuditQuery, AuditStore

    _sims, urls = serve(SCENARIO)
    audit = AuditStore(tmp_path / "audit.sqlite3")
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "desk"}, timeout_s=3.0)
    service = BlotterService([spec], MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD}),
                             reconcile_timeout_s=1.0, audit=audit)
    service.coordinator._poll_initial_s = 0.05
    desk = Desk(service, call_later=FakeTimer())
    try:
        await desk.scheduler.refresh_once()
        batch_id = desk.submit(desk.plan_cancel([key(1), key(3), key(10, 6304)], Provenance.SELECTION))
        await settle(desk)
    finally:
        await close(desk)
    audit.flush()
    try:
        [summary] = [r for r in audit.query(AuditQuery(text=batch_id)) if r.action == "batch_summary"]
        assert summary.batch_id == batch_id
        assert "1 cancelled, 1 too late, 1 skipped (read-only)" in summary.message
    finally:
        audit.close()
