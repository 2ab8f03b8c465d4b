"""The audit store: queued writes, the fallback journal, claims, own-connection reads (see the package)."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import queue
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ...core import (
    Action,
    CancelOutcome,
    CancelResult,
    OrderKey,
    OrderStatus,
    Provenance,
    Redactor,
    Venue,
    VenueResponse,
)
from .. import paths
from ..journal import JOURNAL_SUFFIX, Journal
from .lock import _session_alive, _SessionLock
from .records import (
    _BATCH_MAX,
    _BULKY_READS,
    _CHECKPOINT_EVERY,
    _DEGRADED_BUSY_S,
    _OPEN_BUSY_S,
    _RETRY_EVERY_S,
    _WRITER_BUSY_S,
    DEFAULT_READ_BODY_LIMIT,
    DEFAULT_RETENTION_DAYS,
    DURABLE_BLOCK_S,
    IN_FLIGHT,
    LISTING_RETENTION_DAYS,
    AttemptRecord,
    AuditError,
    AuditQuery,
    AuditRecord,
    CancelTransition,
    _at,
    _ms,
    default_path,
)
from .schema import _connect, migrate

log = logging.getLogger("blotter.store.audit")


# ---------------------------------------------------------------------------------------------- the store
@dataclass(slots=True)
class _Write:
    fn: Callable[[sqlite3.Connection], Any]
    what: str
    journal: dict[str, Any] | None = None  # the record as the journal keeps it (None: not journaled)
    result: concurrent.futures.Future[Any] | None = None  # gets what ``fn`` returned, once committed


_Item = _Write | concurrent.futures.Future[None] | None


@dataclass(frozen=True, slots=True)
class AttemptStart:
    """What recording a cancel's start found (``start_attempt``).

    ``holder_attempt_id``: another live process has this venue order's cancel on the wire (its attempt id,
    session and pid) — send nothing. ``journaled``: the start is in the fallback journal, not yet in the
    database (the cancel goes out; the claim could not be checked).
    """

    holder_attempt_id: str = ""
    holder_session: str = ""
    holder_pid: int | None = None
    journaled: bool = False


class AuditStore:
    """The audit trail in SQLite: queued off-thread writes, own-connection reads, crash-recoverable attempts.

    ``retention_days`` <= 0 keeps everything; otherwise older records are deleted when the store opens
    (attempts still in flight are always kept). Successful listing answers (accounts, open orders,
    account details) keep the first ``read_body_limit`` characters of their body; every other answer
    (cancels, order re-reads, errors) is kept whole, as the adapter redacted and truncated it.
    ``redactor`` masks known secret values in every text before it is written; the service adds each
    connection's secrets with ``add_secrets``.

    A database that cannot be opened for a reason that may pass (locked by another program, a full disk,
    a read-only directory, an I/O error) does not stop the store: it records into the fallback journal and
    keeps trying (``degraded``). A database from a newer Blotter, or damaged, raises ``AuditError``.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        redactor: Redactor | None = None,
        read_body_limit: int = DEFAULT_READ_BODY_LIMIT,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.retention_days = retention_days
        self.read_body_limit = read_body_limit
        self.session_id = uuid.uuid4().hex[:16]
        self.sessions_dir = self.path.with_name(self.path.name + ".sessions")
        self.journal = Journal(self.path.with_name(self.path.name + JOURNAL_SUFFIX))
        self._redactor = redactor or Redactor()
        self._redactor_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._session_lock: _SessionLock | None = None
        self._session_guard = threading.Lock()
        self._problem_listeners: list[Callable[[str], None]] = []
        self._problem = ""  # the problem last told (told again only when it changes)
        self._memory: list[dict[str, Any]] = []  # records neither the database nor the journal could take
        self._degraded = False
        self._opened = False
        self._last_listing: dict[tuple[str, str, str], tuple[int, int, str]] = {}  # writer thread only
        self._open()
        atexit.register(self.close)

    # ------------------------------------------------------------------ opening
    def _open(self) -> None:
        try:
            paths.ensure_private_dir(self.path.parent)
        except OSError as exc:  # no directory, no journal either: this run is not recorded, and says so
            raise AuditError(f"cannot open the audit database {self.path}: {_words(exc)}") from None
        try:
            self._open_db()
        except AuditError:
            raise
        except (sqlite3.OperationalError, OSError) as exc:
            if not _passing(exc):
                raise AuditError(f"cannot open the audit database {self.path}: {_words(exc)}") from None
            self._degrade(f"the audit database {self.path} cannot be opened ({_words(exc)})")
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open the audit database {self.path}: {exc}") from None

    def _open_db(self) -> None:
        """Create or migrate the database, apply retention, merge what the journal holds. Raises on failure."""
        new = not self.path.exists()
        conn = _connect(self.path, _OPEN_BUSY_S)
        try:
            if new:
                os.chmod(self.path, 0o600)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("audit database %s: journal mode %s, not WAL", self.path, mode)
            migrate(conn)
            self._apply_retention(conn)
            self._opened = True
            if self.journal.exists():
                self._merge(conn)
        finally:
            conn.close()

    def _apply_retention(self, conn: sqlite3.Connection) -> None:
        if self.retention_days <= 0:
            return
        cutoff = _ms(datetime.now(UTC) - timedelta(days=self.retention_days))
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM responses WHERE coalesce(last_at_ms, at_ms) < ?", (cutoff,))
            # routine listing answers (not cancels, not errors) are kept at most LISTING_RETENTION_DAYS
            listing_cutoff = _ms(datetime.now(UTC) - timedelta(days=min(self.retention_days, LISTING_RETENTION_DAYS)))
            conn.execute(
                "DELETE FROM responses WHERE action IN ('list_accounts', 'list_orders', 'account_details') "
                "AND http_status BETWEEN 200 AND 299 AND coalesce(last_at_ms, at_ms) < ?", (listing_cutoff,))
            conn.execute("DELETE FROM attempts WHERE state = 'done' AND finished_ms < ?", (cutoff,))
            conn.execute(
                "DELETE FROM cancel_events WHERE at_ms < ? AND attempt_id NOT IN "
                "(SELECT attempt_id FROM attempts WHERE state = 'in_flight')", (cutoff,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ problems, told at once
    def add_problem_listener(self, listener: Callable[[str], None]) -> None:
        """``listener(sentence)`` when recording gets into trouble or out of it (called from any thread).

        A problem already told is not told again until it changes; a listener added late hears the current one.
        """
        self._problem_listeners.append(listener)
        if self._problem:
            listener(self._problem)

    @property
    def degraded(self) -> bool:
        """Records go to the fallback journal (or memory) because the database cannot be written now."""
        return self._degraded

    def _tell(self, sentence: str) -> None:
        if sentence == self._problem:
            return
        self._problem = sentence
        log.warning("audit: %s", sentence)
        for listener in list(self._problem_listeners):
            try:
                listener(sentence)
            except Exception:  # a broken listener must not break the trail
                log.exception("audit problem listener failed")

    def _degrade(self, why: str) -> None:
        self._degraded = True
        if self._memory:
            self._tell(f"{why}; {len(self._memory)} record(s), cancels included, are kept in memory only (the "
                       f"journal {self.journal.path} cannot be written either) — they are written when space "
                       "or access returns; do not quit Blotter until then")
        else:
            self._tell(f"{why}; cancels still go out and are recorded in {self.journal.path}, merged into the "
                       "trail as soon as the database can be written")

    # ------------------------------------------------------------------ writing (any thread; never blocks)
    def add_secrets(self, values: Iterable[str]) -> None:
        with self._redactor_lock:
            for value in values:
                self._redactor.add(value)

    def record_response(self, response: VenueResponse) -> None:
        jid = uuid.uuid4().hex
        self._enqueue(_Write(lambda conn: self._insert_response(conn, response, jid), "response",
                             _response_record(response, jid)))

    def record_cancel(self, transition: CancelTransition) -> None:
        self._enqueue(_Write(lambda conn: self._insert_transition(conn, transition), transition.phase,
                             _transition_record(transition, self.session_id, os.getpid())))

    def record_batch_summary(self, batch_id: str, provenance: str, text: str, *, problems: bool = False) -> None:
        """A batch's lasting result (kill switch, cancel-all, a multi-order cancel): counts per outcome and per
        reason skipped, in one record (``blotter log --text BATCH_ID`` finds it beside its attempts)."""
        at_ms = _ms(datetime.now(UTC))

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO responses (at_ms, connection, venue, action, http_status, message, latency_ms, "
                "batch_id) VALUES (?, '', 'blotter', 'batch_summary', ?, ?, 0, ?)",
                (at_ms, 400 if problems else 200, self._redact(f"{text} (batch {batch_id}, {provenance})"),
                 batch_id))

        self._enqueue(_Write(write, "batch summary"))

    def start_attempt(self, transition: CancelTransition) -> concurrent.futures.Future[AttemptStart]:
        """Record a cancel's start (``sending``) and claim its venue order, in one transaction.

        The future gets an ``AttemptStart`` once that is committed (or journaled). Call it before the
        request goes on the wire and wait a short while; if it takes longer, ``journal_now`` the start and
        send anyway (a cancel is never held back for its bookkeeping).
        """
        future: concurrent.futures.Future[AttemptStart] = concurrent.futures.Future()
        self._enqueue(_Write(lambda conn: self._insert_transition(conn, transition), transition.phase,
                             _transition_record(transition, self.session_id, os.getpid()), future))
        return future

    def journal_now(self, transition: CancelTransition) -> bool:
        """Make a cancel's start durable in the fallback journal, on the caller's thread (an fsync of one
        line). True if it is on disk; False if even the journal cannot be written (kept in memory, told)."""
        record = _transition_record(transition, self.session_id, os.getpid())
        self._ensure_session()
        try:
            self.journal.append([record])
        except OSError as exc:
            with self._state_lock:
                self._memory.append(record)
            self._degrade(f"the audit trail cannot be written ({_words(exc)})")
            return False
        if not self._degraded:
            self._degrade(f"the audit database {self.path} is not answering (locked by another program?)")
        return True

    def _enqueue(self, item: _Item) -> None:
        with self._state_lock:
            if self._closed:
                log.warning("audit store closed: a record was dropped")
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="blotter-audit-writer", daemon=True)
                self._thread.start()
            self._queue.put(item)

    def barrier(self) -> concurrent.futures.Future[None]:
        """A future that completes once every write queued before it is committed (or journaled)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._state_lock:
            if self._closed or self._thread is None:
                future.set_result(None)  # nothing queued, or close() already flushed
                return future
            self._queue.put(future)
        return future

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is committed (tests, shutdown; not on the GUI loop)."""
        self.barrier().result(timeout)

    async def durable(self) -> None:
        """Wait until everything queued so far is committed (or journaled).

        The writer usually commits within a millisecond, so the wait first blocks the caller's thread for up
        to ``DURABLE_BLOCK_S``: on the GUI loop a blocking wait that short is cheaper than yielding, which
        would let the window repaint (several ms with a busy window) before a cancel's request leaves. A
        slower commit (a busy disk, a large batch ahead) is then awaited without blocking the loop.
        """
        barrier = self.barrier()
        try:
            barrier.result(DURABLE_BLOCK_S)
        except concurrent.futures.TimeoutError:
            await asyncio.wrap_future(barrier)

    def close(self) -> None:
        """Commit what is queued, stop the writer, release this session. Idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()
        if self._memory:  # last chance: the database or the journal may take them now
            self._retry_memory()
        if self._memory:
            log.error("audit: %d record(s) could not be written anywhere and are lost with this process",
                      len(self._memory))
            with contextlib.suppress(OSError):
                sys.stderr.write(f"blotter: error: {len(self._memory)} audit record(s) could not be written "
                                 f"(the audit trail's disk is full or read-only)\n")
        with self._session_guard:
            if self._session_lock is not None:  # from here on, this run's unfinished attempts are orphans
                self._session_lock.release()
                self._session_lock = None
        atexit.unregister(self.close)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the writer thread
    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        commits = 0  # since the last checkpoint
        try:
            while True:
                waiting = self._degraded or bool(self._memory)
                first: object
                try:
                    first = self._queue.get(timeout=_RETRY_EVERY_S if waiting else None)
                except queue.Empty:
                    first = _IDLE
                batch: list[Any] = [first]
                while len(batch) < _BATCH_MAX:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                writes = [i for i in batch if isinstance(i, _Write)]
                if conn is None:
                    conn = self._writer_connection()
                committed = False
                if conn is not None:
                    try:
                        committed = self._commit(conn, writes)
                    except Exception:  # the writer must outlive any one bad batch, or flush() would never return
                        log.exception("audit writer: a batch of %d item(s) failed", len(writes))
                    if committed and (self._degraded or self._memory or self.journal.exists()):
                        self._recover(conn)
                if not committed:
                    self._fallback(writes)
                for item in batch:
                    if isinstance(item, concurrent.futures.Future):
                        _resolve(item)
                if None in batch:
                    break
                if committed and writes:
                    commits += 1
                if conn is not None and commits >= _CHECKPOINT_EVERY and (
                        self._queue.empty() or commits >= 10 * _CHECKPOINT_EVERY):
                    commits = 0
                    self._checkpoint(conn)
        finally:
            if conn is not None:
                self._checkpoint(conn)
                conn.close()

    def _writer_connection(self) -> sqlite3.Connection | None:
        try:
            if not self._opened:
                self._open_db()
            conn = _connect(self.path)
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a commit survives a process crash
            # No checkpoint inside a commit (SQLite's default, every 1,000 pages, fsyncs the database
            # there: 5-10 ms on the commit that makes a cancel's start durable, i.e. before its request
            # leaves); this thread checkpoints when it has nothing else to do (see _maybe_checkpoint).
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            return conn
        except (sqlite3.Error, OSError, AuditError) as exc:
            self._degrade(f"the audit database {self.path} cannot be opened ({_words(exc)})")
            return None

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        """Copy the WAL back into the database (never waits for readers: PASSIVE)."""
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("audit: checkpoint failed (%s); the WAL keeps the records meanwhile", exc)

    def _commit(self, conn: sqlite3.Connection, writes: Sequence[_Write]) -> bool:
        """Commit the writes in one transaction; False (nothing committed) if the database cannot be written."""
        if not writes and not self._degraded:
            return True
        busy_s = _DEGRADED_BUSY_S if self._degraded else _WRITER_BUSY_S
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_s * 1000)}")
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._degrade(_cannot_write(self.path, exc))
            return False
        results: list[tuple[_Write, Any]] = []
        try:
            for write in writes:
                conn.execute("SAVEPOINT one")
                try:
                    results.append((write, write.fn(conn)))
                except sqlite3.IntegrityError as exc:
                    # e.g. a second final outcome for one attempt (another process settled it first)
                    log.warning("audit: %s record refused by the database: %s", write.what, exc)
                    conn.execute("ROLLBACK TO one")
                    results.append((write, None))
                except sqlite3.OperationalError:
                    raise  # the disk or the database, not this record: the whole batch goes to the journal
                except Exception:
                    log.exception("audit: %s record could not be written", write.what)
                    conn.execute("ROLLBACK TO one")
                    results.append((write, None))
                conn.execute("RELEASE one")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            self._last_listing.clear()  # the rows it points at were rolled back
            self._degrade(_cannot_write(self.path, exc))
            return False
        for write, value in results:
            if write.result is not None and not write.result.done():
                write.result.set_result(value if value is not None else AttemptStart())
        return True

    def _fallback(self, writes: Sequence[_Write]) -> None:
        """The database took nothing: the records go to the journal (or memory); none is dropped."""
        records = [w.journal for w in writes if w.journal is not None]
        if records:
            try:
                self.journal.append(records)
            except OSError as exc:
                with self._state_lock:
                    self._memory.extend(records)
                self._degrade(f"the audit trail cannot be written ({_words(exc)})")
        for write in writes:
            if write.result is not None and not write.result.done():
                write.result.set_result(AttemptStart(journaled=True))

    def _retry_memory(self) -> None:
        with self._state_lock:
            kept, self._memory = self._memory, []
        if not kept:
            return
        try:
            self.journal.append(kept)
        except OSError:
            with self._state_lock:
                self._memory[:0] = kept

    def _recover(self, conn: sqlite3.Connection) -> None:
        """The database can be written again: merge what waited, say so."""
        self._retry_memory()
        merged = self._merge(conn)
        if self._degraded and not self._memory:
            self._degraded = False
            self._tell(f"the audit database can be written again; {merged} record(s) from the journal were "
                       "merged into the trail")

    def _merge(self, conn: sqlite3.Connection) -> int:
        """Write the journal's records into the database (idempotent), then drop them from the journal."""
        records = self.journal.read()
        if not records:
            self.journal.clear(0)
            return 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            for record in records:
                conn.execute("SAVEPOINT one")
                try:
                    if record.get("t") == "response":
                        self._insert_response(conn, *_response_from(record))
                    elif record.get("t") == "transition":
                        transition, session, pid = _transition_from(record)
                        self._insert_transition(conn, transition, session=session, pid=pid, claim=False)
                except (sqlite3.IntegrityError, KeyError, TypeError, ValueError) as exc:
                    conn.execute("ROLLBACK TO one")  # already there (merged or committed before), or unreadable
                    log.debug("audit journal: record skipped (%s)", exc)
                conn.execute("RELEASE one")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.journal.clear(len(records))
        return len(records)

    def _redact(self, text: str) -> str:
        with self._redactor_lock:
            return self._redactor.text(text)

    def _insert_response(self, conn: sqlite3.Connection, r: VenueResponse, jid: str = "") -> None:
        body = r.raw_body
        routine = r.ok and r.action in _BULKY_READS
        if routine and len(body) > self.read_body_limit:
            # refreshes list every order every few seconds; the trail keeps a preview, not the book
            body = body[: self.read_body_limit] + f"… [{len(body) - self.read_body_limit} more characters not kept]"
        message, body = self._redact(r.message), self._redact(body)
        at_ms = _ms(r.at)
        key = (r.connection, r.action.value, r.account)
        if routine:
            # the same answer as last time for this listing: count it on that row instead of a new one
            last = self._last_listing.get(key)
            signature = hash((message, body))
            if last is not None and last[1] == signature and conn.execute(
                    "UPDATE responses SET repeat_count = repeat_count + 1, last_at_ms = ?, latency_ms = ? "
                    "WHERE id = ? AND message = ?", (at_ms, float(r.latency_ms), last[0], message)).rowcount:
                return
        cursor = conn.execute(
            "INSERT INTO responses (at_ms, connection, venue, action, account, order_id, http_status, message, "
            "latency_ms, request, raw_body, jid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at_ms, r.connection, r.venue.value, r.action.value, r.account, r.order_id, r.http_status,
             message, float(r.latency_ms), self._redact(r.request), body, jid or None),
        )
        if routine and cursor.lastrowid is not None:
            self._last_listing[key] = (cursor.lastrowid, hash((message, body)), message)
        elif not routine:
            self._last_listing.pop(key, None)

    def _ensure_session(self) -> bool:
        """Hold this session's lock (from the first attempt on); False if the lock cannot be had."""
        with self._session_guard:
            if self._session_lock is not None:
                return True
            lock = _SessionLock(self.sessions_dir / f"{self.session_id}.lock")
            try:
                paths.ensure_private_dir(self.sessions_dir)
                held = lock.acquire()
            except OSError as exc:
                held = False
                log.warning("audit: no session lock (%s); another start may reconcile this run's cancels", exc)
            if held:
                self._session_lock = lock
            return held

    def _insert_transition(
        self, conn: sqlite3.Connection, t: CancelTransition, *, session: str = "", pid: int | None = None,
        claim: bool = True,
    ) -> AttemptStart | None:
        k, at_ms = t.key, _ms(t.at)
        session = session or self.session_id
        pid = pid if pid is not None else os.getpid()
        result = t.result
        if result is None:
            held = None
            if t.phase == "sending":
                if session == self.session_id:
                    self._ensure_session()  # before the in-flight row exists, so no other process takes it for dead
                conn.execute(
                    "INSERT OR IGNORE INTO attempts (attempt_id, started_ms, connection, account, order_id, "
                    "provenance, batch_id, state, session, pid, identity) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'in_flight', ?, ?, ?)",
                    (t.attempt_id, at_ms, k.connection, k.account, k.order_id, t.provenance.value, t.batch_id,
                     session, pid, t.identity),
                )
                if claim and t.identity:
                    held = self._claim(conn, t, session, pid, at_ms)
            conn.execute(
                "INSERT INTO cancel_events (at_ms, attempt_id, connection, account, order_id, venue, phase, "
                "provenance, batch_id, message, http_status, latency_ms, venue_reason, jid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (at_ms, t.attempt_id, k.connection, k.account, k.order_id, t.venue, t.phase, t.provenance.value,
                 t.batch_id, self._redact(t.message), t.http_status, t.latency_ms, self._redact(t.venue_reason),
                 t.jid),
            )
            return held
        message = self._redact(t.message or result.message)
        detail = self._redact(result.detail)
        reason = self._redact(t.venue_reason)
        final = result.final_status.value if result.final_status else None
        http = t.http_status if t.http_status is not None else result.http_status
        latency = t.latency_ms if t.latency_ms is not None else result.latency_ms
        # the event first: the unique index and the triggers make this the one final outcome, or refuse it
        conn.execute(
            "INSERT INTO cancel_events (at_ms, attempt_id, connection, account, order_id, venue, phase, provenance, "
            "batch_id, message, http_status, latency_ms, outcome, final_status, venue_status, detail, venue_reason, "
            "jid) VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at_ms, t.attempt_id, k.connection, k.account, k.order_id, t.venue, t.provenance.value, t.batch_id,
             message, http, latency, result.outcome.value, final, result.venue_status, detail, reason, t.jid),
        )
        updated = conn.execute(
            "UPDATE attempts SET state = 'done', outcome = ?, outcome_provenance = ?, final_status = ?, "
            "venue_status = ?, http_status = ?, message = ?, detail = ?, latency_ms = ?, finished_ms = ?, "
            "venue_reason = ? WHERE attempt_id = ?",
            (result.outcome.value, t.provenance.value, final, result.venue_status, http, message, detail, latency,
             at_ms, reason, t.attempt_id),
        ).rowcount
        if not updated:  # an attempt that ended before anything was sent (read-only, unknown connection)
            conn.execute(
                "INSERT INTO attempts (attempt_id, started_ms, connection, account, order_id, provenance, batch_id, "
                "state, outcome, outcome_provenance, final_status, venue_status, http_status, message, detail, "
                "latency_ms, finished_ms, session, pid, venue_reason, identity) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (t.attempt_id, at_ms, k.connection, k.account, k.order_id, result.provenance.value, t.batch_id,
                 result.outcome.value, t.provenance.value, final, result.venue_status, http, message, detail,
                 latency, at_ms, session, pid, reason, t.identity),
            )
        conn.execute("DELETE FROM claims WHERE attempt_id = ?", (t.attempt_id,))  # the venue order is free
        return None

    def _claim(self, conn: sqlite3.Connection, t: CancelTransition, session: str, pid: int,
               at_ms: int) -> AttemptStart | None:
        """Claim the venue order for this attempt, unless another live process's attempt holds it."""
        row = conn.execute(
            "SELECT c.attempt_id, c.session, c.pid, a.state FROM claims c LEFT JOIN attempts a "
            "ON a.attempt_id = c.attempt_id WHERE c.identity = ?", (t.identity,)).fetchone()
        if row is not None and row[0] != t.attempt_id and row[3] == "in_flight" and row[1] != session \
                and _session_alive(self.sessions_dir, row[1]):
            return AttemptStart(holder_attempt_id=row[0], holder_session=row[1], holder_pid=row[2])
        conn.execute("INSERT OR REPLACE INTO claims (identity, attempt_id, session, pid, at_ms) VALUES (?, ?, ?, ?, ?)",
                     (t.identity, t.attempt_id, session, pid, at_ms))
        return None

    # ------------------------------------------------------------------ reading (own connection)
    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = _connect(self.path)
            try:
                conn.execute("PRAGMA query_only = ON")
                yield conn
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read the audit database {self.path}: {exc}") from None

    def query(self, q: AuditQuery | None = None) -> list[AuditRecord]:
        """The trail matching ``q``, oldest first (the CLI ``log``/``export`` and the window share this)."""
        q = q or AuditQuery()
        parts: list[str] = []
        params: list[Any] = []
        if q.kind in ("", "response") and not q.outcome and not q.attempt_id:
            where, args = _common_filters(q, "r", ("message", "request", "raw_body", "action"))
            parts.append(_SELECT_RESPONSES + where)
            params += args
        if q.kind in ("", "cancel"):
            where, args = _common_filters(
                q, "e", ("message", "detail", "venue_reason", "attempt_id", "batch_id", "provenance", "phase"))
            if q.outcome == IN_FLIGHT:
                where += " AND e.attempt_id IN (SELECT attempt_id FROM attempts WHERE state = 'in_flight')"
            elif q.outcome:
                where += " AND e.attempt_id IN (SELECT attempt_id FROM attempts WHERE outcome = ?)"
                args.append(q.outcome)
            if q.attempt_id:
                where += " AND e.attempt_id = ?"
                args.append(q.attempt_id)
            parts.append(_SELECT_EVENTS + where)
            params += args
        if not parts:
            return []
        sql = " UNION ALL ".join(parts)
        if q.limit > 0:
            sql = _NEWEST.format(sql)
            params.append(q.limit)
        else:
            sql += " ORDER BY 1, 2, 3"
        with self._reader() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            AuditRecord(
                at=_at(row[0]), kind=row[1], connection=row[3], venue=row[4], account=row[5], order_id=row[6],
                action=row[7], phase=row[8], http_status=row[9], latency_ms=row[10], message=row[11],
                attempt_id=row[12], provenance=row[13], batch_id=row[14], outcome=row[15], final_status=row[16],
                venue_status=row[17], detail=row[18], venue_reason=row[19], request=row[20], raw_body=row[21],
                repeat_count=int(row[22] or 1), last_at=_at(row[23]) if row[23] is not None else None,
            )
            for row in rows
        ]

    def attempts(self, q: AuditQuery | None = None) -> list[AttemptRecord]:
        """Cancel attempts (by start time, oldest first); ``since``/``until`` apply to the start."""
        q = q or AuditQuery()
        where = ["1 = 1"]
        args: list[Any] = []
        if q.since is not None:
            where.append("a.started_ms >= ?")
            args.append(_ms(q.since))
        if q.until is not None:
            where.append("a.started_ms < ?")
            args.append(_ms(q.until))
        if q.connection:
            where.append("a.connection = ?")
            args.append(q.connection)
        if q.order is not None:
            where.append("a.connection = ? AND a.account = ? AND a.order_id = ?")
            args += [q.order.connection, q.order.account, q.order.order_id]
        if q.account:
            where.append("a.account = ?")
            args.append(q.account)
        if q.order_id:
            where.append("a.order_id = ?")
            args.append(q.order_id)
        if q.outcome == IN_FLIGHT:
            where.append("a.state = 'in_flight'")
        elif q.outcome:
            where.append("a.outcome = ?")
            args.append(q.outcome)
        if q.attempt_id:
            where.append("a.attempt_id = ?")
            args.append(q.attempt_id)
        return self._attempts(" AND ".join(where), args)

    def _attempts(self, where: str, args: Sequence[Any]) -> list[AttemptRecord]:
        sql = _SELECT_ATTEMPTS + where + " ORDER BY a.started_ms, a.attempt_id"
        with self._reader() as conn:
            rows = conn.execute(sql, list(args)).fetchall()
        return [
            AttemptRecord(
                attempt_id=row[0], key=OrderKey(row[1], row[2], row[3]), provenance=row[4], batch_id=row[5],
                started_at=_at(row[6]), state=row[7], session=row[8], pid=row[9], outcome=row[10],
                outcome_provenance=row[11], final_status=row[12], venue_status=row[13], http_status=row[14],
                message=row[15], detail=row[16], venue_reason=row[17],
                finished_at=_at(row[18]) if row[18] is not None else None, accepted=bool(row[19]),
            )
            for row in rows
        ]

    def orphaned_attempts(self) -> list[AttemptRecord]:
        """In-flight attempts whose process is gone (crashed, killed, or closed mid-cancel). Cheap if none."""
        attempts = self._attempts("a.state = 'in_flight' AND a.session != ?", [self.session_id])
        alive: dict[str, bool] = {}
        orphans = []
        for attempt in attempts:
            if attempt.session not in alive:
                alive[attempt.session] = _session_alive(self.sessions_dir, attempt.session)
            if not alive[attempt.session]:
                orphans.append(attempt)
        return orphans

    def claim_orphaned_attempts(self) -> list[AttemptRecord]:
        """Take over the orphaned attempts for this session, so one process alone settles each of them.

        Writes on the caller's thread (call it off the GUI loop). If this process dies while settling,
        the claimed attempts are orphans again for the next start.
        """
        orphans = self.orphaned_attempts()
        if not orphans or not self._ensure_session():
            return []
        claimed: list[AttemptRecord] = []
        try:
            conn = _connect(self.path, _OPEN_BUSY_S)
            try:
                conn.execute("BEGIN IMMEDIATE")
                for orphan in orphans:
                    if conn.execute(
                        "UPDATE attempts SET session = ?, pid = ? "
                        "WHERE attempt_id = ? AND state = 'in_flight' AND session = ?",
                        (self.session_id, os.getpid(), orphan.attempt_id, orphan.session),
                    ).rowcount:
                        claimed.append(orphan)
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise AuditError(f"cannot claim interrupted cancels in {self.path}: {exc}") from None
        return claimed

    def outcome_violations(self) -> list[str]:
        """Attempt ids breaking "exactly one final outcome" (done with != 1 done event, in flight with any)."""
        with self._reader() as conn:
            rows = conn.execute(
                "SELECT a.attempt_id FROM attempts a LEFT JOIN cancel_events e "
                "ON e.attempt_id = a.attempt_id AND e.phase = 'done' GROUP BY a.attempt_id, a.state "
                "HAVING (a.state = 'done' AND count(e.id) != 1) OR (a.state = 'in_flight' AND count(e.id) != 0) "
                "UNION SELECT e.attempt_id FROM cancel_events e WHERE e.phase = 'done' "
                "AND e.attempt_id NOT IN (SELECT attempt_id FROM attempts WHERE state = 'done')"
            ).fetchall()
        return sorted(r[0] for r in rows)

    def schema_version(self) -> int:
        with self._reader() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])


# Query fragments. Only these constants and column names of this module are ever joined into SQL;
# values are always bound parameters.
_SELECT_RESPONSES = (
    "SELECT r.at_ms, 'response' AS kind, r.id, r.connection, r.venue, r.account, r.order_id, "
    "r.action, '' AS phase, r.http_status, r.latency_ms, r.message, '' AS attempt_id, "
    "'' AS provenance, r.batch_id, NULL AS outcome, NULL AS final_status, '' AS venue_status, "
    "'' AS detail, '' AS venue_reason, r.request, r.raw_body, r.repeat_count, r.last_at_ms FROM responses r"
)
_SELECT_EVENTS = (
    "SELECT e.at_ms, 'cancel' AS kind, e.id, e.connection, e.venue, e.account, e.order_id, "
    "'cancel' AS action, e.phase, e.http_status, e.latency_ms, e.message, e.attempt_id, e.provenance, "
    "e.batch_id, e.outcome, e.final_status, e.venue_status, e.detail, e.venue_reason, "
    "'' AS request, '' AS raw_body, 1 AS repeat_count, NULL AS last_at_ms FROM cancel_events e"
)
_NEWEST = "SELECT * FROM ({} ORDER BY 1 DESC, 2 DESC, 3 DESC LIMIT ?) ORDER BY 1, 2, 3"
_SELECT_ATTEMPTS = (
    "SELECT a.attempt_id, a.connection, a.account, a.order_id, a.provenance, a.batch_id, a.started_ms, "
    "a.state, a.session, a.pid, a.outcome, a.outcome_provenance, a.final_status, a.venue_status, "
    "a.http_status, a.message, a.detail, a.venue_reason, a.finished_ms, "
    # accepted: the venue took the cancel request (a pending step, or a 2xx answer to it)
    "(EXISTS (SELECT 1 FROM cancel_events p WHERE p.attempt_id = a.attempt_id AND p.phase = 'pending') "
    "OR EXISTS (SELECT 1 FROM responses r WHERE r.connection = a.connection AND r.account = a.account "
    "AND r.order_id = a.order_id AND r.action IN ('cancel', 'bulk_cancel') "
    "AND r.http_status BETWEEN 200 AND 299 AND r.at_ms >= a.started_ms)) "
    "FROM attempts a WHERE "
)


def _common_filters(q: AuditQuery, alias: str, text_columns: Sequence[str]) -> tuple[str, list[Any]]:
    where = " WHERE 1 = 1"
    args: list[Any] = []
    if q.since is not None:
        where += f" AND {alias}.at_ms >= ?"
        args.append(_ms(q.since))
    if q.until is not None:
        where += f" AND {alias}.at_ms < ?"
        args.append(_ms(q.until))
    if q.connection:
        where += f" AND {alias}.connection = ?"
        args.append(q.connection)
    if q.order is not None:
        where += f" AND {alias}.connection = ? AND {alias}.account = ? AND {alias}.order_id = ?"
        args += [q.order.connection, q.order.account, q.order.order_id]
    if q.account:
        where += f" AND {alias}.account = ?"
        args.append(q.account)
    if q.order_id:
        where += f" AND {alias}.order_id = ?"
        args.append(q.order_id)
    if q.text:
        columns = ("connection", "account", "order_id", *text_columns)
        where += " AND (" + " OR ".join(f"instr(lower({alias}.{c}), ?) > 0" for c in columns) + ")"
        args += [q.text.lower()] * len(columns)
    return where, args


def _resolve(future: concurrent.futures.Future[None]) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # the waiter gave up (cancelled)
        future.set_result(None)


# ---------------------------------------------------------------------------------------------- journal records
_IDLE = object()  # the writer woke up to retry, with nothing new queued


def _response_record(r: VenueResponse, jid: str) -> dict[str, Any]:
    return {"t": "response", "jid": jid, "venue": r.venue.value, "connection": r.connection, "action": r.action.value,
            "http_status": r.http_status, "message": r.message, "latency_ms": r.latency_ms, "request": r.request,
            "raw_body": r.raw_body, "account": r.account, "order_id": r.order_id, "at_ms": _ms(r.at)}


def _response_from(d: dict[str, Any]) -> tuple[VenueResponse, str]:
    response = VenueResponse(
        venue=Venue(d["venue"]), connection=str(d["connection"]), action=Action(d["action"]),
        http_status=d.get("http_status"), message=str(d.get("message", "")),
        latency_ms=float(d.get("latency_ms") or 0.0), request=str(d.get("request", "")),
        raw_body=str(d.get("raw_body", "")), account=str(d.get("account", "")),
        order_id=str(d.get("order_id", "")), at=_at(int(d["at_ms"])))
    return response, str(d["jid"])


def _transition_record(t: CancelTransition, session: str, pid: int) -> dict[str, Any]:
    r = t.result
    return {
        "t": "transition", "jid": t.jid, "attempt_id": t.attempt_id, "connection": t.key.connection,
        "account": t.key.account, "order_id": t.key.order_id, "phase": t.phase, "provenance": t.provenance.value,
        "batch_id": t.batch_id, "message": t.message, "at_ms": _ms(t.at), "venue": t.venue,
        "http_status": t.http_status, "latency_ms": t.latency_ms, "venue_reason": t.venue_reason,
        "identity": t.identity, "session": session, "pid": pid,
        "result": None if r is None else {
            "outcome": r.outcome.value, "message": r.message, "http_status": r.http_status,
            "latency_ms": r.latency_ms, "final_status": r.final_status.value if r.final_status else None,
            "provenance": r.provenance.value, "batch_id": r.batch_id, "venue_status": r.venue_status,
            "detail": r.detail,
        },
    }


def _transition_from(d: dict[str, Any]) -> tuple[CancelTransition, str, int | None]:
    key = OrderKey(str(d["connection"]), str(d["account"]), str(d["order_id"]))
    raw = d.get("result")
    result = None
    if isinstance(raw, dict):
        result = CancelResult(
            key=key, attempt_id=str(d["attempt_id"]), outcome=CancelOutcome(raw["outcome"]),
            message=str(raw.get("message", "")), http_status=raw.get("http_status"),
            latency_ms=float(raw.get("latency_ms") or 0.0),
            final_status=OrderStatus(raw["final_status"]) if raw.get("final_status") else None,
            provenance=Provenance(raw["provenance"]), batch_id=str(raw.get("batch_id", "")),
            venue_status=str(raw.get("venue_status", "")), detail=str(raw.get("detail", "")))
    transition = CancelTransition(
        attempt_id=str(d["attempt_id"]), key=key, phase=str(d["phase"]), provenance=Provenance(d["provenance"]),
        batch_id=str(d.get("batch_id", "")), message=str(d.get("message", "")), at=_at(int(d["at_ms"])),
        venue=str(d.get("venue", "")), http_status=d.get("http_status"), latency_ms=d.get("latency_ms"),
        result=result, venue_reason=str(d.get("venue_reason", "")), identity=str(d.get("identity", "")),
        jid=str(d["jid"]))
    pid = d.get("pid")
    return transition, str(d.get("session", "")), int(pid) if isinstance(pid, int) else None


_PASSING = ("locked", "busy", "disk is full", "disk i/o", "readonly", "read-only", "unable to open",
            "no space", "permission denied")


def _passing(exc: BaseException) -> bool:
    """A failure that may pass (a lock, a full disk, access): the store keeps going on its journal."""
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return True
    return any(word in str(exc).lower() for word in _PASSING)


def _words(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


def _cannot_write(path: Path, exc: BaseException) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return f"the audit database {path} is locked by another program"
    if "full" in text or "no space" in text:
        return f"the disk holding the audit database {path} is full"
    return f"the audit database {path} cannot be written ({_words(exc)})"
