"""Helpers for the connection-manager tests: a small scenario with a two-factor AutoShares user, a window
wired like the app's (config file + keyring-backed credential store + verification prompt), and qtbot
drivers for the connection dialogs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget

from blotter.core import Venue
from blotter.sim.demo import demo_connections, demo_scenario
from scenario_support import plain_and_small

TWO_FACTOR_USER = "two.factor"
TWO_FACTOR_PASSWORD = "2fa-password-Kq7w"
TWO_FACTOR_CODE = "731942"


def small_scenario(per_account: int = 3, seed: int = 7) -> dict[str, Any]:
    """The demo scenario, few orders per account, every cancel plain, plus a 2FA AutoShares user who
    owns account 6304. Read-only accounts stay read-only."""
    out = plain_and_small(demo_scenario(seed), per_account)
    out["autoshares"]["users"].append({
        "user_id": 7200, "username": TWO_FACTOR_USER, "password": TWO_FACTOR_PASSWORD,
        "two_factor_code": TWO_FACTOR_CODE, "first_name": "Tove", "last_name": "Factor", "accounts": [6304],
    })
    return out


@dataclass
class Logins:
    """What a trader would type for each venue, straight from the served scenario."""

    urls: dict[str, str]
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: dict[str, Any], urls: dict[str, str]) -> Logins:
        logins = cls(dict(urls))
        for _name, venue, options, secrets in demo_connections(scenario, urls):
            if venue not in logins.options:
                logins.options[venue] = dict(options)
                logins.secrets[venue] = dict(secrets)
        return logins

    def all_secrets(self) -> list[str]:
        return [v for s in self.secrets.values() for v in s.values()]


def wait_dialog(qtbot: Any, find: Callable[[], QWidget | None], timeout: int = 10_000) -> Any:
    found: list[QWidget] = []

    def ready() -> bool:
        widget = find()
        if widget is not None and widget.isVisible():
            found[:] = [widget]
            return True
        return False

    qtbot.waitUntil(ready, timeout=timeout)
    return found[0]


def click(qtbot: Any, button: QWidget) -> None:
    assert button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot: Any, edit: QLineEdit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def fill(qtbot: Any, editor: Any, venue: str, name: str, logins: Logins, *, skip: tuple[str, ...] = (),
         extra: dict[str, str] | None = None) -> None:
    """Fill an "Add a connection" editor the way a trader would."""
    editor.venue_combo.setCurrentIndex(editor.venue_combo.findData(Venue(venue)))
    type_into(qtbot, editor.name_edit, name)
    type_into(qtbot, editor.url_edit, logins.urls[venue])
    values = {**logins.options[venue], **logins.secrets[venue], **(extra or {})}
    for field_name, value in values.items():
        if field_name == "cancel_mode":
            editor.cancel_mode.setCurrentIndex(editor.cancel_mode.findData(value))
        elif field_name in skip or field_name not in editor.fields:
            continue
        elif editor.fields[field_name].isEnabled() and not editor.fields[field_name].isReadOnly():
            type_into(qtbot, editor.fields[field_name], value)


def answer_code(qtbot: Any, prompt: Any, code: str) -> str:
    """Type a verification code into the prompt's dialog and press Log in; returns the question."""
    dialog = wait_dialog(qtbot, lambda: prompt.dialog)
    question = dialog.labelText()
    dialog.setTextValue(code)
    dialog.accept()
    return str(question)


def confirm_box(qtbot: Any, find: Callable[[], QMessageBox | None], button_text: str) -> None:
    box = wait_dialog(qtbot, find)
    button = next(b for b in box.buttons() if b.text() == button_text)
    click(qtbot, button)


@pytest.fixture(name="live_window")
def live_window_fixture(qtbot: Any, qloop: Any, tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """A MainWindow wired like ``ui.app.main``: connections from the config file, secrets through a
    keyring-backed ``CachedCredentialStore``, a verification prompt; closed cleanly afterwards."""
    from blotter.service import BlotterService
    from blotter.store.config import ConfigStore
    from blotter.store.credentials import CachedCredentialStore, KeyringCredentialStore
    from blotter.ui.dialogs.verification import VerificationPrompt
    from blotter.ui.main_window import MainWindow
    from blotter.ui.settings import UiSettings
    from blotter.venues.registry import FIELDS

    made: list[tuple[Any, Any]] = []

    def make(*, read_only: bool = False, interval_s: float = 300.0) -> MainWindow:
        config = ConfigStore()
        store = CachedCredentialStore(KeyringCredentialStore())
        for spec in config:
            store.load(spec.name, FIELDS[spec.venue].secrets)
        prompt = VerificationPrompt()
        service = BlotterService(list(config), store, read_only=read_only or config.read_only,
                                 reconcile_timeout_s=10, code_prompt=prompt)
        service.coordinator._poll_initial_s = 0.05
        service.coordinator._poll_max_s = 0.2
        settings = UiSettings(QSettings(str(tmp_path / f"live{len(made)}.ini"), QSettings.Format.IniFormat))
        settings.refresh_interval_s = interval_s
        window = MainWindow(service, settings=settings, read_only=read_only or config.read_only)
        window.config_store = config
        window.prompt = prompt
        prompt.parent = window
        window.update_empty_hint()
        made.append((window, service))
        window.show()
        window.start()
        return window

    yield make
    for window, service in made:
        for dialog in window.findChildren(QWidget):
            if dialog.isWindow() and dialog.isVisible() and dialog is not window:
                dialog.close()

        async def close(w: Any = window, s: Any = service) -> None:
            await w.aclose()
            await s.aclose()

        task = qloop.create_task(close())
        qtbot.waitUntil(task.done, timeout=15_000)
        assert task.exception() is None
        window.close()
        window.deleteLater()


def loaded(window: Any, name: str) -> bool:
    health = window.service.health.get(name)
    return health is not None and health.state == "connected" and bool(window.accounts_model.accounts(name))
