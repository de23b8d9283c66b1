"""Where the shared spec and real captures are: ``$QT_SHARED_DIR``, else
``shared/`` beside the repository (the layout of CI's checkout and of the
development tree), else ``/work/shared``.  Tests that need a file skip with
the path in the reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    candidates = [Path(os.environ["QT_SHARED_DIR"])] if os.environ.get("QT_SHARED_DIR") else []
    candidates += [Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")]
    for p in candidates:
        if p.is_dir():
            return p
    return candidates[0]


SHARED = shared_dir()
REAL = SHARED / "data" / "real"
GOLDEN = SHARED / "spec" / "golden"
