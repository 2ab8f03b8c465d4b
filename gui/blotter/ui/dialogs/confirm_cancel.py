"""Confirmation before cancelling one order, a selection, or every order of an account.

How strongly it asks follows the blast radius the desk decided (``service.desk.confirmation_for``): one order,
the single-row confirmation; several orders of one account, a dialog whose default button is *Keep*; more than
one account or many orders, the kill switch's typed confirmation. Each order is described with the grid's own
facts and words: the account's name as in the tree, quantity / filled / remaining, the type (stop included)
and the prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...core import Order, OrderKey
from ...service.desk import Confirmation
from ..models.columns import fmt_price, fmt_quantity, side_label
from .kill_switch import CONFIRM_PHRASE

_LIST_LIMIT = 200


def describe(order: Order, account_name: str = "") -> str:
    """One order as the grid shows it."""
    kind = str(order.order_type).replace("_", " ")
    prices = []
    if order.limit_price is not None:
        prices.append(f"limit {fmt_price(order.limit_price)}")
    if order.stop_price is not None:
        prices.append(f"stop {fmt_price(order.stop_price)}")
    price = ", ".join(prices) or "market"
    account = account_name or order.key.account
    return (f"{order.key.connection} / {account}  #{order.key.order_id}  {side_label(order.side)} {order.symbol}  "
            f"{kind} @ {price}  qty {fmt_quantity(order.quantity)}, filled {fmt_quantity(order.filled)}, "
            f"remaining {fmt_quantity(order.remaining)}")


class ConfirmCancelDialog(QDialog):
    """Lists what will be cancelled; ``confirmed`` carries the keys (exactly those listed)."""

    confirmed = Signal(list)

    def __init__(
        self, orders: Sequence[Order], *, title: str, headline: str, offer_dont_ask: bool = False,
        confirmation: Confirmation = Confirmation.SINGLE,
        account_names: Mapping[tuple[str, str], str] | None = None, note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("confirmCancelDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.keys: list[OrderKey] = [o.key for o in orders]
        self.confirmation = confirmation
        names = account_names or {}
        layout = QVBoxLayout(self)
        accounts = sorted({names.get((o.key.connection, o.key.account), o.key.account) for o in orders})
        if len(accounts) > 1:
            headline += f"<br><b>{len(accounts)} accounts:</b> {', '.join(accounts[:6])}" + \
                ("…" if len(accounts) > 6 else "")
        label = QLabel(headline)
        label.setObjectName("confirmHeadline")
        label.setWordWrap(True)
        layout.addWidget(label)
        listing = QPlainTextEdit()
        listing.setObjectName("cancelList")
        listing.setReadOnly(True)
        lines = [describe(o, names.get((o.key.connection, o.key.account), "")) for o in orders[:_LIST_LIMIT]]
        if len(orders) > _LIST_LIMIT:
            lines.append(f"… and {len(orders) - _LIST_LIMIT} more")
        listing.setPlainText("\n".join(lines))
        listing.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # one order per line, as in the grid
        listing.setMinimumWidth(820)
        listing.setMaximumHeight(60 + 18 * min(len(lines), 12))
        layout.addWidget(listing)
        if note:
            skipped = QLabel(note)
            skipped.setObjectName("confirmNote")
            skipped.setWordWrap(True)
            layout.addWidget(skipped)
        self.dont_ask = QCheckBox("Don't ask again for a single order (Settings)")
        self.dont_ask.setObjectName("dontAskAgain")
        self.dont_ask.setVisible(offer_dont_ask)
        layout.addWidget(self.dont_ask)
        self.phrase = QLineEdit()
        self.phrase.setObjectName("confirmPhrase")
        self.phrase.setPlaceholderText(CONFIRM_PHRASE)
        typed = confirmation is Confirmation.TYPED
        if typed:
            why = QLabel(f"This cancels orders of {len(accounts)} accounts" if len(accounts) > 1 else
                         f"This cancels {len(orders)} orders")
            why.setText(why.text() + f". Type <b>{CONFIRM_PHRASE}</b> to confirm:")
            layout.addWidget(why)
            layout.addWidget(self.phrase)
        self.phrase.setVisible(typed)
        buttons = QDialogButtonBox()
        n = len(orders)
        self.confirm_button = buttons.addButton(
            f"Cancel {n} order{'s' if n != 1 else ''}", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("confirmButton")
        self.keep_button = buttons.addButton("Keep", QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.setObjectName("keepButton")
        if confirmation is Confirmation.SINGLE:
            self.confirm_button.setDefault(True)
            self.confirm_button.setFocus()
        else:  # several orders: Enter keeps them; typing the phrase unlocks the cancel when it is asked for
            self.confirm_button.setAutoDefault(False)
            self.keep_button.setDefault(True)
            (self.phrase if typed else self.keep_button).setFocus()
        if typed:
            self.confirm_button.setEnabled(False)
            self.phrase.textChanged.connect(lambda text: self.confirm_button.setEnabled(text == CONFIRM_PHRASE))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        if self.confirmation is Confirmation.TYPED and self.phrase.text() != CONFIRM_PHRASE:
            return  # Enter in the phrase box before it is complete does nothing
        keys = list(self.keys)
        super().accept()
        self.confirmed.emit(keys)
