"""Progress on a terminal, silence in a log: ``features`` and ``audit`` draw a
bar (the size is known), ``record`` a live status line; none of it when
stderr is not a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from quantumtrader import progress
from quantumtrader.cli import main
from quantumtrader.data.synth import write_synthetic_log


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "wdo.qtlog"
    write_synthetic_log(path, days=1, seed=4, signal=0.0, trades_per_day=300)
    return path


def _terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    screen = io.StringIO()
    monkeypatch.setattr(progress, "progress_console",
                        lambda: Console(file=screen, force_terminal=True, width=120))
    return screen


COMMANDS = {
    "features": lambda log, tmp: ["features", str(log), "--out", str(tmp / "f.parquet")],
    "audit": lambda log, tmp: ["audit", str(log)],
    "record": lambda log, tmp: ["record", "--venue", "sim", "--out", str(tmp / "rec"), "--replay", str(log)],
}
SHOWN = {"features": "features wdo.qtlog", "audit": "audit wdo.qtlog", "record": "recording WDO"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_progress_on_a_terminal(log, tmp_path, monkeypatch, command):
    screen = _terminal(monkeypatch)
    assert main(COMMANDS[command](log, tmp_path)) == 0
    assert SHOWN[command] in screen.getvalue()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_quiet_when_not_a_terminal(log, tmp_path, capsys, command):
    assert main(COMMANDS[command](log, tmp_path)) == 0
    err = capsys.readouterr().err
    assert SHOWN[command] not in err and "\r" not in err and "\x1b[" not in err
