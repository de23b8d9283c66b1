"""The training report: report.json (JSON-safe, NaN -> null) and a
self-contained report.html (tables, inline PNG charts) written aside and
renamed, the terminal table, and one-line errors for a malformed result."""

from __future__ import annotations

import base64
import copy
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from quantumtrader.models.report import ReportError, json_safe, report_table, write_report


def _classification(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "log_loss": float(rng.uniform(0.9, 1.1)),
        "prior_log_loss": 1.0986,
        "accuracy": float(rng.uniform(0.3, 0.5)),
        "prior": 0.41,
        "precision": {"sell": 0.44, "hold": math.nan, "buy": np.float64(0.39)},
        "recall": {"sell": 0.31, "hold": 0.0, "buy": None},
    }


def _trading(trades: int) -> dict[str, Any]:
    return {
        "trades": np.int64(trades),
        "win_rate": 0.52,
        "sharpe": -0.35,
        "max_drawdown": 0.031,
        "profit_factor": math.inf,
        "deflated_sharpe_probability": 0.12,
        "net_pnl_brl": -1234.5,
    }


def make_result(n_folds: int = 3, n_trades: int = 40) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    folds = [
        {"fold": i, "train": 1000 + 100 * i, "test": 250, **_classification(rng), "trading": _trading(10)}
        for i in range(n_folds)
    ]
    t0 = 1_794_000_000_000_000_000
    edges = np.linspace(0.05, 0.95, 10)
    calibration = {
        cls: {
            "predicted": [*edges[:-1].tolist(), None],
            "observed": [*(edges[:-1] + 0.02).tolist(), None],
            "count": [*rng.integers(1, 50, 9).tolist(), 0],
        }
        for cls in ("sell", "hold", "buy")
    }
    return {
        "title": "WDO <demo> & co",
        "folds": folds,
        "overall": {**_classification(rng), "trading": _trading(n_trades)},
        "equity": {
            "t_ns": (t0 + np.arange(n_trades, dtype=np.int64) * 600_000_000_000).tolist(),
            "equity_brl": (100_000 + np.cumsum(rng.normal(0, 50, n_trades))).tolist(),
        },
        "calibration": calibration,
        "gate": {"passed": False, "failures": ["win rate 52.0% <= 55%", "Sharpe -0.35 <= 1.5"]},
        "n_trials": 8,
    }


def _images(page: str) -> list[bytes]:
    found = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(m) for m in found]


def test_writes_json_and_self_contained_html(tmp_path: Path) -> None:
    result = make_result()
    json_path, html_path = write_report(result, tmp_path)
    assert json_path == tmp_path / "report.json" and html_path == tmp_path / "report.html"
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.json"]  # no partial files left

    data = json.loads(json_path.read_text())
    assert data["overall"]["precision"]["hold"] is None  # NaN -> null
    assert data["overall"]["trading"]["profit_factor"] is None  # inf -> null
    assert data["overall"]["trading"]["trades"] == 40 and data["n_trials"] == 8
    assert data["folds"][2]["train"] == 1200
    assert data["calibration"]["buy"]["predicted"][-1] is None

    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "WDO &lt;demo&gt; &amp; co" in page and "<demo>" not in page
    for heading in ("log loss", "prior log loss", "accuracy", "precision sell", "recall buy", "win rate",
                    "Sharpe", "max drawdown", "profit factor", "deflated Sharpe p", "net P&amp;L"):
        assert f"<th>{heading}</th>" in page
    assert page.count('<tr class="all">') == 2  # overall row of both tables
    assert '<tr class="all"><td>all</td><td></td><td>750</td>' in page
    assert "<td>52.0%</td>" in page and "<td>3.1%</td>" in page and "<td>∞</td>" in page
    assert "promotion gate: refused" in page and "<li>Sharpe -0.35 &lt;= 1.5</li>" in page
    assert "8</b> configuration(s) tried" in page
    # opens offline: no script, no external resource
    assert "<script" not in page and "http://" not in page and "https://" not in page
    pictures = _images(page)
    assert len(pictures) == 2 and all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 2000 for p in pictures)


def test_no_trades_and_no_calibration_still_give_a_page(tmp_path: Path) -> None:
    result = make_result(n_folds=0, n_trades=0)
    result["overall"]["trading"].update(win_rate=math.nan, sharpe=math.nan, deflated_sharpe_probability=None)
    for curve in result["calibration"].values():
        curve.update(predicted=[None], observed=[None], count=[0])
    result["gate"] = {"passed": True, "failures": []}
    _, html_path = write_report(result, tmp_path)
    page = html_path.read_text()
    assert "no trades: no equity curve" in page and "no calibration bins with samples" in page
    assert "promotion gate: passed" in page and _images(page) == []
    assert json.loads((tmp_path / "report.json").read_text())["overall"]["trading"]["sharpe"] is None


def test_replaces_an_earlier_report(tmp_path: Path) -> None:
    write_report(make_result(n_trades=5), tmp_path)
    write_report(make_result(n_trades=7), tmp_path)
    assert json.loads((tmp_path / "report.json").read_text())["overall"]["trading"]["trades"] == 7
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.json"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.pop("overall"), r"missing overall$"),
        (lambda r: r["folds"][1].pop("recall"), r"missing folds\[1\]\.recall$"),
        (lambda r: r["overall"]["precision"].pop("buy"), r"missing overall\.precision\.buy$"),
        (lambda r: r["overall"]["trading"].pop("sharpe"), r"missing overall\.trading\.sharpe$"),
        (lambda r: r["calibration"].pop("hold"), r"missing calibration\.hold$"),
        (lambda r: r["equity"].pop("t_ns"), r"missing equity\.t_ns$"),
        (lambda r: r["gate"].pop("failures"), r"missing gate\.failures$"),
        (lambda r: r.pop("n_trials"), r"missing n_trials$"),
        (lambda r: r["overall"].update(log_loss="low"), r"overall\.log_loss is 'low', not a number$"),
        (lambda r: r["equity"]["t_ns"].pop(), r"equity\.t_ns has 39 values and equity\.equity_brl 40$"),
        (lambda r: r["calibration"]["sell"]["count"].pop(), r"calibration\.sell lists differ in length"),
        (lambda r: r["gate"].update(passed="yes"), r"gate\.passed is 'yes', not true/false$"),
        (lambda r: r.update(n_trials=0), r"n_trials is 0, not a whole number >= 1$"),
        (lambda r: r.update(folds={"0": {}}), r"folds is dict, not a list$"),
        (lambda r: r.update(extra=object()), r"result\.extra is a object, not JSON data$"),
    ],
)
def test_malformed_result_is_one_line_and_writes_nothing(tmp_path: Path, edit: Any, message: str) -> None:
    result = make_result()
    edit(result)
    with pytest.raises(ReportError, match=message) as info:
        write_report(result, tmp_path)
    assert str(info.value).startswith("training result: ") and "\n" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"report folder .*absent does not exist$"):
        write_report(make_result(), tmp_path / "absent")


def test_terminal_table() -> None:
    result = make_result()
    table = report_table(result)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    text = console.file.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    assert any(line.lstrip("│ ").startswith("all") for line in lines)
    assert table.row_count == 4  # three folds and the overall row
    assert re.search(r"│ all +│ +750 │", text)  # out-of-fold samples: the test folds' total
    assert "0.44 - 0.39" in text  # precision sell/hold/buy, NaN shown as "-"
    assert "52.0%" in text and "∞" in text
    assert "over 8 trial(s); gate: refused (win rate 52.0% <= 55%; Sharpe -0.35 <= 1.5)" in text
    with pytest.raises(ReportError, match=r"missing overall\.trading$"):
        broken = copy.deepcopy(result)
        broken["overall"].pop("trading")
        report_table(broken)


def test_json_safe() -> None:
    value = {"a": (np.float32(1.5), np.nan, -np.inf), 3: np.arange(3), "b": np.bool_(True)}
    assert json_safe(value) == {"a": [1.5, None, None], "3": [0, 1, 2], "b": True}
    json.dumps(json_safe(value), allow_nan=False)
