"""The tanX simulator's contract with raw httpx (no adapter involved).

Most tests talk to the app in-process (``httpx.ASGITransport``: fast, same middleware); the ones where the
socket matters (redirects, a client timeout, the demo logins) go over real loopback HTTP.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from blotter.sim.common import SimClock
from blotter.sim.tanx import TanxSim, address_of, demo_connections, demo_section

KEY_A = "0x" + "11" * 32
KEY_B = "0x" + "22" * 32
ADDR_A = address_of(KEY_A)
ADDR_B = address_of(KEY_B)
INVALID = "Invalid Credentials or Token Expired, Kindly login again."


def _order(order_id: int, wallet: str = ADDR_A, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": order_id, "wallet": wallet, "market": "btcusdc", "side": "buy", "ord_type": "limit",
        "price": "60000.5", "origin_volume": "0.5", "executed_volume": "0", "state": "wait",
        "created_at": (datetime(2024, 5, 31, 9, 0, tzinfo=UTC) + timedelta(minutes=order_id)).isoformat(),
    }
    base.update(extra)
    return base


def scenario(orders: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "wallets": [
            {"name": "Alpha", "private_key": KEY_A,
             "balances": [{"currency": "usdc", "balance": "1500.25", "locked": "10"}]},
            {"name": "Beta", "eth_address": ADDR_B.lower()},
        ],
        "access_ttl_s": 900, "refresh_ttl_s": 3600,
        "orders": orders if orders is not None else [
            _order(1), _order(2, state="pending"), _order(3, state="done", executed_volume="0.5"),
            _order(4, market="ethusdc", side="sell", price="3400", executed_volume="0.1"),
            _order(5, wallet=ADDR_B),
        ],
    }
    section.update(extra)
    return {"tanx": section}


Venue = tuple[TanxSim, httpx.AsyncClient]
MakeVenue = Callable[[dict[str, Any]], Awaitable[Venue]]


@pytest.fixture
async def make_venue() -> AsyncIterator[MakeVenue]:
    """An in-process simulator for a scenario, with an httpx client on its ASGI app."""
    clients: list[httpx.AsyncClient] = []

    async def _make(scenario_: dict[str, Any]) -> Venue:
        sim = TanxSim.from_scenario(scenario_["tanx"])
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://127.0.0.1")
        clients.append(client)
        return sim, client

    yield _make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def venue(make_venue: MakeVenue) -> Venue:
    return await make_venue(scenario())


def signed_login(address: str, key: str, nonce: str) -> dict[str, str]:
    signature = Account.sign_message(encode_defunct(text=nonce), private_key=key).signature.hex()
    return {"eth_address": address, "user_signature": "0x" + signature}


async def login(
    client: httpx.AsyncClient, key: str = KEY_A, path: str = "/sapi/v1/auth/v2/"
) -> dict[str, Any]:
    address = address_of(key)
    nonce = (await client.post(f"{path}nonce/", json={"eth_address": address})).json()["payload"]
    reply = await client.post(f"{path}login/", json=signed_login(address, key, nonce))
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def jwt(token: str) -> dict[str, str]:
    return {"Authorization": f"JWT {token}"}


async def authed(client: httpx.AsyncClient, key: str = KEY_A) -> dict[str, str]:
    return jwt((await login(client, key))["token"]["access"])


def http_login(client: httpx.Client, key: str = KEY_A) -> dict[str, str]:
    """Login over real HTTP (sync); the Authorization header to use."""
    address = address_of(key)
    nonce = client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": address}).json()["payload"]
    reply = client.post("/sapi/v1/auth/v2/login/", json=signed_login(address, key, nonce))
    return jwt(reply.json()["token"]["access"])


# ---------------------------------------------------------------------- login
async def test_health_is_public(venue: Venue) -> None:
    _, client = venue
    reply = await client.get("/sapi/v1/health/")
    assert reply.json() == {"status": "success", "message": "Working fine!", "payload": ""}


@pytest.mark.parametrize("prefix", ["/sapi/v1/auth/v2/", "/sapi/v2/auth/", "/sapi/v1/auth/"])
async def test_nonce_and_login_on_every_path_variant(venue: Venue, prefix: str) -> None:
    sim, client = venue
    body = await login(client, path=prefix)
    assert body["status"] == "success"
    assert body["message"] == "Login Successful"
    assert body["payload"]["uid"].startswith("ID")
    assert body["token"]["access"].startswith("eyJ")
    assert body["token"]["refresh"].startswith("eyJ")
    assert [(r.path, r.status) for r in sim.requests_matching("POST")] == [
        (f"{prefix}nonce/", 200), (f"{prefix}login/", 200)]


async def test_nonce_message_is_one_time_and_login_burns_it(venue: Venue) -> None:
    _, client = venue
    first = (await client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": ADDR_A})).json()
    second = (await client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": ADDR_A})).json()
    assert first["message"] == "Nonce Acquired"
    assert "Login-code:" in first["payload"]
    assert first["payload"] != second["payload"]
    body = signed_login(ADDR_A.lower(), KEY_A, first["payload"])  # lower-case address is fine
    body["user_signature"] = body["user_signature"].removeprefix("0x")  # and so is a signature without 0x
    assert (await client.post("/sapi/v1/auth/v2/login/", json=body)).status_code == 200
    replay = await client.post("/sapi/v1/auth/v2/login/", json=body)
    assert replay.status_code == 400
    assert replay.json() == {"status": "error", "message": INVALID, "payload": ""}
    # the second message is still good for one login
    assert (await client.post("/sapi/v1/auth/v2/login/",
                              json=signed_login(ADDR_A, KEY_A, second["payload"]))).status_code == 200


async def test_login_refuses_wrong_signer_unknown_wallet_and_junk(venue: Venue) -> None:
    _, client = venue
    nonce = (await client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": ADDR_A})).json()["payload"]
    stranger_key = "0x" + "33" * 32
    stranger = address_of(stranger_key)
    stranger_nonce = (await client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": stranger})).json()
    for body in (
        signed_login(ADDR_A, KEY_B, nonce),  # signed by another wallet
        {"eth_address": ADDR_A, "user_signature": "0xnothex"},
        {"eth_address": ADDR_A, "user_signature": "0x" + "ab" * 10},
        signed_login(stranger, stranger_key, stranger_nonce["payload"]),  # no tanX account
    ):
        reply = await client.post("/sapi/v1/auth/v2/login/", json=body)
        assert (reply.status_code, reply.json()["message"]) == (400, INVALID)
    # the refused attempts did not burn the good nonce
    good = await client.post("/sapi/v1/auth/v2/login/", json=signed_login(ADDR_A, KEY_A, nonce))
    assert good.status_code == 200


async def test_nonce_expires(venue: Venue) -> None:
    sim, client = venue
    nonce = (await client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": ADDR_A})).json()["payload"]
    sim.clock.advance(301)
    reply = await client.post("/sapi/v1/auth/v2/login/", json=signed_login(ADDR_A, KEY_A, nonce))
    assert reply.status_code == 400


async def test_nonce_validates_the_address(venue: Venue) -> None:
    _, client = venue
    short = await client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": "test"})
    assert short.status_code == 400
    assert short.json() == {"status": "error", "message": "Ensure eth_address has at least 30 characters.",
                            "payload": ""}
    missing = await client.post("/sapi/v1/auth/v2/nonce/", json={})
    assert missing.json()["message"] == "eth_address: This field is required."


# ---------------------------------------------------------------------- tokens
async def test_private_routes_need_a_valid_access_token(venue: Venue) -> None:
    sim, client = venue
    missing = await client.get("/sapi/v1/user/profile/")
    assert missing.status_code == 401
    assert missing.json()["payload"] == {}
    tokens = (await login(client))["token"]
    for headers in (jwt("garbage"), jwt(tokens["refresh"]), {"Authorization": f"Bearer {tokens['access']}"}):
        reply = await client.get("/sapi/v1/user/profile/", headers=headers)
        assert reply.status_code == 401
        assert isinstance(reply.json()["payload"], dict)
    assert (await client.get("/sapi/v1/user/profile/", headers=jwt(tokens["access"]))).status_code == 200
    sim.clock.advance(901)
    expired = await client.get("/sapi/v1/user/profile/", headers=jwt(tokens["access"]))
    assert expired.status_code == 401
    assert expired.json() == {
        "status": "error", "message": "Given token not valid for any token type",
        "payload": {"token_class": "AccessToken", "token_type": "access",
                    "message": "Token is invalid or expired"},
    }


@pytest.mark.parametrize("path", ["/sapi/v1/auth/token/refresh/", "/sapi/v2/auth/token/refresh/"])
@pytest.mark.parametrize("as_form", [True, False])
async def test_refresh_returns_new_tokens_in_payload_and_token(
    venue: Venue, path: str, as_form: bool
) -> None:
    sim, client = venue
    tokens = (await login(client))["token"]
    sim.clock.advance(1000)
    if as_form:
        reply = await client.post(path, data={"refresh": tokens["refresh"]})
    else:
        reply = await client.post(path, json={"refresh": tokens["refresh"]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["payload"] == body["token"]
    assert body["payload"]["access"] != tokens["access"]
    profile = await client.get("/sapi/v1/user/profile/", headers=jwt(body["payload"]["access"]))
    assert profile.status_code == 200


async def test_refresh_refuses_expired_wrong_and_missing_tokens(venue: Venue) -> None:
    sim, client = venue
    tokens = (await login(client))["token"]
    wrong_type = await client.post("/sapi/v1/auth/token/refresh/", data={"refresh": tokens["access"]})
    assert wrong_type.status_code == 401
    assert wrong_type.json()["payload"]["token_type"] == "refresh"
    missing = await client.post("/sapi/v1/auth/token/refresh/", data={})
    assert (missing.status_code, missing.json()["message"]) == (400, "refresh: This field is required.")
    sim.clock.advance(3601)
    expired = await client.post("/sapi/v1/auth/token/refresh/", data={"refresh": tokens["refresh"]})
    assert expired.status_code == 401
    assert expired.json()["status"] == "error"


async def test_expire_helpers_and_admin_clock_route(venue: Venue) -> None:
    sim, client = venue
    tokens = (await login(client))["token"]
    sim.expire_access_tokens()
    assert (await client.get("/sapi/v1/user/profile/", headers=jwt(tokens["access"]))).status_code == 401
    refresh_path = "/sapi/v1/auth/token/refresh/"
    new = (await client.post(refresh_path, data={"refresh": tokens["refresh"]})).json()["payload"]
    assert (await client.post("/_sim/clock", json={"advance_s": 3601})).status_code == 200
    assert (await client.get("/sapi/v1/user/profile/", headers=jwt(new["access"]))).status_code == 401
    assert (await client.post(refresh_path, data={"refresh": new["refresh"]})).status_code == 401
    access, refresh = sim.issue_tokens(ADDR_A)
    assert (await client.get("/sapi/v1/user/profile/", headers=jwt(access))).status_code == 200
    sim.expire_refresh_tokens()
    assert (await client.post("/sapi/v1/auth/token/refresh/", data={"refresh": refresh})).status_code == 401


# ---------------------------------------------------------------------- user
async def test_profile_and_balance(venue: Venue) -> None:
    _, client = venue
    headers = await authed(client)
    profile = (await client.get("/sapi/v1/user/profile/", headers=headers)).json()
    assert profile["message"] == "Successful"
    assert set(profile["payload"]) == {"name", "customer_id", "img", "username", "stark_key"}
    assert profile["payload"]["name"] == "Alpha"
    balances = (await client.get("/sapi/v1/user/balance/", headers=headers)).json()["payload"]
    assert balances == [
        {"currency": "usdc", "balance": "1500.25", "locked": "10.0", "deposit_address": ADDR_A}]
    one = (await client.get("/sapi/v1/user/balance/", params={"currency": "usdc"}, headers=headers)).json()
    assert one["payload"]["currency"] == "usdc"


# ---------------------------------------------------------------------- orders
def test_orders_list_serves_both_paths_without_redirect_over_http(serve: Any) -> None:
    sims, urls = serve(scenario())
    with httpx.Client(base_url=urls["tanx"], follow_redirects=False) as client:
        headers = http_login(client)
        for path in ("/sapi/v1/orders", "/sapi/v1/orders/"):
            reply = client.get(path, headers=headers)
            assert reply.status_code == 200
            assert reply.headers["content-type"] == "application/json"
            body = reply.json()
            assert body["message"] == "Orders Retrieved Successfully"
            assert [o["id"] for o in body["payload"]] == [4, 3, 2, 1]  # newest first, own wallet only
            assert set(body) == {"status", "message", "payload"}  # no totals, no next links
        assert [r.status for r in sims["tanx"].requests_matching("GET", "orders")] == [200, 200]


async def test_order_shape(venue: Venue) -> None:
    _, client = venue
    headers = await authed(client)
    orders = (await client.get("/sapi/v1/orders/", headers=headers)).json()["payload"]
    order = next(o for o in orders if o["id"] == 4)
    assert order == {
        "id": 4, "uuid": order["uuid"], "side": "sell", "ord_type": "limit", "price": "3400.0",
        "stop_price": None, "avg_price": "3400.0", "state": "wait", "market": "ethusdc",
        "created_at": "2024-05-31T09:04:00+00:00",
        "updated_at": "2024-05-31T09:04:00+00:00", "origin_volume": "0.5", "remaining_volume": "0.4",
        "executed_volume": "0.1", "maker_fee": "0.001", "taker_fee": "0.001", "trades_count": 1,
        "cancel_reason": None,
    }


async def test_orders_paging_is_one_based_with_default_limit_50(make_venue: MakeVenue) -> None:
    orders = [_order(i, state="wait" if i % 2 else "pending") for i in range(1, 131)]
    _, client = await make_venue(scenario(orders))
    headers = await authed(client)

    async def ids(**params: Any) -> list[int]:
        reply = await client.get("/sapi/v1/orders/", params=params, headers=headers)
        assert reply.status_code == 200, reply.text
        return [o["id"] for o in reply.json()["payload"]]

    assert await ids() == await ids(page=1) == list(range(130, 80, -1))
    assert await ids(page=3) == list(range(30, 0, -1))
    assert await ids(page=4) == []
    assert await ids(limit=10, page=2, state="wait") == list(range(109, 89, -2))
    for params, message in (
        ({"page": 0}, "page: Ensure this value is greater than or equal to 1."),
        ({"limit": "x"}, "limit: A valid integer is required."),
        ({"state": "open"}, 'state: "open" is not a valid choice.'),
    ):
        reply = await client.get("/sapi/v1/orders/", params=params, headers=headers)
        assert (reply.status_code, reply.json()["message"]) == (400, message)


async def test_orders_filters(venue: Venue) -> None:
    _, client = venue
    headers = await authed(client)

    async def ids(**params: Any) -> list[int]:
        reply = await client.get("/sapi/v1/orders", params=params, headers=headers)
        return [o["id"] for o in reply.json()["payload"]]

    assert await ids(state="wait") == [4, 1]
    assert await ids(state="pending") == [2]
    assert await ids(market="ethusdc") == [4]
    assert await ids(side="buy", state="wait") == [1]
    assert await ids(base_unit="btc") == [3, 2, 1]
    assert await ids(quote_unit="usdc") == [4, 3, 2, 1]
    assert await ids(ord_type="limit_maker") == []
    start = int(datetime(2024, 5, 31, 9, 2, tzinfo=UTC).timestamp())
    assert await ids(start_time=start, end_time=start + 60) == [3, 2]


async def test_get_order_with_trades_and_foreign_or_unknown_is_404(venue: Venue) -> None:
    _, client = venue
    headers = await authed(client)
    for path in ("/sapi/v1/orders/4", "/sapi/v1/orders/4/"):
        body = (await client.get(path, headers=headers)).json()
        assert body["message"] == "Order Retrieved Successfully"
        assert body["payload"]["trades"][0]["amount"] == "0.1"
    for order_id in (5, 999):
        reply = await client.get(f"/sapi/v1/orders/{order_id}/", headers=headers)
        assert reply.status_code == 404
        assert reply.json() == {"status": "error", "message": "Order not found", "payload": ""}


# ---------------------------------------------------------------------- cancel
async def cancel(client: httpx.AsyncClient, headers: dict[str, str], order_id: Any) -> httpx.Response:
    return await client.post("/sapi/v1/orders/cancel/", json={"order_id": order_id}, headers=headers)


async def test_cancel_is_queued_then_cancelled_by_the_next_read(venue: Venue) -> None:
    sim, client = venue
    headers = await authed(client)
    reply = await cancel(client, headers, 1)
    assert reply.status_code == 200
    body = reply.json()
    assert body["message"] == "Order is successfully queued for cancellation"
    assert body["payload"]["state"] == "wait"
    assert body["payload"]["cancel_reason"] is None
    order = (await client.get("/sapi/v1/orders/1/", headers=headers)).json()["payload"]
    assert (order["state"], order["cancel_reason"]) == ("cancel", "Order cancelled by user")
    again = await cancel(client, headers, 1)
    assert again.status_code == 400
    assert again.json() == {"status": "error", "message": "Order is not open", "payload": ""}
    assert sim.state_of(1) == "cancel"


async def test_cancel_accepts_delete_and_pending_orders(venue: Venue) -> None:
    sim, client = venue
    headers = await authed(client)
    reply = await client.request("DELETE", "/sapi/v1/orders/cancel/", json={"order_id": 2}, headers=headers)
    assert reply.status_code == 200
    assert reply.json()["payload"]["state"] == "pending"
    assert sim.state_of(2) == "cancel"


async def test_cancel_refuses_foreign_unknown_and_malformed(venue: Venue) -> None:
    sim, client = venue
    headers = await authed(client)
    for order_id, message in (
        (5, "Order not found"),
        (12345, "Order not found"),
        ("x", "order_id: A valid integer is required."),
        (None, "order_id: This field is required."),
    ):
        reply = await cancel(client, headers, order_id)
        assert (reply.status_code, reply.json()["message"]) == (400, message)
    assert sim.state_of(5) == "wait"


async def _cancel_venue(
    make_venue: MakeVenue, spec: dict[str, Any]
) -> tuple[TanxSim, httpx.AsyncClient, dict[str, str]]:
    sim, client = await make_venue(scenario([_order(1, cancel=spec)]))
    return sim, client, await authed(client)


async def test_cancel_with_delay_stays_open_until_due(make_venue: MakeVenue) -> None:
    sim, client, headers = await _cancel_venue(make_venue, {"mode": "accept", "delay_ms": 2000})
    assert (await cancel(client, headers, 1)).status_code == 200
    assert (await client.get("/sapi/v1/orders/1/", headers=headers)).json()["payload"]["state"] == "wait"
    assert (await cancel(client, headers, 1)).status_code == 200  # already queued: queued again, nothing new
    sim.clock.advance(2.1)
    assert (await client.get("/sapi/v1/orders/1/", headers=headers)).json()["payload"]["state"] == "cancel"


async def test_cancel_never_stays_open(make_venue: MakeVenue) -> None:
    sim, client, headers = await _cancel_venue(make_venue, {"mode": "never"})
    assert (await cancel(client, headers, 1)).status_code == 200
    sim.clock.advance(600)
    assert sim.state_of(1) == "wait"


async def test_cancel_reject_uses_the_scenario_words(make_venue: MakeVenue) -> None:
    spec = {"mode": "reject", "message": "Order is being matched"}
    sim, client, headers = await _cancel_venue(make_venue, spec)
    reply = await cancel(client, headers, 1)
    assert reply.status_code == 400
    assert reply.json() == {"status": "error", "message": "Order is being matched", "payload": ""}
    assert sim.state_of(1) == "wait"


async def test_cancel_fill_is_queued_but_ends_done(make_venue: MakeVenue) -> None:
    _, client, headers = await _cancel_venue(make_venue, {"mode": "fill"})
    reply = await cancel(client, headers, 1)
    assert reply.json()["message"] == "Order is successfully queued for cancellation"
    order = (await client.get("/sapi/v1/orders/1/", headers=headers)).json()["payload"]
    assert (order["state"], order["executed_volume"], order["remaining_volume"]) == ("done", "0.5", "0.0")
    assert order["trades_count"] == 1
    assert order["cancel_reason"] is None


@pytest.mark.parametrize(("effect", "final"), [("cancel", "cancel"), ("none", "wait")])
async def test_cancel_error_answers_500_with_or_without_effect(
    make_venue: MakeVenue, effect: str, final: str
) -> None:
    sim, client, headers = await _cancel_venue(make_venue, {"mode": "error", "effect": effect})
    reply = await cancel(client, headers, 1)
    assert reply.status_code == 500
    assert reply.json()["status"] == "error"
    assert sim.state_of(1) == final


def test_cancel_timeout_applies_the_effect_but_answers_late_over_http(serve: Any) -> None:
    sims, urls = serve(scenario([_order(1, cancel={"mode": "timeout", "delay_ms": 800})]))
    with httpx.Client(base_url=urls["tanx"]) as client:
        headers = http_login(client)
        with pytest.raises(httpx.ReadTimeout):
            client.post("/sapi/v1/orders/cancel/", json={"order_id": 1}, headers=headers, timeout=0.2)
        assert sims["tanx"].state_of(1) == "cancel"


async def test_bulk_cancel_queues_the_wallets_open_orders_in_market_and_side(make_venue: MakeVenue) -> None:
    orders = [
        _order(1), _order(2, side="sell"), _order(3, state="pending"), _order(4, market="ethusdc"),
        _order(5, wallet=ADDR_B), _order(6, cancel={"mode": "reject"}), _order(7, cancel={"mode": "never"}),
        _order(8, state="done", executed_volume="0.5"),
    ]
    sim, client = await make_venue(scenario(orders))
    headers = await authed(client)
    body = {"market": "btcusdc", "side": "buy"}
    reply = await client.post("/sapi/v1/user/bulkcancel/", json=body, headers=headers)
    assert reply.json() == {"status": "success", "message": "Orders are successfully queued for cancellation",
                            "payload": {}}
    assert {i: sim.state_of(i) for i in range(1, 9)} == {
        1: "cancel", 2: "wait", 3: "cancel", 4: "wait", 5: "wait", 6: "wait", 7: "wait", 8: "done"}
    # newest first: 6 (refuses, stays open) and 2 are the two picked; 7 is already queued
    await client.post("/sapi/v1/user/bulkcancel/", json={"market": "btcusdc", "limit": 2}, headers=headers)
    assert (sim.state_of(2), sim.state_of(6)) == ("cancel", "wait")
    missing = await client.post("/sapi/v1/user/bulkcancel/", json={}, headers=headers)
    assert (missing.status_code, missing.json()["message"]) == (400, "market: This field is required.")


# ---------------------------------------------------------------------- cross-cutting
async def test_rate_limit_answers_429_envelope_with_retry_after(make_venue: MakeVenue) -> None:
    sim, client = await make_venue(scenario(rate_limit={"requests": 2, "per_seconds": 60}))
    for _ in range(2):
        assert (await client.get("/sapi/v1/health/")).status_code == 200
    reply = await client.get("/sapi/v1/health/")
    assert reply.status_code == 429
    assert int(reply.headers["Retry-After"]) >= 1
    assert reply.json()["status"] == "error"
    assert "throttled" in reply.json()["message"]
    sim.clock.advance(61)
    assert (await client.get("/sapi/v1/health/")).status_code == 200


async def test_faults_use_the_envelope(venue: Venue) -> None:
    sim, client = venue
    sim.add_fault({"action": "status", "status": 401, "path": "profile"})
    sim.add_fault({"action": "status", "status": 503, "path": "balance"})
    headers = await authed(client)
    unauthorized = await client.get("/sapi/v1/user/profile/", headers=headers)
    assert unauthorized.status_code == 401
    assert unauthorized.json()["payload"] == {}
    unavailable = await client.get("/sapi/v1/user/balance/", headers=headers)
    assert unavailable.json() == {"status": "error", "message": "Simulated fault", "payload": ""}


async def test_unknown_path_is_an_envelope_404(venue: Venue) -> None:
    _, client = venue
    reply = await client.get("/sapi/v1/nothing/")
    assert reply.status_code == 404
    assert reply.json()["status"] == "error"


# ---------------------------------------------------------------------- scenario parsing and demo
@pytest.mark.parametrize(("section", "words"), [
    ({"wallets": [{"private_key": "0x1234"}]}, "not a valid secp256k1 private key"),
    ({"wallets": [{"private_key": KEY_A, "eth_address": ADDR_B}]}, "does not belong to private_key"),
    ({"wallets": [{"name": "x"}]}, "needs an eth_address or a private_key"),
    ({"wallets": [{"eth_address": "0x12"}]}, "not a 0x-prefixed 40-hex-digit address"),
    ({"wallets": [{"private_key": KEY_A}], "orders": [_order(1, wallet=ADDR_B)]}, "not one of tanx.wallets"),
    ({"wallets": [{"private_key": KEY_A}], "orders": [_order(1, state="open")]}, "state must be one of"),
    ({"wallets": [{"private_key": KEY_A}], "orders": [_order(1), _order(1)]}, "duplicate id 1"),
    ({"wallets": [{"private_key": KEY_A}], "orders": [_order(1, executed_volume="2")]}, "exceeds origin"),
    ({"wallets": [{"private_key": KEY_A}], "orders": [_order(1, cancel={"mode": "x"})]}, "cancel mode"),
    ({"access_ttl_s": 0}, "must be positive"),
])
def test_from_scenario_explains_bad_input(section: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        TanxSim.from_scenario(section)


def test_demo_section_is_deterministic_and_covers_every_cancel_outcome() -> None:
    first, second = demo_section(random.Random(3)), demo_section(random.Random(3))

    def without_times(section: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in o.items() if k != "created_at"} for o in section["orders"]]

    assert without_times(first) == without_times(second)
    sim = TanxSim.from_scenario(first, SimClock())
    assert 75 <= len(sim.open_orders()) <= 90
    assert {o["state"] for o in first["orders"]} == {"pending", "wait", "done", "cancel"}
    modes = [o.get("cancel", {}).get("mode", "accept") for o in first["orders"]]
    assert modes.count("fill") == 2
    assert modes.count("reject") == 1
    assert modes.count("never") == 1
    delays = [o["cancel"]["delay_ms"] for o in first["orders"] if o.get("cancel", {}).get("mode") == "accept"]
    assert len(delays) == 3
    assert all(1500 <= d <= 4000 for d in delays)
    assert {o["market"] for o in first["orders"]} >= {"btcusdc", "ethusdc", "solusdc", "maticusdc"}


def test_demo_connections_log_in_over_http(serve: Any) -> None:
    section = demo_section(random.Random(5))
    _, urls = serve({"tanx": section})
    connections = demo_connections(section, urls["tanx"])
    assert [name for name, _, _ in connections] == ["tanx-alpha", "tanx-beta"]
    with httpx.Client(base_url=urls["tanx"]) as client:
        for _, options, secrets in connections:
            assert address_of(secrets["private_key"]) == options["eth_address"]
            orders = client.get("/sapi/v1/orders/", headers=http_login(client, secrets["private_key"]))
            assert len(orders.json()["payload"]) > 40
