"""The support CLI end to end: `blotter sim serve` in a subprocess, the installed `blotter` script,
a real Secret Service for the secrets, JSON output checked against what the scenario says must happen."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blotter.sim.demo import demo_connections, demo_scenario

BLOTTER = str(Path(sys.executable).with_name("blotter"))
SEED = 11
ID_FIELD = {"autoshares": "id", "snaptrade": "brokerage_order_id", "tanx": "id"}


@pytest.fixture
def env(real_keyring: None, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLOTTER_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def sim_serve(env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(demo_scenario(SEED)))
    proc = subprocess.Popen([BLOTTER, "sim", "serve", "--scenario", str(scenario_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def blotter(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BLOTTER, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def one_clear_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def expected_outcome(spec: dict[str, Any] | None) -> set[str]:
    mode = (spec or {}).get("mode", "accept")
    if mode == "accept":
        return {"cancelled"}
    if mode in ("fill", "reject"):
        return {"rejected"}
    if mode == "never":
        return {"pending"}
    return {"cancelled", "failed", "unknown", "pending"}


def test_support_flow_end_to_end(env: dict[str, str], sim_serve: dict[str, str]) -> None:
    scenario = demo_scenario(SEED)
    conns = demo_connections(scenario, sim_serve)
    assert {venue for _, venue, _, _ in conns} == {"autoshares", "snaptrade", "tanx"}
    secrets = [v for _, _, _, s in conns for v in s.values()]
    outputs: list[str] = []

    # -- one connection per venue, secrets through stdin into the keyring
    flags = {"username": "--username", "cancel_mode": "--cancel-mode", "client_id": "--client-id",
             "user_id": "--user-id", "eth_address": "--eth-address", "api_version": "--api-version"}
    for name, venue, options, secret in conns:
        args = ["connections", "add", venue, name, "--base-url", sim_serve[venue], "--secrets-stdin"]
        for option, value in options.items():
            args += [flags[option], value]
        done = blotter(env, *args, stdin=json.dumps(secret))
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == 0, done.stderr
        assert "stored in the OS keyring" in done.stdout
    listed = json.loads(blotter(env, "connections", "list", "--json").stdout)
    assert sorted(c["name"] for c in listed) == sorted(n for n, *_ in conns)

    # -- accounts and orders
    accounts = blotter(env, "accounts", "--json")
    outputs.append(accounts.stdout + accounts.stderr)
    assert accounts.returncode == 0, accounts.stderr
    assert {a["connection"] for a in json.loads(accounts.stdout)} == {n for n, *_ in conns}
    orders_proc = blotter(env, "orders", "--json")
    outputs.append(orders_proc.stdout + orders_proc.stderr)
    assert orders_proc.returncode == 0, orders_proc.stderr
    orders = json.loads(orders_proc.stdout)
    assert len(orders) > 200
    required = {"connection", "venue", "account", "order_id", "symbol", "side", "type", "quantity", "filled",
                "remaining", "limit_price", "stop_price", "status", "venue_status", "created_at"}
    assert all(required <= set(o) for o in orders)
    table = blotter(env, "orders", "--connection", conns[0][0])
    assert table.returncode == 0 and "VENUE_STATUS" in table.stdout and "open order(s)" in table.stdout

    # -- cancel one plain order per venue
    specs = {venue: {str(o[ID_FIELD[venue]]): o.get("cancel") for o in scenario[venue]["orders"]}
             for venue in ID_FIELD}
    picks = []
    for venue in ID_FIELD:
        pick = next(o for o in orders if o["venue"] == venue and not specs[venue][o["order_id"]])
        picks.append(pick["key"])
    cancel = blotter(env, "cancel", *picks, "--yes", "--json", "--wait", "10")
    outputs.append(cancel.stdout + cancel.stderr)
    results = json.loads(cancel.stdout)
    assert cancel.returncode == 0, (cancel.stdout, cancel.stderr)
    assert [r["key"] for r in results] == picks
    assert all(r["outcome"] == "cancelled" and r["final_status"] == "cancelled" for r in results)
    assert {"key", "outcome", "http_status", "message", "latency_ms"} <= set(results[0])
    tanx_result = next(r for r in results if r["key"].startswith("tanx"))
    assert tanx_result["message"] == "Order is successfully queued for cancellation"

    # -- cancel-all on one account: every order gets exactly one line, as the venue decides
    as_name = next(n for n, v, *_ in conns if v == "autoshares")
    account = next(a["account"] for a in json.loads(accounts.stdout)
                   if a["connection"] == as_name and not a["read_only"] and a["account"] != "6303")
    in_account = [o for o in orders if o["connection"] == as_name and o["account"] == account]
    call = blotter(env, "cancel-all", "--connection", as_name, "--account", account, "--yes", "--json",
                   "--wait", "6")
    outputs.append(call.stdout + call.stderr)
    results = json.loads(call.stdout)
    assert sorted(r["key"] for r in results) == sorted(o["key"] for o in in_account)
    for r in results:
        assert r["outcome"] in expected_outcome(specs["autoshares"][r["key"].split("/")[2]]), r
    all_good = all(r["outcome"] in ("cancelled", "pending") for r in results)
    assert call.returncode == (0 if all_good else 1)
    left = json.loads(blotter(env, "orders", "--connection", as_name, "--account", account, "--json").stdout)
    assert {o["key"] for o in left} == {r["key"] for r in results if r["outcome"] != "cancelled"}

    # -- no secret anywhere: config, logs, outputs
    home = Path(env["BLOTTER_HOME"])
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "connections.toml" for p in files) and any(p.suffix == ".log" for p in files)
    haystack = "\n".join(outputs) + "\n".join(p.read_text(errors="replace") for p in files)
    for secret in secrets:
        assert secret not in haystack

    # -- removing a connection removes its keyring entries
    removed = blotter(env, "connections", "remove", as_name)
    assert removed.returncode == 0
    import keyring

    assert keyring.get_password("blotter", f"{as_name}/password") is None


def test_one_clear_line_for_every_expected_failure(env: dict[str, str], sim_serve: dict[str, str]) -> None:
    line = one_clear_line(blotter(env, "orders", "--connection", "nope"))
    assert line.startswith("blotter: ") and "connection" in line
    line = one_clear_line(blotter(env, "connections", "add", "tanx", "w", "--base-url", "http://api.tanx.fi",
                                  "--secrets-stdin", stdin='{"private_key": "0x' + "11" * 32 + '"}'))
    assert "https is required" in line
    line = one_clear_line(blotter(env, "connections", "add", "tanx", "w", "--base-url", "not a url",
                                  "--secrets-stdin", stdin="{}"))
    assert "malformed base URL" in line
    line = one_clear_line(blotter(env, "connections", "add", "autoshares", "a", "--base-url",
                                  sim_serve["autoshares"], "--username", "x", "--secrets-stdin",
                                  stdin='{"app_key": "k-123456"}'))
    assert "missing secret" in line and "password" in line
    line = one_clear_line(blotter(env, "cancel", "garbage-key", "--yes"))
    assert "not an order key" in line

    # bad credentials: the venue's own words
    add = blotter(env, "connections", "add", "autoshares", "badpw", "--base-url", sim_serve["autoshares"],
                  "--username", "demo.trader", "--secrets-stdin",
                  stdin=json.dumps({"app_key": "wrong-app-key-0000", "password": "wrong-password-0000"}))
    assert add.returncode == 0, add.stderr
    line = one_clear_line(blotter(env, "accounts", "--connection", "badpw"))
    assert "Application key is not defined or does not exist" in line

    # unreachable venue
    blotter(env, "connections", "add", "tanx", "gone", "--base-url", "http://127.0.0.1:9",
            "--secrets-stdin", stdin=json.dumps({"private_key": "0x" + "22" * 32}))
    line = one_clear_line(blotter(env, "orders", "--connection", "gone"))
    assert "unreachable" in line

    # a secret missing from the keyring
    import keyring

    keyring.delete_password("blotter", "badpw/password")
    line = one_clear_line(blotter(env, "orders", "--connection", "badpw"))
    assert "no password stored" in line

    # no usable keyring
    no_keyring = {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    line = one_clear_line(blotter(no_keyring, "connections", "add", "tanx", "w2", "--base-url",
                                  "http://127.0.0.1:9", "--secrets-stdin",
                                  stdin=json.dumps({"private_key": "0x" + "33" * 32})))
    assert "no usable keyring" in line
    assert "w2" not in json.dumps(json.loads(blotter(env, "connections", "list", "--json").stdout))

    # read-only mode refuses before sending anything
    line = one_clear_line(blotter(env, "--read-only", "cancel", "badpw/1/2", "--yes"))
    assert "read-only" in line
