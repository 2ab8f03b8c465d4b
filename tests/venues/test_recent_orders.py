"""``list_recent_orders``: each adapter's recent history in every state, against the simulators over loopback.

What support staff see in the account inspector: filled, cancelled (with the venue's reason) and rejected
orders beside the open ones, newest first, through each venue's real listing endpoint.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from blotter.core import ConnectionSpec, Order, OrderStatus, Venue
from blotter.sim.demo import demo_connections, demo_scenario
from blotter.venues.base import VenueAdapter, newest_first
from blotter.venues.registry import create_adapter

Env = tuple[Any, dict[str, VenueAdapter]]


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return demo_scenario(7)


@pytest.fixture
async def env(serve: Callable[..., Any], scenario: dict[str, Any]) -> AsyncIterator[Env]:
    served = copy.deepcopy(scenario)
    for venue in ("autoshares", "snaptrade", "tanx"):
        served[venue]["latency_ms"] = 0
    sims, urls = serve(served)
    adapters: dict[str, VenueAdapter] = {}
    for name, venue, options, secrets in demo_connections(scenario, urls):
        if venue not in adapters:  # one connection of each venue
            spec = ConnectionSpec(name=name, venue=Venue(venue), base_url=urls[venue], options=options)
            adapters[venue] = create_adapter(spec, secrets)
    yield sims, adapters
    for adapter in adapters.values():
        await adapter.aclose()


async def first_account(adapter: VenueAdapter) -> str:
    accounts = await adapter.list_accounts()
    return accounts[0].account_id


def assert_newest_first(orders: list[Order]) -> None:
    times = [o.created_at for o in orders if o.created_at is not None]
    assert times == sorted(times, reverse=True)
    assert len({o.order_id for o in orders}) == len(orders)


def queries(sims: Any, venue: str, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query) for r in sims[venue].requests_matching("GET", path)]


async def test_autoshares_filtered_orders_without_the_status_filter(env: Env) -> None:
    sims, adapters = env
    adapter = adapters["autoshares"]
    everything: list[Order] = []
    for account in ("6304", "6307"):  # the demo's terminal orders are spread over the tradable accounts
        orders = await adapter.list_recent_orders(account, days=30)
        assert_newest_first(orders)
        assert all(o.key.account == account for o in orders)
        everything += orders
        (query,) = queries(sims, "autoshares", rf"/accounts/{account}/orders$")  # one page was enough
        assert query["sortField"] == ["CreateDate"] and query["desc"] == ["true"]
        assert "filter" not in query  # every state, not only the open ones
    states = {o.status for o in everything}
    assert OrderStatus.OPEN in states
    assert len(states & {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}) >= 2
    ended = [o for o in everything if o.venue_status in ("Rejected", "Expired", "DoneForDay")]
    assert all(o.cancel_reason for o in ended)  # the venue's reason (Description) is kept


async def test_autoshares_stops_after_two_pages(env: Env) -> None:
    sims, adapters = env
    adapter = adapters["autoshares"]
    orders = await adapter.list_recent_orders("6303", days=3650)  # 104 open + history: more than a page
    pages = queries(sims, "autoshares", r"/accounts/6303/orders$")
    assert [p["pageNumber"] for p in pages] == [["0"], ["1"]]
    assert len(orders) > 100
    assert_newest_first(orders)


async def test_snaptrade_orders_state_all_within_days(env: Env) -> None:
    sims, adapters = env
    adapter = adapters["snaptrade"]
    account = await first_account(adapter)
    orders = await adapter.list_recent_orders(account, days=30)
    assert_newest_first(orders)
    states = {o.status for o in orders}
    assert OrderStatus.FILLED in states and states & {OrderStatus.CANCELLED, OrderStatus.REJECTED}
    assert any(o.status.is_open for o in orders)
    query = queries(sims, "snaptrade", rf"/accounts/{account}/orders$")[-1]
    assert query["state"] == ["all"] and query["days"] == ["30"]
    # the API takes 1-90 days: a wider wish is asked as 90, a narrower one keeps only what is that recent
    await adapter.list_recent_orders(account, days=365)
    assert queries(sims, "snaptrade", rf"/accounts/{account}/orders$")[-1]["days"] == ["90"]
    recent = await adapter.list_recent_orders(account, days=2)
    cutoff = datetime.now(UTC) - timedelta(days=2, minutes=1)
    assert all(o.created_at is None or o.created_at >= cutoff for o in recent)


async def test_tanx_one_page_per_state_with_cancel_reasons(env: Env) -> None:
    sims, adapters = env
    adapter = adapters["tanx"]
    account = await first_account(adapter)
    orders = await adapter.list_recent_orders(account, days=30)
    assert_newest_first(orders)
    states = {o.venue_status for o in orders}
    assert {"done", "cancel"} <= states and states & {"wait", "pending"}
    cancelled = [o for o in orders if o.status is OrderStatus.CANCELLED]
    assert cancelled and all(o.cancel_reason for o in cancelled)  # "Order cancelled by user" and the like
    asked = queries(sims, "tanx", r"/sapi/v1/orders/?$")
    assert sorted(q["state"][0] for q in asked) == ["cancel", "done", "pending", "wait"]
    assert all(q["page"] == ["1"] for q in asked)


async def test_tanx_other_wallet_is_not_found(env: Env) -> None:
    from blotter.core import NotFoundError

    _sims, adapters = env
    with pytest.raises(NotFoundError):
        await adapters["tanx"].list_recent_orders("0x" + "ab" * 20)


def test_newest_first_keeps_undated_orders_and_drops_old_ones() -> None:
    from decimal import Decimal

    from blotter.core import OrderKey, OrderType, Side

    now = datetime(2026, 3, 2, 12, tzinfo=UTC)

    def order(oid: str, age_days: float | None) -> Order:
        created = None if age_days is None else now - timedelta(days=age_days)
        return Order(OrderKey("c", "a", oid), Venue.TANX, "btcusdc", Side.BUY, OrderType.LIMIT, Decimal(1),
                     Decimal(0), Decimal(1), Decimal(1), None, OrderStatus.OPEN, "wait", created)

    kept = newest_first([order("1", 3), order("2", 0.5), order("3", None), order("4", 9), order("2", 0.5)],
                        days=7, now=now)
    assert [o.order_id for o in kept] == ["2", "1", "3"]
