"""Where Blotter's log goes: a rotating file in the data dir, or stderr when that cannot be written.

Part of the composition root (``boot``): the CLI and the window set logging up the same way.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys

from ..core import VenueResponse
from ..store import paths

log = logging.getLogger("blotter.cli")


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written (a full disk, a read-only directory) logging goes on to
    stderr (warnings only, said once) instead of printing Python's "--- Logging error ---" per record."""

    def handleError(self, record: logging.LogRecord) -> None:
        _log_to_stderr(f"the log file {self.baseFilename} cannot be written; warnings go to stderr")
        root = logging.getLogger()
        if self in root.handlers:
            root.removeHandler(self)
        with contextlib.suppress(Exception):
            self.close()


def _log_to_stderr(why: str) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_blotter_fallback", False) for h in root.handlers):
        return
    with contextlib.suppress(OSError):
        sys.stderr.write(f"blotter: warning: {why}\n")
    fallback = logging.StreamHandler(sys.stderr)
    fallback.setLevel(logging.WARNING)
    fallback.setFormatter(logging.Formatter("blotter: %(levelname)s %(name)s: %(message)s"))
    fallback._blotter_fallback = True  # type: ignore[attr-defined]
    root.addHandler(fallback)


def setup_logging(verbose: bool = False) -> None:
    """Venue answers (already redacted) go to a rotating log file in the data dir — or, when it cannot be
    written, warnings go to stderr: a read-only or full data directory never blocks a command (M8)."""
    logging.raiseExceptions = False  # a logging failure is never a traceback on the trader's terminal
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, logging.handlers.RotatingFileHandler)]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "uvicorn", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        directory = paths.ensure_private_dir(paths.log_dir())
        handler: logging.Handler = _LogFile(
            directory / "blotter.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        _log_to_stderr(f"no log file ({exc.strerror or type(exc).__name__}: {paths.log_dir()}); "
                       "warnings go to stderr")
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)


def log_response(response: VenueResponse) -> None:
    log.info(
        "%s %s %s %s %.0fms %s%s", response.connection, response.venue.value, response.action.value,
        response.http_status if response.http_status is not None else "-", response.latency_ms,
        f"{response.account}/{response.order_id} " if response.order_id else "", response.message,
    )
