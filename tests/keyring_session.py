"""A private D-Bus session with an unlocked gnome-keyring: a real Secret Service for tests.

Started once per test session (about half a second); environment variables point keyring at it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SecretServiceUnavailable(RuntimeError):
    pass


@contextmanager
def secret_service(home: Path) -> Iterator[dict[str, str]]:
    """Yields the environment (DBUS_SESSION_BUS_ADDRESS, ...) of a running, unlocked Secret Service."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "dbus-send"):
        if not shutil.which(tool):
            raise SecretServiceUnavailable(f"{tool} is not installed (Debian packages dbus, gnome-keyring)")
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_RUNTIME_DIR": str(home / "run")}
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, env=env, text=True)
    assert bus.stdout is not None
    address = bus.stdout.readline().strip()
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(b"blotter-test-unlock")
    daemon.stdin.close()
    try:
        deadline = time.monotonic() + 15
        while True:
            probe = subprocess.run(
                ["dbus-send", "--session", "--dest=org.freedesktop.DBus", "--print-reply",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"],
                env=env, capture_output=True, text=True, check=False,
            )
            if "boolean true" in probe.stdout:
                break
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise SecretServiceUnavailable("gnome-keyring-daemon did not take the Secret Service name")
            time.sleep(0.05)
        yield {"DBUS_SESSION_BUS_ADDRESS": address,
               "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    finally:
        for proc in (daemon, bus):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
