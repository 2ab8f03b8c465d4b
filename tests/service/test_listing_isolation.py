"""H5: one unreadable order, or one account that cannot be listed, hides nothing else.

``open_orders`` keeps every account and every order it could read and names what it could not (account failures
with the venue's words; unreadable orders with their id and why); ``cancel_all`` cancels every readable order —
one request each, counted in the simulator's request log — and reports the rest. Also M7 (a page that adds no
new order ids ends paging), M4's third bullet (an order listed under another account is keyed under its owner)
and negative SnapTrade quantities. Every case runs against the simulators over loopback HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blotter.core import ConnectionSpec, OrderKey, Provenance, Venue
from blotter.service import BlotterService, OrderFilter
from blotter.service.desk import Desk
from blotter.service.refresh import RefreshPhase, RefreshScheduler
from blotter.store.credentials import MemoryCredentialStore
from reliability.venue_kits import KITS, single_service

APP_KEY = "iso-app-key-1a2b3c4d"
PASSWORD = "iso-password-5e6f7a8b"
HEALTHY, POISONED, FAILING = 6303, 6304, 6305
CREATED = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
UNAVAILABLE = "The service is unavailable."
OPEN_LISTING = "filter=Status"  # the open-orders listing's query (a re-read by id filters on Id)


def _order(n: int, account: int) -> dict[str, Any]:
    return {"id": n, "account_id": account, "symbol": "AAPL", "side": "Buy", "type": "Limit", "quantity": 10,
            "price": 190.5, "status": "New", "create_date": CREATED}


def _account(n: int, alias: str) -> dict[str, Any]:
    return {"id": n, "clearing_account": f"5IS0{n}", "access_type": "Full", "margin_type": "Cash",
            "owner_type": "IndividualCustomer", "alias": alias, "currency": "USD", "enabled": True, "cash": 1000}


ORDERS = {HEALTHY: [1, 2, 3, 4, 5], POISONED: [11, 12, 13], FAILING: [21, 22]}
SCENARIO: dict[str, Any] = {"autoshares": {
    "app_keys": [APP_KEY],
    "users": [{"user_id": 7, "username": "iso", "password": PASSWORD, "first_name": "I", "last_name": "So",
               "accounts": [HEALTHY, POISONED, FAILING]}],
    "accounts": [_account(HEALTHY, "Active trading"), _account(POISONED, "Hedges"), _account(FAILING, "Income")],
    "orders": [_order(n, account) for account, ns in ORDERS.items() for n in ns],
}}

# One bad field each: every one of them used to fail the whole connection (RELIABILITY-FINDINGS H5).
POISONS = {
    "nan quantity": ({"Id": 99, "Quantity": "NaN"}, "99", "finite"),
    "year 0": ({"Id": 99, "CreateDate": "0000-01-01T00:00:00Z"}, "99", "ValueError"),
    "absurd quantity": ({"Id": 99, "Quantity": "1e999999999", "LeavesQuantity": None}, "99", "too large"),
    "id with a slash": ({"Id": "1/2"}, "1/2", "expected an id"),
}


def _as_service(urls: dict[str, str], name: str = "as") -> BlotterService:
    spec = ConnectionSpec(name, Venue.AUTOSHARES, urls["autoshares"], {"username": "iso"}, timeout_s=3.0)
    creds = MemoryCredentialStore({(name, "app_key"): APP_KEY, (name, "password"): PASSWORD})
    service = BlotterService([spec], creds, reconcile_timeout_s=1.5)
    service.coordinator._poll_initial_s = 0.05
    return service


def _poison(sim: Any, poison: dict[str, Any]) -> None:
    """Account 6304's open-orders page: its three real orders and one the venue garbled."""
    bad = {**sim.order(ORDERS[POISONED][0]), **poison}
    page = [sim.order(n) for n in ORDERS[POISONED]] + [bad]
    sim.add_fault({"method": "GET", "path": rf"/accounts/{POISONED}/orders$", "query": OPEN_LISTING,
                   "action": "status", "status": 200, "body": {"Result": page, "TotalCount": len(page)},
                   "times": 0})


def _fail(sim: Any) -> None:
    sim.add_fault({"method": "GET", "path": rf"/accounts/{FAILING}/orders$", "action": "status", "status": 503,
                   "body": {"Message": UNAVAILABLE}, "times": 0})


@pytest.mark.parametrize("poison", list(POISONS))
async def test_open_orders_keeps_every_readable_order_and_names_what_it_could_not_read(
        serve: Any, poison: str) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    fields, order_id, words = POISONS[poison]
    _poison(sim, fields)
    _fail(sim)
    service = _as_service(urls)
    try:
        listing = await service.open_orders()
    finally:
        await service.aclose()
    readable = ORDERS[HEALTHY] + ORDERS[POISONED]
    assert sorted(int(o.order_id) for o in listing.orders) == readable
    assert listing.failures == []  # the connection itself was read
    assert {a.account_id for a in listing.accounts} == {str(HEALTHY), str(POISONED), str(FAILING)}
    [failure] = listing.account_failures
    assert (failure.connection, failure.account, failure.account_name) == ("as", str(FAILING), "Income")
    assert UNAVAILABLE in str(failure.error) and failure.text.startswith(f"as/{FAILING} (Income): ")
    [bad] = listing.unreadable
    assert (bad.connection, bad.account, bad.order_id) == ("as", str(POISONED), order_id)
    assert words in bad.reason and len(bad.reason) <= 200
    assert not listing.complete


@pytest.mark.parametrize("poison", list(POISONS))
async def test_cancel_all_cancels_every_readable_order_once_and_reports_the_rest(serve: Any, poison: str) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    fields, order_id, _ = POISONS[poison]
    _poison(sim, fields)
    _fail(sim)
    service = _as_service(urls)
    try:
        results, listing = await service.cancel_all(OrderFilter(connection="as"), Provenance.CLI)
    finally:
        await service.aclose()
    readable = ORDERS[HEALTHY] + ORDERS[POISONED]
    assert sorted(int(r.key.order_id) for r in results) == readable
    assert all(r.outcome.value == "cancelled" for r in results), results
    deletes = sim.requests_matching("DELETE", r"/orders/")
    assert sorted(int(r.path.rsplit("/", 1)[1]) for r in deletes) == readable  # one request per order
    assert all(sim.order_status(n) == "Canceled" for n in readable)
    assert all(sim.order_status(n) == "New" for n in ORDERS[FAILING])  # never read: never touched
    assert [(f.account, UNAVAILABLE in str(f.error)) for f in listing.account_failures] == [(str(FAILING), True)]
    assert [(u.account, u.order_id) for u in listing.unreadable] == [(str(POISONED), order_id)]


async def test_a_lying_total_count_costs_two_list_requests(serve: Any) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    page = [sim.order(n) for n in ORDERS[HEALTHY]]
    sim.add_fault({"method": "GET", "path": rf"/accounts/{HEALTHY}/orders$", "query": OPEN_LISTING,
                   "action": "status", "status": 200, "body": {"Result": page, "TotalCount": 10**9}, "times": 0})
    service = _as_service(urls)
    try:
        listing = await service.open_orders(OrderFilter(connection="as", account=str(HEALTHY)))
    finally:
        await service.aclose()
    assert sorted(int(o.order_id) for o in listing.orders) == ORDERS[HEALTHY] and listing.complete
    assert len(sim.requests_matching("GET", rf"/accounts/{HEALTHY}/orders$")) <= 2


async def test_an_order_listed_under_another_account_is_keyed_under_its_owner_once(serve: Any) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    # account 6304's page also carries order 1 of account 6303 (AccountId 6303)
    page = [sim.order(n) for n in ORDERS[POISONED]] + [sim.order(1)]
    sim.add_fault({"method": "GET", "path": rf"/accounts/{POISONED}/orders$", "query": OPEN_LISTING,
                   "action": "status", "status": 200, "body": {"Result": page, "TotalCount": len(page)},
                   "times": 0})
    service = _as_service(urls)
    try:
        listing = await service.open_orders()
        keys = [o.key for o in listing.orders]
        assert keys.count(OrderKey("as", str(HEALTHY), "1")) == 1
        assert OrderKey("as", str(POISONED), "1") not in keys
        assert len(keys) == len(set(keys)) == sum(len(ns) for ns in ORDERS.values())
        results, _ = await service.cancel_all(OrderFilter(connection="as"), Provenance.CLI)
    finally:
        await service.aclose()
    assert len(results) == len(keys)
    assert len(sim.requests_matching("DELETE", r"/orders/1$")) == 1
    assert sim.requests_matching("DELETE", rf"/accounts/{HEALTHY}/orders/1$")


# ---------------------------------------------------------------------------------------------- SnapTrade
def _snaptrade(serve: Any, extra: dict[str, Any]) -> tuple[Any, BlotterService, list[str]]:
    kit = KITS["snaptrade"]
    sims, urls = serve({"snaptrade": kit.section([1, 2, 3])})
    sim = sims["snaptrade"]
    good = [kit.order_id(n) for n in (1, 2, 3)]
    records = [sim.order(i) for i in good] + [{**sim.order(good[0]), **extra}]
    sim.add_fault({"method": "GET", "path": r"/accounts/[^/]+/orders$", "query": "state=open", "action": "status",
                   "status": 200, "body": records, "times": 0})
    return sim, single_service(kit, urls["snaptrade"], "st"), good


async def test_snaptrade_an_order_without_an_id_is_reported_and_the_others_cancelled(serve: Any) -> None:
    sim, service, good = _snaptrade(serve, {"brokerage_order_id": ""})
    try:
        results, listing = await service.cancel_all(OrderFilter(connection="st"), Provenance.CLI)
    finally:
        await service.aclose()
    assert sorted(r.key.order_id for r in results) == sorted(good)
    assert all(r.outcome.value in ("cancelled", "pending") for r in results), results
    sent = [json.loads(r.body or "{}")["brokerage_order_id"] for r in sim.requests_matching("POST", "/trading/cancel$")]
    assert sorted(sent) == sorted(good)
    [bad] = listing.unreadable
    assert (bad.connection, bad.account, bad.order_id) == ("st", KITS["snaptrade"].account(), "")
    assert "brokerage_order_id" in bad.reason


@pytest.mark.parametrize("field", ["total_quantity", "open_quantity"])
async def test_snaptrade_a_negative_quantity_is_unreadable_not_minus_five(serve: Any, field: str) -> None:
    _sim, service, good = _snaptrade(serve, {"brokerage_order_id": "MX-NEG", field: "-5"})
    try:
        listing = await service.open_orders()
    finally:
        await service.aclose()
    assert sorted(o.order_id for o in listing.orders) == sorted(good)
    assert all(o.quantity >= 0 and o.remaining >= 0 for o in listing.orders)
    [bad] = listing.unreadable
    assert bad.order_id == "MX-NEG" and "negative" in bad.reason and field in bad.reason


# ---------------------------------------------------------------------------------------------- tanX
async def test_tanx_one_unreadable_order_is_reported_and_the_others_cancelled(serve: Any) -> None:
    kit = KITS["tanx"]
    sims, urls = serve({"tanx": kit.section([1, 2, 3])})
    sim = sims["tanx"]
    items = [{k: v for k, v in sim.order(n).items() if k != "trades"} for n in (1, 2, 3)]
    items.append({**items[0], "id": 777, "origin_volume": "NaN"})
    sim.add_fault({"method": "GET", "path": r"/sapi/v1/orders/?$", "query": "state=wait", "action": "status",
                   "status": 200, "times": 0,
                   "body": {"status": "success", "message": "Orders Retrieved Successfully", "payload": items}})
    service = single_service(kit, urls["tanx"], "tx")
    try:
        results, listing = await service.cancel_all(OrderFilter(connection="tx"), Provenance.CLI)
    finally:
        await service.aclose()
    assert sorted(int(r.key.order_id) for r in results) == [1, 2, 3]
    sent = [json.loads(r.body or "{}")["order_id"] for r in sim.requests_matching(*kit.cancel_path)]
    assert sorted(sent) == [1, 2, 3]
    [bad] = listing.unreadable
    assert (bad.connection, bad.account, bad.order_id) == ("tx", kit.account(), "777") and "finite" in bad.reason


# ---------------------------------------------------------------------------------------------- refresh and desk
async def test_refresh_keeps_a_failing_accounts_last_known_orders_and_diffs_the_others(serve: Any) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    service = _as_service(urls)
    scheduler = RefreshScheduler(service, interval_s=60)
    try:
        [first] = await scheduler.refresh_once("as")
        assert first.phase is RefreshPhase.UPDATED and first.diff is not None
        assert len(first.diff.added) == sum(len(ns) for ns in ORDERS.values())
        _fail(sim)
        _poison(sim, POISONS["nan quantity"][0])
        sim.set_status(2, "Canceled")  # gone from a healthy account: still reported removed
        [event] = await scheduler.refresh_once("as")
    finally:
        await scheduler.aclose()
        await service.aclose()
    assert event.phase is RefreshPhase.UPDATED and event.diff is not None and event.error is None
    assert event.diff.removed == (OrderKey("as", str(HEALTHY), "2"),)  # 6305's orders are unknown, not gone
    assert [f.account for f in event.account_failures] == [str(FAILING)]
    assert [(u.account, u.order_id) for u in event.unreadable] == [(str(POISONED), "99")]
    kept = {k for k in scheduler.snapshot("as") if k.account == str(FAILING)}
    assert kept == {OrderKey("as", str(FAILING), str(n)) for n in ORDERS[FAILING]}


async def test_kill_switch_preview_names_what_it_cannot_read_and_previews_the_rest(serve: Any) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    desk = Desk(_as_service(urls), call_later=lambda _delay, _fn: _NoHandle(), clock=lambda: 100.0)
    try:
        await desk.scheduler.refresh_once()  # 6305's orders were listed once: they stay on screen, unknown
        _fail(sim)
        _poison(sim, POISONS["id with a slash"][0])
        preview = await desk.kill_switch_preview()
    finally:
        await desk.aclose()
        await desk.service.aclose()
    readable = {OrderKey("as", str(a), str(n)) for a in (HEALTHY, POISONED) for n in ORDERS[a]}
    assert set(preview.keys) == readable
    notes = {line.account: line for line in preview.lines}
    assert notes[str(FAILING)].account_name == "Income"
    assert notes[str(FAILING)].note.startswith("could not be read — nothing will be cancelled there: ")
    assert UNAVAILABLE in notes[str(FAILING)].note
    [hedges] = [line for line in preview.lines if line.account == str(POISONED)]  # one line per account
    assert hedges.count == len(ORDERS[POISONED])  # its readable orders are still cancelled
    assert hedges.note.startswith("1 order(s) could not be read — nothing will be cancelled for them: 1/2 (")
    assert sim.requests_matching("DELETE") == []


class _NoHandle:
    def cancel(self) -> None:
        pass
