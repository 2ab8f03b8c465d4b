"""Figure 6: cold start of ``blotter --demo`` to a populated window.

    python tests/benchmarks/bench_cold_start.py

Spawns ``python -m blotter.cli --demo`` (offscreen, a fresh ``BLOTTER_HOME``) with
``BLOTTER_BENCH_READY_FILE``; the app writes ``time.time()`` and its RSS there when the orders table first
has rows and has repainted (``ui/app.py``). The figure is that time minus the moment just before the
spawn: interpreter start, imports, the embedded demo venues starting, the window, the first refresh of
every connection over loopback HTTP, and the first paint. The process is then terminated.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready.json"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BLOTTER_HOME": str(Path(tmp) / "home"),
               "BLOTTER_BENCH_READY_FILE": str(ready)}
        t0 = time.time()
        proc = subprocess.Popen([sys.executable, "-m", "blotter.cli", "--demo"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            while not ready.exists() and proc.poll() is None and time.time() - t0 < args.timeout:
                time.sleep(0.005)
            time.sleep(0.05)  # the file is written in one go; let it land
            data = json.loads(ready.read_text()) if ready.exists() else None
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
    if data is None:
        raise SystemExit(f"blotter --demo never showed rows: {err[-2000:]}")
    result = {"figure": "cold_start", "ready_s": data["at"] - t0, "rows": data["rows"],
              "rss_mb": data["rss_kb"] / 1024, "rows_ok": data["rows"] > 0}
    sys.stdout.write("BENCH-RESULT " + json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
