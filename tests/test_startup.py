"""Start-up stays light: eth_account (about a second to import) loads only when a tanX wallet signs.

Each check runs in a fresh interpreter: in this test process other tests have long imported everything.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
from typing import Any

from blotter.core import Venue
from blotter.core.connection import ConnectionSpec
from blotter.core.eth import to_checksum_address
from blotter.venues.http import tls_context


def _run(code: str) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_demo_starts_without_importing_eth_account_or_keyring() -> None:
    """The entry modules, the demo scenario, its simulators serving, and its tanX connections' addresses:
    none of it imports eth_account (a top-level import in venues/tanx.py or sim/tanx.py fails this)."""
    out = _run("""
        import json, sys
        import blotter.cli, blotter.ui.app, blotter.ui.main_window, blotter.venues.registry
        import blotter.venues.tanx, blotter.sim.tanx
        from blotter.cli import demo_environment

        with demo_environment(7) as (specs, store, sims):
            tanx = [s for s in specs if s.venue.value == "tanx"]
            wallets = sorted(w.address for w in sims["tanx"].wallets.values())
            print(json.dumps({"loaded": "eth_account" in sys.modules, "keyring": "keyring" in sys.modules,
                              "tanx": len(tanx),
                              "addresses": sorted(s.option("eth_address") for s in tanx),
                              "wallets": wallets}))
    """)
    assert out["loaded"] is False
    assert out["keyring"] is False  # the demo keeps its secrets in memory; keyring loads with a keyring store
    assert out["tanx"] == 2 and out["addresses"] == out["wallets"]


def test_a_wallet_connection_imports_the_signer_off_the_calling_thread_and_logs_in() -> None:
    """Creating a wallet adapter starts the import on a worker thread; its first login awaits it and signs;
    the simulator verifies the signature (its own first use of eth_account, also off its event loop)."""
    out = _run("""
        import asyncio, json, sys, threading
        from blotter.core import Venue
        from blotter.core.connection import ConnectionSpec
        from blotter.sim.runner import SimServer, SimSet
        import blotter.venues.tanx as tanx

        threads = []
        real_import = tanx._import_signer

        def spy():
            threads.append(threading.current_thread().name)
            return real_import()

        tanx._import_signer = spy
        key = "0x" + "11" * 32
        scenario = {"tanx": {"wallets": [{"name": "Alpha", "private_key": key}], "orders": []}}
        with SimServer(SimSet.from_scenario(scenario)) as server:
            spec = ConnectionSpec(name="tx", venue=Venue.TANX, base_url=server.urls["tanx"])

            async def login():
                adapter = tanx.TanxAdapter(spec, {"private_key": key})
                try:
                    return [a.account_id for a in await adapter.list_accounts()], adapter.eth_address
                finally:
                    await adapter.aclose()

            accounts, address = asyncio.run(login())
        print(json.dumps({"threads": threads, "accounts": accounts, "address": address}))
    """)
    assert out["threads"] == ["blotter-eth-import"]  # once per process, never on the caller's thread
    assert out["accounts"] == [out["address"]]


def test_a_pasted_token_connection_never_imports_eth_account() -> None:
    out = _run("""
        import json, sys
        from blotter.core import Venue
        from blotter.core.connection import ConnectionSpec
        from blotter.venues.tanx import TanxAdapter

        spec = ConnectionSpec(name="tx", venue=Venue.TANX, base_url="http://127.0.0.1:9",
                              options={"eth_address": "0x" + "ab" * 20})
        adapter = TanxAdapter(spec, {"access_token": "a", "refresh_token": "r"})
        print(json.dumps({"loaded": "eth_account" in sys.modules, "address": adapter.eth_address}))
    """)
    assert out["loaded"] is False
    assert out["address"] == to_checksum_address("0x" + "ab" * 20)


def test_connections_without_a_ca_bundle_share_one_verifying_tls_context() -> None:
    first = tls_context(ConnectionSpec(name="a", venue=Venue.TANX, base_url="https://a.example"))
    second = tls_context(ConnectionSpec(name="b", venue=Venue.AUTOSHARES, base_url="https://b.example"))
    assert isinstance(first, ssl.SSLContext) and first is second
    assert first.verify_mode is ssl.CERT_REQUIRED and first.check_hostname
