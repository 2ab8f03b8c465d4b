"""The official tanX SDK (``tanx-connector`` 2.1.0, in its own venv) against the tanX simulator.

The SDK is an independent client: if it logs in, lists, cancels and refreshes its token unchanged, the
simulator speaks tanX's wire format (paths, envelope, 401 shape, form-encoded refresh) and not just ours.
The SDK environment: ``BLOTTER_TANX_SDK_PYTHON``, default ``<repo>/.venv-sdk-tanx/bin/python``, made with
``pip install tanx-connector==2.1.0 "sympy<1.13" "web3<7"`` (see ``packaging/dev``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from blotter.sim.tanx import TanxSim, address_of

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("tanx_sdk_client.py")
KEY = "0x" + "5a" * 32
ADDRESS = address_of(KEY)
OTHER = address_of("0x" + "6b" * 32)


def sdk_python() -> str:
    python = os.environ.get("BLOTTER_TANX_SDK_PYTHON") or str(REPO / ".venv-sdk-tanx" / "bin" / "python")
    if not Path(python).is_file():
        reason = (f"tanX SDK environment not found at {python}: python3 -m venv .venv-sdk-tanx && "
                  '.venv-sdk-tanx/bin/pip install tanx-connector==2.1.0 "sympy<1.13" "web3<7"')
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return python


def _order(order_id: int, **extra: Any) -> dict[str, Any]:
    base = {"id": order_id, "wallet": ADDRESS, "market": "btcusdc", "side": "buy", "ord_type": "limit",
            "price": "61000", "origin_volume": "0.2", "state": "wait",
            "created_at": f"2024-06-01T10:{order_id:02d}:00+00:00"}
    base.update(extra)
    return base


SCENARIO = {"tanx": {
    "wallets": [{"name": "SDK Wallet", "private_key": KEY,
                 "balances": [{"currency": "usdc", "balance": "2500", "locked": "0"}]},
                {"name": "Other", "eth_address": OTHER}],
    "access_ttl_s": 900, "refresh_ttl_s": 86400,
    "orders": [
        _order(11),
        _order(12, state="pending", side="sell", price="65000"),
        _order(13, cancel={"mode": "reject", "message": "Order is being matched"}),
        _order(14, state="done", executed_volume="0.2"),
        _order(15, market="ethusdc", price="3300", origin_volume="1.5"),
        _order(16, market="ethusdc", side="sell", price="3500", origin_volume="2"),
        {**_order(17), "wallet": OTHER},
    ],
}}

STEPS: list[dict[str, Any]] = [
    {"op": "health"},
    {"op": "login"},
    {"op": "auth_state"},
    {"op": "profile"},
    {"op": "balance"},
    {"op": "list_orders", "params": {"state": "wait"}},
    {"op": "list_orders", "params": {"limit": 2, "page": 2}},
    {"op": "advance_clock", "seconds": 901},  # the access token expires
    {"op": "cancel_order", "order_id": 11},  # 401 → the SDK refreshes and retries
    {"op": "auth_state"},
    {"op": "get_order", "order_id": 11},
    {"op": "cancel_order", "order_id": 13},
    {"op": "cancel_order", "order_id": 14},
    {"op": "cancel_order", "order_id": 17},
    {"op": "advance_clock", "seconds": 901},
    {"op": "list_orders", "params": {"market": "ethusdc", "state": "wait"}},  # a GET refreshes too
    {"op": "bulk_cancel", "data": {"market": "ethusdc", "side": "sell"}},
    {"op": "list_orders", "params": {"market": "ethusdc", "state": "wait"}},
]


def run_sdk(url: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = {"PATH": os.environ.get("PATH", ""), "TANX_PRIVATE_KEY": KEY, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sdk_python(), str(SCRIPT), url, ADDRESS], input=json.dumps(steps), capture_output=True, text=True,
        env=env, timeout=90, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(proc.stdout)["results"]
    assert [r["op"] for r in results] == [s["op"] for s in steps]
    return results


@pytest.mark.conformance
def test_the_official_sdk_logs_in_lists_cancels_and_refreshes(serve: Any) -> None:
    sdk_python()
    sims, urls = serve(SCENARIO)
    sim: TanxSim = sims["tanx"]
    results = run_sdk(urls["tanx"], STEPS)
    failed_unexpectedly = [r for i, r in enumerate(results) if not r["ok"] and i not in (11, 12, 13)]
    assert failed_unexpectedly == []
    (health, login, auth1, profile, balance, waiting, page2, _, cancel, auth2, after, rejected, not_open,
     foreign, _, eth_before, bulk, eth_after) = results

    assert health["result"]["message"] == "Working fine!"
    assert login["result"]["message"] == "Login Successful"
    assert login["result"]["token_keys"] == ["access", "refresh"]
    assert profile["result"]["payload"]["name"] == "SDK Wallet"
    assert balance["result"]["payload"][0]["currency"] == "usdc"
    assert [o["id"] for o in waiting["result"]["payload"]] == [16, 15, 13, 11]
    assert [o["id"] for o in page2["result"]["payload"]] == [14, 13]

    # the expired token was refreshed by the SDK itself, and the cancel went through on the retry
    assert cancel["result"]["message"] == "Order is successfully queued for cancellation"
    assert cancel["result"]["payload"]["state"] == "wait"
    assert auth2["result"]["authorization"] != auth1["result"]["authorization"]
    assert auth2["result"]["refresh"] != auth1["result"]["refresh"]
    assert (after["result"]["payload"]["state"], after["result"]["payload"]["cancel_reason"]) == (
        "cancel", "Order cancelled by user")
    assert sim.state_of(11) == "cancel"

    # refusals surface as requests.HTTPError with the envelope and the venue's words
    assert rejected["error"] == {"type": "HTTPError", "status": 400,
                                 "body": {"status": "error", "message": "Order is being matched", "payload": ""}}
    assert (not_open["error"]["status"], not_open["error"]["body"]["message"]) == (400, "Order is not open")
    assert (foreign["error"]["status"], foreign["error"]["body"]["message"]) == (400, "Order not found")
    assert sim.state_of(17) == "wait"

    assert [o["id"] for o in eth_before["result"]["payload"]] == [16, 15]
    assert bulk["result"] == {"status": "success", "message": "Orders are successfully queued for cancellation",
                              "payload": {}}
    assert [o["id"] for o in eth_after["result"]["payload"]] == [15]
    assert sim.state_of(16) == "cancel"

    # the wire, as the simulator saw it
    log = sim.requests
    assert [(r.method, r.path) for r in log[:2]] == [("GET", "/sapi/v1/health/"),
                                                     ("POST", "/sapi/v1/auth/v2/nonce/")]
    login_req = sim.requests_matching("POST", "/login/")[0]
    signature = json.loads(login_req.body)["user_signature"]
    assert signature.startswith("0x") and len(signature) == 132  # hexbytes 0.3: 0x-prefixed
    listing = sim.requests_matching("GET", "orders$")
    assert listing and all(r.path == "/sapi/v1/orders" for r in listing)  # no trailing slash, no redirect
    assert dict(parse_qsl(listing[0].query)) == {"limit": "50", "state": "wait"}
    refreshes = sim.requests_matching("POST", "refresh")
    assert [(r.path, r.status) for r in refreshes] == [("/sapi/v1/auth/token/refresh/", 200)] * 2
    assert all(r.headers["content-type"] == "application/x-www-form-urlencoded" for r in refreshes)
    assert all("authorization" not in r.headers for r in refreshes)
    first, second = (dict(parse_qsl(r.body))["refresh"] for r in refreshes)
    assert first != second  # the SDK kept the rotated refresh token
    cancels = [(r.status, json.loads(r.body)) for r in sim.requests_matching("POST", "orders/cancel/")]
    assert cancels[:2] == [(401, {"order_id": 11}), (200, {"order_id": 11})]
    assert len(sim.requests_matching("POST", "nonce")) == 1  # refreshed, never logged in again
