"""What the three venue simulators share: clock, request log, faults, latency, rate limits, admin API.

A simulator is a Starlette app wrapped by ``SimMiddleware``. The middleware records every request,
applies the scenario's latency and rate limit, and plays fault rules before the venue's routes see the
request. The admin endpoints under ``/_sim/`` let a test (or a person) read the request log, add faults
and move the simulator's clock, over HTTP as well as in-process.

Per-order cancel behaviour (``CancelSpec``) is interpreted by each venue module in its own terms.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SimClock:
    """Wall time plus an offset that tests can advance (token expiry, delayed cancels)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


CANCEL_MODES = ("accept", "never", "reject", "fill", "timeout", "error")


@dataclass(frozen=True, slots=True)
class CancelSpec:
    """How the venue reacts to a cancel of one order.

    - ``accept``: the venue cancels; ``delay_ms`` > 0 passes through the venue's pending state first.
    - ``never``: the venue accepts the request but the order never leaves its pending state.
    - ``reject``: the venue refuses with ``status`` and ``message`` (in its own error shape).
    - ``fill``: the order fills as the cancel arrives (too late).
    - ``timeout``: the venue applies ``effect`` but answers only after ``delay_ms`` (client times out).
    - ``error``: the venue answers 500; ``effect`` says whether the cancel happened anyway.
    """

    mode: str = "accept"
    delay_ms: int = 0
    status: int = 0
    message: str = ""
    effect: str = "cancel"  # cancel | none

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CancelSpec:
        if not data:
            return cls()
        spec = cls(
            mode=str(data.get("mode", "accept")),
            delay_ms=int(data.get("delay_ms", 0)),
            status=int(data.get("status", 0)),
            message=str(data.get("message", "")),
            effect=str(data.get("effect", "cancel" if data.get("mode") == "timeout" else "none")),
        )
        if spec.mode not in CANCEL_MODES:
            raise ValueError(f"unknown cancel mode {spec.mode!r}; expected one of {', '.join(CANCEL_MODES)}")
        if spec.effect not in ("cancel", "none"):
            raise ValueError(f"unknown cancel effect {spec.effect!r}; expected cancel or none")
        return spec


FAULT_ACTIONS = (
    "status", "delay", "hang", "reset", "malformed", "html", "empty", "large", "slow", "hold", "hold_answer",
)
HOLD_MAX_S = 60.0  # a held request is let go after this long even if nobody releases it


@dataclass(slots=True)
class FaultRule:
    """A fault played by the middleware on matching requests (``times`` = how often; 0 = forever).

    ``hold`` keeps a request from the venue until ``release()`` (then the venue handles it as usual);
    ``hold_answer`` lets the venue handle the request at once but keeps its answer until ``release()``
    (a reply that left the venue before something changed there). Tests use them to order races
    without sleeping.
    """

    action: str
    path: str = ".*"  # regex searched in the path
    method: str = ""  # empty = any
    query: str = ""  # regex searched in the query string; empty = any
    status: int = 0  # 0 = the action's usual status (500 for action=status)
    body: Any = None  # JSON value (or str) for action=status
    headers: dict[str, str] = field(default_factory=dict)
    delay_ms: int = 0
    times: int = 1
    hits: int = 0
    released: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        rule = cls(
            action=str(data["action"]),
            path=str(data.get("path", ".*")),
            method=str(data.get("method", "")).upper(),
            query=str(data.get("query", "")),
            status=int(data.get("status", 0)),
            body=data.get("body"),
            headers={str(k): str(v) for k, v in dict(data.get("headers", {})).items()},
            delay_ms=int(data.get("delay_ms", 0)),
            times=int(data.get("times", 1)),
        )
        if rule.action not in FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {rule.action!r}; expected one of {', '.join(FAULT_ACTIONS)}")
        re.compile(rule.path)
        re.compile(rule.query)
        return rule

    def release(self) -> None:
        """Let held requests (and any later ones this rule holds) through."""
        self.released.set()

    def matches(self, method: str, path: str, query: str = "") -> bool:
        if self.times and self.hits >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.query and re.search(self.query, query) is None:
            return False
        return re.search(self.path, path) is not None


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    at: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    status: int = 0


@dataclass(slots=True)
class SimSettings:
    """The scenario's cross-cutting knobs for one venue."""

    latency_ms: int = 0
    rate_limit: int = 0  # requests per window; 0 = unlimited
    rate_window_s: float = 60.0
    faults: list[FaultRule] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimSettings:
        rate = data.get("rate_limit") or {}
        return cls(
            latency_ms=int(data.get("latency_ms", 0)),
            rate_limit=int(rate.get("requests", 0)) if isinstance(rate, Mapping) else int(rate),
            rate_window_s=float(rate.get("per_seconds", 60)) if isinstance(rate, Mapping) else 60.0,
            faults=[FaultRule.from_dict(f) for f in data.get("faults", [])],
        )


class SimBase:
    """State every venue simulator has. Venue modules subclass it and build ``routes``."""

    venue_name = "sim"

    def __init__(self, settings: SimSettings, clock: SimClock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SimClock()
        self.lock = threading.RLock()
        self.requests: list[LoggedRequest] = []
        self._window_start = 0.0
        self._window_count = 0

    # -- hooks for venue modules
    @property
    def app(self) -> ASGIApp:
        """The venue's ASGI app wrapped in ``SimMiddleware``."""
        raise NotImplementedError

    def rate_limited_response(self, retry_after: int) -> Response:
        return JSONResponse({"detail": "Too many requests"}, status_code=429,
                            headers={"Retry-After": str(retry_after)})

    def error_body(self, status: int, message: str) -> Any:
        return {"message": message}

    # -- test helpers (thread-safe)
    def add_fault(self, rule: FaultRule | Mapping[str, Any]) -> FaultRule:
        rule = rule if isinstance(rule, FaultRule) else FaultRule.from_dict(rule)
        with self.lock:
            self.settings.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self.lock:
            for rule in self.settings.faults:
                rule.release()
            self.settings.faults.clear()

    def remove_fault(self, rule: FaultRule) -> None:
        """Stop playing one rule (requests it holds are released)."""
        rule.release()
        with self.lock:
            self.settings.faults[:] = [r for r in self.settings.faults if r is not rule]

    def requests_matching(self, method: str = "", path: str = ".*") -> list[LoggedRequest]:
        with self.lock:
            return [
                r for r in self.requests
                if (not method or r.method == method.upper()) and re.search(path, r.path)
            ]

    def _check_rate(self) -> int | None:
        """Seconds to wait if this request exceeds the budget, else None (counts the request)."""
        if not self.settings.rate_limit:
            return None
        now = self.clock.now()
        with self.lock:
            if now - self._window_start >= self.settings.rate_window_s:
                self._window_start, self._window_count = now, 0
            if self._window_count >= self.settings.rate_limit:
                return max(1, int(self._window_start + self.settings.rate_window_s - now + 0.999))
            self._window_count += 1
        return None

    def admin_routes(self) -> dict[str, Callable[[Request], Awaitable[Response]]]:
        async def requests_(request: Request) -> Response:
            with self.lock:
                items = [asdict(r) for r in self.requests]
            return JSONResponse(items)

        async def faults(request: Request) -> Response:
            if request.method == "DELETE":
                self.clear_faults()
                return JSONResponse({"faults": 0})
            data = await request.json()
            rules = data if isinstance(data, list) else [data]
            try:
                for rule in rules:
                    self.add_fault(rule)
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse({"faults": len(self.settings.faults)})

        async def clock(request: Request) -> Response:
            data = await request.json()
            self.clock.advance(float(data.get("advance_s", 0)))
            return JSONResponse({"now": self.clock.now()})

        return {"/_sim/requests": requests_, "/_sim/faults": faults, "/_sim/clock": clock}


_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)


class SimMiddleware:
    """Records requests, applies latency, rate limits and fault rules, serves ``/_sim/`` admin routes."""

    def __init__(self, app: ASGIApp, sim: SimBase) -> None:
        self.app = app
        self.sim = sim
        self.admin = sim.admin_routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in self.admin:
            response = await self.admin[path](Request(scope, receive))
            await response(scope, receive, send)
            return
        body = await _read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry_index = self._log(scope, headers, body)
        replay = _replay_receive(body)
        status_holder: dict[str, int] = {}

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = int(message["status"])
                # Log it before the client can see the answer (tests read the log right after).
                self._set_status(entry_index, status_holder["status"])
            await send(message)

        try:
            if self.sim.settings.latency_ms:
                await asyncio.sleep(self.sim.settings.latency_ms / 1000)
            wait = self.sim._check_rate()
            if wait is not None:
                await self.sim.rate_limited_response(wait)(scope, replay, send_recording)
                return
            rule = self._match_fault(scope["method"], path, scope.get("query_string", b"").decode("latin-1"))
            if rule is not None and rule.action == "hold_answer":
                held = rule

                async def send_held(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        await _released(held)
                    await send_recording(message)

                await self.app(scope, replay, send_held)
                return
            if rule is not None and await self._play(rule, scope, replay, send_recording, receive):
                return
            await self.app(scope, replay, send_recording)
        finally:
            self._set_status(entry_index, status_holder.get("status", 0))

    def _log(self, scope: Scope, headers: dict[str, str], body: bytes) -> int:
        entry = LoggedRequest(
            at=self.sim.clock.now(), method=scope["method"], path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"), headers=headers,
            body=body.decode("utf-8", "replace"),
        )
        with self.sim.lock:
            self.sim.requests.append(entry)
            return len(self.sim.requests) - 1

    def _set_status(self, index: int, status: int) -> None:
        with self.sim.lock:
            entry = self.sim.requests[index]
            self.sim.requests[index] = LoggedRequest(
                entry.at, entry.method, entry.path, entry.query, entry.headers, entry.body, status
            )

    def _match_fault(self, method: str, path: str, query: str) -> FaultRule | None:
        with self.sim.lock:
            for rule in self.sim.settings.faults:
                if rule.matches(method, path, query):
                    rule.hits += 1
                    return rule
        return None

    async def _play(
        self, rule: FaultRule, scope: Scope, receive: Receive, send: Send, client: Receive
    ) -> bool:
        """Play a fault; False means 'carry on to the venue' (a pure delay). ``client`` reports the
        client's disconnect, so a hang or a slow body ends when the client gives up."""
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        action = rule.action
        if action == "delay":
            return False
        if action == "hold":
            await _released(rule)
            return False
        if action == "hang":
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3600):
                    await _disconnected(client)
            return True
        if action == "status":
            status = rule.status or 500
            body = rule.body if rule.body is not None else self.sim.error_body(status, "Simulated fault")
            if isinstance(body, str):
                response: Response = Response(body, status_code=status, headers=rule.headers,
                                              media_type="application/json")
            else:
                response = JSONResponse(body, status_code=status, headers=rule.headers)
            await response(scope, receive, send)
            return True
        if action == "malformed":
            await Response(b'{"status": "success", "payload": [{"id": 1,', status_code=rule.status or 200,
                           media_type="application/json")(scope, receive, send)
            return True
        if action == "html":
            await Response(_HTML_PAGE, status_code=rule.status or 502, media_type="text/html")(
                scope, receive, send)
            return True
        if action == "empty":
            await Response(b"", status_code=rule.status or 200, media_type="application/json")(
                scope, receive, send)
            return True
        if action == "large":
            size = 20 * 1024 * 1024
            await send({"type": "http.response.start", "status": rule.status or 200,
                        "headers": [(b"content-type", b"application/json")]})
            chunk = b" " * 65536
            for _ in range(size // len(chunk)):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"[]", "more_body": False})
            return True
        if action == "slow":
            await send({"type": "http.response.start", "status": rule.status or 200,
                        "headers": [(b"content-type", b"application/json")]})
            gone = asyncio.ensure_future(_disconnected(client))
            try:
                for _ in range(600):
                    await send({"type": "http.response.body", "body": b" ", "more_body": True})
                    await asyncio.wait({gone}, timeout=1.0)
                    if gone.done():
                        return True
            finally:
                gone.cancel()
            await send({"type": "http.response.body", "body": b"[]", "more_body": False})
            return True
        if action == "reset":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
            raise ConnectionResetError("simulated connection reset")
        raise AssertionError(action)


async def _disconnected(receive: Receive) -> None:
    """Returns once the client has gone (the request body was read already)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _released(rule: FaultRule) -> None:
    # A threading.Event (tests release from their own thread and loop), so poll it from this loop.
    deadline = time.monotonic() + HOLD_MAX_S
    while not rule.released.is_set() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.005)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            break
    return b"".join(chunks)


def _replay_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client disconnects long before; mirrors a live socket
        return {"type": "http.disconnect"}

    return receive
