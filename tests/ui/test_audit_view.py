"""The audit trail in the window: real cancels through the window against the simulators are recorded with
their provenance; the Audit view runs the CLI's query (same records as ``blotter log --json``, same bytes
as ``blotter export``); "Copy for support ticket"; the cancels a crashed run left in flight are settled
and shown at the next start."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from blotter.cli import main as cli_main
from blotter.core import OrderKey, Provenance, Venue
from blotter.service.support import order_ticket
from blotter.store.audit import AuditQuery, AuditRecord, AuditStore, CancelTransition, iso_ms
from blotter.store.credentials import read_secrets
from blotter.ui.main_window import MainWindow
from blotter.ui.models.audit import AuditTableModel
from blotter.ui.models.status import OutcomeKind
from blotter.ui.widgets.audit_view import AuditFilter, AuditView
from blotter.venues.registry import FIELDS


# ---------------------------------------------------------------------- helpers
def record(n: int, *, kind: str = "cancel", message: str = "") -> AuditRecord:
    at = datetime(2026, 3, 2, 14, 30, tzinfo=UTC) + timedelta(seconds=n)
    return AuditRecord(at=at, kind=kind, connection="as", venue="autoshares", account="6303", order_id=str(n),
                       action="cancel", phase="done" if kind == "cancel" else "", http_status=204, latency_ms=12.0,
                       message=message or f"m{n}", attempt_id=f"a{n}", provenance="hotkey", batch_id="",
                       outcome="cancelled" if kind == "cancel" else None, final_status="cancelled",
                       venue_status="Canceled", detail="", venue_reason="", request="", raw_body="")


def secrets_of(specs: Iterable[Any], store: Any) -> list[str]:
    return [v for s in specs for v in read_secrets(store, s.name, FIELDS[s.venue].secrets).values()]


def keys_of(window: MainWindow, venue: str) -> list[OrderKey]:
    return [k for k in sorted(window.orders_model.open_keys())
            if str(window.service.specs[k.connection].venue) == venue and window.cancellable(k)]


def wait_idle(qtbot: Any, window: MainWindow, audit: AuditStore) -> None:
    """No cancel running, every answer recorded."""
    qtbot.waitUntil(lambda: not window.bulk_in_progress() and not window.desk.requested
                    and not any(window.service.coordinator.in_flight(k) for k in window.orders_model.open_keys()),
                    timeout=20_000)
    audit.flush()


def reload(qtbot: Any, view: AuditView) -> None:
    qtbot.waitUntil(lambda: not view._loading)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.refresh()


def run_cli(capsys: Any, *args: str) -> str:
    capsys.readouterr()
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def copy_ticket(qtbot: Any, window: MainWindow, trigger: Any) -> str:
    QGuiApplication.clipboard().setText("")
    with qtbot.waitSignal(window.support.ticketCopied, timeout=10_000) as blocker:
        trigger()
    text = str(blocker.args[0])
    assert QGuiApplication.clipboard().text() == text
    return text


# ---------------------------------------------------------------------- the model and the filter
def test_model_passes_qtmodeltester_and_updates_in_place(qtmodeltester: Any) -> None:
    model = AuditTableModel()
    model.set_records([record(i) for i in range(5)])
    qtmodeltester.check(model)
    assert model.record_at(0).order_id == "4"  # newest first
    inserted: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    resets: list[int] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    model.set_records([record(i) for i in range(5)] + [record(5), record(6)])  # two new ones arrive
    assert inserted == [(0, 1)] and not removed and not resets
    model.set_records([record(i) for i in range(2, 8)])  # a limit drops the two oldest, one more arrives
    assert removed == [(5, 6)] and inserted[-1] == (0, 0) and not resets
    assert [r.order_id for r in model.records()] == ["2", "3", "4", "5", "6", "7"]
    model.set_records([record(9, kind="response")])  # another query: a reset
    assert resets == [1]
    qtmodeltester.check(model)
    model.clear()
    assert len(model) == 0


def test_filter_is_the_cli_filter() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    flt = AuditFilter(range_index=1, connection=" as ", account="6303", order="as/6303/7", outcome="rejected",
                      kind="cancel", text="routed")
    query = flt.query(now)
    assert query == AuditQuery(since=now - timedelta(hours=1), connection="as", order=OrderKey("as", "6303", "7"),
                               outcome="rejected", text="routed", kind="cancel", limit=5000, account="6303")
    assert flt.cli_arguments() == ["--since", "1h", "--connection", "as", "--account", "6303", "--order",
                                   "as/6303/7", "--outcome", "rejected", "--kind", "cancel", "--text", "routed",
                                   "--limit", "5000"]
    assert AuditFilter(order="77").query(now).order_id == "77"  # a bare id: that order in any account
    assert AuditFilter(order="77").cli_arguments() == ["--since", "24h", "--order-id", "77", "--limit", "5000"]
    with pytest.raises(ValueError, match="order key"):
        AuditFilter(order="as/77").query(now)
    custom = AuditFilter(range_index=6, since=now, until=now - timedelta(hours=1))
    assert custom.cli_arguments() is None
    with pytest.raises(ValueError, match="ends before it starts"):
        custom.query(now)


# ---------------------------------------------------------------------- the window records; the view is the CLI
def test_window_cancels_are_recorded_and_the_view_is_the_cli(
    qtbot: Any, make_window: Any, tame_env: Any, capsys: Any, tmp_path: Path
) -> None:
    specs, store, _sims = tame_env
    audit = AuditStore()  # the data dir's trail (BLOTTER_HOME), the one `blotter log` reads
    try:
        window = make_window(specs, store, audit=audit, confirm_single=False)
        auto, tanx, snap = keys_of(window, "autoshares"), keys_of(window, "tanx"), keys_of(window, "snaptrade")
        hotkey, row, pair = auto[0], tanx[0], [snap[0], snap[1]]

        window.orders_view.select_keys([hotkey])  # Delete in the orders view
        window.orders_view.setFocus()
        qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)
        window.orders_view.select_keys([row])  # "Cancel selected" on one row
        window.action_cancel_selected.trigger()
        window.orders_view.select_keys(pair)  # a selection of two, confirmed
        window.action_cancel_selected.trigger()
        qtbot.waitUntil(lambda: window.confirm_dialog is not None and window.confirm_dialog.isVisible())
        assert window.confirm_dialog is not None
        qtbot.mouseClick(window.confirm_dialog.confirm_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, window, audit)

        window.action_kill_switch.trigger()  # everything else
        qtbot.waitUntil(lambda: window.kill_switch_dialog is not None and bool(window.kill_switch_dialog.keys),
                        timeout=10_000)
        dialog = window.kill_switch_dialog
        assert dialog is not None
        killed = set(dialog.keys)
        qtbot.keyClicks(dialog.phrase, "CANCEL ALL")
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, window, audit)
        task = window.tasks.spawn(window.scheduler.aclose())  # no more refreshes: the trail holds still
        qtbot.waitUntil(task.done)
        audit.flush()

        attempts = audit.attempts()
        per_key = Counter(a.key for a in attempts)
        assert set(per_key.values()) == {1}  # one attempt per cancelled order ...
        assert all(a.state == "done" and a.outcome == "cancelled" for a in attempts)  # ... one final outcome
        assert audit.outcome_violations() == []
        by_key = {a.key: a for a in attempts}
        assert by_key[hotkey].provenance == Provenance.HOTKEY.value and not by_key[hotkey].batch_id
        assert by_key[row].provenance == Provenance.ROW_ACTION.value
        assert {by_key[k].provenance for k in pair} == {Provenance.SELECTION.value}
        assert by_key[pair[0]].batch_id and by_key[pair[0]].batch_id == by_key[pair[1]].batch_id
        assert killed and killed == {k for k, a in by_key.items() if a.provenance == Provenance.KILL_SWITCH.value}
        (batch,) = {by_key[k].batch_id for k in killed}
        assert batch and batch != by_key[pair[0]].batch_id

        # the Audit view, from the View menu
        view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
        assert "actionAuditView" in [a.objectName() for a in view_menu.actions()]
        window.support.action_audit_view.trigger()
        view = window.findChild(AuditView, "auditView")
        assert view is window.support.audit_view and view.isVisible()
        qtbot.waitUntil(lambda: len(view.model) > 0, timeout=10_000)

        cases: list[dict[str, str]] = [
            {}, {"connection": hotkey.connection}, {"account": row.account}, {"order": str(hotkey)},
            {"order": pair[0].order_id}, {"outcome": "cancelled"}, {"kind": "cancel"}, {"text": batch},
            {"connection": row.connection, "kind": "response"},
        ]
        blank = {"connection": "", "account": "", "order": "", "outcome": "", "kind": "", "text": ""}
        for case in cases:
            view.set_filter(**{**blank, **case})
            reload(qtbot, view)
            args = view.cli_arguments()
            assert args is not None
            shown = [r.as_dict() for r in view.model.records()]
            assert shown, case
            assert json.loads(run_cli(capsys, "log", "--json", *args)) == shown, case
            if case == {"text": batch}:  # the kill switch's batch id finds its steps and its summary, only those
                records = view.model.records()
                assert {r.attempt_id for r in records if r.kind == "cancel"} == {by_key[k].attempt_id for k in killed}
                assert [r.action for r in records if r.kind == "response"] == ["batch_summary"]

        # export round-trip: what the view exports is what `blotter export` writes for the same filter
        view.set_filter(**{**blank, "connection": hotkey.connection})
        reload(qtbot, view)
        args = view.cli_arguments()
        assert args is not None
        for fmt in ("csv", "jsonl"):
            mine, theirs = tmp_path / f"view.{fmt}", tmp_path / f"cli.{fmt}"
            task = window.tasks.spawn(view.export_to(mine, fmt))
            qtbot.waitUntil(task.done)
            assert task.result() == len(view.model)
            run_cli(capsys, "export", "--format", fmt, *args, "-o", str(theirs))
            assert mine.read_bytes() == theirs.read_bytes()
            assert (mine.stat().st_mode & 0o077) == 0
        # and through the (non-modal) file dialog
        dialog_path = tmp_path / "picked.csv"
        file_dialog = view.choose_export_file("csv")
        assert isinstance(file_dialog, QFileDialog) and file_dialog.isVisible()  # open(): no nested event loop
        with qtbot.waitSignal(view.exported, timeout=10_000):
            file_dialog.selectFile(str(dialog_path))
            file_dialog.accept()
        assert dialog_path.read_bytes() == (tmp_path / "cli.csv").read_bytes()

        # copy for support ticket from an audit row: the venue's words, the provenance, no secret
        view.set_filter(**{**blank, "order": str(row), "kind": "cancel"})
        reload(qtbot, view)
        view.table.selectRow(0)
        text = copy_ticket(qtbot, window, view.support_action.trigger)
        assert f"Order:        {row.order_id}" in text and "Asked by:     row action" in text
        answer = next(r for r in audit.query(AuditQuery(order=row)) if r.kind == "response" and r.action == "cancel")
        assert f"“{answer.message}”" in text and f"HTTP {answer.http_status}" in text
        assert iso_ms(answer.at) in text
        for secret in secrets_of(specs, store):
            assert secret not in text
    finally:
        audit.close()


# ---------------------------------------------------------------------- copy for support ticket
def test_copy_for_support_ticket_from_an_order_and_a_status_row(
    qtbot: Any, make_window: Any, demo_env: Any, tmp_path: Path
) -> None:
    from blotter.ui.demo_script import cancel_spec

    specs, store, sims = demo_env
    audit = AuditStore(tmp_path / "audit.sqlite3")
    try:
        window = make_window(specs, store, audit=audit, confirm_single=False)
        key = next(k for k in keys_of(window, "autoshares")
                   if (spec := cancel_spec(sims, "autoshares", k)) is not None and spec.mode == "reject")
        words = cancel_spec(sims, "autoshares", key).message
        window.orders_view.select_keys([key])
        window.action_cancel_selected.trigger()
        qtbot.waitUntil(lambda: any(e.key == key and e.kind is OutcomeKind.REJECTED
                                    for e in window.status_model.entries()), timeout=15_000)
        audit.flush()

        # the orders view's context menu
        window.orders_view.select_keys([key])
        window._orders_menu(window.orders_view.visualRect(window.orders_view.currentIndex()).center())
        menu = QApplication.activePopupWidget()
        assert menu is not None and menu.objectName() == "ordersContextMenu"
        action = next(a for a in menu.actions() if a.objectName() == "actionCopySupportTicket")
        text = copy_ticket(qtbot, window, action.trigger)
        menu.close()
        assert f"“{words}”" in text and "HTTP 409" in text and "Outcome:      rejected" in text
        assert "Asked by:     row action" in text
        assert "Order now:" in text  # the order is still open: its current state is told too

        # a status-pane row: the same attempt
        entry = next(e for e in window.status_model.entries() if e.key == key)
        row = next(r for r in range(window.status_pane.proxy.rowCount())
                   if window.status_pane.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 1) is entry)
        window.status_pane.table.selectRow(row)
        status_text = copy_ticket(qtbot, window, window.status_pane.request_support_ticket)
        assert f"Cancel attempt {entry.id}" in status_text and f"“{words}”" in status_text
        for secret in secrets_of(specs, store):
            assert secret not in text and secret not in status_text
    finally:
        audit.close()


def test_without_a_trail_the_view_says_so_and_support_copies_still_work(
    qtbot: Any, make_window: Any, demo_env: Any
) -> None:
    specs, store, _sims = demo_env
    window = make_window(specs, store, confirm_single=False)  # no audit store
    window.support.action_audit_view.trigger()
    view = window.support.audit_view
    assert view.isVisible() and not view.refresh_button.isEnabled()
    assert "not available" in view.message_label.text()
    key = keys_of(window, "tanx")[0]
    window.orders_view.select_keys([key])
    window.action_cancel_selected.trigger()
    qtbot.waitUntil(lambda: any(e.key == key and e.kind is not OutcomeKind.IN_FLIGHT and e.result is not None
                                for e in window.status_model.entries()), timeout=15_000)
    entry = next(e for e in window.status_model.entries() if e.key == key)
    text = copy_ticket(qtbot, window, lambda: window.support.copy_for_status(entry))
    assert "this window (the audit trail is not available)" not in text  # the attempt is told from memory
    assert f"Cancel attempt {entry.id}" in text and entry.message and f"“{entry.message}”" in text
    assert "Asked by:     row action" in text
    none = copy_ticket(qtbot, window, lambda: window.support.copy_for_order(keys_of(window, "tanx")[-1]))
    assert "no record of a cancel of this order in this window (the audit trail is not available)" in none


# ---------------------------------------------------------------------- restart recovery
def test_a_cancel_left_in_flight_is_settled_and_shown_at_the_next_start(
    qtbot: Any, qloop: Any, tame_env: Any
) -> None:
    from blotter.ui.app import create_app, main

    specs, store, sims = tame_env
    spec = next(s for s in specs if s.venue is Venue.TANX)
    wallet = spec.option("eth_address")
    order = next(o for o in sims.sims["tanx"].orders.values()
                 if o.wallet.lower() == wallet.lower() and o.state in ("wait", "pending"))
    key = OrderKey(spec.name, wallet, str(order.id))

    # an earlier run recorded the cancel's start and died before its outcome (its session lock is gone)
    crashed = AuditStore()
    crashed.record_cancel(CancelTransition(attempt_id="c0ffee0000000000000000000000beef", key=key, phase="sending",
                                           provenance=Provenance.HOTKEY, message="cancel sent", venue="tanx"))
    crashed.close()
    # meanwhile the venue carried the cancel out
    sims.sims["tanx"].set_state(order.id, "cancel", cancel_reason="Order cancelled by user")

    app = create_app()
    task = qloop.create_task(main(app, argparse.Namespace(demo=False, screenshot=None, read_only=False, seed=7),
                                  specs, store))

    def window() -> MainWindow | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)

    qtbot.waitUntil(lambda: window() is not None, timeout=10_000)
    shown = window()
    assert shown is not None
    qtbot.waitUntil(lambda: any(e.provenance == "reconciliation" for e in shown.status_model.entries()),
                    timeout=15_000)
    (entry,) = [e for e in shown.status_model.entries() if e.provenance == "reconciliation"]
    assert entry.key == key and entry.kind is OutcomeKind.CANCELLED and entry.venue == "tanx"
    assert "after a restart" in entry.detail
    assert "interrupted by an earlier run" in shown.statusBar().currentMessage()
    assert shown.service.audit is not None
    shown.close()
    qtbot.waitUntil(task.done, timeout=15_000)
    assert task.result() == 0
    app.setQuitOnLastWindowClosed(True)

    later = AuditStore()
    try:
        (attempt,) = later.attempts(AuditQuery(order=key))
        assert attempt.state == "done" and attempt.outcome == "cancelled"
        assert attempt.provenance == "hotkey" and attempt.outcome_provenance == "reconciliation"
        assert attempt.venue_reason == "Order cancelled by user"
        assert later.outcome_violations() == []
        text = order_ticket(key, later.query(AuditQuery(order=key)), [attempt])
        assert "Settled by:   reconciliation" in text and "“Order cancelled by user”" in text
    finally:
        later.close()


def test_an_audit_store_that_cannot_open_is_said_in_the_window(qtbot: Any, qloop: Any, tmp_path: Path,
                                                               monkeypatch: Any) -> None:
    from blotter.store import paths
    from blotter.ui.app import create_app, main

    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the data directory should be")
    monkeypatch.setattr(paths, "data_dir", lambda: blocked / "data")
    app = create_app()
    task = qloop.create_task(main(app, argparse.Namespace(demo=False, screenshot=None, read_only=False, seed=7),
                                  [], None))

    def window() -> MainWindow | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)

    qtbot.waitUntil(lambda: window() is not None, timeout=10_000)
    shown = window()
    assert shown is not None and shown.service.audit is None
    notes = [e.message for e in shown.status_model.entries() if e.action == "audit"]
    assert len(notes) == 1 and "NOT recorded in the audit trail" in notes[0]
    assert "NOT recorded" in shown.support.audit_view.message_label.text()
    assert isinstance(shown.findChild(QWidget, "auditView"), AuditView)
    shown.close()
    qtbot.waitUntil(task.done, timeout=10_000)
    assert task.result() == 0
    app.setQuitOnLastWindowClosed(True)
