"""Configuration sweeps: train every configuration of a grid under the same
purged walk-forward and pick one by out-of-fold criteria only.

A sweep file (``--sweep sweep.toml``) is a TOML table of base settings, the
same tables a training configuration has, plus one ``[grid]`` table whose
keys are dotted paths into those settings and whose values are non-empty
lists of the values to try (quoted or not: ``sampler.threshold = [...]``
is the same key)::

    [model]
    rf_trees = 200              # base: the same in every trial

    [grid]
    "sampler.threshold" = [1.0, 2.0]
    "barriers.horizon_s" = [120, 300]
    "model.xgb_trees" = [100, 300]

Contract:

- ``load_sweep(path, validate)`` reads the file (tomllib) and refuses, with
  a one-line ``SweepError`` naming the file and the key, anything it cannot
  run: invalid TOML, no ``[grid]`` or an empty one, a grid value that is not
  a non-empty list, a value listed twice, a path that is empty, a key set
  both in the base settings and in ``[grid]``, or a path that crosses a
  base value that is not a table.  Unknown sections and keys, and values of
  the wrong type, are for ``validate``: the caller's check of one complete
  configuration, which raises ValueError, TypeError or KeyError with a
  one-line message; it is called on the base settings, then on every
  configuration, so a bad base is reported once and a bad grid value with
  the grid point it came from.
- ``Sweep.configurations()`` lists the cartesian product of the grid in a
  stable order: grid keys in file order, the last key varying fastest
  (``itertools.product``), values in the order listed.  Each configuration
  is a nested dict: a deep copy of the base settings with the grid point
  written at its dotted paths.  ``Sweep.points()`` gives the same trials as
  flat ``{dotted key: value}`` dicts.  ``n_trials`` is their number.
- ``run_sweep(sweep, evaluate, runner, criterion=..., minimize=...)`` calls
  ``evaluate(configuration, **shared)`` for every configuration through a
  ``TaskRunner`` (results identical to a serial run) and picks the best
  trial by ``criterion``, which must be an out-of-fold figure: its name
  starts with ``oof_`` (e.g. ``oof_log_loss``, minimised, or
  ``oof_sharpe``, maximised).  Every result dict must hold the criterion
  as a number; NaN means "not measurable" (e.g. no trades) and never wins;
  ties go to the earlier trial.  Every trial's out-of-fold Sharpe ratio per
  trade (the result's ``oof_sharpe_per_trade``, NaN when absent) is kept,
  so the deflated Sharpe of the chosen model can use the number of trials
  and the variance of the trials' Sharpe ratios (``SweepResult.sr_variance``).
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quantumtrader.models.cluster import TaskRunner

__all__ = ["SHARPE_KEY", "Sweep", "SweepError", "SweepResult", "load_sweep", "run_sweep"]

SHARPE_KEY = "oof_sharpe_per_trade"
"""The result key holding a trial's out-of-fold Sharpe ratio per trade."""

Validator = Callable[[dict[str, Any]], None]


class SweepError(ValueError):
    """A sweep file that cannot be run, or a trial result that cannot be
    compared; the message is one line and names the file or the trial."""


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    lines = str(text).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _quote(key: str) -> str:
    return f'"{key}"'


def _describe(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in point.items())


def _set_path(settings: dict[str, Any], dotted: str, value: Any) -> None:
    *tables, last = dotted.split(".")
    node = settings
    for name in tables:
        node = node.setdefault(name, {})
    node[last] = copy.deepcopy(value)


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file: ``base`` settings (nested, without ``grid``) and
    ``grid`` (dotted key -> values to try, in file order)."""

    base: dict[str, Any]
    grid: dict[str, list[Any]]
    path: Path | None = None

    @property
    def n_trials(self) -> int:
        """Number of configurations: the product of the grid's list lengths."""
        return math.prod(len(values) for values in self.grid.values())

    def points(self) -> list[dict[str, Any]]:
        """The grid points, ``{dotted key: value}``, in trial order."""
        keys = list(self.grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*self.grid.values())]

    def configurations(self) -> list[dict[str, Any]]:
        """One nested settings dict per trial (base + grid point), in trial order."""
        configs = []
        for point in self.points():
            settings = copy.deepcopy(self.base)
            for dotted, value in point.items():
                _set_path(settings, dotted, value)
            configs.append(settings)
        return configs


def _flatten(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``[grid]`` entries as (dotted key, value): ``"a.b" = [...]`` and the
    unquoted ``a.b = [...]`` (a nested table in TOML) mean the same."""
    flat: list[tuple[str, Any]] = []
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.extend(_flatten(value, f"{dotted}."))
        else:
            flat.append((dotted, value))
    return flat


def _check_grid(name: str, base: Mapping[str, Any], grid: Any) -> dict[str, list[Any]]:
    if not isinstance(grid, dict):
        raise SweepError(f"{name}: grid must be a table ([grid]), not a {type(grid).__name__}")
    entries = _flatten(grid)
    if not entries:
        raise SweepError(f"{name}: [grid] is empty: list at least one setting to vary")
    checked: dict[str, list[Any]] = {}
    for dotted, values in entries:
        key = f"[grid] {_quote(dotted)}"
        parts = dotted.split(".")
        if any(not part.strip() for part in parts):
            raise SweepError(f"{name}: {key} is not a setting path (expected e.g. \"sampler.threshold\")")
        if dotted in checked:
            raise SweepError(f"{name}: {key} is listed twice")
        if not isinstance(values, list) or not values:
            raise SweepError(f"{name}: {key} must be a non-empty list of values, not {values!r}")
        for i, value in enumerate(values):
            if value in values[:i]:
                raise SweepError(f"{name}: {key} lists {value!r} twice (each value is one more trial)")
        node: Any = base
        for depth, part in enumerate(parts):
            if not isinstance(node, dict):
                where = ".".join(parts[:depth])
                raise SweepError(f"{name}: {key} goes into {where}, which the base settings set to {node!r}")
            if part not in node:
                break
            node = node[part]
        else:
            raise SweepError(f"{name}: {key} is also set in the base settings: set it in one place")
        checked[dotted] = values
    return checked


def load_sweep(path: str | Path, validate: Validator | None = None) -> Sweep:
    """Read and check a sweep file (see the module docstring)."""
    path = Path(path)
    name = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise SweepError(f"{name}: no such sweep file") from None
    except IsADirectoryError:
        raise SweepError(f"{name}: is a folder, not a sweep file") from None
    except OSError as exc:
        raise SweepError(f"{name}: cannot read ({exc.strerror or _one_line(exc)})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SweepError(f"{name}: not valid TOML ({_one_line(exc)})") from None
    if "grid" not in data:
        raise SweepError(f"{name}: no [grid] table: a sweep lists the values to try under [grid]")
    grid_raw = data.pop("grid")
    base = data
    grid = _check_grid(name, base, grid_raw)
    sweep = Sweep(base=base, grid=grid, path=path)
    if validate is not None:
        try:
            validate(copy.deepcopy(base))
        except (ValueError, TypeError, KeyError) as exc:
            raise SweepError(f"{name}: {_one_line(exc)}") from None
        for point, settings in zip(sweep.points(), sweep.configurations(), strict=True):
            try:
                validate(settings)
            except (ValueError, TypeError, KeyError) as exc:
                raise SweepError(f"{name}: [grid] {_describe(point)}: {_one_line(exc)}") from None
    return sweep


@dataclass(frozen=True)
class SweepResult:
    """Every trial of a sweep and the chosen one.

    ``trials[i]`` = ``{"index": i, "parameters": {dotted key: value},
    "configuration": nested settings, "criterion": float, "sharpe": float
    (the result's ``oof_sharpe_per_trade`` or NaN), "result": the evaluate
    function's dict}``; ``best_index`` is the chosen trial's index."""

    trials: list[dict[str, Any]]
    best_index: int
    n_trials: int
    criterion: str
    minimize: bool = True
    sharpes: list[float] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sharpes", [float(t["sharpe"]) for t in self.trials])

    @property
    def best(self) -> dict[str, Any]:
        """The chosen trial."""
        return self.trials[self.best_index]

    @property
    def sr_variance(self) -> float:
        """Sample variance (ddof=1) of the trials' finite Sharpe ratios, the
        dispersion the deflated Sharpe ratio's expected maximum uses; NaN
        with fewer than two."""
        finite = [s for s in self.sharpes if math.isfinite(s)]
        if len(finite) < 2:
            return math.nan
        mean = math.fsum(finite) / len(finite)
        return math.fsum((s - mean) ** 2 for s in finite) / (len(finite) - 1)

    def summary(self) -> dict[str, Any]:
        """The sweep without the trials' full results, for a manifest or a
        report: criterion, direction, n_trials, best_index, sr_variance and
        per trial its index, parameters, criterion value and Sharpe."""
        return {
            "criterion": self.criterion,
            "minimize": self.minimize,
            "n_trials": self.n_trials,
            "best_index": self.best_index,
            "sr_variance": self.sr_variance,
            "trials": [
                {key: t[key] for key in ("index", "parameters", "criterion", "sharpe")} for t in self.trials
            ],
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def run_sweep(
    sweep: Sweep,
    evaluate: Callable[..., dict[str, Any]],
    runner: TaskRunner,
    *,
    criterion: str = "oof_log_loss",
    minimize: bool = True,
    shared: dict[str, Any] | None = None,
) -> SweepResult:
    """Evaluate every configuration of ``sweep`` on ``runner`` and pick the
    best by ``criterion`` (see the module docstring).  ``evaluate`` must be
    a module-level function ``evaluate(configuration, **shared) -> dict``;
    ``shared`` (e.g. the training rows) is sent to each worker once."""
    if not criterion.startswith("oof_"):
        raise SweepError(
            f"criterion {criterion!r} is not an out-of-fold figure: a sweep picks by oof_* results only"
        )
    points = sweep.points()
    configs = sweep.configurations()
    results = runner.map(evaluate, configs, shared=shared, desc=f"sweep ({len(configs)} trials)")
    trials = []
    for index, (point, settings, result) in enumerate(zip(points, configs, results, strict=True)):
        where = f"trial {index} ({_describe(point)})"
        if not isinstance(result, dict):
            raise SweepError(f"{where}: evaluate returned a {type(result).__name__}, not a dict")
        if criterion not in result:
            have = ", ".join(sorted(k for k in result if k.startswith("oof_"))) or "no oof_* keys"
            raise SweepError(f"{where}: the result has no {criterion!r} (it has {have})")
        value = _number(result[criterion])
        if value is None:
            raise SweepError(f"{where}: {criterion} is {result[criterion]!r}, not a number")
        sharpe = _number(result.get(SHARPE_KEY, math.nan))
        if sharpe is None:
            raise SweepError(f"{where}: {SHARPE_KEY} is {result[SHARPE_KEY]!r}, not a number")
        trials.append(
            {
                "index": index,
                "parameters": point,
                "configuration": settings,
                "criterion": value,
                "sharpe": sharpe,
                "result": result,
            }
        )
    ranked = [t for t in trials if math.isfinite(t["criterion"])]
    if not ranked:
        raise SweepError(f"no trial has a finite {criterion}: none of the {len(trials)} can be chosen")
    sign = 1.0 if minimize else -1.0
    best = min(ranked, key=lambda t: (sign * t["criterion"], t["index"]))
    return SweepResult(
        trials=trials, best_index=best["index"], n_trials=len(trials), criterion=criterion, minimize=minimize
    )
