"""State folders (agents/state.py): what loads, what is refused naming the
file and --fresh-agents, what is moved aside (never deleted) with fresh,
and an input folder left as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantumtrader.agents.specialists import SPECIALISTS, AgentStateError, OnlinePolicy
from quantumtrader.agents.state import load_states, load_weights, save_states, save_weights


def _policies() -> dict[str, OnlinePolicy]:
    return {n: OnlinePolicy(s) for n, s in SPECIALISTS.items()}


def test_round_trip_missing_and_newer(tmp_path: Path) -> None:
    a = _policies()
    a["tape"].updates = 7
    save_states(a, tmp_path / "s")
    save_weights({"tape": 0.4, "liquidity": 0.6}, tmp_path / "s")
    b = _policies()
    notes = load_states(b, tmp_path / "s")
    assert b["tape"].updates == 7 and all("loaded" in n for n in notes)
    assert load_weights(tmp_path / "s") == {"tape": 0.4, "liquidity": 0.6}
    assert all("starts fresh" in n for n in load_states(_policies(), tmp_path / "none"))
    newer = json.loads((tmp_path / "s" / "tape.json").read_text())
    newer["version"] = 99
    (tmp_path / "s" / "tape.json").write_text(json.dumps(newer))
    with pytest.raises(AgentStateError, match=r"tape\.json.*version 99.*--fresh-agents"):
        load_states(_policies(), tmp_path / "s")


def test_fresh_moves_aside_and_an_input_is_left_alone(tmp_path: Path) -> None:
    save_states(_policies(), tmp_path)
    (tmp_path / "footprint.json").write_text("{corrupt")
    (tmp_path / "coordinator.json").write_text("[]")
    with pytest.raises(AgentStateError, match="--fresh-agents"):
        load_weights(tmp_path)
    notes = load_states(_policies(), tmp_path, fresh=True, aside=False)  # an input: only read
    assert (tmp_path / "footprint.json").read_text() == "{corrupt"
    assert any("left as it is" in n for n in notes)
    notes = load_states(_policies(), tmp_path, fresh=True)
    assert not (tmp_path / "footprint.json").exists()
    [aside] = tmp_path.glob("footprint.json.corrupt-*")
    assert aside.read_text() == "{corrupt" and any(aside.name in n for n in notes)
    assert load_weights(tmp_path, fresh=True) is None
    assert len(list(tmp_path.glob("coordinator.json.corrupt-*"))) == 1
