"""The desk: what one trader's screen asks of the service, without Qt.

The window (and anything else that shows orders to a trader) talks to a ``Desk``, never past it to the
coordinator or the adapters. The desk decides, each in one place:

- **what a cancel will do** before it is sent: ``plan_cancel(keys, provenance)`` → ``CancelPlan`` with the keys
  that will be sent and, for every other key, why not (read-only — app, connection or venue account —,
  already being cancelled here, a cancel already pending at the venue, no longer open, the connection cannot
  cancel). One read-only rule (``is_read_only``) and one in-flight rule (``is_busy``);
- **how much confirmation** a plan needs (``confirmation_for``): the blast radius;
- **batches**: several orders submitted together get a batch id, progress, and one lasting summary with the
  count of every outcome and of what was skipped;
- **refresh after cancels**: a connection is re-listed once its burst of cancels settles (coalesced);
- **the kill switch preview**: what it would cancel now, per account, and what it skips and why;
- **connections added and removed** while running.

It publishes one event stream (``subscribe``/``unsubscribe``): ``OrdersChanged``, ``RefreshFailed``,
``CancelStep``, ``VenueAnswer``, ``Notice``, ``HealthChanged``, ``BatchProgress``, ``ConnectionsChanged``. The
status log (``service.status_log``) is fed here too, so the pane shows exactly what the desk decided.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from ..core import Action, BlotterError, CancelOutcome, ConnectionSpec, OrderKey, Provenance, Unreadable, VenueResponse
from .coordinator import CancelEvent, CancelPhase
from .refresh import OrdersDiff, RefreshEvent, RefreshPhase, RefreshScheduler
from .session import BlotterService
from .status_log import StatusLog

log = logging.getLogger(__name__)

REFRESH_AFTER_CANCELS_S = 0.4  # a connection is re-listed this long after its last cancel ended…
REFRESH_AFTER_CANCELS_MAX_S = 3.0  # …or this long after the first of a burst, whichever comes first
TYPED_CONFIRMATION_ABOVE = 20  # orders; more (or more than one account) needs the typed confirmation
_QUIET_ACTIONS = {Action.CANCEL, Action.BULK_CANCEL, Action.GET_ORDER}  # shown through cancel entries
_NOTABLE_OK = {Action.LOGIN, Action.REFRESH_TOKEN}


# ---------------------------------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class OrdersChanged:
    diff: OrdersDiff


@dataclass(frozen=True, slots=True)
class RefreshFailed:
    connection: str
    error: BlotterError
    retry_in_s: float


@dataclass(frozen=True, slots=True)
class CancelStep:
    event: CancelEvent


@dataclass(frozen=True, slots=True)
class VenueAnswer:
    response: VenueResponse


class NoticeLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Notice:
    level: NoticeLevel
    text: str
    connection: str = ""
    action: str = ""


@dataclass(frozen=True, slots=True)
class HealthChanged:
    connection: str
    retry_in_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ConnectionsChanged:
    connection: str
    removed: bool = False


@dataclass(frozen=True, slots=True)
class BatchProgress:
    batch: BatchSummary  # the batch (it goes on counting); ``done`` is its count when this was published
    done: int
    finished: bool = False


DeskEvent = (OrdersChanged | RefreshFailed | CancelStep | VenueAnswer | Notice | HealthChanged | BatchProgress
             | ConnectionsChanged)
DeskListener = Callable[[DeskEvent], None]


# ---------------------------------------------------------------------------------------------- plans
class Refused(StrEnum):
    """Why a key is not sent (stable values: tests and the window's messages use them)."""

    READ_ONLY = "read_only"
    IN_FLIGHT = "in_flight"
    PENDING = "pending"
    NOT_OPEN = "not_open"
    UNUSABLE = "unusable"
    DUPLICATE = "duplicate"  # the same venue order, reached through another connection, is in the plan


@dataclass(frozen=True, slots=True)
class Refusal:
    key: OrderKey
    why: Refused
    text: str


class Confirmation(StrEnum):
    """How a plan is confirmed before it is sent: the larger the blast radius, the stronger."""

    NONE = "none"  # one order, and the trader turned the single-row confirmation off
    SINGLE = "single"  # one order: the single-row dialog
    KEEP_DEFAULT = "keep_default"  # several orders of one account: a dialog whose default is Keep
    TYPED = "typed"  # more than one account or many orders: the kill switch's typed confirmation


@dataclass(frozen=True, slots=True)
class CancelPlan:
    provenance: Provenance
    send: tuple[OrderKey, ...]
    refused: tuple[Refusal, ...] = ()

    @property
    def accounts(self) -> frozenset[tuple[str, str]]:
        return frozenset((k.connection, k.account) for k in self.send)

    def refused_for(self, why: Refused) -> list[Refusal]:
        return [r for r in self.refused if r.why is why]

    def why_not(self) -> str:
        """One line for the trader when nothing will be sent (or what was left out)."""
        if not self.refused:
            return "Nothing selected" if not self.send else ""
        counts = Counter(r.why for r in self.refused)
        parts = [f"{n} {_REFUSED_WORDS[why]}" for why, n in counts.most_common()]
        if len(self.refused) == 1:
            return self.refused[0].text
        return "Not sent: " + ", ".join(parts)


_REFUSED_WORDS = {
    Refused.READ_ONLY: "read-only",
    Refused.IN_FLIGHT: "already being cancelled",
    Refused.PENDING: "with a cancel already pending at the venue",
    Refused.NOT_OPEN: "no longer open",
    Refused.UNUSABLE: "on a connection that cannot cancel",
    Refused.DUPLICATE: "already in this cancel through another connection",
}


def confirmation_for(plan: CancelPlan, *, confirm_single: bool = True,
                     typed_above: int = TYPED_CONFIRMATION_ABOVE) -> Confirmation:
    n = len(plan.send)
    if n == 0:
        return Confirmation.NONE
    if len(plan.accounts) > 1 or n > typed_above:
        return Confirmation.TYPED
    if n == 1 and plan.provenance is not Provenance.CANCEL_ALL:
        return Confirmation.SINGLE if confirm_single else Confirmation.NONE
    return Confirmation.KEEP_DEFAULT


# ---------------------------------------------------------------------------------------------- batches
@dataclass
class BatchSummary:
    """A batch's progress, and once finished its lasting result: every outcome counted, and what was skipped."""

    batch_id: str
    label: str
    total: int
    provenance: Provenance
    done: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # Refused value -> count

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def text(self) -> str:
        parts = [f"{n} {o}" for o, n in sorted(self.outcomes.items(), key=lambda kv: _OUTCOME_ORDER.get(kv[0], 9))]
        parts += [f"{n} skipped ({_SKIP_WORDS.get(w, w)})" for w, n in sorted(self.skipped.items())]
        head = f"{self.label}: done" if self.finished else f"{self.label}: {self.done}/{self.total}"
        return f"{head} — {', '.join(parts)}" if parts else head


_OUTCOME_ORDER = {"cancelled": 0, "pending": 1, "rejected": 2, "too late": 3, "failed": 4, "unknown": 5}
_SKIP_WORDS = {Refused.READ_ONLY.value: "read-only", Refused.PENDING.value: "already pending",
               Refused.IN_FLIGHT.value: "already being cancelled", Refused.NOT_OPEN.value: "no longer open",
               Refused.UNUSABLE.value: "connection cannot cancel",
               Refused.DUPLICATE.value: "same order through another connection"}


def outcome_word(outcome: CancelOutcome, too_late: bool) -> str:
    return "too late" if too_late else outcome.value


# ---------------------------------------------------------------------------------------------- kill switch
@dataclass(frozen=True, slots=True)
class PreviewLine:
    connection: str
    venue: str
    account: str  # account id
    account_name: str
    count: int
    note: str = ""  # why (some of) this account's orders are not cancelled


@dataclass(frozen=True, slots=True)
class KillSwitchPreview:
    lines: tuple[PreviewLine, ...]
    keys: tuple[OrderKey, ...]
    skipped: tuple[Refusal, ...] = ()


# ---------------------------------------------------------------------------------------------- the desk
class Handle(Protocol):
    def cancel(self) -> None: ...


CallLater = Callable[[float, Callable[[], None]], Handle]


class Desk:
    """One trader's screen's view of the service (see the module docstring)."""

    def __init__(
        self,
        service: BlotterService,
        *,
        refresh_interval_s: float = 5.0,
        scheduler: RefreshScheduler | None = None,
        status_log: StatusLog | None = None,
        clock: Callable[[], float] = time.monotonic,
        call_later: CallLater | None = None,
        log_successful_reads: bool = False,
        defer: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """``defer``: when to fold cancel steps and venue answers into the status log — now (``None``), or
        later in one go (the window passes a zero timer, so a cancel's request leaves before the pane's rows
        change and repaint; ``ui/loop.py``)."""
        self.service = service
        self.scheduler = scheduler or RefreshScheduler(
            service, interval_s=refresh_interval_s, max_backoff_s=max(60.0, 8 * refresh_interval_s))
        self.status_log = status_log or StatusLog()
        self.status_log.venue_of = self.venue_of
        self.log_successful_reads = log_successful_reads
        self._clock = clock
        self._call_later = call_later
        self._listeners: list[DeskListener] = []
        self.requested: set[OrderKey] = set()  # submitted from this desk, no outcome yet
        self.pending: set[OrderKey] = set()  # the last outcome was pending: the venue holds a cancel of it
        self.batches: dict[str, BatchSummary] = {}
        self.finished_batches: list[BatchSummary] = []
        self._refresh_soon: set[str] = set()
        self._refresh_first = 0.0
        self._refresh_handle: Handle | None = None
        self._last_failure: dict[str, str] = {}
        # connections whose last read failed: their rows are as of the last good read, not live
        self.stale_since: dict[str, datetime] = {}
        self._last_preview: KillSwitchPreview | None = None
        self._closed = False
        self._defer = defer
        self._for_log: list[Callable[[], object]] = []
        self._unsubscribe = [
            self.scheduler.subscribe(self._on_refresh),
            service.coordinator.subscribe(self._on_cancel_event),
        ]
        service.add_response_listener(self._on_response)
        self._unsubscribe.append(lambda: service.remove_response_listener(self._on_response))

    # ------------------------------------------------------------------ events
    def subscribe(self, listener: DeskListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self.unsubscribe(listener)

    def unsubscribe(self, listener: DeskListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _publish(self, event: DeskEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not break the desk
                log.exception("desk listener failed")

    def notice(self, text: str, *, level: NoticeLevel = NoticeLevel.WARNING, connection: str = "",
               action: str = "", to_log: bool = True) -> None:
        """Tell the trader something (start-up notes, warnings): the one notice path, also into the status log."""
        if to_log:
            self.status_log.add_note(connection, "", action or "notice", text, error=level is not NoticeLevel.INFO)
        self._publish(Notice(level, text, connection, action))

    # ------------------------------------------------------------------ reading state
    @property
    def read_only(self) -> bool:
        return self.service.read_only

    def venue_of(self, connection: str) -> str:
        spec = self.service.specs.get(connection)
        return spec.venue.value if spec is not None else ""

    def is_read_only(self, key: OrderKey) -> bool:
        """The one read-only rule: the app, the connection, or the venue says the account is read-only."""
        return self.service.is_key_read_only(key)

    def is_busy(self, key: OrderKey) -> bool:
        """The one in-flight rule: a cancel of this venue order is running (from here or anywhere in this process)."""
        return key in self.requested or self.service.coordinator.in_flight(key)

    def open_orders(self, connection: str = "") -> dict[OrderKey, Any]:
        return self.scheduler.snapshot(connection)

    def as_of(self, connection: str) -> datetime | None:
        """When a stale connection's rows were last read (``None``: the connection is not stale)."""
        if connection not in self.stale_since:
            return None
        health = self.service.health.get(connection)
        return health.last_success if health is not None and health.last_success else self.stale_since[connection]

    def unreachable(self, keys: Iterable[OrderKey]) -> list[str]:
        """The connections among ``keys`` whose venue could not be read at the last try (a cancel there may
        wait for its timeout: the trader is told before, not after)."""
        return sorted({k.connection for k in keys if k.connection in self.stale_since})

    def can_cancel(self, key: OrderKey) -> bool:
        return not self.plan_cancel([key], Provenance.ROW_ACTION).refused

    # ------------------------------------------------------------------ planning and sending cancels
    def plan_cancel(self, keys: Iterable[OrderKey], provenance: Provenance, *,
                    open_keys: Callable[[OrderKey], bool] | None = None) -> CancelPlan:
        """Which keys will be sent, and why each other key will not (nothing is sent here).

        ``open_keys``: whether the screen still shows the order open (default: the last listing).
        """
        snapshot = self.scheduler.snapshot() if open_keys is None else None
        is_open = open_keys or (lambda k: snapshot is not None and k in snapshot)
        send: list[OrderKey] = []
        refused: list[Refusal] = []
        unusable: dict[str, str] = {}
        planned: dict[str, OrderKey] = {}  # venue order -> the key that will cancel it
        coordinator = self.service.coordinator
        for key in dict.fromkeys(coordinator.canonical(k) for k in keys):
            identity = coordinator.identity(key)
            first = planned.get(identity) if identity else None
            if first is not None:
                refused.append(Refusal(key, Refused.DUPLICATE, f"The same venue order as {first}: one request "
                                                               "is sent for both"))
                continue
            if not is_open(key):
                refused.append(Refusal(key, Refused.NOT_OPEN, "Nothing to cancel: the order is no longer open"))
            elif self.is_read_only(key):
                refused.append(Refusal(key, Refused.READ_ONLY, self._read_only_words(key)))
            elif self.is_busy(key):
                refused.append(Refusal(key, Refused.IN_FLIGHT, "Already being cancelled: no second request is sent"))
            elif key in self.pending:
                refused.append(Refusal(key, Refused.PENDING,
                                       "A cancel of this order is already pending at the venue: not sent again"))
            else:
                if key.connection not in unusable:
                    unusable[key.connection] = self._unusable(key.connection)
                if unusable[key.connection]:
                    refused.append(Refusal(key, Refused.UNUSABLE, unusable[key.connection]))
                else:
                    send.append(key)
                    if identity:
                        planned[identity] = key
        return CancelPlan(provenance, tuple(send), tuple(refused))

    def _read_only_words(self, key: OrderKey) -> str:
        try:
            self.service.check_can_cancel(key.connection, key.account)
        except BlotterError as exc:
            return str(exc)
        return f"account {key.connection}/{key.account} is read-only: cancelling is disabled"

    def _unusable(self, connection: str) -> str:
        try:
            self.service.check_can_cancel(connection)
            self.service.adapter(connection)  # missing secrets fail here, before anything is sent
        except BlotterError as exc:
            return str(exc)
        return ""

    def submit(self, plan: CancelPlan, *, label: str = "", batch_id: str = "") -> str:
        """Send the plan's keys; returns the batch id ("" for a single order without one).

        Refusals are noted in the status log (connections that cannot cancel) and counted in the batch.
        """
        for name, text in {r.key.connection: r.text for r in plan.refused_for(Refused.UNUSABLE)}.items():
            self.status_log.add_note(name, self.venue_of(name), "cancel", text)
        keys = list(plan.send)
        if not keys:
            return ""
        if (len(keys) > 1 or plan.provenance in (Provenance.KILL_SWITCH, Provenance.CANCEL_ALL)) and not batch_id:
            batch_id = uuid.uuid4().hex[:12]
        if batch_id:
            summary = BatchSummary(batch_id, label or f"Cancelling {len(keys)} orders", len(keys), plan.provenance)
            for refusal in plan.refused:
                summary.skipped[refusal.why.value] += 1
            self.batches[batch_id] = summary
            self._publish(BatchProgress(summary, 0))
        for key in keys:
            self.requested.add(key)
            self.pending.discard(key)
            self.service.coordinator.submit(key, plan.provenance, batch_id)
        return batch_id

    # ------------------------------------------------------------------ kill switch
    async def kill_switch_preview(self) -> KillSwitchPreview:
        """Read every connection now, then: per account, the orders the kill switch would cancel, and why not."""
        events = await self.scheduler.refresh_once()
        # What could not be read now (a connection, an account) is not cancelled: its last known rows stay on
        # screen (unknown, not gone), but the preview cannot vouch for them. Every other account still is.
        not_read = {(f.connection, f.account): f for e in events for f in e.account_failures}
        failed = {e.connection for e in events if e.phase is RefreshPhase.FAILED}
        snapshot = {k: o for k, o in self.scheduler.snapshot().items()
                    if k.connection not in failed and (k.connection, k.account) not in not_read}
        plan = self.plan_cancel(snapshot, Provenance.KILL_SWITCH, open_keys=lambda k: k in snapshot)
        names = {(a.connection, a.account_id): a.name for a in self.scheduler.accounts()}
        sending = Counter((k.connection, k.account) for k in plan.send)
        skipped: dict[tuple[str, str], Counter[Refused]] = {}
        for refusal in plan.refused:
            skipped.setdefault((refusal.key.connection, refusal.key.account), Counter())[refusal.why] += 1
        lines: list[PreviewLine] = []
        for where in sorted(set(sending) | set(skipped)):
            connection, account = where
            notes = [f"{n} {_REFUSED_WORDS[why]} — not cancelled" if why is not Refused.READ_ONLY
                     else "read-only — not cancelled" for why, n in sorted(skipped.get(where, Counter()).items())]
            lines.append(PreviewLine(connection, self.venue_of(connection), account, names.get(where, ""),
                                     sending.get(where, 0) + sum(skipped.get(where, Counter()).values()),
                                     "; ".join(notes)))
        for event in events:
            if event.phase is RefreshPhase.FAILED:
                lines.append(PreviewLine(event.connection, self.venue_of(event.connection), "", "", 0,
                                         f"could not be read — nothing will be cancelled here: {event.error}"))
        for (connection, account), failure in sorted(not_read.items()):
            lines.append(PreviewLine(connection, self.venue_of(connection), account, failure.account_name, 0,
                                     f"could not be read — nothing will be cancelled there: {failure.error}"))
        unreadable: dict[tuple[str, str], list[Unreadable]] = {}
        for event in events:
            for item in event.unreadable:
                unreadable.setdefault((item.connection, item.account), []).append(item)
        for (connection, account), items in sorted(unreadable.items()):
            shown = ", ".join(f"{u.order_id or 'an order without a readable id'} ({u.reason})" for u in items[:3])
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            note = f"{len(items)} order(s) could not be read — nothing will be cancelled for them: {shown}{more}"
            at = next((i for i, line in enumerate(lines) if (line.connection, line.account) == (connection, account)
                       and line.account), None)
            if at is None:
                lines.append(PreviewLine(connection, self.venue_of(connection), account,
                                         names.get((connection, account), ""), 0, note))
            else:  # the account's own line: its readable orders are still cancelled
                lines[at] = replace(lines[at], note="; ".join(n for n in (lines[at].note, note) if n))
        self._last_preview = KillSwitchPreview(tuple(lines), plan.send, plan.refused)
        return self._last_preview

    def kill_switch_plan(self, keys: Sequence[OrderKey]) -> CancelPlan:
        """The previewed keys that may still be cancelled now; what the preview skipped is counted as skipped."""
        plan = self.plan_cancel(keys, Provenance.KILL_SWITCH)
        previewed = self._last_preview.skipped if self._last_preview is not None else ()
        chosen = set(keys)
        return CancelPlan(plan.provenance, plan.send,
                          plan.refused + tuple(r for r in previewed if r.key not in chosen))

    def fire_kill_switch(self, keys: Sequence[OrderKey]) -> str:
        """Cancel exactly the previewed keys that may still be cancelled now (the rest is counted as skipped)."""
        return self.submit(self.kill_switch_plan(keys), label=f"Kill switch: {len(keys)} orders")

    # ------------------------------------------------------------------ refresh
    def start(self) -> None:
        self.scheduler.start()

    def refresh_now(self, connection: str = "") -> None:
        self.scheduler.refresh_now(connection)

    def _queue_refresh(self, connection: str) -> None:
        """Refresh ``connection`` once its cancels settle: ``REFRESH_AFTER_CANCELS_S`` after the last one ends,
        or at most ``REFRESH_AFTER_CANCELS_MAX_S`` after the first, so a burst is not slowed by refreshes."""
        now = self._clock()
        if not self._refresh_soon:
            self._refresh_first = now
        self._refresh_soon.add(connection)
        left = self._refresh_first + REFRESH_AFTER_CANCELS_MAX_S - now
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
        call_later = self._call_later or asyncio.get_running_loop().call_later
        self._refresh_handle = call_later(max(0.0, min(REFRESH_AFTER_CANCELS_S, left)), self._refresh_queued)

    def _refresh_queued(self) -> None:
        names, self._refresh_soon = self._refresh_soon, set()
        self._refresh_handle = None
        if self._closed:
            return
        for name in sorted(names):
            if name in self.service.specs:
                self.scheduler.refresh_now(name)

    # ------------------------------------------------------------------ connections while running
    def set_connection(self, spec: ConnectionSpec) -> None:
        """A connection was added, or its options, secrets or read-only role changed."""
        new = spec.name not in self.service.specs
        self.service.set_connection(spec)
        if new:
            self.scheduler.add_connection(spec.name)  # its first read starts now
        else:
            self.scheduler.refresh_now(spec.name)
        self.notice(f"{spec.venue.label} connection {spec.name!r} {'added' if new else 'changed'}"
                    + (" (read-only)" if spec.read_only else ""), level=NoticeLevel.INFO,
                    connection=spec.name, action="connections")
        self._publish(ConnectionsChanged(spec.name))

    async def remove_connection(self, name: str) -> None:
        """Stop reading it first (no late refresh may bring its orders back), then forget it."""
        await self.scheduler.remove_connection(name)
        spec = self.service.specs.get(name)
        if spec is None:
            return
        self.service.remove_connection(name)
        self.pending = {k for k in self.pending if k.connection != name}
        self.stale_since.pop(name, None)
        self.notice(f"{spec.venue.label} connection {name!r} removed", level=NoticeLevel.INFO, connection=name,
                    action="connections")
        self._publish(ConnectionsChanged(name, removed=True))

    # ------------------------------------------------------------------ what the service tells us
    def _on_refresh(self, event: RefreshEvent) -> None:
        if self._closed:
            return
        name = event.connection
        if event.phase is RefreshPhase.UPDATED and event.diff is not None:
            self._last_failure.pop(name, None)
            self.stale_since.pop(name, None)
            for key in event.diff.removed:
                self.pending.discard(key)
            venue = self.venue_of(name)
            for failure in event.account_failures:  # the other accounts were read; this one says why not
                if getattr(failure.error, "response", None) is None:  # else the venue's answer is shown already
                    self.status_log.add_note(name, venue, "list_orders", failure.text)
            for item in event.unreadable:
                self.status_log.add_note(name, venue, "list_orders",
                                         f"{item.where}: an order Blotter cannot read — not shown, not cancelled "
                                         f"by a bulk cancel: {item.reason}")
            self._publish(OrdersChanged(event.diff))
        elif event.phase is RefreshPhase.FAILED and event.error is not None:
            self.stale_since.setdefault(name, datetime.now(UTC))
            text = str(event.error)
            if getattr(event.error, "response", None) is None and self._last_failure.get(name) != text:
                self.status_log.add_note(name, self.venue_of(name), "list_orders", text)
            self._last_failure[name] = text
            self._publish(RefreshFailed(name, event.error, event.retry_in_s))
        self._publish(HealthChanged(name, event.retry_in_s if event.phase is RefreshPhase.FAILED else 0.0))

    def _to_log(self, update: Callable[[], object]) -> None:
        if self._defer is None:
            update()
            return
        self._for_log.append(update)
        if len(self._for_log) == 1:
            self._defer(self._flush_log)

    def _flush_log(self) -> None:
        updates, self._for_log = self._for_log, []
        for update in updates:
            update()

    def _on_response(self, response: VenueResponse) -> None:
        if self._closed:
            return
        log = self.status_log
        if response.action in _QUIET_ACTIONS:
            self._to_log(lambda: log.attach_response(response))  # shown in its cancel's entry
        elif not response.ok or response.action in _NOTABLE_OK or self.log_successful_reads:
            self._to_log(lambda: log.add_response(response))
        self._publish(VenueAnswer(response))

    def _on_cancel_event(self, event: CancelEvent) -> None:
        if self._closed:
            return
        log = self.status_log
        self._to_log(lambda: log.apply_cancel_event(event))
        if event.phase is CancelPhase.DONE and event.result is not None:
            key = event.key
            self.requested.discard(key)
            result = event.result
            if result.outcome is CancelOutcome.PENDING:
                self.pending.add(key)
            else:
                self.pending.discard(key)
            if result.outcome is CancelOutcome.CANCELLED or (result.final_status is not None
                                                             and result.final_status.is_terminal):
                self.scheduler.forget([key])
            self._count(event)
            self._queue_refresh(key.connection)
        self._publish(CancelStep(event))

    def _count(self, event: CancelEvent) -> None:
        batch = self.batches.get(event.batch_id) if event.batch_id else None
        if batch is None or event.result is None:
            return
        batch.done += 1
        batch.outcomes[outcome_word(event.result.outcome, event.result.too_late)] += 1
        if batch.finished:
            del self.batches[event.batch_id]
            self.finished_batches.append(batch)
            problems = any(o not in ("cancelled", "pending") for o in batch.outcomes)
            text = batch.text()
            if self.service.audit is not None:  # and in the audit trail, for support
                self.service.audit.record_batch_summary(batch.batch_id, str(batch.provenance), text,
                                                        problems=problems)
            self._to_log(lambda: self.status_log.add_note(
                "", "", str(batch.provenance), text, error=problems, detail=f"batch {batch.batch_id}",
                batch_id=batch.batch_id))
        self._publish(BatchProgress(batch, batch.done, finished=batch.finished))

    async def aclose(self) -> None:
        self._closed = True
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._listeners.clear()
        await self.scheduler.aclose()
