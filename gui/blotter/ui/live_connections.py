"""What the accounts dock shows before any connection exists.

Connections added, changed or removed while the window runs go through the desk
(``Desk.set_connection``/``remove_connection``); the window follows its ``ConnectionsChanged`` events.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


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
