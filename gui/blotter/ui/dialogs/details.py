"""Read-only detail windows: an order (normalised fields + the venue's raw JSON) and a status-pane row
(the redacted request and the venue's raw answer)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core import Order
from ..models.columns import CancelMark, OrderRow, state_label
from ..models.status import StatusEntry


def pretty_json(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _mono(text: str, name: str) -> QPlainTextEdit:
    edit = QPlainTextEdit(text)
    edit.setObjectName(name)
    edit.setReadOnly(True)
    edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    return edit


def _form(values: Mapping[str, Any]) -> QWidget:
    box = QWidget()
    form = QFormLayout(box)
    for name, value in values.items():
        label = QLabel("" if value is None else str(value))
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setWordWrap(True)
        label.setObjectName(f"field_{name}")
        form.addRow(f"{name.replace('_', ' ')}:", label)
    return box


class _DetailDialog(QDialog):
    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(720, 560)
        self.body = QVBoxLayout(self)

    def _finish(self, copy_text: str | Callable[[], str]) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy")
        text = copy_text if callable(copy_text) else lambda: copy_text
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(text()))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.body.addWidget(buttons)


class OrderDetailDialog(_DetailDialog):
    """All normalised fields of an order, what Blotter knows about its cancel, and the venue's raw JSON.

    A listed order carries no raw JSON (100,000 of them would hold ~370 MB of it): the window asks the venue
    for the order when the dialog opens and hands the answer to ``show_raw`` (or ``show_raw_error``).
    """

    def __init__(self, order: Order, mark: CancelMark | None, parent: QWidget | None = None) -> None:
        super().__init__(f"Order {order.key}", parent)
        self.setObjectName("orderDetailDialog")
        fields = dict(order.as_dict())
        fields["state"] = state_label(OrderRow(order, mark))
        fields["venue_side"] = order.venue_side
        fields["venue_type"] = order.venue_type
        fields["updated_at"] = order.updated_at.isoformat() if order.updated_at else None
        if order.cancel_reason:
            fields["cancel_reason"] = order.cancel_reason
        if mark is not None:
            fields["venue_said"] = mark.message
            if mark.detail:
                fields["detail"] = mark.detail
        split = QSplitter(Qt.Orientation.Vertical)
        form = QScrollArea()  # the fields scroll, so the venue's JSON gets room too
        form.setWidget(_form(fields))
        form.setWidgetResizable(True)
        form.setFrameShape(QFrame.Shape.NoFrame)
        split.addWidget(form)
        self.raw_json: dict[str, Any] = dict(order.raw)
        self.raw_note = QLabel("" if order.raw else "Asking the venue for this order…")
        self.raw_note.setObjectName("rawNote")
        self.raw_note.setWordWrap(True)
        self.raw = _mono(pretty_json(self.raw_json) if order.raw else "", "rawJson")
        raw_box = QWidget()
        raw_layout = QVBoxLayout(raw_box)
        raw_layout.setContentsMargins(0, 0, 0, 0)
        raw_layout.addWidget(self.raw_note)
        raw_layout.addWidget(self.raw)
        split.addWidget(raw_box)
        split.setSizes([240, 320])
        self.body.addWidget(split)
        self._finish(lambda: json.dumps({"order": fields, "raw": self.raw_json}, indent=2, default=str))

    def show_raw(self, raw: Mapping[str, Any], note: str) -> None:
        """The venue's answer for this order, read just now (``note`` says when)."""
        self.raw_json = dict(raw)
        self.raw.setPlainText(pretty_json(self.raw_json))
        self.raw_note.setText(note)

    def show_raw_error(self, message: str) -> None:
        self.raw_note.setText(f"The venue's answer for this order could not be read: {message}")


class StatusDetailDialog(_DetailDialog):
    """One status-pane row: its fields and every venue answer behind it (redacted request + body)."""

    def __init__(self, entry: StatusEntry, parent: QWidget | None = None) -> None:
        super().__init__(f"{entry.action} {entry.connection} {entry.order_id}".strip(), parent)
        self.setObjectName("statusDetailDialog")
        fields = {
            "time": entry.at.astimezone().isoformat(timespec="milliseconds"),
            "connection": entry.connection, "venue": entry.venue, "account": entry.account,
            "order": entry.order_id, "action": entry.action, "http_status": entry.http_status,
            "outcome": entry.outcome, "venue_message": entry.message, "detail": entry.detail,
            "latency": None if entry.latency_ms is None else f"{entry.latency_ms:.0f} ms",
            "provenance": entry.provenance, "batch": entry.batch_id,
        }
        self.body.addWidget(_form({k: v for k, v in fields.items() if v not in (None, "")}))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("responses")
        texts = []
        for i, response in enumerate(entry.responses, 1):
            text = (f"# {response.action} — HTTP {response.http_status if response.http_status is not None else '-'}"
                    f" — {response.latency_ms:.0f} ms\n\n"
                    f"## request (redacted)\n{response.request}\n\n## response body (redacted)\n"
                    f"{pretty_json(response.raw_body) if response.raw_body else '(empty)'}\n")
            texts.append(text)
            self.tabs.addTab(_mono(text, f"response{i}"), f"{i}. {response.action}")
        if not entry.responses:
            self.tabs.addTab(_mono("(no venue answer recorded)", "response0"), "no answer")
        self.body.addWidget(self.tabs, 1)
        self._finish(entry.as_text() + "\n\n" + "\n".join(texts))
