"""The audit trail's fallback journal: a plain append-only file beside the database.

When a record cannot be committed to SQLite (the database is locked by another program beyond a short
bound, the disk is full, the directory is read-only, the database cannot be opened), it is appended here
as one JSON line, flushed and fsync'd, so a cancel that went on the wire is on disk even then. The store
merges the journal into the database as soon as it can write again (and at every start), idempotently:
each record carries its own id (``jid``), so a record both committed and journaled is kept once.

A cancel is never held back for want of a place to record it: the trader's emergency cancel goes out,
and the trader is told at once that it is recorded here, or only in memory when even this file cannot be
written (a full disk), until space returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

JOURNAL_SUFFIX = ".journal"


class Journal:
    """JSON lines appended with fsync; ``read`` skips a torn last line (a crash mid-write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append and make durable, or raise ``OSError`` (nothing half-written is left behind)."""
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records).encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                start = os.fstat(fd).st_size
                try:
                    view = memoryview(data)
                    while view:  # a short write (a full disk, a file-size limit) is no write
                        written = os.write(fd, view)
                        if written <= 0:
                            raise OSError(28, "No space left on device")
                        view = view[written:]
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)  # no torn line from a full disk
                    raise
            finally:
                os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            try:
                text = self.path.read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                return []
        records = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn line: its record was not made durable, so it was never claimed to be
            if isinstance(record, dict):
                records.append(record)
        return records

    def exists(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def clear(self, count: int) -> None:
        """Drop the first ``count`` records (merged); keep any appended since they were read."""
        with self._lock:
            try:
                lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
            except FileNotFoundError:
                return
            rest = lines[count:]
            if not rest:
                self.path.unlink(missing_ok=True)
                return
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview("".join(rest).encode())
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
