"""Help → About and the application icon."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

from blotter import __version__
from blotter.ui.app import create_app
from blotter.ui.dialogs.about import about_html


def test_app_icon_and_identity(qapp: Any) -> None:
    app = create_app()
    assert not app.windowIcon().isNull()
    for size in (16, 32, 256):
        pixmap = app.windowIcon().pixmap(size, size)
        assert not pixmap.isNull() and pixmap.width() == size
    assert app.desktopFileName() == "io.blotter.Blotter"
    assert app.applicationVersion() == __version__


def test_about_names_the_build_and_where_its_files_are(qtbot: Any, tmp_path: Any, monkeypatch: Any) -> None:
    from PySide6.QtWidgets import QMainWindow

    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path))
    text = about_html()
    assert __version__ in text and "AutoShares" in text and str(tmp_path) in text
    window = QMainWindow()
    qtbot.addWidget(window)
    from blotter.ui.dialogs.about import show_about

    box = show_about(window, QApplication.windowIcon())
    assert box.isVisible() and not box.isModal() and box.objectName() == "aboutDialog"
    box.close()
