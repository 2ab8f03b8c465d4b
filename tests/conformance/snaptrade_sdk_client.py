"""Drive the official ``snaptrade-python-sdk`` (13.x) against a SnapTrade endpoint; print JSON results.

Run by the SDK's own virtual environment (not Blotter's), e.g.::

    .venv-sdk-snaptrade/bin/python tests/conformance/snaptrade_sdk_client.py \\
        --host http://127.0.0.1:PORT --client-id C --consumer-key K --user-id U --user-secret S \\
        accounts authorizations orders:ACCOUNT:open:90 detail:ACCOUNT:ORDER cancel:ACCOUNT:ORDER

The SDK is used exactly as its users would use it. Each action prints one result object
``{"action", "ok", "status", "body"}``; a refusal is the SDK's ``ApiException`` (status + parsed body).
The ``sign`` action is different: it calls the SDK's signing function directly with a JSON spec
``sign:{"path":…,"query":…,"content":…}`` so tests can compare signatures for inputs the SDK would
never send by itself (e.g. non-ASCII bodies).
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import sys
from typing import Any

from snaptrade_client import ApiException, SnapTrade, SnapTradeAuth
from snaptrade_client.request_after_hook import compute_request_signature


def plain(value: Any) -> Any:
    """SDK values (frozendict, tuples, Decimal, dates) as plain JSON values."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def run(client: SnapTrade, user: dict[str, str], action: str) -> dict[str, Any]:
    kind, _, rest = action.partition(":")
    try:
        if kind == "status":
            response = client.api_status.check()
        elif kind == "accounts":
            response = client.account_information.list_user_accounts(**user)
        elif kind == "authorizations":
            response = client.connections.list_brokerage_authorizations(**user)
        elif kind == "account":
            response = client.account_information.get_user_account_details(account_id=rest, **user)
        elif kind == "orders":
            account_id, state, days = [*rest.split(":"), "", ""][:3]
            kwargs: dict[str, Any] = {"account_id": account_id, **user}
            if state:
                kwargs["state"] = state
            if days:
                kwargs["days"] = int(days)
            response = client.account_information.get_user_account_orders(**kwargs)
        elif kind == "detail":
            account_id, order_id = rest.split(":", 1)
            response = client.account_information.get_user_account_order_detail(
                brokerage_order_id=order_id, account_id=account_id, **user)
        elif kind == "cancel":
            account_id, order_id = rest.split(":", 1)
            response = client.trading.cancel_order(brokerage_order_id=order_id, account_id=account_id, **user)
        elif kind == "sign":
            spec = json.loads(rest)
            path_and_query = f"{spec['path']}?{spec['query']}"
            signature = compute_request_signature(path_and_query, spec["consumer_key"], spec.get("content"))
            return {"action": kind, "ok": True, "status": None, "body": signature}
        else:
            return {"action": action, "ok": False, "status": None, "body": f"unknown action {kind!r}"}
    except ApiException as exc:
        return {"action": action, "ok": False, "status": exc.status, "body": plain(exc.body)}
    return {"action": action, "ok": True, "status": response.status, "body": plain(response.body)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--consumer-key", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--user-secret", required=True)
    parser.add_argument("actions", nargs="+")
    args = parser.parse_args(argv)
    client = SnapTrade(
        auth=SnapTradeAuth.commercial_api_key(consumer_key=args.consumer_key, client_id=args.client_id),
        host=args.host,
    )
    user = {"user_id": args.user_id, "user_secret": args.user_secret}
    results = [run(client, user, action) for action in args.actions]
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
