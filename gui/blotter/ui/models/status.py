"""The status pane's Qt model: a thin adapter over the Qt-free ``service.status_log.StatusLog``.

Newest first (row 0 is the log's last entry); the log's inserts, in-place changes and evictions become row
signals. How cancel steps and venue answers fold into entries lives in the log, tested without Qt.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from ...core import VenueResponse
from ...service import CancelEvent
from ...service.status_log import OUTCOME_LABELS, OutcomeKind, StatusEntry, StatusLog, result_kind
from ..theme import Colours, lifecycle_tone
from .records import RecordColumn, RecordTableModel

__all__ = ["OUTCOME_LABELS", "STATUS_COLUMNS", "OutcomeKind", "StatusEntry", "StatusFilterProxy", "StatusModel",
           "result_kind"]

_TONES = {kind: lifecycle_tone(kind.value) for kind in OutcomeKind}


STATUS_COLUMNS: tuple[RecordColumn, ...] = (
    RecordColumn("time", "Time", 62),
    RecordColumn("connection", "Connection", 118),
    RecordColumn("venue", "Venue", 76),
    RecordColumn("account", "Account", 112),
    RecordColumn("order", "Order", 80),
    RecordColumn("action", "Action", 58),
    RecordColumn("http", "HTTP", 42),
    RecordColumn("outcome", "Outcome", 112),
    RecordColumn("latency", "Latency", 62),
    RecordColumn("message", "Venue message", 420),
    RecordColumn("detail", "Detail", 300),
)
_COL = {c.id: i for i, c in enumerate(STATUS_COLUMNS)}
EntryRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2
VenueRole = Qt.ItemDataRole.UserRole + 3


class StatusModel(RecordTableModel):
    """Newest first; at most ``capacity`` rows (the oldest leave). ``log`` may be shared (the desk's)."""

    columns = STATUS_COLUMNS

    def __init__(self, parent: QObject | None = None, *, capacity: int = 1000, log: StatusLog | None = None) -> None:
        super().__init__(parent)
        self.log = log if log is not None else StatusLog(capacity=capacity)
        self.account_labels: dict[tuple[str, str], str] = {}  # (connection, account id) -> name
        self.log.inserting.append(self._inserting)
        self.log.inserted.append(self._inserted)
        self.log.changed.append(self._changed)
        self.log.evicting.append(self._evicting)
        self.log.evicted.append(self._evicted)

    @property
    def capacity(self) -> int:
        return self.log.capacity

    @property
    def max_responses(self) -> int:
        return self.log.max_responses

    @max_responses.setter
    def max_responses(self, value: int) -> None:
        self.log.max_responses = value

    # ------------------------------------------------------------------ Qt model API
    def row_count(self) -> int:
        return len(self.log.items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.log.items):
            return None
        entry = self.entry_at(index.row())
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == _COL["account"] and entry.account:
                label = self.account_labels.get((entry.connection, entry.account))
                if label:
                    return label
            return _display(entry, STATUS_COLUMNS[column].id)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == _COL["account"] and entry.account:
                return f"{entry.connection} / {entry.account}"
            if column in (_COL["message"], _COL["detail"], _COL["outcome"]):
                lines = [f"{entry.outcome}"]
                if entry.count > 1:
                    lines.append(f"{entry.count} times, last at {entry.updated_at.astimezone():%H:%M:%S}")
                if entry.message:
                    lines.append(f"venue said: {entry.message}")
                if entry.detail:
                    lines.append(entry.detail)
                return "\n".join(lines)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == _COL["outcome"]:
                return Colours.current().foreground[_TONES[entry.kind]]
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if column == _COL["outcome"]:
                return Colours.current().background.get(_TONES[entry.kind])
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in (_COL["http"], _COL["latency"]):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == EntryRole:
            return entry
        if role == KindRole:
            return entry.kind.value
        if role == VenueRole:
            return entry.venue
        return None

    # ------------------------------------------------------------------ our API (the log's, by row)
    def entry_at(self, row: int) -> StatusEntry:
        items = self.log.items
        return items[len(items) - 1 - row]

    def entry(self, entry_id: str) -> StatusEntry | None:
        return self.log.entry(entry_id)

    def entries(self) -> list[StatusEntry]:
        """Newest first."""
        return self.log.newest_first()

    def row_of(self, entry_id: str) -> int:
        entry = self.log.entry(entry_id)
        if entry is None:
            return -1
        items = self.log.items
        # entries are rarely far from the top; search from the newest end
        for i in range(len(items) - 1, -1, -1):
            if items[i] is entry:
                return len(items) - 1 - i
        return -1

    def add_response(self, response: VenueResponse) -> StatusEntry:
        return self.log.add_response(response)

    def add_note(self, connection: str, venue: str, action: str, message: str, *, error: bool = True) -> StatusEntry:
        return self.log.add_note(connection, venue, action, message, error=error)

    def apply_cancel_event(self, event: CancelEvent) -> StatusEntry:
        return self.log.apply_cancel_event(event)

    def attach_response(self, response: VenueResponse) -> bool:
        return self.log.attach_response(response)

    def set_venue(self, entry_id: str, venue: str) -> None:
        entry = self.log.entry(entry_id)
        if entry is not None and not entry.venue:
            entry.venue = venue
            self._changed(entry)

    def clear(self) -> None:
        self.log.clear()

    # ------------------------------------------------------------------ the log's changes as row signals
    def _inserting(self, _entry: StatusEntry) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)

    def _inserted(self, _entry: StatusEntry) -> None:
        self.endInsertRows()

    def _evicting(self, n: int) -> None:
        total = len(self.log.items)
        self.beginRemoveRows(QModelIndex(), total - n, total - 1)

    def _evicted(self, _n: int) -> None:
        self.endRemoveRows()

    def _changed(self, entry: StatusEntry) -> None:
        row = self.row_of(entry.id)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(STATUS_COLUMNS) - 1), [])


def _display(entry: StatusEntry, column: str) -> str:
    if column == "time":
        return entry.at.astimezone().strftime("%H:%M:%S")
    if column == "connection":
        return entry.connection
    if column == "venue":
        return entry.venue
    if column == "account":
        return entry.account
    if column == "order":
        return entry.order_id
    if column == "action":
        return entry.action.replace("_", " ")
    if column == "http":
        return "" if entry.http_status is None else str(entry.http_status)
    if column == "outcome":
        return f"{entry.outcome} ×{entry.count}" if entry.count > 1 else entry.outcome
    if column == "latency":
        return "" if entry.latency_ms is None else f"{entry.latency_ms:.0f} ms"
    if column == "message":
        return entry.message
    if column == "detail":
        return entry.detail
    return ""


class StatusFilterProxy(QSortFilterProxyModel):
    """Filters the status pane by venue and outcome kind (no sorting: the model is newest first)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._venue = ""
        self._kinds: frozenset[OutcomeKind] = frozenset()

    def set_venue(self, venue: str) -> None:
        if venue != self._venue:
            self.beginFilterChange()
            self._venue = venue
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_kinds(self, kinds: frozenset[OutcomeKind] | set[OutcomeKind]) -> None:
        kinds = frozenset(kinds)
        if kinds != self._kinds:
            self.beginFilterChange()
            self._kinds = kinds
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def venue(self) -> str:
        return self._venue

    @property
    def kinds(self) -> frozenset[OutcomeKind]:
        return self._kinds

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, StatusModel) or not 0 <= source_row < model.rowCount():
            return True
        entry = model.entry_at(source_row)
        if self._venue and entry.venue != self._venue:
            return False
        return not self._kinds or entry.kind in self._kinds
