"""Is the promotion gate honest?  On a market with nothing to find
(``quantumtrader synth --signal 0``: the mid is a martingale) the gate must
refuse the model for at least 19 seeds of 20 (95 %).

For each seed 1..N, through the installed CLI (``python -m quantumtrader``,
the very commands a user runs), in a folder of its own:

1. ``synth --days D --seed S --signal 0`` writes the training log
   (sessions from ``--start-date``);
2. ``synth --days 1 --seed S + 1000003 --signal 0`` writes a fresh
   out-of-sample day: the session right after the training ones, from
   another random stream;
3. ``train --data TRAIN --out MODEL [--set ...] [--config ...]``;
4. ``validate MODEL --data FRESH``: exit 0 = the gate passes, 1 = it refuses.

A seed whose command fails otherwise (any other exit status) is an
*error*: neither refused nor passed, so it counts against the target.
Prints one line per seed, then the count and a final line ending ``ok``
(refused >= ceil(0.95 * N) and no error) or ``over``.  Exit status: 0 ok,
1 over, 2 bad arguments, 130 interrupted.  The work folder is a fresh
``gate-honesty-*`` folder inside ``--workdir`` (kept, for a look at the
models), or a temporary one removed at the end.

Run: ``python tools/gate_honesty.py [--seeds 20] [--days 5] [--workdir DIR]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

FRESH_SEED_OFFSET = 1_000_003  # the fresh day's seed: S + this, a stream training never saw
DEFAULT_START = "2026-03-02"
REFUSE_SHARE = 0.95  # the issue: "at least 19 of 20 seeds"

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gate_honesty.py",
        description="Train and validate on synthetic markets with no signal (synth --signal 0), one per "
        "seed, and count how often the promotion gate refuses the model (target: at least 95% of the seeds).",
    )
    p.add_argument("--seeds", type=_positive, default=20, help="seeds 1..N to run (default 20)")
    p.add_argument("--days", type=_positive, default=5, help="training sessions per seed (default 5)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="existing folder to keep the logs and models in "
                   "(default: a temporary folder, removed at the end)")
    p.add_argument("--start-date", type=_date, default=dt.date.fromisoformat(DEFAULT_START),
                   help=f"first training session on or after this date (default {DEFAULT_START})")
    p.add_argument("--instrument", default="WDOFUT", help="instrument passed to synth (default WDOFUT)")
    p.add_argument("--trades-per-day", type=_positive, default=None,
                   help="average trades per session passed to synth (default: the instrument's profile)")
    p.add_argument("--set", dest="feature_set", choices=("qt65", "qt77"), default=None,
                   help="feature set passed to train (default: train's own)")
    p.add_argument("--config", type=Path, default=None, help="train.toml passed to train")
    return p


def check_arguments(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments beyond their syntax, naming the flag; None when fine."""
    if args.workdir is not None and not args.workdir.is_dir():
        return f"--workdir {args.workdir} is not an existing folder"
    if args.config is not None and not args.config.is_file():
        return f"--config {args.config}: no such file"
    return None


def fresh_day(start: dt.date, days: int, instrument: str) -> dt.date:
    """The session right after the ``days`` training sessions from ``start``."""
    from quantumtrader.calendar import default_calendar

    cal = default_calendar()
    root = cal.instrument(instrument).root
    day = start if cal.is_session(start, root) else cal.next_session(start)
    for _ in range(days):
        day = cal.next_session(day)
    return day


@dataclass(frozen=True)
class SeedPlan:
    """The four commands of one seed (argument lists after ``python -m quantumtrader``)."""

    seed: int
    folder: Path
    synth_train: list[str]
    synth_fresh: list[str]
    train: list[str]
    validate: list[str]


def plan_seed(args: argparse.Namespace, seed: int, run_dir: Path, fresh: dt.date) -> SeedPlan:
    folder = run_dir / f"seed-{seed:02d}"
    train_log, fresh_log, model = folder / "train.qtlog", folder / "fresh.qtlog", folder / "model"
    common = ["--signal", "0", "--instrument", args.instrument]
    if args.trades_per_day is not None:
        common += ["--trades-per-day", str(args.trades_per_day)]
    synth_train = ["synth", "--days", str(args.days), "--seed", str(seed), "--start-date",
                   args.start_date.isoformat(), *common, "--out", str(train_log)]
    synth_fresh = ["synth", "--days", "1", "--seed", str(seed + FRESH_SEED_OFFSET), "--start-date",
                   fresh.isoformat(), *common, "--out", str(fresh_log)]
    train = ["train", "--data", str(train_log), "--out", str(model)]
    if args.feature_set is not None:
        train += ["--set", args.feature_set]
    if args.config is not None:
        train += ["--config", str(args.config)]
    validate = ["validate", str(model), "--data", str(fresh_log)]
    return SeedPlan(seed, folder, synth_train, synth_fresh, train, validate)


def run_cli(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """One ``quantumtrader`` command in a child process, output captured."""
    return subprocess.run([sys.executable, "-m", "quantumtrader", *argv], capture_output=True, text=True,
                          check=False)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_seed(plan: SeedPlan, run: Runner = run_cli) -> tuple[str, str]:
    """("refused" | "passed" | "error", one line saying why)."""
    plan.folder.mkdir(parents=True)
    for step in (plan.synth_train, plan.synth_fresh, plan.train):
        done = run(step)
        if done.returncode != 0:
            why = _last_line(done.stderr) or _last_line(done.stdout)
            return "error", f"{step[0]} exited {done.returncode}: {why}"
    done = run(plan.validate)
    summary = _last_line(done.stdout) or _last_line(done.stderr)
    if done.returncode == 1:
        return "refused", summary
    if done.returncode == 0:
        return "passed", summary
    return "error", f"validate exited {done.returncode}: {summary}"


def verdict(counts: dict[str, int], seeds: int) -> tuple[str, bool]:
    """The final line and whether the target is met."""
    target = math.ceil(REFUSE_SHARE * seeds)
    met = counts["refused"] >= target and counts["error"] == 0
    line = (f"gate refused {counts['refused']} of {seeds} seeds on synth --signal 0 "
            f"(passed {counts['passed']}, errors {counts['error']}; target >= {target} refused)  "
            f"{'ok' if met else 'over'}")
    return line, met


def main(argv: Sequence[str] | None = None, run: Runner = run_cli) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = check_arguments(args)
    if problem is not None:
        parser.error(problem)
    from quantumtrader.calendar import CalendarRangeError, UnknownInstrumentError

    try:
        fresh = fresh_day(args.start_date, args.days, args.instrument)
    except UnknownInstrumentError as exc:
        parser.error(f"--instrument {args.instrument}: {exc.args[0] if exc.args else exc}")
    except CalendarRangeError as exc:
        parser.error(f"--days {args.days} from --start-date {args.start_date} and a fresh day after them "
                     f"go past the trading calendar: {exc}")
    temporary = args.workdir is None
    run_dir = Path(tempfile.mkdtemp(prefix="gate-honesty-", dir=args.workdir))
    counts = {"refused": 0, "passed": 0, "error": 0}
    try:
        print(f"{args.seeds} seeds, {args.days} training day(s) from {args.start_date}, fresh day {fresh}; "
              f"work folder {run_dir}" + (" (temporary)" if temporary else ""), flush=True)
        for seed in range(1, args.seeds + 1):
            started = time.monotonic()
            outcome, why = run_seed(plan_seed(args, seed, run_dir, fresh), run)
            counts[outcome] += 1
            print(f"seed {seed:>3}: {outcome:<7} {time.monotonic() - started:6.1f} s  {why}", flush=True)
    except KeyboardInterrupt:
        print("gate_honesty.py: interrupted", file=sys.stderr)
        return 130
    finally:
        if temporary:
            shutil.rmtree(run_dir, ignore_errors=True)
    line, met = verdict(counts, args.seeds)
    print(line)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
