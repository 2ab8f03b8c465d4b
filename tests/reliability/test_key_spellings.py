"""One request per venue order, however its key is spelled and through whichever connection it is reached.

Property: any list of spellings of one order's key (``as/6303/073517``, ``as/06303/73517``, a wallet
address in any mix of cases, a SnapTrade account id upper-cased, a second connection to the same venue
account) produces exactly one cancel request at the venue — read from the simulator's own request log —
and one result. Hypothesis draws the spellings; each example cancels a fresh order.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import REPORT
from venue_kits import KITS, Kit

from blotter.core import CancelOutcome, ConnectionSpec, OrderKey, Provenance
from blotter.service import BlotterService
from blotter.sim.common import SimClock
from blotter.sim.runner import SimServer, SimSet
from blotter.store.credentials import MemoryCredentialStore

EXAMPLES = 15
ORDERS = list(range(1, 400))  # every example (and every shrinking step) takes a fresh order


def _cases(text: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, itertools.cycle(flips), strict=False))


def spellings(kit: Kit) -> st.SearchStrategy[list[tuple[str, str, str]]]:
    """Lists of (connection, account, order id) naming one order (its number is filled in later: ``{n}``)."""
    zeros = st.integers(0, 3).map(lambda k: "0" * k)
    pad = st.sampled_from(["", " "])
    flips = st.lists(st.booleans(), min_size=1, max_size=12)
    if kit.name == "autoshares":
        one = st.tuples(st.sampled_from(["c", "c2"]), st.builds(lambda z, p: f"{p}{z}{kit.account()}", zeros, pad),
                        st.builds(lambda z, p: f"{z}{{n}}{p}", zeros, pad))
    elif kit.name == "tanx":  # one connection: two wallet logins at once replace each other's nonce (L3)
        one = st.tuples(st.just("c"), st.builds(lambda f: "0x" + _cases(kit.account()[2:], f), flips),
                        st.builds(lambda z: f"{z}{{n}}", zeros))
    else:  # SnapTrade order ids are free text: only the account id has spellings
        one = st.tuples(st.sampled_from(["c", "c2"]), st.builds(lambda f: _cases(kit.account(), f), flips),
                        st.just(kit.order_id(0).replace("0", "{n}")))
    return st.lists(one, min_size=2, max_size=6)


@pytest.fixture(params=["autoshares", "snaptrade", "tanx"])
def venue_server(request: pytest.FixtureRequest) -> Iterator[tuple[Kit, Any, str]]:
    kit = KITS[request.param]
    sims = SimSet(clock=SimClock(), sims={"v": kit.sim(kit.section(ORDERS), SimClock())})
    server = SimServer(sims)
    urls = server.start()
    try:
        yield kit, sims["v"], urls["v"]
    finally:
        server.stop()


def _service(kit: Kit, url: str) -> BlotterService:
    names = ["c"] if kit.name == "tanx" else ["c", "c2"]
    specs = [kit.spec(n, url, 3.0) for n in names]
    if kit.name == "autoshares":  # the second connection: the same login, the venue-verified route
        specs[1] = ConnectionSpec("c2", specs[1].venue, url, {**specs[1].options, "cancel_mode": "sync"})
    creds: dict[tuple[str, str], str] = {}
    for n in names:
        creds.update(kit.secrets(n))
    svc = BlotterService(specs, MemoryCredentialStore(creds), reconcile_timeout_s=1.0)
    svc.coordinator._poll_initial_s = 0.05
    return svc


def test_spellings_of_one_order_send_one_request(venue_server: tuple[Kit, Any, str]) -> None:
    kit, sim, url = venue_server
    numbers = iter(ORDERS)
    seen: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(spelled=spellings(kit))
    def one_order(spelled: list[tuple[str, str, str]]) -> None:
        n = next(numbers)
        keys = [OrderKey(c, a, o.replace("{n}", str(n))) for c, a, o in spelled]

        async def run() -> list[Any]:
            svc = _service(kit, url)
            try:
                return await svc.cancel(keys, Provenance.SELECTION)
            finally:
                await svc.aclose()

        results = asyncio.run(run())
        requests = (sim.requests_matching("DELETE", rf"/(sync)?orders/{n}$") if kit.name == "autoshares"
                    else kit.cancel_requests(sim, n))  # the second AutoShares connection cancels via syncorders
        assert len(requests) == 1, f"{len(requests)} cancel requests for {[str(k) for k in keys]}"
        assert len(results) == 1, [str(r.key) for r in results]
        assert results[0].outcome is CancelOutcome.CANCELLED, results[0]
        assert not kit.is_open(sim, n)
        seen.append(len(keys))

    one_order()
    assert seen, "hypothesis ran no example"
    REPORT.note("keys", f"spellings of one key ({kit.name})", True,
                f"{len(seen)} drawn lists of 2–6 spellings{' over two connections' if kit.name != 'tanx' else ''} "
                f"({sum(seen)} keys): one cancel request and one result per order, every time")
