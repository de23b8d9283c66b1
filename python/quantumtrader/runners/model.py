"""The model a trading process runs: a bundle loaded without its native
models (no scikit-learn or XGBoost in the process), its compiled libraries
built first in a child process when this host has none yet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from quantumtrader.models.bundle import BundleError, ModelBundle, default_bundle_dir

__all__ = ["BundleError", "load_trading_model"]


def load_trading_model(path: str | Path | None, *, allow_unvalidated: bool = False) -> Any:
    """The bundle at ``path`` (None or "": the shipped default), verified, and
    refused when the gate has not promoted it unless ``allow_unvalidated``.
    BundleError (one line) for a missing, corrupt, unpromoted or
    uncompilable bundle."""
    folder = Path(path) if path else default_bundle_dir()
    try:
        bundle = ModelBundle.load(folder, native=False, allow_unvalidated=allow_unvalidated)
    except BundleError as e:
        text = str(e).replace("(allow_unvalidated=False)", "(--allow-unvalidated trades it anyway)")
        raise BundleError(text) from None
    if len(bundle.compiled_paths(build=False)) < len(bundle.models):
        done = subprocess.run([sys.executable, "-m", "quantumtrader.models.compile", str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or "").strip().splitlines() or [f"exit status {done.returncode}"]
            raise BundleError(f"{folder}: cannot compile the model: {lines[-1]}")
        if len(bundle.compiled_paths(build=False)) < len(bundle.models):
            raise BundleError(f"{folder}: the compiled model is still missing after compiling it")
    return bundle
