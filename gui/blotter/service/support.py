"""Support summaries: a plain-text, redacted account of a cancel (or of one venue answer) for a ticket.

"I cancelled that order and it filled anyway": support staff paste this into the ticket. It says who
or what asked for the cancel (provenance, batch), each step of the attempt with the venue's HTTP status,
its words verbatim and the latency, and the order's true final state, with UTC millisecond times.

The input is what the audit trail holds (``AuditRecord`` steps and answers, ``AttemptRecord`` outcomes);
``memory_trail`` builds the same from what a window holds in memory when the trail cannot be read.
Every text passes a ``Redactor`` (known secret values, plus secret-looking tokens, signatures, keys and
secret-named fields) even though the trail is redacted already. Qt-free: the window and the CLI share it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .. import __version__
from ..core import CancelResult, Order, OrderKey, Provenance, Redactor, Venue, VenueResponse
from ..store.audit import AttemptRecord, AuditRecord, iso_ms

BODY_LIMIT = 600  # characters of a venue's raw answer quoted in a ticket
MAX_ATTEMPTS = 5  # the newest attempts of one order shown (support rarely needs more)
_SLACK = timedelta(milliseconds=5)  # a response stamped a hair before its attempt's first step

_VENUE_NAMES = {Venue.AUTOSHARES.value: "AutoShares", Venue.SNAPTRADE.value: "SnapTrade", Venue.TANX.value: "tanX"}
_PROVENANCE_WORDS = {
    Provenance.ROW_ACTION.value: "row action (one order, from the orders view)",
    Provenance.SELECTION.value: "selection (several orders, from the orders view)",
    Provenance.HOTKEY.value: "hotkey (Delete in the orders view)",
    Provenance.CANCEL_ALL.value: "cancel all in account",
    Provenance.KILL_SWITCH.value: "kill switch",
    Provenance.CLI.value: "command line (blotter cancel / cancel-all)",
    Provenance.RECONCILIATION.value: "reconciliation (Blotter re-read the order after a restart)",
    Provenance.VENUE.value: "the venue",
    Provenance.SYSTEM.value: "Blotter itself",
}


def venue_label(venue: str) -> str:
    return _VENUE_NAMES.get(venue, venue or "unknown venue")


def provenance_label(provenance: str) -> str:
    return _PROVENANCE_WORDS.get(provenance, provenance or "—")


# ---------------------------------------------------------------------------------------------- helpers
@dataclass(slots=True)
class _Writer:
    redactor: Redactor
    lines: list[str]

    def line(self, text: str = "") -> None:
        self.lines.append(self.redactor.text(text).rstrip())

    def field(self, label: str, value: Any, indent: int = 0) -> None:
        if value is None or value == "":
            return
        self.line(f"{' ' * indent}{label + ':':<14}{value}")

    def quote(self, label: str, words: str, indent: int = 0) -> None:
        """The venue's words verbatim (redacted), in quotes, each line of them kept."""
        if not words:
            return
        first, *rest = self.redactor.text(words).splitlines() or [""]
        self.line(f"{' ' * indent}{label + ':':<14}“{first}" + ("" if rest else "”"))
        for i, more in enumerate(rest):
            self.line(f"{' ' * indent}{'':<14} {more}" + ("”" if i == len(rest) - 1 else ""))

    def body(self, raw: str, indent: int) -> None:
        if not raw.strip():
            return
        text = self.redactor.body(raw, limit=BODY_LIMIT)
        self.line(f"{' ' * indent}{'raw answer:':<14}{text}")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms"


def _http(value: int | None) -> str:
    return "no answer" if value is None else f"HTTP {value}"


def _request_summary(request: str) -> str:
    """The request line and its JSON body (headers are left out: they are masked anyway)."""
    lines = [line for line in request.splitlines() if line.strip()]
    if not lines:
        return ""
    body = next((line for line in lines[1:] if line.lstrip().startswith(("{", "["))), "")
    return lines[0] + (f"  {body}" if body else "")


def _dec(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _order_line(order: Order) -> str:
    parts = [f"{order.symbol} {order.side.value} {_dec(order.quantity)}", order.order_type.value.replace("_", " ")]
    if order.limit_price is not None:
        parts.append(f"limit {_dec(order.limit_price)}")
    if order.stop_price is not None:
        parts.append(f"stop {_dec(order.stop_price)}")
    parts.append(f"filled {_dec(order.filled)}")
    parts.append(f"status {order.status.value} (venue: {order.venue_status})")
    return " · ".join(parts)


def _header(w: _Writer, title: str, now: datetime | None) -> None:
    w.line(f"Blotter support summary — {title}")
    w.field("Generated", f"{iso_ms(now or datetime.now(UTC))} (UTC; every time below is UTC)")
    w.field("Blotter", __version__)


# ---------------------------------------------------------------------------------------------- tickets
def order_ticket(
    key: OrderKey,
    records: Sequence[AuditRecord],
    attempts: Sequence[AttemptRecord],
    *,
    venue: str = "",
    account_name: str = "",
    order: Order | None = None,
    attempt_id: str = "",
    redactor: Redactor | None = None,
    now: datetime | None = None,
    source: str = "the audit trail",
) -> str:
    """The story of one order's cancel attempt(s): request, the venue's answers, the outcome.

    ``records`` are the order's audit records (cancel steps and venue answers, oldest first),
    ``attempts`` its attempts; with ``attempt_id`` only that attempt is told, else the newest few.
    """
    w = _Writer(redactor or Redactor(), [])
    venue = venue or next((r.venue for r in records if r.venue), "") or (order.venue.value if order else "")
    _header(w, f"order {key}", now)
    w.line()
    w.field("Connection", key.connection)
    w.field("Venue", venue_label(venue))
    w.field("Account", key.account + (f" ({account_name})" if account_name and account_name != key.account else ""))
    w.field("Order", key.order_id)
    if order is not None:
        w.field("Order now", _order_line(order))
    chosen = [a for a in attempts if not attempt_id or a.attempt_id == attempt_id]
    if not chosen:
        w.line()
        if attempt_id:
            w.line(f"No record of cancel attempt {attempt_id} for this order in {source}.")
        else:
            w.line(f"Blotter has no record of a cancel of this order in {source}.")
        _other_answers(w, records, [])
        return w.text()
    shown = chosen[-MAX_ATTEMPTS:]
    if len(chosen) > len(shown):
        w.line()
        w.line(f"({len(chosen) - len(shown)} earlier cancel attempt(s) of this order not shown)")
    for n, attempt in enumerate(shown, 1):
        w.line()
        title = f"Cancel attempt {attempt.attempt_id}"
        if len(shown) > 1:
            title += f" ({n} of {len(shown)})"
        w.line(title)
        _attempt(w, attempt, records)
    _other_answers(w, records, shown)
    return w.text()


def _belongs(record: AuditRecord, attempt: AttemptRecord) -> bool:
    if record.kind == "cancel":
        return record.attempt_id == attempt.attempt_id
    end = attempt.finished_at
    return record.at >= attempt.started_at - _SLACK and (end is None or record.at <= end + _SLACK)


def _attempt(w: _Writer, attempt: AttemptRecord, records: Sequence[AuditRecord]) -> None:
    w.field("Asked by", provenance_label(attempt.provenance), 2)
    if attempt.batch_id:
        w.field("Batch", attempt.batch_id, 2)
    w.field("Started", iso_ms(attempt.started_at), 2)
    steps = sorted((r for r in records if _belongs(r, attempt)), key=_step_order)
    w.line("  Steps:")
    if not steps:
        w.line("    (no step of this attempt is in the trail)")
    for record in steps:
        _step(w, record, attempt.provenance)
    w.line()
    if attempt.state != "done" or attempt.outcome is None:
        w.field("Outcome", "still in flight — no final outcome recorded yet", 2)
        return
    outcome = attempt.outcome
    if attempt.final_status == "filled" and outcome != "cancelled":
        outcome += " — too late: the order filled before the cancel took effect"
    w.field("Outcome", outcome, 2)
    settled = attempt.outcome_provenance or attempt.provenance
    if settled != attempt.provenance:
        w.field("Settled by", provenance_label(settled), 2)
    w.quote("Venue said", attempt.message, 2)
    w.field("HTTP status", "" if attempt.http_status is None else attempt.http_status, 2)
    latency = next((r.latency_ms for r in reversed(steps)
                    if r.kind == "response" and r.action in ("cancel", "bulk_cancel")), None)
    w.field("Latency", _ms(latency), 2)
    final = attempt.final_status or "not known"
    if attempt.venue_status:
        final += f" (venue status “{attempt.venue_status}”)"
    w.field("Final state", final, 2)
    w.quote("Venue reason", attempt.venue_reason, 2)
    w.field("Detail", attempt.detail, 2)
    if attempt.finished_at is not None:
        w.field("Finished", iso_ms(attempt.finished_at), 2)


def _step_order(record: AuditRecord) -> tuple[datetime, int]:
    """Time order; within one millisecond: the request goes out, the venue answers, then what follows."""
    rank = 0 if record.phase == "sending" else 1 if record.kind == "response" else 2
    return record.at, rank


def _step(w: _Writer, r: AuditRecord, asked_by: str = "") -> None:
    at = iso_ms(r.at)
    if r.kind == "cancel":
        what = f"cancel {r.phase}"
        if r.phase == "done":
            what += f" → {r.outcome}"
            if r.final_status:
                what += f", final state {r.final_status}"
        by = f"by {r.provenance}" if r.provenance and r.provenance != asked_by else ""
        w.line(f"    {at}  {what}" + (f"  ({by})" if by else ""))
        if r.message:
            w.quote("message", r.message, 6)
        w.quote("venue reason", r.venue_reason, 6)
        return
    parts = [f"venue answered {r.action}", _http(r.http_status)]
    if r.latency_ms is not None:
        parts.append(_ms(r.latency_ms))
    w.line(f"    {at}  " + "  ".join(parts))
    w.field("request", _request_summary(r.request), 6)
    w.quote("venue said", r.message, 6)
    if r.action in ("cancel", "bulk_cancel") or not (r.http_status and 200 <= r.http_status < 300):
        w.body(r.raw_body, 6)


def _other_answers(w: _Writer, records: Sequence[AuditRecord], attempts: Sequence[AttemptRecord]) -> None:
    others = [r for r in records if r.kind == "response" and not any(_belongs(r, a) for a in attempts)]
    if not others:
        return
    w.line()
    w.line("Other venue answers about this order:")
    for record in sorted(others, key=_step_order)[-10:]:
        _step(w, record)


def answer_ticket(
    records: Sequence[AuditRecord], *, redactor: Redactor | None = None, now: datetime | None = None
) -> str:
    """One or more venue answers (or Blotter's own notes) that are not part of a cancel."""
    w = _Writer(redactor or Redactor(), [])
    _header(w, "venue answer" if len(records) == 1 else f"{len(records)} venue answers", now)
    for r in records:
        w.line()
        w.field("Time", iso_ms(r.at))
        w.field("Connection", r.connection)
        w.field("Venue", venue_label(r.venue) if r.venue else "")
        w.field("Account", r.account)
        w.field("Order", r.order_id)
        w.field("Action", r.action or r.kind)
        w.field("Request", _request_summary(r.request))
        w.field("HTTP status", _http(r.http_status) if r.kind == "response" else "")
        w.field("Latency", _ms(r.latency_ms))
        w.quote("Venue said" if r.kind == "response" and r.http_status is not None else "Message", r.message)
        w.field("Detail", r.detail)
        w.body(r.raw_body, 0)
    return w.text()


# ---------------------------------------------------------------------------------------------- from memory
def response_record(response: VenueResponse) -> AuditRecord:
    """A venue answer held in memory, as the trail would hold it."""
    return AuditRecord(
        at=response.at, kind="response", connection=response.connection, venue=response.venue.value,
        account=response.account, order_id=response.order_id, action=response.action.value, phase="",
        http_status=response.http_status, latency_ms=response.latency_ms, message=response.message,
        attempt_id="", provenance="", batch_id="", outcome=None, final_status=None, venue_status="",
        detail="", venue_reason="", request=response.request, raw_body=response.raw_body,
    )


def note_record(at: datetime, connection: str, venue: str, action: str, message: str, detail: str = "") -> AuditRecord:
    """Something Blotter itself said (no venue answer behind it)."""
    return AuditRecord(
        at=at, kind="note", connection=connection, venue=venue, account="", order_id="", action=action, phase="",
        http_status=None, latency_ms=None, message=message, attempt_id="", provenance="", batch_id="",
        outcome=None, final_status=None, venue_status="", detail=detail, venue_reason="", request="", raw_body="",
    )


def memory_trail(
    key: OrderKey,
    *,
    attempt_id: str,
    provenance: str,
    batch_id: str,
    started_at: datetime,
    venue: str,
    responses: Iterable[VenueResponse],
    result: CancelResult | None,
    venue_reason: str = "",
) -> tuple[list[AuditRecord], list[AttemptRecord]]:
    """One attempt as a window saw it (its answers and its result), shaped like the audit trail's records."""
    records = [response_record(r) for r in responses]
    first = min([started_at, *(r.at for r in records)])

    def step(phase: str, at: datetime, message: str = "") -> AuditRecord:
        return AuditRecord(
            at=at, kind="cancel", connection=key.connection, venue=venue, account=key.account,
            order_id=key.order_id, action="cancel", phase=phase, http_status=None, latency_ms=None,
            message=message, attempt_id=attempt_id, provenance=provenance, batch_id=batch_id, outcome=None,
            final_status=None, venue_status="", detail="", venue_reason="", request="", raw_body="",
        )

    records.insert(0, step("sending", first))
    finished = None
    if result is not None:
        finished = max([first, *(r.at for r in records)])
        done = step("done", finished, result.message)
        records.append(replace(
            done, outcome=result.outcome.value, final_status=result.final_status.value if result.final_status else None,
            venue_status=result.venue_status, detail=result.detail, http_status=result.http_status,
            latency_ms=result.latency_ms, venue_reason=venue_reason, provenance=result.provenance.value))
    attempt = AttemptRecord(
        attempt_id=attempt_id, key=key, provenance=provenance, batch_id=batch_id, started_at=first,
        state="done" if result is not None else "in_flight", session="", pid=None,
        outcome=result.outcome.value if result else None,
        outcome_provenance=result.provenance.value if result else None,
        final_status=result.final_status.value if result and result.final_status else None,
        venue_status=result.venue_status if result else "", http_status=result.http_status if result else None,
        message=result.message if result else "", detail=result.detail if result else "",
        venue_reason=venue_reason, finished_at=finished,
    )
    return records, [attempt]


# ---------------------------------------------------------------------------------------------- accounts
def account_facts(venue: str, details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The few facts support staff look for first in a venue's account details (labels, values)."""

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, Mapping | list):
            return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        return str(value)

    facts: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        shown = text(value)
        if shown:
            facts.append((label, shown))

    if venue == Venue.AUTOSHARES.value:
        for label, name in (
            ("Account", "Id"), ("Clearing account", "ClearingAccount"), ("Alias", "Alias"),
            ("Access type", "AccessType"), ("Margin type", "MarginType"), ("Currency", "Currency"),
            ("Enabled", "Enabled"), ("Cash", "Cash"), ("Equity", "Equity"), ("Buying power", "BuyingPower"),
            ("Open orders (venue)", "PendingOrdersCount"),
        ):
            add(label, details.get(name))
    elif venue == Venue.SNAPTRADE.value:
        add("Institution", details.get("institution_name"))
        add("Name", details.get("name"))
        add("Number", details.get("number"))
        balance = details.get("balance")
        total = balance.get("total") if isinstance(balance, Mapping) else None
        if isinstance(total, Mapping):
            add("Balance", f"{text(total.get('amount'))} {total.get('currency') or ''}".strip())
        add("Status", details.get("status"))
        add("Type", details.get("raw_type"))
        add("Paper account", details.get("is_paper"))
    elif venue == Venue.TANX.value:
        add("Wallet", details.get("eth_address"))
        profile = details.get("profile")
        if isinstance(profile, Mapping):
            add("Name", profile.get("name"))
            add("Username", profile.get("username"))
            add("Customer id", profile.get("customer_id"))
        balances = details.get("balances")
        if isinstance(balances, list):
            for item in balances:
                if isinstance(item, Mapping) and item.get("currency"):
                    locked = _number(item.get("locked"))
                    extra = f" (locked {item.get('locked')})" if locked else ""
                    add(f"Balance {str(item['currency']).upper()}", f"{item.get('balance', '')}{extra}")
    else:
        for name, value in list(details.items())[:12]:
            add(str(name), value)
    return facts


def _number(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def attempt_summary(attempt: AttemptRecord) -> str:
    """One line: what Blotter did to an order (for the account inspector's history)."""
    what = f"cancel by {attempt.provenance.replace('_', ' ')}"
    if attempt.batch_id:
        what += f" (batch {attempt.batch_id})"
    when = f" (at {iso_ms(attempt.started_at)})"
    if attempt.state != "done" or attempt.outcome is None:
        return what + " → still in flight" + when
    outcome = attempt.outcome
    if attempt.final_status == "filled" and outcome != "cancelled":
        outcome = "too late — filled"
    what += f" → {outcome}"
    if attempt.outcome_provenance and attempt.outcome_provenance != attempt.provenance:
        what += f" (settled by {attempt.outcome_provenance})"
    if attempt.message and attempt.outcome != "cancelled":
        what += f": {attempt.message}"
    return what + when


__all__ = [
    "account_facts",
    "answer_ticket",
    "attempt_summary",
    "memory_trail",
    "note_record",
    "order_ticket",
    "provenance_label",
    "response_record",
    "venue_label",
]
