"""The application: QApplication + qasync loop, the window on the saved connections or the demo venues.

Entry: ``run_gui(args)`` (called by ``blotter`` with no sub-command). It creates the QApplication, then
``loop.run(main())`` (qasync's loop, tuned: ui/loop.py); ``main`` awaits an event set when the window closes
(or the app is asked to quit), then closes the window's tasks and the service before the loop ends.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Callable
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
from ..service.desk import NoticeLevel
from ..store.audit import AuditStore
from ..store.config import ConfigStore
from ..store.credentials import CredentialStore, MemoryCredentialStore
from .main_window import MainWindow
from .theme import app_font

log = logging.getLogger(__name__)

from .demo_script import SCREENSHOT_SIZE  # noqa: E402,F401  (the screenshot's size, owned by the demo script)


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


def run_gui(args: argparse.Namespace, demo: tuple[list[ConnectionSpec], CredentialStore, Any] | None = None) -> int:
    """Open the window (``args``: demo, screenshot, read_only, seed). Returns the exit status.

    With ``args.demo``, ``demo`` is the running ``boot.demo.demo_environment`` (``blotter --demo`` starts it
    before Qt is imported); without it, it is started here."""
    from .loop import run

    if getattr(args, "demo", False) and demo is None:
        from ..boot.demo import demo_environment

        with demo_environment(int(getattr(args, "seed", 7))) as started:
            return run_gui(args, started)
    app = create_app()
    if getattr(args, "demo", False) and demo is not None:
        specs, store, sims = demo
        return int(run(main(app, args, specs, store, sims), app))
    if getattr(args, "screenshot", None):
        sys.stderr.write("blotter: --screenshot needs --demo\n")
        return 2
    from .single_instance import SingleInstance

    instance = SingleInstance()
    if not instance.acquire():  # two windows on one profile would both poll and both cancel, unawares
        holder = f" (pid {instance.holder_pid})" if instance.holder_pid else ""
        sys.stderr.write(f"blotter: Blotter is already running on this profile{holder}; its window was raised. "
                         "Use the command line beside it ('blotter orders', 'blotter cancel …'), or set "
                         "BLOTTER_HOME for a separate profile.\n")
        return 1
    try:
        return int(run(main(app, args, instance=instance), app))
    finally:
        instance.release()


async def load_saved_connections() -> tuple[
    list[ConnectionSpec], CredentialStore, list[str], ConfigStore | None, list[str]
]:
    """Connections from the config file and their secrets from the keyring, read off the GUI thread.

    The secrets are kept in a ``CachedCredentialStore``: the service reads them from memory, and the
    connection manager writes through it to the keyring (or, if the trader chooses, to memory only).
    Returns the specs, the store, start-up notes, the config (None if the file cannot be read: no
    connections are loaded) and the config's problems (the window shows them as warnings). The window
    still opens on a broken config; a ``read_only`` that is not a boolean reads as read-only (fails closed).
    """
    from ..store.credentials import CachedCredentialStore, KeyringCredentialStore
    from ..venues.registry import FIELDS

    notes: list[str] = []
    problems: list[str] = []

    def load() -> tuple[list[ConnectionSpec], CachedCredentialStore, ConfigStore]:
        config = ConfigStore()  # lenient: a read_only that is not a boolean is read-only, listed in problems
        problems.extend(p + " — treated as read-only until the file is fixed" for p in config.problems)
        try:
            config.audit_retention_days  # noqa: B018 - checked here so the problem is shown
        except BlotterError as exc:
            problems.append(f"{exc} — the audit trail keeps the default period")
        specs = list(config)
        try:
            store = CachedCredentialStore(KeyringCredentialStore())
        except BlotterError as exc:  # e.g. a PYTHON_KEYRING_BACKEND typo: the window opens all the same
            problems.append(str(exc))
            store = CachedCredentialStore(None)
        if not specs:
            notes.append("no connections configured: add one with File → Connections… "
                         "(or 'blotter connections add')")
            return specs, store, config
        try:
            for spec in specs:
                store.load(spec.name, FIELDS[spec.venue].secrets)
        except BlotterError as exc:
            notes.append(str(exc))
        return specs, store, config

    try:
        specs, store, config = await asyncio.to_thread(load)
    except BlotterError as exc:  # the config file cannot be read: no connections, the problem shown
        return [], MemoryCredentialStore(), notes, None, [*problems, f"{exc} — no connections are loaded"]
    return specs, store, notes, config, problems


async def open_audit_store(demo: bool = False) -> tuple[AuditStore | None, str, Callable[[], None]]:
    """This session's audit trail, opened off the GUI thread (opening migrates and applies retention).

    The window records into the data dir's trail (``BLOTTER_HOME`` moves it), the one ``blotter log``
    reads. ``--demo`` records into a throw-away trail in a temporary directory instead: simulated venues
    must not mix into the real trail, nor leave cancels for the next real start to settle; support can
    inspect and export the demo session from View → Audit trail while it runs. Returns the store (None
    if it cannot be opened: the window runs without a trail and says so), a note, and a clean-up.
    """
    from ..store.audit import DEFAULT_RETENTION_DAYS, AuditError, AuditStore
    from ..store.config import ConfigStore

    def open_store() -> tuple[AuditStore, Callable[[], None], str]:
        if demo:
            temp = tempfile.TemporaryDirectory(prefix="blotter-demo-audit-")
            try:
                store = AuditStore(Path(temp.name) / "audit.sqlite3")
            except BaseException:
                temp.cleanup()
                raise
            return store, temp.cleanup, ("Demo: this session's audit trail lives in a temporary file and is "
                                         "deleted when Blotter quits (export it to keep it).")
        try:
            retention = ConfigStore().audit_retention_days
        except BlotterError:  # a broken config file is reported at start-up; keep the default here
            retention = DEFAULT_RETENTION_DAYS
        return AuditStore(retention_days=retention), lambda: None, ""

    try:
        store, cleanup, note = await asyncio.to_thread(open_store)
    except (AuditError, OSError) as exc:
        return None, f"{exc}: this session's venue answers and cancels are NOT recorded in the audit trail", \
            lambda: None
    return store, note, cleanup


def _report_ready(window: MainWindow) -> None:
    """With ``BLOTTER_BENCH_READY_FILE`` set, write ``time.time()`` and the RSS there once the orders table
    first has rows (tests/benchmarks measures cold start with it; nothing else reads it)."""
    path = os.environ.get("BLOTTER_BENCH_READY_FILE")
    if not path:
        return
    import json
    import time

    def check() -> None:
        if window.orders_proxy.rowCount() > 0:
            window.orders_model.flushed.disconnect(check)
            window.orders_view.viewport().repaint()
            rss = next((line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                        if line.startswith("VmRSS:")), "0")
            Path(path).write_text(json.dumps({"at": time.time(), "rows": window.orders_proxy.rowCount(),
                                              "rss_kb": int(rss)}))

    window.orders_model.flushed.connect(check)


async def main(
    app: QApplication,
    args: argparse.Namespace,
    specs: list[ConnectionSpec] | None = None,
    store: CredentialStore | None = None,
    sims: Any = None,
    instance: Any = None,
) -> int:
    from .shutdown import QuitOnSignals

    # SIGTERM/SIGINT: the same clean quit as Ctrl+Q — also when one arrives before the window exists
    shown: list[MainWindow] = []
    quitter = QuitOnSignals(lambda: shown[0].close() if shown else None)
    try:
        return await _main(app, args, specs, store, sims, instance, quitter, shown)
    finally:
        quitter.restore()


async def _main(
    app: QApplication, args: argparse.Namespace, specs: list[ConnectionSpec] | None, store: CredentialStore | None,
    sims: Any, instance: Any, quitter: Any, shown: list[MainWindow],
) -> int:
    from ..boot.logs import log_response

    notes: list[str] = []
    problems: list[str] = []
    config: ConfigStore | None = None
    saved = specs is None or store is None
    if specs is None or store is None:
        specs, store, notes, config, problems = await load_saved_connections()
    # read-only: --read-only (cannot be lifted in this session) or the app-wide setting in the config; a
    # config file that cannot be read fails closed too (its [app] read_only is unknown)
    read_only_flag = bool(getattr(args, "read_only", False))
    read_only = read_only_flag or (config.read_only if config is not None else saved)
    screenshot = getattr(args, "screenshot", None)
    reconcile_s = 30.0
    if screenshot:
        # the scripted demo must settle within seconds: short venue timeouts, short reconciliation
        specs = [replace(s, timeout_s=1.5) for s in specs]
        reconcile_s = 2.5
    from .dialogs.verification import VerificationPrompt

    prompt = VerificationPrompt()
    demo = bool(getattr(args, "demo", False))
    audit, audit_note, audit_cleanup = await open_audit_store(demo)
    service = BlotterService(specs, store, read_only=read_only,
                             reconcile_timeout_s=reconcile_s, code_prompt=prompt, audit=audit)
    service.add_response_listener(log_response)
    # --demo never touches the live profile's window settings (a "don't ask again" ticked in the demo must
    # not reach live trading): it keeps its own in a temporary file, deleted with the demo's trail
    settings_dir = tempfile.TemporaryDirectory(prefix="blotter-demo-settings-") if demo else None
    settings = None
    if settings_dir is not None:
        from PySide6.QtCore import QSettings

        from .settings import UiSettings

        settings = UiSettings(QSettings(str(Path(settings_dir.name) / "window.ini"), QSettings.Format.IniFormat))
    window = MainWindow(service, read_only=read_only, settings=settings)
    window.demo = demo
    if instance is not None:
        instance.window = window
    window.config_store = config
    window.read_only_locked = read_only_flag
    window.update_empty_hint()
    window._update_read_only_badge()
    prompt.parent = window
    for note in notes:
        window.status_model.add_note("", "", "start-up", note)
    for problem in problems:  # a broken setting: shown where the trader looks (status bar and status pane)
        window.desk.notice(problem, level=NoticeLevel.WARNING, action="start-up")
    if audit is None:
        window.status_model.add_note("", "", "audit", audit_note)
    window.support.audit_view.show_message(audit_note, error=audit is None)
    if not screenshot:
        window.restore_window_layout()
    finished = asyncio.Event()
    window.closed.connect(finished.set)
    app.aboutToQuit.connect(finished.set)
    window.show()
    shown.append(window)
    if quitter.received:  # asked to quit while starting
        window.close()
    window.start()
    _report_ready(window)  # BLOTTER_BENCH_READY_FILE: the cold-start benchmark's finish line
    # cancels an earlier run left in flight: re-read at the venue, their one final outcome recorded and shown
    window.tasks.spawn(window.support.recover_interrupted(), name="settle interrupted cancels")
    try:
        if screenshot:
            from .demo_script import run_screenshot

            return await run_screenshot(window, sims, Path(screenshot))
        await finished.wait()
        return 0
    finally:
        await window.aclose()
        await service.aclose()
        if audit is not None:
            await audit.aclose()
        audit_cleanup()
        if settings_dir is not None:
            settings_dir.cleanup()
        window.deleteLater()
