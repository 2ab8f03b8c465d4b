"""The status pane: every venue answer and cancel outcome, filterable by venue and outcome."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..models.accounts import venue_name
from ..models.status import (
    STATUS_COLUMNS,
    EntryRole,
    OutcomeKind,
    StatusEntry,
    StatusFilterProxy,
    StatusModel,
)
from .record_table import set_up_record_table

_OUTCOME_CHOICES: list[tuple[str, frozenset[OutcomeKind]]] = [
    ("All outcomes", frozenset()),
    ("Problems (rejected, failed, unknown, errors)",
     frozenset({OutcomeKind.REJECTED, OutcomeKind.FAILED, OutcomeKind.UNKNOWN, OutcomeKind.ERROR})),
    ("Cancels only", frozenset({OutcomeKind.IN_FLIGHT, OutcomeKind.CANCELLED, OutcomeKind.PENDING,
                                OutcomeKind.REJECTED, OutcomeKind.FAILED, OutcomeKind.UNKNOWN})),
    ("In flight", frozenset({OutcomeKind.IN_FLIGHT})),
    ("Cancelled", frozenset({OutcomeKind.CANCELLED})),
    ("Pending", frozenset({OutcomeKind.PENDING})),
    ("Rejected", frozenset({OutcomeKind.REJECTED})),
    ("Failed", frozenset({OutcomeKind.FAILED})),
    ("Unknown", frozenset({OutcomeKind.UNKNOWN})),
    ("Errors", frozenset({OutcomeKind.ERROR})),
]


class StatusTable(QTableView):
    detailRequested = Signal(QModelIndex)

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.detailRequested.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class StatusPane(QWidget):
    """Holds the filter row and the table (object name ``statusPane``)."""

    detailRequested = Signal(object)  # StatusEntry
    supportTicketRequested = Signal(object)  # StatusEntry ("Copy for support ticket")

    def __init__(self, model: StatusModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusPaneWidget")
        self.model = model
        self.proxy = StatusFilterProxy(self)
        self.proxy.setSourceModel(model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(3)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Venue:"))
        self.venue_filter = QComboBox()
        self.venue_filter.setObjectName("statusVenueFilter")
        self.venue_filter.addItem("All venues", "")
        for venue in ("autoshares", "snaptrade", "tanx"):
            self.venue_filter.addItem(venue_name(venue), venue)
        self.venue_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_venue(str(self.venue_filter.currentData() or "")))
        bar.addWidget(self.venue_filter)
        bar.addWidget(QLabel("Outcome:"))
        self.outcome_filter = QComboBox()
        self.outcome_filter.setObjectName("statusOutcomeFilter")
        for label, kinds in _OUTCOME_CHOICES:
            self.outcome_filter.addItem(label, kinds)
        self.outcome_filter.currentIndexChanged.connect(
            lambda i: self.proxy.set_kinds(_OUTCOME_CHOICES[i][1]))
        bar.addWidget(self.outcome_filter)
        bar.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("statusCount")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)

        self.table = StatusTable(self)
        self.table.setObjectName("statusPane")
        self.table.setModel(self.proxy)
        set_up_record_table(self.table, (column.width for column in STATUS_COLUMNS))
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.doubleClicked.connect(self._open)
        self.table.detailRequested.connect(self._open)
        self.copy_action = QAction("Copy row", self.table)
        self.copy_action.setObjectName("actionCopyStatusRow")
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.table.addAction(self.copy_action)
        layout.addWidget(self.table)
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged):
            signal.connect(self._update_count)
        self._update_count()

    def selected_entries(self) -> list[StatusEntry]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [self.proxy.data(self.proxy.index(r, 0), EntryRole) for r in rows]

    def copy_selected(self) -> str:
        text = "\n".join(e.as_text() for e in self.selected_entries())
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def request_support_ticket(self) -> None:
        entries = self.selected_entries()
        if entries:
            self.supportTicketRequested.emit(entries[0])

    def _open(self, index: QModelIndex) -> None:
        entry = self.proxy.data(self.proxy.index(index.row(), 0), EntryRole)
        if entry is not None:
            self.detailRequested.emit(entry)

    def _menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.copy_action)
        support = menu.addAction("Copy for support ticket")
        support.setObjectName("actionCopyStatusSupport")
        support.triggered.connect(self.request_support_ticket)
        details = menu.addAction("Details (request and raw answer)…")
        details.triggered.connect(lambda: self._open(self.table.currentIndex()))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown} of {total}" if shown != total else f"{total} rows")
