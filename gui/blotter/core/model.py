"""The domain: orders, accounts, venue answers and cancel outcomes.

Everything here is immutable and IO-free. Money and quantities are ``Decimal``; enums carry stable
ASCII values that are safe to persist and to print in ``--json`` output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Venue(StrEnum):
    AUTOSHARES = "autoshares"
    SNAPTRADE = "snaptrade"
    TANX = "tanx"

    @property
    def label(self) -> str:
        """The venue's name as people write it."""
        return _VENUE_LABELS[self]


_VENUE_LABELS = {Venue.AUTOSHARES: "AutoShares", Venue.SNAPTRADE: "SnapTrade", Venue.TANX: "tanX"}


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"
    BUY_TO_COVER = "buy_to_cover"
    UNKNOWN = "unknown"

    @property
    def is_buy(self) -> bool:
        return self in (Side.BUY, Side.BUY_TO_COVER)

    @property
    def is_sell(self) -> bool:
        return self in (Side.SELL, Side.SELL_SHORT)


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    OTHER = "other"


class OrderStatus(StrEnum):
    """Normalised order status; the venue's own string is always kept beside it."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    FILLED = "filled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """Still working at the venue (a cancel may still take effect or be needed)."""
        return self in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL)


_TERMINAL = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class CancelOutcome(StrEnum):
    """The one recorded result of a cancel attempt."""

    CANCELLED = "cancelled"  # the venue confirmed the order is cancelled
    PENDING = "pending"  # the venue accepted the request; the order is not (yet) cancelled
    REJECTED = "rejected"  # the venue refused (conflict, validation, filled meanwhile ...)
    FAILED = "failed"  # we could not ask (auth, forbidden, config, read-only)
    UNKNOWN = "unknown"  # transport failure and the venue could not be asked again

    @property
    def is_success(self) -> bool:
        return self in (CancelOutcome.CANCELLED, CancelOutcome.PENDING)


class Action(StrEnum):
    """What a request to a venue was for (status pane, audit)."""

    LOGIN = "login"
    REFRESH_TOKEN = "refresh_token"
    LIST_ACCOUNTS = "list_accounts"
    LIST_ORDERS = "list_orders"
    GET_ORDER = "get_order"
    ACCOUNT_DETAILS = "account_details"
    CANCEL = "cancel"
    BULK_CANCEL = "bulk_cancel"


class Provenance(StrEnum):
    """Who or what asked for a cancel."""

    ROW_ACTION = "row_action"
    SELECTION = "selection"
    HOTKEY = "hotkey"
    CANCEL_ALL = "cancel_all"
    KILL_SWITCH = "kill_switch"
    CLI = "cli"
    RECONCILIATION = "reconciliation"
    VENUE = "venue"
    SYSTEM = "system"


NO_RAW: Mapping[str, Any] = MappingProxyType({})  # an order listed without its venue JSON (see Order.raw)


@dataclass(frozen=True, slots=True, order=True)
class OrderKey:
    """Identity of an order across the whole app: ``connection/account/order_id``."""

    connection: str
    account: str
    order_id: str

    def __post_init__(self) -> None:
        # the connection and the account repeat on every order of an account: one string each
        value = self.connection
        if value.__class__ is str and (shared := _intern(value)) is not value:
            _set(self, "connection", shared)
        value = self.account
        if value.__class__ is str and (shared := _intern(value)) is not value:
            _set(self, "account", shared)

    def __str__(self) -> str:
        return f"{self.connection}/{self.account}/{self.order_id}"

    @classmethod
    def parse(cls, text: str) -> OrderKey:
        # Connection names and account ids never hold "/"; a venue's order id may (SnapTrade's are free text).
        parts = text.strip().split("/", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"not an order key (expected connection/account/order_id): {text!r}")
        return cls(*(p.strip() for p in parts))


@dataclass(frozen=True, slots=True)
class Account:
    connection: str
    venue: Venue
    account_id: str
    name: str
    number: str = ""
    read_only: bool = False
    currency: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class Order:
    key: OrderKey
    venue: Venue
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    filled: Decimal
    remaining: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    venue_status: str
    created_at: datetime | None
    time_in_force: str = ""
    venue_side: str = ""
    venue_type: str = ""
    updated_at: datetime | None = None
    cancel_reason: str = ""
    # The venue's JSON for this order. Listings leave it out (NO_RAW): at 100,000 orders it would hold
    # ~370 MB; a single-order read (re-read, cancel answer, order detail) keeps it.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        # A blotter holds up to ~100k orders, each parsed into fresh objects; the values that repeat from
        # order to order (symbols, statuses, round quantities) are kept once: ~330 bytes less an order
        # (33 MB at 100k) for ~1.5 µs more to build one. (Unrolled: this runs for every order a venue
        # lists, on every refresh.)
        text = self.symbol
        if text.__class__ is str and (same := _intern(text)) is not text:
            _set(self, "symbol", same)
        text = self.venue_status
        if text.__class__ is str and (same := _intern(text)) is not text:
            _set(self, "venue_status", same)
        text = self.time_in_force
        if text and text.__class__ is str and (same := _intern(text)) is not text:
            _set(self, "time_in_force", same)
        text = self.venue_side
        if text and text.__class__ is str and (same := _intern(text)) is not text:
            _set(self, "venue_side", same)
        text = self.venue_type
        if text and text.__class__ is str and (same := _intern(text)) is not text:
            _set(self, "venue_type", same)
        table = _DECIMALS
        if len(table) > _DECIMALS_MAX:
            table.clear()
        number = self.quantity
        if number.__class__ is Decimal and number.is_finite():
            shared = table.setdefault(number, number)
            if shared is not number and not shared.compare_total(number):  # equal and the same digits
                _set(self, "quantity", shared)
        number = self.filled
        if number.__class__ is Decimal and number.is_finite():
            shared = table.setdefault(number, number)
            if shared is not number and not shared.compare_total(number):
                _set(self, "filled", shared)
        number = self.remaining
        if number.__class__ is Decimal and number.is_finite():
            shared = table.setdefault(number, number)
            if shared is not number and not shared.compare_total(number):
                _set(self, "remaining", shared)

    @property
    def account(self) -> str:
        return self.key.account

    @property
    def order_id(self) -> str:
        return self.key.order_id

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view (decimals as strings, times as ISO-8601)."""
        return {
            "key": str(self.key),
            "connection": self.key.connection,
            "venue": self.venue.value,
            "account": self.key.account,
            "order_id": self.key.order_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "type": self.order_type.value,
            "quantity": _dec(self.quantity),
            "filled": _dec(self.filled),
            "remaining": _dec(self.remaining),
            "limit_price": _dec(self.limit_price),
            "stop_price": _dec(self.stop_price),
            "status": self.status.value,
            "venue_status": self.venue_status,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "time_in_force": self.time_in_force,
        }


# ---------------------------------------------------------------------- sharing repeated values
# Equal values are shared between orders (strings through ``sys.intern``, quantities through a bounded
# table). Only exact ``str``/``Decimal`` objects (no subclasses), and a decimal only for one with the same
# digits (1.5 and 1.50 are equal but print differently): nothing visible changes.
_DECIMALS: dict[Decimal, Decimal] = {}
_DECIMALS_MAX = 4096  # quantities repeat; when many distinct ones pass, start over (a bounded table)
_set = object.__setattr__  # (the classes are frozen)
_intern = sys.intern


def _dec(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return text


@dataclass(frozen=True, slots=True)
class VenueResponse:
    """One answer from a venue (or the failure to get one), as shown in the status pane and audit.

    ``message`` is the venue's own words verbatim where it gave any, else a plain description of the
    transport failure. ``request`` and ``raw_body`` are redacted: no secret, token or signature.
    """

    venue: Venue
    connection: str
    action: Action
    http_status: int | None
    message: str
    latency_ms: float
    request: str = ""
    raw_body: str = ""
    account: str = ""
    order_id: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def order_key(self) -> OrderKey | None:
        if self.account and self.order_id:
            return OrderKey(self.connection, self.account, self.order_id)
        return None


class CancelAck(StrEnum):
    """What a venue's successful answer to a cancel request says, before any re-reading."""

    DONE = "done"  # e.g. AutoShares 204: the venue says the order is cancelled
    QUEUED = "queued"  # e.g. tanX "queued for cancellation", SnapTrade CANCEL_PENDING


@dataclass(frozen=True, slots=True)
class CancelReceipt:
    """A venue's acceptance of a cancel request (refusals are raised as ``VenueRefused``)."""

    ack: CancelAck
    response: VenueResponse
    order: Order | None = None  # the venue's echo of the order, where it sends one


@dataclass(frozen=True, slots=True)
class CancelResult:
    """The single final outcome of one cancel attempt."""

    key: OrderKey
    attempt_id: str
    outcome: CancelOutcome
    message: str
    http_status: int | None
    latency_ms: float
    final_status: OrderStatus | None
    provenance: Provenance
    batch_id: str = ""
    venue_status: str = ""
    detail: str = ""  # what re-reading the venue showed, in our words

    @property
    def too_late(self) -> bool:
        """The order filled before the cancel could take effect."""
        return self.final_status is OrderStatus.FILLED and self.outcome is not CancelOutcome.CANCELLED

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "outcome": self.outcome.value,
            "http_status": self.http_status,
            "message": self.message,
            "latency_ms": round(self.latency_ms, 1),
            "final_status": self.final_status.value if self.final_status else None,
            "venue_status": self.venue_status,
            "too_late": self.too_late,
            "detail": self.detail,
            "attempt_id": self.attempt_id,
            "provenance": self.provenance.value,
            "batch_id": self.batch_id or None,
        }


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An order a venue listed that Blotter could not read: skipped from the listing, and reported.

    ``account`` is the account whose listing carried it; ``order_id`` the venue's id when that much could be
    read ("" otherwise); ``reason`` a short, redacted description of what could not be read.
    """

    connection: str
    account: str
    order_id: str
    reason: str

    @property
    def where(self) -> str:
        """``connection/account/order_id`` (or ``connection/account`` with an unknown id) for messages."""
        base = f"{self.connection}/{self.account}"
        return f"{base}/{self.order_id}" if self.order_id else base

    def as_dict(self) -> dict[str, Any]:
        return {"connection": self.connection, "account": self.account, "order_id": self.order_id or None,
                "reason": self.reason}


class OrderList(list[Order]):
    """A listing's readable orders (a plain ``list``), with the orders it skipped as unreadable beside them.

    Adapters return it from their listings so ``VenueAdapter`` keeps returning ``list[Order]``; code that
    cares asks ``unreadable_in(orders)`` (a plain list, e.g. from a test double, has none).
    """

    unreadable: tuple[Unreadable, ...]

    def __init__(self, orders: Iterable[Order] = (), unreadable: Iterable[Unreadable] = ()) -> None:
        super().__init__(orders)
        self.unreadable = tuple(unreadable)


def unreadable_in(orders: Iterable[Order]) -> tuple[Unreadable, ...]:
    """The unreadable orders a listing skipped (none for a plain list)."""
    return orders.unreadable if isinstance(orders, OrderList) else ()
