"""The application without a screen: connections, listing, cancelling, health. Used by CLI and GUI."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import statistics
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core import (
    Account,
    BlotterError,
    CancelOutcome,
    CancelResult,
    ConfigError,
    ConnectionSpec,
    CredentialError,
    Order,
    OrderKey,
    OrderStatus,
    Provenance,
    ReadOnlyError,
    Side,
    Unreadable,
    Venue,
    VenueResponse,
    unreadable_in,
)
from ..store.audit import DURABLE_BLOCK_S, AuditError, AuditQuery, AuditStore, CancelTransition
from ..store.credentials import CredentialStore, read_secrets
from ..venues.base import CodePrompt, VenueAdapter
from ..venues.registry import FIELDS, create_adapter
from .coordinator import AttemptHeld, CancelCoordinator, CancelEvent, CancelPhase
from .recovery import recover_in_flight

log = logging.getLogger(__name__)

ResponseListener = Callable[[VenueResponse], None]

# How long a cancel waits for its start to be committed before it is journaled and goes on the wire anyway.
AUDIT_DURABLE_TIMEOUT_S = 0.5
# How long a replaced connection's adapter stays open for reads that began before the change.
RETIRE_GRACE_S = 30.0


def required_secrets_missing(spec: ConnectionSpec, secrets: Mapping[str, str]) -> list[str]:
    fields = FIELDS[spec.venue]
    missing = [f for f in fields.required_secrets if not secrets.get(f)]
    if spec.venue is Venue.TANX and not secrets.get("private_key") and not (
        secrets.get("access_token") and secrets.get("refresh_token")
    ):
        missing.append("private_key (or an access_token + refresh_token pair)")
    return missing


@dataclass
class ConnectionHealth:
    """What the accounts tree and status bar show about one connection."""

    state: str = "idle"  # idle | refreshing | connected | error
    last_success: datetime | None = None
    last_error: str = ""
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=50))

    @property
    def median_latency_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


@dataclass(frozen=True, slots=True)
class ConnectionFailure:
    """A connection that could not be read at all (login, its accounts): none of its accounts was listed."""

    connection: str
    error: BlotterError

    @property
    def text(self) -> str:
        return f"{self.connection}: {self.error}"


@dataclass(frozen=True, slots=True)
class AccountFailure:
    """One account whose open orders could not be listed; the connection's other accounts were."""

    connection: str
    account: str
    error: BlotterError  # the venue's words
    account_name: str = ""

    @property
    def text(self) -> str:
        named = f" ({self.account_name})" if self.account_name and self.account_name != self.account else ""
        return f"{self.connection}/{self.account}{named}: the open orders could not be listed: {self.error}"


@dataclass(frozen=True, slots=True)
class Listing:
    """Result of a fan-out over connections: what worked, one clear failure per broken connection, one per
    account that could not be listed (``account_failures``), and every order skipped as unreadable."""

    accounts: list[Account] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    failures: list[ConnectionFailure] = field(default_factory=list)
    account_failures: list[AccountFailure] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether everything asked for was read: no connection, account or order left out."""
        return not (self.failures or self.account_failures or self.unreadable)


@dataclass(slots=True)
class _ConnectionRead:
    """One connection's open orders as ``open_orders`` collects them, account by account."""

    accounts: list[Account]
    own: dict[OrderKey, Order] = field(default_factory=dict)  # listed under the account that owns them
    elsewhere: dict[OrderKey, Order] = field(default_factory=dict)  # listed under another account (M4)
    account_failures: list[AccountFailure] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    def add(self, account: str, orders: list[Order], flt: OrderFilter) -> None:
        self.unreadable.extend(unreadable_in(orders))
        for order in orders:
            if flt.matches(order):
                (self.own if order.key.account == account else self.elsewhere).setdefault(order.key, order)

    def orders(self) -> list[Order]:
        """Each key once: an order one account's page carries for another is the owner's listing of it."""
        return [*self.own.values(), *(o for k, o in self.elsewhere.items() if k not in self.own)]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    connection: str = ""
    account: str = ""
    symbol: str = ""
    side: Side | None = None

    def matches(self, order: Order) -> bool:
        return (
            (not self.connection or order.key.connection == self.connection)
            and (not self.account or order.key.account == self.account)
            and (not self.symbol or order.symbol.upper() == self.symbol.upper())
            and (self.side is None or order.side is self.side)
        )


class BlotterService:
    """Owns one adapter per connection, the cancel coordinator, and per-connection health.

    With an ``audit`` store, every venue response and every cancel step is recorded there, and each
    attempt's start is committed before its request goes on the wire. The caller owns (and closes)
    the store.
    """

    def __init__(
        self,
        specs: Iterable[ConnectionSpec],
        credentials: CredentialStore,
        *,
        read_only: bool = False,
        reconcile_timeout_s: float = 30.0,
        code_prompt: CodePrompt | None = None,
        transport_for: Callable[[ConnectionSpec], Any] | None = None,
        audit: AuditStore | None = None,
    ) -> None:
        self.specs: dict[str, ConnectionSpec] = {s.name: s for s in specs}
        self.credentials = credentials
        self.read_only = read_only
        self._code_prompt = code_prompt
        self._transport_for = transport_for
        self._adapters: dict[str, VenueAdapter] = {}
        self.health: dict[str, ConnectionHealth] = {name: ConnectionHealth() for name in self.specs}
        # accounts the venue itself reports as read-only (AutoShares AccessType, SnapTrade "read" authorizations)
        self._read_only_accounts: set[tuple[str, str]] = set()
        self._accounts_read: set[str] = set()  # connections whose accounts were listed in this run
        self._response_listeners: list[ResponseListener] = []
        self._writes: set[asyncio.Task[None]] = set()  # rotated tokens on their way to the store
        self._retiring: set[asyncio.Task[None]] = set()  # replaced adapters, closed once idle
        self.audit = audit
        self.coordinator = CancelCoordinator(
            _LazyAdapters(self), reconcile_timeout_s=reconcile_timeout_s, is_read_only=self.is_key_read_only,
            before_send=self._attempt_durable if audit is not None else None,
        )
        if audit is not None:
            self.add_response_listener(audit.record_response)
            self.coordinator.subscribe(self._audit_cancel_event)

    # ------------------------------------------------------------------ connections
    def is_read_only(self, connection: str) -> bool:
        spec = self.specs.get(connection)
        return self.read_only or (spec is not None and spec.read_only)

    def is_account_read_only(self, connection: str, account: str) -> bool:
        return self.is_read_only(connection) or (connection, account) in self._read_only_accounts

    def is_key_read_only(self, key: OrderKey) -> bool:
        return self.is_account_read_only(key.connection, key.account)

    def _learn_accounts(self, accounts: Iterable[Account]) -> None:
        accounts = list(accounts)
        self._accounts_read.update(a.connection for a in accounts)
        for account in accounts:
            pair = (account.connection, account.account_id)
            if account.read_only:
                self._read_only_accounts.add(pair)
            else:
                self._read_only_accounts.discard(pair)

    def spec(self, name: str) -> ConnectionSpec:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(sorted(self.specs)) or "none configured"
            raise ConfigError(f"unknown connection {name!r} (known: {known})") from None

    def adapter(self, name: str) -> VenueAdapter:
        adapter = self._adapters.get(name)
        if adapter is None:
            spec = self.spec(name)
            secrets = read_secrets(self.credentials, name, FIELDS[spec.venue].secrets)
            if self.audit is not None:
                self.audit.add_secrets(secrets.values())
            missing = required_secrets_missing(spec, secrets)
            if missing:
                raise CredentialError(
                    f"connection {name!r} has no {', '.join(missing)} stored in the {self.credentials.description}"
                )
            transport = self._transport_for(spec) if self._transport_for else None
            adapter = create_adapter(spec, secrets, transport=transport, code_prompt=self._prompt_for(spec))
            adapter.add_listener(functools.partial(self._on_response, name))
            on_tokens = getattr(adapter, "on_tokens", None)
            if on_tokens is not None:  # tanX with pasted tokens: keep the rotated pair
                on_tokens(functools.partial(self._tokens_rotated, name))
            read_tokens_with = getattr(adapter, "read_tokens_with", None)
            if read_tokens_with is not None:  # ... and look for a newer pair another process stored
                read_tokens_with(functools.partial(self._stored_tokens, name))
            self._adapters[name] = adapter
        return adapter

    def _prompt_for(self, spec: ConnectionSpec) -> CodePrompt | None:
        """The code prompt, told which connection asks (a trader may have several logins)."""
        ask = self._code_prompt
        if ask is None:
            return None

        async def prompt(words: str) -> str:
            return await ask(f"Connection {spec.name!r} ({spec.venue.value}): {words}")

        return prompt

    # ------------------------------------------------------------------ connections at run time
    def set_connection(self, spec: ConnectionSpec) -> None:
        """Add a connection, or replace one whose options or secrets changed, while running.

        New work uses a fresh adapter (secrets read again from the store). The previous adapter is not
        closed under work in flight: it finishes the cancels it carries, then closes.
        """
        self.specs[spec.name] = spec
        self.health.setdefault(spec.name, ConnectionHealth())
        self._retire(spec.name)

    def remove_connection(self, name: str) -> None:
        """Forget a connection; cancels already running on it still finish (and are recorded)."""
        self.spec(name)
        del self.specs[name]
        self.health.pop(name, None)
        self._read_only_accounts = {pair for pair in self._read_only_accounts if pair[0] != name}
        self._accounts_read.discard(name)
        self._retire(name)

    def _retire(self, name: str) -> None:
        adapter = self._adapters.pop(name, None)
        if adapter is not None:
            _keep(self._retiring, asyncio.get_running_loop().create_task(self._close_when_idle(name, adapter)))

    async def _close_when_idle(self, name: str, adapter: VenueAdapter) -> None:
        try:
            while any(key.connection == name for key in self.coordinator.in_flight_keys):
                settled: asyncio.Future[None] = asyncio.get_running_loop().create_future()

                def on_event(_event: CancelEvent, fut: asyncio.Future[None] = settled) -> None:
                    if not fut.done():
                        fut.set_result(None)

                unsubscribe = self.coordinator.subscribe(on_event)
                try:
                    await settled
                finally:
                    unsubscribe()
            # a refresh read that began before the change may still be on the wire
            await asyncio.sleep(RETIRE_GRACE_S)
        finally:
            await adapter.aclose()

    def _tokens_rotated(self, name: str, tokens: Mapping[str, str]) -> None:
        if self.audit is not None:
            self.audit.add_secrets(tokens.values())
        _keep(self._writes, asyncio.get_running_loop().create_task(self._store_tokens(name, dict(tokens))))

    async def _store_tokens(self, name: str, tokens: dict[str, str]) -> None:
        def write() -> None:
            if name not in self.specs:
                return  # removed meanwhile: its entries are gone and must stay gone
            for field_name, value in tokens.items():
                self.credentials.set(name, field_name, value)

        try:
            await asyncio.to_thread(write)
        except CredentialError as exc:
            log.warning("connection %s: the refreshed tokens could not be stored (%s); paste new tokens "
                        "after a restart", name, exc)

    async def _stored_tokens(self, name: str) -> Mapping[str, str]:
        def read() -> Mapping[str, str]:
            return read_secrets(self.credentials, name, ("access_token", "refresh_token"))

        tokens = await asyncio.to_thread(read)
        if self.audit is not None:
            self.audit.add_secrets(v for v in tokens.values() if v)
        return tokens

    def add_response_listener(self, listener: ResponseListener) -> None:
        self._response_listeners.append(listener)

    def remove_response_listener(self, listener: ResponseListener) -> None:
        if listener in self._response_listeners:
            self._response_listeners.remove(listener)

    def _on_response(self, name: str, response: VenueResponse) -> None:
        health = self.health.setdefault(name, ConnectionHealth())
        if response.ok:
            health.latencies_ms.append(response.latency_ms)
        for listener in list(self._response_listeners):
            listener(response)

    def _names(self, connection: str = "") -> list[str]:
        if connection:
            self.spec(connection)
            return [connection]
        return sorted(self.specs)

    # ------------------------------------------------------------------ reading
    async def accounts(self, connection: str = "") -> Listing:
        async def one(name: str) -> list[Account]:
            accounts = await self.adapter(name).list_accounts()
            self._learn_accounts(accounts)
            return accounts

        results = await self._fan_out(self._names(connection), one)
        return Listing(accounts=[a for r in results.values() if isinstance(r, list) for a in r],
                       failures=_failures(results))

    async def open_orders(self, flt: OrderFilter | None = None) -> Listing:
        flt = flt or OrderFilter()

        async def one(name: str) -> _ConnectionRead:
            adapter = self.adapter(name)
            accounts = await adapter.list_accounts()
            self._learn_accounts(accounts)
            if flt.account:
                accounts = [a for a in accounts if a.account_id == flt.account]
            # Every account's read finishes before the connection's result is decided: a failure must not
            # leave the other reads running on their own (orphaned tasks, requests nobody waits for).
            per_account = await asyncio.gather(
                *(adapter.list_open_orders(a.account_id) for a in accounts), return_exceptions=True
            )
            read = _ConnectionRead(accounts)
            for account, outcome in zip(accounts, per_account, strict=True):
                if isinstance(outcome, BlotterError):  # this account only: the others keep their orders
                    read.account_failures.append(AccountFailure(name, account.account_id, outcome, account.name))
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    read.add(account.account_id, outcome, flt)
            return read

        results = await self._fan_out(self._names(flt.connection), one)
        ok = [r for r in results.values() if isinstance(r, _ConnectionRead)]
        listing = Listing(
            accounts=[a for read in ok for a in read.accounts],
            orders=sorted((o for read in ok for o in read.orders()), key=lambda o: o.key),
            failures=_failures(results),
            account_failures=[f for read in ok for f in read.account_failures],
            unreadable=[u for read in ok for u in read.unreadable],
        )
        if flt.account and not listing.accounts and not listing.failures:
            raise ConfigError(f"no account {flt.account!r} in {flt.connection or 'any connection'}")
        return listing

    async def _fan_out(self, names: Sequence[str], fn: Callable[[str], Any]) -> dict[str, Any]:
        async def guarded(name: str) -> Any:
            health = self.health.setdefault(name, ConnectionHealth())
            health.state = "refreshing"
            try:
                result = await fn(name)
            except BlotterError as exc:
                health.state, health.last_error = "error", str(exc)
                return exc
            health.state, health.last_success, health.last_error = "connected", datetime.now(UTC), ""
            return result

        values = await asyncio.gather(*(guarded(n) for n in names))
        return dict(zip(names, values, strict=True))

    # ------------------------------------------------------------------ cancelling
    def check_can_cancel(self, connection: str, account: str = "") -> None:
        self.spec(connection)
        if self.read_only:
            raise ReadOnlyError("Blotter is in read-only mode: cancelling is disabled")
        if self.is_read_only(connection):
            raise ReadOnlyError(f"connection {connection!r} is read-only: cancelling is disabled")
        if account and (connection, account) in self._read_only_accounts:
            raise ReadOnlyError(f"account {connection}/{account} is read-only at the venue: cancelling is disabled")

    async def cancel(
        self, keys: Sequence[OrderKey], provenance: Provenance, batch_id: str = ""
    ) -> list[CancelResult]:
        for key in keys:
            self.check_can_cancel(key.connection, key.account)
        names = {k.connection for k in keys}
        for name in names:
            self.adapter(name)  # missing secrets fail here, before any request is sent
        await self._learn_accounts_of(names)
        keys = [self.coordinator.canonical(k) for k in keys]
        for key in keys:  # an account the venue reports read-only is refused before any cancel is sent
            self.check_can_cancel(key.connection, key.account)
        return await self.coordinator.cancel_many(keys, provenance, batch_id)

    async def refused(self, keys: Sequence[OrderKey]) -> list[tuple[OrderKey, str]]:
        """The keys a cancel would refuse before sending anything, each with why (read-only: the app, the
        connection, or an account the venue reports read-only — its accounts are listed first if needed)."""
        names = {k.connection for k in keys if k.connection in self.specs}
        await self._learn_accounts_of(names)
        out: list[tuple[OrderKey, str]] = []
        for key in keys:
            try:
                self.check_can_cancel(key.connection, key.account)
            except BlotterError as exc:
                out.append((key, str(exc)))
        return out

    async def _learn_accounts_of(self, names: Iterable[str]) -> None:
        """Read the accounts of connections not listed yet in this run (which are read-only at the venue;
        SnapTrade's spelling of account ids). A connection whose accounts cannot be read is not stopped
        here: its cancel goes out and the venue answers for itself (an emergency cancel must not wait)."""
        todo = [n for n in names if n not in self._accounts_read]
        if todo:
            await self._fan_out(todo, self._list_accounts_once)

    async def _list_accounts_once(self, name: str) -> list[Account]:
        accounts = await self.adapter(name).list_accounts()
        self._learn_accounts(accounts)
        return accounts

    async def cancel_all(
        self, flt: OrderFilter, provenance: Provenance = Provenance.CANCEL_ALL
    ) -> tuple[list[CancelResult], Listing]:
        """Cancel every matching open order that could be read. An account that could not be listed, or an
        order that could not be read, stops nothing else: the listing returned says exactly which they were
        (``account_failures``, ``unreadable``, ``failures``) — nothing was cancelled there."""
        names = self._names(flt.connection)
        for name in names:
            self.check_can_cancel(name)
        listing = await self.open_orders(flt)
        batch_id = uuid.uuid4().hex[:12]
        # orders in accounts the venue reports read-only are not touched (and not counted as failures)
        keys = [o.key for o in listing.orders if not self.is_key_read_only(o.key)]
        results = await self.coordinator.cancel_many(keys, provenance, batch_id)
        return results, listing

    # ------------------------------------------------------------------ audit
    def _transition(self, event: CancelEvent) -> CancelTransition:
        spec = self.specs.get(event.key.connection)
        response = event.response
        return CancelTransition(
            attempt_id=event.attempt_id, key=event.key, phase=event.phase.value, provenance=event.provenance,
            batch_id=event.batch_id, message=event.message, at=event.at,
            venue=response.venue.value if response else (event.venue or (spec.venue.value if spec else "")),
            http_status=response.http_status if response else None,
            latency_ms=response.latency_ms if response else None,
            result=event.result,
            venue_reason=event.order.cancel_reason if event.order else "",
            identity=event.identity,
        )

    def _audit_cancel_event(self, event: CancelEvent) -> None:
        assert self.audit is not None
        if event.phase is CancelPhase.SENDING:
            return  # recorded (and the venue order claimed) by _attempt_durable, before the request leaves
        self.audit.record_cancel(self._transition(event))

    async def _attempt_durable(self, event: CancelEvent) -> AttemptHeld | None:
        """Before a cancel's request goes on the wire: its start is on disk, and its venue order is ours.

        The start is committed with a claim on the venue order (``AuditStore.start_attempt``). If another live
        Blotter process holds the claim (its cancel of the same order is on the wire), nothing is sent: the
        coordinator reports that attempt's outcome (``AttemptHeld``). If the database cannot take the start
        within ``AUDIT_DURABLE_TIMEOUT_S`` (locked by another program, a full disk), the start is written to
        the fallback journal and the cancel goes out anyway: a trader's emergency cancel is never held back
        by its bookkeeping, and the trader is told at once (the store's problem listeners).
        """
        audit = self.audit
        assert audit is not None
        transition = self._transition(event)
        if audit.degraded:  # known trouble: do not wait for the database, journal and send
            audit.journal_now(transition)
            audit.record_cancel(transition)  # merged (once) when the database can be written again
            return None
        future = audit.start_attempt(transition)
        try:
            try:
                start = future.result(DURABLE_BLOCK_S)  # the usual case: committed within a millisecond
            except concurrent.futures.TimeoutError:
                start = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), AUDIT_DURABLE_TIMEOUT_S)
        except TimeoutError:
            audit.journal_now(transition)
            return None
        if not start.holder_attempt_id:
            return None
        pid = f" (pid {start.holder_pid})" if start.holder_pid else ""
        return AttemptHeld(start.holder_attempt_id, f"another Blotter process{pid}",
                           functools.partial(self._holder_outcome, start.holder_attempt_id, event.key))

    async def _holder_outcome(self, attempt_id: str, key: OrderKey, timeout_s: float) -> CancelResult | None:
        """The other process's attempt's final outcome, read from the shared trail (None if not in time)."""
        audit = self.audit
        assert audit is not None
        deadline = asyncio.get_running_loop().time() + max(0.0, timeout_s)
        delay = 0.1
        while True:
            try:
                found = await asyncio.to_thread(audit.attempts, AuditQuery(attempt_id=attempt_id))
            except AuditError:
                found = []
            a = found[0] if found else None
            if a is not None and a.state == "done" and a.outcome:
                return CancelResult(
                    key=key, attempt_id=a.attempt_id, outcome=CancelOutcome(a.outcome), message=a.message,
                    http_status=a.http_status, latency_ms=0.0,
                    final_status=OrderStatus(a.final_status) if a.final_status else None,
                    provenance=Provenance(a.provenance), batch_id=a.batch_id, venue_status=a.venue_status,
                    detail=a.detail)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return None
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 1.5, 1.0)

    async def recover_in_flight(self) -> list[CancelResult]:
        """Settle the cancel attempts an earlier process left in flight (see ``service.recovery``)."""
        return await recover_in_flight(self)

    async def aclose(self) -> None:
        await self.coordinator.aclose()
        for task in self._retiring:
            task.cancel()  # no cancel is left to wait for: the retired adapters close now
        await asyncio.gather(*self._writes, *self._retiring, return_exceptions=True)
        await asyncio.gather(*(a.aclose() for a in self._adapters.values()), return_exceptions=True)
        self._adapters.clear()


class _LazyAdapters(Mapping[str, VenueAdapter]):
    """Lets the coordinator reach adapters that are created on first use."""

    def __init__(self, service: BlotterService) -> None:
        self._service = service

    def __getitem__(self, name: str) -> VenueAdapter:
        if name not in self._service.specs:
            raise KeyError(name)
        return self._service.adapter(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except (KeyError, BlotterError):
            return default

    def __iter__(self) -> Any:
        return iter(self._service.specs)

    def __len__(self) -> int:
        return len(self._service.specs)


def _keep(tasks: set[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _failures(results: Mapping[str, Any]) -> list[ConnectionFailure]:
    return [ConnectionFailure(n, r) for n, r in results.items() if isinstance(r, BlotterError)]

