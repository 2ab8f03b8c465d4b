"""Connections in a TOML file in the config dir. Secrets are never written here (see credentials).

Besides ``[connections]`` the file may hold ``[audit] retention_days = 90`` (days the audit trail keeps;
0 keeps everything) and ``[app] read_only = true`` (the support role: no cancel at all). Other tables
are kept as they are when the file is rewritten.

Settings fail closed. ``read_only`` (``[app]`` or a connection's) is the TOML boolean ``true`` or ``false``
(absent = ``false``); any other value (``"true"``, ``"yes"``, ``1``, ``"false"`` …) is a problem: a strict
store (the CLI) refuses the file with one line naming the key and the file, a lenient one (the window)
reads it as read-only and lists the problem in ``problems``. Numbers are checked too: ``timeout_s`` is
finite, > 0 and at most ``MAX_TIMEOUT_S``; ``rate_limit_per_s`` is 0 (no limit) or between
``MIN_RATE_LIMIT_PER_S`` and ``MAX_RATE_LIMIT_PER_S``; ``retention_days`` is finite, >= 0 and at most
``MAX_RETENTION_DAYS``. NaN, infinities, strings and booleans are refused (``ConfigError``), never clamped.
"""

from __future__ import annotations

import math
import os
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import tomli_w

from ..core import ConfigError, ConnectionSpec, Venue, validate_connection_name
from ..core.urls import validate_base_url
from . import paths
from .audit import DEFAULT_RETENTION_DAYS

MAX_TIMEOUT_S = 600.0
MIN_RATE_LIMIT_PER_S = 0.01  # one request per 100 s; below that a refresh would take hours
MAX_RATE_LIMIT_PER_S = 1000.0
MAX_RETENTION_DAYS = 36500.0  # a hundred years


class ConfigStore:
    """Reads and writes ``connections.toml``; every write is atomic and private (0600).

    ``strict`` (the CLI): a ``read_only`` that is not a TOML boolean raises ``ConfigError`` at load.
    Otherwise (the window) it reads as read-only and its one-line description is in ``problems``.
    Every other malformed value raises ``ConfigError`` either way.
    """

    def __init__(self, path: Path | None = None, *, strict: bool = False) -> None:
        self.path = path or paths.config_file()
        self.strict = strict
        self._connections: dict[str, ConnectionSpec] = {}
        self._other: dict[str, Any] = {}  # tables other than [connections], written back unchanged
        self._app_read_only = False
        self.problems: list[str] = []  # settings read as read-only because their value is not a boolean
        self.load()

    def load(self) -> None:
        self._connections = {}
        self._other = {}
        self._app_read_only = False
        self.problems = []
        if not self.path.exists():
            return
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {self.path} is not valid TOML: {exc}") from None
        self._other = {k: v for k, v in data.items() if k != "connections"}
        connections = data.get("connections", {})
        if not isinstance(connections, dict):
            raise ConfigError(f"config file {self.path}: connections must be a table of [connections.NAME] "
                              f"entries, not {_describe(connections)}")
        app = self._other.get("app", {})
        if not isinstance(app, dict):
            self._problem(f"config file {self.path}: [app] must be a table, not {_describe(app)}")
            self._app_read_only = True
        else:
            self._app_read_only = self._read_only_flag(app, "[app] read_only")
        for name, entry in connections.items():
            where = f"connection {name!r} in {self.path}"
            read_only = self._read_only_flag(entry, f"{where}: read_only") if isinstance(entry, dict) else False
            self._connections[name] = _spec_from_toml(name, entry, self.path, read_only=read_only)

    def _read_only_flag(self, table: dict[str, Any], key: str) -> bool:
        """``read_only`` of a table: absent or ``false`` → False, ``true`` → True, anything else fails closed."""
        value = table.get("read_only", False)
        if isinstance(value, bool):
            return value
        where = key if key.startswith("connection") else f"config file {self.path}: {key}"
        self._problem(f"{where} must be true or false (a TOML boolean, unquoted), not {_describe(value)}")
        return True

    def _problem(self, text: str) -> None:
        if self.strict:
            raise ConfigError(text)
        self.problems.append(text)

    def __iter__(self) -> Iterator[ConnectionSpec]:
        return iter(sorted(self._connections.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._connections)

    def __contains__(self, name: object) -> bool:
        return name in self._connections

    def get(self, name: str) -> ConnectionSpec:
        try:
            return self._connections[name]
        except KeyError:
            known = ", ".join(sorted(self._connections)) or "none configured"
            raise ConfigError(f"unknown connection {name!r} (known: {known})") from None

    def add(self, spec: ConnectionSpec, *, replace_existing: bool = False) -> ConnectionSpec:
        validate_connection_name(spec.name)
        check_timeout_s(spec.timeout_s)
        check_rate_limit_per_s(spec.rate_limit_per_s)
        spec = replace(spec, base_url=validate_base_url(spec.base_url))
        if spec.name in self._connections and not replace_existing:
            raise ConfigError(f"connection {spec.name!r} already exists; remove it first or edit it")
        self._connections[spec.name] = spec
        self.save()
        return spec

    def remove(self, name: str) -> ConnectionSpec:
        spec = self.get(name)
        del self._connections[name]
        self.save()
        return spec

    @property
    def audit_retention_days(self) -> float:
        """How many days the audit trail keeps (``[audit] retention_days``; default 90, 0 = forever).

        ``ConfigError`` unless a finite number from 0 to ``MAX_RETENTION_DAYS`` (NaN, inf, 1e12 refused)."""
        audit = self._other.get("audit", {})
        value = audit.get("retention_days", DEFAULT_RETENTION_DAYS) if isinstance(audit, dict) else None
        if not _number_in(value, 0.0, MAX_RETENTION_DAYS):
            raise ConfigError(f"config file {self.path}: [audit] retention_days must be a number of days from 0 "
                              f"(keep everything) to {MAX_RETENTION_DAYS:g}, not {_describe(value)}")
        assert isinstance(value, int | float)
        return float(value)

    def set_audit_retention_days(self, days: float) -> None:
        if not _number_in(days, 0.0, MAX_RETENTION_DAYS):
            raise ConfigError(f"audit retention must be a number of days from 0 to {MAX_RETENTION_DAYS:g}")
        audit = self._other.get("audit")
        self._other["audit"] = {**(audit if isinstance(audit, dict) else {}), "retention_days": days}
        self.save()

    @property
    def read_only(self) -> bool:
        """Blotter-wide read-only (``[app] read_only``): no cancel from the window or the CLI.

        Fails closed: only the TOML boolean ``false`` (or no value) is "not read-only"; ``true`` and every
        value that is not a boolean (``"true"``, ``"yes"``, ``1``, ``"false"`` …) read as read-only (a strict
        store refuses such a file at load instead)."""
        return self._app_read_only

    def set_read_only(self, value: bool) -> None:
        app = self._other.get("app")
        self._other["app"] = {**(app if isinstance(app, dict) else {}), "read_only": bool(value)}
        self._app_read_only = bool(value)
        self.problems = [p for p in self.problems if "[app]" not in p]
        self.save()

    def save(self) -> None:
        doc: dict[str, Any] = {**self._other, "connections": {s.name: _spec_to_toml(s) for s in self}}
        paths.ensure_private_dir(self.path.parent)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".connections.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                tomli_w.dump(doc, fh)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError as exc:  # a full disk: name the file (no errno text with an empty filename)
            Path(tmp).unlink(missing_ok=True)
            raise OSError(exc.errno, exc.strerror or type(exc).__name__, str(self.path)) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _spec_to_toml(spec: ConnectionSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"venue": spec.venue.value, "base_url": spec.base_url, "read_only": spec.read_only}
    if spec.ca_bundle:
        out["ca_bundle"] = spec.ca_bundle
    if spec.timeout_s != 10.0:
        out["timeout_s"] = spec.timeout_s
    if spec.rate_limit_per_s:
        out["rate_limit_per_s"] = spec.rate_limit_per_s
    out["options"] = {k: v for k, v in sorted(spec.options.items()) if v}
    return out


def _describe(value: Any) -> str:
    """A config value for an error message: short, one line (config files hold no secrets)."""
    text = repr(value)
    text = text if len(text) <= 40 else text[:39] + "…"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


def _number_in(value: Any, low: float, high: float) -> bool:
    """A real TOML number (not a boolean, not NaN or infinite) from ``low`` to ``high``."""
    return (not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
            and low <= value <= high)


def check_timeout_s(value: Any, where: str = "the timeout") -> float:
    """A venue request timeout: a finite number of seconds, > 0 and at most ``MAX_TIMEOUT_S``."""
    if not _number_in(value, 0.0, MAX_TIMEOUT_S) or value <= 0:
        raise ConfigError(f"{where} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}, "
                          f"not {_describe(value)}")
    return float(value)


def check_rate_limit_per_s(value: Any, where: str = "the rate limit") -> float:
    """A client-side request budget: 0 (none) or ``MIN_RATE_LIMIT_PER_S`` to ``MAX_RATE_LIMIT_PER_S`` a second."""
    if not _number_in(value, 0.0, MAX_RATE_LIMIT_PER_S) or 0 < value < MIN_RATE_LIMIT_PER_S:
        raise ConfigError(f"{where} must be 0 (no limit) or a number of requests a second from "
                          f"{MIN_RATE_LIMIT_PER_S:g} to {MAX_RATE_LIMIT_PER_S:g}, not {_describe(value)}")
    return float(value)


def _spec_from_toml(name: str, entry: Any, path: Path, *, read_only: bool = False) -> ConnectionSpec:
    """One ``[connections.NAME]`` entry; ``read_only`` was read (failing closed) by the store."""
    where = f"connection {name!r} in {path}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is not a table")
    try:
        venue = Venue(str(entry.get("venue", "")))
    except ValueError:
        raise ConfigError(f"{where} has unknown venue {entry.get('venue')!r}") from None
    options = entry.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: options must be a table")
    timeout_s = check_timeout_s(entry.get("timeout_s", 10.0), f"{where}: timeout_s")
    rate_limit_per_s = check_rate_limit_per_s(entry.get("rate_limit_per_s", 0.0), f"{where}: rate_limit_per_s")
    try:
        return ConnectionSpec(
            name=validate_connection_name(name),
            venue=venue,
            base_url=validate_base_url(str(entry.get("base_url", ""))),
            options={str(k): str(v) for k, v in options.items()},
            read_only=read_only,
            ca_bundle=str(entry.get("ca_bundle", "")),
            timeout_s=timeout_s,
            rate_limit_per_s=rate_limit_per_s,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
