"""Token expiry mid-session through the window: a cancel in flight and a refresh both meet the expired
AutoShares token; exactly one re-login happens (with a 2FA user: one code asked), the cancel completes."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from blotter.core import ConnectionSpec, Venue
from blotter.service.connections import save_connection
from blotter.store.config import ConfigStore
from blotter.store.credentials import KeyringCredentialStore
from connections_support import (
    TWO_FACTOR_CODE,
    TWO_FACTOR_PASSWORD,
    TWO_FACTOR_USER,
    Logins,
    answer_code,
    live_window_fixture,  # noqa: F401  (the live_window fixture)
    loaded,
    small_scenario,
)


@pytest.mark.usefixtures("real_keyring")
@pytest.mark.parametrize("two_factor", [False, True], ids=["password", "two-factor"])
def test_expired_token_one_relogin_and_the_cancel_completes(
    qtbot: Any, live_window: Any, serve: Any, two_factor: bool, request: pytest.FixtureRequest,
) -> None:
    scenario = small_scenario()
    sims, urls = serve(scenario)
    sim = sims["autoshares"]
    logins = Logins.of(scenario, urls)
    options, secrets = dict(logins.options["autoshares"]), dict(logins.secrets["autoshares"])
    if two_factor:
        options["username"], secrets["password"] = TWO_FACTOR_USER, TWO_FACTOR_PASSWORD
    save_connection(ConfigStore(), KeyringCredentialStore(),
                    ConnectionSpec(name="as", venue=Venue.AUTOSHARES, base_url=urls["autoshares"], options=options),
                    secrets)
    window = live_window()
    window.settings.confirm_single_cancel = False
    if two_factor:
        answer_code(qtbot, window.prompt, TWO_FACTOR_CODE)
    qtbot.waitUntil(lambda: loaded(window, "as") and bool(window.orders_model.open_keys("as")), timeout=10_000)
    window.orders_model.flush()
    key = next(k for k in window.orders_model.open_keys("as") if window.cancellable(k))
    asked = len(window.prompt.asked)
    tokens_before = len(sim.requests_matching("POST", "/token$"))

    sim.expire_tokens()
    held = sim.add_fault({"action": "hold", "method": "POST", "path": "/token$"})  # the re-login waits
    request.addfinalizer(held.release)
    window.orders_view.select_keys([key])
    window.orders_view.setFocus()
    qtbot.keyClick(window.orders_view, Qt.Key.Key_Delete)
    window.refresh_now("as")  # reads meet the expired token as well
    qtbot.waitUntil(lambda: held.hits == 1, timeout=10_000)
    qtbot.waitUntil(lambda: any(r.status == 401 for r in sim.requests_matching("GET")), timeout=10_000)
    assert window.service.coordinator.in_flight(key)  # work in flight waits for the one re-login
    deletes = sim.requests_matching("DELETE", f"/orders/{key.order_id}$")
    assert [r.status for r in deletes] == [401]
    held.release()
    if two_factor:
        question = answer_code(qtbot, window.prompt, TWO_FACTOR_CODE)
        assert "Connection 'as' (autoshares)" in question

    qtbot.waitUntil(lambda: window.orders_model.order(key) is None, timeout=10_000)  # cancelled: the row leaves
    entry = next(e for e in window.status_model.entries() if e.key == key and e.action == "cancel")
    assert entry.outcome == "cancelled"
    logins_after = sim.requests_matching("POST", "/token$")[tokens_before:]
    assert len(logins_after) == (2 if two_factor else 1)  # one re-login (a 2FA login has two steps)
    assert [r.status for r in logins_after] == ([202, 200] if two_factor else [200])
    assert len(window.prompt.asked) == asked + (1 if two_factor else 0)
    assert [r.status for r in sim.requests_matching("DELETE", f"/orders/{key.order_id}$")] == [401, 204]
    qtbot.waitUntil(lambda: window.service.health["as"].state == "connected", timeout=10_000)
