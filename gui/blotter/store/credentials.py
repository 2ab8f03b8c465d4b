"""Secrets: the OS keyring (one entry per connection and field, service ``blotter``) or memory.

No code path writes a secret anywhere else. keyring calls block on D-Bus; the GUI calls these from a
worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import keyring
import keyring.errors

from ..core import CredentialError

SERVICE = "blotter"


def _entry(connection: str, field: str) -> str:
    return f"{connection}/{field}"


class CredentialStore(Protocol):
    description: str

    def get(self, connection: str, field: str) -> str | None: ...

    def set(self, connection: str, field: str, value: str) -> None: ...

    def delete(self, connection: str, field: str) -> None: ...


class KeyringCredentialStore:
    """The OS keyring through ``keyring`` (honours ``PYTHON_KEYRING_BACKEND``)."""

    def __init__(self) -> None:
        backend = keyring.get_keyring()
        self.description = f"OS keyring ({type(backend).__module__}.{type(backend).__name__})"

    def get(self, connection: str, field: str) -> str | None:
        try:
            return keyring.get_password(SERVICE, _entry(connection, field))
        except keyring.errors.KeyringError as exc:
            raise _unusable(exc) from None

    def set(self, connection: str, field: str, value: str) -> None:
        try:
            keyring.set_password(SERVICE, _entry(connection, field), value)
        except keyring.errors.KeyringError as exc:
            raise _unusable(exc) from None

    def delete(self, connection: str, field: str) -> None:
        try:
            keyring.delete_password(SERVICE, _entry(connection, field))
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored for that field
        except keyring.errors.KeyringError as exc:
            raise _unusable(exc) from None


class MemoryCredentialStore:
    """Secrets kept for this session only (demo mode, or when no keyring is usable)."""

    description = "memory (this session only)"

    def __init__(self, initial: Mapping[tuple[str, str], str] | None = None) -> None:
        self._values: dict[tuple[str, str], str] = dict(initial or {})

    def get(self, connection: str, field: str) -> str | None:
        return self._values.get((connection, field))

    def set(self, connection: str, field: str, value: str) -> None:
        self._values[(connection, field)] = value

    def delete(self, connection: str, field: str) -> None:
        self._values.pop((connection, field), None)


def read_secrets(store: CredentialStore, connection: str, fields: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in fields:
        value = store.get(connection, field)
        if value:
            out[field] = value
    return out


def _unusable(exc: keyring.errors.KeyringError) -> CredentialError:
    kind = type(exc).__name__
    hint = (
        "no usable keyring: start a Secret Service (e.g. gnome-keyring) in your desktop session, "
        "or choose a backend with PYTHON_KEYRING_BACKEND"
    )
    if isinstance(exc, keyring.errors.KeyringLocked):
        hint = "the keyring is locked: unlock it and try again"
    return CredentialError(f"{hint} ({kind}: {exc})")
