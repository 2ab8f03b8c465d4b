"""Scenario files: the shipped ones load, the demo is what the product promises, bad input is explained."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from blotter.cli import main
from blotter.sim.demo import demo_scenario
from blotter.sim.runner import SimSet, load_scenario


def test_every_shipped_scenario_loads() -> None:
    shipped = [p for p in files("blotter.sim").joinpath("scenarios").iterdir() if p.name.endswith(".json")]
    assert shipped
    for path in shipped:
        sims = SimSet.from_scenario(json.loads(path.read_text()))
        assert set(sims.sims) == {"autoshares", "snaptrade", "tanx"}


def test_demo_is_deterministic_and_big_enough() -> None:
    def shape(scenario: dict) -> list:  # times are relative to now; everything else is fixed by the seed
        return [(v, sorted(k for k in o if "date" not in k and "time" not in k and k != "created_at"),
                 o.get("symbol") or o.get("market"), o.get("cancel"))
                for v in ("autoshares", "snaptrade", "tanx") for o in scenario[v]["orders"]]

    assert shape(demo_scenario(7)) == shape(demo_scenario(7)) != shape(demo_scenario(8))
    scenario = demo_scenario(7)
    open_states = {"autoshares": {"New", "PartiallyFilled", "PendingNew", "AcceptedForBidding"},
                   "snaptrade": {"ACCEPTED", "PENDING", "PARTIAL", "QUEUED", "TRIGGERED", "ACTIVATED"},
                   "tanx": {"wait", "pending"}}
    status_key = {"autoshares": "status", "snaptrade": "status", "tanx": "state"}
    counts = {v: sum(1 for o in scenario[v]["orders"] if o.get(status_key[v], "New") in open_states[v])
              for v in open_states}
    assert all(n >= 50 for n in counts.values()), counts
    assert 250 <= sum(counts.values()) <= 600, counts
    modes = {(o.get("cancel") or {}).get("mode", "accept") for v in open_states for o in scenario[v]["orders"]}
    assert {"accept", "fill", "reject", "never"} <= modes


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ({"nasdaq": {}}, "unknown sections: nasdaq"),
        ({"tanx": {"wallets": [{"private_key": "0x" + "11" * 32}],
                   "orders": [{"id": 1, "wallet": "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "market": "btcusdc",
                               "side": "buy", "price": "1", "origin_volume": "1", "cancel": {"mode": "explode"}}]}},
         "cancel mode"),
        ({"tanx": {"wallets": [], "faults": [{"action": "meteor"}]}}, "fault action"),
    ],
)
def test_bad_scenarios_are_explained(scenario: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        SimSet.from_scenario(scenario)


def test_unreadable_scenario_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="not found"):
        load_scenario(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_scenario(broken)
    assert main(["sim", "serve", "--scenario", str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_scenario_command_writes_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    assert main(["sim", "scenario", "-o", str(out)]) == 0
    assert set(load_scenario(out)) >= {"autoshares", "snaptrade", "tanx"}
