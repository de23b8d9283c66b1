"""Where the ProfitDLL library is: the real ``ProfitDLL64.dll`` (Windows),
or the simulator bundled with the package (everywhere; the only choice off
Windows).

The path handed to the loader is always absolute: on Windows the core loads
it with ``LoadLibraryExW`` restricted to the DLL's own folder and System32
(no current directory, no PATH), so a planted DLL cannot be picked up.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DLL_FOLDER_ENV",
    "DLL_NAME",
    "DLL_PATH_ENV",
    "LibraryNotFoundError",
    "profit_dll_path",
    "simulator_path",
]

DLL_NAME = "ProfitDLL64.dll"
DLL_PATH_ENV = "QT_PROFITDLL_PATH"  # full path of ProfitDLL64.dll
DLL_FOLDER_ENV = "QT_PROFITDLL_DIR"  # folder holding ProfitDLL64.dll


class LibraryNotFoundError(FileNotFoundError):
    """No library at the configured place (the message says where it looked)."""


def simulator_path() -> str:
    """Absolute path of the bundled simulator (installed next to the
    extension modules; ``$QT_SIM_LIBRARY`` overrides, see
    :mod:`quantumtrader.adapters.profitdll.simulator`)."""
    from quantumtrader.adapters.profitdll.simulator import library_path

    try:
        return str(library_path().resolve())
    except FileNotFoundError as exc:
        raise LibraryNotFoundError(str(exc)) from None


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
