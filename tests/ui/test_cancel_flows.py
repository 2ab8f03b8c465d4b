"""The cancel flows a trader relies on, driven through the real window against the venue simulators."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt

from blotter.core import OrderKey, OrderStatus
from blotter.ui.demo_script import cancel_spec
from blotter.ui.main_window import MainWindow
from blotter.ui.models.columns import column_index
from blotter.ui.models.status import OutcomeKind, StatusEntry

STATE = column_index("state")


def find_key(window: MainWindow, sims: Any, venue: str, test: Callable[[Any], bool]) -> OrderKey:
    for key in sorted(window.orders_model.open_keys()):
        spec = window.service.specs[key.connection]
        if str(spec.venue) == venue and window.cancellable(key):
            found = cancel_spec(sims, venue, key)
            if found is not None and test(found):
                return key
    raise AssertionError(f"no {venue} order fits")


def accepts_after_delay(spec: Any) -> bool:
    return bool(spec.mode == "accept" and spec.delay_ms >= 1500)


def state_of(window: MainWindow, key: OrderKey) -> str | None:
    row = window.orders_proxy.row_of(key)
    if row < 0:
        return None
    return str(window.orders_proxy.data(window.orders_proxy.index(row, STATE)))


def cancel_entries(window: MainWindow, key: OrderKey) -> list[StatusEntry]:
    return [e for e in window.status_model.entries() if e.key == key and e.action in ("cancel", "bulk_cancel")]


def press_delete_on(qtbot: Any, window: MainWindow, key: OrderKey) -> None:
    window.orders_view.select_keys([key])
    window.orders_view.setFocus()
    qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)


def confirm(qtbot: Any, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.confirm_dialog is not None and window.confirm_dialog.isVisible())
    dialog = window.confirm_dialog
    assert dialog is not None
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)


CANCEL_PATHS = {  # how each venue's cancel request looks in the simulator's request log
    "autoshares": ("DELETE", lambda key: rf"/accounts/{key.account}/(sync)?orders/{key.order_id}$"),
    "snaptrade": ("POST", lambda key: rf"/accounts/{key.account}/trading/cancel$"),
    "tanx": ("POST", lambda key: r"/sapi/v1/orders/cancel/$"),
}


def cancel_requests(sims: Any, venue: str, key: OrderKey) -> list[Any]:
    method, path = CANCEL_PATHS[venue]
    requests = sims[venue].requests_matching(method, path(key))
    if venue == "autoshares":
        return requests
    return [r for r in requests if key.order_id in r.body]


def answered(qtbot: Any, sims: Any, venue: str, key: OrderKey) -> None:
    """Wait until the venue has answered our cancel request (its delay now runs on the sim clock)."""
    qtbot.waitUntil(lambda: any(r.status for r in cancel_requests(sims, venue, key)), timeout=10_000)


@pytest.mark.parametrize(("venue", "pending_expected"), [("autoshares", False), ("snaptrade", True),
                                                        ("tanx", True)])
def test_delete_confirm_in_flight_pending_gone(
    venue: str, pending_expected: bool, qtbot: Any, make_window: Any, demo_env: Any
) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store)
    key = find_key(window, sims, venue, accepts_after_delay)
    press_delete_on(qtbot, window, key)
    confirm(qtbot, window)
    # the row shows our cancel in flight at once (in the loop's next pass, once the request has left; the
    # venue's answer needs another pass at least, so "pending at venue" cannot come first)
    qtbot.waitUntil(lambda: state_of(window, key) == "cancelling…", timeout=2000)
    if pending_expected:  # the venue says "queued" / CANCEL_PENDING: pending at the venue
        qtbot.waitUntil(lambda: state_of(window, key) == "pending at venue", timeout=10_000)
    answered(qtbot, sims, venue, key)
    assert state_of(window, key) is not None  # the row stays until the venue confirms
    sims.clock.advance(10)  # the venue's delay passes
    qtbot.waitUntil(lambda: state_of(window, key) is None, timeout=15_000)
    (entry,) = cancel_entries(window, key)
    assert entry.kind is OutcomeKind.CANCELLED
    assert entry.responses, "the venue's answer is kept for the detail view"
    assert entry.message == entry.responses[0].message  # the venue's words, verbatim
    assert entry.http_status is not None
    assert 200 <= entry.http_status < 300
    assert len(cancel_requests(sims, venue, key)) == 1


def test_tanx_queued_row_is_updated_in_place(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store, confirm_single=False)
    key = find_key(window, sims, "tanx", accepts_after_delay)
    press_delete_on(qtbot, window, key)
    qtbot.waitUntil(lambda: any(e.kind is OutcomeKind.PENDING for e in cancel_entries(window, key)),
                    timeout=10_000)
    (queued,) = cancel_entries(window, key)
    assert "queued for cancellation" in queued.message
    row_before = window.status_model.row_of(queued.id)
    rows_before = window.status_model.rowCount()
    sims.clock.advance(10)
    qtbot.waitUntil(lambda: queued.kind is OutcomeKind.CANCELLED, timeout=15_000)
    assert cancel_entries(window, key) == [queued]  # the same row, updated
    assert window.status_model.entry(queued.id) is queued
    assert window.status_model.row_of(queued.id) == row_before + (window.status_model.rowCount() - rows_before)
    assert queued.outcome == "cancelled"
    assert "queued for cancellation" in queued.message
    assert queued.detail.startswith("confirmed")


def test_autoshares_409_filled_meanwhile_shows_the_true_state(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store, confirm_single=False)
    key = find_key(window, sims, "autoshares", lambda spec: spec.mode == "accept" and not spec.delay_ms)
    sim = sims["autoshares"]
    with sim.lock:  # the order fills at the venue after our last refresh
        sim._set(sim.orders[int(key.order_id)], "Filled")
    assert state_of(window, key) == "open"
    press_delete_on(qtbot, window, key)
    qtbot.waitUntil(lambda: state_of(window, key) == "too late — filled", timeout=10_000)
    order = window.orders_model.order(key)
    assert order is not None
    assert order.status is OrderStatus.FILLED
    (entry,) = cancel_entries(window, key)
    assert entry.http_status == 409
    assert entry.outcome == "too late — filled"
    assert entry.message == entry.responses[0].message
    assert entry.message == f"Order {key.order_id} cannot be cancelled: order is Filled"  # verbatim
    tip = window.orders_proxy.data(window.orders_proxy.index(window.orders_proxy.row_of(key), STATE),
                                   Qt.ItemDataRole.ToolTipRole)
    assert f"venue said: {entry.message}" in tip


def test_rejected_keeps_the_open_order_with_the_venue_words(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store, confirm_single=False)
    key = find_key(window, sims, "autoshares", lambda spec: spec.mode == "reject")
    words = cancel_spec(sims, "autoshares", key).message
    press_delete_on(qtbot, window, key)
    qtbot.waitUntil(lambda: (state_of(window, key) or "").startswith("rejected:"), timeout=10_000)
    assert state_of(window, key) == f"rejected: {words}"
    (entry,) = cancel_entries(window, key)
    assert entry.message == words


@pytest.mark.parametrize("confirm_single", [False, True])
def test_delete_twice_sends_exactly_one_cancel(
    confirm_single: bool, qtbot: Any, make_window: Any, demo_env: Any
) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store, confirm_single=confirm_single)
    key = find_key(window, sims, "autoshares", accepts_after_delay)
    press_delete_on(qtbot, window, key)
    qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)
    if confirm_single:
        confirm(qtbot, window)
        qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)  # and once more while it is in flight
        assert window.confirm_dialog is None or not window.confirm_dialog.isVisible()
    answered(qtbot, sims, "autoshares", key)
    qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)  # the venue is working on it: still nothing sent
    sims.clock.advance(10)
    qtbot.waitUntil(lambda: state_of(window, key) is None, timeout=15_000)
    assert len(cancel_requests(sims, "autoshares", key)) == 1
    assert len(cancel_entries(window, key)) == 1


def test_kill_switch_preview_is_exact_and_everything_ends_once(qtbot: Any, make_window: Any, tame_env: Any) -> None:
    specs, store, sims = tame_env
    window = make_window(specs, store)
    window.action_kill_switch.trigger()
    qtbot.waitUntil(lambda: window.kill_switch_dialog is not None and bool(window.kill_switch_dialog.keys),
                    timeout=10_000)
    dialog = window.kill_switch_dialog
    assert dialog is not None
    open_now = window.orders_model.counts()
    assert sum(line.count for line in dialog.lines) == sum(open_now.values()) == len(dialog.keys)
    assert {(line.connection, line.account): line.count for line in dialog.lines} == dict(open_now)
    assert len({line.connection for line in dialog.lines}) == len(specs)
    assert not dialog.confirm_button.isEnabled()
    qtbot.keyClicks(dialog.phrase, "CANCEL AL")
    assert not dialog.confirm_button.isEnabled()
    qtbot.keyClicks(dialog.phrase, "L")
    assert dialog.confirm_button.isEnabled()
    keys = list(dialog.keys)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    assert window.bulk_progress.isVisible()
    qtbot.waitUntil(lambda: not window.bulk_in_progress(), timeout=30_000)
    qtbot.waitUntil(lambda: len(window.orders_model) == 0)
    # every order has exactly one outcome, all of them cancelled
    outcomes = Counter(e.key for e in window.status_model.entries() if e.key in set(keys) and e.action != "login")
    assert set(outcomes) == set(keys)
    assert set(outcomes.values()) == {1}
    assert {e.kind for e in window.status_model.entries() if e.key in set(keys)} == {OutcomeKind.CANCELLED}
    # and the venues agree: a fresh read finds no open order in any account
    window.refresh_now()
    task = window.tasks.spawn(window.scheduler.refresh_once())
    qtbot.waitUntil(task.done, timeout=10_000)
    window.orders_model.flush()
    assert len(window.orders_model) == 0
    assert sum(window.orders_model.counts().values()) == 0
    for key in keys:
        venue = str(window.service.specs[key.connection].venue)
        assert len(cancel_requests(sims, venue, key)) == 1


def test_cancel_all_in_account(qtbot: Any, make_window: Any, tame_env: Any) -> None:
    specs, store, _sims = tame_env
    window = make_window(specs, store)
    connection, account = next(iter(sorted(window.orders_model.counts())))
    others = sum(n for k, n in window.orders_model.counts().items() if k != (connection, account))
    window.accounts_view.select_scope(connection, account)
    assert window.orders_proxy.scope == (connection, account)
    assert {k.account for k in window.orders_proxy.view_keys()} == {account}
    assert window.action_cancel_account.isEnabled()
    window.action_cancel_account.trigger()
    confirm(qtbot, window)
    qtbot.waitUntil(lambda: window.orders_proxy.rowCount() == 0, timeout=20_000)
    qtbot.waitUntil(lambda: not window.bulk_in_progress(), timeout=20_000)
    window.orders_model.flush()
    assert sum(window.orders_model.counts().values()) == others


def test_read_only_disables_cancelling(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store, read_only=True, confirm_single=False)
    assert window.read_only_badge.isVisible()
    assert window.read_only_badge.text() == "READ-ONLY"
    for action in (window.action_cancel_selected, window.action_cancel_account, window.action_kill_switch):
        assert not action.isEnabled()
    key = window.orders_model.open_keys()[0]
    press_delete_on(qtbot, window, key)
    window.open_kill_switch()
    assert window.kill_switch_dialog is None
    assert window.confirm_dialog is None
    assert state_of(window, key) != "cancelling…"
    venue = str(window.service.specs[key.connection].venue)
    assert cancel_requests(sims, venue, key) == []


def test_venue_read_only_account_cannot_be_cancelled(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, _sims = demo_env
    window = make_window(specs, store, confirm_single=False)
    read_only = [a for n in window.service.specs for a in window.accounts_model.accounts(n) if a.read_only]
    assert read_only, "the demo has read-only accounts"
    assert window.read_only_badge.isVisible()
    account = read_only[0]
    key = window.orders_model.open_keys(account.connection, account.account_id)[0]
    assert not window.cancellable(key)
    press_delete_on(qtbot, window, key)
    assert state_of(window, key) != "cancelling…"
    assert not window.action_cancel_selected.isEnabled()
