"""Asking the trader for a venue's verification code (AutoShares 2FA) without blocking the loop."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget


class VerificationPrompt:
    """A ``CodePrompt`` for the service: a non-modal input dialog awaited through a future.

    One question at a time (refreshes of one connection may ask together); cancelling answers "" (the
    adapter then reports that no code was entered).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent
        self._lock: asyncio.Lock | None = None
        self.dialog: QInputDialog | None = None

    async def __call__(self, words: str) -> str:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            loop = asyncio.get_running_loop()
            answer: asyncio.Future[str] = loop.create_future()
            dialog = QInputDialog(self.parent)
            dialog.setObjectName("verificationDialog")
            dialog.setWindowTitle("Verification code")
            dialog.setLabelText(words)
            dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
            dialog.setInputMode(QInputDialog.InputMode.TextInput)

            def done(result: int) -> None:
                if not answer.done():
                    answer.set_result(dialog.textValue() if result else "")

            dialog.finished.connect(done)
            self.dialog = dialog
            dialog.open()
            try:
                return await answer
            finally:
                self.dialog = None
                dialog.deleteLater()
