"""The connection manager: add, edit, test and remove a connection per venue.

Secrets go to the credential store only (the OS keyring, or — when no keyring is usable and the trader
says so — memory for this session). Every keyring call runs in a worker thread (``asyncio.to_thread``);
"Test connection" logs in and lists the accounts with a throw-away adapter on the qasync loop and shows
the venue's own words when it fails. Editing never asks for secrets again: an empty secret field keeps
what is stored. The window applies saved and removed connections to the running service through the
``connectionSaved`` / ``connectionRemoved`` signals.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import BlotterError, ConnectionSpec, CredentialError, Venue
from ...service.connections import (
    delete_connection,
    probe_connection,
    stored_fields,
    venue_label,
)
from ...store.config import ConfigStore
from ...store.credentials import CachedCredentialStore, CredentialStore
from ...venues.base import CodePrompt
from ..tasks import TaskSet
from .connection_editor import (
    ConnectionEditor,
    _Busy,
    _headline,
    _Message,
    _store_all,
    describe_accounts,
)
from .verification import VerificationPrompt

__all__ = ["ConnectionEditor", "ConnectionsDialog"]


class ConnectionsDialog(QDialog):
    """Every configured connection, with Add, Edit, Test and Remove."""

    connectionSaved = Signal(object)  # ConnectionSpec (added or changed)
    connectionRemoved = Signal(str)

    def __init__(self, config: ConfigStore, credentials: CredentialStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionsDialog")
        self.setWindowTitle("Connections")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.config = config
        self.credentials = credentials
        self.tasks = TaskSet()
        self.busy = _Busy(self, self.tasks, self._set_busy)
        self.prompt = VerificationPrompt(self)
        self.editor: ConnectionEditor | None = None
        self.confirm_box: QMessageBox | None = None
        self.keyring_problem = ""

        layout = QVBoxLayout(self)
        self.banner = QLabel()
        self.banner.setObjectName("keyringBanner")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #fff4ce; color: #4a3500; padding: 6px; border-radius: 3px; }")
        self.banner.hide()
        layout.addWidget(self.banner)
        self.table = QTreeWidget()
        self.table.setObjectName("connectionsList")
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Name", "Venue", "Base URL", "Role", "Secrets"])
        self.table.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumSize(680, 180)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda *_: self.edit_selected())
        layout.addWidget(self.table)
        self.empty_label = QLabel("No connections yet. Add one for each venue login you trade with.")
        self.empty_label.setObjectName("connectionsEmpty")
        layout.addWidget(self.empty_label)
        self.result_label = _Message()
        self.result_label.setObjectName("connectionsResult")
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result_label)

        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("addButton")
        self.add_button.clicked.connect(lambda: self.add_connection())
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("editButton")
        self.edit_button.clicked.connect(self.edit_selected)
        self.test_button = QPushButton("Test")
        self.test_button.setObjectName("testSelectedButton")
        self.test_button.clicked.connect(self.test_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeButton")
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.add_button, self.edit_button, self.test_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.setObjectName("closeButton")
        close.clicked.connect(self.close)
        buttons.addWidget(close)
        layout.addLayout(buttons)

        self.refresh_list()
        self.keyring_check = self.tasks.spawn(self._check_keyring(), name="keyring check")

    # ------------------------------------------------------------------ the list
    def refresh_list(self, select: str = "") -> None:
        current = select or self.selected_name()
        self.table.clear()
        for spec in self.config:
            session = self._session_only(spec.name)
            item = QTreeWidgetItem([
                spec.name, venue_label(spec.venue), spec.base_url, "read-only" if spec.read_only else "trader",
                "this session only" if session else "OS keyring",
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, spec.name)
            self.table.addTopLevelItem(item)
            if spec.name == current:
                item.setSelected(True)
                self.table.setCurrentItem(item)
        for column in (0, 1, 3, 4):
            self.table.resizeColumnToContents(column)
        self.empty_label.setVisible(self.table.topLevelItemCount() == 0)
        self._selection_changed()

    def _session_only(self, name: str) -> bool:
        return isinstance(self.credentials, CachedCredentialStore) and self.credentials.is_session_only(name)

    def selected_name(self) -> str:
        items = self.table.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else ""

    def select(self, name: str) -> None:
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == name:
                self.table.setCurrentItem(item)
                item.setSelected(True)

    def _selection_changed(self) -> None:
        has = bool(self.selected_name()) and not self.busy.busy
        for button in (self.edit_button, self.test_button, self.remove_button):
            button.setEnabled(has)

    def _set_busy(self, busy: bool) -> None:
        self.add_button.setEnabled(not busy)
        self._selection_changed()

    async def _check_keyring(self) -> None:
        if not isinstance(self.credentials, CachedCredentialStore):
            return
        try:
            await asyncio.to_thread(self.credentials.check)
        except CredentialError as exc:
            self.keyring_problem = str(exc)
            words = _headline(str(exc))
            self.banner.setText(
                f"{words[:1].upper()}{words[1:]}.\nBlotter never writes secrets to a file: new secrets can be kept "
                "for this session only (forgotten when Blotter quits).")
            self.banner.setToolTip(str(exc))
            self.banner.show()

    # ------------------------------------------------------------------ actions
    def add_connection(self, venue: Venue = Venue.AUTOSHARES) -> ConnectionEditor:
        return self._open_editor(ConnectionEditor(self.config, self.credentials, venue=venue, parent=self))

    def edit_selected(self) -> ConnectionEditor | None:
        name = self.selected_name()
        if not name:
            return None
        return self.edit_connection(name)

    def edit_connection(self, name: str) -> ConnectionEditor:
        spec = self.config.get(name)
        return self._open_editor(ConnectionEditor(self.config, self.credentials, existing=spec, parent=self))

    def _open_editor(self, editor: ConnectionEditor) -> ConnectionEditor:
        if self.editor is not None:
            self.editor.close()
        self.editor = editor
        editor.saved.connect(self._saved)
        editor.destroyed.connect(lambda *_: self._forget_editor(editor))
        editor.open()
        return editor

    def _forget_editor(self, editor: ConnectionEditor) -> None:
        if self.editor is editor:
            self.editor = None

    def _saved(self, spec: ConnectionSpec) -> None:
        self.refresh_list(select=spec.name)
        where = "memory for this session only" if self._session_only(spec.name) else "the OS keyring"
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Saved {spec.name!r}; its secrets are in {where}.")
        self.connectionSaved.emit(spec)

    def test_selected(self) -> asyncio.Task[Any] | None:
        name = self.selected_name()
        if not name:
            return None
        return self.busy.run(self._test(name), "test connection")

    async def _test(self, name: str) -> None:
        spec = self.config.get(name)
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Logging in to {venue_label(spec.venue)} as {name!r}…")
        try:
            secrets = await asyncio.to_thread(stored_fields, self.credentials, spec)
            result = await probe_connection(spec, secrets, code_prompt=self._asking(spec))
            if result.rotated:  # the stored refresh token was just replaced at the venue: keep the new one
                await asyncio.to_thread(_store_all, self.credentials, name, dict(result.rotated))
        except BlotterError as exc:
            self.result_label.setStyleSheet("color: #b3261e;")
            self.result_label.setText(f"{name}: test failed: {exc}")
            return
        self.result_label.setStyleSheet("color: #1e6b30;")
        self.result_label.setText(f"{name}: " + describe_accounts(result, spec.venue))

    def _asking(self, spec: ConnectionSpec) -> CodePrompt:
        async def ask(words: str) -> str:
            return await self.prompt(f"Testing {spec.name!r} ({venue_label(spec.venue)}): {words}")

        return ask

    def remove_selected(self) -> QMessageBox | None:
        name = self.selected_name()
        if not name:
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove connection",
                          f"Remove the connection {name!r}?", QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("removeConnectionConfirm")
        box.setInformativeText("Its secrets are deleted from the keyring. Cancels already running on it "
                               "finish first; its orders leave the window.")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: self._remove_answered(name, box.clickedButton() is remove))
        self.confirm_box = box
        box.open()
        return box

    def _remove_answered(self, name: str, yes: bool) -> None:
        self.confirm_box = None
        if yes:
            self.busy.run(self._remove(name), "remove connection", writes=True)

    async def _remove(self, name: str) -> None:
        try:
            await asyncio.to_thread(delete_connection, self.config, self.credentials, name)
        except BlotterError as exc:
            self.result_label.setStyleSheet("color: #b3261e;")
            self.result_label.setText(f"{name} was not removed: {exc}")
            return
        self.refresh_list()
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Removed {name!r} and its stored secrets.")
        self.connectionRemoved.emit(name)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy.writing or (self.editor is not None and self.editor.busy.writing):
            event.ignore()  # a removal or save finishes first
            return
        self.busy.cancel()
        if self.editor is not None:
            self.editor.close()
        super().closeEvent(event)
