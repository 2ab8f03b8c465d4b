"""The one hop from the Qt-free desk to the window: desk events become Qt signals, in order, on the GUI thread.

Events are queued and emitted from a zero timer: Qt runs it after the posted event that runs the loop's
ready work (``ui/loop.py``), so a cancel's request leaves before the panes update and repaint, not after.
An event published from another thread (the audit writer's problems) is handed over through a queued
signal first. Notices published before the window connects its sink (``connect_notices``) are kept (at
most ``KEEP``) and given to it then, so start-up notes are not lost (qutebrowser's message bridge does so).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, SignalInstance

from ..service.desk import (
    BatchProgress,
    CancelStep,
    ConnectionsChanged,
    Desk,
    DeskEvent,
    HealthChanged,
    Notice,
    OrdersChanged,
    RefreshFailed,
    VenueAnswer,
)

KEEP = 200


class DeskSignals(QObject):
    """One signal per desk event kind; each carries the event object."""

    ordersChanged = Signal(object)  # OrdersChanged
    refreshFailed = Signal(object)  # RefreshFailed
    cancelStep = Signal(object)  # CancelStep
    venueAnswer = Signal(object)  # VenueAnswer
    notice = Signal(object)  # Notice
    healthChanged = Signal(object)  # HealthChanged
    batchProgress = Signal(object)  # BatchProgress
    connectionsChanged = Signal(object)  # ConnectionsChanged
    _handOver = Signal()

    def __init__(self, desk: Desk, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: list[DeskEvent] = []
        self._scheduled = False
        self._kept: deque[Notice] = deque(maxlen=KEEP)  # notices published before a sink was connected
        self._notices_connected = False
        self._handOver.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = desk.subscribe(self._on_event)

    def _signal(self, event: DeskEvent) -> SignalInstance:
        signal: SignalInstance
        if isinstance(event, OrdersChanged):
            signal = self.ordersChanged
        elif isinstance(event, RefreshFailed):
            signal = self.refreshFailed
        elif isinstance(event, CancelStep):
            signal = self.cancelStep
        elif isinstance(event, VenueAnswer):
            signal = self.venueAnswer
        elif isinstance(event, Notice):
            signal = self.notice
        elif isinstance(event, HealthChanged):
            signal = self.healthChanged
        elif isinstance(event, BatchProgress):
            signal = self.batchProgress
        else:
            assert isinstance(event, ConnectionsChanged)
            signal = self.connectionsChanged
        return signal

    def _on_event(self, event: DeskEvent) -> None:
        with self._lock:
            self._queue.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        if QThread.currentThread() is self.thread():
            self._schedule()
        else:
            self._handOver.emit()

    def _schedule(self) -> None:
        QTimer.singleShot(0, self, self._drain)

    def _drain(self) -> None:
        with self._lock:
            events, self._queue = self._queue, []
            self._scheduled = False
        for event in events:
            if isinstance(event, Notice) and not self._notices_connected:
                self._kept.append(event)
                continue
            self._signal(event).emit(event)

    @property
    def idle(self) -> bool:
        """Nothing is waiting to be emitted (tests wait on this instead of sleeping)."""
        with self._lock:
            return not self._queue and not self._scheduled

    def connect_notices(self, slot: Callable[[Notice], None]) -> None:
        """Connect the one notice sink, and give it the notices published before it existed."""
        self.notice.connect(slot)
        self._notices_connected = True
        kept = list(self._kept)
        self._kept.clear()
        for event in kept:
            self.notice.emit(event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
