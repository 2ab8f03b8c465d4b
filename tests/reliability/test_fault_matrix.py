"""The fault matrix: every fault × {list, cancel, bulk cancel} × every venue, over loopback.

Per venue one test builds one simulator per cell (served together by one ``SimServer``), one
``BlotterService`` with one connection per cell and one ``AuditStore``, and runs every cell at once.
A cell: log in; play the fault (in the venue's own shape) on the endpoint the action uses; run the
action; check what the user is shown, the recorded outcomes and the requests the venue received; remove
the fault; run the action again and check it succeeds. The results are written to docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from reliability_support import ACTIONS, FAULTS, REPORT, MatrixCell, wait_for
from venue_kits import KITS, Kit

from blotter.core import (
    BlotterError,
    CancelAck,
    CancelOutcome,
    CancelResult,
    OrderStatus,
    Provenance,
)
from blotter.service import BlotterService, OrderFilter
from blotter.sim.common import SimClock
from blotter.sim.runner import SimServer, SimSet
from blotter.store.audit import AuditQuery, AuditStore
from blotter.store.credentials import MemoryCredentialStore

RECONCILE_S = 1.5
TIMEOUT_S = 3.0  # generous where the fault is not a timeout: a busy machine must not make a cell flaky
SHORT_TIMEOUT_S = 0.5  # for the faults that are timeouts (the slow body trickles a byte a second)
CELL_LIMIT_S = 45.0  # "no hang": a cell that takes longer fails

PROTOCOL = {"malformed JSON", "empty body", "very large body"}
TRANSPORT_RULES: dict[str, dict[str, Any]] = {
    "timeout": {"action": "hang"},
    "connection reset": {"action": "reset"},
    "malformed JSON": {"action": "malformed"},
    "HTML error page": {"action": "html"},
    "empty body": {"action": "empty"},
    "very large body": {"action": "large"},
    "slow body": {"action": "slow"},
}
TRANSPORT_WORDS: dict[str, tuple[str, ...]] = {
    "timeout": ("timed out",), "connection reset": ("(reset)",), "malformed JSON": ("not JSON",),
    "HTML error page": ("HTML page",), "empty body": ("empty body",), "very large body": ("larger than",),
    "slow body": ("timed out",),
}
TRANSPORT_SHAPES = {
    "timeout": "no answer at all (the client gives up after its timeout)",
    "connection reset": "200 headers, part of a body, then the connection is reset",
    "malformed JSON": "200 with `{\"status\": \"success\", \"payload\": [{\"id\": 1,` (cut off)",
    "HTML error page": "502 with nginx's HTML \"502 Bad Gateway\" page",
    "empty body": "200 with an empty body",
    "very large body": "200 with a 20 MiB body (Blotter reads at most 16 MiB)",
    "slow body": "200, then one byte a second (slower than the read timeout)",
}


# ---------------------------------------------------------------------------------------------- the plan of a cell
@dataclass
class Plan:
    kit: Kit
    fault: str
    action: str
    not_applicable: str = ""
    orders: list[int] = field(default_factory=list)
    target: str = ""  # which endpoint the fault is played on: list | cancel | get | bulk
    rules: list[dict[str, Any]] = field(default_factory=list)
    expire: bool = False
    timeout_s: float = TIMEOUT_S
    words: tuple[str, ...] = ()  # any of these must be shown to the user
    expect: str = ""  # list/tanX bulk: "ok" or an error class name; cancels: the outcome of each attempt
    shape: str = ""

    @property
    def venue_bulk(self) -> bool:
        return self.action == "bulk cancel" and self.kit.bulk_path is not None


def plan(kit: Kit, fault: str, action: str) -> Plan:
    p = Plan(kit, fault, action)
    short = fault.split(" ")[0]
    if fault == "409" and action == "list":
        p.not_applicable = "n/a: a conflict answers a write; a listing is a read (no venue answers it 409)"
        return p
    if fault == "409" and p.venue_bulk:
        p.not_applicable = ("n/a: tanX bulk cancel skips orders that are not open or already queued; it has no "
                            "conflict answer")
        return p
    p.orders = {"list": [1, 2], "cancel": [1, 2], "bulk cancel": [1, 2, 3]}[action]
    if action == "list":
        p.target = "list"
    elif p.venue_bulk:
        p.target = "bulk"
    elif action == "bulk cancel":
        p.target = "list" if fault == "unknown enum value" else "cancel"
    else:
        p.target = "get" if fault == "unknown enum value" else "cancel"
    method, path = {"list": kit.list_path, "cancel": kit.cancel_path, "get": kit.get_path,
                    "bulk": kit.bulk_path or kit.cancel_path}[p.target]
    where = {"method": method, "path": path}
    if fault == "401 token expiry" and kit.has_token:
        p.expire = True
        p.words = (kit.expired_words,)
        refresh = "refresh" if kit.name == "tanx" else "re-login"
        p.shape = f"the real expiry: 401 “{kit.expired_words}” → one {refresh}, the request is sent again"
    elif short in ("401", "403", "409", "422", "429", "500", "503"):
        status, body, headers, words = kit.refusal(short, action)
        p.rules = [{**where, "action": "status", "status": status, "body": body, "headers": headers,
                    "times": 1 if short == "429" else 0}]
        p.words = (words,)
        extra = " + `Retry-After: 1`" if headers else ""
        p.shape = f"{status} `{json.dumps(body, separators=(',', ':'))}`{extra}"
        if short == "401":
            p.shape += " (no session to renew: a 401 is a key/signature refusal)"
    elif fault == "unknown enum value":
        p.words = (kit.unknown_word,)
        p.shape = f"a documented answer whose order status is “{kit.unknown_word}”"
        if kit.name == "tanx":
            p.shape += "; for the bulk cancel an envelope `status` “partial”"
            if p.target == "bulk":
                p.words = ("partially queued",)
    else:
        p.rules = [{**where, **TRANSPORT_RULES[fault], "times": 0}]
        p.words = TRANSPORT_WORDS[fault]
        p.shape = TRANSPORT_SHAPES[fault]
        if fault in ("timeout", "slow body"):
            p.timeout_s = SHORT_TIMEOUT_S
    p.expect = expectation(kit, fault, action, p.venue_bulk)
    if kit.name == "autoshares" and action != "list" and p.target == "cancel":
        if fault == "malformed JSON":  # a 200 whose body is unreadable: accepted, then re-read
            p.words = ('"payload"', "not JSON")
        if fault == "empty body":  # a 200 without a body is AutoShares' 204: accepted, then re-read
            p.words = ("HTTP 200",)
    return p


def expectation(kit: Kit, fault: str, action: str, venue_bulk: bool) -> str:
    short = fault.split(" ")[0]
    if action == "list" or venue_bulk:
        ok = "queued" if venue_bulk else "ok"
        return {
            "401": ok if kit.has_token else "AuthError", "403": "AuthError", "409": "VenueRefused",
            "422": "VenueRefused", "429": ok, "unknown": ok,
        }.get(short, "VenueProtocolError" if fault in PROTOCOL else "OutcomeUnknown")
    if short == "401":
        return "cancelled" if kit.has_token else "failed"
    if short == "403":
        return "failed"
    if short in ("409", "422"):
        return "rejected"
    if short == "429":
        return "cancelled"
    if fault == "unknown enum value":
        return "cancelled" if action == "bulk cancel" else "pending"
    if fault in ("malformed JSON", "empty body") and kit.name == "autoshares":
        return "pending"  # 200 = accepted; the re-read shows the order still open: "check it"
    return "failed"  # no (readable) answer, and the re-read shows the order open: NOT cancelled


# ---------------------------------------------------------------------------------------------- running a cell
@dataclass
class Cell:
    plan: Plan
    conn: str
    sim: Any
    problems: list[str] = field(default_factory=list)
    summary: str = ""
    cancels_submitted: int = 0
    attempt_outcomes: dict[str, str] = field(default_factory=dict)

    def check(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def run_cell(svc: BlotterService, audit: AuditStore, cell: Cell) -> None:
    try:
        async with asyncio.timeout(CELL_LIMIT_S):
            await _run_cell(svc, audit, cell)
    except TimeoutError:
        cell.problems.append(f"hang: the cell did not finish within {CELL_LIMIT_S:g} s")
    except Exception as exc:  # a crash: anything but a typed error escaping the service
        cell.problems.append(f"crash: {type(exc).__name__}: {exc}")


async def _run_cell(svc: BlotterService, audit: AuditStore, cell: Cell) -> None:
    p, sim, kit = cell.plan, cell.sim, cell.plan.kit
    auth_before = len(sim.requests_matching(*kit.auth_path)) if kit.auth_path else 0
    target_path = {"list": kit.list_path, "cancel": kit.cancel_path, "get": kit.get_path,
                   "bulk": kit.bulk_path or kit.cancel_path}[p.target]
    requests_before = len(sim.requests_matching(*target_path))
    rules = list(p.rules)
    if p.fault == "unknown enum value":
        rules = [{"method": target_path[0], "path": target_path[1], "action": "status", "status": 200,
                  "body": kit.unknown_body(sim, p.target, p.orders[0]), "times": 0}]
    added = [sim.add_fault(rule) for rule in rules]
    if p.expire:
        kit.expire(sim)
    pane_from = datetime.now(UTC)

    # ---- the fault
    shown: list[str] = []
    outcome = ""
    if p.action == "list":
        listing = await svc.open_orders(OrderFilter(connection=cell.conn))
        failed = [*listing.failures, *listing.account_failures]  # the one account's listing fails (H5)
        if failed:
            error = failed[0].error
            outcome = type(error).__name__
            shown.append(str(error))
        else:
            outcome = "ok"
            shown += [o.venue_status for o in listing.orders]
            if p.fault == "unknown enum value":
                cell.check([(o.status, o.venue_status) for o in listing.orders]
                           == [(OrderStatus.UNKNOWN, kit.unknown_word)],
                           f"the unknown status was not listed as unknown: {listing.orders}")
            else:
                cell.check(len(listing.orders) == len(p.orders), f"listed {len(listing.orders)} orders")
        cell.check(outcome == p.expect, f"list gave {outcome}, expected {p.expect}")
    elif p.venue_bulk:
        try:
            receipt = await svc.adapter(cell.conn).cancel_many(kit.account(), market="btcusdc")
        except BlotterError as exc:
            outcome = type(exc).__name__
            shown.append(str(exc))
        else:
            outcome = "queued" if receipt.ack is CancelAck.QUEUED else receipt.ack.value
            shown.append(receipt.response.message)
        cell.check(outcome == p.expect, f"bulk cancel gave {outcome}, expected {p.expect}")
    else:
        results: list[CancelResult]
        if p.action == "cancel":
            results = await svc.cancel([kit.key(cell.conn, p.orders[0])], Provenance.ROW_ACTION)
            expected_keys = 1
        else:
            results, listing = await svc.cancel_all(OrderFilter(connection=cell.conn))
            cell.check(not listing.failures and not listing.account_failures,
                       f"cancel-all could not list: {listing.failures or listing.account_failures}")
            shown += [o.venue_status for o in listing.orders]
            expected_keys = 1 if p.fault == "unknown enum value" else len(p.orders)
        cell.cancels_submitted += len(results)
        cell.check(len(results) == expected_keys, f"{len(results)} outcomes for {expected_keys} orders")
        outcomes = sorted({r.outcome.value for r in results})
        outcome = "/".join(outcomes)
        for r in results:
            cell.attempt_outcomes[r.attempt_id] = r.outcome.value
            shown += [r.message, r.detail]
            cell.check(not r.message.startswith("internal error"), f"crash inside the coordinator: {r.message}")
        cell.check(outcomes == [p.expect], f"outcomes {outcomes}, expected {p.expect}")
        if p.expect == "failed" and p.fault not in ("401 token expiry", "403"):
            cell.check(all("NOT cancelled" in r.detail for r in results), "a failed cancel must say NOT cancelled")

    # ---- what the user was shown
    pane = [r.message for r in audit_responses(audit, cell.conn, since=pane_from)]
    transparent = outcome in ("ok", "queued", "cancelled")
    candidates = [t for t in shown if t] + (pane if transparent else [])
    matched = [t for t in candidates if any(w in t for w in p.words)]
    cell.check(bool(matched), f"none of {p.words} shown: {_short(' '.join(candidates), 200)}")
    words_shown = matched[0] if matched else " ".join(shown)

    # ---- requests the venue received
    auth_after = len(sim.requests_matching(*kit.auth_path)) if kit.auth_path else 0
    if p.expire:
        cell.check(auth_after - auth_before == 1, f"{auth_after - auth_before} re-logins after the expiry")
    target_requests = len(sim.requests_matching(*target_path)) - requests_before
    per_order: list[int] = []
    if p.action != "list" and not p.venue_bulk:
        for n in p.orders:
            reqs = kit.cancel_requests(sim, n)
            if not reqs:
                continue
            processed = [r for r in reqs if r.status not in (401, 429)]
            per_order.append(len(reqs))
            cell.check(len(processed) <= 1 and len(reqs) <= 2,
                       f"order {n}: {len(reqs)} cancel requests, {len(processed)} processed (a duplicate)")
            if len(reqs) == 2:
                cell.check(reqs[0].status in (401, 429), f"order {n} was re-sent after HTTP {reqs[0].status}")
    if p.venue_bulk:
        bulk = sim.requests_matching(*kit.bulk_path)
        processed = [r for r in bulk if r.status not in (401, 429)]
        cell.check(len(processed) == 1 and len(bulk) <= 2, f"{len(bulk)} bulk requests, {len(processed)} processed")

    # ---- the fault clears: recovery without anyone doing anything
    for rule in added:
        sim.remove_fault(rule)
    recovered = await recover(svc, cell)
    cell.summary = describe(cell, outcome, words_shown, target_requests,
                            per_order, auth_after - auth_before, recovered)


async def recover(svc: BlotterService, cell: Cell) -> bool:
    p, sim, kit = cell.plan, cell.sim, cell.plan.kit
    before = len(cell.problems)
    if p.action == "list":
        listing = await svc.open_orders(OrderFilter(connection=cell.conn))
        open_now = sorted(kit.order_id(n) for n in p.orders if kit.is_open(sim, n))
        cell.check(not listing.failures and sorted(o.order_id for o in listing.orders) == open_now,
                   f"recovery list: {listing.failures or [o.order_id for o in listing.orders]}")
    elif p.venue_bulk:
        try:
            receipt = await svc.adapter(cell.conn).cancel_many(kit.account(), market="btcusdc")
            cell.check(receipt.ack is CancelAck.QUEUED, f"recovery bulk cancel: {receipt.ack}")
            await wait_for(lambda: not any(kit.is_open(sim, n) for n in p.orders), "the bulk cancel to take effect")
            listing = await svc.open_orders(OrderFilter(connection=cell.conn))
            cell.check(not listing.failures and not listing.orders, "orders still listed after the bulk cancel")
        except (BlotterError, AssertionError) as exc:
            cell.problems.append(f"recovery bulk cancel: {exc}")
    else:
        still_open = [n for n in p.orders if kit.is_open(sim, n)]
        if p.action == "cancel":
            results = await svc.cancel([kit.key(cell.conn, n) for n in still_open], Provenance.ROW_ACTION)
        else:
            results, listing = await svc.cancel_all(OrderFilter(connection=cell.conn))
            cell.check(not listing.failures, f"recovery cancel-all could not list: {listing.failures}")
        cell.cancels_submitted += len(results)
        for r in results:
            cell.attempt_outcomes[r.attempt_id] = r.outcome.value
        cell.check(len(results) == len(still_open) and all(r.outcome is CancelOutcome.CANCELLED for r in results),
                   f"recovery cancels: {[(str(r.key), r.outcome.value, r.message) for r in results]}")
        cell.check(not any(kit.is_open(sim, n) for n in p.orders), "orders still open after recovery")
    return len(cell.problems) == before


def describe(cell: Cell, outcome: str, words: str, target_requests: int, per_order: list[int], relogins: int,
             recovered: bool) -> str:
    p = cell.plan
    parts: list[str] = []
    if p.action == "list":
        parts.append("listed" if outcome == "ok" else f"{outcome}")
    elif p.venue_bulk:
        parts.append(outcome)
    else:
        parts.append(outcome)
        if outcome == "failed" and p.fault not in ("401 token expiry", "403"):
            parts[-1] += " (NOT cancelled)"
    if p.expire:
        parts.append(f"after {relogins} {'refresh' if p.kit.name == 'tanx' else 're-login'}")
    parts[-1] += f": “{_short(words)}”"
    if p.action == "list":
        parts.append(f"{target_requests} read{'s' if target_requests != 1 else ''}")
    elif p.venue_bulk:
        parts.append(f"{target_requests} bulk request{'s' if target_requests != 1 else ''}")
    elif per_order:
        counts = sorted(set(per_order))
        parts.append(f"{'/'.join(map(str, counts))} cancel request{'s' if counts != [1] else ''} per order")
    parts.append("recovered" if recovered else "NOT recovered")
    return " · ".join(parts)


def audit_responses(audit: AuditStore, conn: str, since: datetime | None = None) -> list[Any]:
    return [r for r in audit.query(AuditQuery(kind="response", connection=conn, since=since))]


# ---------------------------------------------------------------------------------------------- the test
@pytest.mark.parametrize("venue", ["autoshares", "snaptrade", "tanx"])
async def test_fault_matrix(venue: str) -> None:
    kit = KITS[venue]
    plans = [plan(kit, fault, action) for fault in FAULTS for action in ACTIONS]
    live = [p for p in plans if not p.not_applicable]
    clock = SimClock()
    sims = SimSet(clock=clock, sims={f"{venue}-{i:02d}": kit.sim(kit.section(p.orders), clock)
                                     for i, p in enumerate(live)})
    server = SimServer(sims)
    urls = server.start()
    names = list(sims.sims)
    specs = [kit.spec(name, urls[name], p.timeout_s) for name, p in zip(names, live, strict=True)]
    creds: dict[tuple[str, str], str] = {}
    for name in names:
        creds.update(kit.secrets(name))
    audit = AuditStore()
    svc = BlotterService(specs, MemoryCredentialStore(creds), reconcile_timeout_s=RECONCILE_S, audit=audit)
    svc.coordinator._poll_initial_s = 0.1
    cells = [Cell(p, name, sims[name]) for name, p in zip(names, live, strict=True)]
    started = time.monotonic()
    try:
        # Log in first (a token must exist before it can expire), one connection at a time: a wallet login
        # costs CPU, and cells with a short timeout must not time out because of the others.
        for cell in cells:
            warm = await svc.accounts(cell.conn)
            cell.check(not warm.failures, f"log-in before the fault failed: {warm.failures}")
        # Cells whose fault is a timeout use a short timeout for every request: they run on their own,
        # after the others, so that only their fault can make them wait.
        short = [c for c in cells if c.plan.timeout_s < TIMEOUT_S]
        await asyncio.gather(*(run_cell(svc, audit, c) for c in cells if c not in short))
        await asyncio.gather(*(run_cell(svc, audit, c) for c in short))
    finally:
        await svc.aclose()
        server.stop()
        audit.flush()
    elapsed = time.monotonic() - started

    # exactly one recorded outcome per attempt, and one recorded answer per request the venue received
    try:
        violations = audit.outcome_violations()
        for cell in cells:
            attempts = audit.attempts(AuditQuery(connection=cell.conn))
            cell.check(len(attempts) == cell.cancels_submitted,
                       f"{len(attempts)} attempts recorded for {cell.cancels_submitted} cancels")
            for a in attempts:
                cell.check(a.state == "done" and a.outcome == cell.attempt_outcomes.get(a.attempt_id),
                           f"attempt {a.attempt_id}: recorded {a.state}/{a.outcome}")
                cell.check(a.attempt_id not in violations, f"attempt {a.attempt_id} breaks exactly-one-outcome")
            responses = audit_responses(audit, cell.conn)
            if cell.plan.venue_bulk:
                sent = cell.sim.requests_matching(*kit.bulk_path)
                recorded = [r for r in responses if r.action == "bulk_cancel"]
            else:
                sent = kit.all_cancel_requests(cell.sim)
                recorded = [r for r in responses if r.action == "cancel"]
            cell.check(len(recorded) == len(sent), f"{len(recorded)} answers recorded for {len(sent)} requests")
    finally:
        audit.close()

    by_plan = {id(c.plan): c for c in cells}
    matrix: list[MatrixCell] = []
    for p in plans:
        if p.not_applicable:
            matrix.append(MatrixCell(p.fault, p.action, True, p.not_applicable))
            continue
        cell = by_plan[id(p)]
        text = cell.summary or "(no result)"
        if cell.problems:
            text += " — " + "; ".join(cell.problems)
        matrix.append(MatrixCell(p.fault, p.action, not cell.problems, text))
        if p.action == "cancel":
            REPORT.shapes.setdefault(p.fault, {})[venue] = p.shape
    REPORT.matrix[venue] = matrix
    failing = [f"{c.fault} × {c.action}: {c.text}" for c in matrix if not c.ok]
    assert not failing, "\n".join(failing)
    assert elapsed < 60, f"the {venue} matrix took {elapsed:.1f} s"
