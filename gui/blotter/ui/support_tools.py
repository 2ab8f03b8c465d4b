"""The window's audit and support features: the Audit view dock, "Copy for support ticket", the account
inspector, and showing the cancels an earlier run left in flight once they are settled.

One object per ``MainWindow`` (``window.support``), built after the window's views. It owns its actions
(``actionAuditView``, ``actionCopySupportTicket``, ``actionShowOrderAudit``, ``actionInspectAccount``),
the ``auditDock`` (tabbed with the status pane, hidden until asked for) and the accounts tree's context
menu. Every support text comes from ``service.support`` (Qt-free, shared with the CLI); the clipboard
is the only Qt part of it. Work off the GUI thread runs in the window's ``TaskSet``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QStatusBar
from shiboken6 import isValid

from ..core import BlotterError, CancelResult, OrderKey, Provenance, Redactor
from ..service import CancelEvent, CancelPhase
from ..service.support import answer_ticket, memory_trail, note_record, order_ticket, response_record
from ..store.audit import AttemptRecord, AuditError, AuditQuery, AuditRecord
from ..store.credentials import read_secrets
from ..venues.registry import FIELDS
from .dialogs.account_inspector import AccountInspector
from .models.accounts import AccountRole, ConnectionRole, venue_name
from .models.status import StatusEntry
from .widgets.audit_view import TIME_RANGES, AuditView


class SupportHost(Protocol):
    """What the support tools use of the window that hosts them (the window part never imports the window)."""

    service: Any
    tasks: Any
    orders_view: Any
    orders_model: Any
    accounts_view: Any
    accounts_model: Any
    status_model: Any
    status_pane: Any
    status_dock: QDockWidget

    @property
    def closing(self) -> bool: ...

    def statusBar(self) -> QStatusBar: ...

log = logging.getLogger(__name__)

AUDIT_DOCK_HEIGHT = 380
EVERYTHING_KEPT = next(i for i, (_label, cli, span) in enumerate(TIME_RANGES) if cli == "" and span is None)


class SupportTools(QObject):
    """``ticketCopied(text)`` after a support summary went to the clipboard."""

    ticketCopied = Signal(str)

    def __init__(self, window: SupportHost, main_window: QMainWindow) -> None:
        super().__init__(main_window)
        self.window = window
        self.main_window = main_window
        service = window.service
        self.inspector: AccountInspector | None = None
        self._redactor: Redactor | None = None

        self.audit_view = AuditView(service.audit, window.tasks, connections=sorted(service.specs),
                                    parent=main_window)
        self.audit_dock = QDockWidget("Audit trail", main_window)
        self.audit_dock.setObjectName("auditDock")
        self.audit_dock.setWidget(self.audit_view)
        self.audit_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                    | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        main_window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.audit_dock)
        main_window.tabifyDockWidget(window.status_dock, self.audit_dock)
        self.audit_dock.hide()
        window.status_dock.raise_()

        self.action_audit_view = self._action(
            "actionAuditView", "Audit trail", self.show_audit_view, "Ctrl+Shift+A",
            "Every venue answer and cancel step Blotter recorded: filter, export, copy for support")
        self.action_support_ticket = self._action(
            "actionCopySupportTicket", "Copy for support ticket", lambda: self.copy_for_order(),
            None, "A readable, redacted summary of this order's cancel: request, venue answers, outcome")
        self.action_order_audit = self._action(
            "actionShowOrderAudit", "Show in audit trail", lambda: self.show_order_audit(), None,
            "The audit trail of this order")
        self.action_inspect_account = self._action(
            "actionInspectAccount", "Inspect account…", lambda: self.open_inspector_for_current(), None,
            "The venue's account details and recent orders in every state, beside what Blotter did")

        window.accounts_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        window.accounts_view.customContextMenuRequested.connect(self._accounts_menu)
        window.status_pane.supportTicketRequested.connect(self.copy_for_status)
        self.audit_view.supportTicketRequested.connect(self.copy_for_record)
        service.add_response_listener(lambda _response: self._mark_dirty())
        service.coordinator.subscribe(lambda _event: self._mark_dirty())

    def _action(self, name: str, text: str, slot: Any, shortcut: str | None, tip: str) -> QAction:
        action = QAction(text, self.main_window)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            self.main_window.addAction(action)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _alive(self) -> bool:
        return isValid(self.audit_view) and not self.window.closing

    def _mark_dirty(self) -> None:
        if self._alive():
            self.audit_view.mark_dirty()

    # ------------------------------------------------------------------ the audit view
    def show_audit_view(self) -> None:
        self.audit_dock.show()
        self.audit_dock.raise_()
        if not self.audit_dock.isFloating():
            self.main_window.resizeDocks([self.audit_dock], [AUDIT_DOCK_HEIGHT], Qt.Orientation.Vertical)
        self.audit_view.mark_dirty()
        self.audit_view.refresh()

    def show_order_audit(self, key: OrderKey | None = None) -> None:
        key = key or self.window.orders_view.current_key()
        if key is None:
            return
        self.audit_view.set_filter(order=str(key), connection="", account="", outcome="", kind="", text="",
                                   range_index=EVERYTHING_KEPT)
        self.show_audit_view()

    def show_account_audit(self, connection: str, account: str = "") -> None:
        self.audit_view.set_filter(connection=connection, account=account, order="", outcome="", text="")
        self.show_audit_view()

    # ------------------------------------------------------------------ restart recovery
    async def recover_interrupted(self) -> list[CancelResult]:
        """Settle the cancels an earlier run left in flight and show each outcome in the status pane."""
        results: list[CancelResult] = await self.window.service.recover_in_flight()
        if self._alive():
            self.show_recovered(results)
        return results

    def show_recovered(self, results: Sequence[CancelResult]) -> None:
        window = self.window
        for result in results:
            entry = window.status_model.apply_cancel_event(CancelEvent(
                attempt_id=result.attempt_id, key=result.key, phase=CancelPhase.DONE,
                provenance=Provenance.RECONCILIATION, batch_id=result.batch_id, message=result.message,
                result=result))
            spec = window.service.specs.get(result.key.connection)
            if spec is not None:
                window.status_model.set_venue(entry.id, str(spec.venue))
        if results:
            n = len(results)
            window.statusBar().showMessage(
                f"{n} cancel{'s' if n != 1 else ''} interrupted by an earlier run settled — see the status pane",
                20000)
            self.audit_view.mark_dirty()

    # ------------------------------------------------------------------ copy for support ticket
    def copy_for_order(self, key: OrderKey | None = None) -> None:
        key = key or self.window.orders_view.current_key()
        if key is None:
            self.window.statusBar().showMessage("Select an order first", 5000)
            return
        self._spawn_copy(self.order_ticket(key))

    def copy_for_status(self, entry: StatusEntry) -> None:
        key = entry.key
        if entry.provenance and key is not None:  # a cancel attempt's row (its id is the attempt id)
            self._spawn_copy(self.order_ticket(key, attempt_id=entry.id, entry=entry))
        elif entry.responses:
            self._spawn_copy(self._text(answer_ticket, [response_record(r) for r in entry.responses]))
        else:
            note = note_record(entry.at, entry.connection, entry.venue, entry.action, entry.message, entry.detail)
            self._spawn_copy(self._text(answer_ticket, [note]))

    def copy_for_record(self, record: AuditRecord) -> None:
        key = OrderKey(record.connection, record.account, record.order_id) if record.key else None
        if key is not None:
            self._spawn_copy(self.order_ticket(key, attempt_id=record.attempt_id if record.kind == "cancel" else ""))
        else:
            self._spawn_copy(self._text(answer_ticket, [record]))

    async def _text(self, fn: Any, records: list[AuditRecord]) -> str:
        return str(fn(records, redactor=await self.redactor()))

    async def order_ticket(self, key: OrderKey, *, attempt_id: str = "", entry: StatusEntry | None = None) -> str:
        """The support summary of one order (one attempt if ``attempt_id``), from the trail if it can be read."""
        window = self.window
        audit = window.service.audit
        records: list[AuditRecord] = []
        attempts: list[AttemptRecord] = []
        source = "the audit trail"
        if audit is None:
            source = "this window (the audit trail is not available)"
        else:
            query = AuditQuery(order=key)
            try:
                await audit.durable()
                records, attempts = await asyncio.to_thread(lambda: (audit.query(query), audit.attempts(query)))
            except AuditError:
                source = "this window (the audit trail cannot be read)"
        if entry is not None and not any(a.attempt_id == entry.id for a in attempts):
            spec = window.service.specs.get(key.connection)
            result = entry.result
            records, attempts = memory_trail(
                key, attempt_id=entry.id, provenance=entry.provenance, batch_id=entry.batch_id,
                started_at=entry.at, venue=str(spec.venue) if spec else entry.venue, responses=entry.responses,
                result=result)
            if audit is not None:
                source = "this window (the audit trail has no record of it)"
        spec = window.service.specs.get(key.connection)
        account = window.accounts_model.account(key.connection, key.account)
        return order_ticket(
            key, records, attempts, venue=str(spec.venue) if spec else "", account_name=account.name if account else "",
            order=window.orders_model.order(key), attempt_id=attempt_id, redactor=await self.redactor(), source=source)

    async def redactor(self) -> Redactor:
        """Masks every stored secret of every connection (read once, off the GUI thread)."""
        if self._redactor is None:
            service = self.window.service
            specs = list(service.specs.values())

            def secrets() -> list[str]:
                values: list[str] = []
                for spec in specs:
                    try:
                        values += read_secrets(service.credentials, spec.name, FIELDS[spec.venue].secrets).values()
                    except BlotterError as exc:  # a keyring problem must not stop a support copy
                        log.warning("support summary: secrets of %s not read (%s)", spec.name, exc)
                return values

            self._redactor = Redactor(await asyncio.to_thread(secrets))
        return self._redactor

    def _spawn_copy(self, text: Coroutine[Any, Any, str]) -> None:
        self.window.tasks.spawn(self._copy(text), name="copy for support ticket")

    async def _copy(self, text: Coroutine[Any, Any, str]) -> None:
        summary = await text
        if not self._alive():
            return
        QGuiApplication.clipboard().setText(summary)
        lines = summary.count("\n")
        self.window.statusBar().showMessage(f"Support summary copied to the clipboard ({lines} lines)", 8000)
        self.ticketCopied.emit(summary)

    # ------------------------------------------------------------------ account inspector
    def open_inspector_for_current(self) -> None:
        connection, account = self.window.accounts_view.scope()
        if not account:
            current = self.window.orders_view.current_key()
            if current is None:
                self.window.statusBar().showMessage("Select an account first", 5000)
                return
            connection, account = current.connection, current.account
        self.open_inspector(connection, account)

    def open_inspector(self, connection: str, account_id: str) -> AccountInspector:
        current = self.inspector
        if current is not None and isValid(current) and current.isVisible() \
                and (current.connection, current.account_id) == (connection, account_id):
            current.raise_()
            current.activateWindow()
            return current
        dialog = AccountInspector(
            self.window.service, connection, account_id, self.window.tasks,
            account=self.window.accounts_model.account(connection, account_id), parent=self.main_window)
        dialog.supportTicketRequested.connect(self.copy_for_order)
        self.inspector = dialog
        self.window.tasks.spawn(self._inspect(dialog), name="account inspector")
        dialog.show()
        return dialog

    async def _inspect(self, dialog: AccountInspector) -> None:
        dialog.redactor = await self.redactor()
        if isValid(dialog):
            dialog.reload()

    def _accounts_menu(self, pos: QPoint) -> None:
        view = self.window.accounts_view
        index = view.indexAt(pos)
        if not index.isValid():
            return
        connection = str(index.data(ConnectionRole) or "")
        account = str(index.data(AccountRole) or "")
        menu = QMenu(self.main_window)
        menu.setObjectName("accountsContextMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if account:
            inspect = menu.addAction("Inspect account…")
            inspect.setObjectName("inspectAccountMenuItem")
            inspect.triggered.connect(lambda: self.open_inspector(connection, account))
        spec = self.window.service.specs.get(connection)
        what = f"account {account}" if account else f"{venue_name(spec.venue) if spec else ''} {connection}".strip()
        audit = menu.addAction(f"Show audit trail of {what}")
        audit.triggered.connect(lambda: self.show_account_audit(connection, account))
        menu.popup(view.viewport().mapToGlobal(pos))
