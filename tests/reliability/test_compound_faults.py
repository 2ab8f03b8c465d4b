"""Compound faults: an acknowledgement the venue did not mean, or one that cannot be confirmed.

The fault matrix plays one fault at a time. Here two play together on one cancel, in each venue's own
shape, and the promise is checked against the simulator's own state: **never a false "cancelled"**.

- *ack + failed re-read*: the venue answers the cancel as done (AutoShares 204, SnapTrade's brokerage reply
  ``CANCELLED``, tanX's echoed order reading ``cancel``) but never processed it, and every re-read fails (5xx).
- *ack + 404 re-read*: the same answer, and the re-read says the venue does not know the order.
- *2xx error body*: the venue answers 200 whose body is an error (``{"Message": "Order cannot be
  cancelled…"}``, ``{"error": …}``): that is no acknowledgement.

In every cell the order stays open at the venue; the outcome must be pending (accepted, not confirmed:
"check the order") or rejected (in the venue's words) — never cancelled — and the audit trail holds exactly
one outcome for the attempt. The results are written to docs/reliability.md ("Compound faults").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from reliability_support import REPORT
from venue_kits import KITS, Kit, single_service

from blotter.core import CancelOutcome, Provenance
from blotter.sim.common import SimClock
from blotter.sim.runner import SimServer, SimSet
from blotter.store.audit import AuditQuery, AuditStore

ORDER = 1
LOCKED = "Order cannot be cancelled: order is locked by the execution venue"
CASES = ["ack + failed re-read", "ack + 404 re-read", "2xx error body", "2xx error field"]


LEGEND = """\
Two faults at once on one cancel, in each venue's shape (`tests/reliability/test_compound_faults.py`): the
venue acknowledges a cancel it never processed and every re-read fails or says "not found", or it answers
2xx with an error in the body. The order stays open at the venue in every cell. What must hold: never
**cancelled** (an acknowledgement is *pending* until the venue's own reading of the order confirms it; a 2xx
error body is the venue's refusal, *rejected*, in its words), one cancel request, one recorded outcome.
"""


@dataclass(frozen=True)
class Case:
    rules: list[dict[str, Any]]
    expect: CancelOutcome
    words: str  # what the trader must be shown (message or detail)
    shape: str


def case(kit: Kit, name: str, sim: Any) -> Case:
    cancel = {"method": kit.cancel_path[0], "path": kit.cancel_path[1], "action": "status", "times": 0}
    get = {"method": kit.get_path[0], "path": kit.get_path[1], "action": "status", "times": 0}
    if kit.name == "autoshares":
        ack = {**cancel, "status": 204, "body": None}
        if name == "ack + failed re-read":
            return Case([ack, {**get, "status": 503, "body": {"Message": "The service is unavailable."}}],
                        CancelOutcome.PENDING, "not confirmed", "DELETE 204, then every re-read 503")
        if name == "ack + 404 re-read":
            return Case([ack, {**get, "status": 404, "body": {"Message": "Order not found"}}],
                        CancelOutcome.PENDING, "no longer lists", "DELETE 204, then every re-read 404")
        if name == "2xx error body":
            return Case([{**cancel, "status": 200, "body": {"Message": LOCKED}}], CancelOutcome.REJECTED, LOCKED,
                        f'DELETE 200 `{{"Message": "{LOCKED}"}}`')
        return Case([{**cancel, "status": 200, "body": {"error": "Order is locked"}}], CancelOutcome.REJECTED,
                    "Order is locked", 'DELETE 200 `{"error": "Order is locked"}`')
    if kit.name == "snaptrade":
        oid = kit.order_id(ORDER)
        ack = {**cancel, "status": 200, "body": {"brokerage_order_id": oid, "raw_response": {"status": "CANCELLED"}}}
        if name == "ack + failed re-read":
            return Case([ack, {**get, "status": 500, "body": {"detail": "Encountered an unexpected exception.",
                                                              "status_code": 500, "code": "1000"}}],
                        CancelOutcome.PENDING, "not confirmed",
                        "200 with `raw_response.status` CANCELLED, then every order-detail read 500")
        if name == "ack + 404 re-read":
            listing = {"method": "GET", "path": kit.list_path[1], "action": "status", "times": 0, "status": 200,
                       "body": []}
            return Case([ack, {**get, "status": 404, "body": {"detail": "Not found.", "code": "1006"}}, listing],
                        CancelOutcome.PENDING, "no longer lists",
                        "200 with `raw_response.status` CANCELLED, then detail 404 and the order list without it")
        if name == "2xx error body":
            return Case([{**cancel, "status": 200, "body": {"error": LOCKED}}], CancelOutcome.REJECTED, LOCKED,
                        f'200 `{{"error": "{LOCKED}"}}`')
        return Case([{**cancel, "status": 200, "body": {"brokerage_order_id": oid, "raw_response": None,
                                                        "errors": ["Order is locked"]}}],
                    CancelOutcome.REJECTED, "Order is locked", '200 with `"errors": ["Order is locked"]`')
    # tanX
    echo = {**sim.order(ORDER), "state": "cancel"}
    ack = {**cancel, "status": 200, "body": {"status": "success", "message": "Order is successfully queued for "
                                             "cancellation", "payload": echo}}
    if name == "ack + failed re-read":
        return Case([ack, {**get, "status": 500, "body": {"status": "error", "message": "Internal Server Error",
                                                          "payload": ""}}],
                    CancelOutcome.PENDING, "not confirmed", "200 echoing the order as `cancel`, then every re-read 500")
    if name == "ack + 404 re-read":
        return Case([ack, {**get, "status": 400, "body": {"status": "error", "message": "Order not found",
                                                          "payload": ""}}],
                    CancelOutcome.PENDING, "no longer lists",
                    "200 echoing the order as `cancel`, then every re-read 400 “Order not found”")
    if name == "2xx error body":
        return Case([{**cancel, "status": 200, "body": {"status": "error", "message": LOCKED, "payload": ""}}],
                    CancelOutcome.REJECTED, LOCKED, f"200 with the error envelope “{LOCKED}”")
    return Case([{**cancel, "status": 200, "body": {"status": "success", "message": "ok", "payload": {},
                                                    "error": "Order is locked"}}],
                CancelOutcome.REJECTED, "Order is locked", '200 success envelope with `"error": "Order is locked"`')


@pytest.mark.parametrize("venue", ["autoshares", "snaptrade", "tanx"])
async def test_never_a_false_cancelled_under_compound_faults(venue: str) -> None:
    kit = KITS[venue]
    clock = SimClock()
    sims = {f"{venue}-{i}": kit.sim(kit.section([ORDER]), clock) for i, _ in enumerate(CASES)}
    server = SimServer(SimSet(clock=clock, sims=sims))
    urls = server.start()
    audit = AuditStore()
    rows: list[str] = []
    problems: list[str] = []
    try:
        for (name, sim), case_name in zip(sims.items(), CASES, strict=True):
            c = case(kit, case_name, sim)
            svc = single_service(kit, urls[name], name, reconcile_s=1.0, audit=audit)
            try:
                warm = await svc.accounts(name)  # log in before the faults
                assert not warm.failures, warm.failures
                for rule in c.rules:
                    sim.add_fault(rule)
                (result,) = await asyncio.wait_for(svc.cancel([kit.key(name, ORDER)], Provenance.CLI), 30)
            finally:
                await svc.aclose()
            still_open = kit.is_open(sim, ORDER)
            shown = f"{result.message} — {result.detail}"
            ok = (result.outcome is c.expect and still_open and c.words in shown
                  and len(kit.cancel_requests(sim, ORDER)) == 1)
            if result.outcome is CancelOutcome.CANCELLED:
                problems.append(f"{case_name}: FALSE CANCELLED while the venue shows the order open ({shown})")
            elif not ok:
                problems.append(f"{case_name}: {result.outcome.value} ({shown}); expected {c.expect.value} "
                                f"showing {c.words!r}; open at the venue: {still_open}; "
                                f"{len(kit.cancel_requests(sim, ORDER))} cancel requests")
            mark = "✓" if ok else "✗"
            rows.append(f"| {case_name} | {c.shape} | {mark} {result.outcome.value}: {_short(result.detail)} "
                        f"| {'open' if still_open else 'NOT open'} |")
    finally:
        server.stop()
        audit.flush()
    try:
        assert audit.outcome_violations() == []
        attempts = audit.attempts(AuditQuery())
        assert len(attempts) == len(CASES) and all(a.state == "done" for a in attempts)
        assert not [a for a in attempts if a.outcome == "cancelled"]
    finally:
        audit.close()
    REPORT.set_section("compound-legend", LEGEND)
    title = {"autoshares": "AutoShares", "snaptrade": "SnapTrade", "tanx": "tanX"}[venue]
    REPORT.set_section(f"compound-{venue}", "\n".join([
        f"### {title}", "", "| faults together | in the venue's shape | outcome | the order at the venue |",
        "|---|---|---|---|", *rows]))
    assert not problems, "\n".join(problems)


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"
