"""The job of ``quantumtrader train``: inputs -> rows -> (sweep) -> models -> bundle.

1. Feature rows of every input, one Dask task per input (the same engine as
   everywhere; :func:`quantumtrader.models.dataset.extract_rows`).
2. With a sweep: every configuration of the grid evaluated out of fold, one
   Dask task each, under the same purged walk-forward; the best by the
   sweep's out-of-fold criterion; the number of trials and the spread of
   their Sharpe ratios go to the deflated Sharpe of the chosen one.
3. The chosen configuration trained (:func:`quantumtrader.models.training.train`),
   the bundle written aside and renamed into place with its report
   (JSON, HTML) beside the manifest.

A Dask run gives the same results as a serial one: every task is a pure
function of its input and seeds, and results come back in input order."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quantumtrader.models.config import ConfigError, TrainConfig
from quantumtrader.models.dataset import InputRows, extract_rows
from quantumtrader.models.training import TrainedModels, build_samples, evaluate_oof, train


@dataclass
class TrainJobResult:
    bundle_dir: str
    trained: TrainedModels
    sweep: Any | None  # SweepResult
    inputs: list[dict[str, Any]]


def evaluate_trial(overrides: dict[str, Any], *, rows: list[InputRows],
                   base: dict[str, Any]) -> dict[str, Any]:
    """One sweep configuration, out of fold only (a Dask task: a pure function)."""
    cfg = TrainConfig.from_dict(base, "config").with_overrides(overrides, "sweep")
    samples = build_samples(rows, cfg)
    result = evaluate_oof(samples, cfg)
    return {
        "overrides": overrides,
        "oof_log_loss": result["oof_log_loss"],
        "oof_sharpe_per_trade": _nan_if_none(result["oof_sharpe_per_trade"]),
        "oof_accuracy": result["overall"]["accuracy"],
        "prior": result["overall"]["prior"],
        "trades": result["overall"]["trading"]["trades"],
        "net_pnl_brl": result["overall"]["trading"]["net_pnl_brl"],
        "samples": result["samples"]["samples"],
    }


def _nan_if_none(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def validate_sweep_overrides(base: TrainConfig) -> Callable[[dict[str, Any]], None]:
    def check(overrides: dict[str, Any]) -> None:
        base.with_overrides(overrides, "sweep")

    return check


def load_rows(paths: list[str], runner: Any) -> list[InputRows]:
    """Feature rows of every input, one task each, in the order given."""
    return runner.map(extract_rows, list(paths), desc="features")


def check_train_output(out: str, paths: list[str], *, replace: bool = False) -> None:
    """Before minutes of work: ``out`` is no input, and an existing bundle is
    replaced only when asked.  Raises OutputPathError."""
    from quantumtrader.output_path import OutputPathError, check_output

    check_output(out, paths)
    if os.path.exists(out) and not replace:
        raise OutputPathError(f"{out} exists: give --replace to replace it, or another --out")
    if os.path.exists(out) and not os.path.isdir(out):
        raise OutputPathError(f"{out} exists and is not a directory")


def run_train_job(paths: list[str], out: str, cfg: TrainConfig, *, sweep_path: str | None = None,
                  cluster: str | None = None, workers: int = 2, serial: bool = False, replace: bool = False,
                  progress: Callable[[str, int, int], None] | None = None) -> TrainJobResult:
    """Train from ``paths`` into the bundle directory ``out`` (see module docstring)."""
    import numpy as np

    from quantumtrader.models.cluster import TaskRunner
    from quantumtrader.models.report import write_report
    from quantumtrader.models.sweep import load_sweep, run_sweep

    sweep = load_sweep(sweep_path, validate_sweep_overrides(cfg)) if sweep_path else None
    with TaskRunner(cluster, workers=workers, serial=serial) as runner:
        rows = load_rows(paths, runner)
        sweep_result = None
        n_trials, sr_variance = 1, 0.0
        if sweep is not None:
            sweep_result = run_sweep(sweep, evaluate_trial, runner,
                                     shared={"rows": rows, "base": cfg.to_dict()})
            best = sweep_result.trials[sweep_result.best_index]
            cfg = cfg.with_overrides(best["configuration"], sweep_path or "sweep")
            n_trials = sweep_result.n_trials
            sr_variance = sweep_result.sr_variance if np.isfinite(sweep_result.sr_variance) else 0.0
    trained = train(rows, cfg, n_trials=n_trials, sr_variance=sr_variance, progress=progress)
    inputs = [r.describe() for r in rows]
    sweep_record = None if sweep_result is None else {
        "file": os.path.basename(sweep_path or ""), **sweep_result.summary()}
    bundle = bundle_of(trained, cfg, rows, n_trials=n_trials, sr_variance=sr_variance, sweep=sweep_record)
    bundle.save(out, replace=replace, compile=True)  # this host's libraries built before the rename
    write_report(trained.result, out)  # beside the manifest, for people (not part of the checksums)
    return TrainJobResult(out, trained, sweep_result, inputs)


def bundle_of(trained: TrainedModels, cfg: TrainConfig, rows: list[InputRows], *, n_trials: int,
              sr_variance: float, sweep: dict[str, Any] | None) -> Any:
    """The bundle of a training run: models, weights and every parameter live
    trading and validation need to see the data as training did."""
    from quantumtrader.models.bundle import ModelBundle

    result = trained.result
    dates = sorted(d for r in rows for d in r.dates)
    training = {
        "inputs": [r.describe() for r in rows],
        "instruments": sorted({r.instrument for r in rows}),
        "instrument_root": trained.samples.root,
        "first_date": dates[0] if dates else None,
        "last_date": dates[-1] if dates else None,
        "samples": dict(trained.samples.counts),
        "config": cfg.to_dict(),
        "n_trials": int(n_trials),
        "sr_variance": float(sr_variance),
        "sweep": sweep,
    }
    metrics = {"overall": result["overall"], "folds": result["folds"], "weights": result["weights"]}
    return ModelBundle(
        trained.schema, {"forest": trained.forest, "xgboost": trained.xgboost}, trained.weights,
        session=rows[0].session_parameters, sampler=cfg.sampler.to_dict(), labels=cfg.to_dict()["barriers"],
        training=training, metrics=metrics, model_config=cfg.to_dict()["model"],
        gate={"stage": "out-of-fold (train)", **result["gate"]}, promoted=False,
    )


__all__ = ["ConfigError", "TrainJobResult", "run_train_job"]
