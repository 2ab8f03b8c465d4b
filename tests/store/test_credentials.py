"""Credential store against a real Secret Service (gnome-keyring), and with no keyring at all."""

from __future__ import annotations

import keyring
import keyring.core
import pytest

from blotter.core import CredentialError
from blotter.store.credentials import KeyringCredentialStore, MemoryCredentialStore, read_secrets


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
