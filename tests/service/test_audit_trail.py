"""The audit trail behind the service: every cancel at every venue, over loopback, ends with exactly one
final outcome in the store, with its provenance; interrupted attempts are settled at the next start.

One ``BlotterService`` holds an AutoShares, a SnapTrade and a tanX connection against the simulators;
faults (timeouts, 500s, rejects, fills, never-confirmed cancels) are set per order in the scenario or
added with ``sim.add_fault``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from blotter.core import (
    Action,
    CancelOutcome,
    CancelResult,
    ConnectionSpec,
    OrderKey,
    OrderStatus,
    Provenance,
    Venue,
)
from blotter.service import BlotterService, OrderFilter
from blotter.sim.tanx import address_of
from blotter.store.audit import AuditQuery, AuditStore
from blotter.store.credentials import MemoryCredentialStore

NOW = datetime.now(UTC)
APP_KEY = "audit-app-key-5e6f7a"
PASSWORD = "audit-password-3141"
TANX_KEY = "0x" + "6b" * 32
TANX_ADDR = address_of(TANX_KEY)
CONSUMER_KEY = "audit-consumer-key-271828182845"
USER_SECRET = "audit-user-secret-161803398874"
ST_MAIN = "5f1b2a8e-7c33-4e55-9f0e-1a2b3c4d5e6f"
ST_FAULTY = "8d7c6b5a-4f3e-4d2c-8b1a-0f9e8d7c6b5a"
SECRETS = [APP_KEY, PASSWORD, TANX_KEY, TANX_KEY[2:], CONSUMER_KEY, USER_SECRET]


def as_order(order_id: int, account: int = 7001, cancel: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    order = {"id": order_id, "account_id": account, "symbol": "AAPL", "side": "Buy", "type": "Limit",
             "quantity": 10, "price": 190.5, "status": "New",
             "create_date": (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")}
    if cancel:
        order["cancel"] = cancel
    return {**order, **extra}


def tx_order(order_id: int, cancel: dict[str, Any] | None = None) -> dict[str, Any]:
    order: dict[str, Any] = {"id": order_id, "wallet": TANX_ADDR, "market": "btcusdc", "side": "buy",
                             "ord_type": "limit", "price": "60000", "origin_volume": "0.5", "executed_volume": "0",
                             "state": "wait", "created_at": (NOW - timedelta(minutes=order_id)).isoformat()}
    if cancel:
        order["cancel"] = cancel
    return order


def st_order(order_id: str, account: str = ST_MAIN, cancel: dict[str, Any] | None = None) -> dict[str, Any]:
    order: dict[str, Any] = {"brokerage_order_id": order_id, "account_id": account, "symbol": "SHOP",
                             "description": "Shopify Inc.", "currency": "USD", "exchange": "NASDAQ",
                             "action": "BUY", "order_type": "Limit", "time_in_force": "GTC",
                             "total_quantity": "10", "filled_quantity": "0", "limit_price": "112.50",
                             "status": "ACCEPTED", "time_placed": -600}
    if cancel:
        order["cancel"] = cancel
    return order


def scenario(as_orders: list[dict[str, Any]], tx_orders: list[dict[str, Any]],
             st_orders: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "autoshares": {
            "app_keys": [APP_KEY],
            "users": [{"user_id": 41, "username": "audit", "password": PASSWORD, "first_name": "A",
                       "last_name": "Udit", "accounts": [7001, 7002]}],
            "accounts": [{"id": n, "clearing_account": f"5XX0{n}", "access_type": "Full", "margin_type": "Cash",
                          "owner_type": "IndividualCustomer", "alias": "main", "currency": "USD", "enabled": True,
                          "cash": 1000} for n in (7001, 7002)],
            "orders": as_orders,
        },
        "tanx": {"wallets": [{"name": "Desk", "private_key": TANX_KEY}], "orders": tx_orders},
        "snaptrade": {
            "clients": [{"client_id": "AUDIT-CLIENT", "consumer_key": CONSUMER_KEY}],
            "users": [{"user_id": "auditor", "user_secret": USER_SECRET, "accounts": [ST_MAIN, ST_FAULTY]}],
            "accounts": [{"id": acc, "brokerage_authorization": acc[::-1], "name": name, "number": f"Q{i}",
                          "institution_name": "Questrade", "balance": {"amount": 1000, "currency": "USD"},
                          "is_paper": False, "status": "open", "read_only": False}
                         for i, (acc, name) in enumerate(((ST_MAIN, "Main"), (ST_FAULTY, "Faulty")))],
            "orders": st_orders,
        },
    }


def build(urls: dict[str, str], audit: AuditStore, reconcile_s: float = 1.5) -> BlotterService:
    specs = [
        ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "audit"}, timeout_s=0.5),
        ConnectionSpec("as-ro", Venue.AUTOSHARES, urls["autoshares"], {"username": "audit"}, read_only=True),
        ConnectionSpec("tx", Venue.TANX, urls["tanx"], timeout_s=0.5),
        ConnectionSpec("st", Venue.SNAPTRADE, urls["snaptrade"], {"client_id": "AUDIT-CLIENT", "user_id": "auditor"},
                       timeout_s=0.5),
    ]
    creds = MemoryCredentialStore({
        ("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD,
        ("as-ro", "app_key"): APP_KEY, ("as-ro", "password"): PASSWORD,
        ("tx", "private_key"): TANX_KEY,
        ("st", "consumer_key"): CONSUMER_KEY, ("st", "user_secret"): USER_SECRET,
    })
    svc = BlotterService(specs, creds, reconcile_timeout_s=reconcile_s, audit=audit)
    svc.coordinator._poll_initial_s = 0.05
    return svc


def ask(key: str) -> OrderKey:
    return OrderKey.parse(key)


async def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def scan_files(directory: Path, secrets: list[str]) -> None:
    files = [p for p in directory.iterdir() if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret is in {path.name}"
        assert b"eyJ" not in data, f"a JWT is in {path.name}"


async def test_every_cancel_at_every_venue_has_one_final_outcome_with_its_provenance(serve) -> None:
    as_orders = [
        as_order(1), as_order(2, cancel={"mode": "accept", "delay_ms": 300}), as_order(3, cancel={"mode": "fill"}),
        as_order(4, cancel={"mode": "reject", "status": 422, "message": "Order cannot be cancelled now"}),
        as_order(5, cancel={"mode": "timeout", "delay_ms": 1000, "effect": "cancel"}),
        as_order(6, cancel={"mode": "error", "effect": "none"}), as_order(7, cancel={"mode": "never"}),
        as_order(8, status="Filled", executed=10), as_order(9),
        *(as_order(20 + i, account=7002) for i in range(6)),
    ]
    tx_orders = [tx_order(1, {"mode": "accept", "delay_ms": 200}), tx_order(2, {"mode": "fill", "delay_ms": 100}),
                 tx_order(3, {"mode": "never"}), tx_order(4, {"mode": "reject", "message": "Order can not be "
                                                                                           "cancelled now"}),
                 tx_order(5, {"mode": "error", "effect": "cancel"}), tx_order(6)]
    st_orders = [st_order("st-1"), st_order("st-2", cancel={"mode": "accept", "delay_ms": 300}),
                 st_order("st-3", cancel={"mode": "reject", "message": "Unable to cancel: already executing"}),
                 st_order("st-4", cancel={"mode": "fill"}), st_order("st-5", cancel={"mode": "never"}),
                 st_order("st-6", cancel={"mode": "timeout", "delay_ms": 1000, "effect": "cancel"}),
                 st_order("st-9", account=ST_FAULTY)]
    sims, urls = serve(scenario(as_orders, tx_orders, st_orders))
    sims["autoshares"].add_fault({"action": "status", "method": "GET", "path": r"/orders/9$", "status": 500,
                                  "times": 3})
    sims["snaptrade"].add_fault({"action": "status", "method": "POST", "status": 500, "times": 1,
                                 "path": f"/accounts/{ST_FAULTY}/trading/cancel"})
    sims["tanx"].add_fault({"action": "status", "method": "GET", "path": r"/orders/6/?$", "status": 503,
                            "times": 3})
    audit = AuditStore()
    svc = build(urls, audit)
    try:
        dup = svc.coordinator.submit(ask("as/7001/9"), Provenance.HOTKEY)
        again = svc.coordinator.submit(ask("as/7001/9"), Provenance.SELECTION)  # in flight: nothing new is sent
        assert dup is again
        groups = await asyncio.gather(
            svc.cancel([ask("as/7001/1"), ask("as/7001/2")], Provenance.ROW_ACTION),
            svc.cancel([ask("as/7001/3"), ask("as/7001/4"), ask(f"tx/{TANX_ADDR}/1")], Provenance.SELECTION),
            svc.cancel([ask("as/7001/5"), ask("as/7001/6"), ask(f"tx/{TANX_ADDR}/2")], Provenance.HOTKEY),
            svc.cancel([ask("as/7001/7"), ask("as/7001/8"), ask(f"tx/{TANX_ADDR}/3"), ask(f"tx/{TANX_ADDR}/4"),
                        ask(f"tx/{TANX_ADDR}/5"), ask(f"tx/{TANX_ADDR}/6")], Provenance.CLI),
            svc.coordinator.cancel_many([ask(f"as/7002/{20 + i}") for i in range(6)], Provenance.KILL_SWITCH,
                                        batch_id="kill-1"),
            svc.cancel_all(OrderFilter(connection="st")),
            svc.coordinator.cancel_many([ask("as-ro/7001/1")], Provenance.HOTKEY),  # read-only: never sent
        )
        hotkey_result = await dup
    finally:
        await svc.aclose()
    cancel_all_results, listing = groups[5]
    results: list[CancelResult] = [r for g in groups[:5] for r in g] + cancel_all_results + groups[6]
    results.append(hotkey_result)
    assert len(listing.orders) == 7 and len(cancel_all_results) == 7
    audit.flush()
    try:
        attempts = {a.attempt_id: a for a in audit.attempts()}
        assert len(results) == 29 and sorted(attempts) == sorted(r.attempt_id for r in results)
        assert audit.outcome_violations() == []
        steps = audit.query(AuditQuery(kind="cancel"))
        for r in results:
            a = attempts[r.attempt_id]
            assert a.key == r.key and a.state == "done"
            assert (a.outcome, a.provenance, a.outcome_provenance, a.batch_id) == (
                r.outcome.value, r.provenance.value, r.provenance.value, r.batch_id), r
            assert a.final_status == (r.final_status.value if r.final_status else None)
            assert (a.message, a.detail, a.http_status) == (r.message, r.detail, r.http_status)
            mine = [s for s in steps if s.attempt_id == r.attempt_id]
            assert [s.phase for s in mine].count("done") == 1 and mine[-1].phase == "done"
            assert mine[0].phase == ("done" if r.key.connection == "as-ro" else "sending")
            assert {s.provenance for s in mine} == {r.provenance.value}
        by_key = {str(r.key): attempts[r.attempt_id] for r in results}
        # the venues' truths, as recorded
        assert by_key["as/7001/1"].outcome == "cancelled" and by_key["as/7001/3"].final_status == "filled"
        assert by_key["as/7001/4"].http_status == 422 and by_key["as/7001/4"].outcome == "rejected"
        assert by_key["as/7001/5"].outcome == "cancelled" and by_key["as/7001/6"].outcome == "failed"
        assert by_key["as/7001/7"].outcome == "pending" and by_key["as/7001/9"].outcome == "cancelled"
        assert by_key["as/7001/9"].provenance == "hotkey"  # the first ask wins; the second joined it
        assert by_key["as-ro/7001/1"].outcome == "failed" and "read-only" in by_key["as-ro/7001/1"].message
        assert by_key[f"tx/{TANX_ADDR}/1"].venue_reason == "Order cancelled by user"
        assert by_key[f"tx/{TANX_ADDR}/2"].final_status == "filled"
        assert by_key[f"tx/{TANX_ADDR}/4"].outcome == "rejected"
        assert by_key["st/" + ST_FAULTY + "/st-9"].outcome == "failed"  # 500, and still open: NOT cancelled
        assert by_key[f"st/{ST_MAIN}/st-3"].outcome == "rejected"
        kill = [a for a in attempts.values() if a.provenance == "kill_switch"]
        assert len(kill) == 6 and {a.batch_id for a in kill} == {"kill-1"}
        batch = {a.batch_id for a in attempts.values() if a.provenance == "cancel_all"}
        assert len(batch) == 1 and batch.pop() == cancel_all_results[0].batch_id
        # every venue answer is there too: one row per request the venues saw
        responses = audit.query(AuditQuery(kind="response"))
        deletes = sims["autoshares"].requests_matching("DELETE", r"/orders/\d+$")
        assert len([r for r in responses if r.connection == "as" and r.action == Action.CANCEL.value]) == len(deletes)
        tanx_cancels = sims["tanx"].requests_matching("POST", r"/orders/cancel/?$")
        assert len([r for r in responses if r.connection == "tx" and r.action == "cancel"]) == len(tanx_cancels) == 6
        assert any(r.http_status == 500 and r.connection == "st" for r in responses)
        assert len(sims["autoshares"].requests_matching("DELETE", r"/orders/1$")) == 1  # none for the read-only one
        scan_files(audit.path.parent, SECRETS)
    finally:
        audit.close()
    scan_files(audit.path.parent, SECRETS)


async def test_an_attempt_is_on_disk_before_its_request_reaches_the_venue(serve) -> None:
    sims, urls = serve(scenario([as_order(1, cancel={"mode": "timeout", "delay_ms": 1500, "effect": "cancel"})],
                                [], []))
    audit = AuditStore()
    svc = build(urls, audit)
    try:
        future = svc.coordinator.submit(ask("as/7001/1"), Provenance.ROW_ACTION)
        await wait_for(lambda: bool(sims["autoshares"].requests_matching("DELETE", r"/orders/1$")), "the DELETE")
        # no flush: what a crash right now would leave behind
        [attempt] = audit.attempts()
        assert attempt.state == "in_flight" and attempt.key == ask("as/7001/1")
        assert attempt.provenance == "row_action" and attempt.session == audit.session_id
        result = await future
    finally:
        await svc.aclose()
        audit.close()
    [attempt] = AuditStore().attempts()
    assert attempt.state == "done" and attempt.outcome == result.outcome.value == "cancelled"


async def interrupt(svc: BlotterService, audit: AuditStore, submit: list[tuple[str, Provenance, str]],
                    ready: Callable[[], bool]) -> list[str]:
    """Start cancels, wait until they are where a crash should find them, then stop everything."""
    for key, provenance, batch in submit:
        svc.coordinator.submit(ask(key), provenance, batch)
    await wait_for(ready, "every attempt to be under way")
    ids = [a.attempt_id for a in audit.attempts(AuditQuery(outcome="in_flight"))]
    await svc.aclose()  # as if the process died: the attempts never get their outcome here
    audit.close()
    return ids


async def test_restart_settles_interrupted_attempts_by_what_the_venue_shows(serve) -> None:
    sims, urls = serve(scenario(
        [as_order(1, cancel={"mode": "timeout", "delay_ms": 60000, "effect": "cancel"}),
         as_order(2, cancel={"mode": "timeout", "delay_ms": 60000, "effect": "none"}),
         as_order(3, cancel={"mode": "timeout", "delay_ms": 60000, "effect": "none"})],
        [tx_order(1, {"mode": "never"}), tx_order(2, {"mode": "never"}), tx_order(3, {"mode": "never"})],
        [st_order("st-1", cancel={"mode": "never"})],
    ))
    audit = AuditStore()
    svc = build(urls, audit, reconcile_s=60.0)
    as_sim, tx_sim = sims["autoshares"], sims["tanx"]

    def ready() -> bool:
        pending = [s for s in audit.query(AuditQuery(kind="cancel")) if s.phase == "pending"]
        return (len(as_sim.requests_matching("DELETE", r"/orders/\d$")) == 3
                and as_sim.order_status(1) == "Canceled" and len(pending) == 4)

    submitted = [("as/7001/1", Provenance.ROW_ACTION, ""), ("as/7001/2", Provenance.ROW_ACTION, ""),
                 ("as/7001/3", Provenance.HOTKEY, ""),
                 *((f"tx/{TANX_ADDR}/{i}", Provenance.KILL_SWITCH, "kill-9") for i in (1, 2, 3)),
                 (f"st/{ST_MAIN}/st-1", Provenance.SELECTION, "")]
    interrupted = await interrupt(svc, audit, submitted, ready)
    assert len(interrupted) == 7

    # meanwhile, at the venues: one tanX order filled, one was cancelled; one AutoShares order cannot be read
    tx_sim.set_state(2, "done")
    tx_sim.set_state(3, "cancel")
    as_sim.add_fault({"action": "status", "method": "GET", "path": r"/orders/3$", "status": 503, "times": 0})

    audit = AuditStore()
    svc = build(urls, audit)
    try:
        results = {str(r.key): r for r in await svc.recover_in_flight()}
        assert await svc.recover_in_flight() == []  # settled once; nothing left
    finally:
        await svc.aclose()
        audit.close()
    outcome = {k: (r.outcome, r.final_status) for k, r in results.items()}
    assert outcome == {
        "as/7001/1": (CancelOutcome.CANCELLED, OrderStatus.CANCELLED),
        "as/7001/2": (CancelOutcome.FAILED, OrderStatus.OPEN),  # never accepted, still open
        "as/7001/3": (CancelOutcome.UNKNOWN, None),  # the venue cannot be asked
        f"tx/{TANX_ADDR}/1": (CancelOutcome.PENDING, OrderStatus.OPEN),  # accepted (queued), still open
        f"tx/{TANX_ADDR}/2": (CancelOutcome.REJECTED, OrderStatus.FILLED),
        f"tx/{TANX_ADDR}/3": (CancelOutcome.CANCELLED, OrderStatus.CANCELLED),
        f"st/{ST_MAIN}/st-1": (CancelOutcome.PENDING, OrderStatus.PENDING_CANCEL),
    }
    assert "NOT cancelled" in results["as/7001/2"].detail and results[f"tx/{TANX_ADDR}/2"].too_late
    assert all(r.provenance is Provenance.RECONCILIATION for r in results.values())

    audit = AuditStore()
    try:
        assert audit.outcome_violations() == []
        attempts = {str(a.key): a for a in audit.attempts()}
        assert sorted(a.attempt_id for a in attempts.values()) == sorted(interrupted)
        for key, r in results.items():
            a = attempts[key]
            assert a.state == "done" and a.outcome == r.outcome.value and a.outcome_provenance == "reconciliation"
            [done] = [s for s in audit.query(AuditQuery(attempt_id=a.attempt_id)) if s.phase == "done"]
            assert done.provenance == "reconciliation" and done.outcome == r.outcome.value
        assert attempts["as/7001/1"].provenance == "row_action"  # who asked is kept
        assert {attempts[f"tx/{TANX_ADDR}/{i}"].batch_id for i in (1, 2, 3)} == {"kill-9"}
        assert attempts[f"tx/{TANX_ADDR}/3"].venue_reason == "Order cancelled by user"
    finally:
        audit.close()


async def test_a_running_process_keeps_its_attempts_and_two_restarts_settle_each_once(serve) -> None:
    _, urls = serve(scenario([as_order(1, cancel={"mode": "timeout", "delay_ms": 60000, "effect": "cancel"}),
                              as_order(2, cancel={"mode": "timeout", "delay_ms": 60000, "effect": "cancel"})],
                             [], []))
    running_audit = AuditStore()
    running = build(urls, running_audit, reconcile_s=60.0)
    try:
        running.coordinator.submit(ask("as/7001/1"), Provenance.HOTKEY)
        await wait_for(lambda: bool(running_audit.attempts()), "the attempt on disk")
        other_audit = AuditStore()
        other = build(urls, other_audit)
        try:
            assert await other.recover_in_flight() == []  # the running process is alive: hands off
        finally:
            await other.aclose()
            other_audit.close()
        running.coordinator.submit(ask("as/7001/2"), Provenance.HOTKEY)
        await wait_for(lambda: len(running_audit.attempts()) == 2, "both attempts on disk")
    finally:
        await running.aclose()  # it stops mid-cancel: both attempts are left in flight
        running_audit.close()

    starts: list[tuple[BlotterService, AuditStore]] = []
    for _ in range(2):
        store = AuditStore()
        starts.append((build(urls, store), store))
    recoveries: list[Awaitable[list[CancelResult]]] = [svc.recover_in_flight() for svc, _ in starts]
    try:
        settled = [r for results in await asyncio.gather(*recoveries) for r in results]
    finally:
        for svc, store in starts:
            await svc.aclose()
            store.close()
    assert sorted(str(r.key) for r in settled) == ["as/7001/1", "as/7001/2"]
    audit = AuditStore()
    try:
        assert audit.outcome_violations() == []
        assert [a.outcome for a in audit.attempts()] == ["cancelled", "cancelled"]
    finally:
        audit.close()


async def test_recovery_is_cheap_when_nothing_is_in_flight(serve) -> None:
    sims, urls = serve(scenario([as_order(1)], [], []))
    audit = AuditStore()
    svc = build(urls, audit)
    try:
        assert await svc.recover_in_flight() == []
    finally:
        await svc.aclose()
        audit.close()
    assert sims["autoshares"].requests == []  # nobody was asked anything


async def test_restart_waits_for_a_young_interrupted_request_before_saying_not_cancelled(serve) -> None:
    """M1: the dead process's DELETE reaches the venue after the restart read; recovery must not have settled
    "failed — NOT cancelled" already (one immediate read did, and the trail could never be corrected)."""
    sims, urls = serve(scenario([as_order(1)], [], []))
    as_sim = sims["autoshares"]
    held = as_sim.add_fault({"method": "DELETE", "path": r"/orders/1$", "action": "hold", "times": 1})
    audit = AuditStore()
    svc = build(urls, audit)
    await interrupt(svc, audit, [("as/7001/1", Provenance.CLI, "")],
                    lambda: len(as_sim.requests_matching("DELETE", r"/orders/1$")) == 1)
    assert as_sim.order_status(1) == "New"  # the request is still inside the venue

    audit = AuditStore()
    svc = build(urls, audit)
    try:
        recovering = asyncio.ensure_future(svc.recover_in_flight())
        # the restart has read the order (still New) before the venue processes the old request
        await wait_for(lambda: len(as_sim.requests_matching("GET", r"/orders/1$")) >= 1, "the first re-read")
        assert not recovering.done()
        held.release()
        [result] = await asyncio.wait_for(recovering, 10)
    finally:
        await svc.aclose()
        audit.close()
    assert as_sim.order_status(1) == "Canceled"
    assert (result.outcome, result.final_status) == (CancelOutcome.CANCELLED, OrderStatus.CANCELLED), result
    assert result.provenance is Provenance.RECONCILIATION


async def test_restart_still_says_not_cancelled_once_the_request_cannot_be_on_its_way(serve) -> None:
    sims, urls = serve(scenario([as_order(1, cancel={"mode": "timeout", "delay_ms": 60000, "effect": "none"})],
                                [], []))
    as_sim = sims["autoshares"]
    audit = AuditStore()
    svc = build(urls, audit)
    await interrupt(svc, audit, [("as/7001/1", Provenance.CLI, "")],
                    lambda: len(as_sim.requests_matching("DELETE", r"/orders/1$")) == 1)
    audit = AuditStore()
    svc = build(urls, audit)
    started = time.monotonic()
    try:
        [result] = await svc.recover_in_flight()
    finally:
        await svc.aclose()
        audit.close()
    # polled until the attempt was 2 x 0.5 s old, then settled by what the venue shows
    assert result.outcome is CancelOutcome.FAILED and "NOT cancelled" in result.detail
    assert len(as_sim.requests_matching("GET", r"/orders/1$")) >= 2
    assert time.monotonic() - started < 10
