"""`blotter --version` prints the version from the package metadata (the one pyproject.toml declares)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import blotter
from blotter.cli import main

ROOT = Path(__file__).resolve().parents[2]
BLOTTER = Path(sys.executable).with_name("blotter")


def test_package_version_is_the_metadata_version() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version("blotter") == declared, "the venv's install is stale: reinstall (packaging/dev does)"
    assert blotter.__version__ == declared


def test_version_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"blotter {version('blotter')}"


def test_console_script_prints_the_version() -> None:
    command = [str(BLOTTER)] if BLOTTER.exists() else [sys.executable, "-m", "blotter.cli"]
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"blotter {version('blotter')}"
