"""Errors, split the way a trader needs them: the venue refused, or we do not know what happened.

Every error's text is safe to show: it never contains a secret (adapters build messages from redacted
material only).
"""

from __future__ import annotations

from .model import CancelOutcome, VenueResponse


class BlotterError(Exception):
    """Base of every error Blotter raises on purpose; ``str(err)`` is a one-line user message."""


class ConfigError(BlotterError):
    """Bad configuration or input: unknown connection, malformed base URL, bad order key..."""


class CredentialError(BlotterError):
    """A secret is missing, or no usable keyring."""


class ReadOnlyError(BlotterError):
    """A cancel was asked for on a read-only connection or in read-only mode."""


class VenueError(BlotterError):
    """Something went wrong talking to a venue. ``response`` holds what the venue answered, if it did."""

    outcome: CancelOutcome = CancelOutcome.UNKNOWN

    def __init__(self, message: str, response: VenueResponse | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response

    @property
    def http_status(self) -> int | None:
        return self.response.http_status if self.response else None


class VenueRefused(VenueError):
    """The venue answered and refused: the request definitely did not take effect as asked."""

    outcome = CancelOutcome.REJECTED


class ConflictError(VenueRefused):
    """The order is not in a cancellable state (AutoShares 409, filled or already cancelled)."""


class NotFoundError(VenueRefused):
    """The venue does not know the order or account."""


class RateLimitedError(VenueRefused):
    """429: the venue did not process the request; it may be retried after ``retry_after`` seconds."""

    def __init__(
        self, message: str, response: VenueResponse | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, response)
        self.retry_after = retry_after


class AuthError(VenueRefused):
    """Credentials, token, app key or permission refused (401/403): we could not ask."""

    outcome = CancelOutcome.FAILED


class TwoFactorRequired(AuthError):
    """The venue expects a verification code (AutoShares 202 ``Expecting``)."""

    def __init__(self, message: str, response: VenueResponse | None = None, step: str = "") -> None:
        super().__init__(message, response)
        self.step = step


class OutcomeUnknown(VenueError):
    """Timeout, reset, 5xx, unparseable answer: the request may or may not have taken effect."""

    outcome = CancelOutcome.UNKNOWN


class VenueProtocolError(OutcomeUnknown):
    """The venue answered something we cannot read (malformed JSON, HTML page, unknown shape)."""
