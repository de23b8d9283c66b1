"""``quantumtrader train --data LOG_OR_CSV... --out models/NAME``: train a
Random Forest + XGBoost ensemble on the feature engine's rows of the inputs,
validated by purged walk-forward cross-validation, into a model bundle
(:mod:`quantumtrader.models.train_job`).

Exit status: 0 trained, 2 bad input, configuration or arguments (nothing
written), 1 failed part way (nothing written either: the bundle appears only
when complete)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from quantumtrader.cli import arguments as arg
from quantumtrader.features.schema import FEATURE_SETS

PROG = "quantumtrader train"


def add_train_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a model bundle (Random Forest + XGBoost) from event logs or Profit CSV exports",
        description="Train a model bundle from event logs or Profit CSV exports: features from the C "
        "engine, decision points from the sampler, triple-barrier labels, purged walk-forward "
        "cross-validation with an embargo, a Random Forest and an XGBoost model soft-voted, compiled "
        "with treelite/tl2cgen. A qt77 model needs book data (event logs from record, import or synth); "
        "Profit CSV exports have no book: use --set qt65 for them.",
    )
    p.add_argument("--data", nargs="+", required=True, metavar="LOG_OR_CSV",
                   help="event logs or Profit CSV exports of one instrument (WDO or WIN)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="model bundle directory to write (e.g. models/NAME)")
    p.add_argument("--set", dest="feature_set", choices=sorted(FEATURE_SETS),
                   help="feature set (default: the configuration's, qt77)")
    p.add_argument("--config", metavar="TRAIN.toml", help="training configuration (default: built-in)")
    p.add_argument("--sweep", metavar="SWEEP.toml",
                   help="train every configuration of a grid under the same walk-forward and keep the best "
                   "by out-of-fold criteria")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="Dask scheduler address (tcp://host:port); default: a local cluster of "
                   "--workers processes")
    p.add_argument("--workers", type=arg.count, default=2, help="local Dask worker processes (default 2)")
    p.add_argument("--serial", action="store_true", help="no Dask: run every task in this process")
    p.add_argument("--replace", action="store_true", help="replace an existing bundle at --out")
    p.set_defaults(func=run_train)


def _error(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def run_train(args: argparse.Namespace) -> int:
    from quantumtrader.models.bundle import BundleError
    from quantumtrader.models.config import ConfigError, load_config
    from quantumtrader.models.dataset import TrainingDataError
    from quantumtrader.models.report import report_console, report_table
    from quantumtrader.models.train_job import check_train_output, run_train_job
    from quantumtrader.output_path import OutputPathError

    if args.workers < 1 and not args.serial and not args.cluster:
        _error("--workers must be at least 1 (or use --serial)")
        return 2
    try:
        cfg = load_config(args.config)
        if args.feature_set:
            cfg = cfg.with_overrides({"feature_set": args.feature_set}, "--set")
        check_train_output(args.out, args.data, replace=args.replace)
    except (ConfigError, OutputPathError, BundleError) as e:
        _error(e)
        return 2
    try:
        job = run_train_job(args.data, args.out, cfg, sweep_path=args.sweep, cluster=args.cluster,
                            workers=args.workers, serial=args.serial, replace=args.replace)
    except (ConfigError, TrainingDataError) as e:
        _error(f"{e}; nothing written")
        return 2
    except (BundleError, OSError, ValueError) as e:
        _error(f"{e}; nothing written")
        return 1
    console = report_console()
    console.print(report_table(job.trained.result))
    gate = job.trained.result["gate"]
    print(f"train {len(args.data)} input(s) -> {args.out}")
    s = job.trained.samples.counts
    print(f"  samples         {s['samples']:,} of {s['decision_points']:,} decision points in "
          f"{s['rows']:,} rows")
    if job.sweep is not None:
        print(f"  sweep           {job.sweep.n_trials} configurations; best by {job.sweep.criterion}")
    print("  weights         " + ", ".join(f"{k} {v:.3f}" for k, v in job.trained.weights.items()))
    print(f"  out-of-fold gate {'passed' if gate['passed'] else 'refused: ' + '; '.join(gate['failures'])}")
    print(f"  report          {args.out}/report.html")
    print("  the bundle is unpromoted until `quantumtrader validate` passes it on other data")
    return 0
