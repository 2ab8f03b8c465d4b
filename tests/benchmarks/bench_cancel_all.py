"""Figure 4: cancel-all of N orders against a venue with latency and a rate limit, versus the bound.

    python tests/benchmarks/bench_cancel_all.py --orders 1000 --latency-ms 20 --rate 100 --client-rate 97

The AutoShares simulator runs in its own process (``blotter sim serve``) with ``latency_ms`` and a rate
limit of ``rate`` requests per second; Blotter's service cancels every open order of every account the
way ``blotter cancel-all`` does (list, then the coordinator: each cancel confirmed by re-reading the
venue). The bound is max(N / rate, N × latency / the adapter's concurrency limit). ``--client-rate`` sets
``ConnectionSpec.rate_limit_per_s`` (the client-side limiter; 0 = none). The simulator's request log
says how many requests of each kind were sent and how many were answered 429.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from blotter.service.session import OrderFilter
from blotter.sim import autoshares as sim_autoshares
from blotter.store.credentials import MemoryCredentialStore
from blotter.venues.autoshares import AutoSharesAdapter


def _emit(result: dict[str, Any]) -> None:
    import json

    sys.stdout.write("BENCH-RESULT " + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


async def run(urls: dict[str, str], scenario: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    store = MemoryCredentialStore()
    specs = []
    for name, options, secrets in sim_autoshares.demo_connections(scenario["autoshares"], urls["autoshares"]):
        specs.append(ConnectionSpec(name=name, venue=Venue.AUTOSHARES, base_url=urls["autoshares"],
                                    options=options, rate_limit_per_s=args.client_rate, timeout_s=30.0))
        for field, value in secrets.items():
            store.set(name, field, value)
    service = BlotterService(specs, store, reconcile_timeout_s=30.0)
    try:
        t0 = time.perf_counter()
        listing = await service.open_orders(OrderFilter())
        t1 = time.perf_counter()
        keys = [o.key for o in listing.orders]
        async with httpx.AsyncClient() as admin:  # the log so far: logins and the listing
            before = len((await admin.get(urls["autoshares"].rsplit("/api", 1)[0] + "/_sim/requests")).json())
        w2, t2 = time.time(), time.perf_counter()
        results = await service.coordinator.cancel_many(keys, Provenance.CANCEL_ALL, "bench")
        w3, t3 = time.time(), time.perf_counter()
        async with httpx.AsyncClient() as admin:
            log = (await admin.get(urls["autoshares"].rsplit("/api", 1)[0] + "/_sim/requests")).json()
    finally:
        await service.aclose()
    during = log[before:]
    kinds = Counter((r["method"], "orders/" in r["path"] and not r["path"].endswith("/orders")) for r in during)
    n = len(keys)
    concurrency = AutoSharesAdapter.capabilities.max_concurrency
    bound_s = max(n / args.rate, n * args.latency_ms / 1000 / concurrency) if args.rate else \
        n * args.latency_ms / 1000 / concurrency
    outcomes = Counter(str(r.outcome) for r in results)
    return {
        "figure": "cancel_all", "orders": n, "listed_s": t1 - t0, "cancel_s": t3 - t2,
        "bound_s": bound_s, "ratio": (t3 - t2) / bound_s if bound_s else 0.0,
        "client_rate": args.client_rate, "venue_rate": args.rate, "latency_ms": args.latency_ms,
        "concurrency": concurrency, "requests": len(during),
        "deletes": sum(v for (m, _), v in kinds.items() if m == "DELETE"),
        "reads": sum(v for (m, _), v in kinds.items() if m == "GET"),
        "http_429": sum(1 for r in during if r["status"] == 429),
        "outcomes": dict(outcomes),
        "first_request_after_s": during[0]["at"] - w2 if during else 0.0,
        "last_request_before_end_s": w3 - during[-1]["at"] if during else 0.0,
        "wire_span_s": during[-1]["at"] - during[0]["at"] if during else 0.0,
        "all_cancelled": outcomes.get(str(CancelOutcome.CANCELLED), 0) == n and n == args.orders,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100, help="the venue's limit, requests per second")
    parser.add_argument("--client-rate", type=float, default=95.0, help="ConnectionSpec.rate_limit_per_s")
    args = parser.parse_args(argv)
    scenario = scenarios.autoshares(args.orders, args.accounts, latency_ms=args.latency_ms,
                                    rate_limit=(args.rate, 1.0) if args.rate else None)
    with tempfile.TemporaryDirectory() as tmp, scenarios.served_subprocess(scenario, Path(tmp)) as urls:
        _emit(asyncio.run(run(urls, scenario, args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
