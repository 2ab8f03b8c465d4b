"""The application entry: the window on the saved connections, closing cleanly; the Qt work-around."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from PySide6.QtWidgets import QApplication

from blotter.ui.app import create_app, main
from blotter.ui.main_window import MainWindow


def test_window_opens_on_saved_connections_and_closes_cleanly(qtbot: Any, qloop: Any) -> None:
    app = create_app()
    assert app.font().family() == "DejaVu Sans"
    args = argparse.Namespace(demo=False, screenshot=None, read_only=False, seed=7)
    task = qloop.create_task(main(app, args))

    def window() -> MainWindow | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()),
                    None)

    qtbot.waitUntil(lambda: window() is not None, timeout=10_000)
    shown = window()
    assert shown is not None
    notes = [e.message for e in shown.status_model.entries()]
    assert any("no connections configured" in n for n in notes)  # BLOTTER_HOME is empty in tests
    assert not task.done()
    shown.close()
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() == 0
    app.setQuitOnLastWindowClosed(True)


def test_the_pinned_qt_binding_keeps_its_references() -> None:
    """PySide6-Essentials 6.12.0 on CPython 3.11 returned None/True from every void call and emit()
    without taking a reference; a busy window then aborted with "none_dealloc". 6.11.3 is pinned for
    that reason: this test fails if the pin moves to a build with the bug."""
    from PySide6.QtCore import QObject, QTimer, Signal

    class Probe(QObject):
        ping = Signal()

    timer, probe = QTimer(), Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(1000):
        timer.stop()
        probe.ping.emit()
    assert sys.getrefcount(None) >= none_before - 10
    assert sys.getrefcount(True) >= true_before - 10
