"""AutoShares (ETNA Trader white label) simulator, per venues.md §1 and §5.1.

Serves under ``/api`` (the ETNA ``apiBase``): ``POST /token`` (with 2FA), ``POST /logout`` and the
versioned trading routes ``/v{version}/…`` (``v1.0`` and ``v1``): user info and accounts, account info,
paged and filtered orders (quick ``orders`` and venue-verified ``syncorders``), one order, and cancel.

Scenario section (JSON)::

    {"app_keys": ["…"], "bad_app_key_status": 403, "token_ttl_s": 86400,
     "unknown_order_status": 404, "sync_extra_latency_ms": 50,
     "users": [{"user_id", "username", "password", "two_factor_code"?, "first_name", "last_name",
                "email"?, "accounts": [account ids]}],
     "accounts": [{"id", "clearing_account", "access_type", "margin_type", "owner_type", "alias",
                   "currency", "enabled", "cash", "market_value"?, "clearing_firm"?}],
     "orders": [{"id", "account_id", "symbol", "security_id"?, "side", "type", "quantity", "executed"?,
                 "price"?, "stop_price"?, "status"?, "time_in_force"?, "create_date"?, "description"?,
                 "cancel"?: CancelSpec}],
     "latency_ms", "rate_limit", "faults": common keys (sim/common.py),
     "filters"?: "lenient" | "documented", "status_codes"?: {"Held": 20, …}, "consolidated"?: false}

Switches for documented behaviour (issue 15, VENUE-REALITY §1):

- ``filters``: ``lenient`` (default) accepts every field and operator of the parser below (``Id in (…)``,
  ``Status != n`` …). ``documented`` accepts only what ETNA's get-filtered-orders page documents —
  ``CreateDate`` with ``> >= < <=`` or ``between``, ``SecurityId =``, ``Status in (…)``, joined by ``and`` —
  and answers anything else 400 "filter query is invalid or contains unsupported operations" (AS-oas L2188),
  as a server that does not know ``Id`` as a filter field would.
- ``status_codes``: numeric codes of status names, over the defaults below. ETNA's table stops at 15, its own
  filter example uses code 20 and ``Held``'s code is undocumented: a scenario can give ``Held`` (or any
  status) another code to model an order in a status the client never listed.
- ``consolidated``: serve ``POST /v{ver}/orders/consolidated`` (AS-oas L2337-2394, not in ETNA's docs): body
  ``{AccountIds, PageNumber, PageSize, SortField, Desc}``, ``?filter=``, a ``PagingResult`` of the orders of
  every listed account (each carries its ``AccountId``). Off by default: the route then answers 404 as a
  server without it does.

Choices where the venue's documentation is silent (❓ in venues.md), each an assumption:

- ``Held`` has status code 16 by default (the documented table stops at 15; ``status_codes`` changes it).
- The consolidated body's validation (422 with ``ModelState`` for a missing or empty ``AccountIds`` or paging
  out of range), its 401 for an account of another user and its sort by ``Id`` are assumptions: the
  OpenAPI file lists the fields only.
- DELETE of an unknown order answers ``unknown_order_status``: 404 ``{"Message": "Order N was not
  found."}`` by default, or 422 with a ``ModelState`` body for ``orderId``. GET of an unknown order is
  always that 404.
- A cancel of an order that is already terminal answers 409 ``{"Message": "Order N cannot be cancelled:
  order is Filled"}``; of an order already ``PendingCancel``, 409 "…: a cancel request is already pending".
- An account id that exists but belongs to another user answers 401 (documented); one that does not
  exist at all answers the documented 500 "Unexpected server error" (what ETNA does for a user id given
  instead of an account id).
- Missing or invalid paging parameters answer 422 with ``ModelState``; an invalid ``filter`` or
  ``sortField`` answers 400 ``{"Message": …}``.
- A wrong 2FA code answers 401 ``{"State": "Failed", "Step": "VerificationCode", "Reason": "Invalid
  verification code"}``; the interim token stays usable until it expires (5 minutes).
- 429 (the common rate limit): ``{"Message": "API calls quota exceeded! maximum admitted N per Xs."}``
  with ``Retry-After`` and ``X-RateLimit-Limit/Remaining/Reset`` (AutoShares pages, unverified).
- ``/accounts/{id}/info`` returns balance-like fields whose names are not documented anywhere we could
  read; treat them as illustrative.
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from .common import CancelSpec, SimBase, SimClock, SimMiddleware, SimSettings

# ---------------------------------------------------------------------------------------------- venue facts
STATUS_CODES: dict[str, int] = {
    "New": 0,
    "PartiallyFilled": 1,
    "Filled": 2,
    "DoneForDay": 3,
    "Canceled": 4,
    "Replaced": 5,
    "PendingCancel": 6,
    "Stopped": 7,
    "Rejected": 8,
    "Suspended": 9,
    "PendingNew": 10,
    "Calculated": 11,
    "Expired": 12,
    "AcceptedForBidding": 13,
    "PendingReplace": 14,
    "Error": 15,
    "Held": 16,  # assumption: the documented table stops at 15
}
TERMINAL_STATUSES = frozenset(
    {"Filled", "DoneForDay", "Canceled", "Replaced", "Rejected", "Expired", "Error", "Calculated"}
)
SIDES = ("Buy", "Sell", "SellShort", "BuyToCover")
ORDER_TYPES = (
    "Market", "Limit", "Stop", "StopLimit", "Pegged", "TrailingStop", "TrailingStopLimit",
    "OneCancelOther", "OneTriggerOther", "OneTriggerOneCancelOther", "External",
    "MutualFundsExchange", "StagingBlotter",
)
TIME_IN_FORCE = (
    "Day", "GoodTillCancel", "AtTheOpening", "ImmediateOrCancel", "FillOrKill", "GoodTillCrossing",
    "GoodTillDate", "AtTheClose", "GoodTillTime", "GoodTillCancelPlus", "GoodTillDatePlus",
)
ACCESS_TYPES = ("Full", "ReadOnly", "ClosePositionsOnly", "Owner")
MARGIN_TYPES = ("Empty", "Cash", "Margin", "DayTrader", "MarginIra")

APP_KEY_ERROR = {"error": "Application key is not defined or does not exist"}
DENIED = {"Message": "Authorization has been denied for this request."}
SERVER_ERROR = {
    "message": "An error occurred while processing your request",
    "error": "Unexpected server error",
}
BAD_CREDENTIALS = {"State": "Failed", "Step": "BaseAuthentication", "Reason": "Invalid credentials"}
CORRUPTED_TICKET = {"State": "Failed", "Step": "VerificationCode", "Reason": "Corrupted ticket"}
# Assumption: the words for a wrong code are not documented.
BAD_CODE = {"State": "Failed", "Step": "VerificationCode", "Reason": "Invalid verification code"}
VALIDATION_MESSAGE = "Validation error occured while processing entity"  # sic, ETNA's spelling
NO_DATE = "0001-01-01T00:00:00Z"
INTERIM_TTL_S = 300.0
MAX_PAGE_SIZE = 100

_SECTION_KEYS = {
    "app_keys", "bad_app_key_status", "token_ttl_s", "unknown_order_status", "sync_extra_latency_ms",
    "users", "accounts", "orders", "latency_ms", "rate_limit", "faults", "filters", "status_codes",
    "consolidated",
}
FILTER_MODES = ("lenient", "documented")
# What ETNA's get-filtered-orders page documents: field -> operators (``in``/``between`` as words).
_DOCUMENTED_FILTERS: dict[str, frozenset[str]] = {
    "CreateDate": frozenset({">", ">=", "<", "<=", "between"}),
    "SecurityId": frozenset({"="}),
    "Status": frozenset({"in"}),
}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> float:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _model_state(errors: Mapping[str, list[str]]) -> dict[str, Any]:
    return {"Message": VALIDATION_MESSAGE, "ModelState": {k: list(v) for k, v in errors.items()}}


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=dict(headers or {}))


# ---------------------------------------------------------------------------------------------- state
@dataclass(slots=True)
class SimUser:
    user_id: int
    username: str
    password: str
    two_factor_code: str
    first_name: str
    last_name: str
    email: str
    accounts: list[int]


@dataclass(slots=True)
class SimAccount:
    id: int
    clearing_account: str
    access_type: str
    margin_type: str
    owner_type: str
    alias: str
    currency: str
    enabled: bool
    cash: float
    market_value: float
    clearing_firm: str


@dataclass(slots=True)
class SimOrder:
    id: int
    account_id: int
    symbol: str
    security_id: int
    side: str
    type: str
    quantity: float
    executed: float
    price: float
    stop_price: float
    status: str
    time_in_force: str
    created: float
    updated: float
    description: str
    cancel: CancelSpec
    average_price: float = 0.0
    pending_until: float | None = None  # PendingCancel → Canceled once due
    history: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Token:
    user_id: int
    expires: float
    interim: bool = False


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ValueError(f"autoshares scenario: {where} needs {key!r}")
    return data[key]


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"autoshares scenario: {what} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"autoshares scenario: {what} must be an integer, got {value!r}") from None


def _as_float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"autoshares scenario: {what} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"autoshares scenario: {what} must be a number, got {value!r}") from None


def _one_of(value: Any, allowed: tuple[str, ...] | Mapping[str, int], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"autoshares scenario: {what} {value!r} is not one of {', '.join(allowed)}")
    return str(value)


# ---------------------------------------------------------------------------------------------- filter
class FilterError(ValueError):
    """The ``filter`` query parameter does not parse (the venue answers 400)."""


_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<date>\#[^#]*\#)
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>>=|<=|!=|<>|=|>|<)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)

_INT_FIELDS = {"status": "Status", "securityid": "SecurityId", "id": "Id", "accountid": "AccountId"}
_STR_FIELDS = {"symbol": "Symbol", "side": "Side", "type": "Type", "timeinforce": "TimeInForce"}
_DATE_FIELDS = {"createdate": "CreateDate"}

Predicate = Callable[[SimOrder], bool]


def _field_value(order: SimOrder, name: str, codes: Mapping[str, int] = STATUS_CODES) -> Any:
    return {
        "Status": codes.get(order.status, -1),
        "SecurityId": order.security_id,
        "Id": order.id,
        "AccountId": order.account_id,
        "Symbol": order.symbol,
        "Side": order.side,
        "Type": order.type,
        "TimeInForce": order.time_in_force,
        "CreateDate": order.created,
    }[name]


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op in ("!=", "<>"):
        return bool(left != right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def _in_predicate(name: str, values: frozenset[Any], codes: Mapping[str, int] = STATUS_CODES) -> Predicate:
    return lambda order: _field_value(order, name, codes) in values


def _between_predicate(name: str, low: Any, high: Any, codes: Mapping[str, int] = STATUS_CODES) -> Predicate:
    return lambda order: bool(low <= _field_value(order, name, codes) <= high)


def _op_predicate(name: str, op: str, value: Any, codes: Mapping[str, int] = STATUS_CODES) -> Predicate:
    return lambda order: _compare(op, _field_value(order, name, codes), value)


class _FilterParser:
    """``clause (and clause)*`` where clause is ``Field op value``, ``Field in (v, …)`` or
    ``Field between #d# and #d#``; numbers, 'strings' (quotes doubled inside) and #dates#."""

    def __init__(self, text: str, codes: Mapping[str, int] = STATUS_CODES, documented: bool = False) -> None:
        self.codes = codes
        self.documented = documented
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if match is None or match.end() == pos:
                raise FilterError(f"unexpected character at position {pos}: {text[pos:pos + 10]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.pos = 0

    def parse(self) -> list[Predicate]:
        if not self.tokens:
            return []
        predicates = [self._clause()]
        while self._peek_word("and"):
            self.pos += 1
            predicates.append(self._clause())
        if self.pos != len(self.tokens):
            raise FilterError(f"unexpected {self.tokens[self.pos][1]!r}")
        return predicates

    def _peek_word(self, word: str) -> bool:
        return (
            self.pos < len(self.tokens)
            and self.tokens[self.pos][0] == "word"
            and self.tokens[self.pos][1].lower() == word
        )

    def _next(self, what: str) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise FilterError(f"expected {what} at the end of the filter")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _clause(self) -> Predicate:
        kind, name = self._next("a field name")
        if kind != "word":
            raise FilterError(f"expected a field name, got {name!r}")
        key = name.lower()
        if key in _INT_FIELDS:
            fname, vkind = _INT_FIELDS[key], "number"
        elif key in _STR_FIELDS:
            fname, vkind = _STR_FIELDS[key], "string"
        elif key in _DATE_FIELDS:
            fname, vkind = _DATE_FIELDS[key], "date"
        else:
            raise FilterError(f"unknown field {name!r}")
        if self.documented and fname not in _DOCUMENTED_FILTERS:
            raise FilterError(f"unsupported field {name!r}")
        if self._peek_word("in"):
            self._documented_op(fname, "in")
            self.pos += 1
            values = self._list(vkind)
            return _in_predicate(fname, frozenset(values), self.codes)
        if self._peek_word("between"):
            if vkind == "string":
                raise FilterError(f"'between' is not supported for {fname}")
            self._documented_op(fname, "between")
            self.pos += 1
            low = self._value(vkind)
            if not self._peek_word("and"):
                raise FilterError("expected 'and' in 'between … and …'")
            self.pos += 1
            high = self._value(vkind)
            return _between_predicate(fname, low, high, self.codes)
        kind, op = self._next("an operator")
        if kind != "op":
            raise FilterError(f"expected an operator after {name}, got {op!r}")
        if vkind == "string" and op not in ("=", "!=", "<>"):
            raise FilterError(f"operator {op} is not supported for {fname}")
        self._documented_op(fname, op)
        value = self._value(vkind)
        return _op_predicate(fname, op, value, self.codes)

    def _documented_op(self, fname: str, op: str) -> None:
        if self.documented and op not in _DOCUMENTED_FILTERS.get(fname, frozenset()):
            raise FilterError(f"unsupported operation {op!r} on {fname}")

    def _list(self, vkind: str) -> list[Any]:
        _kind, text = self._next("'('")
        if text != "(":
            raise FilterError(f"expected '(' after 'in', got {text!r}")
        values = [self._value(vkind)]
        while True:
            _kind, text = self._next("')'")
            if text == ")":
                return values
            if text != ",":
                raise FilterError(f"expected ',' or ')', got {text!r}")
            values.append(self._value(vkind))

    def _value(self, vkind: str) -> Any:
        kind, text = self._next("a value")
        if vkind == "number":
            if kind != "number" or "." in text:
                raise FilterError(f"expected an integer, got {text!r}")
            return int(text)
        if vkind == "string":
            if kind != "string":
                raise FilterError(f"expected a 'quoted' string, got {text!r}")
            return text[1:-1].replace("''", "'")
        if kind != "date":
            raise FilterError(f"expected a #date#, got {text!r}")
        try:
            return _parse_iso(text[1:-1])
        except ValueError:
            raise FilterError(f"not a date: {text!r}") from None


def parse_filter(
    text: str, codes: Mapping[str, int] = STATUS_CODES, *, documented: bool = False
) -> list[Predicate]:
    """Parse an ETNA order filter into predicates that must all hold; raises ``FilterError``.

    ``documented``: only the documented fields and operators (see the module docstring's ``filters``)."""
    return _FilterParser(text, codes, documented).parse()


_SORT_FIELDS: dict[str, Callable[[SimOrder], Any]] = {
    "id": lambda o: o.id,
    "quantity": lambda o: o.quantity,
    "executedquantity": lambda o: o.executed,
    "price": lambda o: o.price,
    "stopprice": lambda o: o.stop_price,
    "createdate": lambda o: o.created,
    "date": lambda o: o.updated,
    "symbol": lambda o: o.symbol,
    "securityid": lambda o: o.security_id,
    "status": lambda o: STATUS_CODES.get(o.status, -1),
    "side": lambda o: o.side,
    "type": lambda o: o.type,
}


# ---------------------------------------------------------------------------------------------- the simulator
Handler = Callable[[Request], Awaitable[Response]]
Guarded = Callable[[Request, SimUser], Awaitable[Response]]


class AutoSharesSim(SimBase):
    """The AutoShares/ETNA Trading API as a Starlette app; state guarded by ``self.lock``."""

    venue_name = "autoshares"
    base_path = "/api"

    def __init__(
        self,
        settings: SimSettings,
        clock: SimClock | None = None,
        *,
        app_keys: list[str],
        users: list[SimUser],
        accounts: list[SimAccount],
        orders: list[SimOrder],
        bad_app_key_status: int = 403,
        token_ttl_s: float = 86400.0,
        unknown_order_status: int = 404,
        sync_extra_latency_ms: int = 50,
        filters: str = "lenient",
        status_codes: Mapping[str, int] | None = None,
        consolidated: bool = False,
    ) -> None:
        super().__init__(settings, clock)
        self.filters = filters
        self.status_codes = {**STATUS_CODES, **(status_codes or {})}
        self.consolidated = consolidated
        self.app_keys = set(app_keys)
        self.users = {u.user_id: u for u in users}
        self.accounts = {a.id: a for a in accounts}
        self.orders = {o.id: o for o in orders}
        self.bad_app_key_status = bad_app_key_status
        self.token_ttl_s = token_ttl_s
        self.unknown_order_status = unknown_order_status
        self.sync_extra_latency_ms = sync_extra_latency_ms
        self._tokens: dict[str, _Token] = {}
        self._issued: list[str] = []  # every token ever handed out, interim ones included
        self._rng = random.Random(0x45544E41)  # tokens of a local simulator
        self._app = self._build_app()

    # ---------------------------------------------------------------- scenario
    @classmethod
    def from_scenario(cls, section: Mapping[str, Any], clock: SimClock | None = None) -> AutoSharesSim:
        if not isinstance(section, Mapping):
            raise ValueError("autoshares scenario section must be an object")
        unknown = set(section) - _SECTION_KEYS
        if unknown:
            raise ValueError(f"autoshares scenario has unknown keys: {', '.join(sorted(unknown))}")
        settings = SimSettings.from_dict(section)
        app_keys = [str(k) for k in section.get("app_keys", [])]
        if not app_keys:
            raise ValueError("autoshares scenario needs at least one entry in 'app_keys'")
        bad_status = _as_int(section.get("bad_app_key_status", 403), "bad_app_key_status")
        if bad_status not in (401, 403):
            raise ValueError("autoshares scenario: bad_app_key_status must be 401 or 403")
        unknown_status = _as_int(section.get("unknown_order_status", 404), "unknown_order_status")
        if unknown_status not in (404, 422):
            raise ValueError("autoshares scenario: unknown_order_status must be 404 or 422")

        accounts: list[SimAccount] = []
        for i, raw in enumerate(section.get("accounts", [])):
            where = f"accounts[{i}]"
            account_id = _as_int(_require(raw, "id", where), f"{where}.id")
            accounts.append(SimAccount(
                id=account_id,
                clearing_account=str(raw.get("clearing_account", f"AS{account_id:08d}")),
                access_type=_one_of(raw.get("access_type", "Full"), ACCESS_TYPES, f"{where}.access_type"),
                margin_type=_one_of(raw.get("margin_type", "Cash"), MARGIN_TYPES, f"{where}.margin_type"),
                owner_type=str(raw.get("owner_type", "IndividualCustomer")),
                alias=str(raw.get("alias", "")),
                currency=str(raw.get("currency", "USD")),
                enabled=bool(raw.get("enabled", True)),
                cash=_as_float(raw.get("cash", 0), f"{where}.cash"),
                market_value=_as_float(raw.get("market_value", 0), f"{where}.market_value"),
                clearing_firm=str(raw.get("clearing_firm", "PaperTrading")),
            ))
        account_ids = {a.id for a in accounts}
        if len(account_ids) != len(accounts):
            raise ValueError("autoshares scenario: account ids must be unique")

        users: list[SimUser] = []
        for i, raw in enumerate(section.get("users", [])):
            where = f"users[{i}]"
            owned = [_as_int(a, f"{where}.accounts") for a in raw.get("accounts", [])]
            for a in owned:
                if a not in account_ids:
                    raise ValueError(f"autoshares scenario: {where} refers to unknown account {a}")
            users.append(SimUser(
                user_id=_as_int(_require(raw, "user_id", where), f"{where}.user_id"),
                username=str(_require(raw, "username", where)),
                password=str(_require(raw, "password", where)),
                two_factor_code=str(raw.get("two_factor_code") or ""),
                first_name=str(raw.get("first_name", "")),
                last_name=str(raw.get("last_name", "")),
                email=str(raw.get("email", f"{raw.get('username', 'user')}@example.com")),
                accounts=owned,
            ))
        if len({u.user_id for u in users}) != len(users) or len({u.username for u in users}) != len(users):
            raise ValueError("autoshares scenario: user ids and usernames must be unique")

        now = (clock or SimClock()).now()
        security_ids: dict[str, int] = {}
        orders: list[SimOrder] = []
        for i, raw in enumerate(section.get("orders", [])):
            where = f"orders[{i}]"
            order_id = _as_int(_require(raw, "id", where), f"{where}.id")
            account_id = _as_int(_require(raw, "account_id", where), f"{where}.account_id")
            if account_id not in account_ids:
                raise ValueError(f"autoshares scenario: {where} refers to unknown account {account_id}")
            symbol = str(_require(raw, "symbol", where)).upper()
            if "security_id" in raw:
                security_id = _as_int(raw["security_id"], f"{where}.security_id")
                security_ids.setdefault(symbol, security_id)
            else:
                security_id = security_ids.setdefault(symbol, _security_id(symbol))
            quantity = _as_float(_require(raw, "quantity", where), f"{where}.quantity")
            executed = _as_float(raw.get("executed", 0), f"{where}.executed")
            if quantity <= 0 or not 0 <= executed <= quantity:
                raise ValueError(
                    f"autoshares scenario: {where} needs quantity > 0 and 0 <= executed <= quantity"
                )
            created_text = raw.get("create_date")
            try:
                created = _parse_iso(str(created_text)) if created_text else now
            except ValueError:
                raise ValueError(
                    f"autoshares scenario: {where}.create_date is not ISO-8601: {created_text!r}"
                ) from None
            price = _as_float(raw.get("price", 0) or 0, f"{where}.price")
            status = _one_of(raw.get("status", "New"), STATUS_CODES, f"{where}.status")
            orders.append(SimOrder(
                id=order_id,
                account_id=account_id,
                symbol=symbol,
                security_id=security_id,
                side=_one_of(raw.get("side", "Buy"), SIDES, f"{where}.side"),
                type=_one_of(raw.get("type", "Limit"), ORDER_TYPES, f"{where}.type"),
                quantity=quantity,
                executed=executed,
                price=price,
                stop_price=_as_float(raw.get("stop_price", 0) or 0, f"{where}.stop_price"),
                status=status,
                time_in_force=_one_of(
                    raw.get("time_in_force", "Day"), TIME_IN_FORCE, f"{where}.time_in_force"
                ),
                created=created,
                updated=created,
                description=str(raw.get("description", "")),
                cancel=CancelSpec.from_dict(raw.get("cancel")),
                average_price=price if executed else 0.0,
            ))
        if len({o.id for o in orders}) != len(orders):
            raise ValueError("autoshares scenario: order ids must be unique")

        return cls(
            settings,
            clock,
            app_keys=app_keys,
            users=users,
            accounts=accounts,
            orders=orders,
            bad_app_key_status=bad_status,
            token_ttl_s=_as_float(section.get("token_ttl_s", 86400), "token_ttl_s"),
            unknown_order_status=unknown_status,
            sync_extra_latency_ms=_as_int(section.get("sync_extra_latency_ms", 50), "sync_extra_latency_ms"),
            filters=_one_of(section.get("filters", "lenient"), FILTER_MODES, "filters"),
            status_codes=_status_codes(section.get("status_codes", {})),
            consolidated=bool(section.get("consolidated", False)),
        )

    # ---------------------------------------------------------------- venue shapes
    def rate_limited_response(self, retry_after: int) -> Response:
        # Assumption: AutoShares pages document the headers, not the body.
        limit, window = self.settings.rate_limit, self.settings.rate_window_s
        with self.lock:
            reset = int(self._window_start + window)
        return _json(
            {"Message": f"API calls quota exceeded! maximum admitted {limit} per {window:g}s."},
            429,
            {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(limit),
             "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        )

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            return dict(DENIED)
        if status == 403:
            return dict(APP_KEY_ERROR)
        if status == 422:
            return _model_state({"model": [message]})
        if status >= 500:
            return dict(SERVER_ERROR)
        return {"Message": message}

    @property
    def app(self) -> SimMiddleware:
        return SimMiddleware(self._app, self)

    # ---------------------------------------------------------------- test helpers (thread-safe)
    def order(self, order_id: int) -> dict[str, Any]:
        """The order as the venue would answer it (OrderResource)."""
        with self.lock:
            self._apply_due()
            return self._resource(self.orders[int(order_id)])

    def order_status(self, order_id: int) -> str:
        with self.lock:
            self._apply_due()
            return self.orders[int(order_id)].status

    def set_status(self, order_id: int, status: str) -> None:
        if status not in STATUS_CODES:
            raise ValueError(f"unknown AutoShares status {status!r}")
        with self.lock:
            order = self.orders[int(order_id)]
            order.status = status
            order.pending_until = None
            order.updated = self.clock.now()

    def open_order_ids(self, account_id: int) -> list[int]:
        with self.lock:
            self._apply_due()
            return sorted(
                o.id for o in self.orders.values()
                if o.account_id == int(account_id) and o.status not in TERMINAL_STATUSES
            )

    def expire_tokens(self) -> None:
        """Every token issued so far is expired from now on (absolute expiry, no refresh)."""
        with self.lock:
            now = self.clock.now()
            for token in self._tokens.values():
                token.expires = min(token.expires, now - 1)

    def issued_tokens(self) -> list[str]:
        """Every token (final and interim) handed out so far, for tests that look for leaks."""
        with self.lock:
            return list(self._issued)

    # ---------------------------------------------------------------- state internals (lock held)
    def _apply_due(self) -> None:
        now = self.clock.now()
        for order in self.orders.values():
            if order.pending_until is not None and order.pending_until <= now:
                order.pending_until = None
                if order.status == "PendingCancel":
                    self._set(order, "Canceled", at=now)

    def _set(self, order: SimOrder, status: str, at: float | None = None) -> None:
        order.status = status
        order.updated = self.clock.now() if at is None else at
        order.history.append(status)
        if status == "Filled":
            order.executed = order.quantity
            order.average_price = order.price or order.stop_price or order.average_price or 100.0

    def _new_token(self, user_id: int, ttl: float, interim: bool = False) -> str:
        raw = self._rng.getrandbits(320).to_bytes(40, "big")
        token = base64.b64encode(raw).decode()
        self._tokens[token] = _Token(user_id, self.clock.now() + ttl, interim)
        self._issued.append(token)
        return token

    def _token_user(self, header: str, *, interim: bool) -> SimUser | None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        with self.lock:
            token = self._tokens.get(value.strip())
            if token is None or token.interim != interim or token.expires <= self.clock.now():
                return None
            return self.users.get(token.user_id)

    def _resource(self, order: SimOrder) -> dict[str, Any]:
        account = self.accounts[order.account_id]
        owner = next((u for u in self.users.values() if order.account_id in u.accounts), None)
        leaves = 0.0 if order.status in TERMINAL_STATUSES else order.quantity - order.executed
        created_day = datetime.fromtimestamp(order.created, UTC)
        expire = (
            _iso(created_day.replace(hour=21, minute=0, second=0, microsecond=0).timestamp())
            if order.time_in_force == "Day" else NO_DATE
        )
        request_status = "Rejected" if order.status in ("Rejected", "Error") else "Complete"
        return {
            "Id": order.id,
            "AccountId": order.account_id,
            "UserId": owner.user_id if owner else 0,
            "SecurityId": order.security_id,
            "Symbol": order.symbol,
            "SecurityType": "Stock",
            "Currency": account.currency,
            "Quantity": order.quantity,
            "Price": order.price,
            "StopPrice": order.stop_price,
            "ClientId": str(1_000_000_000 + order.id * 7919 % 1_000_000_000),
            "ExecutedQuantity": order.executed,
            "LastPrice": order.average_price,
            "LastQuantity": order.executed,
            "LeavesQuantity": leaves,
            "AveragePrice": order.average_price,
            "Side": order.side,
            "Date": _iso(order.updated),
            "TransactionDate": _iso(order.updated),
            "SettDate": NO_DATE,
            "Status": order.status,
            "ExecutionStatus": order.status,
            "Type": order.type,
            "InitialType": order.type,
            "RequestStatus": request_status,
            "Target": "New",
            "Description": order.description,
            "Comment": "",
            "TimeInForce": order.time_in_force,
            "ExecInst": 0,
            "ExpireDate": expire,
            "CounterPartyOrderId": str(1_000_000_000 + order.id * 7919 % 1_000_000_000),
            "RequestId": 90_000 + order.id,
            "StateId": 160_000 + order.id * 3 + len(order.history),
            "ParentId": -1,
            "Legs": [],
            "Exchange": "Auto",
            "ExecutionVenue": "AutoShares Simulator",
            "TrailingStopAmountType": "Absolute",
            "TrailingStopAmount": 0,
            "TrailingLimitAmountType": "Absolute",
            "TrailingLimitAmount": 0,
            "CreateDate": _iso(order.created),
            "IsExternal": False,
            "ExecBrocker": "Auto",
            "ExecutionInstructions": {},
            "TransType": "New",
            "ExecId": str(170_000_000 + order.id) if order.executed else "",
            "ValidationsToBypass": 0,
            "ParentRequestId": 0,
            "SettlementDate": NO_DATE,
            "ClearingAccount": account.clearing_account,
            "AccountName": account.alias or account.clearing_account,
            "UserName": owner.username if owner else "",
        }

    def _user_info(self, user: SimUser) -> dict[str, Any]:
        return {
            "UserId": user.user_id,
            "FirstName": user.first_name,
            "MiddleName": "",
            "LastName": user.last_name,
            "Login": user.username,
            "Email": user.email,
            "Role": 2,
            "AddedDate": "2021-03-15T14:22:05.113Z",
            "Salutation": "None",
            "Suffix": "None",
            "DateOfBirth": NO_DATE,
        }

    def _account_model(self, account: SimAccount, user: SimUser) -> dict[str, Any]:
        owners = [self._user_info(u) for u in self.users.values() if account.id in u.accounts]
        return {
            "Id": account.id,
            "ClearingAccount": account.clearing_account,
            "AccessType": account.access_type,
            "MarginType": account.margin_type,
            "OwnerType": account.owner_type,
            "Enabled": account.enabled,
            "Alias": account.alias,
            "ClearingFirm": account.clearing_firm,
            "IsAverageAccount": False,
            "Owners": owners or [self._user_info(user)],
            "Currency": account.currency,
        }

    def _account_info(self, account: SimAccount) -> dict[str, Any]:
        # Assumption: field names illustrative (undocumented in the sources we hold).
        equity = account.cash + account.market_value
        multiplier = {"Margin": 2, "DayTrader": 4, "MarginIra": 1}.get(account.margin_type, 1)
        open_orders = [
            o for o in self.orders.values()
            if o.account_id == account.id and o.status not in TERMINAL_STATUSES
        ]
        return {
            "Id": account.id,
            "ClearingAccount": account.clearing_account,
            "Alias": account.alias,
            "MarginType": account.margin_type,
            "AccessType": account.access_type,
            "Currency": account.currency,
            "Enabled": account.enabled,
            "Cash": round(account.cash, 2),
            "NetCash": round(account.cash, 2),
            "MarketValue": round(account.market_value, 2),
            "Equity": round(equity, 2),
            "BuyingPower": round(max(0.0, account.cash if multiplier == 1 else equity * multiplier), 2),
            "DayTradingBuyingPower": round(equity * 4, 2) if account.margin_type == "DayTrader" else 0.0,
            "PendingOrdersCount": len(open_orders),
            "UpdatedAt": _iso(self.clock.now()),
        }

    # ---------------------------------------------------------------- app
    def _build_app(self) -> Starlette:
        v = "/v{version}"
        routes = [
            Route("/token", self._token, methods=["POST"]),
            Route("/logout", self._logout, methods=["POST"]),
            Route(v + "/users/{userId}/info", self._guard(self._get_user_info), methods=["GET"]),
            Route(v + "/users/{userId}/accounts", self._guard(self._get_user_accounts), methods=["GET"]),
            Route(v + "/accounts/{accountId}/info", self._guard(self._get_account_info), methods=["GET"]),
            Route(v + "/accounts/{accountId}/orders", self._guard(self._list_orders), methods=["GET"]),
            Route(v + "/accounts/{accountId}/syncorders", self._guard(self._list_orders), methods=["GET"]),
            Route(v + "/accounts/{accountId}/orders/{orderId}", self._guard(self._one_order),
                  methods=["GET", "DELETE"]),
            Route(v + "/orders/consolidated", self._guard(self._consolidated_orders), methods=["POST"]),
            Route(v + "/accounts/{accountId}/syncorders/{orderId}", self._guard(self._one_order),
                  methods=["GET", "DELETE"]),
        ]

        async def not_found(request: Request, exc: Exception) -> Response:
            return _no_resource(request)

        async def not_allowed(request: Request, exc: Exception) -> Response:
            message = f"The requested resource does not support http method '{request.method}'."
            return _json({"Message": message}, 405)

        return Starlette(
            routes=[Mount(self.base_path, routes=routes)],
            exception_handlers={404: not_found, 405: not_allowed},
        )

    def _guard(self, handler: Guarded) -> Handler:
        """The checks every versioned route runs: version, Et-App-Key, bearer token."""

        async def guarded(request: Request) -> Response:
            if request.path_params.get("version") not in ("1.0", "1"):
                return _no_resource(request)
            if request.headers.get("Et-App-Key", "") not in self.app_keys:
                return _json(APP_KEY_ERROR, self.bad_app_key_status)
            user = self._token_user(request.headers.get("Authorization", ""), interim=False)
            if user is None:
                return _json(DENIED, 401)
            return await handler(request, user)

        return guarded

    # ---------------------------------------------------------------- /token, /logout
    async def _token(self, request: Request) -> Response:
        headers = request.headers
        if headers.get("Et-App-Key", "") not in self.app_keys:
            return _json(APP_KEY_ERROR, self.bad_app_key_status)
        username, password = headers.get("Username", ""), headers.get("Password", "")
        with self.lock:
            user = next((u for u in self.users.values() if u.username == username), None)
            if user is None or not password or user.password != password:
                return _json(BAD_CREDENTIALS, 401)
            if not user.two_factor_code:
                return _json({"State": "Succeeded", "Token": self._new_token(user.user_id, self.token_ttl_s)})
            code = headers.get("VerificationCode")
            if code is None:
                interim = self._new_token(user.user_id, INTERIM_TTL_S, interim=True)
                return _json(
                    {"Step": "VerificationCode", "Reason": "Expecting confirmation code",
                     "State": "Expecting", "Token": interim},
                    202,
                )
        ticket_user = self._token_user(headers.get("Authorization", ""), interim=True)
        if ticket_user is None or ticket_user.user_id != user.user_id:
            return _json(CORRUPTED_TICKET, 401)
        if code.strip() != user.two_factor_code:
            return _json(BAD_CODE, 401)
        with self.lock:
            interim_token = headers.get("Authorization", "").strip().partition(" ")[2].strip()
            self._tokens.pop(interim_token, None)
            return _json({"State": "Succeeded", "Token": self._new_token(user.user_id, self.token_ttl_s)})

    async def _logout(self, request: Request) -> Response:
        if request.headers.get("Et-App-Key", "") not in self.app_keys:
            return _json(APP_KEY_ERROR, self.bad_app_key_status)
        _, _, value = request.headers.get("Authorization", "").strip().partition(" ")
        with self.lock:
            self._tokens.pop(value.strip(), None)
        return Response(status_code=204)

    # ---------------------------------------------------------------- users, accounts
    def _path_int(self, request: Request, name: str) -> int | Response:
        text = str(request.path_params[name])
        try:
            value = int(text)
        except ValueError:
            return _json(_model_state({name: [f"The value '{text}' is not valid for Int32."]}), 422)
        if not -(2**31) <= value < 2**31:
            return _json(_model_state({name: [f"The value '{text}' is not valid for Int32."]}), 422)
        return value

    def _own_account(self, request: Request, user: SimUser) -> SimAccount | Response:
        account_id = self._path_int(request, "accountId")
        if isinstance(account_id, Response):
            return account_id
        with self.lock:
            account = self.accounts.get(account_id)
        if account is None:
            return _json(SERVER_ERROR, 500)  # documented for a user id given instead of an account id
        if account_id not in user.accounts:
            return _json(DENIED, 401)
        return account

    def _user_for_path(self, request: Request, user: SimUser) -> SimUser | Response:
        text = str(request.path_params["userId"])
        if text == "@me":
            return user
        user_id = self._path_int(request, "userId")
        if isinstance(user_id, Response):
            return user_id
        if user_id != user.user_id:
            return _json(DENIED, 401)
        return user

    async def _get_user_info(self, request: Request, user: SimUser) -> Response:
        target = self._user_for_path(request, user)
        if isinstance(target, Response):
            return target
        with self.lock:
            return _json(self._user_info(target))

    async def _get_user_accounts(self, request: Request, user: SimUser) -> Response:
        target = self._user_for_path(request, user)
        if isinstance(target, Response):
            return target
        with self.lock:
            return _json([self._account_model(self.accounts[a], target) for a in target.accounts])

    async def _get_account_info(self, request: Request, user: SimUser) -> Response:
        account = self._own_account(request, user)
        if isinstance(account, Response):
            return account
        with self.lock:
            self._apply_due()
            return _json(self._account_info(account))

    # ---------------------------------------------------------------- orders
    async def _sync_delay(self, request: Request) -> None:
        if "/syncorders" in request.url.path and self.sync_extra_latency_ms > 0:
            await asyncio.sleep(self.sync_extra_latency_ms / 1000)

    async def _list_orders(self, request: Request, user: SimUser) -> Response:
        account = self._own_account(request, user)
        if isinstance(account, Response):
            return account
        query = request.query_params
        errors: dict[str, list[str]] = {}
        paging: dict[str, int] = {}
        for name, low, high in (("pageNumber", 0, 2**31 - 1), ("pageSize", 1, MAX_PAGE_SIZE)):
            text = query.get(name)
            if text is None or text == "":
                errors[name] = ["A value is required but was not present in the request."]
                continue
            try:
                value = int(text)
            except ValueError:
                errors[name] = [f"The value '{text}' is not valid for Int32."]
                continue
            if not low <= value <= high:
                errors[name] = [f"The field {name} must be between {low} and {high}."]
                continue
            paging[name] = value
        desc_text = query.get("desc", "false")
        if desc_text.lower() not in ("true", "false"):
            errors["desc"] = [f"The value '{desc_text}' is not valid for Boolean."]
        if errors:
            return _json(_model_state(errors), 422)
        sort_field = query.get("sortField", "") or "Id"
        sort_key = _SORT_FIELDS.get(sort_field.lower())
        if sort_key is None:
            return _json({"Message": f"Sort field '{sort_field}' is not supported."}, 400)
        try:
            predicates = self._parse_filter(query.get("filter", ""))
        except FilterError as exc:
            return _json({"Message": f"The filter is invalid: {exc}"}, 400)
        await self._sync_delay(request)
        page_number, page_size = paging["pageNumber"], paging["pageSize"]
        with self.lock:
            self._apply_due()
            matching = [
                o for o in self.orders.values()
                if o.account_id == account.id and all(p(o) for p in predicates)
            ]
            matching.sort(key=lambda o: (sort_key(o), o.id), reverse=desc_text.lower() == "true")
            start = page_number * page_size
            page = [self._resource(o) for o in matching[start:start + page_size]]
        total = len(matching)
        next_link = (
            str(request.url.include_query_params(pageNumber=page_number + 1))
            if start + page_size < total else ""
        )
        previous_link = (
            str(request.url.include_query_params(pageNumber=page_number - 1)) if page_number > 0 else ""
        )
        return _json({"Result": page, "NextPageLink": next_link, "PreviousPageLink": previous_link,
                      "TotalCount": total})

    def _parse_filter(self, text: str) -> list[Predicate]:
        return parse_filter(text, self.status_codes, documented=self.filters == "documented")

    async def _consolidated_orders(self, request: Request, user: SimUser) -> Response:
        """``POST /orders/consolidated``: one page of the orders of several accounts (module docstring)."""
        if not self.consolidated:
            return _no_resource(request)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            return _json(_model_state({"model": ["A value is required but was not present in the request."]}), 422)
        errors: dict[str, list[str]] = {}
        ids = body.get("AccountIds")
        if not isinstance(ids, list) or not ids or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids):
            errors["AccountIds"] = ["The AccountIds field is required."]
        paging: dict[str, int] = {}
        for name, low, high in (("PageNumber", 0, 2**31 - 1), ("PageSize", 1, MAX_PAGE_SIZE)):
            value = body.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[name] = [f"The field {name} must be between {low} and {high}."]
            else:
                paging[name] = value
        if errors:
            return _json(_model_state(errors), 422)
        assert isinstance(ids, list)
        if any(i not in user.accounts for i in ids):
            return _json(DENIED, 401)
        sort_field = str(body.get("SortField") or "Id")
        sort_key = _SORT_FIELDS.get(sort_field.lower())
        if sort_key is None:
            return _json({"Message": f"Sort field '{sort_field}' is not supported."}, 400)
        try:
            predicates = self._parse_filter(request.query_params.get("filter", ""))
        except FilterError as exc:
            return _json({"Message": f"The filter is invalid: {exc}"}, 400)
        page_number, page_size = paging["PageNumber"], paging["PageSize"]
        wanted = set(ids)
        with self.lock:
            self._apply_due()
            matching = [o for o in self.orders.values() if o.account_id in wanted and all(p(o) for p in predicates)]
            matching.sort(key=lambda o: (sort_key(o), o.id), reverse=body.get("Desc") is True)
            start = page_number * page_size
            page = [self._resource(o) for o in matching[start:start + page_size]]
        return _json({"Result": page, "NextPageLink": "", "PreviousPageLink": "", "TotalCount": len(matching)})

    async def _one_order(self, request: Request, user: SimUser) -> Response:
        account = self._own_account(request, user)
        if isinstance(account, Response):
            return account
        order_id = self._path_int(request, "orderId")
        if isinstance(order_id, Response):
            return order_id
        if request.method == "DELETE":
            return await self._cancel(request, account, order_id)
        await self._sync_delay(request)
        with self.lock:
            self._apply_due()
            order = self.orders.get(order_id)
            if order is None or order.account_id != account.id:
                return _json({"Message": f"Order {order_id} was not found."}, 404)
            return _json(self._resource(order))

    async def _cancel(self, request: Request, account: SimAccount, order_id: int) -> Response:
        sync = "/syncorders/" in request.url.path
        await self._sync_delay(request)
        if account.access_type == "ReadOnly":
            return _json(DENIED, 401)  # 401: "access level … not sufficient" (Swagger)
        with self.lock:
            self._apply_due()
            order = self.orders.get(order_id)
            if order is None or order.account_id != account.id:
                message = f"Order {order_id} was not found."
                if self.unknown_order_status == 422:
                    return _json(_model_state({"orderId": [message]}), 422)
                return _json({"Message": message}, 404)
            # Assumption: body shape of the documented 409 (the docs give no body).
            if order.status in TERMINAL_STATUSES:
                return _json({"Message": f"Order {order_id} cannot be cancelled: order is {order.status}"},
                             409)
            if order.status == "PendingCancel":
                message = f"Order {order_id} cannot be cancelled: a cancel request is already pending"
                return _json({"Message": message}, 409)
            spec = order.cancel
            now = self.clock.now()
            if spec.mode == "accept":
                if spec.delay_ms > 0:
                    self._set(order, "PendingCancel")
                    order.pending_until = now + spec.delay_ms / 1000
                else:
                    self._set(order, "Canceled")
                return Response(status_code=204)
            if spec.mode == "never":
                self._set(order, "PendingCancel")
                return Response(status_code=204)
            if spec.mode == "reject":
                status = spec.status or 409
                message = spec.message or f"Order {order_id} cannot be cancelled at this time"
                if status == 422:
                    return _json(_model_state({"orderId": [message]}), 422)
                body = {"Message": message} if status == 409 else self.error_body(status, message)
                return _json(body, status)
            if spec.mode == "fill":
                # The execution raced the cancel. The quick path is only verified by the API, so it
                # answers 204; the sync path asks the execution venue and sees the fill.
                self._set(order, "Filled")
                if sync:
                    return _json({"Message": f"Order {order_id} cannot be cancelled: order is Filled"}, 409)
                return Response(status_code=204)
            if spec.effect == "cancel":
                self._set(order, "Canceled")
            if spec.mode == "error":
                return _json(SERVER_ERROR, 500)
        # timeout: the effect is applied, the answer comes late
        if spec.delay_ms > 0:
            await asyncio.sleep(spec.delay_ms / 1000)
        return Response(status_code=204)


def _status_codes(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValueError("autoshares scenario: status_codes must be an object of status name -> code")
    codes: dict[str, int] = {}
    for name, code in value.items():
        _one_of(name, STATUS_CODES, "status_codes")
        codes[str(name)] = _as_int(code, f"status_codes.{name}")
    return codes


def _no_resource(request: Request) -> Response:
    message = f"No HTTP resource was found that matches the request URI '{request.url}'."
    return _json({"Message": message}, 404)


def _security_id(symbol: str) -> int:
    known = {s: i for i, s in enumerate(_DEMO_PRICES, start=4)}
    if symbol in known:
        return known[symbol]
    return 1000 + sum((i + 1) * ord(c) for i, c in enumerate(symbol)) % 9000


# ---------------------------------------------------------------------------------------------- demo
_DEMO_PRICES: dict[str, float] = {
    "AAPL": 228.40, "MSFT": 417.15, "NVDA": 136.20, "AMZN": 198.75, "GOOGL": 171.90, "META": 563.10,
    "TSLA": 251.30, "JPM": 224.60, "V": 289.45, "XOM": 116.80, "UNH": 521.35, "JNJ": 156.20,
    "WMT": 80.45, "PG": 167.90, "HD": 391.20, "KO": 63.15, "PEP": 164.80, "COST": 897.50,
    "AMD": 141.25, "NFLX": 702.40, "INTC": 22.35, "DIS": 95.60, "BAC": 42.15, "CVX": 151.70,
    "CRM": 289.90, "ORCL": 176.35, "AVGO": 168.45, "LLY": 812.30, "MA": 497.20, "ADBE": 503.60,
}
DEMO_APP_KEY_PREFIX = "as-demo-"


def demo_section(rng: random.Random) -> dict[str, Any]:
    """A realistic demo: user demo.trader (no 2FA), 3 trading accounts + 1 read-only, ~130 open orders."""
    now = datetime.now(UTC)
    app_key = DEMO_APP_KEY_PREFIX + "".join(rng.choice("0123456789abcdef") for _ in range(32))
    password = "demo-" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))
    accounts = [
        {"id": 6303, "clearing_account": "5JD06303", "access_type": "Full", "margin_type": "Margin",
         "owner_type": "IndividualCustomer", "alias": "Active trading", "currency": "USD", "enabled": True,
         "cash": 184_250.35, "market_value": 612_480.10},
        {"id": 6304, "clearing_account": "5JD06304", "access_type": "Full", "margin_type": "Cash",
         "owner_type": "IRA", "alias": "Retirement IRA", "currency": "USD", "enabled": True,
         "cash": 42_118.90, "market_value": 238_905.55},
        {"id": 6307, "clearing_account": "5JD06307", "access_type": "Full", "margin_type": "DayTrader",
         "owner_type": "Joint", "alias": "Joint account", "currency": "USD", "enabled": True,
         "cash": 96_300.00, "market_value": 151_220.75},
        {"id": 6312, "clearing_account": "5JD06312", "access_type": "ReadOnly", "margin_type": "Cash",
         "owner_type": "Corporate", "alias": "Family office (view only)", "currency": "USD", "enabled": True,
         "cash": 1_250_000.00, "market_value": 3_480_115.20},
    ]
    plan = [(6303, 104), (6304, 14), (6307, 10), (6312, 4)]
    symbols = list(_DEMO_PRICES)
    orders: list[dict[str, Any]] = []
    next_id = 73_600
    for account_id, count in plan:
        for _ in range(count):
            orders.append(_demo_order(rng, next_id, account_id, rng.choice(symbols), now))
            next_id += 1
    # Terminal orders: must never show as open.
    for status in ("Filled", "Filled", "Filled", "Canceled", "Canceled", "Rejected", "Expired",
                   "DoneForDay", "Filled", "Canceled", "Replaced", "Filled"):
        account_id = rng.choice((6303, 6304, 6307))
        order = _demo_order(rng, next_id, account_id, rng.choice(symbols), now - timedelta(days=1))
        order["status"] = status
        if status == "Filled":
            order["executed"] = order["quantity"]
        if status == "Rejected":
            order["description"] = "DayTradingBuyingPowerExceeded"
        if status in ("Expired", "DoneForDay"):
            order["description"] = "Expired by OMS"
        orders.append(order)
        next_id += 1
    # Interesting cancel behaviours on open orders of the three tradable accounts.
    tradable = [o for o in orders if o["status"] in ("New", "PartiallyFilled") and o["account_id"] != 6312]
    picks = rng.sample(tradable, 8)
    picks[0]["cancel"] = {"mode": "fill"}
    picks[1]["cancel"] = {"mode": "fill"}
    picks[2]["cancel"] = {
        "mode": "reject", "status": 409,
        "message": f"Order {picks[2]['id']} cannot be cancelled: order is being routed to the exchange",
    }
    picks[3]["cancel"] = {"mode": "accept", "delay_ms": rng.randint(1500, 4000)}
    picks[4]["cancel"] = {"mode": "accept", "delay_ms": rng.randint(1500, 4000)}
    picks[5]["cancel"] = {"mode": "accept", "delay_ms": rng.randint(1500, 4000)}
    picks[6]["cancel"] = {"mode": "never"}
    picks[7]["cancel"] = {"mode": "reject", "status": 422,
                          "message": "Order cannot be cancelled outside of trading hours"}
    return {
        "app_keys": [app_key],
        "bad_app_key_status": 403,
        "token_ttl_s": 86400,
        "unknown_order_status": 404,
        "sync_extra_latency_ms": 50,
        "latency_ms": 25,
        "users": [
            {"user_id": 7125, "username": "demo.trader", "password": password, "first_name": "Dana",
             "last_name": "Whitaker", "email": "demo.trader@example.com",
             "accounts": [6303, 6304, 6307, 6312]},
        ],
        "accounts": accounts,
        "orders": orders,
    }


def _demo_order(
    rng: random.Random, order_id: int, account_id: int, symbol: str, now: datetime
) -> dict[str, Any]:
    last = _DEMO_PRICES[symbol]
    side = rng.choices(SIDES, weights=(50, 35, 10, 5))[0]
    kind = rng.choices(("Limit", "Stop", "StopLimit"), weights=(74, 14, 12))[0]
    buying = side in ("Buy", "BuyToCover")
    step = 0.01 if last >= 1 else 0.0001
    away = rng.uniform(0.01, 0.08)
    price = stop = 0.0
    if kind == "Limit":
        price = last * (1 - away if buying else 1 + away)
    elif kind == "Stop":
        stop = last * (1 + away if buying else 1 - away)
    elif kind == "StopLimit":
        stop = last * (1 + away if buying else 1 - away)
        price = stop * (1.005 if buying else 0.995)
    price, stop = round(round(price / step) * step, 2), round(round(stop / step) * step, 2)
    lot = 1 if last > 600 else 5 if last > 200 else 10 if last > 60 else 25
    quantity = lot * rng.randint(1, 40)
    partially = kind == "Limit" and rng.random() < 0.12 and quantity > lot
    executed = lot * rng.randint(1, max(1, quantity // lot - 1)) if partially else 0
    created = now - timedelta(minutes=rng.randint(3, 60 * 24 * 6), seconds=rng.randint(0, 59))
    return {
        "id": order_id,
        "account_id": account_id,
        "symbol": symbol,
        "side": side,
        "type": kind,
        "quantity": quantity,
        "executed": executed,
        "price": price,
        "stop_price": stop,
        "status": "PartiallyFilled" if executed else rng.choices(("New", "PendingNew"), (95, 5))[0],
        # Day orders end at the close: only recent orders can still be working as Day orders.
        "time_in_force": "Day" if now - created < timedelta(hours=5) else "GoodTillCancel",
        "create_date": created.isoformat().replace("+00:00", "Z"),
    }


def demo_connections(
    section: Mapping[str, Any], base_url: str
) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """One connection per demo user: ("autoshares-demo", options, secrets)."""
    app_key = str(section["app_keys"][0])
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    for i, user in enumerate(section.get("users", [])):
        if user.get("two_factor_code"):
            continue  # a demo should not stop at a code prompt
        slug = re.sub(r"[^a-z0-9-]+", "-", str(user["username"]).lower()).strip("-")
        name = "autoshares-demo" if i == 0 else f"autoshares-{slug}"
        out.append((name, {"username": str(user["username"]), "cancel_mode": "quick"},
                    {"app_key": app_key, "password": str(user["password"])}))
    return out
