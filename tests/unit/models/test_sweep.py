"""Sweeps: the grid's cartesian product in a stable order, files refused
with the file and key named, the best trial picked by an out-of-fold figure
only, every trial's Sharpe kept for the deflated Sharpe, and a small sweep
on a two-worker local Dask cluster identical to the serial run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict

from quantumtrader.models.cluster import TaskRunner
from quantumtrader.models.sweep import Sweep, SweepError, load_sweep, run_sweep

SWEEP = """\
[model]
kind = "logistic"

[sampler]
kind = "cusum"

[grid]
"sampler.threshold" = [1.0, 2.0]
"barriers.horizon_s" = [120, 300]
model.c = [0.01, 1.0, 100.0]
"""


def _write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


KNOWN = {"model": {"kind", "c"}, "sampler": {"kind", "threshold"}, "barriers": {"horizon_s"}}


def validate(settings: dict[str, Any]) -> None:
    """What the integrator's validator does: unknown sections and keys, bad types."""
    for section, table in settings.items():
        if section not in KNOWN:
            raise ValueError(f"unknown section [{section}]")
        for key, value in table.items():
            if key not in KNOWN[section]:
                raise ValueError(f"unknown key {section}.{key}")
            if key == "c" and value <= 0:
                raise ValueError(f"model.c must be > 0, not {value}")


def test_configurations_are_the_product_in_file_order(tmp_path: Path) -> None:
    sweep = load_sweep(_write(tmp_path, SWEEP), validate)
    assert sweep.n_trials == 12
    points = sweep.points()
    assert list(points[0]) == ["sampler.threshold", "barriers.horizon_s", "model.c"]
    assert [tuple(p.values()) for p in points[:4]] == [
        (1.0, 120, 0.01), (1.0, 120, 1.0), (1.0, 120, 100.0), (1.0, 300, 0.01)
    ]
    assert len({tuple(p.values()) for p in points}) == 12
    configs = sweep.configurations()
    assert configs[5] == {
        "model": {"kind": "logistic", "c": 100.0},
        "sampler": {"kind": "cusum", "threshold": 1.0},
        "barriers": {"horizon_s": 300},
    }
    configs[0]["model"]["kind"] = "changed"  # each configuration is its own copy
    assert sweep.configurations()[0]["model"]["kind"] == "logistic"
    assert sweep.base == {"model": {"kind": "logistic"}, "sampler": {"kind": "cusum"}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[model]\nkind = 1\n", r"no \[grid\] table"),
        ("[grid]\n", r"\[grid\] is empty"),
        ('[grid]\n"model.c" = 3\n', r'\[grid\] "model.c" must be a non-empty list'),
        ('[grid]\n"model.c" = []\n', r'\[grid\] "model.c" must be a non-empty list'),
        ('[grid]\n"model.c" = [1, 2, 1]\n', r'\[grid\] "model.c" lists 1 twice'),
        ('[grid]\n"model..c" = [1]\n', r'\[grid\] "model..c" is not a setting path'),
        ('[model]\nc = 1\n[grid]\n"model.c" = [1, 2]\n', r'"model.c" is also set in the base settings'),
        ('model = 3\n[grid]\n"model.c" = [1, 2]\n',
         r'"model.c" goes into model, which the base settings set to 3'),
        ("[grid\n", r"not valid TOML"),
        ('[grid]\n"model.c" = [1.0]\n"model.c" = [2.0]\n', r"not valid TOML"),
    ],
)
def test_bad_sweep_files_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SweepError, match=message) as info:
        load_sweep(path, validate)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_validator_errors_name_the_file_and_the_grid_point(tmp_path: Path) -> None:
    unknown_base = _write(tmp_path, '[modle]\nkind = "x"\n[grid]\n"model.c" = [1.0]\n', "a.toml")
    with pytest.raises(SweepError, match=r"a\.toml: unknown section \[modle\]$"):
        load_sweep(unknown_base, validate)
    unknown_grid = _write(tmp_path, '[grid]\n"model.trees" = [1]\n', "b.toml")
    with pytest.raises(SweepError, match=r'b\.toml: \[grid\] model.trees=1: unknown key model.trees$'):
        load_sweep(unknown_grid, validate)
    bad_value = _write(tmp_path, '[grid]\n"model.c" = [1.0, -1.0]\n', "c.toml")
    with pytest.raises(SweepError, match=r"c\.toml: \[grid\] model.c=-1.0: model.c must be > 0, not -1.0$"):
        load_sweep(bad_value, validate)


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match=r"no such sweep file$"):
        load_sweep(tmp_path / "absent.toml")
    with pytest.raises(SweepError, match=r"is a folder"):
        load_sweep(tmp_path)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe[grid]")
    with pytest.raises(SweepError, match=r"bin\.toml: not valid TOML"):
        load_sweep(binary)


# ---------------------------------------------------------------- run_sweep


def table_of(settings: dict[str, Any]) -> dict[str, Any]:
    """A deterministic evaluate without sklearn: the result is a function of
    the configuration (used to check the picking rules)."""
    return dict(settings["result"])


def _sweep_of(results: list[dict[str, Any]]) -> Sweep:
    return Sweep(base={}, grid={"result": results})


def test_best_is_picked_by_the_criterion_and_nan_never_wins() -> None:
    sweep = _sweep_of([
        {"oof_log_loss": 1.05, "oof_sharpe_per_trade": 0.10, "in_sample_log_loss": 0.1},
        {"oof_log_loss": math.nan, "oof_sharpe_per_trade": 0.50},
        {"oof_log_loss": 0.98, "oof_sharpe_per_trade": -0.20},
        {"oof_log_loss": 0.98, "oof_sharpe_per_trade": 0.30},
    ])
    with TaskRunner(serial=True) as runner:
        result = run_sweep(sweep, table_of, runner)
        assert result.best_index == 2  # the tie goes to the earlier trial
        assert result.n_trials == 4 and result.criterion == "oof_log_loss"
        assert result.sharpes == [0.10, 0.50, -0.20, 0.30]
        assert result.sr_variance == pytest.approx(np.var([0.10, 0.50, -0.20, 0.30], ddof=1))
        by_sharpe = run_sweep(sweep, table_of, runner, criterion="oof_sharpe_per_trade", minimize=False)
        assert by_sharpe.best_index == 1
    summary = result.summary()
    assert summary["trials"][3] == {
        "index": 3, "parameters": {"result": sweep.grid["result"][3]}, "criterion": 0.98, "sharpe": 0.30
    }
    assert summary["best_index"] == 2 and summary["n_trials"] == 4


def test_sharpe_absent_is_nan_and_variance_needs_two() -> None:
    sweep = _sweep_of([{"oof_log_loss": 1.0, "oof_sharpe_per_trade": 0.2}, {"oof_log_loss": 0.9}])
    with TaskRunner(serial=True) as runner:
        result = run_sweep(sweep, table_of, runner)
    assert math.isnan(result.sharpes[1]) and math.isnan(result.sr_variance)


@pytest.mark.parametrize(
    ("results", "criterion", "message"),
    [
        ([{"oof_log_loss": 1.0}], "log_loss", r"not an out-of-fold figure"),
        ([{"oof_log_loss": 1.0}, {"log_loss": 0.5}], "oof_log_loss",
         r"^trial 1 \(result=\{'log_loss': 0\.5\}\): the result has no 'oof_log_loss' "
         r"\(it has no oof_\* keys\)$"),
        ([{"oof_log_loss": "low"}], "oof_log_loss", r"oof_log_loss is 'low', not a number"),
        ([{"oof_log_loss": math.nan}, {"oof_log_loss": math.nan}], "oof_log_loss",
         r"^no trial has a finite oof_log_loss"),
    ],
)
def test_results_that_cannot_be_compared(results: list[dict[str, Any]], criterion: str, message: str) -> None:
    with TaskRunner(serial=True) as runner, pytest.raises(SweepError, match=message):
        run_sweep(_sweep_of(results), table_of, runner, criterion=criterion)


def fit_and_score(settings: dict[str, Any], *, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Real work, deterministic: out-of-fold probabilities of a logistic
    regression (time-ordered folds) and a toy per-trade Sharpe of its signal."""
    model = LogisticRegression(C=settings["model"]["c"], max_iter=500)
    shift = settings["features"]["shift"]
    Xs = X + shift
    proba = cross_val_predict(model, Xs, y, cv=KFold(4), method="predict_proba")
    eps = 1e-15
    log_loss = float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], eps, 1))))
    pnl = np.where(proba.argmax(axis=1) == y, 1.0, -1.0)
    return {"oof_log_loss": log_loss, "oof_sharpe_per_trade": float(pnl.mean() / pnl.std(ddof=1))}


def test_sweep_on_two_local_workers_equals_serial() -> None:
    rng = np.random.default_rng(11)
    X = rng.standard_normal((600, 8))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.standard_normal(600) > 0).astype(int)
    sweep = Sweep(base={}, grid={"model.c": [0.001, 0.1, 10.0], "features.shift": [0.0, 3.0]})
    shared = {"X": X, "y": y}
    with TaskRunner(serial=True) as serial:
        expected = run_sweep(sweep, fit_and_score, serial, shared=shared)
    with TaskRunner(workers=2) as local:
        got = run_sweep(sweep, fit_and_score, local, shared=shared)
    assert got.n_trials == expected.n_trials == 6
    assert got.best_index == expected.best_index
    assert [t["result"] for t in got.trials] == [t["result"] for t in expected.trials]
    assert got.sharpes == expected.sharpes
    assert len({t["criterion"] for t in got.trials}) > 1  # the grid matters
    assert got.best["parameters"]["model.c"] != 0.001  # too much regularisation loses
