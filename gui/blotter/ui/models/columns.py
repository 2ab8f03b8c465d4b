"""The orders table's columns, declared once: id, header, formatter, sort key, colour role, alignment.

A column reads an ``OrderRow`` (the order plus what Blotter knows about a cancel of it) and turns it into
display text and a sort key. Sort keys are plain Python values of one type per column (``str`` or
``float`` or a tuple), so the proxy can sort 100,000 rows with ``list.sort(key=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any

from ...core import Order, OrderStatus, Side

NEG_INF = -math.inf


class MarkKind(StrEnum):
    """What Blotter shows about a cancel of an order (the row's lifecycle overlay)."""

    CANCELLING = "cancelling"  # request sent / being reconciled: ours, not the venue's yet
    PENDING = "pending"  # the venue accepted; the order is not cancelled yet
    CANCELLED = "cancelled"  # confirmed (the row is about to leave)
    REJECTED = "rejected"  # the venue refused; its words are in ``message``
    TOO_LATE = "too_late"  # the order filled before the cancel took effect
    FAILED = "failed"  # we could not ask (auth, read-only) or the venue shows it still open
    UNKNOWN = "unknown"  # no answer and the venue could not be asked again


@dataclass(frozen=True, slots=True)
class CancelMark:
    kind: MarkKind
    message: str = ""  # the venue's words, verbatim
    detail: str = ""  # what re-reading showed, in our words
    attempt_id: str = ""


class OrderRow:
    """One row of the orders model: an order, its cancel mark, and lazily computed caches.

    Rows are never mutated: a changed order or mark gets a new ``OrderRow``, so the caches stay valid.
    There is one per order (100k rows: every byte here counts 100,000 times): display texts are cached
    only for rows that were painted; sort values are not cached (the proxy sorts on plain values it
    computes in bulk, and binary searches touch ~17 rows).
    """

    __slots__ = ("_display", "_search", "mark", "order", "uid")

    def __init__(self, order: Order, mark: CancelMark | None = None, uid: int = 0) -> None:
        self.order = order
        self.mark = mark
        self.uid = uid  # the model's stable integer id of this order (cheap to hash and compare)
        self._display: list[str | None] | None = None
        self._search: str | None = None

    def display(self, column: int) -> str:
        cache = self._display
        if cache is None:
            cache = self._display = [None] * len(COLUMNS)
        text = cache[column]
        if text is None:
            text = cache[column] = COLUMNS[column].text(self)
        return text

    def sort_value(self, column: int) -> Any:
        """The column's sort value (one type per column: str, float or a tuple)."""
        return COLUMNS[column].key(self)

    def sort_key(self, column: int) -> tuple[Any, int]:
        """The sort value tie-broken by ``uid``: every row has a unique position."""
        return (COLUMNS[column].key(self), self.uid)

    @property
    def search_text(self) -> str:
        """What the filter box matches: symbol, side, lifecycle state and the venue's status."""
        text = self._search
        if text is None:
            o = self.order
            if self.mark is None:  # most rows share a few combinations: build each text once
                # enum members are singletons; id() avoids Enum.__hash__, which is slow Python code
                combo = (o.symbol, o.venue_status, id(o.side), id(o.status))
                text = _SEARCH_TEXTS.get(combo)
                if text is None:
                    if len(_SEARCH_TEXTS) > 50_000:
                        _SEARCH_TEXTS.clear()
                    text = _SEARCH_TEXTS[combo] = _search_text(self)
            else:
                text = _search_text(self)
            self._search = text
        return text


_SEARCH_TEXTS: dict[tuple[Any, ...], str] = {}
_cached_search = attrgetter("_search")


def search_texts(rows: Sequence[OrderRow]) -> list[str]:
    """``search_text`` of every row (cached ones read at C speed)."""
    texts = list(map(_cached_search, rows))
    if None in texts:
        for i, text in enumerate(texts):
            if text is None:
                texts[i] = rows[i].search_text
    return texts


def _search_text(row: OrderRow) -> str:
    o = row.order
    return f"{o.symbol} {side_label(o.side)} {state_label(row)} {o.venue_status}".casefold()


# ---------------------------------------------------------------------- formatting
_SIDE_LABELS = {
    Side.BUY: "Buy", Side.SELL: "Sell", Side.SELL_SHORT: "Sell short", Side.BUY_TO_COVER: "Buy to cover",
    Side.UNKNOWN: "?",
}

_STATUS_LABELS = {
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "partially filled",
    OrderStatus.PENDING_CANCEL: "pending at venue",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.FILLED: "filled",
    OrderStatus.REJECTED: "rejected",
    OrderStatus.EXPIRED: "expired",
    OrderStatus.UNKNOWN: "unknown",
}


def side_label(side: Side) -> str:
    return _SIDE_LABELS.get(side) or str(side)


def state_label(row: OrderRow) -> str:
    """The lifecycle cell: our cancel's state where there is one, else the venue's normalised status."""
    mark, order = row.mark, row.order
    if mark is not None:
        kind = mark.kind
        if kind is MarkKind.CANCELLING:
            return "cancelling…"
        if kind is MarkKind.PENDING:
            return "pending at venue"
        if kind is MarkKind.CANCELLED:
            return "cancelled"
        if kind is MarkKind.TOO_LATE:
            return "too late — filled"
        if kind is MarkKind.REJECTED:
            return f"rejected: {mark.message}" if mark.message else "rejected"
        if kind is MarkKind.FAILED:
            return f"cancel failed: {mark.message}" if mark.message else "cancel failed"
        if kind is MarkKind.UNKNOWN:
            return f"unknown — check: {mark.message}" if mark.message else "unknown — check the venue"
    return _STATUS_LABELS.get(order.status) or str(order.status)


_ATTENTION = {  # sorting the State column ascending puts what needs a look first
    MarkKind.UNKNOWN: 0, MarkKind.FAILED: 1, MarkKind.TOO_LATE: 2, MarkKind.REJECTED: 3,
    MarkKind.CANCELLING: 4, MarkKind.PENDING: 5, MarkKind.CANCELLED: 6,
}
_STATUS_ATTENTION = {
    OrderStatus.UNKNOWN: 0, OrderStatus.PENDING_CANCEL: 5, OrderStatus.PARTIALLY_FILLED: 7,
    OrderStatus.OPEN: 8,
}


def state_sort_key(row: OrderRow) -> tuple[int, str, float]:
    """What needs a look first; within one state, the newest order first."""
    rank = _ATTENTION[row.mark.kind] if row.mark is not None else _STATUS_ATTENTION.get(row.order.status, 9)
    return (rank, state_label(row).casefold(), -_ts(row.order.created_at))


def fmt_quantity(value: Decimal | None) -> str:
    if value is None:
        return ""
    if value == value.to_integral_value():
        return f"{value.to_integral_value():,f}"
    return f"{value.normalize():,f}"


def fmt_price(value: Decimal | None) -> str:
    if value is None:
        return ""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{value.quantize(Decimal('0.01')):,f}"
    return f"{value.normalize():,f}"


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone().strftime("%m-%d %H:%M:%S")


def _num(value: Decimal | None) -> float:
    return NEG_INF if value is None else float(value)


def _ts(value: datetime | None) -> float:
    return NEG_INF if value is None else value.timestamp()


def _id_key(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text.casefold())


# ---------------------------------------------------------------------- the declaration
class Align(StrEnum):
    LEFT = "left"
    RIGHT = "right"


class ColourRole(StrEnum):
    NONE = "none"
    SIDE = "side"  # buy green / sell red
    STATE = "state"  # lifecycle tone + background tint


@dataclass(frozen=True, slots=True)
class Column:
    id: str  # stable, used in settings and tests
    header: str
    text: Callable[[OrderRow], str]
    key: Callable[[OrderRow], Any]
    colour: ColourRole = ColourRole.NONE
    align: Align = Align.LEFT
    visible: bool = True  # shown in the default layout
    width: int = 0  # default width in pixels (0 = fit the contents)
    tooltip: str = ""


def _text_col(cid: str, header: str, get: Callable[[Order], str], **kw: Any) -> Column:
    return Column(cid, header, lambda r: get(r.order), lambda r: get(r.order).casefold(), **kw)


def _qty_col(cid: str, header: str, get: Callable[[Order], Decimal | None], **kw: Any) -> Column:
    return Column(cid, header, lambda r: fmt_quantity(get(r.order)), lambda r: _num(get(r.order)),
                  align=Align.RIGHT, **kw)


def _price_col(cid: str, header: str, get: Callable[[Order], Decimal | None], **kw: Any) -> Column:
    return Column(cid, header, lambda r: fmt_price(get(r.order)), lambda r: _num(get(r.order)),
                  align=Align.RIGHT, **kw)


COLUMNS: tuple[Column, ...] = (
    _text_col("venue", "Venue", lambda o: str(o.venue), width=82),
    Column("account", "Account", lambda r: r.order.key.account, lambda r: _id_key(r.order.key.account),
           width=112, tooltip="The account's name where the venue gives one (the id is in the tooltip)"),
    _text_col("symbol", "Symbol", lambda o: o.symbol, width=78),
    Column("side", "Side", lambda r: side_label(r.order.side), lambda r: side_label(r.order.side).casefold(),
           colour=ColourRole.SIDE, width=70),
    _text_col("type", "Type", lambda o: str(o.order_type).replace("_", " "), width=70),
    _qty_col("quantity", "Qty", lambda o: o.quantity, width=62),
    _qty_col("filled", "Filled", lambda o: o.filled, width=54),
    _qty_col("remaining", "Remaining", lambda o: o.remaining, visible=False, width=76),
    _price_col("limit_price", "Limit", lambda o: o.limit_price, width=76),
    _price_col("stop_price", "Stop", lambda o: o.stop_price, width=66),
    Column("state", "State", state_label, state_sort_key, colour=ColourRole.STATE,
           width=230, tooltip="Lifecycle: the venue's status, or where our cancel of the order stands "
                              "(sorted: what needs a look first)"),
    Column("created_at", "Created", lambda r: fmt_time(r.order.created_at), lambda r: _ts(r.order.created_at),
           width=112),
    Column("order_id", "Order ID", lambda r: r.order.key.order_id, lambda r: _id_key(r.order.key.order_id),
           width=100),
    _text_col("connection", "Connection", lambda o: o.key.connection, visible=False, width=120),
    _text_col("time_in_force", "TIF", lambda o: o.time_in_force, visible=False, width=60),
    _text_col("venue_status", "Venue status", lambda o: o.venue_status, visible=False, width=110),
)

COLUMN_IDS: tuple[str, ...] = tuple(c.id for c in COLUMNS)


def column_index(cid: str) -> int:
    return COLUMN_IDS.index(cid)
