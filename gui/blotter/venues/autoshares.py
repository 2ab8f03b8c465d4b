"""AutoShares (ETNA Trader white label) adapter, per venues.md §1.

Auth is a header-only ``POST {base}/token`` (``Et-App-Key``, ``Username``, ``Password``) answering an
opaque token; users with two-factor authentication get 202 ``Expecting`` and an interim token first,
and the code is asked for through the code prompt. There is no refresh: on 401 the base class logs in
again once (so a 2FA user is asked for a code again; tokens live 24 h per ETNA, 60 min per the AutoShares
pages). A code prompt that is declined or fails is not repeated by background refreshes: they raise
``LoginNeeded`` ("login needed") until the trader acts — a cancel or ``login()`` (Test, connect) may ask once.
Every other request carries ``Et-App-Key`` and ``Authorization: Bearer <token>``.

Open orders never depend on a positive list of status codes (VENUE-REALITY §1: ``Held``'s code is
undocumented, ETNA's own example uses code 20): ``/accounts/{id}/orders`` is asked with a *negative* filter
of the known final codes (``Status != 2 and …``); a server that refuses that filter (400 — only ``Status in``
is documented) is asked without a status filter from then on (every order, filtered client-side). Either
way only known final states are dropped client-side; ``Held`` and any undocumented status stay listed.
``list_open_orders_many`` asks ``POST /orders/consolidated`` (several accounts in one request, AS-oas only)
and falls back to one listing per account, for good, when the server answers 404/405.

Batched re-reads (``get_orders``) use ``Id in (…)``, a filter field no document lists: when the server
refuses it (400) the connection re-reads order by order (the documented ``GET …/orders/{id}``) at once and
from then on (``batch_reads`` answers no).

Cancel is ``DELETE`` on the quick ``orders`` path or the venue-verified ``syncorders`` path (option
``cancel_mode``). A quick 204/200 is the API's acknowledgement only (S0: "only verified by the API but not the
execution venue"): ``CancelAck.QUEUED``. A sync 204/200 is verified by the execution venue too: ``DONE``.
Either way the coordinator confirms by re-reading the order.

Status mapping (venue name → ``OrderStatus``), with the two judgement calls:

- New, PendingNew, AcceptedForBidding, Suspended, Held, Stopped, PendingReplace → open;
  PartiallyFilled → partially_filled; PendingCancel → pending_cancel.
- Canceled → cancelled; Filled → filled; Rejected, Error → rejected; Expired → expired.
- DoneForDay → **expired**: ETNA's own example is a Day order closed by the OMS ("Expired by OMS")
  with nothing executed; it is terminal and not a fill (ExecutedQuantity still tells of partial fills).
- Replaced → **cancelled**: this version of the order no longer works; its replacement is listed as
  an order of its own.
- Calculated and any unknown name → unknown (neither open nor terminal: reconciliation keeps asking; an
  open-orders listing keeps such an order, shown as unknown with the venue's word).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

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
    TwoFactorRequired,
    Unreadable,
    Venue,
    VenueError,
    VenueProtocolError,
    VenueRefused,
)
from ..core.connection import ConnectionSpec
from .base import RECENT_DAYS, Capabilities, CodePrompt, LoginNeeded, newest_first
from .http import HttpAdapter, Reply, parse_time, refusal_in_success, require_decimal, to_decimal

CANCEL_MODES = ("quick", "sync")
# Known final codes: Filled 2, DoneForDay 3, Canceled 4, Replaced 5, Rejected 8, Calculated 11, Expired 12,
# Error 15. Every other code — documented open ones, Held's, any code beyond the table — stays listed.
FINAL_STATUS_CODES = (2, 3, 4, 5, 8, 11, 12, 15)
OPEN_STATUS_FILTER = " and ".join(f"Status != {code}" for code in FINAL_STATUS_CODES)
# Cancels of one account in flight beyond which the coordinator's re-reads are batched (its own default).
BATCH_READS_ABOVE = 16
PAGE_SIZE = 100  # the venue's maximum
BATCH_READ_MAX = PAGE_SIZE  # order ids per get_orders (one page)
MAX_PAGES = 1000  # a venue that never stops paging must not hang a refresh
RECENT_PAGES = 2  # list_recent_orders: the newest 200 orders at most

STATUS_NAMES_BY_CODE: dict[int, str] = {
    0: "New", 1: "PartiallyFilled", 2: "Filled", 3: "DoneForDay", 4: "Canceled", 5: "Replaced",
    6: "PendingCancel", 7: "Stopped", 8: "Rejected", 9: "Suspended", 10: "PendingNew", 11: "Calculated",
    12: "Expired", 13: "AcceptedForBidding", 14: "PendingReplace", 15: "Error",
}
STATUS_MAP: dict[str, OrderStatus] = {
    "New": OrderStatus.OPEN,
    "PendingNew": OrderStatus.OPEN,
    "AcceptedForBidding": OrderStatus.OPEN,
    "Suspended": OrderStatus.OPEN,
    "Held": OrderStatus.OPEN,
    "Stopped": OrderStatus.OPEN,
    "PendingReplace": OrderStatus.OPEN,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "PendingCancel": OrderStatus.PENDING_CANCEL,
    "Canceled": OrderStatus.CANCELLED,
    "Replaced": OrderStatus.CANCELLED,
    "Filled": OrderStatus.FILLED,
    "DoneForDay": OrderStatus.EXPIRED,
    "Expired": OrderStatus.EXPIRED,
    "Rejected": OrderStatus.REJECTED,
    "Error": OrderStatus.REJECTED,
}
SIDE_MAP: dict[str, Side] = {
    "Buy": Side.BUY, "Sell": Side.SELL, "SellShort": Side.SELL_SHORT, "BuyToCover": Side.BUY_TO_COVER,
}
TYPE_MAP: dict[str, OrderType] = {
    "Market": OrderType.MARKET,
    "Limit": OrderType.LIMIT,
    "Stop": OrderType.STOP,
    "StopLimit": OrderType.STOP_LIMIT,
    "TrailingStop": OrderType.TRAILING_STOP,
    "TrailingStopLimit": OrderType.TRAILING_STOP,
}
_WHOLE_RE = re.compile(r"^[0-9]{1,10}$")


class AutoSharesAdapter(HttpAdapter):
    """One AutoShares login: options ``username``, ``cancel_mode`` (quick|sync), ``api_version``;
    secrets ``app_key`` and ``password``."""

    venue: ClassVar[Venue] = Venue.AUTOSHARES
    capabilities: ClassVar[Capabilities] = Capabilities(
        bulk_cancel=False, cancel_is_async=False, max_concurrency=8, two_factor=True
    )
    display_name: ClassVar[str] = "AutoShares"

    def __init__(
        self,
        spec: ConnectionSpec,
        secrets: Mapping[str, str],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        code_prompt: CodePrompt | None = None,
    ) -> None:
        username = spec.option("username").strip()
        if not username:
            raise ConfigError(f"AutoShares connection {spec.name!r} needs a username")
        cancel_mode = spec.option("cancel_mode", "quick").strip().lower()
        if cancel_mode not in CANCEL_MODES:
            raise ConfigError(
                f"AutoShares cancel_mode must be quick or sync, not {spec.option('cancel_mode')!r}"
            )
        version = spec.option("api_version", "1.0").strip().removeprefix("v")
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", version):
            raise ConfigError(
                f"AutoShares api_version must look like 1.0, not {spec.option('api_version')!r}"
            )
        super().__init__(spec, secrets, transport=transport, code_prompt=code_prompt)
        self._username = username
        self._cancel_mode = cancel_mode
        self._v = f"/v{version}"
        self._token = ""
        self._status_filter: str | None = OPEN_STATUS_FILTER  # None: the server refused it; list unfiltered
        self._id_filter = True  # False: the server refused ``Id in (…)``; re-read order by order
        self._consolidated = True  # False: the server has no ``/orders/consolidated`` (404/405)
        self._code_refused = False  # the last code prompt was declined or failed: background refreshes don't ask

    def allow_code_prompt(self) -> None:
        """The trader acts (a cancel, Test, connect): a verification code may be asked for once more."""
        self._code_refused = False

    # ------------------------------------------------------------------ auth
    async def _authenticate(self) -> None:
        self._token = ""
        if self._code_refused:  # a 2FA user whose last prompt went unanswered: no /token, no prompt
            raise self._login_needed(None)
        base = {
            "Et-App-Key": self.secret("app_key"),
            "Username": self._username,
            "Password": self.secret("password"),
        }
        reply = await self.send(Action.LOGIN, "POST", "/token", headers=base, authed=False)
        data = self._token_answer(reply)
        if reply.status == 202:
            step, reason = str(data.get("Step") or ""), str(data.get("Reason") or "")
            interim = data.get("Token")
            if not isinstance(interim, str) or not interim:
                raise VenueProtocolError("AutoShares asked for another step but sent no interim token",
                                         reply.response)
            self.remember_secret(interim)
            if step != "VerificationCode" or self._code_prompt is None:
                raise TwoFactorRequired(
                    f"AutoShares asks for a verification code: {reason or step}", reply.response, step=step
                )
            self._code_refused = True  # until a code is accepted: a declined or failed prompt is not repeated
            try:
                code = (await self._code_prompt(reason or "Enter the AutoShares verification code")).strip()
            except Exception as exc:
                raise TwoFactorRequired(
                    f"no AutoShares verification code was entered ({type(exc).__name__})", reply.response,
                    step=step) from None
            if not code:
                raise TwoFactorRequired(
                    "no AutoShares verification code was entered", reply.response, step=step
                )
            self.remember_secret(code)
            second = {**base, "Authorization": f"Bearer {interim}", "VerificationCode": code}
            reply = await self.send(Action.LOGIN, "POST", "/token", headers=second, authed=False)
            data = self._token_answer(reply)
            self._code_refused = reply.status != 200
            if reply.status == 202:
                words = str(data.get("Reason") or data.get("Step") or "another step")
                raise TwoFactorRequired(
                    f"AutoShares asks for a further step Blotter cannot do: {words}",
                    reply.response, step=str(data.get("Step") or ""),
                )
        token = data.get("Token")
        if reply.status != 200 or data.get("State") != "Succeeded" or not isinstance(token, str) or not token:
            raise VenueProtocolError("AutoShares answered the token request without a token", reply.response)
        self.remember_secret(token)
        self._token = token

    @staticmethod
    def _login_needed(reply: Reply | None) -> LoginNeeded:
        return LoginNeeded(
            "AutoShares login needed: the session expired and the last verification code prompt was declined "
            "or failed; Blotter asks again when you cancel an order or test the connection",
            reply.response if reply is not None else None, step="VerificationCode")

    async def login(self) -> None:
        self.allow_code_prompt()  # connecting or Test is the trader's own action
        await super().login()

    def _token_answer(self, reply: Reply) -> dict[str, Any]:
        if reply.status in (401, 403):
            raise AuthError(reply.response.message, reply.response)
        if reply.status not in (200, 202):
            raise self.error_for(reply)
        data = reply.json()
        if not isinstance(data, dict):
            raise VenueProtocolError("AutoShares sent a token answer that is not an object", reply.response)
        return data

    def _auth_headers(self) -> dict[str, str]:
        return {"Et-App-Key": self.secret("app_key"), "Authorization": f"Bearer {self._token}"}

    # ------------------------------------------------------------------ requests
    async def list_accounts(self) -> list[Account]:
        reply = self.expect_ok(await self.send(Action.LIST_ACCOUNTS, "GET", f"{self._v}/users/@me/accounts"))
        data = reply.json()
        if not isinstance(data, list):
            raise VenueProtocolError("AutoShares sent accounts that are not a list", reply.response)
        return self.map_items(reply, data, self._account)

    async def account_details(self, account: str) -> Mapping[str, Any]:
        path = f"{self._v}/accounts/{_whole(account, 'account')}/info"
        reply = self.expect_ok(await self.send(Action.ACCOUNT_DETAILS, "GET", path, account=account))
        data = reply.json()
        if not isinstance(data, dict):
            raise VenueProtocolError("AutoShares sent account details that are not an object", reply.response)
        return data

    async def list_open_orders(self, account: str) -> list[Order]:
        path = f"{self._v}/accounts/{_whole(account, 'account')}/orders"

        async def page_of(number: int, status_filter: str | None) -> Reply:
            params: dict[str, Any] = {"pageNumber": number, "pageSize": PAGE_SIZE}
            if status_filter is not None:
                params["filter"] = status_filter
            params.update({"sortField": "Id", "desc": "false"})
            return await self.send(Action.LIST_ORDERS, "GET", path, params=params, account=account)

        return await self._open_pages(page_of, account)

    async def list_open_orders_many(self, accounts: Sequence[str]) -> dict[str, list[Order] | VenueError]:
        """The open orders of several accounts: one ``POST /orders/consolidated`` listing where the server
        offers it, else (404/405, remembered) one listing per account. Each account maps to its orders, or to
        the error that account's own listing met (the others keep theirs)."""
        wanted = [_whole(a, "account") for a in dict.fromkeys(accounts)]
        if self._consolidated and wanted:
            path = f"{self._v}/orders/consolidated"

            async def page_of(number: int, status_filter: str | None) -> Reply:
                params = {"filter": status_filter} if status_filter is not None else None
                body = {"AccountIds": [int(a) for a in wanted], "PageNumber": number, "PageSize": PAGE_SIZE,
                        "SortField": "Id", "Desc": False}
                return await self.send(Action.LIST_ORDERS, "POST", path, params=params, json_body=body,
                                       idempotent=True)

            try:
                listed = await self._open_pages(page_of, "", consolidated=True)
            except (NotFoundError, VenueRefused) as exc:
                if exc.http_status not in (404, 405):
                    raise
                self._consolidated = False
            else:
                orders: dict[str, list[Order]] = {a: [] for a in wanted}
                skipped: dict[str, list[Unreadable]] = {a: [] for a in wanted}
                for order in listed:
                    orders.setdefault(order.key.account, []).append(order)
                for item in listed.unreadable:
                    skipped.setdefault(item.account or wanted[0], []).append(item)
                return {a: OrderList(orders.get(a, ()), skipped.get(a, ())) for a in orders.keys() | skipped.keys()}
        results: dict[str, list[Order] | VenueError] = {}
        for account, outcome in zip(wanted, await asyncio.gather(
                *(self.list_open_orders(a) for a in wanted), return_exceptions=True), strict=True):
            if isinstance(outcome, VenueError | list):
                results[account] = outcome
            else:
                raise outcome
        return results

    async def _open_pages(
        self, page_of: Callable[[int, str | None], Awaitable[Reply]], account: str, *, consolidated: bool = False
    ) -> OrderList:
        """Page through an orders listing, every order not known final (module docstring)."""
        found: dict[str, Order] = {}
        unreadable: dict[tuple[str, str], Unreadable] = {}
        listed: set[str] = set()  # every item seen so far, readable or not (see _fingerprint)
        seen = 0
        for page in range(MAX_PAGES):
            reply = await page_of(page, self._status_filter)
            if reply.status == 400 and self._status_filter is not None and page == 0:
                # the negative status filter is not part of the documented grammar: list unfiltered, for good
                self._status_filter = None
                reply = await page_of(page, None)
            self.expect_ok(reply)
            data = reply.json()
            if not isinstance(data, dict) or not isinstance(data.get("Result"), list):
                raise VenueProtocolError(
                    "AutoShares sent an orders page without a Result list", reply.response
                )
            items: list[Any] = data["Result"]
            total = data.get("TotalCount")
            if isinstance(total, bool) or not isinstance(total, int):
                raise VenueProtocolError(
                    "AutoShares sent an orders page without a TotalCount", reply.response
                )
            if consolidated:  # each order under the account it names
                kept: list[Order] = []
                dropped: list[Unreadable] = []
                for item in items:
                    owner = _owner(item.get("AccountId") if isinstance(item, Mapping) else None, "")
                    one = self.map_listed([item], partial(self._order, owner, keep_raw=False),
                                          account=owner, id_field="Id")
                    kept.extend(one)
                    dropped.extend(one.unreadable)
                page_orders = OrderList(kept, dropped)
            else:
                page_orders = self.map_listed(items, lambda item: self._order(account, item, keep_raw=False),
                                              account=account, id_field="Id")
            for order in page_orders:
                found.setdefault(order.order_id, order)  # orders can shift between pages
            for skipped in page_orders.unreadable:
                unreadable.setdefault((skipped.order_id, skipped.reason), skipped)
            fingerprints = {_fingerprint(item) for item in items}
            adds_nothing = fingerprints <= listed  # a venue whose TotalCount lies repeats its pages (M7)
            listed |= fingerprints
            seen += len(items)
            if not items or seen >= total or adds_nothing:
                break
        # Only known final states are dropped. An order in a status we do not know stays listed (status unknown,
        # the venue's word kept): it may still be working, and a trader must see it to cancel it.
        return OrderList((order for order in found.values() if not order.status.is_terminal), unreadable.values())

    async def get_order(self, account: str, order_id: str) -> Order:
        path = f"{self._v}/accounts/{_whole(account, 'account')}/orders/{_whole(order_id, 'order')}"
        reply = self.expect_ok(
            await self.send(Action.GET_ORDER, "GET", path, account=account, order_id=order_id)
        )
        return self.map_one(reply, reply.json(), lambda item: self._order(account, item))

    async def get_orders(self, account: str, order_ids: Sequence[str]) -> dict[str, Order]:
        """Re-read up to ``BATCH_READ_MAX`` orders of one account (any state) in one request.

        The orders list filtered by ``Id in (…)``: what ``get_order`` would answer for each id, and an id the
        venue does not list is an order it does not know. Lets reconciliation of many cancels cost one
        read per hundred orders instead of one each (every request counts against the venue's limit).
        """
        if not order_ids or len(order_ids) > BATCH_READ_MAX:
            raise ValueError(f"get_orders takes 1 to {BATCH_READ_MAX} order ids, not {len(order_ids)}")
        # an id that is not a whole number cannot be an AutoShares order: it is simply not found
        ids = [i for i in dict.fromkeys(str(i).strip() for i in order_ids) if _WHOLE_RE.match(i) and int(i) < 2**31]
        if not ids:
            return {}
        if not self._id_filter:
            return await self._get_each(account, ids)
        path = f"{self._v}/accounts/{_whole(account, 'account')}/orders"
        params = {"pageNumber": 0, "pageSize": PAGE_SIZE, "filter": f"Id in ({','.join(ids)})",
                  "sortField": "Id", "desc": "false"}
        reply = await self.send(Action.GET_ORDER, "GET", path, params=params, account=account)
        if reply.status == 400:  # ``Id`` is no documented filter field: the documented path, now and from now on
            self._id_filter = False
            return await self._get_each(account, ids)
        self.expect_ok(reply)
        data = reply.json()
        if not isinstance(data, dict) or not isinstance(data.get("Result"), list):
            raise VenueProtocolError("AutoShares sent an orders page without a Result list", reply.response)
        wanted = set(ids)
        found = self.map_listed(data["Result"], lambda item: self._order(account, item), account=account,
                                id_field="Id")
        for skipped in found.unreadable:  # an unreadable order we asked for is not "not found": say so
            if skipped.order_id not in {o.order_id for o in found} and (
                    not skipped.order_id or _canonical_number(skipped.order_id) in wanted):
                raise VenueProtocolError(
                    f"AutoShares sent data Blotter cannot read (order {skipped.order_id or '?'}: {skipped.reason})",
                    reply.response)
        return {o.order_id: o for o in found if o.order_id in wanted}

    def batch_reads(self, account: str, in_flight: int) -> bool:
        """Whether the coordinator should batch this account's re-reads (not once ``Id in`` was refused)."""
        return self._id_filter and in_flight > BATCH_READS_ABOVE

    async def _get_each(self, account: str, ids: Sequence[str]) -> dict[str, Order]:
        """``get_orders`` through the documented one-order path: an id the venue does not know is left out."""
        found: dict[str, Order] = {}
        for order_id in ids:
            try:
                found[order_id] = await self.get_order(account, order_id)
            except NotFoundError:
                continue
        return found

    async def cancel(self, key: OrderKey) -> CancelReceipt:
        self.allow_code_prompt()  # a cancel is the trader's own action: a code may be asked for once
        route = "syncorders" if self._cancel_mode == "sync" else "orders"
        path = (
            f"{self._v}/accounts/{_whole(key.account, 'account')}/{route}/{_whole(key.order_id, 'order')}"
        )
        reply = await self.send(
            Action.CANCEL, "DELETE", path, account=key.account, order_id=key.order_id, idempotent=False
        )
        if not reply.ok:
            raise self.error_for(reply)
        refused = self._refusal_in(reply)
        if refused is not None:  # "200 {"Message": "Order cannot be cancelled…"}" is no acknowledgement
            raise VenueRefused(refused, reply.response)
        echoed = self._echoed_order(key, reply)
        # A sync 204/200 is verified by the execution venue: "cancelled". The quick route's is the API's alone
        # (S0), an acceptance. Either way the coordinator re-reads the order before it says cancelled.
        if reply.status in (200, 204):
            ack = CancelAck.DONE if self._cancel_mode == "sync" else CancelAck.QUEUED
            return CancelReceipt(ack, reply.response, echoed)
        return CancelReceipt(CancelAck.QUEUED, reply.response, echoed)  # an undocumented 2xx (202…)

    def _refusal_in(self, reply: Reply) -> str | None:
        """A 2xx body that is not the order: a message or an error is the venue's refusal."""
        if not reply.body.strip():
            return None
        try:
            data = reply.json()
        except VenueError:
            return None  # unreadable: the re-read decides
        if not isinstance(data, dict):
            return None
        refused = refusal_in_success(data, reply.response.message)
        if refused is not None:
            return refused
        is_order = "Id" in data and "Status" in data
        message = data.get("Message", data.get("message"))
        if not is_order and isinstance(message, str) and message.strip():
            return reply.response.message or message
        return None

    def canonical_key(self, key: OrderKey) -> OrderKey:
        """AutoShares ids are int32 numbers: ``06303/073517`` is ``6303/73517``."""
        return OrderKey(key.connection, _canonical_number(key.account), _canonical_number(key.order_id))

    def _echoed_order(self, key: OrderKey, reply: Reply) -> Order | None:
        """The documented 200 carries an "object"; use it if it is an order, never fail on it."""
        if not reply.body.strip():
            return None
        try:
            data = reply.json()
            if isinstance(data, dict) and "Id" in data and "Status" in data:
                return self.map_one(reply, data, lambda item: self._order(key.account, item))
        except VenueError:  # unreadable (even nested too deep to parse): no echo
            pass
        return None

    async def list_recent_orders(self, account: str, *, days: int = RECENT_DAYS) -> list[Order]:
        """Get Filtered Orders without the status filter, newest first (``CreateDate`` desc), at most
        ``RECENT_PAGES`` pages of 100: every state (Filled, Canceled, Rejected …), for support staff."""
        path = f"{self._v}/accounts/{_whole(account, 'account')}/orders"
        cutoff = datetime.now(UTC) - timedelta(days=max(1, days))
        found: list[Order] = []
        skipped: list[Unreadable] = []
        seen = 0
        for page in range(RECENT_PAGES):
            params = {"pageNumber": page, "pageSize": PAGE_SIZE, "sortField": "CreateDate", "desc": "true"}
            reply = self.expect_ok(
                await self.send(Action.LIST_ORDERS, "GET", path, params=params, account=account)
            )
            data = reply.json()
            if not isinstance(data, dict) or not isinstance(data.get("Result"), list):
                raise VenueProtocolError("AutoShares sent an orders page without a Result list", reply.response)
            items: list[Any] = data["Result"]
            orders = self.map_listed(items, lambda item: self._order(account, item), account=account, id_field="Id")
            found.extend(orders)
            skipped.extend(orders.unreadable)
            seen += len(items)
            total = data.get("TotalCount")
            older = any(o.created_at is not None and o.created_at < cutoff for o in orders)
            if not items or older or (isinstance(total, int) and seen >= total):
                break
        return OrderList(newest_first(found, days=max(1, days)), skipped)

    # ------------------------------------------------------------------ mapping
    def _account(self, item: Any) -> Account:
        if not isinstance(item, Mapping):
            raise TypeError("an account is not an object")
        account_id = str(_int_value(item["Id"]))
        number = str(item.get("ClearingAccount") or "")
        return Account(
            connection=self.spec.name,
            venue=self.venue,
            account_id=account_id,
            name=str(item.get("Alias") or number or account_id),
            number=number,
            read_only=item.get("AccessType") == "ReadOnly",
            currency=str(item.get("Currency") or ""),
            raw=dict(item),
        )

    def _order(self, account: str, item: Any, *, keep_raw: bool = True) -> Order:
        if not isinstance(item, Mapping):
            raise TypeError("an order is not an object")
        order_id = str(_int_value(item["Id"]))
        # The account the venue says owns the order, when it says so (M4: a page of account 6304 can carry an
        # order of 6303): keyed there, it is one key with that account's own listing of it.
        account = _owner(item.get("AccountId"), account)
        venue_status = _status_name(item.get("Status"))
        status = STATUS_MAP.get(venue_status, OrderStatus.UNKNOWN)
        quantity = require_decimal(item["Quantity"])
        filled = to_decimal(item.get("ExecutedQuantity")) or Decimal(0)
        leaves = to_decimal(item.get("LeavesQuantity"))
        remaining = leaves if leaves is not None else max(quantity - filled, Decimal(0))
        symbol = str(item.get("Symbol") or "") or f"#{item.get('SecurityId', '?')}"
        venue_side, venue_type = str(item.get("Side") or ""), str(item.get("Type") or "")
        reason = item.get("Description") or item.get("ErrorDescriptionText") or ""
        return Order(
            key=OrderKey(self.spec.name, account, order_id),
            venue=self.venue,
            symbol=symbol,
            side=SIDE_MAP.get(venue_side, Side.UNKNOWN),
            order_type=TYPE_MAP.get(venue_type, OrderType.OTHER),
            quantity=quantity,
            filled=filled,
            remaining=remaining,
            limit_price=to_decimal(item.get("Price"), zero_is_none=True),
            stop_price=to_decimal(item.get("StopPrice"), zero_is_none=True),
            status=status,
            venue_status=venue_status,
            created_at=parse_time(item.get("CreateDate")),
            time_in_force=str(item.get("TimeInForce") or ""),
            venue_side=venue_side,
            venue_type=venue_type,
            updated_at=parse_time(item.get("Date")),
            cancel_reason=str(reason) if status.is_terminal else "",
            raw=dict(item) if keep_raw else NO_RAW,
        )

    # ------------------------------------------------------------------ classifying
    def _venue_message(self, status: int, body: bytes, headers: httpx.Headers) -> str:
        """ModelState as "field: message"; token answers' Reason; Message/message (+ error)."""
        text = body.decode("utf-8", "replace").strip()
        if not text:
            from http import HTTPStatus

            try:
                return f"HTTP {status} {HTTPStatus(status).phrase}"
            except ValueError:
                return f"HTTP {status}"
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return super()._venue_message(status, body, headers)
        if isinstance(data, dict):
            model_state = data.get("ModelState")
            if isinstance(model_state, dict) and model_state:
                parts: list[str] = []
                for name, messages in model_state.items():
                    for message in messages if isinstance(messages, list) else [messages]:
                        parts.append(f"{name}: {message}")
                return "; ".join(parts)
            if "State" in data:  # /token answers
                reason = data.get("Reason")
                return reason if isinstance(reason, str) and reason else str(data.get("State"))
            message = data.get("Message", data.get("message"))
            error = data.get("error")
            if isinstance(message, str) and message:
                if isinstance(error, str) and error and error != message:
                    return f"{message} ({error})"
                return message
            if isinstance(error, str) and error:
                return error
            if 200 <= status < 300:
                if isinstance(data.get("Result"), list):
                    return f"{len(data['Result'])} of {data.get('TotalCount', '?')} orders"
                if "Id" in data and "Status" in data:
                    return f"order {data['Id']}: {data['Status']}"
                return "OK"
        if isinstance(data, list) and 200 <= status < 300:
            return f"{len(data)} item(s)"
        return super()._venue_message(status, body, headers)


def _whole(value: str, what: str) -> str:
    """AutoShares ids are int32 path segments, sent in one spelling (``073517`` → ``73517``); anything
    else is refused before it is sent."""
    text = str(value).strip()
    if not _WHOLE_RE.match(text) or int(text) >= 2**31:
        raise NotFoundError(f"AutoShares {what} ids are whole numbers; {value!r} is not one")
    return str(int(text))


def _canonical_number(value: str) -> str:
    text = str(value).strip()
    return str(int(text)) if _WHOLE_RE.match(text) and len(text) <= 30 else text


def _int_value(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an id, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected a whole id, got {value!r}")
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"expected an id, got {value!r}")


def _owner(value: Any, listed_under: str) -> str:
    """An order's ``AccountId`` as an account id; the account it was listed under when absent or no id."""
    try:
        owner = _int_value(value)
    except ValueError:
        return listed_under
    return str(owner) if 0 <= owner < 2**31 else listed_under


def _fingerprint(item: Any) -> str:
    """What tells one listed item from another: its ``Id`` when it has one, else the whole item."""
    if isinstance(item, Mapping) and "Id" in item:
        return "Id:" + repr(item["Id"])
    return json.dumps(item, sort_keys=True, default=str)[:2000]


def _status_name(value: Any) -> str:
    """Status is an enum name; tolerate the numeric code too (ETNA examples are not consistent)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return STATUS_NAMES_BY_CODE.get(value, str(value))
    return "" if value is None else str(value)
