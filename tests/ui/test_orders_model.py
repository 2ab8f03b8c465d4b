"""The orders model and its proxy, without widgets: diffs, marks, lingering, sorting, filtering."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt

from blotter.core import OrderKey, OrderStatus, Side
from blotter.ui.models.columns import COLUMNS, CancelMark, MarkKind, column_index, state_label
from blotter.ui.models.orders import KeyRole, MarkRole, OrdersTableModel
from blotter.ui.models.orders_proxy import OrdersProxyModel
from conftest import make_order

STATE = column_index("state")
SYMBOL = column_index("symbol")
SIDE = column_index("side")
QTY = column_index("quantity")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def new_model(clock: Any = None) -> OrdersTableModel:
    return OrdersTableModel(coalesce_ms=0, linger_s=5.0, **({"clock": clock} if clock else {}))


def display(model: Any, row: int, column: int) -> str:
    return str(model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole))


def test_model_inserts_changes_and_removes_by_key(qtmodeltester: Any) -> None:
    model = new_model()
    qtmodeltester.check(model)
    a, b, c = make_order(symbol="AAPL"), make_order(symbol="MSFT", side=Side.SELL), make_order(account="6304")
    model.apply([a, b, c])
    assert model.rowCount() == 0  # queued, not applied yet
    model.flush()
    assert model.rowCount() == 3
    assert model.keys() == [a.key, b.key, c.key]
    assert model.counts() == {("as-main", "6303"): 2, ("as-main", "6304"): 1}
    row = model.row_of(b.key)
    assert display(model, row, SYMBOL) == "MSFT"
    assert display(model, row, SIDE) == "Sell"
    assert model.data(model.index(row, 0), KeyRole) == b.key

    b2 = replace(b, filled=Decimal(40), remaining=Decimal(60), status=OrderStatus.PARTIALLY_FILLED)
    model.apply([b2], [a.key])
    model.flush()
    assert model.keys() == [b.key, c.key]
    assert display(model, model.row_of(b.key), STATE) == "partially filled"
    assert display(model, model.row_of(b.key), column_index("filled")) == "40"

    model.apply([replace(c, status=OrderStatus.CANCELLED)])  # terminal: the row leaves
    model.flush()
    assert model.keys() == [b.key]
    assert model.counts() == {("as-main", "6303"): 1}


def test_many_scattered_removals_compact_then_remove_one_block(qtmodeltester: Any) -> None:
    model = new_model()
    orders = [make_order() for _ in range(40)]
    model.apply(orders)
    model.flush()
    qtmodeltester.check(model)
    persistent = QPersistentModelIndex(model.index(model.row_of(orders[38].key), 2))
    doomed = [o.key for o in orders[::3]]
    model.apply(removals=doomed)
    model.flush()
    kept = [o.key for i, o in enumerate(orders) if i % 3]
    assert model.keys() == kept
    assert persistent.isValid()
    assert persistent.row() == model.row_of(orders[38].key)


def test_marks_show_the_cancel_lifecycle(qtmodeltester: Any) -> None:
    model = new_model()
    qtmodeltester.check(model)
    order = make_order()
    model.apply([order])
    model.flush()
    row = model.row_of(order.key)
    assert display(model, row, STATE) == "open"
    model.mark(order.key, CancelMark(MarkKind.CANCELLING))
    model.flush()
    assert display(model, row, STATE) == "cancelling…"
    assert model.data(model.index(row, STATE), Qt.ItemDataRole.FontRole).italic()
    model.mark(order.key, CancelMark(MarkKind.PENDING, "queued for cancellation"))
    model.flush()
    assert display(model, row, STATE) == "pending at venue"
    cancelling_bg = None
    model.mark(order.key, CancelMark(MarkKind.REJECTED, "Order cannot be cancelled outside of trading hours"))
    model.flush()
    assert display(model, row, STATE) == "rejected: Order cannot be cancelled outside of trading hours"
    tip = model.data(model.index(row, STATE), Qt.ItemDataRole.ToolTipRole)
    assert "venue said: Order cannot be cancelled outside of trading hours" in tip
    assert model.data(model.index(row, STATE), MarkRole).kind is MarkKind.REJECTED
    # a refresh of the still-open order keeps the mark
    model.apply([replace(order, filled=Decimal(1))])
    model.flush()
    assert display(model, row, STATE).startswith("rejected:")
    assert cancelling_bg is None


def test_in_flight_and_pending_look_different() -> None:
    model = new_model()
    a, b = make_order(), make_order()
    model.apply([a, b])
    model.mark(a.key, CancelMark(MarkKind.CANCELLING))
    model.mark(b.key, CancelMark(MarkKind.PENDING))
    model.flush()
    ia, ib = model.index(model.row_of(a.key), STATE), model.index(model.row_of(b.key), STATE)
    for role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.DisplayRole):
        assert model.data(ia, role) != model.data(ib, role)


def test_too_late_row_lingers_then_leaves(qtbot: Any) -> None:
    clock = FakeClock()
    model = new_model(clock)
    order = make_order()
    model.apply([order])
    model.flush()
    model.linger(order.key)
    model.apply([replace(order, status=OrderStatus.FILLED, filled=order.quantity, remaining=Decimal(0))])
    model.mark(order.key, CancelMark(MarkKind.TOO_LATE, "Order 1 is already filled"))
    model.flush()
    row = model.row_of(order.key)
    assert row >= 0
    assert display(model, row, STATE) == "too late — filled"
    assert model.counts() == {}  # not open any more
    model.apply(removals=[order.key])  # a refresh no longer lists it: it still lingers
    model.flush()
    assert model.row_of(order.key) >= 0
    clock.now += 10
    model._expire_lingering()
    model.flush()
    assert model.row_of(order.key) == -1


def test_a_stale_refresh_does_not_resurrect_a_confirmed_cancel() -> None:
    clock = FakeClock()
    model = new_model(clock)
    order = make_order()
    model.apply([order])
    model.flush()
    read_started = clock.now
    clock.now += 1
    model.remove([order.key])  # the venue confirmed the cancel
    model.flush()
    model.apply([order], started_at=read_started)  # a read that began before the confirmation
    model.flush()
    assert model.row_of(order.key) == -1
    clock.now += 1
    model.apply([order], started_at=clock.now)  # a later read that still lists it: believe it
    model.flush()
    assert model.row_of(order.key) >= 0


def test_formatting() -> None:
    model = new_model()
    o = make_order(quantity="0.0500", price="1834.5", filled="0")
    p = make_order(quantity="1500", price="0.000123")
    model.apply([o, p])
    model.flush()
    assert display(model, 0, QTY) == "0.05"
    assert display(model, 0, column_index("limit_price")) == "1,834.50"
    assert display(model, 1, QTY) == "1,500"
    assert display(model, 1, column_index("limit_price")) == "0.000123"
    assert display(model, 0, column_index("stop_price")) == ""
    for c in range(len(COLUMNS)):
        assert model.headerData(c, Qt.Orientation.Horizontal) == COLUMNS[c].header


# ---------------------------------------------------------------------- the proxy
def new_proxy(model: OrdersTableModel) -> OrdersProxyModel:
    proxy = OrdersProxyModel()
    proxy.setSourceModel(model)
    return proxy


def shown(proxy: OrdersProxyModel, column: int = SYMBOL) -> list[str]:
    return [display(proxy, r, column) for r in range(proxy.rowCount())]


def test_proxy_sorts_filters_and_scopes(qtmodeltester: Any) -> None:
    model = new_model()
    proxy = new_proxy(model)
    qtmodeltester.check(proxy)
    orders = [
        make_order(symbol="TSLA", side=Side.SELL, quantity="5"),
        make_order(symbol="AAPL", quantity="300"),
        make_order(symbol="MSFT", account="6304", quantity="20"),
        make_order("tanx-demo", "1042", symbol="ETH-USDC", side=Side.SELL, quantity="0.5"),
    ]
    model.apply(orders)
    model.flush()
    assert proxy.rowCount() == 4
    # default sort: newest first
    assert shown(proxy) == ["ETH-USDC", "MSFT", "AAPL", "TSLA"]
    proxy.sort(SYMBOL, Qt.SortOrder.AscendingOrder)
    assert shown(proxy) == ["AAPL", "ETH-USDC", "MSFT", "TSLA"]
    proxy.sort(SYMBOL, Qt.SortOrder.DescendingOrder)
    assert shown(proxy) == ["TSLA", "MSFT", "ETH-USDC", "AAPL"]
    proxy.sort(QTY, Qt.SortOrder.AscendingOrder)  # numeric, not text
    assert shown(proxy) == ["ETH-USDC", "TSLA", "MSFT", "AAPL"]

    proxy.set_filter_text("sell")
    assert shown(proxy) == ["ETH-USDC", "TSLA"]
    proxy.set_filter_text("sell ts")
    assert shown(proxy) == ["TSLA"]
    proxy.set_filter_text("open aapl")
    assert shown(proxy) == ["AAPL"]
    proxy.set_filter_text("")
    assert proxy.rowCount() == 4

    proxy.set_scope("as-main", "6303")
    assert shown(proxy) == ["TSLA", "AAPL"]
    proxy.set_scope("tanx-demo")
    assert shown(proxy) == ["ETH-USDC"]
    proxy.set_scope()
    assert proxy.rowCount() == 4
    for r in range(proxy.rowCount()):
        src = proxy.mapToSource(proxy.index(r, 1))
        assert proxy.mapFromSource(src).row() == r
        assert model.key_at(src.row()) == proxy.key_at(r)


def test_proxy_follows_updates_and_keeps_the_selection(qtmodeltester: Any) -> None:
    model = new_model()
    proxy = new_proxy(model)
    qtmodeltester.check(proxy)
    orders = [make_order(symbol=s) for s in ("AAPL", "MSFT", "NVDA", "AMZN", "TSLA")]
    model.apply(orders)
    model.flush()
    proxy.sort(STATE, Qt.SortOrder.AscendingOrder)
    selection = QItemSelectionModel(proxy)
    nvda = proxy.row_of(orders[2].key)
    selection.select(proxy.index(nvda, 0), QItemSelectionModel.SelectionFlag.Select
                     | QItemSelectionModel.SelectionFlag.Rows)

    def selected_keys() -> list[OrderKey]:
        return [proxy.key_at(i.row()) for i in selection.selectedRows()]

    assert selected_keys() == [orders[2].key]
    # its state changes, so it moves in a state-sorted view: still selected
    model.mark(orders[2].key, CancelMark(MarkKind.CANCELLING))
    model.flush()
    assert display(proxy, proxy.row_of(orders[2].key), STATE) == "cancelling…"
    assert selected_keys() == [orders[2].key]
    # rows around it come and go
    model.apply([make_order(symbol="META"), make_order(symbol="GOOG")], [orders[0].key, orders[4].key])
    model.flush()
    assert selected_keys() == [orders[2].key]
    assert sorted(shown(proxy)) == ["AMZN", "GOOG", "META", "MSFT", "NVDA"]
    # filtered out and back
    proxy.set_filter_text("cancelling")
    assert shown(proxy) == ["NVDA"]
    assert selected_keys() == [orders[2].key]
    model.mark(orders[2].key, CancelMark(MarkKind.PENDING))  # no longer matches the filter
    model.flush()
    assert proxy.rowCount() == 0
    proxy.set_filter_text("")
    assert proxy.rowCount() == 5


def _expected(model: OrdersTableModel, proxy: OrdersProxyModel) -> list[OrderKey]:
    rows = [model.row_at(r) for r in range(model.rowCount())]
    conn, acct = proxy.scope
    tokens = proxy.filter_text.casefold().split()
    keep = [
        r for r in rows
        if (not conn or r.order.key.connection == conn) and (not acct or r.order.key.account == acct)
        and all(t in r.search_text for t in tokens)
    ]
    keep.sort(key=lambda r: r.sort_key(proxy.sort_column), reverse=proxy.sort_order == Qt.SortOrder.DescendingOrder)
    return [r.order.key for r in keep]


@pytest.mark.parametrize(("seed", "steps", "tester"), [(1, 30, True), (2, 80, False), (3, 80, False), (4, 80, False)])
def test_proxy_matches_a_brute_force_view_under_random_updates(
    seed: int, steps: int, tester: bool, qtmodeltester: Any
) -> None:
    rng = random.Random(seed)
    model = new_model()
    proxy = new_proxy(model)
    if tester:  # Qt's model tester walks every row on every signal: keep that run small
        qtmodeltester.check(proxy)
    symbols = ["AAPL", "MSFT", "TSLA", "ETH-USDC"]
    live: dict[OrderKey, Any] = {}
    for _step in range(steps):
        action = rng.random()
        if (action < 0.35 and len(live) < 200) or not live:
            for _ in range(rng.choice([1, 2, 5, 80])):
                o = make_order(rng.choice(["a", "b"]), rng.choice(["1", "2"]), symbol=rng.choice(symbols),
                               side=rng.choice([Side.BUY, Side.SELL]), quantity=str(rng.randint(1, 50)),
                               minutes=rng.randint(0, 30))
                live[o.key] = o
                model.apply([o])
        elif action < 0.6:
            for key in rng.sample(list(live), min(len(live), rng.choice([1, 3, 70]))):
                o = live[key]
                status = rng.choice([OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL])
                live[key] = replace(o, status=status, quantity=Decimal(rng.randint(1, 50)),
                                    symbol=rng.choice(symbols))
                model.apply([live[key]])
        elif action < 0.75:
            for key in rng.sample(list(live), min(len(live), rng.choice([1, 2, 4, 30]))):
                model.apply(removals=[key])
                del live[key]
        elif action < 0.85:
            for key in rng.sample(list(live), min(len(live), 3)):
                model.mark(key, CancelMark(rng.choice([k for k in MarkKind if k is not MarkKind.TOO_LATE]), "words"))
        elif action < 0.92:
            proxy.sort(rng.randrange(len(COLUMNS)), rng.choice([Qt.SortOrder.AscendingOrder,
                                                               Qt.SortOrder.DescendingOrder]))
        elif action < 0.97:
            proxy.set_filter_text(rng.choice(["", "a", "aa", "aapl", "sell", "pending", "buy t", "open"]))
        else:
            proxy.set_scope(*rng.choice([("", ""), ("a", ""), ("a", "1"), ("b", "2")]))
        model.flush()
        assert set(model.keys()) == set(live)
        assert proxy.view_keys() == _expected(model, proxy)
        assert [proxy.data(proxy.index(r, 0), KeyRole) for r in range(proxy.rowCount())] == proxy.view_keys()


def test_state_label_covers_every_mark() -> None:
    order = make_order()
    from blotter.ui.models.columns import OrderRow

    labels = {state_label(OrderRow(order, CancelMark(kind, "x"))) for kind in MarkKind}
    assert len(labels) == len(MarkKind)
    assert state_label(OrderRow(order)) == "open"
    assert not QModelIndex().isValid()


# ---------------------------------------------------------------------- filtering 100k rows keeps the view's state
def _selection_on(proxy: OrdersProxyModel, keys: list[OrderKey], current: OrderKey) -> QItemSelectionModel:
    selection = QItemSelectionModel(proxy)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for key in keys:
        selection.select(proxy.index(proxy.row_of(key), 0), flags)
    selection.setCurrentIndex(proxy.index(proxy.row_of(current), SYMBOL), QItemSelectionModel.SelectionFlag.NoUpdate)
    return selection


def _selected(proxy: OrdersProxyModel, selection: QItemSelectionModel) -> list[OrderKey]:
    return sorted((proxy.key_at(i.row()) for i in selection.selectedRows()), key=str)


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
@pytest.mark.parametrize("column", [QTY, SYMBOL])  # the leaving rows: scattered (many blocks) / one block
def test_a_narrowing_filter_keeps_the_selection_and_the_current_row(
    order: Qt.SortOrder, column: int, qtmodeltester: Any
) -> None:
    model = new_model()
    proxy = new_proxy(model)
    qtmodeltester.check(proxy)
    orders = [make_order(symbol=("AAPL", "MSFT", "TSLA")[i % 3], quantity=str(i + 1)) for i in range(30)]
    model.apply(orders)
    model.flush()
    proxy.sort(column, order)
    aapl = [o.key for o in orders if o.symbol == "AAPL"]
    msft = [o.key for o in orders if o.symbol == "MSFT"]
    selection = _selection_on(proxy, [aapl[1], aapl[6], msft[3]], current=aapl[6])
    proxy.set_filter_text("aapl")  # narrowing: the MSFT and TSLA rows leave
    assert proxy.view_keys() == _expected(model, proxy)
    assert proxy.rowCount() == 10
    assert _selected(proxy, selection) == sorted([aapl[1], aapl[6]], key=str)
    assert proxy.key_at(selection.currentIndex().row()) == aapl[6]
    assert selection.currentIndex().column() == SYMBOL
    proxy.set_filter_text("aapl buy open")  # narrowing, nothing leaves
    assert proxy.rowCount() == 10
    assert proxy.key_at(selection.currentIndex().row()) == aapl[6]
    proxy.set_filter_text("")  # widening: everything back, the selection stays on its orders
    assert proxy.view_keys() == _expected(model, proxy)
    assert _selected(proxy, selection) == sorted([aapl[1], aapl[6]], key=str)
    assert proxy.key_at(selection.currentIndex().row()) == aapl[6]


def test_a_narrowing_filter_removes_leaving_rows_in_few_signals(qtmodeltester: Any) -> None:
    model = new_model()
    proxy = new_proxy(model)
    qtmodeltester.check(proxy)
    orders = [make_order(symbol=("AAPL", "MSFT")[i % 2], quantity=str(i + 1)) for i in range(40)]
    model.apply(orders)
    model.flush()
    proxy.sort(QTY, Qt.SortOrder.DescendingOrder)
    removed: list[tuple[int, int]] = []
    layouts: list[int] = []
    proxy.rowsAboutToBeRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    proxy.layoutChanged.connect(lambda *_args: layouts.append(proxy.rowCount()))
    proxy.set_filter_text("aapl")  # every other row leaves: one layout change, then one block
    assert removed == [(20, 39)]
    assert layouts == [40]
    assert proxy.view_keys() == _expected(model, proxy)
    removed.clear()
    layouts.clear()
    proxy.sort(SYMBOL, Qt.SortOrder.AscendingOrder)
    proxy.set_filter_text("")
    layouts.clear()
    proxy.set_filter_text("msft")  # the AAPL rows are one block at the top: removed as it is
    assert removed == [(0, 19)]
    assert layouts == []
    assert proxy.view_keys() == _expected(model, proxy)


def test_a_resort_keeps_a_large_selection(qtmodeltester: Any) -> None:
    model = new_model()
    proxy = new_proxy(model)
    qtmodeltester.check(proxy)
    orders = [make_order(symbol=f"S{(i * 7) % 25:02d}", quantity=str((i * 11) % 25 + 1)) for i in range(25)]
    model.apply(orders)
    model.flush()
    picked = sorted((o.key for o in orders[::2]), key=str)  # 13 rows: more persistent indexes than a few
    selection = _selection_on(proxy, picked, current=orders[4].key)
    for column, order in ((SYMBOL, Qt.SortOrder.AscendingOrder), (QTY, Qt.SortOrder.DescendingOrder),
                          (QTY, Qt.SortOrder.AscendingOrder), (STATE, Qt.SortOrder.AscendingOrder)):
        proxy.sort(column, order)
        assert proxy.view_keys() == _expected(model, proxy)
        assert _selected(proxy, selection) == picked
        assert proxy.key_at(selection.currentIndex().row()) == orders[4].key


def test_search_texts_are_prepared_while_idle_after_a_bulk_load(qtbot: Any, monkeypatch: Any) -> None:
    import blotter.ui.models.orders as orders_module

    monkeypatch.setattr(orders_module, "_BULK", 10)
    monkeypatch.setattr(orders_module, "_WARM_SLICE", 4)
    monkeypatch.setattr(orders_module, "settle_after_bulk", lambda: None)
    model = new_model()
    model.apply([make_order(symbol="AAPL") for _ in range(15)])
    model.flush()
    rows = [model.row_at(r) for r in range(model.rowCount())]
    assert rows[-1]._search is None  # not computed while the load itself runs: in slices afterwards
    qtbot.waitUntil(lambda: all(r._search is not None for r in rows))
    assert {r._search for r in rows} == {"aapl buy open open"}
    model.apply([make_order(symbol="MSFT")])  # a small insert: computed when a filter needs it
    model.flush()
    assert model.row_at(model.rowCount() - 1)._search is None
    proxy = new_proxy(model)
    proxy.set_filter_text("msft")
    assert proxy.rowCount() == 1


@pytest.mark.parametrize(("order", "expected"), [(Qt.SortOrder.AscendingOrder, [(20, 29), (0, 9)]),
                                                 (Qt.SortOrder.DescendingOrder, [(0, 9), (10, 19)])])
def test_leaving_blocks_are_removed_where_the_view_shows_them(
    order: Qt.SortOrder, expected: list[tuple[int, int]], qtmodeltester: Any
) -> None:
    model = new_model()
    proxy = new_proxy(model)
    qtmodeltester.check(proxy)
    orders = [make_order(symbol=("AAPL", "MSFT", "TSLA")[i % 3]) for i in range(30)]
    model.apply(orders)
    model.flush()
    proxy.sort(SYMBOL, order)
    msft = [o.key for o in orders if o.symbol == "MSFT"]
    selection = _selection_on(proxy, msft[:3], current=msft[5])
    removed: list[tuple[int, int, list[str]]] = []
    proxy.rowsAboutToBeRemoved.connect(
        lambda _parent, first, last: removed.append((first, last, shown(proxy)[first:last + 1])))
    proxy.set_filter_text("msft")  # the AAPL block and the TSLA block leave: two removals, no layout change
    assert [(first, last) for first, last, _symbols in removed] == expected
    for _first, _last, symbols in removed:
        assert len(set(symbols)) == 1 and symbols[0] != "MSFT"
    assert proxy.view_keys() == _expected(model, proxy)
    assert _selected(proxy, selection) == sorted(msft[:3], key=str)
    assert proxy.key_at(selection.currentIndex().row()) == msft[5]
