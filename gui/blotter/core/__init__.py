"""The domain, free of IO, Qt and httpx."""

from .errors import (
    AuthError,
    BlotterError,
    ConfigError,
    ConflictError,
    CredentialError,
    NotFoundError,
    OutcomeUnknown,
    RateLimitedError,
    ReadOnlyError,
    TwoFactorRequired,
    VenueError,
    VenueProtocolError,
    VenueRefused,
)
from .model import (
    NO_RAW,
    Account,
    Action,
    CancelAck,
    CancelOutcome,
    CancelReceipt,
    CancelResult,
    Order,
    OrderKey,
    OrderStatus,
    OrderType,
    Provenance,
    Side,
    Venue,
    VenueResponse,
)
from .redaction import MASK, Redactor

__all__ = [
    "MASK",
    "NO_RAW",
    "Account",
    "Action",
    "AuthError",
    "BlotterError",
    "CancelAck",
    "CancelOutcome",
    "CancelReceipt",
    "CancelResult",
    "ConfigError",
    "ConflictError",
    "CredentialError",
    "NotFoundError",
    "Order",
    "OrderKey",
    "OrderStatus",
    "OrderType",
    "OutcomeUnknown",
    "Provenance",
    "RateLimitedError",
    "ReadOnlyError",
    "Redactor",
    "Side",
    "TwoFactorRequired",
    "Venue",
    "VenueError",
    "VenueProtocolError",
    "VenueRefused",
    "VenueResponse",
]

from .connection import ConnectionSpec, validate_connection_name

__all__ += ["ConnectionSpec", "validate_connection_name"]
