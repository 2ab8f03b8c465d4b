"""A crash mid-cancel, for real: `blotter cancel` in a subprocess is SIGKILLed while the venue holds its
request; the next `blotter` command settles the attempt with the venue, once, as "reconciliation".
The audit trail it leaves is read back with `blotter log` and `blotter export`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

BLOTTER = str(Path(sys.executable).with_name("blotter"))
APP_KEY = "crash-app-key-0a1b2c3d"
PASSWORD = "crash-password-4e5f6a7b"
KEY = "as1/7001/1"

SCENARIO: dict[str, Any] = {"autoshares": {
    "app_keys": [APP_KEY],
    "users": [{"user_id": 7, "username": "crash", "password": PASSWORD, "first_name": "C", "last_name": "Rash",
               "accounts": [7001]}],
    "accounts": [{"id": 7001, "clearing_account": "5CR07001", "access_type": "Full", "margin_type": "Cash",
                  "owner_type": "IndividualCustomer", "alias": "main", "currency": "USD", "enabled": True,
                  "cash": 1000}],
    "orders": [
        # the venue cancels at once but answers only after a minute: the CLI is killed while it waits
        {"id": 1, "account_id": 7001, "symbol": "AAPL", "side": "Buy", "type": "Limit", "quantity": 10,
         "price": 190.5, "status": "New", "create_date": "2026-01-05T14:30:00Z",
         "cancel": {"mode": "timeout", "delay_ms": 60000, "effect": "cancel"}},
        {"id": 2, "account_id": 7001, "symbol": "MSFT", "side": "Sell", "type": "Limit", "quantity": 5,
         "price": 431.1, "status": "New", "create_date": "2026-01-05T14:31:00Z"},
    ],
}}


@pytest.fixture
def env(real_keyring: None, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLOTTER_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def sim_url(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(SCENARIO))
    proc = subprocess.Popen([BLOTTER, "sim", "serve", "--scenario", str(scenario_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    try:
        yield json.loads(proc.stdout.readline())["autoshares"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def blotter(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BLOTTER, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def test_a_cancel_killed_mid_flight_is_settled_once_by_the_next_command(
    env: dict[str, str], sim_url: str, tmp_path: Path
) -> None:
    added = blotter(env, "connections", "add", "autoshares", "as1", "--base-url", sim_url, "--username", "crash",
                    "--secrets-stdin", stdin=json.dumps({"app_key": APP_KEY, "password": PASSWORD}))
    assert added.returncode == 0, added.stderr
    db = Path(env["BLOTTER_HOME"]) / "data" / "audit.sqlite3"
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(sim_url))

    def venue_has_the_delete() -> bool:
        log = httpx.get(f"{origin}/_sim/requests", timeout=5).json()
        return any(r["method"] == "DELETE" and r["path"].endswith("/orders/1") for r in log)

    cancel = subprocess.Popen([BLOTTER, "cancel", KEY, "--yes", "--json", "--wait", "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for(lambda: rows(db, "SELECT state FROM attempts") == [("in_flight",)], "the attempt in flight")
        wait_for(venue_has_the_delete, "the venue to receive the cancel")
    finally:
        cancel.send_signal(signal.SIGKILL)
        cancel.communicate(timeout=10)
    assert cancel.returncode == -signal.SIGKILL
    [(attempt_id, provenance)] = rows(db, "SELECT attempt_id, provenance FROM attempts WHERE state = 'in_flight'")
    assert provenance == "cli"

    # reading the trail does not talk to venues; it says what is unsettled
    before = blotter(env, "log", "--json", "--order", KEY)
    assert before.returncode == 0, before.stderr
    assert "1 cancel attempt(s) of an interrupted run are not settled yet" in before.stderr
    assert [(r["kind"], r["phase"]) for r in json.loads(before.stdout)] == [("cancel", "sending")]

    # the next command that talks to the venue settles it first, with what the venue shows
    orders = blotter(env, "orders", "--json")
    assert orders.returncode == 0, orders.stderr
    assert f"cancel of {KEY} interrupted by an earlier run: cancelled" in orders.stderr
    assert [o["key"] for o in json.loads(orders.stdout)] == ["as1/7001/2"]

    [attempt] = rows(db, "SELECT attempt_id, state, outcome, outcome_provenance, final_status, provenance "
                         "FROM attempts")
    assert attempt == (attempt_id, "done", "cancelled", "reconciliation", "cancelled", "cli")
    assert rows(db, f"SELECT provenance, outcome FROM cancel_events WHERE attempt_id = '{attempt_id}' "
                    "AND phase = 'done'") == [("reconciliation", "cancelled")]
    again = blotter(env, "orders", "--json")
    assert "interrupted" not in again.stderr
    assert len(rows(db, "SELECT 1 FROM cancel_events WHERE phase = 'done'")) == 1

    # the trail: log --json and export --format jsonl are the same records
    after = blotter(env, "log", "--json", "--order", KEY, "--since", "1h")
    assert after.returncode == 0 and after.stderr == ""
    records = json.loads(after.stdout)
    assert [(r["phase"], r["provenance"]) for r in records if r["kind"] == "cancel"] == [
        ("sending", "cli"), ("done", "reconciliation")]
    assert [r["action"] for r in records if r["kind"] == "response"] == ["get_order"]
    out = tmp_path / "trail.jsonl"
    export = blotter(env, "export", "--format", "jsonl", "--order", KEY, "--since", "1h", "-o", str(out))
    assert export.returncode == 0, export.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == records
    assert f"wrote {len(records)} record(s)" in export.stdout

    table = blotter(env, "log", "--connection", "as1")
    assert table.returncode == 0 and "AT" in table.stdout and "record(s), oldest first" in table.stdout
    assert "reconciliation" in table.stdout and "login" in table.stdout

    # nothing secret in any file Blotter wrote
    home = Path(env["BLOTTER_HOME"])
    for path in (p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        assert APP_KEY.encode() not in data and PASSWORD.encode() not in data, path
