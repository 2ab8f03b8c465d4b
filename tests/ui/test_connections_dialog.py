"""The connection manager driven with qtbot against the venue simulators and a real Secret Service
(gnome-keyring in a private D-Bus session): add, test, edit, remove; 2FA; pasted tanX tokens; no keyring."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.core
import pytest
from PySide6.QtWidgets import QLineEdit

from blotter.core import Venue
from blotter.store.config import ConfigStore
from blotter.ui.dialogs.connections import ConnectionEditor, ConnectionsDialog
from blotter.ui.main_window import MainWindow
from connections_support import (
    TWO_FACTOR_CODE,
    TWO_FACTOR_PASSWORD,
    TWO_FACTOR_USER,
    Logins,
    answer_code,
    click,
    confirm_box,
    fill,
    live_window_fixture,  # noqa: F401  (the live_window fixture)
    loaded,
    small_scenario,
    type_into,
    wait_dialog,
)

pytestmark = pytest.mark.usefixtures("real_keyring")


@pytest.fixture
def venues(serve: Any) -> tuple[Any, Logins]:
    scenario = small_scenario()
    sims, urls = serve(scenario)
    return sims, Logins.of(scenario, urls)


def open_manager(qtbot: Any, window: MainWindow) -> ConnectionsDialog:
    window.action_connections.trigger()
    dialog = wait_dialog(qtbot, lambda: window.connections_dialog)
    qtbot.waitUntil(lambda: dialog.keyring_check.done())
    return dialog


def editor_of(qtbot: Any, dialog: ConnectionsDialog) -> ConnectionEditor:
    return wait_dialog(qtbot, lambda: dialog.editor)


def save(qtbot: Any, dialog: ConnectionsDialog, editor: ConnectionEditor) -> None:
    qtbot.waitUntil(lambda: editor.save_button.isEnabled())
    with qtbot.waitSignal(dialog.connectionSaved, timeout=10_000):
        click(qtbot, editor.save_button)


def stored(name: str, field: str) -> str | None:
    return keyring.get_password("blotter", f"{name}/{field}")


def test_add_test_edit_remove_from_an_empty_window(qtbot: Any, live_window: Any, venues: Any) -> None:
    _sims, logins = venues
    window = live_window()
    # an empty accounts tree offers the way in
    assert window.accounts_stack.currentWidget() is window.empty_hint
    assert not window.read_only_badge.isVisible()
    click(qtbot, window.empty_hint.button)
    dialog = wait_dialog(qtbot, lambda: window.connections_dialog)
    editor = editor_of(qtbot, dialog)
    assert not dialog.banner.isVisible()  # the Secret Service is usable

    fill(qtbot, editor, "autoshares", "as-main", logins)
    assert all(editor.fields[f].echoMode() == QLineEdit.EchoMode.Password for f in ("password", "app_key"))
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: "Logged in to AutoShares: 4 accounts" in editor.result_label.text(), timeout=10_000)
    assert "Family office (view only) (6312) — read-only at the venue" in editor.result_label.text()
    assert "as-main" not in ConfigStore()  # testing saves nothing
    save(qtbot, dialog, editor)

    # secrets in the keyring (one entry per field), everything else in the config file, none of it in clear
    assert stored("as-main", "password") == logins.secrets["autoshares"]["password"]
    assert stored("as-main", "app_key") == logins.secrets["autoshares"]["app_key"]
    text = ConfigStore().path.read_text()
    assert all(secret not in text for secret in logins.secrets["autoshares"].values())
    assert tomllib.loads(text)["connections"]["as-main"]["options"]["username"] == "demo.trader"
    # the running window picked it up: tree, orders, no restart
    qtbot.waitUntil(lambda: loaded(window, "as-main"), timeout=10_000)
    assert window.accounts_stack.currentWidget() is window.accounts_view
    qtbot.waitUntil(lambda: bool(window.orders_model.open_keys("as-main")), timeout=10_000)
    assert "as-main" in dialog.table.topLevelItem(0).text(0)

    # edit: no secret re-entered; the cancel mode and the read-only role change
    dialog.select("as-main")
    click(qtbot, dialog.edit_button)
    editor = editor_of(qtbot, dialog)
    qtbot.waitUntil(lambda: editor.stored_loaded)
    assert editor.fields["password"].text() == ""
    assert editor.fields["password"].placeholderText() == "stored — leave empty to keep"
    assert not editor.venue_combo.isEnabled() and editor.name_edit.isReadOnly()
    editor.cancel_mode.setCurrentIndex(editor.cancel_mode.findData("sync"))
    editor.read_only.setChecked(True)
    click(qtbot, editor.test_button)  # the stored secrets are used for the test
    qtbot.waitUntil(lambda: "Logged in" in editor.result_label.text(), timeout=10_000)
    save(qtbot, dialog, editor)
    spec = ConfigStore().get("as-main")
    assert spec.option("cancel_mode") == "sync" and spec.read_only
    assert stored("as-main", "password") == logins.secrets["autoshares"]["password"]
    assert window.service.specs["as-main"].read_only and window.service.is_read_only("as-main")
    qtbot.waitUntil(lambda: window.read_only_badge.isVisible()
                    and "as-main" in window.read_only_badge.toolTip().splitlines())
    assert "read-only" in window.accounts_model.index(0, 2).data()

    # remove: confirmation, keyring entries deleted, the connection leaves the window
    dialog.select("as-main")
    click(qtbot, dialog.remove_button)
    confirm_box(qtbot, lambda: dialog.confirm_box, "Remove")
    qtbot.waitUntil(lambda: "as-main" not in window.service.specs, timeout=10_000)
    assert stored("as-main", "password") is None and stored("as-main", "app_key") is None
    assert "as-main" not in ConfigStore()
    qtbot.waitUntil(lambda: len(window.orders_model) == 0)
    assert window.accounts_model.rowCount() == 0
    assert window.accounts_stack.currentWidget() is window.empty_hint
    qtbot.waitUntil(lambda: not window.read_only_badge.isVisible())  # the toolbar hides it at its next layout
    assert "Removed 'as-main'" in dialog.result_label.text()
    notes = [e.message for e in window.status_model.entries() if e.action == "connections"]
    assert notes == ["AutoShares connection 'as-main' removed", "AutoShares connection 'as-main' changed (read-only)",
                     "AutoShares connection 'as-main' added"]


def test_the_form_explains_what_is_wrong(qtbot: Any, live_window: Any, venues: Any) -> None:
    _sims, logins = venues
    window = live_window()
    dialog = open_manager(qtbot, window)
    editor = dialog.add_connection(Venue.SNAPTRADE)
    assert editor.url_edit.text() == "https://api.snaptrade.com"  # the venue's usual address
    type_into(qtbot, editor.name_edit, "snap")
    type_into(qtbot, editor.url_edit, "http://api.snaptrade.com")
    assert "https is required" in editor.error_label.text()
    assert not editor.save_button.isEnabled() and not editor.test_button.isEnabled()
    type_into(qtbot, editor.url_edit, logins.urls["snaptrade"])
    assert "client id" in editor.error_label.text()
    fill(qtbot, editor, "snaptrade", "snap", logins, skip=("user_secret",))
    assert editor.error_label.text() == "Enter the user secret."

    editor.venue_combo.setCurrentIndex(editor.venue_combo.findData(Venue.AUTOSHARES))
    fill(qtbot, editor, "autoshares", "as", logins, extra={"api_version": "one"})
    assert "look like 1.0" in editor.error_label.text()

    editor.venue_combo.setCurrentIndex(editor.venue_combo.findData(Venue.TANX))
    type_into(qtbot, editor.url_edit, logins.urls["tanx"])
    type_into(qtbot, editor.fields["private_key"], "0xnot-a-real-key")
    assert "private key is not valid" in editor.error_label.text()
    assert "0xnot-a-real-key" not in editor.error_label.text()
    type_into(qtbot, editor.fields["private_key"], logins.secrets["tanx"]["private_key"])
    assert editor.fields["eth_address"].text() == logins.options["tanx"]["eth_address"]  # derived
    assert editor.fields["eth_address"].isReadOnly()
    assert editor.error_label.text() == "" and editor.save_button.isEnabled()
    click(qtbot, editor.tanx_modes.button(1))
    assert not editor.fields["private_key"].isEnabled()
    assert editor.error_label.text() == "Enter the access token and the refresh token."


def test_a_failed_test_shows_the_venues_own_words(qtbot: Any, live_window: Any, venues: Any) -> None:
    sims, logins = venues
    window = live_window()
    dialog = open_manager(qtbot, window)
    editor = dialog.add_connection(Venue.AUTOSHARES)
    fill(qtbot, editor, "autoshares", "as-bad", logins, extra={"password": "wrong-password-1"})
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: editor.result_label.text().startswith("Test failed"), timeout=10_000)
    assert "Invalid credentials" in editor.result_label.text()
    assert "wrong-password-1" not in editor.result_label.text()

    # SnapTrade: a skewed clock is explained, not just "401"
    editor.venue_combo.setCurrentIndex(editor.venue_combo.findData(Venue.SNAPTRADE))
    fill(qtbot, editor, "snaptrade", "snap", logins)
    sims["snaptrade"].clock_offset_s = 3600
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: "Invalid timestamp" in editor.result_label.text(), timeout=10_000)
    words = editor.result_label.text()
    assert words.startswith("Test failed") and "clock" in words and "network time" in words


def test_autoshares_two_factor_through_the_dialogs(qtbot: Any, live_window: Any, venues: Any) -> None:
    sims, logins = venues
    window = live_window()
    dialog = open_manager(qtbot, window)
    editor = dialog.add_connection(Venue.AUTOSHARES)
    fill(qtbot, editor, "autoshares", "as-2fa", logins,
         extra={"username": TWO_FACTOR_USER, "password": TWO_FACTOR_PASSWORD})
    click(qtbot, editor.test_button)
    question = answer_code(qtbot, editor.prompt, "000000")
    assert "Testing 'as-2fa' (AutoShares): Expecting confirmation code" in question  # the venue's words
    qtbot.waitUntil(lambda: editor.result_label.text().startswith("Test failed"), timeout=10_000)
    assert "Invalid verification code" in editor.result_label.text()
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: editor.result_label.text().startswith("Logging in"))
    answer_code(qtbot, editor.prompt, TWO_FACTOR_CODE)
    qtbot.waitUntil(lambda: "1 account" in editor.result_label.text(), timeout=10_000)
    save(qtbot, dialog, editor)

    # the window logs in with it now: the service asks for a code too, naming the connection
    question = answer_code(qtbot, window.prompt, TWO_FACTOR_CODE)
    assert "Connection 'as-2fa' (autoshares): Expecting confirmation code" in question
    qtbot.waitUntil(lambda: loaded(window, "as-2fa"), timeout=10_000)
    assert [a.account_id for a in window.accounts_model.accounts("as-2fa")] == ["6304"]
    assert stored("as-2fa", "password") == TWO_FACTOR_PASSWORD
    assert len(sims["autoshares"].requests_matching("POST", "/token$")) == 6  # 3 logins of 2 steps each


def test_pasted_tanx_tokens_and_their_rotation(qtbot: Any, live_window: Any, venues: Any) -> None:
    sims, logins = venues
    tanx = sims["tanx"]
    address = logins.options["tanx"]["eth_address"]
    access, refresh = tanx.issue_tokens(address)
    tanx.expire_access_tokens()  # the pasted access token is stale: the test refreshes it
    window = live_window()
    dialog = open_manager(qtbot, window)
    editor = dialog.add_connection(Venue.TANX)
    type_into(qtbot, editor.name_edit, "wallet")
    type_into(qtbot, editor.url_edit, logins.urls["tanx"])
    editor.tanx_modes.button(1).setChecked(True)
    type_into(qtbot, editor.fields["access_token"], access)
    type_into(qtbot, editor.fields["refresh_token"], refresh)
    assert "0x address" in editor.error_label.text()
    type_into(qtbot, editor.fields["eth_address"], address)
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: "new tokens" in editor.result_label.text(), timeout=10_000)
    rotated = editor.fields["refresh_token"].text()
    assert rotated and rotated != refresh
    save(qtbot, dialog, editor)
    assert stored("wallet", "refresh_token") == rotated  # the newest pair, not the pasted one
    assert stored("wallet", "private_key") is None
    qtbot.waitUntil(lambda: loaded(window, "wallet"), timeout=10_000)

    # mid-session the access token expires: the service refreshes and writes the new pair back
    tanx.expire_access_tokens()
    window.refresh_now("wallet")
    qtbot.waitUntil(lambda: stored("wallet", "refresh_token") not in (rotated, None), timeout=10_000)
    assert stored("wallet", "access_token") not in (access, None)


@pytest.fixture
def no_keyring(real_keyring: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    before = os.environ.get("PYTHON_KEYRING_BACKEND")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    yield
    if before is None:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    else:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", before)
    keyring.core.init_backend()


@pytest.mark.usefixtures("no_keyring")
def test_no_keyring_is_said_plainly_and_session_only_works(qtbot: Any, live_window: Any, venues: Any) -> None:
    _sims, logins = venues
    window = live_window()
    dialog = open_manager(qtbot, window)
    assert dialog.banner.isVisible()
    assert "No usable keyring" in dialog.banner.text() and "this session only" in dialog.banner.text()
    editor = dialog.add_connection(Venue.TANX)
    fill(qtbot, editor, "tanx", "wallet", logins)
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: editor.session_panel.isVisible(), timeout=10_000)
    words = editor.session_message.text()
    assert "no usable keyring" in words and "never writes a secret to a file" in words
    assert "wallet" not in ConfigStore()  # nothing saved yet
    with qtbot.waitSignal(dialog.connectionSaved, timeout=10_000):
        click(qtbot, editor.keep_button)
    assert window.service.credentials.is_session_only("wallet")
    qtbot.waitUntil(lambda: loaded(window, "wallet"), timeout=10_000)
    assert dialog.table.topLevelItem(0).text(4) == "this session only"
    text = ConfigStore().path.read_text()
    assert "wallet" in text and logins.secrets["tanx"]["private_key"][2:] not in text
    assert "memory for this session only" in dialog.result_label.text()


def test_a_second_connection_to_the_same_login_is_flagged_before_it_is_kept(qtbot: Any, live_window: Any,
                                                                             venues: Any) -> None:
    """Issue 14 rule 6: the twin connection is named at Test and at Save; a second Save keeps it knowingly."""
    _sims, logins = venues
    window = live_window()
    dialog = open_manager(qtbot, window)
    click(qtbot, dialog.add_button)
    editor = editor_of(qtbot, dialog)
    fill(qtbot, editor, "autoshares", "as-main", logins)
    save(qtbot, dialog, editor)

    click(qtbot, dialog.add_button)
    editor = editor_of(qtbot, dialog)
    fill(qtbot, editor, "autoshares", "as-twin", logins)
    click(qtbot, editor.test_button)
    qtbot.waitUntil(lambda: "already connects to the same AutoShares login" in editor.result_label.text(),
                    timeout=10_000)
    qtbot.waitUntil(lambda: editor.save_button.isEnabled())
    click(qtbot, editor.save_button)
    qtbot.waitUntil(lambda: "Press Save again to keep both" in editor.error_label.text(), timeout=10_000)
    assert "as-twin" not in ConfigStore()  # not saved on the first press
    save(qtbot, dialog, editor)
    assert "as-twin" in ConfigStore()
