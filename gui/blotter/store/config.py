"""Connections in a TOML file in the config dir. Secrets are never written here (see credentials).

Besides ``[connections]`` the file may hold ``[audit] retention_days = 90`` (days the audit trail keeps;
0 keeps everything) and ``[app] read_only = true`` (the support role: no cancel at all). Other tables
are kept as they are when the file is rewritten.
"""

from __future__ import annotations

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


class ConfigStore:
    """Reads and writes ``connections.toml``; every write is atomic and private (0600)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.config_file()
        self._connections: dict[str, ConnectionSpec] = {}
        self._other: dict[str, Any] = {}  # tables other than [connections], written back unchanged
        self.load()

    def load(self) -> None:
        self._connections = {}
        self._other = {}
        if not self.path.exists():
            return
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {self.path} is not valid TOML: {exc}") from None
        self._other = {k: v for k, v in data.items() if k != "connections"}
        for name, entry in dict(data.get("connections", {})).items():
            self._connections[name] = _spec_from_toml(name, entry, self.path)

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
        """How many days the audit trail keeps (``[audit] retention_days``; default 90, 0 = forever)."""
        audit = self._other.get("audit", {})
        value = audit.get("retention_days", DEFAULT_RETENTION_DAYS) if isinstance(audit, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"config file {self.path}: [audit] retention_days must be a number of days >= 0")
        return float(value)

    def set_audit_retention_days(self, days: float) -> None:
        if days < 0:
            raise ConfigError("audit retention must be a number of days >= 0")
        audit = self._other.get("audit")
        self._other["audit"] = {**(audit if isinstance(audit, dict) else {}), "retention_days": days}
        self.save()

    @property
    def read_only(self) -> bool:
        """Blotter-wide read-only (``[app] read_only``): no cancel from the window or the CLI."""
        app = self._other.get("app", {})
        return isinstance(app, dict) and app.get("read_only") is True

    def set_read_only(self, value: bool) -> None:
        app = self._other.get("app")
        self._other["app"] = {**(app if isinstance(app, dict) else {}), "read_only": bool(value)}
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


def _spec_from_toml(name: str, entry: Any, path: Path) -> ConnectionSpec:
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
    try:
        return ConnectionSpec(
            name=validate_connection_name(name),
            venue=venue,
            base_url=validate_base_url(str(entry.get("base_url", ""))),
            options={str(k): str(v) for k, v in options.items()},
            read_only=bool(entry.get("read_only", False)),
            ca_bundle=str(entry.get("ca_bundle", "")),
            timeout_s=float(entry.get("timeout_s", 10.0)),
            rate_limit_per_s=float(entry.get("rate_limit_per_s", 0.0)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
