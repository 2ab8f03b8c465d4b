"""Qt measuring tools for the benchmark scripts: an event-loop heartbeat, RSS, the app, result output.

``measure(op)`` runs ``op`` from inside a running Qt event loop while a 1 ms precise timer ticks; the
longest gap between two ticks around the operation is the longest stall of the loop — what a trader
feels as a frozen window (it includes the operation itself and the repaint that follows it).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

RESULT_PREFIX = "BENCH-RESULT "


def app() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    qapp = QApplication(sys.argv[:1])
    from blotter.ui.theme import app_font

    qapp.setFont(app_font())
    return qapp


def rss_mb() -> float:
    """Resident set size of this process (VmRSS), in MB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(op: Callable[[], dict[str, float] | None], settle_ms: int = 60) -> dict[str, float]:
    """Run ``op`` inside the event loop under a 1 ms heartbeat.

    Returns ``op_ms`` (the synchronous call), whatever timings ``op`` returns itself (milliseconds since
    its start), and ``stall_ms``: the longest gap between heartbeat ticks from just before ``op`` until
    ``settle_ms`` after it (so the repaint and any coalesced work that follows are counted too).
    """
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(1)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    out: dict[str, float] = {}
    window: list[float] = []

    def go() -> None:
        t0 = time.perf_counter()
        extra = op() or {}
        t1 = time.perf_counter()
        window.extend([t0, t1])
        out["op_ms"] = (t1 - t0) * 1000
        out.update(extra)
        QTimer.singleShot(settle_ms, loop.quit)

    heartbeat.start()
    QTimer.singleShot(30, go)  # let the heartbeat run a little first
    loop.exec()
    heartbeat.stop()
    t0 = window[0]
    before = [t for t in ticks if t <= t0]
    span = ([before[-1]] if before else [t0]) + [t for t in ticks if t > t0]
    gaps = [b - a for a, b in pairwise(span)]
    out["stall_ms"] = max(gaps) * 1000 if gaps else out["op_ms"]
    return out


def emit(result: dict[str, Any]) -> None:
    """One JSON result line on stdout (the runner and the tests read these)."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
