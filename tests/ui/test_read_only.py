"""The read-only role: no cancel request reaches any simulator — from the window (Delete, toolbar, context
menu, kill switch, hotkeys), from the CLI — whether read-only is app-wide (Settings, --read-only), set on
a connection, or reported by the venue for an account."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMenu

from blotter import cli
from blotter.core import OrderKey, Provenance, Venue
from blotter.service.refresh import RefreshPhase
from blotter.store.config import ConfigStore
from blotter.ui.main_window import MainWindow
from connections_support import Logins, click, confirm_box, small_scenario, wait_dialog

CANCEL_PATHS = {
    "autoshares": ("DELETE", r"/accounts/[^/]+/(sync)?orders/"),
    "snaptrade": ("POST", r"/trading/cancel$"),
    "tanx": ("POST", r"/sapi/v1/(orders/cancel|user/bulkcancel)/?$"),
}


def cancels_sent(sims: Any, venue: str = "") -> list[Any]:
    out = []
    for name, (method, path) in CANCEL_PATHS.items():
        if not venue or venue == name:
            out.extend(sims[name].requests_matching(method, path))
    return out


@pytest.fixture
def env(serve: Any) -> tuple[Any, Any, Any]:
    from blotter.core import ConnectionSpec
    from blotter.sim.demo import demo_connections
    from blotter.store.credentials import MemoryCredentialStore

    scenario = small_scenario()
    sims, urls = serve(scenario)
    store = MemoryCredentialStore()
    specs = []
    for name, venue, options, secrets in demo_connections(scenario, urls):
        specs.append(ConnectionSpec(name=name, venue=Venue(venue), base_url=urls[venue], options=options))
        for field_name, value in secrets.items():
            store.set(name, field_name, value)
    return specs, store, sims


def settle(qtbot: Any, window: MainWindow) -> None:
    """A barrier: one full refresh of every connection (many loop turns) after the attempts above."""
    seen: set[str] = set()
    unsubscribe = window.scheduler.subscribe(
        lambda ev: seen.add(ev.connection) if ev.phase is not RefreshPhase.STARTED else None)
    window.refresh_now()
    qtbot.waitUntil(lambda: seen >= set(window.service.specs), timeout=10_000)
    unsubscribe()
    assert not window.service.coordinator.in_flight_keys


def try_every_way_to_cancel(qtbot: Any, window: MainWindow, keys: list[OrderKey]) -> None:
    view = window.orders_view
    for key in keys:
        view.select_keys([key])
        view.setFocus()
        qtbot.keyClick(view, Qt.Key.Key_Delete)  # hotkey on the table
        button = window.toolbar.widgetForAction(window.action_cancel_selected)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # toolbar
        window.action_cancel_selected.trigger()  # menu Orders → Cancel selected
        window._orders_menu(QPoint(5, 5))  # context menu
        menu = wait_dialog(qtbot, lambda: next((m for m in window.findChildren(QMenu, "ordersContextMenu")
                                                if m.isVisible()), None))
        for action in menu.actions():
            if action in (window.action_cancel_selected, window.action_cancel_account):
                action.trigger()
        menu.close()
        qtbot.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)  # cancel all in account
        window.submit_cancels([key], Provenance.HOTKEY)  # even straight to the coordinator's door
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    kill = window.toolbar.widgetForAction(window.action_kill_switch)
    qtbot.mouseClick(kill, Qt.MouseButton.LeftButton)
    assert window.confirm_dialog is None


def press_ok(qtbot: Any, dialog: Any) -> None:
    box = dialog.findChild(QDialogButtonBox)
    click(qtbot, box.button(QDialogButtonBox.StandardButton.Ok))


def test_app_wide_read_only_from_settings(qtbot: Any, make_window: Any, env: Any) -> None:
    specs, store, sims = env
    window = make_window(specs, store, confirm_single=False)
    window.config_store = ConfigStore()
    assert window.action_kill_switch.isEnabled()

    dialog = window.open_settings()
    assert not dialog.read_only.isChecked()
    dialog.read_only.setChecked(True)
    press_ok(qtbot, dialog)  # turning it on needs no confirmation
    assert window.read_only and window.service.read_only and ConfigStore().read_only
    qtbot.waitUntil(window.read_only_badge.isVisible)  # the toolbar shows it at its next layout
    assert window.read_only_badge.text() == "READ-ONLY"
    assert "Settings" in window.read_only_badge.toolTip()
    for action in (window.action_cancel_selected, window.action_cancel_account, window.action_kill_switch):
        assert not action.isEnabled()
    keys = [next(k for k in window.orders_model.open_keys() if window.service.specs[k.connection].venue is v)
            for v in Venue]
    try_every_way_to_cancel(qtbot, window, keys)
    assert window.kill_switch_dialog is None
    settle(qtbot, window)
    assert cancels_sent(sims) == []

    # lifting asks first; "Keep read-only" keeps it
    dialog = window.open_settings()
    dialog.read_only.setChecked(False)
    press_ok(qtbot, dialog)
    confirm_box(qtbot, lambda: dialog.lift_confirm, "Keep read-only")
    assert dialog.isVisible() and dialog.read_only.isChecked() and window.read_only
    dialog.read_only.setChecked(False)
    press_ok(qtbot, dialog)
    confirm_box(qtbot, lambda: dialog.lift_confirm, "Lift read-only")
    qtbot.waitUntil(lambda: not window.read_only)
    assert not window.service.read_only and not ConfigStore().read_only
    assert window.action_kill_switch.isEnabled()


def test_started_read_only_cannot_be_lifted_in_settings(qtbot: Any, make_window: Any, env: Any) -> None:
    specs, store, sims = env
    window = make_window(specs, store, read_only=True)
    window.read_only_locked = True
    window._update_read_only_badge()
    assert "--read-only" in window.read_only_badge.toolTip()
    dialog = window.open_settings()
    assert dialog.read_only.isChecked() and not dialog.read_only.isEnabled()
    window.set_read_only(False)
    assert window.read_only
    dialog.close()
    try_every_way_to_cancel(qtbot, window, window.orders_model.open_keys()[:2])
    settle(qtbot, window)
    assert cancels_sent(sims) == []


def test_read_only_connections_and_venue_read_only_accounts(qtbot: Any, make_window: Any, env: Any) -> None:
    specs, store, sims = env
    specs = [replace(s, read_only=s.venue is not Venue.SNAPTRADE) for s in specs]
    window = make_window(specs, store, confirm_single=False)
    snap = next(s.name for s in specs if s.venue is Venue.SNAPTRADE)
    venue_ro = [a for a in window.accounts_model.accounts(snap) if a.read_only]
    assert venue_ro, "the scenario has a SnapTrade account the brokerage authorised read-only"
    blocked = [k for k in window.orders_model.open_keys()
               if k.connection != snap or k.account == venue_ro[0].account_id]
    assert blocked and not any(window.cancellable(k) for k in blocked)
    for name in (s.name for s in specs if s.read_only):
        row = window.accounts_model.connection_names().index(name)
        assert window.accounts_model.index(row, 2).data().endswith("read-only")
    try_every_way_to_cancel(qtbot, window, blocked[:3])

    # the kill switch lists them as read-only and cancels only the tradable SnapTrade accounts
    window.action_kill_switch.trigger()
    dialog = wait_dialog(qtbot, lambda: window.kill_switch_dialog)
    qtbot.waitUntil(lambda: bool(dialog.keys), timeout=10_000)
    notes = {(line.connection, line.account): line.note for line in dialog.lines}
    assert all(notes[(k.connection, k.account)] == "read-only — not cancelled" for k in blocked)
    assert all(k.connection == snap and k.account != venue_ro[0].account_id for k in dialog.keys)
    qtbot.keyClicks(dialog.phrase, "CANCEL ALL")
    click(qtbot, dialog.confirm_button)
    qtbot.waitUntil(lambda: not window.bulk_in_progress(), timeout=15_000)
    settle(qtbot, window)
    assert cancels_sent(sims, "autoshares") == [] and cancels_sent(sims, "tanx") == []
    sent = cancels_sent(sims, "snaptrade")
    assert sent and all(venue_ro[0].account_id not in r.path for r in sent)


@pytest.fixture
def cli_home(real_keyring: None, serve: Any) -> Iterator[tuple[Any, Logins]]:
    from blotter.core import ConnectionSpec
    from blotter.service.connections import save_connection
    from blotter.store.credentials import KeyringCredentialStore

    scenario = small_scenario()
    sims, urls = serve(scenario)
    logins = Logins.of(scenario, urls)
    config = ConfigStore()
    for venue in Venue:
        save_connection(config, KeyringCredentialStore(), ConnectionSpec(
            name=venue.value, venue=venue, base_url=urls[venue.value], options=logins.options[venue.value],
            read_only=venue is Venue.TANX), logins.secrets[venue.value])
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield sims, logins
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_cli_refuses_with_a_clear_message(cli_home: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    sims, _logins = cli_home
    assert cli.main(["orders", "--json"]) == 0
    orders = json.loads(capsys.readouterr().out)
    key_of = {v: next(o["key"] for o in orders if o["venue"] == v.value) for v in Venue}

    # a read-only connection
    assert cli.main(["cancel", key_of[Venue.TANX], "--yes"]) == 2
    assert capsys.readouterr().err.strip() == "blotter: connection 'tanx' is read-only: cancelling is disabled"
    # --read-only
    assert cli.main(["--read-only", "cancel", key_of[Venue.AUTOSHARES], "--yes"]) == 2
    assert "read-only mode" in capsys.readouterr().err
    # the app-wide setting the window's Settings write
    ConfigStore().set_read_only(True)
    for args in (["cancel", key_of[Venue.AUTOSHARES], key_of[Venue.SNAPTRADE], "--yes"],
                 ["cancel-all", "--yes"], ["cancel-all", "--connection", "snaptrade", "--yes"]):
        assert cli.main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["blotter: Blotter is in read-only mode: cancelling is disabled"], err
    assert cancels_sent(sims) == []


def test_the_accounts_tree_shows_who_is_read_only(qtmodeltester: Any) -> None:
    from blotter.core import Account
    from blotter.ui.models.accounts import AccountsModel

    model = AccountsModel()
    model.set_connections([("snap", Venue.SNAPTRADE), ("wallet", Venue.TANX)])
    model.add_connection("as", Venue.AUTOSHARES, read_only=True)  # a connection added at run time
    model.set_accounts("snap", [Account("snap", Venue.SNAPTRADE, "a1", "IBKR", read_only=True)])
    model.set_accounts("wallet", [Account("wallet", Venue.TANX, "0xabc", "Alpha")])
    qtmodeltester.check(model)
    health = {model.index(r, 0).data(): model.index(r, 2).data() for r in range(model.rowCount())}
    assert health == {"as": "idle, read-only", "snap": "idle, read-only at the venue", "wallet": "idle"}
    snap = model.index(1, 0)
    assert model.index(0, 2, snap).data() == "read-only"
    model.remove_connection("as")
    model.set_read_only("wallet", True)
    qtmodeltester.check(model)
    assert [model.index(r, 2).data() for r in range(model.rowCount())] == ["idle, read-only at the venue",
                                                                          "idle, read-only"]
