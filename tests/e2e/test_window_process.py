"""The window as a process (offscreen): one window per profile, a clean quit on SIGTERM/SIGINT, and a demo
that leaves the live profile untouched (issue 14 rules 10-12)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

BLOTTER = str(Path(sys.executable).with_name("blotter"))


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def locked(path: Path) -> bool:
    if not path.exists():
        return False
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {**os.environ, "BLOTTER_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen",
            "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_window_on_one_profile_is_refused_and_a_signal_quits_cleanly(env: dict[str, str],
                                                                               sig: signal.Signals) -> None:
    lock = Path(env["BLOTTER_HOME"]) / "data" / "window.lock"
    first = subprocess.Popen([BLOTTER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: locked(lock), "the first window to hold its profile")
        second = subprocess.run([BLOTTER], env=env, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 1
        assert "already running on this profile" in second.stderr and f"pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one is untouched
        first.send_signal(sig)
        _out, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, err
    assert "Traceback" not in err
    ini = Path(env["BLOTTER_HOME"]) / "config" / "window.ini"
    assert "geometry" in ini.read_text()  # the layout was saved, as Ctrl+Q saves it
    assert not locked(lock)


def test_the_demo_keeps_its_settings_and_trail_to_itself(env: dict[str, str]) -> None:
    tmp = Path(env["TMPDIR"])
    demo = subprocess.Popen([BLOTTER, "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(tmp.glob("blotter-demo-settings-*/window.ini")) or
                 any(tmp.glob("blotter-demo-audit-*/audit.sqlite3")), "the demo window", 60)
        demo.send_signal(signal.SIGTERM)
        _out, err = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert demo.returncode == 0, err
    home = Path(env["BLOTTER_HOME"])
    assert not (home / "config" / "window.ini").exists()  # the live profile's settings were never written
    assert not list(tmp.glob("blotter-demo-*"))  # the demo's trail and settings are gone
