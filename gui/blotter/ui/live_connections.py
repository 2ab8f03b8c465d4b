"""Connections added, changed or removed while the window runs (from the connection manager).

The service and the refresh scheduler change in place: no restart, no lost status history, and cancels
already in flight finish on the adapter they started with (the service closes a replaced adapter only
once they are done).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..core import ConnectionSpec
from .models.accounts import venue_name

if TYPE_CHECKING:
    from .main_window import MainWindow


class EmptyAccountsHint(QWidget):
    """What the accounts dock shows before any connection exists: a way to add one."""

    addRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyAccountsHint")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        label = QLabel("<b>No connections yet</b><br>Add a login for each venue you trade with: "
                       "AutoShares, SnapTrade or tanX. Secrets go to your OS keyring.")
        label.setObjectName("emptyAccountsText")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
        self.button = QPushButton("Add a connection…")
        self.button.setObjectName("addConnectionButton")
        self.button.clicked.connect(self.addRequested.emit)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)


def _keep_scope(window: MainWindow, scope: tuple[str, str]) -> None:
    connection, account = scope
    if connection and connection in window.service.specs:
        window.accounts_view.select_scope(connection, account)
    else:
        window.show_all_accounts()


def apply_saved(window: MainWindow, spec: ConnectionSpec) -> None:
    """A connection was added, or its options, secrets or read-only role changed."""
    service = window.service
    new = spec.name not in service.specs
    scope = window.scope()
    service.set_connection(spec)
    window.accounts_model.add_connection(spec.name, spec.venue, read_only=service.is_read_only(spec.name))
    if new:
        _keep_scope(window, scope)
        window.scheduler.add_connection(spec.name)  # its first read starts now
    else:
        window.refresh_now(spec.name)
    window.status_model.add_note(spec.name, str(spec.venue), "connections",
                                 f"{venue_name(spec.venue)} connection {spec.name!r} "
                                 f"{'added' if new else 'changed'}" + (" (read-only)" if spec.read_only else ""),
                                 error=False)
    _changed(window, spec.name)


async def apply_removed(window: MainWindow, name: str) -> None:
    """A connection was removed: stop reading it first (no late refresh may bring its orders back)."""
    await window.scheduler.remove_connection(name)
    service = window.service
    spec = service.specs.get(name)
    if spec is None:
        return
    scope = window.scope()
    service.remove_connection(name)
    rows = window.orders_model.keys()
    window.orders_model.remove([k for k in rows if k.connection == name], confirmed=False)
    window.orders_model.flush()
    window.accounts_model.remove_connection(name)
    _keep_scope(window, scope)
    window.status_model.add_note(name, str(spec.venue), "connections",
                                 f"{venue_name(spec.venue)} connection {name!r} removed", error=False)
    _changed(window, name)


def _changed(window: MainWindow, name: str) -> None:
    window.update_empty_hint()
    window._update_read_only_badge()
    window._update_actions()
    window._update_health(name)
    window._update_connection_label()
