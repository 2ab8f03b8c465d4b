"""Base-URL rules shared by the config store, the adapters and the dialogs."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import ConfigError


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(url: str) -> str:
    """Return the normalised base URL (no trailing slash) or raise ``ConfigError``.

    https is required, except for loopback addresses (the simulators).
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise ConfigError(f"malformed base URL {text!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"malformed base URL {text!r}: expected https://host[:port][/path]")
    if parts.query or parts.fragment:
        raise ConfigError(f"malformed base URL {text!r}: it must not have a query or fragment")
    if parts.username or parts.password:
        raise ConfigError("malformed base URL: credentials do not belong in the URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"base URL {text!r} uses plain http; https is required except for loopback addresses"
        )
    del port
    return text.rstrip("/")
