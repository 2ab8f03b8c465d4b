"""The support-ticket text (Qt-free): written from a real audit trail of cancels at the AutoShares simulator.

It must carry what support needs (UTC ms times, connection, venue, account, order, provenance, each step
with its HTTP status, the venue's words verbatim, latency, the final state) and no secret at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blotter.core import (
    Action,
    CancelOutcome,
    CancelResult,
    ConnectionSpec,
    OrderKey,
    OrderStatus,
    Provenance,
    Redactor,
    Venue,
    VenueResponse,
)
from blotter.service import BlotterService
from blotter.service.support import account_facts, answer_ticket, attempt_summary, memory_trail, order_ticket
from blotter.store.audit import AuditQuery, AuditStore, iso_ms
from blotter.store.credentials import MemoryCredentialStore

APP_KEY = "support-app-key-5f1e2d3c4b5a"
PASSWORD = "support-password-9a8b7c6d"
REFUSAL = "Order 2 cannot be cancelled: order is being routed to the exchange"
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _order(order_id: int, cancel: dict[str, Any] | None = None) -> dict[str, Any]:
    created = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    order = {"id": order_id, "account_id": 7001, "symbol": "AAPL", "side": "Buy", "type": "Limit", "quantity": 10,
             "price": 190.5, "status": "New", "create_date": created}
    return {**order, "cancel": cancel} if cancel else order


@pytest.fixture
async def trail(serve: Any, tmp_path: Any) -> Any:
    sims, urls = serve({"autoshares": {
        "app_keys": [APP_KEY],
        "users": [{"user_id": 1, "username": "u", "password": PASSWORD, "first_name": "U", "last_name": "Ser",
                   "accounts": [7001]}],
        "accounts": [{"id": 7001, "clearing_account": "5XX07001", "access_type": "Full", "margin_type": "Cash",
                      "owner_type": "IndividualCustomer", "alias": "main", "currency": "USD", "enabled": True,
                      "cash": 1000}],
        "orders": [_order(1), _order(2, {"mode": "reject", "status": 409, "message": REFUSAL}),
                   _order(3, {"mode": "fill"})],
    }})
    # a venue that echoes the password in its error text: the ticket must not carry it
    sims["autoshares"].add_fault({"action": "status", "method": "GET", "path": r"/orders/3$", "status": 400,
                                  "times": 1, "body": {"Message": f"bad request (password={PASSWORD})"}})
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "u"})
    audit = AuditStore(tmp_path / "audit.sqlite3")
    svc = BlotterService([spec], MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD}),
                         reconcile_timeout_s=1.0, audit=audit)
    try:
        await svc.cancel([OrderKey("as", "7001", "1"), OrderKey("as", "7001", "2")], Provenance.KILL_SWITCH,
                         batch_id="b4tch0001")
        await svc.cancel([OrderKey("as", "7001", "3")], Provenance.HOTKEY)
    finally:
        await svc.aclose()
        await audit.aclose()
    return audit, sims


def ticket(audit: AuditStore, key: OrderKey, **kw: Any) -> str:
    records = audit.query(AuditQuery(order=key))
    attempts = audit.attempts(AuditQuery(order=key))
    return order_ticket(key, records, attempts, redactor=Redactor([APP_KEY, PASSWORD]), **kw)


def assert_no_secret(text: str, sims: Any) -> None:
    for secret in (APP_KEY, PASSWORD, *sims["autoshares"].issued_tokens()):
        assert secret not in text


def test_refused_cancel_tells_the_story_with_the_venue_words(trail: Any) -> None:
    audit, sims = trail
    text = ticket(audit, OrderKey("as", "7001", "2"), venue="autoshares", account_name="main")
    assert "Connection:   as" in text
    assert "Venue:        AutoShares" in text
    assert "Account:      7001 (main)" in text
    assert "Order:        2" in text
    assert "kill switch" in text and "b4tch0001" in text  # who asked, and the batch
    assert f"“{REFUSAL}”" in text  # the venue's words, verbatim
    assert "HTTP 409" in text and "DELETE " in text
    assert re.search(r"venue answered cancel  HTTP 409  \d+ ms", text)
    assert "Outcome:      rejected" in text
    assert "Final state:" in text
    assert len(ISO_MS.findall(text)) >= 4  # every step at UTC milliseconds
    assert_no_secret(text, sims)


def test_too_late_and_echoed_secret(trail: Any) -> None:
    audit, sims = trail
    text = ticket(audit, OrderKey("as", "7001", "3"))
    assert "hotkey" in text
    assert "too late" in text
    assert "final state filled" in text or "Final state:  filled" in text
    assert "bad request (password=***)" in text, text  # the echo is kept, the secret is not
    assert_no_secret(text, sims)


def test_cancelled_and_unknown_order(trail: Any) -> None:
    audit, _sims = trail
    text = ticket(audit, OrderKey("as", "7001", "1"))
    assert "Outcome:      cancelled" in text and "HTTP 204" in text
    assert "no record of a cancel" in ticket(audit, OrderKey("as", "7001", "99"))
    (attempt,) = audit.attempts(AuditQuery(order=OrderKey("as", "7001", "1")))
    at = iso_ms(attempt.started_at)
    assert attempt_summary(attempt) == f"cancel by kill switch (batch b4tch0001) → cancelled (at {at})"
    assert f"Cancel attempt {attempt.attempt_id}" in ticket(audit, attempt.key, attempt_id=attempt.attempt_id)
    assert "No record of cancel attempt nope" in ticket(audit, attempt.key, attempt_id="nope")


def test_answer_ticket_and_memory_trail_without_a_store() -> None:
    secret = "jwt-like-secret-value-123456"
    key = OrderKey("tx", "0xabc", "42")
    now = datetime(2026, 3, 2, 14, 30, 0, 123000, tzinfo=UTC)
    answer = VenueResponse(Venue.TANX, "tx", Action.CANCEL, 200, "Order is successfully queued for cancellation",
                           41.7, request='POST https://x/sapi/v1/orders/cancel/\nAuthorization: ***\n{"order_id":42}',
                           raw_body=f'{{"status":"success","token":"{secret}"}}', account="0xabc", order_id="42",
                           at=now)
    result = CancelResult(key, "a1", CancelOutcome.CANCELLED, "Order is successfully queued for cancellation", 200,
                          41.7, OrderStatus.CANCELLED, Provenance.ROW_ACTION, venue_status="cancel")
    records, attempts = memory_trail(key, attempt_id="a1", provenance="row_action", batch_id="",
                                     started_at=now - timedelta(milliseconds=50), venue="tanx", responses=[answer],
                                     result=result, venue_reason="Order cancelled by user")
    text = order_ticket(key, records, attempts, source="this window")
    assert "2026-03-02T14:30:00.123Z" in text
    assert "“Order is successfully queued for cancellation”" in text
    assert "42 ms" in text and '{"order_id":42}' in text
    assert "Venue reason: “Order cancelled by user”" in text
    assert secret not in text and '"token":"***"' in text  # secret-named fields are masked
    plain = answer_ticket(records[1:2])
    assert "HTTP status:  HTTP 200" in plain and secret not in plain


def test_account_facts_per_venue() -> None:
    assert ("Access type", "ReadOnly") in account_facts("autoshares", {"Id": 6312, "AccessType": "ReadOnly"})
    facts = dict(account_facts("snaptrade", {"institution_name": "Questrade", "number": "5123",
                                             "balance": {"total": {"amount": 15363.23, "currency": "CAD"}}}))
    assert facts == {"Institution": "Questrade", "Number": "5123", "Balance": "15,363.23 CAD"}
    tanx = dict(account_facts("tanx", {"eth_address": "0xAb", "profile": {"name": "Desk"},
                                       "balances": [{"currency": "usdc", "balance": "1500", "locked": "2"}]}))
    assert tanx == {"Wallet": "0xAb", "Name": "Desk", "Balance USDC": "1500 (locked 2)"}
