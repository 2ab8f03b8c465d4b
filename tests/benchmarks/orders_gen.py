"""The benchmark's open orders as plain records, the same for every peer (pure Python, no Blotter import).

Both sides of a comparison build their own order objects from these records *before* the clock starts:
Blotter's ``core.Order`` (``to_blotter``) and vn.py's ``OrderData`` (in ``vnpy_monitor.py``, which runs in
vn.py's own environment and imports only this module).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

SYMBOLS = [
    "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AVGO", "JPM", "V", "XOM", "UNH", "MA", "HD",
    "PG", "COST", "JNJ", "ABBV", "WMT", "NFLX", "BAC", "CRM", "ORCL", "KO", "PEP", "AMD", "ADBE", "TMO",
    "CSCO", "MCD", "INTC", "QCOM", "TXN", "IBM", "GE", "CAT", "BA", "DIS", "NKE", "SBUX", "PYPL", "UBER",
    "SHOP", "SQ", "PLTR", "COIN", "SNOW", "ROKU", "ZM", "F", "GM", "T", "VZ", "PFE", "MRK", "LLY", "CVX",
    "SPY", "QQQ", "IWM", "DIA", "GLD", "SLV", "TLT", "ETH-USDC", "BTC-USDC", "SOL-USDC", "MATIC-USDC",
]
SIDES = ["buy", "sell", "sell_short", "buy_to_cover"]
SIDE_WEIGHTS = [50, 35, 10, 5]
TYPES = ["limit", "stop", "stop_limit"]
TYPE_WEIGHTS = [74, 14, 12]
VENUES = ["autoshares", "snaptrade", "tanx"]
BASE_TIME = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def make_records(n: int, accounts: int = 50, seed: int = 42) -> list[dict[str, Any]]:
    """``n`` open orders spread over ``accounts`` accounts (three connections, one per venue)."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for i in range(n):
        account = i % accounts
        venue = VENUES[account % len(VENUES)]
        symbol = rng.choice(SYMBOLS)
        price = round(rng.uniform(5, 900), 2)
        quantity = rng.randint(1, 40) * 5
        partial = rng.random() < 0.1
        records.append({
            "venue": venue,
            "connection": f"{venue}-bench",
            "account": str(10_000 + account),
            "order_id": str(1_000_000 + i),
            "symbol": symbol,
            "side": rng.choices(SIDES, SIDE_WEIGHTS)[0],
            "type": rng.choices(TYPES, TYPE_WEIGHTS)[0],
            "quantity": quantity,
            "filled": 5 if partial else 0,
            "price": price,
            "status": "partially_filled" if partial else "open",
            "created_s": rng.randint(0, 6 * 24 * 3600),  # seconds after BASE_TIME
        })
    return records


def refreshed(records: list[dict[str, Any]], fraction: float = 0.01, seed: int = 7) -> list[dict[str, Any]]:
    """A refresh: ``fraction`` of the orders got a (further) partial fill; returns only those, changed."""
    rng = random.Random(seed)
    picks = rng.sample(range(len(records)), max(1, int(len(records) * fraction)))
    out = []
    for i in sorted(picks):
        r = dict(records[i])
        if r["filled"] + 5 < r["quantity"]:
            r["filled"] += 5
        r["status"] = "partially_filled"
        out.append(r)
    return out


def to_blotter(record: dict[str, Any]) -> Any:
    """A ``blotter.core.Order`` (imported here so vn.py's environment never needs Blotter)."""
    from decimal import Decimal

    from blotter.core import NO_RAW, Order, OrderKey, OrderStatus, OrderType, Side, Venue

    quantity, filled = Decimal(record["quantity"]), Decimal(record["filled"])
    price = Decimal(str(record["price"]))
    kind = OrderType(record["type"])
    created = BASE_TIME + timedelta(seconds=record["created_s"])
    # every field an adapter fills for a listed order, each a fresh object as parsing makes it (the
    # venue's own side/type/status words, both times); like the adapters' listings, no raw venue JSON
    return Order(
        key=OrderKey(record["connection"], record["account"], record["order_id"]),
        venue=Venue(record["venue"]), symbol=record["symbol"], side=Side(record["side"]), order_type=kind,
        quantity=quantity, filled=filled, remaining=quantity - filled,
        limit_price=None if kind is OrderType.STOP else price,
        stop_price=price if kind is not OrderType.LIMIT else None,
        status=OrderStatus(record["status"]), venue_status="".join(record["status"]),
        created_at=created, time_in_force="".join("GTC"),
        venue_side=record["side"].title().replace("_", ""), venue_type=record["type"].title().replace("_", ""),
        updated_at=created + timedelta(seconds=1), raw=NO_RAW,
    )
