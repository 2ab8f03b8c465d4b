"""The status pane's model (in-place updates, cap, filters) and the accounts tree, without widgets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from blotter.core import (
    Account,
    Action,
    CancelOutcome,
    CancelResult,
    OrderKey,
    OrderStatus,
    Provenance,
    Venue,
    VenueResponse,
)
from blotter.service import CancelEvent, CancelPhase
from blotter.ui.models.accounts import AccountRole, AccountsModel, ConnectionRole
from blotter.ui.models.status import STATUS_COLUMNS, OutcomeKind, StatusFilterProxy, StatusModel

KEY = OrderKey("tanx-main", "0xabc", "25770271")
COL = {c.id: i for i, c in enumerate(STATUS_COLUMNS)}


def response(message: str, status: int | None = 200, venue: Venue = Venue.TANX,
             action: Action = Action.CANCEL) -> VenueResponse:
    return VenueResponse(venue=venue, connection=KEY.connection, action=action, http_status=status,
                         message=message, latency_ms=42.0, request="POST /sapi/v1/orders/cancel",
                         raw_body='{"status":"success"}', account=KEY.account, order_id=KEY.order_id)


def event(phase: CancelPhase, message: str = "", resp: VenueResponse | None = None,
          result: CancelResult | None = None, attempt: str = "a1") -> CancelEvent:
    return CancelEvent(attempt, KEY, phase, Provenance.HOTKEY, "", message, resp, None, result)


def result(outcome: CancelOutcome, message: str, final: OrderStatus | None, detail: str = "") -> CancelResult:
    return CancelResult(KEY, "a1", outcome, message, 200, 42.0, final, Provenance.HOTKEY, detail=detail)


def cell(model: Any, row: int, column: str) -> str:
    return str(model.data(model.index(row, COL[column])))


def test_a_cancel_row_is_updated_in_place(qtmodeltester: Any) -> None:
    model = StatusModel()
    qtmodeltester.check(model)
    model.add_response(response("Invalid token", 401, action=Action.LIST_ORDERS))
    model.apply_cancel_event(event(CancelPhase.SENDING, "cancel sent"))
    assert model.rowCount() == 2
    assert cell(model, 0, "outcome") == "cancelling…"
    queued = response("Order queued for cancellation")
    model.apply_cancel_event(event(CancelPhase.PENDING, queued.message, queued))
    assert model.rowCount() == 2
    assert cell(model, 0, "outcome") == "pending"
    assert cell(model, 0, "message") == "Order queued for cancellation"
    assert cell(model, 0, "http") == "200"
    assert cell(model, 0, "venue") == "tanx"
    model.add_response(response("ok", action=Action.LIST_ORDERS))  # a newer row on top
    done = result(CancelOutcome.CANCELLED, "Order queued for cancellation", OrderStatus.CANCELLED,
                  "confirmed: the venue shows the order cancelled")
    model.apply_cancel_event(event(CancelPhase.DONE, done.message, result=done))
    assert model.rowCount() == 3
    assert cell(model, 1, "outcome") == "cancelled"  # same row, not moved
    assert cell(model, 1, "detail") == "confirmed: the venue shows the order cancelled"
    entry = model.entry("a1")
    assert entry is not None
    assert entry.responses == [queued]
    assert "Order queued for cancellation" in entry.as_text()


def test_too_late_and_cap(qtmodeltester: Any) -> None:
    model = StatusModel(capacity=3)
    qtmodeltester.check(model)
    late = result(CancelOutcome.REJECTED, "Order 73612 is already filled", OrderStatus.FILLED,
                  "too late — the order filled")
    model.apply_cancel_event(event(CancelPhase.DONE, late.message, result=late))
    assert cell(model, 0, "outcome") == "too late — filled"
    assert cell(model, 0, "message") == "Order 73612 is already filled"
    for i in range(5):
        model.add_response(response(f"r{i}", 500, action=Action.LIST_ORDERS))
    assert model.rowCount() == 3
    assert [e.message for e in model.entries()] == ["r4", "r3", "r2"]
    assert model.entry("a1") is None


def test_filter_by_venue_and_outcome(qtmodeltester: Any) -> None:
    model = StatusModel()
    proxy = StatusFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    model.add_response(response("boom", 503, venue=Venue.AUTOSHARES, action=Action.LIST_ORDERS))
    model.add_response(response("fine", 200, venue=Venue.SNAPTRADE, action=Action.LIST_ORDERS))
    model.apply_cancel_event(event(CancelPhase.SENDING))
    assert proxy.rowCount() == 3
    proxy.set_venue("autoshares")
    assert proxy.rowCount() == 1
    proxy.set_venue("")
    proxy.set_kinds({OutcomeKind.IN_FLIGHT, OutcomeKind.ERROR})
    assert proxy.rowCount() == 2
    done = result(CancelOutcome.CANCELLED, "ok", OrderStatus.CANCELLED)
    model.apply_cancel_event(event(CancelPhase.DONE, result=done))
    assert proxy.rowCount() == 1  # the cancel row left the in-flight filter when it finished
    proxy.set_kinds(set())
    assert proxy.rowCount() == 3


def test_accounts_tree(qtmodeltester: Any) -> None:
    model = AccountsModel()
    qtmodeltester.check(model)
    model.set_connections([("as-main", Venue.AUTOSHARES), ("tanx-main", Venue.TANX)])
    assert model.rowCount() == 2
    accounts = [Account("as-main", Venue.AUTOSHARES, "6303", "Active trading", "5JD06303"),
                Account("as-main", Venue.AUTOSHARES, "6312", "Family office", read_only=True)]
    model.set_accounts("as-main", accounts)
    parent = model.index(0, 0)
    assert model.rowCount(parent) == 2
    assert model.parent(model.index(1, 0, parent)) == parent
    assert model.data(model.index(0, 0, parent)) == "Active trading"
    assert model.data(model.index(1, 2, parent)) == "read-only"
    assert model.data(model.index(1, 0, parent), AccountRole) == "6312"
    assert model.data(model.index(1, 0, parent), ConnectionRole) == "as-main"
    model.set_counts({("as-main", "6303"): 7, ("tanx-main", "0xabc"): 2})
    assert model.data(model.index(0, 1, parent)) == "7"
    assert model.data(model.index(0, 1)) == "7"
    model.set_health("as-main", state="error", last_success=datetime(2026, 1, 1, tzinfo=UTC),
                     median_latency_ms=31.6, last_error="Invalid credentials", retry_in_s=8)
    assert model.data(model.index(0, 2)) == "error (retry in 8 s)"
    assert model.data(model.index(0, 3)) == "32 ms"
    assert model.data(model.index(0, 5)) == "Invalid credentials"
    assert "last error: Invalid credentials" in model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    model.set_accounts("as-main", accounts[:1])
    assert model.rowCount(parent) == 1
    assert not model.index(5, 0).isValid()
    assert model.rowCount(model.index(0, 0, parent)) == 0
    assert not model.parent(QModelIndex()).isValid()
