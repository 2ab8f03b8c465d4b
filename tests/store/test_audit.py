"""The audit store on its own: schema and migrations, WAL, retention, off-thread writes, queries,
exports, the one-final-outcome rule, orphaned attempts, and no secret in the database files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blotter.core import (
    Action,
    CancelOutcome,
    CancelResult,
    ConfigError,
    OrderKey,
    OrderStatus,
    Provenance,
    Redactor,
    Venue,
    VenueResponse,
)
from blotter.store import paths
from blotter.store.audit import (
    SCHEMA_VERSION,
    AuditError,
    AuditQuery,
    AuditStore,
    CancelTransition,
    csv_safe,
    migrate,
    parse_duration,
    write_csv,
    write_jsonl,
)
from blotter.store.config import ConfigStore

NOW = datetime.now(UTC)
KEY = OrderKey("as", "7001", "1")


def response(at: datetime = NOW, *, connection: str = "as", order_id: str = "1", message: str = "OK",
             status: int | None = 200, action: Action = Action.CANCEL, **extra: str) -> VenueResponse:
    return VenueResponse(Venue.AUTOSHARES, connection, action, status, message, 12.5, account="7001",
                         order_id=order_id, at=at, **extra)


def result(key: OrderKey, attempt_id: str, outcome: CancelOutcome = CancelOutcome.CANCELLED,
           provenance: Provenance = Provenance.ROW_ACTION, **extra: str) -> CancelResult:
    return CancelResult(key, attempt_id, outcome, "venue words", 204, 30.0,
                        OrderStatus.CANCELLED if outcome is CancelOutcome.CANCELLED else OrderStatus.OPEN,
                        provenance, **extra)


def attempt(store: AuditStore, attempt_id: str, key: OrderKey = KEY, at: datetime = NOW, *,
            outcome: CancelOutcome | None = CancelOutcome.CANCELLED,
            provenance: Provenance = Provenance.ROW_ACTION, batch_id: str = "", detail: str = "") -> None:
    store.record_cancel(CancelTransition(attempt_id, key, "sending", provenance, batch_id, "cancel sent", at))
    if outcome is not None:
        done = result(key, attempt_id, outcome, provenance, batch_id=batch_id, detail=detail)
        store.record_cancel(CancelTransition(attempt_id, key, "done", provenance, batch_id, done.message,
                                             at + timedelta(milliseconds=50), result=done))


@pytest.fixture
def store():
    s = AuditStore()
    yield s
    s.close()


def test_fresh_database_is_private_wal_and_at_the_latest_schema(store: AuditStore) -> None:
    assert store.path == paths.data_dir() / "audit.sqlite3"  # BLOTTER_HOME relocates it
    assert store.schema_version() == SCHEMA_VERSION
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert {"responses", "cancel_events", "attempts"} <= tables


def test_a_version_1_database_migrates_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute("INSERT INTO responses (at_ms, connection, venue, action, message) "
                 "VALUES (?, 'as', 'autoshares', 'cancel', 'old answer')", (int(NOW.timestamp() * 1000),))
    conn.execute("INSERT INTO attempts (attempt_id, started_ms, connection, account, order_id, provenance, state) "
                 "VALUES ('v1-open', ?, 'as', '7001', '5', 'cli', 'in_flight')", (int(NOW.timestamp() * 1000),))
    conn.close()

    store = AuditStore(path)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert [r.message for r in store.query()] == ["old answer"]
        # a v1 attempt has no owning session: it counts as left behind by a process that is gone
        assert [a.attempt_id for a in store.orphaned_attempts()] == ["v1-open"]
        conn = sqlite3.connect(path)
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        conn.close()
        assert "cancel_events_one_final_outcome" in indexes
    finally:
        store.close()
    # migrating again is a no-op
    AuditStore(path).close()

    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(AuditError, match="newer Blotter"):
        AuditStore(path)


def test_retention_deletes_old_records_but_keeps_attempts_in_flight() -> None:
    old = NOW - timedelta(days=100)
    store = AuditStore(retention_days=0)
    store.record_response(response(old, message="old"))
    store.record_response(response(NOW, message="new"))
    attempt(store, "old-done", at=old)
    attempt(store, "old-open", at=old, outcome=None)
    attempt(store, "new-done", at=NOW)
    store.close()

    kept = AuditStore(retention_days=0)  # 0 keeps everything
    assert len(kept.query(AuditQuery(kind="response"))) == 2
    kept.close()

    store = AuditStore(retention_days=90)
    try:
        assert [r.message for r in store.query(AuditQuery(kind="response"))] == ["new"]
        assert [a.attempt_id for a in store.attempts()] == ["old-open", "new-done"]
        assert {r.attempt_id for r in store.query(AuditQuery(kind="cancel"))} == {"old-open", "new-done"}
        assert store.outcome_violations() == []
    finally:
        store.close()


def test_retention_is_a_setting_in_the_config_file() -> None:
    config = ConfigStore()
    assert config.audit_retention_days == 90
    config.set_audit_retention_days(7)
    assert ConfigStore().audit_retention_days == 7
    assert "[audit]" in paths.config_file().read_text()
    paths.config_file().write_text('[audit]\nretention_days = "soon"\n')
    with pytest.raises(ConfigError, match="retention_days"):
        _ = ConfigStore().audit_retention_days


async def test_writes_from_the_event_loop_never_wait_for_sqlite(store: AuditStore) -> None:
    store.record_response(response(message="warm-up"))
    await store.durable()
    # another process holds the write lock: a synchronous write would block here (and then fail)
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        loop_thread = threading.get_ident()
        for i in range(200):
            store.record_response(response(message=f"queued {i}"))
        assert threading.get_ident() == loop_thread
        # nothing written yet (the writer thread is waiting for the lock), yet every call has returned
        assert len(store.query()) == 1
        assert any(t.name == "blotter-audit-writer" for t in threading.enumerate())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await store.durable()
    assert len(store.query()) == 201


def test_queries_by_time_connection_order_outcome_and_text(store: AuditStore) -> None:
    t0 = NOW - timedelta(hours=3)
    store.record_response(response(t0, message="listed", action=Action.LIST_ORDERS, order_id=""))
    store.record_response(response(t0 + timedelta(hours=1), connection="tx", order_id="9",
                                   message="Order is successfully queued for cancellation"))
    attempt(store, "a-ok", KEY, t0 + timedelta(hours=2))
    attempt(store, "a-rej", OrderKey("as", "7001", "2"), t0 + timedelta(hours=2, minutes=1),
            outcome=CancelOutcome.REJECTED, detail="too late — the order filled")
    attempt(store, "a-open", OrderKey("tx", "0xabc", "9"), t0 + timedelta(hours=2, minutes=2), outcome=None,
            provenance=Provenance.KILL_SWITCH, batch_id="b-7")
    store.flush()

    everything = store.query()
    assert [r.at for r in everything] == sorted(r.at for r in everything)  # oldest first
    assert len(everything) == 2 + 2 + 2 + 1
    assert {r.kind for r in store.query(AuditQuery(since=NOW - timedelta(hours=1, minutes=30)))} == {"cancel"}
    assert [r.message for r in store.query(AuditQuery(until=t0 + timedelta(minutes=1)))] == ["listed"]
    assert {r.connection for r in store.query(AuditQuery(connection="tx"))} == {"tx"}
    assert len(store.query(AuditQuery(connection="tx"))) == 2
    assert [r.attempt_id for r in store.query(AuditQuery(order=KEY))] == ["a-ok", "a-ok"]
    rejected = store.query(AuditQuery(outcome="rejected"))
    assert {r.attempt_id for r in rejected} == {"a-rej"} and len(rejected) == 2
    assert [r.attempt_id for r in store.query(AuditQuery(outcome="in_flight"))] == ["a-open"]
    assert [r.detail for r in store.query(AuditQuery(text="TOO LATE"))] == ["too late — the order filled"]
    assert [r.kind for r in store.query(AuditQuery(text="queued for"))] == ["response"]
    assert [r.batch_id for r in store.query(AuditQuery(text="b-7"))] == ["b-7"]
    newest = store.query(AuditQuery(limit=2))
    assert newest == everything[-2:]
    assert store.query(AuditQuery(kind="response", outcome="cancelled")) == []
    with pytest.raises(ValueError, match="unknown outcome"):
        AuditQuery(outcome="maybe")

    attempts = {a.attempt_id: a for a in store.attempts()}
    assert attempts["a-open"].state == "in_flight" and attempts["a-open"].batch_id == "b-7"
    assert attempts["a-ok"].outcome == "cancelled" and attempts["a-ok"].outcome_provenance == "row_action"
    assert [a.attempt_id for a in store.attempts(AuditQuery(outcome="rejected"))] == ["a-rej"]
    assert [a.attempt_id for a in store.attempts(AuditQuery(connection="tx"))] == ["a-open"]


def test_each_attempt_has_exactly_one_final_outcome_held_by_the_database(store: AuditStore) -> None:
    attempt(store, "one", outcome=None)
    store.flush()
    assert store.outcome_violations() == []  # in flight: no outcome yet, and that is allowed
    first = result(KEY, "one", CancelOutcome.PENDING)
    second = result(KEY, "one", CancelOutcome.CANCELLED, Provenance.RECONCILIATION)
    store.record_cancel(CancelTransition("one", KEY, "done", Provenance.ROW_ACTION, result=first))
    store.record_cancel(CancelTransition("one", KEY, "done", Provenance.RECONCILIATION, result=second))
    # an attempt that ended before anything was sent (read-only) still gets its row
    never_sent = result(OrderKey("as", "7001", "3"), "ro", CancelOutcome.FAILED)
    store.record_cancel(CancelTransition("ro", never_sent.key, "done", Provenance.HOTKEY, result=never_sent))
    store.flush()
    [done] = [a for a in store.attempts() if a.attempt_id == "one"]
    assert done.outcome == "pending" and done.outcome_provenance == "row_action"
    assert [a.outcome for a in store.attempts(AuditQuery(attempt_id="ro"))] == ["failed"]
    assert store.outcome_violations() == []

    conn = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="already has its final outcome"):
            conn.execute("UPDATE attempts SET outcome = 'cancelled' WHERE attempt_id = 'one'")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute("INSERT INTO cancel_events (at_ms, attempt_id, connection, account, order_id, phase, "
                         "provenance, outcome) VALUES (1, 'one', 'as', '7001', '1', 'done', 'cli', 'failed')")
        with pytest.raises(sqlite3.IntegrityError, match="final outcome event"):
            conn.execute("INSERT INTO attempts (attempt_id, started_ms, connection, account, order_id, provenance, "
                         "state, outcome, finished_ms) VALUES ('x', 1, 'as', '7001', '4', 'cli', 'done', "
                         "'cancelled', 2)")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("INSERT INTO attempts (attempt_id, started_ms, connection, account, order_id, provenance, "
                         "state, outcome) VALUES ('y', 1, 'as', '7001', '4', 'cli', 'in_flight', 'cancelled')")
    finally:
        conn.close()


def test_attempts_of_a_live_store_are_not_orphans_until_it_closes(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    first, second = AuditStore(path), AuditStore(path)
    try:
        attempt(first, "mine", outcome=None)
        attempt(second, "theirs", outcome=None)
        first.flush()
        second.flush()
        assert second.orphaned_attempts() == [] and first.orphaned_attempts() == []
        first.close()  # closed mid-cancel: its attempt is left in flight for the next start
        assert [a.attempt_id for a in second.orphaned_attempts()] == ["mine"]
        third = AuditStore(path)
        assert {a.attempt_id for a in third.orphaned_attempts()} == {"mine"}
        third.close()
    finally:
        first.close()
        second.close()


def test_csv_export_escapes_formulas_and_jsonl_is_one_object_per_record(store: AuditStore) -> None:
    texts = ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "\tTab", "plain, with comma"]
    for i, text in enumerate(texts):
        store.record_response(response(NOW + timedelta(milliseconds=i), message=text, status=400))
    store.flush()
    records = store.query()

    out = io.StringIO()
    assert write_csv(records, out) == len(texts)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["message"] for r in rows] == ["'" + t for t in texts[:5]] + ["plain, with comma"]
    assert rows[0]["http_status"] == "400" and rows[0]["outcome"] == ""
    assert csv_safe(-3) == -3 and csv_safe("a=b") == "a=b"

    out = io.StringIO()
    write_jsonl(records, out)
    lines = out.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == [r.as_dict() for r in records]
    assert lines[0].startswith('{"at": "') and json.loads(lines[0])["message"] == texts[0]


def test_no_secret_reaches_the_database_files(tmp_path: Path) -> None:
    known = "app-key-9f8e7d6c5b"
    learned = "hunter2-password-xyz"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    private_key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    store = AuditStore(tmp_path / "s.sqlite3", redactor=Redactor([known]))
    store.add_secrets([learned])
    try:
        store.record_response(response(message=f"bad key {known}", request=f"POST /login password={learned}",
                                       raw_body=f'{{"echo": "{learned}", "token": "Bearer {jwt}"}}'))
        store.record_response(response(message=f"signed with {private_key}"))
        bad = result(KEY, "s1", CancelOutcome.FAILED, detail=f"venue echoed {known}")
        store.record_cancel(CancelTransition("s1", KEY, "sending", Provenance.CLI, message=f"x {learned}"))
        store.record_cancel(CancelTransition("s1", KEY, "done", Provenance.CLI, result=bad,
                                             venue_reason=f"reason {jwt}"))
        store.flush()
        files = [p for p in tmp_path.iterdir() if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files)
        assert "***" in json.dumps([r.as_dict() for r in store.query()])
        scan(files, [known, learned, jwt, private_key, private_key[2:]])
    finally:
        store.close()
    scan([p for p in tmp_path.iterdir() if p.is_file()], [known, learned, jwt, private_key[2:]])


def scan(files: list[Path], secrets: list[str]) -> None:
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret!r} found in {path.name}"


def test_durations() -> None:
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration(" 7D ") == timedelta(days=7)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    for bad in ("", "15", "m", "-5m", "0s", "2 hours", "7d2h"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


async def test_flush_and_close_are_safe_to_repeat() -> None:
    store = AuditStore()
    store.flush()  # nothing queued: returns at once
    await store.durable()
    store.record_response(response())
    await store.aclose()
    store.close()
    store.record_response(response())  # after close: dropped, not raised
    again = AuditStore()
    assert len(again.query()) == 1
    again.close()


def test_listing_bodies_are_kept_as_a_preview_and_cancel_bodies_whole(store: AuditStore) -> None:
    book = json.dumps([{"id": i, "symbol": "AAPL"} for i in range(500)])
    store.record_response(response(action=Action.LIST_ORDERS, order_id="", raw_body=book))
    store.record_response(response(action=Action.CANCEL, status=409, raw_body=book))
    store.record_response(response(action=Action.LIST_ORDERS, order_id="", status=500, raw_body=book))
    store.flush()
    listed, cancel, failed = store.query()
    assert listed.raw_body.startswith(book[:512]) and "more characters not kept" in listed.raw_body
    assert len(listed.raw_body) < 600
    assert cancel.raw_body == book and failed.raw_body == book


def test_the_writer_checkpoints_when_idle_never_inside_a_commit(tmp_path: Path) -> None:
    from blotter.store.audit import _CHECKPOINT_EVERY

    seen: list[int] = []  # the writer connection's auto-checkpoint setting, at each of its checkpoints

    class Watched(AuditStore):
        def _checkpoint(self, conn: sqlite3.Connection) -> None:  # type: ignore[override]
            seen.append(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            AuditStore._checkpoint(conn)

    path = tmp_path / "audit.sqlite3"
    store = Watched(path)
    for i in range(_CHECKPOINT_EVERY + 50):  # one commit each, the writer idle in between
        store.record_response(response(message=f"r{i}"))
        store.flush()
    assert seen == [0]  # SQLite never checkpoints inside our commits; the writer did, between two
    store.close()
    assert len(seen) == 2  # and once more on close
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with AuditStore(path) as again:
        assert len(again.query(AuditQuery(limit=1000))) == _CHECKPOINT_EVERY + 50
