"""What a connection is: everything non-secret an adapter needs to reach one venue login."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ConfigError
from .model import Venue

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_connection_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise ConfigError(
            f"invalid connection name {name!r}: use 1-64 letters, digits, '.', '_' or '-' (no '/')"
        )
    return name


@dataclass(frozen=True, slots=True)
class ConnectionSpec:
    """Everything non-secret an adapter needs. Secrets are passed beside it, never stored in it."""

    name: str
    venue: Venue
    base_url: str
    options: Mapping[str, str] = field(default_factory=dict)
    read_only: bool = False
    ca_bundle: str = ""  # extra CA bundle file; TLS verification itself is never turned off
    timeout_s: float = 10.0
    rate_limit_per_s: float = 0.0  # client-side request budget; 0 = none

    def option(self, name: str, default: str = "") -> str:
        return self.options.get(name, default) or default
