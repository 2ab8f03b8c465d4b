"""Figure 5, the official SDK's side: list the open orders of every account, then cancel N of them.

Runs in the SDK's own environment (``.venv-sdk-snaptrade``, snaptrade-python-sdk 13.x), as its users
write it: one ``SnapTrade`` client, ``list_user_accounts``, ``get_user_account_orders(state="open")`` per
account, then ``trading.cancel_order`` for each order to cancel, one call after the other (the SDK is
synchronous). The orders cancelled are the first N by (account id, order id), the same choice as
Blotter's side. Prints one ``BENCH-RESULT`` JSON line; the clock starts after the SDK is imported and
the client built.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from snaptrade_client import ApiException, SnapTrade, SnapTradeAuth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--consumer-key", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--user-secret", required=True)
    parser.add_argument("--cancel", type=int, default=200)
    args = parser.parse_args(argv)
    client = SnapTrade(
        auth=SnapTradeAuth.commercial_api_key(consumer_key=args.consumer_key, client_id=args.client_id),
        host=args.host,
    )
    user = {"user_id": args.user_id, "user_secret": args.user_secret}
    t0 = time.perf_counter()
    accounts = client.account_information.list_user_accounts(**user).body
    orders: list[tuple[str, str]] = []
    for account in accounts:
        listed = client.account_information.get_user_account_orders(
            account_id=account["id"], state="open", days=90, **user).body
        orders.extend((str(account["id"]), str(o["brokerage_order_id"])) for o in listed)
    t1 = time.perf_counter()
    ok = failed = 0
    for account_id, order_id in sorted(orders)[:args.cancel]:
        try:
            client.trading.cancel_order(brokerage_order_id=order_id, account_id=account_id, **user)
            ok += 1
        except ApiException:
            failed += 1
    t2 = time.perf_counter()
    result = {"figure": "snaptrade_sdk", "accounts": len(accounts), "orders": len(orders), "list_s": t1 - t0,
              "cancel_s": t2 - t1, "total_s": t2 - t0, "cancel_ok": ok, "cancel_failed": failed}
    sys.stdout.write("BENCH-RESULT " + json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
