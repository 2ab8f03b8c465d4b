"""`blotter log` and `blotter export` over a trail written by real cancels (in-process, no keyring):
the same filter gives the same records in both, CSV cells cannot run as formulas, bad input is one line."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from blotter.cli import main
from blotter.core import ConnectionSpec, OrderKey, Provenance, Venue
from blotter.service import BlotterService
from blotter.store.audit import AuditStore
from blotter.store.credentials import MemoryCredentialStore

APP_KEY = "cli-audit-app-key-1234"
PASSWORD = "cli-audit-password-5678"
FORMULA = "=cmd|' /C calc'!A0"


def _order(order_id: int, cancel: dict[str, Any] | None = None) -> dict[str, Any]:
    created = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    order = {"id": order_id, "account_id": 7001, "symbol": "AAPL", "side": "Buy", "type": "Limit", "quantity": 10,
             "price": 190.5, "status": "New", "create_date": created}
    return {**order, "cancel": cancel} if cancel else order


@pytest.fixture
async def trail(serve) -> None:
    sims, urls = serve({"autoshares": {
        "app_keys": [APP_KEY],
        "users": [{"user_id": 1, "username": "u", "password": PASSWORD, "first_name": "U", "last_name": "Ser",
                   "accounts": [7001]}],
        "accounts": [{"id": 7001, "clearing_account": "5XX07001", "access_type": "Full", "margin_type": "Cash",
                      "owner_type": "IndividualCustomer", "alias": "main", "currency": "USD", "enabled": True,
                      "cash": 1000}],
        "orders": [_order(1), _order(2), _order(3, {"mode": "fill"})],
    }})
    # the venue's words start like a spreadsheet formula
    sims["autoshares"].add_fault({"action": "status", "method": "DELETE", "path": r"/orders/2$", "status": 400,
                                  "body": {"Message": FORMULA}})
    spec = ConnectionSpec("as", Venue.AUTOSHARES, urls["autoshares"], {"username": "u"})
    audit = AuditStore()
    svc = BlotterService([spec], MemoryCredentialStore({("as", "app_key"): APP_KEY, ("as", "password"): PASSWORD}),
                         reconcile_timeout_s=1.0, audit=audit)
    try:
        await svc.cancel([OrderKey("as", "7001", "1"), OrderKey("as", "7001", "2")], Provenance.ROW_ACTION)
        await svc.cancel([OrderKey("as", "7001", "3")], Provenance.CLI)
    finally:
        await svc.aclose()
        await audit.aclose()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("trail")
@pytest.mark.parametrize("filters", [(), ("--order", "as/7001/2"), ("--connection", "as", "--since", "15m"),
                                     ("--outcome", "rejected"), ("--text", "calc"), ("--limit", "3")])
def test_export_jsonl_is_what_log_json_shows(capsys, tmp_path: Path, filters: tuple[str, ...]) -> None:
    code, out, err = run(capsys, "log", "--json", *filters)
    assert code == 0 and err == ""
    shown = json.loads(out)
    assert shown
    target = tmp_path / "out.jsonl"
    code, out, _ = run(capsys, "export", "--format", "jsonl", *filters, "-o", str(target))
    assert code == 0 and out == f"wrote {len(shown)} record(s) to {target}\n"
    assert [json.loads(line) for line in target.read_text().splitlines()] == shown
    assert (target.stat().st_mode & 0o077) == 0  # private, like the trail itself


@pytest.mark.usefixtures("trail")
def test_filters_and_csv_export(capsys, tmp_path: Path) -> None:
    _, out, _ = run(capsys, "log", "--json", "--order", "as/7001/2")
    records = json.loads(out)
    assert {r["key"] for r in records} == {"as/7001/2"}
    done = [r for r in records if r["phase"] == "done"]
    assert len(done) == 1 and done[0]["outcome"] == "rejected" and done[0]["message"] == FORMULA
    assert done[0]["provenance"] == "row_action" and done[0]["http_status"] == 400
    _, out, _ = run(capsys, "log", "--json", "--outcome", "rejected")
    assert {r["key"] for r in json.loads(out)} == {"as/7001/2", "as/7001/3"}

    target = tmp_path / "trail.csv"
    code, _, _ = run(capsys, "export", "--format", "csv", "--order", "as/7001/2", "-o", str(target))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == len(records)
    assert [r["message"] for r in rows if r["phase"] == "done"] == ["'" + FORMULA]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    code, out, _ = run(capsys, "export", "--format", "jsonl", "--limit", "1", "-o", "-")
    assert code == 0 and len(out.splitlines()) == 1

    code, out, _ = run(capsys, "log")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["AT", "WHAT", "KEY"]
    assert "cancel done" in out and out.rstrip().endswith("record(s), oldest first")


@pytest.mark.parametrize(("args", "words"), [
    (("log", "--since", "soon"), "--since: not a duration: 'soon'"),
    (("log", "--since=-5m"), "--since: not a duration"),
    (("export", "--format", "csv", "--since", "3 days", "-o", "x.csv"), "--since: not a duration"),
    (("log", "--order", "garbage"), "--order: not an order key"),
    (("export", "--format", "jsonl", "--order", "a/b", "-o", "x.jsonl"), "--order: not an order key"),
    (("export", "--format", "csv", "-o", "/nonexistent-dir/trail.csv"), "cannot write /nonexistent-dir/trail.csv"),
])
def test_bad_input_is_one_clear_line(capsys, args: tuple[str, ...], words: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("blotter: ") and words in err and "Traceback" not in err
