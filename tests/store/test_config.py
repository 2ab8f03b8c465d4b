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


# ---------------------------------------------------------------------- settings fail closed (M3, M6, M7)
CONN = '[connections.as1]\nvenue = "autoshares"\nbase_url = "https://api.autoshares.dev"\n'


def _write(tmp_path, monkeypatch, text: str) -> None:
    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path))
    paths.config_file().parent.mkdir(parents=True, exist_ok=True)
    paths.config_file().write_text(text)


@pytest.mark.parametrize("value", ['"true"', '"yes"', '"True"', "1", '"false"', "0", '""', "[]", "{}"])
def test_app_read_only_that_is_not_a_boolean_fails_closed(tmp_path, monkeypatch, value: str) -> None:
    _write(tmp_path, monkeypatch, f"[app]\nread_only = {value}\n" + CONN)
    with pytest.raises(ConfigError, match=r"\[app\] read_only must be true or false") as err:
        ConfigStore(strict=True)
    assert str(paths.config_file()) in str(err.value) and "\n" not in str(err.value)
    lenient = ConfigStore()  # the window: read-only, the problem listed
    assert lenient.read_only is True
    assert len(lenient.problems) == 1 and "[app] read_only" in lenient.problems[0]
    lenient.set_read_only(False)  # an explicit choice in Settings writes a real boolean
    assert ConfigStore(strict=True).read_only is False


@pytest.mark.parametrize(("text", "expected"), [("", False), ("read_only = false\n", False),
                                                ("read_only = true\n", True)])
def test_app_read_only_booleans(tmp_path, monkeypatch, text: str, expected: bool) -> None:
    _write(tmp_path, monkeypatch, f"[app]\n{text}" + CONN)
    store = ConfigStore(strict=True)
    assert store.read_only is expected and store.problems == []


def test_app_that_is_not_a_table_fails_closed(tmp_path, monkeypatch) -> None:
    _write(tmp_path, monkeypatch, "app = 'read only please'\n" + CONN)
    with pytest.raises(ConfigError, match=r"\[app\] must be a table"):
        ConfigStore(strict=True)
    assert ConfigStore().read_only is True


@pytest.mark.parametrize("value", ['"false"', '"true"', '"no"', "0", "1"])
def test_connection_read_only_that_is_not_a_boolean_fails_closed(tmp_path, monkeypatch, value: str) -> None:
    _write(tmp_path, monkeypatch, CONN + f"read_only = {value}\n")
    with pytest.raises(ConfigError, match=r"connection 'as1' in .*: read_only must be true or false"):
        ConfigStore(strict=True)
    lenient = ConfigStore()
    assert lenient.get("as1").read_only is True and len(lenient.problems) == 1
    _write(tmp_path, monkeypatch, CONN + "read_only = false\n")
    assert ConfigStore(strict=True).get("as1").read_only is False


@pytest.mark.parametrize("value", ["5", "'abc'", "[1, 2]", "true"])
def test_connections_that_is_not_a_table_is_one_clear_error(tmp_path, monkeypatch, value: str) -> None:
    _write(tmp_path, monkeypatch, f"connections = {value}\n")
    for strict in (True, False):
        with pytest.raises(ConfigError, match=r"connections must be a table of \[connections.NAME\] entries"):
            ConfigStore(strict=strict)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "601", "1e300", '"10"', "true"])
def test_timeout_s_is_validated(tmp_path, monkeypatch, value: str) -> None:
    _write(tmp_path, monkeypatch, CONN + f"timeout_s = {value}\n")
    with pytest.raises(ConfigError, match=r"connection 'as1' .*: timeout_s must be a number of seconds above 0"):
        ConfigStore()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e-300", "0.001", "1e6", '"5"', "true"])
def test_rate_limit_per_s_is_validated(tmp_path, monkeypatch, value: str) -> None:
    _write(tmp_path, monkeypatch, CONN + f"rate_limit_per_s = {value}\n")
    with pytest.raises(ConfigError, match=r"rate_limit_per_s must be 0 \(no limit\) or a number"):
        ConfigStore()


def test_sane_numbers_load(tmp_path, monkeypatch) -> None:
    _write(tmp_path, monkeypatch, CONN + "timeout_s = 30\nrate_limit_per_s = 0.5\n")
    spec = ConfigStore(strict=True).get("as1")
    assert (spec.timeout_s, spec.rate_limit_per_s) == (30.0, 0.5)
    with pytest.raises(ConfigError, match="timeout"):
        ConfigStore().add(ConnectionSpec("x", Venue.TANX, "https://api.tanx.fi", timeout_s=float("nan")))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e12", "36501", '"90"', "true"])
def test_retention_days_is_validated(tmp_path, monkeypatch, value: str) -> None:
    _write(tmp_path, monkeypatch, f"[audit]\nretention_days = {value}\n")
    store = ConfigStore()
    with pytest.raises(ConfigError, match=r"\[audit\] retention_days must be a number of days from 0"):
        store.audit_retention_days  # noqa: B018
    with pytest.raises(ConfigError):
        store.set_audit_retention_days(float("nan"))


@pytest.mark.parametrize(("value", "days"), [("0", 0.0), ("90", 90.0), ("0.5", 0.5), ("36500", 36500.0)])
def test_retention_days_in_range(tmp_path, monkeypatch, value: str, days: float) -> None:
    _write(tmp_path, monkeypatch, f"[audit]\nretention_days = {value}\n")
    assert ConfigStore().audit_retention_days == days


def test_directories_blotter_creates_are_private_parents_too(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path / "new-home"))
    tmp_path.chmod(0o755)
    created = paths.ensure_private_dir(paths.log_dir())
    for directory in (tmp_path / "new-home", tmp_path / "new-home" / "data", created):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    ConfigStore().add(ConnectionSpec("x", Venue.TANX, "https://api.tanx.fi"))
    assert stat.S_IMODE(paths.config_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # an existing parent is left alone


def test_a_full_disk_names_the_config_file(tmp_path, monkeypatch) -> None:
    import errno

    import tomli_w

    monkeypatch.setenv("BLOTTER_HOME", str(tmp_path))

    def full(*_args, **_kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tomli_w, "dump", full)
    with pytest.raises(OSError) as err:
        ConfigStore().add(ConnectionSpec("x", Venue.TANX, "https://api.tanx.fi"))
    assert err.value.filename == str(paths.config_file()) and err.value.strerror == "No space left on device"
    assert [p.name for p in paths.config_dir().iterdir()] == []  # no temporary file left behind
