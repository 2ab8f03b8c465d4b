"""The icons Blotter ships, as file paths (no Qt here: ``ui`` wraps them, e.g. ``QIcon(str(icon_path(...)))``).

The files in this folder are a copy of the top-level ``resources/`` (the source of truth), made by
``packaging/render-icons``; a test keeps the two identical. They are package data, so they are
present in an installed wheel and in the PyInstaller bundle alike.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

APP_ICON = "blotter.svg"
"""The application icon (SVG; Qt renders it through its svg icon engine)."""

APP_ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
"""The sizes of the rendered application icon, ``blotter-<size>.png``."""

ACTION_ICONS = ("cancel.svg", "kill-switch.svg", "refresh.svg")
STATUS_ICONS = ("pending.svg", "cancelled.svg", "rejected.svg", "unknown.svg")


def icon_path(name: str) -> Path:
    """The path of the shipped icon ``name`` (a bare file name such as ``"cancel.svg"``).

    Raises ``ValueError`` for anything that is not a bare file name, ``FileNotFoundError`` when no
    such icon ships.
    """
    if not name or name != Path(name).name or name in (".", ".."):
        raise ValueError(f"not an icon file name: {name!r}")
    resource = files(__name__).joinpath(name)
    # Installed from a wheel, in a source tree and in a PyInstaller bundle the package is a real folder.
    path = resource if isinstance(resource, Path) else Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"no icon {name!r} in {path.parent}")
    return path


def app_icon_pngs() -> list[Path]:
    """The rendered application icon at every size, smallest first (for a multi-size ``QIcon``)."""
    return [icon_path(f"blotter-{size}.png") for size in APP_ICON_SIZES]
