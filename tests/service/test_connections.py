"""Connection management without a screen: validation, the keyring, live add/remove, token rotation.

The keyring tests use a real Secret Service (gnome-keyring in a private D-Bus session).
"""

from __future__ import annotations

import asyncio
import tomllib
from typing import Any

import keyring
import pytest

from blotter.core import ConfigError, ConnectionSpec, CredentialError, OrderKey, Provenance, Venue
from blotter.service import BlotterService
from blotter.service.connections import (
    delete_connection,
    derive_eth_address,
    probe_connection,
    save_connection,
    stored_fields,
    validate_spec,
)
from blotter.service.refresh import RefreshPhase, RefreshScheduler
from blotter.sim.tanx import address_of
from blotter.store.config import ConfigStore
from blotter.store.credentials import (
    CachedCredentialStore,
    KeyringCredentialStore,
    KeyringUnavailable,
    MemoryCredentialStore,
)

KEY = "0x" + "11" * 32
ADDR = address_of(KEY)


def spec(venue: Venue, name: str = "c1", url: str = "https://api.example.com", **options: str) -> ConnectionSpec:
    return ConnectionSpec(name=name, venue=venue, base_url=url, options=options)


@pytest.mark.parametrize(("venue", "url", "options", "words"), [
    (Venue.TANX, "http://api.tanx.fi", {}, "https is required"),
    (Venue.TANX, "https://user:pw@api.tanx.fi", {}, "credentials do not belong"),
    (Venue.AUTOSHARES, "https://x.example", {"username": "u", "cancel_mode": "slow"}, "quick or sync"),
    (Venue.AUTOSHARES, "https://x.example", {"username": "u", "api_version": "one"}, "look like 1.0"),
    (Venue.AUTOSHARES, "https://x.example", {}, "need a username"),
    (Venue.SNAPTRADE, "https://x.example", {"client_id": "C"}, "need a user id"),
    (Venue.TANX, "https://x.example", {"eth_address": "0x123"}, "40 hex digits"),
])
def test_validation_says_what_is_wrong(venue: Venue, url: str, options: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        validate_spec(spec(venue, url=url, **options))


def test_validation_normalises() -> None:
    checked = validate_spec(spec(Venue.AUTOSHARES, url="http://127.0.0.1:8000/api/", username=" jdoe ",
                                 cancel_mode="SYNC"))
    assert checked.base_url == "http://127.0.0.1:8000/api"  # loopback may be http
    assert dict(checked.options) == {"username": "jdoe", "cancel_mode": "sync"}
    assert validate_spec(spec(Venue.TANX, eth_address=ADDR.lower())).option("eth_address") == ADDR


def test_a_bad_wallet_key_is_never_echoed() -> None:
    with pytest.raises(ConfigError, match="not valid") as caught:
        derive_eth_address("0xnot-a-key-secret-123")
    assert "secret-123" not in str(caught.value)
    assert derive_eth_address(KEY) == ADDR


@pytest.mark.usefixtures("real_keyring")
def test_save_edit_and_delete_through_the_real_keyring() -> None:
    config, store = ConfigStore(), KeyringCredentialStore()
    saved = save_connection(config, store, spec(Venue.TANX, name="wallet"), {"private_key": KEY})
    assert saved.option("eth_address") == ADDR  # derived from the key
    assert keyring.get_password("blotter", "wallet/private_key") == KEY
    text = config.path.read_text()
    assert KEY not in text and KEY[2:] not in text
    assert tomllib.loads(text)["connections"]["wallet"]["options"]["eth_address"] == ADDR

    with pytest.raises(ConfigError, match="already exists"):
        save_connection(config, store, spec(Venue.TANX, name="wallet"), {"private_key": KEY})
    # editing without the secrets keeps them; switching to pasted tokens deletes the key
    edited = save_connection(config, store, spec(Venue.TANX, name="wallet", eth_address=ADDR),
                             {"access_token": "acc-1", "refresh_token": "ref-1"}, replace_existing=True,
                             clear=["private_key"])
    assert edited.option("eth_address") == ADDR
    assert stored_fields(store, edited) == {"access_token": "acc-1", "refresh_token": "ref-1"}
    with pytest.raises(CredentialError, match="missing secret"):
        save_connection(config, store, spec(Venue.TANX, name="wallet", eth_address=ADDR), {},
                        replace_existing=True, clear=["access_token", "refresh_token"])
    assert stored_fields(store, edited) == {"access_token": "acc-1", "refresh_token": "ref-1"}  # unchanged

    delete_connection(config, store, "wallet")
    assert "wallet" not in ConfigStore()
    assert keyring.get_password("blotter", "wallet/access_token") is None
    assert keyring.get_password("blotter", "wallet/refresh_token") is None


@pytest.mark.usefixtures("real_keyring")
def test_a_failed_config_write_leaves_no_secret_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    config, store = ConfigStore(), KeyringCredentialStore()

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(config, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_connection(config, store, spec(Venue.AUTOSHARES, name="as1", username="u"),
                        {"app_key": "k-1", "password": "pw-1"})
    assert keyring.get_password("blotter", "as1/password") is None


def test_no_keyring_refuses_and_session_only_keeps_secrets_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    try:
        config = ConfigStore()
        store = CachedCredentialStore(KeyringCredentialStore())
        with pytest.raises(KeyringUnavailable, match="no usable keyring"):
            store.check()
        with pytest.raises(KeyringUnavailable):
            save_connection(config, store, spec(Venue.TANX, name="w"), {"private_key": KEY})
        assert "w" not in config
        saved = save_connection(config, store, spec(Venue.TANX, name="w"), {"private_key": KEY}, session_only=True)
        assert store.is_session_only("w") and store.get("w", "private_key") == KEY
        assert saved.name in ConfigStore() and KEY[2:] not in config.path.read_text()
        with pytest.raises(CredentialError, match="in the window"):  # only the GUI's store can do that
            save_connection(config, MemoryCredentialStore(), spec(Venue.TANX, name="w2"), {"private_key": KEY},
                            session_only=True)
        delete_connection(config, store, "w")  # nothing in a keyring to delete: fine
        assert store.get("w", "private_key") is None and not store.is_session_only("w")
    finally:
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
        keyring.core.init_backend()


def _tanx_scenario(orders: int = 2) -> dict[str, Any]:
    return {"tanx": {
        "wallets": [{"name": "Desk", "private_key": KEY}], "access_ttl_s": 900, "refresh_ttl_s": 3600,
        "orders": [{"id": i, "wallet": ADDR, "market": "btcusdc", "side": "buy", "ord_type": "limit",
                    "price": "60000", "origin_volume": "0.5", "executed_volume": "0", "state": "wait",
                    "created_at": "2026-01-02T10:00:00+00:00"} for i in range(1, orders + 1)],
    }}


async def test_probe_lists_accounts_and_hands_back_rotated_tokens(serve: Any) -> None:
    sims, urls = serve(_tanx_scenario())
    sim = sims["tanx"]
    access, refresh = sim.issue_tokens(ADDR)
    sim.expire_access_tokens()
    result = await probe_connection(spec(Venue.TANX, url=urls["tanx"], eth_address=ADDR),
                                    {"access_token": access, "refresh_token": refresh})
    assert [a.account_id for a in result.accounts] == [ADDR]
    assert set(result.rotated) == {"access_token", "refresh_token"}
    assert result.rotated["refresh_token"] != refresh


async def test_rotated_tokens_are_written_back_to_the_store(serve: Any) -> None:
    sims, urls = serve(_tanx_scenario())
    sim = sims["tanx"]
    access, refresh = sim.issue_tokens(ADDR)
    store = MemoryCredentialStore({("w", "access_token"): access, ("w", "refresh_token"): refresh})
    service = BlotterService([spec(Venue.TANX, name="w", url=urls["tanx"], eth_address=ADDR)], store)
    try:
        assert len((await service.open_orders()).orders) == 2
        sim.expire_access_tokens()
        assert len((await service.open_orders()).orders) == 2
        for _ in range(100):  # the write runs in a worker thread
            if store.get("w", "refresh_token") != refresh:
                break
            await asyncio.sleep(0.01)
        new_refresh = store.get("w", "refresh_token")
        assert new_refresh not in (None, refresh)
        assert store.get("w", "access_token") != access
        assert len(sim.requests_matching("POST", "refresh")) == 1
    finally:
        await service.aclose()


async def test_connections_come_and_go_while_running(serve: Any) -> None:
    sims, urls = serve(_tanx_scenario(orders=3))
    store = MemoryCredentialStore({("w", "private_key"): KEY})
    service = BlotterService([], store, reconcile_timeout_s=5)
    service.coordinator._poll_initial_s = 0.02
    scheduler = RefreshScheduler(service, interval_s=300)
    events: list[Any] = []
    scheduler.subscribe(events.append)
    try:
        scheduler.start()
        wallet = spec(Venue.TANX, name="w", url=urls["tanx"])
        service.set_connection(wallet)
        scheduler.add_connection("w")
        for _ in range(300):
            if any(e.phase is RefreshPhase.UPDATED for e in events):
                break
            await asyncio.sleep(0.01)
        updated = next(e for e in events if e.phase is RefreshPhase.UPDATED)
        assert updated.diff is not None and len(updated.diff.added) == 3

        # a replaced connection: the cancel in flight finishes on its adapter, new work gets a new one
        old = service.adapter("w")
        hold = sims["tanx"].add_fault({"action": "hold", "method": "POST", "path": "/orders/cancel/"})
        cancel = asyncio.ensure_future(service.cancel([OrderKey("w", ADDR, "1")], Provenance.CLI))
        for _ in range(300):
            if hold.hits:
                break
            await asyncio.sleep(0.01)
        service.set_connection(ConnectionSpec(name="w", venue=Venue.TANX, base_url=urls["tanx"], read_only=True))
        assert service.adapter("w") is not old and service.is_read_only("w")
        hold.release()
        [result] = await cancel
        assert result.outcome.value == "cancelled"

        await scheduler.remove_connection("w")
        service.remove_connection("w")
        assert "w" not in service.specs and scheduler.connections == []
        with pytest.raises(ConfigError, match="unknown connection"):
            service.adapter("w")
    finally:
        await scheduler.aclose()
        await service.aclose()
