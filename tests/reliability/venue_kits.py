"""The three venues as the reliability tests see them: scenario, connection, endpoints, error shapes.

Each ``Kit`` builds a one-user scenario for its simulator, the matching ``ConnectionSpec`` and secrets,
says which request is which (list, cancel, re-read, bulk, log-in), and gives the venue's own shape for a
refusal (a 409 at AutoShares is a 400 at SnapTrade and tanX, and so on).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from blotter.core import ConnectionSpec, OrderKey, Venue
from blotter.service import BlotterService
from blotter.sim import autoshares as as_sim
from blotter.sim import snaptrade as st_sim
from blotter.sim import tanx as tx_sim
from blotter.sim.common import LoggedRequest, SimBase, SimClock
from blotter.store.audit import AuditStore
from blotter.store.credentials import MemoryCredentialStore

NOW = datetime.now(UTC)


# ---------------------------------------------------------------------------------------------- venue kits
class Kit:
    """How one venue looks to the matrix: scenario, connection, endpoints, error shapes."""

    venue: ClassVar[Venue]
    name: ClassVar[str]
    has_token: ClassVar[bool]  # a session token that expires (re-login or refresh on 401)
    list_path: ClassVar[tuple[str, str]]
    cancel_path: ClassVar[tuple[str, str]]
    get_path: ClassVar[tuple[str, str]]
    bulk_path: ClassVar[tuple[str, str] | None] = None
    auth_path: ClassVar[tuple[str, str] | None] = None
    unknown_word: ClassVar[str]
    expired_words: ClassVar[str] = ""

    def section(self, orders: Sequence[int]) -> dict[str, Any]:
        raise NotImplementedError

    def sim(self, section: dict[str, Any], clock: SimClock) -> SimBase:
        raise NotImplementedError

    def spec(self, name: str, url: str, timeout_s: float) -> ConnectionSpec:
        raise NotImplementedError

    def secrets(self, name: str) -> dict[tuple[str, str], str]:
        raise NotImplementedError

    def order_id(self, n: int) -> str:
        return str(n)

    def account(self) -> str:
        raise NotImplementedError

    def key(self, name: str, n: int) -> OrderKey:
        return OrderKey(name, self.account(), self.order_id(n))

    def cancel_requests(self, sim: Any, n: int) -> list[LoggedRequest]:
        raise NotImplementedError

    def all_cancel_requests(self, sim: Any) -> list[LoggedRequest]:
        return sim.requests_matching(*self.cancel_path)

    def is_open(self, sim: Any, n: int) -> bool:
        raise NotImplementedError

    def expire(self, sim: Any) -> None:
        raise NotImplementedError

    def refusal(self, fault: str, action: str) -> tuple[int, Any, dict[str, str], str]:
        """(status, body, headers, the words the user must see) of a refusal in the venue's shape."""
        raise NotImplementedError

    def unknown_body(self, sim: Any, target: str, n: int) -> Any:
        raise NotImplementedError


class AutoSharesKit(Kit):
    venue = Venue.AUTOSHARES
    name = "autoshares"
    has_token = True
    list_path = ("GET", r"/orders$")
    cancel_path = ("DELETE", r"/orders/\d+$")
    get_path = ("GET", r"/orders/\d+$")
    auth_path = ("POST", r"/token$")
    unknown_word = "Quarantined"
    expired_words = "Authorization has been denied for this request."
    APP_KEY = "matrix-app-key-4f2a9c0d"
    PASSWORD = "matrix-password-88121"
    ACCOUNT = 7101

    def section(self, orders: Sequence[int]) -> dict[str, Any]:
        created = (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        return {
            "app_keys": [self.APP_KEY],
            "users": [{"user_id": 1, "username": "mx", "password": self.PASSWORD, "first_name": "M",
                       "last_name": "X", "accounts": [self.ACCOUNT]}],
            "accounts": [{"id": self.ACCOUNT, "clearing_account": "5MX07101", "access_type": "Full",
                          "margin_type": "Cash", "owner_type": "IndividualCustomer", "alias": "main",
                          "currency": "USD", "enabled": True, "cash": 1000}],
            "orders": [{"id": n, "account_id": self.ACCOUNT, "symbol": "AAPL", "side": "Buy", "type": "Limit",
                        "quantity": 10, "price": 190.5, "status": "New", "create_date": created} for n in orders],
        }

    def sim(self, section: dict[str, Any], clock: SimClock) -> SimBase:
        return as_sim.AutoSharesSim.from_scenario(section, clock)

    def spec(self, name: str, url: str, timeout_s: float) -> ConnectionSpec:
        return ConnectionSpec(name, Venue.AUTOSHARES, url, {"username": "mx"}, timeout_s=timeout_s)

    def secrets(self, name: str) -> dict[tuple[str, str], str]:
        return {(name, "app_key"): self.APP_KEY, (name, "password"): self.PASSWORD}

    def account(self) -> str:
        return str(self.ACCOUNT)

    def cancel_requests(self, sim: Any, n: int) -> list[LoggedRequest]:
        return sim.requests_matching("DELETE", rf"/orders/{n}$")

    def is_open(self, sim: Any, n: int) -> bool:
        return sim.order_status(n) not in as_sim.TERMINAL_STATUSES

    def expire(self, sim: Any) -> None:
        sim.expire_tokens()

    def refusal(self, fault: str, action: str) -> tuple[int, Any, dict[str, str], str]:
        if fault == "403":
            return 403, dict(as_sim.APP_KEY_ERROR), {}, as_sim.APP_KEY_ERROR["error"]
        if fault == "409":
            words = "Order cannot be cancelled: a cancel request is already pending"
            return 409, {"Message": words}, {}, words
        if fault == "422":
            field_, text = ("pageSize", "The field pageSize must be between 1 and 100.") if action == "list" else (
                "orderId", "The value 'x' is not valid for orderId.")
            return 422, {"Message": as_sim.VALIDATION_MESSAGE, "ModelState": {field_: [text]}}, {}, f"{field_}: {text}"
        if fault == "429":
            words = "API calls quota exceeded! maximum admitted 50 per 60s."
            return 429, {"Message": words}, {"Retry-After": "1"}, words
        if fault == "500":
            return 500, dict(as_sim.SERVER_ERROR), {}, as_sim.SERVER_ERROR["message"]
        if fault == "503":
            words = "The service is unavailable."
            return 503, {"Message": words}, {}, words
        raise AssertionError(fault)

    def unknown_body(self, sim: Any, target: str, n: int) -> Any:
        order = {**sim.order(n), "Status": self.unknown_word}
        return {"Result": [order], "TotalCount": 1} if target == "list" else order


class SnapTradeKit(Kit):
    venue = Venue.SNAPTRADE
    name = "snaptrade"
    has_token = False
    list_path = ("GET", r"/accounts/[^/]+/orders$")
    cancel_path = ("POST", r"/trading/cancel$")
    get_path = ("POST", r"/orders/details$")
    unknown_word = "QUARANTINED"
    CONSUMER_KEY = "matrix-consumer-key-2718281828"
    USER_SECRET = "matrix-user-secret-1618033988"
    ACCOUNT = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"

    def section(self, orders: Sequence[int]) -> dict[str, Any]:
        return {
            "clients": [{"client_id": "MX-CLIENT", "consumer_key": self.CONSUMER_KEY}],
            "users": [{"user_id": "mx-user", "user_secret": self.USER_SECRET, "accounts": [self.ACCOUNT]}],
            "accounts": [{"id": self.ACCOUNT, "brokerage_authorization": self.ACCOUNT[::-1], "name": "Main",
                          "number": "Q1", "institution_name": "Questrade",
                          "balance": {"amount": 1000, "currency": "USD"}, "is_paper": False, "status": "open",
                          "read_only": False}],
            "orders": [{"brokerage_order_id": self.order_id(n), "account_id": self.ACCOUNT, "symbol": "SHOP",
                        "description": "Shopify Inc.", "currency": "USD", "exchange": "NASDAQ", "action": "BUY",
                        "order_type": "Limit", "time_in_force": "GTC", "total_quantity": "10",
                        "filled_quantity": "0", "limit_price": "112.50", "status": "ACCEPTED",
                        "time_placed": -600, "via_snaptrade": True} for n in orders],
        }

    def sim(self, section: dict[str, Any], clock: SimClock) -> SimBase:
        return st_sim.SnapTradeSim.from_scenario(section, clock)

    def spec(self, name: str, url: str, timeout_s: float) -> ConnectionSpec:
        return ConnectionSpec(name, Venue.SNAPTRADE, url, {"client_id": "MX-CLIENT", "user_id": "mx-user"},
                              timeout_s=timeout_s)

    def secrets(self, name: str) -> dict[tuple[str, str], str]:
        return {(name, "consumer_key"): self.CONSUMER_KEY, (name, "user_secret"): self.USER_SECRET}

    def order_id(self, n: int) -> str:
        return f"MX-{n}"

    def account(self) -> str:
        return self.ACCOUNT

    def cancel_requests(self, sim: Any, n: int) -> list[LoggedRequest]:
        return [r for r in sim.requests_matching(*self.cancel_path)
                if json.loads(r.body or "{}").get("brokerage_order_id") == self.order_id(n)]

    def is_open(self, sim: Any, n: int) -> bool:
        return sim.status(self.order_id(n)) in st_sim.OPEN_STATUSES

    def expire(self, sim: Any) -> None:
        raise AssertionError("SnapTrade has no session token")

    def refusal(self, fault: str, action: str) -> tuple[int, Any, dict[str, str], str]:
        if fault == "401":
            words = "Unable to verify signature sent"
            return 401, st_sim.exception_body(words, 401, st_sim.CODE_SIGNATURE), {}, words
        if fault == "403":
            words = "You do not have permission to access this resource."
            return 403, st_sim.failed(words, st_sim.CODE_PERMISSION), {}, words
        if fault == "409":  # SnapTrade refuses a conflicting cancel with 400 in its documented shape
            words = "Order MX-1 already has a pending cancel request."
            return 400, st_sim.failed(words, st_sim.CODE_BROKER_REFUSED), {}, words
        if fault == "422":  # no 422 at SnapTrade: validation is a 400
            words = ("days must be an integer between 1 and 90." if action == "list"
                     else "brokerage_order_id: This field is required.")
            return 400, st_sim.failed(words, st_sim.CODE_BAD_REQUEST), {}, words
        if fault == "429":
            words = "Request was throttled. Expected available in 1 seconds."
            return 429, st_sim.exception_body(words, 429, st_sim.CODE_THROTTLED), {"Retry-After": "1"}, words
        if fault == "500":
            words = "Encountered an unexpected exception."
            return 500, st_sim.exception_body(words, 500, st_sim.CODE_UNEXPECTED), {}, words
        if fault == "503":
            words = "Service temporarily unavailable, try again later."
            return 503, st_sim.exception_body(words, 503, st_sim.CODE_UNEXPECTED), {}, words
        raise AssertionError(fault)

    def unknown_body(self, sim: Any, target: str, n: int) -> Any:
        record = {**sim.order(self.order_id(n)), "status": self.unknown_word}
        return [record] if target == "list" else record


class TanxKit(Kit):
    venue = Venue.TANX
    name = "tanx"
    has_token = True
    list_path = ("GET", r"/sapi/v1/orders/?$")
    cancel_path = ("POST", r"/sapi/v1/orders/cancel/?$")
    get_path = ("GET", r"/sapi/v1/orders/\d+/?$")
    bulk_path = ("POST", r"/sapi/v1/user/bulkcancel/?$")
    auth_path = ("POST", r"/auth/token/refresh/?$")
    unknown_word = "frozen"
    expired_words = "Given token not valid for any token type"
    KEY = "0x" + "7c" * 32
    ADDRESS = tx_sim.address_of(KEY)

    def section(self, orders: Sequence[int]) -> dict[str, Any]:
        return {"wallets": [{"name": "Desk", "private_key": self.KEY}],
                "orders": [{"id": n, "wallet": self.ADDRESS, "market": "btcusdc", "side": "buy",
                            "ord_type": "limit", "price": "60000", "origin_volume": "0.5",
                            "executed_volume": "0", "state": "wait",
                            "created_at": (NOW - timedelta(minutes=n)).isoformat()} for n in orders]}

    def sim(self, section: dict[str, Any], clock: SimClock) -> SimBase:
        return tx_sim.TanxSim.from_scenario(section, clock)

    def spec(self, name: str, url: str, timeout_s: float) -> ConnectionSpec:
        return ConnectionSpec(name, Venue.TANX, url, timeout_s=timeout_s)

    def secrets(self, name: str) -> dict[tuple[str, str], str]:
        return {(name, "private_key"): self.KEY}

    def account(self) -> str:
        return self.ADDRESS

    def cancel_requests(self, sim: Any, n: int) -> list[LoggedRequest]:
        return [r for r in sim.requests_matching(*self.cancel_path)
                if json.loads(r.body or "{}").get("order_id") == n]

    def is_open(self, sim: Any, n: int) -> bool:
        return sim.state_of(n) in tx_sim.OPEN_STATES

    def expire(self, sim: Any) -> None:
        sim.expire_access_tokens()

    def refusal(self, fault: str, action: str) -> tuple[int, Any, dict[str, str], str]:
        def env(status: int, words: str, headers: dict[str, str] | None = None) -> tuple[
                int, Any, dict[str, str], str]:
            return status, {"status": "error", "message": words, "payload": ""}, headers or {}, words

        if fault == "403":
            return env(403, "You do not have permission to perform this action.")
        if fault == "409":  # tanX refuses a cancel of an order it cannot cancel with 400
            return env(400, "Order is not open")
        if fault == "422":  # no 422 at tanX: validation is a 400
            return env(400, {"list": "limit: Ensure this value is less than or equal to 1000.",
                             "cancel": "order_id: A valid integer is required.",
                             "bulk cancel": 'side: "up" is not a valid choice.'}[action])
        if fault == "429":
            return env(429, "Request was throttled. Expected available in 1 seconds.", {"Retry-After": "1"})
        if fault == "500":
            return env(500, "Internal Server Error")
        if fault == "503":
            return env(503, "Service Unavailable")
        raise AssertionError(fault)

    def unknown_body(self, sim: Any, target: str, n: int) -> Any:
        if target == "bulk":
            return {"status": "partial", "message": "Orders are partially queued for cancellation", "payload": {}}
        order = {**sim.order(n), "state": self.unknown_word}
        message = "Orders Retrieved Successfully" if target == "list" else "Order Retrieved Successfully"
        return {"status": "success", "message": message, "payload": [order] if target == "list" else order}


KITS: dict[str, Kit] = {"autoshares": AutoSharesKit(), "snaptrade": SnapTradeKit(), "tanx": TanxKit()}


def single_service(kit: Kit, url: str, name: str = "c", *, timeout_s: float = 3.0, reconcile_s: float = 1.5,
                   audit: AuditStore | None = None) -> BlotterService:
    """A service with one connection to one simulator of ``kit``'s venue."""
    svc = BlotterService([kit.spec(name, url, timeout_s)], MemoryCredentialStore(kit.secrets(name)),
                         reconcile_timeout_s=reconcile_s, audit=audit)
    svc.coordinator._poll_initial_s = 0.05
    return svc
