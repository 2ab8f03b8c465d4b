"""The audit trail's records, queries and settings (values only: no SQLite work here)."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ...core import (
    Action,
    BlotterError,
    CancelOutcome,
    CancelResult,
    OrderKey,
    Provenance,
)
from .. import paths

log = logging.getLogger("blotter.store.audit")


DB_NAME = "audit.sqlite3"
DEFAULT_RETENTION_DAYS = 90.0
LISTING_RETENTION_DAYS = 14.0  # successful listing answers are kept this long at most (cancels: retention_days)
DEFAULT_READ_BODY_LIMIT = 512
_BULKY_READS = frozenset({Action.LIST_ACCOUNTS, Action.LIST_ORDERS, Action.ACCOUNT_DETAILS})
PHASES = ("sending", "pending", "reconciling", "done")
IN_FLIGHT = "in_flight"
_BATCH_MAX = 500
_BUSY_TIMEOUT_S = 10.0
_CHECKPOINT_EVERY = 200  # commits; the writer checkpoints once idle after this many (or after 10x, busy)
DURABLE_BLOCK_S = 0.01  # durable() blocks at most this long before it awaits (see there)
_OPEN_BUSY_S = 1.0  # opening (migrate, retention, merge) and claiming orphans: locked longer → journal, go on
_WRITER_BUSY_S = 2.0  # the writer's wait for another process's write lock before it journals the batch
_DEGRADED_BUSY_S = 0.2  # while the database cannot be written: how long each retry waits for its lock
_RETRY_EVERY_S = 2.0  # while records wait in the journal or memory: how often the writer tries again


class AuditError(BlotterError):
    """The audit database cannot be opened or is from a newer Blotter."""


def default_path() -> Path:
    return paths.data_dir() / DB_NAME



# ---------------------------------------------------------------------------------------------- values
def _ms(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso_ms(at: datetime) -> str:
    """``2026-11-20T14:30:00.123Z``: UTC, milliseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``7d``, ``1w`` → ``timedelta``; ``ValueError`` with a readable message."""
    match = _DURATION_RE.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (expected a number and a unit: 90s, 15m, 2h, 7d, 1w)")
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    if seconds > 100 * 365 * 86400:
        raise ValueError(f"duration too long: {text!r} (at most 100 years)")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class CancelTransition:
    """One step of a cancel attempt as the audit stores it (the service maps its ``CancelEvent`` here).

    ``phase`` is ``sending``, ``pending``, ``reconciling`` or ``done``; ``done`` carries the one
    ``result``. ``provenance`` is who asked for this step: the attempt's own provenance, or
    ``reconciliation`` when a later start settled an attempt a crashed process left in flight.
    ``venue_reason`` is the venue's own account of the cancel (e.g. tanX ``cancel_reason``).
    """

    attempt_id: str
    key: OrderKey
    phase: str
    provenance: Provenance
    batch_id: str = ""
    message: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    venue: str = ""
    http_status: int | None = None
    latency_ms: float | None = None
    result: CancelResult | None = None
    venue_reason: str = ""
    identity: str = ""  # the venue order (``venue|host|account|order id``), claimed by a sending step
    jid: str = field(default_factory=lambda: uuid.uuid4().hex)  # this record's id (idempotent merges)

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"unknown cancel phase {self.phase!r}")
        if (self.phase == "done") != (self.result is not None):
            raise ValueError("a cancel transition carries a result exactly when it is done")


RECORD_FIELDS = (
    "at", "kind", "connection", "venue", "account", "order_id", "key", "action", "phase", "http_status",
    "latency_ms", "message", "attempt_id", "provenance", "batch_id", "outcome", "final_status",
    "venue_status", "detail", "venue_reason", "request", "raw_body", "repeat_count", "last_at",
)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit trail: a venue response (``kind="response"``) or a cancel step (``"cancel"``)."""

    at: datetime
    kind: str
    connection: str
    venue: str
    account: str
    order_id: str
    action: str
    phase: str
    http_status: int | None
    latency_ms: float | None
    message: str
    attempt_id: str
    provenance: str
    batch_id: str
    outcome: str | None
    final_status: str | None
    venue_status: str
    detail: str
    venue_reason: str
    request: str
    raw_body: str
    repeat_count: int = 1  # a routine listing answer that repeated unchanged: how many times
    last_at: datetime | None = None  # ... and the last time

    @property
    def key(self) -> str:
        return f"{self.connection}/{self.account}/{self.order_id}" if self.account and self.order_id else ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly, keys in ``RECORD_FIELDS`` order (what ``log --json`` and the exports write)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in RECORD_FIELDS}
        values["at"] = iso_ms(self.at)
        values["last_at"] = iso_ms(self.last_at) if self.last_at is not None else None
        if self.latency_ms is not None:
            values["latency_ms"] = round(self.latency_ms, 1)
        return values


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One cancel attempt: who asked, and (once known) its one final outcome and who settled it."""

    attempt_id: str
    key: OrderKey
    provenance: str
    batch_id: str
    started_at: datetime
    state: str  # in_flight | done
    session: str
    pid: int | None
    outcome: str | None
    outcome_provenance: str | None
    final_status: str | None
    venue_status: str
    http_status: int | None
    message: str
    detail: str
    venue_reason: str
    finished_at: datetime | None
    accepted: bool = False  # the venue accepted the cancel request (a pending step or a 2xx answer)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempt_id": self.attempt_id, "key": str(self.key), "provenance": self.provenance,
            "batch_id": self.batch_id, "started_at": iso_ms(self.started_at), "state": self.state,
            "outcome": self.outcome, "outcome_provenance": self.outcome_provenance,
            "final_status": self.final_status, "venue_status": self.venue_status,
            "http_status": self.http_status, "message": self.message, "detail": self.detail,
            "venue_reason": self.venue_reason,
            "finished_at": iso_ms(self.finished_at) if self.finished_at else None,
        }


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A filter over the trail. Every field narrows; the default is everything, oldest first.

    ``outcome`` keeps the cancel steps of attempts that ended that way (or ``in_flight`` ones);
    ``text`` is a case-insensitive substring of any text column; ``limit`` keeps the newest N records
    (still returned oldest first). ``account`` and ``order_id`` match exactly, in any connection.
    """

    since: datetime | None = None
    until: datetime | None = None
    connection: str = ""
    order: OrderKey | None = None
    account: str = ""
    order_id: str = ""
    outcome: str = ""
    text: str = ""
    kind: str = ""  # "" | response | cancel
    attempt_id: str = ""
    limit: int = 0

    def __post_init__(self) -> None:
        if self.outcome and self.outcome != IN_FLIGHT and self.outcome not in {o.value for o in CancelOutcome}:
            known = ", ".join([*(o.value for o in CancelOutcome), IN_FLIGHT])
            raise ValueError(f"unknown outcome {self.outcome!r} (expected one of {known})")
        if self.kind not in ("", "response", "cancel"):
            raise ValueError(f"unknown record kind {self.kind!r} (expected response or cancel)")
