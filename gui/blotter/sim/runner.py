"""Build the simulators from a scenario and serve them on 127.0.0.1.

``SimSet`` holds one simulator per venue present in the scenario. ``SimServer`` serves a ``SimSet`` with
uvicorn in a background thread (its own event loop), so the venues keep answering whatever the caller's
loop is doing (Qt/qasync, a blocked test, a CLI). Each venue gets its own port: the SnapTrade SDK wants
its host at the root, tanX's paths start at ``/sapi``, AutoShares' at ``/api``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from .common import SimBase, SimClock


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Read a scenario file (JSON). Raises ``ValueError`` with a readable message."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"scenario file not found: {p}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"scenario file {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"scenario file {p} must hold a JSON object with venue sections")
    return data


@dataclass
class SimSet:
    """The simulators of one scenario, sharing one clock."""

    clock: SimClock = field(default_factory=SimClock)
    sims: dict[str, SimBase] = field(default_factory=dict)

    @classmethod
    def from_scenario(cls, scenario: Mapping[str, Any], clock: SimClock | None = None) -> SimSet:
        from .autoshares import AutoSharesSim
        from .snaptrade import SnapTradeSim
        from .tanx import TanxSim

        builders: dict[str, Any] = {"autoshares": AutoSharesSim, "snaptrade": SnapTradeSim, "tanx": TanxSim}
        unknown = set(scenario) - set(builders) - {"name", "description", "seed"}
        if unknown:
            raise ValueError(f"scenario has unknown sections: {', '.join(sorted(unknown))}")
        out = cls(clock=clock or SimClock())
        for venue, builder in builders.items():
            if venue in scenario:
                out.sims[venue] = builder.from_scenario(scenario[venue], out.clock)
        return out

    def __getitem__(self, venue: str) -> Any:
        return self.sims[venue]

    def base_path(self, venue: str) -> str:
        return str(getattr(self.sims[venue], "base_path", ""))


class SimServer:
    """Serves a ``SimSet`` on loopback ports in a daemon thread. Use as a context manager."""

    def __init__(self, sims: SimSet, host: str = "127.0.0.1") -> None:
        self.sims = sims
        self.host = host
        self.urls: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[uvicorn.Server] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> dict[str, str]:
        sockets: dict[str, socket.socket] = {}
        for venue in self.sims.sims:
            # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then; without it every
            # response waits ~40 ms for Nagle + the client's delayed ACK.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, 0))
            sock.listen(128)
            sockets[venue] = sock
            port = sock.getsockname()[1]
            self.urls[venue] = f"http://{self.host}:{port}{self.sims.base_path(venue)}"
        self._thread = threading.Thread(target=self._run, args=(sockets,), name="blotter-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("simulators did not start within 15 s")
        if self._error is not None:
            raise RuntimeError(f"simulators failed to start: {self._error}")
        return dict(self.urls)

    def _run(self, sockets: dict[str, socket.socket]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sockets))
        except BaseException as exc:  # surfaced to start() / stop()
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self, sockets: dict[str, socket.socket]) -> None:
        tasks = []
        for venue, sock in sockets.items():
            config = uvicorn.Config(
                self.sims.sims[venue].app, log_level="warning", access_log=False, lifespan="off",
                timeout_graceful_shutdown=1,
            )
            server = uvicorn.Server(config)  # off the main thread it installs no signal handlers
            self._servers.append(server)
            tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
        while not all(s.started for s in self._servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.01)
        self._ready.set()
        await asyncio.gather(*tasks)

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
