"""The SnapTrade adapter against the simulator over real loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest

from blotter.core import (
    Action,
    AuthError,
    CancelAck,
    ConfigError,
    NotFoundError,
    OrderKey,
    OrderStatus,
    OrderType,
    OutcomeUnknown,
    Side,
    Venue,
    VenueRefused,
    VenueResponse,
)
from blotter.sim.snaptrade import SnapTradeSim
from blotter.venues.base import ConnectionSpec
from blotter.venues.snaptrade import SnapTradeAdapter, encode_query, sign

CID = "BLOTTER-TEST"
KEY = "ck_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
UID = "trader-7"
SECRET = "us/3cr+t key&x=ü"  # every character the query encoding must get right
A1 = "917c8734-8470-4a3e-a18f-57c3f2ee6631"
A2 = "2b7c9d1e-3f4a-4b5c-8d6e-7f8091a2b3c4"
RO = "65e839a3-9103-4cfb-9b72-2071ef80c5f2"
DAY = 86400


def order(oid: str, account: str = A1, **fields: Any) -> dict[str, Any]:
    base = {
        "brokerage_order_id": oid, "account_id": account, "symbol": "MSFT", "description": "Microsoft",
        "currency": "USD", "exchange": "NASDAQ", "action": "SELL", "order_type": "Limit",
        "time_in_force": "GTC", "total_quantity": "25", "filled_quantity": "0", "limit_price": "431.50",
        "status": "ACCEPTED", "time_placed": -DAY,
    }
    return {**base, **fields}


def scenario(**extra: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "clients": [{"client_id": CID, "consumer_key": KEY}],
        "users": [{"user_id": UID, "user_secret": SECRET, "accounts": [A1, A2, RO]}],
        "accounts": [
            {"id": A1, "brokerage_authorization": "87b24961-b51e-4db8-9226-f198f6518a89",
             "name": "Questrade TFSA", "number": "51234567", "institution_name": "Questrade",
             "balance": {"amount": 15363.23, "currency": "CAD"}},
            {"id": A2, "brokerage_authorization": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "name": None,
             "number": "912345678", "institution_name": "Alpaca",
             "balance": {"amount": 100, "currency": "USD"}},
            {"id": RO, "brokerage_authorization": "5a9b2c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d", "name": "IBKR",
             "number": "U7654321", "institution_name": "Interactive Brokers", "read_only": True,
             "balance": {"amount": 1, "currency": "USD"}},
        ],
        "orders": [
            order("5001"),
            order("5002", time_placed=-47 * DAY, action="BUY", order_type="StopLimit", stop_price="400",
                  limit_price="401.10"),
            order("5003", status="PARTIAL", total_quantity="100", filled_quantity="37.5",
                  cancel={"mode": "accept", "delay_ms": 3000}),
            order("5004", status="EXECUTED", time_placed=-3 * DAY),
            order("5005", cancel={"mode": "reject", "message": "Order cannot be cancelled: it is being "
                                                               "routed to the exchange"}),
            order("5006", cancel={"mode": "fill"}),
            order("5007", cancel={"mode": "timeout", "delay_ms": 1500}),
            order("5008", cancel={"mode": "error"}),
            order("5009", via_snaptrade=False, action="SELL_SHORT", order_type="Market", limit_price=None),
            order("5010", time_placed=-120 * DAY),
            order("5011", status="CANCEL_PENDING", cancel={"mode": "never"}),
            order("6001", account=A2, symbol="SPY", exchange="ARCA", security_type="et", action="BUY_COVER"),
            order("7001", account=RO),
        ],
    }
    section.update(extra)
    return section


Factory = Callable[..., SnapTradeAdapter]


@pytest.fixture
async def env(serve: Any) -> AsyncIterator[tuple[SnapTradeSim, Factory, list[VenueResponse]]]:
    """A running simulator and a factory of adapters pointed at it; every VenueResponse is collected."""
    sims, urls = serve({"snaptrade": scenario()})
    sim: SnapTradeSim = sims["snaptrade"]
    responses: list[VenueResponse] = []
    adapters: list[SnapTradeAdapter] = []

    def make(*, key: str = KEY, secret: str = SECRET, timeout_s: float = 5.0) -> SnapTradeAdapter:
        spec = ConnectionSpec(
            name="st-test", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
            options={"client_id": CID, "user_id": UID}, timeout_s=timeout_s,
        )
        adapter = SnapTradeAdapter(spec, {"consumer_key": key, "user_secret": secret})
        adapter.add_listener(responses.append)
        adapters.append(adapter)
        return adapter

    yield sim, make, responses
    for adapter in adapters:
        await adapter.aclose()


def cancels(sim: SnapTradeSim) -> list[int]:
    return [r.status for r in sim.requests_matching("POST", "/trading/cancel$")]


# ---------------------------------------------------------------------- signing
def test_sign_matches_the_documented_algorithm() -> None:
    import base64
    import hashlib
    import hmac

    content = {"brokerage_order_id": "66a033fa", "b": [1, {"z": None, "a": "é"}]}
    text = ('{"content":{"b":[1,{"a":"\\u00e9","z":null}],"brokerage_order_id":"66a033fa"},'
            '"path":"/accounts/x/trading/cancel","query":"userId=u&clientId=C&timestamp=1"}')
    expected = base64.b64encode(hmac.new(b"key", text.encode(), hashlib.sha256).digest()).decode()
    assert sign("key", "/accounts/x/trading/cancel", "userId=u&clientId=C&timestamp=1", content) == expected
    assert sign("k", "/a", "q=1", {}) == sign("k", "/a", "q=1", None)


def test_query_encoding_is_the_sdks() -> None:
    assert encode_query([("state", "open"), ("days", 90), ("userSecret", "s e/c+r&=ü~")]) == (
        "state=open&days=90&userSecret=s%20e/c%2Br%26%3D%C3%BC~"
    )


async def test_requests_are_signed_byte_for_byte(env: Any) -> None:
    sim, make, _ = env
    adapter = make()
    await adapter.list_open_orders(A1)
    await adapter.cancel(OrderKey("st-test", A1, "5001"))
    logged = sim.requests_matching(path="^/accounts")
    assert [r.status for r in logged] == [200, 200]
    listing, cancel = logged
    # Operation parameters, then the user, then the partner — the SDK's order.
    names = [k for k, _ in parse_qsl(listing.query)]
    assert names == ["state", "days", "userId", "userSecret", "clientId", "timestamp"]
    expected = f"state=open&days=90&userId={UID}&userSecret={quote(SECRET)}&clientId={CID}&timestamp="
    assert listing.query.startswith(expected)
    for entry in logged:
        content = json.loads(entry.body) if entry.body else None
        assert entry.headers["signature"] == sign(KEY, entry.path, entry.query, content)
    assert json.loads(cancel.body) == {"brokerage_order_id": "5001"}


# ---------------------------------------------------------------------- accounts and orders
async def test_accounts_carry_number_institution_balance_and_read_only(env: Any) -> None:
    sim, make, _ = env
    accounts = {a.account_id: a for a in await make().list_accounts()}
    assert set(accounts) == {A1, A2, RO}
    questrade = accounts[A1]
    assert (questrade.name, questrade.number, questrade.currency) == ("Questrade TFSA", "51234567", "CAD")
    assert questrade.raw["institution_name"] == "Questrade"
    assert questrade.raw["balance"]["total"] == {"amount": 15363.23, "currency": "CAD"}
    assert accounts[A2].name == "Alpaca 912345678"  # SnapTrade may send a null name
    assert [accounts[a].read_only for a in (A1, A2, RO)] == [False, False, True]
    assert sorted(r.path for r in sim.requests) == ["/accounts", "/authorizations"]  # read concurrently


async def test_account_details_is_the_account_json(env: Any) -> None:
    _, make, _ = env
    details = await make().account_details(A1)
    assert details["id"] == A1
    assert details["institution_name"] == "Questrade"
    with pytest.raises(NotFoundError, match="does not exist"):
        await make().account_details("00000000-0000-4000-8000-000000000000")


async def test_open_orders_include_one_older_than_thirty_days(env: Any) -> None:
    _, make, _ = env
    orders = {o.order_id: o for o in await make().list_open_orders(A1)}
    # 5002 (47 days old) needs days=90; 5010 (120 days) is beyond what the API can return at all.
    assert set(orders) == {"5001", "5002", "5003", "5005", "5006", "5007", "5008", "5009", "5011"}
    old = orders["5002"]
    assert old.key == OrderKey("st-test", A1, "5002")
    assert (old.side, old.order_type, old.venue_type) == (Side.BUY, OrderType.STOP_LIMIT, "StopLimit")
    assert (old.limit_price, old.stop_price) == (Decimal("401.1"), Decimal("400"))
    assert old.created_at is not None
    partial = orders["5003"]
    assert (partial.status, partial.venue_status) == (OrderStatus.PARTIALLY_FILLED, "PARTIAL")
    assert (partial.quantity, partial.filled, partial.remaining) == (Decimal(100), Decimal("37.5"),
                                                                     Decimal("62.5"))
    assert orders["5011"].status is OrderStatus.PENDING_CANCEL
    assert orders["5009"].side is Side.SELL_SHORT
    assert orders["5009"].limit_price is None
    assert orders["5001"].symbol == "MSFT"
    # a listing keeps no venue JSON per order (memory at 100k orders); a single-order read does
    assert not any(o.raw for o in orders.values())
    detail = await make().get_order(A1, "5001")
    assert detail.raw["universal_symbol"]["exchange"]["code"] == "NASDAQ"
    spy = (await make().list_open_orders(A2))[0]
    assert (spy.symbol, spy.side) == ("SPY", Side.BUY_TO_COVER)


async def test_unknown_account_is_not_found(env: Any) -> None:
    _, make, _ = env
    with pytest.raises(NotFoundError, match=r"The requested resource does not exist\. \(code 1011\)"):
        await make().list_open_orders("00000000-0000-4000-8000-000000000000")


async def test_get_order_any_state_and_fallback_for_orders_placed_elsewhere(env: Any) -> None:
    sim, make, _ = env
    adapter = make()
    executed = await adapter.get_order(A1, "5004")
    assert (executed.status, executed.venue_status) == (OrderStatus.FILLED, "EXECUTED")
    # 5009 was placed at the brokerage: the detail endpoint does not know it; the order list does.
    elsewhere = await adapter.get_order(A1, "5009")
    assert elsewhere.order_id == "5009"
    assert [r.path.rsplit("/", 1)[-1] for r in sim.requests] == ["details", "details", "orders"]
    assert "state=all&days=90" in sim.requests[-1].query
    with pytest.raises(NotFoundError, match="does not know order nope"):
        await adapter.get_order(A1, "nope")


# ---------------------------------------------------------------------- cancel
async def test_cancel_done_when_the_brokerage_says_cancelled(env: Any) -> None:
    sim, make, _ = env
    receipt = await make().cancel(OrderKey("st-test", A1, "5001"))
    assert receipt.ack is CancelAck.DONE
    assert receipt.response.http_status == 200
    assert receipt.response.order_key == OrderKey("st-test", A1, "5001")
    assert '"status":"CANCELLED"' in receipt.response.message
    assert sim.status("5001") == "CANCELED"
    assert cancels(sim) == [200]


async def test_cancel_queued_while_pending_then_get_order_shows_cancelled(env: Any) -> None:
    sim, make, _ = env
    adapter = make()
    receipt = await adapter.cancel(OrderKey("st-test", A1, "5003"))
    assert receipt.ack is CancelAck.QUEUED
    assert (await adapter.get_order(A1, "5003")).status is OrderStatus.PENDING_CANCEL
    sim.clock.advance(3.5)
    final = await adapter.get_order(A1, "5003")
    assert (final.status, final.venue_status) == (OrderStatus.CANCELLED, "PARTIAL_CANCELED")
    assert final.filled == Decimal("37.5")


async def test_cancel_refusal_keeps_snaptrades_words(env: Any) -> None:
    sim, make, responses = env
    with pytest.raises(VenueRefused) as caught:
        await make().cancel(OrderKey("st-test", A1, "5005"))
    assert type(caught.value) is VenueRefused
    words = "Order cannot be cancelled: it is being routed to the exchange"
    assert str(caught.value).startswith(words)
    assert caught.value.http_status == 400
    assert responses[-1].message == f"{words} (code 1063)"
    assert sim.status("5005") == "ACCEPTED"


async def test_fill_during_cancel(env: Any) -> None:
    sim, make, _ = env
    adapter = make()
    with pytest.raises(VenueRefused, match="already been filled"):
        await adapter.cancel(OrderKey("st-test", A1, "5006"))
    truth = await adapter.get_order(A1, "5006")
    assert (truth.status, truth.filled) == (OrderStatus.FILLED, Decimal(25))
    assert cancels(sim) == [400]


async def test_cancel_on_read_only_connection_fails_without_effect(env: Any) -> None:
    sim, make, _ = env
    with pytest.raises(AuthError, match="read-only"):
        await make().cancel(OrderKey("st-test", RO, "7001"))
    assert sim.status("7001") == "ACCEPTED"


async def test_timeout_is_unknown_and_get_order_shows_the_truth(env: Any) -> None:
    sim, make, responses = env
    adapter = make(timeout_s=0.3)
    with pytest.raises(OutcomeUnknown, match="timed out"):
        await adapter.cancel(OrderKey("st-test", A1, "5007"))
    assert cancels(sim) == [0]  # exactly one attempt, never retried (the sim is still answering)
    assert responses[-1].http_status is None
    truth = await make().get_order(A1, "5007")
    assert truth.status is OrderStatus.CANCELLED


async def test_server_error_on_cancel_is_unknown(env: Any) -> None:
    sim, make, _ = env
    with pytest.raises(OutcomeUnknown, match=r"Encountered an unexpected exception\. \(code 1000\)"):
        await make().cancel(OrderKey("st-test", A1, "5008"))
    assert cancels(sim) == [500]


async def test_rate_limit_retry_after_is_honoured_on_cancel(serve: Any) -> None:
    sims, urls = serve({"snaptrade": scenario(rate_limit={"requests": 1, "per_seconds": 1})})
    sim: SnapTradeSim = sims["snaptrade"]
    spec = ConnectionSpec(name="st-test", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
                          options={"client_id": CID, "user_id": UID})
    adapter = SnapTradeAdapter(spec, {"consumer_key": KEY, "user_secret": SECRET})
    try:
        await adapter.list_open_orders(A1)  # spends this second's budget
        receipt = await adapter.cancel(OrderKey("st-test", A1, "5001"))
    finally:
        await adapter.aclose()
    assert receipt.ack is CancelAck.DONE
    rejected, accepted = sim.requests_matching("POST", "/trading/cancel$")
    assert (rejected.status, accepted.status) == (429, 200)
    assert accepted.at - rejected.at >= 0.9  # waited for Retry-After: 1
    assert sim.status("5001") == "CANCELED"


# ---------------------------------------------------------------------- authentication
async def test_bad_signature_is_an_auth_error_in_snaptrades_words(env: Any) -> None:
    sim, make, _ = env
    with pytest.raises(AuthError, match=r"^Unable to verify signature sent \(code 1076\)$"):
        await make(key="not-the-consumer-key").cancel(OrderKey("st-test", A1, "5001"))
    assert cancels(sim) == [401]  # no pointless retry: nothing to re-login to
    assert sim.status("5001") == "ACCEPTED"


async def test_bad_user_secret_is_an_auth_error(env: Any) -> None:
    sim, make, _ = env
    with pytest.raises(AuthError, match="Invalid userID or userSecret provided"):
        await make(secret="wrong-secret").list_accounts()
    assert [r.status for r in sim.requests] == [401, 401]  # its two reads go at once; neither is retried


async def test_login_checks_credentials_once(env: Any) -> None:
    sim, make, responses = env
    await make().login()
    with pytest.raises(AuthError):
        await make(secret="wrong-secret").login()
    assert [r.path for r in sim.requests] == ["/authorizations", "/authorizations"]
    assert [r.action for r in responses] == [Action.LOGIN, Action.LOGIN]


async def test_clock_skew_is_explained(env: Any) -> None:
    sim, make, _ = env
    sim.clock_offset_s = 600  # SnapTrade's clock 10 minutes ahead of ours
    with pytest.raises(AuthError) as caught:
        await make().list_open_orders(A1)
    assert str(caught.value).startswith("Invalid timestamp")
    assert "clock" in str(caught.value).split("—", 1)[1]


async def test_missing_option_is_a_config_error(serve: Any) -> None:
    _, urls = serve({"snaptrade": scenario()})
    spec = ConnectionSpec(name="x", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
                          options={"client_id": CID})
    adapter = SnapTradeAdapter(spec, {"consumer_key": KEY, "user_secret": SECRET})
    try:
        with pytest.raises(ConfigError, match="user id"):
            await adapter.list_accounts()
    finally:
        await adapter.aclose()


# ---------------------------------------------------------------------- redaction
async def test_no_secret_reaches_a_venue_response(env: Any) -> None:
    sim, make, responses = env
    adapter = make()
    await adapter.list_accounts()
    await adapter.list_open_orders(A1)
    await adapter.get_order(A1, "5009")
    await adapter.cancel(OrderKey("st-test", A1, "5001"))
    with pytest.raises(VenueRefused):
        await adapter.cancel(OrderKey("st-test", A1, "5005"))
    with pytest.raises(AuthError):
        await make(key="wrong-key").list_accounts()
    signatures = [r.headers["signature"] for r in sim.requests]
    forbidden = [KEY, SECRET, quote(SECRET), quote(SECRET, safe=""), "us/3cr", *signatures]
    assert len(responses) == len(sim.requests) == 9  # list_accounts: two reads, also with the wrong key
    for response in responses:
        text = "\n".join([response.request, response.raw_body, response.message])
        for value in forbidden:
            assert value not in text, (value, response.action)
    assert "userSecret=***" in responses[0].request
    assert "signature: ***" in responses[0].request.lower()


# ---------------------------------------------------------------------- batched re-reads (get_orders)
A3 = "3c8d0e2f-4a5b-4c6d-9e7f-8091a2b3c4d5"  # a connection served from SnapTrade's cache ("delayed")


def batch_scenario() -> dict[str, Any]:
    section = scenario()
    section["accounts"].append(
        {"id": A3, "brokerage_authorization": "4d9e1f30-5b6c-4d7e-8f90-a1b2c3d4e5f6", "name": "Daily",
         "number": "D-1", "institution_name": "Wealthsimple", "balance": {"amount": 5, "currency": "CAD"},
         "data_freshness": "delayed"})
    section["users"][0]["accounts"].append(A3)
    section["orders"] += [
        order("5012", time_placed=-120 * DAY, via_snaptrade=False),  # beyond both the list and the detail
        order("8001", account=A3), order("8002", account=A3, status="EXECUTED"),
    ]
    return section


@pytest.fixture
async def batch_env(serve: Any) -> AsyncIterator[tuple[SnapTradeSim, SnapTradeAdapter, SnapTradeAdapter]]:
    """Two adapters on one simulator: ``listed`` has read the accounts (knows their freshness), ``fresh`` not."""
    sims, urls = serve({"snaptrade": batch_scenario()})
    spec = ConnectionSpec(name="st-test", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
                          options={"client_id": CID, "user_id": UID}, timeout_s=5.0)
    listed = SnapTradeAdapter(spec, {"consumer_key": KEY, "user_secret": SECRET})
    fresh = SnapTradeAdapter(spec, {"consumer_key": KEY, "user_secret": SECRET})
    await listed.list_accounts()
    yield sims["snaptrade"], listed, fresh
    await listed.aclose()
    await fresh.aclose()


async def test_get_orders_answers_each_id_as_get_order_does_with_one_list_read(batch_env: Any) -> None:
    sim, adapter, _ = batch_env
    ids = ["5001", "5004", "5009", "5010", "5011", "5012", "nope", "5001"]
    before = len(sim.requests)
    batch = await adapter.get_orders(A1, ids)
    sent = sim.requests[before:]
    # One list read (every state, the widest window); the detail endpoint only for what it does not hold:
    # 5010 (placed through SnapTrade 120 days ago), 5012 (placed elsewhere 120 days ago) and "nope".
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in sent] == [
        ("GET", "orders"), ("POST", "details"), ("POST", "details"), ("POST", "details")]
    assert "state=all&days=90" in sent[0].query
    assert set(batch) == {"5001", "5004", "5009", "5010", "5011"}
    for oid in ids:  # exactly what get_order says, order by order
        try:
            single = await adapter.get_order(A1, oid)
        except NotFoundError:
            assert oid not in batch
            continue
        assert batch[oid] == single
    assert batch["5004"].status is OrderStatus.FILLED
    assert batch["5011"].status is OrderStatus.PENDING_CANCEL
    assert batch["5010"].order_id == "5010"


async def test_a_cached_connection_is_never_batched_and_reads_each_order_in_real_time(batch_env: Any) -> None:
    sim, adapter, _ = batch_env
    assert adapter.batch_reads(A1, 5) and not adapter.batch_reads(A1, 4)  # more than 4 in flight
    assert not adapter.batch_reads(A3, 100)  # data_freshness_mode.snaptrade == "delayed"
    before = len(sim.requests)
    batch = await adapter.get_orders(A3, ["8001", "8002", "nope"])
    sent = sim.requests[before:]
    # get_order each: the real-time detail endpoint; the list only as its fallback for the unknown id.
    assert [r.path.rsplit("/", 1)[-1] for r in sent] == ["details", "details", "details", "orders"]
    assert (batch["8001"].status, batch["8002"].status) == (OrderStatus.OPEN, OrderStatus.FILLED)
    assert "nope" not in batch


async def test_freshness_unknown_until_the_accounts_are_read(batch_env: Any) -> None:
    _, _, fresh = batch_env
    assert not fresh.batch_reads(A1, 100)
    await fresh.list_accounts()
    assert fresh.batch_reads(A1, 100) and fresh.batch_reads(A2, 100) and not fresh.batch_reads(A3, 100)


# ---------------------------------------------------------------------- the venue's request budget
def test_request_budget_never_lets_a_window_hold_more_than_its_limit() -> None:
    from blotter.venues.snaptrade import RequestBudget

    budget = RequestBudget(limit=5, window_s=1.0)
    waits = [budget.reserve() for _ in range(12)]
    assert all(w == 0 for w in waits[:5])
    assert all(0.9 < w <= 1.0 for w in waits[5:10])
    assert all(1.9 < w <= 2.0 for w in waits[10:])
    assert RequestBudget().limit == 250 and RequestBudget().window_s == 60.0  # the documented default


async def test_connections_of_one_client_id_share_the_venue_budget(serve: Any) -> None:
    import time

    from blotter.venues import snaptrade as module

    sims, urls = serve({"snaptrade": scenario()})
    spec = ConnectionSpec(name="a", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
                          options={"client_id": CID, "user_id": UID}, timeout_s=5.0)
    first = SnapTradeAdapter(spec, {"consumer_key": KEY, "user_secret": SECRET})
    other = ConnectionSpec(name="b", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
                           options={"client_id": CID, "user_id": UID}, timeout_s=5.0)
    second = SnapTradeAdapter(other, {"consumer_key": KEY, "user_secret": SECRET})
    host = urls["snaptrade"].split("://", 1)[1].rstrip("/")
    module._BUDGETS[(host, CID, module.RATE_LIMIT_REQUESTS)] = module.RequestBudget(limit=3, window_s=0.6)
    try:
        started = time.monotonic()
        for adapter in (first, second, first):
            await adapter.get_order(A1, "5001")
        assert time.monotonic() - started < 0.5  # three requests: within the budget
        await second.get_order(A1, "5001")  # the fourth waits for the window, whichever connection asks
        assert time.monotonic() - started >= 0.55
        assert len(sims["snaptrade"].requests) == 4
    finally:
        module._BUDGETS.pop((host, CID, module.RATE_LIMIT_REQUESTS), None)
        await first.aclose()
        await second.aclose()
