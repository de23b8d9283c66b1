"""The one place tests find the shared spec and real captures.

Where: ``$QT_SHARED_DIR``, else ``shared/`` beside the repository (the layout
of CI's checkout and of the development tree), else ``/work/shared``.

A test that needs a shared file says so with ``@requires_shared(PATH, ...)``
(paths relative to the shared folder) or calls ``require_shared(PATH)`` in a
fixture; tests/conftest.py applies the rule: an absent file skips the test
with the path in the reason, and with ``QT_REQUIRE_SHARED=1`` (set by CI) it
fails it, so a run that silently tested nothing of the real data cannot pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_ENV = "QT_REQUIRE_SHARED"


def shared_dir() -> Path:
    candidates = [Path(os.environ["QT_SHARED_DIR"])] if os.environ.get("QT_SHARED_DIR") else []
    candidates += [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]  # <repo>/../shared
    for p in candidates:
        if p.is_dir():
            return p
    return candidates[0]


SHARED = shared_dir()
REAL = SHARED / "data" / "real"
GOLDEN = SHARED / "spec" / "golden"

# paths relative to SHARED, for requires_shared / require_shared
GOLDEN_DIR = "spec/golden"
GOLDEN_TRADES = "spec/golden/golden_trades.csv"
GOLDEN_FEATURES = "spec/golden/golden_trades.features.csv"
REAL_DIR = "data/real"
BINANCE_CAPTURE = "data/real/binance-usdm-btcusdt-20240808.gz"
LOBSTER_MESSAGES = "data/real/lobster-amzn-20120621-level1-message.csv"
LOBSTER_BOOK = "data/real/lobster-amzn-20120621-level1-orderbook.csv"


def shared_required() -> bool:
    """CI's setting: a test that needs shared data may not skip."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def missing_shared(*relative: str) -> list[str]:
    return [p for p in relative if not (SHARED / p).exists()]


def missing_message(missing: list[str]) -> str:
    return (f"shared data not found under {SHARED}: {', '.join(missing)} "
            f"(set QT_SHARED_DIR; {REQUIRE_ENV}=1 makes this a failure)")


def require_shared(*relative: str) -> Path:
    """In a test or fixture: SHARED / relative[0] if every path exists, else
    skip (or fail under QT_REQUIRE_SHARED=1)."""
    missing = missing_shared(*relative)
    if missing:
        if shared_required():
            pytest.fail(missing_message(missing), pytrace=False)
        pytest.skip(missing_message(missing))
    return SHARED / relative[0] if relative else SHARED


def requires_shared(*relative: str) -> pytest.MarkDecorator:
    """Marks a test (or, as ``pytestmark``, a module) that needs these shared paths."""
    return pytest.mark.requires_shared(*relative)
