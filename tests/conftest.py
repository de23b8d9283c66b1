"""Fixtures and rules shared by the whole suite.

- ``requires_shared`` marker (tests/shared_data.py): a test needing shared
  files skips when they are absent, or fails when ``QT_REQUIRE_SHARED=1``
  (CI), checked before the test runs.
- ``shared_data`` fixture: the shared folder (same rule for the folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import SHARED, require_shared


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_shared(*paths): needs these files of the shared folder (tests/shared_data.py); "
        "skipped when absent, a failure when QT_REQUIRE_SHARED=1",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires_shared"):
        require_shared(*mark.args)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require_shared(".")
    return SHARED
