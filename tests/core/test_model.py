from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from blotter.core import (
    CancelOutcome,
    CancelResult,
    Order,
    OrderKey,
    OrderStatus,
    OrderType,
    Provenance,
    Side,
    Venue,
)
from blotter.core.connection import validate_connection_name
from blotter.core.errors import ConfigError
from blotter.core.urls import validate_base_url


def test_order_key_round_trips_and_rejects_garbage() -> None:
    key = OrderKey("as-demo", "6303", "73552")
    assert str(key) == "as-demo/6303/73552"
    assert OrderKey.parse(" as-demo/6303/73552 ") == key
    assert OrderKey.parse("snap/acc-1/ord/with/slashes") == OrderKey("snap", "acc-1", "ord/with/slashes")
    for bad in ("as-demo/6303", "a//c", "", "///", "a/b/ "):
        with pytest.raises(ValueError, match="not an order key"):
            OrderKey.parse(bad)


def test_status_partitions() -> None:
    terminal = {s for s in OrderStatus if s.is_terminal}
    assert terminal == {OrderStatus.CANCELLED, OrderStatus.FILLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
    assert OrderStatus.PENDING_CANCEL.is_open and not OrderStatus.UNKNOWN.is_open


def test_too_late_only_when_filled_and_not_cancelled() -> None:
    base = dict(key=OrderKey("c", "a", "1"), attempt_id="x", message="m", http_status=409, latency_ms=3.0,
                provenance=Provenance.CLI)
    late = CancelResult(outcome=CancelOutcome.REJECTED, final_status=OrderStatus.FILLED, **base)
    assert late.too_late and late.as_dict()["too_late"] is True
    ok = CancelResult(outcome=CancelOutcome.CANCELLED, final_status=OrderStatus.CANCELLED, **base)
    assert not ok.too_late and ok.outcome.is_success
    assert not CancelOutcome.UNKNOWN.is_success


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.autoshares.dev/", "https://api.autoshares.dev"),
        ("https://pub-api-et-demo-prod.etnasoft.us/api", "https://pub-api-et-demo-prod.etnasoft.us/api"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:9/api", "http://localhost:9/api"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_base_url_accepts(url: str, expected: str) -> None:
    assert validate_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://api.tanx.fi", "https is required"),
        ("http://10.0.0.5:80", "https is required"),
        ("ftp://x.y", "malformed"),
        ("api.tanx.fi", "malformed"),
        ("https://x.y:notaport", "malformed"),
        ("https://user:pw@x.y", "credentials"),
        ("https://x.y/?a=1", "query"),
    ],
)
def test_base_url_rejects_with_a_reason(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        validate_base_url(url)


def test_connection_names() -> None:
    assert validate_connection_name("tanx-alpha.2") == "tanx-alpha.2"
    for bad in ("", "a/b", "-x", "a b", "x" * 65):
        with pytest.raises(ConfigError):
            validate_connection_name(bad)


def test_decimals_print_exactly() -> None:
    from blotter.core.model import _dec

    assert _dec(Decimal("100.0")) == "100"
    assert _dec(Decimal("0.0335")) == "0.0335"
    assert _dec(Decimal("1E+2")) == "100"
    assert _dec(None) is None


def _fresh(text: str) -> str:
    """A new string object equal to ``text`` (what parsing a venue's JSON produces for every order)."""
    return "".join(list(text))


def _order(order_id: str, quantity: str = "15", filled: str = "0", **kw: Any) -> Order:
    fields: dict[str, Any] = dict(
        key=OrderKey(_fresh("tanx-main"), _fresh("10023"), order_id), venue=Venue.TANX, symbol=_fresh("ETH-USDC"),
        side=Side.BUY, order_type=OrderType.LIMIT, quantity=Decimal(quantity), filled=Decimal(filled),
        remaining=Decimal(quantity) - Decimal(filled), limit_price=Decimal("1834.50"), stop_price=None,
        status=OrderStatus.OPEN, venue_status=_fresh("open"), created_at=None, time_in_force=_fresh("GTC"),
        venue_side=_fresh("buy"), venue_type=_fresh("limit"),
    )
    fields.update(kw)
    return Order(**fields)


def test_orders_share_the_values_that_repeat() -> None:
    from blotter.core import model

    model._DECIMALS.clear()  # the bounded table starts over when full: earlier tests must not fill it mid-test
    a, b = _order("1"), _order("2")
    assert a.key.connection is b.key.connection and a.key.account is b.key.account
    for name in ("symbol", "venue_status", "time_in_force", "venue_side", "venue_type", "quantity", "filled",
                 "remaining"):
        assert getattr(a, name) is getattr(b, name), name
    assert replace(a, key=b.key) == b  # nothing visible changed
    assert a.as_dict()["quantity"] == "15"


def test_sharing_never_changes_what_a_value_says() -> None:
    a, b = _order("1", quantity="15"), _order("2", quantity="15.0")
    assert a.quantity == b.quantity and a.quantity is not b.quantity  # equal, but printed differently
    assert str(b.quantity) == "15.0" and str(a.quantity) == "15"
    c, d = _order("3", filled="0"), _order("4", filled="-0")
    assert str(c.filled) == "0" and str(d.filled) == "-0"
    for odd in ("NaN", "sNaN", "Infinity"):
        assert str(_order("5", quantity="1", filled="0", remaining=Decimal(odd)).remaining) == odd
    member = _order("6", venue_status=OrderStatus.OPEN)  # a str subclass stays what it is
    assert member.venue_status is OrderStatus.OPEN


def test_the_table_of_shared_quantities_stays_bounded() -> None:
    from blotter.core import model

    for i in range(model._DECIMALS_MAX + 50):
        _order(str(i), quantity=str(i + 1))
    assert len(model._DECIMALS) <= model._DECIMALS_MAX + 3
