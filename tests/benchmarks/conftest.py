"""The benchmark suite: each figure is a script run in its own process; these tests run them and check
what they report is *correct* (rows present, sorted, filtered, requests received) — never how fast.

``BLOTTER_BENCH_SCALE=small`` (the default, CI's smoke run) uses small sizes and one run per figure;
``full`` (``tests/benchmarks/run``) the issue's sizes and three runs per figure. With
``BLOTTER_BENCH_RESULTS=FILE`` every result is appended there (JSON lines) for ``report.py``.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "benchmark: a benchmark figure (tests/benchmarks; small by default)")
