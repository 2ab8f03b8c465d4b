"""A cancel on the wire is always on disk (RELIABILITY-FINDINGS H3, H4), one claim per venue order across
processes (M4), and routine listings kept as counts (M9) — with real SQLite files and real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from audit_support import Locker
from blotter.core import Action, CancelOutcome, CancelResult, OrderKey, OrderStatus, Provenance, Venue, VenueResponse
from blotter.store.audit import AuditQuery, AuditStore, CancelTransition, migrate
from blotter.store.journal import Journal

KEY = OrderKey("as", "6303", "73517")
IDENTITY = "autoshares|127.0.0.1:1|6303|73517"


def sending(attempt_id: str = "a1", identity: str = IDENTITY) -> CancelTransition:
    return CancelTransition(attempt_id=attempt_id, key=KEY, phase="sending", provenance=Provenance.CLI,
                            message="cancel sent", venue="autoshares", identity=identity)


def done(attempt_id: str = "a1", outcome: CancelOutcome = CancelOutcome.CANCELLED) -> CancelTransition:
    result = CancelResult(KEY, attempt_id, outcome, "HTTP 204 No Content", 204, 12.0, OrderStatus.CANCELLED,
                          Provenance.CLI, detail="confirmed: the venue shows the order Canceled")
    return CancelTransition(attempt_id=attempt_id, key=KEY, phase="done", provenance=Provenance.CLI,
                            message=result.message, venue="autoshares", result=result)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.sqlite3"


def test_a_locked_database_journals_the_start_at_once_and_merges_it_later(db: Path) -> None:
    store = AuditStore(db)
    told: list[str] = []
    store.add_problem_listener(told.append)
    locker = Locker(db, 1.0)  # shorter than the writer's 2 s wait: the start commits late
    try:
        started = time.monotonic()
        start = sending()
        future = store.start_attempt(start)
        with pytest.raises(TimeoutError):
            future.result(0.3)  # the database is not answering: the caller does not wait for it
        assert store.journal_now(start)  # what _attempt_durable does: durable in the journal, then send
        assert time.monotonic() - started < 1.0
        assert any('"attempt_id":"a1"' in line for line in store.journal.path.read_text().splitlines())
        assert len(told) == 1 and "journal" in told[0] and str(store.journal.path) in told[0]
        store.record_cancel(done())
    finally:
        locker.wait()
    store.flush(30)
    try:
        [attempt] = store.attempts()
        assert (attempt.state, attempt.outcome) == ("done", "cancelled")
        assert store.outcome_violations() == []
        steps = [r.phase for r in store.query(AuditQuery(kind="cancel"))]
        assert steps == ["sending", "done"]  # the journaled start is kept once
        assert not store.journal.exists()
        assert not store.degraded and "written again" in told[-1]
    finally:
        store.close()


def test_the_next_start_merges_the_journal_and_settles_what_a_dead_process_left(db: Path) -> None:
    AuditStore(db).close()  # a database at today's schema
    journal = Journal(db.with_name(db.name + ".journal"))
    from blotter.store.audit import _transition_record

    start = sending("a1")
    journal.append([_transition_record(start, "deadbeefdeadbeef", 1),
                    _transition_record(done("a1"), "deadbeefdeadbeef", 1),
                    _transition_record(sending("a2", "autoshares|h|6303|2"), "deadbeefdeadbeef", 1)])
    journal.append([_transition_record(start, "deadbeefdeadbeef", 1)])  # journaled twice: kept once
    store = AuditStore(db)
    try:
        attempts = {a.attempt_id: a for a in store.attempts()}
        assert attempts["a1"].outcome == "cancelled" and attempts["a2"].state == "in_flight"
        assert [a.attempt_id for a in store.orphaned_attempts()] == ["a2"]  # its process is gone: recovery's
        assert len(store.query(AuditQuery(kind="cancel", attempt_id="a1"))) == 2
        assert not journal.exists() and store.outcome_violations() == []
    finally:
        store.close()


def test_a_batch_the_writer_cannot_commit_is_journaled_not_dropped(db: Path) -> None:
    store = AuditStore(db)
    locker = Locker(db, 4.0)  # longer than the writer's 2 s wait for the lock
    try:
        store.record_cancel(sending())
        store.record_cancel(done())
        store.flush(30)  # the writer gave up on the lock: the batch is in the journal
        records = Journal(store.journal.path).read()
        assert [r["phase"] for r in records] == ["sending", "done"]
    finally:
        locker.wait()
    store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.LOGIN, 200, "Succeeded", 3.0))
    store.flush(30)
    try:
        assert [a.outcome for a in store.attempts()] == ["cancelled"]
        assert not store.journal.exists()
    finally:
        store.close()


FULL_DISK = textwrap.dedent("""
    import json, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    sys.path[:0] = [{gui!r}]
    from blotter.store.audit import AuditStore
    from test_audit_durability import sending, done
    told = []
    store = AuditStore({db!r})
    store.add_problem_listener(told.append)
    for i in range(50):  # fill the database a little
        store.record_response(__import__("blotter.core").core.VenueResponse(
            __import__("blotter.core").core.Venue.AUTOSHARES, "as",
            __import__("blotter.core").core.Action.LIST_ORDERS, 200, "x" * 50, 1.0, raw_body=str(i) * 400))
    store.flush(30)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))  # no file may grow: the disk is full
    ok = store.journal_now(sending())
    store.record_cancel(sending())
    store.record_cancel(done())
    store.flush(30)
    kept = len(store._memory)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space returns
    store.record_response(__import__("blotter.core").core.VenueResponse(
        __import__("blotter.core").core.Venue.AUTOSHARES, "as", __import__("blotter.core").core.Action.LOGIN,
        200, "ok", 1.0))
    store.flush(30)
    import time
    deadline = time.time() + 20
    while (store._memory or store.journal.exists()) and time.time() < deadline:
        time.sleep(0.2)
        store.record_response(__import__("blotter.core").core.VenueResponse(
            __import__("blotter.core").core.Venue.AUTOSHARES, "as",
            __import__("blotter.core").core.Action.LOGIN, 200, "ok", 1.0))
        store.flush(30)
    attempts = [(a.state, a.outcome) for a in store.attempts()]
    store.close()
    print(json.dumps({{"journaled": ok, "kept_in_memory": kept, "told": told, "attempts": attempts}}))
""")


def test_a_full_disk_keeps_the_cancel_and_records_it_when_space_returns(db: Path) -> None:
    gui = str(Path(__file__).resolve().parents[2] / "gui")
    script = FULL_DISK.format(gui=gui, db=str(db))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).parents[1]),
                                                         gui])}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["journaled"] is False and out["kept_in_memory"] >= 1  # nowhere to write: held in memory, told
    assert any("memory" in t for t in out["told"])
    assert out["attempts"] == [["done", "cancelled"]]  # recorded once space returned


def _sending_in_other_process(db: Path, attempt_id: str, hold_s: float) -> subprocess.Popen[str]:
    gui = str(Path(__file__).resolve().parents[2] / "gui")
    code = textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{gui!r}, {str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from blotter.store.audit import AuditStore
        from test_audit_durability import sending, done
        store = AuditStore({str(db)!r})
        start = store.start_attempt(sending({attempt_id!r})).result(10)
        print("claimed" if not start.holder_attempt_id else "held", flush=True)
        time.sleep({hold_s})
        store.record_cancel(done({attempt_id!r}))
        store.close()
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_one_claim_per_venue_order_across_processes(db: Path) -> None:
    AuditStore(db).close()
    other = _sending_in_other_process(db, "first", 2.0)
    assert other.stdout is not None and other.stdout.readline().strip() == "claimed"
    store = AuditStore(db)
    try:
        start = store.start_attempt(sending("second")).result(10)
        assert start.holder_attempt_id == "first" and start.holder_pid == other.pid
        other.wait(30)
        # the holder ended: the claim is released, and a new attempt may claim it
        assert not store.start_attempt(sending("third")).result(10).holder_attempt_id
        [first] = store.attempts(AuditQuery(attempt_id="first"))
        assert first.outcome == "cancelled"
    finally:
        store.close()


def test_a_dead_holder_does_not_block(db: Path) -> None:
    AuditStore(db).close()
    other = _sending_in_other_process(db, "first", 60.0)
    assert other.stdout is not None and other.stdout.readline().strip() == "claimed"
    other.kill()
    other.wait(10)
    store = AuditStore(db)
    try:
        assert not store.start_attempt(sending("second")).result(10).holder_attempt_id
    finally:
        store.close()


def test_a_v2_database_migrates_to_v3_with_its_rows(db: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, target=2)
    conn.execute("INSERT INTO responses (at_ms, connection, venue, action, message) "
                 "VALUES (1, 'as', 'autoshares', 'login', 'ok')")
    conn.close()
    store = AuditStore(db, retention_days=0)
    try:
        assert store.schema_version() == 3
        [record] = store.query(AuditQuery(kind="response"))
        assert record.message == "ok" and record.repeat_count == 1
    finally:
        store.close()


def test_unchanged_listings_are_counted_on_one_row_and_cancels_never(db: Path) -> None:
    store = AuditStore(db)
    try:
        for _ in range(1000):
            store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.LIST_ORDERS, 200, "2 of 2 orders",
                                                5.0, raw_body='{"Result":[1,2]}', account="6303"))
        store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.LIST_ORDERS, 200, "3 of 3 orders",
                                            5.0, raw_body='{"Result":[1,2,3]}', account="6303"))
        for _ in range(3):
            store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.CANCEL, 204, "HTTP 204", 5.0,
                                                account="6303", order_id="1"))
        store.flush()
        responses = store.query(AuditQuery(kind="response"))
        assert [(r.action, r.repeat_count) for r in responses] == [
            ("list_orders", 1000), ("list_orders", 1), ("cancel", 1), ("cancel", 1), ("cancel", 1)]
        assert responses[0].last_at is not None and responses[0].last_at >= responses[0].at
        assert responses[0].as_dict()["repeat_count"] == 1000
    finally:
        store.close()


def test_routine_listings_are_kept_two_weeks_and_cancels_for_the_retention(db: Path) -> None:
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(days=20)
    store = AuditStore(db)
    store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.LIST_ORDERS, 200, "2 of 2 orders", 5.0,
                                        account="6303", at=old))
    store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.CANCEL, 204, "HTTP 204", 5.0,
                                        account="6303", order_id="1", at=old))
    store.record_response(VenueResponse(Venue.AUTOSHARES, "as", Action.LIST_ORDERS, 503, "unavailable", 5.0,
                                        account="6303", at=old))
    store.close()
    store = AuditStore(db, retention_days=90)
    try:
        kept = [(r.action, r.http_status) for r in store.query(AuditQuery(kind="response"))]
        assert kept == [("cancel", 204), ("list_orders", 503)]
    finally:
        store.close()
