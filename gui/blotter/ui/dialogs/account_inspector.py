"""The account inspector (object name ``accountInspector``): support staff's view of one account.

Top: what the venue says about the account (``adapter.account_details``): the facts support looks for
first (AutoShares access type and balances; SnapTrade institution, number, balance; tanX balances) and
every field the venue sent. Below: the account's recent orders in every state (``list_recent_orders``:
filled, cancelled with the venue's reason, rejected …) with what Blotter did to each (its cancel
attempts from the audit trail), and the account's cancel steps from the trail itself.

Non-modal; everything is read off the GUI thread (venue requests on the loop, the trail in a thread).
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from ...core import Account, BlotterError, Order, OrderKey, Redactor
from ...service import BlotterService
from ...service.support import account_facts, attempt_summary, venue_label
from ...store.audit import AttemptRecord, AuditError, AuditQuery, AuditRecord, iso_ms
from ..models.audit import AUDIT_COLUMNS, AuditTableModel
from ..tasks import TaskSet
from ..theme import Colours, Tone

DAY_CHOICES = (1, 7, 30, 90)
DEFAULT_DAYS = 30  # support looks back weeks, not days (a venue page or two at most)
AUDIT_LIMIT = 2000
KeyRole = Qt.ItemDataRole.UserRole + 1
OursRole = Qt.ItemDataRole.UserRole + 2  # Blotter acted on this order
ORDER_HEADERS = ("Created (UTC)", "Order", "Symbol", "Side", "Type", "Quantity", "Filled", "Price", "State",
                 "What Blotter did", "Venue's reason", "Venue status")
_ORDER_WIDTHS = (192, 74, 70, 52, 70, 66, 54, 120, 100, 320, 190)
DID_COLUMN = ORDER_HEADERS.index("What Blotter did")
_STATE_TONES = {"filled": Tone.OK, "cancelled": Tone.CANCELLED, "rejected": Tone.REJECTED, "expired": Tone.MUTED,
                "pending_cancel": Tone.PENDING, "unknown": Tone.UNKNOWN}


def _num(value: Any) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return str(text)


def order_row(order: Order, attempts: Sequence[AttemptRecord]) -> list[str]:
    """One row of the recent-orders table (Qt-free)."""
    price = _num(order.limit_price)
    if order.stop_price is not None:
        price = f"{price} stop {_num(order.stop_price)}".strip()
    return [
        iso_ms(order.created_at) if order.created_at else "",
        order.order_id,
        order.symbol,
        order.venue_side or order.side.value,
        order.venue_type or order.order_type.value,
        _num(order.quantity),
        _num(order.filled),
        price,
        order.status.value.replace("_", " "),
        "; ".join(attempt_summary(a) for a in attempts) or "—",
        order.cancel_reason,
        order.venue_status,
    ]


class AccountInspector(QDialog):
    """``loaded`` is emitted after each full load (details, history and trail, each maybe failed)."""

    loaded = Signal()
    supportTicketRequested = Signal(object)  # OrderKey

    def __init__(
        self,
        service: BlotterService,
        connection: str,
        account_id: str,
        tasks: TaskSet,
        *,
        account: Account | None = None,
        redactor: Redactor | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountInspector")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setModal(False)
        self.service = service
        self.connection = connection
        self.account_id = account_id
        self.account = account
        self.tasks = tasks
        self.redactor = redactor or Redactor()
        spec = service.specs.get(connection)
        self.venue = spec.venue.value if spec else ""
        name = account.name if account and account.name else account_id
        self.setWindowTitle(f"Account — {connection} / {name}")
        self.details: Mapping[str, Any] = {}
        self.orders: list[Order] = []
        self.attempts: list[AttemptRecord] = []
        self.records: list[AuditRecord] = []
        self.errors: dict[str, str] = {}
        self._loading = False

        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setObjectName("inspectorHeader")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.header)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Order history of the last"))
        self.days_combo = QComboBox()
        self.days_combo.setObjectName("inspectorDays")
        for days in DAY_CHOICES:
            self.days_combo.addItem(f"{days} day{'s' if days != 1 else ''}", days)
        self.days_combo.setCurrentIndex(DAY_CHOICES.index(DEFAULT_DAYS))
        self.days_combo.currentIndexChanged.connect(lambda _i: self.reload())
        bar.addWidget(self.days_combo)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("inspectorRefresh")
        self.refresh_button.clicked.connect(self.reload)
        bar.addWidget(self.refresh_button)
        self.only_ours = QCheckBox("Only orders Blotter acted on")
        self.only_ours.setObjectName("inspectorOnlyOurs")
        self.only_ours.toggled.connect(lambda _on: self._apply_only_ours())
        bar.addWidget(self.only_ours)
        self.state_label = QLabel()
        self.state_label.setObjectName("inspectorState")
        self.state_label.setWordWrap(True)
        bar.addWidget(self.state_label, 1)
        layout.addLayout(bar)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        top = QSplitter(Qt.Orientation.Horizontal, splitter)
        facts_box = QWidget(top)
        self.facts_form = QFormLayout(facts_box)
        self.facts_form.setObjectName("inspectorFacts")
        self.facts_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.details_tree = QTreeWidget(top)
        self.details_tree.setObjectName("inspectorDetails")
        self.details_tree.setHeaderLabels(["Field (as the venue sent it)", "Value"])
        self.details_tree.setColumnWidth(0, 220)
        top.addWidget(facts_box)
        top.addWidget(self.details_tree)
        top.setSizes([360, 520])

        self.tabs = QTabWidget(splitter)
        self.orders_model = QStandardItemModel(0, len(ORDER_HEADERS), self)
        self.orders_model.setHorizontalHeaderLabels(list(ORDER_HEADERS))
        self.orders_table = self._table("inspectorOrders", self.orders_model)
        for i, width in enumerate(_ORDER_WIDTHS):
            self.orders_table.horizontalHeader().resizeSection(i, width)
        self.orders_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.orders_table.customContextMenuRequested.connect(self._orders_menu)
        self.support_action = QAction("Copy for support ticket", self.orders_table)
        self.support_action.setObjectName("actionInspectorSupportTicket")
        self.support_action.triggered.connect(self._request_ticket)
        self.orders_table.addAction(self.support_action)
        self.tabs.addTab(self.orders_table, "Recent orders")
        self.audit_model = AuditTableModel(self)
        self.audit_table = self._table("inspectorAudit", self.audit_model)
        for i, column in enumerate(AUDIT_COLUMNS):
            self.audit_table.horizontalHeader().resizeSection(i, column.width)
        self.tabs.addTab(self.audit_table, "What Blotter did (audit trail)")
        splitter.addWidget(top)
        splitter.addWidget(self.tabs)
        splitter.setSizes([230, 420])
        layout.addWidget(splitter, 1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.resize(1200, 720)
        self._show_header()

    def _table(self, name: str, model: Any) -> QTableView:
        table = QTableView(self)
        table.setObjectName(name)
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        return table

    def _show_header(self) -> None:
        a = self.account
        bits = [("Connection", self.connection), ("Venue", venue_label(self.venue)), ("Account", self.account_id)]
        if a is not None:
            if a.name and a.name != self.account_id:
                bits.append(("Name", a.name))
            if a.number and a.number not in (self.account_id, a.name):
                bits.append(("Number", a.number))
            bits.append(("Access", "read-only (no cancel is sent)" if a.read_only else "trading"))
        self.header.setText(" &nbsp;·&nbsp; ".join(f"<b>{html.escape(k)}:</b> {html.escape(v)}" for k, v in bits))

    # ------------------------------------------------------------------ loading
    @property
    def days(self) -> int:
        return int(self.days_combo.currentData() or DEFAULT_DAYS)

    def reload(self) -> None:
        if self._loading:
            return
        self._loading = True
        self.refresh_button.setEnabled(False)
        self.state_label.setText(f"Asking {venue_label(self.venue)}…")
        self.tasks.spawn(self._load(), name=f"inspect {self.connection}/{self.account_id}")

    async def _load(self) -> None:
        try:
            await self._load_all()
        finally:
            self._loading = False
        if isValid(self) and self.isVisible():  # the dialog may have been closed (and deleted) meanwhile
            self.refresh_button.setEnabled(True)
            self._render()
            self.loaded.emit()

    async def _load_all(self) -> None:
        self.errors = {}
        audit = self.service.audit
        trail: Any = self._read_trail() if audit is not None else _value(([], []))
        try:
            adapter = self.service.adapter(self.connection)
        except BlotterError as exc:
            self.errors["details"] = self.errors["orders"] = f"Blotter cannot ask the venue: {exc}"
            details: Any = exc
            orders: Any = exc
            trail_result = (await asyncio.gather(trail, return_exceptions=True))[0]
        else:
            details, orders, trail_result = await asyncio.gather(
                adapter.account_details(self.account_id),
                adapter.list_recent_orders(self.account_id, days=self.days),
                trail, return_exceptions=True)
        for value in (details, orders, trail_result):
            if isinstance(value, BaseException) and not isinstance(value, BlotterError | AuditError):
                raise value  # a bug: let it reach the excepthook
        if isinstance(details, BlotterError):
            self.errors.setdefault("details", f"The venue could not be asked for the account: {details}")
        else:
            self.details = self.redactor.json_value(dict(details))
        if isinstance(orders, BlotterError):
            self.errors.setdefault("orders", f"The venue could not be asked for recent orders: {orders}")
        else:
            self.orders = list(orders)
        if isinstance(trail_result, BaseException):
            self.errors["trail"] = str(trail_result)
        elif audit is None:
            self.errors["trail"] = "The audit trail is not available in this session."
        else:
            self.attempts, self.records = trail_result

    async def _read_trail(self) -> tuple[list[AttemptRecord], list[AuditRecord]]:
        audit = self.service.audit
        assert audit is not None
        await audit.durable()
        query = AuditQuery(connection=self.connection, account=self.account_id)

        def read() -> tuple[list[AttemptRecord], list[AuditRecord]]:
            steps = AuditQuery(connection=self.connection, account=self.account_id, kind="cancel", limit=AUDIT_LIMIT)
            return audit.attempts(query), audit.query(steps)

        return await asyncio.to_thread(read)

    # ------------------------------------------------------------------ showing
    def _render(self) -> None:
        while self.facts_form.rowCount():
            self.facts_form.removeRow(0)
        if "details" in self.errors:
            self.facts_form.addRow(self._error_label(self.errors["details"]))
        for label, value in account_facts(self.venue, self.details):
            shown = QLabel(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts_form.addRow(f"{label}:", shown)
        self.details_tree.clear()
        _fill_tree(self.details_tree.invisibleRootItem(), self.details)
        self.details_tree.expandToDepth(0)

        by_order: dict[str, list[AttemptRecord]] = {}
        for attempt in self.attempts:
            by_order.setdefault(attempt.key.order_id, []).append(attempt)
        self.orders_model.removeRows(0, self.orders_model.rowCount())
        colours = Colours.current()
        for order in self.orders:
            ours = order.order_id in by_order
            items = []
            for i, text in enumerate(order_row(order, by_order.get(order.order_id, []))):
                item = QStandardItem(text)
                item.setData(order.key, KeyRole)
                item.setData(ours, OursRole)
                if i == 8:
                    tone = _STATE_TONES.get(order.status.value)
                    if tone is not None:
                        item.setForeground(colours.foreground[tone])
                if ours:  # the orders Blotter acted on stand out
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if i in (DID_COLUMN, DID_COLUMN + 1) and text not in ("", "—"):
                    item.setToolTip(text)
                items.append(item)
            self.orders_model.appendRow(items)
        self._apply_only_ours()
        self.audit_model.set_records(self.records)
        acted = sum(1 for o in self.orders if o.order_id in by_order)
        self.tabs.setTabText(0, f"Recent orders ({len(self.orders)}, {acted} cancelled through Blotter)")
        self.tabs.setTabText(1, f"What Blotter did (audit trail: {len(self.attempts)} cancel attempts)")
        problems = [text for key, text in self.errors.items() if key != "details"]
        when = datetime.now().astimezone().strftime("%H:%M:%S")
        self.state_label.setText(" ".join(problems) if problems else f"Read at {when}")
        self.state_label.setStyleSheet("QLabel { color: #b3261e; }" if problems else "")

    def _apply_only_ours(self) -> None:
        only = self.only_ours.isChecked()
        for row in range(self.orders_model.rowCount()):
            item = self.orders_model.item(row, 0)
            self.orders_table.setRowHidden(row, only and not bool(item.data(OursRole)))

    def _error_label(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setStyleSheet("QLabel { color: #b3261e; }")
        return label

    def order_rows(self) -> list[list[str]]:
        """The recent-orders table as text (tests, copying)."""
        return [[str(self.orders_model.item(r, c).text()) for c in range(self.orders_model.columnCount())]
                for r in range(self.orders_model.rowCount())]

    def facts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for row in range(self.facts_form.rowCount()):
            label = self.facts_form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = self.facts_form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and field is not None:
                lw, fw = label.widget(), field.widget()
                if isinstance(lw, QLabel) and isinstance(fw, QLabel):
                    out[lw.text().rstrip(":")] = fw.text()
        return out

    # ------------------------------------------------------------------ support
    def _request_ticket(self) -> None:
        index = self.orders_table.currentIndex()
        key = index.data(KeyRole) if index.isValid() else None
        if isinstance(key, OrderKey):
            self.supportTicketRequested.emit(key)

    def _orders_menu(self, pos: QPoint) -> None:
        if not self.orders_table.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.support_action)
        menu.popup(self.orders_table.viewport().mapToGlobal(pos))


async def _value(value: Any) -> Any:
    return value


def _fill_tree(parent: QTreeWidgetItem, value: Any) -> None:
    if isinstance(value, Mapping):
        pairs: list[tuple[str, Any]] = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        pairs = [(f"[{i}]", v) for i, v in enumerate(value)]
    else:
        return
    for name, item in pairs:
        node = QTreeWidgetItem(parent, [name, _scalar(item)])
        if isinstance(item, Mapping | list):
            _fill_tree(node, item)


def _scalar(value: Any) -> str:
    if isinstance(value, Mapping | list):  # a one-line preview; the children hold the values
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        return text if len(text) <= 120 else text[:119] + "…"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)
