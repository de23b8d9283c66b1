"""The agents' part of a trading report: what each specialist proposed, how
often its lean was right (hit rate), and the weight the coordinator gave it
over the session; from ``SessionResult.agents`` (the team's
``Scoreboard.to_json``, days merged by ``merge_scoreboards``).

``agents_rows`` is the table (terminal and HTML), ``agents_png`` the chart
(weights and hit rates against exchange time; the report passes its time
axis so the agents' chart lines up with the equity curve), ``agents_note``
one line on the consensus itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from quantumtrader import html_page

__all__ = ["AGENTS_HEAD", "agents_note", "agents_png", "agents_rows"]

AGENTS_HEAD = ("agent", "proposals", "outcomes", "leaned", "hit rate", "weight at end", "weight mean")

_CHART_POINTS = 2000
_NEW_DAY_NS = 6 * 3600 * 10**9   # a gap longer than this between decisions is a night


def _broken(values: Sequence[Any], breaks: set[int]) -> list[Any]:
    """``values`` with a NaN inserted before each index in ``breaks``."""
    out: list[Any] = []
    for j, v in enumerate(values):
        if j in breaks:
            out.append(float("nan"))
        out.append(v)
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def agents_rows(agents: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """One row per agent (see ``AGENTS_HEAD``); empty without agents."""
    if not agents or not agents.get("agents"):
        return []
    timeline = agents.get("timeline") or []
    rows = []
    for i, name in enumerate(agents["agents"]):
        s = agents["scores"].get(name, {})
        weights = [w[i] for _, w, _ in timeline]
        end = f"{weights[-1]:.3f}" if weights else "-"
        mean = f"{sum(weights) / len(weights):.3f}" if weights else "-"
        rows.append((name, [name, f"{s.get('proposals', 0):,}", f"{s.get('outcomes', 0):,}",
                            f"{s.get('directional', 0):,}", _pct(s.get("hit_rate")), end, mean]))
    return rows


def agents_note(agents: Mapping[str, Any]) -> str:
    """The consensus in one line: how many decisions had one, and the wait for it."""
    if not agents or not agents.get("agents"):
        return "agents off: the signal traded the model alone"
    n, with_opinion = int(agents.get("decisions", 0)), int(agents.get("with_opinion", 0))
    wait = agents.get("wait_ns") or {}
    waited = (f"; answers in p50 {wait['p50'] / 1e3:,.0f} µs, p99 {wait['p99'] / 1e3:,.0f} µs"
              if wait else "")
    share = f" ({100 * with_opinion / n:.0f}%)" if n else ""
    return (f"{len(agents['agents'])} agents; a consensus on {with_opinion:,} of {n:,} decisions{share}, "
            f"the model alone on the rest{waited}")


def agents_png(agents: Mapping[str, Any], time_axis: Callable[[Any, Sequence[tuple[int, Any]]], list[Any]],
               empty: Callable[[Any, str], bytes]) -> bytes:
    """Two panels over exchange time: each agent's weight, each agent's hit rate so far."""
    fig = html_page.figure(9, 4.2)
    timeline = (agents or {}).get("timeline") or []
    if not timeline:
        return empty(html_page.figure(9, 2), "no agent decisions")
    step = max(1, len(timeline) // _CHART_POINTS)
    points = [(t, None) for t, _, _ in timeline[::step]]
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = time_axis(bottom, points)
    # a line must not join one day's last decision to the next day's first: NaN between them
    times = [t for t, _ in points]
    breaks = {j for j in range(1, len(times)) if times[j] - times[j - 1] > _NEW_DAY_NS}
    xs = _broken(x, breaks)
    for i, name in enumerate(agents["agents"]):
        weights = [w[i] for _, w, _ in timeline[::step]]
        hits = [float("nan") if h[i] is None else 100 * h[i] for _, _, h in timeline[::step]]
        top.plot(xs, _broken(weights, breaks), linewidth=1.2, label=name)
        bottom.plot(xs, _broken(hits, breaks), linewidth=1.2, label=name)
    top.set_ylabel("weight")
    top.set_ylim(0, None)
    top.legend(loc="upper left", fontsize="small", ncols=len(agents["agents"]))
    top.set_title("coordinator's weight of each agent (Hedge, bounded)", fontsize="medium", loc="left")
    bottom.axhline(50, color="#bbb", linewidth=0.6, linestyle="--")
    bottom.set_ylabel("hit rate so far, %")
    bottom.set_title("share of an agent's leans that had the forward return's sign", fontsize="medium",
                     loc="left")
    return html_page.figure_png(fig)
