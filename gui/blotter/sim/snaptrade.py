"""A faithful SnapTrade simulator (venues.md §2 and §5.2), served at the root path.

The official ``snaptrade-python-sdk`` 13.x works against it unchanged (host ``http://127.0.0.1:PORT``).
What it implements:

- Per-request signature checks exactly as the SDK signs (§2.2): the raw query string as received, the
  path as received, ``content`` = the parsed JSON body or ``null`` (also ``null`` for ``{}``).
- ``GET /`` (unauthenticated status), ``GET /accounts``, ``GET /accounts/{id}``, ``GET /authorizations``
  (connections, with ``type`` ``read``/``trade``: how SnapTrade says a connection is read-only),
  ``GET /accounts/{id}/orders`` (``state`` all|open|executed, ``days`` 1-90 against ``time_placed``),
  ``POST /accounts/{id}/orders/details`` (one order; like the real endpoint it only knows orders placed
  through SnapTrade) and ``POST /accounts/{id}/trading/cancel``. The same routes are mirrored under the
  legacy ``/api/v1`` prefix (signed with the prefix, as SDK 10.x does).
- ``X-RateLimit-Limit/Remaining/Reset`` when a rate limit is configured, 429 with ``Retry-After``.

Error bodies. Two shapes reach clients: the documented ``{"default_detail", "default_code"}`` (the
SDK's 400/403/404 models) and the DRF-style ``{"detail", "status_code", "code"}`` (429/500 models, and
what real 401s carry on the wire: ``{"detail":"Unable to verify signature sent","status_code":401,
"code":"1076"}`` and ``"Invalid userID or userSecret provided"`` / ``"1083"`` were both seen in
third-party probe logs). Codes confirmed by docs or probes: 1076, 1083, 1066, 1011, 1000. Every other
code below is an ASSUMPTION (marked ❓).

Scenario section (JSON)::

    {"clients": [{"client_id", "consumer_key"}],
     "users": [{"user_id", "user_secret", "accounts": [account ids], "client_id"?}],
     "accounts": [{"id", "brokerage_authorization", "name", "number", "institution_name",
                   "balance": {"amount", "currency"}, "is_paper", "status", "read_only", "raw_type"?,
                   "data_freshness"?: "realtime" | "delayed"}],
     "orders": [{"brokerage_order_id", "account_id", "symbol", "description", "currency", "exchange",
                 "action", "order_type", "time_in_force", "total_quantity", "filled_quantity",
                 "limit_price", "stop_price", "status", "time_placed", "cancel": CancelSpec,
                 "via_snaptrade"?: true, "security_type"?: "cs"}],
     "timestamp_tolerance_s": 300, "clock_offset_s": 0, "latency_ms", "rate_limit", "faults"}

``time_placed`` is ISO-8601, or a number of seconds relative to the moment the scenario is loaded
(negative = in the past).

Two clocks: scenario time (``self.clock``: order ages, the ``days`` window, delayed cancels) moves when a
test advances it, as if time passed for everyone. The request ``timestamp`` is checked against the
server's wall clock instead — wall time plus ``clock_offset_s`` — because a client's clock advances
with real time too; set ``clock_offset_s`` to simulate a skewed client clock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .common import CancelSpec, SimBase, SimClock, SimMiddleware, SimSettings

ORDER_STATUSES = (
    "NONE", "PENDING", "ACCEPTED", "FAILED", "REJECTED", "CANCELED", "PARTIAL_CANCELED", "CANCEL_PENDING",
    "EXECUTED", "PARTIAL", "REPLACE_PENDING", "REPLACED", "STOPPED", "SUSPENDED", "EXPIRED", "QUEUED",
    "TRIGGERED", "ACTIVATED", "PENDING_RISK_REVIEW", "CONTINGENT_ORDER",
)
# ❓ What the server means by state=open / state=executed is undocumented; venues.md §2.4's open set.
OPEN_STATUSES = frozenset({
    "PENDING", "ACCEPTED", "PARTIAL", "CANCEL_PENDING", "REPLACE_PENDING", "QUEUED", "TRIGGERED",
    "ACTIVATED", "PENDING_RISK_REVIEW", "CONTINGENT_ORDER", "STOPPED", "SUSPENDED",
})
EXECUTED_STATUSES = frozenset({"EXECUTED", "PARTIAL_CANCELED"})
ORDER_STATES = ("all", "open", "executed")
DEFAULT_DAYS = 30
MAX_DAYS = 90
API_VERSION = 151  # what the docs' status example shows

CODE_SIGNATURE = "1076"  # probe logs
CODE_USER = "1083"  # probe logs ("Invalid userID or userSecret provided")
CODE_CLIENT = "1083"  # ❓ one third-party log shows 1083 with "Invalid clientId provided"
CODE_MISSING_PARAMS = "1081"  # ❓
CODE_TIMESTAMP = "1077"  # ❓ ("Invalid timestamp" was reported; the code was not)
CODE_PERMISSION = 1066  # documented 403 example
CODE_NOT_FOUND = 1011  # documented 404 example
CODE_BAD_REQUEST = 1076  # documented 400 example ("Unable to verify data sent")
CODE_BROKER_REFUSED = 1063  # ❓
CODE_THROTTLED = "throttled"  # ❓ (DRF's default code for its throttle message, which we reuse)
CODE_UNEXPECTED = "1000"  # documented 500 example

_EXCHANGES: dict[str, tuple[str, str]] = {
    "NASDAQ": ("XNAS", "Nasdaq"),
    "NYSE": ("XNYS", "New York Stock Exchange"),
    "ARCA": ("ARCX", "NYSE Arca"),
    "BATS": ("BATS", "Cboe BZX"),
    "TSX": ("XTSE", "Toronto Stock Exchange"),
}
_CURRENCY_NAMES = {"USD": "US Dollar", "CAD": "Canadian Dollar", "EUR": "Euro", "GBP": "British Pound"}
_SECURITY_TYPES = {"cs": "Common Stock", "et": "ETF", "ad": "ADR", "ps": "Preferred Stock"}
_NAMESPACE = uuid.UUID("6f1c2d0e-4b7a-4c55-9a39-5e1d7e0b5a11")


def _uid(*parts: str) -> str:
    """Stable ids for reference data (symbols, exchanges, currencies)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def request_signature(consumer_key: str, path: str, query: str, content: Any) -> str:
    """SnapTrade's signature (independent of the adapter's, so each checks the other)."""
    payload = {"content": None if content in (None, {}) else content, "path": path, "query": query}
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    digest = hmac.new(consumer_key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def failed(detail: str, code: Any) -> dict[str, Any]:
    """The documented 400/403/404 body."""
    return {"default_detail": detail, "default_code": code}


def exception_body(detail: str, status: int, code: str) -> dict[str, Any]:
    """The DRF-style body of 401 (as seen on the wire), 429 and 500."""
    return {"detail": detail, "status_code": status, "code": code}


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _dec_text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


# ---------------------------------------------------------------------- state
@dataclass
class SimClient:
    client_id: str
    consumer_key: str


@dataclass
class SimUser:
    user_id: str
    user_secret: str
    accounts: list[str]
    client_id: str = ""  # empty = registered under every client of the scenario


@dataclass
class SimAccount:
    id: str
    brokerage_authorization: str
    name: str | None
    number: str
    institution_name: str
    amount: Decimal
    currency: str
    is_paper: bool
    status: str | None
    read_only: bool
    raw_type: str
    created: float
    # The connection's data_freshness_mode.snaptrade ("delayed": SnapTrade serves cached data). Reported
    # only; the simulator's order list stays current either way.
    data_freshness: str = "realtime"

    def record(self) -> dict[str, Any]:
        created = _iso(self.created) or ""
        return {
            "id": self.id,
            "brokerage_authorization": self.brokerage_authorization,
            "portfolio_group": _uid("portfolio", self.id),
            "name": self.name,
            "number": self.number,
            "institution_name": self.institution_name,
            "created_date": created,
            "opening_date": None,
            "funding_date": None,
            "sync_status": {
                "transactions": {
                    "initial_sync_completed": True,
                    "last_successful_sync": created[:10],
                    "first_transaction_date": "2021-03-01",
                },
                "holdings": {"initial_sync_completed": True, "last_successful_sync": created},
            },
            "balance": {"total": {"amount": float(self.amount), "currency": self.currency}},
            "status": self.status,
            "raw_type": self.raw_type,
            "account_category": "INVESTMENT",
            "institution_account_id": None,
            "is_paper": self.is_paper,
            "meta": {"type": self.raw_type, "status": "ACTIVE", "institution_name": self.institution_name},
            "cash_restrictions": [],
        }


@dataclass
class SimOrder:
    brokerage_order_id: str
    account_id: str
    symbol: str
    description: str
    currency: str
    exchange: str
    security_type: str
    action: str
    order_type: str
    time_in_force: str
    total: Decimal
    filled: Decimal
    canceled: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    execution_price: Decimal | None
    status: str
    time_placed: float
    time_updated: float | None
    time_executed: float | None
    cancel: CancelSpec
    via_snaptrade: bool = True
    cancel_due: float | None = None  # CANCEL_PENDING becomes CANCELED at this sim time
    cancel_requests: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def universal_symbol(self) -> dict[str, Any]:
        mic, exchange_name = _EXCHANGES.get(self.exchange, (None, self.exchange))
        currency = {"id": _uid("currency", self.currency), "code": self.currency,
                    "name": _CURRENCY_NAMES.get(self.currency, self.currency)}
        suffix = ".TO" if self.exchange == "TSX" else None
        raw_symbol = self.symbol.removesuffix(suffix) if suffix else self.symbol
        return {
            "id": _uid("symbol", self.symbol, self.exchange),
            "symbol": self.symbol,
            "raw_symbol": raw_symbol,
            "description": self.description,
            "currency": currency,
            "exchange": {
                "id": _uid("exchange", self.exchange),
                "code": self.exchange,
                "mic_code": mic,
                "name": exchange_name,
                "timezone": "America/Toronto" if self.exchange == "TSX" else "America/New_York",
                "start_time": "09:30:00",
                "close_time": "16:00:00",
                "suffix": suffix,
                "allows_cryptocurrency_symbols": False,
            },
            "type": {
                "id": _uid("security-type", self.security_type),
                "code": self.security_type,
                "description": _SECURITY_TYPES.get(self.security_type, self.security_type),
                "is_supported": True,
            },
            "currencies": [currency],
            "figi_code": None,
            "figi_instrument": None,
        }

    def record(self) -> dict[str, Any]:
        """The order as an ``AccountOrderRecord`` (every field present, as the API sends them)."""
        open_qty = self.total - self.filled - self.canceled if self.is_open else Decimal(0)
        return {
            "brokerage_order_id": self.brokerage_order_id,
            "brokerage_group_order_id": None,
            "order_role": None,
            "status": self.status,
            "universal_symbol": self.universal_symbol(),
            "option_symbol": None,
            "quote_universal_symbol": None,
            "quote_currency": None,
            "action": self.action,
            "total_quantity": _dec_text(self.total),
            "open_quantity": _dec_text(max(open_qty, Decimal(0))),
            "canceled_quantity": _dec_text(self.canceled),
            "filled_quantity": _dec_text(self.filled),
            "execution_price": _dec_text(self.execution_price),
            "limit_price": _dec_text(self.limit_price),
            "stop_price": _dec_text(self.stop_price),
            "trailing_stop": None,
            "order_type": self.order_type,
            "time_in_force": self.time_in_force,
            "time_placed": _iso(self.time_placed),
            "time_updated": _iso(self.time_updated),
            "time_executed": _iso(self.time_executed),
            "expiry_date": None,
            "symbol": _uid("legacy-symbol", self.account_id, self.symbol),
            "child_brokerage_order_ids": None,
        }


@dataclass
class _Caller:
    client: SimClient
    user: SimUser


@dataclass
class _Parsed:
    """One section parsed, before it becomes a simulator."""

    clients: dict[str, SimClient] = field(default_factory=dict)
    users: dict[str, SimUser] = field(default_factory=dict)
    accounts: dict[str, SimAccount] = field(default_factory=dict)
    orders: dict[tuple[str, str], SimOrder] = field(default_factory=dict)


# ---------------------------------------------------------------------- the simulator
class SnapTradeSim(SimBase):
    """The SnapTrade API as the official SDK 13.x sees it. State is guarded by ``self.lock``."""

    venue_name = "snaptrade"
    base_path = ""

    def __init__(
        self,
        settings: SimSettings,
        parsed: _Parsed,
        *,
        timestamp_tolerance_s: float = 300.0,
        clock_offset_s: float = 0.0,
        clock: SimClock | None = None,
    ) -> None:
        super().__init__(settings, clock)
        self.clients = parsed.clients
        self.users = parsed.users
        self.accounts = parsed.accounts
        self.orders = parsed.orders
        self.timestamp_tolerance_s = timestamp_tolerance_s
        self.clock_offset_s = clock_offset_s  # the server's wall clock minus true time (tests set it)
        self._app: ASGIApp | None = None

    # ------------------------------------------------------------------ scenario
    @classmethod
    def from_scenario(cls, section: Mapping[str, Any], clock: SimClock | None = None) -> SnapTradeSim:
        if not isinstance(section, Mapping):
            raise ValueError("snaptrade: the scenario section must be an object")
        clock = clock or SimClock()
        loaded_at = clock.now()
        parsed = _Parsed()
        for i, item in enumerate(_list(section, "clients")):
            client = SimClient(_text(item, "client_id", f"clients[{i}]"),
                               _text(item, "consumer_key", f"clients[{i}]"))
            if client.client_id in parsed.clients:
                raise ValueError(f"snaptrade: duplicate client_id {client.client_id!r}")
            parsed.clients[client.client_id] = client
        if not parsed.clients:
            raise ValueError("snaptrade: the section needs at least one client (client_id, consumer_key)")
        for i, item in enumerate(_list(section, "accounts")):
            account = _parse_account(item, f"accounts[{i}]", loaded_at)
            if account.id in parsed.accounts:
                raise ValueError(f"snaptrade: duplicate account id {account.id!r}")
            parsed.accounts[account.id] = account
        modes: dict[str, bool] = {}
        for account in parsed.accounts.values():
            previous = modes.setdefault(account.brokerage_authorization, account.read_only)
            if previous != account.read_only:
                raise ValueError(
                    f"snaptrade: accounts of connection {account.brokerage_authorization} disagree on "
                    "read_only (a connection is either read or trade)"
                )
        for i, item in enumerate(_list(section, "users")):
            where = f"users[{i}]"
            accounts = item.get("accounts", [])
            if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
                raise ValueError(f"snaptrade: {where}.accounts must be a list of account ids")
            for account_id in accounts:
                if account_id not in parsed.accounts:
                    raise ValueError(f"snaptrade: {where} lists unknown account {account_id!r}")
            user = SimUser(_text(item, "user_id", where), _text(item, "user_secret", where), list(accounts),
                           str(item.get("client_id", "")))
            if user.client_id and user.client_id not in parsed.clients:
                raise ValueError(f"snaptrade: {where} belongs to unknown client {user.client_id!r}")
            if user.user_id in parsed.users:
                raise ValueError(f"snaptrade: duplicate user_id {user.user_id!r}")
            parsed.users[user.user_id] = user
        for i, item in enumerate(_list(section, "orders")):
            order = _parse_order(item, f"orders[{i}]", loaded_at)
            if order.account_id not in parsed.accounts:
                raise ValueError(f"snaptrade: orders[{i}] belongs to unknown account {order.account_id!r}")
            key = (order.account_id, order.brokerage_order_id)
            if key in parsed.orders:
                raise ValueError(
                    f"snaptrade: duplicate order {order.brokerage_order_id!r} in {order.account_id}"
                )
            parsed.orders[key] = order
        try:
            tolerance = float(section.get("timestamp_tolerance_s", 300))
            offset = float(section.get("clock_offset_s", 0))
        except (TypeError, ValueError):
            raise ValueError("snaptrade: timestamp_tolerance_s and clock_offset_s must be numbers of "
                             "seconds") from None
        return cls(SimSettings.from_dict(section), parsed, timestamp_tolerance_s=tolerance,
                   clock_offset_s=offset, clock=clock)

    # ------------------------------------------------------------------ SimBase hooks
    def rate_limited_response(self, retry_after: int) -> Response:
        return JSONResponse(
            exception_body(f"Request was throttled. Expected available in {retry_after} seconds.", 429,
                           CODE_THROTTLED),
            status_code=429,
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(self.settings.rate_limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(retry_after),
            },
        )

    def error_body(self, status: int, message: str) -> Any:
        """Bodies for injected faults, in the shape SnapTrade uses for that status."""
        if status >= 500:
            return exception_body("Encountered an unexpected exception.", status, CODE_UNEXPECTED)
        if status == 429:
            return exception_body("Request was throttled.", status, CODE_THROTTLED)
        if status == 401:
            return exception_body(message, status, CODE_SIGNATURE)
        return failed(message, {403: CODE_PERMISSION, 404: CODE_NOT_FOUND}.get(status, CODE_BAD_REQUEST))

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            self._app = SimMiddleware(_RateLimitHeaders(self._starlette(), self), self)
        return self._app

    # ------------------------------------------------------------------ test helpers (thread-safe)
    def _find(self, order_id: str, account_id: str | None = None) -> SimOrder:
        matches = [o for (acc, oid), o in self.orders.items()
                   if oid == order_id and (account_id is None or acc == account_id)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} orders match {order_id!r}")
        return matches[0]

    def order(self, order_id: str, account_id: str | None = None) -> dict[str, Any]:
        """The order's current ``AccountOrderRecord`` (due transitions applied)."""
        with self.lock:
            self._apply_due()
            return self._find(order_id, account_id).record()

    def status(self, order_id: str, account_id: str | None = None) -> str:
        with self.lock:
            self._apply_due()
            return self._find(order_id, account_id).status

    def set_status(self, order_id: str, status: str, account_id: str | None = None) -> None:
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown SnapTrade order status {status!r}")
        with self.lock:
            order = self._find(order_id, account_id)
            order.status = status
            order.cancel_due = None
            order.time_updated = self.clock.now()

    def cancel_requests(self, order_id: str, account_id: str | None = None) -> int:
        with self.lock:
            return self._find(order_id, account_id).cancel_requests

    # ------------------------------------------------------------------ state transitions (lock held)
    def _apply_due(self) -> None:
        now = self.clock.now()
        for order in self.orders.values():
            if order.cancel_due is not None and order.cancel_due <= now and order.status == "CANCEL_PENDING":
                self._cancel_now(order, order.cancel_due)

    @staticmethod
    def _cancel_now(order: SimOrder, at: float) -> None:
        order.status = "CANCELED" if order.filled == 0 else "PARTIAL_CANCELED"
        order.canceled = order.total - order.filled
        order.cancel_due = None
        order.time_updated = at

    @staticmethod
    def _fill_now(order: SimOrder, at: float) -> None:
        order.status = "EXECUTED"
        order.filled = order.total
        order.canceled = Decimal(0)
        order.execution_price = order.limit_price or order.stop_price or order.execution_price
        order.cancel_due = None
        order.time_executed = order.time_updated = at

    # ------------------------------------------------------------------ authentication
    def server_time(self) -> float:
        """The server's wall clock: what request timestamps are checked against."""
        return time.time() + self.clock_offset_s

    def _authenticate(self, request: Request, content: Any) -> _Caller | Response:
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        client_id, timestamp = params.get("clientId"), params.get("timestamp")
        signature = request.headers.get("signature")
        if not client_id or not timestamp or not signature:
            return _deny(401, "Please provide clientId and timestamp in query params and a Signature header",
                         CODE_MISSING_PARAMS)
        client = self.clients.get(client_id)
        if client is None:
            return _deny(401, "Invalid clientId provided", CODE_CLIENT)
        try:
            skew = abs(self.server_time() - int(timestamp))
        except ValueError:
            skew = float("inf")
        if skew > self.timestamp_tolerance_s:
            # ❓ "Invalid timestamp" is what users report; the explanation after it is ours.
            return _deny(401, f"Invalid timestamp: the request timestamp must be within "
                              f"{self.timestamp_tolerance_s:g} seconds of the server time",
                         CODE_TIMESTAMP)
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
        path = raw_path.split(b"?", 1)[0].decode("latin-1")  # httpx's ASGITransport includes the query
        expected = request_signature(client.consumer_key, path, raw_query, content)
        if not hmac.compare_digest(expected, signature):
            return _deny(401, "Unable to verify signature sent", CODE_SIGNATURE)
        user_id, user_secret = params.get("userId"), params.get("userSecret")
        if not user_id or not user_secret:
            return _deny(401, "Please provide clientId, userId and userSecret in query params",
                         CODE_MISSING_PARAMS)
        user = self.users.get(user_id)
        if (user is None or not hmac.compare_digest(user.user_secret.encode(), user_secret.encode())
                or (user.client_id and user.client_id != client.client_id)):
            return _deny(401, "Invalid userID or userSecret provided", CODE_USER)
        return _Caller(client, user)

    async def _begin(
        self, request: Request, *, account_route: bool = True
    ) -> tuple[_Caller, SimAccount | None, Any] | Response:
        body = await request.body()
        content: Any = None
        if body.strip():
            try:
                content = json.loads(body)
            except ValueError:
                return JSONResponse(failed("JSON parse error - the request body is not valid JSON",
                                           CODE_BAD_REQUEST), status_code=400)
        caller = self._authenticate(request, content)
        if isinstance(caller, Response):
            return caller
        if not account_route:
            return caller, None, content
        account_id = str(request.path_params["account_id"])
        account = self.accounts.get(account_id)
        if account is None or account_id not in caller.user.accounts:
            return JSONResponse(failed("The requested resource does not exist.", CODE_NOT_FOUND),
                                status_code=404)
        return caller, account, content

    async def _begin_order(self, request: Request) -> tuple[SimAccount, str] | Response:
        """``_begin`` for a route about one order: the account and the body's ``brokerage_order_id``."""
        begun = await self._begin(request)
        if isinstance(begun, Response):
            return begun
        _, account, content = begun
        assert account is not None
        order_id = _order_id_from(content)
        if order_id is None:
            return JSONResponse(failed("brokerage_order_id: This field is required.", CODE_BAD_REQUEST),
                                status_code=400)
        return account, order_id

    # ------------------------------------------------------------------ routes
    def _starlette(self) -> Starlette:
        async def status(request: Request) -> Response:
            return JSONResponse({"version": API_VERSION, "timestamp": _iso(self.server_time()),
                                 "online": True})

        async def list_accounts(request: Request) -> Response:
            begun = await self._begin(request, account_route=False)
            if isinstance(begun, Response):
                return begun
            caller = begun[0]
            with self.lock:
                return JSONResponse([self.accounts[a].record() for a in caller.user.accounts])

        async def account_detail(request: Request) -> Response:
            begun = await self._begin(request)
            if isinstance(begun, Response):
                return begun
            account = begun[1]
            assert account is not None
            with self.lock:
                return JSONResponse(account.record())

        async def authorizations(request: Request) -> Response:
            begun = await self._begin(request, account_route=False)
            if isinstance(begun, Response):
                return begun
            with self.lock:
                seen: dict[str, dict[str, Any]] = {}
                for account_id in begun[0].user.accounts:
                    account = self.accounts[account_id]
                    if account.brokerage_authorization not in seen:
                        seen[account.brokerage_authorization] = _authorization_record(account, len(seen) + 1)
                return JSONResponse(list(seen.values()))

        async def list_orders(request: Request) -> Response:
            begun = await self._begin(request)
            if isinstance(begun, Response):
                return begun
            account = begun[1]
            assert account is not None
            params = dict(parse_qsl(request.scope.get("query_string", b"").decode("latin-1"),
                                    keep_blank_values=True))
            state = params.get("state", "all")
            if state not in ORDER_STATES:
                # ❓ wording: DRF-like validation text for the enum
                return JSONResponse(failed(f'"{state}" is not a valid choice for state '
                                           "(all, open, executed).", CODE_BAD_REQUEST), status_code=400)
            try:
                days = int(params.get("days", DEFAULT_DAYS))
            except ValueError:
                days = 0
            if not 1 <= days <= MAX_DAYS:
                return JSONResponse(failed(f"days must be an integer between 1 and {MAX_DAYS}.",
                                           CODE_BAD_REQUEST), status_code=400)
            with self.lock:
                self._apply_due()
                since = self.clock.now() - days * 86400
                selected = [
                    o for (acc, _), o in self.orders.items()
                    if acc == account.id and o.time_placed >= since and (
                        state == "all" or (state == "open" and o.is_open)
                        or (state == "executed" and o.status in EXECUTED_STATUSES))
                ]
                selected.sort(key=lambda o: o.time_placed, reverse=True)
                return JSONResponse([o.record() for o in selected])

        async def order_detail(request: Request) -> Response:
            begun = await self._begin_order(request)
            if isinstance(begun, Response):
                return begun
            account, order_id = begun
            with self.lock:
                self._apply_due()
                order = self.orders.get((account.id, order_id))
                # Like the real endpoint, orders placed outside SnapTrade are unknown here.
                if order is None or not order.via_snaptrade:
                    return JSONResponse(failed("The requested resource does not exist.", CODE_NOT_FOUND),
                                        status_code=404)
                return JSONResponse(order.record())

        async def cancel(request: Request) -> Response:
            begun = await self._begin_order(request)
            if isinstance(begun, Response):
                return begun
            account, order_id = begun
            if account.read_only:
                # ❓ wording: the documented 403 example is generic; a read connection cannot trade.
                return JSONResponse(failed("This connection is read-only and cannot place or cancel "
                                           "orders. Reconnect the brokerage with trading access.",
                                           CODE_PERMISSION), status_code=403)
            return await self._cancel(account, order_id)

        routes: list[Route] = []
        for prefix in ("", "/api/v1"):
            routes += [
                Route(f"{prefix}/accounts", list_accounts, methods=["GET"]),
                Route(f"{prefix}/authorizations", authorizations, methods=["GET"]),
                Route(prefix + "/accounts/{account_id}", account_detail, methods=["GET"]),
                Route(prefix + "/accounts/{account_id}/orders", list_orders, methods=["GET"]),
                Route(prefix + "/accounts/{account_id}/orders/details", order_detail, methods=["POST"]),
                Route(prefix + "/accounts/{account_id}/trading/cancel", cancel, methods=["POST"]),
            ]
        routes.insert(0, Route("/", status, methods=["GET"]))
        routes.insert(1, Route("/api/v1/", status, methods=["GET"]))

        async def not_found(request: Request, exc: Exception) -> Response:
            status_code = getattr(exc, "status_code", 404)
            detail = "Not found." if status_code == 404 else f'Method "{request.method}" not allowed.'
            return JSONResponse({"detail": detail}, status_code=status_code)

        return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})

    async def _cancel(self, account: SimAccount, order_id: str) -> Response:
        with self.lock:
            self._apply_due()
            now = self.clock.now()
            order = self.orders.get((account.id, order_id))
            if order is None:
                # ❓ wording
                return JSONResponse(failed(f"Order {order_id} was not found in this account.",
                                           CODE_BROKER_REFUSED), status_code=400)
            order.cancel_requests += 1
            if order.status == "CANCEL_PENDING":
                return JSONResponse(failed(f"Order {order_id} already has a pending cancel request.",
                                           CODE_BROKER_REFUSED), status_code=400)
            if not order.is_open:
                return JSONResponse(failed(f"Order {order_id} cannot be cancelled: its status is "
                                           f"{order.status}.", CODE_BROKER_REFUSED), status_code=400)
            spec = order.cancel
            mode = spec.mode
            if mode == "reject":
                return JSONResponse(failed(spec.message or f"The brokerage rejected the cancel request for "
                                           f"order {order_id}.", CODE_BROKER_REFUSED),
                                    status_code=spec.status or 400)
            if mode == "fill":
                self._fill_now(order, now)
                # A broker-style refusal: the order executed before the cancel reached it.
                return JSONResponse(failed(spec.message or f"Order {order_id} cannot be cancelled: it has "
                                           "already been filled.", CODE_BROKER_REFUSED),
                                    status_code=spec.status or 400)
            if mode == "error":
                if spec.effect == "cancel":
                    self._cancel_now(order, now)
                return JSONResponse(exception_body(spec.message or "Encountered an unexpected exception.",
                                                   spec.status or 500, CODE_UNEXPECTED),
                                    status_code=spec.status or 500)
            if mode == "timeout":
                if spec.effect == "cancel":
                    self._cancel_now(order, now)
                answer: Response = _cancel_accepted(order)
            else:  # accept | never
                if mode == "accept" and spec.delay_ms <= 0:
                    self._cancel_now(order, now)
                else:
                    order.status = "CANCEL_PENDING"
                    order.time_updated = now
                    order.cancel_due = now + spec.delay_ms / 1000 if mode == "accept" else None
                answer = _cancel_accepted(order)
        if mode == "timeout":
            await asyncio.sleep(spec.delay_ms / 1000)
            if spec.effect != "cancel":
                return JSONResponse(exception_body("Encountered an unexpected exception.", 500,
                                                   CODE_UNEXPECTED), status_code=500)
        return answer


class _RateLimitHeaders:
    """Adds ``X-RateLimit-*`` (when a limit is configured) and ``x-request-id`` to every answer."""

    def __init__(self, app: ASGIApp, sim: SnapTradeSim) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", str(uuid.uuid4()).encode()))
                settings = self.sim.settings
                if settings.rate_limit:
                    with self.sim.lock:
                        used = self.sim._window_count
                        reset = self.sim._window_start + settings.rate_window_s - self.sim.clock.now()
                    headers += [
                        (b"x-ratelimit-limit", str(settings.rate_limit).encode()),
                        (b"x-ratelimit-remaining", str(max(0, settings.rate_limit - used)).encode()),
                        (b"x-ratelimit-reset", str(max(0, int(reset + 0.999))).encode()),
                    ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _deny(status: int, detail: str, code: str) -> Response:
    return JSONResponse(exception_body(detail, status, code), status_code=status)


def _cancel_accepted(order: SimOrder) -> Response:
    # raw_response is the brokerage's own reply; the documented example is {order_id, status}.
    said = "CANCELLED" if order.status in ("CANCELED", "PARTIAL_CANCELED") else "PENDING_CANCEL"
    return JSONResponse({
        "brokerage_order_id": order.brokerage_order_id,
        "raw_response": {"order_id": order.brokerage_order_id, "status": said},
    })


def _order_id_from(content: Any) -> str | None:
    if isinstance(content, Mapping):
        value = content.get("brokerage_order_id")
        if isinstance(value, str) and value:
            return value
    return None


def _authorization_record(account: SimAccount, n: int) -> dict[str, Any]:
    slug = account.institution_name.upper().replace(" ", "-")
    created = _iso(account.created)
    return {
        "id": account.brokerage_authorization,
        "created_date": created,
        "brokerage": {
            "id": _uid("brokerage", slug),
            "slug": slug,
            "name": account.institution_name,
            "display_name": account.institution_name,
            "description": f"{account.institution_name} brokerage connection",
            "aws_s3_logo_url": f"https://passiv-brokerage-logos.s3.ca-central-1.amazonaws.com/{slug.lower()}.png",
            "aws_s3_square_logo_url": None,
            "url": None,
            "enabled": True,
            "maintenance_mode": False,
            "is_degraded": False,
            "allows_trading": True,
            "allows_fractional_units": True,
            "has_reporting": True,
            "is_real_time_connection": True,
            "brokerage_type": {"id": _uid("brokerage-type", "traditional"), "name": "Traditional Brokerage"},
            "exchanges": [],
            "open_url": None,
        },
        "name": f"Connection-{n}",
        # How SnapTrade says a connection is read-only: type "read" (trade-enabled: "trade").
        "type": "read" if account.read_only else "trade",
        "disabled": False,
        "disabled_date": None,
        "meta": {},
        "updated_date": created,
        "is_eligible_for_payout": False,
        "data_freshness_mode": {"institution": "realtime", "snaptrade": account.data_freshness},
    }


# ---------------------------------------------------------------------- scenario parsing
def _list(section: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError(f"snaptrade: {key} must be a list of objects")
    return value


def _text(item: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"snaptrade: {where}.{key} must be a non-empty string")
    return value


def _decimal(item: Mapping[str, Any], key: str, where: str, default: Any = None) -> Decimal | None:
    value = item.get(key, default)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"snaptrade: {where}.{key} must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"snaptrade: {where}.{key} must be a number, not {value!r}") from None
    if not result.is_finite() or result < 0:
        raise ValueError(f"snaptrade: {where}.{key} must be a finite number >= 0")
    return result


def _time(
    item: Mapping[str, Any], key: str, where: str, loaded_at: float, default: Any = None
) -> float | None:
    value = item.get(key, default)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return loaded_at + float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"snaptrade: {where}.{key} is not an ISO-8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise ValueError(f"snaptrade: {where}.{key} must be an ISO-8601 string or seconds relative to now")


def _parse_account(item: Mapping[str, Any], where: str, loaded_at: float) -> SimAccount:
    account_id = _text(item, "id", where)
    try:
        uuid.UUID(account_id)
    except ValueError:
        raise ValueError(f"snaptrade: {where}.id must be a UUID (SnapTrade account ids are), "
                         f"not {account_id!r}") from None
    balance = item.get("balance") or {}
    if not isinstance(balance, Mapping):
        raise ValueError(f"snaptrade: {where}.balance must be an object with amount and currency")
    status = item.get("status", "open")
    if status not in ("open", "closed", "archived", "unavailable", None):
        raise ValueError(f"snaptrade: {where}.status must be open, closed, archived, unavailable or null")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"snaptrade: {where}.name must be a string or null")
    freshness = item.get("data_freshness", "realtime")
    if freshness not in ("realtime", "delayed"):
        raise ValueError(f"snaptrade: {where}.data_freshness must be realtime or delayed")
    return SimAccount(
        id=account_id,
        brokerage_authorization=_text(item, "brokerage_authorization", where, _uid("auth", account_id)),
        name=name,
        number=_text(item, "number", where),
        institution_name=_text(item, "institution_name", where),
        amount=_decimal(balance, "amount", f"{where}.balance", 0) or Decimal(0),
        currency=_text(balance, "currency", f"{where}.balance", "USD"),
        is_paper=bool(item.get("is_paper", False)),
        status=status,
        read_only=bool(item.get("read_only", False)),
        raw_type=str(item.get("raw_type", "Margin")),
        created=_time(item, "created_date", where, loaded_at, -400 * 86400) or loaded_at,
        data_freshness=freshness,
    )


def _parse_order(item: Mapping[str, Any], where: str, loaded_at: float) -> SimOrder:
    status = _text(item, "status", where, "ACCEPTED")
    if status not in ORDER_STATUSES:
        raise ValueError(f"snaptrade: {where}.status {status!r} is not a SnapTrade order status "
                         f"({', '.join(ORDER_STATUSES)})")
    total = _decimal(item, "total_quantity", where)
    if total is None or total <= 0:
        raise ValueError(f"snaptrade: {where}.total_quantity must be a number > 0")
    filled = _decimal(item, "filled_quantity", where, 0) or Decimal(0)
    if filled > total:
        raise ValueError(f"snaptrade: {where}.filled_quantity exceeds total_quantity")
    if status == "EXECUTED":
        filled = total
    canceled = _decimal(item, "canceled_quantity", where)
    if canceled is None:
        canceled = total - filled if status in ("CANCELED", "PARTIAL_CANCELED", "EXPIRED") else Decimal(0)
    try:
        cancel = CancelSpec.from_dict(item.get("cancel"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"snaptrade: {where}.cancel: {exc}") from None
    placed = _time(item, "time_placed", where, loaded_at, 0.0)
    assert placed is not None
    limit_price = _decimal(item, "limit_price", where)
    stop_price = _decimal(item, "stop_price", where)
    return SimOrder(
        brokerage_order_id=_text(item, "brokerage_order_id", where),
        account_id=_text(item, "account_id", where),
        symbol=_text(item, "symbol", where),
        description=str(item.get("description", "")),
        currency=_text(item, "currency", where, "USD"),
        exchange=_text(item, "exchange", where, "NASDAQ"),
        security_type=_text(item, "security_type", where, "cs"),
        action=_text(item, "action", where),
        order_type=_text(item, "order_type", where, "Limit"),
        time_in_force=_text(item, "time_in_force", where, "Day"),
        total=total,
        filled=filled,
        canceled=canceled,
        limit_price=limit_price,
        stop_price=stop_price,
        execution_price=_decimal(item, "execution_price", where,
                                 limit_price or stop_price if filled else None),
        status=status,
        time_placed=placed,
        time_updated=_time(item, "time_updated", where, loaded_at),
        time_executed=_time(item, "time_executed", where, loaded_at),
        cancel=cancel,
        via_snaptrade=bool(item.get("via_snaptrade", True)),
    )


# ---------------------------------------------------------------------- demo
_DEMO_SYMBOLS: tuple[tuple[str, float, str, str, str], ...] = (
    ("AAPL", 228.0, "NASDAQ", "cs", "Apple Inc."),
    ("MSFT", 415.0, "NASDAQ", "cs", "Microsoft Corporation"),
    ("NVDA", 135.0, "NASDAQ", "cs", "NVIDIA Corporation"),
    ("AMZN", 186.0, "NASDAQ", "cs", "Amazon.com, Inc."),
    ("GOOGL", 165.0, "NASDAQ", "cs", "Alphabet Inc. Class A"),
    ("META", 560.0, "NASDAQ", "cs", "Meta Platforms, Inc. Class A"),
    ("TSLA", 250.0, "NASDAQ", "cs", "Tesla, Inc."),
    ("AMD", 155.0, "NASDAQ", "cs", "Advanced Micro Devices, Inc."),
    ("NFLX", 700.0, "NASDAQ", "cs", "Netflix, Inc."),
    ("COST", 880.0, "NASDAQ", "cs", "Costco Wholesale Corporation"),
    ("PLTR", 42.0, "NASDAQ", "cs", "Palantir Technologies Inc. Class A"),
    ("JPM", 210.0, "NYSE", "cs", "JPMorgan Chase & Co."),
    ("BAC", 40.0, "NYSE", "cs", "Bank of America Corporation"),
    ("V", 280.0, "NYSE", "cs", "Visa Inc. Class A"),
    ("JNJ", 160.0, "NYSE", "cs", "Johnson & Johnson"),
    ("XOM", 118.0, "NYSE", "cs", "Exxon Mobil Corporation"),
    ("KO", 70.0, "NYSE", "cs", "The Coca-Cola Company"),
    ("DIS", 95.0, "NYSE", "cs", "The Walt Disney Company"),
    ("WMT", 80.0, "NYSE", "cs", "Walmart Inc."),
    ("PFE", 29.0, "NYSE", "cs", "Pfizer Inc."),
    ("F", 11.0, "NYSE", "cs", "Ford Motor Company"),
    ("BA", 155.0, "NYSE", "cs", "The Boeing Company"),
    ("UBER", 75.0, "NYSE", "cs", "Uber Technologies, Inc."),
    ("SPY", 570.0, "ARCA", "et", "SPDR S&P 500 ETF Trust"),
    ("QQQ", 490.0, "NASDAQ", "et", "Invesco QQQ Trust, Series 1"),
    ("IWM", 220.0, "ARCA", "et", "iShares Russell 2000 ETF"),
    ("VTI", 285.0, "ARCA", "et", "Vanguard Total Stock Market ETF"),
    ("XLE", 92.0, "ARCA", "et", "Energy Select Sector SPDR Fund"),
    ("GLD", 245.0, "ARCA", "et", "SPDR Gold Shares"),
)


def _demo_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def demo_section(rng: random.Random) -> dict[str, Any]:
    """One user, three accounts at three brokerages (IBKR read-only), ~100 open US-equity orders."""
    now = datetime.now(UTC)
    consumer_key = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                           for _ in range(50))
    accounts = [
        {"id": _demo_uuid(rng), "brokerage_authorization": _demo_uuid(rng), "name": "Questrade Margin",
         "number": str(rng.randint(51_000_000, 51_999_999)), "institution_name": "Questrade",
         "balance": {"amount": 184_523.17, "currency": "USD"}, "is_paper": False, "status": "open",
         "raw_type": "Margin", "read_only": False},
        {"id": _demo_uuid(rng), "brokerage_authorization": _demo_uuid(rng), "name": "Alpaca Individual",
         "number": f"9{rng.randint(10_000_000, 99_999_999)}", "institution_name": "Alpaca",
         "balance": {"amount": 62_310.55, "currency": "USD"}, "is_paper": False, "status": "open",
         "raw_type": "Cash", "read_only": False},
        {"id": _demo_uuid(rng), "brokerage_authorization": _demo_uuid(rng),
         "name": "Interactive Brokers Individual", "number": f"U{rng.randint(1_000_000, 9_999_999)}",
         "institution_name": "Interactive Brokers", "balance": {"amount": 421_907.02, "currency": "USD"},
         "is_paper": False, "status": "open", "raw_type": "Margin", "read_only": True},
    ]

    def order_id(institution: str) -> str:
        if institution == "Alpaca":
            return _demo_uuid(rng)
        if institution == "Questrade":
            return str(rng.randint(1_000_000_000, 1_999_999_999))
        return str(rng.randint(100_000_000, 999_999_999))

    def make_order(account: Mapping[str, Any], *, age_s: float, status: str) -> dict[str, Any]:
        symbol, price, exchange, kind, description = rng.choice(_DEMO_SYMBOLS)
        action = rng.choices(["BUY", "SELL", "SELL_SHORT"], weights=[55, 40, 5])[0]
        order_type = rng.choices(["Limit", "Stop", "StopLimit", "Market"], weights=[75, 12, 10, 3])[0]
        if status in OPEN_STATUSES and order_type == "Market":
            order_type = "Limit"
        buying = action == "BUY"
        if price < 50:
            qty = Decimal(rng.randint(1, 50) * 10)
        elif account["institution_name"] == "Alpaca" and rng.random() < 0.1:
            qty = Decimal(rng.randint(5, 60)) / 4  # fractional shares
        else:
            qty = Decimal(rng.randint(1, 200))
        limit = stop = None
        if order_type == "Limit":
            limit = price * (rng.uniform(0.85, 0.99) if buying else rng.uniform(1.01, 1.15))
        elif order_type in ("Stop", "StopLimit"):
            stop = price * (rng.uniform(1.02, 1.10) if buying else rng.uniform(0.90, 0.98))
            if order_type == "StopLimit":
                limit = stop * (1.01 if buying else 0.99)
        filled = Decimal(0)
        if status == "PARTIAL":
            filled = max(Decimal(1), (qty * Decimal(rng.randint(10, 70)) / 100).quantize(Decimal(1)))
            filled = min(filled, qty - 1) if qty > 1 else Decimal(0)
            if filled <= 0:
                status = "ACCEPTED"
        elif status == "EXECUTED":
            filled = qty
        tif = "GTC" if age_s > 86400 or rng.random() < 0.4 else "Day"
        return {
            "brokerage_order_id": order_id(str(account["institution_name"])),
            "account_id": account["id"],
            "symbol": symbol,
            "description": description,
            "currency": "USD",
            "exchange": exchange,
            "security_type": kind,
            "action": action,
            "order_type": order_type,
            "time_in_force": tif,
            "total_quantity": str(qty),
            "filled_quantity": str(filled),
            "limit_price": f"{limit:.2f}" if limit else None,
            "stop_price": f"{stop:.2f}" if stop else None,
            "status": status,
            "time_placed": (now - timedelta(seconds=age_s)).isoformat().replace("+00:00", "Z"),
        }

    orders: list[dict[str, Any]] = []
    layout = ((accounts[0], 40), (accounts[1], 38), (accounts[2], 22))
    for account, count in layout:
        for i in range(count):
            # The first few: resting GTC orders older than SnapTrade's default 30-day window.
            age = rng.uniform(40, 60) * 86400 if i < 4 else rng.uniform(0.01, 20) * 86400
            status = rng.choices(["ACCEPTED", "PARTIAL", "PENDING"], weights=[80, 14, 6])[0]
            order = make_order(account, age_s=age, status=status)
            if account["institution_name"] == "Interactive Brokers" and i % 5 == 0:
                order["via_snaptrade"] = False  # placed in TWS: only the order list knows it
            orders.append(order)
        for _ in range(8):  # recent history
            status = rng.choices(["EXECUTED", "CANCELED", "REJECTED", "EXPIRED"], weights=[60, 25, 8, 7])[0]
            orders.append(make_order(account, age_s=rng.uniform(1, 25) * 86400, status=status))
    tradable = [o for o in orders if o["status"] in OPEN_STATUSES and o["account_id"] != accounts[2]["id"]]
    picked = rng.sample(tradable, 8)
    for order in picked[:2]:
        order["cancel"] = {"mode": "fill"}
    picked[2]["cancel"] = {"mode": "reject", "message": "Cancel rejected by the brokerage: the order is "
                                                         "being routed to the exchange. Try again shortly."}
    for order in picked[3:7]:
        order["cancel"] = {"mode": "accept", "delay_ms": rng.randint(1500, 4000)}
    picked[7]["cancel"] = {"mode": "never"}
    return {
        "clients": [{"client_id": "BLOTTER-DEMO", "consumer_key": consumer_key}],
        "users": [{"user_id": "blotter-demo-trader", "user_secret": _demo_uuid(rng),
                   "accounts": [a["id"] for a in accounts]}],
        "accounts": accounts,
        "orders": orders,
        "timestamp_tolerance_s": 300,
        "latency_ms": 40,
    }


def demo_connections(
    section: Mapping[str, Any], base_url: str
) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """``(connection name, options, secrets)`` for each demo user, as the adapter wants them."""
    clients = {c["client_id"]: c for c in section.get("clients", [])}
    default_client = next(iter(clients.values()))
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    for i, user in enumerate(section.get("users", [])):
        client = clients.get(user.get("client_id", ""), default_client)
        name = "snaptrade-demo" if i == 0 else f"snaptrade-demo-{i + 1}"
        out.append((
            name,
            {"client_id": str(client["client_id"]), "user_id": str(user["user_id"])},
            {"consumer_key": str(client["consumer_key"]), "user_secret": str(user["user_secret"])},
        ))
    return out


__all__ = [
    "OPEN_STATUSES",
    "ORDER_STATUSES",
    "SnapTradeSim",
    "demo_connections",
    "demo_section",
    "request_signature",
]
