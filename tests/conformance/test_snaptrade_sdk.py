"""The official ``snaptrade-python-sdk`` 13.x against our simulator, and our signing against the SDK's.

The SDK lives in its own virtual environment (``.venv-sdk-snaptrade``; override with
``BLOTTER_SNAPTRADE_SDK_PYTHON``) and is driven by ``snaptrade_sdk_client.py`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blotter.core import OrderKey, Venue
from blotter.sim.snaptrade import SnapTradeSim
from blotter.venues.base import ConnectionSpec
from blotter.venues.snaptrade import SnapTradeAdapter, encode_query, sign

pytestmark = pytest.mark.conformance

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("snaptrade_sdk_client.py")
CID = "SDK-CONFORMANCE"
KEY = "ck/conformance+key=ü"
UID = "sdk-user"
SECRET = "sdk/se cr+et&=ü"
A1 = "917c8734-8470-4a3e-a18f-57c3f2ee6631"
RO = "65e839a3-9103-4cfb-9b72-2071ef80c5f2"
DAY = 86400


def sdk_python() -> str:
    configured = os.environ.get("BLOTTER_SNAPTRADE_SDK_PYTHON", ".venv-sdk-snaptrade/bin/python")
    path = Path(configured)
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        reason = (f"official SnapTrade SDK interpreter not found at {path}; create it with "
                  "`python3 -m venv .venv-sdk-snaptrade && .venv-sdk-snaptrade/bin/pip install "
                  "snaptrade-python-sdk==13.0.49` or set BLOTTER_SNAPTRADE_SDK_PYTHON")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return str(path)


def scenario() -> dict[str, Any]:
    def order(oid: str, account: str = A1, **fields: Any) -> dict[str, Any]:
        return {
            "brokerage_order_id": oid, "account_id": account, "symbol": "NVDA", "description": "NVIDIA",
            "currency": "USD", "exchange": "NASDAQ", "action": "BUY", "order_type": "Limit",
            "time_in_force": "GTC", "total_quantity": "15", "filled_quantity": "0", "limit_price": "118.40",
            "status": "ACCEPTED", "time_placed": -DAY, **fields,
        }

    return {
        "clients": [{"client_id": CID, "consumer_key": KEY}],
        "users": [{"user_id": UID, "user_secret": SECRET, "accounts": [A1, RO]}],
        "accounts": [
            {"id": A1, "brokerage_authorization": "87b24961-b51e-4db8-9226-f198f6518a89", "name": "Margin",
             "number": "51234567", "institution_name": "Questrade",
             "balance": {"amount": 99.5, "currency": "USD"}},
            {"id": RO, "brokerage_authorization": "5a9b2c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d", "name": "IBKR",
             "number": "U7654321", "institution_name": "Interactive Brokers", "read_only": True,
             "balance": {"amount": 1, "currency": "USD"}},
        ],
        "orders": [
            order("8001"),
            order("8002", time_placed=-50 * DAY),
            order("8003", cancel={"mode": "accept", "delay_ms": 5000}),
            order("8004", cancel={"mode": "reject",
                                  "message": "Order is not cancellable in its current state"}),
            order("8005", status="EXECUTED"),
        ],
    }


def run_sdk(url: str, *actions: str, secret: str = SECRET) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sdk_python(), str(SCRIPT), "--host", url, "--client-id", CID, "--consumer-key", KEY,
         "--user-id", UID, "--user-secret", secret, *actions],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


async def test_sdk_lists_and_cancels_against_the_simulator(serve: Any) -> None:
    sims, urls = serve({"snaptrade": scenario()})
    sim: SnapTradeSim = sims["snaptrade"]
    results = run_sdk(
        urls["snaptrade"], "status", "accounts", "authorizations", f"orders:{A1}:open:90", f"orders:{A1}",
        f"detail:{A1}:8005", f"cancel:{A1}:8001", f"cancel:{A1}:8003", f"cancel:{A1}:8004",
        f"cancel:{RO}:8001", f"orders:{A1}:open:91",
    )
    by_action = {r["action"]: r for r in results}
    assert all(r["ok"] for r in results[:8]), results

    assert by_action["status"]["body"]["online"] is True
    accounts = by_action["accounts"]["body"]
    assert [a["id"] for a in accounts] == [A1, RO]
    assert accounts[0]["balance"]["total"] == {"amount": 99.5, "currency": "USD"}
    types = {a["id"]: a["type"] for a in by_action["authorizations"]["body"]}
    assert types == {"87b24961-b51e-4db8-9226-f198f6518a89": "trade",
                     "5a9b2c1d-0e3f-4a5b-8c7d-6e5f4a3b2c1d": "read"}

    open_90 = {o["brokerage_order_id"] for o in by_action[f"orders:{A1}:open:90"]["body"]}
    assert open_90 == {"8001", "8002", "8003", "8004"}  # 8002 is 50 days old
    default_window = {o["brokerage_order_id"] for o in by_action[f"orders:{A1}"]["body"]}
    assert default_window == {"8001", "8003", "8004", "8005"}
    assert by_action[f"detail:{A1}:8005"]["body"]["status"] == "EXECUTED"

    assert by_action[f"cancel:{A1}:8001"]["body"] == {
        "brokerage_order_id": "8001", "raw_response": {"order_id": "8001", "status": "CANCELLED"}}
    assert by_action[f"cancel:{A1}:8003"]["body"]["raw_response"]["status"] == "PENDING_CANCEL"
    refused = by_action[f"cancel:{A1}:8004"]
    assert (refused["ok"], refused["status"]) == (False, 400)
    assert refused["body"]["default_detail"] == "Order is not cancellable in its current state"
    forbidden = by_action[f"cancel:{RO}:8001"]
    assert (forbidden["ok"], forbidden["status"]) == (False, 403)
    too_wide = by_action[f"orders:{A1}:open:91"]  # the SDK does not check days itself; we do
    assert (too_wide["status"], set(too_wide["body"])) == (400, {"default_detail", "default_code"})

    assert sim.status("8001") == "CANCELED"
    assert sim.status("8003") == "CANCEL_PENDING"
    sim.clock.advance(5.1)
    assert sim.status("8003") == "CANCELED"
    assert sim.status("8004") == "ACCEPTED"

    # Every SDK request reached the simulator, and every signed one passed the signature check.
    log = [(r.method, r.path.rsplit("/", 1)[-1] or "/", r.status) for r in sim.requests]
    assert log == [
        ("GET", "/", 200), ("GET", "accounts", 200), ("GET", "authorizations", 200),
        ("GET", "orders", 200), ("GET", "orders", 200), ("POST", "details", 200),
        ("POST", "cancel", 200), ("POST", "cancel", 200), ("POST", "cancel", 400), ("POST", "cancel", 403),
        ("GET", "orders", 400),
    ]


async def test_our_signatures_equal_the_sdks_and_the_simulator_accepts_ours(serve: Any) -> None:
    sims, urls = serve({"snaptrade": scenario()})
    sim: SnapTradeSim = sims["snaptrade"]
    tricky = {"brokerage_order_id": "x", "note": "é ü 💡 \"quoted\" \\ /", "n": [1, 2.5, None, True]}
    sign_spec = {"consumer_key": KEY, "path": f"/accounts/{A1}/trading/cancel",
                 "query": "userId=a&userSecret=b%20c&clientId=C&timestamp=1", "content": tricky}
    results = run_sdk(urls["snaptrade"], f"orders:{A1}:open:90", f"cancel:{A1}:8001",
                      f"detail:{A1}:8005", "sign:" + json.dumps(sign_spec))

    # 1. Signature equality on the wire: recompute each SDK request's header with our sign().
    sdk_requests = sim.requests_matching(path="^/accounts")
    assert len(sdk_requests) == 3
    for entry in sdk_requests:
        content = json.loads(entry.body) if entry.body else None
        assert entry.headers["signature"] == sign(KEY, entry.path, entry.query, content)
    # ...and off the wire, for content the SDK would never build itself.
    assert results[-1]["body"] == sign(KEY, sign_spec["path"], sign_spec["query"], tricky)

    # 2. Our query string is the SDK's, byte for byte (up to the timestamp).
    sdk_listing = sdk_requests[0].query
    ours = encode_query([("state", "open"), ("days", 90), ("userId", UID), ("userSecret", SECRET),
                         ("clientId", CID)])
    assert sdk_listing.rsplit("&timestamp=", 1)[0] == ours

    # 3. Our adapter's requests to the same simulator are accepted.
    spec = ConnectionSpec(name="conf", venue=Venue.SNAPTRADE, base_url=urls["snaptrade"],
                          options={"client_id": CID, "user_id": UID})
    adapter = SnapTradeAdapter(spec, {"consumer_key": KEY, "user_secret": SECRET})
    try:
        orders = await adapter.list_open_orders(A1)
        receipt = await adapter.cancel(OrderKey("conf", A1, "8002"))
        detail = await adapter.get_order(A1, "8002")
    finally:
        await adapter.aclose()
    assert {o.order_id for o in orders} == {"8002", "8003", "8004"}
    assert receipt.response.http_status == 200
    assert detail.venue_status == "CANCELED"
    ours_logged = sim.requests[len(sdk_requests):]
    assert [r.status for r in ours_logged] == [200, 200, 200]
    assert ours_logged[0].query.rsplit("&timestamp=", 1)[0] == sdk_listing.rsplit("&timestamp=", 1)[0]


async def test_sdk_with_a_wrong_user_secret_gets_snaptrades_401(serve: Any) -> None:
    sims, urls = serve({"snaptrade": scenario()})
    [bad_user, bad_cancel] = run_sdk(urls["snaptrade"], "accounts", f"cancel:{A1}:8001", secret="not-it")
    assert (bad_user["status"], bad_user["body"]) == (
        401, {"detail": "Invalid userID or userSecret provided", "status_code": 401, "code": "1083"})
    assert bad_cancel["status"] == 401
    sim: SnapTradeSim = sims["snaptrade"]
    assert [r.status for r in sim.requests] == [401, 401]
    assert sim.status("8001") == "ACCEPTED"
