"""What the agent team did in a session, for the dashboard and the report.

Per agent: proposals made (decisions it answered in time), outcomes scored,
and its hit rate: among the outcomes where the agent leaned
(``p_buy != p_sell``) and the forward return was not zero, the share where
the lean had the return's sign.  Over time: at every decision the
coordinator's weight of every agent and each agent's hit rate so far, in
market time (``exch_ns``), so the report can draw how trust moved.  Also the
consensus itself: decisions with an opinion, decisions with none (no agent
fresh), and the wait for the answers (published -> consensus formed).

``to_json`` gives plain numbers and lists (it goes into ``report.json``);
``merge`` joins the days of a backtest in market-time order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["AgentScore", "Scoreboard", "merge_scoreboards"]


@dataclass
class AgentScore:
    proposals: int = 0
    outcomes: int = 0
    directional: int = 0     # outcomes where the agent leaned and the return was not zero
    hits: int = 0            # ... and the lean had the return's sign

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.directional if self.directional else None


class Scoreboard:
    def __init__(self, agents: Iterable[str]) -> None:
        self.agents = list(agents)
        self.scores = {a: AgentScore() for a in self.agents}
        self.decisions = 0
        self.with_opinion = 0
        self.waits_ns: list[int] = []
        # (exch_ns, weight of each agent, hit rate of each agent so far or NaN)
        self.timeline: list[tuple[int, tuple[float, ...], tuple[float, ...]]] = []
        self.last: dict[str, Any] = {}

    def on_answer(self, exch_ns: int, weights: Mapping[str, float],
                  proposals: Mapping[str, tuple[float, float, float]],
                  probabilities: tuple[float, float, float] | None, waited_ns: int) -> None:
        """One decision: the coordinator's weights after it, the proposals that took part, the consensus."""
        self.decisions += 1
        self.with_opinion += probabilities is not None
        self.waits_ns.append(int(waited_ns))
        for a in proposals:
            if a in self.scores:
                self.scores[a].proposals += 1
        self.timeline.append((int(exch_ns), tuple(float(weights.get(a, 0.0)) for a in self.agents),
                              tuple(float("nan") if (h := self.scores[a].hit_rate) is None else h
                                    for a in self.agents)))
        self.last = {"exch_ns": int(exch_ns), "probabilities": probabilities,
                     "proposals": {a: tuple(p) for a, p in proposals.items()}, "waited_ns": int(waited_ns)}

    def on_outcome(self, agent: str, lean: float, forward_return: float) -> None:
        """An agent's proposal scored against the forward return it was about."""
        s = self.scores.get(agent)
        if s is None:
            return
        s.outcomes += 1
        if lean != 0.0 and forward_return != 0.0:
            s.directional += 1
            s.hits += (lean > 0) == (forward_return > 0)

    def to_json(self) -> dict[str, Any]:
        waits = np.asarray(self.waits_ns, dtype=np.float64)
        return {
            "agents": self.agents,
            "decisions": self.decisions,
            "with_opinion": self.with_opinion,
            "wait_ns": ({"p50": float(np.percentile(waits, 50)), "p99": float(np.percentile(waits, 99)),
                         "max": float(waits.max())} if len(waits) else {}),
            "scores": {a: {"proposals": s.proposals, "outcomes": s.outcomes, "directional": s.directional,
                           "hits": s.hits, "hit_rate": s.hit_rate} for a, s in self.scores.items()},
            "timeline": [[t, list(w), [None if h != h else h for h in hr]] for t, w, hr in self.timeline],
        }


def merge_scoreboards(days: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``to_json`` of several sessions as one: counts summed, timelines
    joined in market time; an agent missing from a day counts nothing there."""
    days = [d for d in days if d]
    if not days:
        return {}
    agents = list(dict.fromkeys(a for d in days for a in d.get("agents", [])))
    scores: dict[str, dict[str, Any]] = {a: {"proposals": 0, "outcomes": 0, "directional": 0, "hits": 0}
                                         for a in agents}
    timeline: list[list[Any]] = []
    for d in sorted(days, key=lambda d: d["timeline"][0][0] if d.get("timeline") else 0):
        for a, s in d.get("scores", {}).items():
            for k in ("proposals", "outcomes", "directional", "hits"):
                scores[a][k] += int(s.get(k, 0))
        where = [d["agents"].index(a) if a in d["agents"] else None for a in agents]
        for t, w, hr in d.get("timeline", []):
            timeline.append([t, [0.0 if i is None else w[i] for i in where],
                             [None if i is None else hr[i] for i in where]])
    for s in scores.values():
        s["hit_rate"] = s["hits"] / s["directional"] if s["directional"] else None
    waits = [d["wait_ns"] for d in days if d.get("wait_ns")]
    return {
        "agents": agents,
        "decisions": sum(int(d.get("decisions", 0)) for d in days),
        "with_opinion": sum(int(d.get("with_opinion", 0)) for d in days),
        # percentiles do not add: the worst day's is the honest summary
        "wait_ns": ({k: max(w[k] for w in waits) for k in ("p50", "p99", "max")} if waits else {}),
        "scores": scores,
        "timeline": timeline,
        "days": len(days),
    }
