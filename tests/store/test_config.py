from __future__ import annotations

import stat

import pytest

from blotter.core import ConfigError, ConnectionSpec, Venue
from blotter.store import paths
from blotter.store.config import ConfigStore


def test_round_trip_private_file_under_blotter_home(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path))
    store = ConfigStore()
    store.add(ConnectionSpec("as1", Venue.AUTOSHARES, "https://api.autoshares.dev/",
                             {"username": "bob", "cancel_mode": "sync"}, read_only=True))
    store.add(ConnectionSpec("tx", Venue.TANX, "http://127.0.0.1:9000", {}))
    assert paths.config_file() == tmp_path / "config" / "connections.toml"
    mode = stat.S_IMODE(paths.config_file().stat().st_mode)
    assert mode == 0o600
    again = ConfigStore()
    assert [s.name for s in again] == ["as1", "tx"]
    spec = again.get("as1")
    assert spec.base_url == "https://api.autoshares.dev" and spec.read_only
    assert spec.options == {"cancel_mode": "sync", "username": "bob"}
    again.remove("tx")
    assert "tx" not in ConfigStore()


def test_clear_errors() -> None:
    store = ConfigStore()
    with pytest.raises(ConfigError, match=r"unknown connection 'nope' \(known: none configured\)"):
        store.get("nope")
    with pytest.raises(ConfigError, match="https is required"):
        store.add(ConnectionSpec("x", Venue.TANX, "http://api.tanx.fi"))
    store.add(ConnectionSpec("x", Venue.TANX, "https://api.tanx.fi"))
    with pytest.raises(ConfigError, match="already exists"):
        store.add(ConnectionSpec("x", Venue.TANX, "https://api.tanx.fi"))


def test_broken_file_is_reported_not_crashed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path))
    paths.config_file().parent.mkdir(parents=True)
    paths.config_file().write_text("[connections.x\nvenue=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        ConfigStore()
    paths.config_file().write_text('[connections.x]\nvenue = "nasdaq"\nbase_url = "https://x.y"\n')
    with pytest.raises(ConfigError, match="unknown venue 'nasdaq'"):
        ConfigStore()
