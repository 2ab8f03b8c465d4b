"""The look and behaviour shared by the status pane's and the audit view's tables."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


def set_up_record_table(table: QTableView, widths: Iterable[int]) -> None:
    """Whole-row selection, read-only, compact rows, interactive columns at ``widths``, a context menu."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for i, width in enumerate(widths):
        header.resizeSection(i, width)
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
