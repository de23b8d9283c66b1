"""Paper trading (``quantumtrader paper``), the main job: the ProfitDLL
simulator replays a session at an accelerated pace through the very binding
that runs on Windows, and the whole pipeline trades it with a model (by
default the shipped ``models/default``): book, features, ensemble, signal,
risk, orders, fills, positions, P&L, all journaled in the run folder.

Without ``--replay`` the session is the bundled synthetic WDO day
(:func:`bundled_session`: seeded, generated once into the user cache, the
market the default model was trained on, a day it has not seen).

The run folder holds ``journal.sqlite`` (the journal), ``venue.state`` (the
simulator's broker state, so a killed run resumes: run the same command
again), ``KILL`` (the kill switch file, written by ``quantumtrader kill``)
and ``report/`` at the end.  A run folder whose journal exists is resumed:
the journal is reconciled with the venue and the session continues from
where the venue is."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from quantumtrader.risk import KillSwitch
from quantumtrader.runners.config import TradingConfig
from quantumtrader.runners.model import load_trading_model
from quantumtrader.runners.node import TradingNode
from quantumtrader.runners.report import SessionResult, report_console, write_report
from quantumtrader.runners.venues import SIM_ACCOUNT, ReplayLog, VenueError, open_simulator, replay_log

__all__ = ["PAPER_SEED", "PaperRun", "bundled_session", "run_paper"]

log = logging.getLogger(__name__)

PAPER_SEED = 2027          # not one of the model's training or validation seeds (models/README.md)
PAPER_SIGNAL = 1.0         # the market the default model was trained on
PAPER_TRADES_PER_DAY = 6000
KILL_FILE = "KILL"
STATE_FILE = "venue.state"


def bundled_session(cache: Path | None = None) -> Path:
    """The bundled synthetic session: one seeded WDO day, generated on first
    use into ``cache`` (default: the user cache) and reused after."""
    from quantumtrader.data.synth import write_synthetic_log
    from quantumtrader.models.compile import user_cache_dir

    folder = cache or user_cache_dir().parent / "sessions"
    path = folder / f"paper-wdo-seed{PAPER_SEED}-{PAPER_TRADES_PER_DAY}.qtlog"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_synthetic_log(path, 1, PAPER_SEED, PAPER_SIGNAL, trades_per_day=PAPER_TRADES_PER_DAY)
    return path


@dataclass
class PaperRun:
    """What one paper run did."""

    result: SessionResult
    report: dict[str, Path]
    interrupted: bool
    replay_s: float


def run_paper(
    run_dir: Path,
    config: TradingConfig,
    *,
    replay: Path | None = None,
    speed: float | None = None,
    model: str | None = None,
    allow_unvalidated: bool | None = None,
    dashboard: Any = None,
    console: Console | None = None,
    on_started: Callable[[TradingNode], None] | None = None,
) -> PaperRun:
    """One paper session in ``run_dir`` (created; resumed when its journal
    exists).  Raises VenueError, BundleError, ReconciliationError,
    ConfigError (one line each); Ctrl-C ends the session early (cancel,
    flatten, report) and is reported as ``interrupted``."""
    console = console or Console()
    run_dir.mkdir(parents=True, exist_ok=True)
    session = replay_log(replay if replay is not None else bundled_session())
    day = _one_day(session)
    bundle = load_trading_model(model if model is not None else config.model.path,
                                allow_unvalidated=config.model.allow_unvalidated
                                if allow_unvalidated is None else allow_unvalidated)
    pace = config.simulator.speed if speed is None else speed
    state = Path(config.simulator.state_file) if config.simulator.state_file else run_dir / STATE_FILE
    conn = open_simulator([session], day, config.simulator, speed=pace, state_file=state)
    t0 = time.perf_counter()
    try:
        node = TradingNode(connection=conn, bundle=bundle, config=config, run_dir=run_dir, venue="paper",
                           account=SIM_ACCOUNT, password="paper", trading_day=day, market_speed=pace or 1.0,
                           dashboard=dashboard, kill_switch=KillSwitch(run_dir / KILL_FILE))

        def started() -> None:
            if on_started is not None:
                on_started(node)
            conn.dll.sim_start_replay()

        def replayed() -> bool:
            if not conn.dll.sim_wait_replay_done(0.25):
                return False
            _drain(conn)
            return True

        result, interrupted = node.run_until(replayed, after_start=started)
    finally:
        conn.close()
    elapsed = time.perf_counter() - t0
    paths = write_report(result, run_dir / "report")
    report_console(result, console)
    return PaperRun(result, paths, interrupted, elapsed)


def _one_day(session: ReplayLog) -> dt.date:
    if len(session.days) != 1:
        raise VenueError(f"{session.path}: paper trades one session and this log holds {len(session.days)} "
                         "(use quantumtrader backtest for several)")
    return session.days[0]


def _drain(conn: Any, timeout_s: float = 10.0) -> None:
    """Wait until the pipeline has taken what the replay pushed."""
    deadline = time.monotonic() + timeout_s
    ring = conn.market_ring
    while ring is not None and ring.available and time.monotonic() < deadline:
        time.sleep(0.02)


def default_run_dir(kind: str) -> Path:
    """``quantumtrader-runs/<kind>-YYYYmmdd-HHMMSS`` in the current folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(os.getcwd()) / "quantumtrader-runs" / f"{kind}-{stamp}"
