"""Credential store against a real Secret Service (gnome-keyring), and with no keyring at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import keyring
import keyring.backend
import keyring.core
import keyring.errors
import pytest

from blotter.core import CredentialError
from blotter.store.credentials import (
    KeyringCredentialStore,
    KeyringUnavailable,
    MemoryCredentialStore,
    read_secrets,
)


@pytest.mark.usefixtures("real_keyring")
def test_set_get_delete_in_the_real_keyring() -> None:
    store = KeyringCredentialStore()
    assert "SecretService" in store.description
    store.set("as-live", "password", "correct horse battery staple")
    store.set("as-live", "app_key", "app-key-123456")
    assert KeyringCredentialStore().get("as-live", "password") == "correct horse battery staple"
    assert read_secrets(store, "as-live", ["app_key", "password", "nothing"]) == {
        "app_key": "app-key-123456", "password": "correct horse battery staple"}
    store.delete("as-live", "password")
    store.delete("as-live", "password")  # deleting twice is fine
    assert store.get("as-live", "password") is None
    # one entry per connection and field, under our service name
    assert keyring.get_password("blotter", "as-live/app_key") == "app-key-123456"


def test_no_usable_keyring_says_so_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    try:
        store = KeyringCredentialStore()
        with pytest.raises(CredentialError, match="no usable keyring") as err:
            store.set("x", "password", "never-stored-anywhere")
        assert "never-stored-anywhere" not in str(err.value)
        with pytest.raises(CredentialError, match="PYTHON_KEYRING_BACKEND"):
            store.get("x", "password")
    finally:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        keyring.core.init_backend()


def test_memory_store_is_session_only() -> None:
    store = MemoryCredentialStore({("demo", "password"): "pw-in-memory"})
    assert store.get("demo", "password") == "pw-in-memory"
    store.delete("demo", "password")
    assert store.get("demo", "password") is None


# ---------------------------------------------------------------------- hostile backends (M6, LOW)
class _OddBackend(keyring.backend.KeyringBackend):
    """A backend that misbehaves the way real ones were seen to: raises anything, answers bytes, is slow."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, *, error: BaseException | None = None, answer: object = None, delay_s: float = 0.0) -> None:
        super().__init__()
        self.error, self.answer, self.delay_s = error, answer, delay_s

    def _act(self) -> object:
        import time

        time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.answer

    def get_password(self, service: str, username: str) -> str | None:
        return self._act()  # type: ignore[return-value]

    def set_password(self, service: str, username: str, password: str) -> None:
        self._act()

    def delete_password(self, service: str, username: str) -> None:
        self._act()


@pytest.fixture
def odd_keyring() -> Iterator[Callable[..., KeyringCredentialStore]]:
    def use(**kwargs: object) -> KeyringCredentialStore:
        keyring.set_keyring(_OddBackend(**kwargs))  # type: ignore[arg-type]
        return KeyringCredentialStore()

    yield use
    keyring.core.init_backend()


@pytest.mark.parametrize("error", [RuntimeError("D-Bus said SUPER-SECRET-VALUE"), OSError(5, "SUPER-SECRET-VALUE"),
                                   keyring.errors.PasswordSetError("SUPER-SECRET-VALUE")])
def test_any_backend_failure_is_one_line_that_never_echoes_its_text(odd_keyring, error: BaseException) -> None:
    store = odd_keyring(error=error)
    for call in (lambda: store.get("c", "password"), lambda: store.set("c", "password", "SUPER-SECRET-VALUE"),
                 lambda: store.delete("c", "password")):
        with pytest.raises(KeyringUnavailable) as err:
            call()
        text = str(err.value)
        assert type(error).__name__ in text and "SUPER-SECRET" not in text and "\n" not in text
        assert err.value.__cause__ is None and err.value.__suppress_context__


def test_a_backend_answering_bytes_or_other_types(odd_keyring) -> None:
    assert odd_keyring(answer=b"pw-as-bytes").get("c", "password") == "pw-as-bytes"
    with pytest.raises(KeyringUnavailable, match="bytes that are not text"):
        odd_keyring(answer=b"\xff\xfe").get("c", "password")
    with pytest.raises(KeyringUnavailable, match="with a int, not text"):
        odd_keyring(answer=12345).get("c", "password")


def test_a_backend_typo_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.Backend")
    keyring.core._keyring_backend = None  # type: ignore[attr-defined]
    try:
        with pytest.raises(KeyringUnavailable, match="PYTHON_KEYRING_BACKEND names a keyring backend that cannot be"):
            KeyringCredentialStore()
    finally:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        keyring.core.init_backend()


def test_a_slow_keyring_says_which_field_it_waits_for(odd_keyring) -> None:
    store = odd_keyring(answer="pw", delay_s=0.4)
    notes: list[str] = []
    store.on_slow, store.slow_after_s = notes.append, 0.1
    assert store.get("as-live", "app_key") == "pw"
    assert notes == ["still waiting for the keyring to read app_key of connection 'as-live'"]
    store.slow_after_s = 5.0
    store.get("as-live", "password")
    assert len(notes) == 1  # a quick answer says nothing
