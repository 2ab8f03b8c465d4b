"""The window around the cancel flows: panes, health, filter, details, status pane, layout, refresh."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QTableView, QTreeView

from blotter.core import Action, OrderKey
from blotter.ui.main_window import MainWindow
from blotter.ui.models.columns import COLUMNS, column_index
from blotter.ui.models.status import OutcomeKind
from blotter.ui.settings import UiSettings
from blotter.ui.widgets.orders_view import OrdersView


def test_object_names_for_automation(make_window: Any, demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    assert window.objectName() == "MainWindow"
    assert isinstance(window.findChild(QTreeView, "accountsView"), QTreeView)
    assert isinstance(window.findChild(QTableView, "ordersView"), QTableView)
    assert isinstance(window.findChild(QAbstractItemView, "statusPane"), QTableView)
    for name in ("actionCancelSelected", "actionCancelAllInAccount", "actionKillSwitch", "actionRefresh"):
        action = window.findChild(QAction, name)
        assert action is not None, name
        assert not action.shortcut().isEmpty(), name


def test_delete_in_the_accounts_tree_cancels_nothing(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    key = window.orders_proxy.key_at(0)
    window.orders_view.select_keys([key])
    window.accounts_view.setFocus()
    qtbot.keyClick(window.accounts_view, Qt.Key.Key_Delete)
    assert window.confirm_dialog is None
    qtbot.keyClicks(window.filter_edit, "x")
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Home)
    qtbot.keyClick(window.filter_edit, Qt.Key.Key_Delete)  # edits the text
    assert window.filter_edit.text() == ""
    assert window.confirm_dialog is None


def test_models_pass_the_model_tester_with_live_data(
    qtbot: Any, qtmodeltester: Any, make_window: Any, tame_env: Any
) -> None:
    window = make_window(*tame_env[:2], confirm_single=False)
    for model in (window.accounts_model, window.orders_proxy, window.status_model, window.status_pane.proxy,
                  window.orders_model):
        qtmodeltester.check(model)
    # the testers keep watching: cancels (marks, removals), a filter, a sort and a refresh
    window.orders_view.sortByColumn(column_index("state"), Qt.SortOrder.AscendingOrder)
    keys = window.orders_proxy.view_keys()[:3]
    window.orders_view.select_keys(keys)
    window.cancel_selected()
    assert window.confirm_dialog is not None  # three orders: always asked
    window.confirm_dialog.phrase.setText("CANCEL ALL")  # typed when they span accounts
    window.confirm_dialog.accept()
    window.filter_edit.setText("buy")
    qtbot.waitUntil(lambda: all(window.orders_model.row_of(k) < 0 for k in keys), timeout=10_000)
    window.filter_edit.setText("")
    task = window.tasks.spawn(window.scheduler.refresh_once())
    qtbot.waitUntil(task.done, timeout=10_000)
    window.orders_model.flush()


def test_accounts_tree_shows_every_connection_with_health_and_counts(make_window: Any, demo_env: Any) -> None:
    specs, store, _sims = demo_env
    window = make_window(specs, store)
    model = window.accounts_model
    assert model.connection_names() == sorted(s.name for s in specs)
    assert {str(s.venue) for s in specs} == {"autoshares", "snaptrade", "tanx"}
    counts = window.orders_model.counts()
    for row in range(model.rowCount()):
        conn = model.index(row, 0)
        name = model.connection_names()[row]
        assert model.index(row, 2).data() == "connected"
        assert model.index(row, 3).data().endswith(" ms")
        assert model.index(row, 4).data()  # last success
        assert model.rowCount(conn) >= 1
        total = 0
        for child in range(model.rowCount(conn)):
            account = model.accounts(name)[child]
            shown = int(model.index(child, 1, conn).data())
            assert shown == counts.get((name, account.account_id), 0)
            total += shown
        assert int(model.index(row, 1).data()) == total
    assert "connected" in window.connection_label.text()


def test_scope_and_filter_box(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    total = window.orders_proxy.rowCount()
    assert total == len(window.orders_model) > 100
    connection = window.accounts_model.connection_names()[0]
    account = window.accounts_model.accounts(connection)[0]
    window.accounts_view.select_scope(connection, account.account_id)
    assert window.orders_proxy.rowCount() == window.orders_model.counts()[(connection, account.account_id)]
    assert account.name in window.scope_label.text()
    window.show_all_accounts()
    assert window.orders_proxy.rowCount() == total
    qtbot.keyClicks(window.filter_edit, "sell")
    sells = window.orders_proxy.rowCount()
    assert 0 < sells < total
    side = column_index("side")
    assert all("sell" in str(window.orders_proxy.index(r, side).data()).lower() for r in range(sells))
    window.filter_edit.clear()
    assert window.orders_proxy.rowCount() == total


def test_sorting_by_clicking_a_header(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    header = window.orders_view.horizontalHeader()
    symbol = column_index("symbol")
    x = header.sectionViewportPosition(symbol) + 5
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header.rect().center().__class__(x, 5))
    values = [str(window.orders_proxy.index(r, symbol).data()) for r in range(window.orders_proxy.rowCount())]
    assert window.orders_proxy.sort_column == symbol
    expected = sorted(values, key=str.casefold)
    assert values in (expected, expected[::-1])


def test_enter_opens_the_order_detail_with_raw_json(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    listed = window.orders_model.keys()
    key = next(k for k in listed if k.connection.startswith("autoshares"))
    window.orders_view.select_keys([key])
    window.orders_view.setFocus()
    qtbot.keyClick(window.orders_view, Qt.Key.Key_Return)
    dialog = window.detail_dialog
    assert dialog is not None
    assert dialog.objectName() == "orderDetailDialog"
    assert dialog.isVisible()
    assert not dialog.isModal()
    # listed orders carry no venue JSON: the dialog asks the venue for the order and shows its answer
    qtbot.waitUntil(lambda: dialog.raw_note.text().startswith("The venue's answer for this order, read at"))
    raw = json.loads(dialog.raw.toPlainText())  # type: ignore[attr-defined]
    assert raw == json.loads(json.dumps(dialog.raw_json, default=str)) and raw["Id"] == int(key.order_id)
    sims = demo_env[2]
    reads = [r for r in sims["autoshares"].requests if r.method == "GET" and r.path.endswith(f"/{key.order_id}")]
    assert len(reads) == 1
    dialog.close()


def test_order_detail_says_when_the_venue_cannot_answer(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    from dataclasses import replace

    window = make_window(*demo_env[:2])
    known = window.orders_model.order(window.orders_proxy.key_at(0))
    assert known is not None
    ghost = replace(known, key=OrderKey(known.key.connection, known.key.account, "99999"))
    window.orders_model.apply([ghost])
    window.orders_model.flush()
    window.orders_view.select_keys([ghost.key])
    window.orders_view.setFocus()
    qtbot.keyClick(window.orders_view, Qt.Key.Key_Return)
    dialog = window.detail_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: "could not be read" in dialog.raw_note.text())
    assert "Order not found" in dialog.raw_note.text() and not dialog.raw.toPlainText()  # the venue's words
    dialog.close()


def test_status_pane_filters_copies_and_shows_redacted_details(
    qtbot: Any, make_window: Any, demo_env: Any
) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store, confirm_single=False)
    # one failing refresh (an error row) and one cancel (a cancel row)
    sims["snaptrade"].add_fault({"action": "status", "status": 503, "method": "GET", "path": "/accounts$"})
    window.refresh_now("snaptrade-demo")
    qtbot.waitUntil(lambda: any(e.kind is OutcomeKind.ERROR for e in window.status_model.entries()),
                    timeout=10_000)
    key = next(k for k in window.orders_model.open_keys() if k.connection.startswith("tanx") and window.cancellable(k))
    window.orders_view.select_keys([key])
    window.cancel_selected()
    qtbot.waitUntil(lambda: any(e.key == key and e.kind is not OutcomeKind.IN_FLIGHT
                                for e in window.status_model.entries()), timeout=10_000)
    pane = window.status_pane
    pane.venue_filter.setCurrentIndex(pane.venue_filter.findData("tanx"))
    assert {e.venue for e in _shown(pane)} == {"tanx"}
    pane.venue_filter.setCurrentIndex(0)
    pane.outcome_filter.setCurrentIndex(pane.outcome_filter.findText("Errors"))
    assert {e.kind for e in _shown(pane)} == {OutcomeKind.ERROR}
    assert all(e.venue == "snaptrade" for e in _shown(pane))
    pane.outcome_filter.setCurrentIndex(0)
    # copy a row
    row = next(r for r in range(pane.proxy.rowCount()) if _entry(pane, r).key == key)
    pane.table.selectRow(row)
    text = pane.copy_selected()
    assert key.order_id in text
    assert QGuiApplication.clipboard().text() == text
    # the detail view: the redacted request and the venue's raw answer, no secret anywhere
    pane.table.setCurrentIndex(pane.proxy.index(row, 0))
    pane.table.setFocus()
    qtbot.keyClick(pane.table, Qt.Key.Key_Return)
    dialog = window.detail_dialog
    assert dialog is not None
    assert dialog.objectName() == "statusDetailDialog"
    texts = [dialog.tabs.widget(i).toPlainText() for i in range(dialog.tabs.count())]  # type: ignore[attr-defined]
    assert any("request (redacted)" in t for t in texts)
    assert any("cancel" in t for t in texts)
    secrets = [store.get(s.name, f) for s in specs for f in ("private_key", "access_token", "refresh_token",
                                                             "password", "app_key", "consumer_key", "user_secret")]
    for secret in filter(None, secrets):
        assert all(secret not in t for t in texts)
    dialog.close()


def _entry(pane: Any, row: int) -> Any:
    from blotter.ui.models.status import EntryRole

    return pane.proxy.data(pane.proxy.index(row, 0), EntryRole)


def _shown(pane: Any) -> list[Any]:
    return [_entry(pane, r) for r in range(pane.proxy.rowCount())]


def test_refresh_backs_off_on_errors_and_recovers(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    specs, store, sims = demo_env
    window = make_window(specs, store)
    sims["autoshares"].add_fault({"action": "status", "status": 503, "method": "GET", "path": "/accounts",
                                  "times": 0})
    before = len(sims["autoshares"].requests_matching("GET"))
    window.action_refresh.trigger()
    qtbot.waitUntil(lambda: window.scheduler.failures("autoshares-demo") >= 1, timeout=10_000)
    assert window.service.health["autoshares-demo"].state == "error"
    assert len(sims["autoshares"].requests_matching("GET")) > before
    assert window.scheduler.next_delay("autoshares-demo") > window.scheduler.interval_s  # backing off
    row = window.accounts_model.connection_names().index("autoshares-demo")
    qtbot.waitUntil(lambda: str(window.accounts_model.index(row, 2).data()).startswith("error"))
    error = str(window.accounts_model.index(row, 5).data())
    assert error == window.service.health["autoshares-demo"].last_error
    assert len(window.orders_model.open_keys("autoshares-demo")) > 0  # orders are kept, not dropped
    sims["autoshares"].clear_faults()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.scheduler.failures("autoshares-demo") == 0, timeout=10_000)
    assert window.service.health["autoshares-demo"].state == "connected"


def test_column_chooser_layout_is_saved_and_restorable(qtbot: Any, tmp_path: Any, make_window: Any,
                                                       demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    view = window.orders_view
    menu = view.build_header_menu()
    venue = column_index("venue")
    connection = column_index("connection")
    assert not view.isColumnHidden(venue)
    menu.findChild(type(menu.actions()[0]), "column_venue").trigger()
    menu.findChild(type(menu.actions()[0]), "column_connection").trigger()
    assert view.isColumnHidden(venue)
    assert not view.isColumnHidden(connection)
    view.sortByColumn(column_index("symbol"), Qt.SortOrder.AscendingOrder)
    view.save_layout()
    # a new view on the same settings comes back the same
    again = OrdersView(window.settings)
    again.setModel(window.orders_proxy)
    assert again.isColumnHidden(venue)
    assert not again.isColumnHidden(connection)
    assert again.horizontalHeader().sortIndicatorSection() == column_index("symbol")
    again.deleteLater()
    # restore default layout
    restore = view.build_header_menu().findChild(type(menu.actions()[0]), "restoreDefaultLayout")
    restore.trigger()
    for i, column in enumerate(COLUMNS):
        assert view.isColumnHidden(i) == (not column.visible)
    menu.deleteLater()


def test_settings_are_kept_in_blotter_home(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    settings = UiSettings()
    assert "blotter-home" in settings.q.fileName()
    settings.refresh_interval_s = 0.01  # clamped
    assert settings.refresh_interval_s == 1.0
    window = make_window(*demo_env[:2])
    from blotter.ui.dialogs.settings import SettingsDialog

    dialog = SettingsDialog(window.settings, window)
    dialog.interval.setValue(12)
    dialog.confirm_single.setChecked(False)
    dialog.applied.connect(window._settings_applied)
    dialog.accept()
    assert window.scheduler.interval_s == 12
    assert not window.settings.confirm_single_cancel
    assert QSettings(window.settings.q.fileName(), QSettings.Format.IniFormat).value("refresh/interval_s") == 12


def test_successful_reads_stay_out_of_the_status_pane(make_window: Any, demo_env: Any) -> None:
    window: MainWindow = make_window(*demo_env[:2])
    actions = {e.action for e in window.status_model.entries()}
    assert str(Action.LIST_ORDERS) not in actions
    assert actions <= {str(Action.LOGIN), str(Action.REFRESH_TOKEN)}


def test_keys_survive_updates_in_selection(qtbot: Any, make_window: Any, demo_env: Any) -> None:
    window = make_window(*demo_env[:2])
    keys = window.orders_proxy.view_keys()[3:6]
    window.orders_view.select_keys(keys)
    window.refresh_now()
    task = window.tasks.spawn(window.scheduler.refresh_once())
    qtbot.waitUntil(task.done, timeout=10_000)
    window.orders_model.flush()
    assert sorted(window.orders_view.selected_keys()) == sorted(keys)
    assert all(isinstance(k, OrderKey) for k in keys)
