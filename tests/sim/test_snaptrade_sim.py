"""The SnapTrade simulator's contract, spoken to with raw httpx requests signed by hand."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from blotter.sim.snaptrade import (
    OPEN_STATUSES,
    SnapTradeSim,
    demo_connections,
    demo_section,
    request_signature,
)

CID = "CLIENT-TEST"
KEY = "consumer-key-0123456789abcdefXYZ"
UID = "user-1"
SECRET = "s3cr+t/with spaces&=ü"
A1 = "917c8734-8470-4a3e-a18f-57c3f2ee6631"
RO = "65e839a3-9103-4cfb-9b72-2071ef80c5f2"
OTHER = "0b3d1c8e-2f4a-4d6b-8e9f-a1b2c3d4e5f6"
DAY = 86400


def scenario(**extra: Any) -> dict[str, Any]:
    def order(oid: str, account: str = A1, **fields: Any) -> dict[str, Any]:
        base = {
            "brokerage_order_id": oid, "account_id": account, "symbol": "AAPL", "description": "Apple Inc.",
            "currency": "USD", "exchange": "NASDAQ", "action": "BUY", "order_type": "Limit",
            "time_in_force": "GTC", "total_quantity": "10", "filled_quantity": "0", "limit_price": "150.25",
            "stop_price": None, "status": "ACCEPTED", "time_placed": -DAY,
        }
        return {**base, **fields}

    section: dict[str, Any] = {
        "clients": [{"client_id": CID, "consumer_key": KEY}],
        "users": [
            {"user_id": UID, "user_secret": SECRET, "accounts": [A1, RO]},
            {"user_id": "user-2", "user_secret": "other-secret", "accounts": [OTHER]},
        ],
        "accounts": [
            {"id": A1, "brokerage_authorization": "87b24961-b51e-4db8-9226-f198f6518a89",
             "name": "Questrade Margin", "number": "51234567", "institution_name": "Questrade",
             "balance": {"amount": "15363.23", "currency": "USD"}, "is_paper": False, "status": "open"},
            {"id": RO, "brokerage_authorization": "5a9b2c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d",
             "name": "IBKR Individual", "number": "U1234567", "institution_name": "Interactive Brokers",
             "balance": {"amount": 1000, "currency": "USD"}, "is_paper": False, "read_only": True},
            {"id": OTHER, "brokerage_authorization": "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b", "name": None,
             "number": "X1", "institution_name": "Alpaca", "balance": {"amount": 5, "currency": "USD"}},
        ],
        "orders": [
            order("1001"),
            order("1002", time_placed=-(45 * DAY - 600), cancel={"mode": "accept", "delay_ms": 2000}),
            order("1003", status="EXECUTED", time_placed=-2 * DAY),
            order("1004", status="PARTIAL", total_quantity="100", filled_quantity="40",
                  cancel={"mode": "never"}),
            order("1005", cancel={"mode": "reject", "message": "Order is locked for the opening auction"}),
            order("1006", cancel={"mode": "fill"}),
            order("1008", cancel={"mode": "error"}),
            order("1009", via_snaptrade=False),
            order("1010", status="CANCELED", time_placed=-5 * DAY),
            order("1011", time_placed=-100 * DAY),
            order("2001", account=RO, symbol="SPY", exchange="ARCA", security_type="et"),
        ],
        "timestamp_tolerance_s": 300,
    }
    section.update(extra)
    return section


def encode(params: list[tuple[str, Any]]) -> str:
    return "&".join(f"{k}={quote(str(v))}" for k, v in params)


class Caller:
    """Signs requests the way the SDK does, with knobs to break each part."""

    def __init__(self, sim: SnapTradeSim, client: httpx.AsyncClient) -> None:
        self.sim = sim
        self.client = client

    async def __call__(
        self,
        method: str,
        path: str,
        params: list[tuple[str, Any]] | None = None,
        body: Any = None,
        *,
        key: str = KEY,
        client_id: str = CID,
        user_id: str | None = UID,
        secret: str | None = SECRET,
        ts: int | None = None,
        signature: str | None = None,
        sign_query: str | None = None,
        sign_path: str | None = None,
        sign_body: Any = ...,
    ) -> httpx.Response:
        pairs = list(params or [])
        if user_id is not None:
            pairs.append(("userId", user_id))
        if secret is not None:
            pairs.append(("userSecret", secret))
        pairs += [("clientId", client_id), ("timestamp", int(time.time()) if ts is None else ts)]
        query = encode(pairs)
        content = b"" if body is None else json.dumps(body).encode()
        signed_body = body if sign_body is ... else sign_body
        sig = signature or request_signature(key, sign_path or path, sign_query or query, signed_body)
        headers = {"Signature": sig, "Content-Type": "application/json"}
        return await self.client.request(method, f"{path}?{query}", content=content, headers=headers)


@pytest.fixture
async def api() -> AsyncIterator[Caller]:
    sim = SnapTradeSim.from_scenario(scenario())
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://snaptrade.test") as c:
        yield Caller(sim, c)


async def make(section: dict[str, Any]) -> tuple[SnapTradeSim, httpx.AsyncClient, Caller]:
    sim = SnapTradeSim.from_scenario(section)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://snaptrade.test")
    return sim, client, Caller(sim, client)


# ---------------------------------------------------------------------- status and auth
async def test_status_needs_no_signature(api: Caller) -> None:
    reply = await api.client.get("/")
    assert reply.status_code == 200
    body = reply.json()
    assert body["online"] is True
    assert isinstance(body["version"], int)
    assert body["timestamp"].endswith("Z")


async def test_signed_request_is_accepted_and_logged_raw(api: Caller) -> None:
    reply = await api("GET", "/accounts")
    assert reply.status_code == 200
    logged = api.sim.requests_matching("GET", "^/accounts$")[-1]
    # The query is logged exactly as sent (the secret percent-encoded, "/" kept, in the SDK's order).
    assert logged.query.startswith(f"userId=user-1&userSecret={quote(SECRET)}&clientId={CID}&timestamp=")
    assert "s3cr%2Bt/with%20spaces%26%3D%C3%BC" in logged.query


async def test_bad_signature_is_refused_in_snaptrade_words(api: Caller) -> None:
    reply = await api("GET", "/accounts", key="not-the-consumer-key")
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Unable to verify signature sent", "status_code": 401, "code": "1076"}


@pytest.mark.parametrize("tamper", ["query", "body", "path", "header"])
async def test_signature_covers_query_body_and_path(api: Caller, tamper: str) -> None:
    path = f"/accounts/{A1}/trading/cancel"
    if tamper == "query":
        reply = await api("POST", path, body={"brokerage_order_id": "1001"},
                          sign_query=encode([("userId", UID), ("userSecret", "other"), ("clientId", CID),
                                             ("timestamp", int(time.time()))]))
    elif tamper == "body":
        reply = await api("POST", path, body={"brokerage_order_id": "1001"},
                          sign_body={"brokerage_order_id": "1005"})
    elif tamper == "path":
        reply = await api("POST", path, body={"brokerage_order_id": "1001"},
                          sign_path=f"/accounts/{RO}/trading/cancel")
    else:
        reply = await api.client.get(f"/accounts?userId={UID}&clientId={CID}&timestamp=1")
    assert reply.status_code == 401
    assert api.sim.status("1001") == "ACCEPTED"


async def test_empty_object_body_signs_as_null(api: Caller) -> None:
    path = f"/accounts/{A1}/trading/cancel"
    reply = await api("POST", path, body={}, sign_body=None)  # {} must be signed as null
    assert reply.status_code == 400  # past the signature check: the body lacks brokerage_order_id
    assert "brokerage_order_id" in reply.json()["default_detail"]


async def test_stale_timestamp_is_refused_with_a_clock_message(api: Caller) -> None:
    reply = await api("GET", "/accounts", ts=int(time.time()) - 301)
    assert reply.status_code == 401
    assert reply.json()["detail"].startswith("Invalid timestamp")
    # A client clock ahead of the server's is just as bad; within the tolerance is fine.
    assert (await api("GET", "/accounts", ts=int(time.time()) + 301)).status_code == 401
    assert (await api("GET", "/accounts", ts=int(time.time()) + 250)).status_code == 200


async def test_timestamps_follow_the_servers_wall_clock_not_scenario_time(api: Caller) -> None:
    api.sim.clock.advance(7 * DAY)  # scenario time passes for everyone, the client's clock included
    assert (await api("GET", "/accounts")).status_code == 200
    api.sim.clock_offset_s = 900  # the server's clock is 15 minutes ahead of the client's
    assert (await api("GET", "/accounts")).status_code == 401
    status = (await api.client.get("/")).json()
    assert abs(datetime.fromisoformat(status["timestamp"]).timestamp() - time.time() - 900) < 5


async def test_unknown_client_and_bad_user_secret(api: Caller) -> None:
    reply = await api("GET", "/accounts", client_id="NOBODY")
    assert reply.status_code == 401
    assert reply.json()["detail"] == "Invalid clientId provided"
    reply = await api("GET", "/accounts", secret="wrong")
    assert reply.status_code == 401
    assert reply.json() == {
        "detail": "Invalid userID or userSecret provided", "status_code": 401, "code": "1083"
    }
    reply = await api("GET", "/accounts", user_id="ghost")
    assert reply.status_code == 401
    reply = await api("GET", "/accounts", secret=None)
    assert reply.status_code == 401
    assert "userSecret" in reply.json()["detail"]


async def test_other_users_account_is_not_found(api: Caller) -> None:
    reply = await api("GET", f"/accounts/{OTHER}/orders")
    assert reply.status_code == 404
    assert reply.json() == {"default_detail": "The requested resource does not exist.", "default_code": 1011}


# ---------------------------------------------------------------------- accounts and connections
async def test_accounts_are_complete_account_objects(api: Caller) -> None:
    reply = await api("GET", "/accounts")
    accounts = reply.json()
    assert [a["id"] for a in accounts] == [A1, RO]
    required = {"id", "brokerage_authorization", "name", "number", "institution_name", "created_date",
                "sync_status", "balance", "is_paper"}
    for account in accounts:
        assert required <= account.keys()
        assert set(account["balance"]["total"]) == {"amount", "currency"}
        assert set(account["sync_status"]) == {"transactions", "holdings"}
    assert accounts[0]["balance"]["total"] == {"amount": 15363.23, "currency": "USD"}
    single = await api("GET", f"/accounts/{A1}")
    assert single.json() == accounts[0]


async def test_authorizations_say_which_connection_is_read_only(api: Caller) -> None:
    reply = await api("GET", "/authorizations")
    by_id = {a["id"]: a for a in reply.json()}
    assert by_id["87b24961-b51e-4db8-9226-f198f6518a89"]["type"] == "trade"
    assert by_id["5a9b2c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d"]["type"] == "read"
    assert by_id["5a9b2c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d"]["brokerage"]["name"] == "Interactive Brokers"


# ---------------------------------------------------------------------- orders
async def test_orders_state_and_days(api: Caller) -> None:
    async def ids(params: list[tuple[str, Any]]) -> list[str]:
        reply = await api("GET", f"/accounts/{A1}/orders", params)
        assert reply.status_code == 200
        return sorted(o["brokerage_order_id"] for o in reply.json())

    # Default: state=all, days=30 — the 45-day-old and 100-day-old orders are outside the window.
    assert await ids([]) == ["1001", "1003", "1004", "1005", "1006", "1008", "1009", "1010"]
    assert "1002" not in await ids([("state", "open"), ("days", 44)])
    assert "1002" in await ids([("state", "open"), ("days", 45)])
    open_90 = await ids([("state", "open"), ("days", 90)])
    assert open_90 == ["1001", "1002", "1004", "1005", "1006", "1008", "1009"]
    assert await ids([("state", "executed"), ("days", 90)]) == ["1003"]


@pytest.mark.parametrize("params", [[("days", 0)], [("days", 91)], [("days", "x")], [("state", "pending")]])
async def test_orders_reject_bad_parameters(api: Caller, params: list[tuple[str, Any]]) -> None:
    reply = await api("GET", f"/accounts/{A1}/orders", params)
    assert reply.status_code == 400
    assert set(reply.json()) == {"default_detail", "default_code"}


async def test_order_record_is_complete(api: Caller) -> None:
    reply = await api("GET", f"/accounts/{A1}/orders", [("state", "open"), ("days", 90)])
    record = next(o for o in reply.json() if o["brokerage_order_id"] == "1004")
    assert record["status"] == "PARTIAL"
    assert (record["total_quantity"], record["filled_quantity"], record["open_quantity"],
            record["canceled_quantity"]) == ("100", "40", "60", "0")
    assert record["limit_price"] == "150.25"
    assert record["stop_price"] is None
    symbol = record["universal_symbol"]
    expected = {"id", "symbol", "raw_symbol", "currency", "type", "currencies", "exchange", "description"}
    assert expected <= set(symbol)
    assert symbol["symbol"] == "AAPL"
    assert symbol["currency"]["code"] == "USD"
    assert symbol["exchange"]["mic_code"] == "XNAS"
    assert symbol["type"]["code"] == "cs"
    assert record["time_placed"].endswith("Z")


async def test_order_detail_only_knows_orders_placed_through_snaptrade(api: Caller) -> None:
    path = f"/accounts/{A1}/orders/details"
    reply = await api("POST", path, body={"brokerage_order_id": "1003"})
    assert reply.status_code == 200
    assert reply.json()["status"] == "EXECUTED"
    assert (await api("POST", path, body={"brokerage_order_id": "1009"})).status_code == 404
    assert (await api("POST", path, body={"brokerage_order_id": "nope"})).status_code == 404


# ---------------------------------------------------------------------- cancel
async def cancel(api: Caller, order_id: str, account: str = A1) -> httpx.Response:
    return await api("POST", f"/accounts/{account}/trading/cancel", body={"brokerage_order_id": order_id})


async def test_cancel_accept_immediate(api: Caller) -> None:
    reply = await cancel(api, "1001")
    assert reply.status_code == 200
    assert reply.json() == {"brokerage_order_id": "1001",
                            "raw_response": {"order_id": "1001", "status": "CANCELLED"}}
    record = api.sim.order("1001")
    assert record["status"] == "CANCELED"
    assert record["canceled_quantity"] == "10"
    assert record["open_quantity"] == "0"


async def test_cancel_accept_with_delay_passes_through_cancel_pending(api: Caller) -> None:
    reply = await cancel(api, "1002")
    assert reply.json()["raw_response"]["status"] == "PENDING_CANCEL"
    assert api.sim.status("1002") == "CANCEL_PENDING"
    again = await cancel(api, "1002")
    assert again.status_code == 400
    assert "pending cancel" in again.json()["default_detail"]
    api.sim.clock.advance(1.9)
    assert api.sim.status("1002") == "CANCEL_PENDING"
    api.sim.clock.advance(0.2)
    listed = await api("GET", f"/accounts/{A1}/orders", [("days", 90)])
    assert next(o for o in listed.json() if o["brokerage_order_id"] == "1002")["status"] == "CANCELED"


async def test_cancel_never_stays_pending(api: Caller) -> None:
    assert (await cancel(api, "1004")).status_code == 200
    api.sim.clock.advance(250)
    record = api.sim.order("1004")
    assert record["status"] == "CANCEL_PENDING"
    assert record["open_quantity"] == "60"


async def test_cancel_reject_fill_error_and_not_open(api: Caller) -> None:
    reply = await cancel(api, "1005")
    assert reply.status_code == 400
    assert reply.json()["default_detail"] == "Order is locked for the opening auction"
    assert api.sim.status("1005") == "ACCEPTED"

    reply = await cancel(api, "1006")
    assert reply.status_code == 400
    assert "already been filled" in reply.json()["default_detail"]
    assert api.sim.order("1006")["status"] == "EXECUTED"
    assert api.sim.order("1006")["filled_quantity"] == "10"

    reply = await cancel(api, "1008")
    assert reply.status_code == 500
    assert set(reply.json()) == {"detail", "status_code", "code"}
    assert api.sim.status("1008") == "ACCEPTED"  # effect "none": nothing happened

    for order_id in ("1003", "1010", "no-such-order"):
        reply = await cancel(api, order_id)
        assert reply.status_code == 400
        assert reply.json()["default_detail"]


async def test_cancel_on_read_only_connection_is_forbidden(api: Caller) -> None:
    reply = await cancel(api, "2001", account=RO)
    assert reply.status_code == 403
    assert "read-only" in reply.json()["default_detail"]
    assert api.sim.status("2001") == "ACCEPTED"


async def test_cancel_timeout_applies_the_effect_then_answers_late(serve: Any) -> None:
    section = scenario()
    section["orders"].append({**section["orders"][0], "brokerage_order_id": "1007",
                              "cancel": {"mode": "timeout", "delay_ms": 800}})
    sims, urls = serve({"snaptrade": section})
    sim: SnapTradeSim = sims["snaptrade"]
    async with httpx.AsyncClient(base_url=urls["snaptrade"], timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await Caller(sim, client)("POST", f"/accounts/{A1}/trading/cancel",
                                      body={"brokerage_order_id": "1007"})
    assert sim.status("1007") == "CANCELED"


async def test_legacy_api_v1_prefix_signs_its_own_path(api: Caller) -> None:
    reply = await api("GET", "/api/v1/accounts")
    assert reply.status_code == 200
    assert len(reply.json()) == 2


# ---------------------------------------------------------------------- rate limit and faults
async def test_rate_limit_headers_and_429() -> None:
    sim, client, call = await make(scenario(rate_limit={"requests": 2, "per_seconds": 60}))
    async with client:
        first = await call("GET", "/accounts")
        assert first.headers["X-RateLimit-Limit"] == "2"
        assert first.headers["X-RateLimit-Remaining"] == "1"
        assert 0 < int(first.headers["X-RateLimit-Reset"]) <= 60
        assert first.headers["x-request-id"]
        second = await call("GET", "/accounts")
        assert second.headers["X-RateLimit-Remaining"] == "0"
        third = await call("GET", "/accounts")
        assert third.status_code == 429
        body = third.json()
        assert set(body) == {"detail", "status_code", "code"}
        assert body["status_code"] == 429
        assert 1 <= int(third.headers["Retry-After"]) <= 60
        assert third.headers["X-RateLimit-Remaining"] == "0"
        sim.clock.advance(61)
        assert (await call("GET", "/accounts")).status_code == 200


async def test_no_rate_limit_headers_without_a_configured_limit(api: Caller) -> None:
    reply = await api("GET", "/accounts")
    assert "X-RateLimit-Limit" not in reply.headers


async def test_injected_faults_use_snaptrade_error_shapes(api: Caller) -> None:
    api.sim.add_fault({"action": "status", "status": 503, "path": "/orders$"})
    reply = await api("GET", f"/accounts/{A1}/orders")
    assert reply.status_code == 503
    assert set(reply.json()) == {"detail", "status_code", "code"}
    api.sim.add_fault({"action": "status", "status": 404, "path": "/orders$"})
    reply = await api("GET", f"/accounts/{A1}/orders")
    assert reply.status_code == 404
    assert set(reply.json()) == {"default_detail", "default_code"}
    assert (await api("GET", f"/accounts/{A1}/orders")).status_code == 200


# ---------------------------------------------------------------------- scenario validation
@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.update(clients=[]), "at least one client"),
        (lambda s: s["orders"][0].update(status="OPEN"), "not a SnapTrade order status"),
        (lambda s: s["orders"][0].update(account_id="nope"), "unknown account"),
        (lambda s: s["accounts"][0].update(id="acct-1"), "must be a UUID"),
        (lambda s: s["orders"][0].update(cancel={"mode": "maybe"}), "unknown cancel mode"),
        (lambda s: s["orders"][0].update(total_quantity="-1"), "total_quantity"),
        (lambda s: s["users"][0]["accounts"].append("ghost"), "unknown account"),
        (lambda s: s["accounts"][1].update(
            brokerage_authorization=s["accounts"][0]["brokerage_authorization"]), "read_only"),
        (lambda s: s["orders"].append(dict(s["orders"][0])), "duplicate order"),
        (lambda s: s.update(timestamp_tolerance_s="soon"), "timestamp_tolerance_s"),
    ],
)
def test_scenario_errors_are_readable(change: Any, words: str) -> None:
    section = scenario()
    change(section)
    with pytest.raises(ValueError, match=words):
        SnapTradeSim.from_scenario(section)


# ---------------------------------------------------------------------- demo
def test_demo_section_is_deterministic_and_realistic() -> None:
    def strip(section: dict[str, Any]) -> str:
        return json.dumps([{k: v for k, v in o.items() if k != "time_placed"} for o in section["orders"]])

    first, second = demo_section(random.Random(3)), demo_section(random.Random(3))
    assert strip(first) == strip(second)
    assert first["clients"] == second["clients"]
    assert first["accounts"] == second["accounts"]
    institutions = [a["institution_name"] for a in first["accounts"]]
    assert institutions == ["Questrade", "Alpaca", "Interactive Brokers"]
    assert [a["read_only"] for a in first["accounts"]] == [False, False, True]
    open_orders = [o for o in first["orders"] if o["status"] in OPEN_STATUSES]
    assert 90 <= len(open_orders) <= 110
    modes = [o.get("cancel", {}).get("mode") for o in first["orders"]]
    assert modes.count("fill") == 2
    assert modes.count("reject") == 1
    assert modes.count("never") == 1
    accepting = [o for o in first["orders"] if o.get("cancel", {}).get("mode") == "accept"]
    delays = [o["cancel"]["delay_ms"] for o in accepting]
    assert len(delays) >= 3
    assert all(1500 <= d <= 4000 for d in delays)
    assert any(o["status"] not in OPEN_STATUSES for o in first["orders"])


async def test_demo_loads_and_its_connection_works() -> None:
    section = demo_section(random.Random(11))
    sim = SnapTradeSim.from_scenario(section)
    [(name, options, secrets)] = demo_connections(section, "http://127.0.0.1:1")
    assert name == "snaptrade-demo"
    assert set(options) == {"client_id", "user_id"}
    assert set(secrets) == {"consumer_key", "user_secret"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://s.test") as c:
        call = Caller(sim, c)
        accounts = await call("GET", "/accounts", key=secrets["consumer_key"], client_id=options["client_id"],
                              user_id=options["user_id"], secret=secrets["user_secret"])
        assert accounts.status_code == 200
        assert len(accounts.json()) == 3
        old = 0
        for account in accounts.json():
            recent = await call("GET", f"/accounts/{account['id']}/orders", [("state", "open")],
                                key=secrets["consumer_key"], client_id=options["client_id"],
                                user_id=options["user_id"], secret=secrets["user_secret"])
            wide = await call("GET", f"/accounts/{account['id']}/orders", [("state", "open"), ("days", 90)],
                              key=secrets["consumer_key"], client_id=options["client_id"],
                              user_id=options["user_id"], secret=secrets["user_secret"])
            old += len(wide.json()) - len(recent.json())
        assert old >= 6  # orders placed 40-60 days ago only show with a wider window
