"""Reliability tests write docs/reliability.md at the end of the session (see reliability_support)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reliability_support import REPORT


@pytest.fixture(scope="session", autouse=True)
def _reliability_report() -> Iterator[None]:
    yield
    REPORT.write()
