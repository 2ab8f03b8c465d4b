"""The window's event loop (ui/loop.py): ready asyncio work runs back to back ahead of repaints, urgent first,
and a long burst still lets the window repaint between slices."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from blotter.core.urgency import URGENT, urgent_context
from blotter.ui.loop import DRAIN_BUDGET_S, BlotterEventLoop


class _PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def _painted_widget(qtbot: Any) -> tuple[QWidget, _PaintCounter]:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(200, 100)
    widget.show()
    qtbot.waitExposed(widget)
    counter = _PaintCounter()
    widget.installEventFilter(counter)
    return widget, counter


def test_the_window_loop_is_a_blotter_event_loop(qloop: Any) -> None:
    assert isinstance(qloop, BlotterEventLoop)


def test_a_chain_of_yields_finishes_before_the_pending_repaint(qloop: Any, qtbot: Any) -> None:
    widget, counter = _painted_widget(qtbot)
    seen: list[int] = []

    async def hop() -> None:  # a request's way to the socket: several checkpoints, each a yield
        for _ in range(6):
            await asyncio.sleep(0)
        seen.append(counter.paints)

    before = counter.paints
    widget.update()  # dirty: Qt posts the repaint at low priority
    task = qloop.create_task(hop())
    qtbot.waitUntil(task.done, timeout=5000)
    qtbot.waitUntil(lambda: counter.paints > before, timeout=5000)  # the repaint did happen, after
    assert seen == [before]


def test_urgent_work_runs_ahead_of_other_ready_work(qloop: Any, qtbot: Any) -> None:
    order: list[str] = []

    async def refresh() -> None:
        for i in range(3):
            order.append(f"refresh {i}")
            await asyncio.sleep(0)

    async def cancel() -> None:
        assert URGENT.get()
        for i in range(3):
            order.append(f"cancel {i}")
            await asyncio.sleep(0)

    first = qloop.create_task(refresh())
    second = qloop.create_task(cancel(), context=urgent_context())
    qtbot.waitUntil(lambda: first.done() and second.done(), timeout=5000)
    assert order[:3] == ["cancel 0", "cancel 1", "cancel 2"]
    assert sorted(order[3:]) == ["refresh 0", "refresh 1", "refresh 2"]
    assert not URGENT.get()  # the flag lives in the cancel's context only


def test_a_long_burst_of_ready_work_lets_the_window_repaint_between_slices(qloop: Any, qtbot: Any) -> None:
    widget, counter = _painted_widget(qtbot)
    paints_seen: list[int] = []
    steps = 4 * round(DRAIN_BUDGET_S / 0.002) + 4  # each step holds the loop ~2 ms: four budgets' worth

    async def busy() -> None:
        start = counter.paints
        widget.update()
        for _ in range(steps):
            end = time.perf_counter() + 0.002
            while time.perf_counter() < end:
                pass
            paints_seen.append(counter.paints - start)
            await asyncio.sleep(0)

    task = qloop.create_task(busy())
    qtbot.waitUntil(task.done, timeout=10_000)
    assert paints_seen[0] == 0 and paints_seen[-1] >= 1  # ran ahead of the repaint, but not all the way


def test_delayed_callbacks_and_thread_wakeups_still_run(qloop: Any, qtbot: Any) -> None:
    results: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0.01)
        results.append("timer")
        results.append(await asyncio.to_thread(lambda: "thread"))
        handle = qloop.call_soon(results.append, "cancelled")
        handle.cancel()
        qloop.call_later(0, results.append, "soon")
        await asyncio.sleep(0)

    task = qloop.create_task(work())
    qtbot.waitUntil(task.done, timeout=5000)
    task.result()
    assert results == ["timer", "thread", "soon"]
