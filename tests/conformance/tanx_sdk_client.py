"""Drive the official tanX SDK (``tanx-connector`` 2.1.0) against a tanX simulator, as its users would.

Run by the SDK's own virtual environment (not Blotter's): it imports only the SDK and ``requests``.

    TANX_PRIVATE_KEY=0x… python tanx_sdk_client.py http://127.0.0.1:PORT 0xADDRESS < steps.json

``steps.json`` is a JSON list of steps, run in order; the results are printed as one JSON object
``{"results": [...]}`` on stdout, one entry per step: ``{"op", "ok": true, "result"}`` or
``{"op", "ok": false, "error": {"type", "status"?, "body"?, "message"?}}``. A step never stops the run.

Steps (SDK calls unless noted): ``health``, ``login``, ``profile``, ``balance``, ``list_orders`` (keyword
arguments of ``Client.list_orders``), ``get_order`` / ``cancel_order`` (``order_id``), ``bulk_cancel``
(``data``), ``auth_state`` (digests of the SDK's current tokens, never the tokens), and the harness step
``advance_clock`` (``seconds``; moves the simulator's clock through its ``/_sim/clock`` admin route).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import requests
from tanxconnector import Client


def _digest(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else None


def run_step(client: Client, url: str, address: str, private_key: str, step: dict[str, Any]) -> Any:
    op = step["op"]
    if op == "health":
        return client.test_connection()
    if op == "login":
        answer = client.complete_login(address, private_key)
        return {"status": answer["status"], "message": answer["message"], "payload": answer["payload"],
                "token_keys": sorted(answer["token"])}
    if op == "profile":
        return client.get_profile_info()
    if op == "balance":
        return client.get_balance()
    if op == "list_orders":
        return client.list_orders(**step.get("params", {}))
    if op == "get_order":
        return client.get_order(step["order_id"])
    if op == "cancel_order":
        return client.cancel_order(step["order_id"])
    if op == "bulk_cancel":
        return client.bulk_cancel(step["data"])
    if op == "auth_state":
        return {"authorization": _digest(client.session.headers.get("Authorization")),
                "refresh": _digest(client.refresh_token)}
    if op == "advance_clock":  # harness, not SDK: the simulator's admin route
        reply = requests.post(f"{url}/_sim/clock", json={"advance_s": step["seconds"]}, timeout=10)
        reply.raise_for_status()
        return reply.json()
    raise ValueError(f"unknown step {op!r}")


def main() -> int:
    url, address = sys.argv[1], sys.argv[2]
    private_key = os.environ["TANX_PRIVATE_KEY"]
    steps = json.load(sys.stdin)
    client = Client("testnet")
    client.session.url_base = url  # the SDK has no base-URL parameter; this is how it is pointed elsewhere
    results: list[dict[str, Any]] = []
    for step in steps:
        entry: dict[str, Any] = {"op": step["op"]}
        try:
            entry["result"] = run_step(client, url, address, private_key, step)
            entry["ok"] = True
        except requests.HTTPError as exc:
            response = exc.response
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            entry["ok"] = False
            entry["error"] = {"type": "HTTPError", "status": response.status_code, "body": body}
        except Exception as exc:  # report, keep going: the test asserts on every step
            entry["ok"] = False
            entry["error"] = {"type": type(exc).__name__, "message": str(exc)}
        results.append(entry)
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
