"""Figure 1 (and Blotter's side of figure 2): open orders into a sorted, filterable table view.

    python tests/benchmarks/bench_orders.py --rows 100000            # Blotter: OrdersTableModel + OrdersProxyModel
    python tests/benchmarks/bench_orders.py --rows 10000 --peer qsfpm  # a plain model behind QSortFilterProxyModel

One process per run (clean memory and garbage-collector state). Each step runs inside the Qt event loop
under a 1 ms heartbeat (``qtbench.measure``) in a real ``QTableView`` (Blotter's ``OrdersView``), shown
offscreen at 1280×800 and repainted synchronously at the end of each step:

- ingest: every order handed to the model at once (what a first refresh does), sorted by Created, newest first;
- refresh: 1 % of the orders changed (a further partial fill);
- re-sort: by Symbol (a header click);
- filter: the first keystroke in the filter box ("m");
then RSS. Prints one ``BENCH-RESULT`` JSON line with timings and correctness checks.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from itertools import pairwise
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import qtbench
from orders_gen import make_records, refreshed, to_blotter
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSettings, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QTableView

FILTER_TEXT = "m"


def measure_step(out: dict[str, Any], name: str, change: Any, viewport: Any) -> None:
    """Run ``change`` in the Qt loop under the heartbeat, then repaint ``viewport``; record the three times."""

    def op() -> dict[str, float]:
        t0 = time.perf_counter()
        change()
        t1 = time.perf_counter()
        viewport.repaint()
        t2 = time.perf_counter()
        return {"model_ms": (t1 - t0) * 1000, "painted_ms": (t2 - t0) * 1000}

    r = qtbench.measure(op)
    out[f"{name}_ms"] = r["model_ms"]
    out[f"{name}_painted_ms"] = r["painted_ms"]
    out[f"{name}_stall_ms"] = r["stall_ms"]


def run_blotter(n: int, accounts: int) -> dict[str, Any]:
    from blotter.ui.models.columns import column_index
    from blotter.ui.models.orders import OrdersTableModel
    from blotter.ui.models.orders_proxy import OrdersProxyModel
    from blotter.ui.settings import UiSettings
    from blotter.ui.widgets.orders_view import OrdersView

    qtbench.app()
    records = make_records(n, accounts)
    orders = [to_blotter(r) for r in records]
    changes = [to_blotter(r) for r in refreshed(records)]
    del records  # the benchmark's plain records are not part of any peer's memory
    gc.collect()
    rss_before = qtbench.rss_mb()

    model = OrdersTableModel()
    proxy = OrdersProxyModel()
    proxy.setSourceModel(model)
    settings = UiSettings(QSettings(os.path.join(tempfile.mkdtemp(), "w.ini"), QSettings.Format.IniFormat))
    view = OrdersView(settings)
    view.setModel(proxy)
    view.resize(1280, 800)
    view.show()
    vp = view.viewport()
    out: dict[str, Any] = {"peer": "blotter", "rows": n}

    def step(name: str, change: Any) -> None:
        measure_step(out, name, change, vp)

    def ingest() -> None:
        model.apply(orders)
        model.flush()

    def refresh() -> None:
        model.apply(changes)
        model.flush()

    symbol = column_index("symbol")
    created = column_index("created_at")
    step("ingest", ingest)
    out["rows_ok"] = proxy.rowCount() == n and model.rowCount() == n
    out["sorted_ok"] = _blotter_sorted(proxy, model, created, descending=True)
    step("refresh", refresh)
    out["refresh_ok"] = all(model.order(o.key) == o for o in changes) and proxy.rowCount() == n
    step("resort", lambda: view.sortByColumn(symbol, Qt.SortOrder.AscendingOrder))
    out["resort_ok"] = _blotter_sorted(proxy, model, symbol, descending=False)
    step("filter", lambda: proxy.set_filter_text(FILTER_TEXT))
    expected = sum(1 for i in range(model.rowCount()) if FILTER_TEXT in model.row_at(i).search_text)
    shown = proxy.view_keys()
    out["filter_rows"] = len(shown)
    out["filter_ok"] = len(shown) == expected and _blotter_sorted(proxy, model, symbol, descending=False)
    gc.collect()
    out["rss_mb"] = qtbench.rss_mb()
    out["rss_delta_mb"] = out["rss_mb"] - rss_before
    view.close()
    return out


def _blotter_sorted(proxy: Any, model: Any, column: int, *, descending: bool) -> bool:
    rows = [model.row_at(model.row_of(k)) for k in proxy.view_keys()]
    values = [r.sort_value(column) for r in rows]
    if descending:
        values.reverse()
    return all(a <= b for a, b in pairwise(values))


class PlainOrdersModel(QAbstractTableModel):
    """The FIELD-NOTES peer: rows as tuples of display strings, one insert block, Python ``data()``."""

    def __init__(self, headers: list[str]) -> None:
        super().__init__()
        self.headers = headers
        self.rows: list[tuple[str, ...]] = []

    def rowCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Any = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        return None

    def headerData(self, section: int, orientation: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def insert(self, rows: list[tuple[str, ...]]) -> None:
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def replace(self, changes: dict[int, tuple[str, ...]]) -> None:
        last = len(self.headers) - 1
        for row, values in changes.items():
            self.rows[row] = values
            self.dataChanged.emit(self.index(row, 0), self.index(row, last))


def run_qsfpm(n: int, accounts: int) -> dict[str, Any]:
    from blotter.ui.models.columns import COLUMNS, OrderRow, column_index

    qtbench.app()
    records = make_records(n, accounts)
    headers = [c.header for c in COLUMNS]

    def texts(order: Any) -> tuple[str, ...]:
        r = OrderRow(order)
        return tuple(r.display(i) for i in range(len(COLUMNS)))

    rows = [texts(to_blotter(r)) for r in records]
    index_of = {r["order_id"]: i for i, r in enumerate(records)}
    changes = {index_of[r["order_id"]]: texts(to_blotter(r)) for r in refreshed(records)}
    gc.collect()
    rss_before = qtbench.rss_mb()
    model = PlainOrdersModel(headers)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    symbol, created = column_index("symbol"), column_index("created_at")
    proxy.setFilterKeyColumn(symbol)
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(created, Qt.SortOrder.DescendingOrder)
    view.resize(1280, 800)
    view.show()
    vp = view.viewport()
    out: dict[str, Any] = {"peer": "qsfpm", "rows": n}

    def step(name: str, change: Any) -> None:
        measure_step(out, name, change, vp)

    step("ingest", lambda: model.insert(rows))
    out["rows_ok"] = proxy.rowCount() == n
    step("refresh", lambda: model.replace(changes))
    out["refresh_ok"] = proxy.rowCount() == n
    step("resort", lambda: view.sortByColumn(symbol, Qt.SortOrder.AscendingOrder))
    values = [proxy.index(i, symbol).data() for i in range(proxy.rowCount())]
    out["resort_ok"] = all(a.casefold() <= b.casefold() for a, b in pairwise(values))
    step("filter", lambda: proxy.setFilterFixedString(FILTER_TEXT))
    out["filter_rows"] = proxy.rowCount()
    out["filter_ok"] = proxy.rowCount() == sum(1 for r in rows if FILTER_TEXT in r[symbol].casefold())
    gc.collect()
    out["rss_mb"] = qtbench.rss_mb()
    out["rss_delta_mb"] = out["rss_mb"] - rss_before
    view.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--peer", choices=("blotter", "qsfpm"), default="blotter")
    parser.add_argument("--profile", metavar="PATH", help="write a cProfile of the run here")
    args = parser.parse_args(argv)
    run = run_blotter if args.peer == "blotter" else run_qsfpm
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(run, args.rows, args.accounts)
        profiler.dump_stats(args.profile)
    else:
        result = run(args.rows, args.accounts)
    qtbench.emit({"figure": "orders", **result})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
