"""The audit database's schema, owned by versioned migrations (never edit a shipped step; append)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .records import (
    _BUSY_TIMEOUT_S,
    AuditError,
)

log = logging.getLogger("blotter.store.audit")


# ---------------------------------------------------------------------------------------------- schema
def _v1(conn: sqlite3.Connection) -> None:
    for statement in (
        """CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            connection TEXT NOT NULL,
            venue TEXT NOT NULL,
            action TEXT NOT NULL,
            account TEXT NOT NULL DEFAULT '',
            order_id TEXT NOT NULL DEFAULT '',
            http_status INTEGER,
            message TEXT NOT NULL DEFAULT '',
            latency_ms REAL NOT NULL DEFAULT 0,
            request TEXT NOT NULL DEFAULT '',
            raw_body TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX responses_at ON responses (at_ms)",
        "CREATE INDEX responses_order ON responses (connection, account, order_id)",
        """CREATE TABLE attempts (
            attempt_id TEXT PRIMARY KEY,
            started_ms INTEGER NOT NULL,
            connection TEXT NOT NULL,
            account TEXT NOT NULL,
            order_id TEXT NOT NULL,
            provenance TEXT NOT NULL,
            batch_id TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
            outcome TEXT CHECK (outcome IN ('cancelled', 'pending', 'rejected', 'failed', 'unknown')),
            outcome_provenance TEXT,
            final_status TEXT,
            venue_status TEXT NOT NULL DEFAULT '',
            http_status INTEGER,
            message TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            latency_ms REAL,
            finished_ms INTEGER,
            CHECK ((state = 'done') = (outcome IS NOT NULL)),
            CHECK ((state = 'done') = (finished_ms IS NOT NULL))
        )""",
        "CREATE INDEX attempts_state ON attempts (state)",
        "CREATE INDEX attempts_order ON attempts (connection, account, order_id)",
        """CREATE TABLE cancel_events (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            attempt_id TEXT NOT NULL,
            connection TEXT NOT NULL,
            account TEXT NOT NULL,
            order_id TEXT NOT NULL,
            venue TEXT NOT NULL DEFAULT '',
            phase TEXT NOT NULL CHECK (phase IN ('sending', 'pending', 'reconciling', 'done')),
            provenance TEXT NOT NULL,
            batch_id TEXT NOT NULL DEFAULT '',
            message TEXT NOT NULL DEFAULT '',
            http_status INTEGER,
            latency_ms REAL,
            outcome TEXT,
            final_status TEXT,
            venue_status TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            CHECK ((phase = 'done') = (outcome IS NOT NULL))
        )""",
        "CREATE INDEX cancel_events_at ON cancel_events (at_ms)",
        "CREATE INDEX cancel_events_attempt ON cancel_events (attempt_id)",
    ):
        conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    """Crash recovery (owning session per attempt), the venue's cancel reason, one-outcome enforcement."""
    done_event = "SELECT 1 FROM cancel_events WHERE attempt_id = NEW.attempt_id AND phase = 'done'"
    for statement in (
        "ALTER TABLE attempts ADD COLUMN session TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE attempts ADD COLUMN pid INTEGER",
        "ALTER TABLE attempts ADD COLUMN venue_reason TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cancel_events ADD COLUMN venue_reason TEXT NOT NULL DEFAULT ''",
        "CREATE UNIQUE INDEX cancel_events_one_final_outcome ON cancel_events (attempt_id) WHERE phase = 'done'",
        f"""CREATE TRIGGER attempts_done_needs_its_event BEFORE INSERT ON attempts
            WHEN NEW.state = 'done' AND NOT EXISTS ({done_event})
            BEGIN SELECT RAISE(ABORT, 'an attempt is done only with its final outcome event'); END""",
        f"""CREATE TRIGGER attempts_finish_needs_its_event BEFORE UPDATE OF state ON attempts
            WHEN NEW.state = 'done' AND NOT EXISTS ({done_event})
            BEGIN SELECT RAISE(ABORT, 'an attempt is done only with its final outcome event'); END""",
        """CREATE TRIGGER attempts_outcome_is_final BEFORE UPDATE ON attempts
            WHEN OLD.state = 'done'
            BEGIN SELECT RAISE(ABORT, 'the attempt already has its final outcome'); END""",
    ):
        conn.execute(statement)


def _v3(conn: sqlite3.Connection) -> None:
    """Record ids (idempotent journal merges), claims on venue orders across processes, folded repeats."""
    for statement in (
        "ALTER TABLE attempts ADD COLUMN identity TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cancel_events ADD COLUMN jid TEXT",
        "ALTER TABLE responses ADD COLUMN jid TEXT",
        "ALTER TABLE responses ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE responses ADD COLUMN last_at_ms INTEGER",
        "ALTER TABLE responses ADD COLUMN batch_id TEXT NOT NULL DEFAULT ''",
        "CREATE UNIQUE INDEX cancel_events_jid ON cancel_events (jid) WHERE jid IS NOT NULL",
        "CREATE UNIQUE INDEX responses_jid ON responses (jid) WHERE jid IS NOT NULL",
        """CREATE TABLE claims (
            identity TEXT PRIMARY KEY,
            attempt_id TEXT NOT NULL,
            session TEXT NOT NULL,
            pid INTEGER,
            at_ms INTEGER NOT NULL
        )""",
    ):
        conn.execute(statement)


# Ordered: MIGRATIONS[i] upgrades a database from version i to i + 1. Never edit a shipped step; append.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to ``target`` (one transaction per step); returns the version it ends at."""
    while True:
        conn.execute("BEGIN IMMEDIATE")  # re-read the version under the write lock: another process may migrate
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise AuditError(f"the audit database is from a newer Blotter (schema {version}, "
                                 f"this version knows {SCHEMA_VERSION})")
            if version >= target:
                conn.execute("COMMIT")
                return version
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _connect(path: Path, busy_s: float = _BUSY_TIMEOUT_S) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_s, isolation_level=None, check_same_thread=True)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn
