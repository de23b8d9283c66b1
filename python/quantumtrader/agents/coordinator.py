"""The coordinator: fresh proposals in, one explained consensus out, and the
trust in each agent learned from outcomes.

- Consensus of a decision: the proposals for that (instrument, decision)
  younger than ``freshness_ms`` (by the coordinator's clock when asked), each
  weighted by its agent's weight times its own confidence:
  ``p = sum(w_a * c_a * p_a) / sum(w_a * c_a)``.  No fresh proposal, or a
  weighted mean confidence ``sum(w_a * c_a) / sum(w_a)`` below
  ``min_confidence`` (untrained agents answer near-uniform probabilities):
  ``probabilities = None`` ("no opinion": the signal trades the model alone),
  never an old answer.  The consensus names the
  agents that took part, their weights and the age of each proposal.
- Learning (Hedge / exponentiated weights): after a decision's outcome is
  known each agent that spoke gets a reward (its forward return net of
  costs, in the caller's units); ``w_a <- w_a * exp(learning_rate * r_a)``,
  then a ``share`` of the total goes back to the uniform weights (Fixed Share,
  Herbster & Warmuth): without it the weights are a sum of every past
  reward, so on a market with nothing to learn they drift like a random walk
  to the bounds (a 0.3-0.4 spread over five synthetic days at a step of 0.5);
  with it an old streak of luck fades in about ``1 / share`` outcomes and a
  change of regime is followed, while an agent that keeps earning keeps its
  lead.  Then the weights are normalised and held inside ``[min_weight,
  max_weight]`` (so no agent dominates or vanishes), the excess or shortfall
  shared out among the agents inside the bounds in proportion to their
  weights.  Agents that did not speak keep their weight before the
  normalisation.
- Liveness: a heartbeat or a proposal marks an agent alive; ``alive(now)``
  is the set heard from within ``heartbeat_timeout_s``.

Not thread-safe: the coordinator's loop owns it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from quantumtrader.agents.messages import Consensus, Proposal

__all__ = ["Coordinator", "CoordinatorConfig", "bounded_weights"]


@dataclass(frozen=True)
class CoordinatorConfig:
    learning_rate: float = 0.1
    share: float = 0.01
    min_weight: float = 0.05
    max_weight: float = 0.6
    freshness_ms: float = 500.0
    heartbeat_timeout_s: float = 1.0
    min_confidence: float = 0.05

    def __post_init__(self) -> None:
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError(f"learning_rate: must be > 0 (got {self.learning_rate!r})")
        if not 0 <= self.min_weight < self.max_weight <= 1:
            raise ValueError(f"min_weight, max_weight: need 0 <= min < max <= 1 "
                             f"(got {self.min_weight!r}, {self.max_weight!r})")
        if not 0 <= self.share < 1:
            raise ValueError(f"share: must be in [0, 1) (got {self.share!r})")
        if not (self.freshness_ms > 0 and self.heartbeat_timeout_s > 0):
            raise ValueError("freshness_ms and heartbeat_timeout_s must be > 0")
        if not 0 <= self.min_confidence < 1:
            raise ValueError(f"min_confidence: must be in [0, 1) (got {self.min_confidence!r})")


def bounded_weights(raw: Mapping[str, float], lo: float, hi: float) -> dict[str, float]:
    """``raw`` (>= 0) normalised to sum 1 with every weight in ``[lo, hi]``
    (as far as ``len * lo <= 1 <= len * hi`` allows): bound the violators
    of one side, share the rest among the others in proportion, repeat
    until none violates."""
    names = list(raw)
    if not names:
        return {}
    n = len(names)
    lo, hi = min(lo, 1.0 / n), max(hi, 1.0 / n)
    fixed: dict[str, float] = {}
    while True:
        free = [a for a in names if a not in fixed]
        left = 1.0 - sum(fixed.values())
        total = sum(max(raw[a], 0.0) for a in free)
        w = {a: (left * max(raw[a], 0.0) / total if total > 0 else left / len(free)) for a in free}
        low = [a for a in free if w[a] < lo - 1e-15]
        high = [a for a in free if w[a] > hi + 1e-15]
        if not low and not high:
            return {**fixed, **w}
        # one side at a time: capping the largest frees weight the others share,
        # which may lift a low one back inside (fixing both at once can overshoot)
        for a in high or low:
            fixed[a] = hi if high else lo


class Coordinator:
    def __init__(self, agents: Iterable[str], config: CoordinatorConfig | None = None) -> None:
        self.config = config or CoordinatorConfig()
        self.agents = list(dict.fromkeys(agents))
        if not self.agents:
            raise ValueError("a coordinator needs at least one agent")
        self.weights = bounded_weights({a: 1.0 for a in self.agents}, self.config.min_weight,
                                       self.config.max_weight)
        self._proposals: dict[tuple[int, int], dict[str, tuple[Proposal, int]]] = {}
        self._heard: dict[str, int] = {}
        self.unknown_agents = 0

    # ------------------------------------------------------------ input
    def propose(self, proposal: Proposal, now_ns: int) -> None:
        """A proposal received at ``now_ns`` (the coordinator's clock)."""
        if proposal.agent not in self.weights:
            self.unknown_agents += 1
            return
        self._heard[proposal.agent] = now_ns
        self._proposals.setdefault((proposal.instrument, proposal.decision_id), {})[proposal.agent] = (
            proposal, now_ns)

    def heartbeat(self, agent: str, now_ns: int) -> None:
        if agent in self.weights:
            self._heard[agent] = now_ns

    def alive(self, now_ns: int) -> set[str]:
        limit = self.config.heartbeat_timeout_s * 1e9
        return {a for a, t in self._heard.items() if now_ns - t <= limit}

    # ------------------------------------------------------------ output
    def consensus(self, instrument: int, decision_id: int, exch_ns: int, now_ns: int) -> Consensus:
        """The consensus of one decision from its fresh proposals (see the module doc)."""
        limit = self.config.freshness_ms * 1e6
        received = self.proposals(instrument, decision_id)
        # in the agents' fixed order, not the order the answers arrived in: the same
        # proposals give the same sums to the last bit (a backtest is repeatable)
        fresh = {a: received[a] for a in self.agents if a in received and now_ns - received[a][1] <= limit}
        mass = {a: self.weights[a] * p.confidence for a, (p, _) in fresh.items()}
        total = sum(mass.values())
        trust = sum(self.weights[a] for a in fresh)
        probs = None
        # agents that barely lean (untrained ones: near-uniform answers) are no
        # opinion: blended in, they would only pull the model toward uniform
        if total > 0 and total / trust >= self.config.min_confidence:
            probs = tuple(sum(mass[a] * fresh[a][0].probabilities[k] for a in fresh) / total
                          for k in range(3))
        return Consensus(instrument, decision_id, exch_ns, probs,  # type: ignore[arg-type]
                         {a: self.weights[a] for a in fresh}, {a: now_ns - t for a, (_, t) in fresh.items()},
                         sent_ns=now_ns)

    def proposals(self, instrument: int, decision_id: int) -> Mapping[str, tuple[Proposal, int]]:
        """The proposals received for a decision so far: agent -> (proposal, received at)."""
        return self._proposals.get((instrument, decision_id), {})

    def forget(self, instrument: int, decision_id: int) -> None:
        """Drop a decided decision's proposals (the caller keeps memory bounded)."""
        self._proposals.pop((instrument, decision_id), None)

    # ------------------------------------------------------------ learning
    def restore_weights(self, weights: Mapping[str, float]) -> None:
        """Weights learned in an earlier session (agents it does not know are
        ignored, agents it lacks start at the mean), projected into the bounds."""
        known = {a: float(w) for a, w in weights.items() if a in self.weights and math.isfinite(float(w))
                 and float(w) >= 0}
        mean = sum(known.values()) / len(known) if known else 1.0
        self.weights = bounded_weights({a: known.get(a, mean) for a in self.agents}, self.config.min_weight,
                                       self.config.max_weight)

    def reward(self, rewards: Mapping[str, float]) -> dict[str, float]:
        """Hedge step with each speaking agent's realized reward; returns the new weights."""
        eta = self.config.learning_rate
        raw = {}
        for a, w in self.weights.items():
            r = rewards.get(a)
            raw[a] = w * math.exp(eta * r) if r is not None and math.isfinite(r) else w
        total = sum(raw.values())
        if self.config.share and total > 0:
            share = self.config.share
            raw = {a: (1 - share) * w / total + share / len(raw) for a, w in raw.items()}
        self.weights = bounded_weights(raw, self.config.min_weight, self.config.max_weight)
        return dict(self.weights)
