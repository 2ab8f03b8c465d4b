"""Redaction of secrets in anything that may be shown, logged or stored.

Two layers: structural (known secret-bearing header, query and JSON field names are masked whatever
their value), and by value (a ``Redactor`` knows the live secret values of a connection and masks them
wherever they appear, e.g. echoed back inside a venue's error text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Lower-case names of headers, query parameters and JSON fields that carry secrets.
SECRET_NAMES = frozenset(
    {
        "authorization",
        "et-app-key",
        "password",
        "pincode",
        "verificationcode",
        "signature",
        "usersecret",
        "user_secret",
        "consumerkey",
        "consumer_key",
        "token",
        "access",
        "refresh",
        "access_token",
        "refresh_token",
        "private_key",
        "user_signature",
        "app_key",
        "secret",
        "jwt",
        "confirmationtoken",
        "cookie",
        "set-cookie",
    }
)

_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# a 65-byte signature (130 hex digits) or a 32-byte key (64), alone as a word; one pass over the text
_HEX_SECRET_RE = re.compile(r"\b(?:0x)?(?:[0-9a-fA-F]{130}|[0-9a-fA-F]{64})\b")
_BEARER_RE = re.compile(r"(?i)\b(bearer|jwt)\s+[^\s\"',;]+")


def is_secret_name(name: str) -> bool:
    return name.strip().lower() in SECRET_NAMES


class Redactor:
    """Masks known secret values (and secret-looking tokens) in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        for value in secrets:
            self.add(value)

    def add(self, value: str | None) -> None:
        # Very short values would mask ordinary words; real secrets are longer than 4 characters.
        if value and len(value) >= 4:
            stripped = value.removeprefix("0x")
            for form in (value, stripped) if len(stripped) >= 4 else (value,):
                self._values.add(form)
                # as it appears inside serialized JSON ("\"" for ", "\\" for \\): ``body`` masks JSON text
                self._values.add(json.dumps(form, ensure_ascii=False)[1:-1])

    def text(self, text: str) -> str:
        if not text:
            return text
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        lowered = text.lower()
        if "bearer" in lowered or "jwt" in lowered:  # the regex costs ~15 ns a character; this, ~1
            text = _BEARER_RE.sub(lambda m: f"{m.group(1)} {MASK}", text)
        if "eyJ" in text:
            text = _JWT_RE.sub(MASK, text)
        return _HEX_SECRET_RE.sub(MASK, text)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        return {k: (MASK if is_secret_name(k) else self.text(v)) for k, v in items}

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return self.text(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*/:")
        return self.text(urlunsplit(parts._replace(query=query)))

    def json_value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            # Keys are masked too: a venue may echo a secret as a field name (e.g. in a ModelState).
            return {
                (self.text(k) if isinstance(k, str) else k): (
                    MASK if isinstance(k, str) and is_secret_name(k) and v not in (None, "") else self.json_value(v)
                )
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.json_value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, body: str | bytes, limit: int = 64_000) -> str:
        """Redact a response or request body; JSON structurally, anything else as text; truncated."""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            parsed = json.loads(text)
            # Secret-named fields are masked structurally; the values and secret-looking tokens are then
            # masked in the serialized text in one pass (a pass per string cost ~4 ms per page of orders,
            # on the GUI loop, for every listing). Deeply nested JSON can overflow the stack: then as text.
            text = json.dumps(_mask_fields(parsed), ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError):
            pass
        redacted = self.text(text)
        if len(redacted) > limit:
            redacted = redacted[:limit] + f"… [{len(redacted) - limit} more characters]"
        return redacted


def _mask_fields(value: Any) -> Any:
    """``value`` with the values of secret-named fields (at any depth) replaced by the mask."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and is_secret_name(k) and v not in (None, "") else _mask_fields(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_fields(v) for v in value]
    return value
