"""Per-connection auto-refresh of open orders: an interval, backoff on errors, diffs of what changed.

One loop per connection re-reads that connection's open orders every ``interval_s`` seconds. A read
that fails waits ``interval_s * backoff_factor ** failures`` (capped at ``max_backoff_s``) before the
next try, so a venue that is down is not hammered; the first success resets the backoff.
``refresh_now`` wakes the loops at once (F5). Reads of one connection never overlap (a lock), so diffs
are published in the order their reads began.

Each successful read is compared with the previous one and published as an ``OrdersDiff`` (added,
changed, removed); listeners are plain Python callables (the GUI adapts them to Qt). Qt-free.

A read in which some accounts could not be listed is still a successful read of the others: their orders are
diffed as usual, while the failing accounts' last known orders are kept as they were (unknown now, not gone:
never reported as removed). The event names those accounts (``account_failures``) and every order the
venue listed that could not be read (``unreadable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ..core import Account, BlotterError, Order, OrderKey, Unreadable
from .session import AccountFailure, Listing, OrderFilter

log = logging.getLogger(__name__)


class OrdersSource(Protocol):
    """What the scheduler needs from the service (``BlotterService`` fits)."""

    @property
    def specs(self) -> Mapping[str, object]: ...

    async def open_orders(self, flt: OrderFilter | None = None) -> Listing: ...


class RefreshPhase(StrEnum):
    STARTED = "started"  # a read of the connection began
    UPDATED = "updated"  # the read succeeded; ``diff`` says what changed (may be empty)
    FAILED = "failed"  # the read failed; ``error`` in the venue's words, ``retry_in_s`` until the next try


@dataclass(frozen=True, slots=True)
class OrdersDiff:
    """What changed in one connection's open orders between two reads."""

    connection: str
    started_at: float  # monotonic clock when the read began (lets a consumer drop stale knowledge)
    accounts: tuple[Account, ...] = ()
    added: tuple[Order, ...] = ()
    changed: tuple[Order, ...] = ()
    removed: tuple[OrderKey, ...] = ()
    first: bool = False  # the connection's first successful read

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class RefreshEvent:
    connection: str
    phase: RefreshPhase
    diff: OrdersDiff | None = None
    error: BlotterError | None = None
    retry_in_s: float = 0.0
    at: float = field(default_factory=time.monotonic)
    # UPDATED: the accounts whose orders could not be listed (their last known orders are kept), and the
    # orders listed that could not be read (skipped)
    account_failures: tuple[AccountFailure, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()


RefreshListener = Callable[[RefreshEvent], None]


def diff_orders(
    previous: Mapping[OrderKey, Order], current: Iterable[Order]
) -> tuple[dict[OrderKey, Order], list[Order], list[Order], list[OrderKey]]:
    """(new snapshot, added, changed, removed). Terminal orders count as gone."""
    snapshot: dict[OrderKey, Order] = {}
    added: list[Order] = []
    changed: list[Order] = []
    for order in current:
        if order.status.is_terminal:
            continue
        snapshot[order.key] = order
        old = previous.get(order.key)
        if old is None:
            added.append(order)
        elif old != order:
            changed.append(order)
    removed = [key for key in previous if key not in snapshot]
    return snapshot, added, changed, removed


def _still_unknown(previous: Mapping[OrderKey, Order], listed: Iterable[Order],
                   failures: Iterable[AccountFailure]) -> list[Order]:
    """The last known orders of accounts that could not be listed now (and that no other account listed)."""
    failed = {f.account for f in failures}
    if not failed:
        return []
    seen = {o.key for o in listed}
    return [o for k, o in previous.items() if k.account in failed and k not in seen]


@dataclass(slots=True)
class _Connection:
    name: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    snapshot: dict[OrderKey, Order] = field(default_factory=dict)
    accounts: tuple[Account, ...] = ()
    failures: int = 0
    succeeded: bool = False
    last_error: BlotterError | None = None
    task: asyncio.Task[None] | None = None


class RefreshScheduler:
    """Keeps every connection's open orders fresh and tells listeners what changed."""

    def __init__(
        self,
        source: OrdersSource,
        *,
        interval_s: float = 5.0,
        backoff_factor: float = 2.0,
        max_backoff_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the refresh interval must be positive")
        self._source = source
        self._interval_s = interval_s
        self.backoff_factor = backoff_factor
        self.max_backoff_s = max_backoff_s
        self._clock = clock
        self._listeners: list[RefreshListener] = []
        self._connections: dict[str, _Connection] = {name: _Connection(name) for name in sorted(source.specs)}
        self._closed = False
        self._started = False

    # ------------------------------------------------------------------ public API
    @property
    def connections(self) -> list[str]:
        return list(self._connections)

    @property
    def interval_s(self) -> float:
        return self._interval_s

    @interval_s.setter
    def interval_s(self, value: float) -> None:
        if value <= 0:
            raise ValueError("the refresh interval must be positive")
        self._interval_s = value
        for conn in self._connections.values():
            conn.wake.set()  # re-plan the next read with the new interval

    def subscribe(self, listener: RefreshListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def running(self) -> bool:
        return any(c.task is not None and not c.task.done() for c in self._connections.values())

    def start(self) -> None:
        """Start one loop per connection on the running event loop (the first read happens at once)."""
        if self._closed:
            raise RuntimeError("the scheduler is closed")
        loop = asyncio.get_running_loop()
        self._started = True
        for conn in self._connections.values():
            if conn.task is None or conn.task.done():
                conn.task = loop.create_task(self._loop(conn), name=f"refresh {conn.name}")

    def add_connection(self, name: str) -> None:
        """Keep a connection added at run time fresh too (its first read starts at once if running)."""
        if self._closed or name in self._connections:
            return
        self._connections = {**self._connections, name: _Connection(name)}
        self._connections = dict(sorted(self._connections.items()))
        if self._started:
            conn = self._connections[name]
            conn.task = asyncio.get_running_loop().create_task(self._loop(conn), name=f"refresh {name}")

    async def remove_connection(self, name: str) -> None:
        """Stop refreshing a removed connection (a read in progress is cancelled; nothing is published)."""
        conn = self._connections.pop(name, None)
        if conn is None or conn.task is None:
            return
        conn.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await conn.task

    def refresh_now(self, connection: str = "") -> None:
        """Read now (one connection or all); a connection in backoff is retried at once."""
        for conn in self._targets(connection):
            conn.wake.set()

    async def refresh_once(self, connection: str = "") -> list[RefreshEvent]:
        """Read now and wait for the result(s); works with or without the loops running."""
        results = await asyncio.gather(*(self._refresh(c) for c in self._targets(connection)))
        return list(results)

    def snapshot(self, connection: str = "") -> dict[OrderKey, Order]:
        """The open orders as of the last successful read(s)."""
        out: dict[OrderKey, Order] = {}
        for conn in self._targets(connection):
            out.update(conn.snapshot)
        return out

    def accounts(self, connection: str = "") -> list[Account]:
        return [a for conn in self._targets(connection) for a in conn.accounts]

    def failures(self, connection: str) -> int:
        return self._connections[connection].failures

    def next_delay(self, connection: str) -> float:
        """Seconds the loop waits after the connection's latest read."""
        failures = self._connections[connection].failures
        if failures == 0:
            return self._interval_s
        cap = max(self.max_backoff_s, self._interval_s)
        return min(self._interval_s * self.backoff_factor**failures, cap)

    def forget(self, keys: Iterable[OrderKey]) -> None:
        """Drop orders known to be gone (e.g. a confirmed cancel) so the next read does not report them."""
        for key in keys:
            conn = self._connections.get(key.connection)
            if conn is not None:
                conn.snapshot.pop(key, None)

    async def aclose(self) -> None:
        self._closed = True
        tasks = [c.task for c in self._connections.values() if c.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for conn in self._connections.values():
            conn.task = None

    # ------------------------------------------------------------------ the loops
    def _targets(self, connection: str) -> list[_Connection]:
        if connection:
            conn = self._connections.get(connection)
            if conn is None:
                raise KeyError(f"unknown connection {connection!r}")
            return [conn]
        return list(self._connections.values())

    async def _loop(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn.wake.clear()
            await self._refresh(conn)
            # sleep until the next read is due or refresh_now() wakes us (no helper task: cancelling
            # this loop cancels the wait directly)
            timer = loop.call_later(self.next_delay(conn.name), conn.wake.set)
            try:
                await conn.wake.wait()
            finally:
                timer.cancel()

    async def _refresh(self, conn: _Connection) -> RefreshEvent:
        async with conn.lock:
            started = self._clock()
            self._publish(RefreshEvent(conn.name, RefreshPhase.STARTED, at=started))
            try:
                listing = await self._source.open_orders(OrderFilter(connection=conn.name))
            except BlotterError as exc:
                return self._failed(conn, exc)
            failure = next((f for f in listing.failures if f.connection == conn.name), None)
            if failure is not None:
                return self._failed(conn, failure.error)
            account_failures = tuple(f for f in listing.account_failures if f.connection == conn.name)
            unreadable = tuple(u for u in listing.unreadable if u.connection == conn.name)
            snapshot, added, changed, removed = diff_orders(
                conn.snapshot, [*listing.orders, *_still_unknown(conn.snapshot, listing.orders, account_failures)])
            first = not conn.succeeded
            conn.snapshot, conn.succeeded, conn.failures, conn.last_error = snapshot, True, 0, None
            conn.accounts = tuple(a for a in listing.accounts if a.connection == conn.name)
            diff = OrdersDiff(conn.name, started, conn.accounts, tuple(added), tuple(changed), tuple(removed),
                              first=first)
            event = RefreshEvent(conn.name, RefreshPhase.UPDATED, diff=diff, retry_in_s=self._interval_s,
                                 account_failures=account_failures, unreadable=unreadable)
            self._publish(event)
            return event

    def _failed(self, conn: _Connection, error: BlotterError) -> RefreshEvent:
        conn.failures += 1
        conn.last_error = error
        retry = self.next_delay(conn.name)
        event = RefreshEvent(conn.name, RefreshPhase.FAILED, error=error, retry_in_s=retry)
        self._publish(event)
        return event

    def _publish(self, event: RefreshEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the refresh loop
                log.exception("refresh listener failed")
