"""The cancel coordinator: every cancel attempt ends in exactly one truthful outcome.

Lifecycle of one attempt (DESIGN.md §2):

    sending ──▶ venue says done (AutoShares 204) ──▶ re-read to confirm ──▶ cancelled | pending | too late
            ├─▶ venue queued it (tanX, SnapTrade) ──▶ pending ──▶ poll ──▶ cancelled | filled (too late)
            │                                                            └─ timeout: pending (not confirmed)
            ├─▶ venue refused (409/422/400) ──▶ re-read once to show the true state ──▶ rejected
            ├─▶ auth refused (401 after one re-login, 403) ──▶ failed (nothing else can be asked)
            └─▶ no answer (timeout, reset, 5xx) ──▶ reconciling ──▶ poll ──▶ whatever the venue shows;
                                                                         unknown only if it cannot be asked

A cancel for an order whose attempt is still running sends nothing: the caller gets the same attempt.
Requests per connection are bounded by the adapter's ``max_concurrency``. Re-reads go through
``_get_order``: while many cancels of one account are in flight (more than ``BATCH_READS_ABOVE``, or what
the adapter's own ``batch_reads(account, in_flight)`` decides when it has one) and the adapter can re-read
several orders of an account in one request (``get_orders``), the re-reads waiting at the same moment are
sent together, so reconciling a thousand cancels costs a few requests against the
venue's rate limit instead of a thousand. Each order's answer is exactly what ``get_order`` would have
said (an order the venue does not list is not found); a batch of one is an ordinary ``get_order``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from typing import Protocol, cast

from ..core import (
    AuthError,
    BlotterError,
    CancelAck,
    CancelOutcome,
    CancelResult,
    NotFoundError,
    Order,
    OrderKey,
    OrderStatus,
    OutcomeUnknown,
    Provenance,
    RateLimitedError,
    VenueError,
    VenueRefused,
    VenueResponse,
)
from ..core.outcome import Answer, judge
from ..core.urgency import urgent_context
from ..venues.base import VenueAdapter, venue_identity

log = logging.getLogger(__name__)


class CancelPhase(StrEnum):
    """Where an attempt is; ``DONE`` carries the one final result."""

    SENDING = "sending"  # the request is on the wire
    PENDING = "pending"  # the venue accepted it; waiting for the order to show cancelled
    RECONCILING = "reconciling"  # no clear answer (or a refusal): asking the venue again
    DONE = "done"


@dataclass(frozen=True, slots=True)
class CancelEvent:
    attempt_id: str
    key: OrderKey
    phase: CancelPhase
    provenance: Provenance
    batch_id: str
    message: str
    response: VenueResponse | None = None
    order: Order | None = None
    result: CancelResult | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The venue order this attempt is about, the same for every spelling of its key and for every connection
    # that reaches the same venue account (``venue|host|account|order id``; see ``venue_identity``).
    identity: str = ""
    venue: str = ""  # the venue's value ("autoshares"…), so listeners need not look the connection up


@dataclass(frozen=True, slots=True)
class AttemptHeld:
    """``before_send``'s answer when another process already has a cancel of this venue order on the wire.

    The coordinator then sends nothing: it waits (up to its reconcile timeout) for ``outcome`` — the other
    attempt's final result, or ``None`` if it did not finish in time — and reports that as its own outcome.
    """

    holder_attempt_id: str
    holder: str  # who holds it, for the trader ("another Blotter process (pid 1234)")
    outcome: Callable[[float], Awaitable[CancelResult | None]]  # called with the longest wait in seconds


CancelListener = Callable[[CancelEvent], None]
BATCH_READ_MAX = 100  # order ids per batched re-read
BATCH_READS_ABOVE = 16  # cancels of one account in flight beyond which re-reads are batched


class BatchOrderReader(Protocol):
    """An adapter that re-reads several orders of one account in one request (AutoShares)."""

    async def get_orders(self, account: str, order_ids: Sequence[str]) -> Mapping[str, Order]:
        """The orders the venue knows among ``order_ids`` (any state); absent ids are not found."""
        ...

    # Optional: ``batch_reads(account, in_flight) -> bool`` overrides the ``BATCH_READS_ABOVE`` rule for that
    # adapter (SnapTrade: a lower threshold, and only where its order list is real-time).

# Awaited between the SENDING event and the request going on the wire (the audit makes the attempt durable and
# claims the venue order for this process). ``AttemptHeld``: another process is already cancelling it — send nothing.
BeforeSend = Callable[[CancelEvent], Awaitable["AttemptHeld | None"]]


@dataclass(slots=True)
class _Attempt:
    attempt_id: str
    key: OrderKey
    provenance: Provenance
    batch_id: str
    future: asyncio.Future[CancelResult]
    started: float = field(default_factory=time.perf_counter)
    latency_ms: float = 0.0
    http_status: int | None = None
    venue_message: str = ""
    final_order: Order | None = None  # the order as last read for the result (rides on the DONE event)
    identity: str = ""  # the venue order (see ``venue_identity``)
    venue: str = ""


class CancelCoordinator:
    """Runs cancel attempts against the adapters and publishes their lifecycle as events."""

    def __init__(
        self,
        adapters: Mapping[str, VenueAdapter],
        *,
        reconcile_timeout_s: float = 30.0,
        poll_initial_s: float = 0.25,
        poll_max_s: float = 2.0,
        is_read_only: Callable[[OrderKey], bool] | None = None,
        before_send: BeforeSend | None = None,
    ) -> None:
        self._adapters = adapters
        self.reconcile_timeout_s = reconcile_timeout_s
        self._poll_initial_s = poll_initial_s
        self._poll_max_s = poll_max_s
        self._is_read_only = is_read_only or (lambda _key: False)
        self._before_send = before_send
        self._listeners: list[CancelListener] = []
        self._in_flight: dict[OrderKey, _Attempt] = {}  # by canonical key
        self._by_identity: dict[str, _Attempt] = {}  # by venue order, across connections reaching one account
        self._tasks: set[asyncio.Task[None]] = set()
        self._limits: dict[str, asyncio.Semaphore] = {}
        # batched re-reads: (connection, account) -> order id -> the futures waiting for it
        self._read_queues: dict[tuple[str, str], dict[str, list[asyncio.Future[Order]]]] = {}
        self._readers: set[tuple[str, str]] = set()
        self._per_account: Counter[tuple[str, str]] = Counter()  # attempts in flight per account

    # ------------------------------------------------------------------ public API
    def subscribe(self, listener: CancelListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def in_flight(self, key: OrderKey) -> bool:
        """Whether a cancel of this venue order is running (under any spelling of its key, on any connection)."""
        if key in self._in_flight:
            return True
        canonical, identity = self._identify(key)
        return canonical in self._in_flight or (bool(identity) and identity in self._by_identity)

    @property
    def in_flight_keys(self) -> frozenset[OrderKey]:
        return frozenset(self._in_flight)

    def canonical(self, key: OrderKey) -> OrderKey:
        """The one spelling of ``key`` its venue uses (``as/06303/073517`` → ``as/6303/73517``)."""
        return self._identify(key)[0]

    def identity(self, key: OrderKey) -> str:
        """The venue order ``key`` names (``venue|host|account|order id``; "" when its adapter is unknown)."""
        return self._identify(key)[1]

    def _identify(self, key: OrderKey) -> tuple[OrderKey, str]:
        adapter = self._adapters.get(key.connection)
        if adapter is None:
            return key, ""
        return venue_identity(adapter, key)

    def _venue_of(self, key: OrderKey) -> str:
        adapter = self._adapters.get(key.connection)
        venue = getattr(adapter, "venue", None) if adapter is not None else None
        return str(getattr(venue, "value", venue or ""))

    def submit(
        self, key: OrderKey, provenance: Provenance, batch_id: str = ""
    ) -> asyncio.Future[CancelResult]:
        """Start a cancel (or join the one already running for this venue order); returns its result future.

        Every spelling of one order's key, and every connection that reaches the same venue account, is the
        same venue order (``venue_identity``): while one attempt for it runs, the others join it.
        """
        key, identity = self._identify(key)
        existing = self._in_flight.get(key) or (self._by_identity.get(identity) if identity else None)
        if existing is not None:
            return existing.future
        loop = asyncio.get_running_loop()
        attempt = _Attempt(uuid.uuid4().hex, key, provenance, batch_id, loop.create_future(), identity=identity,
                           venue=self._venue_of(key))
        self._in_flight[key] = attempt
        if identity:
            self._by_identity[identity] = attempt
        self._per_account[(key.connection, key.account)] += 1
        # urgent: a loop that knows it (the window's) runs this ahead of other ready work (core/urgency.py)
        task = loop.create_task(self._run(attempt), name=f"cancel {key}", context=urgent_context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return attempt.future

    async def cancel(self, key: OrderKey, provenance: Provenance, batch_id: str = "") -> CancelResult:
        return await asyncio.shield(self.submit(key, provenance, batch_id))

    async def cancel_many(
        self, keys: Iterable[OrderKey], provenance: Provenance, batch_id: str = ""
    ) -> list[CancelResult]:
        """One result per venue order: spellings of one order and duplicate connections share one attempt."""
        futures = list(dict.fromkeys(self.submit(k, provenance, batch_id) for k in keys))
        return list(await asyncio.gather(*futures))

    async def aclose(self) -> None:
        """Stop every running attempt (their futures are cancelled, nothing is claimed)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ the lifecycle
    async def _run(self, attempt: _Attempt) -> None:
        try:
            result = await self._lifecycle(attempt)
        except asyncio.CancelledError:
            attempt.future.cancel()
            self._forget(attempt)
            raise
        except Exception as exc:  # a bug must still end the attempt with one honest outcome
            log.exception("cancel attempt %s crashed", attempt.attempt_id)
            result = self._result(attempt, CancelOutcome.UNKNOWN, f"internal error: {type(exc).__name__}",
                                  None, detail="Blotter could not finish this cancel; check the order")
        self._forget(attempt)
        self._emit(attempt, CancelPhase.DONE, result.message, order=attempt.final_order, result=result)
        if not attempt.future.done():
            attempt.future.set_result(result)

    def _forget(self, attempt: _Attempt) -> None:
        if attempt.identity and self._by_identity.get(attempt.identity) is attempt:
            del self._by_identity[attempt.identity]
        if self._in_flight.pop(attempt.key, None) is not None:
            where = (attempt.key.connection, attempt.key.account)
            self._per_account[where] -= 1
            if self._per_account[where] <= 0:
                del self._per_account[where]

    async def _lifecycle(self, attempt: _Attempt) -> CancelResult:
        key = attempt.key
        adapter = self._adapters.get(key.connection)
        if adapter is None:
            return self._result(attempt, CancelOutcome.FAILED, f"unknown connection {key.connection!r}", None)
        if self._is_read_only(key):
            return self._result(attempt, CancelOutcome.FAILED,
                                f"{key.connection}/{key.account} is read-only: no cancel was sent", None)
        sending = self._emit(attempt, CancelPhase.SENDING, "cancel sent")
        if self._before_send is not None:
            held: AttemptHeld | None = None
            try:
                held = await self._before_send(sending)
            except Exception:  # the cancel matters more than its bookkeeping
                log.exception("before-send hook failed for %s", attempt.attempt_id)
            if held is not None:
                return await self._join_elsewhere(attempt, held)
        try:
            async with self._limit(key.connection, adapter):
                receipt = await adapter.cancel(key)
        except AuthError as exc:
            self._note(attempt, exc.response, exc.message)
            return self._result(attempt, CancelOutcome.FAILED, exc.message, None)
        except RateLimitedError as exc:
            self._note(attempt, exc.response, exc.message)
            return self._result(attempt, CancelOutcome.REJECTED, exc.message, None,
                                detail="the venue's rate limit held even after waiting; not cancelled")
        except VenueRefused as exc:
            self._note(attempt, exc.response, exc.message)
            self._emit(attempt, CancelPhase.RECONCILING, exc.message, exc.response)
            order = await self._read_once(adapter, key)
            if order is not None and order.status is OrderStatus.PENDING_CANCEL:
                # "a cancel is already pending" (SnapTrade 400, AutoShares 409 on PendingCancel): the venue has
                # a cancel of this order in hand, ours or an earlier one — follow it as an accepted one
                self._emit(attempt, CancelPhase.PENDING, exc.message, exc.response, order)
                return await self._confirm(attempt, adapter, CancelAck.QUEUED)
            return self._refused(attempt, exc, order)
        except OutcomeUnknown as exc:
            self._note(attempt, exc.response, exc.message)
            self._emit(attempt, CancelPhase.RECONCILING, exc.message, exc.response)
            return await self._reconcile_unknown(attempt, adapter, exc)
        except VenueError as exc:  # any other typed error is treated as unknown
            self._note(attempt, exc.response, exc.message)
            return await self._reconcile_unknown(attempt, adapter, OutcomeUnknown(exc.message, exc.response))
        except BlotterError as exc:  # configuration, credentials: nothing was sent, we could not ask
            self._note(attempt, None, str(exc))
            return self._result(attempt, CancelOutcome.FAILED, str(exc), None,
                                detail="no cancel was sent to the venue")
        self._note(attempt, receipt.response, receipt.response.message)
        if receipt.ack is CancelAck.QUEUED:
            self._emit(attempt, CancelPhase.PENDING, receipt.response.message, receipt.response, receipt.order)
        return await self._confirm(attempt, adapter, receipt.ack)

    async def _join_elsewhere(self, attempt: _Attempt, held: AttemptHeld) -> CancelResult:
        """Another process has this venue order's cancel on the wire: send nothing, report its outcome."""
        self._emit(attempt, CancelPhase.PENDING, f"{held.holder} is already cancelling this order; no second "
                                                 "request was sent")
        other = await held.outcome(self.reconcile_timeout_s)
        if other is None:
            return self._result(attempt, CancelOutcome.PENDING, f"{held.holder} is cancelling this order", None,
                                detail=f"no second request was sent; its attempt {held.holder_attempt_id} had "
                                       f"no outcome after {self.reconcile_timeout_s:g} s — check the order")
        attempt.http_status, attempt.latency_ms = other.http_status, other.latency_ms
        note = f"{held.holder} cancelled this order first (attempt {held.holder_attempt_id}); no second request"
        detail = f"{note}: {other.detail}" if other.detail else note
        return dataclasses.replace(
            other, key=attempt.key, attempt_id=attempt.attempt_id, provenance=attempt.provenance,
            batch_id=attempt.batch_id, detail=detail)

    async def _confirm(self, attempt: _Attempt, adapter: VenueAdapter, ack: CancelAck) -> CancelResult:
        """The venue accepted the cancel: poll until it shows the order terminal, or time out.

        Only the venue's own reading of the order says "cancelled". An acknowledgement whose re-read fails
        (an error, a timeout, an order the venue no longer lists) stays *pending*: accepted, not confirmed —
        even when the acknowledgement itself said "cancelled" (AutoShares 204, SnapTrade's brokerage reply,
        tanX's echoed order): those answers have been seen to be wrong, and money rides on the word.
        """
        words = attempt.venue_message
        order, read_error = await self._poll(attempt, adapter, until_terminal=True)
        if order is None:
            said = "the venue answered that the order is cancelled" if ack is CancelAck.DONE else \
                "accepted by the venue"
            seen = ("it no longer lists the order" if isinstance(read_error, NotFoundError)
                    else f"re-reading it failed: {read_error}")
            return self._result(attempt, CancelOutcome.PENDING, words, None,
                                detail=f"{said}, but it is not confirmed: {seen} — check the order")
        return self._from_order(attempt, order, Answer.ACCEPTED)

    async def _reconcile_unknown(
        self, attempt: _Attempt, adapter: VenueAdapter, exc: OutcomeUnknown
    ) -> CancelResult:
        order, read_error = await self._poll(attempt, adapter, until_terminal=True)
        if order is None:
            detail = (
                "the venue no longer lists the order" if isinstance(read_error, NotFoundError)
                else f"the venue could not be asked again: {read_error}"
            )
            return self._result(attempt, CancelOutcome.UNKNOWN, exc.message, None, detail=detail)
        return self._from_order(attempt, order, Answer.NO_ANSWER)

    def _refused(self, attempt: _Attempt, exc: VenueRefused, order: Order | None) -> CancelResult:
        if order is None:
            return self._result(attempt, CancelOutcome.REJECTED, exc.message, None)
        verdict = judge(order, Answer.REFUSED)
        return self._result(attempt, verdict.outcome, exc.message, order, detail=verdict.detail)

    def _from_order(self, attempt: _Attempt, order: Order, answer: Answer) -> CancelResult:
        """The outcome by the one truth table (``core.outcome``) from the order as last read."""
        verdict = judge(order, answer, waited_s=self.reconcile_timeout_s)
        return self._result(attempt, verdict.outcome, attempt.venue_message, order, detail=verdict.detail)

    # ------------------------------------------------------------------ reading the venue again
    async def _poll(
        self, attempt: _Attempt, adapter: VenueAdapter, *, until_terminal: bool
    ) -> tuple[Order | None, BlotterError | None]:
        """Re-read the order until terminal (or the timeout); returns the last state seen."""
        deadline = time.monotonic() + self.reconcile_timeout_s
        delay = self._poll_initial_s
        last_order: Order | None = None
        last_error: BlotterError | None = None
        first = True
        while True:
            if not first:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 1.6, self._poll_max_s)
            first = False
            try:
                order = await self._get_order(adapter, attempt.key)
            except NotFoundError as exc:
                # the venue did know this order a moment ago: it may lag; keep asking until the deadline
                last_error = exc
                continue
            except AuthError as exc:
                return last_order, exc
            except VenueError as exc:
                last_error = exc
                continue
            except BlotterError as exc:  # configuration or credentials: asking again cannot help
                return last_order, exc
            last_order, last_error = order, None
            if order.status.is_terminal or not until_terminal:
                break
            if time.monotonic() >= deadline:
                break
        return last_order, last_error

    async def _read_once(self, adapter: VenueAdapter, key: OrderKey) -> Order | None:
        try:
            return await self._get_order(adapter, key)
        except BlotterError:
            return None

    async def _get_order(self, adapter: VenueAdapter, key: OrderKey) -> Order:
        """Re-read one order: alone, or batched with the other re-reads of its account waiting now."""
        where = (key.connection, key.account)
        if not self._batches_reads(adapter, where):
            async with self._limit(key.connection, adapter):
                return await adapter.get_order(key.account, key.order_id)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Order] = loop.create_future()
        self._read_queues.setdefault(where, {}).setdefault(key.order_id, []).append(future)
        if where not in self._readers:
            self._readers.add(where)
            task = loop.create_task(self._read_batches(adapter, where), name=f"re-read {where}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _batches_reads(self, adapter: VenueAdapter, where: tuple[str, str]) -> bool:
        if not callable(getattr(adapter, "get_orders", None)):
            return False
        decide = getattr(adapter, "batch_reads", None)
        if callable(decide):
            return bool(decide(where[1], self._per_account[where]))
        return self._per_account[where] > BATCH_READS_ABOVE

    async def _read_batches(self, adapter: VenueAdapter, where: tuple[str, str]) -> None:
        """Send the waiting re-reads of one account, up to ``BATCH_READ_MAX`` per request, until none wait.

        A batch is taken only once the connection's concurrency slot is ours: re-reads that arrive while
        requests are in flight join the next batch instead of queueing requests of their own.
        """
        reader = cast(BatchOrderReader, adapter)  # _get_order checked that it has get_orders
        queue = self._read_queues[where]
        try:
            while queue:
                async with self._limit(where[0], adapter):
                    batch = {oid: queue.pop(oid) for oid in list(islice(queue, BATCH_READ_MAX))}
                    try:
                        found: Mapping[str, Order]
                        if len(batch) == 1:  # alone after all: the ordinary re-read
                            (oid,) = batch
                            found = {oid: await adapter.get_order(where[1], oid)}
                        else:
                            found = await reader.get_orders(where[1], list(batch))
                    except Exception as exc:  # every waiter sees what its own read would have raised
                        for futures in batch.values():
                            for future in futures:
                                if not future.done():
                                    future.set_exception(exc)
                        continue
                for oid, futures in batch.items():
                    order = found.get(oid)
                    for future in futures:
                        if future.done():  # its attempt was stopped meanwhile
                            continue
                        if order is None:
                            future.set_exception(NotFoundError(
                                f"{where[0]}: the venue does not list order {oid} in account {where[1]}"))
                        else:
                            future.set_result(order)
        finally:
            self._readers.discard(where)
            for futures in queue.values():  # stopped (aclose): nobody is left waiting forever
                for future in futures:
                    future.cancel()
            queue.clear()
            self._read_queues.pop(where, None)

    # ------------------------------------------------------------------ plumbing
    def _limit(self, connection: str, adapter: VenueAdapter) -> asyncio.Semaphore:
        sem = self._limits.get(connection)
        if sem is None:
            sem = self._limits[connection] = asyncio.Semaphore(max(1, adapter.capabilities.max_concurrency))
        return sem

    @staticmethod
    def _note(attempt: _Attempt, response: VenueResponse | None, message: str) -> None:
        attempt.latency_ms = response.latency_ms if response else (time.perf_counter() - attempt.started) * 1000
        attempt.http_status = response.http_status if response else None
        attempt.venue_message = message

    def _result(
        self, attempt: _Attempt, outcome: CancelOutcome, message: str, order: Order | None, *, detail: str = ""
    ) -> CancelResult:
        attempt.final_order = order
        return CancelResult(
            key=attempt.key,
            attempt_id=attempt.attempt_id,
            outcome=outcome,
            message=message,
            http_status=attempt.http_status,
            latency_ms=attempt.latency_ms,
            final_status=order.status if order else None,
            provenance=attempt.provenance,
            batch_id=attempt.batch_id,
            venue_status=order.venue_status if order else "",
            detail=detail,
        )

    def _emit(
        self,
        attempt: _Attempt,
        phase: CancelPhase,
        message: str,
        response: VenueResponse | None = None,
        order: Order | None = None,
        result: CancelResult | None = None,
    ) -> CancelEvent:
        event = CancelEvent(attempt.attempt_id, attempt.key, phase, attempt.provenance, attempt.batch_id,
                            message, response, order, result, identity=attempt.identity, venue=attempt.venue)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break a cancel
                log.exception("cancel listener failed")
        return event
