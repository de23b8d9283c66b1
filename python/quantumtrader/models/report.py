"""The training report: ``report.json``, ``report.html`` and a terminal table.

``write_report(result, out_dir)`` writes both files into ``out_dir`` (an
existing folder, e.g. the bundle being written), each written aside and
renamed into place (``output_path.atomic_output``) after both have been
rendered, so a bad result leaves neither file touched.
``report_table(result)`` is the same figures as a ``rich.table.Table``.

``report.json`` is the result dict below made JSON-safe: NaN and +/-inf
become null, numpy scalars and arrays plain numbers and lists, tuples lists.
``report.html`` is one self-contained page (:mod:`quantumtrader.html_page`:
inline CSS, charts as ``<img src="data:image/png;base64,...">`` drawn by
matplotlib's Agg renderer, no script, no link: it opens offline): the gate
result, the per-fold and overall classification table, the trading table, the equity
curve of the out-of-fold signal and the calibration plot.

The result dict (what training and validation produce).  A number may be
None (or NaN) where undefined; it is shown as "-".  Class names are
``CLASSES`` = "sell", "hold", "buy".

``folds``: a list (time order, may be empty) of::

    {"fold": int,                 # shown as given
     "train": int,                # training samples (after purge and embargo)
     "test": int,                 # test samples
     "log_loss": float,           # out-of-fold log loss on the test samples
     "prior_log_loss": float,     # log loss of predicting the class frequencies
     "accuracy": float,           # share of test samples whose argmax is right
     "prior": float,              # share of the most frequent test class
     "precision": {cls: float},   # per class of CLASSES
     "recall": {cls: float},
     "trading": {...}}            # optional, as in "overall"

``overall``: the same classification keys over all out-of-fold samples
(``log_loss``, ``prior_log_loss``, ``accuracy``, ``prior``, ``precision``,
``recall``; no fold/train/test) and ``trading``, the evaluation of the
out-of-fold signal with B3 costs::

    {"trades": int, "win_rate": float (fraction), "sharpe": float,
     "max_drawdown": float (fraction of capital), "profit_factor": float,
     "deflated_sharpe_probability": float}        # + optional "net_pnl_brl"

``equity``: ``{"t_ns": [int UTC ns], "equity_brl": [float]}``, the capital
after each trade of the out-of-fold signal, same lengths (may be empty).

``calibration``: for each class of CLASSES, ``{"predicted": [mean predicted
probability per bin], "observed": [observed frequency of the class per
bin], "count": [samples per bin]}``, same lengths; an empty bin has None.

``gate``: ``{"passed": bool, "failures": [str]}``; ``n_trials``: int >= 1,
the configurations tried (the deflated Sharpe's trials).  Optional:
``title`` (str, the page's heading) and ``sweep`` (``SweepResult.summary()``
of the sweep that chose this configuration: shown as a table of trials).

A result missing a key or holding a value of the wrong kind is refused
with a one-line ``ReportError`` naming the key, e.g. ``training result:
missing folds[1].recall``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from quantumtrader import html_page
from quantumtrader.models.classes import CLASSES
from quantumtrader.output_path import atomic_output

__all__ = [
    "CLASSES", "ReportError", "check_result", "json_safe", "render_html", "report_table", "write_report"
]

_CLASSIFICATION = ("log_loss", "prior_log_loss", "accuracy", "prior", "precision", "recall")
_TRADING = ("trades", "win_rate", "sharpe", "max_drawdown", "profit_factor", "deflated_sharpe_probability")


class ReportError(ValueError):
    """The result dict cannot be reported (a missing key, a wrong value); one line."""


# ---------------------------------------------------------------- checking


def _need(table: Any, key: str, where: str) -> Any:
    if not isinstance(table, Mapping):
        raise ReportError(f"training result: {where or 'the result'} is not a table")
    if key not in table:
        raise ReportError(f"training result: missing {where + '.' if where else ''}{key}")
    return table[key]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real | np.number) and not isinstance(value, bool | np.bool_)


def _check_number(value: Any, where: str) -> None:
    if value is not None and not _is_number(value):
        raise ReportError(f"training result: {where} is {value!r}, not a number")


def _check_list(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if not isinstance(value, list | tuple):
        raise ReportError(f"training result: {where} is {type(value).__name__}, not a list")
    return value


def _check_classification(table: Any, where: str) -> None:
    for key in _CLASSIFICATION[:4]:
        _check_number(_need(table, key, where), f"{where}.{key}")
    for key in ("precision", "recall"):
        per_class = _need(table, key, where)
        for cls in CLASSES:
            _check_number(_need(per_class, cls, f"{where}.{key}"), f"{where}.{key}.{cls}")


def _check_trading(table: Any, where: str) -> None:
    for key in _TRADING:
        _check_number(_need(table, key, where), f"{where}.{key}")


def check_result(result: Any) -> None:
    """Raise ReportError (one line, naming the key) unless ``result`` has
    the shape the module docstring defines."""
    folds = _check_list(_need(result, "folds", ""), "folds")
    for i, fold in enumerate(folds):
        where = f"folds[{i}]"
        for key in ("fold", "train", "test"):
            _check_number(_need(fold, key, where), f"{where}.{key}")
        _check_classification(fold, where)
        if isinstance(fold, Mapping) and "trading" in fold:
            _check_trading(fold["trading"], f"{where}.trading")
    overall = _need(result, "overall", "")
    _check_classification(overall, "overall")
    _check_trading(_need(overall, "trading", "overall"), "overall.trading")
    equity = _need(result, "equity", "")
    t_ns = _check_list(_need(equity, "t_ns", "equity"), "equity.t_ns")
    values = _check_list(_need(equity, "equity_brl", "equity"), "equity.equity_brl")
    if len(t_ns) != len(values):
        raise ReportError(
            f"training result: equity.t_ns has {len(t_ns)} values and equity.equity_brl {len(values)}"
        )
    calibration = _need(result, "calibration", "")
    for cls in CLASSES:
        curve = _need(calibration, cls, "calibration")
        lengths = {k: len(_check_list(_need(curve, k, f"calibration.{cls}"), f"calibration.{cls}.{k}"))
                   for k in ("predicted", "observed", "count")}
        if len(set(lengths.values())) != 1:
            raise ReportError(f"training result: calibration.{cls} lists differ in length {lengths}")
    gate = _need(result, "gate", "")
    if not isinstance(_need(gate, "passed", "gate"), bool | np.bool_):
        raise ReportError(f"training result: gate.passed is {gate['passed']!r}, not true/false")
    _check_list(_need(gate, "failures", "gate"), "gate.failures")
    n_trials = _need(result, "n_trials", "")
    if not _is_number(n_trials) or int(n_trials) != n_trials or n_trials < 1:
        raise ReportError(f"training result: n_trials is {n_trials!r}, not a whole number >= 1")


def json_safe(value: Any, where: str = "result") -> Any:
    """``value`` as plain JSON data: NaN/inf -> None, numpy -> Python,
    tuples and arrays -> lists, keys -> str; ReportError for anything else."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral | np.integer):
        return int(value)
    if isinstance(value, numbers.Real | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist(), where)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ReportError(f"training result: {where} is a {type(value).__name__}, not JSON data")


# ---------------------------------------------------------------- formatting


def _finite(value: Any) -> float | None:
    if value is None or not _is_number(value):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _fmt(value: Any, kind: str = "num") -> str:
    """One cell: "-" when undefined; kind: num (4 decimals), pct, ratio (2
    decimals), int, brl."""
    number = _finite(value)
    if number is None:
        return "-"
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if kind == "pct":
        return f"{100 * number:.1f}%"
    if kind == "ratio":
        return f"{number:.2f}"
    if kind == "int":
        return f"{int(number):,}"
    if kind == "brl":
        return f"R$ {number:,.2f}"
    return f"{number:.4f}"


def _classification_rows(result: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """Fold rows, then the overall row; its test count is the folds' total
    (the out-of-fold samples are the union of the test folds)."""
    folds = result["folds"]
    rows: list[tuple[str, Mapping[str, Any]]] = [(str(f["fold"]), f) for f in folds]
    overall = dict(result["overall"])
    if folds:
        overall["test"] = sum(_finite(f["test"]) or 0 for f in folds)
    rows.append(("all", overall))
    return rows


def _classification_cells(label: str, row: Mapping[str, Any]) -> list[str]:
    return [
        label,
        _fmt(row.get("train"), "int") if "train" in row else "",
        _fmt(row.get("test"), "int") if "test" in row else "",
        _fmt(row["log_loss"]),
        _fmt(row["prior_log_loss"]),
        _fmt(row["accuracy"], "pct"),
        _fmt(row["prior"], "pct"),
        *(_fmt(row["precision"][c], "pct") for c in CLASSES),
        *(_fmt(row["recall"][c], "pct") for c in CLASSES),
    ]


_CLASSIFICATION_HEAD = [
    "fold", "train", "test", "log loss", "prior log loss", "accuracy", "prior",
    *(f"precision {c}" for c in CLASSES), *(f"recall {c}" for c in CLASSES),
]


def _trading_rows(result: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    rows = [(str(f["fold"]), f["trading"]) for f in result["folds"] if "trading" in f]
    rows.append(("all", result["overall"]["trading"]))
    return rows


def _trading_cells(label: str, row: Mapping[str, Any], with_pnl: bool) -> list[str]:
    cells = [
        label,
        _fmt(row["trades"], "int"),
        _fmt(row["win_rate"], "pct"),
        _fmt(row["sharpe"], "ratio"),
        _fmt(row["max_drawdown"], "pct"),
        _fmt(row["profit_factor"], "ratio"),
        _fmt(row["deflated_sharpe_probability"], "num"),
    ]
    if with_pnl:
        cells.append(_fmt(row.get("net_pnl_brl"), "brl"))
    return cells


_TRADING_HEAD = ["fold", "trades", "win rate", "Sharpe", "max drawdown", "profit factor", "deflated Sharpe p"]


def _gate_line(result: Mapping[str, Any]) -> str:
    gate = result["gate"]
    if gate["passed"]:
        return "gate: passed"
    failures = "; ".join(str(f) for f in gate["failures"]) or "no reason given"
    return f"gate: refused ({failures})"


# ---------------------------------------------------------------- terminal


def report_console() -> Any:
    """stdout, wide enough for the report's table when it is not a terminal
    (a log file or a pipe: rich would assume 80 columns and cut the figures)."""
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 140)


def report_table(result: Mapping[str, Any], title: str = "Out-of-fold evaluation") -> Table:
    """Per fold and overall: samples, log loss vs prior, accuracy vs prior,
    precision/recall per class (sell hold buy) and, where present, the
    trading figures; the caption holds the deflated Sharpe probability,
    n_trials and the gate.  ReportError on a malformed result."""
    check_result(result)
    table = Table(title=title, title_justify="left")
    for name in ("fold", "test", "log loss (prior)", "accuracy (prior)", "precision s/h/b", "recall s/h/b",
                 "trades", "win rate", "Sharpe", "max DD", "PF"):
        table.add_column(name, justify="left" if name == "fold" else "right")
    rows = _classification_rows(result)
    for i, (label, row) in enumerate(rows):
        trading = row.get("trading", {})
        table.add_row(
            label,
            _fmt(row.get("test"), "int") if "test" in row else "",
            f"{_fmt(row['log_loss'])} ({_fmt(row['prior_log_loss'])})",
            f"{_fmt(row['accuracy'], 'pct')} ({_fmt(row['prior'], 'pct')})",
            " ".join(_fmt(row["precision"][c], "ratio") for c in CLASSES),
            " ".join(_fmt(row["recall"][c], "ratio") for c in CLASSES),
            *(
                (_fmt(trading["trades"], "int"), _fmt(trading["win_rate"], "pct"),
                 _fmt(trading["sharpe"], "ratio"), _fmt(trading["max_drawdown"], "pct"),
                 _fmt(trading["profit_factor"], "ratio"))
                if trading else ("",) * 5
            ),
            end_section=i == len(rows) - 2,  # a rule above the overall row
        )
    overall = result["overall"]["trading"]
    table.caption = (
        f"deflated Sharpe probability {_fmt(overall['deflated_sharpe_probability'])} "
        f"over {int(result['n_trials'])} trial(s); {_gate_line(result)}"
    )
    table.caption_justify = "left"
    return table


# ---------------------------------------------------------------- charts


def _equity_png(equity: Mapping[str, Any]) -> bytes | None:
    t_ns = np.asarray([_finite(t) for t in equity["t_ns"]], dtype=float)
    values = np.asarray([_finite(v) for v in equity["equity_brl"]], dtype=float)
    keep = np.isfinite(t_ns) & np.isfinite(values)
    if not keep.any():
        return None
    times = [dt.datetime.fromtimestamp(t / 1e9, dt.UTC) for t in t_ns[keep]]
    fig = html_page.figure(8, 3.2)
    ax = fig.add_subplot()
    ax.step(times, values[keep], where="post", color="#1f5fa8", linewidth=1.2)
    ax.set_ylabel("equity (BRL)")
    ax.set_xlabel("exit time of each trade (UTC)")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return html_page.figure_png(fig)


def _calibration_png(calibration: Mapping[str, Any]) -> bytes | None:
    fig = html_page.figure(5, 4.2)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="perfect")
    drawn = False
    for cls, color in zip(CLASSES, ("#c0392b", "#7f8c8d", "#27ae60"), strict=True):
        curve = calibration[cls]
        points = [
            (p, o, c)
            for p, o, c in zip(curve["predicted"], curve["observed"], curve["count"], strict=True)
            if _finite(p) is not None and _finite(o) is not None and (_finite(c) or 0) > 0
        ]
        if not points:
            continue
        pred, obs, count = (np.asarray(v, dtype=float) for v in zip(*points, strict=True))
        ax.plot(pred, obs, color=color, linewidth=1, label=cls)
        ax.scatter(pred, obs, s=12 + 60 * count / count.max(), color=color)
        drawn = True
    if not drawn:
        return None
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return html_page.figure_png(fig)


# ---------------------------------------------------------------- HTML

def _sweep_html(sweep: Mapping[str, Any]) -> str:
    trials = sweep.get("trials", [])
    head = ["trial", "parameters", str(sweep.get("criterion", "criterion")), "Sharpe per trade"]
    rows = []
    for t in trials:
        params = ", ".join(f"{k}={v}" for k, v in dict(t.get("parameters", {})).items())
        label = f"{t.get('index')}" + (" (chosen)" if t.get("index") == sweep.get("best_index") else "")
        rows.append((label, [label, params, _fmt(t.get("criterion")), _fmt(t.get("sharpe"))]))
    note = (f'<p class="note">{len(trials)} trials; variance of the trials\' Sharpe ratios '
            f'{html.escape(_fmt(sweep.get("sr_variance")))}</p>')
    return "<h2>Sweep</h2>\n" + html_page.table(head, rows) + note


def render_html(result: Mapping[str, Any]) -> str:
    """The report page (see the module docstring); ``result`` must be checked."""
    title = str(result.get("title") or "Training report")
    gate = result["gate"]
    state = "passed" if gate["passed"] else "refused"
    failures = "".join(f"<li>{html.escape(str(f))}</li>" for f in gate["failures"])
    overall = result["overall"]["trading"]
    with_pnl = any("net_pnl_brl" in row for _, row in _trading_rows(result))
    parts = [
        f'<div class="gate {state}">promotion gate: {state}</div>',
        f"<ul>{failures}</ul>" if failures else "",
        f'<p>deflated Sharpe probability <b>{html.escape(_fmt(overall["deflated_sharpe_probability"]))}'
        f'</b> for <b>{int(result["n_trials"])}</b> configuration(s) tried.</p>',
        "<h2>Out-of-fold classification</h2>",
        html_page.table(
            _CLASSIFICATION_HEAD,
            [(label, _classification_cells(label, row)) for label, row in _classification_rows(result)],
        ),
        '<p class="note">prior: accuracy of always predicting the most frequent class; prior log loss: '
        "log loss of predicting the class frequencies.</p>",
        "<h2>Trading (out-of-fold signal, B3 costs)</h2>",
        html_page.table(
            _TRADING_HEAD + (["net P&L"] if with_pnl else []),
            [(label, _trading_cells(label, row, with_pnl)) for label, row in _trading_rows(result)],
        ),
        "<h2>Equity of the out-of-fold signal</h2>",
        html_page.img(_equity_png(result["equity"]), "equity curve", "no trades: no equity curve"),
        "<h2>Calibration</h2>",
        html_page.img(_calibration_png(result["calibration"]), "calibration plot",
                      "no calibration bins with samples"),
    ]
    if isinstance(result.get("sweep"), Mapping):
        parts.append(_sweep_html(result["sweep"]))
    return html_page.page(title, parts)


def write_report(result: Mapping[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into the existing folder
    ``out_dir``; returns their paths.  ReportError (one line) on a malformed
    result or a missing folder; nothing is written then."""
    folder = Path(out_dir)
    if not folder.is_dir():
        raise ReportError(f"report folder {folder} does not exist")
    check_result(result)
    text = json.dumps(json_safe(result), indent=1, allow_nan=False) + "\n"
    page = render_html(result)
    json_path, html_path = folder / "report.json", folder / "report.html"
    with atomic_output(json_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    with atomic_output(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return json_path, html_path
