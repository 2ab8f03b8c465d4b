"""Async adapters, one per venue, behind the ``VenueAdapter`` protocol."""

from .base import Capabilities, ConnectionSpec, VenueAdapter

__all__ = ["Capabilities", "ConnectionSpec", "VenueAdapter"]
