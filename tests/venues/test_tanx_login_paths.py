"""tanX wallet login on the documented ``/sapi/v2/auth/{nonce,login}/`` (VENUE-REALITY §7.8), the older
``/sapi/v1/auth/v2/…`` alias only after a 404."""

from __future__ import annotations

from typing import Any

from test_tanx import ADDR_A, Make, _order, make_adapter, paths, scenario  # noqa: F401 (fixture)

from blotter.sim.tanx import TanxSim


async def test_a_server_with_only_the_documented_paths_logs_in(serve: Any, make_adapter: Make) -> None:  # noqa: F811
    sims, urls = serve(scenario([_order(1)], auth_paths="v2_only"))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    await adapter.login()
    assert paths(sim, "POST", "auth") == [("POST", "/sapi/v2/auth/nonce/", 200), ("POST", "/sapi/v2/auth/login/", 200)]
    assert [o.order_id for o in await adapter.list_open_orders(ADDR_A)] == ["1"]


async def test_the_older_alias_only_after_a_404_and_then_for_good(serve: Any, make_adapter: Make) -> None:  # noqa: F811
    sims, urls = serve(scenario([_order(1)], auth_paths="v1_only", refresh_ttl_s=1000))
    sim: TanxSim = sims["tanx"]
    adapter = make_adapter(urls["tanx"])
    await adapter.login()
    sim.clock.advance(1001)  # both tokens expired: a second wallet login
    assert [o.order_id for o in await adapter.list_open_orders(ADDR_A)] == ["1"]
    assert paths(sim, "POST", "auth") == [
        ("POST", "/sapi/v2/auth/nonce/", 404),
        ("POST", "/sapi/v1/auth/v2/nonce/", 200), ("POST", "/sapi/v1/auth/v2/login/", 200),
        ("POST", "/sapi/v1/auth/token/refresh/", 401),
        ("POST", "/sapi/v1/auth/v2/nonce/", 200), ("POST", "/sapi/v1/auth/v2/login/", 200),
    ]


def test_v2_only_refuses_the_older_alias(serve: Any) -> None:
    import httpx

    _, urls = serve(scenario([], auth_paths="v2_only"))
    with httpx.Client(base_url=urls["tanx"]) as client:
        assert client.post("/sapi/v1/auth/v2/nonce/", json={"eth_address": ADDR_A}).status_code == 404
        assert client.post("/sapi/v2/auth/nonce/", json={"eth_address": ADDR_A}).status_code == 200
