"""The specialists start only against features the engine produces, their
state survives a restart (and a corrupt or foreign state is refused), and
their online learning finds the feature that carries a planted signal and
nothing where there is none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantumtrader.agents.specialists import (
    SPECIALISTS,
    AgentConfigError,
    AgentStateError,
    OnlinePolicy,
    SpecialistSpec,
    feature_index,
)
from quantumtrader.features.schema import QT77_NAMES


def test_every_specialist_reads_engine_features() -> None:
    assert set(SPECIALISTS) >= {"order_flow", "liquidity", "tape", "footprint"}
    for spec in SPECIALISTS.values():
        idx = feature_index(spec.features, agent=spec.name)
        assert [QT77_NAMES[i] for i in idx] == list(spec.features)


def test_a_feature_the_engine_does_not_produce_is_refused_by_name() -> None:
    with pytest.raises(AgentConfigError, match="'imbalance_magic'"):
        OnlinePolicy(SpecialistSpec("bad", ("spread", "imbalance_magic")))
    with pytest.raises(AgentConfigError, match="'spread'"):  # a qt65 engine has no book features
        OnlinePolicy(SPECIALISTS["liquidity"], engine=QT77_NAMES[:65])


def _stream(rng: np.random.Generator, n: int, signal: float) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 77))
    col = QT77_NAMES.index("order_flow_imbalance_20")
    r = signal * x[:, col] + rng.normal(size=n)
    return x, r


@pytest.mark.parametrize("signal", [1.0, 0.0])
def test_learning_follows_the_planted_signal(signal: float) -> None:
    rng = np.random.default_rng(7)
    policy = OnlinePolicy(SPECIALISTS["order_flow"], learning_rate=0.05)
    x, r = _stream(rng, 3000, signal)
    for xi, ri in zip(x, r, strict=True):
        policy.propose(xi)
        policy.learn(xi, float(ri))
    col = QT77_NAMES.index("order_flow_imbalance_20")
    up, down = np.zeros(77), np.zeros(77)
    up[col], down[col] = 2.0, -2.0
    p_up, _ = policy.propose(up)
    p_down, _ = policy.propose(down)
    if signal:
        assert p_up[2] > 0.9 and p_down[0] > 0.9  # buy when the imbalance is high, sell when low
    else:
        assert abs(p_up[2] - p_down[2]) < 0.3  # no planted signal: no strong lean either way


def test_state_round_trip_and_refusals(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = OnlinePolicy(SPECIALISTS["tape"])
    for xi, ri in zip(*_stream(rng, 200, 1.0), strict=True):
        a.propose(xi)
        a.learn(xi, float(ri))
    path = tmp_path / "tape.json"
    a.save(path)
    b = OnlinePolicy(SPECIALISTS["tape"])
    b.load(path)
    probe = rng.normal(size=77)
    assert b.propose(probe) == a.propose(probe)
    path.write_text("{not json")
    with pytest.raises(AgentStateError, match="not a readable agent state"):
        b.load(path)
    a.save(tmp_path / "other.json")
    with pytest.raises(AgentStateError, match="agent 'tape'"):
        OnlinePolicy(SPECIALISTS["footprint"]).load(tmp_path / "other.json")


def test_an_agent_process_takes_the_sessions_policy_settings() -> None:
    """The supervisor hands [agents] learning_rate, cost and exploration to each
    agent process, whose policy is then the one a thread of the node would run."""
    from quantumtrader.agents.supervisor import Supervisor, _parse, agent_policy

    sup = Supervisor(["tape"], "ipc:///tmp/f", "ipc:///tmp/p",
                     policy={"learning_rate": 0.02, "cost": 0.0003, "exploration": 0.1})
    policy = agent_policy(_parse(sup.command("tape")[3:]))
    assert (policy.spec.name, policy.learning_rate, policy.cost, policy.exploration) == ("tape", 0.02, 0.0003,
                                                                                         0.1)
    plain = agent_policy(_parse(Supervisor(["tape"], "ipc:///tmp/f", "ipc:///tmp/p").command("tape")[3:]))
    assert (plain.learning_rate, plain.cost, plain.exploration) == (0.05, 0.0, 0.0)  # OnlinePolicy's own
    with pytest.raises(ValueError, match="unknown l2"):
        Supervisor(["tape"], "ipc:///tmp/f", "ipc:///tmp/p", policy={"l2": 0.1})
