"""A sorting/filtering view of the orders model that never calls ``data()`` to sort or filter.

``QSortFilterProxyModel`` compares rows through Python ``data()`` calls (17-19 s for 100k rows). This
proxy keeps, in Python, lists of the model's integer order ids (``OrderRow.uid``: stable while the order
is in the model, unlike source row numbers, and cheaper to hash than ``OrderKey``):

- ``_order``: every order, ascending by the sort column's precomputed key (``OrderRow.sort_key``, which
  ends with the uid as tie-break, so positions are unique and binary-searchable);
- ``_map``: the accepted subsequence of ``_order``. Proxy row ``r`` is ``_map[r]`` ascending, or
  ``_map[-1 - r]`` descending — flipping the direction is one cheap layout change.

Small updates (a refresh touching some rows, a cancel mark, a few inserts/removals) are handled with
binary searches and single-row signals (``beginMoveRows`` keeps the selection on a row whose sort key
changed). Big ones (a first load, a new filter) rebuild the lists and go through ``_transition``, which
emits remove / insert / layout signals and keeps persistent indexes (the selection) on their orders.

A filter is evaluated for all rows at once at C speed (``map``/``compress`` over the rows in storage order,
no Python call per row). A narrowing one (a keystroke that adds letters, a click on an account) only
removes rows: contiguous blocks as they are, scattered rows by one layout change that moves them to the
end of the view and one removal (Qt handles both in ~1 ms at 100k rows; the selection and the current
row stay on their orders through persistent indexes, found again by binary search).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import compress, filterfalse, islice, repeat
from operator import and_, attrgetter, eq, gt, lt, not_
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from ...core import OrderKey
from ._perf import gc_paused
from .columns import COLUMNS, OrderRow, column_index, search_texts
from .orders import ROLES, OrdersTableModel

_NO_HINT = QAbstractItemModel.LayoutChangeHint.NoLayoutChangeHint
_ASC = Qt.SortOrder.AscendingOrder
_DESC = Qt.SortOrder.DescendingOrder
_FEW = 64  # more changed rows than this in one batch: rebuild instead of row-by-row
_FEW_BLOCKS = 4
_UID = attrgetter("uid")
_CONNECTION = attrgetter("order.key.connection")
_ACCOUNT = attrgetter("order.key.account")
DEFAULT_SORT_COLUMN = column_index("created_at")
DEFAULT_SORT_ORDER = _DESC


class OrdersProxyModel(QAbstractProxyModel):
    """All accounts, one connection or one account; a filter text; a sort — over one ``OrdersTableModel``."""

    filterChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._src: OrdersTableModel | None = None
        self._order: list[int] = []
        self._map: list[int] = []
        self._sort_column = DEFAULT_SORT_COLUMN
        self._sort_order = DEFAULT_SORT_ORDER
        self._connection = ""
        self._account = ""
        self._tokens: tuple[str, ...] = ()
        self._filter_text = ""

    # ------------------------------------------------------------------ source wiring
    def setSourceModel(self, source: QAbstractItemModel | None) -> None:
        if not isinstance(source, OrdersTableModel):
            raise TypeError("OrdersProxyModel works over an OrdersTableModel")
        self.beginResetModel()
        old = self._src
        if old is not None:
            for signal, slot in self._connections(old):
                signal.disconnect(slot)
        super().setSourceModel(source)
        self._src = source
        for signal, slot in self._connections(source):
            signal.connect(slot)
        self._rebuild()
        self.endResetModel()

    def _connections(self, src: OrdersTableModel) -> list[tuple[Any, Callable[..., None]]]:
        return [
            (src.rowsAboutToBeRemoved, self._on_rows_about_to_be_removed),
            (src.rowsInserted, self._on_rows_inserted),
            (src.dataChanged, self._on_data_changed),
            (src.layoutChanged, self._on_layout_changed),
            (src.modelAboutToBeReset, self._on_about_to_reset),
            (src.modelReset, self._on_reset),
        ]

    @property
    def source(self) -> OrdersTableModel:
        if self._src is None:
            raise RuntimeError("no source model")
        return self._src

    # ------------------------------------------------------------------ Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._map)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def index(
        self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
    ) -> QModelIndex:
        if parent.isValid() or not (0 <= row < len(self._map) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, child: QModelIndex | QPersistentModelIndex | None = None) -> Any:
        if child is None:
            return QObject.parent(self)
        return QModelIndex()

    def sibling(self, row: int, column: int, idx: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        return self.index(row, column)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and bool(self._map)

    def mapToSource(self, proxy: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        if not proxy.isValid() or self._src is None or not (0 <= proxy.row() < len(self._map)):
            return QModelIndex()
        return self._src.index(self._src.row_of_uid(self._uid_at(proxy.row())), proxy.column())

    def mapFromSource(self, source: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        if not source.isValid() or self._src is None:
            return QModelIndex()
        row = self._row_of_uid(self._src.row_at(source.row()).uid) if source.row() < len(self._src) else -1
        return QModelIndex() if row < 0 else self.createIndex(row, source.column())

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # called for every painted cell and role: few attribute lookups (they are slow on a QObject)
        if role not in ROLES:
            return None
        src = self._src
        m = self._map
        row = index.row()  # -1 for an invalid index
        n = len(m)
        if src is None or not 0 <= row < n:
            return None
        return src.data_at(src._row_of[m[row] if self._sort_order == _ASC else m[n - 1 - row]],
                           index.column(), role)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            return self._src.headerData(section, orientation, role) if self._src is not None else None
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._map):
            return section + 1
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid() or self._src is None:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def sort(self, column: int, order: Qt.SortOrder = _ASC) -> None:
        with gc_paused():
            self._sort(column, order)

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        if column == self._sort_column and order == self._sort_order:
            return
        if column == self._sort_column:  # only the direction: the same rows, reversed
            n = len(self._map)
            self._relayout_by(lambda r: n - 1 - r, lambda: setattr(self, "_sort_order", order))
            return
        old_view = self._view()
        self._sort_column, self._sort_order = column, order
        self._map = old_view if order == _ASC else old_view[::-1]  # old rows, in the new direction's terms
        if self._src is None:
            return
        self._sort_all()
        if len(self._map) == len(self._order):  # nothing filtered out: every order, in the new order
            new_map = list(self._order)
        else:
            shown = set(self._map)
            new_map = [k for k in self._order if k in shown]
        self._relayout_to(new_map)  # the same orders, moved

    # ------------------------------------------------------------------ our API
    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    @property
    def filter_text(self) -> str:
        return self._filter_text

    @property
    def scope(self) -> tuple[str, str]:
        return self._connection, self._account

    def key_at(self, row: int) -> OrderKey:
        src = self.source
        return src.row_at(src.row_of_uid(self._uid_at(row))).order.key

    def view_keys(self) -> list[OrderKey]:
        """The shown orders, in view order."""
        src = self.source
        rows, row_of = src._rows, src._row_of
        return [rows[row_of[u]].order.key for u in self._view()]

    def row_of(self, key: OrderKey) -> int:
        """Proxy row of an order, -1 if it is not shown."""
        return -1 if self._src is None else self._row_of_uid(self._src.uid_of(key))

    def _uid_at(self, row: int) -> int:
        return self._map[row] if self._sort_order == _ASC else self._map[len(self._map) - 1 - row]

    def _row_of_uid(self, uid: int) -> int:
        src = self._src
        if src is None or uid <= 0:
            return -1
        srow = src.row_of_uid(uid)
        if srow < 0:
            return -1
        pos = self._find(self._map, uid, src.row_at(srow).sort_key(self._sort_column))
        return -1 if pos < 0 else self._to_row(pos, len(self._map))

    def set_scope(self, connection: str = "", account: str = "") -> None:
        """Show all accounts (""), one connection, or one account of a connection."""
        if (connection, account) == (self._connection, self._account):
            return
        narrowing = (not self._connection or self._connection == connection) and not self._account
        self._connection, self._account = connection, account
        self._refilter(narrowing=narrowing)

    def set_filter_text(self, text: str) -> None:
        """Whitespace-separated words, each matched (case-insensitively) in symbol, side or state."""
        text = " ".join(text.split())
        if text == self._filter_text:
            return
        old_tokens = self._tokens
        new_tokens = tuple(text.casefold().split())
        narrowing = _narrows(old_tokens, new_tokens)
        self._filter_text, self._tokens = text, new_tokens
        self._refilter(narrowing=narrowing)

    # ------------------------------------------------------------------ helpers
    def _view(self) -> list[int]:
        return list(self._map) if self._sort_order == _ASC else self._map[::-1]

    def _to_row(self, pos: int, n: int) -> int:
        return pos if self._sort_order == _ASC else n - 1 - pos

    def _row_key(self, r: OrderRow) -> tuple[Any, int]:
        return r.sort_key(self._sort_column)

    def _key_fn(self) -> Callable[[int], tuple[Any, int]]:
        src = self.source
        rows, row_of, col = src._rows, src._row_of, self._sort_column

        def key(uid: int) -> tuple[Any, int]:
            return rows[row_of[uid]].sort_key(col)

        return key

    def _find(self, seq: list[int], uid: int, sort_key: tuple[Any, int]) -> int:
        """Position of ``uid`` in an ascending list, found by its sort key; -1 if absent."""
        pos = bisect_left(seq, sort_key, key=self._key_fn())
        return pos if pos < len(seq) and seq[pos] == uid else -1

    def _predicate(self) -> Callable[[OrderRow], bool] | None:
        conn, acct, tokens = self._connection, self._account, self._tokens
        if not (conn or acct or tokens):
            return None

        def accept(r: OrderRow) -> bool:
            key = r.order.key
            if conn and key.connection != conn:
                return False
            if acct and key.account != acct:
                return False
            if tokens:
                text = r.search_text
                return all(t in text for t in tokens)
            return True

        return accept

    def _filtered(self, candidates: Iterable[int]) -> list[int]:
        conn, acct, tokens = self._connection, self._account, self._tokens
        if not (conn or acct or tokens):
            return list(candidates)
        src = self.source
        rows, row_of = src._rows, src._row_of
        if not (conn or acct) and len(tokens) == 1:  # the common case, spelled out: ~3x faster
            token = tokens[0]
            return [u for u in candidates if token in rows[row_of[u]].search_text]
        accept = self._predicate()
        assert accept is not None
        return [u for u in candidates if accept(rows[row_of[u]])]

    def _hits(self, rows: list[OrderRow]) -> list[bool]:
        """Whether each row passes the scope and the filter words (what ``_predicate`` says, at C speed:
        one comparison or ``str.__contains__`` per row and condition, no Python call per row)."""
        hits: list[bool] | None = None
        conditions: list[Iterable[bool]] = []
        if self._connection:
            conditions.append(map(eq, map(_CONNECTION, rows), repeat(self._connection)))
        if self._account:
            conditions.append(map(eq, map(_ACCOUNT, rows), repeat(self._account)))
        if self._tokens:
            texts = search_texts(rows)
            conditions.extend(map(str.__contains__, texts, repeat(token)) for token in self._tokens)
        for found in conditions:
            hits = list(found) if hits is None else list(map(and_, hits, found))
        return [True] * len(rows) if hits is None else hits

    def _accepted_set(self) -> set[int] | None:
        """The ids of the orders that pass the scope and the filter words; None: no filter, all pass.

        Rows are read in storage order: 100k rows touched in sort order (or looked up by id) miss the CPU
        caches (measured 3-5x slower); callers then pick the accepted ids out of their lists.
        """
        if self._predicate() is None:
            return None
        rows = self.source._rows
        return set(map(_UID, compress(rows, self._hits(rows))))

    def _filter_all(self) -> list[int]:
        """The accepted orders in sort order."""
        accepted = self._accepted_set()
        return list(self._order) if accepted is None else list(filter(accepted.__contains__, self._order))

    def _sort_all(self) -> None:
        """Sort every order by (value, uid) with one stable sort on the plain values.

        The source stores its rows in uid order (rows are appended with growing uids and removals keep
        the order), so a stable sort of the storage order by value is the (value, uid) order; plain
        values compare much faster than tuples, and the rows are read sequentially.
        """
        rows = self.source._rows
        key = COLUMNS[self._sort_column].key
        values = [key(r) for r in rows]
        uids = [r.uid for r in rows]
        self._order = [uids[i] for i in sorted(range(len(rows)), key=values.__getitem__)]

    def _rebuild(self) -> None:
        self._order = [r.uid for r in self._src._rows] if self._src is not None else []
        self._sort_all()
        self._map = self._filter_all()

    def _refilter(self, *, narrowing: bool) -> None:
        if self._src is None:
            return
        with gc_paused():
            if narrowing:  # only shown rows can stay: remove the others, nothing moves
                accepted = self._accepted_set()
                if accepted is not None and len(accepted) < len(self._map):
                    self._remove_rows(list(map(accepted.__contains__, self._map)))
            else:
                self._transition(self._filter_all())
        self.filterChanged.emit()

    # ------------------------------------------------------------------ moving between row sets
    def _transition(self, new_map: list[int]) -> None:
        """Change the shown orders from ``_map`` to ``new_map`` (ascending) with proper signals."""
        if self._map == new_map:
            return
        if not self._map:  # nothing shown yet (a first load): insert every row in place, no layout change
            self.beginInsertRows(QModelIndex(), 0, len(new_map) - 1)
            self._map = new_map
            self.endInsertRows()
            return
        new_set = set(new_map)
        stays = list(map(new_set.__contains__, self._map))  # (the loops here run at C speed: 100k rows)
        if not all(stays):
            self._remove_rows(stays)
        if len(self._map) != len(new_map):
            old_set = set(self._map)
            added = list(filterfalse(old_set.__contains__, new_map))
            # append the new rows at the end of the view, then one layout change puts them in place
            first = len(self._map)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._map = self._map + added if self._sort_order == _ASC else added[::-1] + self._map
            self.endInsertRows()
        if self._map != new_map:
            self._relayout_to(new_map)

    def _remove_rows(self, stays: list[bool]) -> None:
        """Remove the orders of ``_map`` whose ``stays`` flag is false, in as few signals as possible.

        (The loops here run at C speed over the 100k flags; a scattered removal stops looking for blocks
        after the first few.)
        """
        m = self._map
        n = len(m)
        nxt = islice(stays, 1, None)
        # a block of removed positions starts after a kept one (or at 0) and ends before one (or at n-1)
        starts = list(islice(compress(range(1, n), map(gt, stays, nxt)), _FEW_BLOCKS + 1))
        if not stays[0]:
            starts.insert(0, 0)
        if len(starts) > _FEW_BLOCKS:
            # one layout change moves the doomed rows to the end of the view, then one block goes
            kept = list(compress(m, stays))
            doomed = list(compress(m, map(not_, stays)))
            runs = (kept, doomed) if self._sort_order == _ASC else (doomed, kept)
            self._relayout_to(runs[0] + runs[1], runs)
            self.beginRemoveRows(QModelIndex(), len(kept), n - 1)
            self._map = kept
            self.endRemoveRows()
            return
        ends = list(compress(range(n - 1), map(lt, stays, islice(stays, 1, None))))
        if not stays[-1]:
            ends.append(n - 1)
        for first, last in reversed(list(zip(starts, ends, strict=True))):  # from the highest: the rest stay valid
            row = first if self._sort_order == _ASC else len(self._map) - 1 - last
            self.beginRemoveRows(QModelIndex(), row, row + last - first)
            del self._map[first:last + 1]
            self.endRemoveRows()

    def _relayout_to(self, new_map: list[int], runs: tuple[list[int], ...] | None = None) -> None:
        """Same orders, new positions: one layout change; persistent indexes follow their orders.

        ``new_map`` is sorted by the current sort key, or is the concatenation of ``runs`` that each are.
        """
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        n_old = len(self._map)
        uids = [self._uid_at(p.row()) if 0 <= p.row() < n_old else 0 for p in persistent]
        self._map = new_map
        if persistent:
            n = len(new_map)
            targets = []
            for p, uid in zip(persistent, uids, strict=True):
                pos = self._find_in_runs(runs or (new_map,), uid) if uid else -1
                targets.append(self.createIndex(self._to_row(pos, n), p.column()) if pos >= 0 else QModelIndex())
            self.changePersistentIndexList(persistent, targets)
        self.layoutChanged.emit()

    def _find_in_runs(self, runs: tuple[list[int], ...], uid: int) -> int:
        """Position of ``uid`` in the concatenation of sorted ``runs`` (binary searches, not a 100k dict)."""
        src = self.source
        row = src.row_of_uid(uid)
        if row >= 0:
            sort_key = src.row_at(row).sort_key(self._sort_column)
            offset = 0
            for run in runs:
                pos = self._find(run, uid, sort_key)
                if pos >= 0:
                    return offset + pos
                offset += len(run)
        offset = 0  # not where its key says (never expected): look it up the slow way
        for run in runs:
            if uid in run:
                return offset + run.index(uid)
            offset += len(run)
        return -1

    def _relayout_by(self, row_map: Callable[[int], int], change: Callable[[], None]) -> None:
        self.layoutAboutToBeChanged.emit()
        change()
        persistent = self.persistentIndexList()
        if persistent:
            self.changePersistentIndexList(
                persistent, [self.createIndex(row_map(p.row()), p.column()) for p in persistent]
            )
        self.layoutChanged.emit()

    # single-row edits on the ascending lists, with signals in view coordinates
    def _insert_one(self, key: int, sort_key: tuple[Any, int]) -> None:
        pos = bisect_left(self._map, sort_key, key=self._key_fn())
        n = len(self._map)
        row = pos if self._sort_order == _ASC else n - pos
        self.beginInsertRows(QModelIndex(), row, row)
        self._map.insert(pos, key)
        self.endInsertRows()

    def _remove_one(self, pos: int) -> None:
        row = self._to_row(pos, len(self._map))
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._map[pos]
        self.endRemoveRows()

    # ------------------------------------------------------------------ following the source
    def _on_rows_about_to_be_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        src = self.source
        doomed = [src.row_at(r) for r in range(first, last + 1)]
        if len(doomed) > _FEW:
            dead = {r.uid for r in doomed}
            self._order = [k for k in self._order if k not in dead]
            self._transition([k for k in self._map if k not in dead])
            return
        for r in doomed:
            sort_key = self._row_key(r)
            key = r.uid
            pos = self._find(self._order, key, sort_key)
            if pos >= 0:
                del self._order[pos]
            pos = self._find(self._map, key, sort_key)
            if pos >= 0:
                self._remove_one(pos)

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        src = self.source
        new = src._rows[first:last + 1]
        accept = self._predicate()
        if len(new) > _FEW:
            self._sort_all()
            if accept is None:  # no filter: every order is shown, in sort order
                self._transition(list(self._order))
                return
            shown = set(self._map)
            shown.update(self._filtered(r.uid for r in new))
            self._transition([k for k in self._order if k in shown])
            return
        key_fn = self._key_fn()
        for r in new:
            sort_key = self._row_key(r)
            self._order.insert(bisect_left(self._order, sort_key, key=key_fn), r.uid)
            if accept is None or accept(r):
                self._insert_one(r.uid, sort_key)

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Any = ()) -> None:
        src = self.source
        hint = src.changed_rows_hint
        if hint is not None and not hint:  # a repaint only (e.g. account names learnt)
            if self._map:
                self.dataChanged.emit(self.index(0, top_left.column()),
                                      self.index(len(self._map) - 1, bottom_right.column()), list(roles or []))
            return
        if hint is None or (len(hint) > _FEW and not self._all_in_place(hint)):
            self._resync(range(top_left.row(), bottom_right.row() + 1) if hint is None
                         else [row for row, _old in hint])
            return
        accept = self._predicate()
        key_fn = self._key_fn()
        old_keys: dict[int, tuple[Any, int]] = {}  # orders whose sort key changed
        leaving: list[int] = []
        entering: list[tuple[int, tuple[Any, int]]] = []
        staying_moved: list[tuple[int, tuple[Any, int]]] = []
        touched: list[int] = []
        for row, old in hint:
            new = src.row_at(row)
            key = new.uid
            old_key, new_key = self._row_key(old), self._row_key(new)
            moved = old_key != new_key
            if moved:
                old_keys[key] = old_key
            was = accept is None or accept(old)
            now = accept is None or accept(new)
            if was and now:
                touched.append(key)
                if moved:
                    staying_moved.append((key, new_key))
            elif was:
                leaving.append(key)
            elif now:
                entering.append((key, new_key))
        if not (old_keys or leaving or entering):
            self._emit_changed(touched, roles)
            return

        def by_old(x: int) -> tuple[Any, int]:  # the lists are still sorted by the old keys
            k = old_keys.get(x)
            return k if k is not None else key_fn(x)

        # 1. take the moved orders out of _order (it has no signals)
        for key, old_key in old_keys.items():
            pos = bisect_left(self._order, old_key, key=by_old)
            if pos < len(self._order) and self._order[pos] == key:
                del self._order[pos]
        # 2. rows that no longer pass the filter leave the view
        for key in leaving:
            pos = bisect_left(self._map, by_old(key), key=by_old)
            if pos < len(self._map) and self._map[pos] == key:
                self._remove_one(pos)
        # 3. shown rows whose sort key changed move (one layout change keeps the selection on them)
        if staying_moved:
            moving = {k for k, _ in staying_moved}
            rest = list(filterfalse(moving.__contains__, self._map))
            for key, new_key in staying_moved:
                rest.insert(bisect_left(rest, new_key, key=key_fn), key)
            self._relayout_to(rest)
        # 4. everything left is sorted by current keys again
        for key in old_keys:
            self._order.insert(bisect_left(self._order, key_fn(key), key=key_fn), key)
        for key, new_key in entering:
            self._insert_one(key, new_key)
        self._emit_changed(touched, roles)

    def _all_in_place(self, hint: list[tuple[int, OrderRow]]) -> bool:
        """A big batch where no sort key or filter verdict changed: just repaint."""
        accept = self._predicate()
        src = self.source
        for row, old in hint:
            new = src.row_at(row)
            if self._row_key(old) != self._row_key(new):
                return False
            if accept is not None and accept(old) != accept(new):
                return False
        return True

    def _emit_changed(self, keys: list[int], roles: Any) -> None:
        if not self._map or not keys:
            return
        if len(keys) > _FEW:  # a big batch: repaint the lot (views only paint what is visible)
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._map) - 1, len(COLUMNS) - 1),
                                  list(roles or []))
            return
        rows = [r for k in keys if (r := self._row_of_uid(k)) >= 0]
        if rows:
            last = len(COLUMNS) - 1
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), last), list(roles or []))

    def _resync(self, source_rows: Iterable[int]) -> None:
        """Rebuild the order and the shown set after a big or unknown change of some source rows."""
        src = self.source
        changed = {src.row_at(r).uid for r in source_rows if 0 <= r < src.rowCount()}
        self._sort_all()
        shown = {k for k in self._map if k not in changed}
        shown.update(self._filtered(changed))
        self._transition([k for k in self._order if k in shown])
        self._emit_changed(list(changed), [])

    def _on_layout_changed(self, parents: Any = (), hint: Any = None) -> None:
        if self.source.last_permutation is not None:
            return  # the source only renumbered its rows; we hold keys, nothing moves here
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()

    def _on_about_to_reset(self) -> None:
        self.beginResetModel()

    def _on_reset(self) -> None:
        self._rebuild()
        self.endResetModel()


def _narrows(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """Whether every row matching ``new`` also matches ``old`` (each old word inside some new word)."""
    return all(any(o in n for n in new) for o in old)
