"""Hostile or odd input to the CLI gives one clear line and the right exit status, never a traceback
(RELIABILITY-FINDINGS M6, M7, M10 and the LOW list)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import test_cli_keys
from test_cli_keys import APP_KEY, PASSWORD, blotter

env = test_cli_keys.env  # the fixtures: a profile with a real keyring, and an AutoShares simulator with a connection
venue = test_cli_keys.venue

BLOTTER = str(Path(sys.executable).with_name("blotter"))


def one_line(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("args", [
    ["log", "--since", "99999999999999w"], ["log", "--since", "1e400s"],
    ["log", "--limit", "99999999999999999999999"], ["log", "--limit", "-3"],
    ["cancel", "as/6303/1", "--wait", "nan", "--yes"], ["cancel", "as/6303/1", "--wait", "-5", "--yes"],
    ["cancel", "as/6303/1", "--wait", "inf", "--yes"],
])
def test_absurd_options_are_refused_in_one_line(tmp_path: Path, args: list[str]) -> None:
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([BLOTTER, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]  # argparse shows the usage above its one error line
    assert last.startswith("blotter") and ("error:" in last or last.startswith("blotter: ")), proc.stderr


def test_nested_secrets_on_stdin_are_refused_in_one_line(tmp_path: Path) -> None:
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([BLOTTER, "connections", "add", "tanx", "w", "--base-url", "http://127.0.0.1:1",
                           "--secrets-stdin"], input="[" * 100_000, capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert "expects one JSON object" in one_line(proc)


def test_a_keyring_backend_typo_is_one_line(tmp_path: Path) -> None:
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHON_KEYRING_BACKEND": "no.such.Backend"}
    proc = subprocess.run([BLOTTER, "connections", "add", "autoshares", "as", "--base-url", "http://127.0.0.1:1",
                           "--username", "u", "--secrets-stdin"], input=json.dumps({"app_key": "k", "password": "p"}),
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "keyring" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("secrets", "words"), [
    ({"private_key": "ab" * 31 + "a"}, "64 hex digits"),
    ({"private_key": "x" * 11_000_000}, "at most"),
    ({"private_key": "0x" + "ab" * 16 + " " + "ab" * 16}, "spaces"),
])
def test_bad_secrets_are_refused_at_add_without_echoing_them(tmp_path: Path, secrets: dict[str, str],
                                                            words: str) -> None:
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.run([BLOTTER, "connections", "add", "tanx", "w", "--base-url", "http://127.0.0.1:1",
                           "--secrets-stdin"], input=json.dumps(secrets), capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert words in proc.stderr
    assert secrets["private_key"][:20] not in proc.stderr


def test_a_ca_bundle_that_is_no_pem_is_refused_at_add(tmp_path: Path) -> None:
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.run([BLOTTER, "connections", "add", "autoshares", "as", "--base-url", "https://api.example",
                           "--username", "u", "--ca-bundle", "/etc/passwd", "--secrets-stdin"],
                          input=json.dumps({"app_key": "k", "password": "p"}), capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode != 0 and "not a PEM CA bundle" in proc.stderr and "Traceback" not in proc.stderr


def test_a_trailing_newline_in_a_pasted_secret_is_dropped(env: dict[str, str], venue: str) -> None:
    added = blotter(env, "connections", "add", "autoshares", "as2", "--base-url", venue, "--username", "keys",
                    "--force", "--secrets-stdin",
                    stdin=json.dumps({"app_key": APP_KEY + "\n", "password": PASSWORD + "\n"}))
    assert added.returncode == 0, added.stderr
    assert blotter(env, "accounts", "--connection", "as2").returncode == 0  # the stored secrets log in


def test_venue_text_cannot_drive_the_terminal(env: dict[str, str], venue: str) -> None:
    import httpx

    origin = venue.split("/api")[0]
    httpx.post(f"{origin}/_sim/faults", json={
        "method": "GET", "path": r"/accounts/6303/orders$", "action": "status", "status": 200, "times": 0,
        "body": {"Result": [{"Id": 5, "AccountId": 6303, "Symbol": "\x1b]0;PWNED\x07\x1b[2J\x1b[31mAAPL\x1b[0m\u202e",
                             "Side": "Buy", "Type": "Limit", "Quantity": 1, "Status": "New"}], "TotalCount": 1}},
        timeout=5)
    shown = blotter(env, "orders", "--connection", "as", "--account", "6303")
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout and "\u202e" not in shown.stdout
    assert "AAPL" in shown.stdout
    as_json = blotter(env, "orders", "--connection", "as", "--account", "6303", "--json")
    assert json.loads(as_json.stdout)[0]["symbol"].startswith("\x1b]0;PWNED")  # JSON keeps the exact text


def test_a_closed_pipe_ends_quietly(env: dict[str, str], venue: str) -> None:
    proc = subprocess.run(f"{BLOTTER} orders | head -1", shell=True, capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert proc.returncode == 0 and "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr


def test_without_a_log_file_commands_still_run(tmp_path: Path) -> None:
    """M8: the data dir cannot hold a log file (here: 'logs' is a file); the command runs, logging goes to
    stderr, once, and no 'Logging error' traceback appears."""
    (tmp_path / "data").mkdir(parents=True)
    (tmp_path / "data" / "logs").write_text("not a directory")
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([BLOTTER, "log"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr
    assert proc.stderr.count("warnings go to stderr") == 1
