"""``blotter --demo --screenshot PATH``: a short scripted set of cancels, then a picture of the window.

The demo scenario gives some orders a cancel behaviour (fill, reject, never, accept-with-delay). The
script picks one order per outcome kind from the served simulators, adds transport faults for the two
outcomes a healthy venue never produces (failed: the answer comes too late and the order is still open;
unknown: the venue answers 500 and the order cannot be read again), cancels them through the window like a
trader would, waits until every outcome is in, starts one more cancel that is still in flight when the
picture is taken, and saves the window (1280×800) as a PNG.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from ..core import OrderKey, Provenance
from ..service.refresh import RefreshEvent, RefreshPhase
from .main_window import MainWindow
from .models.columns import column_index

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    role: str  # what this cancel is for in the picture
    key: OrderKey
    venue: str


def cancel_spec(sims: Any, venue: str, key: OrderKey) -> Any:
    """The simulator's CancelSpec for an order (None if it cannot be found)."""
    sim = getattr(sims, "sims", {}).get(venue)
    order = _sim_order(sim, key) if sim is not None else None
    return getattr(order, "cancel", None)


def pick_targets(window: MainWindow, sims: Any) -> list[Target]:
    by_venue: dict[str, list[tuple[OrderKey, Any]]] = {}
    for key in window.orders_model.open_keys():
        if not window.cancellable(key):
            continue
        spec = window.service.specs.get(key.connection)
        if spec is None:
            continue
        venue = str(spec.venue)
        by_venue.setdefault(venue, []).append((key, cancel_spec(sims, venue, key)))

    used: set[OrderKey] = set()

    def take(role: str, venues: Iterable[str], test: Callable[[Any], bool]) -> Target | None:
        for venue in venues:
            for key, spec in sorted(by_venue.get(venue, []), key=lambda pair: pair[0]):
                if key not in used and spec is not None and test(spec):
                    used.add(key)
                    return Target(role, key, venue)
        return None

    def mode(name: str, *, max_delay: int | None = None, min_delay: int = 0) -> Callable[[Any], bool]:
        def test(spec: Any) -> bool:
            delay = int(getattr(spec, "delay_ms", 0))
            return bool(spec.mode == name and delay >= min_delay and (max_delay is None or delay <= max_delay))
        return test

    everyone = ("autoshares", "snaptrade", "tanx")
    wanted = [
        take("rejected", ("autoshares", "snaptrade", "tanx"), mode("reject")),
        take("too late", ("snaptrade", "autoshares", "tanx"), mode("fill", max_delay=0)),
        take("pending", ("snaptrade", "autoshares", "tanx"), mode("never")),
        take("cancelled", ("tanx", "snaptrade", "autoshares"), mode("accept", max_delay=0)),
        take("failed", ("autoshares", "snaptrade"), mode("accept", max_delay=0)),
        take("unknown", ("autoshares", "snaptrade"), mode("accept", max_delay=0)),
    ]
    targets = [t for t in wanted if t is not None]
    in_flight = take("in flight", everyone, mode("accept", min_delay=1500))
    if in_flight is not None:
        targets.append(in_flight)
    return targets


def _path_for(venue: str, key: OrderKey) -> str:
    return f"/{key.account}/[a-z]*orders/{key.order_id}$" if venue == "autoshares" else f"/{key.order_id}$"


def add_faults(sims: Any, targets: Iterable[Target]) -> None:
    """failed: the venue answers the cancel too late and keeps the order open;
    unknown: the venue answers 500 and the order cannot be read again (503);
    in flight: the venue has not answered yet when the picture is taken."""
    from ..sim.common import CancelSpec

    for target in targets:
        if target.role not in ("failed", "unknown", "in flight"):
            continue
        sim = sims[target.venue]
        order = _sim_order(sim, target.key)
        if order is None:
            continue
        with sim.lock:
            if target.role == "failed":
                order.cancel = CancelSpec(mode="timeout", delay_ms=2500, effect="none")
            elif target.role == "in flight":  # no answer yet when the picture is taken: "cancelling…"
                order.cancel = CancelSpec(mode="timeout", delay_ms=10000, effect="cancel")
            else:
                order.cancel = CancelSpec(mode="error", effect="none")
        if target.role == "unknown":
            sim.add_fault({"action": "status", "status": 503, "method": "GET",
                           "path": _path_for(target.venue, target.key), "times": 0})


def _sim_order(sim: Any, key: OrderKey) -> Any:
    orders = getattr(sim, "orders", {})
    for candidate in ((int(key.order_id) if key.order_id.isdigit() else None), (key.account, key.order_id),
                      key.order_id):
        if candidate is not None and candidate in orders:
            return orders[candidate]
    return None


async def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step_s)
    return True


async def run_screenshot(window: MainWindow, sims: Any, path: Path) -> int:
    names = set(window.service.specs)
    seen = {n for n, h in window.service.health.items() if h.state in ("connected", "error")}

    def note(event: RefreshEvent) -> None:
        if event.phase in (RefreshPhase.UPDATED, RefreshPhase.FAILED):
            seen.add(event.connection)

    unsubscribe = window.scheduler.subscribe(note)
    try:
        if not await wait_until(lambda: seen >= names, 30):
            log.warning("not every connection answered in time: %s", sorted(names - seen))
    finally:
        unsubscribe()
    window.orders_model.flush()
    window.orders_model.linger_s = 300.0  # keep the too-late row in the picture
    if sims is not None:
        targets = pick_targets(window, sims)
        add_faults(sims, targets)
        settled = [t for t in targets if t.role != "in flight"]
        in_flight = [t for t in targets if t.role == "in flight"]
        for target in settled:
            window.submit_cancels([target.key], Provenance.ROW_ACTION)
        futures = [window.service.coordinator.submit(t.key, Provenance.ROW_ACTION) for t in settled]
        if futures:
            await asyncio.wait(futures, timeout=45)
        for target in in_flight:
            window.submit_cancels([target.key], Provenance.HOTKEY)
        await asyncio.sleep(0.4)  # its request is on the wire, the venue has not confirmed yet
    window.orders_model.flush()
    state = column_index("state")
    window.orders_view.sortByColumn(state, Qt.SortOrder.AscendingOrder)
    window.orders_view.scrollToTop()
    window.orders_view.clearSelection()
    window.resize(*_size())
    await asyncio.sleep(0.2)  # let Qt lay out and paint (never processEvents() inside a coroutine)
    image = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        log.error("could not write %s", path)
        return 1
    return 0


SCREENSHOT_SIZE = (1280, 800)


def _size() -> tuple[int, int]:
    return SCREENSHOT_SIZE
