"""tools/gate_honesty.py's arguments and bookkeeping: the flags, one-line
errors naming them, the four commands of a seed written with the CLI's
flags (synth --signal 0, train --data --out [--set] [--config], validate
MODEL --data), and the verdict line.  The full run needs ``train`` and
``validate`` and takes minutes: it is run by hand, not here."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from tool_scripts import load_tool

from quantumtrader.calendar import default_calendar

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "gate_honesty.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    return load_tool("gate_honesty")


def test_help_lists_the_flags() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0
    for flag in ("--seeds", "--days", "--fresh-days", "--workdir", "--start-date", "--instrument",
                 "--trades-per-day", "--set", "--config"):
        assert flag in done.stdout


def test_defaults(tool: ModuleType) -> None:
    args = tool.build_parser().parse_args([])
    assert (args.seeds, args.days, args.workdir, args.feature_set, args.config) == (20, 5, None, None, None)
    assert tool.check_arguments(args) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "0"], "argument --seeds: must be at least 1 (got 0)"),
        (["--days", "two"], "argument --days: 'two' is not a whole number"),
        (["--set", "qt99"], "argument --set: invalid choice: 'qt99'"),
        (["--start-date", "2026-13-01"], "argument --start-date: '2026-13-01' is not a date YYYY-MM-DD"),
        (["--workdir", "/nonexistent/gate"], "--workdir /nonexistent/gate is not an existing folder"),
        (["--config", "/nonexistent/train.toml"], "--config /nonexistent/train.toml: no such file"),
        (["--instrument", "XYZ"], "--instrument XYZ: unknown instrument 'XYZ'"),
        (["--days", "5000"], "--days 5000 from --start-date 2026-03-02 and a fresh day after them go past"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_flag(
    tool: ModuleType, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    def never(argv: list[str]) -> subprocess.CompletedProcess[str]:
        raise AssertionError("no command may run after bad arguments")

    with pytest.raises(SystemExit) as info:
        tool.main(argv, run=never)
    assert info.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("gate_honesty.py: error:")]
    assert len(errors) == 1 and message in errors[0]


def test_commands_of_a_seed(tool: ModuleType, tmp_path: Path) -> None:
    config = tmp_path / "train.toml"
    config.write_text("")
    args = tool.build_parser().parse_args(
        ["--days", "3", "--set", "qt77", "--config", str(config), "--trades-per-day", "2000"]
    )
    fresh = tool.fresh_day(args.start_date, args.days, args.instrument)
    plan = tool.plan_seed(args, 7, tmp_path, fresh)
    folder = tmp_path / "seed-07"
    assert plan.folder == folder
    assert plan.synth_train == [
        "synth", "--days", "3", "--seed", "7", "--start-date", "2026-03-02", "--signal", "0",
        "--instrument", "WDOFUT", "--trades-per-day", "2000", "--out", str(folder / "train.qtlog"),
    ]
    assert plan.synth_fresh[:7] == ["synth", "--days", "5", "--seed", str(7 + tool.FRESH_SEED_OFFSET),
                                    "--start-date", fresh.isoformat()]
    assert plan.synth_fresh[-2:] == ["--out", str(folder / "fresh.qtlog")]
    assert plan.train == ["train", "--data", str(folder / "train.qtlog"), "--out", str(folder / "model"),
                          "--set", "qt77", "--config", str(config)]
    assert plan.validate == ["validate", str(folder / "model"), "--data", str(folder / "fresh.qtlog")]
    # the fresh day is the session right after the three training sessions (2026-03-02, 03, 04)
    cal = default_calendar()
    assert fresh == dt.date(2026, 3, 5) and cal.is_session(fresh, "WDO")


def _done(code: int, out: str = "", err: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, out, err)


@pytest.mark.parametrize(
    ("codes", "outcome", "why"),
    [
        ([0, 0, 0, 1], "refused", "gate: refused (win rate 49.0% <= 55%)"),
        ([0, 0, 0, 0], "passed", "gate: refused (win rate 49.0% <= 55%)"),
        ([0, 0, 2], "error", "train exited 2: quantumtrader: error: something"),
        ([0, 0, 0, 3], "error", "validate exited 3: gate: refused (win rate 49.0% <= 55%)"),
    ],
)
def test_outcome_of_a_seed_follows_the_exit_statuses(
    tool: ModuleType, tmp_path: Path, codes: list[int], outcome: str, why: str
) -> None:
    args = tool.build_parser().parse_args([])
    plan = tool.plan_seed(args, 1, tmp_path, dt.date(2026, 3, 9))
    ran: list[list[str]] = []

    def scripted(argv: list[str]) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        code = codes[len(ran) - 1]
        if argv[0] == "validate":
            return _done(code, out="table\ngate: refused (win rate 49.0% <= 55%)\n")
        return _done(code, err="quantumtrader: error: something\n" if code else "")

    assert tool.run_seed(plan, scripted) == (outcome, why)
    assert [argv[0] for argv in ran] == ["synth", "synth", "train", "validate"][: len(codes)]


@pytest.mark.parametrize(
    ("counts", "seeds", "ok"),
    [
        ({"refused": 19, "passed": 1, "error": 0}, 20, True),
        ({"refused": 20, "passed": 0, "error": 0}, 20, True),
        ({"refused": 18, "passed": 2, "error": 0}, 20, False),
        ({"refused": 19, "passed": 0, "error": 1}, 20, False),
        ({"refused": 3, "passed": 0, "error": 0}, 3, True),
        ({"refused": 2, "passed": 1, "error": 0}, 3, False),
    ],
)
def test_verdict(tool: ModuleType, counts: dict[str, int], seeds: int, ok: bool) -> None:
    line, met = tool.verdict(counts, seeds)
    assert met is ok
    assert line.endswith("  ok" if ok else "  over")
    assert line.startswith(f"gate refused {counts['refused']} of {seeds} seeds")


def test_a_whole_run_tallies_and_removes_its_temporary_folder(
    tool: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    folders: list[Path] = []

    def refuse_all_but_seed_2(argv: list[str]) -> subprocess.CompletedProcess[str]:
        if argv[0] == "validate":
            folders.append(Path(argv[1]).parent)
            return _done(0 if folders[-1].name == "seed-02" else 1, out="gate: verdict\n")
        return _done(0)

    assert tool.main(["--seeds", "3", "--days", "1"], run=refuse_all_but_seed_2) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        "gate refused 2 of 3 seeds on synth --signal 0 (passed 1, errors 0; target >= 3 refused)  over"
    )
    assert [line.split()[2] for line in out[1:4]] == ["refused", "passed", "refused"]
    assert folders and not folders[0].parent.exists()  # the temporary work folder is gone
