"""Which adapter serves which venue, and which fields each venue's connection has."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from ..core import ConfigError, Venue
from .base import CodePrompt, ConnectionSpec, VenueAdapter


@dataclass(frozen=True, slots=True)
class VenueFields:
    """Non-secret options (CLI flags, config) and secret fields (keyring) of a venue's connection."""

    options: tuple[str, ...]
    required_options: tuple[str, ...]
    secrets: tuple[str, ...]
    required_secrets: tuple[str, ...]


FIELDS: Mapping[Venue, VenueFields] = {
    Venue.AUTOSHARES: VenueFields(
        options=("username", "cancel_mode", "api_version"),
        required_options=("username",),
        secrets=("app_key", "password"),
        required_secrets=("app_key", "password"),
    ),
    Venue.SNAPTRADE: VenueFields(
        options=("client_id", "user_id"),
        required_options=("client_id", "user_id"),
        secrets=("consumer_key", "user_secret"),
        required_secrets=("consumer_key", "user_secret"),
    ),
    Venue.TANX: VenueFields(
        options=("eth_address",),
        required_options=(),
        secrets=("private_key", "access_token", "refresh_token"),
        required_secrets=(),
    ),
}


def create_adapter(
    spec: ConnectionSpec,
    secrets: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    code_prompt: CodePrompt | None = None,
) -> VenueAdapter:
    if spec.venue is Venue.AUTOSHARES:
        from .autoshares import AutoSharesAdapter

        return AutoSharesAdapter(spec, secrets, transport=transport, code_prompt=code_prompt)
    if spec.venue is Venue.SNAPTRADE:
        from .snaptrade import SnapTradeAdapter

        return SnapTradeAdapter(spec, secrets, transport=transport, code_prompt=code_prompt)
    if spec.venue is Venue.TANX:
        from .tanx import TanxAdapter

        return TanxAdapter(spec, secrets, transport=transport, code_prompt=code_prompt)
    raise ConfigError(f"unknown venue {spec.venue!r}")
