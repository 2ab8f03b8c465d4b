"""The AutoShares adapter against the simulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from blotter.core import (
    Action,
    AuthError,
    CancelAck,
    ConfigError,
    ConflictError,
    ConnectionSpec,
    NotFoundError,
    OrderKey,
    OrderStatus,
    OrderType,
    OutcomeUnknown,
    Side,
    TwoFactorRequired,
    Venue,
    VenueProtocolError,
    VenueRefused,
    VenueResponse,
    unreadable_in,
)
from blotter.sim.autoshares import AutoSharesSim, demo_connections, demo_section
from blotter.venues.autoshares import OPEN_STATUS_FILTER, STATUS_MAP, AutoSharesAdapter
from blotter.venues.registry import create_adapter

APP_KEY = "as-test-app-key-5f2c9d41e7"
PASSWORD = "pa55-w0rd-for-trader"
CODE = "482913"
BIG = 6303  # 105 open orders: two pages of 100
SMALL = 6304  # special cancel behaviours
READ_ONLY = 6305
FOREIGN = 9901  # belongs to the 2FA user
NOW = datetime.now(UTC)

Serve = Callable[[dict[str, Any]], tuple[Any, dict[str, str]]]


def _order(order_id: int, account: int, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": order_id,
        "account_id": account,
        "symbol": ("AAPL", "MSFT", "NVDA")[order_id % 3],
        "side": "Buy",
        "type": "Limit",
        "quantity": 100,
        "price": 187.45,
        "status": "New",
        "create_date": (NOW - timedelta(minutes=order_id)).isoformat().replace("+00:00", "Z"),
    }
    data.update(extra)
    return data


def scenario(**extra: Any) -> dict[str, Any]:
    orders = [_order(1000 + i, BIG) for i in range(100)]
    orders += [
        _order(1100 + i, BIG, status=s)
        for i, s in enumerate(
            ("PartiallyFilled", "PendingNew", "AcceptedForBidding", "PendingReplace", "PendingCancel")
        )
    ]
    orders[5].update(executed=40)
    orders += [
        _order(1200 + i, BIG, status=s, executed=100 if s == "Filled" else 0)
        for i, s in enumerate(
            ("Filled", "Canceled", "Rejected", "Expired", "DoneForDay", "Replaced", "Filled", "Canceled")
        )
    ]
    orders += [
        _order(
            2001,
            SMALL,
            symbol="TSLA",
            side="SellShort",
            type="StopLimit",
            quantity=7,
            price=240.1,
            stop_price=241.35,
            time_in_force="GoodTillCancel",
        ),
        _order(
            2002,
            SMALL,
            cancel={
                "mode": "reject",
                "status": 409,
                "message": "Order 2002 cannot be cancelled: order is being routed",
            },
        ),
        _order(
            2003,
            SMALL,
            cancel={"mode": "reject", "status": 422, "message": "Order is locked by the exchange"},
        ),
        _order(2004, SMALL, cancel={"mode": "error"}),
        _order(2005, SMALL, cancel={"mode": "fill"}),
        _order(2006, SMALL, cancel={"mode": "fill"}),
        _order(2007, SMALL, cancel={"mode": "timeout", "delay_ms": 1000}),
        _order(2008, SMALL, cancel={"mode": "accept", "delay_ms": 2000}),
        _order(2009, SMALL, status="Filled", executed=100),
        _order(2010, SMALL),
        _order(2011, SMALL),
        _order(3001, READ_ONLY),
        _order(9001, FOREIGN),
    ]
    data: dict[str, Any] = {
        "app_keys": [APP_KEY],
        "token_ttl_s": 3600,
        "sync_extra_latency_ms": 20,
        "users": [
            {
                "user_id": 7125,
                "username": "trader",
                "password": PASSWORD,
                "first_name": "Ada",
                "last_name": "Lee",
                "accounts": [BIG, SMALL, READ_ONLY],
            },
            {
                "user_id": 7126,
                "username": "secure",
                "password": PASSWORD,
                "two_factor_code": CODE,
                "accounts": [FOREIGN],
            },
        ],
        "accounts": [
            {
                "id": BIG,
                "clearing_account": "5JD06303",
                "alias": "Active trading",
                "margin_type": "Margin",
                "cash": 1000.25,
            },
            {"id": SMALL, "clearing_account": "5JD06304"},
            {
                "id": READ_ONLY,
                "clearing_account": "5JD06305",
                "access_type": "ReadOnly",
                "alias": "View only",
            },
            {"id": FOREIGN, "clearing_account": "5JD09901"},
        ],
        "orders": orders,
    }
    data.update(extra)
    return data


class Session:
    """A served simulator plus adapters made against it; collects every VenueResponse."""

    def __init__(self, sim: AutoSharesSim, url: str) -> None:
        self.sim = sim
        self.url = url
        self.responses: list[VenueResponse] = []
        self.adapters: list[AutoSharesAdapter] = []
        self.prompts: list[str] = []

    def adapter(
        self,
        username: str = "trader",
        *,
        app_key: str = APP_KEY,
        password: str = PASSWORD,
        code: str | None = None,
        timeout_s: float = 5.0,
        **options: str,
    ) -> AutoSharesAdapter:
        prompt: Callable[[str], Awaitable[str]] | None = None
        if code is not None:

            async def prompt(words: str) -> str:
                self.prompts.append(words)
                return code

        spec = ConnectionSpec(
            name="as-test",
            venue=Venue.AUTOSHARES,
            base_url=self.url,
            options={"username": username, **options},
            timeout_s=timeout_s,
        )
        adapter = AutoSharesAdapter(spec, {"app_key": app_key, "password": password}, code_prompt=prompt)
        adapter.add_listener(self.responses.append)
        self.adapters.append(adapter)
        return adapter

    def count(self, method: str, path: str) -> int:
        return len(self.sim.requests_matching(method, path))


@pytest.fixture
async def session(serve: Serve) -> AsyncIterator[Session]:
    sims, urls = serve({"autoshares": scenario()})
    s = Session(sims["autoshares"], urls["autoshares"])
    yield s
    for adapter in s.adapters:
        await adapter.aclose()


# ------------------------------------------------------------------------------ construction
def test_options_are_validated() -> None:
    def make(**options: str) -> AutoSharesAdapter:
        spec = ConnectionSpec(
            name="x", venue=Venue.AUTOSHARES, base_url="https://as.example/api", options=options
        )
        return AutoSharesAdapter(spec, {"app_key": "k", "password": "p"})

    with pytest.raises(ConfigError, match="cancel_mode"):
        make(username="u", cancel_mode="fast")
    with pytest.raises(ConfigError, match="username"):
        make(cancel_mode="quick")
    with pytest.raises(ConfigError, match="api_version"):
        make(username="u", api_version="one")
    assert isinstance(make(username="u", cancel_mode="SYNC", api_version="v1"), AutoSharesAdapter)
    spec = ConnectionSpec(
        name="x", venue=Venue.AUTOSHARES, base_url="https://as.example/api", options={"username": "u"}
    )
    assert isinstance(create_adapter(spec, {"app_key": "k", "password": "p"}), AutoSharesAdapter)


def test_status_mapping_covers_every_documented_status() -> None:
    from blotter.sim.autoshares import STATUS_CODES

    assert set(STATUS_MAP) == set(STATUS_CODES) - {"Calculated"}
    assert STATUS_MAP["DoneForDay"] is OrderStatus.EXPIRED
    assert STATUS_MAP["Replaced"] is OrderStatus.CANCELLED
    assert STATUS_MAP["Held"] is OrderStatus.OPEN


# ------------------------------------------------------------------------------ login
async def test_login_sends_headers_only(session: Session) -> None:
    adapter = session.adapter()
    await adapter.login()
    (token_request,) = session.sim.requests_matching("POST", "/token$")
    assert token_request.headers["et-app-key"] == APP_KEY
    assert token_request.headers["username"] == "trader"
    assert token_request.headers["password"] == PASSWORD
    assert token_request.headers["content-length"] == "0"
    assert token_request.body == ""
    assert session.responses[-1].action is Action.LOGIN
    assert session.responses[-1].message == "Succeeded"


async def test_login_with_two_factor_code(session: Session) -> None:
    adapter = session.adapter("secure", code=CODE)
    await adapter.login()
    assert session.prompts == ["Expecting confirmation code"]
    first, second = session.sim.requests_matching("POST", "/token$")
    assert "verificationcode" not in first.headers
    assert second.headers["verificationcode"] == CODE
    assert second.headers["authorization"].startswith("Bearer ")
    assert [r.http_status for r in session.responses] == [202, 200]
    accounts = await adapter.list_accounts()
    assert [a.account_id for a in accounts] == [str(FOREIGN)]


async def test_wrong_two_factor_code(session: Session) -> None:
    adapter = session.adapter("secure", code="000000")
    with pytest.raises(AuthError) as err:
        await adapter.login()
    assert str(err.value) == "Invalid verification code"
    assert err.value.http_status == 401


async def test_two_factor_without_prompt(session: Session) -> None:
    adapter = session.adapter("secure")
    with pytest.raises(TwoFactorRequired) as err:
        await adapter.list_accounts()
    assert err.value.step == "VerificationCode"
    assert "Expecting confirmation code" in str(err.value)
    assert session.count("GET", "/accounts$") == 0


async def test_wrong_password(session: Session) -> None:
    with pytest.raises(AuthError) as err:
        await session.adapter(password="nope-nope").login()
    assert (str(err.value), err.value.http_status) == ("Invalid credentials", 401)


@pytest.mark.parametrize("status", [403, 401])
async def test_bad_app_key_words(serve: Serve, status: int) -> None:
    sims, urls = serve({"autoshares": scenario(bad_app_key_status=status)})
    s = Session(sims["autoshares"], urls["autoshares"])
    adapter = s.adapter(app_key="not-our-app-key")
    with pytest.raises(AuthError) as err:
        await adapter.list_accounts()
    assert str(err.value) == "Application key is not defined or does not exist"
    assert err.value.http_status == status
    await adapter.aclose()


# ------------------------------------------------------------------------------ reading
async def test_accounts(session: Session) -> None:
    adapter = session.adapter()
    accounts = await adapter.list_accounts()
    assert [a.account_id for a in accounts] == [str(BIG), str(SMALL), str(READ_ONLY)]
    big, small, read_only = accounts
    assert (big.name, big.number, big.read_only, big.currency) == ("Active trading", "5JD06303", False, "USD")
    assert (small.name, small.number) == ("5JD06304", "5JD06304")  # no alias: the account number
    assert read_only.read_only
    assert read_only.name == "View only"
    assert big.connection == "as-test"
    assert big.venue is Venue.AUTOSHARES
    assert big.raw["AccessType"] == "Full"
    assert session.sim.requests_matching("GET", "/accounts$")[0].path == "/api/v1.0/users/@me/accounts"


async def test_account_details(session: Session) -> None:
    details = await session.adapter().account_details(str(BIG))
    assert details["Id"] == BIG
    assert details["Cash"] == 1000.25


async def test_open_orders_across_pages(session: Session) -> None:
    adapter = session.adapter()
    orders = await adapter.list_open_orders(str(BIG))
    expected = session.sim.open_order_ids(BIG)
    assert len(expected) == 105
    assert sorted(int(o.order_id) for o in orders) == expected
    assert all(o.status.is_open for o in orders)
    pages = session.sim.requests_matching("GET", f"/accounts/{BIG}/orders$")
    assert len(pages) == 2
    first = httpx.QueryParams(pages[0].query)
    assert first["filter"] == OPEN_STATUS_FILTER  # known final codes excluded: no positive list to miss one
    assert (first["pageNumber"], first["pageSize"], first["sortField"]) == ("0", "100", "Id")
    assert httpx.QueryParams(pages[1].query)["pageNumber"] == "1"
    by_status = {o.venue_status: o.status for o in orders}
    assert by_status == {
        "New": OrderStatus.OPEN,
        "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
        "PendingNew": OrderStatus.OPEN,
        "AcceptedForBidding": OrderStatus.OPEN,
        "PendingReplace": OrderStatus.OPEN,
        "PendingCancel": OrderStatus.PENDING_CANCEL,
    }
    message = next(r.message for r in session.responses if r.action is Action.LIST_ORDERS)
    assert message == "100 of 105 orders"


async def test_order_mapping(session: Session) -> None:
    adapter = session.adapter()
    (order,) = [o for o in await adapter.list_open_orders(str(SMALL)) if o.order_id == "2001"]
    assert order.key == OrderKey("as-test", str(SMALL), "2001")
    assert (order.symbol, order.side, order.order_type) == ("TSLA", Side.SELL_SHORT, OrderType.STOP_LIMIT)
    assert (order.venue_side, order.venue_type, order.time_in_force) == (
        "SellShort",
        "StopLimit",
        "GoodTillCancel",
    )
    assert (order.quantity, order.filled, order.remaining) == (Decimal(7), Decimal(0), Decimal(7))
    assert (order.limit_price, order.stop_price) == (Decimal("240.1"), Decimal("241.35"))
    assert order.created_at is not None
    assert abs(order.created_at - (NOW - timedelta(minutes=2001))) < timedelta(seconds=1)
    assert not order.raw  # a listing keeps no venue JSON per order; a single-order read does (below)
    partial = await adapter.get_order(str(BIG), "1005")
    assert (partial.filled, partial.remaining) == (Decimal(40), Decimal(60))
    assert partial.raw["Id"] == 1005


async def test_client_side_status_check_and_endless_paging_guard(session: Session) -> None:
    terminal = session.sim.order(1200)  # Filled, sneaked into a filtered page by a misbehaving venue
    page = {
        "Result": [session.sim.order(1000), terminal],
        "TotalCount": 2,
        "NextPageLink": "",
        "PreviousPageLink": "",
    }
    session.sim.add_fault({"action": "status", "status": 200, "body": page, "path": "/orders$"})
    adapter = session.adapter()
    assert [o.order_id for o in await adapter.list_open_orders(str(BIG))] == ["1000"]
    endless = {"Result": [], "TotalCount": 10_000, "NextPageLink": "x", "PreviousPageLink": ""}
    session.sim.add_fault(
        {"action": "status", "status": 200, "body": endless, "path": "/orders$", "times": 0}
    )
    assert await adapter.list_open_orders(str(BIG)) == []
    assert session.count("GET", "/orders$") == 2


async def test_get_order_and_not_found(session: Session) -> None:
    adapter = session.adapter()
    filled = await adapter.get_order(str(BIG), "1200")
    assert (filled.status, filled.venue_status) == (OrderStatus.FILLED, "Filled")
    with pytest.raises(NotFoundError) as err:
        await adapter.get_order(str(BIG), "424242")
    assert str(err.value) == "Order 424242 was not found."
    with pytest.raises(NotFoundError):
        await adapter.get_order(str(BIG), "12/../1")  # refused before sending
    assert session.count("GET", r"/orders/\d+$") == 2


# ------------------------------------------------------------------------------ cancel
@pytest.mark.parametrize(("mode", "route"), [("quick", "orders"), ("sync", "syncorders")])
async def test_cancel_success(session: Session, mode: str, route: str) -> None:
    adapter = session.adapter(cancel_mode=mode)
    receipt = await adapter.cancel(OrderKey("as-test", str(SMALL), "2010"))
    # the quick route's 204 is the API's acceptance only; the sync route's is the execution venue's word
    assert receipt.ack is (CancelAck.DONE if mode == "sync" else CancelAck.QUEUED)
    assert (receipt.response.http_status, receipt.response.message) == (204, "HTTP 204 No Content")
    assert receipt.response.order_key == OrderKey("as-test", str(SMALL), "2010")
    (delete,) = session.sim.requests_matching("DELETE")
    assert delete.path == f"/api/v1.0/accounts/{SMALL}/{route}/2010"
    assert delete.headers["authorization"].startswith("Bearer ")
    assert delete.headers["et-app-key"] == APP_KEY
    assert (await adapter.get_order(str(SMALL), "2010")).status is OrderStatus.CANCELLED


async def test_cancel_with_pending_cancel(session: Session) -> None:
    adapter = session.adapter()
    receipt = await adapter.cancel(OrderKey("as-test", str(SMALL), "2008"))
    assert receipt.ack is CancelAck.QUEUED  # the API said 204 (quick): accepted; re-reading tells the truth
    assert (await adapter.get_order(str(SMALL), "2008")).status is OrderStatus.PENDING_CANCEL
    session.sim.clock.advance(2.5)
    assert (await adapter.get_order(str(SMALL), "2008")).status is OrderStatus.CANCELLED


async def test_token_expiry_mid_session_relogs_once(session: Session) -> None:
    adapter = session.adapter()
    await adapter.list_accounts()
    session.sim.expire_tokens()
    receipt = await adapter.cancel(OrderKey("as-test", str(SMALL), "2010"))
    assert receipt.ack is CancelAck.QUEUED  # quick route: accepted by the API
    assert session.count("POST", "/token$") == 2
    assert [r.status for r in session.sim.requests_matching("DELETE")] == [401, 204]
    assert session.sim.order_status(2010) == "Canceled"


async def test_token_ttl_on_the_sim_clock(session: Session) -> None:
    adapter = session.adapter()
    await adapter.list_accounts()
    session.sim.clock.advance(3601)
    assert len(await adapter.list_accounts()) == 3
    assert session.count("POST", "/token$") == 2


async def test_concurrent_expiry_triggers_one_login(session: Session) -> None:
    adapter = session.adapter()
    await adapter.login()
    session.sim.expire_tokens()
    orders = await asyncio.gather(*(adapter.get_order(str(BIG), str(1000 + i)) for i in range(8)))
    assert [o.order_id for o in orders] == [str(1000 + i) for i in range(8)]
    assert session.count("POST", "/token$") == 2


async def test_two_factor_relogin_asks_for_the_code_again(session: Session) -> None:
    adapter = session.adapter("secure", code=CODE)
    await adapter.list_accounts()
    session.sim.expire_tokens()
    await adapter.list_accounts()
    assert session.prompts == ["Expecting confirmation code"] * 2
    assert session.count("POST", "/token$") == 4


async def test_foreign_account_is_auth_error_after_one_relogin(session: Session) -> None:
    adapter = session.adapter()
    with pytest.raises(AuthError) as err:
        await adapter.cancel(OrderKey("as-test", str(FOREIGN), "9001"))
    assert str(err.value) == "Authorization has been denied for this request."
    assert session.count("DELETE", ".") == 2
    assert session.count("POST", "/token$") == 2
    assert session.sim.order_status(9001) == "New"


async def test_forbidden_app_key_on_cancel(session: Session) -> None:
    adapter = session.adapter()
    await adapter.login()
    session.sim.add_fault({"action": "status", "status": 403, "method": "DELETE"})
    with pytest.raises(AuthError) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2010"))
    assert str(err.value) == "Application key is not defined or does not exist"
    assert session.count("POST", "/token$") == 1  # 403 is not an expired token


async def test_conflict_409(session: Session) -> None:
    adapter = session.adapter()
    with pytest.raises(ConflictError) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2009"))
    assert str(err.value) == "Order 2009 cannot be cancelled: order is Filled"
    with pytest.raises(ConflictError) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2002"))
    assert str(err.value) == "Order 2002 cannot be cancelled: order is being routed"
    session.sim.add_fault({"action": "status", "status": 409, "body": "", "method": "DELETE"})
    with pytest.raises(ConflictError) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2011"))
    assert str(err.value) == "HTTP 409 Conflict"
    assert err.value.response is not None
    assert err.value.response.order_id == "2011"


async def test_validation_422_keeps_model_state_words(session: Session) -> None:
    adapter = session.adapter()
    with pytest.raises(VenueRefused) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2003"))
    assert type(err.value) is VenueRefused
    assert str(err.value) == "orderId: Order is locked by the exchange"
    assert err.value.http_status == 422
    assert session.sim.order_status(2003) == "New"


async def test_server_error_500_is_unknown_and_not_retried(session: Session) -> None:
    adapter = session.adapter()
    with pytest.raises(OutcomeUnknown) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2004"))
    assert str(err.value) == "An error occurred while processing your request (Unexpected server error)"
    assert session.count("DELETE", ".") == 1


async def test_unknown_order_cancel(session: Session) -> None:
    with pytest.raises(NotFoundError) as err:
        await session.adapter().cancel(OrderKey("as-test", str(SMALL), "777777"))
    assert str(err.value) == "Order 777777 was not found."


async def test_fill_during_quick_cancel(session: Session) -> None:
    adapter = session.adapter(cancel_mode="quick")
    receipt = await adapter.cancel(OrderKey("as-test", str(SMALL), "2005"))
    assert receipt.ack is CancelAck.QUEUED  # the API accepted it; the venue filled it meanwhile
    order = await adapter.get_order(str(SMALL), "2005")
    assert order.status is OrderStatus.FILLED
    assert order.filled == order.quantity


async def test_fill_during_sync_cancel(session: Session) -> None:
    adapter = session.adapter(cancel_mode="sync")
    with pytest.raises(ConflictError) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2006"))
    assert str(err.value) == "Order 2006 cannot be cancelled: order is Filled"
    assert (await adapter.get_order(str(SMALL), "2006")).status is OrderStatus.FILLED


async def test_timeout_is_unknown_then_reconciles_cancelled(session: Session) -> None:
    adapter = session.adapter(timeout_s=0.3)
    with pytest.raises(OutcomeUnknown) as err:
        await adapter.cancel(OrderKey("as-test", str(SMALL), "2007"))
    assert "timed out" in str(err.value)
    assert err.value.http_status is None
    assert session.count("DELETE", ".") == 1
    assert (await adapter.get_order(str(SMALL), "2007")).status is OrderStatus.CANCELLED


@pytest.mark.parametrize(("action", "words"), [("malformed", "not JSON"), ("html", "HTML page")])
async def test_unreadable_list_is_protocol_error(session: Session, action: str, words: str) -> None:
    session.sim.add_fault({"action": action, "status": 200, "path": "/orders$"})
    with pytest.raises(VenueProtocolError) as err:
        await session.adapter().list_open_orders(str(BIG))
    assert str(err.value).startswith("autoshares sent")
    assert words in str(err.value)
    assert "(HTTP 200)" in str(err.value)


async def test_wrong_shape_is_skipped_and_reported_in_a_listing(session: Session) -> None:
    session.sim.add_fault(
        {
            "action": "status",
            "status": 200,
            "body": {"Result": [{"Id": 1}], "TotalCount": 1},
            "path": "/orders$",
        }
    )
    listed = await session.adapter().list_open_orders(str(BIG))
    assert list(listed) == []
    [skipped] = unreadable_in(listed)
    assert (skipped.connection, skipped.account, skipped.order_id) == ("as-test", str(BIG), "1")
    assert skipped.reason.startswith("KeyError")
    # one order read on its own still fails as unreadable
    session.sim.add_fault({"action": "status", "status": 200, "body": {"Id": 1}, "path": "/orders/1$"})
    with pytest.raises(VenueProtocolError, match="AutoShares sent data Blotter cannot read"):
        await session.adapter().get_order(str(BIG), "1")


async def test_in_process_transport(session: Session) -> None:
    spec = ConnectionSpec(
        name="inproc",
        venue=Venue.AUTOSHARES,
        base_url="http://127.0.0.1/api",
        options={"username": "trader", "cancel_mode": "sync"},
    )
    adapter = AutoSharesAdapter(
        spec, {"app_key": APP_KEY, "password": PASSWORD}, transport=httpx.ASGITransport(app=session.sim.app)
    )
    try:
        receipt = await adapter.cancel(OrderKey("inproc", str(SMALL), "2011"))
        assert receipt.ack is CancelAck.DONE
        assert session.sim.order_status(2011) == "Canceled"
    finally:
        await adapter.aclose()


async def test_no_secrets_in_venue_responses(session: Session) -> None:
    trader = session.adapter(cancel_mode="sync")
    secure = session.adapter("secure", code=CODE)
    await trader.list_accounts()
    await trader.list_open_orders(str(BIG))
    await trader.cancel(OrderKey("as-test", str(SMALL), "2010"))
    for order_id in ("2002", "2003", "2004"):
        with pytest.raises(VenueRefused if order_id != "2004" else OutcomeUnknown):
            await trader.cancel(OrderKey("as-test", str(SMALL), order_id))
    await secure.list_accounts()
    session.sim.expire_tokens()
    await secure.list_open_orders(str(FOREIGN))
    await trader.account_details(str(BIG))
    secrets = [APP_KEY, PASSWORD, CODE, *session.sim.issued_tokens()]
    assert len(secrets) >= 7
    assert len(session.responses) >= 12
    for response in session.responses:
        for text in (response.request, response.raw_body, response.message):
            for secret in secrets:
                assert secret not in text, (response.action, secret[:4])
    login = next(r for r in session.responses if r.action is Action.LOGIN and r.http_status == 202)
    assert '"Token":"***"' in login.raw_body
    assert "et-app-key: ***" in login.request.lower()
    assert "password: ***" in login.request.lower()


async def test_demo_scenario_end_to_end(serve: Serve) -> None:
    section = demo_section(random.Random(11))
    sims, urls = serve({"autoshares": section})
    sim: AutoSharesSim = sims["autoshares"]
    ((name, options, secrets),) = demo_connections(section, urls["autoshares"])
    spec = ConnectionSpec(name=name, venue=Venue.AUTOSHARES, base_url=urls["autoshares"], options=options)
    adapter = AutoSharesAdapter(spec, secrets)
    try:
        accounts = await adapter.list_accounts()
        assert len(accounts) == 4
        assert sum(a.read_only for a in accounts) == 1
        counts = await asyncio.gather(*(adapter.list_open_orders(a.account_id) for a in accounts))
        assert [len(c) for c in counts] == [len(sim.open_order_ids(int(a.account_id))) for a in accounts]
        assert max(len(c) for c in counts) > 100
    finally:
        await adapter.aclose()
