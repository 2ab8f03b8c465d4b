"""SnapTrade adapter (venues.md §2): per-request HMAC signing, accounts, open orders, cancel.

SnapTrade has no session. Every request carries ``userId``/``userSecret`` (the end user) and
``clientId``/``timestamp`` (the partner) in the query string and a ``Signature`` header computed over
path, query and body with the partner's consumer key, exactly as the official SDK 13.x does it. The
query string is built here, in the SDK's order and encoding, sent byte for byte as signed.

Note: ``userSecret`` travels in the query string; the shared redaction masks it by name (and by value,
raw and percent-encoded) in everything we record.

Confirming many cancels (``get_orders``, the coordinator's batched re-reads). SnapTrade has no "these ids"
read; the account's order list (``GET /accounts/{id}/orders?state=all&days=90``) answers for every order of
the account in one request. Whether that list is *current* depends on the connection, which says so itself:
the brokerage authorization's ``data_freshness_mode`` is ``{"institution", "snaptrade"}``, each ``realtime``
or ``delayed`` (``delayed`` = SnapTrade serves a cache, refreshed daily on some plans; a disabled connection
also serves its last cache). Decision:

- Batched re-reads only for accounts whose connection we last saw enabled with both modes ``realtime``
  (learned in ``list_accounts``); anything else (delayed, disabled, unknown, field missing) keeps one
  ``get_order`` (the detail endpoint, documented as always real-time) per order, as before.
- The list covers 90 days (``days`` 1-90) and no more; an order it does not list is NOT taken as unknown:
  it is asked for with the detail endpoint, and only a 404 there means not found — exactly what
  ``get_order`` answers (detail first, then this same list).
- Should a connection turn stale unseen, the list can only show an *older* state: a terminal state is
  final, so it can never claim a cancel that did not happen; at worst a confirmation waits (pending).

Rate: SnapTrade allows 250 requests per minute per partner ``clientId`` by default (venues.md §2.6,
SDK 13.x README); every request of every connection with that client id on that host draws on one shared
sliding window of that size, so a burst of cancels never asks more than the venue allows (a 429 is still
honoured through ``Retry-After``). The per-account 10/minute limit applies to Personal keys only, which
this adapter (commercial signing with ``userId``/``userSecret``) does not use.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from ..core import (
    NO_RAW,
    Account,
    Action,
    AuthError,
    CancelAck,
    CancelReceipt,
    ConfigError,
    NotFoundError,
    Order,
    OrderKey,
    OrderList,
    OrderStatus,
    OrderType,
    Side,
    Venue,
    VenueError,
    VenueProtocolError,
    VenueRefused,
)
from .base import RECENT_DAYS, Capabilities, newest_first
from .http import (
    HttpAdapter,
    Reply,
    _generic_message,
    parse_time,
    path_segment,
    refusal_in_success,
    to_decimal,
)

# The API returns at most 90 days of orders (``days`` 1-90, default 30). An order placed more than
# 90 days ago that is still working cannot be listed through this endpoint at all.
MAX_DAYS = 90

# Customer-level limit (venues.md §2.6): requests per window per client id, the SDK README's default.
RATE_LIMIT_REQUESTS = 250
RATE_LIMIT_WINDOW_S = 60.0
# Cancels of one account in flight beyond which their re-reads go as one order-list read (see above): up to
# this many, one detail read each costs no more than the list and carries far less.
BATCH_READS_ABOVE = 4

# ❓ The server's meaning of state=open is undocumented; we also check each status ourselves.
OPEN_STATUSES = frozenset({
    "PENDING", "ACCEPTED", "PARTIAL", "CANCEL_PENDING", "REPLACE_PENDING", "QUEUED", "TRIGGERED",
    "ACTIVATED", "PENDING_RISK_REVIEW", "CONTINGENT_ORDER", "STOPPED", "SUSPENDED",
})
_STATUS_MAP: Mapping[str, OrderStatus] = {
    "PARTIAL": OrderStatus.PARTIALLY_FILLED,
    "CANCEL_PENDING": OrderStatus.PENDING_CANCEL,
    "CANCELED": OrderStatus.CANCELLED,
    "PARTIAL_CANCELED": OrderStatus.CANCELLED,
    # A replaced order no longer works under this id (its replacement has a new one).
    "REPLACED": OrderStatus.CANCELLED,
    "EXECUTED": OrderStatus.FILLED,
    "FAILED": OrderStatus.REJECTED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "NONE": OrderStatus.UNKNOWN,
}
_SIDES: Mapping[str, Side] = {
    "BUY": Side.BUY, "BUY_OPEN": Side.BUY, "BUY_CLOSE": Side.BUY, "BUY_TO_OPEN": Side.BUY,
    "BUY_TO_CLOSE": Side.BUY, "SELL": Side.SELL, "SELL_OPEN": Side.SELL, "SELL_CLOSE": Side.SELL,
    "SELL_TO_OPEN": Side.SELL, "SELL_TO_CLOSE": Side.SELL, "SELL_SHORT": Side.SELL_SHORT,
    "BUY_COVER": Side.BUY_TO_COVER, "BUY_TO_COVER": Side.BUY_TO_COVER,
}
_TYPES: Mapping[str, OrderType] = {
    "MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "STOP": OrderType.STOP,
    "STOPLIMIT": OrderType.STOP_LIMIT, "STOP_LIMIT": OrderType.STOP_LIMIT,
    "TRAILINGSTOP": OrderType.TRAILING_STOP, "TRAILING_STOP": OrderType.TRAILING_STOP,
    "TRAILINGSTOPLIMIT": OrderType.TRAILING_STOP, "TRAILING_STOP_LIMIT": OrderType.TRAILING_STOP,
}
_CANCELLED_WORDS = frozenset({"CANCELLED", "CANCELED"})


# ---------------------------------------------------------------------- signing
def sign(consumer_key: str, path: str, query: str, content: Any) -> str:
    """The ``Signature`` header, as ``snaptrade_client.request_after_hook`` computes it (SDK 13.x).

    ``path`` is the request path without query, ``query`` the exact query string sent (after ``?``),
    ``content`` the JSON body as a value (``None`` when there is none; ``{}`` counts as none).
    """
    payload = {"content": None if content is None or content == {} else content, "path": path, "query": query}
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    digest = hmac.new(consumer_key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def encode_query(params: Sequence[tuple[str, Any]]) -> str:
    """``name=value&…`` percent-encoded like the SDK (RFC 6570 via ``urllib.parse.quote``: "/" kept)."""
    return "&".join(f"{name}={quote(str(value))}" for name, value in params)


class RequestBudget:
    """At most ``limit`` requests in any ``window_s`` seconds: a request past it waits for its slot.

    Slots are reserved in arrival order without awaiting in between (one event loop at a time), so it needs
    no lock and may be shared by every adapter of one partner key.
    """

    def __init__(self, limit: int = RATE_LIMIT_REQUESTS, window_s: float = RATE_LIMIT_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._slots: deque[float] = deque()  # send times reserved within the last window, ascending

    def reserve(self) -> float:
        """Reserve the next slot; returns how long to wait before sending."""
        now = time.monotonic()
        while self._slots and self._slots[0] <= now - self.window_s:
            self._slots.popleft()
        slot = now
        if len(self._slots) >= self.limit:
            slot = max(now, self._slots[-self.limit] + self.window_s)
        self._slots.append(slot)
        return slot - now

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)


_BUDGETS: dict[tuple[str, str, int], RequestBudget] = {}


def _budget(host: str, client_id: str, per_minute: int) -> RequestBudget:
    budget = _BUDGETS.get((host, client_id, per_minute))
    if budget is None:
        budget = _BUDGETS[(host, client_id, per_minute)] = RequestBudget(per_minute)
    return budget


class SnapTradeAdapter(HttpAdapter):
    """One SnapTrade user (``user_id``) under one partner key (``client_id``)."""

    venue: ClassVar[Venue] = Venue.SNAPTRADE
    display_name: ClassVar[str] = "SnapTrade"
    # No bulk cancel endpoint; a 200 to a cancel usually means "sent to the brokerage" (CANCEL_PENDING).
    # SnapTrade limits the request *rate* (250/min per client id, enforced here by ``RequestBudget``), not
    # how many requests are in flight; 8 at a time is the adapters' usual bound.
    capabilities: ClassVar[Capabilities] = Capabilities(
        bulk_cancel=False, cancel_is_async=True, max_concurrency=8
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        secret = self._secrets.get("user_secret")
        if secret:  # also mask the forms it takes in a URL
            self.redactor.add(quote(secret))
            self.redactor.add(quote(secret, safe=""))
        self._realtime: dict[str, bool] = {}  # account id -> its connection serves current data (see above)

    # ------------------------------------------------------------------ auth
    def _option(self, name: str) -> str:
        value = self.spec.option(name)
        if not value:
            raise ConfigError(f"connection {self.spec.name!r} has no {name.replace('_', ' ')} set")
        return value

    def _is_auth_expired(self, reply: Reply) -> bool:
        # No token to renew: a 401 is a bad key, secret or clock, and asking again would not help.
        return False

    def _prepare(self, request: httpx.Request, json_body: Any) -> None:
        """Append ``clientId`` and a fresh ``timestamp``, then sign exactly what will be sent."""
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        auth = encode_query([("clientId", self._option("client_id")), ("timestamp", int(time.time()))])
        query = f"{query}&{auth}" if query else auth
        request.url = request.url.copy_with(query=query.encode("ascii"))
        request.headers["Signature"] = sign(self.secret("consumer_key"), path, query, json_body)

    async def _exchange(self, *args: Any, **kwargs: Any) -> Reply:
        # a partner whose limit SnapTrade raised says so in the connection's rate_limit_per_s
        rate = self.spec.rate_limit_per_s
        per_minute = max(1, round(rate * RATE_LIMIT_WINDOW_S)) if rate > 0 else RATE_LIMIT_REQUESTS
        await _budget(self._host(), self._option("client_id"), per_minute).acquire()
        return await super()._exchange(*args, **kwargs)

    async def login(self) -> None:
        """SnapTrade has no login; this checks the keys, the user and the clock with one signed read."""
        await super().login()
        reply = await self._signed(Action.LOGIN, "GET", "/authorizations")
        if not reply.ok:
            raise self._error(reply)

    # ------------------------------------------------------------------ requests
    async def _signed(
        self,
        action: Action,
        method: str,
        path: str,
        params: Sequence[tuple[str, Any]] = (),
        *,
        json_body: Any = None,
        account: str = "",
        order_id: str = "",
        idempotent: bool | None = None,
    ) -> Reply:
        """Operation parameters, then ``userId`` and ``userSecret``, in the SDK's order and encoding."""
        query = encode_query([
            *params, ("userId", self._option("user_id")), ("userSecret", self.secret("user_secret")),
        ])
        return await self.send(
            action, method, f"{path}?{query}", json_body=json_body, account=account, order_id=order_id,
            idempotent=idempotent,
        )

    def _ok_json(self, reply: Reply) -> Any:
        if not reply.ok:
            raise self._error(reply)
        return reply.json()

    async def list_accounts(self) -> list[Account]:
        # Read-only is a property of the connection ("brokerage authorization"): type "read" or "trade".
        # Both reads at once; both finish before either's failure is raised (none is left running unattended).
        accounts_reply, auth_reply = await asyncio.gather(
            self._signed(Action.LIST_ACCOUNTS, "GET", "/accounts"),
            self._signed(Action.LIST_ACCOUNTS, "GET", "/authorizations"),
            return_exceptions=True,
        )
        if isinstance(accounts_reply, BaseException):
            raise accounts_reply
        if isinstance(auth_reply, BaseException):
            raise auth_reply
        accounts = self._ok_json(accounts_reply)
        authorizations = self._ok_json(auth_reply)
        if not isinstance(accounts, list) or not isinstance(authorizations, list):
            raise VenueProtocolError("SnapTrade sent something other than a list of accounts",
                                     accounts_reply.response)
        read_only = {
            str(a.get("id")): str(a.get("type", "")).lower() == "read"
            for a in authorizations if isinstance(a, Mapping)
        }
        current = {str(a.get("id")) for a in authorizations if isinstance(a, Mapping) and _is_current(a)}
        self._realtime = {
            str(item.get("id")): str(item.get("brokerage_authorization")) in current
            for item in accounts if isinstance(item, Mapping)
        }
        return self.map_items(accounts_reply, accounts, lambda item: self._account(item, read_only))

    async def account_details(self, account: str) -> Mapping[str, Any]:
        reply = await self._signed(
            Action.ACCOUNT_DETAILS, "GET", f"/accounts/{path_segment(account, 'account')}", account=account
        )
        data = self._ok_json(reply)
        if not isinstance(data, dict):
            raise VenueProtocolError("SnapTrade sent account details that are not an object", reply.response)
        return data

    async def list_open_orders(self, account: str) -> list[Order]:
        # state=open with the widest window the API allows (90 days): the default 30 days would hide
        # resting GTC orders placed earlier. Orders older than 90 days are beyond what it can return.
        # Known final states are dropped; a status SnapTrade never documented stays (as unknown): the
        # order may still be working, and a trader must see it to cancel it.
        records = await self._orders(Action.LIST_ORDERS, account, "open", keep_raw=False)
        return OrderList((order for order in records if not order.status.is_terminal), records.unreadable)

    async def get_order(self, account: str, order_id: str) -> Order:
        # The detail endpoint is real-time but only knows orders placed through SnapTrade; for the
        # others (placed at the brokerage directly) fall back to the 90-day order list.
        order, reply = await self._detail(account, order_id)
        if order is not None:
            return order
        listed = await self._orders(Action.GET_ORDER, account, "all", order_id=order_id)
        for order in listed:
            if order.order_id == order_id:
                return order
        self._unreadable_wanted(listed, [order_id], reply)
        raise self._not_found(account, order_id, reply)

    @staticmethod
    def _unreadable_wanted(listed: OrderList, wanted: Sequence[str], reply: Reply) -> None:
        """An order asked for that the listing holds but Blotter cannot read is not "not found": say so."""
        for skipped in listed.unreadable:
            if skipped.order_id and skipped.order_id in wanted:
                raise VenueProtocolError(
                    f"SnapTrade sent data Blotter cannot read (order {skipped.order_id}: {skipped.reason})",
                    reply.response)

    async def _detail(self, account: str, order_id: str) -> tuple[Order | None, Reply]:
        """``orders/details``: the order, or ``None`` on 404 (unknown there; other errors raise)."""
        reply = await self._signed(
            Action.GET_ORDER, "POST", f"/accounts/{path_segment(account, 'account')}/orders/details",
            json_body={"brokerage_order_id": order_id}, account=account, order_id=order_id, idempotent=True,
        )
        if reply.ok:
            data = reply.json()
            if not isinstance(data, Mapping):
                raise VenueProtocolError("SnapTrade sent an order that is not an object", reply.response)
            return self.map_one(reply, data, lambda item: self._order(account, item)), reply
        if reply.status != 404:
            raise self._error(reply)
        return None, reply

    @staticmethod
    def _not_found(account: str, order_id: str, reply: Reply) -> NotFoundError:
        return NotFoundError(
            f"SnapTrade does not know order {order_id} in account {account} (looked back {MAX_DAYS} days)",
            reply.response,
        )

    def batch_reads(self, account: str, in_flight: int) -> bool:
        """Whether the coordinator should re-read this account's orders with ``get_orders`` (see above)."""
        return in_flight > BATCH_READS_ABOVE and self._realtime.get(account, False)

    async def get_orders(self, account: str, order_ids: Sequence[str]) -> dict[str, Order]:
        """Re-read many orders of one account: for each id, exactly what ``get_order`` would answer.

        A real-time connection: one read of the account's order list (every state, 90 days), then the
        detail endpoint for any id the list does not hold (older than 90 days, or not listed yet); an id
        neither knows is left out (not found). Otherwise (the list may be a cache): ``get_order`` each.
        """
        wanted = list(dict.fromkeys(order_ids))
        found: dict[str, Order] = {}
        if not self._realtime.get(account, False):
            for order_id in wanted:
                with contextlib.suppress(NotFoundError):
                    found[order_id] = await self.get_order(account, order_id)
            return found
        listed: dict[str, Order] = {}
        records = await self._orders(Action.GET_ORDER, account, "all")
        for order in records:
            listed.setdefault(order.order_id, order)  # the first, as get_order's fallback takes it
        unread = {u.order_id for u in records.unreadable if u.order_id and u.order_id not in listed}
        for order_id in wanted:
            known = listed.get(order_id)
            if known is None:
                known, reply = await self._detail(account, order_id)
                if known is None and order_id in unread:
                    self._unreadable_wanted(records, [order_id], reply)
            if known is not None:
                found[order_id] = known
        return found

    async def _orders(self, action: Action, account: str, state: str, order_id: str = "", *,
                      keep_raw: bool = True) -> OrderList:
        reply = await self._signed(
            action, "GET", f"/accounts/{path_segment(account, 'account')}/orders",
            [("state", state), ("days", MAX_DAYS)],
            account=account, order_id=order_id,
        )
        data = self._ok_json(reply)
        if not isinstance(data, list):
            raise VenueProtocolError("SnapTrade sent orders that are not a list", reply.response)
        return self.map_listed(data, lambda item: self._order(account, item, keep_raw=keep_raw), account=account,
                               id_field="brokerage_order_id")

    async def cancel(self, key: OrderKey) -> CancelReceipt:
        """POST trading/cancel. 200 means SnapTrade passed the cancel to the brokerage.

        The receipt is DONE only when the brokerage's own reply (``raw_response``) says the order is
        cancelled; otherwise QUEUED (the order is typically CANCEL_PENDING) and the coordinator
        re-reads it. A 400 is the brokerage's or SnapTrade's refusal, in their words.
        """
        reply = await self._signed(
            Action.CANCEL, "POST", f"/accounts/{path_segment(key.account, 'account')}/trading/cancel",
            json_body={"brokerage_order_id": key.order_id}, account=key.account, order_id=key.order_id,
        )
        data = self._ok_json(reply)
        if not isinstance(data, Mapping):
            raise VenueProtocolError("SnapTrade answered a cancel with something other than an object",
                                     reply.response)
        refused = refusal_in_success(data, reply.response.message)
        if refused is not None:  # a 200 carrying an error is no acknowledgement
            raise VenueRefused(refused, reply.response)
        ack = CancelAck.DONE if _says_cancelled(data.get("raw_response")) else CancelAck.QUEUED
        return CancelReceipt(ack=ack, response=reply.response)

    def canonical_key(self, key: OrderKey) -> OrderKey:
        """The account id as SnapTrade lists it (ids are UUIDs: a typed upper-case one is the same account)."""
        account = key.account.strip()
        for known in self._realtime:  # every account id of the last listing
            if known.lower() == account.lower():
                account = known
                break
        return OrderKey(key.connection, account, key.order_id.strip())

    async def list_recent_orders(self, account: str, *, days: int = RECENT_DAYS) -> list[Order]:
        """``orders?state=all&days=N`` (N within the API's 1-90): every state, newest first."""
        window = min(max(1, days), MAX_DAYS)
        reply = await self._signed(
            Action.LIST_ORDERS, "GET", f"/accounts/{path_segment(account, 'account')}/orders",
            [("state", "all"), ("days", window)], account=account,
        )
        data = self._ok_json(reply)
        if not isinstance(data, list):
            raise VenueProtocolError("SnapTrade sent orders that are not a list", reply.response)
        orders = self.map_listed(data, lambda item: self._order(account, item), account=account,
                                 id_field="brokerage_order_id")
        return OrderList(newest_first(orders, days=window), orders.unreadable)

    # ------------------------------------------------------------------ mapping
    def _account(self, item: Any, read_only: Mapping[str, bool]) -> Account:
        account_id = str(item["id"])
        number = str(item.get("number") or "")
        total = (item.get("balance") or {}).get("total") or {}
        return Account(
            connection=self.spec.name,
            venue=self.venue,
            account_id=account_id,
            name=str(item.get("name") or f"{item.get('institution_name', '')} {number}".strip()),
            number=number,
            read_only=read_only.get(str(item.get("brokerage_authorization")), False),
            currency=str(total.get("currency") or "") if isinstance(total, Mapping) else "",
            raw=item,
        )

    def _order(self, account: str, item: Any, *, keep_raw: bool = True) -> Order:
        order_id = item["brokerage_order_id"]
        if not isinstance(order_id, str) or not order_id:
            raise ValueError("order without brokerage_order_id")
        venue_status = str(item.get("status") or "NONE")
        total = _not_negative(to_decimal(item.get("total_quantity")), "total_quantity") or Decimal(0)
        filled = _not_negative(to_decimal(item.get("filled_quantity")), "filled_quantity") or Decimal(0)
        canceled = _not_negative(to_decimal(item.get("canceled_quantity")), "canceled_quantity") or Decimal(0)
        remaining = _not_negative(to_decimal(item.get("open_quantity")), "open_quantity")
        if remaining is None:
            still_open = venue_status in OPEN_STATUSES
            remaining = max(total - filled - canceled, Decimal(0)) if still_open else Decimal(0)
        status = _STATUS_MAP.get(venue_status)
        if status is None:
            status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
            if venue_status not in OPEN_STATUSES:
                status = OrderStatus.UNKNOWN
        venue_side = str(item.get("action") or "")
        venue_type = str(item.get("order_type") or "")
        order_type = _TYPES.get(venue_type.upper().replace(" ", ""), OrderType.OTHER)
        if item.get("trailing_stop"):
            order_type = OrderType.TRAILING_STOP
        return Order(
            key=OrderKey(self.spec.name, account, order_id),
            venue=self.venue,
            symbol=_symbol(item),
            side=_SIDES.get(venue_side.upper(), Side.UNKNOWN),
            order_type=order_type,
            quantity=total,
            filled=filled,
            remaining=remaining,
            limit_price=to_decimal(item.get("limit_price")),
            stop_price=to_decimal(item.get("stop_price")),
            status=status,
            venue_status=venue_status,
            created_at=parse_time(item.get("time_placed")),
            time_in_force=str(item.get("time_in_force") or ""),
            venue_side=venue_side,
            venue_type=venue_type,
            updated_at=parse_time(item.get("time_updated")),
            raw=item if keep_raw else NO_RAW,
        )

    # ------------------------------------------------------------------ classifying
    def _venue_message(self, status: int, body: bytes, headers: httpx.Headers) -> str:
        """SnapTrade's words: ``default_detail`` or ``detail`` verbatim, with its code after them."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return _generic_message(status, body)
        if isinstance(data, dict):
            for text_key, code_key in (("default_detail", "default_code"), ("detail", "code")):
                if text_key in data and data[text_key] not in (None, ""):
                    detail = data[text_key]
                    words = detail if isinstance(detail, str) else json.dumps(detail, separators=(",", ":"))
                    code = data.get(code_key)
                    return f"{words} (code {code})" if code not in (None, "") else words
            if isinstance(data.get("error"), str):
                return str(data["error"])
            if "brokerage_order_id" in data and "raw_response" in data:
                raw = data.get("raw_response")
                reply = json.dumps(raw, separators=(",", ":"), sort_keys=True) if raw is not None else "none"
                return f"cancel sent for order {data['brokerage_order_id']}; the brokerage replied: {reply}"
            if 200 <= status < 300 and "brokerage_order_id" in data:
                return f"order {data['brokerage_order_id']}: {data.get('status')}"
            if 200 <= status < 300 and "id" in data:
                return f"account {data.get('number') or data['id']}"
        if isinstance(data, list) and 200 <= status < 300:
            return f"{len(data)} record{'s' if len(data) != 1 else ''}"
        return _generic_message(status, body)

    def _error(self, reply: Reply) -> VenueError:
        error = self.error_for(reply)
        words = reply.response.message
        if reply.status == 401 and "timestamp" in words.lower():
            return AuthError(
                f"{words} — SnapTrade refused the request time: this computer's clock differs too much "
                "from SnapTrade's. Set the system clock (enable network time sync) and try again.",
                reply.response,
            )
        return error


def _is_current(authorization: Mapping[str, Any]) -> bool:
    """An enabled connection on which SnapTrade and the institution both serve current (realtime) data."""
    mode = authorization.get("data_freshness_mode")
    return (
        authorization.get("disabled") is False and isinstance(mode, Mapping)
        and mode.get("institution") == "realtime" and mode.get("snaptrade") == "realtime"
    )


def _not_negative(value: Decimal | None, name: str) -> Decimal | None:
    """A quantity below zero is no quantity: the order cannot be read (never shown as ``-5``)."""
    if value is not None and value < 0:
        raise ValueError(f"{name} is negative ({value})")
    return value


def _symbol(item: Mapping[str, Any]) -> str:
    for key, field in (("universal_symbol", "symbol"), ("option_symbol", "ticker")):
        holder = item.get(key)
        if isinstance(holder, Mapping) and isinstance(holder.get(field), str):
            return str(holder[field])
    return ""


def _says_cancelled(raw: Any) -> bool:
    """Whether the brokerage's raw reply states plainly that the order is cancelled."""
    if not isinstance(raw, Mapping):
        return False
    for key in ("status", "state", "order_status", "orderStatus"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip().upper() in _CANCELLED_WORDS:
            return True
    return False
