"""SIGTERM and SIGINT quit the window as Ctrl+Q does: layout saved, the audit trail flushed, the demo trail
removed, the service closed — not the abrupt stop Python's defaults give a Qt program.

Python runs a signal handler only when the interpreter gets control, which it may not while Qt's loop
waits in C; so the signal also writes a byte to a socket pair (``signal.set_wakeup_fd``) that a
``QSocketNotifier`` watches, and the window is closed from Qt's loop.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class QuitOnSignals(QObject):
    """While it lives, SIGTERM/SIGINT call ``quit`` on the GUI thread (once; a second signal does the same)."""

    def __init__(self, quit: Callable[[], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._quit = quit
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)
        self.received: list[int] = []

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)  # the work happens in _wake, on Qt's loop

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._reader.recv(64):
                pass
        if self.received:
            self._quit()

    def restore(self) -> None:
        """Give the signals back (after the window closed)."""
        self._notifier.setEnabled(False)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
