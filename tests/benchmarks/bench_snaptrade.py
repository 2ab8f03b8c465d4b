"""Figure 5: one support task — list the open orders of 10 accounts, cancel 200 — Blotter versus the SDK.

    python tests/benchmarks/bench_snaptrade.py --accounts 10 --orders 400 --cancel 200 --latency-ms 20

Each side gets a fresh SnapTrade simulator (its own process, the same scenario) and is used as its users
use it. Blotter: ``BlotterService.open_orders()`` (accounts and orders read concurrently), then the
cancels through the coordinator, each one *confirmed* by re-reading the order (SnapTrade only queues a
cancel) — what ``blotter orders`` then ``blotter cancel`` do. The SDK: ``snaptrade_sdk_task.py`` in the
SDK's own environment (``BLOTTER_SNAPTRADE_SDK_PYTHON`` or ``.venv-sdk-snaptrade``), one call after the
other, cancels not confirmed. The orders cancelled are the first N by (account id, order id) on both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import httpx
import scenarios

from blotter.core import CancelOutcome, ConnectionSpec, Provenance, Venue
from blotter.service import BlotterService
from blotter.sim import snaptrade as sim_snaptrade
from blotter.store.credentials import MemoryCredentialStore

ROOT = Path(__file__).resolve().parents[2]


def sdk_python() -> Path | None:
    env = os.environ.get("BLOTTER_SNAPTRADE_SDK_PYTHON")
    path = Path(env) if env else ROOT / ".venv-sdk-snaptrade" / "bin" / "python"
    return path if path.exists() else None


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("BENCH-RESULT " + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


async def _requests(url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as admin:
        return list((await admin.get(url.rstrip("/") + "/_sim/requests")).json())


async def blotter_side(url: str, scenario: dict[str, Any], n_cancel: int) -> dict[str, Any]:
    store = MemoryCredentialStore()
    specs = []
    for name, options, secrets in sim_snaptrade.demo_connections(scenario["snaptrade"], url):
        specs.append(ConnectionSpec(name=name, venue=Venue.SNAPTRADE, base_url=url, options=options,
                                    timeout_s=30.0))
        for field, value in secrets.items():
            store.set(name, field, value)
    service = BlotterService(specs, store, reconcile_timeout_s=30.0)
    try:
        t0 = time.perf_counter()
        listing = await service.open_orders()
        t1 = time.perf_counter()
        keys = sorted((o.key for o in listing.orders), key=lambda k: (k.account, k.order_id))[:n_cancel]
        results = await service.cancel(keys, Provenance.CLI)
        t2 = time.perf_counter()
    finally:
        await service.aclose()
    outcomes = Counter(str(r.outcome) for r in results)
    log = await _requests(url)
    return {"accounts": len(listing.accounts), "orders": len(listing.orders), "list_s": t1 - t0,
            "cancel_s": t2 - t1, "total_s": t2 - t0, "outcomes": dict(outcomes), "requests": len(log),
            "cancel_ok": outcomes.get(str(CancelOutcome.CANCELLED), 0)}


def sdk_side(python: Path, url: str, scenario: dict[str, Any], n_cancel: int) -> dict[str, Any]:
    section = scenario["snaptrade"]
    client, user = section["clients"][0], section["users"][0]
    out = subprocess.run(
        [str(python), str(Path(__file__).with_name("snaptrade_sdk_task.py")), "--host", url.rstrip("/"),
         "--client-id", client["client_id"], "--consumer-key", client["consumer_key"],
         "--user-id", user["user_id"], "--user-secret", user["user_secret"], "--cancel", str(n_cancel)],
        capture_output=True, text=True, timeout=600, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"the SDK run failed ({out.returncode}): {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1].split(" ", 1)[1])
    result["requests"] = len(asyncio.run(_requests(url)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--cancel", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=20)
    args = parser.parse_args(argv)
    python = sdk_python()
    scenario = scenarios.snaptrade(args.orders, args.accounts, latency_ms=args.latency_ms)
    with tempfile.TemporaryDirectory() as tmp:
        with scenarios.served_subprocess(scenario, Path(tmp)) as urls:
            ours = asyncio.run(blotter_side(urls["snaptrade"], scenario, args.cancel))
        sdk: dict[str, Any] | None = None
        if python is not None:
            with scenarios.served_subprocess(scenario, Path(tmp)) as urls:
                sdk = sdk_side(python, urls["snaptrade"], scenario, args.cancel)
    result: dict[str, Any] = {"figure": "snaptrade", "latency_ms": args.latency_ms, "cancel": args.cancel,
                              "blotter": ours, "sdk": sdk}
    if sdk is not None:
        result["ratio"] = sdk["total_s"] / ours["total_s"]
    _emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
