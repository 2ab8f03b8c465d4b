"""One window per profile: a second ``blotter`` on the same config/data dir raises the running window and exits.

Two windows on one profile would both poll the venues and both cancel, each unaware of the other. The first
window holds an exclusive lock on ``<data dir>/window.lock`` (released by the OS if it dies, so a crash
leaves nothing stale) and listens on a local socket named after the profile; a second start finds the lock
held, asks the first over the socket to raise its window, explains on stderr and exits. The CLI is not
affected: it may run beside the window (the audit trail's session locks cover that).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

from ..store import paths

_RAISE = b"raise\n"


def _server_name(lock_path: Path) -> str:
    digest = hashlib.sha256(str(lock_path.resolve()).encode()).hexdigest()[:16]
    return f"blotter-{os.getuid()}-{digest}"


class SingleInstance(QObject):
    """Holds the profile's window lock while it lives (``acquire``), and raises ``window`` when asked."""

    def __init__(self, lock_path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lock_path = lock_path or paths.ensure_private_dir(paths.data_dir()) / "window.lock"
        self.window: QWidget | None = None
        self.holder_pid = 0
        self._fd: int | None = None
        self._server: QLocalServer | None = None

    def acquire(self) -> bool:
        """True: this process is the profile's window. False: another one is (``holder_pid``); it was asked
        to raise its window."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            with contextlib.suppress(OSError, ValueError):
                self.holder_pid = int(os.pread(fd, 32, 0).decode().strip() or 0)
            os.close(fd)
            self._ask_to_raise()
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        name = _server_name(self.lock_path)
        QLocalServer.removeServer(name)  # a dead first instance's socket file (we hold the lock: it is dead)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if server.listen(name):
            server.newConnection.connect(self._on_connection)
            self._server = server
        return True

    def _ask_to_raise(self) -> None:
        socket = QLocalSocket()
        socket.connectToServer(_server_name(self.lock_path))
        if socket.waitForConnected(1000):
            socket.write(_RAISE)
            socket.waitForBytesWritten(1000)
            socket.disconnectFromServer()

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._on_request(s))

    def _on_request(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(_RAISE.strip()) and self.window is not None:
            window = self.window
            window.showNormal()
            window.raise_()
            window.activateWindow()
        socket.disconnectFromServer()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None
