"""Where Blotter keeps its files. ``BLOTTER_HOME`` relocates everything (config, data, logs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "blotter"


def _home() -> Path | None:
    value = os.environ.get("BLOTTER_HOME", "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP))


def log_dir() -> Path:
    return data_dir() / "logs"


def config_file() -> Path:
    return config_dir() / "connections.toml"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and every missing parent as 0700 (``mkdir(parents=True, mode=...)`` would give the
    parents the umask's mode, e.g. ``BLOTTER_HOME/data`` 0755). Directories that already exist are left
    as they are."""
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another process made it meanwhile
        os.chmod(directory, 0o700)  # the umask may have taken bits away (never added any)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)  # raises the clear error (a file in the way)
    return path
