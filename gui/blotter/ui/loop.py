"""The asyncio event loop on Qt's: qasync's loop, with ready callbacks run back to back, ahead of painting.

qasync runs every ``call_soon`` callback from a zero-interval ``QTimer`` of its own, so each ``await`` that
yields (``asyncio.sleep(0)``, the checkpoints in httpcore's locks) costs a whole pass of Qt's event loop, and
Qt's dispatcher handles posted events — a repaint of every dirty widget — before timers. A cancel's request
went through four such yields on its way to the socket, so it left only after the repaint the key press
caused: measured 8–14 ms from the press to the venue with 100,000 rows loaded, of which ~1 ms was our code.

``BlotterEventLoop`` keeps its ready callbacks in a queue drained by one posted event at normal priority
(Qt posts repaints at ``LowEventPriority``, so they come after it): the callbacks that are ready, and those
they make ready, run back to back — as asyncio's own loop runs them between two polls — within a time
budget. When the budget runs out with work left, the rest runs from a zero timer, so the window still
repaints and takes input between two slices of a long burst. Callbacks of urgent work (a cancel on its way
to the venue: ``core/urgency.py``) have a lane of their own that is always served first, so a cancel never
waits behind the ready steps of a refresh. Timers (``call_later`` with a delay), socket notifiers and
thread wake-ups are qasync's, unchanged.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

from ..core.urgency import URGENT

T = TypeVar("T")

DRAIN_BUDGET_S = 0.008  # ready callbacks run back to back for at most this long before Qt gets a pass
_DRAIN_EVENT = QEvent.Type(QEvent.registerEventType())


class _Pump(QObject):
    def __init__(self, drain: Callable[[], None]) -> None:
        super().__init__()
        self._drain = drain

    def event(self, event: QEvent) -> bool:
        if event.type() == _DRAIN_EVENT:
            self._drain()
            return True
        return super().event(event)


class BlotterEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's ``QEventLoop`` whose ``call_soon`` callbacks run back to back from one posted event."""

    def __init__(self, app: QCoreApplication | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._ready_queue: deque[asyncio.Handle] = deque()
        self._urgent_queue: deque[asyncio.Handle] = deque()
        self._pump = _Pump(self._drain)
        self._drain_scheduled = False

    def call_soon(self, callback: Callable[..., Any], *args: Any,
                  context: contextvars.Context | None = None) -> asyncio.Handle:
        if self.is_closed():
            raise RuntimeError("Event loop is closed")
        handle = asyncio.Handle(callback, args, self, context=context)
        if context is not None and context.get(URGENT, False):
            self._urgent_queue.append(handle)
        else:
            self._ready_queue.append(handle)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            QCoreApplication.postEvent(self._pump, QEvent(_DRAIN_EVENT))
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any,
                   context: contextvars.Context | None = None) -> asyncio.Handle:
        if delay <= 0:
            return self.call_soon(callback, *args, context=context)
        return super().call_later(delay, callback, *args, context=context)  # type: ignore[no-any-return]

    def _drain(self) -> None:
        urgent, queue = self._urgent_queue, self._ready_queue
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        try:
            while urgent or queue:
                handle = urgent.popleft() if urgent else queue.popleft()
                if not handle.cancelled():
                    handle._run()
                if time.perf_counter() >= deadline:
                    break
        finally:
            if (urgent or queue) and not self.is_closed():
                QTimer.singleShot(0, self._pump, self._drain)  # after the window's pass: it repaints first
            else:
                self._drain_scheduled = False

    def close(self) -> None:
        self._ready_queue.clear()
        self._urgent_queue.clear()
        super().close()


def run(main: Coroutine[Any, Any, T], app: QCoreApplication | None = None) -> T:
    """``asyncio.run(main)`` on a ``BlotterEventLoop`` over ``app`` (what ``qasync.run`` does with its own loop)."""
    with asyncio.Runner(loop_factory=lambda: BlotterEventLoop(app or QCoreApplication.instance())) as runner:
        return runner.run(main)
