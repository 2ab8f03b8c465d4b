"""A faithful simulator of the tanX REST API (venues.md §3, §5.3).

It serves what an order manager and the official ``tanx-connector`` 2.1.0 SDK use: wallet login
(nonce → EIP-191 signature → JWT pair), token refresh, the ``{"status","message","payload"}`` envelope,
order listing with tanX's own states (``pending``, ``wait``, ``done``, ``cancel``), asynchronous
cancellation ("queued for cancellation", the order flips to ``cancel`` later) and bulk cancel.

Scenario section (JSON)::

    {"wallets": [{"private_key"?: "0x…", "eth_address"?: "0x…", "name": "Alpha",
                  "balances": [{"currency": "usdc", "balance": "1000", "locked": "0"}]}],
     "access_ttl_s": 900, "refresh_ttl_s": 86400, "single_use_refresh"?: false, "one_nonce"?: false,
     "auth_paths"?: "all" | "v2_only" | "v1_only",
     "orders": [{"id": 1, "uuid"?: "…", "wallet": "0x…", "market": "btcusdc", "side": "buy",
                 "ord_type": "limit", "price": "60000", "stop_price"?: null, "origin_volume": "0.1",
                 "executed_volume"?: "0", "state": "wait", "created_at"?: "2024-05-31T09:02:00+00:00",
                 "cancel_reason"?: "…", "cancel"?: CancelSpec}],
     "latency_ms"?, "rate_limit"?, "faults"?}

Assumptions (❓ in venues.md, not confirmed by any source we could reach):

- The 401 body for an expired/invalid access token is SimpleJWT's ``InvalidToken`` flattened into the
  envelope: ``{"status":"error","message":"Given token not valid for any token type","payload":
  {"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}}``. The SDK
  only requires ``payload.token_type == "access"``; a missing header gets 401 with ``payload: {}``.
- A bad or expired refresh token gets 401 with ``payload.token_type == "refresh"``.
- Refresh rotates the refresh token; the old one stays valid until it expires (no blacklist). With
  ``single_use_refresh`` a used refresh token is refused afterwards (SimpleJWT's ``BLACKLIST_AFTER_ROTATION``,
  which RELIABILITY-FINDINGS M5 found in the field): two processes sharing one pasted pair then race.
- Nonces are valid for 300 s; a wallet may hold a few outstanding nonces (each burnt by its login). With
  ``one_nonce`` a new nonce replaces the wallet's previous one, as RELIABILITY-FINDINGS (L3) saw: two logins
  of one wallet at once then refuse the first with "Invalid Credentials or Token Expired".
- Login paths: the docs, the Node connector 2.0.0 and the Go connector use ``/sapi/v2/auth/{nonce,login}/``;
  the Python SDK 2.1.0 uses the older ``/sapi/v1/auth/v2/{nonce,login}/`` (VENUE-REALITY §7.8). Whether the
  older alias is still served is unknown, so ``auth_paths`` switches it: ``all`` (default: both, and the
  legacy ``/sapi/v1/auth/{nonce,login}/`` — the SDK conformance tests need the older one), ``v2_only``
  (only the documented paths; the others answer 404, as a server that retired the alias would) and
  ``v1_only`` (only the older alias: a server from before the v2 paths).
- ``GET /sapi/v1/orders/{id}`` of an unknown or foreign order → 404 ``"Order not found"``; cancelling one
  → 400 with the same words. Cancelling an order that is not ``pending``/``wait`` → 400 ``"Order is not
  open"``. Cancelling an order already queued → 200 "queued" again (nothing new happens).
- ``page`` is 1-based (docs example ``page=1``; the SDK drops falsy values), ``limit`` 1..1000, orders
  newest first; ``start_time``/``end_time`` are epoch seconds over ``created_at``.
- 429 carries DRF's throttle text and ``Retry-After``.

Cancel behaviour per order (``CancelSpec``) in tanX terms: ``accept`` → 200 queued, the order is still
``wait`` in that answer and becomes ``cancel`` ("Order cancelled by user") ``delay_ms`` later (0 = by the
next read); ``never`` → 200 queued, the order stays open; ``reject`` → 400 (or ``status``) with
``message``; ``fill`` → 200 queued, but the order ends ``done`` (too late); ``timeout`` → the effect is
applied, the answer comes only after ``delay_ms``; ``error`` → 500, with the effect applied or not.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.eth import address_of_key, to_checksum_address
from .common import CancelSpec, SimBase, SimClock, SimMiddleware, SimSettings

ORDER_STATES = ("pending", "wait", "done", "cancel")
OPEN_STATES = ("pending", "wait")
ORD_TYPES = ("limit", "market", "stop_limit", "limit_maker")
SIDES = ("buy", "sell")
QUOTES = ("usdc", "usdt", "btc", "eth")

INVALID_CREDENTIALS = "Invalid Credentials or Token Expired, Kindly login again."
CANCEL_QUEUED = "Order is successfully queued for cancellation"
BULK_QUEUED = "Orders are successfully queued for cancellation"
CANCELLED_BY_USER = "Order cancelled by user"
NONCE_TTL_S = 300.0
# Which wallet-login paths are served (module docstring): prefixes of ``nonce/`` and ``login/``.
AUTH_PATH_MODES = ("all", "v2_only", "v1_only")
_AUTH_PREFIXES = {
    "all": ("/sapi/v1/auth/v2/", "/sapi/v2/auth/", "/sapi/v1/auth/"),
    "v2_only": ("/sapi/v2/auth/",),
    "v1_only": ("/sapi/v1/auth/v2/",),
}
MAX_NONCES_PER_WALLET = 5
MAX_LIMIT = 1000
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")


# ---------------------------------------------------------------------- envelope
def envelope(message: str, payload: Any, status: int = 200, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"status": "success" if status < 400 else "error", "message": message,
                            "payload": payload}
    body.update(extra)
    return JSONResponse(body, status_code=status)


def error(status: int, message: str, payload: Any = "") -> JSONResponse:
    return envelope(message, payload, status)


# ---------------------------------------------------------------------- JWT (HS256, sim key)
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwt_encode(claims: Mapping[str, Any], key: bytes) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{body}"
    signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _jwt_decode(token: str, key: bytes) -> dict[str, Any] | None:
    """Claims of a token signed with ``key``, or None (bad shape or signature); the caller checks expiry."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64url_decode(parts[2])):
            return None
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


# ---------------------------------------------------------------------- state
@dataclass(slots=True)
class SimWallet:
    address: str  # checksummed
    name: str
    uid: str
    stark_key: str
    balances: list[dict[str, str]]


@dataclass(slots=True)
class SimOrder:
    id: int
    uuid: str
    wallet: str  # checksummed address
    market: str
    side: str
    ord_type: str
    price: Decimal | None
    stop_price: Decimal | None
    origin_volume: Decimal
    executed_volume: Decimal
    state: str
    created_at: datetime
    updated_at: datetime
    cancel: CancelSpec
    cancel_reason: str | None = None
    trades: list[dict[str, Any]] = field(default_factory=list)
    cancel_requested: bool = False
    due_at: float | None = None  # sim-clock time of the pending transition
    due_state: str = ""  # "cancel" or "done"


@dataclass(slots=True)
class _Token:
    address: str
    token_type: str  # access | refresh
    exp: float
    raw: str = ""


def _dec(value: Any, what: str, *, optional: bool = False) -> Decimal | None:
    if value is None or value == "":
        if optional:
            return None
        raise ValueError(f"{what} is required")
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not result.is_finite() or result < 0:
        raise ValueError(f"{what} must be a non-negative number, got {value!r}")
    return result


def _fmt(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    return text if "." in text else text + ".0"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _parse_when(value: Any, what: str, default: datetime) -> datetime:
    if value in (None, ""):
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be an ISO-8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} is not an ISO-8601 timestamp: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def address_of(private_key: str) -> str:
    """Checksummed address of a hex private key (with or without 0x)."""
    return address_of_key(private_key)


def _checksum(address: str) -> str:
    return to_checksum_address(address)


_recovery: tuple[Any, Any] | None = None


def _load_recovery() -> tuple[Any, Any]:
    """``eth_account`` for signature recovery: imported by the first wallet login, not with the simulator
    (the import takes about a second; a login handler runs it on a worker thread, see ``login``)."""
    global _recovery
    if _recovery is None:
        from eth_account import Account
        from eth_account.messages import encode_defunct

        _recovery = (Account, encode_defunct)
    return _recovery


def _market_units(market: str) -> tuple[str, str]:
    for quote in QUOTES:
        if market.endswith(quote) and len(market) > len(quote):
            return market[: -len(quote)], quote
    return market, ""


class TanxSim(SimBase):
    """The tanX venue: wallets, JWTs, orders and their cancel lifecycle, behind tanX's routes."""

    venue_name = "tanx"
    base_path = ""

    def __init__(
        self,
        settings: SimSettings,
        clock: SimClock | None = None,
        *,
        wallets: list[SimWallet] | None = None,
        orders: list[SimOrder] | None = None,
        access_ttl_s: float = 900.0,
        refresh_ttl_s: float = 86400.0,
        single_use_refresh: bool = False,
        one_nonce: bool = False,
        auth_paths: str = "all",
    ) -> None:
        super().__init__(settings, clock)
        self.wallets: dict[str, SimWallet] = {w.address.lower(): w for w in wallets or []}
        self.orders: dict[int, SimOrder] = {o.id: o for o in orders or []}
        self._newest_first = sorted(self.orders, reverse=True)  # the venue lists newest first
        self._due: set[int] = set()  # ids of orders with a pending transition
        # (wallet lower-case, state or "") -> ids newest first; None = rebuild (a state changed)
        self._index: dict[tuple[str, str], list[int]] | None = None
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.single_use_refresh = single_use_refresh
        self.one_nonce = one_nonce
        self.auth_paths = auth_paths
        self._used_refresh: set[str] = set()
        self._key = secrets.token_bytes(32)
        self._tokens: dict[str, _Token] = {}  # jti -> token record
        self._nonces: dict[str, list[tuple[str, float]]] = {}  # address(lower) -> [(message, expires)]
        self._trade_seq = 1_000_000
        self._app: ASGIApp | None = None

    # ------------------------------------------------------------------ scenario
    @classmethod
    def from_scenario(cls, section: Mapping[str, Any], clock: SimClock | None = None) -> TanxSim:
        if not isinstance(section, Mapping):
            raise ValueError("tanx section must be an object")
        settings = SimSettings.from_dict(section)
        wallets: list[SimWallet] = []
        raw_wallets = section.get("wallets", [])
        if not isinstance(raw_wallets, list):
            raise ValueError("tanx.wallets must be a list")
        for i, raw in enumerate(raw_wallets):
            wallets.append(_wallet_from(raw, i))
        known = {w.address.lower(): w.address for w in wallets}
        if len(known) != len(wallets):
            raise ValueError("tanx.wallets has the same eth_address twice")
        now = datetime.fromtimestamp((clock or SimClock()).now(), UTC)
        orders: list[SimOrder] = []
        seen: set[int] = set()
        raw_orders = section.get("orders", [])
        if not isinstance(raw_orders, list):
            raise ValueError("tanx.orders must be a list")
        for i, raw in enumerate(raw_orders):
            order = _order_from(raw, i, known, now)
            if order.id in seen:
                raise ValueError(f"tanx.orders[{i}]: duplicate id {order.id}")
            seen.add(order.id)
            orders.append(order)
        try:
            access_ttl = float(section.get("access_ttl_s", 900))
            refresh_ttl = float(section.get("refresh_ttl_s", 86400))
        except (TypeError, ValueError):
            raise ValueError("tanx.access_ttl_s and refresh_ttl_s must be numbers of seconds") from None
        if access_ttl <= 0 or refresh_ttl <= 0:
            raise ValueError("tanx.access_ttl_s and refresh_ttl_s must be positive")
        single_use, one_nonce = section.get("single_use_refresh", False), section.get("one_nonce", False)
        if not isinstance(single_use, bool) or not isinstance(one_nonce, bool):
            raise ValueError("tanx.single_use_refresh and tanx.one_nonce must be true or false")
        auth_paths = section.get("auth_paths", "all")
        if auth_paths not in AUTH_PATH_MODES:
            raise ValueError(f"tanx.auth_paths must be one of {', '.join(AUTH_PATH_MODES)}")
        return cls(settings, clock, wallets=wallets, orders=orders, access_ttl_s=access_ttl,
                   refresh_ttl_s=refresh_ttl, single_use_refresh=single_use, one_nonce=one_nonce,
                   auth_paths=auth_paths)

    # ------------------------------------------------------------------ venue shapes for the middleware
    def rate_limited_response(self, retry_after: int) -> Response:
        return JSONResponse(
            {"status": "error",
             "message": f"Request was throttled. Expected available in {retry_after} seconds.",
             "payload": ""},
            status_code=429, headers={"Retry-After": str(retry_after)},
        )

    def error_body(self, status: int, message: str) -> Any:
        # A 401 with a non-object payload crashes the SDK's refresh check; keep it an object.
        return {"status": "error", "message": message, "payload": {} if status == 401 else ""}

    # ------------------------------------------------------------------ test helpers (thread-safe)
    def order(self, order_id: int) -> dict[str, Any]:
        """The order as tanX would return it from GET /sapi/v1/orders/{id} (transitions applied)."""
        with self.lock:
            self._apply_due()
            return self._order_json(self.orders[int(order_id)], with_trades=True)

    def state_of(self, order_id: int) -> str:
        with self.lock:
            self._apply_due()
            return self.orders[int(order_id)].state

    def set_state(self, order_id: int, state: str, *, cancel_reason: str | None = None) -> None:
        if state not in ORDER_STATES:
            raise ValueError(f"unknown tanX order state {state!r}")
        with self.lock:
            order = self.orders[int(order_id)]
            order.state, order.due_at = state, None
            self._due.discard(order.id)
            self._index = None
            if state == "done":
                self._fill(order)
            if state == "cancel":
                order.cancel_reason = cancel_reason or CANCELLED_BY_USER
            order.updated_at = self._dt_now()

    def open_orders(self, address: str | None = None) -> list[int]:
        with self.lock:
            self._apply_due()
            return sorted(
                o.id for o in self.orders.values()
                if o.state in OPEN_STATES and (address is None or o.wallet.lower() == address.lower())
            )

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay valid)."""
        self._expire("access")

    def expire_refresh_tokens(self) -> None:
        self._expire("refresh")

    def _expire(self, token_type: str) -> None:
        now = self.clock.now()
        with self.lock:
            for token in self._tokens.values():
                if token.token_type == token_type:
                    token.exp = min(token.exp, now - 1)

    def issued_tokens(self) -> list[str]:
        """Every JWT this simulator has handed out (tests scan outputs for them)."""
        with self.lock:
            return [t.raw for t in self._tokens.values()]

    def issue_tokens(self, address: str) -> tuple[str, str]:
        """(access, refresh) for a known wallet, as a login would give (for pasted-token tests)."""
        with self.lock:
            wallet = self.wallets[address.lower()]
            return self._issue(wallet.address, "access"), self._issue(wallet.address, "refresh")

    # ------------------------------------------------------------------ internals
    def _dt_now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def _apply_due(self) -> None:
        """Apply every delayed transition that is due (call with the lock held)."""
        now = self.clock.now()
        for order_id in sorted(self._due):
            order = self.orders[order_id]
            if order.due_at is None or order.due_at > now:
                continue
            if order.state in OPEN_STATES:
                if order.due_state == "done":
                    self._fill(order)
                else:
                    order.state = "cancel"
                    order.cancel_reason = CANCELLED_BY_USER
                order.updated_at = datetime.fromtimestamp(order.due_at, UTC)
                self._index = None
            order.due_at = None
            self._due.discard(order_id)

    def _schedule(self, order: SimOrder, delay_s: float, state: str) -> None:
        order.due_at = self.clock.now() + delay_s
        order.due_state = state
        self._due.add(order.id)

    def _fill(self, order: SimOrder) -> None:
        rest = order.origin_volume - order.executed_volume
        if rest > 0:
            self._trade_seq += 1
            order.trades.append(self._trade(order, self._trade_seq, rest, self._dt_now()))
        order.executed_volume = order.origin_volume
        order.state = "done"
        self._index = None

    def _ids(self, wallet: str, state: str) -> list[int]:
        """Ids of a wallet's orders (in one state, or all for ""), newest first (call with the lock held)."""
        if self._index is None:
            index: dict[tuple[str, str], list[int]] = {}
            for order_id in self._newest_first:
                order = self.orders[order_id]
                index.setdefault((order.wallet.lower(), order.state), []).append(order_id)
                index.setdefault((order.wallet.lower(), ""), []).append(order_id)
            self._index = index
        return self._index.get((wallet.lower(), state), [])

    def _trade(self, order: SimOrder, trade_id: int, amount: Decimal, when: datetime) -> dict[str, Any]:
        price = order.price if order.price is not None else Decimal("0")
        base, quote = _market_units(order.market)
        fee = Decimal("0.001")
        return {
            "id": trade_id, "price": _fmt(price), "amount": _fmt(amount), "total": _fmt(price * amount),
            "fee_currency": base if order.side == "buy" else quote, "fee": _fmt(fee),
            "fee_amount": _fmt((amount if order.side == "buy" else price * amount) * fee),
            "market": order.market, "created_at": _iso(when),
            "taker_type": "sell" if order.side == "buy" else "buy", "side": order.side, "order_id": order.id,
        }

    def _order_json(self, order: SimOrder, *, with_trades: bool = False) -> dict[str, Any]:
        executed = order.executed_volume
        data: dict[str, Any] = {
            "id": order.id,
            "uuid": order.uuid,
            "side": order.side,
            "ord_type": order.ord_type,
            "price": _fmt(order.price),
            "stop_price": _fmt(order.stop_price),
            "avg_price": _fmt(order.price if executed > 0 and order.price is not None else Decimal("0")),
            "state": order.state,
            "market": order.market,
            "created_at": _iso(order.created_at),
            "updated_at": _iso(order.updated_at),
            "origin_volume": _fmt(order.origin_volume),
            "remaining_volume": _fmt(order.origin_volume - executed),
            "executed_volume": _fmt(executed),
            "maker_fee": "0.001",
            "taker_fee": "0.001",
            "trades_count": len(order.trades),
            "cancel_reason": order.cancel_reason,
        }
        if with_trades:
            data["trades"] = [dict(t) for t in order.trades]
        return data

    def _issue(self, address: str, token_type: str) -> str:
        now = self.clock.now()
        ttl = self.access_ttl_s if token_type == "access" else self.refresh_ttl_s
        jti = uuid.uuid4().hex
        wallet = self.wallets[address.lower()]
        claims = {"token_type": token_type, "exp": int(now + ttl), "iat": int(now), "jti": jti,
                  "user_id": wallet.uid}
        raw = _jwt_encode(claims, self._key)
        self._tokens[jti] = _Token(address=wallet.address, token_type=token_type, exp=now + ttl, raw=raw)
        return raw

    def _check_token(self, raw: str, token_type: str) -> str | None:
        """The wallet address a valid, unexpired token of ``token_type`` belongs to, else None."""
        claims = _jwt_decode(raw, self._key)
        if claims is None or claims.get("token_type") != token_type:
            return None
        with self.lock:
            record = self._tokens.get(str(claims.get("jti")))
            if record is None or record.token_type != token_type or record.exp <= self.clock.now():
                return None
            return record.address

    def _authorize(self, request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        scheme, _, raw = header.strip().partition(" ")
        if not header or scheme.lower() != "jwt" or not raw.strip():
            return error(401, "Authentication credentials were not provided.", {})
        address = self._check_token(raw.strip(), "access")
        if address is None:
            return error(401, "Given token not valid for any token type", {
                "token_class": "AccessToken", "token_type": "access",
                "message": "Token is invalid or expired"})
        return address

    # ------------------------------------------------------------------ routes: auth
    async def health(self, request: Request) -> Response:
        return envelope("Working fine!", "")

    async def nonce(self, request: Request) -> Response:
        fields = await _fields(request)
        address = str(fields.get("eth_address") or "").strip()
        if not address:
            return error(400, "eth_address: This field is required.")
        if len(address) < 30:
            return error(400, "Ensure eth_address has at least 30 characters.")
        if not _ADDRESS_RE.match(address):
            return error(400, "Enter a valid eth_address.")
        code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                       for _ in range(22))
        message = ("You’re now signing into tanX Simulator, make sure the origin is http://127.0.0.1 "
                   f"(Login-code:{code})")
        now = self.clock.now()
        with self.lock:
            live = [(m, exp) for m, exp in self._nonces.get(address.lower(), []) if exp > now]
            live.append((message, now + NONCE_TTL_S))
            self._nonces[address.lower()] = live[-(1 if self.one_nonce else MAX_NONCES_PER_WALLET):]
        return envelope("Nonce Acquired", message)

    async def login(self, request: Request) -> Response:
        fields = await _fields(request)
        address = str(fields.get("eth_address") or "").strip()
        signature = str(fields.get("user_signature") or "").strip()
        if not address:
            return error(400, "eth_address: This field is required.")
        if not signature:
            return error(400, "user_signature: This field is required.")
        try:
            sig_bytes = bytes.fromhex(signature.removeprefix("0x").removeprefix("0X"))
        except ValueError:
            return error(400, INVALID_CREDENTIALS)
        if _recovery is None:
            # the first login imports eth_account off the event loop: the other venues keep answering
            await asyncio.to_thread(_load_recovery)
        now = self.clock.now()
        with self.lock:
            wallet = self.wallets.get(address.lower())
            outstanding = [(m, exp) for m, exp in self._nonces.get(address.lower(), []) if exp > now]
            matched = None
            if wallet is not None and len(sig_bytes) == 65:
                for message, exp in outstanding:
                    if _recover(message, sig_bytes) == address.lower():
                        matched = (message, exp)
                        break
            if wallet is None or matched is None:
                return error(400, INVALID_CREDENTIALS)
            outstanding.remove(matched)  # a nonce logs in once
            self._nonces[address.lower()] = outstanding
            access, refresh = self._issue(wallet.address, "access"), self._issue(wallet.address, "refresh")
        return envelope("Login Successful", {"uid": wallet.uid}, token={"access": access, "refresh": refresh})

    async def refresh(self, request: Request) -> Response:
        fields = await _fields(request)
        raw = str(fields.get("refresh") or "").strip()
        if not raw:
            return error(400, "refresh: This field is required.")
        address = self._check_token(raw, "refresh")
        with self.lock:
            if address is not None and self.single_use_refresh:
                if raw in self._used_refresh:
                    address = None  # blacklisted after its rotation
                else:
                    self._used_refresh.add(raw)
        if address is None:
            return error(401, "Token is invalid or expired", {
                "token_class": "RefreshToken", "token_type": "refresh",
                "message": "Token is invalid or expired"})
        with self.lock:
            access, new_refresh = self._issue(address, "access"), self._issue(address, "refresh")
        tokens = {"access": access, "refresh": new_refresh}
        # The Python SDK reads payload.{access,refresh}; the Go connector reads token.{access,refresh}.
        return envelope("Token Refreshed Successfully", dict(tokens), token=dict(tokens))

    # ------------------------------------------------------------------ routes: user
    async def profile(self, request: Request) -> Response:
        who = self._authorize(request)
        if isinstance(who, Response):
            return who
        with self.lock:
            wallet = self.wallets[who.lower()]
            payload = {"name": wallet.name, "customer_id": wallet.uid, "img": None,
                       "username": wallet.name.lower().replace(" ", "_"), "stark_key": wallet.stark_key}
        return envelope("Successful", payload)

    async def balance(self, request: Request) -> Response:
        who = self._authorize(request)
        if isinstance(who, Response):
            return who
        currency = request.query_params.get("currency", "").strip().lower()
        with self.lock:
            wallet = self.wallets[who.lower()]
            items = [dict(b) for b in wallet.balances]
        if currency:
            for item in items:
                if item["currency"] == currency:
                    return envelope("Retrieved Successfully", item)
            return error(400, "Invalid currency")
        return envelope("Retrieved Successfully", items)

    # ------------------------------------------------------------------ routes: orders
    async def list_orders(self, request: Request) -> Response:
        who = self._authorize(request)
        if isinstance(who, Response):
            return who
        q = request.query_params
        try:
            limit = _int_param(q.get("limit"), "limit", 50, 1, MAX_LIMIT)
            page = _int_param(q.get("page"), "page", 1, 1, None)
            start = _int_param(q.get("start_time"), "start_time", None, None, None)
            end = _int_param(q.get("end_time"), "end_time", None, None, None)
            state = _choice(q.get("state"), "state", ORDER_STATES)
            ord_type = _choice(q.get("ord_type"), "ord_type", ORD_TYPES)
            side = _choice(q.get("side"), "side", SIDES)
        except ValueError as exc:
            return error(400, str(exc))
        market = (q.get("market") or "").strip().lower()
        base_unit = (q.get("base_unit") or "").strip().lower()
        quote_unit = (q.get("quote_unit") or "").strip().lower()
        filtered = any((ord_type, side, market, base_unit, quote_unit, start is not None, end is not None))
        with self.lock:
            self._apply_due()
            ids = self._ids(who, state)
            if not filtered:  # the usual case: one slice of the index
                window = [self.orders[i] for i in ids[(page - 1) * limit: page * limit]]
            else:
                matches: list[SimOrder] = []
                for order in (self.orders[i] for i in ids):
                    base, quote = _market_units(order.market)
                    created = order.created_at.timestamp()
                    if (
                        (ord_type and order.ord_type != ord_type)
                        or (side and order.side != side) or (market and order.market != market)
                        or (base_unit and base != base_unit) or (quote_unit and quote != quote_unit)
                        or (start is not None and created < start) or (end is not None and created > end)
                    ):
                        continue
                    matches.append(order)
                    if len(matches) >= page * limit:
                        break
                window = matches[(page - 1) * limit:]
            payload = [self._order_json(o) for o in window]
        return envelope("Orders Retrieved Successfully", payload)

    async def get_order(self, request: Request) -> Response:
        who = self._authorize(request)
        if isinstance(who, Response):
            return who
        order_id = int(request.path_params["order_id"])
        with self.lock:
            self._apply_due()
            order = self.orders.get(order_id)
            if order is None or order.wallet.lower() != who.lower():
                return error(404, "Order not found")
            payload = self._order_json(order, with_trades=True)
        return envelope("Order Retrieved Successfully", payload)

    async def cancel_order(self, request: Request) -> Response:
        who = self._authorize(request)
        if isinstance(who, Response):
            return who
        fields = await _fields(request)
        raw_id = fields.get("order_id")
        if raw_id in (None, ""):
            return error(400, "order_id: This field is required.")
        try:
            order_id = int(str(raw_id))
        except ValueError:
            return error(400, "order_id: A valid integer is required.")
        with self.lock:
            self._apply_due()
            order = self.orders.get(order_id)
            if order is None or order.wallet.lower() != who.lower():
                return error(400, "Order not found")
            if order.state not in OPEN_STATES:
                return error(400, "Order is not open")
            spec = order.cancel
            if spec.mode == "reject":
                return error(spec.status or 400, spec.message or "Order can not be cancelled at the moment")
            echo = self._order_json(order)  # the answer shows the order as it is now: still open
            if not order.cancel_requested:
                order.cancel_requested = True
                effect = spec.mode in ("accept", "fill") or (
                    spec.mode in ("timeout", "error") and spec.effect == "cancel")
                if effect:
                    delay = spec.delay_ms / 1000 if spec.mode in ("accept", "fill") else 0.0
                    self._schedule(order, delay, "done" if spec.mode == "fill" else "cancel")
        if spec.mode == "error":
            return error(spec.status or 500, spec.message or "Internal Server Error")
        if spec.mode == "timeout":
            await asyncio.sleep(spec.delay_ms / 1000)
        return envelope(CANCEL_QUEUED, echo)

    async def bulk_cancel(self, request: Request) -> Response:
        who = self._authorize(request)
        if isinstance(who, Response):
            return who
        fields = await _fields(request)
        market = str(fields.get("market") or "").strip().lower()
        if not market:
            return error(400, "market: This field is required.")
        try:
            limit = _int_param(fields.get("limit"), "limit", 100, 1, MAX_LIMIT)
            side = _choice(fields.get("side"), "side", SIDES)
        except ValueError as exc:
            return error(400, str(exc))
        with self.lock:
            self._apply_due()
            chosen = [
                o for o in (self.orders[i] for i in self._newest_first)
                if o.wallet.lower() == who.lower() and o.market == market and o.state in OPEN_STATES
                and (not side or o.side == side) and not o.cancel_requested
            ][:limit]
            for order in chosen:
                spec = order.cancel
                if spec.mode == "reject":
                    continue  # the venue keeps it open; nothing says so in a bulk answer
                order.cancel_requested = True
                if spec.mode == "never":
                    continue
                delay = spec.delay_ms / 1000 if spec.mode in ("accept", "fill") else 0.0
                self._schedule(order, delay, "done" if spec.mode == "fill" else "cancel")
        return envelope(BULK_QUEUED, {})

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error(404, "Not found.")(scope, receive, send)

    # ------------------------------------------------------------------ app
    def routes(self) -> list[Route]:
        post = ["POST"]
        routes = [Route("/sapi/v1/health/", self.health, methods=["GET"])]
        for prefix in _AUTH_PREFIXES[self.auth_paths]:
            routes.append(Route(f"{prefix}nonce/", self.nonce, methods=post))
            routes.append(Route(f"{prefix}login/", self.login, methods=post))
        for path in ("/sapi/v1/auth/token/refresh/", "/sapi/v2/auth/token/refresh/"):
            routes.append(Route(path, self.refresh, methods=post))
        routes += [
            Route("/sapi/v1/user/profile/", self.profile, methods=["GET"]),
            Route("/sapi/v1/user/balance/", self.balance, methods=["GET"]),
            Route("/sapi/v1/user/bulkcancel/", self.bulk_cancel, methods=post),
            # The SDK lists without the trailing slash, the docs with it: both, and no redirect.
            Route("/sapi/v1/orders", self.list_orders, methods=["GET"]),
            Route("/sapi/v1/orders/", self.list_orders, methods=["GET"]),
            # The Python SDK cancels with POST, the Go connector with DELETE.
            Route("/sapi/v1/orders/cancel/", self.cancel_order, methods=["POST", "DELETE"]),
            Route("/sapi/v1/orders/{order_id:int}", self.get_order, methods=["GET"]),
            Route("/sapi/v1/orders/{order_id:int}/", self.get_order, methods=["GET"]),
        ]
        return routes

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            router = Router(self.routes(), redirect_slashes=False, default=self.not_found)
            self._app = SimMiddleware(router, self)
        return self._app


# ---------------------------------------------------------------------- request helpers
async def _fields(request: Request) -> dict[str, Any]:
    """The body's fields: JSON object or form-encoded (the SDK refreshes with a form)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int_param(value: Any, name: str, default: int | None, low: int | None, high: int | None) -> Any:
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}: A valid integer is required.") from None
    if low is not None and number < low:
        raise ValueError(f"{name}: Ensure this value is greater than or equal to {low}.")
    if high is not None and number > high:
        raise ValueError(f"{name}: Ensure this value is less than or equal to {high}.")
    return number


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value in (None, ""):
        return ""
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValueError(f'{name}: "{value}" is not a valid choice.')
    return text


def _recover(message: str, signature: bytes) -> str:
    account, encode_defunct = _load_recovery()
    try:
        return str(account.recover_message(encode_defunct(text=message), signature=signature)).lower()
    except Exception:  # a malformed signature recovers nobody
        return ""


# ---------------------------------------------------------------------- scenario parsing
def _wallet_from(raw: Any, i: int) -> SimWallet:
    where = f"tanx.wallets[{i}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object")
    key = raw.get("private_key")
    address = raw.get("eth_address")
    derived = None
    if key:
        try:
            derived = address_of(str(key))
        except (ValueError, TypeError):
            raise ValueError(f"{where}.private_key is not a valid secp256k1 private key") from None
    if address:
        if not isinstance(address, str) or not _ADDRESS_RE.match(address):
            raise ValueError(f"{where}.eth_address is not a 0x-prefixed 40-hex-digit address")
        address = _checksum(address)
        if derived and derived != address:
            raise ValueError(f"{where}: eth_address does not belong to private_key")
    address = address or derived
    if not address:
        raise ValueError(f"{where} needs an eth_address or a private_key")
    digest = hashlib.sha256(address.lower().encode()).hexdigest()
    balances = []
    for j, b in enumerate(raw.get("balances", [])):
        if not isinstance(b, Mapping) or not b.get("currency"):
            raise ValueError(f"{where}.balances[{j}] needs a currency")
        balances.append({
            "currency": str(b["currency"]).lower(),
            "balance": _fmt(_dec(b.get("balance", "0"), f"{where}.balances[{j}].balance")) or "0.0",
            "locked": _fmt(_dec(b.get("locked", "0"), f"{where}.balances[{j}].locked")) or "0.0",
            "deposit_address": str(b.get("deposit_address", address)),
        })
    return SimWallet(
        address=address, name=str(raw.get("name") or address[:10]), uid=f"ID{digest[:10].upper()}",
        stark_key="0x0" + digest[:62], balances=balances,
    )


def _order_from(raw: Any, i: int, wallets: Mapping[str, str], now: datetime) -> SimOrder:
    where = f"tanx.orders[{i}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object")
    try:
        order_id = int(raw["id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{where}.id must be an integer") from None
    wallet = str(raw.get("wallet") or "").lower()
    if wallet not in wallets:
        raise ValueError(f"{where}.wallet {raw.get('wallet')!r} is not one of tanx.wallets")
    market = str(raw.get("market") or "").lower()
    if not re.fullmatch(r"[a-z0-9]{4,20}", market):
        raise ValueError(f"{where}.market must look like 'btcusdc'")
    side = str(raw.get("side", "")).lower()
    if side not in SIDES:
        raise ValueError(f"{where}.side must be buy or sell")
    ord_type = str(raw.get("ord_type", "limit")).lower()
    if ord_type not in ORD_TYPES:
        raise ValueError(f"{where}.ord_type must be one of {', '.join(ORD_TYPES)}")
    state = str(raw.get("state", "wait")).lower()
    if state not in ORDER_STATES:
        raise ValueError(f"{where}.state must be one of {', '.join(ORDER_STATES)}")
    origin = _dec(raw.get("origin_volume"), f"{where}.origin_volume") or Decimal(0)
    executed = _dec(raw.get("executed_volume", "0"), f"{where}.executed_volume") or Decimal(0)
    if origin <= 0:
        raise ValueError(f"{where}.origin_volume must be positive")
    if executed > origin:
        raise ValueError(f"{where}: executed_volume exceeds origin_volume")
    price = _dec(raw.get("price"), f"{where}.price", optional=ord_type == "market")
    created = _parse_when(raw.get("created_at"), f"{where}.created_at", now)
    try:
        spec = CancelSpec.from_dict(raw.get("cancel"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}.cancel: {exc}") from None
    order = SimOrder(
        id=order_id, uuid=str(raw.get("uuid") or uuid.uuid5(uuid.NAMESPACE_URL, f"tanx-sim/{order_id}")),
        wallet=wallets[wallet], market=market, side=side, ord_type=ord_type, price=price,
        stop_price=_dec(raw.get("stop_price"), f"{where}.stop_price", optional=True),
        origin_volume=origin, executed_volume=executed, state=state, created_at=created,
        updated_at=_parse_when(raw.get("updated_at"), f"{where}.updated_at", created), cancel=spec,
        cancel_reason=(str(raw.get("cancel_reason") or CANCELLED_BY_USER) if state == "cancel" else None),
    )
    if executed > 0 and price is not None:
        order.trades.append({
            "id": order_id * 10 + 1, "price": _fmt(price), "amount": _fmt(executed),
            "total": _fmt(price * executed), "fee_currency": _market_units(market)[0 if side == "buy" else 1],
            "fee": "0.001", "fee_amount": _fmt(executed * Decimal("0.001")), "market": market,
            "created_at": _iso(created), "taker_type": "sell" if side == "buy" else "buy", "side": side,
            "order_id": order_id,
        })
    return order


# ---------------------------------------------------------------------- demo
_DEMO_MARKETS: dict[str, tuple[float, int, float, float]] = {
    # market: (mid price, price decimals, min volume, max volume)
    "btcusdc": (67250.0, 2, 0.0005, 0.25),
    "ethusdc": (3420.0, 2, 0.005, 4.0),
    "solusdc": (158.0, 3, 0.1, 60.0),
    "maticusdc": (0.72, 4, 20.0, 5000.0),
    "linkusdc": (17.4, 3, 1.0, 300.0),
}


def demo_section(rng: random.Random) -> dict[str, Any]:
    """Two wallets with ~80 open orders and some history; every cancel outcome appears somewhere."""
    now = datetime.now(UTC)
    wallets = []
    for name in ("Alpha", "Beta"):
        key = 0
        while not 0 < key < 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141:
            key = int.from_bytes(bytes(rng.getrandbits(8) for _ in range(32)), "big")
        private_key = "0x" + format(key, "064x")
        wallets.append({
            "name": name, "private_key": private_key, "eth_address": address_of(private_key),
            "balances": [
                {"currency": "usdc", "balance": f"{rng.uniform(20_000, 250_000):.2f}", "locked": "0"},
                {"currency": "btc", "balance": f"{rng.uniform(0.5, 4):.6f}", "locked": "0"},
                {"currency": "eth", "balance": f"{rng.uniform(5, 60):.5f}", "locked": "0"},
                {"currency": "sol", "balance": f"{rng.uniform(100, 2000):.3f}", "locked": "0"},
                {"currency": "matic", "balance": f"{rng.uniform(1000, 50000):.2f}", "locked": "0"},
                {"currency": "link", "balance": f"{rng.uniform(50, 3000):.3f}", "locked": "0"},
            ],
        })
    orders: list[dict[str, Any]] = []
    next_id = 25_768_000 + rng.randrange(1000)

    def make(wallet: dict[str, Any], state: str, minutes_ago: float) -> dict[str, Any]:
        nonlocal next_id
        next_id += rng.randrange(1, 40)
        market = rng.choice(list(_DEMO_MARKETS))
        mid, decimals, vmin, vmax = _DEMO_MARKETS[market]
        side = rng.choice(SIDES)
        ord_type = rng.choices(["limit", "limit_maker", "stop_limit"], weights=[8, 2, 1])[0]
        away = rng.uniform(0.002, 0.08)
        price = mid * (1 - away) if side == "buy" else mid * (1 + away)
        volume = round(rng.uniform(vmin, vmax), 4 if vmax < 10 else 2)
        executed = 0.0
        if state == "done":
            executed = volume
        elif rng.random() < 0.2 or (state == "cancel" and rng.random() < 0.3):
            executed = round(volume * rng.uniform(0.1, 0.7), 4 if vmax < 10 else 2)
        order: dict[str, Any] = {
            "id": next_id, "wallet": wallet["eth_address"], "market": market, "side": side,
            "ord_type": ord_type, "price": f"{price:.{decimals}f}", "origin_volume": f"{volume}",
            "executed_volume": f"{executed}", "state": state,
            "created_at": _iso(now - timedelta(minutes=minutes_ago)),
        }
        if ord_type == "stop_limit":
            stop = price * (1.004 if side == "buy" else 0.996)
            order["stop_price"] = f"{stop:.{decimals}f}"
        return order

    for w, wallet in enumerate(wallets):
        for _ in range(40 + w * 2):
            state = "pending" if rng.random() < 0.15 else "wait"
            orders.append(make(wallet, state, rng.uniform(1, 60 * 24 * 5)))
        for _ in range(6):
            orders.append(make(wallet, rng.choice(["done", "cancel"]), rng.uniform(60, 60 * 24 * 20)))
    open_orders = [o for o in orders if o["state"] in OPEN_STATES]
    special = rng.sample(open_orders, 7)
    special[0]["cancel"] = {"mode": "fill"}
    special[1]["cancel"] = {"mode": "fill", "delay_ms": 1500}
    special[2]["cancel"] = {"mode": "reject", "status": 400,
                            "message": "Order is being matched, cancellation is not possible right now"}
    for spec_order in special[3:6]:
        spec_order["cancel"] = {"mode": "accept", "delay_ms": rng.randrange(1500, 4001, 100)}
    special[6]["cancel"] = {"mode": "never"}
    orders.sort(key=lambda o: o["id"])
    return {"wallets": wallets, "access_ttl_s": 900, "refresh_ttl_s": 86400, "orders": orders,
            "latency_ms": 40}


def demo_connections(
    section: Mapping[str, Any], base_url: str
) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(connection name, options, secrets) per demo wallet, as ``TanxAdapter`` needs them."""
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    for i, wallet in enumerate(section.get("wallets", [])):
        key = str(wallet.get("private_key") or "")
        if not key:
            continue
        address = str(wallet.get("eth_address") or address_of(key))
        slug = re.sub(r"[^a-z0-9]+", "-", str(wallet.get("name") or f"wallet{i + 1}").lower()).strip("-")
        out.append((f"tanx-{slug or i + 1}", {"eth_address": address}, {"private_key": key}))
    return out
