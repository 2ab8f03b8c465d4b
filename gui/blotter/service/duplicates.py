"""Two connections that reach the same venue login (issue 14 rule 6).

A second connection to one login doubles every row, and a bulk cancel would reach each venue order twice
(the desk plans one request per venue order, but a trader should not have to rely on that). Found when a
connection is tested or saved, in the window and in the CLI, so the trader decides knowingly.

Same login: the same venue at the same host (scheme and port ignored), and the same user — AutoShares
``username`` (case-insensitive), SnapTrade ``client_id`` + ``user_id``, tanX wallet ``eth_address``
(case-insensitive). Same accounts: after a test listed the accounts, any account id that another connection
to the same venue host lists too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from ..core import ConnectionSpec, Venue


def venue_host(spec: ConnectionSpec) -> str:
    parts = urlsplit(spec.base_url.strip())
    return f"{spec.venue.value}|{(parts.hostname or parts.path).lower()}"


def login_of(spec: ConnectionSpec) -> str:
    """The venue login a connection uses, in one spelling ("" when the spec does not say)."""
    if spec.venue is Venue.AUTOSHARES:
        user = spec.option("username").strip().lower()
    elif spec.venue is Venue.SNAPTRADE:
        client, user_id = spec.option("client_id").strip(), spec.option("user_id").strip()
        user = f"{client}/{user_id}" if client and user_id else ""
    else:
        user = spec.option("eth_address").strip().lower()
    return f"{venue_host(spec)}|{user}" if user else ""


def same_login(spec: ConnectionSpec, others: Iterable[ConnectionSpec]) -> list[str]:
    """Names of the other connections that use the same venue login as ``spec``."""
    login = login_of(spec)
    if not login:
        return []
    return sorted(o.name for o in others if o.name != spec.name and login_of(o) == login)


def shared_accounts(
    spec: ConnectionSpec, account_ids: Iterable[str], others: Mapping[str, tuple[ConnectionSpec, Iterable[str]]],
) -> dict[str, list[str]]:
    """For each other connection to the same venue host: the account ids it lists that ``spec`` lists too."""
    mine = {a.strip().lower() for a in account_ids}
    host = venue_host(spec)
    found: dict[str, list[str]] = {}
    for name, (other, ids) in others.items():
        if name == spec.name or venue_host(other) != host:
            continue
        common = sorted(a for a in ids if a.strip().lower() in mine)
        if common:
            found[name] = common
    return found


def duplicate_warning(spec: ConnectionSpec, others: Iterable[ConnectionSpec]) -> str:
    """One sentence for the trader, or "" when no other connection uses the same login."""
    names = same_login(spec, others)
    if not names:
        return ""
    listed = ", ".join(repr(n) for n in names)
    return (f"{listed} already connects to the same {spec.venue.label} login: every order would be listed twice. "
            "Blotter sends one cancel per venue order either way; keep both only if you mean to "
            "(e.g. a quick and a venue-verified AutoShares connection).")
