"""Running the figure scripts from the tests and the runner: scale, repeats, subprocesses, results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCALE = os.environ.get("BLOTTER_BENCH_SCALE", "small")
FULL = SCALE == "full"
REPEAT = int(os.environ.get("BLOTTER_BENCH_REPEAT", "3" if FULL else "1"))
VNPY_PYTHON = Path(os.environ.get("BLOTTER_VNPY_PYTHON", ROOT / ".venv-bench-vnpy" / "bin" / "python"))


def run_script(script: str, *args: object, python: str | Path = sys.executable, timeout: float = 900,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``tests/benchmarks/SCRIPT`` in its own process; its last ``BENCH-RESULT`` line, parsed."""
    with tempfile.TemporaryDirectory() as home:
        full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BLOTTER_HOME": home, **(env or {})}
        out = subprocess.run([str(python), str(HERE / script), *map(str, args)], capture_output=True, text=True,
                             timeout=timeout, env=full_env, cwd=ROOT, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
    if out.returncode != 0 or not lines:
        raise AssertionError(f"{script} {args} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1].split(" ", 1)[1])
    record(script, [str(a) for a in args], result)
    return result


def record(script: str, args: list[str], result: dict[str, Any]) -> None:
    path = os.environ.get("BLOTTER_BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"script": script, "args": args, "scale": SCALE, "result": result}) + "\n")
