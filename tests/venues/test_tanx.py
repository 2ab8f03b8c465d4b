"""The tanX adapter against the tanX simulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct

from blotter.core import (
    AuthError,
    CancelAck,
    ConfigError,
    CredentialError,
    NotFoundError,
    OrderKey,
    OrderStatus,
    OrderType,
    OutcomeUnknown,
    Side,
    Venue,
    VenueProtocolError,
    VenueRefused,
    VenueResponse,
)
from blotter.core.connection import ConnectionSpec
from blotter.sim.tanx import TanxSim, address_of
from blotter.venues.tanx import TanxAdapter

KEY_A = "0x" + "11" * 32
KEY_B = "0x" + "22" * 32
ADDR_A = address_of(KEY_A)
ADDR_B = address_of(KEY_B)
CONN = "tanx-test"


def _order(order_id: int, wallet: str = ADDR_A, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": order_id, "wallet": wallet, "market": "btcusdc", "side": "buy", "ord_type": "limit",
        "price": "60000.5", "origin_volume": "0.5", "executed_volume": "0", "state": "wait",
        "created_at": (datetime(2024, 5, 31, 9, 0, tzinfo=UTC) + timedelta(minutes=order_id)).isoformat(),
    }
    base.update(extra)
    return base


def scenario(orders: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "wallets": [
            {"name": "Alpha Desk", "private_key": KEY_A,
             "balances": [{"currency": "usdc", "balance": "1500", "locked": "0"}]},
            {"name": "Beta", "private_key": KEY_B},
        ],
        "access_ttl_s": 900, "refresh_ttl_s": 3600, "orders": orders,
    }
    section.update(extra)
    return {"tanx": section}


Make = Callable[..., TanxAdapter]


@pytest.fixture
async def make_adapter() -> AsyncIterator[Make]:
    adapters: list[TanxAdapter] = []

    def _make(url: str, secrets: dict[str, str] | None = None, *, options: dict[str, str] | None = None,
              timeout_s: float = 5.0, name: str = CONN) -> TanxAdapter:
        spec = ConnectionSpec(name=name, venue=Venue.TANX, base_url=url, options=options or {},
                              timeout_s=timeout_s)
        adapter = TanxAdapter(spec, {"private_key": KEY_A} if secrets is None else secrets)
        adapters.append(adapter)
        return adapter

    yield _make
    for adapter in adapters:
        await adapter.aclose()


def paths(sim: TanxSim, method: str = "", pattern: str = ".*") -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in sim.requests_matching(method, pattern)]


def key(order_id: int | str, account: str = ADDR_A) -> OrderKey:
    return OrderKey(CONN, account, str(order_id))


# ---------------------------------------------------------------------- login and tokens
async def test_wallet_login_signs_the_nonce_and_lists_the_wallet(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1)]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"], options={"eth_address": ADDR_A.lower()})
    await adapter.login()
    assert paths(sim) == [("POST", "/sapi/v2/auth/nonce/", 200), ("POST", "/sapi/v2/auth/login/", 200)]
    nonce_req, login_req = sim.requests
    assert json.loads(nonce_req.body) == {"eth_address": ADDR_A}
    body = json.loads(login_req.body)
    assert body["eth_address"] == ADDR_A
    assert body["user_signature"].startswith("0x") and len(body["user_signature"]) == 132
    accounts = await adapter.list_accounts()
    assert [(a.account_id, a.name, a.connection, a.venue) for a in accounts] == [
        (ADDR_A, "Alpha Desk", CONN, Venue.TANX)]
    profile_req = sim.requests_matching("GET", "profile")[0]
    assert profile_req.headers["authorization"].startswith("JWT eyJ")


async def test_signature_recovers_to_the_wallet(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([]))
    sim: TanxSim = sims["tanx"]
    responses: list[VenueResponse] = []
    adapter = make_adapter(urls["tanx"])
    adapter.add_listener(responses.append)
    await adapter.login()
    nonce_message = json.loads(responses[0].raw_body)["payload"]
    signature = json.loads(sim.requests[1].body)["user_signature"]
    signer = EthAccount.recover_message(encode_defunct(text=nonce_message), signature=signature)
    assert signer == ADDR_A


async def test_access_expiry_with_a_cancel_in_flight_refreshes_once(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(i) for i in range(1, 6)]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    await adapter.login()
    sim.clock.advance(901)  # every access token issued so far has expired
    receipt, order, opened, accounts = await asyncio.gather(
        adapter.cancel(key(1)), adapter.get_order(ADDR_A, "2"), adapter.list_open_orders(ADDR_A),
        adapter.list_accounts(),
    )
    assert receipt.ack is CancelAck.QUEUED
    assert order.order_id == "2" and len(accounts) == 1 and len(opened) >= 4
    refreshes = paths(sim, "POST", "refresh")
    assert refreshes == [("POST", "/sapi/v1/auth/token/refresh/", 200)]
    refresh_req = sim.requests_matching("POST", "refresh")[0]
    assert refresh_req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in refresh_req.headers
    assert len(paths(sim, "POST", "nonce")) == 1  # no second wallet login
    cancels = paths(sim, "POST", "cancel")
    assert [c[2] for c in cancels] in ([401, 200], [200])  # retried once after the refresh, never more
    assert sim.state_of(1) == "cancel"


async def test_expired_refresh_token_falls_back_to_a_wallet_login(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1)]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    await adapter.login()
    sim.clock.advance(3601)  # both tokens expired
    assert [o.order_id for o in await adapter.list_open_orders(ADDR_A)] == ["1"]
    assert paths(sim, "", "auth") == [
        ("POST", "/sapi/v2/auth/nonce/", 200), ("POST", "/sapi/v2/auth/login/", 200),
        ("POST", "/sapi/v1/auth/token/refresh/", 401),
        ("POST", "/sapi/v2/auth/nonce/", 200), ("POST", "/sapi/v2/auth/login/", 200),
    ]


async def test_a_pasted_token_pair_refreshes_then_asks_for_new_tokens(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1)]))
    sim: TanxSim = sims["tanx"]
    access, refresh = sim.issue_tokens(ADDR_A)
    adapter = make_adapter(urls["tanx"], {"access_token": access, "refresh_token": refresh},
                           options={"eth_address": ADDR_A})
    assert [o.order_id for o in await adapter.list_open_orders(ADDR_A)] == ["1"]
    sim.clock.advance(901)
    assert (await adapter.get_order(ADDR_A, "1")).status is OrderStatus.OPEN
    assert len(paths(sim, "POST", "refresh")) == 1
    assert paths(sim, "POST", "nonce") == []  # no wallet key, no wallet login
    sim.clock.advance(3601)
    with pytest.raises(AuthError, match="paste a new access token and refresh token") as caught:
        await adapter.get_order(ADDR_A, "1")
    assert access not in str(caught.value) and refresh not in str(caught.value)


async def test_a_pasted_expired_access_token_is_refreshed_at_login(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([]))
    sim: TanxSim = sims["tanx"]
    access, refresh = sim.issue_tokens(ADDR_A)
    sim.expire_access_tokens()
    adapter = make_adapter(urls["tanx"], {"access_token": access, "refresh_token": refresh},
                           options={"eth_address": ADDR_A})
    await adapter.login()
    assert [p for _, p, _ in paths(sim)] == ["/sapi/v1/user/profile/", "/sapi/v1/auth/token/refresh/"]
    assert len(await adapter.list_accounts()) == 1


async def test_a_refused_login_is_an_auth_error_in_the_venues_words(serve: Any, make_adapter: Make) -> None:
    _sims, urls = serve(scenario([]))
    stranger = "0x" + "33" * 32  # a wallet the venue has no account for
    adapter = make_adapter(urls["tanx"], {"private_key": stranger})
    with pytest.raises(AuthError) as caught:
        await adapter.list_accounts()
    assert str(caught.value) == "Invalid Credentials or Token Expired, Kindly login again."
    assert caught.value.http_status == 400


async def test_still_refused_after_a_refresh_is_an_auth_error(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1)]))
    sim: TanxSim = sims["tanx"]
    expired = {"status": "error", "message": "Given token not valid for any token type",
               "payload": {"token_type": "access"}}
    sim.add_fault({"action": "status", "status": 401, "path": "orders/cancel", "body": expired, "times": 2})
    adapter = make_adapter(urls["tanx"])
    with pytest.raises(AuthError, match="Given token not valid"):
        await adapter.cancel(key(1))
    assert [s for _, _, s in paths(sim, "POST", "cancel")] == [401, 401]
    assert len(paths(sim, "POST", "refresh")) == 1


@pytest.mark.parametrize(("secrets", "options", "error", "words"), [
    ({"private_key": KEY_A}, {"eth_address": ADDR_B}, ConfigError, "is not the address of the stored"),
    ({"private_key": "0x1234"}, {}, ConfigError, "not a valid wallet key"),
    ({}, {}, CredentialError, "needs a private key"),
    ({"access_token": "a", "refresh_token": "r"}, {}, ConfigError, "eth_address option is required"),
    ({"private_key": KEY_A}, {"eth_address": "0x12"}, ConfigError, "not a 0x-prefixed address"),
])
def test_configuration_errors(secrets: dict[str, str], options: dict[str, str], error: type[Exception],
                              words: str) -> None:
    spec = ConnectionSpec(name=CONN, venue=Venue.TANX, base_url="http://127.0.0.1:9", options=options)
    with pytest.raises(error, match=words) as caught:
        TanxAdapter(spec, secrets)
    assert "1234" not in str(caught.value) and ("11" * 32) not in str(caught.value)


# ---------------------------------------------------------------------- listing and mapping
async def test_open_orders_page_through_both_states(serve: Any, make_adapter: Make) -> None:
    orders = [_order(i) for i in range(1, 61)]  # 60 wait
    orders += [_order(i, state="pending") for i in range(61, 116)]  # 55 pending
    orders += [_order(i, state="done", executed_volume="0.5") for i in range(116, 121)]
    orders += [_order(i, wallet=ADDR_B) for i in range(121, 126)]
    sims, urls = serve(scenario(orders))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    found = await adapter.list_open_orders(ADDR_A.lower())  # the account as a user might type it
    assert sorted(int(o.order_id) for o in found) == list(range(1, 116))
    assert {o.key.account for o in found} == {ADDR_A}
    assert [r.query for r in sim.requests_matching("GET", "orders")] == [
        "limit=50&page=1&state=pending", "limit=50&page=2&state=pending",
        "limit=50&page=1&state=wait", "limit=50&page=2&state=wait",
    ]


async def test_order_mapping(serve: Any, make_adapter: Make) -> None:
    orders = [
        _order(1, ord_type="limit_maker", side="sell", executed_volume="0.2"),
        _order(2, ord_type="stop_limit", stop_price="59000", state="pending"),
        _order(3, state="cancel", cancel_reason="Order cancellation was initiated by system"),
        _order(4, state="done", executed_volume="0.5", ord_type="market", price=None),
    ]
    _sims, urls = serve(scenario(orders))
    adapter = make_adapter(urls["tanx"])
    by_id = {o.order_id: o for o in await adapter.list_open_orders(ADDR_A)}
    first = by_id["1"]
    assert (first.symbol, first.side, first.order_type, first.venue_type) == (
        "btcusdc", Side.SELL, OrderType.LIMIT, "limit_maker")
    assert (first.quantity, first.filled, first.remaining) == (Decimal("0.5"), Decimal("0.2"), Decimal("0.3"))
    assert (first.status, first.venue_status) == (OrderStatus.PARTIALLY_FILLED, "wait")
    assert first.limit_price == Decimal("60000.5") and first.stop_price is None
    assert first.created_at == datetime(2024, 5, 31, 9, 1, tzinfo=UTC)
    assert first.key == OrderKey(CONN, ADDR_A, "1") and not first.raw  # listings keep no venue JSON
    assert (await adapter.get_order(ADDR_A, "1")).raw["uuid"]
    second = by_id["2"]
    assert (second.status, second.order_type, second.stop_price) == (
        OrderStatus.OPEN, OrderType.STOP_LIMIT, Decimal("59000"))
    cancelled = await adapter.get_order(ADDR_A, "3")
    assert (cancelled.status, cancelled.cancel_reason) == (
        OrderStatus.CANCELLED, "Order cancellation was initiated by system")
    filled = await adapter.get_order(ADDR_A, "4")
    assert (filled.status, filled.order_type) == (OrderStatus.FILLED, OrderType.MARKET)
    assert filled.limit_price is None
    assert "trades" in filled.raw


async def test_account_details_and_unknown_accounts(serve: Any, make_adapter: Make) -> None:
    _sims, urls = serve(scenario([]))
    adapter = make_adapter(urls["tanx"])
    details = await adapter.account_details(ADDR_A)
    assert details["eth_address"] == ADDR_A
    assert details["profile"]["name"] == "Alpha Desk"
    assert details["balances"][0]["currency"] == "usdc"
    with pytest.raises(NotFoundError):
        await adapter.list_open_orders(ADDR_B)
    with pytest.raises(NotFoundError):
        await adapter.cancel(key(1, ADDR_B))


async def test_unknown_and_foreign_orders_are_not_found(serve: Any, make_adapter: Make) -> None:
    _sims, urls = serve(scenario([_order(1, wallet=ADDR_B)]))
    adapter = make_adapter(urls["tanx"])
    for order_id in ("1", "999"):
        with pytest.raises(NotFoundError, match="Order not found"):
            await adapter.get_order(ADDR_A, order_id)
        with pytest.raises(NotFoundError, match="Order not found"):
            await adapter.cancel(key(order_id))
    with pytest.raises(NotFoundError):
        await adapter.get_order(ADDR_A, "abc")


async def test_malformed_answers_are_protocol_errors(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1)]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    await adapter.login()
    sim.add_fault({"action": "malformed", "path": "orders/$"})
    with pytest.raises(VenueProtocolError):
        await adapter.list_open_orders(ADDR_A)
    sim.add_fault({"action": "status", "status": 200, "path": "orders/1/", "body": {"status": "success"}})
    with pytest.raises(VenueProtocolError, match="envelope"):
        await adapter.get_order(ADDR_A, "1")


# ---------------------------------------------------------------------- cancel
async def test_cancel_is_queued_and_a_later_read_shows_it_cancelled(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1, cancel={"mode": "accept", "delay_ms": 1500})]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    receipt = await adapter.cancel(key(1))
    assert receipt.ack is CancelAck.QUEUED
    assert receipt.response.message == "Order is successfully queued for cancellation"
    assert receipt.response.http_status == 200 and receipt.response.order_key == key(1)
    assert receipt.order is not None and receipt.order.status is OrderStatus.OPEN
    assert json.loads(sim.requests_matching("POST", "cancel")[0].body) == {"order_id": 1}
    assert (await adapter.get_order(ADDR_A, "1")).status is OrderStatus.OPEN
    sim.clock.advance(1.6)
    later = await adapter.get_order(ADDR_A, "1")
    assert (later.status, later.venue_status, later.cancel_reason) == (
        OrderStatus.CANCELLED, "cancel", "Order cancelled by user")


async def test_cancel_refusals_carry_the_venues_words(serve: Any, make_adapter: Make) -> None:
    orders = [_order(1, cancel={"mode": "reject", "message": "Order is being matched"}),
              _order(2, state="done", executed_volume="0.5")]
    sims, urls = serve(scenario(orders))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    with pytest.raises(VenueRefused) as rejected:
        await adapter.cancel(key(1))
    assert (str(rejected.value), rejected.value.http_status) == ("Order is being matched", 400)
    assert rejected.value.response is not None and rejected.value.response.message == "Order is being matched"
    with pytest.raises(VenueRefused, match=r"^Order is not open$"):
        await adapter.cancel(key(2))
    assert sim.state_of(1) == "wait"


async def test_fill_during_cancel_ends_filled(serve: Any, make_adapter: Make) -> None:
    _sims, urls = serve(scenario([_order(1, cancel={"mode": "fill"})]))
    adapter = make_adapter(urls["tanx"])
    receipt = await adapter.cancel(key(1))
    assert receipt.ack is CancelAck.QUEUED
    final = await adapter.get_order(ADDR_A, "1")
    assert (final.status, final.filled, final.remaining) == (OrderStatus.FILLED, Decimal("0.5"), Decimal("0"))


async def test_timeout_is_unknown_then_get_order_shows_the_truth(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1, cancel={"mode": "timeout", "delay_ms": 1000})]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"], timeout_s=0.3)
    await adapter.login()
    with pytest.raises(OutcomeUnknown, match="timed out"):
        await adapter.cancel(key(1))
    assert len(sim.requests_matching("POST", "cancel")) == 1  # a write is never retried blindly
    assert (await adapter.get_order(ADDR_A, "1")).status is OrderStatus.CANCELLED


async def test_server_error_on_cancel_is_unknown(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1, cancel={"mode": "error", "effect": "none"})]))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    with pytest.raises(OutcomeUnknown) as caught:
        await adapter.cancel(key(1))
    assert caught.value.http_status == 500
    assert len(sim.requests_matching("POST", "cancel")) == 1
    assert (await adapter.get_order(ADDR_A, "1")).status is OrderStatus.OPEN


async def test_rate_limited_cancel_is_retried_after_retry_after(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1)]))
    sim: TanxSim = sims["tanx"]
    throttled = {"status": "error", "message": "Request was throttled.", "payload": ""}
    sim.add_fault({"action": "status", "status": 429, "path": "orders/cancel", "body": throttled,
                   "headers": {"Retry-After": "0"}})
    adapter = make_adapter(urls["tanx"])
    assert (await adapter.cancel(key(1))).ack is CancelAck.QUEUED
    assert [s for _, _, s in paths(sim, "POST", "cancel")] == [429, 200]


async def test_bulk_cancel_is_queued(serve: Any, make_adapter: Make) -> None:
    orders = [_order(1), _order(2, side="sell"), _order(3, market="ethusdc"), _order(4, state="pending")]
    sims, urls = serve(scenario(orders))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    assert adapter.capabilities.bulk_cancel and adapter.capabilities.cancel_is_async
    receipt = await adapter.cancel_many(ADDR_A, market="BTCUSDC", side=Side.BUY)
    assert receipt.ack is CancelAck.QUEUED and receipt.order is None
    assert receipt.response.message == "Orders are successfully queued for cancellation"
    assert json.loads(sim.requests_matching("POST", "bulkcancel")[0].body) == {
        "market": "btcusdc", "limit": 100, "side": "buy"}
    left = sorted(o.order_id for o in await adapter.list_open_orders(ADDR_A))
    assert left == ["2", "3"]
    await adapter.cancel_many(ADDR_A, market="btcusdc")
    assert sorted(o.order_id for o in await adapter.list_open_orders(ADDR_A)) == ["3"]
    with pytest.raises(ConfigError):
        await adapter.cancel_many(ADDR_A, market="btc/usdc")


# ---------------------------------------------------------------------- redaction
async def test_no_secret_reaches_a_venue_response(serve: Any, make_adapter: Make) -> None:
    sims, urls = serve(scenario([_order(1), _order(2)]))
    sim: TanxSim = sims["tanx"]
    responses: list[VenueResponse] = []
    adapter = make_adapter(urls["tanx"])
    adapter.add_listener(responses.append)
    await adapter.list_accounts()
    sim.clock.advance(901)
    await adapter.cancel(key(1))  # 401, refresh, retry
    sim.clock.advance(3601)
    await adapter.list_open_orders(ADDR_A)  # refresh refused, wallet login again
    await adapter.account_details(ADDR_A)
    actions = {r.action.value for r in responses}
    assert {"login", "refresh_token", "cancel", "list_orders", "account_details"} <= actions

    secrets = {KEY_A, KEY_A.removeprefix("0x"), *sim.issued_tokens()}
    for logged in sim.requests_matching("POST", "login"):
        signature = json.loads(logged.body)["user_signature"]
        secrets.update((signature, signature.removeprefix("0x")))
    assert len(secrets) == 2 + 6 + 4  # the key; 2 logins + 1 refresh, 2 tokens each; 2 signatures (±0x)
    for response in responses:
        text = "\n".join((response.request, response.raw_body, response.message))
        for secret in secrets:
            assert secret not in text, (response.action, secret[:12])
    token_answers = [json.loads(r.raw_body) for r in responses
                     if r.action.value in ("login", "refresh_token") and '"token"' in r.raw_body]
    assert token_answers and all(a["token"] == "***" for a in token_answers)
    assert any("authorization: ***" in r.request.lower() for r in responses)
