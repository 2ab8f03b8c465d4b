"""Trader safety through the real window (issue 14): what the desk decides, driven as a trader would.

Each test reads the simulators' own request logs: the proof that nothing went out is the venue's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit
from test_cancel_flows import CANCEL_PATHS, cancel_requests

from blotter.core import Provenance
from blotter.service.desk import Confirmation
from blotter.service.status_log import OutcomeKind
from blotter.ui.models.columns import column_index


def all_cancel_requests(sims: Any) -> int:
    patterns = {"autoshares": r"/(sync)?orders/\d+$", "snaptrade": r"/trading/cancel$", "tanx": r"/orders/cancel/?$"}
    return sum(len(sims[venue].requests_matching(method, patterns[venue]))
               for venue, (method, _) in CANCEL_PATHS.items())


def test_delete_with_nothing_selected_sends_nothing(qtbot: Any, make_window: Any, tame_env: Any) -> None:
    """UX bug 1: after a cancelled row leaves, Delete must not cancel the row that became current."""
    specs, store, sims = tame_env
    window = make_window(specs, store, confirm_single=False)
    view = window.orders_view
    key = window.orders_proxy.view_keys()[1]
    view.select_keys([key])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.orders_model.row_of(key) < 0, timeout=15_000)
    sent = all_cancel_requests(sims)
    assert sent == 1
    assert view.selected_keys() == [] and not view.currentIndex().isValid()  # nothing chosen, nothing current
    assert not window.action_cancel_selected.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert all_cancel_requests(sims) == sent  # the venue got nothing more
    assert "Nothing selected" in window.statusBar().currentMessage()


def test_tab_leaves_the_grid_without_moving_the_selection(qtbot: Any, make_window: Any, tame_env: Any) -> None:
    specs, store, _sims = tame_env
    window = make_window(specs, store)
    view = window.orders_view
    key = window.orders_proxy.view_keys()[2]
    view.select_keys([key])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert view.selected_keys() == [key]
    assert not view.hasFocus()


def test_select_all_then_delete_asks_for_the_typed_confirmation(qtbot: Any, make_window: Any,
                                                                tame_env: Any) -> None:
    """UX bug 2: Ctrl+A, Delete, Enter cancelled every shown order."""
    specs, store, sims = tame_env
    window = make_window(specs, store)
    view = window.orders_view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.confirm_dialog is not None and window.confirm_dialog.isVisible())
    dialog = window.confirm_dialog
    assert dialog is not None and dialog.confirmation is Confirmation.TYPED
    assert dialog.keep_button.isDefault() and not dialog.confirm_button.isEnabled()
    qtbot.keyClick(dialog.phrase, Qt.Key.Key_Return)  # Enter alone cancels nothing
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert all_cancel_requests(sims) == 0
    qtbot.waitUntil(lambda: window.confirm_dialog is None)
    # several orders of one account: a dialog whose default button is Keep
    key = window.orders_proxy.view_keys()[0]
    same = [k for k in window.orders_model.open_keys(key.connection, key.account)][:2]
    view.select_keys(same)
    window.cancel_selected()
    qtbot.waitUntil(lambda: window.confirm_dialog is not None and window.confirm_dialog.isVisible())
    dialog = window.confirm_dialog
    assert dialog.confirmation is Confirmation.KEEP_DEFAULT and dialog.keep_button.isDefault()
    listing = dialog.findChild(QPlainTextEdit, "cancelList")
    assert listing is not None
    text = listing.toPlainText()
    account = window.accounts_model.account(key.connection, key.account)
    assert account is not None and account.name in text  # the tree's name, not the id
    assert "qty " in text and "filled " in text and "remaining " in text
    dialog.reject()
    assert all_cancel_requests(sims) == 0


def test_the_kill_switch_skips_a_pending_cancel_and_says_so(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    """UX bug 4: the kill switch re-cancelled an order already pending at the venue, then showed "rejected"."""
    specs, store, sims = demo_env
    window = make_window(specs, store, confirm_single=False)
    st = sims["snaptrade"]
    with st.lock:
        never = next(o for o in st.orders.values() if getattr(o.cancel, "mode", "") == "never"
                     and o.status in ("ACCEPTED", "PENDING", "OPEN"))
    key = next(k for k in window.orders_model.open_keys("snaptrade-demo") if k.order_id == never.brokerage_order_id)
    window.orders_view.select_keys([key])
    window.cancel_selected()
    qtbot.waitUntil(lambda: key in window.desk.pending, timeout=30_000)
    assert len(cancel_requests(sims, "snaptrade", key)) == 1
    window.action_kill_switch.trigger()
    qtbot.waitUntil(lambda: window.kill_switch_dialog is not None and bool(window.kill_switch_dialog.keys),
                    timeout=15_000)
    dialog = window.kill_switch_dialog
    assert key not in dialog.keys
    assert any("already pending" in line.note for line in dialog.lines if line.account == key.account)
    dialog.phrase.setText("CANCEL ALL")
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.bulk_in_progress(), timeout=60_000)
    assert len(cancel_requests(sims, "snaptrade", key)) == 1  # nothing more for it
    def summaries() -> list[Any]:
        return [e for e in window.status_model.entries() if e.batch_id and e.action == "kill_switch"]

    qtbot.waitUntil(lambda: bool(summaries()))  # the pane's rows follow on the next turn of the loop
    summary = summaries()
    assert len(summary) == 1 and "skipped (already pending)" in summary[0].message
    assert window.orders_model.mark_of(key) is not None
    assert str(window.orders_model.mark_of(key).kind) != "rejected"


def test_a_duplicate_connection_sends_one_request_per_venue_order(qtbot: Any, make_window: Any,
                                                                   tame_env: Any) -> None:
    specs, store, sims = tame_env
    first = next(s for s in specs if s.name == "autoshares-demo")
    twin = dataclasses.replace(first, name="autoshares-twin")
    for field_name in ("app_key", "password"):
        store.set("autoshares-twin", field_name, store.get("autoshares-demo", field_name))
    window = make_window([*specs, twin], store)
    keys = window.orders_model.open_keys("autoshares-demo") + window.orders_model.open_keys("autoshares-twin")
    assert len(keys) == 2 * len(window.orders_model.open_keys("autoshares-demo"))  # listed under both
    twin = window.orders_model.open_keys("autoshares-twin")[0]
    state = window.orders_model.index(window.orders_model.row_of(twin), column_index("state")).data()
    assert "same order as autoshares-demo" in state  # visibly the same venue order
    plan = window.plan(keys, Provenance.KILL_SWITCH)
    assert len(plan.send) == len(keys) // 2 and {r.why.value for r in plan.refused} == {"duplicate"}
    window.submit_cancels(keys, Provenance.KILL_SWITCH)
    qtbot.waitUntil(lambda: not window.bulk_in_progress(), timeout=30_000)
    paths = [r.path for r in sims["autoshares"].requests_matching("DELETE")]
    assert len(paths) == len(set(paths)) == len(keys) // 2  # one request per venue order
    qtbot.waitUntil(lambda: any(e.batch_id and e.action == "kill_switch" for e in window.status_model.entries()))
    [summary] = [e for e in window.status_model.entries() if e.batch_id and e.action == "kill_switch"]
    assert f"{len(keys) // 2} skipped (same order through another connection)" in summary.message


def test_an_unreachable_connection_marks_its_rows_stale(qtbot: Any, make_window: Any, tame_env: Any) -> None:
    specs, store, sims = tame_env
    window = make_window(specs, store)
    key = window.orders_model.open_keys("autoshares-demo")[0]
    sims["autoshares"].add_fault({"method": "GET", "path": ".*", "action": "status", "status": 503,
                                  "body": {"Message": "The service is unavailable."}, "times": 0})
    window.refresh_now("autoshares-demo")
    qtbot.waitUntil(lambda: window.orders_model.stale_as_of("autoshares-demo") is not None, timeout=15_000)
    row = window.orders_model.row_of(key)
    state = window.orders_model.index(row, column_index("state"))
    assert "stale, as of" in state.data()
    assert "stale, as of" in window.connection_label.text()
    assert "stale, as of" in window.accounts_model.index(
        window.accounts_model.connection_names().index("autoshares-demo"), 2).data()
    # a cancel there says at once that the venue cannot be reached
    window.orders_view.select_keys([key])
    window.settings.confirm_single_cancel = False
    window.cancel_selected()
    assert "cannot be reached" in window.statusBar().currentMessage()
    # back again: the mark goes with the next good read
    sims["autoshares"].clear_faults()
    window.refresh_now("autoshares-demo")
    qtbot.waitUntil(lambda: window.orders_model.stale_as_of("autoshares-demo") is None, timeout=15_000)
    entries = [e for e in window.status_model.entries() if e.connection == "autoshares-demo"
               and e.kind is OutcomeKind.ERROR]
    assert len(entries) <= 3  # repeats folded, not one row per failed read


def test_a_locked_audit_database_is_told_in_the_window_and_the_cancel_still_goes(
        qtbot: Any, make_window: Any, tame_env: Any, tmp_path: Any) -> None:
    """Issue 12 (H3): the trader is told at once in the window; the cancel is not held back."""
    from audit_support import Locker
    from blotter.store.audit import AuditStore

    specs, store, sims = tame_env
    db = tmp_path / "audit.sqlite3"
    audit = AuditStore(db)
    window = make_window(specs, store, confirm_single=False, audit=audit)
    locker = Locker(db, 4.0)
    try:
        key = window.orders_model.open_keys("autoshares-demo")[0]
        window.orders_view.select_keys([key])
        window.cancel_selected()
        qtbot.waitUntil(lambda: "locked by another program" in window.statusBar().currentMessage(), timeout=10_000)
        assert any(e.action == "audit" and "journal" in e.message for e in window.status_model.entries())
        assert len(cancel_requests(sims, "autoshares", key)) == 1  # sent while the trail was locked
    finally:
        locker.wait()
    qtbot.waitUntil(lambda: window.orders_model.row_of(key) < 0, timeout=15_000)
    audit.flush(30)
    assert [a.outcome for a in audit.attempts() if a.key == key] == ["cancelled"]
    audit.close()
