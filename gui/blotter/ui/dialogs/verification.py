"""Asking the trader for a venue's verification code (AutoShares 2FA) without blocking the loop."""

from __future__ import annotations

import asyncio

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget

CODE_HINT = "Enter the code the venue sent you. It is valid for a few minutes; Cancel gives up this login."


class VerificationPrompt:
    """A ``CodePrompt`` for the service and the connection dialog: a window-modal input dialog (opened
    with ``open()``, never ``exec()``) awaited through a future.

    One question at a time (refreshes of one connection may ask together). Cancelling, closing the
    dialog or its parent going away answers "" (the adapter then reports that no code was entered).
    The venue's words are shown as plain text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent
        self._lock: asyncio.Lock | None = None
        self.dialog: QInputDialog | None = None
        self.asked: list[str] = []  # the questions asked so far (no answers)

    async def __call__(self, words: str) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            loop = asyncio.get_running_loop()
            answer: asyncio.Future[str] = loop.create_future()
            parent = self.parent if self.parent is not None and shiboken6.isValid(self.parent) else None
            dialog = QInputDialog(parent)
            dialog.setObjectName("verificationDialog")
            dialog.setWindowTitle("Verification code")
            dialog.setLabelText(f"{words}\n\n{CODE_HINT}")
            for label in dialog.findChildren(QLabel):
                label.setTextFormat(Qt.TextFormat.PlainText)
            dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
            dialog.setInputMode(QInputDialog.InputMode.TextInput)
            dialog.setOkButtonText("Log in")

            def done(result: int) -> None:
                if not answer.done():
                    answer.set_result(dialog.textValue().strip() if result else "")

            def gone(*_args: object) -> None:
                if not answer.done():
                    answer.set_result("")

            dialog.finished.connect(done)
            dialog.destroyed.connect(gone)
            self.dialog = dialog
            self.asked.append(words)
            dialog.open()
            try:
                return await answer
            finally:
                self.dialog = None
                if shiboken6.isValid(dialog):
                    dialog.finished.disconnect(done)
                    dialog.close()
                    dialog.deleteLater()
