"""Where the ProfitDLL library is: the real ``ProfitDLL64.dll`` (Windows),
or the simulator bundled with the package (everywhere; the only choice off
Windows).

The path handed to the loader is always absolute: on Windows the core loads
it with ``LoadLibraryExW`` restricted to the DLL's own folder and System32
(no current directory, no PATH), so a planted DLL cannot be picked up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "DLL_FOLDER_ENV",
    "DLL_NAME",
    "DLL_PATH_ENV",
    "SIM_LIBRARY_ENV",
    "LibraryNotFoundError",
    "profit_dll_path",
    "simulator_path",
]

DLL_NAME = "ProfitDLL64.dll"
DLL_PATH_ENV = "QT_PROFITDLL_PATH"  # full path of ProfitDLL64.dll
DLL_FOLDER_ENV = "QT_PROFITDLL_DIR"  # folder holding ProfitDLL64.dll
SIM_LIBRARY_ENV = "QT_PROFITDLL_SIM"  # override of the bundled simulator's path


class LibraryNotFoundError(FileNotFoundError):
    """No library at the configured place (the message says where it looked)."""


def _sim_names() -> tuple[str, ...]:
    if sys.platform == "win32":
        return ("libprofitdll_sim.dll", "profitdll_sim.dll")
    if sys.platform == "darwin":
        return ("libprofitdll_sim.dylib",)
    return ("libprofitdll_sim.so",)


def _sim_candidates() -> list[Path]:
    from quantumtrader.qtcore import profitdll as ext

    here = Path(ext.__file__).resolve().parent
    dirs = [
        here,  # installed package: next to the extension modules
        Path(__file__).resolve().parent.parent / "qtcore",
        # editable install: the extension lives in build/src/qtcore, the
        # simulator in build/src/profitdll_sim
        here.parent / "profitdll_sim",
    ]
    return [d / n for d in dirs for n in _sim_names()]


def simulator_path() -> str:
    """Absolute path of the bundled simulator (``$QT_PROFITDLL_SIM`` overrides)."""
    override = os.environ.get(SIM_LIBRARY_ENV)
    if override:
        p = Path(override).resolve()
        if not p.is_file():
            raise LibraryNotFoundError(f"{SIM_LIBRARY_ENV}={override}: no such file")
        return str(p)
    tried = _sim_candidates()
    for p in tried:
        if p.is_file():
            return str(p)
    raise LibraryNotFoundError(
        "the ProfitDLL simulator is not installed next to the extension modules; looked at: "
        + ", ".join(str(p) for p in tried))


def profit_dll_path(dll: str | os.PathLike[str] | None = None, folder: str | os.PathLike[str] | None = None
                    ) -> str:
    """Absolute path of the real DLL: ``dll`` if given (a file, or a folder
    holding ``ProfitDLL64.dll``), else ``$QT_PROFITDLL_PATH``, else
    ``ProfitDLL64.dll`` in ``folder`` or ``$QT_PROFITDLL_DIR``."""
    candidate: Path | None = None
    if dll is not None:
        candidate = Path(dll)
        if candidate.is_dir():
            candidate = candidate / DLL_NAME
    elif os.environ.get(DLL_PATH_ENV):
        candidate = Path(os.environ[DLL_PATH_ENV])
    else:
        base = folder if folder is not None else os.environ.get(DLL_FOLDER_ENV)
        if base is None:
            raise LibraryNotFoundError(
                f"no ProfitDLL configured: pass --dll PATH, or set {DLL_PATH_ENV} (the DLL) or "
                f"{DLL_FOLDER_ENV} (its folder)")
        candidate = Path(base) / DLL_NAME
    p = candidate.expanduser().resolve()
    if not p.is_file():
        raise LibraryNotFoundError(f"ProfitDLL not found at {p}")
    return str(p)
