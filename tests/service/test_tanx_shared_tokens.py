"""M5: two processes on one profile share a pasted tanX token pair, and tanX refresh tokens are single-use.

The CLI refreshes first and stores the new pair; the long-running window then finds its own refresh token
refused. It must read the stored pair once (the newer one) and carry on, not tell the trader to paste tokens.
"""

from __future__ import annotations

import asyncio
from typing import Any

from blotter.core import ConnectionSpec, Venue
from blotter.service import BlotterService, OrderFilter
from blotter.sim.tanx import address_of
from blotter.store.credentials import MemoryCredentialStore

KEY = "0x" + "5d" * 32
ADDRESS = address_of(KEY)


def _service(url: str, creds: MemoryCredentialStore) -> BlotterService:
    spec = ConnectionSpec("txp", Venue.TANX, url, {"eth_address": ADDRESS}, timeout_s=3.0)
    return BlotterService([spec], creds, reconcile_timeout_s=1.0)


async def test_a_refused_refresh_token_uses_the_pair_another_process_stored(serve: Any) -> None:
    sims, urls = serve({"tanx": {
        "wallets": [{"name": "Desk", "private_key": KEY}], "single_use_refresh": True,
        "orders": [{"id": 5, "wallet": ADDRESS, "market": "btcusdc", "side": "buy", "ord_type": "limit",
                    "price": "60000", "origin_volume": "0.5", "state": "wait"}]}})
    sim = sims["tanx"]
    access, refresh = sim.issue_tokens(ADDRESS)
    creds = MemoryCredentialStore({("txp", "access_token"): access, ("txp", "refresh_token"): refresh})
    window, cli = _service(urls["tanx"], creds), _service(urls["tanx"], creds)
    try:
        assert not (await window.open_orders(OrderFilter())).failures
        sim.expire_access_tokens()
        first = await cli.open_orders(OrderFilter())  # refreshes R0 -> R1 and stores the new pair
        assert not first.failures
        await cli.aclose()  # its token write is finished
        assert creds.get("txp", "refresh_token") != refresh

        listing = await window.open_orders(OrderFilter())  # 401 -> R0 refused -> the stored R1 pair
        assert not listing.failures, listing.failures
        assert [o.order_id for o in listing.orders] == ["5"]
        # and the window keeps working on the pair it found, without writing it back or logging in again
        sim.expire_access_tokens()
        again = await window.open_orders(OrderFilter())
        assert not again.failures, again.failures
    finally:
        await window.aclose()
        await cli.aclose()
    refreshes = sim.requests_matching("POST", r"/auth/token/refresh/?$")
    assert [r.status for r in refreshes] == [200, 401, 200]


async def test_two_processes_logging_in_with_one_wallet_both_get_in(serve: Any) -> None:
    """tanX keeps one nonce per wallet: the second nonce replaces the first, whose login is then refused
    (RELIABILITY-FINDINGS L3). The refused login asks for a fresh nonce once; both sessions get in."""
    sims, urls = serve({"tanx": {"wallets": [{"name": "Desk", "private_key": KEY}], "one_nonce": True,
                                 "orders": []}})
    sim = sims["tanx"]
    creds = MemoryCredentialStore({("tx", "private_key"): KEY})
    spec = ConnectionSpec("tx", Venue.TANX, urls["tanx"], timeout_s=5.0)
    window = BlotterService([spec], creds)
    cli = BlotterService([spec], creds)
    held = sim.add_fault({"method": "POST", "path": r"/auth/v2/login/?$|/v2/auth/login/?$", "action": "hold",
                          "times": 1})
    try:
        both = asyncio.gather(window.accounts(), cli.accounts())
        await wait_until(lambda: len(sim.requests_matching("POST", r"nonce")) >= 2)
        held.release()
        first, second = await both
    finally:
        await window.aclose()
        await cli.aclose()
    assert not first.failures and not second.failures, (first.failures, second.failures)
    logins = sim.requests_matching("POST", r"/auth/v2/login/?$|/v2/auth/login/?$")
    assert sorted(r.status for r in logins) == [200, 200, 400]  # one refusal, then a fresh nonce


async def wait_until(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)
