"""Desktop integration: the .desktop entry and AppStream metainfo validate, the icons exist at every size
as real PNGs, the SVGs parse and render, the shipped copy equals resources/, and install-desktop works.

The validators come from Debian's desktop-file-utils and appstream (packaging/dev installs them for
`test`). Missing locally, their tests skip with the reason; under CI (env CI set) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from blotter.resources import (
    ACTION_ICONS,
    APP_ICON,
    APP_ICON_SIZES,
    STATUS_ICONS,
    app_icon_pngs,
    icon_path,
)

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
SHIPPED = ROOT / "gui" / "blotter" / "resources"
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.blotter.Blotter"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
SVG_NS = "{http://www.w3.org/2000/svg}"
ALL_SVGS = (APP_ICON, *ACTION_ICONS, *STATUS_ICONS)


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package {package}; packaging/dev test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60, env=env, check=False)


def desktop_entry(path: Path) -> dict[str, str]:
    """The [Desktop Entry] group as a dict (enough for our own, simple file)."""
    group, entries = "", {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            group = line.strip("[]")
        elif "=" in line and group == "Desktop Entry":
            key, value = line.split("=", 1)
            entries[key] = value
    return entries


def project_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


# ---------------------------------------------------------------------------------------- validators
def test_desktop_entry_validates() -> None:
    tool = require_tool("desktop-file-validate", "desktop-file-utils")
    result = run(tool, DESKTOP)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"\b(error|warning):", result.stdout + result.stderr), result.stdout + result.stderr


def test_metainfo_validates() -> None:
    tool = require_tool("appstreamcli", "appstream")
    result = run(tool, "validate", "--no-net", METAINFO)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------- consistency
def test_desktop_entry_metainfo_and_icons_share_one_id() -> None:
    entry = desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "blotter"  # the console script; install-desktop makes it absolute
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    launchable = root.find("launchable")
    assert launchable is not None
    assert launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == "blotter"


def test_metainfo_lists_this_version_as_the_newest_release() -> None:
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases, "no <release> in the metainfo"
    assert releases[0].get("version") == project_version(), "add a <release> for the new version (newest first)"


# ---------------------------------------------------------------------------------------- icons
def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR"
    assert length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("size", APP_ICON_SIZES)
def test_app_icon_png_at_every_size(size: int) -> None:
    for folder in (RESOURCES, SHIPPED):
        png = folder / f"blotter-{size}.png"
        assert png.is_file(), f"{png} is missing: run packaging/render-icons"
        assert png_size(png.read_bytes()) == (size, size)


def test_required_sizes_are_all_there() -> None:
    assert set(APP_ICON_SIZES) >= {16, 32, 48, 64, 128, 256, 512}


@pytest.mark.parametrize("name", ALL_SVGS)
def test_svg_parses(name: str) -> None:
    root = ET.parse(RESOURCES / name).getroot()
    assert root.tag == f"{SVG_NS}svg"
    x, y, w, h = (float(v) for v in root.get("viewBox", "").split())
    assert (x, y) == (0, 0)
    assert w == h > 0  # square, so no size distorts it
    assert root.findtext(f"{SVG_NS}title"), "every icon names itself (accessibility)"


@pytest.mark.parametrize("name", ALL_SVGS)
def test_svg_renders_with_qt(name: str, qapp: object) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(icon_path(name)))
    assert renderer.isValid()
    image = QImage(32, 32, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, 32, 32))
    painter.end()
    opaque = sum(image.pixelColor(x, y).alpha() > 200 for x in range(32) for y in range(32))
    assert opaque > 32 * 32 // 3, f"{name} renders (almost) empty"


def relative_luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("name", ACTION_ICONS + STATUS_ICONS)
def test_status_icons_read_on_light_and_dark(name: str) -> None:
    """The badge fill has >= 3:1 contrast (WCAG, graphics) against a light and a dark view, and its white glyph."""
    badge = next(e for e in ET.parse(RESOURCES / name).getroot().iter() if e.get("id") == "badge")
    fill = badge.get("fill", "")
    for background in ("#ffffff", "#161a1f", "#1e2227"):  # light base; ui.theme's dark base and window
        assert contrast(fill, background) >= 3.0, f"{name}: {fill} on {background}"
    assert contrast(fill, "#ffffff") >= 3.0


def test_shipped_icons_are_identical_to_resources() -> None:
    """resources/ is the source of truth; packaging/render-icons copies it into the package."""
    def icons(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".svg", ".png")}

    source, shipped = icons(RESOURCES), icons(SHIPPED)
    assert sorted(source) == sorted(shipped), "run packaging/render-icons"
    different = [name for name in source if source[name] != shipped[name]]
    assert not different, f"run packaging/render-icons: {different} differ"


def test_icon_path_finds_every_shipped_icon() -> None:
    for name in ALL_SVGS:
        assert icon_path(name).is_file()
    assert [p.name for p in app_icon_pngs()] == [f"blotter-{s}.png" for s in APP_ICON_SIZES]


@pytest.mark.parametrize("name", ["", ".", "..", "../cli.py", "sub/blotter.svg", "/etc/passwd"])
def test_icon_path_refuses_paths(name: str) -> None:
    with pytest.raises(ValueError, match="not an icon file name"):
        icon_path(name)


def test_icon_path_missing_icon() -> None:
    with pytest.raises(FileNotFoundError, match="no icon"):
        icon_path("no-such-icon.svg")


# ---------------------------------------------------------------------------------------- install-desktop
def test_install_desktop_into_a_user_data_dir(tmp_path: Path) -> None:
    bundle = tmp_path / "Blotter bundle"  # a space, to check the Exec quoting
    bundle.mkdir()
    exe = bundle / "blotter"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    assert run(LINUX / "stage", bundle).returncode == 0
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "BLOTTER_BIN_DIR": str(tmp_path / "bin")}

    result = run(bundle / "install-desktop", env=env)
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    installed = data / "applications" / DESKTOP.name
    entry = desktop_entry(installed)
    assert entry["Exec"] == f'"{exe}"'
    assert entry["TryExec"] == str(exe)
    assert (data / "metainfo" / METAINFO.name).is_file()
    assert (data / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg").read_bytes() == (RESOURCES / APP_ICON).read_bytes()
    for size in APP_ICON_SIZES:
        assert (data / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file()
    assert (tmp_path / "bin" / "blotter").resolve() == exe.resolve()
    if shutil.which("desktop-file-validate"):
        check = run("desktop-file-validate", installed)
        assert check.returncode == 0, check.stdout

    result = run(bundle / "install-desktop", "--uninstall", env=env)
    assert result.returncode == 0, result.stderr
    left = [p for p in data.rglob("*") if p.is_file() and p.name != "mimeinfo.cache"]
    assert left == []
    assert not (tmp_path / "bin" / "blotter").exists()
