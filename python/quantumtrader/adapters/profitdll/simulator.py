"""Where the ProfitDLL simulator library is.

``libprofitdll_sim`` (sources in ``src/profitdll_sim``) exports ProfitDLL's
functions under the DLL's names and replays one of our event logs through
the DLL's callbacks, so a client written for Nelogica's ``ProfitDLL64.dll``
runs against it unchanged.  It is installed next to the extension modules
(``quantumtrader/qtcore``); this module only finds it.  Its own
configuration (``SimSetReplayLog``, ``SimAddReplayLog`` for further logs
replayed at once under their own tickers, e.g. WDO and WIN, ``SimSetSpeed``,
fault injection ...) is described in ``src/profitdll_sim/profitdll_sim.h``
and reached from Python through ``ProfitDLL.sim_*`` (``sim_set_replay_log``,
``sim_add_replay_log``, ...); an unmodified client configures it through the
``QT_SIM_*`` environment variables instead.
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["LIBRARY_ENV", "MAX_REPLAY_LOGS", "library_name", "library_path", "set_replay_logs"]

MAX_REPLAY_LOGS = 8  # SIM_MAX_LOGS of sim_session.h

LIBRARY_ENV = "QT_SIM_LIBRARY"  # an explicit path wins over the installed copy


def library_name() -> str:
    """File name of the simulator on this platform."""
    if sys.platform == "win32":
        return "libprofitdll_sim.dll"
    if sys.platform == "darwin":
        return "libprofitdll_sim.dylib"
    return "libprofitdll_sim.so"


def library_path() -> Path:
    """Path of the simulator library: ``$QT_SIM_LIBRARY`` if set, else the
    copy installed with the package.  Raises ``FileNotFoundError`` saying
    where it looked when there is none."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"{LIBRARY_ENV}={explicit} is not a file")
        return path
    candidate = importlib.resources.files("quantumtrader.qtcore") / library_name()
    if not candidate.is_file():
        raise FileNotFoundError(
            f"the ProfitDLL simulator {library_name()} is not installed in quantumtrader/qtcore "
            f"(looked for {candidate}); build the package (pip install .) or set {LIBRARY_ENV}")
    return Path(os.fspath(candidate))


def set_replay_logs(
    dll: Any, logs: Sequence[tuple[str | os.PathLike[str], str]], exchange: str = "F"
) -> None:
    """Replay several logs in the next session, each under its own ticker,
    e.g. ``[("wdo.qtlog", "WDOZ26"), ("win.qtlog", "WINZ26")]``: the first
    through ``SimSetReplayLog`` + ``SimSetTicker``, the others through
    ``SimAddReplayLog``.  ``dll`` is a ``ProfitDLL`` loaded from the
    simulator.  The logs merge by exchange time; the order engine trades
    the first log's instrument."""
    if not logs:
        raise ValueError("no log to replay")
    if len(logs) > MAX_REPLAY_LOGS:
        raise ValueError(f"at most {MAX_REPLAY_LOGS} logs at once, got {len(logs)}")
    tickers = [t.upper() for _, t in logs]
    if len(set(tickers)) != len(tickers):
        raise ValueError(f"each log needs its own ticker, got {', '.join(tickers)}")
    (first, ticker), *more = logs
    dll.sim_set_replay_log(os.fspath(first))
    dll.sim_set_ticker(ticker, exchange)
    for path, t in more:
        dll.sim_add_replay_log(os.fspath(path), t, exchange)
