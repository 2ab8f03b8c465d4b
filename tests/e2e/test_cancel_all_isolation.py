"""H5 end to end: `blotter cancel-all --json` (the installed script, a real keyring) over an AutoShares connection
where one account's page carries an order Blotter cannot read and another account cannot be listed at all:
every other order is cancelled at the venue, the command exits 1, and it names the account and the order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BLOTTER = str(Path(sys.executable).with_name("blotter"))
APP_KEY = "iso-e2e-app-key-0c1d2e3f"
PASSWORD = "iso-e2e-password-4a5b6c7d"
HEALTHY, POISONED, FAILING = 6303, 6304, 6305
ORDERS = {HEALTHY: [101, 102, 103, 104], POISONED: [201, 202], FAILING: [301, 302]}


def _account(n: int, alias: str) -> dict[str, Any]:
    return {"id": n, "clearing_account": f"5EE0{n}", "access_type": "Full", "margin_type": "Cash",
            "owner_type": "IndividualCustomer", "alias": alias, "currency": "USD", "enabled": True, "cash": 1000}


SCENARIO: dict[str, Any] = {"autoshares": {
    "app_keys": [APP_KEY],
    "users": [{"user_id": 5, "username": "e2e", "password": PASSWORD, "first_name": "E", "last_name": "Ee",
               "accounts": list(ORDERS)}],
    "accounts": [_account(HEALTHY, "Active trading"), _account(POISONED, "Hedges"), _account(FAILING, "Income")],
    "orders": [{"id": n, "account_id": account, "symbol": "AAPL", "side": "Buy", "type": "Limit", "quantity": 10,
                "price": 190.5, "status": "New", "create_date": "2026-01-05T14:30:00Z"}
               for account, ns in ORDERS.items() for n in ns],
}}


@pytest.fixture
def env(real_keyring: None, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLOTTER_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


def blotter(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BLOTTER, *args], input=stdin, capture_output=True, text=True, env=env, timeout=90,
                          check=False)


def test_cancel_all_cancels_every_readable_order_and_names_the_account_and_order_it_could_not_read(
        env: dict[str, str], serve: Any) -> None:
    sims, urls = serve(SCENARIO)
    sim = sims["autoshares"]
    secrets = json.dumps({"app_key": APP_KEY, "password": PASSWORD})
    added = blotter(env, "connections", "add", "autoshares", "as", "--base-url", urls["autoshares"],
                    "--username", "e2e", "--secrets-stdin", stdin=secrets)
    assert added.returncode == 0, added.stderr
    page = [sim.order(n) for n in ORDERS[POISONED]] + [{**sim.order(201), "Id": 9, "Quantity": "NaN"}]
    sim.add_fault({"method": "GET", "path": rf"/accounts/{POISONED}/orders$", "query": "filter=Status",
                   "action": "status", "status": 200, "body": {"Result": page, "TotalCount": len(page)}, "times": 0})
    sim.add_fault({"method": "GET", "path": rf"/accounts/{FAILING}/orders$", "action": "status", "status": 503,
                   "body": {"Message": "The service is unavailable."}, "times": 0})

    call = blotter(env, "cancel-all", "--connection", "as", "--yes", "--json", "--wait", "6")

    assert call.returncode == 1, (call.stdout, call.stderr)
    assert "Traceback" not in call.stderr
    lines = json.loads(call.stdout)
    readable = sorted(ORDERS[HEALTHY] + ORDERS[POISONED])
    results = [r for r in lines if r["outcome"] != "not_read"]
    assert sorted(int(r["key"].rsplit("/", 1)[1]) for r in results) == readable
    assert all(r["outcome"] == "cancelled" for r in results), results
    # the simulator's own state: every readable order cancelled (one DELETE each), the failing account untouched
    assert all(sim.order_status(n) == "Canceled" for n in readable)
    assert all(sim.order_status(n) == "New" for n in ORDERS[FAILING])
    assert sorted(int(r.path.rsplit("/", 1)[1]) for r in sim.requests_matching("DELETE")) == readable
    # what it could not read: named in the JSON and on stderr
    not_read = {r["key"]: r for r in lines if r["outcome"] == "not_read"}
    assert set(not_read) == {f"as/{FAILING}", f"as/{POISONED}/9"}
    assert not_read[f"as/{FAILING}"]["message"] == "The service is unavailable."
    assert not_read[f"as/{FAILING}"]["http_status"] == 503
    assert "nothing was cancelled there" in not_read[f"as/{FAILING}"]["detail"]
    assert "finite" in not_read[f"as/{POISONED}/9"]["message"]
    assert "not cancelled" in not_read[f"as/{POISONED}/9"]["detail"]
    err = call.stderr.strip().splitlines()
    assert any(line.startswith(f"blotter: as/{FAILING}: ") and "Income" in line and "unavailable" in line
               for line in err), err
    assert any(line.startswith(f"blotter: as/{POISONED}/9: ") and "NaN" in line for line in err), err

    # `orders` names the account it could not list the same way, and exits 1
    sim.clear_faults()
    sim.add_fault({"method": "GET", "path": rf"/accounts/{FAILING}/orders$", "action": "status", "status": 503,
                   "body": {"Message": "The service is unavailable."}, "times": 0})
    orders = blotter(env, "orders", "--connection", "as", "--json")
    assert orders.returncode == 1 and json.loads(orders.stdout) == []
    assert f"blotter: as/{FAILING}: could not list the open orders of account {FAILING} (Income)" in orders.stderr
