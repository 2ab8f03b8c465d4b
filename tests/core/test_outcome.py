"""The one truth table (core.outcome), without any venue: every cell of the table in its docstring."""

from __future__ import annotations

from decimal import Decimal

import pytest

from blotter.core import CancelOutcome, Order, OrderKey, OrderStatus, OrderType, Side, Venue
from blotter.core.outcome import Answer, judge


def order(status: OrderStatus, shown: str = "", reason: str = "") -> Order:
    return Order(key=OrderKey("c", "1", "2"), venue=Venue.AUTOSHARES, symbol="AAPL", side=Side.BUY,
                 order_type=OrderType.LIMIT, quantity=Decimal(10), filled=Decimal(0), remaining=Decimal(10),
                 limit_price=Decimal(1), stop_price=None, status=status, venue_status=shown or status.value,
                 created_at=None, cancel_reason=reason)


A, R, N = Answer.ACCEPTED, Answer.REFUSED, Answer.NO_ANSWER
TABLE = [
    (OrderStatus.CANCELLED, A, CancelOutcome.CANCELLED, "confirmed"),
    (OrderStatus.CANCELLED, R, CancelOutcome.REJECTED, "already cancelled"),
    (OrderStatus.CANCELLED, N, CancelOutcome.CANCELLED, "confirmed"),
    (OrderStatus.FILLED, A, CancelOutcome.REJECTED, "too late"),
    (OrderStatus.FILLED, R, CancelOutcome.REJECTED, "too late"),
    (OrderStatus.FILLED, N, CancelOutcome.REJECTED, "too late"),
    (OrderStatus.EXPIRED, A, CancelOutcome.REJECTED, "ended"),
    (OrderStatus.PENDING_CANCEL, A, CancelOutcome.PENDING, "cancel pending"),
    (OrderStatus.PENDING_CANCEL, R, CancelOutcome.PENDING, "already has a cancel pending"),
    (OrderStatus.PENDING_CANCEL, N, CancelOutcome.PENDING, "cancel pending"),
    (OrderStatus.OPEN, A, CancelOutcome.PENDING, "check it"),
    (OrderStatus.OPEN, R, CancelOutcome.REJECTED, "shows the order"),
    (OrderStatus.OPEN, N, CancelOutcome.FAILED, "NOT cancelled"),
    (OrderStatus.PARTIALLY_FILLED, N, CancelOutcome.FAILED, "NOT cancelled"),
    (OrderStatus.UNKNOWN, A, CancelOutcome.PENDING, "check it"),
    (OrderStatus.UNKNOWN, R, CancelOutcome.REJECTED, "shows the order"),
    (OrderStatus.UNKNOWN, N, CancelOutcome.UNKNOWN, "does not know"),
]


@pytest.mark.parametrize(("status", "answer", "outcome", "words"), TABLE)
def test_the_truth_table(status: OrderStatus, answer: Answer, outcome: CancelOutcome, words: str) -> None:
    verdict = judge(order(status), answer, waited_s=3)
    assert verdict.outcome is outcome and words in verdict.detail, verdict


def test_only_the_venues_reading_says_cancelled() -> None:
    cancelled = [(s, a) for s in OrderStatus for a in Answer
                 if judge(order(s), a).outcome is CancelOutcome.CANCELLED]
    assert cancelled == [(OrderStatus.CANCELLED, A), (OrderStatus.CANCELLED, N)]


def test_the_venues_words_and_reason_are_kept() -> None:
    verdict = judge(order(OrderStatus.CANCELLED, "Canceled", "Order cancelled by user"), A)
    assert verdict.detail == "confirmed: the venue shows the order Canceled (Order cancelled by user)"
    assert "after 3 s" in judge(order(OrderStatus.OPEN, "New"), A, waited_s=3).detail
