"""The kill switch: a fresh read of every connection, an exact preview, a typed confirmation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import OrderKey
from ...service.desk import PreviewLine

CONFIRM_PHRASE = "CANCEL ALL"
__all__ = ["CONFIRM_PHRASE", "KillSwitchDialog", "PreviewLine"]


class KillSwitchDialog(QDialog):
    """Shows connections × accounts × order counts; ``confirmed`` carries exactly the previewed keys."""

    confirmed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("killSwitchDialog")
        self.setWindowTitle("Kill switch — cancel every open order")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.keys: list[OrderKey] = []
        self.lines: list[PreviewLine] = []
        layout = QVBoxLayout(self)
        self.headline = QLabel("Reading the open orders of every connection…")
        self.headline.setObjectName("killSwitchHeadline")
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("killSwitchPreview")
        self.table.setHorizontalHeaderLabels(["Connection", "Account", "Open orders", "Will cancel", "Note"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        # counts and notes visible at the default size (a trader must not have to widen it to see them)
        self.table.setMinimumSize(900, 260)
        layout.addWidget(self.table)
        self.prompt = QLabel(f"Type <b>{CONFIRM_PHRASE}</b> to confirm:")
        layout.addWidget(self.prompt)
        self.phrase = QLineEdit()
        self.phrase.setObjectName("killSwitchPhrase")
        self.phrase.setPlaceholderText(CONFIRM_PHRASE)
        self.phrase.setEnabled(False)
        self.phrase.textChanged.connect(self._update_button)
        layout.addWidget(self.phrase)
        buttons = QDialogButtonBox()
        self.confirm_button = buttons.addButton("Cancel every order listed",
                                                QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("confirmButton")
        self.confirm_button.setEnabled(False)
        close = buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        close.setObjectName("keepButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def set_preview(self, lines: Sequence[PreviewLine], keys: Sequence[OrderKey]) -> None:
        self.lines = list(lines)
        self.keys = list(keys)
        self.table.setRowCount(len(self.lines))
        sending = Counter((k.connection, k.account) for k in self.keys)
        for row, line in enumerate(self.lines):
            account = line.account_name or line.account
            values = [f"{line.connection} ({line.venue})", account, str(line.count),
                      str(sending.get((line.connection, line.account), 0)), line.note]
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col == 1 and line.account_name:
                    item.setToolTip(line.account)
                if col in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for col in range(4):  # long account names must not push the counts and notes out of sight
            header.resizeSection(col, min(header.sectionSize(col), 240))
        accounts = len(sending)
        connections = len({connection for connection, _ in sending})
        if self.keys:
            skipped = sum(line.count for line in self.lines) - len(self.keys)
            self.headline.setText(
                f"This cancels <b>{len(self.keys)}</b> open order(s) in {accounts} account(s) of {connections} "
                f"connection(s), counted per account below" + (f"; {skipped} are not cancelled (see the notes)"
                                                                 if skipped > 0 else "") + ".")
        else:
            self.headline.setText("There is no open order to cancel.")
        self.phrase.setEnabled(bool(self.keys))
        if self.keys:
            self.phrase.setFocus()
        self._update_button()

    def _update_button(self) -> None:
        self.confirm_button.setEnabled(bool(self.keys) and self.phrase.text().strip() == CONFIRM_PHRASE)

    def accept(self) -> None:
        if not self.confirm_button.isEnabled():
            return
        keys = list(self.keys)
        super().accept()
        self.confirmed.emit(keys)
