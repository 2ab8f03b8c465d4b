"""No secret in clear anywhere: connections added through the CLI and through the window's dialogs (real
Secret Service), a session with logins, 2FA, token refreshes and cancels, then every file under
BLOTTER_HOME (config, window settings, the log, the audit database and its WAL), the CLI's output and
every row of the status pane are searched for every secret value."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog

from blotter import cli
from blotter.core import Venue
from blotter.ui.app import create_app, main
from blotter.ui.main_window import MainWindow
from connections_support import (
    TWO_FACTOR_CODE,
    TWO_FACTOR_PASSWORD,
    TWO_FACTOR_USER,
    Logins,
    click,
    fill,
    loaded,
    small_scenario,
    type_into,
    wait_dialog,
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def answer_code(qtbot: Any, code: str) -> None:
    def prompt() -> QInputDialog | None:
        return next((w for w in QApplication.topLevelWidgets()
                     if isinstance(w, QInputDialog) and w.objectName() == "verificationDialog" and w.isVisible()),
                    None)

    dialog = wait_dialog(qtbot, prompt)
    dialog.setTextValue(code)
    dialog.accept()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> str:
    """``blotter ARGS`` in this process (its own asyncio.run, outside the test's qasync loop)."""
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    if stdin:
        sys.stdin = io.StringIO(stdin)
    try:
        code = cli.main(list(args))
    finally:
        sys.stdin = sys.__stdin__
        asyncio.events._set_running_loop(loop)
        asyncio.set_event_loop(loop)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out + captured.err


@pytest.mark.usefixtures("real_keyring", "restore_logging")
def test_no_secret_in_any_file_log_audit_or_status_row(
    qtbot: Any, qloop: Any, serve: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = small_scenario()
    sims, urls = serve(scenario)
    logins = Logins.of(scenario, urls)
    tanx = sims["tanx"]
    address = logins.options["tanx"]["eth_address"]
    pasted_access, pasted_refresh = tanx.issue_tokens(address)
    wrong_password = "wrong-Password-xyzzy-42"
    typed = [*logins.secrets["snaptrade"].values(), logins.secrets["autoshares"]["app_key"], TWO_FACTOR_PASSWORD,
             wrong_password, pasted_access, pasted_refresh]
    outputs: list[str] = []

    # -- the CLI adds one connection and uses it (its audit trail and log are scanned too)
    snap = logins.options["snaptrade"]
    outputs.append(run_cli(capsys, "connections", "add", "snaptrade", "snap", "--base-url", urls["snaptrade"],
                           "--client-id", snap["client_id"], "--user-id", snap["user_id"], "--secrets-stdin",
                           stdin=json.dumps(logins.secrets["snaptrade"])))
    orders = json.loads(run_cli(capsys, "orders", "--json"))
    outputs.append(json.dumps(orders))
    cli_key = next(o["key"] for o in orders if o["connection"] == "snap")
    outputs.append(run_cli(capsys, "cancel", cli_key, "--yes", "--wait", "5"))

    # -- the window, as `blotter` starts it, adds the others through its dialogs
    app = create_app()
    task = qloop.create_task(main(app, argparse.Namespace(demo=False, screenshot=None, read_only=False, seed=7)))
    window: MainWindow = wait_dialog(
        qtbot, lambda: next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None))
    window.settings.confirm_single_cancel = False
    qtbot.waitUntil(lambda: loaded(window, "snap"), timeout=10_000)
    window.action_connections.trigger()
    dialog = wait_dialog(qtbot, lambda: window.connections_dialog)

    editor = dialog.add_connection(Venue.AUTOSHARES)
    fill(qtbot, editor, "autoshares", "as-2fa", logins,
         extra={"username": TWO_FACTOR_USER, "password": wrong_password})
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: "Invalid credentials" in editor.result_label.text(), timeout=10_000)
    type_into(qtbot, editor.fields["password"], TWO_FACTOR_PASSWORD)
    click(qtbot, editor.test_button)
    answer_code(qtbot, TWO_FACTOR_CODE)
    qtbot.waitUntil(lambda: "Logged in" in editor.result_label.text(), timeout=10_000)
    with qtbot.waitSignal(dialog.connectionSaved, timeout=10_000):
        click(qtbot, editor.save_button)
    answer_code(qtbot, TWO_FACTOR_CODE)  # the window's own login
    qtbot.waitUntil(lambda: loaded(window, "as-2fa"), timeout=10_000)

    editor = dialog.add_connection(Venue.TANX)
    type_into(qtbot, editor.name_edit, "wallet")
    type_into(qtbot, editor.url_edit, urls["tanx"])
    editor.tanx_modes.button(1).setChecked(True)
    type_into(qtbot, editor.fields["eth_address"], address)
    type_into(qtbot, editor.fields["access_token"], pasted_access)
    type_into(qtbot, editor.fields["refresh_token"], pasted_refresh)
    with qtbot.waitSignal(dialog.connectionSaved, timeout=10_000):
        click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: loaded(window, "wallet"), timeout=10_000)
    dialog.close()

    # -- a session: cancels on every connection, every kind of token renewal
    window.orders_model.flush()
    for name in ("snap", "as-2fa", "wallet"):
        key = next(k for k in window.orders_model.open_keys(name) if window.cancellable(k))
        window.orders_view.select_keys([key])
        window.orders_view.setFocus()
        qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)
        qtbot.waitUntil(lambda k=key: any(e.key == k and e.result is not None
                                          for e in window.status_model.entries()), timeout=15_000)
    sims["autoshares"].expire_tokens()
    tanx.expire_access_tokens()
    window.refresh_now()
    answer_code(qtbot, TWO_FACTOR_CODE)
    qtbot.waitUntil(lambda: len(tanx.requests_matching("POST", "refresh")) >= 1, timeout=10_000)
    qtbot.waitUntil(lambda: keyring.get_password("blotter", "wallet/refresh_token") != pasted_refresh,
                    timeout=10_000)
    qtbot.waitUntil(lambda: all(window.service.health[n].state == "connected" for n in window.service.specs),
                    timeout=10_000)
    pane = [repr(e) for e in window.status_model.entries()]
    model = window.status_model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                pane.append(str(model.data(model.index(row, column), role)))
    assert len(pane) > 20
    window.close()
    qtbot.waitUntil(task.done, timeout=15_000)
    assert task.result() == 0
    app.setQuitOnLastWindowClosed(True)

    # -- what must be secret
    secrets = set(typed) | set(sims["autoshares"].issued_tokens()) | set(tanx.issued_tokens())
    secrets |= {s[2:] for s in secrets if s.startswith("0x")}
    secrets |= {quote(s, safe="") for s in secrets}
    assert keyring.get_password("blotter", "as-2fa/password") == TWO_FACTOR_PASSWORD  # they are in the keyring
    assert keyring.get_password("blotter", "snap/user_secret") == logins.secrets["snaptrade"]["user_secret"]

    home = Path(os.environ["BLOTTER_HOME"])
    files = [p for p in home.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"connections.toml", "blotter.log"} <= names and any(n.startswith("audit") for n in names), names
    assert "as-2fa" in (home / "config" / "connections.toml").read_text()
    log = next(p for p in files if p.name == "blotter.log").read_text()
    assert "as-2fa" in log and "wallet" in log  # the GUI's venue answers are logged
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"a secret in {path.relative_to(home)}"
    haystack = "\n".join(pane + outputs)
    for secret in secrets:
        assert secret not in haystack, "a secret in the status pane or the CLI's output"
