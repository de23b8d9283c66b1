"""Fixtures and rules shared by the whole suite.

- tests/support/ (helper modules: shared_data, sim_client, feature_streams,
  profitdll_support, command_support) is put on ``sys.path`` here, so test
  files in any folder import them by name; tests/ itself (``reference``) is
  on it as the folder of this conftest.
- ``requires_shared`` marker (tests/support/shared_data.py): a test needing shared
  files skips when they are absent, or fails when ``QT_REQUIRE_SHARED=1``
  (CI), checked before the test runs.
- ``shared_data`` fixture: the shared folder (same rule for the folder)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from shared_data import SHARED, require_shared


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_shared(*paths): needs these files of the shared folder (tests/support/shared_data.py); "
        "skipped when absent, a failure when QT_REQUIRE_SHARED=1",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires_shared"):
        require_shared(*mark.args)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require_shared(".")
    return SHARED
