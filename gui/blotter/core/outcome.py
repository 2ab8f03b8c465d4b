"""The one truth table: what a cancel attempt's outcome is, given what the venue answered and shows now.

Used by the cancel coordinator (live attempts) and by restart recovery (attempts a dead process left in
flight), so "cancelled", "too late" and "still open" mean the same everywhere. Only the venue's own reading
of the order says *cancelled*; an answer alone never does.

    venue shows \\ the venue's answer   accepted (ack, queued)   refused (409/400…)        no answer (timeout, 5xx)
    cancelled                          cancelled                rejected (already)        cancelled
    filled                             rejected, too late       rejected, too late        rejected, too late
    other final (expired, rejected)    rejected                 rejected                  rejected
    cancel pending                     pending                  pending (already pending) pending
    open / partially filled            pending — check it       rejected                  failed — NOT cancelled
    a status nobody documented         pending — check it       rejected                  unknown — check it
    nothing (cannot be read)           decided by the caller (pending after an ack, unknown without one)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .model import CancelOutcome, Order, OrderStatus


class Answer(StrEnum):
    """What the venue said to the cancel request itself."""

    ACCEPTED = "accepted"  # done or queued: the venue took the request
    REFUSED = "refused"  # the venue said no (conflict, validation, an error in a 2xx body)
    NO_ANSWER = "no_answer"  # timeout, reset, 5xx: it may or may not have taken it


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: CancelOutcome
    detail: str  # in our words, for the trader


def judge(order: Order, answer: Answer, *, waited_s: float | None = None) -> Verdict:
    """The outcome from the order as the venue shows it now and what it answered to the cancel.

    ``waited_s``: how long the order was polled (said in the details of outcomes that are not final).
    """
    status, shown = order.status, order.venue_status or order.status.value
    after = f" after {waited_s:g} s" if waited_s is not None else ""
    if status is OrderStatus.CANCELLED:
        if answer is Answer.REFUSED:
            return Verdict(CancelOutcome.REJECTED, "the order was already cancelled")
        note = f"confirmed: the venue shows the order {shown}"
        return Verdict(CancelOutcome.CANCELLED, note + (f" ({order.cancel_reason})" if order.cancel_reason else ""))
    if status is OrderStatus.FILLED:
        return Verdict(CancelOutcome.REJECTED, "too late — the order filled before the cancel took effect")
    if status.is_terminal:
        return Verdict(CancelOutcome.REJECTED, f"the order ended {shown} before the cancel took effect")
    if status is OrderStatus.PENDING_CANCEL:
        if answer is Answer.REFUSED:
            return Verdict(CancelOutcome.PENDING, f"the venue already has a cancel pending ({shown}); "
                                                  f"not confirmed{after}")
        return Verdict(CancelOutcome.PENDING, f"the venue shows the cancel pending ({shown}); not confirmed{after}")
    if answer is Answer.REFUSED:
        return Verdict(CancelOutcome.REJECTED, f"the venue shows the order {shown}")
    if answer is Answer.ACCEPTED:
        return Verdict(CancelOutcome.PENDING, f"accepted by the venue, but the venue still shows the order {shown}"
                                              f"{after} — check it")
    if status.is_open:
        return Verdict(CancelOutcome.FAILED, f"no answer to the cancel; the venue still shows the order {shown}"
                                             f"{after} — it is NOT cancelled")
    return Verdict(CancelOutcome.UNKNOWN, f"no answer to the cancel; the venue shows the order in a state Blotter "
                                          f"does not know ({shown}) — check it")
