"""The connection editor: one venue connection's fields, Test (log in and list the accounts) and Save.

Secrets go to the credential store only (the OS keyring, or — when no keyring is usable and the trader
says so — memory for this session); every keyring call runs in a worker thread. Editing never asks for
secrets again: an empty secret field keeps what is stored. A second connection to a login another one
already uses is named at Test and Save (``service.duplicates``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core import Account, BlotterError, ConfigError, ConnectionSpec, CredentialError, Venue
from ...service.connections import (
    TANX_TOKEN_FIELDS,
    ProbeResult,
    derive_eth_address,
    probe_connection,
    save_connection,
    stored_fields,
    validate_spec,
    venue_label,
)
from ...service.duplicates import duplicate_warning, login_of
from ...service.session import required_secrets_missing
from ...store.config import ConfigStore
from ...store.credentials import CachedCredentialStore, CredentialStore, KeyringUnavailable
from ...venues.base import CodePrompt
from ...venues.registry import FIELDS
from ..tasks import TaskSet
from .verification import VerificationPrompt


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One input of a venue's form: an option (config) or a secret (keyring)."""

    name: str
    label: str
    secret: bool
    help: str
    placeholder: str = ""


DEFAULT_URLS = {
    Venue.AUTOSHARES: "",  # white label: the broker's own host
    Venue.SNAPTRADE: "https://api.snaptrade.com",
    Venue.TANX: "https://api.tanx.fi",
}
URL_HINTS = {
    Venue.AUTOSHARES: "https://api.autoshares.com (sandbox: https://api.autoshares.dev)",
    Venue.SNAPTRADE: "https://api.snaptrade.com",
    Venue.TANX: "https://api.tanx.fi (testnet: https://api-testnet.tanx.fi)",
}
FORMS: dict[Venue, tuple[FieldInfo, ...]] = {
    Venue.AUTOSHARES: (
        FieldInfo("username", "User name", False, "The AutoShares (ETNA Trader) login of the trader."),
        FieldInfo("password", "Password", True, "That login's password."),
        FieldInfo("app_key", "App key", True,
                  "The Et-App-Key of your broker's API application (back office: Companies → WebApi)."),
        FieldInfo("api_version", "API version", False, "The version path segment; normally 1.0.", "1.0"),
    ),
    Venue.SNAPTRADE: (
        FieldInfo("client_id", "Client ID", False, "Your SnapTrade partner client id (dashboard → API keys)."),
        FieldInfo("consumer_key", "Consumer key", True, "The partner consumer key; it signs every request."),
        FieldInfo("user_id", "User ID", False, "The SnapTrade user registered for this trader."),
        FieldInfo("user_secret", "User secret", True, "That user's secret (returned when the user was registered)."),
    ),
    Venue.TANX: (
        FieldInfo("private_key", "Wallet private key", True,
                  "64 hex digits. Blotter signs tanX's login message with it; the address is derived."),
        FieldInfo("eth_address", "Wallet address", False, "The wallet's 0x address (one wallet = one account)."),
        FieldInfo("access_token", "Access token", True, "A tanX access token (JWT) from a logged-in session."),
        FieldInfo("refresh_token", "Refresh token", True,
                  "Its refresh token. tanX rotates it on every refresh; Blotter keeps the newest in the keyring."),
    ),
}
CANCEL_MODE_HELP = (
    "quick: DELETE …/orders/{id}; the venue answers once it has taken the request.\n"
    "sync: DELETE …/syncorders/{id}; the venue checks with the market first (slower, more certain)."
)
_BUSY_TEXT = "Working…"


def describe_accounts(result: ProbeResult, venue: Venue) -> str:
    accounts = result.accounts
    if not accounts:
        return f"Logged in to {venue_label(venue)}, but it lists no account for this login."
    lines = [f"Logged in to {venue_label(venue)}: {len(accounts)} account{'s' if len(accounts) != 1 else ''}"]
    for account in accounts:
        lines.append("  • " + _account_line(account))
    if result.rotated:
        lines.append("The venue issued new tokens while logging in; saving keeps them.")
    return "\n".join(lines)


def _account_line(account: Account) -> str:
    name = account.name if account.name and account.name != account.account_id else ""
    text = f"{name} ({account.account_id})" if name else account.account_id
    if account.read_only:
        text += " — read-only at the venue: Blotter will not cancel here"
    return text


class _Busy:
    """Runs one coroutine at a time for a dialog, with its buttons disabled meanwhile.

    A test (network) may be abandoned when the dialog closes; a write (keyring, config) never is: the
    dialog stays open until it has finished, so the window always learns what was stored.
    """

    def __init__(self, owner: QWidget, tasks: TaskSet, on_change: Callable[[bool], None]) -> None:
        self._owner = owner
        self._tasks = tasks
        self._on_change = on_change
        self.task: asyncio.Task[Any] | None = None
        self.writing = False

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def run(self, coro: Coroutine[Any, Any, Any], name: str, *, writes: bool = False) -> asyncio.Task[Any] | None:
        if self.busy:
            coro.close()
            return None
        self.writing = writes
        self.task = self._tasks.spawn(self._wrapped(coro), name=name)
        return self.task

    async def _wrapped(self, coro: Coroutine[Any, Any, Any]) -> Any:
        self._on_change(True)
        try:
            return await coro
        finally:
            self.task = None
            self.writing = False
            if shiboken6.isValid(self._owner):  # an abandoned test ends after its dialog is gone
                self._on_change(False)

    def cancel(self) -> None:
        if self.task is not None and not self.writing:
            self.task.cancel()


class ConnectionEditor(QDialog):
    """Adds (``existing`` None) or edits one connection. ``saved(spec)`` when it is stored."""

    saved = Signal(object)

    def __init__(
        self,
        config: ConfigStore,
        credentials: CredentialStore,
        *,
        existing: ConnectionSpec | None = None,
        venue: Venue = Venue.AUTOSHARES,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("connectionEditor")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.config = config
        self.credentials = credentials
        self.existing = existing
        self.stored: set[str] = set()  # secret fields stored for the connection being edited
        self.stored_loaded = existing is None
        self.tasks = TaskSet()
        self.busy = _Busy(self, self.tasks, self._set_busy)
        self.prompt = VerificationPrompt(self)
        self.last_result: ProbeResult | None = None
        self._duplicate_accepted = ""  # the login the trader chose to connect twice (Save pressed again)
        self._save_note = ""  # why the last Save did not save
        self.setWindowTitle(f"Edit connection {existing.name}" if existing else "Add a connection")

        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.addLayout(form)
        self.venue_combo = QComboBox()
        self.venue_combo.setObjectName("venueCombo")
        for v in (Venue.AUTOSHARES, Venue.SNAPTRADE, Venue.TANX):
            self.venue_combo.addItem(venue_label(v), v)
        form.addRow(_label("Venue:"), self.venue_combo)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("connectionName")
        self.name_edit.setPlaceholderText("e.g. as-live (letters, digits, . _ -)")
        self.name_edit.setToolTip("How Blotter names this login in the tree, the status pane and order keys.")
        form.addRow(_label("Name:"), self.name_edit)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("baseUrl")
        form.addRow(_label("Base URL:"), self.url_edit)

        self.pages = QStackedWidget()
        self.pages.setObjectName("venuePages")
        self.fields: dict[str, QLineEdit] = {}
        self._page_index: dict[Venue, int] = {}
        for v in (Venue.AUTOSHARES, Venue.SNAPTRADE, Venue.TANX):
            self._page_index[v] = self.pages.addWidget(self._build_page(v))
        layout.addWidget(self.pages)
        self.note = QLabel()
        self.note.setObjectName("venueNote")
        self.note.setWordWrap(True)
        self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.note)

        self.read_only = QCheckBox("Read-only: never cancel on this connection (support role)")
        self.read_only.setObjectName("connectionReadOnly")
        layout.addWidget(self.read_only)

        self.error_label = _Message()
        self.error_label.setObjectName("editorError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        layout.addWidget(self.error_label)
        self.result_label = _Message()
        self.result_label.setObjectName("editorResult")
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result_label)

        self.session_panel = QFrame()
        self.session_panel.setObjectName("sessionPanel")
        self.session_panel.setFrameShape(QFrame.Shape.StyledPanel)
        panel = QVBoxLayout(self.session_panel)
        self.session_message = QLabel()
        self.session_message.setObjectName("sessionMessage")
        self.session_message.setTextFormat(Qt.TextFormat.PlainText)
        self.session_message.setWordWrap(True)
        panel.addWidget(self.session_message)
        row = QHBoxLayout()
        row.addStretch(1)
        self.keep_button = QPushButton("Keep for this session only")
        self.keep_button.setObjectName("keepForSession")
        self.keep_button.clicked.connect(self.keep_for_session)
        row.addWidget(self.keep_button)
        self.session_cancel = QPushButton("Don't save")
        self.session_cancel.setObjectName("sessionCancel")
        self.session_cancel.clicked.connect(self.session_panel.hide)
        row.addWidget(self.session_cancel)
        panel.addLayout(row)
        self.session_panel.hide()
        layout.addWidget(self.session_panel)

        buttons = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testButton")
        self.test_button.setToolTip("Log in and list the accounts (nothing is saved, nothing is cancelled)")
        self.test_button.clicked.connect(self.test_connection)
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveButton")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self.venue_combo.currentIndexChanged.connect(self._venue_changed)
        for edit in (self.name_edit, self.url_edit, *self.fields.values()):
            edit.textChanged.connect(self._validate)
        self.cancel_mode.currentIndexChanged.connect(self._validate)
        self.tanx_modes.idToggled.connect(lambda *_: self._tanx_mode_changed())
        self.fields["private_key"].textChanged.connect(self._derive_address)

        if existing is not None:
            self._fill(existing)
            self.venue_combo.setEnabled(False)
            self.name_edit.setReadOnly(True)
            self.name_edit.setToolTip("To rename a connection, remove it and add it again.")
            self.busy.run(self._load_stored(existing), "read stored secrets")
        else:
            self.venue_combo.setCurrentIndex(self.venue_combo.findData(venue))
            self._venue_changed()
        self.setMinimumWidth(560)
        self._validate()

    # ------------------------------------------------------------------ construction
    def _build_page(self, venue: Venue) -> QWidget:
        page = QWidget()
        page.setObjectName(f"page_{venue.value}")
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if venue is Venue.TANX:
            self.tanx_modes = QButtonGroup(page)
            wallet = QRadioButton("Wallet private key")
            wallet.setObjectName("tanxWalletMode")
            tokens = QRadioButton("Pasted access + refresh tokens")
            tokens.setObjectName("tanxTokenMode")
            self.tanx_modes.addButton(wallet, 0)
            self.tanx_modes.addButton(tokens, 1)
            wallet.setChecked(True)
            modes = QHBoxLayout()
            modes.addWidget(wallet)
            modes.addWidget(tokens)
            modes.addStretch(1)
            form.addRow(_label("Log in with:"), modes)
        for info in FORMS[venue]:
            edit = QLineEdit()
            edit.setObjectName(f"field_{info.name}")
            edit.setToolTip(info.help)
            if info.placeholder:
                edit.setPlaceholderText(info.placeholder)
            if info.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.fields[info.name] = edit
            form.addRow(_label(f"{info.label}:"), edit)
        if venue is Venue.AUTOSHARES:
            self.cancel_mode = QComboBox()
            self.cancel_mode.setObjectName("field_cancel_mode")
            self.cancel_mode.addItem("quick — orders endpoint", "quick")
            self.cancel_mode.addItem("sync — venue-verified (syncorders)", "sync")
            self.cancel_mode.setToolTip(CANCEL_MODE_HELP)
            form.addRow(_label("Cancel mode:"), self.cancel_mode)
        return page

    def _fill(self, spec: ConnectionSpec) -> None:
        self.venue_combo.setCurrentIndex(self.venue_combo.findData(spec.venue))
        self._venue_changed()
        self.name_edit.setText(spec.name)
        self.url_edit.setText(spec.base_url)
        for name, value in spec.options.items():
            if name in self.fields:
                self.fields[name].setText(value)
        if spec.venue is Venue.AUTOSHARES:
            self.cancel_mode.setCurrentIndex(max(0, self.cancel_mode.findData(spec.option("cancel_mode", "quick"))))
        self.read_only.setChecked(spec.read_only)

    async def _load_stored(self, spec: ConnectionSpec) -> None:
        self.result_label.setText("Reading the stored secrets…")
        try:
            found = await asyncio.to_thread(stored_fields, self.credentials, spec)
        except CredentialError as exc:
            self.result_label.setText(f"The stored secrets cannot be read: {exc}")
            found = {}
        self.stored = set(found)
        self.stored_loaded = True
        if spec.venue is Venue.TANX:
            self.tanx_modes.button(0 if "private_key" in self.stored or not self.stored else 1).setChecked(True)
        self.result_label.setText("")
        self._update_placeholders()
        self._validate()

    # ------------------------------------------------------------------ reading the form
    @property
    def venue(self) -> Venue:
        return Venue(self.venue_combo.currentData())

    def tanx_uses_tokens(self) -> bool:
        return self.tanx_modes.checkedId() == 1

    def spec(self) -> ConnectionSpec:
        """The connection as typed (not yet validated)."""
        venue = self.venue
        options = {info.name: self.fields[info.name].text().strip() for info in FORMS[venue] if not info.secret}
        if venue is Venue.AUTOSHARES:
            options["cancel_mode"] = str(self.cancel_mode.currentData())
            options["api_version"] = options.get("api_version") or "1.0"
        base = self.existing
        return ConnectionSpec(
            name=self.name_edit.text().strip(), venue=venue, base_url=self.url_edit.text().strip(),
            options={k: v for k, v in options.items() if v}, read_only=self.read_only.isChecked(),
            ca_bundle=base.ca_bundle if base else "", timeout_s=base.timeout_s if base else 10.0,
            rate_limit_per_s=base.rate_limit_per_s if base else 0.0,
        )

    def typed_secrets(self) -> dict[str, str]:
        """Secret fields with something typed (the others keep what is stored)."""
        return {name: self.fields[name].text().strip() for name in self._secret_fields()
                if self.fields[name].text().strip()}

    def cleared_fields(self) -> list[str]:
        """tanX: the other login's secrets are deleted (with a wallet key, pasted tokens are ignored)."""
        if self.venue is not Venue.TANX:
            return []
        return ["private_key"] if self.tanx_uses_tokens() else list(TANX_TOKEN_FIELDS)

    def _secret_fields(self) -> list[str]:
        venue = self.venue
        names = [f for f in FIELDS[venue].secrets]
        if venue is Venue.TANX:
            names = list(TANX_TOKEN_FIELDS) if self.tanx_uses_tokens() else ["private_key"]
        return names

    def problem(self) -> str:
        """What keeps the form from being saved, in plain words ("" = nothing)."""
        if not self.stored_loaded:
            return "Reading the stored secrets…"
        spec = self.spec()
        if not spec.name:
            return "Give the connection a name."
        if not spec.base_url:
            return f"Enter the base URL, e.g. {URL_HINTS[spec.venue]}."
        try:
            spec = validate_spec(spec)
            if self.existing is None and spec.name in self.config:
                return f"A connection named {spec.name!r} already exists."
            typed = self.typed_secrets()
            present = {**dict.fromkeys(self.stored - set(self.cleared_fields()), "stored"), **typed}
            if spec.venue is not Venue.TANX:
                missing = required_secrets_missing(spec, present)
                if missing:
                    return f"Enter the {', '.join(missing).replace('_', ' ')}."
            elif self.tanx_uses_tokens():
                missing = [f.replace("_", " ") for f in TANX_TOKEN_FIELDS if f not in present]
                if missing:
                    return f"Enter the {' and the '.join(missing)}."
                if not spec.option("eth_address"):
                    return "With pasted tokens, enter the wallet's 0x address."
            elif "private_key" not in present:
                return "Enter the wallet private key."
            elif "private_key" in typed:
                derive_eth_address(typed["private_key"])
        except BlotterError as exc:
            return str(exc)
        return ""

    # ------------------------------------------------------------------ reacting
    def _venue_changed(self) -> None:
        venue = self.venue
        self.pages.setCurrentIndex(self._page_index[venue])
        self.note.setText(_page_note(venue))
        self.url_edit.setPlaceholderText(URL_HINTS[venue])
        if self.existing is None and (not self.url_edit.text() or self.url_edit.text() in DEFAULT_URLS.values()):
            self.url_edit.setText(DEFAULT_URLS[venue])
        self._tanx_mode_changed()
        self._validate()

    def _tanx_mode_changed(self) -> None:
        tokens = self.tanx_uses_tokens()
        self.fields["private_key"].setEnabled(not tokens)
        for name in TANX_TOKEN_FIELDS:
            self.fields[name].setEnabled(tokens)
        self.fields["eth_address"].setReadOnly(not tokens)
        if not tokens:
            self._derive_address()
        self._update_placeholders()
        self._validate()

    def _derive_address(self) -> None:
        if self.venue is not Venue.TANX or self.tanx_uses_tokens():
            return
        key = self.fields["private_key"].text().strip()
        if not key:
            if self.existing is None or "private_key" not in self.stored:
                self.fields["eth_address"].setText("")
            return
        try:
            self.fields["eth_address"].setText(derive_eth_address(key))
        except ConfigError:
            self.fields["eth_address"].setText("")

    def _update_placeholders(self) -> None:
        used = self._secret_fields()
        for info in FORMS[self.venue]:
            if info.secret:
                text = "stored — leave empty to keep" if info.name in self.stored else "required"
                self.fields[info.name].setPlaceholderText(text if info.name in used else "not used")
        if self.venue is Venue.TANX:
            self.fields["eth_address"].setPlaceholderText(
                "typed: 0x…" if self.tanx_uses_tokens() else "derived from the private key")

    def _validate(self, *_args: object) -> None:
        problem = self.problem()
        self.error_label.setText(problem or self._save_note)  # the last Save's words stay until the next one
        idle = not self.busy.busy
        self.save_button.setEnabled(idle and not problem)
        self.test_button.setEnabled(idle and not problem)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.venue_combo, self.pages, self.read_only, self.url_edit):
            widget.setEnabled(not busy and (widget is not self.venue_combo or self.existing is None))
        self.keep_button.setEnabled(not busy)
        if busy:
            self.save_button.setEnabled(False)
            self.test_button.setEnabled(False)
        else:
            self._validate()

    # ------------------------------------------------------------------ test, save
    def test_connection(self) -> asyncio.Task[Any] | None:
        return self.busy.run(self._test(), "test connection")

    async def _test(self) -> None:
        self.result_label.setStyleSheet("")
        self.result_label.setText(f"Logging in to {venue_label(self.venue)}…")
        spec = self.spec()
        typed = self.typed_secrets()
        cleared = set(self.cleared_fields())
        try:
            stored: dict[str, str] = {}
            if self.existing is not None:
                stored = await asyncio.to_thread(stored_fields, self.credentials, self.existing)
            secrets = {k: v for k, v in {**stored, **typed}.items() if k not in cleared}
            result = await probe_connection(spec, secrets, code_prompt=self._asking(spec))
        except BlotterError as exc:
            self.last_result = None
            self.result_label.setStyleSheet("color: #b3261e;")
            self.result_label.setText(f"Test failed: {exc}")
            return
        self.last_result = result
        for name, value in result.rotated.items():  # Save must keep the venue's newest tokens
            self.fields[name].setText(value)
        self.result_label.setStyleSheet("color: #1e6b30;")
        text = describe_accounts(result, spec.venue)
        warning = await asyncio.to_thread(self._duplicate_warning, spec)
        if warning:
            self.result_label.setStyleSheet("color: #7a4d00;")
            text += f"\n⚠ {warning}"
        self.result_label.setText(text)

    def _duplicate_warning(self, spec: ConnectionSpec) -> str:
        """Another saved connection to the same venue login (blocking: reads the config)."""
        try:
            others = [s for s in self.config if s.name != (self.existing.name if self.existing else spec.name)]
        except BlotterError:
            return ""
        return duplicate_warning(spec, others)

    def _asking(self, spec: ConnectionSpec) -> CodePrompt:
        async def ask(words: str) -> str:
            return await self.prompt(f"Testing {spec.name!r} ({venue_label(spec.venue)}): {words}")

        return ask

    def save(self) -> asyncio.Task[Any] | None:
        return self.busy.run(self._save(session_only=False), "save connection", writes=True)

    def keep_for_session(self) -> asyncio.Task[Any] | None:
        return self.busy.run(self._save(session_only=True), "keep for this session", writes=True)

    async def _save(self, *, session_only: bool) -> None:
        spec = self.spec()
        secrets = self.typed_secrets()
        self._save_note = ""
        warning = await asyncio.to_thread(self._duplicate_warning, spec)
        login = login_of(spec)
        if warning and self._duplicate_accepted != login:
            self._duplicate_accepted = login  # a second Save keeps both, knowingly
            self._save_note = f"{warning} Press Save again to keep both."
            self.error_label.setText(self._save_note)
            return
        try:
            saved = await asyncio.to_thread(
                save_connection, self.config, self.credentials, spec, secrets,
                replace_existing=self.existing is not None, clear=self.cleared_fields(), session_only=session_only,
            )
        except KeyringUnavailable as exc:
            self._offer_session_only(str(exc))
            return
        except BlotterError as exc:
            self._save_note = f"Not saved: {exc}"
            self.error_label.setText(self._save_note)
            return
        self.session_panel.hide()
        for edit in self.fields.values():  # no secret stays in a widget longer than needed
            if edit.echoMode() == QLineEdit.EchoMode.Password:
                edit.clear()
        self.saved.emit(saved)
        self.accept()

    def _offer_session_only(self, words: str) -> None:
        can_keep = isinstance(self.credentials, CachedCredentialStore)
        text = f"The secrets were not saved: {_headline(words)}.\n\nBlotter never writes a secret to a file. "
        if can_keep:
            text += ("You can keep them for this session only: Blotter forgets them when it quits. The "
                     "connection's other settings are saved, so next time you only enter the secrets again.")
        self.session_message.setText(text)
        self.session_message.setToolTip(words)  # the keyring's own diagnosis, for support
        self.keep_button.setVisible(can_keep)
        self.session_panel.show()
        self.adjustSize()

    def reject(self) -> None:
        if self.busy.writing:
            return  # Esc or Cancel while saving: the save finishes first
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy.writing:
            event.ignore()
            return
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.busy.cancel()
        super().done(result)


LABEL_WIDTH = 120


class _Message(QLabel):
    """A plain-text, wrapped message line that takes no room while it is empty."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.hide()

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))


def _headline(words: str) -> str:
    """A keyring error without the backend's own "(NoKeyringError: …)" text (kept in a tooltip)."""
    found = re.search(r" \(\w+: ", words)
    return words[: found.start()] if found else words


def _label(text: str) -> QLabel:
    """Form labels of one width, so the fields above and inside the venue page line up."""
    label = QLabel(text)
    label.setMinimumWidth(LABEL_WIDTH)
    return label


def _store_all(credentials: CredentialStore, name: str, values: dict[str, str]) -> None:
    for field_name, value in values.items():
        credentials.set(name, field_name, value)


def _page_note(venue: Venue) -> str:
    if venue is Venue.AUTOSHARES:
        return ("Users with two-factor authentication are asked for their code when Blotter logs in. "
                "https is required except for loopback addresses (the simulators).")
    if venue is Venue.SNAPTRADE:
        return ("Requests are signed with the consumer key and a timestamp: this computer's clock must be "
                "right (network time sync on). Accounts the brokerage authorised read-only are never cancelled.")
    return ("With the wallet key Blotter logs in by signing tanX's login message. With pasted tokens no key "
            "is stored; when tanX refuses the refresh token, paste a new pair.")
