"""Simulator scenarios for the wire benchmarks, built from the demo scenario's own generators.

Every order is plainly open and every cancel succeeds (no scripted faults): the figures measure the
plumbing, not the venues' quirks. Latency and rate limits are the simulators' own knobs (``sim/common.py``).
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from blotter.sim import autoshares as sim_autoshares
from blotter.sim import snaptrade as sim_snaptrade


def _rate(rate_limit: tuple[int, float] | None) -> dict[str, Any]:
    return {"rate_limit": {"requests": rate_limit[0], "per_seconds": rate_limit[1]}} if rate_limit else {}


def autoshares(orders: int, accounts: int, *, latency_ms: int = 0,
               rate_limit: tuple[int, float] | None = None, seed: int = 11) -> dict[str, Any]:
    """One AutoShares user with ``accounts`` full-access accounts and ``orders`` open orders spread over them."""
    rng = random.Random(seed)
    base = sim_autoshares.demo_section(random.Random(7))  # (not demo_scenario: tanX keys are slow)
    now = datetime.now(UTC)
    template = base["accounts"][0]
    ids = [8000 + i for i in range(accounts)]
    section = {k: v for k, v in base.items() if k not in ("accounts", "orders", "users", "latency_ms")}
    section["accounts"] = [{**template, "id": a, "clearing_account": f"5JD0{a}", "alias": f"Bench {a}",
                            "access_type": "Full"} for a in ids]
    user = copy.deepcopy(base["users"][0])
    user["accounts"] = ids
    section["users"] = [user]
    symbols = list(sim_autoshares._DEMO_PRICES)
    out = []
    for i in range(orders):
        order = sim_autoshares._demo_order(rng, 500_000 + i, ids[i % accounts], rng.choice(symbols), now)
        order["status"], order["executed"] = "New", 0
        out.append(order)
    section["orders"] = out
    section["latency_ms"] = latency_ms
    section.update(_rate(rate_limit))
    return {"name": "bench", "autoshares": section}


def snaptrade(orders: int, accounts: int, *, latency_ms: int = 0,
              rate_limit: tuple[int, float] | None = None, seed: int = 11) -> dict[str, Any]:
    """One SnapTrade user with ``accounts`` trading accounts and ``orders`` open (ACCEPTED) orders."""
    rng = random.Random(seed)
    base = sim_snaptrade.demo_section(random.Random(7))
    template = next(a for a in base["accounts"] if not a["read_only"])
    accounts_out = []
    for i in range(accounts):
        accounts_out.append({**template, "id": f"00000000-0000-4000-8000-{i:012d}",
                             "brokerage_authorization": f"00000000-0000-4000-9000-{i:012d}",
                             "name": f"Bench {i}", "number": str(51_000_000 + i), "read_only": False})
    samples = [o for o in base["orders"] if o["status"] in ("ACCEPTED", "PARTIAL", "PENDING")]
    out = []
    for i in range(orders):
        order = copy.deepcopy(rng.choice(samples))
        order.pop("cancel", None)
        order.pop("via_snaptrade", None)
        order.update({"brokerage_order_id": str(1_000_000_000 + i), "account_id": accounts_out[i % accounts]["id"],
                      "status": "ACCEPTED", "filled_quantity": "0"})
        out.append(order)
    section = {k: v for k, v in base.items() if k not in ("accounts", "orders", "users", "latency_ms")}
    user = copy.deepcopy(base["users"][0])
    user["accounts"] = [a["id"] for a in accounts_out]
    section.update({"accounts": accounts_out, "orders": out, "users": [user], "latency_ms": latency_ms})
    section.update(_rate(rate_limit))
    return {"name": "bench", "snaptrade": section}


@contextmanager
def served_subprocess(scenario: dict[str, Any], workdir: Path,
                      cpus: set[int] | None = None) -> Iterator[dict[str, str]]:
    """Serve a scenario with ``blotter sim serve`` in its own process (the venue is not in our process),
    on ``cpus`` if given."""
    path = workdir / "scenario.json"
    path.write_text(json.dumps(scenario))
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    proc = subprocess.Popen([sys.executable, "-m", "blotter.cli", "sim", "serve", "--scenario", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"blotter sim serve failed: {proc.stderr.read() if proc.stderr else ''}")
        yield json.loads(line)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
