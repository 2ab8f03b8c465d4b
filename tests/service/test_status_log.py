"""The status log without Qt: repeated answers fold, cancel entries keep their first time, outcomes stand out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blotter.core import Action, CancelOutcome, CancelResult, OrderKey, Provenance, Venue, VenueResponse
from blotter.service import CancelEvent, CancelPhase
from blotter.service.status_log import OutcomeKind, StatusLog

T0 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
KEY = OrderKey("as", "6303", "73517")


def login_error(at: datetime, words: str = "could not connect to AutoShares at 127.0.0.1:1 (unreachable)",
                connection: str = "as") -> VenueResponse:
    return VenueResponse(Venue.AUTOSHARES, connection, Action.LOGIN, None, words, 1.0, at=at)


def step(phase: CancelPhase, at: datetime, result: CancelResult | None = None) -> CancelEvent:
    return CancelEvent("a1", KEY, phase, Provenance.ROW_ACTION, "", "cancel sent", result=result, at=at,
                       venue="autoshares")


def test_an_outage_folds_into_one_entry_with_a_count_and_first_and_last_time() -> None:
    log = StatusLog()
    for i in range(34):
        log.add_response(login_error(T0 + timedelta(seconds=2 * i)))
    [entry] = log.items
    assert entry.count == 34 and entry.at == T0 and entry.updated_at == T0 + timedelta(seconds=66)
    assert entry.kind is OutcomeKind.ERROR and "×34" in entry.as_text()


def test_a_different_answer_or_another_connection_starts_a_new_entry() -> None:
    log = StatusLog()
    log.add_response(login_error(T0))
    log.add_response(login_error(T0, connection="snap"))  # another connection in between: still folds
    log.add_response(login_error(T0 + timedelta(seconds=2)))
    log.add_response(login_error(T0 + timedelta(seconds=4), words="HTTP 503 Service Unavailable"))
    log.add_response(login_error(T0 + timedelta(seconds=6)))  # the connection said something else since
    assert [(e.connection, e.count) for e in log.items] == [("as", 2), ("snap", 1), ("as", 1), ("as", 1)]


def test_cancel_outcomes_are_never_folded_or_buried() -> None:
    log = StatusLog()
    log.add_response(login_error(T0))
    log.apply_cancel_event(step(CancelPhase.SENDING, T0 + timedelta(seconds=1)))
    result = CancelResult(KEY, "a1", CancelOutcome.UNKNOWN, "could not connect", None, 0.0, None,
                          Provenance.ROW_ACTION, detail="the venue could not be asked again")
    log.apply_cancel_event(step(CancelPhase.DONE, T0 + timedelta(seconds=31), result))
    for i in range(5):
        log.add_response(login_error(T0 + timedelta(seconds=32 + 2 * i)))
    entries = log.newest_first()
    # the outage keeps counting in its first entry, so the outcome stays on top instead of sinking
    assert [(e.action, e.kind, e.count) for e in entries] == [
        ("cancel", OutcomeKind.UNKNOWN, 1), ("login", OutcomeKind.ERROR, 6)]
    cancel = entries[0]
    assert cancel.at == T0 + timedelta(seconds=1)  # its first time: entries stay in order
    assert cancel.updated_at == T0 + timedelta(seconds=31) and cancel.venue == "autoshares"


def test_capacity_evicts_the_oldest_and_tells_listeners_before_and_after() -> None:
    log = StatusLog(capacity=3)
    calls: list[tuple[str, int]] = []
    log.evicting.append(lambda n: calls.append(("before", len(log.items))))
    log.evicted.append(lambda n: calls.append(("after", len(log.items))))
    for i in range(4):
        log.add_note("", "", f"note-{i}", f"text {i}")
    assert [e.action for e in log.items] == ["note-1", "note-2", "note-3"]
    assert calls == [("before", 4), ("after", 3)]


def test_batch_summaries_never_fold() -> None:
    log = StatusLog()
    log.add_note("", "", "kill_switch", "Kill switch: 3 cancelled", error=False, batch_id="b1")
    log.add_note("", "", "kill_switch", "Kill switch: 3 cancelled", error=False, batch_id="b2")
    assert [e.batch_id for e in log.items] == ["b1", "b2"]
