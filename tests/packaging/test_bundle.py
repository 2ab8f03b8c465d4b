"""The PyInstaller bundle works on its own: it starts, renders the demo window, serves the simulators,
keeps secrets in a real Secret Service and talks to all three venues. Slow (a build takes ~1-2 min, and
the first one also creates .venv-build), so not part of `packaging/dev test` or CI:

    .venv/bin/python -m pytest -m slow tests/packaging/test_bundle.py              # builds into a temp dir
    BLOTTER_BUNDLE=dist/blotter .venv/bin/python -m pytest -m slow tests/packaging/test_bundle.py   # a built one
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from blotter.sim.demo import demo_connections, demo_scenario

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.blotter.Blotter"
SIZE_BUDGET_MB = 200  # measured 143 MB (2026-11); a jump means something big got dragged in


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("BLOTTER_BUNDLE")
    if given:
        path = Path(given).resolve()
        assert (path / "blotter").is_file(), f"BLOTTER_BUNDLE={given} has no 'blotter' executable"
        return path
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([str(ROOT / "packaging" / "build"), "--dist", str(dist)], capture_output=True,
                           text=True, timeout=1500, check=False)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    assert list(dist.glob("blotter-*-linux-*.tar.gz")), "no tarball written"
    return dist / "blotter"


def run(bundle: Path, *args: str, env: dict[str, str], stdin: str | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bundle / "blotter"), *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BLOTTER_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}


def test_version(bundle: Path, env: dict[str, str]) -> None:
    result = run(bundle, "--version", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"blotter {version('blotter')}"


def test_demo_screenshot(bundle: Path, env: dict[str, str], tmp_path: Path, qapp: object) -> None:
    from PySide6.QtGui import QImage

    out = tmp_path / "out.png"
    result = run(bundle, "--demo", "--screenshot", str(out), env=env, timeout=180)
    assert result.returncode == 0, result.stderr[-4000:]
    assert out.is_file()
    image = QImage(str(out))
    assert not image.isNull()
    assert 1200 <= image.width() <= 1400, image.size()
    assert 700 <= image.height() <= 900, image.size()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50, "the screenshot is (nearly) blank"


def test_contents(bundle: Path) -> None:
    internal = bundle / "_internal"
    files = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()]
    assert not [f for f in files if "libgtk-3" in f or "libgdk-3" in f], "GTK came in (the gtk3 theme plugin?)"
    assert not [f for f in files if "WebEngine" in f or "libQt6Quick" in f or "libQt6Pdf" in f]
    themes = sorted(p.name for p in (internal / "PySide6/Qt/plugins/platformthemes").iterdir())
    assert themes == ["libqxdgdesktopportal.so"]
    platforms = {p.name for p in (internal / "PySide6/Qt/plugins/platforms").iterdir()}
    assert {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"} <= platforms
    assert (internal / "PySide6/Qt/plugins/iconengines/libqsvgicon.so").is_file()
    assert (internal / "blotter/resources/blotter.svg").is_file()
    assert (internal / "blotter/resources/blotter-256.png").is_file()
    assert (internal / "blotter/sim/scenarios/example.json").is_file()
    assert (bundle / f"share/applications/{APP_ID}.desktop").is_file()
    assert (bundle / f"share/metainfo/{APP_ID}.metainfo.xml").is_file()
    assert (bundle / f"share/icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    assert os.access(bundle / "install-desktop", os.X_OK)
    assert not [p for p in bundle.rglob("*") if p.is_symlink() and not p.exists()], "dangling symlinks"
    size_mb = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    assert size_mb < SIZE_BUDGET_MB, f"the bundle grew to {size_mb:.0f} MB"


@pytest.fixture
def bundled_sims(bundle: Path, env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(demo_scenario(11)))
    proc = subprocess.Popen([str(bundle / "blotter"), "sim", "serve", "--scenario", str(scenario)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "sim serve printed nothing"
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_venues_and_secret_service_keyring(bundle: Path, env: dict[str, str], bundled_sims: dict[str, str],
                                           secret_service_env: dict[str, str]) -> None:
    """Secrets into gnome-keyring (keyring's SecretService backend over jeepney, inside the bundle), then
    accounts and orders from all three simulated venues (httpx, uvicorn, eth-account signing for tanX)."""
    env = {**env, **secret_service_env}
    flags = {"username": "--username", "cancel_mode": "--cancel-mode", "client_id": "--client-id",
             "user_id": "--user-id", "eth_address": "--eth-address", "api_version": "--api-version"}
    connections = demo_connections(demo_scenario(11), bundled_sims)
    for name, venue, options, secrets in connections:
        args = ["connections", "add", venue, name, "--base-url", bundled_sims[venue], "--secrets-stdin"]
        for option, value in options.items():
            args += [flags[option], value]
        added = run(bundle, *args, env=env, stdin=json.dumps(secrets))
        assert added.returncode == 0, added.stderr
        assert "OS keyring" in added.stdout
    accounts = run(bundle, "accounts", "--json", env=env)
    assert accounts.returncode == 0, accounts.stderr
    assert {a["connection"] for a in json.loads(accounts.stdout)} == {c[0] for c in connections}
    orders = run(bundle, "orders", "--json", env=env)
    assert orders.returncode == 0, orders.stderr
    assert {o["venue"] for o in json.loads(orders.stdout)} == {"autoshares", "snaptrade", "tanx"}
    for name, *_ in connections:
        assert run(bundle, "connections", "remove", name, env=env).returncode == 0
