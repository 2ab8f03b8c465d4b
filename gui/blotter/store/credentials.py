"""Secrets: the OS keyring (one entry per connection and field, service ``blotter``) or memory.

No code path writes a secret anywhere else. keyring calls block on D-Bus; the GUI calls these from a
worker thread (``asyncio.to_thread``).

Every keyring failure is one ``KeyringUnavailable`` (a ``CredentialError``: the CLI's exit status 2): a
backend raising anything (``KeyringError``, a ``RuntimeError`` from D-Bus …), a ``PYTHON_KEYRING_BACKEND``
that cannot be loaded, a value that is not text. The backend's own exception text is never repeated (a
backend may put the value in it): only its type.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeVar

from ..core import CredentialError

T = TypeVar("T")
SLOW_KEYRING_S = 5.0  # after this long on one field, ``on_slow`` is told which one it waits for

# keyring itself (~15 ms to import, more with its backends) loads when a keyring store is first made:
# the demo never needs it, and the window makes its store on a worker thread.

SERVICE = "blotter"


class KeyringUnavailable(CredentialError):
    """No keyring can be used (none installed, locked, no D-Bus): nothing was read or written."""


def _entry(connection: str, field: str) -> str:
    return f"{connection}/{field}"


class CredentialStore(Protocol):
    description: str

    def get(self, connection: str, field: str) -> str | None: ...

    def set(self, connection: str, field: str, value: str) -> None: ...

    def delete(self, connection: str, field: str) -> None: ...


class KeyringCredentialStore:
    """The OS keyring through ``keyring`` (honours ``PYTHON_KEYRING_BACKEND``).

    ``on_slow`` (the CLI: a line on stderr) is called once per keyring call that has taken ``slow_after_s``
    seconds, with words naming the connection and field it waits for (a locked keyring, a stuck D-Bus).
    """

    def __init__(self, on_slow: Callable[[str], None] | None = None) -> None:
        import keyring

        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # e.g. a PYTHON_KEYRING_BACKEND naming no module: one line, no traceback
            if os.environ.get("PYTHON_KEYRING_BACKEND"):
                raise KeyringUnavailable(
                    f"PYTHON_KEYRING_BACKEND names a keyring backend that cannot be loaded ({type(exc).__name__}): "
                    "correct it (e.g. keyring.backends.SecretService.Keyring) or unset it") from None
            raise _unusable(exc) from None
        self.description = f"OS keyring ({type(backend).__module__}.{type(backend).__name__})"
        self.on_slow = on_slow
        self.slow_after_s = SLOW_KEYRING_S

    def _call(self, verb: str, connection: str, field: str, fn: Callable[[], T]) -> T:
        """``fn()``, telling ``on_slow`` if it takes longer than ``slow_after_s``."""
        if self.on_slow is None:
            return fn()
        timer = threading.Timer(self.slow_after_s, self.on_slow,
                                (f"still waiting for the keyring to {verb} {field} of connection {connection!r}",))
        timer.daemon = True
        timer.start()
        try:
            return fn()
        finally:
            timer.cancel()

    def get(self, connection: str, field: str) -> str | None:
        import keyring.errors

        try:
            value = self._call("read", connection, field,
                               lambda: keyring.get_password(SERVICE, _entry(connection, field)))
        except Exception as exc:  # KeyringError, and what a backend raises besides (D-Bus RuntimeError, …)
            raise _unusable(exc) from None
        if isinstance(value, bytes):  # a backend that answers bytes
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise KeyringUnavailable(f"the keyring answered {field} of {connection!r} as bytes that are "
                                         "not text; store it again") from None
        if value is not None and not isinstance(value, str):
            raise KeyringUnavailable(f"the keyring answered {field} of {connection!r} with a "
                                     f"{type(value).__name__}, not text; store it again")
        return value

    def set(self, connection: str, field: str, value: str) -> None:
        import keyring.errors

        try:
            self._call("store", connection, field,
                       lambda: keyring.set_password(SERVICE, _entry(connection, field), value))
        except Exception as exc:  # never echo the backend's words: they may carry the value
            raise _unusable(exc) from None

    def delete(self, connection: str, field: str) -> None:
        import keyring.errors

        try:
            self._call("delete", connection, field,
                       lambda: keyring.delete_password(SERVICE, _entry(connection, field)))
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored for that field
        except Exception as exc:
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


class CachedCredentialStore:
    """The GUI's store: reads come from memory, writes go to ``backing`` (the OS keyring) first.

    ``load`` and ``set``/``delete`` block on the backing store: call them off the GUI thread
    (``asyncio.to_thread``). ``get`` never blocks, so the service may read on the GUI thread.
    ``keep_for_session`` is the explicit choice when no keyring is usable: the value lives in memory
    only and is gone when the process ends; later writes for that connection stay in memory too.
    """

    def __init__(self, backing: CredentialStore | None) -> None:
        self.backing = backing
        self._values: dict[tuple[str, str], str] = {}
        self._session_only: set[str] = set()
        self._lock = threading.Lock()
        self.description = backing.description if backing is not None else MemoryCredentialStore.description

    def load(self, connection: str, fields: Iterable[str]) -> None:
        """Read a connection's fields from the backing store into memory (blocking)."""
        if self.backing is None:
            return
        found = read_secrets(self.backing, connection, fields)
        with self._lock:
            for field, value in found.items():
                self._values[(connection, field)] = value

    def check(self) -> None:
        """Raise ``KeyringUnavailable`` (in plain words) if the backing keyring cannot be used (blocking)."""
        if self.backing is None:
            raise KeyringUnavailable("no keyring is configured: secrets can be kept for this session only")
        self.backing.get("", "blotter-keyring-check")

    def get(self, connection: str, field: str) -> str | None:
        with self._lock:
            return self._values.get((connection, field))

    def set(self, connection: str, field: str, value: str) -> None:
        if self.backing is not None and not self.is_session_only(connection):
            self.backing.set(connection, field, value)
        with self._lock:
            if self.backing is None:
                self._session_only.add(connection)
            self._values[(connection, field)] = value

    def keep_for_session(self, connection: str, field: str, value: str) -> None:
        with self._lock:
            self._session_only.add(connection)
            self._values[(connection, field)] = value

    def delete(self, connection: str, field: str) -> None:
        if self.backing is not None:
            try:
                self.backing.delete(connection, field)
            except CredentialError:
                if not self.is_session_only(connection):
                    raise  # the keyring entry is still there: the caller must say so
        with self._lock:
            self._values.pop((connection, field), None)

    def forget_session(self, connection: str) -> None:
        """The connection is gone: later secrets for that name go to the keyring again."""
        with self._lock:
            self._session_only.discard(connection)

    def is_session_only(self, connection: str) -> bool:
        with self._lock:
            return connection in self._session_only


def read_secrets(store: CredentialStore, connection: str, fields: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in fields:
        value = store.get(connection, field)
        if value:
            out[field] = value
    return out


def _unusable(exc: BaseException) -> KeyringUnavailable:
    """One line naming the kind of failure; the backend's own text is never echoed (a contrived backend
    put the secret value in its exception, RELIABILITY-FINDINGS LOW)."""
    kind = type(exc).__name__
    hint = (
        "no usable keyring: start a Secret Service (e.g. gnome-keyring) in your desktop session, "
        "or choose a backend with PYTHON_KEYRING_BACKEND"
    )
    from keyring.errors import KeyringLocked

    if isinstance(exc, KeyringLocked):
        hint = "the keyring is locked: unlock it and try again"
    return KeyringUnavailable(f"{hint} ({kind})")
