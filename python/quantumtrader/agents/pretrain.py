"""Pre-training the agents by replaying event logs (``quantumtrader agents
pretrain``).

Each log goes through the one C feature engine (``models.dataset.extract_rows``:
the same drain loop as the live pipeline, whose journaled vectors are
bit-equal to these rows), and the model bundle's own sampler picks the
decision points, as it does live.  The decisions of every log are then
asked, in exchange-time order, of an in-process :class:`AgentTeam`
(specialists as threads over ``inproc://``) with each decision's trade
price, so the agents and the coordinator learn from outcomes exactly as in
live trading: nothing here computes a reward or a return of its own.

Outcomes never span a session: every (log, session) is its own stream, so
the last decisions of a day (within an agent horizon of the close) are
not rewarded with the overnight gap.

Score per agent: the team's own scoreboard (agents/scoreboard.py), as a
trading session reports it: decisions answered, outcomes, and the hit rate.
The team is built from ``[agents]`` (AgentsConfig: learning rate, cost,
Hedge step), the same settings a trading session uses."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from quantumtrader.agents.config import AgentsConfig
from quantumtrader.agents.scoreboard import AgentScore
from quantumtrader.agents.specialists import SPECIALISTS
from quantumtrader.agents.state import (
    COORDINATOR_FILE,
    state_file,
)
from quantumtrader.agents.team import AgentTeam
from quantumtrader.output_path import OutputPathError, commit_partial, folder_problem

__all__ = [
    "DecisionRows", "PretrainRun", "check_pretrain_paths", "decision_rows", "pretrain", "replay_decisions",
    "sampler_of",
]


@dataclass
class DecisionRows:
    """The decision points of one log: what the team is asked there."""

    path: str
    ts: np.ndarray        # int64 UTC ns of the decision's trade
    price: np.ndarray     # int64 trade price, price units
    session: np.ndarray   # int64 YYYYMMDD local date
    features: np.ndarray  # float64 (n, 77), the engine's vectors
    rows: int = 0         # feature rows of the whole log


def sampler_of(model: str | os.PathLike[str] | None) -> Any:
    """The SamplerConfig of a model bundle (None: the shipped default).
    Only its manifest is read: pre-training never runs the model."""
    from quantumtrader.models.bundle import ModelBundle, default_bundle_dir
    from quantumtrader.models.sampler import SamplerConfig

    bundle = ModelBundle.load(Path(model) if model else default_bundle_dir(), native=False)
    return SamplerConfig(**bundle.sampler)


def decision_rows(path: str, sampler: Any) -> DecisionRows:
    """The engine's rows of the log at ``path`` at the sampler's decision
    points; TrainingDataError (one line) for a log the engine cannot read."""
    from quantumtrader.models.dataset import TrainingDataError, extract_rows

    try:
        rows = extract_rows(path)
    except TrainingDataError as e:  # some of its messages name the file twice
        text = str(e)
        twice = f"{path}: {path}: "
        raise TrainingDataError(text[len(path) + 2:] if text.startswith(twice) else text) from None
    at = sampler.decision_points(rows.features, rows.ts)
    return DecisionRows(path, rows.ts[at], rows.price[at], rows.session[at], rows.features[at], len(rows))


def replay_decisions(team: AgentTeam, logs: Sequence[DecisionRows],
                     progress: Callable[[int], None] | None = None) -> int:
    """Ask ``team`` every decision of ``logs`` in exchange-time order (one
    stream per log and session, see the module doc); returns how many."""
    streams: dict[tuple[int, int], int] = {}
    order = []
    for k, log in enumerate(logs):
        for i in range(len(log.ts)):
            stream = streams.setdefault((k, int(log.session[i])), len(streams) % 65535 + 1)
            order.append((int(log.ts[i]), k, i, stream))
    order.sort()
    for n, (ts, k, i, stream) in enumerate(order, start=1):
        log = logs[k]
        team.ask(stream, n, ts, int(log.price[i]), log.features[i])
        if progress is not None and n % 256 == 0:
            progress(n)
    return len(order)


@dataclass
class PretrainRun:
    decisions: int
    rows: int
    sessions: int
    scores: dict[str, AgentScore]
    weights: dict[str, float]
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_pretrain_paths(data: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str],
                         start_from: str | os.PathLike[str] | None,
                         agents: Sequence[str]) -> None:
    """Refuse, before any work, an ``--out`` that is an input (``--from`` or
    a ``--data`` file) or already holds agent states, a missing log or
    ``--from`` folder (OutputPathError / FileNotFoundError-like one-line
    ValueError)."""
    out_path = Path(out)
    for log in data:
        if not Path(log).is_file():
            raise ValueError(f"--data {log}: no such file" if not Path(log).exists()
                             else f"--data {log}: not a file")
        if out_path.exists() and _same(out_path, Path(log)):
            raise OutputPathError(f"--out {out} is also an input (--data): choose another folder")
    if start_from is not None:
        if not Path(start_from).is_dir():
            raise ValueError(f"--from {start_from}: no such folder")
        if out_path.exists() and _same(out_path, Path(start_from)):
            raise OutputPathError(f"--out {out} is also the input (--from): choose another folder")
    why = folder_problem(out)
    if why is not None:
        raise OutputPathError(why)
    held = [p.name for p in [*(state_file(out_path, a) for a in agents), out_path / COORDINATOR_FILE]
            if p.exists()]
    if held:
        raise OutputPathError(f"--out {out} already holds agent states ({', '.join(held)}): choose another "
                              "folder (--from it to continue from them)")


def _write(team: AgentTeam, out: Path) -> list[Path]:
    """Every state and the coordinator's weights into ``out``: a new folder
    is written aside and renamed into place whole; into an existing one each
    file lands atomically."""
    if out.exists():
        return team.save_state(out)
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    try:
        team.save_state(tmp)
        commit_partial(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [state_file(out, name) for name in team.policies] + [out / COORDINATOR_FILE]


def pretrain(data: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str] | None, *,
             model: str | os.PathLike[str] | None = None, start_from: str | os.PathLike[str] | None = None,
             fresh: bool = False, agents: Sequence[str] | None = None, config: AgentsConfig | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> PretrainRun:
    """Replay ``data`` through the engine and the team (see the module doc),
    starting from the states in ``start_from`` (an unusable one refused, or
    moved aside with ``fresh``), and write every agent's state into ``out``
    (None: nothing written).  Errors are one line: ValueError subclasses
    (OutputPathError, AgentStateError, TrainingDataError, BundleError) and OSError."""
    names = list(agents) if agents is not None else list(SPECIALISTS)
    if out is not None:
        check_pretrain_paths(data, out, start_from, names)
    sampler = sampler_of(model)
    cfg = config or AgentsConfig()
    logs = []
    for k, path in enumerate(data):
        logs.append(decision_rows(os.fspath(path), sampler))
        if progress is not None:
            progress("logs", k + 1, len(data))
    total = sum(len(log.ts) for log in logs)
    # a deadline far above an answer's time: every agent answers every decision, as
    # in a healthy live session, so a run is repeatable
    with AgentTeam([SPECIALISTS[n] for n in names], transport="inproc", deadline_ms=5000.0,
                   coordinator=cfg.coordinator(), policy=cfg.policy()) as team:
        notes: list[str] = []
        if start_from is not None:  # an input: read, never moved aside
            notes = team.load_state(Path(start_from), fresh=fresh, aside=False)
        team.start()
        decisions = replay_decisions(team, logs, None if progress is None else
                                     (lambda n: progress("decisions", n, total)))
        weights = dict(team.coordinator.weights)
        scores = dict(team.scoreboard.scores)
    written = _write(team, Path(out)) if out is not None else []
    sessions = sum(len(np.unique(log.session)) for log in logs)
    return PretrainRun(decisions, sum(log.rows for log in logs), sessions, scores, weights, notes, written)
