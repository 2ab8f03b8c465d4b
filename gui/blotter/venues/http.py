"""Shared httpx plumbing for the adapters.

One long-lived ``httpx.AsyncClient`` per connection; every exchange produces exactly one redacted
``VenueResponse`` for the listeners (status pane, audit); transport failures become ``OutcomeUnknown``
with a plain description and never the exception's own text (which could carry a URL with a secret).

Retry policy: reads (idempotent requests) are retried a few times on transport errors and 5xx; writes
are never retried, except after 429 (the venue did not process the request) and once after
re-authenticating on an expired token. Re-authentication is serialized: concurrent requests that all
see 401 trigger one login, and all retry with its token.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx

from .. import __version__
from ..core import (
    Account,
    Action,
    AuthError,
    CancelReceipt,
    ConfigError,
    ConflictError,
    NotFoundError,
    Order,
    OrderList,
    OutcomeUnknown,
    RateLimitedError,
    Redactor,
    Side,
    Unreadable,
    Venue,
    VenueError,
    VenueProtocolError,
    VenueRefused,
    VenueResponse,
)
from ..core.urls import validate_base_url
from .base import Capabilities, CodePrompt, ConnectionSpec, ResponseListener

T = TypeVar("T")

MAX_BODY_BYTES = 16 * 1024 * 1024
READ_RETRIES = 2
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER_S = 30.0
RETRY_BACKOFF_S = 0.2  # first pause before re-sending a read; doubles each time
MAX_REASON_CHARS = 160  # why an order could not be read, as reported
MAX_ID_CHARS = 40  # an unreadable order's id, as reported
MAX_JSON_DEPTH = 64  # no venue answer nests deeper; deeper ones are refused before any mapping sees them

# Characters that must not reach a header or a one-line message (CR/LF would split lines).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")


def path_segment(value: str, what: str = "id") -> str:
    """One URL path segment built from a venue's or a user's string: every reserved character
    percent-encoded ("/", "?", "#", "%" …), so the string can never reach another path or the query.
    Empty, "." and ".." are refused (they are path syntax, never an id)."""
    text = str(value)
    if text.strip() in ("", ".", ".."):
        raise NotFoundError(f"{text!r} is not a valid {what}")
    return quote(text, safe="")


_default_tls: ssl.SSLContext | None = None


def tls_context(spec: ConnectionSpec) -> ssl.SSLContext | bool:
    """Verification is always on. ``ca_bundle`` adds trust (a private CA) to the usual roots.

    Connections without one share one default context (httpx's own, the usual roots): building one
    reads the whole CA bundle, ~20 ms of the GUI thread per connection at start-up otherwise."""
    global _default_tls
    if not spec.ca_bundle:
        if _default_tls is None:
            _default_tls = httpx.create_ssl_context()
        return _default_tls
    context = httpx.create_ssl_context()
    try:
        context.load_verify_locations(cafile=spec.ca_bundle)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(
            f"connection {spec.name!r}: cannot use the CA bundle {spec.ca_bundle!r} ({reason}); "
            "expected a PEM file of CA certificates"
        ) from None
    return context


def make_client(spec: ConnectionSpec, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    base_url = validate_base_url(spec.base_url)
    verify = tls_context(spec)
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        verify=verify,
        timeout=httpx.Timeout(spec.timeout_s, connect=min(5.0, spec.timeout_s)),
        follow_redirects=False,
        headers={"User-Agent": f"Blotter/{__version__}", "Accept": "application/json"},
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
    )


class RateLimiter:
    """Spaces requests ``1 / rate`` seconds apart, fair in arrival order.

    A request whose turn came while the loop was busy elsewhere (a late wake-up) lets the next ones catch
    up by at most ``CATCH_UP`` slots, so a long run goes at the configured rate rather than a little below
    it (measured: 95/s configured gave 90/s without catching up); no window of ``w`` seconds ever holds more
    than ``rate × w + CATCH_UP + 1`` requests.
    """

    CATCH_UP = 2

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - self.CATCH_UP * self._interval)
            self._next = slot + self._interval
            wait = slot - now
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, already read (bounded) and recorded."""

    status: int
    headers: httpx.Headers
    body: bytes
    response: VenueResponse

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        if not self.body.strip():
            raise VenueProtocolError(
                f"{self.response.venue.value} sent an empty body (HTTP {self.status})", self.response
            )
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):
            snippet = self.response.raw_body[:120].replace("\n", " ")
            kind = "an HTML page" if snippet.lstrip().startswith("<") else "a body that is not JSON"
            raise VenueProtocolError(
                f"{self.response.venue.value} sent {kind} (HTTP {self.status}): {snippet}", self.response
            ) from None
        if _nested_deeper_than(data, MAX_JSON_DEPTH):
            raise VenueProtocolError(
                f"{self.response.venue.value} sent JSON nested deeper than {MAX_JSON_DEPTH} levels "
                f"(HTTP {self.status}); not read", self.response
            )
        return data


class BodyTooLarge(Exception):
    pass


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            when = parsedate_to_datetime(value)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


class HttpAdapter:
    """Base of the three adapters: auth serialization, exchanges, recording and error mapping."""

    venue: ClassVar[Venue]
    capabilities: ClassVar[Capabilities]
    display_name: ClassVar[str]

    def __init__(
        self,
        spec: ConnectionSpec,
        secrets: Mapping[str, str],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        code_prompt: CodePrompt | None = None,
    ) -> None:
        self.spec = spec
        self._secrets = dict(secrets)
        self.redactor = Redactor(v for v in secrets.values() if isinstance(v, str))
        self._client = make_client(spec, transport)
        self._code_prompt = code_prompt
        self._listeners: list[ResponseListener] = []
        self._auth_lock = asyncio.Lock()
        self._auth_generation = 0
        self._authenticated = False
        self._limiter = RateLimiter(spec.rate_limit_per_s) if spec.rate_limit_per_s > 0 else None

    # ------------------------------------------------------------------ listeners
    def add_listener(self, listener: ResponseListener) -> None:
        self._listeners.append(listener)

    def _emit(self, response: VenueResponse) -> None:
        for listener in list(self._listeners):
            listener(response)

    def secret(self, name: str) -> str:
        from ..core import CredentialError

        value = self._secrets.get(name)
        if not value:
            raise CredentialError(f"connection {self.spec.name!r} has no {name.replace('_', ' ')} stored")
        return value

    def remember_secret(self, value: str) -> None:
        """Tokens obtained at run time are secrets too: mask them from now on."""
        self.redactor.add(value)

    # ------------------------------------------------------------------ auth
    async def _authenticate(self) -> None:
        """Obtain fresh credentials (token, JWT...). Venue modules override."""

    def _auth_headers(self) -> dict[str, str]:
        return {}

    def _is_auth_expired(self, reply: Reply) -> bool:
        return reply.status == 401

    async def login(self) -> None:
        async with self._auth_lock:
            await self._authenticate()
            self._auth_generation += 1
            self._authenticated = True

    async def _ensure_auth(self) -> int:
        if not self._authenticated:
            async with self._auth_lock:
                if not self._authenticated:
                    await self._authenticate()
                    self._auth_generation += 1
                    self._authenticated = True
        return self._auth_generation

    async def _reauthenticate(self, seen_generation: int) -> None:
        async with self._auth_lock:
            if self._auth_generation == seen_generation:  # nobody re-logged in meanwhile
                self._authenticated = False
                await self._authenticate()
                self._auth_generation += 1
                self._authenticated = True

    # ------------------------------------------------------------------ exchanges
    def _prepare(self, request: httpx.Request, json_body: Any) -> None:
        """Last look at a request before it is sent (SnapTrade signs it here)."""

    def _venue_message(self, status: int, body: bytes, headers: httpx.Headers) -> str:
        """The venue's own words in an answer; venue modules override for their envelopes."""
        return _generic_message(status, body)

    async def send(
        self,
        action: Action,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        account: str = "",
        order_id: str = "",
        authed: bool = True,
        idempotent: bool | None = None,
    ) -> Reply:
        """Send with the retry policy in the module docstring; returns the final reply, any status."""
        if idempotent is None:
            idempotent = method.upper() == "GET"
        transport_retries = 0
        rate_limit_retries = 0
        relogged = False
        while True:
            generation = await self._ensure_auth() if authed else 0
            try:
                reply = await self._exchange(
                    action, method, path, params=params, json_body=json_body, form=form,
                    headers={**(self._auth_headers() if authed else {}), **(headers or {})},
                    account=account, order_id=order_id,
                )
            except VenueProtocolError:
                raise
            except OutcomeUnknown:
                if idempotent and transport_retries < READ_RETRIES:
                    transport_retries += 1
                    await asyncio.sleep(RETRY_BACKOFF_S * 2**transport_retries)
                    continue
                raise
            if authed and not relogged and self._is_auth_expired(reply):
                relogged = True
                await self._reauthenticate(generation)
                continue
            if reply.status == 429 and rate_limit_retries < RATE_LIMIT_RETRIES:
                wait = retry_after_seconds(reply.headers)
                wait = 1.0 * 2**rate_limit_retries if wait is None else wait
                if wait <= MAX_RETRY_AFTER_S:
                    rate_limit_retries += 1
                    await asyncio.sleep(wait)
                    continue
            if reply.status >= 500 and idempotent and transport_retries < READ_RETRIES:
                transport_retries += 1
                await asyncio.sleep(RETRY_BACKOFF_S * 2**transport_retries)
                continue
            return reply

    async def _exchange(
        self,
        action: Action,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        headers: Mapping[str, str],
        account: str,
        order_id: str,
    ) -> Reply:
        if json_body is not None:
            content: bytes | None = json.dumps(json_body, separators=(",", ":")).encode()
            headers = {**headers, "Content-Type": "application/json"}
        else:
            content = None
        try:
            if any(_CONTROL_RE.search(value) for value in headers.values()):
                raise ValueError("control character in a header")
            request = self._client.build_request(
                method, path, params=params, content=content, data=form, headers=headers
            )
        except (ValueError, httpx.InvalidURL):  # UnicodeEncodeError is a ValueError; never echo the values
            raise ConfigError(
                f"connection {self.spec.name!r}: a request to {self.display_name} cannot be built: a header "
                "or the URL holds characters HTTP cannot carry (check the username, password and options)"
            ) from None
        self._prepare(request, json_body)
        if self._limiter is not None:
            await self._limiter.acquire()
        started = time.perf_counter()
        failure: str | None = None
        status = 0
        body = b""
        resp_headers = httpx.Headers()
        try:
            async with asyncio.timeout(self.spec.timeout_s * 2):
                resp = await self._client.send(request, stream=True)
                try:
                    status, resp_headers = resp.status_code, resp.headers
                    body = await _read_capped(resp, MAX_BODY_BYTES)
                finally:
                    await resp.aclose()
        except (TimeoutError, httpx.TimeoutException):
            failure = f"no answer from {self.display_name} within {self.spec.timeout_s:g} s (timed out)"
        except httpx.ConnectError as exc:
            failure = _tls_failure(exc, self.display_name, self._host()) or (
                f"could not connect to {self.display_name} at {self._host()} (unreachable)"
            )
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            failure = f"connection to {self.display_name} dropped before a complete answer (reset)"
        except BodyTooLarge:
            failure = f"{self.display_name} sent an answer larger than {MAX_BODY_BYTES // 2**20} MiB; not read"
        except httpx.HTTPError as exc:
            failure = f"transport error talking to {self.display_name}: {type(exc).__name__}"
        latency_ms = (time.perf_counter() - started) * 1000
        described = self._describe(request, json_body, form)  # redacted; after the exchange, off its path
        if failure is not None:
            response = VenueResponse(
                venue=self.venue, connection=self.spec.name, action=action, http_status=None,
                message=failure, latency_ms=latency_ms, request=described, raw_body="",
                account=account, order_id=order_id,
            )
            self._emit(response)
            if "larger than" in failure:
                raise VenueProtocolError(failure, response)
            raise OutcomeUnknown(failure, response)
        try:
            words = self._venue_message(status, body, resp_headers)
        except RecursionError:  # JSON nested too deep for the venue module's reading of it
            words = f"HTTP {status} {_reason(status)} (an answer nested too deep to read)"
        message = _one_line(self.redactor.text(words))
        response = VenueResponse(
            venue=self.venue, connection=self.spec.name, action=action, http_status=status,
            message=message, latency_ms=latency_ms, request=described,
            raw_body=self.redactor.body(body), account=account, order_id=order_id,
        )
        self._emit(response)
        return Reply(status, resp_headers, body, response)

    def _host(self) -> str:
        return self._client.base_url.netloc.decode()

    def _describe(self, request: httpx.Request, json_body: Any, form: Mapping[str, str] | None) -> str:
        lines = [f"{request.method} {self.redactor.url(str(request.url))}"]
        skip = {"host", "user-agent", "accept", "accept-encoding", "connection", "content-length"}
        for name, value in self.redactor.headers(request.headers.multi_items()).items():
            if name.lower() not in skip:
                lines.append(f"{name}: {value}")
        if json_body is not None:
            lines.append(json.dumps(self.redactor.json_value(json_body), separators=(",", ":")))
        elif form:
            lines.append(json.dumps(self.redactor.json_value(dict(form)), separators=(",", ":")))
        return "\n".join(lines)

    # ------------------------------------------------------------------ error mapping
    def error_for(self, reply: Reply, prefix: str = "") -> VenueError:
        """Map a non-2xx reply to a typed error carrying the venue's words."""
        words = reply.response.message
        status = reply.status
        if 300 <= status < 400:  # never followed: a redirect can carry credentials to another host
            target = self.redactor.url(reply.headers.get("location", "")) or "no address given"
            words = (f"HTTP {status} {_reason(status)}: {self.display_name} redirected the request ({target}); "
                     "Blotter does not follow redirects — check the connection's base URL")
        elif not words.strip(' "\''):
            words = f"HTTP {status} {_reason(status)} (no message)"
        message = f"{prefix}{words}" if prefix else words
        if status in (401, 403):
            return AuthError(message, reply.response)
        if status == 404:
            return NotFoundError(message, reply.response)
        if status == 409:
            return ConflictError(message, reply.response)
        if status == 429:
            return RateLimitedError(message, reply.response, retry_after_seconds(reply.headers))
        if 400 <= status < 500:
            return VenueRefused(message, reply.response)
        return OutcomeUnknown(message, reply.response)

    def expect_ok(self, reply: Reply) -> Reply:
        if not reply.ok:
            raise self.error_for(reply)
        return reply

    def map_items(self, reply: Reply, items: Iterable[Any], mapper: Callable[[Any], T]) -> list[T]:
        """Map venue JSON items, turning any shape surprise into ``VenueProtocolError``."""
        out: list[T] = []
        for item in items:
            out.append(self.map_one(reply, item, mapper))
        return out

    def map_one(self, reply: Reply, item: Any, mapper: Callable[[Any], T]) -> T:
        try:
            return mapper(item)
        except VenueError:
            raise
        except _UNREADABLE as exc:
            raise VenueProtocolError(
                f"{self.display_name} sent data Blotter cannot read ({type(exc).__name__}: "
                f"{self.redactor.text(str(exc))[:200]})",
                reply.response,
            ) from None

    def map_listed(
        self, items: Iterable[Any], mapper: Callable[[Any], Order], *, account: str, id_field: str
    ) -> OrderList:
        """Map a listing page's orders, skipping (and reporting) each one that cannot be read.

        One unreadable order (a NaN quantity, a date in year 0, an id that is no id) must not hide the others:
        an emergency cancel has to reach every order it can read. Each skipped order becomes an
        ``Unreadable`` naming the account whose listing carried it, the venue's id (``id_field``) when that is
        readable, and why, redacted and short.
        """
        orders: list[Order] = []
        skipped: list[Unreadable] = []
        for item in items:
            try:
                orders.append(mapper(item))
            except _UNREADABLE as exc:
                skipped.append(Unreadable(self.spec.name, account, self._listed_id(item, id_field), self._why(exc)))
        return OrderList(orders, skipped)

    def _why(self, exc: BaseException) -> str:
        """Why an item could not be read, short and redacted: ``ValueError: year 0 is out of range``."""
        text = str(exc)
        if isinstance(exc, ArithmeticError) and (not text or text.startswith("[<class")):
            text = "a number too large (or too precise) to read"  # decimal signals say only their own name
        why = _one_line(self.redactor.text(text))[:MAX_REASON_CHARS]
        return f"{type(exc).__name__}: {why}" if why else type(exc).__name__

    def _listed_id(self, item: Any, id_field: str) -> str:
        """The venue's id of an unreadable order, as text, if it is there at all (redacted, one line, short)."""
        value = item.get(id_field) if isinstance(item, Mapping) else None
        if isinstance(value, bool) or not isinstance(value, int | str):
            return ""
        return _one_line(self.redactor.text(str(value)))[:MAX_ID_CHARS]

    # ------------------------------------------------------------------ defaults
    async def cancel_many(self, account: str, *, market: str, side: Side | None = None) -> CancelReceipt:
        raise NotImplementedError(f"{self.display_name} has no bulk cancel")

    async def account_details(self, account: str) -> Mapping[str, Any]:
        accounts: list[Account] = await self.list_accounts()  # type: ignore[attr-defined]
        for acc in accounts:
            if acc.account_id == account:
                return dict(acc.raw)
        raise NotFoundError(f"{self.display_name} does not know account {account!r}")

    async def aclose(self) -> None:
        await self._client.aclose()


async def _read_capped(resp: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether parsed JSON nests deeper than ``limit`` (iterative: deep values must not overflow the stack)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


# What makes one venue item unreadable. ArithmeticError: decimal overflow of absurd numbers, dates beyond year
# 1..9999 in UTC.
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, IndexError, RecursionError)


def _one_line(text: str) -> str:
    """A venue's words as one line: line breaks and control characters become spaces (logs, tables)."""
    return _CONTROL_RE.sub(" ", text).strip()


def _tls_failure(exc: BaseException, venue: str, host: str) -> str | None:
    """A plain description when the connection failed in the TLS handshake, else None."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "the certificate was refused"
            return (
                f"TLS certificate verification failed for {venue} at {host}: {reason}. Blotter never turns "
                "verification off; if the venue uses a private CA, set the connection's CA bundle"
            )
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake with {venue} at {host} failed ({cause.reason or type(cause).__name__})"
        cause = cause.__cause__ or cause.__context__
    return None


def _generic_message(status: int, body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return f"HTTP {status} {_reason(status)} (no body)"
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        if text.startswith("<"):
            return f"HTTP {status} {_reason(status)} (HTML page instead of JSON)"
        return text[:500]
    if isinstance(data, dict):
        for key in ("message", "Message", "error", "detail", "default_detail", "Reason"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    return text[:500]


def _reason(status: int) -> str:
    try:
        from http import HTTPStatus

        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# ---------------------------------------------------------------------- parsing helpers
def to_decimal(value: Any, *, zero_is_none: bool = False) -> Decimal | None:
    """Venue numbers (strings or JSON numbers) to Decimal; floats go through ``repr`` to stay exact."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, int | str):
        result = Decimal(str(value).strip())
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    if zero_is_none and result == 0:
        return None
    return result


def require_decimal(value: Any) -> Decimal:
    result = to_decimal(value)
    if result is None:
        raise ValueError("missing number")
    return result


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (with Z or offset) to an aware UTC datetime; ETNA's 0001-01-01 means no date."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp, got {type(value).__name__}")
    text = value.strip()
    if text.startswith("0001-01-01"):
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_FAILED_WORDS = frozenset({"error", "failed", "failure", "fail", "rejected"})


def refusal_in_success(data: Any, words: str) -> str | None:
    """The venue's refusal hidden in a 2xx answer to a write, or ``None`` if the body reads as success.

    Seen in the field and in RELIABILITY-FINDINGS H1: ``200 {"Message": "Order cannot be cancelled…"}``,
    ``200 {"error": "Order is locked"}``, ``{"IsSucceed": false, "Errors": […]}``, ``{"status": "error"}``.
    A cancel answered like that is not an acknowledgement: the caller treats it as the venue's refusal
    (``words`` is the venue's message as already extracted for the status pane).
    """
    if not isinstance(data, Mapping):
        return None
    for name in ("error", "Error", "errors", "Errors"):
        value = data.get(name)
        if value not in (None, "", [], {}, False):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = "; ".join(value)
            text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))[:300]
            return words if text in words else text
    if data.get("IsSucceed") is False or data.get("success") is False or data.get("ok") is False:
        return words or "the venue answered that the request did not succeed"
    status = data.get("status")
    if isinstance(status, str) and status.strip().lower() in _FAILED_WORDS:
        return words or f"the venue answered status {status!r}"
    return None
