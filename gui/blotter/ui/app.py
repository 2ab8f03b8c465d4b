"""The application: QApplication + qasync loop, the window on the saved connections or the demo venues.

Entry: ``run_gui(args)`` (called by ``blotter`` with no sub-command). It creates the QApplication, then
``qasync.run(main())``; ``main`` awaits an event set when the window closes (or the app is asked to
quit), then closes the window's tasks and the service before the loop ends.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from .. import __version__
from ..core import BlotterError, ConnectionSpec
from ..resources import APP_ICON, app_icon_pngs, icon_path
from ..service import BlotterService
from ..store.credentials import CredentialStore, MemoryCredentialStore
from .main_window import MainWindow
from .theme import app_font

log = logging.getLogger(__name__)

SCREENSHOT_SIZE = (1280, 800)


def app_icon() -> QIcon:
    """The application icon: the SVG plus its rendered sizes (crisp in docks and title bars alike)."""
    icon = QIcon(str(icon_path(APP_ICON)))
    for png in app_icon_pngs():
        icon.addFile(str(png))
    return icon


def create_app(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Blotter")  # the .desktop file's StartupWMClass depends on it
    app.setOrganizationName("Blotter")
    app.setApplicationDisplayName("Blotter")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.blotter.Blotter")  # Wayland app id = the desktop entry's name
    app.setWindowIcon(app_icon())
    app.setFont(app_font())
    app.setQuitOnLastWindowClosed(False)  # main() decides when to stop, after cleaning up
    return app


def run_gui(args: argparse.Namespace) -> int:
    """Open the window (``args``: demo, screenshot, read_only, seed). Returns the exit status."""
    import qasync

    app = create_app()
    if getattr(args, "demo", False):
        from ..cli import demo_environment

        with demo_environment(int(getattr(args, "seed", 7))) as (specs, store, sims):
            return int(qasync.run(main(app, args, specs, store, sims)))
    if getattr(args, "screenshot", None):
        sys.stderr.write("blotter: --screenshot needs --demo\n")
        return 2
    return int(qasync.run(main(app, args)))


async def load_saved_connections() -> tuple[list[ConnectionSpec], CredentialStore, list[str]]:
    """Connections from the config file and their secrets from the keyring, read off the GUI thread."""
    from ..store.config import ConfigStore
    from ..store.credentials import KeyringCredentialStore, read_secrets
    from ..venues.registry import FIELDS

    notes: list[str] = []

    def load() -> tuple[list[ConnectionSpec], MemoryCredentialStore]:
        specs = list(ConfigStore())
        memory = MemoryCredentialStore()
        if not specs:
            notes.append("no connections configured: add one with 'blotter connections add'")
            return specs, memory
        try:
            keyring_store = KeyringCredentialStore()
            for spec in specs:
                for name, value in read_secrets(keyring_store, spec.name, FIELDS[spec.venue].secrets).items():
                    memory.set(spec.name, name, value)
        except BlotterError as exc:
            notes.append(str(exc))
        return specs, memory

    try:
        specs, memory = await asyncio.to_thread(load)
    except BlotterError as exc:
        return [], MemoryCredentialStore(), [str(exc)]
    memory.description = "OS keyring (read at start-up)"
    return specs, memory, notes


async def main(
    app: QApplication,
    args: argparse.Namespace,
    specs: list[ConnectionSpec] | None = None,
    store: CredentialStore | None = None,
    sims: Any = None,
) -> int:
    from ..cli import log_response

    notes: list[str] = []
    if specs is None or store is None:
        specs, store, notes = await load_saved_connections()
    screenshot = getattr(args, "screenshot", None)
    reconcile_s = 30.0
    if screenshot:
        # the scripted demo must settle within seconds: short venue timeouts, short reconciliation
        specs = [replace(s, timeout_s=1.5) for s in specs]
        reconcile_s = 2.5
    from .dialogs.verification import VerificationPrompt

    prompt = VerificationPrompt()
    service = BlotterService(specs, store, read_only=bool(getattr(args, "read_only", False)),
                             reconcile_timeout_s=reconcile_s, code_prompt=prompt)
    service.add_response_listener(log_response)
    window = MainWindow(service, read_only=bool(getattr(args, "read_only", False)))
    prompt.parent = window
    for note in notes:
        window.status_model.add_note("", "", "start-up", note)
    if not screenshot:
        window.restore_window_layout()
    window.show()
    window.start()
    try:
        if screenshot:
            from .demo_script import run_screenshot

            return await run_screenshot(window, sims, Path(screenshot))
        finished = asyncio.Event()
        window.closed.connect(finished.set)
        app.aboutToQuit.connect(finished.set)
        await finished.wait()
        return 0
    finally:
        await window.aclose()
        await service.aclose()
        window.deleteLater()
