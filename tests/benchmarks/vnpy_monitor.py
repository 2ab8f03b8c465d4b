"""Figure 2, vn.py's side: the benchmark's open orders into vn.py's ``ActiveOrderMonitor``, as vn.py delivers them.

Runs in vn.py's own environment (``tests/benchmarks/setup-vnpy`` makes ``.venv-bench-vnpy``; vnpy 4.5 pins
PySide6 6.8.2.1) and imports nothing from Blotter — only ``orders_gen`` for the same order records::

    .venv-bench-vnpy/bin/python tests/benchmarks/vnpy_monitor.py --rows 10000

vn.py's own objects and path: ``create_qapp`` (its style and font), an ``EventEngine`` and a ``MainEngine``
(which starts the OMS and log engines), the ``ActiveOrderMonitor`` widget shown at 1280×800 offscreen;
each order is one ``EVENT_ORDER`` put on the event engine, as a gateway does. The clock runs from the
first put until the monitor holds every order and has repainted. Prints one ``BENCH-RESULT`` JSON line.
Run it with a throw-away ``HOME``: vn.py writes its settings and logs under ``~/.vntrader``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(__file__))

from orders_gen import BASE_TIME, make_records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    import vnpy
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QEventLoop, QTimer
    from vnpy.event import Event, EventEngine
    from vnpy.trader.constant import Direction, Exchange, OrderType, Status
    from vnpy.trader.engine import MainEngine
    from vnpy.trader.event import EVENT_ORDER
    from vnpy.trader.object import OrderData
    from vnpy.trader.ui import create_qapp
    from vnpy.trader.ui.widget import ActiveOrderMonitor

    qapp = create_qapp()
    directions = {"buy": Direction.LONG, "buy_to_cover": Direction.LONG, "sell": Direction.SHORT,
                  "sell_short": Direction.SHORT}
    types = {"limit": OrderType.LIMIT, "stop": OrderType.STOP, "stop_limit": OrderType.STOP}
    statuses = {"open": Status.NOTTRADED, "partially_filled": Status.PARTTRADED}
    orders = [
        OrderData(
            gateway_name=r["connection"], symbol=r["symbol"], exchange=Exchange.LOCAL, orderid=r["order_id"],
            type=types[r["type"]], direction=directions[r["side"]], price=r["price"], volume=r["quantity"],
            traded=r["filled"], status=statuses[r["status"]], reference=r["account"],
            datetime=BASE_TIME + timedelta(seconds=r["created_s"]),
        )
        for r in make_records(args.rows, args.accounts)
    ]

    event_engine = EventEngine()
    main_engine = MainEngine(event_engine)
    monitor = ActiveOrderMonitor(main_engine, event_engine)
    monitor.resize(1280, 800)
    monitor.show()
    qapp.processEvents()

    loop = QEventLoop()
    done: dict[str, float] = {}
    t0 = time.perf_counter()

    def check() -> None:
        if len(monitor.cells) >= args.rows or time.perf_counter() - t0 > args.timeout:
            monitor.viewport().repaint()
            done["t"] = time.perf_counter()
            loop.quit()

    poll = QTimer()
    poll.setInterval(2)
    poll.timeout.connect(check)
    poll.start()
    for order in orders:  # a gateway pushes one event per order
        event_engine.put(Event(EVENT_ORDER, order))
    loop.exec()
    poll.stop()
    elapsed_ms = (done["t"] - t0) * 1000
    shown = sum(1 for row in range(monitor.rowCount()) if not monitor.isRowHidden(row))
    result = {
        "figure": "vnpy", "peer": "vnpy", "rows": args.rows, "ingest_ms": elapsed_ms,
        "rows_ok": monitor.rowCount() == args.rows and shown == args.rows,
        "timed_out": len(monitor.cells) < args.rows,
        "vnpy": vnpy.__version__, "pyside6": pyside_version,
    }
    main_engine.close()
    sys.stdout.write("BENCH-RESULT " + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(0)  # vn.py's engine threads and loguru sinks need not be torn down one by one


if __name__ == "__main__":
    raise SystemExit(main())
