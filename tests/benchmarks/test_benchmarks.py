"""Every benchmark figure, run once at a small size in CI (``BLOTTER_BENCH_SCALE=small``) and three times at
the issue's sizes by ``tests/benchmarks/run``. Assertions are about correctness only, never timing."""

from __future__ import annotations

import os

import pytest
from benchrun import FULL, REPEAT, ROOT, VNPY_PYTHON, run_script

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(1800 if FULL else 120)]


def _repeat() -> range:
    return range(REPEAT)


@pytest.mark.parametrize("peer", ["blotter", "qsfpm"])
def test_orders_table(peer: str) -> None:
    """Figure 1: ingest, 1 % refresh, re-sort, filter keystroke, RSS; Blotter and the QSortFilterProxyModel peer."""
    sizes = {"blotter": [100_000] if FULL else [2_000], "qsfpm": [10_000, 100_000] if FULL else [1_000]}[peer]
    for rows in sizes:
        for _ in _repeat():
            r = run_script("bench_orders.py", "--rows", rows, "--peer", peer)
            assert r["rows_ok"] and r["refresh_ok"] and r["resort_ok"] and r["filter_ok"], r
            assert r["filter_rows"] > 0
            if peer == "blotter":
                assert r["sorted_ok"], r


def test_vnpy_active_order_monitor_vs_blotter() -> None:
    """Figure 2: the same orders into vn.py's ActiveOrderMonitor (its own environment) and Blotter's view."""
    rows = 10_000 if FULL else 1_000
    if not VNPY_PYTHON.exists():
        if FULL:
            pytest.fail(f"no vn.py environment at {VNPY_PYTHON}: run tests/benchmarks/setup-vnpy")
        pytest.skip("no vn.py environment (tests/benchmarks/setup-vnpy makes one)")
    for _ in _repeat():
        ours = run_script("bench_orders.py", "--rows", rows, "--peer", "blotter")
        assert ours["rows_ok"]
        vnpy = run_script("vnpy_monitor.py", "--rows", rows, python=VNPY_PYTHON, timeout=900)
        assert vnpy["rows_ok"] and not vnpy["timed_out"], vnpy


def test_click_to_wire() -> None:
    """Figure 3: Delete on a selected row of the real window to the venue receiving the cancel."""
    rows, cancels = (100_000, 200) if FULL else (2_000, 10)
    for _ in _repeat():
        r = run_script("bench_click_to_wire.py", "--rows", rows, "--cancels", cancels)
        assert r["wire_ok"] and r["rows_ok"] and r["cancels"] == cancels, r


def test_cancel_all_against_a_rate_limited_venue() -> None:
    """Figure 4: cancel-all with the venue at 20 ms latency and 100 requests/s; every order cancelled."""
    orders, accounts = (1_000, 10) if FULL else (100, 2)
    for _ in _repeat():
        r = run_script("bench_cancel_all.py", "--orders", orders, "--accounts", accounts, "--latency-ms", 20,
                       "--rate", 100)
        assert r["all_cancelled"] and r["deletes"] >= orders, r
        assert r["reads"] < orders  # re-reads were batched


def test_snaptrade_adapter_vs_official_sdk() -> None:
    """Figure 5: list the open orders of 10 accounts, cancel 200 — our adapter and the official SDK."""
    accounts, orders, cancel = (10, 400, 200) if FULL else (3, 30, 12)
    sdk = os.environ.get("BLOTTER_SNAPTRADE_SDK_PYTHON") or str(ROOT / ".venv-sdk-snaptrade" / "bin" / "python")
    if FULL and not os.path.exists(sdk):
        pytest.fail(f"no snaptrade-python-sdk environment at {sdk}")
    for _ in _repeat():
        r = run_script("bench_snaptrade.py", "--accounts", accounts, "--orders", orders, "--cancel", cancel)
        assert r["blotter"]["cancel_ok"] == cancel and r["blotter"]["accounts"] == accounts, r
        if r["sdk"] is not None:
            assert r["sdk"]["cancel_ok"] == cancel and r["sdk"]["orders"] == orders, r


def test_cold_start_to_a_populated_window() -> None:
    """Figure 6: ``blotter --demo`` from spawn to a window with rows."""
    for _ in _repeat():
        r = run_script("bench_cold_start.py")
        assert r["rows_ok"], r
