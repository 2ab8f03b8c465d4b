"""AutoShares documented behaviours (issue 15 C/D, VENUE-REALITY §1 and §7): never hide a working order, the
undocumented ``Id in`` filter refused, quick-cancel 204 is an acceptance, the consolidated listing, and no
repeated 2FA prompts from background refreshes. Each against the simulator in the matching mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from test_autoshares import APP_KEY, BIG, CODE, FOREIGN, PASSWORD, SMALL, Session, _order, scenario

from blotter.core import AuthError, CancelAck, OrderKey, OrderStatus, TwoFactorRequired, Venue
from blotter.sim.autoshares import AutoSharesSim
from blotter.venues.autoshares import AutoSharesAdapter
from blotter.venues.base import ConnectionSpec, LoginNeeded

Serve = Callable[[dict[str, Any]], tuple[Any, dict[str, str]]]
HELD_CODE = 20  # ETNA's own filter example uses a code beyond the documented table


async def _session(serve: Serve, **extra: Any) -> Session:
    section = scenario(**extra)
    section["orders"] += [_order(2101, SMALL, status="Held"), _order(2102, SMALL, status="Calculated")]
    sims, urls = serve({"autoshares": section})
    return Session(sims["autoshares"], urls["autoshares"])


@pytest.fixture
async def held(serve: Serve) -> AsyncIterator[Session]:
    """``Held`` with an undocumented numeric code and a server that knows only the documented filters."""
    s = await _session(serve, status_codes={"Held": HELD_CODE}, filters="documented")
    yield s
    for adapter in s.adapters:
        await adapter.aclose()


@pytest.fixture
async def lenient(serve: Serve) -> AsyncIterator[Session]:
    s = await _session(serve, status_codes={"Held": HELD_CODE}, consolidated=True)
    yield s
    for adapter in s.adapters:
        await adapter.aclose()


# ------------------------------------------------------------------------------ never hide a working order
async def test_a_held_order_with_an_undocumented_code_is_listed(lenient: Session) -> None:
    adapter = lenient.adapter()
    orders = {o.order_id: o for o in await adapter.list_open_orders(str(SMALL))}
    assert "2101" in orders and orders["2101"].status is OrderStatus.OPEN and orders["2101"].venue_status == "Held"
    assert not ({"2009"} & orders.keys())  # a filled order stays out
    assert sorted(int(i) for i in orders) == lenient.sim.open_order_ids(SMALL)  # Calculated (11) excluded


async def test_a_server_refusing_the_negative_filter_is_listed_unfiltered_for_good(held: Session) -> None:
    adapter = held.adapter()
    first = {o.order_id for o in await adapter.list_open_orders(str(SMALL))}
    assert "2101" in first and "2009" not in first
    pages = held.sim.requests_matching("GET", f"/accounts/{SMALL}/orders$")
    assert [p.status for p in pages] == [400, 200]
    assert "filter" in httpx.QueryParams(pages[0].query) and "filter" not in httpx.QueryParams(pages[1].query)
    assert {o.order_id for o in await adapter.list_open_orders(str(BIG))} >= {"1000", "1104"}
    again = held.sim.requests_matching("GET", f"/accounts/{BIG}/orders$")
    assert all("filter" not in httpx.QueryParams(p.query) for p in again)  # remembered for the connection
    assert all(p.status == 200 for p in again)


# ------------------------------------------------------------------------------ Id in (…) refused
async def test_id_filter_refused_falls_back_to_one_order_reads_at_once_and_remembers(held: Session) -> None:
    adapter = held.adapter()
    assert adapter.batch_reads(str(SMALL), 40)
    found = await adapter.get_orders(str(SMALL), ["2010", "2011", "2009", "424242"])
    assert sorted(found) == ["2009", "2010", "2011"]
    assert found["2009"].status is OrderStatus.FILLED
    assert [r.status for r in held.sim.requests_matching("GET", f"/accounts/{SMALL}/orders$")] == [400]
    assert len(held.sim.requests_matching("GET", rf"/accounts/{SMALL}/orders/\d+$")) == 4
    assert not adapter.batch_reads(str(SMALL), 40)  # the coordinator stops batching this connection
    await adapter.get_orders(str(SMALL), ["2010"])
    assert len(held.sim.requests_matching("GET", f"/accounts/{SMALL}/orders$")) == 1  # not asked again


def test_documented_mode_refuses_undocumented_filters() -> None:
    from blotter.sim.autoshares import FilterError, parse_filter

    for text in ("Id in (1,2)", "Status != 2", "Symbol = 'AAPL'", "SecurityId > 3"):
        with pytest.raises(FilterError):
            parse_filter(text, documented=True)
    assert len(parse_filter("Status in (0,1) and SecurityId = 4 and CreateDate >= #2024-01-01#",
                            documented=True)) == 3


# ------------------------------------------------------------------------------ quick cancel
@pytest.mark.parametrize(("mode", "ack"), [("quick", CancelAck.QUEUED), ("sync", CancelAck.DONE)])
async def test_quick_204_is_accepted_sync_204_is_done(lenient: Session, mode: str, ack: CancelAck) -> None:
    adapter = lenient.adapter(cancel_mode=mode)
    receipt = await adapter.cancel(OrderKey("as-test", str(SMALL), "2010"))
    assert receipt.response.http_status == 204 and receipt.ack is ack


async def test_quick_204_of_an_order_that_filled_meanwhile_is_not_done(lenient: Session) -> None:
    adapter = lenient.adapter(cancel_mode="quick")
    receipt = await adapter.cancel(OrderKey("as-test", str(SMALL), "2005"))  # sim: 204, then Filled
    assert receipt.ack is CancelAck.QUEUED
    assert (await adapter.get_order(str(SMALL), "2005")).status is OrderStatus.FILLED


# ------------------------------------------------------------------------------ consolidated
async def test_consolidated_lists_several_accounts_in_one_request(lenient: Session) -> None:
    adapter = lenient.adapter()
    listed = await adapter.list_open_orders_many([str(BIG), str(SMALL)])
    assert not isinstance(listed[str(BIG)], Exception) and not isinstance(listed[str(SMALL)], Exception)
    assert sorted(int(o.order_id) for o in listed[str(BIG)]) == lenient.sim.open_order_ids(BIG)
    small = {o.order_id for o in listed[str(SMALL)]}
    assert "2101" in small and all(o.key.account == str(SMALL) for o in listed[str(SMALL)])
    posts = lenient.sim.requests_matching("POST", "/orders/consolidated$")
    assert len(posts) == 2  # 105 + 12 orders: two pages of 100
    assert lenient.sim.requests_matching("GET", "/orders$") == []


async def test_consolidated_absent_falls_back_per_account_and_remembers(serve: Serve) -> None:
    s = await _session(serve)
    try:
        adapter = s.adapter()
        listed = await adapter.list_open_orders_many([str(BIG), str(SMALL)])
        assert sorted(int(o.order_id) for o in listed[str(BIG)]) == s.sim.open_order_ids(BIG)
        assert [r.status for r in s.sim.requests_matching("POST", "/orders/consolidated$")] == [404]
        await adapter.list_open_orders_many([str(SMALL)])
        assert len(s.sim.requests_matching("POST", "/orders/consolidated$")) == 1
    finally:
        for adapter in s.adapters:
            await adapter.aclose()


# ------------------------------------------------------------------------------ 2FA and token expiry
def _adapter(url: str, answers: list[str], prompts: list[str]) -> AutoSharesAdapter:
    async def prompt(words: str) -> str:
        prompts.append(words)
        return answers.pop(0) if answers else ""

    spec = ConnectionSpec(name="as-2fa", venue=Venue.AUTOSHARES, base_url=url, options={"username": "secure"})
    return AutoSharesAdapter(spec, {"app_key": APP_KEY, "password": PASSWORD}, code_prompt=prompt)


async def test_background_refreshes_do_not_prompt_again_after_a_declined_code(lenient: Session) -> None:
    prompts: list[str] = []
    adapter = _adapter(lenient.url, [CODE], prompts)
    try:
        await adapter.login()
        lenient.sim.expire_tokens()
        with pytest.raises(TwoFactorRequired):  # the refresh asks once; the trader declines
            await adapter.list_open_orders(str(FOREIGN))
        assert len(prompts) == 2
        tokens = len(lenient.sim.requests_matching("POST", "/token$"))
        for _ in range(3):  # background refreshes: "login needed", no prompt, no /token
            with pytest.raises(LoginNeeded, match="login needed"):
                await adapter.list_open_orders(str(FOREIGN))
        assert len(prompts) == 2 and len(lenient.sim.requests_matching("POST", "/token$")) == tokens
        # the trader acts: one prompt, and with the code everything works again
        prompt_answers: list[str] = [CODE]
        adapter._code_prompt = _prompting(prompt_answers, prompts)
        receipt = await adapter.cancel(OrderKey("as-2fa", str(FOREIGN), "9001"))
        assert receipt.ack is CancelAck.QUEUED and len(prompts) == 3
        assert [o.order_id for o in await adapter.list_open_orders(str(FOREIGN))] == []
    finally:
        await adapter.aclose()


async def test_a_failed_code_also_stops_background_prompts_until_test(lenient: Session) -> None:
    prompts: list[str] = []
    adapter = _adapter(lenient.url, [CODE, "000000"], prompts)
    try:
        await adapter.login()
        lenient.sim.expire_tokens()
        with pytest.raises(AuthError, match="Invalid verification code"):
            await adapter.list_accounts()  # wrong code
        with pytest.raises(LoginNeeded):
            await adapter.list_accounts()
        assert len(prompts) == 2
        adapter._code_prompt = _prompting([CODE], prompts)
        await adapter.login()  # Test: asks once
        assert len(prompts) == 3 and [a.account_id for a in await adapter.list_accounts()] == [str(FOREIGN)]
    finally:
        await adapter.aclose()


def _prompting(answers: list[str], prompts: list[str]) -> Callable[[str], Awaitable[str]]:
    async def prompt(words: str) -> str:
        prompts.append(words)
        return answers.pop(0) if answers else ""

    return prompt


def test_sim_rejects_unknown_status_code_names() -> None:
    with pytest.raises(ValueError, match="status_codes"):
        AutoSharesSim.from_scenario({**scenario(), "status_codes": {"Parked": 21}})
