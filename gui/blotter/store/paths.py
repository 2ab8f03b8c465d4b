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
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
