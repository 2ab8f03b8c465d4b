"""Confirmation before cancelling one order, a selection, or every order of an account."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...core import Order, OrderKey
from ..models.columns import fmt_price, fmt_quantity, side_label

_LIST_LIMIT = 200


def describe(order: Order) -> str:
    price = fmt_price(order.limit_price) or fmt_price(order.stop_price) or "market"
    return (f"{order.key.connection} / {order.key.account}  #{order.key.order_id}  {side_label(order.side)} "
            f"{fmt_quantity(order.remaining)} {order.symbol} @ {price}")


class ConfirmCancelDialog(QDialog):
    """Lists what will be cancelled; ``confirmed`` carries the keys (exactly those listed)."""

    confirmed = Signal(list)

    def __init__(
        self, orders: Sequence[Order], *, title: str, headline: str, offer_dont_ask: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("confirmCancelDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.keys: list[OrderKey] = [o.key for o in orders]
        layout = QVBoxLayout(self)
        label = QLabel(headline)
        label.setWordWrap(True)
        layout.addWidget(label)
        listing = QPlainTextEdit()
        listing.setObjectName("cancelList")
        listing.setReadOnly(True)
        lines = [describe(o) for o in orders[:_LIST_LIMIT]]
        if len(orders) > _LIST_LIMIT:
            lines.append(f"… and {len(orders) - _LIST_LIMIT} more")
        listing.setPlainText("\n".join(lines))
        listing.setMinimumWidth(560)
        listing.setMaximumHeight(60 + 18 * min(len(lines), 12))
        layout.addWidget(listing)
        self.dont_ask = QCheckBox("Don't ask again for a single order (Settings)")
        self.dont_ask.setObjectName("dontAskAgain")
        self.dont_ask.setVisible(offer_dont_ask)
        layout.addWidget(self.dont_ask)
        buttons = QDialogButtonBox()
        n = len(orders)
        self.confirm_button = buttons.addButton(
            f"Cancel {n} order{'s' if n != 1 else ''}", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("confirmButton")
        keep = buttons.addButton("Keep", QDialogButtonBox.ButtonRole.RejectRole)
        keep.setObjectName("keepButton")
        self.confirm_button.setDefault(True)
        self.confirm_button.setFocus()
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        keys = list(self.keys)
        super().accept()
        self.confirmed.emit(keys)
