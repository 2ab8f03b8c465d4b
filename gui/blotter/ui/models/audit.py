"""The Audit view's model: ``AuditRecord``s from ``AuditStore.query`` (the CLI's query), newest first.

The records are kept in query order (oldest first, what ``blotter log`` and the exports write) and shown
newest first. ``set_records`` diffs a fresh query against what is shown: new records are inserted at the
top and records that fell off the limit leave at the bottom, so a refresh keeps selection and scroll.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from ...store.audit import AuditRecord, iso_ms
from ..theme import Colours, Tone, lifecycle_tone
from .accounts import venue_name
from .records import RecordColumn, RecordTableModel

RecordRole = Qt.ItemDataRole.UserRole + 1
_MAX_SHIFT = 256  # more records fell off the limit than this at once: reset instead of diffing


AUDIT_COLUMNS: tuple[RecordColumn, ...] = (
    RecordColumn("time", "Time (UTC)", 178),
    RecordColumn("what", "What", 128),
    RecordColumn("connection", "Connection", 118),
    RecordColumn("venue", "Venue", 76),
    RecordColumn("account", "Account", 96),
    RecordColumn("order", "Order", 84),
    RecordColumn("http", "HTTP", 42),
    RecordColumn("latency", "Latency", 62),
    RecordColumn("outcome", "Outcome", 112),
    RecordColumn("by", "By", 92),
    RecordColumn("message", "Message (venue's words)", 380),
    RecordColumn("detail", "Detail", 260),
)
_COL = {c.id: i for i, c in enumerate(AUDIT_COLUMNS)}



def what(record: AuditRecord) -> str:
    """``cancel pending``, ``list orders``, …"""
    if record.kind == "cancel":
        return f"cancel {record.phase}"
    return record.action.replace("_", " ")


def display(record: AuditRecord, column: str) -> str:
    if column == "time":
        return iso_ms(record.at)
    if column == "what":
        return what(record)
    if column == "connection":
        return record.connection
    if column == "venue":
        return venue_name(record.venue) if record.venue else ""
    if column == "account":
        return record.account
    if column == "order":
        return record.order_id
    if column == "http":
        return "" if record.http_status is None else str(record.http_status)
    if column == "latency":
        return "" if record.latency_ms is None else f"{record.latency_ms:.0f} ms"
    if column == "outcome":
        if record.outcome == "rejected" and record.final_status == "filled":
            return "too late — filled"
        return record.outcome or ""
    if column == "by":
        by = record.provenance.replace("_", " ")
        return f"{by} {record.batch_id}" if record.batch_id else by
    if column == "message":
        return " ".join(record.message.split())
    if column == "detail":
        parts = [record.detail]
        if record.final_status and record.phase == "done":
            parts.append(f"final: {record.final_status}" + (f" ({record.venue_status})" if record.venue_status else ""))
        if record.venue_reason:
            parts.append(f"venue reason: {record.venue_reason}")
        return " · ".join(p for p in parts if p)
    return ""


class AuditTableModel(RecordTableModel):
    """Read-only table of audit records, newest first (``RecordRole`` gives the ``AuditRecord``)."""

    columns = AUDIT_COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[AuditRecord] = []  # query order: oldest first; row r is _records[-1 - r]

    # ------------------------------------------------------------------ Qt model API
    def row_count(self) -> int:
        return len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records) \
                or not 0 <= index.column() < len(AUDIT_COLUMNS):
            return None
        record = self.record_at(index.row())
        column = AUDIT_COLUMNS[index.column()].id
        if role == Qt.ItemDataRole.DisplayRole:
            return display(record, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in ("message", "detail"):
                lines = [record.message] if record.message else []
                if record.detail:
                    lines.append(record.detail)
                if record.request:
                    lines.append(record.request.splitlines()[0])
                if record.raw_body:
                    lines.append(record.raw_body[:400])
                return "\n".join(lines) or None
            if column == "by" and record.attempt_id:
                return f"attempt {record.attempt_id}" + (f", batch {record.batch_id}" if record.batch_id else "")
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == "outcome" and record.outcome:
                tone = Tone.TOO_LATE if record.final_status == "filled" and record.outcome != "cancelled" \
                    else lifecycle_tone(record.outcome or "")
                return Colours.current().foreground[tone]
            if column == "http" and record.http_status is not None and not 200 <= record.http_status < 300:
                return Colours.current().foreground[Tone.ERROR]
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in ("http", "latency"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == RecordRole:
            return record
        return None

    # ------------------------------------------------------------------ our API
    def record_at(self, row: int) -> AuditRecord:
        return self._records[len(self._records) - 1 - row]

    def records(self) -> list[AuditRecord]:
        """In query order (oldest first): exactly what the query returned, as the exports write it."""
        return list(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def set_records(self, records: Sequence[AuditRecord]) -> None:
        """Show a fresh query's result; appended records are inserted, dropped ones removed, else a reset."""
        new = list(records)
        old = self._records
        shift = self._overlap(old, new)
        if shift is None:
            self.beginResetModel()
            self._records = new
            self.endResetModel()
            return
        keep = len(old) - shift
        if shift:  # the oldest records fell off the query's limit: the bottom rows leave
            self.beginRemoveRows(QModelIndex(), keep, len(old) - 1)
            self._records = old[shift:]
            self.endRemoveRows()
        added = len(new) - keep
        if added:
            self.beginInsertRows(QModelIndex(), 0, added - 1)
            self._records = new
            self.endInsertRows()
        else:
            self._records = new

    @staticmethod
    def _overlap(old: list[AuditRecord], new: list[AuditRecord]) -> int | None:
        """How many of the oldest shown records ``new`` dropped, if ``new`` only drops some and appends."""
        if not old:
            return 0
        if not new:
            return None
        for shift in range(min(len(old), _MAX_SHIFT) + 1):
            keep = len(old) - shift
            if keep == 0:
                return None  # nothing in common: a different query
            if keep <= len(new) and new[0] == old[shift] and new[:keep] == old[shift:]:
                return shift
        return None

    def clear(self) -> None:
        self.set_records([])
