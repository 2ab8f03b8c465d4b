"""``blotter``: no sub-command opens the window; sub-commands are for support staff and scripts.

Every expected failure (unknown connection, malformed URL, missing secret, unreachable venue, bad
credentials, no keyring) ends with one clear line on stderr and a non-zero exit, never a traceback.
Exit status: 0 fine; 1 a venue or an outcome went wrong (a cancel not cancelled/pending, a connection
failed while listing); 2 bad input or configuration: a malformed option (``--wait nan``), a setting that is
not valid (``read_only`` that is not a TOML boolean, ``timeout_s = nan``, ``connections = 5``), an
unusable keyring (any backend failure, a ``PYTHON_KEYRING_BACKEND`` typo). Settings fail closed: the CLI
refuses a config file whose ``read_only`` is not ``true`` or ``false`` rather than guess.

Every command that talks to venues records what happened in the audit trail (``blotter log``,
``blotter export``) and first settles any cancel an earlier, interrupted run left in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import logging.handlers
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from . import __version__
from .boot.demo import demo_environment
from .boot.logs import log_response, setup_logging
from .core import (
    BlotterError,
    CancelOutcome,
    CancelResult,
    ConfigError,
    ConnectionSpec,
    CredentialError,
    OrderKey,
    Provenance,
    ReadOnlyError,
    Side,
    Venue,
)
from .core.urls import validate_base_url
from .service import BlotterService, Listing, OrderFilter
from .service.duplicates import duplicate_warning
from .store import paths
from .store.audit import (
    IN_FLIGHT,
    AuditError,
    AuditQuery,
    AuditRecord,
    AuditStore,
    parse_duration,
    write_csv,
    write_jsonl,
)
from .store.config import ConfigStore
from .store.credentials import CredentialStore, KeyringCredentialStore, MemoryCredentialStore
from .venues.registry import FIELDS

log = logging.getLogger("blotter")

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class UsageError(BlotterError):
    pass


# ---------------------------------------------------------------------- output helpers
def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str], out: TextIO) -> None:
    # venue text never reaches the terminal raw: escape sequences could paint fake rows (M10)
    cells = [[("" if v is None else _clean(str(v))) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    out.write("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def _json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _report_failures(listing: Listing, *, cancelling: bool = False) -> int:
    """One line on stderr per connection, account and order that could not be read; 1 if there is any.

    ``cancelling``: the lines say that nothing was cancelled there (cancel-all cancelled everything else)."""
    for failure in listing.failures:
        sys.stderr.write(f"blotter: {failure.connection}: {failure.error}\n")
    for line in _not_read_lines(listing, cancelling=cancelling):
        sys.stderr.write(f"blotter: {line['key']}: {line['detail']}: {line['message']}\n")
    return EXIT_OK if listing.complete else EXIT_PROBLEM


def _not_read_lines(listing: Listing, *, cancelling: bool) -> list[dict[str, Any]]:
    """Each account whose orders could not be listed and each order that could not be read, as one JSON-able
    line shaped like a cancel result (``outcome`` "not_read"; ``message`` the venue's words or why)."""
    lines: list[dict[str, Any]] = []
    for af in listing.account_failures:
        named = f" ({af.account_name})" if af.account_name and af.account_name != af.account else ""
        lines.append({
            "key": f"{af.connection}/{af.account}", "connection": af.connection, "account": af.account,
            "order_id": None, "outcome": "not_read", "http_status": getattr(af.error, "http_status", None),
            "message": str(af.error),
            "detail": f"could not list the open orders of account {af.account}{named}"
                      + (" — nothing was cancelled there" if cancelling else ""),
        })
    for item in listing.unreadable:
        what = "could not read this order" if item.order_id else "could not read an order without a readable id"
        lines.append({
            "key": item.where, "connection": item.connection, "account": item.account,
            "order_id": item.order_id or None, "outcome": "not_read", "http_status": None, "message": item.reason,
            "detail": what + (" — it was not cancelled" if cancelling else " — not shown"),
        })
    return lines


ORDER_COLUMNS = (
    "connection", "venue", "account", "order_id", "symbol", "side", "type", "quantity", "filled",
    "remaining", "limit_price", "stop_price", "status", "venue_status", "created_at",
)


# ---------------------------------------------------------------------- logging
# ---------------------------------------------------------------------- service construction
@dataclass
class Context:
    args: argparse.Namespace
    out: TextIO

    def credentials(self) -> CredentialStore:
        # a keyring that takes long (locked, a stuck D-Bus): one line naming what it waits for, not silence
        return KeyringCredentialStore(on_slow=lambda words: _stderr_line(f"blotter: {words}…"))

    def service(self) -> BlotterService:
        config = ConfigStore(strict=True)
        specs = list(config)
        if not specs:
            raise ConfigError("no connections configured: add one with 'blotter connections add'")
        return BlotterService(
            # read-only: --read-only, or the app-wide setting (the window's Settings, [app] read_only)
            specs, self.credentials(), read_only=bool(self.args.read_only) or config.read_only,
            reconcile_timeout_s=float(getattr(self.args, "wait", 30.0)), code_prompt=_code_prompt(),
            audit=self.audit(config),
        )

    def audit(self, config: ConfigStore) -> AuditStore | None:
        """The audit trail; if it cannot be opened, venue commands still run (a cancel matters more)."""
        try:
            store = AuditStore(retention_days=config.audit_retention_days)
        except AuditError as exc:
            sys.stderr.write(f"blotter: warning: {exc}; this run is not recorded in the audit trail\n")
            return None
        store.add_problem_listener(_warn_once)  # locked / full / read-only: said at once, one line each
        return store


def _stderr_line(text: str) -> None:
    """One line on stderr from any thread; a closed stderr is not an error."""
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _wait_seconds(text: str) -> float:
    """``--wait``: a finite number of seconds from 0 to an hour (NaN never ended: RELIABILITY-FINDINGS M7)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be from 0 to 3600 seconds, not {text!r}")
    return value


def _record_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError(f"must be from 0 to 10000000, not {text!r}")
    return value


def _clean(text: str) -> str:
    """Venue text for the terminal: control characters (escape sequences, bidi overrides) removed."""
    return "".join(c for c in text if c.isprintable())


def _warn_once(sentence: str) -> None:
    with contextlib.suppress(OSError):
        sys.stderr.write(f"blotter: warning: {sentence}\n")
        sys.stderr.flush()


def _code_prompt() -> Callable[[str], Any] | None:
    if not sys.stdin.isatty():
        return None

    async def prompt(words: str) -> str:
        return await asyncio.to_thread(getpass.getpass, f"{words}\nVerification code: ")

    return prompt


async def _with_service(ctx: Context, fn: Callable[[BlotterService], Any]) -> int:
    service = ctx.service()
    service.add_response_listener(log_response)
    try:
        for result in await service.recover_in_flight():
            sys.stderr.write(
                f"blotter: cancel of {result.key} interrupted by an earlier run: {result.outcome.value} "
                f"({result.detail})\n"
            )
        return int(await fn(service))
    finally:
        await service.aclose()
        if service.audit is not None:
            await service.audit.aclose()


# ---------------------------------------------------------------------- connections
def cmd_connections_add(ctx: Context) -> int:
    from .service.connections import save_connection

    a = ctx.args
    venue = Venue(a.venue)
    fields = FIELDS[venue]
    options = {name: str(getattr(a, name)) for name in fields.options if getattr(a, name, None)}
    for name in fields.required_options:
        if not options.get(name):
            raise UsageError(f"{venue.value} connections need --{name.replace('_', '-')}")
    spec = ConnectionSpec(
        name=a.name, venue=venue, base_url=validate_base_url(a.base_url), options=options,
        read_only=bool(a.connection_read_only), ca_bundle=a.ca_bundle or "",
    )
    config = ConfigStore(strict=True)
    if spec.name in config:
        raise UsageError(f"connection {spec.name!r} already exists; remove it first")
    secrets = _read_secrets(venue, a.secrets_stdin)
    warning = duplicate_warning(_with_wallet(spec, secrets), list(config))
    if warning and not a.force:  # every order would be listed twice: the trader decides knowingly
        raise UsageError(f"{warning} Add --force to keep both.")
    store = ctx.credentials()
    # the same code path as the window's connection dialog: validation, keyring, then the config
    spec = save_connection(config, store, spec, secrets)
    if warning:
        sys.stderr.write(f"blotter: warning: {warning}\n")
    ctx.out.write(
        f"added {venue.value} connection {spec.name!r} ({spec.base_url}); "
        f"{len(secrets)} secret(s) stored in the {store.description}\n"
    )
    return EXIT_OK


def _with_wallet(spec: ConnectionSpec, secrets: dict[str, str]) -> ConnectionSpec:
    """A tanX spec with the wallet address its private key derives (to compare logins before saving)."""
    key = secrets.get("private_key", "")
    if spec.venue is not Venue.TANX or spec.option("eth_address") or not key:
        return spec
    from dataclasses import replace as _replace

    from .core.eth import address_of_key

    try:
        return _replace(spec, options={**spec.options, "eth_address": address_of_key(key.strip())})
    except ValueError:
        return spec  # an invalid key is refused by the save, in its own words


def _read_secrets(venue: Venue, from_stdin: bool) -> dict[str, str]:
    fields = FIELDS[venue]
    if from_stdin:
        raw = sys.stdin.read()
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):  # nested 100k deep: one line, not a traceback
            raise UsageError("--secrets-stdin expects one JSON object on standard input") from None
        if not isinstance(data, dict):
            raise UsageError("--secrets-stdin expects one JSON object on standard input")
        unknown = sorted(set(data) - set(fields.secrets))
        if unknown:
            raise UsageError(
                f"unknown secret field(s) for {venue.value}: {', '.join(unknown)} "
                f"(expected {', '.join(fields.secrets)})"
            )
        bad = [k for k, v in data.items() if not isinstance(v, str)]
        if bad:
            raise UsageError(f"secret field(s) must be strings: {', '.join(sorted(bad))}")
        return {k: v for k, v in data.items() if v}
    if not sys.stdin.isatty():
        raise UsageError("secrets are needed: pass them as JSON with --secrets-stdin, or run in a terminal")
    wanted = fields.required_secrets or ("private_key",)
    return {name: getpass.getpass(f"{name.replace('_', ' ')}: ") for name in wanted}


def cmd_connections_list(ctx: Context) -> int:
    specs = list(ConfigStore(strict=True))
    rows: list[dict[str, Any]] = [
        {"name": s.name, "venue": s.venue.value, "base_url": s.base_url, "read_only": s.read_only,
         "options": dict(s.options)}
        for s in specs
    ]
    if ctx.args.json:
        _json(rows, ctx.out)
    elif not rows:
        ctx.out.write("no connections configured; add one with 'blotter connections add'\n")
    else:
        _table(
            [(r["name"], r["venue"], r["base_url"], "yes" if r["read_only"] else "",
              " ".join(f"{k}={v}" for k, v in r["options"].items())) for r in rows],
            ("name", "venue", "base_url", "read_only", "options"), ctx.out,
        )
    return EXIT_OK


def cmd_connections_remove(ctx: Context) -> int:
    from .service.connections import delete_connection

    spec = delete_connection(ConfigStore(strict=True), ctx.credentials(), ctx.args.name)
    ctx.out.write(f"removed connection {spec.name!r} and its stored secrets\n")
    return EXIT_OK


# ---------------------------------------------------------------------- accounts and orders
def cmd_accounts(ctx: Context) -> int:
    async def run(service: BlotterService) -> int:
        listing = await service.accounts(ctx.args.connection or "")
        rows = [
            {"connection": a.connection, "venue": a.venue.value, "account": a.account_id, "name": a.name,
             "number": a.number, "read_only": a.read_only, "currency": a.currency}
            for a in listing.accounts
        ]
        if ctx.args.json:
            _json(rows, ctx.out)
        else:
            _table([(r["connection"], r["venue"], r["account"], r["name"], r["number"],
                     "yes" if r["read_only"] else "", r["currency"]) for r in rows],
                   ("connection", "venue", "account", "name", "number", "read_only", "currency"), ctx.out)
        return _report_failures(listing)

    return asyncio.run(_with_service(ctx, run))


def cmd_orders(ctx: Context) -> int:
    flt = OrderFilter(connection=ctx.args.connection or "", account=ctx.args.account or "")

    async def run(service: BlotterService) -> int:
        listing = await service.open_orders(flt)
        print_orders(listing, ctx.args.json, ctx.out)
        return _report_failures(listing)

    return asyncio.run(_with_service(ctx, run))


def print_orders(listing: Listing, as_json: bool, out: TextIO) -> None:
    rows = [o.as_dict() for o in listing.orders]
    if as_json:
        _json(rows, out)
        return
    _table([[r[c] for c in ORDER_COLUMNS] for r in rows], ORDER_COLUMNS, out)
    out.write(f"{len(rows)} open order(s) in {len(listing.accounts)} account(s)\n")


# ---------------------------------------------------------------------- cancelling
def _print_results(results: Sequence[CancelResult], as_json: bool, out: TextIO) -> int:
    if as_json:
        _json([r.as_dict() for r in results], out)
    else:
        _table(
            [(str(r.key), "too late — filled" if r.too_late else r.outcome.value,
              r.http_status if r.http_status is not None else "-", r.message, f"{r.latency_ms:.0f}",
              r.detail) for r in results],
            ("key", "outcome", "http", "message", "latency_ms", "detail"), out,
        )
    return EXIT_OK if all(r.outcome.is_success for r in results) else EXIT_PROBLEM


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to cancel without confirmation: add --yes")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise UsageError("nothing cancelled")


def cmd_cancel(ctx: Context) -> int:
    try:
        keys = list(dict.fromkeys(OrderKey.parse(k) for k in ctx.args.keys))
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    async def run(service: BlotterService) -> int:
        if service.read_only:
            service.check_can_cancel(keys[0].connection)  # the whole app: one line, exit 2
        for key in keys:
            service.spec(key.connection)  # an unknown connection: one line, exit 2
        # each key refused before anything is sent (a read-only connection or venue account) says why
        refused = await service.refused(keys)
        wanted = [k for k in keys if k not in {key for key, _ in refused}]
        reasons = {why for _, why in refused}
        if not wanted and len(reasons) == 1:  # nothing to send, for one reason: that reason, exit 2
            raise ReadOnlyError(reasons.pop())
        for key, why in refused:
            sys.stderr.write(f"blotter: {_clean(str(key))}: not sent — {_clean(why)}\n")
        if not wanted:
            return EXIT_USAGE
        _confirm(f"Cancel {len(wanted)} order(s)?", ctx.args.yes)
        results = await service.cancel(wanted, Provenance.CLI)
        return max(_print_results(results, ctx.args.json, ctx.out), EXIT_PROBLEM if refused else EXIT_OK)

    return asyncio.run(_with_service(ctx, run))


def cmd_cancel_all(ctx: Context) -> int:
    a = ctx.args
    if not a.yes:
        raise UsageError("cancel-all cancels every matching open order: add --yes to confirm")
    side = Side(a.side) if a.side else None
    flt = OrderFilter(connection=a.connection or "", account=a.account or "", symbol=a.symbol or "", side=side)

    async def run(service: BlotterService) -> int:
        results, listing = await service.cancel_all(flt, Provenance.CLI)
        skipped = sorted({(o.key.connection, o.key.account) for o in listing.orders if service.is_key_read_only(o.key)})
        if skipped:  # read-only accounts are never cancelled; say how many orders were left alone, and where
            count = sum(1 for o in listing.orders if service.is_key_read_only(o.key))
            where = ", ".join(f"{conn}/{acct}" for conn, acct in skipped)
            sys.stderr.write(f"blotter: {count} order(s) skipped as read-only ({_clean(where)})\n")
        if a.json:  # what could not be read is listed after the results, one object each (outcome "not_read")
            _json([*(r.as_dict() for r in results), *_not_read_lines(listing, cancelling=True)], ctx.out)
            code = EXIT_OK if all(r.outcome.is_success for r in results) else EXIT_PROBLEM
        else:
            code = _print_results(results, False, ctx.out)
        return max(code, _report_failures(listing, cancelling=True))

    return asyncio.run(_with_service(ctx, run))


# ---------------------------------------------------------------------- the audit trail
def _audit_query(a: argparse.Namespace) -> AuditQuery:
    since = None
    if a.since:
        try:
            since = datetime.now(UTC) - parse_duration(a.since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
    order = None
    if a.order:
        try:
            order = OrderKey.parse(a.order)
        except ValueError as exc:
            raise UsageError(f"--order: {exc}") from None
    return AuditQuery(since=since, connection=a.connection or "", order=order, outcome=a.outcome or "",
                      text=a.text or "", limit=max(0, a.limit or 0), account=a.account or "",
                      order_id=(a.order_id or "").strip(), kind=a.kind or "")


def _read_audit(query: AuditQuery) -> tuple[list[AuditRecord], int]:
    """The matching records, and how many attempts of interrupted runs still wait to be settled."""
    store = AuditStore(retention_days=ConfigStore(strict=True).audit_retention_days)
    try:
        return store.query(query), len(store.orphaned_attempts())
    finally:
        store.close()


def _note_unsettled(count: int) -> None:
    if count:
        sys.stderr.write(
            f"blotter: {count} cancel attempt(s) of an interrupted run are not settled yet; any command that "
            f"talks to the venues (e.g. 'blotter orders') re-reads them\n"
        )


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cmd_log(ctx: Context) -> int:
    records, unsettled = _read_audit(_audit_query(ctx.args))
    if ctx.args.json:
        _json([r.as_dict() for r in records], ctx.out)
    else:
        rows = []
        for r in records:
            row = r.as_dict()
            what = r.action if r.kind == "response" else f"cancel {r.phase}"
            words = r.message + (f" — {r.detail}" if r.detail else "")
            rows.append((row["at"], what, r.key or r.connection, r.http_status, row["latency_ms"],
                         r.outcome or "", r.provenance, _short(words)))
        _table(rows, ("at", "what", "key", "http", "ms", "outcome", "by", "message"), ctx.out)
        ctx.out.write(f"{len(records)} record(s), oldest first\n")
    _note_unsettled(unsettled)
    return EXIT_OK


def cmd_export(ctx: Context) -> int:
    a = ctx.args
    records, unsettled = _read_audit(_audit_query(a))
    write = write_csv if a.format == "csv" else write_jsonl
    if a.output == "-":
        write(records, ctx.out)
    else:
        try:
            with open(a.output, "w", encoding="utf-8", newline="",
                      opener=lambda path, flags: os.open(path, flags, 0o600)) as fh:
                count = write(records, fh)
        except OSError as exc:
            raise UsageError(f"cannot write {a.output}: {exc.strerror or exc}") from None
        ctx.out.write(f"wrote {count} record(s) to {a.output}\n")
    _note_unsettled(unsettled)
    return EXIT_OK


# ---------------------------------------------------------------------- simulators and demo
def cmd_sim_serve(ctx: Context) -> int:
    from .sim.demo import demo_scenario
    from .sim.runner import SimServer, SimSet, load_scenario

    try:
        scenario = load_scenario(ctx.args.scenario) if ctx.args.scenario else demo_scenario(ctx.args.seed)
        sims = SimSet.from_scenario(scenario)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with SimServer(sims) as server:
        ctx.out.write(json.dumps(server.urls) + "\n")
        ctx.out.flush()
        stop.wait()
    return EXIT_OK


def cmd_sim_scenario(ctx: Context) -> int:
    from .sim.demo import demo_scenario

    text = json.dumps(demo_scenario(ctx.args.seed), indent=1) + "\n"
    if ctx.args.output and ctx.args.output != "-":
        with open(ctx.args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        ctx.out.write(text)
    return EXIT_OK


def cmd_gui(ctx: Context) -> int:
    if getattr(ctx.args, "demo", False):
        # The demo venues start before Qt is imported, so their modules (uvicorn, starlette, simulators)
        # load before PySide6's import hook, which reads the source of every module imported after it
        # (looking for "from __feature__"): ~25 ms less work on the GUI thread at start-up.
        with demo_environment(int(getattr(ctx.args, "seed", 7))) as demo:
            return _open_window(ctx, demo)
    return _open_window(ctx, None)


def _open_window(ctx: Context, demo: tuple[list[ConnectionSpec], MemoryCredentialStore, Any] | None) -> int:
    try:
        from .ui.app import run_gui
    except ImportError as exc:  # Qt's system libraries missing: say so in one line
        raise UsageError(
            f"the window cannot start ({exc}); 'packaging/dev demo' installs Qt's system libraries, "
            "and the sub-commands work without a window"
        ) from None
    return int(run_gui(ctx.args, demo=demo))


# ---------------------------------------------------------------------- argument parsing
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blotter", description="Every open order at every venue; cancels you can trust.")
    p.add_argument("--version", action="version", version=f"blotter {__version__}")
    p.add_argument("--demo", action="store_true", help="start the embedded demo venues and open the window on them")
    p.add_argument("--screenshot", metavar="PATH", help="with the window: render it to a PNG and exit")
    p.add_argument("--read-only", action="store_true", help="disable every cancel action")
    p.add_argument("--seed", type=int, default=7, help=argparse.SUPPRESS)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging to the log file")
    p.set_defaults(func=cmd_gui)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    conns = sub.add_parser("connections", help="add, list and remove venue connections")
    csub = conns.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    add = csub.add_parser("add", help="add a connection (secrets go to the OS keyring)")
    add.add_argument("venue", choices=[v.value for v in Venue])
    add.add_argument("name")
    add.add_argument("--base-url", required=True)
    add.add_argument("--username", help="AutoShares user name")
    add.add_argument("--cancel-mode", choices=("quick", "sync"),
                     help="AutoShares: orders (quick) or syncorders (venue-verified)")
    add.add_argument("--api-version", help="AutoShares API version (default 1.0)")
    add.add_argument("--client-id", help="SnapTrade client id")
    add.add_argument("--user-id", help="SnapTrade user id")
    add.add_argument("--eth-address", help="tanX wallet address (derived from the private key if omitted)")
    add.add_argument("--read-only", dest="connection_read_only", action="store_true",
                     help="never cancel on this connection")
    add.add_argument("--ca-bundle", help="extra CA bundle file for this venue's TLS")
    add.add_argument("--secrets-stdin", action="store_true", help="read the secrets as one JSON object from stdin")
    add.add_argument("--force", action="store_true",
                     help="keep a second connection to a venue login another connection already uses")
    add.set_defaults(func=cmd_connections_add)
    lst = csub.add_parser("list", help="list connections")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_connections_list)
    rm = csub.add_parser("remove", help="remove a connection and its stored secrets")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_connections_remove)

    acc = sub.add_parser("accounts", help="list accounts of every connection")
    acc.add_argument("--connection")
    acc.add_argument("--json", action="store_true")
    acc.set_defaults(func=cmd_accounts)

    orders = sub.add_parser("orders", help="list open orders")
    orders.add_argument("--connection")
    orders.add_argument("--account")
    orders.add_argument("--json", action="store_true")
    orders.set_defaults(func=cmd_orders)

    wait_help = "seconds to wait for the venue to confirm (default 30)"
    cancel = sub.add_parser("cancel", help="cancel orders by key connection/account/order_id")
    cancel.add_argument("keys", nargs="+", metavar="KEY")
    cancel.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    cancel.add_argument("--json", action="store_true")
    cancel.add_argument("--wait", type=_wait_seconds, default=30.0, help=wait_help)
    cancel.set_defaults(func=cmd_cancel)

    call = sub.add_parser("cancel-all", help="cancel every matching open order")
    call.add_argument("--connection")
    call.add_argument("--account")
    call.add_argument("--symbol")
    call.add_argument("--side", choices=[s.value for s in Side if s is not Side.UNKNOWN])
    call.add_argument("--yes", action="store_true")
    call.add_argument("--json", action="store_true")
    call.add_argument("--wait", type=_wait_seconds, default=30.0, help=wait_help)
    call.set_defaults(func=cmd_cancel_all)

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--since", metavar="DURATION", help="only the last DURATION (90s, 15m, 2h, 7d, 1w)")
    filters.add_argument("--order", metavar="KEY", help="one order: connection/account/order_id")
    filters.add_argument("--order-id", metavar="ID", help="orders with this id at the venue (any account)")
    filters.add_argument("--connection", metavar="NAME")
    filters.add_argument("--account", metavar="ID", help="one account (its id at the venue)")
    filters.add_argument("--kind", choices=("cancel", "response"), help="only cancel steps, or only venue answers")
    filters.add_argument("--outcome", choices=[*(o.value for o in CancelOutcome), IN_FLIGHT],
                         help="only the cancel steps of attempts that ended so (or are still in flight)")
    filters.add_argument("--text", help="only records containing TEXT (any field, case-insensitive)")
    filters.add_argument("--limit", type=_record_limit, default=0, metavar="N", help="only the newest N records")
    audit_log = sub.add_parser("log", parents=[filters],
                               help="the audit trail: venue responses and cancel steps, oldest first")
    audit_log.add_argument("--json", action="store_true")
    audit_log.set_defaults(func=cmd_log)
    export = sub.add_parser("export", parents=[filters], help="write the audit trail to a CSV or JSON Lines file")
    export.add_argument("--format", choices=("csv", "jsonl"), required=True)
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write ('-' = stdout)")
    export.set_defaults(func=cmd_export)

    sim = sub.add_parser("sim", help="the venue simulators")
    ssub = sim.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    serve = ssub.add_parser("serve", help="serve simulators on 127.0.0.1; prints their base URLs as one JSON line")
    serve.add_argument("--scenario", help="scenario JSON file (default: the demo scenario)")
    serve.set_defaults(func=cmd_sim_serve)
    scen = ssub.add_parser("scenario", help="write the demo scenario as JSON (a starting point for your own)")
    scen.add_argument("-o", "--output", default="-")
    scen.set_defaults(func=cmd_sim_scenario)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, sys.stdout)
    try:
        setup_logging(args.verbose)
        return int(args.func(ctx))
    except UsageError as exc:
        sys.stderr.write(f"blotter: {exc}\n")
        return EXIT_USAGE
    except (ConfigError, CredentialError, ReadOnlyError) as exc:
        sys.stderr.write(f"blotter: {exc}\n")
        return EXIT_USAGE
    except BlotterError as exc:
        sys.stderr.write(f"blotter: {exc}\n")
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        sys.stderr.write("blotter: interrupted\n")
        return 130
    except BrokenPipeError:  # `blotter orders | head`: the reader has what it wanted
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return EXIT_OK
    except OSError as exc:
        where = getattr(exc, "filename", "") or ""
        words = exc.strerror or type(exc).__name__
        sys.stderr.write(f"blotter: {words}" + (f": {where}" if where else " (writing Blotter's files in "
                                                 f"{paths.data_dir()} or {paths.config_dir()})") + "\n")
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
