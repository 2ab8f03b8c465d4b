"""The AutoShares simulator's contract (venues.md §1, §5.1), with raw httpx over loopback."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from blotter.sim.autoshares import (
    AutoSharesSim,
    FilterError,
    demo_connections,
    demo_section,
    parse_filter,
)
from blotter.sim.runner import SimServer, SimSet

APP_KEY = "as-test-app-key-0123456789"
PASSWORD = "correct horse battery"
CODE = "482913"
NOW = datetime.now(UTC)
DENIED = {"Message": "Authorization has been denied for this request."}
APP_KEY_ERROR = {"error": "Application key is not defined or does not exist"}
SERVER_ERROR = {
    "message": "An error occurred while processing your request",
    "error": "Unexpected server error",
}


def _at(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def section(**extra: Any) -> dict[str, Any]:
    orders: list[dict[str, Any]] = []
    for i in range(7):  # account 6303: ids 1..7 open, alternating symbols
        orders.append(
            {
                "id": i + 1,
                "account_id": 6303,
                "symbol": ("AAPL", "MSFT")[i % 2],
                "side": "Buy",
                "type": "Limit",
                "quantity": 10 + i,
                "price": 100.5 + i,
                "status": "New",
                "create_date": _at(60 * (i + 1)),
            }
        )
    orders += [
        {
            "id": 20,
            "account_id": 6303,
            "symbol": "NVDA",
            "type": "Limit",
            "quantity": 5,
            "price": 120.25,
            "status": "Filled",
            "executed": 5,
            "create_date": _at(1),
        },
        {
            "id": 21,
            "account_id": 6303,
            "symbol": "NVDA",
            "type": "Stop",
            "side": "Sell",
            "quantity": 5,
            "stop_price": 110,
            "status": "Canceled",
            "create_date": _at(2),
        },
        {
            "id": 30,
            "account_id": 6304,
            "symbol": "TSLA",
            "side": "SellShort",
            "type": "StopLimit",
            "quantity": 3,
            "price": 240,
            "stop_price": 241,
            "status": "PartiallyFilled",
            "executed": 1,
        },
        {
            "id": 40,
            "account_id": 6304,
            "symbol": "JPM",
            "quantity": 2,
            "price": 200,
            "cancel": {"mode": "accept", "delay_ms": 2000},
        },
        {
            "id": 41,
            "account_id": 6304,
            "symbol": "JPM",
            "quantity": 2,
            "price": 200,
            "cancel": {"mode": "never"},
        },
        {
            "id": 42,
            "account_id": 6304,
            "symbol": "JPM",
            "quantity": 2,
            "price": 200,
            "cancel": {"mode": "reject", "message": "Order 42 cannot be cancelled: order is being routed"},
        },
        {
            "id": 43,
            "account_id": 6304,
            "symbol": "JPM",
            "quantity": 2,
            "price": 200,
            "cancel": {"mode": "reject", "status": 422, "message": "Order is locked by the exchange"},
        },
        {
            "id": 44,
            "account_id": 6304,
            "symbol": "V",
            "quantity": 2,
            "price": 280,
            "cancel": {"mode": "fill"},
        },
        {
            "id": 45,
            "account_id": 6304,
            "symbol": "V",
            "quantity": 2,
            "price": 280,
            "cancel": {"mode": "fill"},
        },
        {
            "id": 46,
            "account_id": 6304,
            "symbol": "XOM",
            "quantity": 2,
            "price": 110,
            "cancel": {"mode": "error", "effect": "cancel"},
        },
        {
            "id": 47,
            "account_id": 6304,
            "symbol": "XOM",
            "quantity": 2,
            "price": 110,
            "cancel": {"mode": "error"},
        },
        {
            "id": 48,
            "account_id": 6304,
            "symbol": "XOM",
            "quantity": 2,
            "price": 110,
            "cancel": {"mode": "timeout", "delay_ms": 1000},
        },
        {"id": 90, "account_id": 9901, "symbol": "KO", "quantity": 1, "price": 60},
    ]
    data: dict[str, Any] = {
        "app_keys": [APP_KEY],
        "token_ttl_s": 3600,
        "sync_extra_latency_ms": 0,
        "users": [
            {
                "user_id": 7125,
                "username": "trader",
                "password": PASSWORD,
                "first_name": "Ada",
                "last_name": "Lee",
                "accounts": [6303, 6304, 6305],
            },
            {
                "user_id": 7126,
                "username": "secure",
                "password": PASSWORD,
                "two_factor_code": CODE,
                "accounts": [9901],
            },
        ],
        "accounts": [
            {
                "id": 6303,
                "clearing_account": "5JD06303",
                "access_type": "Full",
                "margin_type": "Margin",
                "alias": "Main",
                "cash": 1000.5,
                "market_value": 2000,
            },
            {"id": 6304, "clearing_account": "5JD06304", "alias": "Second"},
            {"id": 6305, "clearing_account": "5JD06305", "access_type": "ReadOnly"},
            {"id": 9901, "clearing_account": "5JD09901"},
        ],
        "orders": orders,
    }
    data.update(extra)
    return data


class Client:
    """Raw httpx against the served simulator, with a login helper."""

    def __init__(self, base: str, sim: AutoSharesSim) -> None:
        self.base = base
        self.sim = sim
        self.http = httpx.Client(base_url=base, timeout=5)
        self.token = ""

    def login(self, username: str = "trader") -> str:
        r = self.http.post(
            "/token", headers={"Et-App-Key": APP_KEY, "Username": username, "Password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        self.token = r.json()["Token"]
        return self.token

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Et-App-Key": APP_KEY, "Authorization": f"Bearer {self.token}", **extra}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers())

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path, headers=self.headers())


@pytest.fixture
def client(serve: Any) -> Any:
    sims, urls = serve({"autoshares": section()})
    c = Client(urls["autoshares"], sims["autoshares"])
    c.login()
    yield c
    c.http.close()


@pytest.fixture(scope="module")
def shared() -> Any:
    """One served simulator for the read-only checks (saves a server start per parametrized case)."""
    server = SimServer(SimSet.from_scenario({"autoshares": section()}))
    urls = server.start()
    c = Client(urls["autoshares"], server.sims["autoshares"])
    c.login()
    yield c
    c.http.close()
    server.stop()


def orders_page(c: Client, account: int = 6303, path: str = "orders", **params: Any) -> httpx.Response:
    params.setdefault("pageNumber", 0)
    params.setdefault("pageSize", 100)
    return c.get(f"/v1.0/accounts/{account}/{path}", **params)


# ------------------------------------------------------------------------------ /token
def test_base_path_and_token_success(client: Client) -> None:
    assert client.base.endswith("/api")
    r = client.http.post(
        "/token", headers={"Et-App-Key": APP_KEY, "Username": "trader", "Password": PASSWORD}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["State"] == "Succeeded"
    assert len(body["Token"]) > 20
    assert set(body) == {"State", "Token"}


@pytest.mark.parametrize("app_key", [None, "wrong"])
def test_token_bad_app_key(shared: Client, app_key: str | None) -> None:
    headers = {"Username": "trader", "Password": PASSWORD}
    if app_key:
        headers["Et-App-Key"] = app_key
    r = shared.http.post("/token", headers=headers)
    assert r.status_code == 403
    assert r.json() == APP_KEY_ERROR


def test_bad_app_key_status_is_configurable(serve: Any) -> None:
    _sims, urls = serve({"autoshares": section(bad_app_key_status=401)})
    r = httpx.post(urls["autoshares"] + "/token", headers={"Et-App-Key": "nope", "Username": "trader"})
    assert (r.status_code, r.json()) == (401, APP_KEY_ERROR)


@pytest.mark.parametrize(
    ("username", "password"), [("trader", "wrong"), ("nobody", PASSWORD), ("trader", "")]
)
def test_token_invalid_credentials(shared: Client, username: str, password: str) -> None:
    r = shared.http.post(
        "/token", headers={"Et-App-Key": APP_KEY, "Username": username, "Password": password}
    )
    assert r.status_code == 401
    assert r.json() == {"State": "Failed", "Step": "BaseAuthentication", "Reason": "Invalid credentials"}


def test_two_factor_flow(client: Client) -> None:
    base = {"Et-App-Key": APP_KEY, "Username": "secure", "Password": PASSWORD}
    first = client.http.post("/token", headers=base)
    assert first.status_code == 202
    body = first.json()
    assert (body["State"], body["Step"], body["Reason"]) == (
        "Expecting",
        "VerificationCode",
        "Expecting confirmation code",
    )
    interim = body["Token"]
    # The interim token is not an API token.
    r = client.http.get(
        "/v1.0/users/@me/info", headers={"Et-App-Key": APP_KEY, "Authorization": f"Bearer {interim}"}
    )
    assert (r.status_code, r.json()) == (401, DENIED)
    # Code without the interim ticket.
    r = client.http.post("/token", headers={**base, "VerificationCode": CODE})
    assert (r.status_code, r.json()) == (
        401,
        {"State": "Failed", "Step": "VerificationCode", "Reason": "Corrupted ticket"},
    )
    # Wrong code.
    r = client.http.post(
        "/token", headers={**base, "VerificationCode": "000000", "Authorization": f"Bearer {interim}"}
    )
    assert r.status_code == 401
    assert r.json()["Reason"] == "Invalid verification code"
    # Right code: final token, usable, and the interim ticket is burnt.
    r = client.http.post(
        "/token", headers={**base, "VerificationCode": CODE, "Authorization": f"Bearer {interim}"}
    )
    assert r.status_code == 200
    assert r.json()["State"] == "Succeeded"
    token = r.json()["Token"]
    info = client.http.get(
        "/v1.0/users/@me/info", headers={"Et-App-Key": APP_KEY, "Authorization": f"Bearer {token}"}
    )
    assert info.json()["Login"] == "secure"
    again = client.http.post(
        "/token", headers={**base, "VerificationCode": CODE, "Authorization": f"Bearer {interim}"}
    )
    assert again.json()["Reason"] == "Corrupted ticket"


def test_logout_invalidates_the_token(client: Client) -> None:
    assert client.get("/v1.0/users/@me/info").status_code == 200
    r = client.http.post("/logout", headers=client.headers())
    assert r.status_code == 204
    assert (client.get("/v1.0/users/@me/info").status_code) == 401


# ------------------------------------------------------------------------------ guard
def test_guard_app_key_then_token(shared: Client) -> None:
    r = shared.http.get("/v1.0/users/@me/info", headers={"Authorization": f"Bearer {shared.token}"})
    assert (r.status_code, r.json()) == (403, APP_KEY_ERROR)
    r = shared.http.get("/v1.0/users/@me/info", headers={"Et-App-Key": APP_KEY})
    assert (r.status_code, r.json()) == (401, DENIED)
    r = shared.http.get(
        "/v1.0/users/@me/info", headers={"Et-App-Key": APP_KEY, "Authorization": "Bearer forged"}
    )
    assert (r.status_code, r.json()) == (401, DENIED)
    r = shared.http.get(
        "/v1.0/users/@me/info", headers={"Et-App-Key": APP_KEY, "Authorization": shared.token}
    )
    assert r.status_code == 401  # the "Bearer " prefix is required


def test_versions_and_unknown_routes(shared: Client) -> None:
    assert shared.get("/v1.0/users/@me/info").status_code == 200
    assert shared.get("/v1/users/@me/info").status_code == 200
    r = shared.get("/v2.0/users/@me/info")
    assert r.status_code == 404
    assert r.json()["Message"].startswith("No HTTP resource was found")
    r = shared.get("/v1.0/nothing/here")
    assert r.status_code == 404
    assert "Message" in r.json()


def test_token_expiry_is_absolute_on_the_sim_clock(client: Client) -> None:
    assert client.get("/v1.0/users/@me/info").status_code == 200
    client.sim.clock.advance(3599)
    assert client.get("/v1.0/users/@me/info").status_code == 200  # no sliding: still the first hour
    client.sim.clock.advance(2)
    r = client.get("/v1.0/users/@me/info")
    assert (r.status_code, r.json()) == (401, DENIED)


def test_expire_tokens_helper(client: Client) -> None:
    client.sim.expire_tokens()
    assert client.get("/v1.0/users/@me/accounts").status_code == 401
    client.login()
    assert client.get("/v1.0/users/@me/accounts").status_code == 200


# ------------------------------------------------------------------------------ users, accounts
def test_user_info_and_accounts(shared: Client) -> None:
    info = shared.get("/v1.0/users/@me/info").json()
    assert info["UserId"] == 7125
    assert info["Login"] == "trader"
    assert info["FirstName"] == "Ada"
    assert shared.get("/v1.0/users/7125/info").json() == info
    accounts = shared.get("/v1.0/users/@me/accounts").json()
    assert [a["Id"] for a in accounts] == [6303, 6304, 6305]
    first = accounts[0]
    assert {
        "Id",
        "ClearingAccount",
        "AccessType",
        "MarginType",
        "OwnerType",
        "Enabled",
        "Alias",
        "ClearingFirm",
        "IsAverageAccount",
        "Owners",
        "Currency",
    } <= set(first)
    assert (first["ClearingAccount"], first["AccessType"], first["Alias"]) == ("5JD06303", "Full", "Main")
    assert accounts[2]["AccessType"] == "ReadOnly"
    assert first["Owners"][0]["UserId"] == 7125


def test_user_id_errors(shared: Client) -> None:
    r = shared.get("/v1.0/users/john/accounts")
    assert r.status_code == 422
    assert r.json() == {
        "Message": "Validation error occured while processing entity",
        "ModelState": {"userId": ["The value 'john' is not valid for Int32."]},
    }
    assert shared.get("/v1.0/users/7126/accounts").status_code == 401  # another user's id


def test_account_info_and_ownership(shared: Client) -> None:
    info = shared.get("/v1.0/accounts/6303/info").json()
    assert info["Id"] == 6303
    assert info["Cash"] == 1000.5
    assert info["Equity"] == 3000.5
    assert info["PendingOrdersCount"] == 7
    r = shared.get("/v1.0/accounts/9901/info")  # another user's account
    assert (r.status_code, r.json()) == (401, DENIED)
    r = shared.get("/v1.0/accounts/7125/orders", pageNumber=0, pageSize=10)  # a user id, not an account
    assert (r.status_code, r.json()) == (500, SERVER_ERROR)
    r = shared.get("/v1.0/accounts/abc/info")
    assert r.status_code == 422
    assert r.json()["ModelState"] == {"accountId": ["The value 'abc' is not valid for Int32."]}


# ------------------------------------------------------------------------------ orders
def test_paging_result_shape_and_links(shared: Client) -> None:
    r = orders_page(shared, pageSize=3)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"Result", "NextPageLink", "PreviousPageLink", "TotalCount"}
    assert body["TotalCount"] == 9
    assert [o["Id"] for o in body["Result"]] == [1, 2, 3]
    assert body["PreviousPageLink"] == ""
    assert "pageNumber=1" in body["NextPageLink"]
    assert body["NextPageLink"].startswith("http://127.0.0.1")
    last = orders_page(shared, pageSize=3, pageNumber=2).json()
    assert [o["Id"] for o in last["Result"]] == [7, 20, 21]
    assert last["NextPageLink"] == ""
    assert "pageNumber=1" in last["PreviousPageLink"]
    beyond = orders_page(shared, pageSize=3, pageNumber=5).json()
    assert beyond["Result"] == []
    assert beyond["TotalCount"] == 9


def test_order_resource_fields(shared: Client) -> None:
    order = orders_page(shared, account=6304, filter="Id = 30").json()["Result"][0]
    for name in (
        "Id",
        "AccountId",
        "UserId",
        "SecurityId",
        "Symbol",
        "Side",
        "Type",
        "InitialType",
        "Quantity",
        "ExecutedQuantity",
        "LeavesQuantity",
        "Price",
        "StopPrice",
        "AveragePrice",
        "LastPrice",
        "LastQuantity",
        "Status",
        "ExecutionStatus",
        "RequestStatus",
        "TimeInForce",
        "CreateDate",
        "Date",
        "TransactionDate",
        "ExpireDate",
        "ClientId",
        "CounterPartyOrderId",
        "ExecId",
        "Description",
        "Legs",
        "ParentId",
        "Currency",
        "SecurityType",
        "ExecInst",
        "Exchange",
        "ExecutionVenue",
        "Target",
        "TransType",
        "ClearingAccount",
        "UserName",
        "AccountName",
    ):
        assert name in order, name
    assert (order["Status"], order["Side"], order["Type"]) == ("PartiallyFilled", "SellShort", "StopLimit")
    assert (order["Quantity"], order["ExecutedQuantity"], order["LeavesQuantity"]) == (3, 1, 2)
    assert (order["Price"], order["StopPrice"], order["ParentId"], order["Legs"]) == (240, 241, -1, [])
    assert order["CreateDate"].endswith("Z")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageNumber": 0}, "pageSize"),
        ({"pageSize": 10}, "pageNumber"),
        ({"pageNumber": 0, "pageSize": 101}, "pageSize"),
        ({"pageNumber": 0, "pageSize": 0}, "pageSize"),
        ({"pageNumber": -1, "pageSize": 10}, "pageNumber"),
        ({"pageNumber": "x", "pageSize": 10}, "pageNumber"),
        ({"pageNumber": 0, "pageSize": 10, "desc": "maybe"}, "desc"),
    ],
)
def test_paging_validation(shared: Client, params: dict[str, Any], field: str) -> None:
    r = shared.get("/v1.0/accounts/6303/orders", **params)
    assert r.status_code == 422
    body = r.json()
    assert body["Message"] == "Validation error occured while processing entity"
    assert field in body["ModelState"]
    assert isinstance(body["ModelState"][field][0], str)


@pytest.mark.parametrize(
    ("expression", "ids"),
    [
        ("Status in (0,1,6,7,9,10,13,14)", [1, 2, 3, 4, 5, 6, 7]),
        ("Status in (2)", [20]),
        ("status IN (2, 4)", [20, 21]),
        ("Symbol = 'MSFT'", [2, 4, 6]),
        ("Symbol = 'NVDA' and Status in (4)", [21]),
        ("SecurityId = {nvda}", [20, 21]),
        ("CreateDate >= #{two_hours_ago}#", [1, 2, 20, 21]),
        ("CreateDate < #{two_hours_ago}#", [3, 4, 5, 6, 7]),
        ("CreateDate between #{five_hours_ago}# and #{two_hours_ago}# and Symbol = 'AAPL'", [3, 5]),
        ("Id != 1 and Id <= 3", [2, 3]),
        ("", [1, 2, 3, 4, 5, 6, 7, 20, 21]),
    ],
)
def test_filter(shared: Client, expression: str, ids: list[int]) -> None:
    nvda = shared.sim.order(20)["SecurityId"]
    fmt = "%Y-%m-%dT%H:%M:%S"
    text = expression.format(
        nvda=nvda,
        two_hours_ago=(NOW - timedelta(minutes=150)).strftime(fmt),
        five_hours_ago=(NOW - timedelta(minutes=330)).strftime(fmt),
    )
    r = orders_page(shared, filter=text)
    assert r.status_code == 200, r.text
    assert sorted(o["Id"] for o in r.json()["Result"]) == ids
    assert r.json()["TotalCount"] == len(ids)


@pytest.mark.parametrize(
    "expression",
    [
        "Status in (0,",
        "Status = 'New'",
        "Colour = 3",
        "Symbol > 'A'",
        "Status in 0",
        "CreateDate >= #yesterday#",
        "Symbol = AAPL",
        "Id = 1 or Id = 2",
        "Id = 1 and",
        "Status in (0) Status in (1)",
        "Id = 1.5",
        "Id == 1",
    ],
)
def test_invalid_filter_is_400(shared: Client, expression: str) -> None:
    r = orders_page(shared, filter=expression)
    assert r.status_code == 400, expression
    assert r.json()["Message"].startswith("The filter is invalid")


def test_filter_parser_unit() -> None:
    assert parse_filter("") == []
    assert len(parse_filter("Status in (0,1) and Symbol = 'O''Neil'")) == 2
    with pytest.raises(FilterError):
        parse_filter("Symbol = 'AAPL' and")


def test_sort_and_desc(shared: Client) -> None:
    by_qty = orders_page(shared, sortField="Quantity", desc="true", filter="Status in (0)").json()["Result"]
    assert [o["Quantity"] for o in by_qty] == sorted((o["Quantity"] for o in by_qty), reverse=True)
    by_date = orders_page(shared, sortField="CreateDate", filter="Status in (0)").json()["Result"]
    assert [o["Id"] for o in by_date] == [7, 6, 5, 4, 3, 2, 1]
    r = orders_page(shared, sortField="Colour")
    assert r.status_code == 400
    assert "Colour" in r.json()["Message"]


def test_syncorders_listing_is_slower(serve: Any) -> None:
    sims, urls = serve({"autoshares": section(sync_extra_latency_ms=250)})
    c = Client(urls["autoshares"], sims["autoshares"])
    c.login()
    started = time.perf_counter()
    quick = orders_page(c)
    middle = time.perf_counter()
    sync = orders_page(c, path="syncorders")
    done = time.perf_counter()
    assert quick.json() == sync.json()
    assert done - middle >= 0.25 > middle - started
    c.http.close()


def test_get_one_order(shared: Client) -> None:
    r = shared.get("/v1.0/accounts/6303/orders/3")
    assert r.status_code == 200
    assert r.json()["Id"] == 3
    assert r.json()["Status"] == "New"
    assert shared.get("/v1.0/accounts/6303/syncorders/3").json()["Id"] == 3
    r = shared.get("/v1.0/accounts/6303/orders/999")
    assert (r.status_code, r.json()) == (404, {"Message": "Order 999 was not found."})
    assert shared.get("/v1.0/accounts/6303/orders/30").status_code == 404  # order of another account
    assert shared.get("/v1.0/accounts/9901/orders/90").status_code == 401  # another user's account


# ------------------------------------------------------------------------------ cancel
def test_cancel_accept_immediately(client: Client) -> None:
    r = client.delete("/v1.0/accounts/6303/orders/1")
    assert r.status_code == 204
    assert r.content == b""
    assert client.sim.order_status(1) == "Canceled"
    order = client.get("/v1.0/accounts/6303/orders/1").json()
    assert order["LeavesQuantity"] == 0


def test_cancel_accept_with_delay_passes_pending_cancel(client: Client) -> None:
    assert client.delete("/v1.0/accounts/6304/orders/40").status_code == 204
    assert client.get("/v1.0/accounts/6304/orders/40").json()["Status"] == "PendingCancel"
    r = client.delete("/v1.0/accounts/6304/orders/40")
    assert r.status_code == 409
    assert "already pending" in r.json()["Message"]
    client.sim.clock.advance(2.5)
    assert client.get("/v1.0/accounts/6304/orders/40").json()["Status"] == "Canceled"


def test_cancel_never(client: Client) -> None:
    assert client.delete("/v1.0/accounts/6304/syncorders/41").status_code == 204
    client.sim.clock.advance(3600)
    assert client.sim.order_status(41) == "PendingCancel"


def test_cancel_reject_409_and_422(client: Client) -> None:
    r = client.delete("/v1.0/accounts/6304/orders/42")
    assert (r.status_code, r.json()) == (
        409,
        {"Message": "Order 42 cannot be cancelled: order is being routed"},
    )
    r = client.delete("/v1.0/accounts/6304/orders/43")
    assert r.status_code == 422
    assert r.json() == {
        "Message": "Validation error occured while processing entity",
        "ModelState": {"orderId": ["Order is locked by the exchange"]},
    }
    assert client.sim.order_status(42) == client.sim.order_status(43) == "New"


def test_cancel_fill_quick_and_sync(client: Client) -> None:
    r = client.delete("/v1.0/accounts/6304/orders/44")
    assert r.status_code == 204
    assert client.get("/v1.0/accounts/6304/orders/44").json()["Status"] == "Filled"
    r = client.delete("/v1.0/accounts/6304/syncorders/45")
    assert (r.status_code, r.json()) == (409, {"Message": "Order 45 cannot be cancelled: order is Filled"})
    filled = client.get("/v1.0/accounts/6304/orders/45").json()
    assert filled["Status"] == "Filled"
    assert filled["ExecutedQuantity"] == filled["Quantity"] == 2


def test_cancel_error_with_and_without_effect(client: Client) -> None:
    r = client.delete("/v1.0/accounts/6304/orders/46")
    assert (r.status_code, r.json()) == (500, SERVER_ERROR)
    assert client.sim.order_status(46) == "Canceled"
    r = client.delete("/v1.0/accounts/6304/orders/47")
    assert (r.status_code, r.json()) == (500, SERVER_ERROR)
    assert client.sim.order_status(47) == "New"


def test_cancel_timeout_applies_then_answers_late(client: Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        client.http.delete("/v1.0/accounts/6304/orders/48", headers=client.headers(), timeout=0.3)
    assert client.sim.order_status(48) == "Canceled"


def test_cancel_terminal_is_409(client: Client) -> None:
    r = client.delete("/v1.0/accounts/6303/orders/20")
    assert (r.status_code, r.json()) == (409, {"Message": "Order 20 cannot be cancelled: order is Filled"})
    r = client.delete("/v1.0/accounts/6303/orders/21")
    assert r.json() == {"Message": "Order 21 cannot be cancelled: order is Canceled"}


def test_cancel_unknown_order_404_by_default(client: Client) -> None:
    r = client.delete("/v1.0/accounts/6303/orders/5555")
    assert (r.status_code, r.json()) == (404, {"Message": "Order 5555 was not found."})


def test_cancel_unknown_order_422_when_configured(serve: Any) -> None:
    sims, urls = serve({"autoshares": section(unknown_order_status=422)})
    c = Client(urls["autoshares"], sims["autoshares"])
    c.login()
    r = c.delete("/v1.0/accounts/6303/orders/5555")
    assert r.status_code == 422
    assert r.json()["ModelState"] == {"orderId": ["Order 5555 was not found."]}
    c.http.close()


def test_cancel_auth_rules(client: Client) -> None:
    assert client.delete("/v1.0/accounts/9901/orders/90").status_code == 401  # another user's order
    assert client.delete("/v1.0/accounts/6305/orders/1").status_code == 401  # read-only access
    r = client.http.delete(
        "/v1.0/accounts/6303/orders/1", headers={"Authorization": f"Bearer {client.token}"}
    )
    assert (r.status_code, r.json()) == (403, APP_KEY_ERROR)
    assert client.sim.order_status(90) == client.sim.order_status(1) == "New"


# ------------------------------------------------------------------------------ common machinery
def test_rate_limit_429_shape(serve: Any) -> None:
    sims, urls = serve({"autoshares": section(rate_limit={"requests": 3, "per_seconds": 60})})
    c = Client(urls["autoshares"], sims["autoshares"])
    c.login()
    assert c.get("/v1.0/users/@me/info").status_code == 200
    assert c.get("/v1.0/users/@me/info").status_code == 200
    r = c.get("/v1.0/users/@me/info")
    assert r.status_code == 429
    assert r.json() == {"Message": "API calls quota exceeded! maximum admitted 3 per 60s."}
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["X-RateLimit-Limit"] == "3"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["X-RateLimit-Reset"]) > time.time() - 5
    c.sim.clock.advance(61)
    assert c.get("/v1.0/users/@me/info").status_code == 200
    c.http.close()


def test_faults_and_request_log(client: Client) -> None:
    admin = client.base.removesuffix("/api")
    r = httpx.post(admin + "/_sim/faults", json={"action": "status", "status": 500, "path": "/orders/2$"})
    assert r.status_code == 200
    r = client.delete("/v1.0/accounts/6303/orders/2")
    assert (r.status_code, r.json()) == (500, SERVER_ERROR)  # the venue's own 500 shape
    assert client.sim.order_status(2) == "New"
    log = httpx.get(admin + "/_sim/requests").json()
    deletes = [e for e in log if e["method"] == "DELETE"]
    assert [(e["path"], e["status"]) for e in deletes] == [("/api/v1.0/accounts/6303/orders/2", 500)]
    assert client.sim.requests_matching("POST", "/token$")[0].headers["username"] == "trader"


def test_demo_section_is_realistic_and_deterministic() -> None:
    one, two = demo_section(random.Random(3)), demo_section(random.Random(3))
    assert [o["id"] for o in one["orders"]] == [o["id"] for o in two["orders"]]
    sim = AutoSharesSim.from_scenario(one)
    open_counts = {a: len(sim.open_order_ids(a)) for a in sim.accounts}
    assert max(open_counts.values()) > 100
    assert 120 <= sum(open_counts.values()) <= 140
    statuses = {o["status"] for o in one["orders"]}
    assert {"Filled", "Canceled"} <= statuses
    modes = [o["cancel"]["mode"] for o in one["orders"] if "cancel" in o]
    assert modes.count("fill") == 2
    assert modes.count("never") == 1
    assert "reject" in modes
    delays = [o["cancel"]["delay_ms"] for o in one["orders"] if o.get("cancel", {}).get("mode") == "accept"]
    assert len(delays) >= 3
    assert all(1500 <= d <= 4000 for d in delays)
    assert {o["symbol"] for o in one["orders"]} >= {"AAPL", "MSFT", "NVDA"}
    assert [a["access_type"] for a in one["accounts"]].count("ReadOnly") == 1
    user = one["users"][0]
    assert user["username"] == "demo.trader"
    assert not user.get("two_factor_code")
    ((name, options, secrets),) = demo_connections(one, "http://127.0.0.1:1/api")
    assert name == "autoshares-demo"
    assert options == {"username": "demo.trader", "cancel_mode": "quick"}
    assert secrets == {"app_key": one["app_keys"][0], "password": user["password"]}


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda s: s.pop("app_keys"), "app_keys"),
        (lambda s: s.update(colour=1), "unknown keys"),
        (lambda s: s.update(bad_app_key_status=500), "bad_app_key_status"),
        (lambda s: s["orders"][0].update(status="Working"), "orders[0].status"),
        (lambda s: s["orders"][0].update(side="Long"), "orders[0].side"),
        (lambda s: s["orders"][0].update(account_id=1), "unknown account"),
        (lambda s: s["orders"][0].update(executed=99), "executed"),
        (lambda s: s["orders"][0].update(cancel={"mode": "maybe"}), "cancel mode"),
        (lambda s: s["orders"][1].update(id=1), "unique"),
        (lambda s: s["users"][0].update(accounts=[1]), "unknown account"),
        (lambda s: s["orders"][0].update(create_date="yesterday"), "ISO-8601"),
    ],
)
def test_scenario_errors_are_clear(mutate: Any, words: str) -> None:
    data = section()
    mutate(data)
    with pytest.raises(ValueError, match=re.escape(words)):
        AutoSharesSim.from_scenario(data)
