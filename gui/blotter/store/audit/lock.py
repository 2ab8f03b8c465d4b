"""Session locks: an exclusive lock per running store; a free lock means its process is gone."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from pathlib import Path
from typing import IO

log = logging.getLogger("blotter.store.audit")


# ---------------------------------------------------------------------------------------------- sessions
class _SessionLock:
    """An exclusive lock on ``<session>.lock`` held while a store lives; the OS frees it if the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def acquire(self) -> bool:
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            _lock_nb(fh)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self, *, remove: bool = True) -> None:
        if self._fh is None:
            return
        if remove:
            with contextlib.suppress(OSError):  # Windows: an open file cannot be removed
                self.path.unlink(missing_ok=True)
        _unlock(self._fh)
        self._fh.close()
        self._fh = None


if sys.platform == "win32":
    import msvcrt

    def _lock_nb(fh: IO[bytes]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(fh: IO[bytes]) -> None:
        fh.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_nb(fh: IO[bytes]) -> None:
        # flock, not lockf: flock locks belong to the open file, so two stores in one process exclude too
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fh: IO[bytes]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _session_alive(directory: Path, session: str) -> bool:
    if not session or not re.fullmatch(r"[0-9a-f]{8,64}", session):
        return False
    lock = _SessionLock(directory / f"{session}.lock")
    if not lock.path.exists():
        return False
    try:
        acquired = lock.acquire()
    except OSError as exc:  # cannot tell: leave its attempts alone rather than settle a live cancel
        log.warning("audit: cannot check session %s (%s)", session, exc)
        return True
    if acquired:
        lock.release()  # the owner is gone: its lock file goes too
        return False
    return True
