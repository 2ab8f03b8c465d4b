"""The application without a screen: connections, cancel coordinator, health."""

from .coordinator import CancelCoordinator, CancelEvent, CancelPhase
from .session import AccountFailure, BlotterService, ConnectionFailure, ConnectionHealth, Listing, OrderFilter

__all__ = [
    "AccountFailure",
    "BlotterService",
    "CancelCoordinator",
    "CancelEvent",
    "CancelPhase",
    "ConnectionFailure",
    "ConnectionHealth",
    "Listing",
    "OrderFilter",
]
