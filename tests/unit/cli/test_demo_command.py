"""``quantumtrader demo`` as a user runs it: an unusable ``--workdir`` and
out-of-range numbers are one line naming the flag, never a traceback; the
logs it keeps are complete (no partial file left beside them)."""

from __future__ import annotations

import pytest
from command_support import interrupt_mid_job, partial_files, unwritable_folder

from quantumtrader.cli import main


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_workdir_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["demo", "--workdir", str(blocker / "logs")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert f"--workdir {blocker / 'logs'}: cannot create it" in line


def test_workdir_that_cannot_be_written(tmp_path, capsys):
    folder = unwritable_folder(tmp_path)
    assert main(["demo", "--workdir", str(folder), "--days", "1"]) in (1, 2)
    line = one_line_error(capsys.readouterr().err)
    assert str(folder) in line and ".partial" not in line
    assert not list(folder.glob("*.qtlog")) and not list(folder.glob(".*partial*"))


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--signal", "5"], "--signal must be between 0 and 2"),
        (["--signal", "-1"], "--signal must be between 0 and 2"),
        (["--seed", "-7"], "--seed must be 0 or more"),
        (["--days", "0"], "--days must be at least 1"),
        (["--days", "-2"], "--days must be at least 1"),
        (["--days", "5000"], "--days 5000 from 2026-11-03 goes past the trading calendar"),
    ],
)
def test_numbers_out_of_range_name_the_flag(tmp_path, capsys, argv, says):
    assert main(["demo", "--workdir", str(tmp_path), *argv]) == 2
    assert says in one_line_error(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_kept_logs_are_complete(tmp_path, capsys):
    assert main(["demo", "--workdir", str(tmp_path), "--seed", "3"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth-wdo-seed3.qtlog"]


def test_sigint_mid_demo_exits_130_and_leaves_no_log(tmp_path):
    out = tmp_path / "synth-wdo-seed7.qtlog"
    status, err = interrupt_mid_job(["demo", "--workdir", str(tmp_path), "--days", "20"], out)
    assert status == 130
    assert err.strip().splitlines()[-1] == "quantumtrader: interrupted" and "Traceback" not in err
    assert not out.exists() and partial_files(out) == []
