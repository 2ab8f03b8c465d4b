"""The CLI's cancel against an AutoShares simulator, end to end (the installed `blotter`, a real keyring):
an account the venue reports read-only is refused before any request (M2), and three spellings of one
order's key send one DELETE and print one result (H2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

BLOTTER = str(Path(sys.executable).with_name("blotter"))
APP_KEY = "keys-app-key-5b6c7d8e"
PASSWORD = "keys-password-9f0a1b2c"

SCENARIO: dict[str, Any] = {"autoshares": {
    "app_keys": [APP_KEY],
    "users": [{"user_id": 8, "username": "keys", "password": PASSWORD, "first_name": "K", "last_name": "Eys",
               "accounts": [6303, 6304]}],
    "accounts": [
        {"id": 6303, "clearing_account": "5KY06303", "access_type": "Full", "margin_type": "Cash",
         "owner_type": "IndividualCustomer", "alias": "trading", "currency": "USD", "enabled": True, "cash": 1000},
        {"id": 6304, "clearing_account": "5KY06304", "access_type": "ReadOnly", "margin_type": "Cash",
         "owner_type": "IndividualCustomer", "alias": "watch only", "currency": "USD", "enabled": True, "cash": 10},
    ],
    "orders": [
        {"id": 73517, "account_id": 6303, "symbol": "AAPL", "side": "Buy", "type": "Limit", "quantity": 10,
         "price": 190.5, "status": "New", "create_date": "2026-01-05T14:30:00Z"},
        {"id": 73601, "account_id": 6304, "symbol": "MSFT", "side": "Sell", "type": "Limit", "quantity": 5,
         "price": 431.1, "status": "New", "create_date": "2026-01-05T14:31:00Z"},
    ],
}}


@pytest.fixture
def env(real_keyring: None, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLOTTER_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def venue(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(SCENARIO))
    proc = subprocess.Popen([BLOTTER, "sim", "serve", "--scenario", str(scenario_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    try:
        url = json.loads(proc.stdout.readline())["autoshares"]
        added = blotter(env, "connections", "add", "autoshares", "as", "--base-url", url, "--username", "keys",
                        "--secrets-stdin", stdin=json.dumps({"app_key": APP_KEY, "password": PASSWORD}))
        assert added.returncode == 0, added.stderr
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def blotter(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BLOTTER, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def deletes(url: str) -> list[dict[str, Any]]:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    return [r for r in httpx.get(f"{origin}/_sim/requests", timeout=5).json() if r["method"] == "DELETE"]


def test_a_venue_read_only_account_is_refused_before_any_request(env: dict[str, str], venue: str) -> None:
    refused = blotter(env, "cancel", "as/6304/73601", "--yes", "--json")
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr
    assert "6304" in refused.stderr and "read-only" in refused.stderr, refused.stderr
    assert deletes(venue) == []


def test_three_spellings_of_one_order_send_one_delete(env: dict[str, str], venue: str) -> None:
    done = blotter(env, "cancel", "as/6303/73517", "as/6303/073517", "as/06303/73517", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [(r["key"], r["outcome"]) for r in results] == [("as/6303/73517", "cancelled")]
    assert [d["path"] for d in deletes(venue)] == ["/api/v1.0/accounts/6303/orders/73517"]


def test_a_read_only_key_beside_others_is_named_and_the_others_go(env: dict[str, str], venue: str) -> None:
    done = blotter(env, "cancel", "as/6304/73601", "as/6303/73517", "--yes", "--json")
    assert done.returncode == 1  # something was refused
    assert "as/6304/73601: not sent" in done.stderr and "read-only" in done.stderr
    assert [r["key"] for r in json.loads(done.stdout)] == ["as/6303/73517"]
    assert [d["path"] for d in deletes(venue)] == ["/api/v1.0/accounts/6303/orders/73517"]


def test_cancel_all_says_how_many_it_skipped_as_read_only(env: dict[str, str], venue: str) -> None:
    done = blotter(env, "cancel-all", "--connection", "as", "--yes", "--json")
    assert "1 order(s) skipped as read-only (as/6304)" in done.stderr
    assert [r["key"] for r in json.loads(done.stdout)] == ["as/6303/73517"]
    assert all("/6304/" not in d["path"] for d in deletes(venue))


def test_a_second_connection_to_the_same_login_needs_force(env: dict[str, str], venue: str) -> None:
    secrets = json.dumps({"app_key": APP_KEY, "password": PASSWORD})
    twin = blotter(env, "connections", "add", "autoshares", "as-twin", "--base-url", venue, "--username", "KEYS",
                   "--secrets-stdin", stdin=secrets)
    assert twin.returncode == 2 and "'as' already connects to the same AutoShares login" in twin.stderr
    assert "--force" in twin.stderr and "Traceback" not in twin.stderr
    assert "as-twin" not in blotter(env, "connections", "list").stdout
    forced = blotter(env, "connections", "add", "autoshares", "as-twin", "--base-url", venue, "--username",
                     "keys", "--force", "--secrets-stdin", stdin=secrets)
    assert forced.returncode == 0, forced.stderr
    assert "warning" in forced.stderr and "as-twin" in blotter(env, "connections", "list").stdout
