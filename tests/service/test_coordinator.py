"""The cancel lifecycle end to end: BlotterService → coordinator → adapter → simulator over loopback.

Each test drives real HTTP against the AutoShares simulator (its answers are synchronous, so every
branch of DESIGN.md §2 can be provoked per order); the asynchronous venues have their own tests below.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blotter.core import CancelOutcome, ConnectionSpec, OrderKey, OrderStatus, Provenance, Venue
from blotter.service import BlotterService, CancelEvent, CancelPhase
from blotter.store.credentials import MemoryCredentialStore

APP_KEY = "coord-app-key-8c1d2e"
PASSWORD = "coord-password-77"
ACCOUNT = 7001
NOW = datetime.now(UTC)


def _order(order_id: int, cancel: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    order = {"id": order_id, "account_id": ACCOUNT, "symbol": "AAPL", "side": "Buy", "type": "Limit",
             "quantity": 10, "price": 190.5, "status": "New",
             "create_date": (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")}
    if cancel:
        order["cancel"] = cancel
    order.update(extra)
    return order


def _scenario() -> dict[str, Any]:
    return {"autoshares": {
        "app_keys": [APP_KEY],
        "users": [{"user_id": 41, "username": "coord", "password": PASSWORD, "first_name": "C",
                   "last_name": "Oord", "accounts": [ACCOUNT]}],
        "accounts": [{"id": ACCOUNT, "clearing_account": "5XX07001", "access_type": "Full",
                      "margin_type": "Cash", "owner_type": "IndividualCustomer", "alias": "main",
                      "currency": "USD", "enabled": True, "cash": 1000}],
        "orders": [
            _order(1),                                                        # plain accept
            _order(2, {"mode": "accept", "delay_ms": 400}),                   # PendingCancel, then Canceled
            _order(3, {"mode": "fill"}),                                      # 204, but it filled: too late
            _order(4, {"mode": "reject", "status": 422, "message": "Order cannot be cancelled now"}),
            _order(5, {"mode": "timeout", "delay_ms": 3000, "effect": "cancel"}),  # no answer; it was cancelled
            _order(6, {"mode": "error", "effect": "none"}),                   # 500; still open
            _order(7, {"mode": "never"}),                                     # accepted, never confirmed
            _order(8, status="Filled", executed=10),                          # 409: already filled
            _order(9, {"mode": "accept", "delay_ms": 300}),
        ],
    }}


@pytest.fixture
def service(serve):
    sims, urls = serve(_scenario())
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "coord"}, timeout_s=0.5)
    creds = MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD})
    svc = BlotterService([spec], creds, reconcile_timeout_s=1.5)
    svc.coordinator._poll_initial_s = 0.05
    events: list[CancelEvent] = []
    svc.coordinator.subscribe(events.append)
    return svc, sims["autoshares"], events


def key(order_id: int) -> OrderKey:
    return OrderKey("as", str(ACCOUNT), str(order_id))


def deletes(sim: Any, order_id: int) -> int:
    return len(sim.requests_matching("DELETE", rf"/orders/{order_id}$"))


async def test_accepted_cancel_is_confirmed_by_re_reading(service) -> None:
    svc, sim, events = service
    try:
        [result] = await svc.cancel([key(1)], Provenance.ROW_ACTION)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.CANCELLED and result.final_status is OrderStatus.CANCELLED
    assert result.http_status == 204 and "confirmed" in result.detail
    assert len(sim.requests_matching("GET", r"/orders/1$")) >= 1  # re-read after the 204
    phases = [e.phase for e in events if e.key == key(1)]
    # the quick route's 204 is the API's acceptance (pending), confirmed cancelled by the re-read
    assert phases == [CancelPhase.SENDING, CancelPhase.PENDING, CancelPhase.DONE]
    assert events[-1].result == result and result.provenance is Provenance.ROW_ACTION


async def test_pending_cancel_is_polled_until_the_venue_confirms(service) -> None:
    svc, sim, _ = service
    try:
        [result] = await svc.cancel([key(2)], Provenance.HOTKEY)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.CANCELLED
    assert len(sim.requests_matching("GET", r"/orders/2$")) >= 2  # saw PendingCancel, then Canceled


async def test_fill_during_cancel_is_too_late_not_cancelled(service) -> None:
    svc, _, _ = service
    try:
        [result] = await svc.cancel([key(3)], Provenance.SELECTION)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.REJECTED and result.too_late
    assert result.final_status is OrderStatus.FILLED and "too late" in result.detail


async def test_refusals_keep_the_venue_words_and_show_the_true_state(service) -> None:
    svc, _, events = service
    try:
        r422, r409 = await svc.cancel([key(4), key(8)], Provenance.CLI)
    finally:
        await svc.aclose()
    assert r422.outcome is CancelOutcome.REJECTED and r422.http_status == 422
    assert "Order cannot be cancelled now" in r422.message and r422.final_status is OrderStatus.OPEN
    assert r409.outcome is CancelOutcome.REJECTED and r409.http_status == 409 and r409.too_late
    assert "cannot be cancelled" in r409.message
    assert CancelPhase.RECONCILING in [e.phase for e in events if e.key == key(4)]


async def test_no_answer_is_reconciled_to_what_the_venue_shows(service) -> None:
    svc, sim, events = service
    try:
        cancelled, still_open = await svc.cancel([key(5), key(6)], Provenance.CLI)
    finally:
        await svc.aclose()
    # timed out, but the venue did cancel it: reconciliation says so
    assert cancelled.outcome is CancelOutcome.CANCELLED and cancelled.http_status is None
    assert "timed out" in cancelled.message
    # 500 and the order is still open: not cancelled, and we say so instead of "unknown"
    assert still_open.outcome is CancelOutcome.FAILED and still_open.http_status == 500
    assert "NOT cancelled" in still_open.detail and still_open.final_status is OrderStatus.OPEN
    assert deletes(sim, 5) == 1 and deletes(sim, 6) == 1  # a write is never retried blindly
    assert [e.phase for e in events if e.key == key(5)][:2] == [CancelPhase.SENDING, CancelPhase.RECONCILING]


async def test_unconfirmed_cancel_stays_pending_after_the_timeout(service) -> None:
    svc, _, _ = service
    try:
        [result] = await svc.cancel([key(7)], Provenance.CLI)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.PENDING and result.final_status is OrderStatus.PENDING_CANCEL
    assert "not confirmed" in result.detail


async def test_a_second_cancel_while_in_flight_sends_nothing(service) -> None:
    svc, sim, events = service
    try:
        first = svc.coordinator.submit(key(9), Provenance.HOTKEY)
        second = svc.coordinator.submit(key(9), Provenance.HOTKEY)
        assert first is second and svc.coordinator.in_flight(key(9))
        results = await svc.cancel([key(9), key(9)], Provenance.SELECTION)
        assert (await first).attempt_id == results[0].attempt_id
    finally:
        await svc.aclose()
    assert deletes(sim, 9) == 1
    assert len([e for e in events if e.phase is CancelPhase.DONE]) == 1


async def test_every_attempt_ends_in_exactly_one_outcome(service) -> None:
    svc, sim, events = service
    keys = [key(i) for i in range(1, 10)]
    try:
        results = await svc.coordinator.cancel_many(keys, Provenance.KILL_SWITCH, batch_id="b-1")
    finally:
        await svc.aclose()
    assert [r.key for r in results] == keys
    done = [e for e in events if e.phase is CancelPhase.DONE]
    assert sorted(e.key for e in done) == sorted(keys)
    assert len({e.attempt_id for e in done}) == len(keys)
    assert all(e.result is not None and e.result.batch_id == "b-1" for e in done)
    assert all(deletes(sim, i) == 1 for i in range(1, 10))
    assert not svc.coordinator.in_flight_keys


async def test_auth_failure_is_failed_in_the_venue_words(serve) -> None:
    sims, urls = serve(_scenario())
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "coord"})
    creds = MemoryCredentialStore({("as", "app_key"): "not-the-app-key", ("as", "password"): PASSWORD})
    svc = BlotterService([spec], creds)
    try:
        [result] = await svc.cancel([key(1)], Provenance.CLI)
    finally:
        await svc.aclose()
    assert result.outcome is CancelOutcome.FAILED and result.http_status == 403
    assert result.message == "Application key is not defined or does not exist"
    assert deletes(sims["autoshares"], 1) == 0


async def test_read_only_refuses_before_any_request(serve) -> None:
    from blotter.core import ReadOnlyError

    sims, urls = serve(_scenario())
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "coord"}, read_only=True)
    creds = MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD})
    svc = BlotterService([spec], creds)
    try:
        with pytest.raises(ReadOnlyError, match="read-only"):
            await svc.cancel([key(1)], Provenance.CLI)
        # even straight at the coordinator (a hotkey path), the attempt fails without a request
        result = await svc.coordinator.cancel(key(1), Provenance.HOTKEY)
        assert result.outcome is CancelOutcome.FAILED and "read-only" in result.message
    finally:
        await svc.aclose()
    assert sims["autoshares"].requests_matching("DELETE") == []
