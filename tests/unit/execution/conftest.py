"""Fixtures of the execution unit tests (helpers: tests/support/execution_support.py)."""

from __future__ import annotations

import pytest
from execution_support import ScriptedVenue

from quantumtrader.execution.journal import Journal


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "journal.sqlite", session="test-day")
    yield j
    j.close()


@pytest.fixture
def venue() -> ScriptedVenue:
    return ScriptedVenue()
