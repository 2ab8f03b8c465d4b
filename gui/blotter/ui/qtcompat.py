"""Work-arounds for bugs in the pinned Qt binding. Installed once, when ``blotter.ui`` is imported.

PySide6 6.12.0 (abi3 wheels) on CPython 3.11 returns ``None``, ``True`` and ``False`` without taking a
reference: every void method call (``QTimer.start``, ``beginInsertRows``, ``QLabel.setText`` …) and
every ``Signal.emit()`` steals one reference from those singletons. After enough calls the count
reaches zero and the interpreter aborts ("Fatal Python error: none_dealloc" / "bool_dealloc"), in a
busy window within minutes. Measured: 200 ``QTimer.stop()`` calls → ``sys.getrefcount(None)`` −200.
(Python ≥ 3.12 makes these singletons immortal (PEP 683), which is what such wheels assume.)

``install()`` measures the leak with a few harmless calls and, only if it is there, does what 3.12
does: it gives the five singletons a reference count so large that it cannot reach zero.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

_IMMORTAL = 1 << 60  # far from 0 and far from the signed 64-bit limit
_SINGLETONS: tuple[Any, ...] = (None, True, False, Ellipsis, NotImplemented)
_installed: list[str] | None = None


class _Probe(QObject):
    ping = Signal()


def _loses_references(obj: Any, call: Callable[[], Any], rounds: int = 64) -> bool:
    before = sys.getrefcount(obj)
    for _ in range(rounds):
        call()
    lost = before - sys.getrefcount(obj)
    if lost > 0:
        _add_references(obj, lost)  # give back what the probe itself took
    return lost >= rounds // 2


def _add_references(obj: Any, count: int) -> None:
    refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is PyObject's first field
    refcount.value += count


def install() -> list[str]:
    """Apply the work-arounds this binding needs; returns what was done (for logs and tests)."""
    global _installed
    if _installed is not None:
        return _installed
    done: list[str] = []
    if sys.version_info < (3, 12) and sys.implementation.name == "cpython":
        timer = QTimer()
        probe = _Probe()
        if _loses_references(None, timer.stop) or _loses_references(True, probe.ping.emit):
            for obj in _SINGLETONS:
                if sys.getrefcount(obj) < _IMMORTAL:
                    _add_references(obj, _IMMORTAL)
            done.append("immortal None/True/False/Ellipsis/NotImplemented (PySide6 drops their references)")
        probe.deleteLater()
    _installed = done
    return done
