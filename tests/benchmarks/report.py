"""Turn the results of a benchmark run (JSON lines from ``BLOTTER_BENCH_RESULTS``) into the table.

    python tests/benchmarks/report.py RESULTS.jsonl [--write docs/benchmarks.md] [--command "…"]

Prints the table; with ``--write`` also writes the Markdown page: machine, date, versions, command, the
table, then the hand-written analysis kept in ``tests/benchmarks/analysis.md`` (profiles of the misses).
Every figure is the median of its runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pick(entries: list[dict[str, Any]], script: str, **args: Any) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        if e["script"] != script:
            continue
        a = e["args"]
        given = dict(zip(a[::2], a[1::2], strict=False))
        if all(given.get(f"--{k.replace('_', '-')}") == str(v) for k, v in args.items()):
            out.append(e["result"])
    return out


def med(results: list[dict[str, Any]], *path: str) -> float | None:
    values = []
    for r in results:
        v: Any = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            values.append(float(v))
    return statistics.median(values) if values else None


def fmt(value: float | None, unit: str = "ms", digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f} {unit}".strip()


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:,.1f}×"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅ met" if ok else "❌ missed")


def rows_of_table(entries: list[dict[str, Any]]) -> list[list[str]]:
    table: list[list[str]] = []
    sizes = sorted({int(e["args"][e["args"].index("--rows") + 1]) for e in entries
                    if e["script"] == "bench_orders.py" and "--rows" in e["args"]}, reverse=True)
    big = sizes[0] if sizes else None
    ours = pick(entries, "bench_orders.py", rows=big, peer="blotter") if big else []
    runs = len(ours)
    peers = {n: pick(entries, "bench_orders.py", rows=n, peer="qsfpm") for n in sizes}
    peer_big = peers.get(big or 0) or []
    small_peer_n = min((n for n in sizes if peers.get(n)), default=None)
    peer_small = peers.get(small_peer_n or 0) or []
    ours_small = pick(entries, "bench_orders.py", rows=small_peer_n, peer="blotter") if small_peer_n else []

    def orders_row(label: str, key: str, target: str, limit: float | None) -> None:
        value = med(ours, key)
        stall = med(ours, key.replace("_ms", "_stall_ms"))
        peer = med(peer_big, key) if peer_big else None
        peer_n = big
        if peer is None and peer_small:
            peer, peer_n = med(peer_small, key), small_peer_n
        peer_text = f"QSFPM {fmt(peer)} at {peer_n:,}" if peer is not None else "—"
        if peer is not None and peer_n != big:
            mine = med(ours_small, key)
            peer_text += f" (Blotter {fmt(mine)} there: {ratio(peer, mine)} faster)"
            rat = ratio(peer, mine)
        else:
            rat = ratio(peer, value)
        table.append([f"{label}, {big or 0:,} rows", f"{fmt(value)} (loop stall {fmt(stall)})", peer_text, rat,
                      target, verdict(None if value is None or limit is None else value <= limit)])

    if ours:
        orders_row("1. ingest into sorted, filterable view", "ingest_ms", "≤ 500 ms", 500)
        value, stall = med(ours, "refresh_ms"), med(ours, "refresh_stall_ms")
        peer = med(peer_big or peer_small, "refresh_ms")
        table.append([f"1. refresh, 1 % changed, {big:,} rows", f"{fmt(value, digits=1)} model "
                      f"(loop stall {fmt(stall)})", f"QSFPM {fmt(peer, digits=1)}", ratio(peer, value),
                      "≤ 20 ms model; stall ≤ 50 ms",
                      verdict(None if value is None or stall is None else value <= 20 and stall <= 50)])
        orders_row("1. re-sort by another column", "resort_ms", "≤ 200 ms", 200)
        orders_row("1. first filter keystroke", "filter_ms", "≤ 100 ms", 100)
        rss = med(ours, "rss_mb")
        table.append([f"1. RSS after, {big:,} orders in model + view", fmt(rss, "MB"), "—", "—", "≤ 250 MB",
                      verdict(None if rss is None else rss <= 250)])

    vn = pick(entries, "vnpy_monitor.py")
    if vn:
        n = int(med(vn, "rows") or 0)
        mine = pick(entries, "bench_orders.py", rows=n, peer="blotter")
        a, b = med(vn, "ingest_ms"), med(mine, "ingest_painted_ms")
        target = 500 if n >= 10_000 else None
        table.append([f"2. {n:,} orders: vn.py ActiveOrderMonitor vs Blotter's view",
                      f"Blotter {fmt(b)} (to painted)", f"vn.py {vn[0].get('vnpy', '')}: {fmt(a)}", ratio(a, b),
                      "≥ 500× at 10k", verdict(None if target is None or a is None or b is None else a / b >= 500)])

    cw = pick(entries, "bench_click_to_wire.py")
    if cw:
        p50, p99 = med(cw, "p50_ms"), med(cw, "p99_ms")
        table.append([f"3. click-to-wire, {int(med(cw, 'rows') or 0):,} rows, {int(med(cw, 'cancels') or 0)} cancels",
                      f"p50 {fmt(p50, digits=1)}, p99 {fmt(p99, digits=1)}",
                      f"key handler p50 {fmt(med(cw, 'key_handler_p50_ms'), digits=1)}; attempt started p50 "
                      f"{fmt(med(cw, 'task_started_p50_ms'), digits=1)}; on our socket p50 "
                      f"{fmt(med(cw, 'to_socket_p50_ms'), digits=1)}, p99 {fmt(med(cw, 'to_socket_p99_ms'), digits=1)}",
                      "—", "p99 ≤ 5 ms",
                      verdict(None if p99 is None else p99 <= 5)])

    ca = pick(entries, "bench_cancel_all.py")
    if ca:
        s, bound = med(ca, "cancel_s"), med(ca, "bound_s")
        table.append([f"4. cancel-all {int(med(ca, 'orders') or 0):,} (20 ms, 100 req/s)",
                      f"{fmt(s, 's', 2)}; {int(med(ca, 'requests') or 0):,} requests, "
                      f"{int(med(ca, 'reads') or 0)} re-reads, {int(med(ca, 'http_429') or 0)} × 429",
                      f"bound {fmt(bound, 's', 1)}", f"{s / bound:.2f}× of bound" if s and bound else "—",
                      "≤ 1.1 × bound",
                      verdict(None if s is None or bound is None else s <= 1.1 * bound)])

    st = pick(entries, "bench_snaptrade.py")
    if st:
        a, b = med(st, "blotter", "total_s"), med(st, "sdk", "total_s")
        table.append([f"5. SnapTrade: list {int(med(st, 'blotter', 'accounts') or 0)} accounts, cancel "
                      f"{int(med(st, 'cancel') or 0)}",
                      f"Blotter {fmt(a, 's', 2)} ({int(med(st, 'blotter', 'requests') or 0)} requests, confirmed)",
                      f"SDK {fmt(b, 's', 2)} ({int(med(st, 'sdk', 'requests') or 0)} requests, not confirmed)",
                      ratio(b, a), "≥ 3×", verdict(None if a is None or b is None else b / a >= 3)])

    cs = pick(entries, "bench_cold_start.py")
    if cs:
        s = med(cs, "ready_s")
        rss = fmt(med(cs, "rss_mb"), "MB")
        table.append(["6. cold start `blotter --demo` to rows", f"{fmt(s, 's', 2)} (RSS {rss})",
                      "—", "—", "≤ 1.5 s", verdict(None if s is None else s <= 1.5)])
    table.insert(0, [f"(median of {runs or 1} runs per figure)", "", "", "", "", ""])
    return table


def markdown(table: list[list[str]]) -> str:
    head = ["figure", "Blotter", "peer", "ratio", "target", ""]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram, "os": platform.platform(), "load": load}


def versions(entries: list[dict[str, Any]]) -> str:
    from importlib.metadata import version

    parts = [f"Python {platform.python_version()}"]
    for dist in ("PySide6-Essentials", "qasync", "httpx", "uvicorn", "starlette"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except Exception:
            continue
    vn = pick(entries, "vnpy_monitor.py")
    if vn:
        parts.append(f"vnpy {vn[0].get('vnpy')} (PySide6 {vn[0].get('pyside6')}, own venv)")
    sdk = os.environ.get("BLOTTER_SNAPTRADE_SDK_PYTHON") or str(ROOT / ".venv-sdk-snaptrade" / "bin" / "python")
    if os.path.exists(sdk):
        out = subprocess.run([sdk, "-c", "import importlib.metadata as m; print(m.version('snaptrade-python-sdk'))"],
                             capture_output=True, text=True, check=False)
        parts.append(f"snaptrade-python-sdk {out.stdout.strip()} (own venv)")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--write", type=Path)
    parser.add_argument("--command", default="tests/benchmarks/run")
    args = parser.parse_args(argv)
    entries = load(args.results)
    table = markdown(rows_of_table(entries))
    sys.stdout.write(table + "\n")
    if args.write:
        m = machine()
        analysis = (HERE / "analysis.md").read_text(encoding="utf-8") if (HERE / "analysis.md").exists() else ""
        page = f"""# Benchmarks

Generated by `{args.command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — do not edit by hand (the analysis
below the table lives in `tests/benchmarks/analysis.md`). Reproduce with:

```sh
{args.command}
```

Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}; load average when this report was written:
{m['load']} (a shared virtual machine: wall times vary from run to run). Each figure is the median of its
runs, each run in a fresh process.

Versions: {versions(entries)}.

{table}

{analysis}"""
        args.write.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
