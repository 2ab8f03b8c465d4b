"""The audit trail: every venue response and every cancel transition, in SQLite (WAL) in the data dir.

Three tables (schema version in ``PRAGMA user_version``, upgraded by ``MIGRATIONS`` in order):

- ``responses``: every ``VenueResponse`` (already redacted by the adapter, redacted here once more);
- ``cancel_events``: every step of every cancel attempt (sending, pending, reconciling, done);
- ``attempts``: one row per attempt, ``in_flight`` until its one final outcome is recorded.

"Exactly one final outcome per attempt" is held by the database itself: a partial UNIQUE index allows
one ``done`` event per attempt, and triggers refuse to mark an attempt done without that event or to
change it afterwards. ``outcome_violations()`` is the query that checks the "at least one" half.

Writes never block the caller: they are queued to one writer thread that commits them in batches. A record
that cannot be committed (the database locked by another program, a full disk, a read-only directory) is
never dropped: it goes to the fallback journal beside the database (``store.journal``; in memory if even
that cannot be written), the problem is told at once to ``add_problem_listener`` listeners, and the journal
is merged into the database as soon as it can be written again and at every start. Each record carries its
own id (``jid``), so merging is idempotent. ``start_attempt`` records a cancel's start and claims its venue
order (``claims``) in one transaction: another live process that has the same venue order's cancel on the
wire is reported instead, so two processes never send two cancels for one order. Routine listing answers
that repeat unchanged are kept as one row with a count (``repeat_count``, ``last_at``).
``durable()`` (async) and ``flush()`` wait until everything queued so far is committed; the service
awaits ``durable()`` between recording an attempt's start and putting its request on the wire, so a
crash mid-cancel leaves an ``in_flight`` attempt on disk. Each store that records attempts holds a lock
file for its session while it lives; ``orphaned_attempts()`` returns the in-flight attempts of sessions
whose lock is free (the process died or closed mid-cancel), and ``claim_orphaned_attempts()`` moves them
to this session so that one process alone settles each (``service.recovery``).

Reads (``query``, ``attempts``, ``orphaned_attempts``) open their own connection, so they never wait
for the writer. Construct the store off the GUI loop (``asyncio.to_thread``): opening migrates and
applies the retention period.
"""

from __future__ import annotations

from .export import csv_safe, write_csv, write_jsonl
from .lock import _session_alive, _SessionLock
from .records import (
    _BUSY_TIMEOUT_S,
    _CHECKPOINT_EVERY,
    DB_NAME,
    DEFAULT_READ_BODY_LIMIT,
    DEFAULT_RETENTION_DAYS,
    DURABLE_BLOCK_S,
    IN_FLIGHT,
    LISTING_RETENTION_DAYS,
    PHASES,
    RECORD_FIELDS,
    AttemptRecord,
    AuditError,
    AuditQuery,
    AuditRecord,
    CancelTransition,
    default_path,
    iso_ms,
    parse_duration,
)
from .schema import MIGRATIONS, SCHEMA_VERSION, migrate
from .store import AttemptStart, AuditStore, _response_from, _response_record, _transition_from, _transition_record

__all__ = [
    "DB_NAME", "DEFAULT_READ_BODY_LIMIT", "DEFAULT_RETENTION_DAYS", "DURABLE_BLOCK_S", "IN_FLIGHT",
    "LISTING_RETENTION_DAYS", "MIGRATIONS", "PHASES", "RECORD_FIELDS", "SCHEMA_VERSION", "_BUSY_TIMEOUT_S",
    "_CHECKPOINT_EVERY", "AttemptRecord", "AttemptStart", "AuditError", "AuditQuery", "AuditRecord", "AuditStore",
    "CancelTransition", "_SessionLock", "_response_from", "_response_record", "_session_alive", "_transition_from",
    "_transition_record", "csv_safe", "default_path", "iso_ms", "migrate", "parse_duration", "write_csv",
    "write_jsonl",
]
