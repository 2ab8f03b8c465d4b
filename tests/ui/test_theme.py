"""Colour roles stay readable on light and dark palettes (WCAG contrast), and follow the palette."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from blotter.core import Side
from blotter.ui.models.columns import CancelMark, MarkKind, column_index
from blotter.ui.models.orders import OrdersTableModel
from blotter.ui.theme import _BACKGROUND, _FOREGROUND, Colours, Tone, dark_palette, is_dark
from conftest import make_order


def luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("dark", [False, True])
def test_every_tone_is_readable(dark: bool) -> None:
    base = QColor("#161a1f") if dark else QColor("#ffffff")
    alternate = QColor("#1c2128") if dark else QColor("#f7f7f7")
    idx = 1 if dark else 0
    for tone, pair in _FOREGROUND.items():
        fg = QColor(pair[idx])
        assert contrast(fg, base) >= 4.5, (tone, dark)
        assert contrast(fg, alternate) >= 4.5, (tone, dark)
        if tone in _BACKGROUND:
            assert contrast(fg, QColor(_BACKGROUND[tone][idx])) >= 4.5, (tone, dark)


def test_model_colours_follow_the_palette(qapp: Any) -> None:
    model = OrdersTableModel(coalesce_ms=0)
    buy, sell = make_order(side=Side.BUY), make_order(side=Side.SELL)
    model.apply([buy, sell])
    model.mark(sell.key, CancelMark(MarkKind.PENDING))
    model.flush()
    side, state = column_index("side"), column_index("state")
    from PySide6.QtCore import Qt

    def colours() -> tuple[Any, Any, Any]:
        return (model.data(model.index(model.row_of(buy.key), side), Qt.ItemDataRole.ForegroundRole),
                model.data(model.index(model.row_of(sell.key), side), Qt.ItemDataRole.ForegroundRole),
                model.data(model.index(model.row_of(sell.key), state), Qt.ItemDataRole.BackgroundRole))

    light = colours()
    assert light[0] != light[1]
    original = QGuiApplication.palette()
    try:
        QGuiApplication.setPalette(dark_palette())
        assert is_dark()
        dark = colours()
        assert dark != light
        assert dark[0] == Colours.current().foreground[Tone.BUY]
    finally:
        QGuiApplication.setPalette(original)
    assert not is_dark(QPalette(QColor("#ffffff")))
