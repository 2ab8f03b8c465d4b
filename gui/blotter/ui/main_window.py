"""The main window: accounts (left), orders (centre), status pane (bottom), cancel flows, refresh.

Everything here runs on the GUI thread under qasync. Service callbacks (refresh diffs, cancel events,
venue answers) arrive on that same thread and only queue model updates; the orders model coalesces
them with a short timer. Nothing blocks the loop: cancels are submitted to the coordinator (which runs
them as tasks), dialogs are non-blocking (``show``/``open``, answers through signals), and the few
coroutines started here are held by a ``TaskSet``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import shiboken6
from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from ..core import (
    BlotterError,
    CancelOutcome,
    ConnectionSpec,
    Order,
    OrderKey,
    OrderStatus,
    Provenance,
)
from ..service import BlotterService, CancelPhase
from ..service.desk import (
    BatchProgress,
    CancelPlan,
    CancelStep,
    Confirmation,
    ConnectionsChanged,
    Desk,
    HealthChanged,
    Notice,
    NoticeLevel,
    OrdersChanged,
    confirmation_for,
)
from ..service.duplicates import venue_host
from ..store.config import ConfigStore
from .bridge import DeskSignals
from .dialogs.confirm_cancel import ConfirmCancelDialog
from .dialogs.connections import ConnectionsDialog
from .dialogs.details import OrderDetailDialog, StatusDetailDialog
from .dialogs.kill_switch import KillSwitchDialog
from .dialogs.settings import SettingsDialog
from .live_connections import EmptyAccountsHint
from .models.accounts import AccountsModel, account_label
from .models.columns import COLUMNS, CancelMark, MarkKind
from .models.orders import OrdersTableModel
from .models.orders_proxy import OrdersProxyModel
from .models.status import StatusEntry, StatusModel
from .settings import UiSettings
from .support_tools import SupportTools
from .tasks import TaskSet
from .theme import Colours, Tone
from .widgets.accounts_view import AccountsView
from .widgets.orders_view import OrdersView
from .widgets.status_pane import StatusPane

ACCOUNTS_WIDTH = 420
STATUS_HEIGHT = 250




class MainWindow(QMainWindow):
    """Every open order of every connection; cancels that say what the venue answered."""

    closed = Signal()

    def __init__(
        self,
        service: BlotterService,
        *,
        settings: UiSettings | None = None,
        read_only: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setWindowTitle("Blotter")
        self.service = service
        self.settings = settings or UiSettings()
        if read_only:
            service.read_only = True
        self.tasks = TaskSet()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        # the screen's policy (what a cancel does, batches, refresh after cancels) lives in the Qt-free desk;
        # its events reach this window through one bridge, in order, on the GUI thread
        self.desk = Desk(service, refresh_interval_s=self.settings.refresh_interval_s,
                         log_successful_reads=self.settings.log_successful_reads,
                         defer=lambda fn: QTimer.singleShot(0, self, fn))
        self.scheduler = self.desk.scheduler
        self.bridge = DeskSignals(self.desk, self)
        self._closed = False
        self._confirming: set[OrderKey] = set()  # listed in an open confirmation
        self._identities: dict[OrderKey, str] = {}  # venue order of each row, for twins (see _mark_twins)
        self.confirm_dialog: ConfirmCancelDialog | None = None
        self.kill_switch_dialog: KillSwitchDialog | None = None
        self.detail_dialog: QWidget | None = None
        self.connections_dialog: ConnectionsDialog | None = None
        self.config_store: ConfigStore | None = None  # set by the app; None in the demo (connections fixed)
        self.read_only_locked = False  # started with --read-only: Settings cannot lift it
        self.demo = False  # set by the app: a demo session (its settings and trail are temporary)

        # models
        self.orders_model = OrdersTableModel(self)
        self.orders_proxy = OrdersProxyModel(self)
        self.orders_proxy.setSourceModel(self.orders_model)
        self.accounts_model = AccountsModel(self)
        self.accounts_model.set_connections((name, spec.venue) for name, spec in service.specs.items())
        self.status_model = StatusModel(self, log=self.desk.status_log)

        self._build_actions()
        self._build_views()
        self.support = SupportTools(self, self)  # audit view, copy for support ticket, account inspector
        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()

        bridge = self.bridge
        bridge.ordersChanged.connect(self._on_orders_changed)
        bridge.healthChanged.connect(self._on_health_changed)
        bridge.cancelStep.connect(self._apply_cancel_step)
        bridge.batchProgress.connect(self._on_batch_progress)
        bridge.connectionsChanged.connect(self._on_connections_changed)
        bridge.connect_notices(self._on_notice)
        if service.audit is not None:  # a locked or full audit database is told at once, here too
            service.audit.add_problem_listener(self._audit_problem)
        self.orders_model.countsChanged.connect(self._on_counts_changed)
        self.orders_model.flushed.connect(self._update_actions)
        self.orders_view.selectionModel().selectionChanged.connect(self._update_actions)
        self.resize(1280, 800)
        self._update_read_only_badge()
        self._update_actions()
        for name in service.specs:
            self._update_health(name)

    # ------------------------------------------------------------------ construction
    def _action(self, name: str, text: str, slot: Callable[[], object],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.action_refresh = self._action(
            "actionRefresh", "Refresh", self.refresh_now, QKeySequence.StandardKey.Refresh,
            "Re-read every connection now (F5)")
        self.action_cancel_selected = self._action(
            "actionCancelSelected", "Cancel selected", lambda: self.cancel_selected(Provenance.SELECTION),
            QKeySequence(Qt.Key.Key_Delete), "Cancel the selected order(s) (Delete)")
        self.action_cancel_account = self._action(
            "actionCancelAllInAccount", "Cancel all in account", self.cancel_all_in_account,
            "Ctrl+Shift+Del", "Cancel every open order of the selected account")
        self.action_kill_switch = self._action(
            "actionKillSwitch", "Kill switch…", self.open_kill_switch, "Ctrl+Shift+K",
            "Cancel every open order of every connection (shows exactly what it will hit first)")
        self.action_all_accounts = self._action(
            "actionAllAccounts", "All accounts", self.show_all_accounts, None, "Show the orders of every account")
        self.action_settings = self._action("actionSettings", "Settings…", self.open_settings, "Ctrl+,")
        self.action_connections = self._action(
            "actionConnections", "Connections…", self.open_connections, "Ctrl+Shift+O",
            "Add, edit, test and remove venue connections")
        self.action_restore_layout = self._action(
            "actionRestoreLayout", "Restore default layout", self._restore_layout)
        self.action_detail = self._action("actionOrderDetail", "Order details…", self.open_order_detail)
        self.action_copy = self._action("actionCopyOrders", "Copy", self.copy_selected_orders)
        self.action_quit = self._action("actionQuit", "Quit", self.close, QKeySequence.StandardKey.Quit)
        # Delete belongs to the orders table (OrdersView turns it into a "hotkey" cancel); in the accounts
        # tree or the filter box it must not cancel anything, so this action lives on the table, the
        # toolbar and the menu only (not on the window)
        self.removeAction(self.action_cancel_selected)
        self.action_cancel_selected.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_views(self) -> None:
        self.orders_view = OrdersView(self.settings, self)
        self.orders_view.setModel(self.orders_proxy)
        self.orders_view.deleteRequested.connect(lambda: self.cancel_selected(Provenance.HOTKEY))
        self.orders_view.detailRequested.connect(self._open_detail_for)
        self.orders_view.customContextMenuRequested.connect(self._orders_menu)
        self.orders_view.addAction(self.action_cancel_selected)
        self.action_copy.setShortcut(QKeySequence.StandardKey.Copy)
        self.action_copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.removeAction(self.action_copy)
        self.orders_view.addAction(self.action_copy)
        self.setCentralWidget(self.orders_view)

        self.accounts_view = AccountsView(self.accounts_model, self)
        self.accounts_view.scopeChanged.connect(self._on_scope_changed)
        self.accounts_dock = QDockWidget("Accounts", self)
        self.accounts_dock.setObjectName("accountsDock")
        self.empty_hint = EmptyAccountsHint(self)
        self.empty_hint.addRequested.connect(self.add_first_connection)
        self.accounts_stack = QStackedWidget(self)
        self.accounts_stack.addWidget(self.accounts_view)
        self.accounts_stack.addWidget(self.empty_hint)
        self.accounts_dock.setWidget(self.accounts_stack)
        self.update_empty_hint()
        self.accounts_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.accounts_dock)

        self.status_pane = StatusPane(self.status_model, self)
        self.status_pane.detailRequested.connect(self.open_status_detail)
        self.status_dock = QDockWidget("Status — venue answers and cancel outcomes", self)
        self.status_dock.setObjectName("statusDock")
        self.status_dock.setWidget(self.status_pane)
        self.status_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.status_dock)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.accounts_dock], [ACCOUNTS_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.status_dock], [STATUS_HEIGHT], Qt.Orientation.Vertical)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Orders", self)
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.action_refresh, self.action_cancel_selected, self.action_cancel_account):
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.action_kill_switch)
        kill = bar.widgetForAction(self.action_kill_switch)
        if kill is not None:
            kill.setObjectName("killSwitchButton")
            kill.setStyleSheet(
                "QToolButton { color: white; background: #b3261e; border-radius: 3px; padding: 3px 10px;"
                " font-weight: bold; } QToolButton:disabled { background: #d8a9a6; }")
        bar.addSeparator()
        bar.addAction(self.action_all_accounts)
        self.scope_label = QLabel()
        self.scope_label.setObjectName("scopeLabel")
        self.scope_label.setContentsMargins(6, 0, 10, 0)
        bar.addWidget(self.scope_label)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("orderFilter")
        self.filter_edit.setPlaceholderText("Filter: symbol, side or state")
        self.filter_edit.setToolTip("Words matched in symbol, side and state, e.g. “aapl sell” or “pending”")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(220)
        self.filter_edit.setMaximumWidth(300)
        self.filter_edit.textChanged.connect(self.orders_proxy.set_filter_text)
        bar.addWidget(self.filter_edit)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.read_only_badge = QLabel("READ-ONLY")
        self.read_only_badge.setObjectName("readOnlyBadge")
        self.read_only_badge.setStyleSheet(
            "QLabel { color: white; background: #7a4d00; border-radius: 3px; padding: 3px 8px; font-weight: bold; }")
        # a toolbar shows or hides its widgets through their actions (QWidget.hide() alone has no effect)
        self.read_only_badge_action = bar.addWidget(self.read_only_badge)
        self.addToolBar(bar)
        self.toolbar = bar
        self._update_scope_label()

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.action_connections)
        file_menu.addAction(self.action_settings)
        file_menu.addSeparator()
        file_menu.addAction(self.action_quit)
        orders = menus.addMenu("&Orders")
        for action in (self.action_refresh, self.action_cancel_selected, self.action_cancel_account):
            orders.addAction(action)
        orders.addSeparator()
        orders.addAction(self.action_kill_switch)
        orders.addSeparator()
        orders.addAction(self.action_detail)
        orders.addAction(self.support.action_inspect_account)
        view = menus.addMenu("&View")
        view.addAction(self.action_all_accounts)
        view.addAction(self.action_restore_layout)
        view.addSeparator()
        view.addAction(self.accounts_dock.toggleViewAction())
        view.addAction(self.status_dock.toggleViewAction())
        view.addAction(self.support.action_audit_view)
        help_menu = menus.addMenu("&Help")
        about = QAction("&About Blotter", self)
        about.setObjectName("actionAbout")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        about_qt = QAction("About &Qt", self)
        about_qt.setMenuRole(QAction.MenuRole.AboutQtRole)
        about_qt.triggered.connect(QApplication.aboutQt)
        help_menu.addAction(about_qt)

    def show_about(self) -> QMessageBox:
        from .dialogs.about import show_about

        audit = self.service.audit
        return show_about(self, QApplication.windowIcon(),
                          audit=str(audit.path) if audit is not None else "none — not recorded in this session",
                          settings=self.settings.q.fileName(), demo=self.demo)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        self.bulk_label = QLabel()
        self.bulk_label.setObjectName("bulkLabel")
        self.bulk_progress = QProgressBar()
        self.bulk_progress.setObjectName("bulkProgress")
        self.bulk_progress.setMaximumWidth(180)
        self.bulk_progress.setTextVisible(True)
        self.bulk_label.hide()
        self.bulk_progress.hide()
        bar.addPermanentWidget(self.bulk_label)
        bar.addPermanentWidget(self.bulk_progress)
        self.connection_label = QLabel()
        self.connection_label.setObjectName("connectionStatus")
        self.connection_label.setTextFormat(Qt.TextFormat.RichText)
        bar.addPermanentWidget(self.connection_label)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start auto-refresh (needs the running qasync loop)."""
        self.desk.start()

    async def aclose(self) -> None:
        """Stop refreshing and our own tasks; the service is closed by whoever made it."""
        if self._closed:
            return
        self._closed = True
        self.bridge.close()
        await self.desk.aclose()
        await self.tasks.aclose()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.closed.emit()
        super().closeEvent(event)

    def save_layout(self) -> None:
        self.orders_view.save_layout()
        self.settings.q.setValue("window/geometry", self.saveGeometry())
        self.settings.q.setValue("window/state", self.saveState())
        self.settings.sync()

    def restore_window_layout(self) -> None:
        geometry = self.settings.q.value("window/geometry")
        state = self.settings.q.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def _restore_layout(self) -> None:
        self.orders_view.restore_default_layout()
        self.settings.q.remove("window/state")
        self.resizeDocks([self.accounts_dock], [ACCOUNTS_WIDTH], Qt.Orientation.Horizontal)
        self.resizeDocks([self.status_dock], [STATUS_HEIGHT], Qt.Orientation.Vertical)
        self.accounts_dock.show()
        self.status_dock.show()

    @property
    def closing(self) -> bool:
        """The window is closing or closed: late async results must not touch it."""
        return self._closed

    # ------------------------------------------------------------------ reading state
    @property
    def read_only(self) -> bool:
        """The whole app is read-only (the support role, or started with --read-only)."""
        return self.service.read_only

    def is_read_only(self, key: OrderKey) -> bool:
        return self.desk.is_read_only(key)

    def _shows_open(self, key: OrderKey) -> bool:
        order = self.orders_model.order(key)
        return order is not None and order.status.is_open

    def plan(self, keys: Sequence[OrderKey], provenance: Provenance) -> CancelPlan:
        """What cancelling ``keys`` would send, by the desk's rules, for the orders this window shows open."""
        return self.desk.plan_cancel(keys, provenance, open_keys=self._shows_open)

    def cancellable(self, key: OrderKey) -> bool:
        """An open order we may cancel now (not read-only, no cancel of it running or pending)."""
        return bool(self.plan([key], Provenance.ROW_ACTION).send)

    def selected_keys(self) -> list[OrderKey]:
        """The explicit selection only — never the keyboard-focus row (a cancel acts on what was chosen)."""
        return self.orders_view.selected_keys()

    def scope(self) -> tuple[str, str]:
        return self.orders_proxy.scope

    # ------------------------------------------------------------------ refresh
    def refresh_now(self, connection: str = "") -> None:
        self.desk.refresh_now(connection)
        self.statusBar().showMessage("Refreshing " + (connection or "every connection") + "…", 3000)

    def _on_orders_changed(self, event: OrdersChanged) -> None:
        if self._closed:
            return
        diff = event.diff
        name = diff.connection
        self.accounts_model.set_accounts(name, diff.accounts)
        labels = {a.account_id: account_label(a) for a in diff.accounts}
        self.orders_model.set_account_labels(name, labels)
        self.status_model.account_labels.update({(name, a): label for a, label in labels.items()})
        if not diff.empty:
            self.orders_model.apply((*diff.added, *diff.changed), diff.removed, started_at=diff.started_at)
        self._mark_twins()
        self._update_read_only_badge()

    def _mark_twins(self) -> None:
        """Two connections to one venue login list each order twice: the second row says so (a bulk cancel
        sends one request for both, the desk's plan). Only connections that share a venue host are looked at."""
        hosts: dict[str, list[str]] = {}
        for name, spec in self.service.specs.items():
            hosts.setdefault(venue_host(spec), []).append(name)
        shared = sorted(n for names in hosts.values() if len(names) > 1 for n in names)
        twins: dict[OrderKey, OrderKey] = {}
        if shared:
            first: dict[str, OrderKey] = {}
            coordinator = self.service.coordinator
            snapshot = self.desk.open_orders()
            cache = self._identities
            for name in shared:
                for key in sorted(k for k in snapshot if k.connection == name):
                    identity = cache.get(key)
                    if identity is None:  # a key's venue order never changes: computed once per key
                        identity = cache[key] = coordinator.identity(key)
                    if not identity:
                        continue
                    if identity in first:
                        twins[key] = first[identity]
                    else:
                        first[identity] = key
            if len(cache) > 2 * len(snapshot) + 1000:  # orders that left take their entries with them
                self._identities = {k: v for k, v in cache.items() if k in snapshot}
        self.orders_model.set_twins(twins)

    def _on_health_changed(self, event: HealthChanged) -> None:
        if not self._closed:
            self._update_health(event.connection, event.retry_in_s)

    def _audit_problem(self, text: str) -> None:
        """From any thread (the audit writer's): the desk's notice path runs on the loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: None if self._closed else self.desk.notice(
                text, level=NoticeLevel.WARNING, action="audit"))

    def _on_notice(self, notice: Notice) -> None:
        """The one notice path: the desk's notes are in the status pane already; warnings also show here."""
        if not self._closed and notice.level is not NoticeLevel.INFO:
            self.statusBar().showMessage(notice.text, 15000)

    def _update_health(self, name: str, retry_in_s: float = 0.0) -> None:
        as_of = self.desk.as_of(name)
        stale = as_of.astimezone().strftime("%H:%M:%S") if as_of is not None else ""
        self.orders_model.set_stale(name, stale or None)
        health = self.service.health.get(name)
        if health is None:
            return
        self.accounts_model.set_health(
            name, state=health.state, last_success=health.last_success,
            median_latency_ms=health.median_latency_ms, last_error=health.last_error, retry_in_s=retry_in_s,
            stale_as_of=stale,
        )
        self._update_connection_label()

    def _update_connection_label(self) -> None:
        colours = Colours.current()
        parts = []
        for name in sorted(self.service.specs):
            health = self.service.health.get(name)
            state = health.state if health else "idle"
            tone = {"connected": Tone.OK, "error": Tone.ERROR, "refreshing": Tone.CANCELLING}.get(state, Tone.MUTED)
            latency = health.median_latency_ms if health else None
            suffix = f" {latency:.0f} ms" if latency is not None and state == "connected" else ""
            as_of = self.desk.as_of(name)
            if as_of is not None:
                suffix = f" — stale, as of {as_of.astimezone():%H:%M:%S}"
            parts.append(f'<span style="color:{colours.foreground[tone].name()}">●</span> {name}: {state}{suffix}')
        self.connection_label.setText("&nbsp;&nbsp;".join(parts))

    # ------------------------------------------------------------------ cancelling
    def cancel_selected(self, provenance: Provenance = Provenance.SELECTION) -> None:
        keys = self.selected_keys()
        if not keys:
            self.statusBar().showMessage("Nothing selected: select the orders to cancel first", 5000)
            return
        if len(keys) == 1 and provenance is Provenance.SELECTION:
            provenance = Provenance.ROW_ACTION
        self.request_cancel(keys, provenance)

    def chosen_account(self) -> tuple[str, str]:
        """The account chosen in the accounts tree, or the one account of the selected orders ("", "" if none)."""
        connection, account = self.scope()
        if account:
            return connection, account
        accounts = {(k.connection, k.account) for k in self.selected_keys()}
        return next(iter(accounts)) if len(accounts) == 1 else ("", "")

    def cancel_all_in_account(self) -> None:
        connection, account = self.chosen_account()
        if not account:
            self.statusBar().showMessage("Choose an account first: select it on the left, or select orders of "
                                         "one account", 5000)
            return
        keys = self.orders_model.open_keys(connection, account)
        name = self.accounts_model.account(connection, account)
        label = f"{connection} / {name.name if name else account}"
        self.request_cancel(keys, Provenance.CANCEL_ALL, title="Cancel all in account",
                            headline=f"Cancel every open order of <b>{label}</b>: {len(keys)} order(s)?")

    def request_cancel(
        self, keys: Sequence[OrderKey], provenance: Provenance, *, title: str = "Cancel orders",
        headline: str = "",
    ) -> None:
        """Ask as the blast radius requires, then cancel. What the desk refuses is said, never sent."""
        if self.read_only:
            self.statusBar().showMessage("Read-only: cancelling is disabled", 5000)
            return
        plan = self.plan(keys, provenance)
        if not plan.send:
            self.statusBar().showMessage(plan.why_not(), 5000)
            return
        fresh = [k for k in plan.send if k not in self._confirming]
        if not fresh:  # the same orders are already waiting for a confirmation
            if self.confirm_dialog is not None:
                self.confirm_dialog.raise_()
                self.confirm_dialog.activateWindow()
            return
        plan = CancelPlan(plan.provenance, tuple(fresh), plan.refused)
        confirmation = confirmation_for(plan, confirm_single=self.settings.confirm_single_cancel,
                                        typed_above=self.settings.typed_confirmation_above)
        if confirmation is Confirmation.NONE:
            self.submit_plan(plan)
            return
        orders = [o for k in fresh if (o := self.orders_model.order(k)) is not None]
        n = len(orders)
        skipped = plan.why_not() if plan.refused else ""
        dialog = ConfirmCancelDialog(
            orders, title=title, headline=headline or f"Cancel {n} order{'s' if n != 1 else ''}?",
            offer_dont_ask=confirmation is Confirmation.SINGLE, confirmation=confirmation,
            account_names=self._account_names(fresh), note=skipped, parent=self)
        self._confirming.update(fresh)
        dialog.finished.connect(lambda _r, ks=tuple(fresh), d=dialog: self._confirm_finished(ks, d))
        dialog.confirmed.connect(lambda ks, p=provenance, d=dialog: self._confirmed(ks, p, d))
        self.confirm_dialog = dialog
        dialog.open()

    def _account_names(self, keys: Sequence[OrderKey]) -> dict[tuple[str, str], str]:
        names: dict[tuple[str, str], str] = {}
        for key in keys:
            where = (key.connection, key.account)
            if where not in names:
                account = self.accounts_model.account(*where)
                names[where] = account_label(account) if account is not None else key.account
        return names

    def _confirm_finished(self, keys: Sequence[OrderKey], dialog: ConfirmCancelDialog) -> None:
        self._confirming.difference_update(keys)
        if self.confirm_dialog is dialog:
            self.confirm_dialog = None

    def _confirmed(self, keys: list[OrderKey], provenance: Provenance, dialog: ConfirmCancelDialog) -> None:
        if dialog.dont_ask.isVisible() and dialog.dont_ask.isChecked():
            self.settings.confirm_single_cancel = False
            self.settings.sync()
        self._confirming.difference_update(keys)
        if self.confirm_dialog is dialog:
            self.confirm_dialog = None
        self.submit_plan(self.plan(keys, provenance))  # decided again: things may have changed meanwhile

    def submit_cancels(self, keys: Sequence[OrderKey], provenance: Provenance, *, label: str = "") -> str:
        """Cancel ``keys`` now, without asking (what the desk refuses is not sent); returns the batch id."""
        return self.submit_plan(self.plan(keys, provenance), label=label)

    def submit_plan(self, plan: CancelPlan, *, label: str = "") -> str:
        batch_id = self.desk.submit(plan, label=label)
        self._show_progress()
        unreachable = set(self.desk.unreachable(plan.send))
        for key in plan.send:
            note = ""
            if key.connection in unreachable:
                as_of = self.orders_model.stale_as_of(key.connection)
                note = f"{key.connection} could not be reached at the last read (rows as of {as_of}); sent anyway"
            self.orders_model.mark(key, CancelMark(MarkKind.CANCELLING, note))
        if unreachable:  # said before the cancel waits for its timeout, not after
            self.statusBar().showMessage(
                f"{', '.join(sorted(unreachable))} cannot be reached right now: the cancel is sent, but the venue may "
                "not answer until it is back — the row shows where it stands", 15000)
        elif plan.refused and not plan.send:
            self.statusBar().showMessage(plan.why_not(), 5000)
        # The rows show "cancelling…" from a zero timer: Qt runs it after the posted event that runs the
        # cancels' first steps (ui/loop.py), so the requests leave before this repaint, not after it.
        QTimer.singleShot(0, self, self._show_submitted)
        return batch_id

    def _show_submitted(self) -> None:
        if not self._closed:
            self.orders_model.flush()
            self._update_actions()

    def _apply_cancel_step(self, step: CancelStep) -> None:
        if self._closed:
            return
        event = step.event
        key = event.key
        if event.phase is CancelPhase.SENDING or event.phase is CancelPhase.RECONCILING:
            current = self.orders_model.mark_of(key)
            if current is None or current.kind is not MarkKind.PENDING:
                self.orders_model.mark(key, CancelMark(MarkKind.CANCELLING, event.message, "", event.attempt_id))
        elif event.phase is CancelPhase.PENDING:
            if event.order is not None and not event.order.status.is_terminal:
                self.orders_model.apply([event.order])
            self.orders_model.mark(key, CancelMark(MarkKind.PENDING, event.message, "", event.attempt_id))
        elif event.phase is CancelPhase.DONE and event.result is not None:
            self._finish_cancel(step)

    def _finish_cancel(self, step: CancelStep) -> None:
        result = step.event.result
        assert result is not None
        key = step.event.key
        order = self.orders_model.order(key)
        final = result.final_status
        if result.outcome is CancelOutcome.CANCELLED or final is OrderStatus.CANCELLED:
            self.orders_model.remove([key])
        elif final is not None and final.is_terminal:
            # too late (filled) or ended otherwise: show the true state a moment, then the row leaves
            self.orders_model.linger(key)
            if order is not None:
                self.orders_model.apply([_with_status(order, final, result.venue_status)])
            kind = MarkKind.TOO_LATE if result.too_late else MarkKind.REJECTED
            self.orders_model.mark(key, CancelMark(kind, result.message, result.detail, result.attempt_id))
        else:
            if order is not None and final is not None and final is not order.status:
                self.orders_model.apply([_with_status(order, final, result.venue_status)])
            kind = MarkKind(result.outcome.value)  # the same words: one lifecycle vocabulary
            self.orders_model.mark(key, CancelMark(kind, result.message, result.detail, result.attempt_id))
        self._update_actions()

    # ------------------------------------------------------------------ bulk progress
    def _on_batch_progress(self, event: BatchProgress) -> None:
        if self._closed:
            return
        if event.finished:
            self.statusBar().showMessage(event.batch.text(), 20000)
        self._show_progress()

    def _show_progress(self) -> None:
        batches = list(self.desk.batches.values())
        if not batches:
            self.bulk_progress.hide()
            self.bulk_label.hide()
            return
        total = sum(b.total for b in batches)
        done = sum(b.done for b in batches)
        self.bulk_label.setText("; ".join(b.label for b in batches))
        self.bulk_progress.setRange(0, total)
        self.bulk_progress.setValue(done)
        self.bulk_progress.setFormat(f"{done}/{total}")
        self.bulk_label.show()
        self.bulk_progress.show()

    def bulk_in_progress(self) -> bool:
        return bool(self.desk.batches)

    # ------------------------------------------------------------------ kill switch
    def open_kill_switch(self) -> None:
        if self.read_only:
            self.statusBar().showMessage("Read-only: cancelling is disabled", 5000)
            return
        if self.kill_switch_dialog is not None and self.kill_switch_dialog.isVisible():
            self.kill_switch_dialog.raise_()
            return
        dialog = KillSwitchDialog(self)
        dialog.confirmed.connect(self._kill_switch_confirmed)
        dialog.destroyed.connect(lambda *_: self._forget_kill_switch(dialog))
        self.kill_switch_dialog = dialog
        dialog.show()
        self.tasks.spawn(self._load_kill_switch_preview(dialog), name="kill switch preview")

    def _forget_kill_switch(self, dialog: KillSwitchDialog) -> None:
        if self.kill_switch_dialog is dialog:
            self.kill_switch_dialog = None

    async def _load_kill_switch_preview(self, dialog: KillSwitchDialog) -> None:
        preview = await self.desk.kill_switch_preview()  # reads every connection first
        self.orders_model.flush()
        if self.kill_switch_dialog is not dialog or not dialog.isVisible():
            return
        dialog.set_preview(list(preview.lines), list(preview.keys))

    def _kill_switch_confirmed(self, keys: list[OrderKey]) -> None:
        self.submit_plan(self.desk.kill_switch_plan(keys), label=f"Kill switch: {len(keys)} orders")

    # ------------------------------------------------------------------ scope, filter, details
    def _on_scope_changed(self, connection: str, account: str) -> None:
        self.orders_proxy.set_scope(connection, account)
        self._update_scope_label()
        self._update_actions()

    def show_all_accounts(self) -> None:
        self.accounts_view.clear_scope()

    def _update_scope_label(self) -> None:
        connection, account = self.orders_proxy.scope
        if not connection:
            text = "All accounts"
        elif not account:
            text = f"{connection}"
        else:
            found = self.accounts_model.account(connection, account)
            text = f"{connection} / {found.name if found and found.name else account}"
        self.scope_label.setText(f"Showing: <b>{text}</b>")

    def open_order_detail(self) -> None:
        index = self.orders_view.currentIndex()
        if index.isValid():
            self._open_detail_for(index)

    def _open_detail_for(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        key = self.orders_proxy.key_at(index.row())
        order = self.orders_model.order(key)
        if order is None:
            return
        dialog = OrderDetailDialog(order, self.orders_model.mark_of(key), self)
        self.detail_dialog = dialog
        dialog.show()
        if not order.raw:
            self.tasks.spawn(self._read_raw(dialog, key), name=f"order detail {key}")

    async def _read_raw(self, dialog: OrderDetailDialog, key: OrderKey) -> None:
        """The venue's answer for the order of an open detail dialog (listed orders carry no raw JSON)."""
        try:
            order = await self.service.adapter(key.connection).get_order(key.account, key.order_id)
        except BlotterError as exc:
            if shiboken6.isValid(dialog) and dialog.isVisible():
                dialog.show_raw_error(str(exc))
            return
        if shiboken6.isValid(dialog) and dialog.isVisible():  # closed meanwhile: it deletes itself
            read_at = datetime.now().astimezone().strftime("%H:%M:%S")
            dialog.show_raw(order.raw, f"The venue's answer for this order, read at {read_at}:")

    def open_status_detail(self, entry: StatusEntry) -> None:
        dialog = StatusDetailDialog(entry, self)
        self.detail_dialog = dialog
        dialog.show()

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self, read_only=self.read_only, read_only_locked=self.read_only_locked)
        dialog.applied.connect(self._settings_applied)
        dialog.readOnlyChanged.connect(self.set_read_only)
        dialog.show()
        return dialog

    def set_read_only(self, read_only: bool) -> None:
        """The whole app read-only (the support role) or not; kept in the config so the CLI obeys too."""
        if self.read_only_locked and not read_only:
            return
        self.service.read_only = bool(read_only)
        if self.config_store is not None:
            self.config_store.set_read_only(self.read_only)
        self.statusBar().showMessage(
            "Read-only: every cancel action is disabled" if self.read_only else "Read-only lifted: cancelling is "
            "enabled (read-only connections and accounts stay read-only)", 8000)
        self._update_read_only_badge()
        self._update_actions()

    # ------------------------------------------------------------------ connections
    def open_connections(self) -> ConnectionsDialog | None:
        """The connection manager (non-modal); its changes apply to the running window."""
        if self.config_store is None:
            self.statusBar().showMessage("Demo mode: the demo venues' connections cannot be changed", 5000)
            return None
        if self.connections_dialog is not None:
            self.connections_dialog.raise_()
            self.connections_dialog.activateWindow()
            return self.connections_dialog
        dialog = ConnectionsDialog(self.config_store, self.service.credentials, self)
        dialog.connectionSaved.connect(self.desk.set_connection)
        dialog.connectionRemoved.connect(lambda name: self.tasks.spawn(self.desk.remove_connection(name)))
        dialog.destroyed.connect(lambda *_: setattr(self, "connections_dialog", None))
        self.connections_dialog = dialog
        dialog.show()
        return dialog

    def add_first_connection(self) -> None:
        dialog = self.open_connections()
        if dialog is not None:
            dialog.add_connection()

    def _on_connections_changed(self, event: ConnectionsChanged) -> None:
        """A connection was added, changed or removed while running (the desk changed the service already)."""
        if self._closed:
            return
        name = event.connection
        scope = self.scope()
        if event.removed:
            rows = self.orders_model.keys()
            self.orders_model.remove([k for k in rows if k.connection == name], confirmed=False)
            self.orders_model.flush()
            self.accounts_model.remove_connection(name)
        else:
            spec: ConnectionSpec | None = self.service.specs.get(name)
            if spec is not None:
                self.accounts_model.add_connection(name, spec.venue, read_only=self.service.is_read_only(name))
        connection, account = scope
        if connection and connection in self.service.specs:
            self.accounts_view.select_scope(connection, account)
        else:
            self.show_all_accounts()
        self.update_empty_hint()
        self._update_read_only_badge()
        self._update_actions()
        self._update_health(name)
        self._update_connection_label()

    def update_empty_hint(self) -> None:
        empty = not self.service.specs and self.config_store is not None
        self.accounts_stack.setCurrentWidget(self.empty_hint if empty else self.accounts_view)

    def _settings_applied(self) -> None:
        self.scheduler.interval_s = self.settings.refresh_interval_s
        self.scheduler.max_backoff_s = max(60.0, 8 * self.scheduler.interval_s)
        self.desk.log_successful_reads = self.settings.log_successful_reads

    def copy_selected_orders(self) -> str:
        visible = [i for i in range(len(COLUMNS)) if not self.orders_view.isColumnHidden(i)]
        lines = ["\t".join(COLUMNS[i].header for i in visible)]
        for key in self.orders_view.selected_keys():
            row = self.orders_proxy.row_of(key)
            lines.append("\t".join(str(self.orders_proxy.data(self.orders_proxy.index(row, c))) for c in visible))
        text = "\n".join(lines)
        QGuiApplication.clipboard().setText(text)
        return text

    def _orders_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.setObjectName("ordersContextMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.action_cancel_selected)
        menu.addAction(self.action_cancel_account)
        menu.addSeparator()
        menu.addAction(self.action_detail)
        menu.addAction(self.action_copy)
        menu.addAction(self.support.action_support_ticket)
        menu.addAction(self.support.action_order_audit)
        menu.popup(self.orders_view.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ enabling
    def _on_counts_changed(self) -> None:
        self.accounts_model.set_counts(self.orders_model.counts())

    def _update_read_only_badge(self) -> None:
        for name in self.service.specs:
            self.accounts_model.set_read_only(name, self.service.is_read_only(name))
        if self.read_only:
            self.read_only_badge.setText("READ-ONLY")
            self.read_only_badge.setToolTip(
                "Started with --read-only: every cancel action is disabled" if self.read_only_locked else
                "Read-only mode (File → Settings): every cancel action is disabled")
            self.read_only_badge_action.setVisible(True)
            return
        names = sorted(n for n in self.service.specs if self.service.is_read_only(n))
        accounts = [a for n in self.service.specs for a in self.accounts_model.accounts(n) if a.read_only]
        if names or accounts:
            bits = names + [f"{a.connection} / {account_label(a)}" for a in accounts]
            what = ", ".join(names) if names and not accounts else f"{len(bits)} account(s)"
            self.read_only_badge.setText(f"READ-ONLY: {what}")
            self.read_only_badge.setToolTip("No cancel is sent for:\n" + "\n".join(bits))
            self.read_only_badge_action.setVisible(True)
        else:
            self.read_only_badge_action.setVisible(False)

    def _update_actions(self, *_args: object) -> None:
        if self.read_only:
            for action in (self.action_cancel_selected, self.action_cancel_account, self.action_kill_switch):
                action.setEnabled(False)
            return
        keys = self.orders_view.selected_keys()
        self.action_cancel_selected.setEnabled(any(self.cancellable(k) for k in keys[:2000]))
        self.action_cancel_selected.setStatusTip("Cancel the selected order(s) (Delete)" if keys else
                                                 "Select the orders to cancel first")
        connection, account = self.chosen_account()
        self.action_cancel_account.setEnabled(
            bool(account) and not self.is_read_only(OrderKey(connection, account, "-"))
            and bool(self.orders_model.counts().get((connection, account))))
        self.action_cancel_account.setStatusTip(
            "Cancel every open order of the chosen account" if account else
            "Choose an account first: select it on the left, or select orders of one account")
        self.action_kill_switch.setEnabled(True)
        self.action_detail.setEnabled(self.orders_view.currentIndex().isValid())


def _with_status(order: Order, status: OrderStatus, venue_status: str) -> Order:
    if status is OrderStatus.FILLED:
        return replace(order, status=status, venue_status=venue_status or order.venue_status,
                       filled=order.quantity, remaining=Decimal(0))
    return replace(order, status=status, venue_status=venue_status or order.venue_status)

