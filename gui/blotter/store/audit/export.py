"""Writing audit records out: CSV (spreadsheet-safe) and JSON Lines, what ``blotter export`` writes."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable
from typing import IO, Any

from .records import (
    RECORD_FIELDS,
    AuditRecord,
)

log = logging.getLogger("blotter.store.audit")


# ---------------------------------------------------------------------------------------------- exports
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading ``'`` (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(records: Iterable[AuditRecord], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RECORD_FIELDS)
    count = 0
    for record in records:
        row = record.as_dict()
        writer.writerow(["" if row[name] is None else csv_safe(row[name]) for name in RECORD_FIELDS])
        count += 1
    return count


def write_jsonl(records: Iterable[AuditRecord], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record.as_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count
