"""The account inspector against the demo venues: one account of each venue, opened from the accounts tree;
the venue's account details, the recent orders in every state with the venue's reasons, and what Blotter
did to them (a cancel made through the window shows up beside its order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QApplication

from blotter.core import OrderKey
from blotter.store.audit import AuditStore
from blotter.ui.demo_script import cancel_spec
from blotter.ui.dialogs.account_inspector import ORDER_HEADERS, AccountInspector
from blotter.ui.main_window import MainWindow
from blotter.ui.models.accounts import AccountRole, ConnectionRole

STATE, REASON, DID = (ORDER_HEADERS.index(h) for h in ("State", "Venue's reason", "What Blotter did"))

EXPECTED_FACTS = {
    "autoshares": ("Access type", "Clearing account", "Cash", "Buying power"),
    "snaptrade": ("Institution", "Number", "Balance"),
    "tanx": ("Wallet", "Name", "Balance USDC"),
}


def plain(spec: Any) -> bool:
    """A cancel the venue carries out at once."""
    return spec is None or (spec.mode == "accept" and not spec.delay_ms)


def recent(order: Any) -> bool:
    """Placed within the inspector's default window (SnapTrade lists orders by when they were placed)."""
    return order is not None and order.created_at is not None \
        and order.created_at > datetime.now(UTC) - timedelta(days=20)


def account_index(window: MainWindow, connection: str, account: str) -> QModelIndex:
    model = window.accounts_view.model()
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        if parent.data(ConnectionRole) != connection:
            continue
        for child in range(model.rowCount(parent)):
            index = model.index(child, 0, parent)
            if index.data(AccountRole) == account:
                return index
    raise AssertionError(f"no account {connection}/{account} in the tree")


def open_from_tree(qtbot: Any, window: MainWindow, connection: str, account: str) -> AccountInspector:
    index = account_index(window, connection, account)
    window.accounts_view.scrollTo(index)
    window.support._accounts_menu(window.accounts_view.visualRect(index).center())
    menu = QApplication.activePopupWidget()
    assert menu is not None and menu.objectName() == "accountsContextMenu"
    action = next(a for a in menu.actions() if a.objectName() == "inspectAccountMenuItem")
    action.trigger()
    menu.close()
    dialog = window.support.inspector
    assert dialog is not None and dialog.objectName() == "accountInspector" and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.state_label.text().startswith("Read at"), timeout=15_000)
    return dialog


@pytest.mark.parametrize("venue", ["autoshares", "snaptrade", "tanx"])
def test_inspector_shows_details_history_and_what_blotter_did(
    venue: str, qtbot: Any, make_window: Any, demo_env: Any, tmp_path: Path
) -> None:
    specs, store, sims = demo_env
    audit = AuditStore(tmp_path / "audit.sqlite3")
    try:
        window = make_window(specs, store, audit=audit, confirm_single=False)
        candidates = [k for k in window.orders_model.open_keys()
                      if str(window.service.specs[k.connection].venue) == venue and window.cancellable(k)
                      and plain(cancel_spec(sims, venue, k)) and recent(window.orders_model.order(k))]
        counts = window.orders_model.counts()
        # the account with the fewest open orders: its recent history fits in the venue's first page(s)
        key: OrderKey = min(candidates, key=lambda k: (counts[(k.connection, k.account)], k))
        window.orders_view.select_keys([key])
        window.action_cancel_selected.trigger()
        qtbot.waitUntil(lambda: window.orders_model.order(key) is None, timeout=15_000)

        dialog = open_from_tree(qtbot, window, key.connection, key.account)
        assert dialog.errors == {}
        facts = dialog.facts()
        for label in EXPECTED_FACTS[venue]:
            assert facts.get(label), (label, facts)
        assert dialog.details_tree.topLevelItemCount() > 0  # every field the venue sent

        rows = dialog.order_rows()
        states = {row[STATE] for row in rows if row[1] != key.order_id}
        assert states & {"open", "partially filled"} and "filled" in states, states
        assert states & {"cancelled", "rejected", "expired"}, states  # ended otherwise, at the venue's hand
        ours = next(row for row in rows if row[1] == key.order_id)
        assert ours[STATE] == "cancelled"
        assert ours[DID].startswith("cancel by row action → cancelled (at 20")
        assert all(row[DID] == "—" for row in rows if row[1] != key.order_id)
        if venue == "tanx":  # tanX says who cancelled
            assert all(row[REASON] for row in rows if row[STATE] == "cancelled")
        if venue == "autoshares":
            assert facts["Access type"] == "Full"
        assert dialog.audit_model.rowCount() >= 2  # the attempt's steps, from the trail
        assert {dialog.audit_model.record_at(r).attempt_id for r in range(dialog.audit_model.rowCount())} \
            == {a.attempt_id for a in dialog.attempts}

        # copy for support ticket from the inspector's history
        dialog.orders_table.selectRow(next(i for i, row in enumerate(rows) if row[1] == key.order_id))
        with qtbot.waitSignal(window.support.ticketCopied, timeout=10_000) as blocker:
            dialog.support_action.trigger()
        assert f"Order:        {key.order_id}" in blocker.args[0] and "Outcome:      cancelled" in blocker.args[0]

        # a second request for the same account brings the same dialog forward
        assert window.support.open_inspector(key.connection, key.account) is dialog
        dialog.close()
    finally:
        audit.close()


def test_inspector_of_an_unreachable_venue_says_why(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store)  # no audit trail either
    spec = next(s for s in specs if s.venue.value == "snaptrade")
    account = window.accounts_model.accounts(spec.name)[0]
    sims["snaptrade"].add_fault({"action": "status", "method": "GET", "path": r"/accounts/[^/]+(/orders)?$",
                                 "status": 500, "times": 0, "body": {"detail": "Upstream brokerage unavailable"}})
    dialog = window.support.open_inspector(spec.name, account.account_id)
    qtbot.waitUntil(lambda: not dialog._loading and bool(dialog.errors), timeout=15_000)
    assert "Upstream brokerage unavailable" in dialog.errors.get("details", ""), dialog.errors
    assert "Upstream brokerage unavailable" in dialog.errors["orders"]
    assert "not available" in dialog.errors["trail"]
    qtbot.waitUntil(lambda: "could not be asked" in dialog.state_label.text())
    dialog.close()
