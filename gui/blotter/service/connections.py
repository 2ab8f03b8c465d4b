"""Adding, editing, testing and removing connections: one code path for the CLI and the window.

``save_connection`` and ``delete_connection`` block (the keyring talks D-Bus): the window calls them
through ``asyncio.to_thread``. Secrets go to the credential store only, one entry per connection and
field; the config file gets everything else. Messages never contain a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from ..core import Account, ConfigError, ConnectionSpec, CredentialError, Venue, validate_connection_name
from ..core.urls import validate_base_url
from ..store.config import ConfigStore, check_rate_limit_per_s, check_timeout_s
from ..store.credentials import CachedCredentialStore, CredentialStore, read_secrets
from ..venues.base import CodePrompt
from ..venues.registry import FIELDS, create_adapter
from .session import required_secrets_missing

CANCEL_MODES = ("quick", "sync")
_API_VERSION_RE = re.compile(r"^v?[0-9]+(\.[0-9]+)?$")
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_VENUE_NAMES = {Venue.AUTOSHARES: "AutoShares", Venue.SNAPTRADE: "SnapTrade", Venue.TANX: "tanX"}
TANX_TOKEN_FIELDS = ("access_token", "refresh_token")


def venue_label(venue: Venue) -> str:
    return _VENUE_NAMES.get(venue, venue.value)


def validate_spec(spec: ConnectionSpec) -> ConnectionSpec:
    """Everything non-secret checked and normalised (URL, options); ``ConfigError`` in plain words."""
    validate_connection_name(spec.name)
    base_url = validate_base_url(spec.base_url)
    fields = FIELDS[spec.venue]
    unknown = sorted(set(spec.options) - set(fields.options))
    if unknown:
        raise ConfigError(f"unknown option(s) for {venue_label(spec.venue)}: {', '.join(unknown)}")
    options = {k: str(v).strip() for k, v in spec.options.items() if str(v).strip()}
    for name in fields.required_options:
        if not options.get(name):
            raise ConfigError(f"{venue_label(spec.venue)} connections need a {name.replace('_', ' ')}")
    if spec.venue is Venue.AUTOSHARES:
        mode = options.get("cancel_mode", "quick").lower()
        if mode not in CANCEL_MODES:
            raise ConfigError(f"AutoShares cancel mode must be quick or sync, not {mode!r}")
        options["cancel_mode"] = mode
        version = options.get("api_version", "")
        if version and not _API_VERSION_RE.match(version):
            raise ConfigError(f"AutoShares API version must look like 1.0, not {version!r}")
    if spec.venue is Venue.TANX and options.get("eth_address"):
        options["eth_address"] = checksum_address(options["eth_address"])
    check_timeout_s(spec.timeout_s)  # finite, > 0, at most MAX_TIMEOUT_S (nan and 0 refused)
    check_rate_limit_per_s(spec.rate_limit_per_s)  # 0 or a sane budget (1e-300 would never send)
    check_ca_bundle(spec.ca_bundle)
    return replace(spec, base_url=base_url, options=options)


def checksum_address(address: str) -> str:
    from eth_utils.address import to_checksum_address

    text = address.strip()
    if not _ADDRESS_RE.match(text):
        raise ConfigError(f"eth address {text!r} is not 0x followed by 40 hex digits")
    return str(to_checksum_address(text))


def derive_eth_address(private_key: str) -> str:
    """The wallet address of a private key; ``ConfigError`` (never echoing the key) if it is not one."""
    from eth_account import Account as EthAccount

    try:
        return str(EthAccount.from_key(private_key.strip()).address)
    except Exception:  # eth_account raises several types; never echo the key
        raise ConfigError("the wallet private key is not valid (expected 64 hex digits, 0x optional)") from None


MAX_SECRET_CHARS = 16_384  # a key or token is far shorter; a pasted file is not a secret
_HEX_KEY_RE = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def clean_secret(field: str, value: str) -> str:
    """A pasted secret as the venue expects it: surrounding whitespace (a trailing newline) dropped; inner
    whitespace or control characters, an absurd length, or a malformed wallet key refused — in words that
    never echo the value."""
    text = value.strip()
    if len(text) > MAX_SECRET_CHARS:
        raise CredentialError(f"the {field.replace('_', ' ')} is {len(text):,} characters long; a secret is at most "
                              f"{MAX_SECRET_CHARS:,} (was a file pasted?)")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise CredentialError(f"the {field.replace('_', ' ')} contains spaces, line breaks or control characters; "
                              "paste it again without them")
    if field == "private_key" and not _HEX_KEY_RE.fullmatch(text):
        raise CredentialError("the wallet's private key must be 64 hex digits (with or without 0x)")
    return text


def check_ca_bundle(path: str) -> str:
    """An extra CA bundle must be a readable PEM file with at least one certificate (checked when added,
    not first at use)."""
    if not path:
        return path
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            head = fh.read(1_000_000)
    except OSError as exc:
        raise ConfigError(f"cannot read the CA bundle {path}: {exc.strerror or type(exc).__name__}") from None
    if "-----BEGIN CERTIFICATE-----" not in head:
        raise ConfigError(f"{path} is not a PEM CA bundle (no '-----BEGIN CERTIFICATE-----' in it)")
    return path


def check_secrets(spec: ConnectionSpec, secrets: Mapping[str, str]) -> ConnectionSpec:
    """Complete and consistent secrets for the (validated) spec; returns it with tanX's derived address."""
    missing = required_secrets_missing(spec, secrets)
    if missing:
        raise CredentialError(f"missing secret(s) for {venue_label(spec.venue)}: {', '.join(missing)}")
    if spec.venue is Venue.TANX:
        key = secrets.get("private_key", "")
        configured = spec.option("eth_address")
        if key:
            derived = derive_eth_address(key)
            if configured and configured != derived:
                raise ConfigError(f"eth address {configured} is not the address of this private key ({derived})")
            return replace(spec, options={**spec.options, "eth_address": derived})
        if not configured:
            raise ConfigError("with pasted tokens the wallet's eth address is needed")
    return spec


def save_connection(
    config: ConfigStore,
    credentials: CredentialStore,
    spec: ConnectionSpec,
    secrets: Mapping[str, str],
    *,
    replace_existing: bool = False,
    clear: Iterable[str] = (),
    session_only: bool = False,
) -> ConnectionSpec:
    """Validate, write the secrets (non-empty values only: an empty field keeps what is stored), delete
    the ``clear`` fields, then write the config. Blocking. On failure nothing is left half-written.

    ``session_only`` keeps the secrets in memory for this run (a ``CachedCredentialStore``): the choice
    offered when no keyring is usable.
    """
    spec = validate_spec(spec)
    fields = FIELDS[spec.venue].secrets
    unknown = sorted(set(secrets) - set(fields))
    if unknown:
        raise ConfigError(f"unknown secret field(s) for {venue_label(spec.venue)}: {', '.join(unknown)}")
    exists = spec.name in config
    if exists and not replace_existing:
        raise ConfigError(f"a connection named {spec.name!r} already exists; choose another name or edit it")
    if replace_existing and not exists:
        raise ConfigError(f"connection {spec.name!r} no longer exists")
    if replace_existing and config.get(spec.name).venue is not spec.venue:
        raise ConfigError("a connection's venue cannot change: remove it and add a new one")
    new = {k: clean_secret(k, v) for k, v in secrets.items() if v and v.strip()}
    clear = [f for f in clear if f in fields and f not in new]
    if session_only and not isinstance(credentials, CachedCredentialStore):
        raise CredentialError("secrets can be kept for this session only in the window")
    old = read_secrets(credentials, spec.name, fields) if exists else {}
    merged = {k: v for k, v in {**old, **new}.items() if k not in clear}
    spec = check_secrets(spec, merged)

    written: list[str] = []
    try:
        for name in fields:
            if name in new:
                written.append(name)
                if session_only:
                    assert isinstance(credentials, CachedCredentialStore)
                    credentials.keep_for_session(spec.name, name, new[name])
                else:
                    credentials.set(spec.name, name, new[name])
        for name in clear:
            credentials.delete(spec.name, name)
            written.append(name)
        config.add(spec, replace_existing=replace_existing)
    except BaseException:
        for name in written:  # put back what was there (a new connection had nothing)
            try:
                if name in old:
                    credentials.set(spec.name, name, old[name])
                else:
                    credentials.delete(spec.name, name)
            except CredentialError:
                pass
        raise
    return spec


def delete_connection(config: ConfigStore, credentials: CredentialStore, name: str) -> ConnectionSpec:
    """Delete every keyring entry of the connection, then its config entry (blocking).

    If the keyring cannot be reached the config is left as it is, so the removal can be retried and no
    entry is orphaned silently.
    """
    spec = config.get(name)
    for field_name in FIELDS[spec.venue].secrets:
        credentials.delete(name, field_name)
    config.remove(name)
    if isinstance(credentials, CachedCredentialStore):
        credentials.forget_session(name)
    return spec


def stored_fields(credentials: CredentialStore, spec: ConnectionSpec) -> dict[str, str]:
    """The connection's stored secrets (blocking): the editor's "stored — leave empty to keep"."""
    return read_secrets(credentials, spec.name, FIELDS[spec.venue].secrets)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What "Test connection" found: the accounts, and tokens the venue rotated while logging in."""

    accounts: list[Account]
    rotated: Mapping[str, str] = field(default_factory=dict)


async def probe_connection(
    spec: ConnectionSpec,
    secrets: Mapping[str, str],
    *,
    code_prompt: CodePrompt | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProbeResult:
    """Log in and list the accounts with a throw-away adapter; raises the venue's words on failure."""
    spec = check_secrets(validate_spec(spec), secrets)
    rotated: dict[str, str] = {}
    adapter: Any = create_adapter(spec, secrets, transport=transport, code_prompt=code_prompt)
    on_tokens = getattr(adapter, "on_tokens", None)
    if on_tokens is not None:
        on_tokens(rotated.update)
    try:
        await adapter.login()
        accounts: list[Account] = await adapter.list_accounts()
    finally:
        await adapter.aclose()
    return ProbeResult(accounts, dict(rotated))
