"""Backtests (``quantumtrader backtest``): each session of the given logs is
replayed by the ProfitDLL simulator as fast as possible, in lockstep with the
trading node (the replay waits while the node decides and while it handles
each order update), so a day's result does not depend on the machine: the
same components as paper and live, and the simulator's matching engine
(queue position, latency in market time, fees).

Sessions run in parallel processes (the simulator is one per process): a log
holding several sessions is cut into one log per session first.  Each
session's agents (threads over inproc) start from the same learned state
(``[agents] state`` / ``--agents-state``, else fresh) and learn through that
day only, so days do not depend on the order they ran in.  Each day
keeps its journal in ``OUT/days/<date>/``; the merged report goes to ``OUT``."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quantumtrader.data.eventlog import EventLogWriter, read_event_log
from quantumtrader.data.events import EventType
from quantumtrader.output_path import atomic_output
from quantumtrader.runners.agents import check_agent_state
from quantumtrader.runners.venues import ReplayLog, replay_log

__all__ = ["BacktestDay", "BacktestRun", "run_backtest", "session_logs"]


@dataclass(frozen=True)
class BacktestDay:
    log: Path
    day: dt.date
    out: Path


@dataclass
class BacktestRun:
    result: Any                  # SessionResult, all days merged
    days: list[Any]              # SessionResult per day
    failures: list[str]          # "<day>: <one line>"
    report: dict[str, Path]
    events: int                  # records replayed, all days
    wall_s: float


def session_logs(logs: list[ReplayLog], folder: Path) -> list[tuple[Path, dt.date]]:
    """One (log, day) per session: a single-session log as it is, a
    multi-session log cut at its SESSION records into ``folder``."""
    out: list[tuple[Path, dt.date]] = []
    for log in logs:
        if len(log.days) == 1:
            out.append((log.path, log.days[0]))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        with read_event_log(log.path) as src:
            ev = src.events
            starts = np.flatnonzero(ev["type"] == EventType.SESSION)
            bounds = [*starts.tolist(), len(ev)]
            for i, day in enumerate(log.days):
                part = folder / f"{log.path.stem}-{day.isoformat()}.qtlog"
                with atomic_output(part) as tmp, EventLogWriter(tmp, src.header) as w:
                    w.append(np.array(ev[bounds[i]:bounds[i + 1]]))
                out.append((part, day))
    return out


def _run_day(task: BacktestDay, model: str | None, allow_unvalidated: bool, config_path: str | None,
             agents: dict[str, Any] | None = None) -> Any:
    """One session in this (child) process; returns its SessionResult or a
    one-line failure text."""
    from quantumtrader.config_file import ConfigError
    from quantumtrader.models.bundle import BundleError
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.model import load_trading_model
    from quantumtrader.runners.node import ReconciliationError, TradingNode
    from quantumtrader.runners.venues import SIM_ACCOUNT, VenueError, open_simulator

    try:
        config = load_trading_config(config_path).with_agents(agents or {})
        bundle = load_trading_model(model if model is not None else config.model.path,
                                    allow_unvalidated=allow_unvalidated or config.model.allow_unvalidated)
        task.out.mkdir(parents=True, exist_ok=True)
        session = replay_log(task.log)
        conn = open_simulator([session], task.day, config.simulator, speed=0.0)
        try:
            node = TradingNode(connection=conn, bundle=bundle, config=config, run_dir=task.out,
                               venue="backtest", account=SIM_ACCOUNT, password="paper", trading_day=task.day,
                               lockstep=True)
            node.start()
            t0 = time.perf_counter()
            conn.dll.sim_start_replay()
            while not conn.dll.sim_wait_replay_done(1.0):
                pass
            replay_s = time.perf_counter() - t0
            result = node.stop(wait_flat_s=0.5)
            result.counters["records_replayed"] = int(conn.dll.sim_counters()["records_replayed"])
            result.counters["replay_wall_s"] = replay_s
            return result
        finally:
            conn.close()
    except (ConfigError, BundleError, VenueError, ReconciliationError, OSError, ValueError) as e:
        return f"{task.day}: {e}"


def run_backtest(data: list[Path], out: Path, *, model: str | None = None, allow_unvalidated: bool = False,
                 config_path: str | None = None, jobs: int | None = None,
                 agents: dict[str, Any] | None = None) -> BacktestRun:
    """Backtest every session of ``data`` into ``out`` (an existing empty or
    new folder).  Raises ConfigError, BundleError or VenueError (one line)
    for a bad configuration, model or log before any session runs."""
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.model import load_trading_model
    from quantumtrader.runners.report import merge_results, write_report

    # bad input is refused once, up front: the configuration, the model (compiled here
    # once, not by every worker at the same time) and the logs
    config = load_trading_config(config_path).with_agents(agents or {})
    check_agent_state(config.agents)
    load_trading_model(model if model is not None else config.model.path,
                       allow_unvalidated=allow_unvalidated or config.model.allow_unvalidated)
    logs = [replay_log(p) for p in data]
    t0 = time.perf_counter()
    sessions = session_logs(logs, out / "sessions")
    tasks = [BacktestDay(p, d, out / "days" / d.isoformat()) for p, d in sessions]
    days = len({t.day for t in tasks})
    if days != len(tasks):
        raise ValueError("two inputs hold the same session date: give each day once")
    workers = max(1, min(jobs or (os.cpu_count() or 1), len(tasks)))
    results: list[Any] = []
    failures: list[str] = []
    if workers == 1:
        outcomes = [_run_day(t, model, allow_unvalidated, config_path, agents) for t in tasks]
    else:
        ctx = multiprocessing.get_context("spawn")  # the simulator and its threads do not survive fork
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            outcomes = list(pool.map(_run_day, tasks, [model] * len(tasks), [allow_unvalidated] * len(tasks),
                                     [config_path] * len(tasks), [agents] * len(tasks)))
    for o in outcomes:
        (failures if isinstance(o, str) else results).append(o)
    wall = time.perf_counter() - t0
    events = sum(int(r.counters.get("records_replayed", 0)) for r in results)
    if not results:
        return BacktestRun(None, [], failures, {}, 0, wall)
    merged = merge_results(results)
    paths = write_report(merged, out)
    return BacktestRun(merged, results, failures, paths, events, wall)
