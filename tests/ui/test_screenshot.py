"""``blotter --demo --screenshot``: the scripted demo produces every outcome kind, and a 1280×800 PNG."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from blotter.ui.demo_script import run_screenshot
from blotter.ui.models.columns import column_index
from blotter.ui.models.status import OutcomeKind
from conftest import environment


def test_scripted_demo_shows_every_outcome(qtbot: Any, tmp_path: Path, serve: Any, make_window: Any,
                                           demo_scenario_7: dict[str, Any]) -> None:
    specs, store, sims = environment(serve, copy.deepcopy(demo_scenario_7), timeout_s=1.5)
    window = make_window(specs, store, reconcile_s=2.5)
    path = tmp_path / "shot.png"
    task = window.tasks.spawn(run_screenshot(window, sims, path))
    qtbot.waitUntil(task.done, timeout=60_000)
    assert task.result() == 0
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 800)
    cancels = [e for e in window.status_model.entries() if e.action == "cancel"]
    kinds = {e.kind for e in cancels}
    assert kinds >= {OutcomeKind.CANCELLED, OutcomeKind.PENDING, OutcomeKind.REJECTED, OutcomeKind.FAILED,
                     OutcomeKind.UNKNOWN}
    assert "too late — filled" in {e.outcome for e in cancels}
    assert any(e.outcome.startswith("rejected") for e in cancels)
    states = {str(window.orders_proxy.index(r, column_index("state")).data())
              for r in range(window.orders_proxy.rowCount())}
    assert "pending at venue" in states
    assert "cancelling…" in states or any(e.kind is OutcomeKind.IN_FLIGHT for e in cancels)
    assert {str(s.venue) for s in specs} == {"autoshares", "snaptrade", "tanx"}
    assert window.accounts_model.rowCount() == len(specs)


@pytest.mark.slow
def test_blotter_demo_screenshot_command(tmp_path: Path) -> None:
    path = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BLOTTER_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "blotter.cli", "--demo", "--screenshot", str(path)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 800)
