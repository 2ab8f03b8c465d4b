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


# ---------------------------------------------------------------------- settings fail closed (M3, M6, M7)
def _config(env: dict[str, str]) -> Path:
    return Path(env["BLOTTER_HOME"]) / "config" / "connections.toml"


@pytest.mark.parametrize("value", ['"true"', '"yes"', "1", '"false"'])
def test_app_read_only_that_is_not_a_boolean_refuses_the_cancel(env: dict[str, str], venue: str, value: str) -> None:
    path = _config(env)
    path.write_text(f"[app]\nread_only = {value}\n" + path.read_text())
    line = one_line(blotter(env, "cancel", "as/6303/73517", "--yes", "--json"))
    assert "[app] read_only must be true or false" in line and str(path) in line
    assert test_cli_keys.deletes(venue) == []


def test_connection_read_only_that_is_not_a_boolean_refuses(env: dict[str, str], venue: str) -> None:
    path = _config(env)
    path.write_text(path.read_text().replace("read_only = false", 'read_only = "false"'))
    line = one_line(blotter(env, "cancel", "as/6303/73517", "--yes"))
    assert "connection 'as'" in line and "read_only must be true or false" in line
    assert test_cli_keys.deletes(venue) == []


@pytest.mark.parametrize(("text", "words"), [
    ("connections = 5\n", "connections must be a table"),
    ("connections = 'abc'\n", "connections must be a table"),
    ("connections = [1, 2]\n", "connections must be a table"),
    ("[audit]\nretention_days = nan\n", "retention_days must be a number of days"),
    ("[audit]\nretention_days = 1e12\n", "retention_days must be a number of days"),
    ('[connections.as]\nvenue = "autoshares"\nbase_url = "http://127.0.0.1:1"\ntimeout_s = nan\n', "timeout_s"),
    ('[connections.as]\nvenue = "autoshares"\nbase_url = "http://127.0.0.1:1"\nrate_limit_per_s = 1e-300\n',
     "rate_limit_per_s"),
])
@pytest.mark.parametrize("command", [["log"], ["orders"], ["connections", "list"]])
def test_a_malformed_setting_is_one_line_exit_2(tmp_path: Path, text: str, words: str, command: list[str]) -> None:
    if command != ["log"] and "retention" in text:
        pytest.skip("only commands that open the audit trail read [audit]")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "connections.toml").write_text(text)
    env = {"BLOTTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    proc = subprocess.run([BLOTTER, *command], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert words in one_line(proc)


BACKEND = '''
import time
import keyring.backend

class Raising(keyring.backend.KeyringBackend):
    priority = 1
    def get_password(self, service, username):
        raise RuntimeError("org.freedesktop.DBus.Error.NoReply SUPER-SECRET-" + username)
    def set_password(self, service, username, password):
        raise RuntimeError("could not store " + password)
    def delete_password(self, service, username):
        raise RuntimeError("no reply")

class Bytes(keyring.backend.KeyringBackend):
    priority = 1
    def get_password(self, service, username):
        return b"\\xff\\xfe"
    def set_password(self, service, username, password):
        pass
    def delete_password(self, service, username):
        pass

class Slow(Bytes):
    def get_password(self, service, username):
        if username.endswith("/app_key"):
            time.sleep(5.6)
        return None
'''


def _odd_backend_env(tmp_path: Path, name: str) -> dict[str, str]:
    (tmp_path / "odd_backend.py").write_text(BACKEND)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "connections.toml").write_text(
        '[connections.as]\nvenue = "autoshares"\nbase_url = "http://127.0.0.1:1"\n'
        '[connections.as.options]\nusername = "u"\n')
    return {"BLOTTER_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path),
            "PYTHON_KEYRING_BACKEND": f"odd_backend.{name}"}


@pytest.mark.parametrize(("command", "code"), [
    (["orders"], 1),  # listing: that connection failed (the others would still be listed)
    (["cancel", "as/1/2", "--yes"], 2), (["connections", "remove", "as"], 2),
    (["connections", "add", "autoshares", "as2", "--base-url", "http://127.0.0.1:1", "--username", "u2",
      "--secrets-stdin"], 2),
])
def test_a_keyring_raising_anything_is_one_line(tmp_path: Path, command: list[str], code: int) -> None:
    env = _odd_backend_env(tmp_path, "Raising")
    proc = subprocess.run([BLOTTER, *command], input=json.dumps({"app_key": "SUPER-SECRET-K", "password": "p"}),
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    line = one_line(proc, code)
    assert "RuntimeError" in line and "SUPER-SECRET" not in proc.stderr + proc.stdout


def test_a_keyring_answering_bytes_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([BLOTTER, "orders"], capture_output=True, text=True,
                          env=_odd_backend_env(tmp_path, "Bytes"), timeout=60, check=False)
    assert "not text" in one_line(proc, 1)  # listing: that connection failed


def test_a_slow_keyring_names_the_field_it_waits_for(tmp_path: Path) -> None:
    proc = subprocess.run([BLOTTER, "orders"], capture_output=True, text=True,
                          env=_odd_backend_env(tmp_path, "Slow"), timeout=60, check=False)
    assert "Traceback" not in proc.stderr
    assert "still waiting for the keyring to read app_key of connection 'as'" in proc.stderr.splitlines()[0]


# ---------------------------------------------------------------------- the window on a broken config
@pytest.mark.parametrize("text", ["connections = 5\n", "[app]\nread_only = 'yes'\n", "[audit]\nretention_days = nan\n"])
def test_the_window_opens_on_a_broken_config(tmp_path: Path, text: str) -> None:
    import os
    import signal
    import time

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "connections.toml").write_text(text)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "BLOTTER_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "TMPDIR": str(tmp_path / "tmp"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    window = subprocess.Popen([BLOTTER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = home / "data" / "window.lock"
        deadline = time.monotonic() + 60
        while not lock.exists() and window.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        assert window.poll() is None, window.communicate()  # still open, not exited at start-up
        window.send_signal(signal.SIGTERM)
        _out, err = window.communicate(timeout=30)
    finally:
        if window.poll() is None:
            window.kill()
            window.communicate()
    assert window.returncode == 0 and "Traceback" not in err, err


def test_the_window_shows_config_problems_and_fails_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from blotter.ui.app import load_saved_connections

    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    config = tmp_path / "config" / "connections.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[app]\nread_only = 'yes'\n[connections.tx]\nvenue = 'tanx'\nbase_url = 'https://api.tanx.fi'\n")
    specs, _store, _notes, store, problems = asyncio.run(load_saved_connections())
    assert [s.name for s in specs] == ["tx"] and store is not None and store.read_only is True
    assert len(problems) == 1 and "[app] read_only must be true or false" in problems[0]
    config.write_text("connections = 5\n")
    specs, _store, _notes, store, problems = asyncio.run(load_saved_connections())
    assert specs == [] and store is None and "connections must be a table" in problems[0]
