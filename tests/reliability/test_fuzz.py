"""Fuzzing each venue's response parsing: whatever a venue sends, only Blotter's typed errors come out.

Each adapter talks to ``httpx.MockTransport`` (httpx's own in-process transport, not a mock of our
code): the endpoint under test answers a fuzzed body, every other endpoint (log-in, other pages) a
valid canned answer. The adapter's public methods run their real path: the retry policy, recording,
the venue's message extraction, JSON mapping, error classification.

Bodies are drawn by hypothesis from four sources: the documented shapes with each field sometimes of
the wrong type; real answers of the simulators, mutated (keys dropped, values replaced, types changed,
absurd numbers and dates); arbitrary JSON; arbitrary bytes. Serialised bodies are sometimes cut short,
corrupted, nested thousands deep or not UTF-8. Statuses and headers vary too.

CI draws ``BLOTTER_FUZZ_EXAMPLES`` bodies per venue (default 300, the same ones every run); the long run
(``pytest -m slow tests/reliability/test_fuzz.py``) draws at least 10,000 random bodies per venue.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, timedelta, timezone
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import REPORT

from blotter.core import BlotterError, ConnectionSpec, OrderKey, Side, Venue
from blotter.sim import autoshares as as_sim
from blotter.sim import snaptrade as st_sim
from blotter.sim import tanx as tx_sim
from blotter.venues import http as venue_http
from blotter.venues.registry import create_adapter

CI_EXAMPLES = int(os.environ.get("BLOTTER_FUZZ_EXAMPLES", "300"))
LONG_EXAMPLES = max(10_000, CI_EXAMPLES)
CALL_LIMIT_S = 20.0  # a parse that does not finish is a hang

TANX_KEY = "0x" + "3e" * 32
TANX_ADDRESS = tx_sim.address_of(TANX_KEY)
ST_ACCOUNT = "0b6c1f5e-2d3a-4e4f-9a8b-7c6d5e4f3a2b"


# ---------------------------------------------------------------------------------------------- strategies
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
)
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=10), inner, max_size=4), max_leaves=12)
weird_strings = st.sampled_from([
    "", " ", "null", "NaN", "Infinity", "-Infinity", "1e999999", "-1e999999", "1e-999999", "0x10", "1_000",
    " 5 ", "²", "١٢", "../../etc", "a/b?c#d", "%2F", "\u202e", "\x00", "\n\r", "é" * 3, "🙂", "9" * 400,
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-13-45T25:61:61Z", "2024-05-31T09:02:00Z",
    "Z", "2024-05-31", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
])
numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**12), st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str), weird_strings,
)
offsets = st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-23 * 60 - 59, 23 * 60 + 59))
timestamps = st.one_of(
    st.datetimes(timezones=st.none() | st.just(UTC) | offsets).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"), weird_strings, st.text(max_size=25),
)
texts = st.one_of(st.text(max_size=40), weird_strings)


def field(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually the documented type, sometimes anything."""
    return st.one_of(good, good, good, junk, weird_strings)


def shape(required: dict[str, st.SearchStrategy[Any]],
          optional: dict[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: field(v) for k, v in required.items()},
                                 optional={k: field(v) for k, v in (optional or {}).items()})


def _mutate(draw: Callable[[st.SearchStrategy[Any]], Any], value: Any, depth: int = 0) -> Any:
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return draw(junk)
    if roll == 1:
        return draw(weird_strings)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            op = draw(st.integers(0, 9))
            if op == 0:
                continue  # the key is gone
            if op == 1:
                out[k] = None
            elif op in (2, 3) and depth < 6:
                out[k] = _mutate(draw, v, depth + 1)
            else:
                out[k] = v
        if draw(st.integers(0, 7)) == 0:
            out[draw(st.text(max_size=8))] = draw(junk)
        return out
    if isinstance(value, list):
        items = [_mutate(draw, v, depth + 1) if draw(st.booleans()) and depth < 6 else v for v in value]
        op = draw(st.integers(0, 5))
        if op == 0 and items:
            items = items[: draw(st.integers(0, len(items) - 1))]
        elif op == 1 and items:
            items = items + items  # the same entries twice
        elif op == 2:
            items.append(draw(junk))
        return items
    if isinstance(value, bool) or value is None:
        return draw(scalars)
    if isinstance(value, int | float):
        return draw(st.one_of(numbers, st.just(-value), st.just(value * 10**30), st.just(str(value))))
    if isinstance(value, str):
        return draw(st.one_of(st.just(value), texts, st.just(value * 50), st.just(value.upper()),
                              st.just(value[: len(value) // 2])))
    return value


@st.composite
def mutated(draw: Callable[[st.SearchStrategy[Any]], Any], seeds: list[Any]) -> Any:
    seed = draw(st.sampled_from(seeds))
    return _mutate(draw, json.loads(json.dumps(seed)))


@st.composite
def serialised(draw: Callable[[st.SearchStrategy[Any]], Any], values: st.SearchStrategy[Any]) -> bytes:
    source = draw(st.integers(0, 9))
    if source == 0:
        return draw(st.binary(max_size=200))
    if source == 1:
        depth = draw(st.integers(100, 5000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return (opener * depth + "1" + closer * depth).encode()
    body = json.dumps(draw(values), allow_nan=True).encode()
    corruption = draw(st.integers(0, 11))
    if corruption == 0 and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif corruption == 1 and body:
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=5)) + body[at:]
    elif corruption == 2:
        body = b"\xef\xbb\xbf" + body
    elif corruption == 3:
        body = json.dumps(draw(values), allow_nan=True).encode("utf-16")
    elif corruption == 4:
        body = b"<!DOCTYPE html><html><body>" + body + b"</body></html>"
    return body


STATUSES = [200] * 10 + [201, 202, 204, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503]
# 429 always says when to come back: without Retry-After the adapter waits 1, 2, 4 s (real policy, too slow
# to fuzz); "31" and a far date are beyond what it waits for, a past date means now.
RETRY_AFTER = ["0", "0.0", "31", "86400", "Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2099 07:28:00 GMT"]


@st.composite
def answers(draw: Callable[[st.SearchStrategy[Any]], Any],
            bodies: st.SearchStrategy[Any]) -> tuple[int, dict[str, str], bytes]:
    status = draw(st.sampled_from(STATUSES))
    headers = {"Content-Type": draw(st.sampled_from(["application/json", "text/html", "text/plain"]))}
    if status == 429:
        headers["Retry-After"] = draw(st.sampled_from(RETRY_AFTER))
    if status == 302:
        headers["Location"] = "http://evil.example/"
    return status, headers, draw(serialised(bodies))


# ---------------------------------------------------------------------------------------------- documented shapes
def _as_seeds() -> dict[str, list[Any]]:
    sim = as_sim.AutoSharesSim.from_scenario(as_sim.demo_section(random.Random(11)))
    with sim.lock:
        orders = [sim._resource(o) for o in list(sim.orders.values())[:6]]
        user = next(iter(sim.users.values()))
        accounts = [sim._account_model(sim.accounts[a], user) for a in user.accounts]
        info = [sim._account_info(sim.accounts[a]) for a in user.accounts]
    token = [{"State": "Succeeded", "Token": "tok-0123456789abcdef"},
             {"State": "Expecting", "Step": "VerificationCode", "Reason": "Expecting confirmation code",
              "Token": "interim-0123456789"},
             dict(as_sim.BAD_CREDENTIALS), dict(as_sim.CORRUPTED_TICKET)]
    errors = [dict(as_sim.APP_KEY_ERROR), dict(as_sim.DENIED), dict(as_sim.SERVER_ERROR),
              {"Message": "Order 1 cannot be cancelled: order is Filled"},
              {"Message": as_sim.VALIDATION_MESSAGE, "ModelState": {"orderId": ["The value is not valid."]}},
              {"Model": None, "Errors": ["boom"], "StatusCode": 500, "IsSucceed": False}]
    return {
        "token": token + errors, "accounts": [accounts, *errors], "account_info": info + errors,
        "orders": [{"Result": orders, "TotalCount": len(orders)}, {"Result": [], "TotalCount": 0}, *errors],
        "order": orders + errors, "cancel": [*orders, {}, "", *errors],
    }


def _st_seeds() -> dict[str, list[Any]]:
    sim = st_sim.SnapTradeSim.from_scenario(st_sim.demo_section(random.Random(11)))
    with sim.lock:
        accounts = [a.record() for a in sim.accounts.values()]
        auths = [st_sim._authorization_record(a, i + 1) for i, a in enumerate(sim.accounts.values())]
        orders = [o.record() for o in list(sim.orders.values())[:6]]
    cancel = [{"brokerage_order_id": "o-1", "raw_response": {"order_id": "o-1", "status": "CANCELLED"}},
              {"brokerage_order_id": "o-1", "raw_response": None},
              {"brokerage_order_id": "o-1", "raw_response": {"state": "PENDING_CANCEL"}}]
    errors = [st_sim.failed("The requested resource does not exist.", st_sim.CODE_NOT_FOUND),
              st_sim.exception_body("Unable to verify signature sent", 401, st_sim.CODE_SIGNATURE),
              st_sim.exception_body("Request was throttled.", 429, st_sim.CODE_THROTTLED),
              {"error": "Not implemented"}, {"detail": {"field": ["bad"]}}]
    return {
        "authorizations": [auths, *errors], "accounts": [accounts, *errors], "account": accounts + errors,
        "orders": [orders, [], *errors], "order": orders + errors, "cancel": cancel + errors,
    }


def _tx_seeds() -> dict[str, list[Any]]:
    sim = tx_sim.TanxSim.from_scenario(tx_sim.demo_section(random.Random(11)))
    with sim.lock:
        orders = [sim._order_json(o, with_trades=i % 2 == 0) for i, o in enumerate(list(sim.orders.values())[:6])]

    def env(message: str, payload: Any, **extra: Any) -> dict[str, Any]:
        return {"status": "success", "message": message, "payload": payload, **extra}

    errors = [{"status": "error", "message": "Order not found", "payload": ""},
              {"status": "error", "message": "Given token not valid for any token type",
               "payload": {"token_class": "AccessToken", "token_type": "access", "message": "expired"}},
              {"status": "error", "message": "Token is invalid or expired",
               "payload": {"token_class": "RefreshToken", "token_type": "refresh"}},
              {"detail": "Not found."}]
    tokens = {"access": "eyJhbGciOiJIUzI1NiJ9.eyJ0IjoxfQ.c2ln", "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJ0IjoyfQ.c2ln"}
    return {
        "nonce": [env("Nonce Acquired", "You're now signing into tanX (Login-code:abc)"), *errors],
        "login": [env("Login Successful", {"uid": "u1"}, token=tokens), *errors],
        "refresh": [env("Token Refreshed Successfully", tokens, token=tokens), env("ok", tokens), *errors],
        "profile": [env("Successful", {"name": "Desk", "customer_id": "c1", "img": None}), *errors],
        "balance": [env("Retrieved Successfully", [{"currency": "usdc", "balance": "10", "locked": "0"}]),
                    *errors],
        "orders": [env("Orders Retrieved Successfully", orders), env("Orders Retrieved Successfully", []),
                   *errors],
        "order": [env("Order Retrieved Successfully", o) for o in orders] + errors,
        "cancel": [env(tx_sim.CANCEL_QUEUED, o) for o in orders] + [env(tx_sim.CANCEL_QUEUED, "")] + errors,
        "bulk": [env(tx_sim.BULK_QUEUED, {}), env(tx_sim.BULK_QUEUED, []), *errors],
    }


AS_ORDER = shape({"Id": st.integers(0, 2**31), "Status": st.sampled_from(list(as_sim.STATUS_CODES)) | st.integers(
    0, 20), "Quantity": numbers}, {
    "ExecutedQuantity": numbers, "LeavesQuantity": numbers, "Price": numbers, "StopPrice": numbers,
    "Symbol": texts, "SecurityId": st.integers(), "Side": st.sampled_from(as_sim.SIDES) | texts,
    "Type": st.sampled_from(as_sim.ORDER_TYPES) | texts, "CreateDate": timestamps, "Date": timestamps,
    "TimeInForce": texts, "Description": texts, "ErrorDescriptionText": texts})
AS_ERROR = shape({}, {"Message": texts, "message": texts, "error": texts, "ModelState": st.dictionaries(
    texts, st.lists(texts, max_size=3) | texts, max_size=3), "State": texts, "Reason": texts})
ST_ORDER = shape({"brokerage_order_id": texts, "status": st.sampled_from(st_sim.ORDER_STATUSES) | texts}, {
    "total_quantity": numbers, "filled_quantity": numbers, "canceled_quantity": numbers,
    "open_quantity": numbers, "limit_price": numbers, "stop_price": numbers, "action": texts,
    "order_type": texts, "trailing_stop": junk, "time_placed": timestamps, "time_updated": timestamps,
    "time_in_force": texts, "universal_symbol": shape({}, {"symbol": texts}),
    "option_symbol": shape({}, {"ticker": texts})})
ST_ACCOUNT_SHAPE = shape({"id": texts}, {"number": texts, "name": texts, "institution_name": texts,
                                         "brokerage_authorization": texts,
                                         "balance": shape({}, {"total": shape({}, {"currency": texts})})})
ST_ERROR = shape({}, {"default_detail": texts | junk, "default_code": junk, "detail": texts | junk, "code": junk,
                      "status_code": numbers, "error": texts})
TX_ORDER = shape({"id": st.integers(0, 2**63) | texts, "state": st.sampled_from(list(tx_sim.ORDER_STATES)) | texts,
                  "origin_volume": numbers}, {
    "executed_volume": numbers, "remaining_volume": numbers, "price": numbers, "stop_price": numbers,
    "side": texts, "ord_type": texts, "market": texts, "created_at": timestamps, "updated_at": timestamps,
    "cancel_reason": texts})


def tx_env(payload: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return shape({"status": st.sampled_from(["success", "error", "partial"]), "message": texts,
                  "payload": payload}, {"token": shape({}, {"access": texts, "refresh": texts})})


AS_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "token": shape({"State": st.sampled_from(["Succeeded", "Expecting", "Failed"]) | texts},
                   {"Token": texts, "Step": texts, "Reason": texts}) | AS_ERROR,
    "accounts": st.lists(shape({"Id": st.integers()}, {"ClearingAccount": texts, "Alias": texts, "Currency": texts,
                                                        "AccessType": texts}), max_size=4) | AS_ERROR,
    "account_info": st.dictionaries(texts, junk, max_size=5) | AS_ERROR,
    "orders": shape({"Result": st.lists(AS_ORDER, max_size=5), "TotalCount": st.integers(-5, 10**12)}) | AS_ERROR,
    "order": AS_ORDER | AS_ERROR,
    "cancel": AS_ORDER | AS_ERROR | junk,
}
ST_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "authorizations": st.lists(shape({"id": texts}, {"type": st.sampled_from(["read", "trade"]) | texts}),
                               max_size=4) | ST_ERROR,
    "accounts": st.lists(ST_ACCOUNT_SHAPE, max_size=4) | ST_ERROR,
    "account": ST_ACCOUNT_SHAPE | ST_ERROR,
    "orders": st.lists(ST_ORDER, max_size=5) | ST_ERROR,
    "order": ST_ORDER | ST_ERROR,
    "cancel": shape({"brokerage_order_id": texts}, {"raw_response": junk | shape(
        {}, {"status": texts, "state": texts, "order_status": texts})}) | ST_ERROR,
}
TX_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "nonce": tx_env(texts),
    "login": tx_env(junk),
    "refresh": tx_env(shape({}, {"access": texts, "refresh": texts})),
    "profile": tx_env(shape({}, {"name": texts, "customer_id": texts})),
    "balance": tx_env(st.lists(junk, max_size=3)),
    "orders": tx_env(st.lists(TX_ORDER, max_size=5)),
    "order": tx_env(TX_ORDER),
    "cancel": tx_env(TX_ORDER | texts),
    "bulk": tx_env(junk),
}


def bodies(shapes: dict[str, st.SearchStrategy[Any]], seeds: dict[str, list[Any]],
           endpoint: str) -> st.SearchStrategy[Any]:
    documented = shapes[endpoint]
    return st.one_of(documented, documented, mutated(seeds[endpoint]), mutated(seeds[endpoint]), junk)


# ---------------------------------------------------------------------------------------------- the harnesses
Answer = tuple[int, dict[str, str], bytes]


class Harness:
    """One venue's adapter over ``httpx.MockTransport``; ``answer`` is played on the endpoint under test."""

    venue: ClassVar[Venue]
    endpoints: ClassVar[list[str]]
    seeds: ClassVar[dict[str, list[Any]]]
    shapes: ClassVar[dict[str, st.SearchStrategy[Any]]]

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.endpoint = ""
        self.answer: Answer = (200, {}, b"")
        self.transport = httpx.MockTransport(self._handle)
        self.adapter: Any = None
        self.count: Counter[str] = Counter()

    def spec(self) -> ConnectionSpec:
        raise NotImplementedError

    def secrets(self) -> dict[str, str]:
        raise NotImplementedError

    def classify(self, request: httpx.Request) -> str:
        raise NotImplementedError

    def canned(self, endpoint: str, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def call(self, endpoint: str) -> Awaitable[Any]:
        raise NotImplementedError

    def fresh_adapter_for(self, endpoint: str) -> bool:
        return False

    def new_adapter(self, secrets: dict[str, str] | None = None, spec: ConnectionSpec | None = None) -> Any:
        async def prompt(_words: str) -> str:
            return "123456"

        return create_adapter(spec or self.spec(), secrets or self.secrets(), transport=self.transport,
                              code_prompt=prompt)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        endpoint = self.classify(request)
        if endpoint == self.endpoint and not self.later_page(request):
            status, headers, body = self.answer
            return httpx.Response(status, headers=headers, content=body)
        return self.canned(endpoint, request)

    def later_page(self, request: httpx.Request) -> bool:
        return False

    def run(self, endpoint: str, answer: Answer) -> None:
        self.endpoint, self.answer = endpoint, answer
        fresh = self.fresh_adapter_for(endpoint)
        if fresh or self.adapter is None:
            self.adapter = self.new_adapter()

        async def go() -> None:
            try:
                async with asyncio.timeout(CALL_LIMIT_S):
                    await self.call(endpoint)
            except BlotterError:
                pass  # a typed error: what the user is shown
            finally:
                if fresh:
                    await self.adapter.aclose()
                    self.adapter = None

        self.loop.run_until_complete(go())
        self.count[endpoint] += 1

    def close(self) -> None:
        if self.adapter is not None:
            self.loop.run_until_complete(self.adapter.aclose())
        self.loop.close()


def _json_response(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data)


class AutoSharesHarness(Harness):
    venue = Venue.AUTOSHARES
    endpoints: ClassVar[list[str]] = ["token", "accounts", "account_info", "orders", "order", "cancel"]
    seeds = _as_seeds()
    shapes = AS_SHAPES

    def spec(self) -> ConnectionSpec:
        return ConnectionSpec("fz", Venue.AUTOSHARES, "https://as.example/api", {"username": "fuzz"})

    def secrets(self) -> dict[str, str]:
        return {"app_key": "fuzz-app-key-123", "password": "fuzz-password-456"}

    def classify(self, request: httpx.Request) -> str:
        path = request.url.path
        if path.endswith("/token"):
            return "token"
        if path.endswith("/users/@me/accounts"):
            return "accounts"
        if path.endswith("/info"):
            return "account_info"
        if path.endswith("/orders"):
            return "orders"
        return "cancel" if request.method == "DELETE" else "order"

    def later_page(self, request: httpx.Request) -> bool:
        return request.url.params.get("pageNumber", "0") != "0"

    def canned(self, endpoint: str, request: httpx.Request) -> httpx.Response:
        if endpoint == "token":
            return _json_response({"State": "Succeeded", "Token": "tok-canned-0123456789"})
        if endpoint == "orders":
            return _json_response({"Result": [], "TotalCount": 0})
        return _json_response({"Message": "canned"}, 404)

    def call(self, endpoint: str) -> Awaitable[Any]:
        a = self.adapter
        return {
            "token": a.login, "accounts": a.list_accounts, "account_info": lambda: a.account_details("7001"),
            "orders": lambda: a.list_open_orders("7001"), "order": lambda: a.get_order("7001", "1"),
            "cancel": lambda: a.cancel(OrderKey("fz", "7001", "1")),
        }[endpoint]()


class SnapTradeHarness(Harness):
    venue = Venue.SNAPTRADE
    endpoints: ClassVar[list[str]] = ["authorizations", "accounts", "account", "orders", "order", "cancel"]
    seeds = _st_seeds()
    shapes = ST_SHAPES

    def spec(self) -> ConnectionSpec:
        # thousands of requests a minute: a partner key with a raised limit (the default is 250/min)
        return ConnectionSpec("fz", Venue.SNAPTRADE, "https://api.snaptrade.example",
                              {"client_id": "FUZZ", "user_id": "fuzzer"}, rate_limit_per_s=100_000.0)

    def secrets(self) -> dict[str, str]:
        return {"consumer_key": "fuzz-consumer-key-789", "user_secret": "fuzz-user-secret-012"}

    def classify(self, request: httpx.Request) -> str:
        path = request.url.path
        if path == "/authorizations":
            return "authorizations"
        if path == "/accounts":
            return "accounts"
        if path.endswith("/orders/details"):
            return "order"
        if path.endswith("/orders"):
            return "orders"
        if path.endswith("/trading/cancel"):
            return "cancel"
        return "account"

    def canned(self, endpoint: str, request: httpx.Request) -> httpx.Response:
        if endpoint in ("authorizations", "accounts", "orders"):
            return _json_response([])
        return _json_response(st_sim.failed("The requested resource does not exist.", 1011), 404)

    def call(self, endpoint: str) -> Awaitable[Any]:
        a = self.adapter
        return {
            "authorizations": a.login, "accounts": a.list_accounts,
            "account": lambda: a.account_details(ST_ACCOUNT), "orders": lambda: a.list_open_orders(ST_ACCOUNT),
            "order": lambda: a.get_order(ST_ACCOUNT, "o-1"),
            "cancel": lambda: a.cancel(OrderKey("fz", ST_ACCOUNT, "o-1")),
        }[endpoint]()


class TanxHarness(Harness):
    venue = Venue.TANX
    endpoints: ClassVar[list[str]] = [
        "nonce", "login", "refresh", "profile", "balance", "orders", "order", "cancel", "bulk"]
    seeds = _tx_seeds()
    shapes = TX_SHAPES
    TOKENS: ClassVar[dict[str, str]] = {"access": "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.YWNj",
                              "refresh": "eyJhbGciOiJIUzI1NiJ9.eyJyIjoxfQ.cmVm"}

    def spec(self) -> ConnectionSpec:
        eth = {"eth_address": TANX_ADDRESS} if self.endpoint == "refresh" else {}
        return ConnectionSpec("fz", Venue.TANX, "https://api.tanx.example", eth)

    def secrets(self) -> dict[str, str]:
        if self.endpoint == "refresh":  # pasted tokens: the refresh path
            return {"access_token": "pasted-access-0123456789", "refresh_token": "pasted-refresh-0123456789"}
        return {"private_key": TANX_KEY}

    def fresh_adapter_for(self, endpoint: str) -> bool:
        return endpoint in ("nonce", "login", "refresh")

    def classify(self, request: httpx.Request) -> str:
        path = request.url.path
        for name, marker in (("nonce", "/nonce/"), ("login", "/login/"), ("refresh", "/token/refresh/"),
                             ("profile", "/user/profile/"), ("balance", "/user/balance/"),
                             ("bulk", "/user/bulkcancel/"), ("cancel", "/orders/cancel/")):
            if path.endswith(marker):
                return name
        return "orders" if path.rstrip("/").endswith("/orders") else "order"

    def later_page(self, request: httpx.Request) -> bool:
        return request.url.params.get("page", "1") != "1"

    def canned(self, endpoint: str, request: httpx.Request) -> httpx.Response:
        def env(message: str, payload: Any, **extra: Any) -> httpx.Response:
            return _json_response({"status": "success", "message": message, "payload": payload, **extra})

        if endpoint == "nonce":
            return env("Nonce Acquired", "Sign in to tanX (Login-code:canned)")
        if endpoint == "login":
            return env("Login Successful", {"uid": "u"}, token=dict(self.TOKENS))
        if endpoint == "refresh":
            return env("Token Refreshed Successfully", dict(self.TOKENS), token=dict(self.TOKENS))
        if endpoint == "profile" and self.endpoint == "refresh":
            return _json_response({"status": "error", "message": "Given token not valid for any token type",
                                   "payload": {"token_type": "access"}}, 401)
        if endpoint == "profile":
            return env("Successful", {"name": "Desk"})
        if endpoint == "orders":
            return env("Orders Retrieved Successfully", [])
        return _json_response({"status": "error", "message": "Order not found", "payload": ""}, 404)

    def call(self, endpoint: str) -> Awaitable[Any]:
        a = self.adapter
        return {
            "nonce": a.login, "login": a.login, "refresh": a.login, "profile": a.list_accounts,
            "balance": lambda: a.account_details(TANX_ADDRESS), "orders": lambda: a.list_open_orders(TANX_ADDRESS),
            "order": lambda: a.get_order(TANX_ADDRESS, "5"),
            "cancel": lambda: a.cancel(OrderKey("fz", TANX_ADDRESS, "5")),
            "bulk": lambda: a.cancel_many(TANX_ADDRESS, market="btcusdc", side=Side.BUY),
        }[endpoint]()


HARNESSES: dict[str, type[Harness]] = {"autoshares": AutoSharesHarness, "snaptrade": SnapTradeHarness,
                                       "tanx": TanxHarness}


@pytest.fixture(autouse=True)
def _no_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry policy runs as in production; only its pauses are zero (thousands of 5xx answers)."""
    monkeypatch.setattr(venue_http, "RETRY_BACKOFF_S", 0.0)


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = HARNESSES[request.param]()
    yield h
    h.close()


def fuzz(harness: Harness, examples: int, derandomize: bool) -> Counter[str]:
    h = harness
    strategies = {e: answers(bodies(h.shapes, h.seeds, e)) for e in h.endpoints}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(data=st.data())
    def body_of_any_shape(data: st.DataObject) -> None:
        endpoint = data.draw(st.sampled_from(h.endpoints), label="endpoint")
        answer = data.draw(strategies[endpoint], label="answer")
        h.run(endpoint, answer)

    body_of_any_shape()
    return h.count


def _record(mode: str, venue: str, counts: Counter[str], seconds: float) -> None:
    total = sum(counts.values())
    per = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    REPORT.note(f"fuzz-{mode}", venue, True,
                f"{total} bodies, 0 unhandled exceptions, {seconds:.1f} s ({per})")


@pytest.mark.parametrize("harness", ["autoshares", "snaptrade", "tanx"], indirect=True)
def test_only_typed_errors_come_out_of_response_parsing(harness: Harness) -> None:
    started = time.monotonic()
    counts = fuzz(harness, CI_EXAMPLES, derandomize=True)
    assert sum(counts.values()) >= CI_EXAMPLES * 0.9  # hypothesis may stop early only on exhaustion
    assert set(counts) == set(harness.endpoints)
    _record("ci", harness.venue.value, counts, time.monotonic() - started)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("harness", ["autoshares", "snaptrade", "tanx"], indirect=True)
def test_ten_thousand_bodies_per_venue(harness: Harness) -> None:
    started = time.monotonic()
    counts = fuzz(harness, LONG_EXAMPLES, derandomize=False)
    assert sum(counts.values()) >= 10_000
    _record("long", harness.venue.value, counts, time.monotonic() - started)


@pytest.mark.parametrize("harness", ["autoshares", "snaptrade", "tanx"], indirect=True)
def test_bodies_that_broke_parsing_before(harness: Harness) -> None:
    """Found by this fuzzer; each broke out of the typed errors before its fix."""
    deep = b"[" * 900 + b"1" + b"]" * 900
    order_item: dict[str, Any] = {
        "autoshares": {"Id": 1, "Status": "New", "Quantity": "9e999999", "ExecutedQuantity": "-9e999999"},
        "snaptrade": {"brokerage_order_id": "o-1", "status": "ACCEPTED", "total_quantity": "9e999999",
                      "filled_quantity": "-9e999999"},
        "tanx": {"id": 5, "state": "wait", "origin_volume": "9e999999", "executed_volume": "-9e999999"},
    }[harness.venue.value]
    late = dict(order_item)
    late[{"autoshares": "CreateDate", "snaptrade": "time_placed", "tanx": "created_at"}[harness.venue.value]] = (
        "9999-12-31T23:59:59-01:00")
    if harness.venue is Venue.TANX:
        def wrap(o: Any) -> bytes:
            return json.dumps({"status": "success", "message": "m", "payload": o}).encode()
    else:
        def wrap(o: Any) -> bytes:
            return json.dumps(o).encode()
    cases = [deep, wrap(order_item), wrap(late), wrap(dict(order_item, id="١٢") if harness.venue is Venue.TANX
                                                      else order_item)]
    for body in cases:
        harness.run("order", (200, {"Content-Type": "application/json"}, body))
    assert harness.count["order"] == len(cases)


def test_a_fuzzed_session_never_holds_a_secret_in_what_it_records() -> None:
    """Redaction holds on fuzzed answers too: echoes of the keys in any field are masked."""
    h = AutoSharesHarness()
    seen: list[str] = []
    try:
        h.adapter = h.new_adapter()
        h.adapter.add_listener(lambda r: seen.extend([r.message, r.raw_body, r.request]))
        for body in (b'{"Message": "fuzz-app-key-123 fuzz-password-456"}',
                     b'{"ModelState": {"fuzz-password-456": ["fuzz-app-key-123"]}}', b"fuzz-password-456\n"):
            h.run("order", (400, {}, body))
    finally:
        h.close()
    assert seen and not any("fuzz-app-key-123" in t or "fuzz-password-456" in t for t in seen)

