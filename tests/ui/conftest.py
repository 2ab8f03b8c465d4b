"""Fixtures for the Qt tests: one qasync loop for the session, Qt warnings fail tests, order factories.

The pattern from FIELD-NOTES: ordinary (sync) pytest-qt tests; one ``qasync.QEventLoop(qapp,
already_running=True)`` for the whole session; waits through ``qtbot.waitUntil``/``waitSignal`` (their
nested Qt loops drive the asyncio callbacks); teardown cancels leftover tasks and lets them finish, and
never calls ``loop.stop()``. The loop is made the thread's running loop only while a test that asks for
it runs, so asyncio tests elsewhere in the session still get loops of their own.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtWidgets import QApplication

import blotter.ui  # noqa: F401  (installs the PySide6 work-arounds before any Qt work)
from blotter.core import Order, OrderKey, OrderStatus, OrderType, Side, Venue

# The offscreen platform cannot do some window-manager things (size hints, raise) and says so.
_BENIGN_QT_MESSAGES = ("This plugin does not support",)  # offscreen: propagateSizeHints(), raise()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Qt warnings fail every test under tests/ui (qutebrowser's rule)."""
    here = os.path.dirname(__file__)
    for item in items:
        if not str(item.fspath).startswith(here):
            continue
        if item.get_closest_marker("qt_log_level_fail") is None:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
        item.add_marker(pytest.mark.qt_log_ignore(*_BENIGN_QT_MESSAGES))


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> QApplication:
    """Every Qt test has the QApplication (timers need its event dispatcher)."""
    return qapp


@pytest.fixture(scope="session")
def _qasync_loop(qapp: QApplication) -> Iterator[Any]:
    from blotter.ui.loop import BlotterEventLoop
    from blotter.ui.theme import app_font

    qapp.setFont(app_font())
    loop = BlotterEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)  # only while a test uses it (see qloop)
    yield loop
    # never loop.stop()/close() (they quit the QApplication); just stop the executor's QThreads
    executor = getattr(loop, "_QEventLoop__default_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


@pytest.fixture
def qloop(_qasync_loop: Any, qtbot: Any) -> Iterator[Any]:
    """The session's qasync loop, running for this test; leftover tasks are cancelled afterwards."""
    loop = _qasync_loop
    previous = asyncio.events._get_running_loop()
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            qtbot.waitUntil(lambda: all(t.done() for t in pending), timeout=10_000)
        asyncio.events._set_running_loop(previous)
        asyncio.set_event_loop(None)


_ids = itertools.count(1)
_BASE = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def make_order(
    connection: str = "as-main",
    account: str = "6303",
    order_id: str | None = None,
    *,
    symbol: str = "AAPL",
    side: Side = Side.BUY,
    status: OrderStatus = OrderStatus.OPEN,
    quantity: str = "100",
    filled: str = "0",
    price: str | None = "101.25",
    venue: Venue = Venue.AUTOSHARES,
    minutes: int | None = None,
) -> Order:
    n = next(_ids)
    oid = order_id or str(70000 + n)
    return Order(
        key=OrderKey(connection, account, oid), venue=venue, symbol=symbol, side=side,
        order_type=OrderType.LIMIT, quantity=Decimal(quantity), filled=Decimal(filled),
        remaining=Decimal(quantity) - Decimal(filled), limit_price=Decimal(price) if price else None,
        stop_price=None, status=status, venue_status=str(status),
        created_at=_BASE + timedelta(minutes=n if minutes is None else minutes),
        raw={"id": oid, "symbol": symbol},
    )


@pytest.fixture
def order_factory() -> Callable[..., Order]:
    return make_order


# ---------------------------------------------------------------------- the window against the simulators
def tame(scenario: dict[str, Any], per_account: int = 4) -> dict[str, Any]:
    """The demo scenario with every cancel succeeding, no read-only account, few orders, no latency."""
    from scenario_support import plain_and_small

    out = plain_and_small(scenario, per_account)
    for account in out["autoshares"]["accounts"]:
        account["access_type"] = "Full"
    for account in out["snaptrade"]["accounts"]:
        account["read_only"] = False
    return out


def environment(serve: Callable[..., Any], scenario: dict[str, Any], timeout_s: float = 3.0) -> tuple[Any, Any, Any]:
    """Serve a scenario; (specs, in-memory credentials, sims) like ``cli.demo_environment``."""
    from blotter.core import ConnectionSpec
    from blotter.sim.demo import demo_connections
    from blotter.store.credentials import MemoryCredentialStore

    sims, urls = serve(scenario)
    store = MemoryCredentialStore()
    specs = []
    for name, venue, options, secrets in demo_connections(scenario, urls):
        specs.append(ConnectionSpec(name=name, venue=Venue(venue), base_url=urls[venue], options=options,
                                    timeout_s=timeout_s))
        for field_name, value in secrets.items():
            store.set(name, field_name, value)
    return specs, store, sims


@pytest.fixture(scope="session")
def demo_scenario_7() -> dict[str, Any]:
    from blotter.sim.demo import demo_scenario

    return demo_scenario(7)


@pytest.fixture
def demo_env(serve: Callable[..., Any], demo_scenario_7: dict[str, Any]) -> tuple[Any, Any, Any]:
    import copy

    return environment(serve, copy.deepcopy(demo_scenario_7))


@pytest.fixture
def tame_env(serve: Callable[..., Any], demo_scenario_7: dict[str, Any]) -> tuple[Any, Any, Any]:
    return environment(serve, tame(demo_scenario_7))


@pytest.fixture
def make_window(qtbot: Any, qloop: Any, tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """Build a MainWindow over a fresh service, shown, refreshed once; closed cleanly afterwards."""
    from PySide6.QtCore import QSettings

    from blotter.service import BlotterService
    from blotter.service.refresh import RefreshPhase
    from blotter.ui.main_window import MainWindow
    from blotter.ui.settings import UiSettings

    made: list[tuple[Any, Any]] = []

    def make(specs: Any, store: Any, *, read_only: bool = False, reconcile_s: float = 10.0,
             confirm_single: bool = True, interval_s: float = 300.0, audit: Any = None) -> MainWindow:
        service = BlotterService(specs, store, read_only=read_only, reconcile_timeout_s=reconcile_s, audit=audit)
        settings = UiSettings(QSettings(str(tmp_path / f"window{len(made)}.ini"), QSettings.Format.IniFormat))
        settings.confirm_single_cancel = confirm_single
        settings.refresh_interval_s = interval_s
        # re-read quickly while reconciling (tests move the simulators' clock instead of waiting)
        service.coordinator._poll_initial_s = 0.05
        service.coordinator._poll_max_s = 0.2
        window = MainWindow(service, settings=settings, read_only=read_only)
        made.append((window, service))
        loaded: set[str] = set()
        window.scheduler.subscribe(
            lambda ev: loaded.add(ev.connection) if ev.phase is not RefreshPhase.STARTED else None)
        window.show()
        window.start()
        qtbot.waitUntil(lambda: loaded >= set(service.specs), timeout=20_000)
        qtbot.waitUntil(lambda: window.bridge.idle)  # the desk's events have reached the window's models
        window.orders_model.flush()
        return window

    yield make
    for window, service in made:
        async def close(w: Any = window, s: Any = service) -> None:
            await w.aclose()
            await s.aclose()

        task = qloop.create_task(close())
        try:
            qtbot.waitUntil(task.done, timeout=15_000)
        except Exception:
            import io

            out = io.StringIO()
            for pending in asyncio.all_tasks(qloop):
                pending.print_stack(file=out)
            raise AssertionError("closing the window hung:\n" + out.getvalue()) from None
        assert task.exception() is None
        window.close()
        window.deleteLater()
