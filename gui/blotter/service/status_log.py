"""The status log without Qt: one entry per venue answer, note or cancel attempt, newest last, capped.

A cancel attempt is one entry keyed by its ``attempt_id``: created when the request goes out and updated in
place as later answers arrive (tanX "queued for cancellation" → cancelled); its first time stays, the last
update is kept beside it. Other venue answers (a failed refresh, a login) and Blotter's own notes get an entry
each — except that an answer or note repeating the previous one of its connection (the same action, kind
and words: a login error every 2 s in an outage) folds into it, counted, with its first and last time, so the
pane stays readable and cancel outcomes are never buried. ``message`` is always the venue's own words.

The Qt status model (``ui/models/status.py``) is a thin adapter: it listens to ``inserted``, ``changed`` and
``evicted`` and turns them into row signals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from ..core import CancelOutcome, CancelResult, OrderKey, VenueResponse
from .coordinator import CancelEvent, CancelPhase


class OutcomeKind(StrEnum):
    """What an entry is (the outcome kinds plus in-flight and plain answers); the pane filters by it."""

    IN_FLIGHT = "in_flight"
    CANCELLED = "cancelled"
    PENDING = "pending"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"
    OK = "ok"
    ERROR = "error"


OUTCOME_LABELS = {
    OutcomeKind.IN_FLIGHT: "cancelling…",
    OutcomeKind.CANCELLED: "cancelled",
    OutcomeKind.PENDING: "pending",
    OutcomeKind.REJECTED: "rejected",
    OutcomeKind.FAILED: "failed",
    OutcomeKind.UNKNOWN: "unknown",
    OutcomeKind.OK: "ok",
    OutcomeKind.ERROR: "error",
}
_KIND_OF_OUTCOME = {
    CancelOutcome.CANCELLED: OutcomeKind.CANCELLED,
    CancelOutcome.PENDING: OutcomeKind.PENDING,
    CancelOutcome.REJECTED: OutcomeKind.REJECTED,
    CancelOutcome.FAILED: OutcomeKind.FAILED,
    CancelOutcome.UNKNOWN: OutcomeKind.UNKNOWN,
}
FOLD_WITHIN = 20  # an answer folds into an equal one among the last this many entries


def result_kind(result: CancelResult) -> tuple[OutcomeKind, str]:
    """The kind and label of a final outcome (one mapping; "too late" is a rejection the order's fill made)."""
    if result.too_late:
        return OutcomeKind.REJECTED, "too late — filled"
    kind = _KIND_OF_OUTCOME[result.outcome]
    return kind, OUTCOME_LABELS[kind]


@dataclass
class StatusEntry:
    """One entry (mutable: a cancel's entry is updated in place, a repeated answer is counted)."""

    id: str
    at: datetime  # first seen: entries stay in the order they began
    connection: str
    venue: str
    account: str
    order_id: str
    action: str
    kind: OutcomeKind
    outcome: str  # the label shown (e.g. "too late — filled")
    message: str = ""  # the venue's words, verbatim
    detail: str = ""  # our words: what re-reading showed
    http_status: int | None = None
    latency_ms: float | None = None
    provenance: str = ""
    batch_id: str = ""
    responses: list[VenueResponse] = field(default_factory=list)  # raw answers, redacted
    result: CancelResult | None = None
    count: int = 1  # how many equal answers this entry stands for
    last_at: datetime | None = None  # the latest update (or repeat); None = only ``at``

    @property
    def key(self) -> OrderKey | None:
        if self.account and self.order_id:
            return OrderKey(self.connection, self.account, self.order_id)
        return None

    @property
    def updated_at(self) -> datetime:
        return self.last_at or self.at

    def as_text(self) -> str:
        """Tab-separated, as copied to the clipboard."""
        repeat = f" ×{self.count} (last {self.updated_at.astimezone().isoformat(timespec='seconds')})" \
            if self.count > 1 else ""
        return "\t".join(str(v) for v in (
            self.at.astimezone().isoformat(timespec="seconds"), self.connection, self.venue, self.account,
            self.order_id, self.action, "" if self.http_status is None else self.http_status,
            self.outcome + repeat, self.message, self.detail,
            "" if self.latency_ms is None else f"{self.latency_ms:.0f} ms",
        ))


class StatusLog:
    """The entries, oldest first; at most ``capacity`` (the oldest leave first)."""

    def __init__(self, *, capacity: int = 1000, max_responses: int = 12) -> None:
        self.capacity = capacity
        self.max_responses = max_responses  # raw answers kept per cancel entry (the request, then re-reads)
        self.items: list[StatusEntry] = []
        self._by_id: dict[str, StatusEntry] = {}
        self._running: dict[OrderKey, str] = {}  # order -> attempt id of its running cancel
        self.venue_of: Callable[[str], str] = lambda _connection: ""  # connection -> venue name, when known
        # listeners (the Qt adapter), each called before and after its change: an entry appended; an entry
        # changed in place (after only); the n oldest entries removed
        self.inserting: list[Callable[[StatusEntry], None]] = []
        self.inserted: list[Callable[[StatusEntry], None]] = []
        self.changed: list[Callable[[StatusEntry], None]] = []
        self.evicting: list[Callable[[int], None]] = []
        self.evicted: list[Callable[[int], None]] = []

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self.items)

    def entry(self, entry_id: str) -> StatusEntry | None:
        return self._by_id.get(entry_id)

    def newest_first(self) -> list[StatusEntry]:
        return self.items[::-1]

    # ------------------------------------------------------------------ writing
    def add_response(self, response: VenueResponse) -> StatusEntry:
        """A venue answer that is not part of a cancel (refresh, login, ...); repeats fold."""
        kind = OutcomeKind.OK if response.ok else OutcomeKind.ERROR
        folded = self._fold(response.connection, str(response.action), kind, response.message, response.at)
        if folded is not None:
            folded.http_status, folded.latency_ms = response.http_status, response.latency_ms
            if len(folded.responses) < self.max_responses:
                folded.responses.append(response)
            else:
                folded.responses[-1] = response  # keep the first ones and the latest
            self._changed(folded)
            return folded
        entry = StatusEntry(
            id=uuid.uuid4().hex, at=response.at, connection=response.connection, venue=str(response.venue),
            account=response.account, order_id=response.order_id, action=str(response.action), kind=kind,
            outcome=OUTCOME_LABELS[kind], message=response.message, http_status=response.http_status,
            latency_ms=response.latency_ms, responses=[response],
        )
        self._insert(entry)
        return entry

    def add_note(self, connection: str, venue: str, action: str, message: str, *, error: bool = True,
                 detail: str = "", batch_id: str = "") -> StatusEntry:
        """Something Blotter itself has to say (missing credentials, a batch summary) in the same log."""
        kind = OutcomeKind.ERROR if error else OutcomeKind.OK
        now = datetime.now(UTC)
        folded = None if batch_id else self._fold(connection, action, kind, message, now)
        if folded is not None:
            self._changed(folded)
            return folded
        entry = StatusEntry(id=uuid.uuid4().hex, at=now, connection=connection,
                            venue=venue or self.venue_of(connection), account="", order_id="", action=action,
                            kind=kind, outcome=OUTCOME_LABELS[kind],
                            message=message, detail=detail, batch_id=batch_id)
        self._insert(entry)
        return entry

    def apply_cancel_event(self, event: CancelEvent) -> StatusEntry:
        """Create or update the entry of a cancel attempt."""
        entry = self._by_id.get(event.attempt_id)
        created = entry is None
        if entry is None:
            entry = StatusEntry(
                id=event.attempt_id, at=event.at, connection=event.key.connection,
                venue=event.venue or self.venue_of(event.key.connection), account=event.key.account,
                order_id=event.key.order_id, action="cancel", kind=OutcomeKind.IN_FLIGHT,
                outcome=OUTCOME_LABELS[OutcomeKind.IN_FLIGHT], provenance=str(event.provenance),
                batch_id=event.batch_id,
            )
        response = event.response
        if response is not None:
            if all(r is not response for r in entry.responses):
                entry.responses.append(response)
            entry.venue = str(response.venue)
            entry.http_status = response.http_status
            entry.latency_ms = response.latency_ms
            entry.action = str(response.action)
            entry.message = response.message
        if event.phase is CancelPhase.PENDING:
            entry.kind, entry.outcome = OutcomeKind.PENDING, "pending"
            if response is None and event.message:
                entry.message = event.message
        elif event.phase is CancelPhase.RECONCILING:
            entry.kind, entry.outcome = OutcomeKind.IN_FLIGHT, "reconciling…"
            if response is None and event.message:
                entry.message = event.message
        elif event.phase is CancelPhase.DONE and event.result is not None:
            if self._running.get(event.key) == event.attempt_id:
                del self._running[event.key]
            result = event.result
            entry.result = result
            entry.kind, entry.outcome = result_kind(result)
            entry.message = result.message
            entry.detail = result.detail
            entry.http_status = result.http_status
            entry.latency_ms = result.latency_ms
        if event.phase is not CancelPhase.DONE:
            self._running[event.key] = event.attempt_id
        if created:
            self._insert(entry)
        else:
            entry.last_at = event.at
            self._changed(entry)
        return entry

    def attach_response(self, response: VenueResponse) -> bool:
        """Keep a venue answer (the cancel request itself, a re-read) with the running cancel of its order.

        Returns False when no cancel of that order is running (the caller may show it as its own entry).
        """
        key = response.order_key
        attempt = self._running.get(key) if key is not None else None
        entry = self._by_id.get(attempt) if attempt is not None else None
        if entry is None:
            return False
        if len(entry.responses) < self.max_responses:
            entry.responses.append(response)
        if str(response.action) in ("cancel", "bulk_cancel"):
            entry.venue = str(response.venue)
            entry.http_status = response.http_status
            entry.latency_ms = response.latency_ms
            entry.message = response.message
            self._changed(entry)
        return True

    def clear(self) -> None:
        n = len(self.items)
        if not n:
            return
        for listener in list(self.evicting):
            listener(n)
        self.items.clear()
        self._by_id.clear()
        self._running.clear()
        for listener in list(self.evicted):
            listener(n)

    # ------------------------------------------------------------------ plumbing
    def _fold(self, connection: str, action: str, kind: OutcomeKind, message: str, at: datetime) -> StatusEntry | None:
        for entry in reversed(self.items[-FOLD_WITHIN:]):
            if entry.connection != connection or entry.action == "cancel" or entry.result is not None:
                continue
            if entry.action == action and entry.kind is kind and entry.message == message and not entry.batch_id:
                entry.count += 1
                entry.last_at = at
                return entry
            return None  # the connection said something else since: a new entry
        return None

    def _insert(self, entry: StatusEntry) -> None:
        for adding in list(self.inserting):
            adding(entry)
        self.items.append(entry)
        self._by_id[entry.id] = entry
        for added in list(self.inserted):
            added(entry)
        excess = len(self.items) - self.capacity
        if excess > 0:
            for before in list(self.evicting):
                before(excess)
            for old in self.items[:excess]:
                self._by_id.pop(old.id, None)
            del self.items[:excess]
            for after in list(self.evicted):
                after(excess)

    def _changed(self, entry: StatusEntry) -> None:
        for changed in list(self.changed):
            changed(entry)
