"""The application entry: the window on the saved connections, closing cleanly; the Qt work-around."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from PySide6.QtWidgets import QApplication

from blotter.ui import qtcompat
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


def test_pyside_reference_leak_is_neutralised() -> None:
    from PySide6.QtCore import QTimer

    assert qtcompat.install() == qtcompat.install()  # idempotent
    if sys.version_info < (3, 12):
        timer = QTimer()
        before = sys.getrefcount(None)
        for _ in range(1000):
            timer.stop()
        # whether or not this binding leaks, None can no longer be freed by it
        assert sys.getrefcount(None) > 1_000_000 or sys.getrefcount(None) >= before


def test_verification_prompt_is_non_blocking(qtbot: Any, qloop: Any) -> None:
    from blotter.ui.dialogs.verification import VerificationPrompt

    prompt = VerificationPrompt()
    task = qloop.create_task(prompt("A verification code was sent to d***@example.com"))
    qtbot.waitUntil(lambda: prompt.dialog is not None and prompt.dialog.isVisible())
    dialog = prompt.dialog
    assert dialog is not None
    assert "verification code was sent" in dialog.labelText()
    dialog.setTextValue(" 123456 ")
    dialog.accept()
    qtbot.waitUntil(task.done)
    assert task.result() == " 123456 "
    second = qloop.create_task(prompt("again"))
    qtbot.waitUntil(lambda: prompt.dialog is not None and prompt.dialog.isVisible())
    assert prompt.dialog is not None
    prompt.dialog.reject()
    qtbot.waitUntil(second.done)
    assert second.result() == ""
