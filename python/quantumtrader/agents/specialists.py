"""The specialist agents: each reads a stated subset of the engine's 77
features (``features/schema.py`` QT77_NAMES; an agent asking for a feature
the engine does not produce is refused with its name) and proposes sell /
hold / buy probabilities with a confidence.

Policy (:class:`OnlinePolicy`): a softmax over a linear score of the
agent's features, standardised online (running mean and variance, Welford;
a NaN feature counts as its mean).  Learning is full-information: once a
decision's forward return ``r`` over the agent's horizon is known, every
action's reward is known too (buy ``r - cost``, sell ``-r - cost``, hold 0),
each divided by the running root-mean-square of the returns learned from
(so rewards are in units of the market's own move over the horizon: a
5-minute return of a future is ~1e-3, and raw it would make every step a
thousand times too small to ever lean), clipped to +-5; the weights follow
the gradient of the expected reward ``sum_k p_k R_k`` with a step
``learning_rate / sqrt(1 + updates/100)`` and an L2 pull toward zero.
Exploration (a floor under every probability) only when enabled; off by
default, as in live trading.

State (``save`` / ``load``): JSON with a format version, the agent's name
and feature names, the policy's numbers; written aside and renamed into
place; a corrupt or foreign file is refused in one line, never guessed."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quantumtrader.features.schema import QT77_NAMES
from quantumtrader.output_path import atomic_output

__all__ = [
    "SPECIALISTS", "AgentConfigError", "AgentStateError", "OnlinePolicy", "SpecialistSpec", "feature_index",
]

STATE_VERSION = 2
READS_VERSIONS = (1, 2)  # 1: before the return scale (it restarts from the next outcome)


class AgentConfigError(ValueError):
    """An agent that cannot run against this engine (one line naming the feature)."""


class AgentStateError(ValueError):
    """A saved agent state that cannot be used (one line naming the file)."""


@dataclass(frozen=True)
class SpecialistSpec:
    name: str
    features: tuple[str, ...]
    horizon_s: float = 300.0


SPECIALISTS: dict[str, SpecialistSpec] = {s.name: s for s in (
    SpecialistSpec("order_flow", ("order_flow_imbalance_10", "order_flow_imbalance_20",
                                  "order_flow_imbalance_50", "order_flow_imbalance_100", "signed_volume",
                                  "cumulative_signed_volume", "ofi_10", "ofi_50", "ofi_100")),
    SpecialistSpec("liquidity", ("spread", "spread_ticks", "microprice_dev", "book_imbalance_1",
                                 "book_imbalance_5", "book_imbalance_10", "depth_bid_5", "depth_ask_5",
                                 "book_update_rate")),
    SpecialistSpec("tape", ("trade_intensity", "trade_intensity_ratio", "is_buyer_aggressor",
                            "is_seller_aggressor", "volume_zscore_20", "volume_zscore_50", "returns_1",
                            "returns_5", "returns_20")),
    SpecialistSpec("footprint", ("agent_turnover", "top_buyers_count", "top_sellers_count", "buyer_changed",
                                 "seller_changed", *(f"top_buyer_{i}_active" for i in range(5)),
                                 *(f"top_seller_{i}_active" for i in range(5)))),
)}


def feature_index(names: Sequence[str], engine: Sequence[str] = QT77_NAMES,
                  agent: str = "agent") -> np.ndarray:
    """Positions of ``names`` in the engine's vector; AgentConfigError names
    the first feature the engine does not produce."""
    where = {n: i for i, n in enumerate(engine)}
    for n in names:
        if n not in where:
            raise AgentConfigError(f"agent {agent}: feature {n!r} is not one the engine produces "
                                   f"(qt-features: {len(engine)} names)")
    if len(set(names)) != len(names):
        raise AgentConfigError(f"agent {agent}: a feature is listed twice")
    return np.array([where[n] for n in names], dtype=np.intp)


class OnlinePolicy:
    """Softmax over linear scores of standardised features (see the module doc)."""

    def __init__(self, spec: SpecialistSpec, *, learning_rate: float = 0.05, cost: float = 0.0,
                 exploration: float = 0.0, l2: float = 0.01, engine: Sequence[str] = QT77_NAMES) -> None:
        if not 0.0 <= exploration < 1.0 / 3:
            raise AgentConfigError(f"agent {spec.name}: exploration must be in [0, 1/3) "
                                   f"(got {exploration!r})")
        self.spec = spec
        self.index = feature_index(spec.features, engine, spec.name)
        k = len(self.index)
        self.learning_rate, self.cost, self.exploration, self.l2 = learning_rate, cost, exploration, l2
        self.weights = np.zeros((3, k + 1))  # sell, hold, buy; last column the bias
        self.n = 0
        self.mean = np.zeros(k)
        self.m2 = np.zeros(k)
        self.updates = 0
        self.return_ms = 0.0  # running mean of squared forward returns (the reward scale)
        self.returns = 0

    def _x(self, features77: np.ndarray, learn_scale: bool) -> np.ndarray:
        x = np.asarray(features77, dtype=np.float64)[self.index]
        x = np.where(np.isfinite(x), x, self.mean)
        if learn_scale:
            self.n += 1
            d = x - self.mean
            self.mean += d / self.n
            self.m2 += d * (x - self.mean)
        sd = np.sqrt(self.m2 / max(self.n - 1, 1))
        z = np.where(sd > 0, (x - self.mean) / np.where(sd > 0, sd, 1.0), 0.0)
        return np.append(np.clip(z, -8.0, 8.0), 1.0)

    def propose(self, features77: np.ndarray) -> tuple[tuple[float, float, float], float]:
        """(sell, hold, buy) probabilities and a confidence (lead of the best over the runner-up)."""
        s = self.weights @ self._x(features77, learn_scale=True)
        p = np.exp(s - s.max())
        p /= p.sum()
        if self.exploration:
            p = self.exploration + (1 - 3 * self.exploration) * p
        top = np.sort(p)
        return (float(p[0]), float(p[1]), float(p[2])), float(top[2] - top[1])

    def learn(self, features77: np.ndarray, forward_return: float) -> None:
        """One full-information step from the realized forward return."""
        if not math.isfinite(forward_return):
            return
        x = self._x(features77, learn_scale=False)
        s = self.weights @ x
        p = np.exp(s - s.max())
        p /= p.sum()
        self.returns += 1
        self.return_ms += (forward_return * forward_return - self.return_ms) / self.returns
        scale = math.sqrt(self.return_ms) or 1.0
        rewards = np.clip(np.array([-forward_return - self.cost, 0.0, forward_return - self.cost]) / scale,
                          -5.0, 5.0)
        grad = p * (rewards - p @ rewards)  # d/ds_k of sum_j p_j R_j
        # a step that shrinks with experience, and a pull toward zero, so noise
        # alone does not walk the weights to a strong lean
        lr = self.learning_rate / math.sqrt(1.0 + self.updates / 100.0)
        self.weights *= 1.0 - lr * self.l2
        self.weights += lr * np.outer(grad, x)
        self.updates += 1

    # ------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        return {"format": "qt-agent-state", "version": STATE_VERSION, "agent": self.spec.name,
                "features": list(self.spec.features), "weights": self.weights.tolist(), "n": self.n,
                "mean": self.mean.tolist(), "m2": self.m2.tolist(), "updates": self.updates,
                "return_ms": self.return_ms, "returns": self.returns}

    def save(self, path: str | os.PathLike[str]) -> None:
        with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state(), f)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Restore a saved state of this agent; AgentStateError for a corrupt,
        foreign (another agent or feature list) or newer file."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise AgentStateError(f"{p}: not a readable agent state ({e})") from None
        if not isinstance(data, dict) or data.get("format") != "qt-agent-state":
            raise AgentStateError(f"{p}: not an agent state file")
        if data.get("version") not in READS_VERSIONS:
            raise AgentStateError(f"{p}: agent state version {data.get('version')!r}, this program reads "
                                  f"{', '.join(map(str, READS_VERSIONS))}")
        if data.get("agent") != self.spec.name or data.get("features") != list(self.spec.features):
            raise AgentStateError(f"{p}: state of agent {data.get('agent')!r} with other features, not "
                                  f"{self.spec.name!r}")
        try:
            w, mean, m2 = (np.asarray(data[k], dtype=np.float64) for k in ("weights", "mean", "m2"))
            n, updates = int(data["n"]), int(data["updates"])
            return_ms, returns = float(data.get("return_ms", 0.0)), int(data.get("returns", 0))
        except (KeyError, TypeError, ValueError) as e:
            raise AgentStateError(f"{p}: damaged agent state ({e})") from None
        k = len(self.index)
        if (w.shape != (3, k + 1) or mean.shape != (k,) or m2.shape != (k,) or not np.isfinite(w).all()
                or not (math.isfinite(return_ms) and return_ms >= 0 and returns >= 0)):
            raise AgentStateError(f"{p}: damaged agent state (shapes or values)")
        self.weights, self.mean, self.m2, self.n, self.updates = w, mean, m2, n, updates
        self.return_ms, self.returns = return_ms, returns
