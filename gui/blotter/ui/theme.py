"""Colours that stay readable on light and dark palettes, the app font, and palette helpers.

Each colour role has a light-palette and a dark-palette variant; ``is_dark`` decides from the palette's
base colour, so a system dark theme (or ``--style`` / ``QT_QPA_PLATFORMTHEME``) picks the right set.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

APP_FONT_FAMILY = "DejaVu Sans"
APP_FONT_POINT_SIZE = 9


class Tone(StrEnum):
    """What a coloured cell means (colour role of a column or a status-pane row)."""

    BUY = "buy"
    SELL = "sell"
    OPEN = "open"
    PARTIAL = "partial"
    CANCELLING = "cancelling"  # our request is on the wire / being reconciled
    PENDING = "pending"  # the venue accepted the cancel; not yet cancelled
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    TOO_LATE = "too_late"
    FAILED = "failed"
    UNKNOWN = "unknown"
    OK = "ok"
    ERROR = "error"
    MUTED = "muted"


# (foreground on light, foreground on dark)
_FOREGROUND: dict[Tone, tuple[str, str]] = {
    Tone.BUY: ("#0a6b2d", "#6fdc8c"),
    Tone.SELL: ("#b3261e", "#ff8a80"),
    Tone.OPEN: ("#1f2328", "#e6edf3"),
    Tone.PARTIAL: ("#0b5cad", "#79c0ff"),
    Tone.CANCELLING: ("#7a4d00", "#ffd166"),
    Tone.PENDING: ("#5b2a86", "#d2a8ff"),
    Tone.CANCELLED: ("#57606a", "#a6b0bb"),
    Tone.REJECTED: ("#9a3412", "#ffab70"),
    Tone.TOO_LATE: ("#9a3412", "#ffab70"),
    Tone.FAILED: ("#b3261e", "#ff8a80"),
    Tone.UNKNOWN: ("#7a4d00", "#ffd166"),
    Tone.OK: ("#0a6b2d", "#6fdc8c"),
    Tone.ERROR: ("#b3261e", "#ff8a80"),
    Tone.MUTED: ("#57606a", "#8b949e"),
}

# Background tints for lifecycle cells (None = the view's own background).
_BACKGROUND: dict[Tone, tuple[str, str]] = {
    Tone.CANCELLING: ("#fff3c4", "#4a3b00"),
    Tone.PENDING: ("#efe2fb", "#3b2350"),
    Tone.REJECTED: ("#ffe4d1", "#4d2410"),
    Tone.TOO_LATE: ("#ffe4d1", "#4d2410"),
    Tone.FAILED: ("#ffdcd8", "#4f1a17"),
    Tone.UNKNOWN: ("#fff3c4", "#4a3b00"),
    Tone.CANCELLED: ("#e8ebef", "#2d333b"),
}


# The one mapping from a cancel's lifecycle word (CancelOutcome values, the grid's marks, the status pane's
# kinds, the audit trail's outcomes) to its tone: a word means the same colour everywhere.
LIFECYCLE_TONES: dict[str, Tone] = {
    "cancelling": Tone.CANCELLING,
    "in_flight": Tone.CANCELLING,
    "pending": Tone.PENDING,
    "cancelled": Tone.OK,  # confirmed by the venue: the good news
    "rejected": Tone.REJECTED,
    "too_late": Tone.TOO_LATE,
    "failed": Tone.FAILED,
    "unknown": Tone.UNKNOWN,
    "ok": Tone.MUTED,  # a plain venue answer
    "error": Tone.ERROR,
}


def lifecycle_tone(word: str) -> Tone:
    return LIFECYCLE_TONES.get(word, Tone.MUTED)


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette if palette is not None else QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Base).lightness() < 128


class Colours:
    """QColor cache for one palette flavour; ask ``Colours.current()`` at paint time.

    ``current()`` is called for every painted cell, so the light/dark decision is cached and redone
    only when the application palette changes (``QGuiApplication.paletteChanged``).
    """

    _cache: ClassVar[dict[bool, Colours]] = {}
    _current: ClassVar[Colours | None] = None
    _watching: ClassVar[bool] = False

    def __init__(self, dark: bool) -> None:
        idx = 1 if dark else 0
        self.dark = dark
        self.foreground = {tone: QColor(pair[idx]) for tone, pair in _FOREGROUND.items()}
        self.background = {tone: QColor(pair[idx]) for tone, pair in _BACKGROUND.items()}

    @classmethod
    def current(cls) -> Colours:
        colours = cls._current
        if colours is not None:
            return colours
        dark = is_dark()
        colours = cls._cache.get(dark)
        if colours is None:
            colours = cls._cache[dark] = Colours(dark)
        if not cls._watching:
            app = QGuiApplication.instance()
            if isinstance(app, QGuiApplication):
                app.paletteChanged.connect(lambda _palette: cls.invalidate())
                cls._watching = True
        if cls._watching:
            cls._current = colours
        return colours

    @classmethod
    def invalidate(cls) -> None:
        cls._current = None


def app_font() -> QFont:
    font = QFont(APP_FONT_FAMILY)
    font.setPointSize(APP_FONT_POINT_SIZE)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    return font


def dark_palette() -> QPalette:
    """A plain dark palette (for ``--dark`` and the palette tests)."""
    pal = QPalette()
    window, base, text = QColor("#1e2227"), QColor("#161a1f"), QColor("#e6edf3")
    pal.setColor(QPalette.ColorRole.Window, window)
    pal.setColor(QPalette.ColorRole.WindowText, text)
    pal.setColor(QPalette.ColorRole.Base, base)
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#1c2128"))
    pal.setColor(QPalette.ColorRole.Text, text)
    pal.setColor(QPalette.ColorRole.Button, window)
    pal.setColor(QPalette.ColorRole.ButtonText, text)
    pal.setColor(QPalette.ColorRole.Highlight, QColor("#2f6feb"))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, base)
    pal.setColor(QPalette.ColorRole.ToolTipText, text)
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8b949e"))
    disabled = QColor("#6e7681")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText, QPalette.ColorRole.Text):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return pal
