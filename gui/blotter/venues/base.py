"""The venue seam: one async protocol every adapter implements (``ConnectionSpec`` lives in core)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..core import Account, CancelReceipt, Order, OrderKey, Side, TwoFactorRequired, Venue, VenueError, VenueResponse
from ..core.connection import ConnectionSpec

ResponseListener = Callable[[VenueResponse], None]
RECENT_DAYS = 7  # how far back ``list_recent_orders`` looks by default
# Asked for an AutoShares verification code (or similar); receives the venue's own words.
CodePrompt = Callable[[str], Awaitable[str]]


class LoginNeeded(TwoFactorRequired):
    """The connection must log in again with a verification code, and Blotter will not ask for one from a
    background refresh: the last code prompt was declined or failed. The next action the trader takes (a
    cancel, Test, connecting again) may ask once."""


class VenueDataDelayed(VenueError):
    """The venue could only answer from a cache (SnapTrade's daily or last-known data), so the state it shows
    is not current. The words say "the venue's data is delayed"; a confirmation that meets it stays pending."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    bulk_cancel: bool = False  # cancel_many(account, market=, side=) exists at the venue
    cancel_is_async: bool = False  # a successful cancel is only "queued"; confirmation comes later
    max_concurrency: int = 8  # requests in flight per connection
    two_factor: bool = False


class VenueAdapter(Protocol):
    """An authenticated session with one venue connection. All methods raise ``core`` errors only."""

    @property
    def venue(self) -> Venue: ...

    @property
    def spec(self) -> ConnectionSpec: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def add_listener(self, listener: ResponseListener) -> None: ...

    async def login(self) -> None: ...

    async def list_accounts(self) -> list[Account]: ...

    async def list_open_orders(self, account: str) -> list[Order]: ...

    async def get_order(self, account: str, order_id: str) -> Order:
        """Re-read one order (any state); ``NotFoundError`` if the venue does not know it."""
        ...

    async def cancel(self, key: OrderKey) -> CancelReceipt: ...

    async def cancel_many(self, account: str, *, market: str, side: Side | None = None) -> CancelReceipt:
        """Venue-side bulk cancel (only where ``capabilities.bulk_cancel``)."""
        ...

    async def account_details(self, account: str) -> Mapping[str, Any]: ...

    async def list_recent_orders(self, account: str, *, days: int = RECENT_DAYS) -> list[Order]:
        """The account's recent orders in every state (open, filled, cancelled, rejected …), newest first.

        A bounded look (one or two pages of the venue's own listing, created within ``days``), for support
        staff inspecting an account; not a complete history.
        """
        ...

    async def aclose(self) -> None: ...


def venue_identity(adapter: Any, key: OrderKey) -> tuple[OrderKey, str]:
    """``key`` in its venue's one spelling, and the venue order it names: ``venue|host|account|order id``.

    The adapter's ``canonical_key(key)`` (where it has one) spells ids the way the venue does: AutoShares
    and tanX ids as plain numbers (``073517`` is ``73517``), a tanX wallet in its checksum form, a SnapTrade
    account id as the venue lists it. The identity leaves out the connection, so two connections that reach
    one venue account (two logins to a joint account, a quick and a sync connection) name one venue order
    alike. An adapter without a ``spec`` (a test double) has no identity (``""``).
    """
    canonicalize = getattr(adapter, "canonical_key", None)
    canonical = canonicalize(key) if callable(canonicalize) else key
    spec = getattr(adapter, "spec", None)
    venue = getattr(adapter, "venue", None)
    if spec is None or venue is None:
        return canonical, ""
    parts = urlsplit(str(spec.base_url).strip())
    host = (parts.netloc or parts.path).lower().rstrip("/")
    return canonical, f"{getattr(venue, 'value', venue)}|{host}|{canonical.account}|{canonical.order_id}"


def newest_first(orders: Iterable[Order], *, days: float, now: datetime | None = None) -> list[Order]:
    """Orders created within the last ``days`` (those without a creation time are kept), newest first."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    kept = {o.order_id: o for o in orders if o.created_at is None or o.created_at >= cutoff}
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(kept.values(), key=lambda o: (o.created_at or oldest, o.order_id), reverse=True)


__all__ = [
    "RECENT_DAYS", "Capabilities", "CodePrompt", "ConnectionSpec", "LoginNeeded", "ResponseListener", "VenueAdapter",
    "VenueDataDelayed", "newest_first", "venue_identity",
]
