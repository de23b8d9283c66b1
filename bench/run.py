"""Run the benchmarks: ``python bench/run.py [NAME ...]`` (default: all).

Each bench/bench_<name>.py module has ``run(report)``.  Exit status 1 when a
budget is over, so the command can gate a release."""

from __future__ import annotations

import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
# bench modules import the harness beside them, the references written from the
# spec (tests/reference: not part of the installed package) and the shared-data
# helper (tests/support/shared_data.py) from the tests
sys.path[:0] = [str(HERE), str(TESTS), str(TESTS / "support")]

from harness import Report  # noqa: E402


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))
    report = Report()
    for name in names:
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench_{name}").run(report)
    over = [r.name for r in report.results if r.ok is False]
    tail = f": {', '.join(over)}" if over else ""
    print(f"== {len(report.results)} figures, {len(over)} over budget{tail}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
