"""What the audit-fault tests share: another process holding the audit database's write lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


class Locker:
    """Another process holding the database's write lock (a sqlite3 shell, a backup tool, another Blotter)
    for ``seconds``; the constructor returns once the lock is held."""

    def __init__(self, db: Path, seconds: float) -> None:
        code = textwrap.dedent(f"""
            import sqlite3, time
            c = sqlite3.connect({str(db)!r}, isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep({seconds})
            c.execute("ROLLBACK")
        """)
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def holding(self) -> bool:
        return self.proc.poll() is None

    def wait(self) -> None:
        self.proc.wait(30)
