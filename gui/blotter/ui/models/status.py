"""The status pane's model: one row per venue answer or cancel outcome, newest first, capped.

A cancel attempt is one row keyed by its ``attempt_id``: it is created when the request goes out and
updated in place as later answers arrive (tanX "queued for cancellation" → cancelled). Other venue
answers (a failed refresh, a login) get a row each. ``message`` is always the venue's own words.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from ...core import CancelOutcome, CancelResult, OrderKey, VenueResponse
from ...service import CancelEvent, CancelPhase
from ..theme import Colours, Tone
from .records import RecordColumn, RecordTableModel


class OutcomeKind(StrEnum):
    """What the status-pane filter offers (the outcome kinds plus in-flight and plain answers)."""

    IN_FLIGHT = "in_flight"
    CANCELLED = "cancelled"
    PENDING = "pending"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"
    OK = "ok"
    ERROR = "error"


OUTCOME_LABELS = {
    OutcomeKind.IN_FLIGHT: "cancelling…",
    OutcomeKind.CANCELLED: "cancelled",
    OutcomeKind.PENDING: "pending",
    OutcomeKind.REJECTED: "rejected",
    OutcomeKind.FAILED: "failed",
    OutcomeKind.UNKNOWN: "unknown",
    OutcomeKind.OK: "ok",
    OutcomeKind.ERROR: "error",
}

_TONES = {
    OutcomeKind.IN_FLIGHT: Tone.CANCELLING,
    OutcomeKind.CANCELLED: Tone.OK,
    OutcomeKind.PENDING: Tone.PENDING,
    OutcomeKind.REJECTED: Tone.REJECTED,
    OutcomeKind.FAILED: Tone.FAILED,
    OutcomeKind.UNKNOWN: Tone.UNKNOWN,
    OutcomeKind.OK: Tone.MUTED,
    OutcomeKind.ERROR: Tone.ERROR,
}


@dataclass
class StatusEntry:
    """One row of the status pane (mutable: a cancel's row is updated in place)."""

    id: str
    at: datetime
    connection: str
    venue: str
    account: str
    order_id: str
    action: str
    kind: OutcomeKind
    outcome: str  # the label shown (e.g. "too late — filled")
    message: str = ""  # the venue's words, verbatim
    detail: str = ""  # our words: what re-reading showed
    http_status: int | None = None
    latency_ms: float | None = None
    provenance: str = ""
    batch_id: str = ""
    responses: list[VenueResponse] = field(default_factory=list)  # raw answers, redacted
    result: CancelResult | None = None

    @property
    def key(self) -> OrderKey | None:
        if self.account and self.order_id:
            return OrderKey(self.connection, self.account, self.order_id)
        return None

    def as_text(self) -> str:
        """Tab-separated, as copied to the clipboard."""
        return "\t".join(str(v) for v in (
            self.at.astimezone().isoformat(timespec="seconds"), self.connection, self.venue, self.account,
            self.order_id, self.action, "" if self.http_status is None else self.http_status, self.outcome,
            self.message, self.detail, "" if self.latency_ms is None else f"{self.latency_ms:.0f} ms",
        ))


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


def result_kind(result: CancelResult) -> tuple[OutcomeKind, str]:
    outcome = result.outcome
    if result.too_late:
        return OutcomeKind.REJECTED, "too late — filled"
    kind = {
        CancelOutcome.CANCELLED: OutcomeKind.CANCELLED,
        CancelOutcome.PENDING: OutcomeKind.PENDING,
        CancelOutcome.REJECTED: OutcomeKind.REJECTED,
        CancelOutcome.FAILED: OutcomeKind.FAILED,
        CancelOutcome.UNKNOWN: OutcomeKind.UNKNOWN,
    }[outcome]
    return kind, OUTCOME_LABELS[kind]


class StatusModel(RecordTableModel):
    """Newest first; at most ``capacity`` rows (the oldest leave)."""

    columns = STATUS_COLUMNS

    def __init__(self, parent: QObject | None = None, *, capacity: int = 1000) -> None:
        super().__init__(parent)
        self.capacity = capacity
        self._items: list[StatusEntry] = []  # oldest first; row r is _items[-1 - r]
        self.account_labels: dict[tuple[str, str], str] = {}  # (connection, account id) -> name
        self._by_id: dict[str, StatusEntry] = {}
        self._running: dict[OrderKey, str] = {}  # order -> attempt id of its running cancel
        self.max_responses = 12  # raw answers kept per cancel row (the request, then re-reads)

    # ------------------------------------------------------------------ Qt model API
    def row_count(self) -> int:
        return len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
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

    # ------------------------------------------------------------------ our API
    def entry_at(self, row: int) -> StatusEntry:
        return self._items[len(self._items) - 1 - row]

    def entry(self, entry_id: str) -> StatusEntry | None:
        return self._by_id.get(entry_id)

    def entries(self) -> list[StatusEntry]:
        """Newest first."""
        return self._items[::-1]

    def row_of(self, entry_id: str) -> int:
        entry = self._by_id.get(entry_id)
        if entry is None:
            return -1
        # entries are rarely far from the top; search from the newest end
        for i in range(len(self._items) - 1, -1, -1):
            if self._items[i] is entry:
                return len(self._items) - 1 - i
        return -1

    def add_response(self, response: VenueResponse) -> StatusEntry:
        """A venue answer that is not part of a cancel (refresh, login, ...)."""
        entry = StatusEntry(
            id=uuid.uuid4().hex, at=response.at, connection=response.connection, venue=str(response.venue),
            account=response.account, order_id=response.order_id, action=str(response.action),
            kind=OutcomeKind.OK if response.ok else OutcomeKind.ERROR,
            outcome=OUTCOME_LABELS[OutcomeKind.OK if response.ok else OutcomeKind.ERROR],
            message=response.message, http_status=response.http_status, latency_ms=response.latency_ms,
            responses=[response],
        )
        self._insert(entry)
        return entry

    def add_note(self, connection: str, venue: str, action: str, message: str, *, error: bool = True) -> StatusEntry:
        """Something Blotter itself has to say (e.g. missing credentials) in the same pane."""
        from datetime import UTC

        kind = OutcomeKind.ERROR if error else OutcomeKind.OK
        entry = StatusEntry(id=uuid.uuid4().hex, at=datetime.now(UTC), connection=connection, venue=venue,
                            account="", order_id="", action=action, kind=kind, outcome=OUTCOME_LABELS[kind],
                            message=message)
        self._insert(entry)
        return entry

    def apply_cancel_event(self, event: CancelEvent) -> StatusEntry:
        """Create or update the row of a cancel attempt."""
        entry = self._by_id.get(event.attempt_id)
        created = entry is None
        if entry is None:
            entry = StatusEntry(
                id=event.attempt_id, at=event.at, connection=event.key.connection, venue="",
                account=event.key.account, order_id=event.key.order_id, action="cancel",
                kind=OutcomeKind.IN_FLIGHT, outcome=OUTCOME_LABELS[OutcomeKind.IN_FLIGHT],
                provenance=str(event.provenance), batch_id=event.batch_id,
            )
        response = event.response
        if response is not None:
            if all(r is not response for r in entry.responses):
                entry.responses.append(response)
            entry.venue = str(response.venue)
            entry.http_status = response.http_status
            entry.latency_ms = response.latency_ms
            entry.action = str(response.action)
            entry.message = response.message
        if event.phase is CancelPhase.PENDING:
            entry.kind, entry.outcome = OutcomeKind.PENDING, "pending"
            if response is None and event.message:
                entry.message = event.message
        elif event.phase is CancelPhase.RECONCILING:
            entry.kind, entry.outcome = OutcomeKind.IN_FLIGHT, "reconciling…"
            if response is None and event.message:
                entry.message = event.message
        elif event.phase is CancelPhase.DONE and event.result is not None:
            if self._running.get(event.key) == event.attempt_id:
                del self._running[event.key]
            result = event.result
            entry.result = result
            entry.kind, entry.outcome = result_kind(result)
            entry.message = result.message
            entry.detail = result.detail
            entry.http_status = result.http_status
            entry.latency_ms = result.latency_ms
        if event.phase is not CancelPhase.DONE:
            self._running[event.key] = event.attempt_id
        entry.at = event.at
        if created:
            self._insert(entry)
        else:
            self._changed(entry)
        return entry

    def attach_response(self, response: VenueResponse) -> bool:
        """Keep a venue answer (the cancel request itself, a re-read) with the running cancel of its order.

        Returns False when no cancel of that order is running (the caller may show it as its own row).
        """
        key = response.order_key
        attempt = self._running.get(key) if key is not None else None
        entry = self._by_id.get(attempt) if attempt is not None else None
        if entry is None:
            return False
        if len(entry.responses) < self.max_responses:
            entry.responses.append(response)
        if str(response.action) in ("cancel", "bulk_cancel"):
            entry.venue = str(response.venue)
            entry.http_status = response.http_status
            entry.latency_ms = response.latency_ms
            entry.message = response.message
            self._changed(entry)
        return True

    def set_venue(self, entry_id: str, venue: str) -> None:
        entry = self._by_id.get(entry_id)
        if entry is not None and not entry.venue:
            entry.venue = venue
            self._changed(entry)

    def clear(self) -> None:
        self.beginResetModel()
        self._items.clear()
        self._by_id.clear()
        self._running.clear()
        self.endResetModel()

    # ------------------------------------------------------------------ plumbing
    def _insert(self, entry: StatusEntry) -> None:
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._items.append(entry)
        self._by_id[entry.id] = entry
        self.endInsertRows()
        excess = len(self._items) - self.capacity
        if excess > 0:
            n = len(self._items)
            self.beginRemoveRows(QModelIndex(), n - excess, n - 1)
            for old in self._items[:excess]:
                self._by_id.pop(old.id, None)
            del self._items[:excess]
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
        return entry.outcome
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
