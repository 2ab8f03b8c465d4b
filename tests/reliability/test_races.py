"""Races between a cancel and the world, at every venue, over loopback.

The simulator's ``hold`` fault keeps a request from the venue until the test lets it go, and
``hold_answer`` keeps the venue's answer: each race is ordered by waiting on conditions (the request is
in the venue's log, the order changed state), never by sleeping.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from reliability_support import REPORT, wait_for
from venue_kits import KITS, Kit, single_service

from blotter.core import CancelOutcome, OrderStatus, Provenance
from blotter.service import BlotterService, CancelEvent, CancelPhase, OrderFilter
from blotter.store.audit import AuditStore

VENUES = ["autoshares", "snaptrade", "tanx"]


def fill(kit: Kit, sim: Any, n: int) -> None:
    """The order fills at the venue (an execution, as far as the venue's state goes)."""
    if kit.name == "autoshares":
        sim.set_status(n, "Filled")
    elif kit.name == "snaptrade":
        sim.set_status(kit.order_id(n), "EXECUTED")
    else:
        sim.set_state(n, "done")


def cancel_elsewhere(kit: Kit, sim: Any, n: int) -> None:
    """Someone cancels the order at the venue (its own web page, another tool)."""
    if kit.name == "autoshares":
        sim.set_status(n, "Canceled")
    elif kit.name == "snaptrade":
        sim.set_status(kit.order_id(n), "CANCELED")
    else:
        sim.set_state(n, "cancel", cancel_reason="Order cancelled by user")


def remove(kit: Kit, sim: Any, n: int) -> None:
    """The venue forgets the order entirely (purged, or it never was this account's)."""
    with sim.lock:
        if kit.name == "autoshares":
            del sim.orders[n]
        else:
            del sim.orders[(kit.account(), kit.order_id(n))]


def one_outcome_each(audit: AuditStore, expected: int) -> list[Any]:
    audit.flush()
    attempts = audit.attempts()
    assert audit.outcome_violations() == []
    assert len(attempts) == expected and all(a.state == "done" for a in attempts)
    return attempts


# ---------------------------------------------------------------------------------------------- fill during cancel
@pytest.mark.parametrize("venue", VENUES)
async def test_fill_while_the_cancel_is_on_its_way_is_too_late_not_cancelled(serve: Any, venue: str) -> None:
    kit = KITS[venue]
    sims, urls = serve({venue: kit.section([1])})
    sim = sims[venue]
    audit = AuditStore()
    svc = single_service(kit, urls[venue], audit=audit)
    held = sim.add_fault({"method": kit.cancel_path[0], "path": kit.cancel_path[1], "action": "hold"})
    try:
        await svc.accounts()  # logged in: the cancel goes straight out
        attempt = svc.coordinator.submit(kit.key("c", 1), Provenance.HOTKEY)
        await wait_for(lambda: bool(kit.cancel_requests(sim, 1)), "the cancel to reach the venue")
        fill(kit, sim, 1)  # the execution wins the race at the venue
        held.release()
        result = await attempt
    finally:
        await svc.aclose()
    try:
        [recorded] = one_outcome_each(audit, 1)
    finally:
        audit.close()
    assert result.outcome is CancelOutcome.REJECTED and result.too_late, result
    assert result.final_status is OrderStatus.FILLED and "too late" in result.detail
    assert recorded.outcome == "rejected" and recorded.final_status == "filled"
    assert len(kit.cancel_requests(sim, 1)) == 1
    REPORT.note("races", f"fill during cancel ({venue})", True,
                f"the order filled while the cancel was held at the venue: {result.outcome.value}, "
                f"“{result.message}”, {result.detail}; one cancel request, one recorded outcome")


# ---------------------------------------------------------------------------------------------- cancel during a refresh
@pytest.mark.parametrize("venue", VENUES)
async def test_a_listing_older_than_a_cancel_does_not_lose_its_outcome(serve: Any, venue: str) -> None:
    kit = KITS[venue]
    sims, urls = serve({venue: kit.section([1, 2])})
    sim = sims[venue]
    audit = AuditStore()
    svc = single_service(kit, urls[venue], audit=audit)
    done_at: dict[str, float] = {}

    def on_event(event: CancelEvent) -> None:
        if event.phase is CancelPhase.DONE:
            done_at[event.attempt_id] = time.monotonic()

    svc.coordinator.subscribe(on_event)
    try:
        await svc.accounts()
        # the venue answers the listing now (order 1 open) but the answer is held on its way back
        # (tanX lists one state at a time: hold the read of the state the order is in)
        held = sim.add_fault({"method": kit.list_path[0], "path": kit.list_path[1], "action": "hold_answer",
                              "query": "state=wait" if venue == "tanx" else ""})
        read_started = time.monotonic()
        listing_task = asyncio.ensure_future(svc.open_orders(OrderFilter(connection="c")))
        await wait_for(lambda: held.hits >= 1, "the listing to reach the venue")
        [result] = await svc.cancel([kit.key("c", 1)], Provenance.ROW_ACTION)
        held.release()
        stale = await listing_task
        sim.remove_fault(held)
        fresh = await svc.open_orders(OrderFilter(connection="c"))
        # Acting on the stale row again is harmless and truthful: the venue refuses, the outcome stays.
        [again] = await svc.cancel([kit.key("c", 1)], Provenance.ROW_ACTION)
    finally:
        await svc.aclose()
    try:
        first, second = sorted(one_outcome_each(audit, 2), key=lambda a: a.started_at)
    finally:
        audit.close()
    assert result.outcome is CancelOutcome.CANCELLED
    # the stale listing still shows the order (the venue's answer left before the cancel) ...
    assert kit.order_id(1) in [o.order_id for o in stale.orders] and not stale.failures
    # ... but it began before the outcome: a consumer drops rows whose outcome is newer than the read
    assert read_started < done_at[result.attempt_id]
    assert kit.order_id(1) not in [o.order_id for o in fresh.orders]
    assert (first.attempt_id, first.outcome) == (result.attempt_id, "cancelled")  # not lost, not rewritten
    assert again.outcome is CancelOutcome.REJECTED and again.final_status is OrderStatus.CANCELLED
    assert second.outcome == "rejected" and "already cancelled" in again.detail
    assert not svc.coordinator.in_flight_keys
    REPORT.note("races", f"cancel during a refresh ({venue})", True,
                "a listing answered before the cancel and delivered after it still shows the order; the read "
                "began before the outcome (so the window drops it), the recorded outcome stays cancelled, and "
                f"cancelling the stale row again is refused truthfully (“{again.message}”)")


# ---------------------------------------------------------------------------------------------- gone before the cancel
@pytest.mark.parametrize("venue", VENUES)
async def test_an_order_gone_between_listing_and_cancel_gets_a_truthful_outcome(serve: Any, venue: str) -> None:
    kit = KITS[venue]
    sims, urls = serve({venue: kit.section([1, 2, 3])})
    sim = sims[venue]
    audit = AuditStore()
    svc = single_service(kit, urls[venue], audit=audit)
    try:
        listing = await svc.open_orders()
        assert sorted(o.order_id for o in listing.orders) == sorted(kit.order_id(n) for n in (1, 2, 3))
        cancel_elsewhere(kit, sim, 1)
        fill(kit, sim, 2)
        gone = venue != "tanx"
        if gone:
            remove(kit, sim, 3)
        results = {r.key.order_id: r for r in await svc.cancel([o.key for o in listing.orders], Provenance.SELECTION)}
    finally:
        await svc.aclose()
    try:
        one_outcome_each(audit, 3)
    finally:
        audit.close()
    elsewhere, filled = results[kit.order_id(1)], results[kit.order_id(2)]
    assert elsewhere.outcome is CancelOutcome.REJECTED and elsewhere.final_status is OrderStatus.CANCELLED
    assert "already cancelled" in elsewhere.detail
    assert filled.outcome is CancelOutcome.REJECTED and filled.too_late
    vanished = results[kit.order_id(3)]
    if gone:
        assert vanished.outcome is CancelOutcome.REJECTED and vanished.final_status is None
        assert "not found" in vanished.message.lower()
    else:
        assert vanished.outcome is CancelOutcome.CANCELLED
    for n in (1, 2, 3):
        assert len(kit.cancel_requests(sim, n)) == 1
    REPORT.note("races", f"order gone between listing and cancel ({venue})", True,
                f"cancelled elsewhere → rejected (“{elsewhere.message}”, {elsewhere.detail}); filled → rejected, "
                f"too late; " + (f"removed → rejected (“{vanished.message}”)" if gone else
                                 "(tanX never forgets an order)") + "; one request and one outcome each")


# ---------------------------------------------------------------------------------------------- two services, one order
@pytest.mark.parametrize("venue", VENUES)
async def test_the_same_order_cancelled_from_two_services_at_once(serve: Any, venue: str) -> None:
    """The window and the CLI cancel the same order at once: two Blotter processes, one audit database."""
    kit = KITS[venue]
    sims, urls = serve({venue: kit.section([1])})
    sim = sims[venue]
    window_audit, cli_audit = AuditStore(), AuditStore()  # same file (BLOTTER_HOME), two sessions
    window = single_service(kit, urls[venue], audit=window_audit)
    cli = single_service(kit, urls[venue], audit=cli_audit)
    held = sim.add_fault({"method": kit.cancel_path[0], "path": kit.cancel_path[1], "action": "hold", "times": 0})
    try:
        await asyncio.gather(window.accounts(), cli.accounts())
        both = asyncio.gather(window.cancel([kit.key("c", 1)], Provenance.ROW_ACTION),
                              cli.cancel([kit.key("c", 1)], Provenance.CLI))
        await wait_for(lambda: len(kit.cancel_requests(sim, 1)) == 1, "the first cancel to reach the venue")
        # the other process found the venue order claimed in the shared trail: it waits for that outcome
        await wait_for(lambda: len(cli_audit.attempts()) == 2, "both attempts to be recorded")
        held.release()
        [[from_window], [from_cli]] = await both
    finally:
        await asyncio.gather(window.aclose(), cli.aclose())
    window_audit.flush()
    cli_audit.flush()
    try:
        attempts = {a.attempt_id: a for a in window_audit.attempts()}
        assert window_audit.outcome_violations() == []
    finally:
        window_audit.close()
        cli_audit.close()
    assert len(kit.cancel_requests(sim, 1)) == 1  # one request per venue order, across processes
    assert {from_window.outcome, from_cli.outcome} == {CancelOutcome.CANCELLED}
    second = from_cli if "another Blotter process" in from_cli.detail else from_window
    assert "another Blotter process" in second.detail and "no second request" in second.detail
    for r in (from_window, from_cli):
        assert attempts[r.attempt_id].outcome == r.outcome.value and attempts[r.attempt_id].state == "done"
    provenance = sorted(a.provenance for a in attempts.values())
    assert provenance == ["cli", "row_action"]
    REPORT.note("races", f"same order from two services ({venue})", True,
                "window and CLI (two BlotterService objects, one audit file) cancel one order at once: the first "
                "claims the venue order in the shared trail, the venue receives 1 request, and the other reports "
                "the first attempt's outcome (cancelled) with one recorded outcome per attempt")


# ---------------------------------------------------------------------------------------------- re-login vs a burst
@pytest.mark.parametrize("venue", ["autoshares", "tanx"])
async def test_one_relogin_for_a_burst_of_cancels_on_an_expired_token(serve: Any, venue: str) -> None:
    kit = KITS[venue]
    orders = list(range(1, 21))
    sims, urls = serve({venue: kit.section(orders)})
    sim = sims[venue]
    assert kit.auth_path is not None
    audit = AuditStore()
    svc: BlotterService = single_service(kit, urls[venue], audit=audit)
    try:
        await svc.accounts()
        logins_before = len(sim.requests_matching(*kit.auth_path))
        kit.expire(sim)
        # Hold the re-login until every cancel in flight has met the expired token.
        held = sim.add_fault({"method": kit.auth_path[0], "path": kit.auth_path[1], "action": "hold"})
        burst = asyncio.ensure_future(svc.cancel([kit.key("c", n) for n in orders], Provenance.KILL_SWITCH, "b-1"))

        def refused() -> int:
            return sum(1 for n in orders for r in kit.cancel_requests(sim, n) if r.status == 401)

        # How many cancels meet the expired token before the re-login starts depends on timing: once one
        # 401 starts the re-login, cancels not yet sent wait for the new token instead of sending a doomed
        # request. What must hold whatever the timing is checked below: one re-login, every cancel done.
        await wait_for(lambda: refused() >= 1 and held.hits == 1, "the burst to meet the expired token")
        held.release()
        results = await burst
    finally:
        await svc.aclose()
    try:
        one_outcome_each(audit, 20)
    finally:
        audit.close()
    relogins = len(sim.requests_matching(*kit.auth_path)) - logins_before
    assert relogins == 1
    if venue == "tanx":  # refreshed: no new wallet login
        assert len(sim.requests_matching("POST", r"/auth/v2/login/?$|/v2/auth/login/?$")) == 1
    assert all(r.outcome is CancelOutcome.CANCELLED for r in results), [r.message for r in results]
    for n in orders:
        reqs = kit.cancel_requests(sim, n)
        assert len([r for r in reqs if r.status != 401]) == 1 and len(reqs) <= 2
    what = "/token" if venue == "autoshares" else "token refresh"
    REPORT.note("races", f"re-login racing a burst ({venue})", True,
                f"token expired, 20 cancels at once ({refused()} met the expired token while the re-login was "
                f"held): exactly {relogins} {what}, 20 × cancelled, one processed request per order")
