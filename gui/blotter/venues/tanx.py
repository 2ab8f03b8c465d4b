"""tanX adapter, per venues.md §3.

Auth: a wallet login — ``POST /sapi/v2/auth/nonce/`` answers a one-time human-readable message,
the wallet key signs it (EIP-191 personal_sign), ``POST /sapi/v2/auth/login/`` answers a JWT access
and refresh token. Those are the documented paths (docs.tanx.fi, the Node connector 2.0.0 and the Go
connector); the older alias ``/sapi/v1/auth/v2/{nonce,login}/`` (Python SDK 2.1.0) is used only when
the server answers 404 to the documented one, and then for the rest of the connection (VENUE-REALITY §7.8).
Private requests carry ``Authorization: JWT <access>``. When the venue answers 401
with ``payload.token_type == "access"`` the access token has expired: the base class re-authenticates
once (serialized, so concurrent requests share one refresh) and this module refreshes first
(``POST /sapi/v1/auth/token/refresh/``, form-encoded as the official SDK does) and falls back to a full
wallet login when the refresh token is refused. A connection may also hold a pasted access + refresh
token pair instead of the wallet key; when that refresh token is refused the user must paste new tokens.

One wallet is one account; its id is the checksummed eth address. There is no account list endpoint.

Every answer is an envelope ``{"status", "message", "payload"}``; ``message`` is shown verbatim.
Open orders are the states ``pending`` and ``wait``, listed one state at a time, 50 a page, until a short
page. Cancel is asynchronous: "Order is successfully queued for cancellation" with the order still
``wait``; the order turns ``cancel`` (or ``done`` if it filled meanwhile) later, so a cancel is
``CancelAck.QUEUED`` and the coordinator confirms by re-reading.

Status mapping: ``pending``/``wait`` → open (partially_filled once ``executed_volume`` > 0);
``done`` → filled; ``cancel`` → cancelled (``cancel_reason`` kept); ``reject`` → rejected; else unknown
(listed as open orders are, with the venue's word kept).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import random
import re
import threading
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
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
    CredentialError,
    NotFoundError,
    Order,
    OrderKey,
    OrderList,
    OrderStatus,
    OrderType,
    Side,
    Unreadable,
    Venue,
    VenueError,
    VenueProtocolError,
    VenueRefused,
)
from ..core.connection import ConnectionSpec
from ..core.eth import address_of_key, to_checksum_address
from .base import RECENT_DAYS, Capabilities, CodePrompt, newest_first
from .http import HttpAdapter, Reply, parse_time, refusal_in_success, require_decimal, to_decimal

NONCE_PATH = "/sapi/v2/auth/nonce/"
LOGIN_PATH = "/sapi/v2/auth/login/"
# The older alias the Python SDK 2.1.0 still uses; asked only after a 404 on the documented paths.
LEGACY_NONCE_PATH = "/sapi/v1/auth/v2/nonce/"
LEGACY_LOGIN_PATH = "/sapi/v1/auth/v2/login/"
REFRESH_PATH = "/sapi/v1/auth/token/refresh/"
PROFILE_PATH = "/sapi/v1/user/profile/"
BALANCE_PATH = "/sapi/v1/user/balance/"
ORDERS_PATH = "/sapi/v1/orders/"
CANCEL_PATH = "/sapi/v1/orders/cancel/"
BULK_CANCEL_PATH = "/sapi/v1/user/bulkcancel/"

OPEN_STATES = ("pending", "wait")
RECENT_STATES = (*OPEN_STATES, "done", "cancel")  # every state the listing takes
PAGE_SIZE = 50  # the venue's default page size
MAX_PAGES = 2000  # a venue that never stops paging must not hang a refresh
BULK_CANCEL_LIMIT = 100  # the venue's default; one request cancels at most this many orders

STATUS_MAP: dict[str, OrderStatus] = {
    "pending": OrderStatus.OPEN,
    "wait": OrderStatus.OPEN,
    "done": OrderStatus.FILLED,
    "cancel": OrderStatus.CANCELLED,
    "reject": OrderStatus.REJECTED,
}
TYPE_MAP: dict[str, OrderType] = {
    "limit": OrderType.LIMIT,
    "limit_maker": OrderType.LIMIT,  # post-only limit; the venue's word stays in venue_type
    "market": OrderType.MARKET,
    "stop_limit": OrderType.STOP_LIMIT,
}
SIDE_MAP: dict[str, Side] = {"buy": Side.BUY, "sell": Side.SELL}
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NOT_FOUND_RE = re.compile(r"(?i)\b(not found|does not exist|doesn't exist|no such order)\b")
_ORDER_ID_RE = re.compile(r"[0-9]{1,19}")  # ASCII only: int() would also read "١٢" as 12


def _order_number(order_id: str, venue: str) -> int:
    """tanX order ids are ASCII whole numbers; anything else (other digits, "../", "?") is refused."""
    text = str(order_id).strip()
    if not _ORDER_ID_RE.fullmatch(text):
        raise NotFoundError(f"{venue} order ids are numbers, not {order_id!r}")
    return int(text)


def checksum_address(address: str) -> str:
    """EIP-55 form of a 0x address; ``ConfigError`` if it is not one."""
    text = address.strip()
    if not _ADDRESS_RE.match(text):
        raise ConfigError(f"eth_address {text!r} is not a 0x-prefixed address of 40 hex digits")
    return to_checksum_address(text)


# ---------------------------------------------------------------------- the signer, imported off the UI thread
_signer_lock = threading.Lock()
_signer: concurrent.futures.Future[tuple[Any, Any]] | None = None


def _import_signer() -> tuple[Any, Any]:
    from eth_account import Account as EthAccount
    from eth_account.messages import encode_defunct

    return EthAccount, encode_defunct


def preload_signer() -> concurrent.futures.Future[tuple[Any, Any]]:
    """``eth_account`` (``Account``, ``encode_defunct``), imported once per process on a worker thread.

    The import takes about a second (eth_keyfile → py_ecc, pydantic) and only a wallet login needs it, so
    it neither runs at import time nor on the caller's thread: a wallet adapter starts it when it is
    created, and its first login awaits the result. Addresses need no ``eth_account`` (``core.eth``).
    """
    global _signer
    with _signer_lock:
        if _signer is None:
            future: concurrent.futures.Future[tuple[Any, Any]] = concurrent.futures.Future()

            def load() -> None:
                try:
                    future.set_result(_import_signer())
                except BaseException as exc:  # handed to whoever awaits the signer
                    future.set_exception(exc)

            _signer = future
            threading.Thread(target=load, name="blotter-eth-import", daemon=True).start()
        return _signer


class TanxAdapter(HttpAdapter):
    """One tanX wallet (wallet key, or a pasted JWT pair) behind the venue protocol."""

    venue: ClassVar[Venue] = Venue.TANX
    capabilities: ClassVar[Capabilities] = Capabilities(bulk_cancel=True, cancel_is_async=True)
    display_name: ClassVar[str] = "tanX"

    def __init__(
        self,
        spec: ConnectionSpec,
        secrets: Mapping[str, str],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        code_prompt: CodePrompt | None = None,
    ) -> None:
        super().__init__(spec, secrets, transport=transport, code_prompt=code_prompt)
        self._private_key = (secrets.get("private_key") or "").strip()
        # With the wallet key, pasted tokens are not needed: every session starts with a wallet login.
        pasted = not self._private_key
        self._access = (secrets.get("access_token") or "").strip() if pasted else ""
        self._refresh = (secrets.get("refresh_token") or "").strip() if pasted else ""
        self.eth_address = self._resolve_address(spec.option("eth_address"))
        self._token_listeners: list[Callable[[Mapping[str, str]], None]] = []
        self._login_paths = (NONCE_PATH, LOGIN_PATH)  # the legacy pair once the documented one answered 404
        self._token_source: Callable[[], Awaitable[Mapping[str, str]]] | None = None
        if self._private_key:
            preload_signer()  # the first wallet login signs: have eth_account ready by then

    def on_tokens(self, callback: Callable[[Mapping[str, str]], None]) -> None:
        """``callback({"access_token", "refresh_token"})`` whenever a refresh replaces pasted tokens
        (the venue rotates the refresh token: the store must keep the new pair, or the next start fails)."""
        self._token_listeners.append(callback)

    def read_tokens_with(self, source: Callable[[], Awaitable[Mapping[str, str]]]) -> None:
        """Where to look for a newer pasted pair when the venue refuses our refresh token.

        Refresh tokens rotate and are single-use: another process on the same profile (the CLI beside the
        window) may have refreshed first and stored the new pair. ``source()`` reads the stored pair again.
        """
        self._token_source = source

    def _resolve_address(self, option: str) -> str:
        derived = ""
        if self._private_key:
            try:
                derived = address_of_key(self._private_key)
            except ValueError:  # never echo the key
                raise ConfigError(
                    f"connection {self.spec.name!r}: the stored private key is not a valid wallet key "
                    "(expected 64 hex digits)"
                ) from None
        configured = checksum_address(option) if option.strip() else ""
        if derived and configured and derived != configured:
            raise ConfigError(
                f"connection {self.spec.name!r}: eth_address {configured} is not the address of the stored "
                f"private key ({derived})"
            )
        if not self._private_key:
            if not (self._access or self._refresh):
                raise CredentialError(
                    f"connection {self.spec.name!r} needs a private key, or an access token and a "
                    "refresh token"
                )
            if not configured:
                raise ConfigError(
                    f"connection {self.spec.name!r}: with pasted tokens the eth_address option is required"
                )
        return derived or configured

    # ------------------------------------------------------------------ auth
    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"JWT {self._access}"} if self._access else {}

    def _is_auth_expired(self, reply: Reply) -> bool:
        return reply.status == 401 and _token_type(reply.body) == "access"

    async def _authenticate(self) -> None:
        """Called under the auth lock: first use, or after the venue refused the access token."""
        if self._access and self._auth_generation == 0:
            # A pasted access token is used as is, checked with one cheap read (401 → refresh it).
            reply = await self.send(Action.LOGIN, "GET", PROFILE_PATH, authed=False,
                                    headers=self._auth_headers(), account=self.eth_address)
            if reply.ok:
                return
            if reply.status != 401:
                raise self._login_error(reply)
        refused = self._refresh
        if self._refresh and await self._try_refresh():
            return
        if not self._private_key and await self._tokens_stored_elsewhere(refused):
            return
        if not self._private_key:
            raise AuthError(
                f"{self.display_name} refused the refresh token of connection {self.spec.name!r}: "
                "paste a new access token and refresh token (or store the wallet's private key)"
            )
        await self._wallet_login()

    async def _try_refresh(self) -> bool:
        """True with fresh tokens; False when the venue refused the refresh token (log in again)."""
        reply = await self.send(Action.REFRESH_TOKEN, "POST", REFRESH_PATH, form={"refresh": self._refresh},
                                authed=False, account=self.eth_address)
        if reply.status in (400, 401, 403):
            self._refresh = ""
            return False
        if not reply.ok:
            raise self._login_error(reply)
        data = reply.json()
        tokens = _first_tokens(data)
        if tokens is None:
            raise VenueProtocolError(
                f"{self.display_name} answered the token refresh without new tokens", reply.response
            )
        self._set_tokens(*tokens)
        return True

    async def _tokens_stored_elsewhere(self, refused: str) -> bool:
        """Once per refusal: use a newer pair another process stored (see ``read_tokens_with``)."""
        if self._token_source is None:
            return False
        try:
            stored = await self._token_source()
        except Exception:  # the keyring is not readable now: the refusal stands
            return False
        access = (stored.get("access_token") or "").strip()
        refresh = (stored.get("refresh_token") or "").strip()
        if not refresh or refresh == refused:
            return False
        self.remember_secret(access)
        self.remember_secret(refresh)
        if access:
            reply = await self.send(Action.LOGIN, "GET", PROFILE_PATH, authed=False,
                                    headers={"Authorization": f"JWT {access}"}, account=self.eth_address)
            if reply.ok:
                self._access, self._refresh = access, refresh  # already stored: nothing to write back
                return True
        self._refresh = refresh
        return await self._try_refresh()

    async def _wallet_login(self) -> None:
        """Nonce, signature, tokens. A refused signature is tried once more with a fresh nonce after a
        short random pause: tanX keeps one nonce per wallet, so another process logging in with the same
        wallet at the same moment (the CLI beside the window) replaced ours."""
        for attempt in (1, 2):
            try:
                await self._wallet_login_once()
                return
            except AuthError:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.2 + random.random() * 0.6)  # jitter, not a secret

    async def _wallet_login_once(self) -> None:
        nonce_path, login_path = self._login_paths
        reply = await self.send(Action.LOGIN, "POST", nonce_path, json_body={"eth_address": self.eth_address},
                                authed=False, account=self.eth_address)
        if reply.status == 404 and self._login_paths != (LEGACY_NONCE_PATH, LEGACY_LOGIN_PATH):
            # a server without the documented v2 paths: the older alias, from now on
            self._login_paths = nonce_path, login_path = LEGACY_NONCE_PATH, LEGACY_LOGIN_PATH
            reply = await self.send(Action.LOGIN, "POST", nonce_path, json_body={"eth_address": self.eth_address},
                                    authed=False, account=self.eth_address)
        if not reply.ok:
            raise self._login_error(reply)
        nonce = _envelope(reply).get("payload")
        if not isinstance(nonce, str) or not nonce:
            raise VenueProtocolError(f"{self.display_name} sent no login message to sign", reply.response)
        eth_account, encode_defunct = await asyncio.wrap_future(preload_signer())
        signed = eth_account.sign_message(encode_defunct(text=nonce), private_key=self._private_key)
        signature = "0x" + bytes(signed.signature).hex()
        self.remember_secret(signature)
        reply = await self.send(
            Action.LOGIN, "POST", login_path,
            json_body={"eth_address": self.eth_address, "user_signature": signature},
            authed=False, account=self.eth_address,
        )
        if not reply.ok:
            raise self._login_error(reply)
        token = _envelope(reply).get("token")
        tokens = _pair(token)
        if tokens is None:
            raise AuthError(f"{self.display_name} login answered without tokens: {reply.response.message}",
                            reply.response)
        self._set_tokens(*tokens)

    def _set_tokens(self, access: str, refresh: str) -> None:
        self.remember_secret(access)
        self.remember_secret(refresh)
        self._access, self._refresh = access, refresh
        if not self._private_key:  # with the wallet key every session logs in afresh: nothing to keep
            for callback in list(self._token_listeners):
                callback({"access_token": access, "refresh_token": refresh})

    def _login_error(self, reply: Reply) -> VenueError:
        """Login refusals are auth failures in the venue's words; 5xx stays unknown."""
        if reply.status >= 500 or reply.status == 429:
            return self.error_for(reply)
        return AuthError(reply.response.message, reply.response)

    # ------------------------------------------------------------------ requests
    def _check_account(self, account: str) -> None:
        if account.strip().lower() != self.eth_address.lower():
            raise NotFoundError(
                f"connection {self.spec.name!r} is wallet {self.eth_address}, not {account!r}"
            )

    async def list_accounts(self) -> list[Account]:
        reply = await self.send(Action.LIST_ACCOUNTS, "GET", PROFILE_PATH, account=self.eth_address)
        profile = self._payload(reply, dict)
        name = profile.get("name")
        return [Account(
            connection=self.spec.name, venue=self.venue, account_id=self.eth_address,
            name=name if isinstance(name, str) and name else self.eth_address,
            number=self.eth_address, read_only=self.spec.read_only, raw={"eth_address": self.eth_address,
                                                                        **profile},
        )]

    async def account_details(self, account: str) -> Mapping[str, Any]:
        self._check_account(account)
        profile = self._payload(
            await self.send(Action.ACCOUNT_DETAILS, "GET", PROFILE_PATH, account=self.eth_address), dict)
        balances = self._payload(
            await self.send(Action.ACCOUNT_DETAILS, "GET", BALANCE_PATH, account=self.eth_address), list)
        return {"eth_address": self.eth_address, "profile": profile, "balances": balances}

    async def list_open_orders(self, account: str) -> list[Order]:
        self._check_account(account)
        found: dict[str, Order] = {}
        unreadable: dict[tuple[str, str], Unreadable] = {}
        for state in OPEN_STATES:
            listed: set[str] = set()  # every item of this state seen so far, readable or not
            for page in range(1, MAX_PAGES + 1):
                reply = await self.send(
                    Action.LIST_ORDERS, "GET", ORDERS_PATH,
                    params={"limit": PAGE_SIZE, "page": page, "state": state}, account=self.eth_address,
                )
                items = self._payload(reply, list)
                page_orders = self.map_listed(items, lambda item: self._order_from(item, keep_raw=False),
                                              account=self.eth_address, id_field="id")
                for order in page_orders:
                    # The order may have moved on between pages; a state we do not know stays (unknown).
                    if not order.status.is_terminal:
                        found.setdefault(order.order_id, order)
                for skipped in page_orders.unreadable:
                    unreadable.setdefault((skipped.order_id, skipped.reason), skipped)
                fingerprints = {_fingerprint(item) for item in items}
                adds_nothing = fingerprints <= listed  # a page that repeats what was listed ends paging (M7)
                listed |= fingerprints
                if len(items) < PAGE_SIZE or adds_nothing:
                    break
            else:
                raise VenueProtocolError(
                    f"{self.display_name} kept paging past {MAX_PAGES * PAGE_SIZE} {state} orders", None)
        return OrderList(found.values(), unreadable.values())

    async def get_order(self, account: str, order_id: str) -> Order:
        self._check_account(account)
        number = _order_number(order_id, self.display_name)
        reply = await self.send(Action.GET_ORDER, "GET", f"{ORDERS_PATH}{number}/",
                                account=self.eth_address, order_id=order_id)
        return self.map_one(reply, self._payload(reply, dict), self._order_from)

    async def cancel(self, key: OrderKey) -> CancelReceipt:
        self._check_account(key.account)
        number = _order_number(key.order_id, self.display_name)
        reply = await self.send(
            Action.CANCEL, "POST", CANCEL_PATH, json_body={"order_id": number},
            account=self.eth_address, order_id=key.order_id,
        )
        payload = self._payload(reply, (dict, str))
        refused = refusal_in_success(_envelope(reply), reply.response.message)
        if refused is not None:  # a success envelope that also carries an error is no acknowledgement
            raise VenueRefused(refused, reply.response)
        order = None
        if isinstance(payload, dict) and payload:
            order = self.map_one(reply, payload, self._order_from)
        # "Queued for cancellation" is not "cancelled" — unless the echoed order already reads cancel.
        done = order is not None and order.status is OrderStatus.CANCELLED
        ack = CancelAck.DONE if done else CancelAck.QUEUED
        return CancelReceipt(ack=ack, response=reply.response, order=order)

    def canonical_key(self, key: OrderKey) -> OrderKey:
        """The wallet in its checksum form, the order id as a plain number (``025768801`` is ``25768801``)."""
        account = key.account.strip()
        if account.lower() == self.eth_address.lower():
            account = self.eth_address
        order_id = key.order_id.strip()
        if _ORDER_ID_RE.fullmatch(order_id):
            order_id = str(int(order_id))
        return OrderKey(key.connection, account, order_id)

    async def cancel_many(self, account: str, *, market: str, side: Side | None = None) -> CancelReceipt:
        """Venue bulk cancel of the wallet's open orders in ``market`` (at most 100 per request)."""
        self._check_account(account)
        market_id = market.strip().lower()
        if not re.fullmatch(r"[a-z0-9]{2,30}", market_id):
            raise ConfigError(f"{self.display_name} markets look like 'btcusdc', not {market!r}")
        body: dict[str, Any] = {"market": market_id, "limit": BULK_CANCEL_LIMIT}
        if side is not None:
            if side not in SIDE_MAP.values():
                raise ConfigError(f"{self.display_name} bulk cancel takes side buy or sell, not {side.value}")
            body["side"] = side.value
        reply = await self.send(Action.BULK_CANCEL, "POST", BULK_CANCEL_PATH, json_body=body,
                                account=self.eth_address)
        self._payload(reply, (dict, list, str))
        return CancelReceipt(ack=CancelAck.QUEUED, response=reply.response)

    async def list_recent_orders(self, account: str, *, days: int = RECENT_DAYS) -> list[Order]:
        """The newest page of each listable state (open ``pending``/``wait``, then ``done`` and ``cancel``,
        whose ``cancel_reason`` says who cancelled), newest first, created within ``days``."""
        self._check_account(account)
        found: list[Order] = []
        skipped: list[Unreadable] = []
        for state in RECENT_STATES:
            reply = await self.send(
                Action.LIST_ORDERS, "GET", ORDERS_PATH, params={"limit": PAGE_SIZE, "page": 1, "state": state},
                account=self.eth_address,
            )
            orders = self.map_listed(self._payload(reply, list), self._order_from, account=self.eth_address,
                                     id_field="id")
            found.extend(orders)
            skipped.extend(orders.unreadable)
        return OrderList(newest_first(found, days=max(1, days)), skipped)

    # ------------------------------------------------------------------ mapping
    def _order_from(self, item: Any, *, keep_raw: bool = True) -> Order:
        if not isinstance(item, dict):
            raise TypeError(f"an order is an object, not {type(item).__name__}")
        order_id = item["id"]
        if isinstance(order_id, bool) or not isinstance(order_id, int | str) or not _ORDER_ID_RE.fullmatch(
            str(order_id)
        ):
            raise ValueError(f"order id {order_id!r} is not a number")
        state = str(item.get("state") or "")
        quantity = require_decimal(item.get("origin_volume"))
        filled = to_decimal(item.get("executed_volume"))
        if filled is None:
            filled = Decimal(0)
        remaining = to_decimal(item.get("remaining_volume"))
        if remaining is None:
            remaining = quantity - filled
        status = STATUS_MAP.get(state, OrderStatus.UNKNOWN)
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        side = str(item.get("side") or "")
        ord_type = str(item.get("ord_type") or "")
        reason = item.get("cancel_reason")
        return Order(
            key=OrderKey(self.spec.name, self.eth_address, str(order_id)),
            venue=self.venue,
            symbol=str(item.get("market") or ""),
            side=SIDE_MAP.get(side, Side.UNKNOWN),
            order_type=TYPE_MAP.get(ord_type, OrderType.OTHER),
            quantity=quantity,
            filled=filled,
            remaining=remaining,
            limit_price=to_decimal(item.get("price"), zero_is_none=ord_type == "market"),
            stop_price=to_decimal(item.get("stop_price"), zero_is_none=True),
            status=status,
            venue_status=state,
            created_at=parse_time(item.get("created_at")),
            venue_side=side,
            venue_type=ord_type,
            updated_at=parse_time(item.get("updated_at")),
            cancel_reason=reason if isinstance(reason, str) else "",
            raw=item if keep_raw else NO_RAW,
        )

    # ------------------------------------------------------------------ classifying
    def _venue_message(self, status: int, body: bytes, headers: httpx.Headers) -> str:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return super()._venue_message(status, body, headers)
        if isinstance(data, dict):
            message = data.get("message")
            if isinstance(message, str) and message:
                return message
        return super()._venue_message(status, body, headers)

    def _payload(self, reply: Reply, kind: type | tuple[type, ...]) -> Any:
        """The envelope's payload of a successful answer, or the typed error for a refusal."""
        if not reply.ok:
            raise self._error(reply)
        data = _envelope(reply)
        if data.get("status") == "error":  # an error envelope with HTTP 2xx is still a refusal
            raise VenueRefused(reply.response.message, reply.response)
        payload = data.get("payload")
        if not isinstance(payload, kind):
            raise VenueProtocolError(
                f"{self.display_name} sent an unexpected payload ({type(payload).__name__}) for "
                f"{reply.response.action.value}", reply.response,
            )
        return payload

    def _error(self, reply: Reply) -> VenueError:
        """400 "Order not found" is a not-found; otherwise by HTTP status (401 after a refresh → auth)."""
        if reply.status == 400 and _NOT_FOUND_RE.search(reply.response.message):
            return NotFoundError(reply.response.message, reply.response)
        return self.error_for(reply)


def _fingerprint(item: Any) -> str:
    """What tells one listed item from another: its ``id`` when it has one, else the whole item."""
    if isinstance(item, dict) and "id" in item:
        return "id:" + repr(item["id"])
    return json.dumps(item, sort_keys=True, default=str)[:2000]


def _envelope(reply: Reply) -> dict[str, Any]:
    data = reply.json()
    if not isinstance(data, dict) or "payload" not in data:
        raise VenueProtocolError(
            f"tanX sent an answer without its status/message/payload envelope (HTTP {reply.status})",
            reply.response,
        )
    return data


def _token_type(body: bytes) -> str:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    payload = data.get("payload") if isinstance(data, dict) else None
    value = payload.get("token_type") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else ""


def _pair(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict):
        access, refresh = value.get("access"), value.get("refresh")
        if isinstance(access, str) and access and isinstance(refresh, str) and refresh:
            return access, refresh
    return None


def _first_tokens(data: Any) -> tuple[str, str] | None:
    """New tokens of a refresh answer: ``payload`` (Python SDK) or ``token`` (Go connector)."""
    if not isinstance(data, dict):
        return None
    return _pair(data.get("payload")) or _pair(data.get("token"))
