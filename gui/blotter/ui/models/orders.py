"""The one orders model: every open order of every connection, keyed by ``OrderKey``, updated by diffs.

Updates (refresh diffs, cancel marks, removals) are queued and applied together by a short single-shot
timer (``flush``), as few model signals as possible:

- removals: ``beginRemoveRows`` per contiguous block; when there are many scattered blocks, the removed
  rows are first moved to the end in one layout change (the permutation is published in
  ``last_permutation`` so proxies can follow it in O(n)), then removed as one block;
- changes: rows are replaced and one ``dataChanged`` spans them (the exact rows are in
  ``changed_rows_hint`` while the signal is emitted);
- inserts: appended as one block.

A row leaves when its order is terminal, unless ``linger(key)`` asked it to stay readable a moment
(too late — filled) — it leaves ``linger_s`` seconds later. A row removed because its cancel was confirmed
is not brought back by a refresh whose read began before that confirmation.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont

from ...core import Order, OrderKey, OrderStatus, Side
from ..theme import Colours, Tone, lifecycle_tone
from ._perf import gc_paused, settle_after_bulk
from .columns import COLUMNS, Align, CancelMark, ColourRole, MarkKind, OrderRow, column_index, search_texts

KeyRole = Qt.ItemDataRole.UserRole + 1  # the row's OrderKey
OrderRole = Qt.ItemDataRole.UserRole + 2  # the row's Order
MarkRole = Qt.ItemDataRole.UserRole + 3  # the row's CancelMark (or None)

_DISPLAY = Qt.ItemDataRole.DisplayRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FONT = Qt.ItemDataRole.FontRole

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_ALIGNMENTS = [(_RIGHT if c.align is Align.RIGHT else _LEFT) for c in COLUMNS]
_COLOUR_ROLES = [c.colour for c in COLUMNS]
_STATE_COLUMN = column_index("state")
_ACCOUNT_COLUMN = column_index("account")
ROLES = frozenset({_DISPLAY, _FOREGROUND, _BACKGROUND, _ALIGN, _TOOLTIP, _FONT, KeyRole, OrderRole, MarkRole})
_BULK = 20_000  # inserting this many rows at once: let the garbage collector settle afterwards
_WARM_SLICE = 8_000  # rows whose search texts are computed in one idle slice (~2 ms)
_MANY_BLOCKS = 2  # more scattered removal blocks than this: compact first, then remove one block
_REMOVED_MEMORY_S = 300.0

# Status checks in the per-row loops by identity: ``status.is_terminal`` hashes the enum member in Python
# (Enum.__hash__), which costs more than the rest of the row's work at 100k rows.
_TERMINAL_IDS = frozenset(id(s) for s in OrderStatus if s.is_terminal)
_OPEN_IDS = frozenset(id(s) for s in OrderStatus if s.is_open)
_account_of = attrgetter("order.key.connection", "order.key.account")
_uid_of_row = attrgetter("uid")

_MARK_TONES = {kind: lifecycle_tone(kind.value) for kind in MarkKind}


def state_tone(row: OrderRow) -> Tone:
    if row.mark is not None:
        return _MARK_TONES[row.mark.kind]
    status = row.order.status
    if status is OrderStatus.PENDING_CANCEL:
        return Tone.PENDING
    if status is OrderStatus.PARTIALLY_FILLED:
        return Tone.PARTIAL
    if status is OrderStatus.FILLED:
        return Tone.TOO_LATE
    if status.is_terminal:
        return Tone.CANCELLED
    if status is OrderStatus.UNKNOWN:
        return Tone.UNKNOWN
    return Tone.OPEN


def side_tone(side: Side) -> Tone | None:
    if side.is_buy:
        return Tone.BUY
    if side.is_sell:
        return Tone.SELL
    return None


class OrdersTableModel(QAbstractTableModel):
    """Every open order, one row per ``OrderKey``; apply diffs with ``apply``/``mark``/``remove``."""

    countsChanged = Signal()  # open-order counts per account changed
    flushed = Signal()  # a batch of updates was applied

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        coalesce_ms: int = 30,
        linger_s: float = 6.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._rows: list[OrderRow] = []
        self._uid_of: dict[OrderKey, int] = {}  # stable while the order is in the model
        self._row_of: dict[int, int] = {}  # uid -> current row
        self._next_uid = 1
        self._counts: Counter[tuple[str, str]] = Counter()
        self._clock = clock
        self.linger_s = linger_s
        # queued work: key -> Order (upsert) or None (remove); marks applied after
        self._pending: dict[OrderKey, Order | None] = {}
        self._pending_marks: dict[OrderKey, CancelMark | None] = {}
        self._removed_at: dict[OrderKey, float] = {}
        self._linger: dict[OrderKey, float] = {}  # key -> when the lingering row leaves
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(coalesce_ms)
        self._timer.timeout.connect(self.flush)
        self._linger_timer = QTimer(self)
        self._linger_timer.setSingleShot(True)
        self._linger_timer.timeout.connect(self._expire_lingering)
        # after a bulk load, the filter box's search texts are prepared in short slices while idle
        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.setInterval(0)
        self._warm_timer.timeout.connect(self._warm_search_texts)
        self._warm_next = 0
        self._italic = QFont()
        self._italic.setItalic(True)
        self._account_labels: dict[tuple[str, str], str] = {}
        self._stale: dict[str, str] = {}  # connection -> "hh:mm:ss" of its rows' last good read
        self._twins: dict[OrderKey, OrderKey] = {}  # a row -> the row of the same venue order it repeats
        # published for proxies while the matching signal is being emitted
        self.changed_rows_hint: list[tuple[int, OrderRow]] | None = None  # (row, the row's old value)
        self.last_permutation: list[int] | None = None

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == _DISPLAY:
                return COLUMNS[section].header
            if role == _TOOLTIP:
                return COLUMNS[section].tooltip or None
            if role == _ALIGN:
                return _ALIGNMENTS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        return self.data_at(index.row(), index.column(), role)

    def data_at(self, row: int, column: int, role: int) -> Any:
        """``data()`` by row and column (the proxy calls this directly, skipping index mapping)."""
        if role not in ROLES or not (0 <= row < len(self._rows) and 0 <= column < len(COLUMNS)):
            return None
        r = self._rows[row]
        if role == _DISPLAY:
            if column == _ACCOUNT_COLUMN and self._account_labels:
                key = r.order.key
                return self._account_labels.get((key.connection, key.account)) or r.display(column)
            if column == _STATE_COLUMN and (self._stale or self._twins):
                text = r.display(column)
                twin = self._twins.get(r.order.key) if self._twins else None
                if twin is not None:
                    text += f" · same order as {twin.connection}"
                as_of = self._stale.get(r.order.key.connection)
                if as_of is not None:
                    text += f" · stale, as of {as_of}"
                return text
            return r.display(column)
        if role == _FOREGROUND:
            if self._stale and r.order.key.connection in self._stale:
                return Colours.current().foreground[Tone.MUTED]  # greyed: not live
            return self._foreground(r, column)
        if role == _BACKGROUND:
            if _COLOUR_ROLES[column] is ColourRole.STATE:
                return Colours.current().background.get(state_tone(r))
            return None
        if role == _ALIGN:
            return _ALIGNMENTS[column]
        if role == _FONT:
            if column == _STATE_COLUMN and r.mark is not None and r.mark.kind is MarkKind.CANCELLING:
                return self._italic
            return None
        if role == _TOOLTIP:
            return self._tooltip(r, column)
        if role == KeyRole:
            return r.order.key
        if role == OrderRole:
            return r.order
        if role == MarkRole:
            return r.mark
        return None

    def _foreground(self, r: OrderRow, column: int) -> Any:
        colours = Colours.current()
        colour_role = _COLOUR_ROLES[column]
        if colour_role is ColourRole.STATE:
            return colours.foreground[state_tone(r)]
        if r.order.status.is_terminal:
            return colours.foreground[Tone.MUTED]
        if colour_role is ColourRole.SIDE:
            tone = side_tone(r.order.side)
            return colours.foreground[tone] if tone is not None else None
        return None

    def _tooltip(self, r: OrderRow, column: int) -> str | None:
        as_of = self._stale.get(r.order.key.connection) if self._stale else None
        if as_of is not None and column != _ACCOUNT_COLUMN:
            return (f"{r.order.key.connection} cannot be reached: this row is as of {as_of} and may no longer be "
                    "true (filled or cancelled meanwhile). A cancel is still sent, but may not be answered.")
        if column == _ACCOUNT_COLUMN:
            key = r.order.key
            label = self._account_labels.get((key.connection, key.account))
            return f"{key.connection} / {label} ({key.account})" if label else f"{key.connection} / {key.account}"
        if column != _STATE_COLUMN:
            return None
        lines = [r.display(column), f"venue status: {r.order.venue_status or r.order.status.value}"]
        if r.mark is not None:
            if r.mark.message:
                lines.append(f"venue said: {r.mark.message}")
            if r.mark.detail:
                lines.append(r.mark.detail)
        return "\n".join(lines)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._rows)

    def row_of(self, key: OrderKey) -> int:
        """Current row of an order, -1 if absent (pending updates are not applied)."""
        uid = self._uid_of.get(key)
        return -1 if uid is None else self._row_of[uid]

    def row_of_uid(self, uid: int) -> int:
        return self._row_of.get(uid, -1)

    def uid_of(self, key: OrderKey) -> int:
        return self._uid_of.get(key, 0)

    def row_at(self, row: int) -> OrderRow:
        return self._rows[row]

    def key_at(self, row: int) -> OrderKey:
        return self._rows[row].order.key

    def order(self, key: OrderKey) -> Order | None:
        row = self.row_of(key)
        return None if row < 0 else self._rows[row].order

    def mark_of(self, key: OrderKey) -> CancelMark | None:
        row = self.row_of(key)
        return None if row < 0 else self._rows[row].mark

    def keys(self) -> list[OrderKey]:
        return [r.order.key for r in self._rows]

    def open_keys(self, connection: str = "", account: str = "") -> list[OrderKey]:
        """Keys of orders still open at the venue (lingering terminal rows excluded)."""
        return [
            r.order.key for r in self._rows
            if r.order.status.is_open
            and (not connection or r.order.key.connection == connection)
            and (not account or r.order.key.account == account)
        ]

    def set_account_labels(self, connection: str, labels: dict[str, str]) -> None:
        """Names to show instead of account ids (ids stay in the tooltip and the sort)."""
        changed = False
        for account, label in labels.items():
            if label and self._account_labels.get((connection, account)) != label:
                self._account_labels[(connection, account)] = label
                changed = True
        if changed and self._rows:
            self.changed_rows_hint = []  # a repaint: no row's sort key or filter text changed
            try:
                self.dataChanged.emit(self.index(0, _ACCOUNT_COLUMN),
                                      self.index(len(self._rows) - 1, _ACCOUNT_COLUMN), [_DISPLAY, _TOOLTIP])
            finally:
                self.changed_rows_hint = None

    def set_stale(self, connection: str, as_of: str | None) -> None:
        """Mark a connection's rows stale ("as of hh:mm:ss", greyed) or live again (``None``)."""
        if self._stale.get(connection) == as_of:
            return
        if as_of is None:
            self._stale.pop(connection, None)
        else:
            self._stale[connection] = as_of
        if self._rows:
            self.changed_rows_hint = []  # a repaint: no row's sort key or filter text changed
            try:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1),
                                      [_DISPLAY, _FOREGROUND, _TOOLTIP])
            finally:
                self.changed_rows_hint = None

    def set_twins(self, twins: dict[OrderKey, OrderKey]) -> None:
        """Rows that repeat a venue order another connection lists too (two connections to one login)."""
        if twins == self._twins:
            return
        self._twins = dict(twins)
        if self._rows:
            self.changed_rows_hint = []  # a repaint: no row's sort key or filter text changed
            try:
                self.dataChanged.emit(self.index(0, _STATE_COLUMN), self.index(len(self._rows) - 1, _STATE_COLUMN),
                                      [_DISPLAY])
            finally:
                self.changed_rows_hint = None

    def twin_of(self, key: OrderKey) -> OrderKey | None:
        return self._twins.get(key)

    def stale_as_of(self, connection: str) -> str | None:
        return self._stale.get(connection)

    def counts(self) -> Counter[tuple[str, str]]:
        """Open orders per (connection, account)."""
        return Counter(self._counts)

    # ------------------------------------------------------------------ queueing updates
    def apply(
        self, upserts: Iterable[Order] = (), removals: Iterable[OrderKey] = (), *, started_at: float | None = None
    ) -> None:
        """Queue orders to add/replace and keys to remove. ``started_at``: when the read began (monotonic);
        orders whose cancel was confirmed after that are not brought back."""
        removed_at = self._removed_at
        for order in upserts:
            if started_at is not None:
                gone = removed_at.get(order.key)
                if gone is not None and gone >= started_at:
                    continue
            self._pending[order.key] = order
        for key in removals:
            if key in self._linger:
                continue  # a lingering row (too late — filled) stays readable for a moment
            self._pending[key] = None
        self._schedule()

    def mark(self, key: OrderKey, mark: CancelMark | None) -> None:
        """Queue a cancel mark for an order (None clears it)."""
        self._pending_marks[key] = mark
        self._schedule()

    def remove(self, keys: Iterable[OrderKey], *, confirmed: bool = True) -> None:
        """Queue removal of orders known to be gone (a confirmed cancel)."""
        now = self._clock()
        for key in keys:
            self._pending[key] = None
            self._linger.pop(key, None)
            if confirmed:
                self._removed_at[key] = now
        self._schedule()

    def linger(self, key: OrderKey, seconds: float | None = None) -> None:
        """Keep a row a moment, then remove it (a too-late fill stays readable)."""
        self._linger[key] = self._clock() + (self.linger_s if seconds is None else seconds)
        self._arm_linger()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    # ------------------------------------------------------------------ applying updates
    def flush(self) -> None:
        """Apply everything queued now (normally the coalescing timer calls this)."""
        self._timer.stop()
        if not (self._pending or self._pending_marks):
            return
        with gc_paused():
            inserted = self._flush()
        if inserted >= _BULK:
            settle_after_bulk()
            self._warm_next = 0
            self._warm_timer.start()
        self.flushed.emit()

    def _flush(self) -> int:
        pending, self._pending = self._pending, {}
        marks, self._pending_marks = self._pending_marks, {}
        rows, uid_of, row_of, linger = self._rows, self._uid_of, self._row_of, self._linger
        removals: list[int] = []
        changed: dict[int, OrderRow] = {}  # uid -> new row
        inserts: list[OrderRow] = []
        first_uid = next_uid = self._next_uid
        terminal_ids = _TERMINAL_IDS
        # (attribute access on a QObject is slow: the loops below use locals only)
        for key, order in pending.items():
            if order is None or (id(order.status) in terminal_ids and key not in linger):
                uid = uid_of.get(key)
                if uid is not None:
                    removals.append(row_of[uid])
                marks.pop(key, None)
                continue
            uid = uid_of.setdefault(key, next_uid)  # one hash of the key (OrderKey hashes in Python)
            if uid == next_uid:  # a new order
                inserts.append(OrderRow(order, marks.pop(key, None) if marks else None, next_uid))
                next_uid += 1
            else:
                mark = marks.pop(key) if key in marks else rows[row_of[uid]].mark
                changed[uid] = OrderRow(order, mark, uid)
        self._next_uid = next_uid
        for key, mark in marks.items():
            uid = uid_of.get(key)
            if uid is not None:
                current = changed.get(uid) or rows[row_of[uid]]
                if current.mark != mark:
                    changed[uid] = OrderRow(current.order, mark, uid)
        delta: Counter[tuple[str, str]] = Counter()
        # 1. removals first, while every other row still holds what the proxies last saw
        if removals:
            for row in removals:
                _count(delta, self._rows[row], -1)
            self._remove_rows(sorted(set(removals)))
        # 2. changes: replace the rows, then one dataChanged with the (row, old row) pairs as a hint
        if changed:
            rows, row_of = self._rows, self._row_of
            hint: list[tuple[int, OrderRow]] = []
            for uid, new in changed.items():
                row = row_of[uid]
                old = rows[row]
                _count(delta, old, -1)
                _count(delta, new, +1)
                rows[row] = new
                hint.append((row, old))
            hint.sort(key=lambda pair: pair[0])
            self._emit_changed(hint)
        # 3. inserts, appended as one block
        if inserts:
            rows, row_of = self._rows, self._row_of
            first = len(rows)
            self.beginInsertRows(QModelIndex(), first, first + len(inserts) - 1)
            rows.extend(inserts)
            # the inserted rows have consecutive uids: index them without a Python-level loop
            row_of.update(zip(range(first_uid, next_uid), range(first, first + len(inserts)), strict=True))
            open_ids = _OPEN_IDS
            delta.update(map(_account_of, (r for r in inserts if id(r.order.status) in open_ids)))
            self.endInsertRows()
        self._prune_removed()
        self._arm_linger()
        if any(delta.values()):
            self._counts.update(delta)
            self._counts = +self._counts  # drop zero counts
            self.countsChanged.emit()
        return len(inserts)

    def _emit_changed(self, hint: list[tuple[int, OrderRow]]) -> None:
        last = len(COLUMNS) - 1
        self.changed_rows_hint = hint
        try:
            self.dataChanged.emit(self.index(hint[0][0], 0), self.index(hint[-1][0], last), [])
        finally:
            self.changed_rows_hint = None

    def _remove_rows(self, rows: list[int]) -> None:
        """Remove the given (sorted, unique) rows with as few signals as possible."""
        blocks: list[tuple[int, int]] = []
        start = prev = rows[0]
        for r in rows[1:]:
            if r != prev + 1:
                blocks.append((start, prev))
                start = r
            prev = r
        blocks.append((start, prev))
        if len(blocks) > _MANY_BLOCKS:
            self._compact(rows)
            n = len(self._rows)
            blocks = [(n - len(rows), n - 1)]
        for first, last in reversed(blocks):
            self.beginRemoveRows(QModelIndex(), first, last)
            for gone in self._rows[first:last + 1]:
                del self._uid_of[gone.order.key]
                del self._row_of[gone.uid]
            del self._rows[first:last + 1]
            # keep the index true before anyone hears of the removal (proxies look rows up by uid); at
            # C speed: one cancelled order near the top of 100k rows renumbers them all (a Python loop
            # took 45 ms — the trader's next key press waited for it)
            kept = self._rows
            self._row_of.update(zip(map(_uid_of_row, kept[first:]), range(first, len(kept)), strict=True))
            self.endRemoveRows()

    def _compact(self, doomed: list[int]) -> None:
        """Move the doomed rows to the end (one layout change), keeping everything else in order."""
        doomed_set = set(doomed)
        n = len(self._rows)
        keep = [i for i in range(n) if i not in doomed_set]
        order = keep + doomed  # new position -> old row
        perm = [0] * n  # old row -> new position
        for new, old in enumerate(order):
            perm[old] = new
        self.layoutAboutToBeChanged.emit()
        old_rows = self._rows
        self._rows = [old_rows[i] for i in order]
        self._row_of = {r.uid: i for i, r in enumerate(self._rows)}
        persistent = self.persistentIndexList()
        if persistent:
            self.changePersistentIndexList(
                persistent, [self.index(perm[p.row()], p.column()) for p in persistent]
            )
        self.last_permutation = perm
        try:
            self.layoutChanged.emit()
        finally:
            self.last_permutation = None

    def _prune_removed(self) -> None:
        if len(self._removed_at) > 256:
            horizon = self._clock() - _REMOVED_MEMORY_S
            self._removed_at = {k: t for k, t in self._removed_at.items() if t >= horizon}

    def _warm_search_texts(self) -> None:
        """Compute the next slice of rows' search texts (~2 ms), then yield to the event loop.

        The first keystroke in the filter box would otherwise compute all of them (~20 ms at 100k rows);
        rows that change later get theirs when a filter first needs them.
        """
        rows = self._rows
        first = self._warm_next
        last = min(len(rows), first + _WARM_SLICE)
        search_texts(rows[first:last])
        self._warm_next = last
        if last < len(rows):
            self._warm_timer.start()

    # ------------------------------------------------------------------ lingering rows
    def _arm_linger(self) -> None:
        if not self._linger:
            return
        wait = max(0.0, min(self._linger.values()) - self._clock())
        self._linger_timer.start(int(wait * 1000) + 1)

    def _expire_lingering(self) -> None:
        now = self._clock()
        due = [k for k, t in self._linger.items() if t <= now]
        for key in due:
            del self._linger[key]
            self._pending[key] = None
        if due:
            self._schedule()
        self._arm_linger()


def _count(counts: Counter[tuple[str, str]], row: OrderRow, sign: int) -> None:
    if id(row.order.status) in _OPEN_IDS:
        key = row.order.key
        counts[(key.connection, key.account)] += sign
