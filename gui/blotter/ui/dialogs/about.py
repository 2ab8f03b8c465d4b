"""Help → About: what this build is, for a trader and for the support engineer on the phone."""

from __future__ import annotations

import html
import platform

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox, QWidget

from ... import __version__
from ...store import paths
from ...store.audit import default_path as audit_path


def about_html(*, audit: str | None = None, settings: str | None = None, demo: bool = False) -> str:
    """``audit``/``settings``: the paths this session really uses (the demo's are temporary)."""
    rows = [
        ("Version", __version__),
        ("Venues", "AutoShares (ETNA Trader API), SnapTrade, tanX"),
        ("Qt / PySide6", f"{qVersion()} / {PySide6.__version__}"),
        ("Python", platform.python_version()),
        ("Configuration", "demo venues (nothing of the live profile is used)" if demo else str(paths.config_file())),
        ("Window settings", settings or ""),
        ("Audit trail", audit if audit is not None else str(audit_path())),
        ("Logs", str(paths.log_dir())),
        ("Licence", "Proprietary"),
    ]
    rows = [(k, v) for k, v in rows if v]
    table = "".join(
        f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    return (
        "<h3>Blotter</h3>"
        "<p>Desktop order manager: every open order at every venue, cancels you can trust.</p>"
        f"<table>{table}</table>"
    )


def show_about(parent: QWidget, icon: QIcon, *, audit: str | None = None, settings: str | None = None,
               demo: bool = False) -> QMessageBox:
    """Non-modal About box (never ``exec()`` from a coroutine); returned for tests."""
    box = QMessageBox(parent)
    box.setObjectName("aboutDialog")
    box.setWindowTitle("About Blotter")
    box.setTextFormat(box.textFormat().RichText)
    box.setText(about_html(audit=audit, settings=settings, demo=demo))
    if not icon.isNull():
        box.setIconPixmap(icon.pixmap(64, 64))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setModal(False)
    box.show()
    return box
