"""The CLI with its audit database locked by another program (RELIABILITY-FINDINGS H3): the cancel goes out
at once, the trader is told in one line (no traceback), and the next command finds it in the trail."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

from test_cli_keys import BLOTTER, blotter, deletes, env, venue  # noqa: F401  (fixtures)

from audit_support import Locker


def test_a_cancel_with_the_audit_database_locked_goes_out_and_is_recorded_later(env: dict[str, str],  # noqa: F811
                                                                               venue: str) -> None:  # noqa: F811
    db = Path(env["BLOTTER_HOME"]) / "data" / "audit.sqlite3"
    assert blotter(env, "accounts").returncode == 0  # the trail exists (and the connection works)
    locker = Locker(db, 6.0)
    try:
        started = time.monotonic()
        cancel = subprocess.run([BLOTTER, "cancel", "as/6303/73517", "--yes", "--json"], capture_output=True,
                                text=True, env=env, timeout=60, check=False)
        took = time.monotonic() - started
        assert [d["path"] for d in deletes(venue)] == ["/api/v1.0/accounts/6303/orders/73517"]  # it went out
        assert locker.holding()  # ...while the lock was held
    finally:
        locker.wait()
    assert cancel.returncode == 0, cancel.stderr
    assert json.loads(cancel.stdout)[0]["outcome"] == "cancelled"
    assert "Traceback" not in cancel.stderr
    warnings = [line for line in cancel.stderr.splitlines() if line.startswith("blotter: warning:")]
    assert warnings and "locked" in warnings[0] and "journal" in warnings[0], cancel.stderr
    assert took < 20
    # the next command merges the journal: the attempt is in the trail with its one outcome
    log = blotter(env, "log", "--json", "--kind", "cancel", "--order", "as/6303/73517")
    assert log.returncode == 0, log.stderr
    steps = [(r["phase"], r["outcome"]) for r in json.loads(log.stdout)]
    assert steps[0] == ("sending", None) and steps[-1] == ("done", "cancelled")
    assert len([s for s in steps if s[0] == "done"]) == 1
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT state, outcome FROM attempts").fetchall() == [("done", "cancelled")]
    finally:
        conn.close()
    assert not db.with_name(db.name + ".journal").exists()
