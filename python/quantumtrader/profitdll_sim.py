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
from pathlib import Path

__all__ = ["LIBRARY_ENV", "library_name", "library_path"]

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
