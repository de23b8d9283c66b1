"""``quantumtrader synth`` as a user runs it: numeric flags bounded with
errors that name the flag, the log written aside and renamed (Ctrl-C, a bad
argument found late or an unwritable folder leave nothing that replays as a
log, and an existing log whole), a progress bar on a terminal only."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from command_support import COMMAND, interrupt_mid_job, partial_files, run_on_a_terminal, unwritable_folder

from quantumtrader.cli import main
from quantumtrader.data.eventlog import read_event_log
from quantumtrader.data.events import EventType
from quantumtrader.data.synth import simulate_market

SMALL = ["--days", "1", "--seed", "3", "--signal", "0.5", "--trades-per-day", "500"]


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("flag", "value", "says"),
    [
        ("--signal", "5", "--signal must be between 0 and 2 (got 5)"),
        ("--signal", "-0.1", "--signal must be between 0 and 2"),
        ("--signal", "nan", "--signal must be between 0 and 2"),
        ("--days", "0", "--days must be at least 1"),
        ("--days", "-3", "--days must be at least 1"),
        ("--seed", "-1", "--seed must be 0 or more"),
        ("--trades-per-day", "0", "--trades-per-day must be between 100 and 500,000"),
        ("--trades-per-day", "99", "--trades-per-day must be between 100 and 500,000"),
        ("--trades-per-day", "600000", "--trades-per-day must be between 100 and 500,000"),
    ],
)
def test_numeric_flags_are_bounded(tmp_path, capsys, flag, value, says):
    argv = dict(zip(SMALL[::2], SMALL[1::2], strict=True)) | {flag: value}
    out = tmp_path / "s.qtlog"
    assert main(["synth", *(x for kv in argv.items() for x in kv), "--out", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert says in line and "trades_per_day" not in line
    assert list(tmp_path.iterdir()) == []


def test_the_documented_ends_of_the_signal_range_are_accepted(tmp_path, capsys):
    for signal in ("0", "2"):
        out = tmp_path / f"s{signal}.qtlog"
        argv = ["synth", "--days", "1", "--seed", "1", "--signal", signal, "--trades-per-day", "300"]
        assert main([*argv, "--out", str(out)]) == 0
        assert out.exists()


def test_the_log_equals_the_generated_market(tmp_path, capsys):
    out = tmp_path / "s.qtlog"
    assert main(["synth", *SMALL, "--days", "2", "--out", str(out)]) == 0
    assert "book events / trade" in capsys.readouterr().out
    market = simulate_market(2, seed=3, signal=0.5, trades_per_day=500)
    with read_event_log(out) as log:
        fields = [f for f in market.events.dtype.names if f != "crc"]
        assert np.array_equal(log.events[fields], market.events[fields])
        assert log.header.source == market.source and log.header.agents == market.agents
    assert partial_files(out) == []


def test_a_late_error_keeps_the_existing_log_and_leaves_no_partial(tmp_path, capsys):
    out = tmp_path / "s.qtlog"
    assert main(["synth", *SMALL, "--out", str(out)]) == 0
    before = out.read_bytes()
    # the instrument is checked by the generator, once the output is open
    assert main(["synth", *SMALL, "--instrument", "DOLFUT", "--out", str(out)]) == 2
    assert "DOLFUT" in one_line_error(capsys.readouterr().err)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["s.qtlog"]


def test_unwritable_out_is_one_line(tmp_path, capsys):
    folder = unwritable_folder(tmp_path)
    out = folder / "s.qtlog"
    assert main(["synth", *SMALL, "--out", str(out)]) in (1, 2)
    line = one_line_error(capsys.readouterr().err)
    assert str(out) in line and ".partial" not in line
    assert not out.exists() and partial_files(out) == []
    assert main(["synth", *SMALL, "--out", str(tmp_path / "nowhere" / "s.qtlog")]) == 2
    assert "does not exist" in one_line_error(capsys.readouterr().err)


def test_sigint_mid_synth_exits_130_and_leaves_no_log(tmp_path):
    out = tmp_path / "s.qtlog"
    argv = ["synth", "--days", "30", "--seed", "1", "--signal", "0.3", "--trades-per-day", "20000"]
    status, err = interrupt_mid_job([*argv, "--out", str(out)], out)
    assert status == 130
    assert err.strip() == "quantumtrader: interrupted", err
    assert not out.exists() and partial_files(out) == []


def test_progress_bar_on_a_terminal_only(tmp_path):
    argv = ["synth", "--days", "3", "--seed", "1", "--signal", "0.3", "--trades-per-day", "2000"]
    status, shown = run_on_a_terminal([*argv, "--out", str(tmp_path / "a.qtlog")])
    assert status == 0
    assert "synth WDOFUT" in shown and "/3" in shown  # the bar counts sessions
    quiet = subprocess.run([*COMMAND, *argv, "--out", str(tmp_path / "b.qtlog")], capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""
    with read_event_log(tmp_path / "b.qtlog") as log:
        sessions = log.events[log.events["type"] == EventType.SESSION]
        assert len(sessions) == 3


def test_days_past_the_calendar_are_refused_before_generating(tmp_path, capsys):
    out = tmp_path / "s.qtlog"
    assert main(["synth", *SMALL, "--days", "2", "--start-date", "2030-12-30", "--out", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "--days 2 from 2030-12-30 goes past the trading calendar" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["synth", "demo"])
def test_help(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "--signal" in capsys.readouterr().out
