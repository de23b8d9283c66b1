"""The suite finds shared data through tests/support/shared_data.py only, and CI
cannot pass with the tests that need it skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def test_no_test_file_names_a_machine_path():
    offenders = [
        p.name
        for p in TESTS.rglob("*.py")
        if p.name != "shared_data.py" and re.search(r"""["']/work/shared""", p.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "resolve shared data through tests/support/shared_data.py"


def test_ci_requires_shared_data():
    ci = TESTS.parent / ".ci" / "run"
    if not ci.exists():
        pytest.skip("not running from a checkout")
    assert re.search(r"^export QT_REQUIRE_SHARED=1$", ci.read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize("required", ["", "1"])
def test_missing_shared_data_skips_or_fails_under_ci(pytester, monkeypatch, required):
    pytester.makeconftest((TESTS / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(shared_data=(TESTS / "support" / "shared_data.py").read_text(encoding="utf-8"))
    pytester.makepyfile(
        test_needs_data="""
from shared_data import requires_shared, require_shared

@requires_shared("no/such/capture.gz")
def test_marked():
    pass

def test_called():
    require_shared("no/such/golden.csv")
"""
    )
    monkeypatch.setenv("QT_REQUIRE_SHARED", required)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rsfE")
    if required:  # marked: an error at setup; called in the test: a failure
        result.assert_outcomes(failed=1, errors=1)
        assert result.ret != 0
    else:
        result.assert_outcomes(skipped=2)
        assert result.ret == 0
    result.stdout.fnmatch_lines(["*shared data not found under*no/such/capture.gz*"])
