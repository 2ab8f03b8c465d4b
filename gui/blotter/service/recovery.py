"""Settling the cancel attempts an earlier Blotter process left in flight (crash, kill, closed mid-cancel).

The audit records each attempt's start before its request goes on the wire, so an attempt that never
got its outcome is still ``in_flight`` there. At the next start each such attempt (of a process that is
gone) is re-read at the venue and gets its one final outcome, provenance ``reconciliation``, by the one
truth table the coordinator uses too (``core.outcome``: the venue "accepted" the cancel if the trail holds
a pending step or a 2xx answer to it, else it gave "no answer"):

    cancelled → cancelled;  filled → rejected (too late);  other terminal → rejected;
    pending_cancel → pending;  still open → pending if the venue had accepted the cancel,
    else failed (NOT cancelled);  not listed / cannot be asked → unknown.

An attempt younger than ``GRACE_TIMEOUTS`` × its connection's request timeout may still have its request
on the way to (or inside) the venue — the dead process's DELETE can be processed seconds after the crash —
so it is polled, as an unknown outcome is, until the venue shows the order terminal or the attempt is that
old; only then is "still open" read as NOT cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..core import (
    BlotterError,
    CancelOutcome,
    CancelResult,
    ConnectionSpec,
    NotFoundError,
    Order,
    Provenance,
)
from ..core.outcome import Answer, judge
from ..store.audit import AttemptRecord, AuditError, AuditStore, CancelTransition
from ..venues.base import VenueAdapter


class RecoverySource(Protocol):
    """What recovery needs of the service (``BlotterService`` fits): the trail, the connections, adapters."""

    @property
    def audit(self) -> AuditStore | None: ...

    @property
    def specs(self) -> Mapping[str, ConnectionSpec]: ...

    def adapter(self, name: str) -> VenueAdapter: ...


log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: Blotter stopped before this cancel finished"
GRACE_TIMEOUTS = 2.0  # how many request timeouts an interrupted request may still be on its way
POLL_INITIAL_S, POLL_MAX_S = 0.25, 2.0


async def recover_in_flight(service: RecoverySource, grace_timeouts: float = GRACE_TIMEOUTS) -> list[CancelResult]:
    """Give every orphaned attempt its one final outcome; returns those outcomes (oldest attempt first).

    ``grace_timeouts``: see the module docstring (0 settles every attempt on one read).
    """
    audit = service.audit
    if audit is None:
        return []
    try:
        orphans = await asyncio.to_thread(audit.claim_orphaned_attempts)
    except AuditError as exc:  # never let the trail stop the app from starting
        log.warning("cannot look for interrupted cancels: %s", exc)
        return []
    if not orphans:
        return []
    limits: dict[str, asyncio.Semaphore] = {}

    async def one(attempt: AttemptRecord) -> CancelResult:
        order, error = await _read_when_settled(service, attempt, limits, grace_timeouts)
        result = settle(attempt, order, error)
        spec = service.specs.get(attempt.key.connection)
        audit.record_cancel(CancelTransition(
            attempt_id=attempt.attempt_id, key=attempt.key, phase="done", provenance=Provenance.RECONCILIATION,
            batch_id=attempt.batch_id, message=result.message, venue=spec.venue.value if spec else "",
            result=result, venue_reason=order.cancel_reason if order else "",
        ))
        return result

    results = list(await asyncio.gather(*(one(a) for a in orphans)))
    await audit.durable()
    for result in results:
        log.info("recovered cancel attempt %s for %s: %s (%s)", result.attempt_id, result.key,
                 result.outcome.value, result.detail)
    return results


async def _read_when_settled(
    service: RecoverySource, attempt: AttemptRecord, limits: dict[str, asyncio.Semaphore], grace_timeouts: float
) -> tuple[Order | None, str]:
    """Read the order; while the attempt is young and the order not terminal, read again (with back-off)."""
    spec = service.specs.get(attempt.key.connection)
    grace = timedelta(seconds=grace_timeouts * (spec.timeout_s if spec is not None else 10.0))
    settled_at = attempt.started_at + grace
    delay = POLL_INITIAL_S
    while True:
        order, error = await _read(service, attempt, limits)
        if order is not None and order.status.is_terminal:
            return order, error
        left = (settled_at - datetime.now(UTC)).total_seconds()
        if left <= 0 or _connection_gone(service, attempt):
            return order, error
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 1.6, POLL_MAX_S)


def _connection_gone(service: RecoverySource, attempt: AttemptRecord) -> bool:
    return attempt.key.connection not in service.specs


async def _read(
    service: RecoverySource, attempt: AttemptRecord, limits: dict[str, asyncio.Semaphore]
) -> tuple[Order | None, str]:
    key = attempt.key
    if key.connection not in service.specs:
        return None, f"connection {key.connection!r} is no longer configured; the venue was not asked"
    try:
        adapter = service.adapter(key.connection)
        limit = limits.setdefault(key.connection, asyncio.Semaphore(max(1, adapter.capabilities.max_concurrency)))
        async with limit:
            return await adapter.get_order(key.account, key.order_id), ""
    except NotFoundError:
        return None, "the venue no longer lists the order"
    except BlotterError as exc:
        return None, f"the venue could not be asked: {exc}"
    except Exception as exc:  # a bug must still end the attempt with one honest outcome
        log.exception("re-reading %s after a restart failed", key)
        return None, f"Blotter could not re-read the order ({type(exc).__name__}); check it"


def settle(attempt: AttemptRecord, order: Order | None, error: str = "") -> CancelResult:
    """The one final outcome of an interrupted attempt, from what the venue shows now."""

    def result(outcome: CancelOutcome, detail: str) -> CancelResult:
        return CancelResult(
            key=attempt.key, attempt_id=attempt.attempt_id, outcome=outcome, message=INTERRUPTED,
            http_status=None, latency_ms=0.0, final_status=order.status if order else None,
            provenance=Provenance.RECONCILIATION, batch_id=attempt.batch_id,
            venue_status=order.venue_status if order else "", detail=f"after a restart: {detail}",
        )

    if order is None:
        return result(CancelOutcome.UNKNOWN, error or "the venue could not be asked")
    verdict = judge(order, Answer.ACCEPTED if attempt.accepted else Answer.NO_ANSWER)
    return result(verdict.outcome, verdict.detail)
