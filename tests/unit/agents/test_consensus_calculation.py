"""The coordinator's consensus and learning, against hand computations:
confidence-and-weight averaging, freshness (no stale answer: "no opinion"),
the agents named, Hedge moving weight to the agent that earns, and the
weight bounds holding whatever the rewards."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantumtrader.agents.coordinator import Coordinator, CoordinatorConfig, bounded_weights
from quantumtrader.agents.messages import Proposal

MS = 1_000_000
AGENTS = ["order_flow", "liquidity", "tape", "footprint"]


def _p(agent: str, probs: tuple[float, float, float], conf: float = 1.0, decision: int = 1) -> Proposal:
    return Proposal(agent, 1, decision, 0, probs, conf)


def test_consensus_is_the_weight_and_confidence_average() -> None:
    c = Coordinator(AGENTS[:2], CoordinatorConfig(min_weight=0.0, max_weight=1.0))
    c.propose(_p("order_flow", (0.1, 0.1, 0.8), conf=1.0), 0)
    c.propose(_p("liquidity", (0.6, 0.2, 0.2), conf=0.5), 0)
    out = c.consensus(1, 1, 0, 10 * MS)
    # weights 0.5 / 0.5; masses 0.5 and 0.25
    want = tuple((0.5 * a + 0.25 * b) / 0.75 for a, b in zip((0.1, 0.1, 0.8), (0.6, 0.2, 0.2), strict=True))
    assert out.probabilities == pytest.approx(want)
    assert set(out.weights) == {"order_flow", "liquidity"} and out.ages_ns == {"order_flow": 10 * MS,
                                                                              "liquidity": 10 * MS}


def test_stale_or_missing_proposals_give_no_opinion() -> None:
    c = Coordinator(AGENTS, CoordinatorConfig(freshness_ms=100))
    c.propose(_p("tape", (0.2, 0.2, 0.6)), 0)
    c.propose(_p("footprint", (0.3, 0.3, 0.4), decision=2), 50 * MS)
    late = c.consensus(1, 1, 0, 150 * MS)
    assert late.probabilities is None and late.weights == {}
    other = c.consensus(1, 2, 0, 120 * MS)
    assert other.probabilities == pytest.approx((0.3, 0.3, 0.4)) and list(other.weights) == ["footprint"]
    c.propose(_p("order_flow", (0.2, 0.2, 0.6), conf=0.0, decision=3), 0)
    assert c.consensus(1, 3, 0, 1).probabilities is None  # zero confidence is no opinion


def test_hedge_moves_weight_to_the_agent_that_earns() -> None:
    c = Coordinator(AGENTS, CoordinatorConfig(learning_rate=0.5, share=0.0))
    assert c.weights == pytest.approx({a: 0.25 for a in AGENTS})
    for _ in range(20):
        c.reward({"order_flow": 1.0, "liquidity": -0.5, "tape": 0.0, "footprint": -0.5})
    assert max(c.weights, key=c.weights.get) == "order_flow"
    assert c.weights["order_flow"] == pytest.approx(0.6)          # held at max_weight
    assert min(c.weights.values()) == pytest.approx(0.05)         # no agent vanishes
    assert sum(c.weights.values()) == pytest.approx(1.0)
    same = Coordinator(AGENTS)
    same.reward({a: 0.3 for a in AGENTS})
    assert same.weights == pytest.approx({a: 0.25 for a in AGENTS})


def test_fixed_share_returns_a_streak_of_luck_toward_uniform() -> None:
    """Hedge with a share: after one agent's streak, rewards that no longer
    tell the agents apart let the weights drift back toward uniform
    (by ``(1 - share)`` per step, hand computed), while without a share
    they stay where the streak left them."""
    keep, forget = (Coordinator(AGENTS, CoordinatorConfig(learning_rate=0.1, share=s)) for s in (0.0, 0.05))
    for c in (keep, forget):
        for _ in range(10):
            c.reward({"order_flow": 1.0, "liquidity": 0.0, "tape": 0.0, "footprint": 0.0})
    lead = forget.weights["order_flow"] - 0.25
    assert keep.weights["order_flow"] > forget.weights["order_flow"] > 0.3
    before = dict(keep.weights)
    for c in (keep, forget):
        for _ in range(40):
            c.reward({a: 0.0 for a in AGENTS})
    assert keep.weights == pytest.approx(before)
    assert forget.weights["order_flow"] - 0.25 == pytest.approx(lead * 0.95**40, rel=1e-9)
    assert sum(forget.weights.values()) == pytest.approx(1.0)


def test_liveness_and_unknown_agents() -> None:
    c = Coordinator(AGENTS, CoordinatorConfig(heartbeat_timeout_s=1.0))
    c.heartbeat("tape", 0)
    c.propose(_p("liquidity", (0.2, 0.6, 0.2)), 500 * MS)
    c.propose(_p("stranger", (0.2, 0.6, 0.2)), 500 * MS)
    assert c.alive(900 * MS) == {"tape", "liquidity"}
    assert c.alive(1200 * MS) == {"liquidity"}
    assert c.unknown_agents == 1


@given(st.dictionaries(st.sampled_from(AGENTS), st.floats(-50, 50), min_size=1))
def test_weights_stay_bounded(rewards: dict[str, float]) -> None:
    c = Coordinator(AGENTS)
    for _ in range(5):
        c.reward(rewards)
    w = c.weights
    assert sum(w.values()) == pytest.approx(1.0)
    assert all(0.05 - 1e-9 <= v <= 0.6 + 1e-9 for v in w.values())


def test_bounded_weights_projection() -> None:
    w = bounded_weights({"a": 100.0, "b": 1.0, "c": 0.0}, 0.1, 0.7)
    assert w == pytest.approx({"a": 0.7, "b": 0.2, "c": 0.1})
    assert math.isclose(sum(bounded_weights({"a": 0.0, "b": 0.0}, 0.1, 0.9).values()), 1.0)
    with pytest.raises(ValueError):
        CoordinatorConfig(min_weight=0.5, max_weight=0.4)
