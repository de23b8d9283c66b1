"""``quantumtrader validate models/NAME --data LOG_OR_CSV...``: re-evaluate a
model bundle on other data with its compiled ensemble and apply the promotion
gate (:mod:`quantumtrader.models.validation`); the verdict is written into
the bundle's manifest.

Exit status: 0 the gate passed (promoted), 1 the gate refused (unpromoted;
the failed criteria are listed), 2 bad input, bundle or arguments."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

PROG = "quantumtrader validate"


def add_validate_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate",
        help="re-evaluate a model bundle on other data and apply the promotion gate",
        description="Re-evaluate a model bundle on other event logs or Profit CSV exports (its own "
        "sampler, labels and compiled ensemble) and apply the promotion gate: win rate > 55%%, "
        "Sharpe > 1.5, maximum drawdown < 5%%, deflated-Sharpe probability > 0.95. Exit 0 when it "
        "passes, 1 when it refuses; the bundle's manifest records the verdict.",
    )
    p.add_argument("bundle", metavar="DIR", help="model bundle directory (quantumtrader train --out)")
    p.add_argument("--data", nargs="+", required=True, metavar="LOG_OR_CSV",
                   help="event logs or Profit CSV exports the model was not trained on")
    p.add_argument("--report", metavar="DIR",
                   help="also write the validation report (report.json, report.html) into DIR")
    p.set_defaults(func=run_validate)


def check_report_folder(report: str, inputs: list[str]) -> None:
    """--report names a folder (made when missing) that is no input and no file."""
    from quantumtrader.output_path import OutputPathError

    for src in inputs:
        if os.path.exists(src) and os.path.exists(report) and os.path.samefile(src, report):
            raise OutputPathError(f"--report {report} is also an input: choose another folder")
    if os.path.exists(report) and not os.path.isdir(report):
        raise OutputPathError(f"--report {report} is a file: give a folder")


def _error(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def run_validate(args: argparse.Namespace) -> int:
    from quantumtrader.models.bundle import BundleError, ModelBundle
    from quantumtrader.models.config import ConfigError
    from quantumtrader.models.dataset import TrainingDataError, extract_rows
    from quantumtrader.models.report import ReportError, report_console, report_table, write_report
    from quantumtrader.models.validation import validate_bundle
    from quantumtrader.output_path import OutputPathError

    try:
        if args.report:
            check_report_folder(args.report, [*args.data, args.bundle])
        bundle = ModelBundle.load(args.bundle)
        rows = [extract_rows(p) for p in args.data]
        v = validate_bundle(bundle, rows)
    except (BundleError, ConfigError, TrainingDataError, OutputPathError) as e:
        _error(e)
        return 2
    report_console().print(report_table(v.result, f"Validation on {len(args.data)} input(s), out of sample"))
    try:
        bundle.mark_promoted(v.passed, v.result["gate"])
        if args.report:
            os.makedirs(args.report, exist_ok=True)
            write_report(v.result, args.report)
    except (BundleError, ReportError, OSError) as e:
        _error(e)
        return 2
    print(f"validate {args.bundle} on {len(args.data)} input(s)")
    if v.passed:
        print("  gate passed: the bundle is promoted")
        return 0
    print("  gate refused: the bundle is unpromoted")
    for f in v.failures:
        print(f"    {f}")
    return 1
