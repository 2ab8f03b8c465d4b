"""The Audit view (object name ``auditView``): the audit trail, filtered, exported, copied for support.

The filters build an ``AuditQuery`` and the view runs ``AuditStore.query`` — the very query
``blotter log`` and ``blotter export`` run — off the GUI thread; the exports use the store's own
``write_csv``/``write_jsonl`` (same escaping), on exactly the records shown. ``cli_arguments()`` gives
the equivalent ``blotter log``/``export`` filter, shown under the table for support staff.

Refreshing is cheap: the window marks the view dirty when a venue answers or a cancel moves, and a
timer re-queries only while the view is visible and dirty (and once when it is shown again).
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDateTime, QPoint, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core import CancelOutcome, OrderKey
from ...store.audit import IN_FLIGHT, AuditError, AuditQuery, AuditRecord, AuditStore, write_csv, write_jsonl
from ..models.audit import AUDIT_COLUMNS, AuditTableModel, RecordRole, display
from ..tasks import TaskSet
from .record_table import set_up_record_table

VIEW_LIMIT = 5000  # newest records shown; the CLI equivalent carries --limit 5000
AUTO_REFRESH_MS = 1500
FILTER_DEBOUNCE_MS = 250

# (label, CLI --since value, duration); None duration = everything kept; "custom" = the date fields
TIME_RANGES: tuple[tuple[str, str, timedelta | None], ...] = (
    ("Last 15 minutes", "15m", timedelta(minutes=15)),
    ("Last hour", "1h", timedelta(hours=1)),
    ("Last 24 hours", "24h", timedelta(hours=24)),
    ("Last 7 days", "7d", timedelta(days=7)),
    ("Last 30 days", "30d", timedelta(days=30)),
    ("Everything kept", "", None),
    ("Custom range (UTC)", "custom", None),
)
DEFAULT_RANGE = 2  # last 24 hours
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("Any outcome", ""), *((o.value.capitalize(), o.value) for o in CancelOutcome), ("In flight", IN_FLIGHT),
)
KINDS: tuple[tuple[str, str], ...] = (
    ("Everything", ""), ("Cancel steps", "cancel"), ("Venue answers", "response"),
)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the filter row says, before it becomes an ``AuditQuery`` (Qt-free, testable)."""

    range_index: int = DEFAULT_RANGE
    since: datetime | None = None  # custom range only
    until: datetime | None = None
    connection: str = ""
    account: str = ""
    order: str = ""  # connection/account/order_id, or a bare order id
    outcome: str = ""
    kind: str = ""
    text: str = ""
    limit: int = VIEW_LIMIT

    def query(self, now: datetime | None = None) -> AuditQuery:
        """The ``AuditQuery``; ``ValueError`` with a readable message for bad input."""
        _label, cli, span = TIME_RANGES[self.range_index]
        since = until = None
        if cli == "custom":
            since, until = self.since, self.until
            if since is not None and until is not None and until <= since:
                raise ValueError("the range ends before it starts")
        elif span is not None:
            since = (now or datetime.now(UTC)) - span
        order, order_id = None, ""
        text = self.order.strip()
        if "/" in text:
            order = OrderKey.parse(text)  # ValueError says what a key looks like
        else:
            order_id = text
        return AuditQuery(since=since, until=until, connection=self.connection.strip(), order=order,
                          outcome=self.outcome, text=self.text.strip(), kind=self.kind, limit=self.limit,
                          account=self.account.strip(), order_id=order_id)

    def cli_arguments(self) -> list[str] | None:
        """The same filter for ``blotter log``/``export``; None if the CLI cannot say it (a custom range)."""
        _label, cli, _span = TIME_RANGES[self.range_index]
        if cli == "custom":
            return None
        args: list[str] = []
        order = self.order.strip()
        for flag, value in (("--since", cli), ("--connection", self.connection.strip()),
                            ("--account", self.account.strip()), ("--order" if "/" in order else "--order-id", order),
                            ("--outcome", self.outcome), ("--kind", self.kind), ("--text", self.text.strip())):
            if value:
                args += [flag, value]
        if self.limit:
            args += ["--limit", str(self.limit)]
        return args


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class AuditTable(QTableView):
    pass


class AuditView(QWidget):
    """Filters, the records table, exports and support copies. ``loaded(count)`` after each query."""

    loaded = Signal(int)
    exported = Signal(str, int)  # path, records written
    supportTicketRequested = Signal(object)  # AuditRecord

    def __init__(
        self,
        store: AuditStore | None,
        tasks: TaskSet,
        *,
        connections: Sequence[str] = (),
        unavailable: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("auditView")
        self.store = store
        self.tasks = tasks
        self.model = AuditTableModel(self)
        self._dirty = True
        self._loading = False
        self._again = False
        self._loaded_once = False
        self.file_dialog: QFileDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self._build_first_row(connections))
        layout.addLayout(self._build_second_row())

        self.table = AuditTable(self)
        self.table.setObjectName("auditTable")
        self.table.setModel(self.model)
        set_up_record_table(self.table, (column.width for column in AUDIT_COLUMNS))
        self.table.customContextMenuRequested.connect(self._menu)
        self.copy_action = QAction("Copy rows", self.table)
        self.copy_action.setObjectName("actionCopyAuditRows")
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.table.addAction(self.copy_action)
        self.support_action = QAction("Copy for support ticket", self.table)
        self.support_action.setObjectName("actionCopyAuditSupport")
        self.support_action.triggered.connect(self.request_support_ticket)
        self.table.addAction(self.support_action)
        layout.addWidget(self.table, 1)

        footer = QHBoxLayout()
        self.message_label = QLabel()
        self.message_label.setObjectName("auditMessage")
        self.message_label.setWordWrap(True)
        footer.addWidget(self.message_label, 1)
        self.command_label = QLabel()
        self.command_label.setObjectName("auditCommand")
        self.command_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command_label.setToolTip("The same filter on the command line (blotter log / blotter export)")
        footer.addWidget(self.command_label)
        layout.addLayout(footer)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._auto_refresh)
        self._auto = QTimer(self)
        self._auto.setInterval(AUTO_REFRESH_MS)
        self._auto.timeout.connect(self._auto_refresh)
        self._auto.start()

        if store is None:
            for widget in (self.range_combo, self.from_edit, self.to_edit, self.connection_combo, self.account_edit,
                           self.order_edit, self.outcome_combo, self.kind_combo, self.text_edit, self.refresh_button,
                           self.csv_button, self.jsonl_button):
                widget.setEnabled(False)
            self.show_message(unavailable or "The audit trail is not available.", error=True)
        self._filters_changed(immediate=False)

    # ------------------------------------------------------------------ construction
    def _build_first_row(self, connections: Sequence[str]) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Time:"))
        self.range_combo = QComboBox()
        self.range_combo.setObjectName("auditRange")
        for label, _cli, _span in TIME_RANGES:
            self.range_combo.addItem(label)
        self.range_combo.setCurrentIndex(DEFAULT_RANGE)
        self.range_combo.currentIndexChanged.connect(self._range_changed)
        row.addWidget(self.range_combo)
        utc = QTimeZone.utc()
        now = QDateTime.currentDateTimeUtc()
        self.from_edit = QDateTimeEdit(now.addDays(-1))
        self.to_edit = QDateTimeEdit(now.addSecs(3600))
        for edit, name in ((self.from_edit, "auditFrom"), (self.to_edit, "auditTo")):
            edit.setObjectName(name)
            edit.setTimeZone(utc)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
            edit.setCalendarPopup(True)
            edit.dateTimeChanged.connect(lambda _dt: self._filters_changed())
            edit.setVisible(False)
        self.to_label = QLabel("to")
        self.to_label.setVisible(False)
        row.addWidget(self.from_edit)
        row.addWidget(self.to_label)
        row.addWidget(self.to_edit)
        row.addWidget(QLabel("Connection:"))
        self.connection_combo = QComboBox()
        self.connection_combo.setObjectName("auditConnection")
        self.connection_combo.setEditable(True)
        self.connection_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.connection_combo.addItem("")
        for name in sorted(connections):
            self.connection_combo.addItem(name)
        line = self.connection_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("all connections")
        self.connection_combo.setMinimumWidth(150)
        self.connection_combo.currentTextChanged.connect(lambda _t: self._filters_changed())
        row.addWidget(self.connection_combo)
        row.addWidget(QLabel("Account:"))
        self.account_edit = self._line_edit("auditAccount", "account id", 110)
        row.addWidget(self.account_edit)
        row.addWidget(QLabel("Order:"))
        self.order_edit = self._line_edit("auditOrder", "order id or connection/account/order", 190)
        row.addWidget(self.order_edit)
        row.addStretch(1)
        return row

    def _build_second_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Outcome:"))
        self.outcome_combo = QComboBox()
        self.outcome_combo.setObjectName("auditOutcome")
        for label, value in OUTCOMES:
            self.outcome_combo.addItem(label, value)
        self.outcome_combo.currentIndexChanged.connect(lambda _i: self._filters_changed())
        row.addWidget(self.outcome_combo)
        row.addWidget(QLabel("Records:"))
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("auditKind")
        for label, value in KINDS:
            self.kind_combo.addItem(label, value)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._filters_changed())
        row.addWidget(self.kind_combo)
        row.addWidget(QLabel("Text:"))
        self.text_edit = self._line_edit("auditText", "words in any field (venue message, id, batch…)", 240)
        row.addWidget(self.text_edit)
        row.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("auditCount")
        row.addWidget(self.count_label)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("auditRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setObjectName("auditExportCsv")
        self.csv_button.clicked.connect(lambda: self.choose_export_file("csv"))
        row.addWidget(self.csv_button)
        self.jsonl_button = QPushButton("Export JSON Lines…")
        self.jsonl_button.setObjectName("auditExportJsonl")
        self.jsonl_button.clicked.connect(lambda: self.choose_export_file("jsonl"))
        row.addWidget(self.jsonl_button)
        return row

    def _line_edit(self, name: str, placeholder: str, width: int) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(width)
        edit.textChanged.connect(lambda _t: self._filters_changed())
        edit.returnPressed.connect(self.refresh)
        return edit

    # ------------------------------------------------------------------ the filter
    def current_filter(self) -> AuditFilter:
        def utc(edit: QDateTimeEdit) -> datetime:
            return datetime.fromtimestamp(edit.dateTime().toMSecsSinceEpoch() / 1000, UTC)

        return AuditFilter(
            range_index=self.range_combo.currentIndex(), since=utc(self.from_edit), until=utc(self.to_edit),
            connection=self.connection_combo.currentText(), account=self.account_edit.text(),
            order=self.order_edit.text(), outcome=str(self.outcome_combo.currentData() or ""),
            kind=str(self.kind_combo.currentData() or ""), text=self.text_edit.text(),
        )

    def set_filter(self, *, connection: str | None = None, account: str | None = None, order: str | None = None,
                   outcome: str | None = None, kind: str | None = None, text: str | None = None,
                   range_index: int | None = None) -> None:
        """Set some filters at once (one query follows)."""
        if range_index is not None:
            self.range_combo.setCurrentIndex(range_index)
        if connection is not None:
            self.connection_combo.setCurrentText(connection)
        if account is not None:
            self.account_edit.setText(account)
        if order is not None:
            self.order_edit.setText(order)
        if outcome is not None:
            self.outcome_combo.setCurrentIndex(max(0, self.outcome_combo.findData(outcome)))
        if kind is not None:
            self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(kind)))
        if text is not None:
            self.text_edit.setText(text)
        self._filters_changed()

    def cli_arguments(self) -> list[str] | None:
        return self.current_filter().cli_arguments()

    def _range_changed(self, index: int) -> None:
        custom = TIME_RANGES[index][1] == "custom"
        for widget in (self.from_edit, self.to_label, self.to_edit):
            widget.setVisible(custom)
        self._filters_changed()

    def _filters_changed(self, *, immediate: bool = False) -> None:
        args = self.cli_arguments()
        self.command_label.setText(
            "blotter log " + shlex.join(args) if args is not None else "(a custom range has no CLI equivalent)")
        self._dirty = True
        if immediate:
            self.refresh()
        else:
            self._debounce.start()

    # ------------------------------------------------------------------ loading
    def mark_dirty(self) -> None:
        """Something was recorded: re-query at the next tick if the view is visible."""
        self._dirty = True

    def _auto_refresh(self) -> None:
        """Timers: query only while the view is visible and something changed (a hidden view costs nothing)."""
        if self._dirty and self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty or not self._loaded_once:
            self._debounce.start(0)

    def refresh(self) -> None:
        """Run the query now (off the GUI thread); a change meanwhile queries once more afterwards."""
        self._debounce.stop()
        if self.store is None:
            return
        if self._loading:
            self._again = True
            return
        try:
            query = self.current_filter().query()
        except ValueError as exc:
            self.show_message(str(exc), error=True)
            return
        self._dirty = False
        self._loading = True
        self.tasks.spawn(self._load(self.store, query), name="audit query")

    async def _load(self, store: AuditStore, query: AuditQuery) -> None:
        try:
            await store.durable()  # what the service has just queued is in the answer
            records = await asyncio.to_thread(store.query, query)
        except AuditError as exc:
            self.show_message(str(exc), error=True)
            return
        finally:
            self._loading = False
        self.model.set_records(records)
        self._loaded_once = True
        self._update_count()
        if len(records) >= VIEW_LIMIT:
            self.show_message(f"Showing the newest {VIEW_LIMIT:,} records: narrow the filter to see older ones.")
        elif self.message_label.property("error"):
            self.show_message("")
        self.loaded.emit(len(records))
        if self._again:
            self._again = False
            self.refresh()

    def _update_count(self) -> None:
        n = len(self.model)
        self.count_label.setText(f"{n:,} record{'s' if n != 1 else ''}")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setProperty("error", bool(error and text))
        self.message_label.setStyleSheet("QLabel { color: #b3261e; }" if error and text else "")

    # ------------------------------------------------------------------ export
    def choose_export_file(self, fmt: str) -> QFileDialog:
        """A non-modal save dialog; the file chosen is written by ``export_to``."""
        suffix = "csv" if fmt == "csv" else "jsonl"
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        dialog = QFileDialog(self, "Export the records shown", f"blotter-audit-{stamp}.{suffix}",
                             "CSV (*.csv)" if fmt == "csv" else "JSON Lines (*.jsonl)")
        dialog.setObjectName("auditExportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(suffix)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.tasks.spawn(self.export_to(Path(path), fmt), name="export"))
        self.file_dialog = dialog
        dialog.open()
        return dialog

    async def export_to(self, path: Path, fmt: str) -> int:
        """Write exactly the records shown (query order, as ``blotter export`` writes them); returns the count."""
        if fmt not in ("csv", "jsonl"):
            raise ValueError(f"unknown export format {fmt!r} (csv or jsonl)")
        records = self.model.records()
        write = write_csv if fmt == "csv" else write_jsonl

        def run() -> int:
            with open(path, "w", encoding="utf-8", newline="", opener=_private) as fh:
                return write(records, fh)

        try:
            count = await asyncio.to_thread(run)
        except OSError as exc:
            self.show_message(f"Cannot write {path}: {exc.strerror or exc}", error=True)
            return 0
        self.show_message(f"Wrote {count:,} record(s) to {path}")
        self.exported.emit(str(path), count)
        return count

    # ------------------------------------------------------------------ rows
    def selected_records(self) -> list[AuditRecord]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.model.record_at(r) for r in rows if 0 <= r < len(self.model)]

    def copy_selected(self) -> str:
        lines = ["\t".join(display(r, c.id) for c in AUDIT_COLUMNS) for r in reversed(self.selected_records())]
        text = "\n".join(lines)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def request_support_ticket(self) -> None:
        records = self.selected_records()
        if records:
            self.supportTicketRequested.emit(records[0])

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        menu = QMenu(self)
        menu.setObjectName("auditContextMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.support_action)
        menu.addAction(self.copy_action)
        record = index.data(RecordRole) if index.isValid() else None
        if isinstance(record, AuditRecord) and record.key:
            menu.addSeparator()
            only = menu.addAction(f"Only order {record.key}")
            only.triggered.connect(lambda: self.set_filter(order=record.key))
        menu.popup(self.table.viewport().mapToGlobal(pos))
