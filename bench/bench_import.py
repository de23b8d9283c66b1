"""Importer throughput.

Profit CSV: rows/s of ProfitCsvImporter (file -> event chunks, nothing
written) on a generated ~2M-row export in a temp dir, median of 3, budget
>= 1,000,000 rows/s; baseline: ``pandas.read_csv`` of the same file (only
parsing into columns: no validation, time zone, dictionary or records).
Binance: lines/s of the real capture, when the shared file is present (no
budget)."""

from __future__ import annotations

import pathlib
import statistics
import tempfile
import time

import numpy as np
from harness import Report, Result

from quantumtrader.data.importers.binance import BinanceImporter
from quantumtrader.data.importers.profit_csv import ProfitCsvImporter

ROWS = 2_000_000
ROWS_PER_DAY = 250_000
REPEATS = 3
# shared/ sits beside the repository (CI's clone) or at /work/shared
BINANCE_CAPTURE = next(
    (
        p / "data/real/binance-usdm-btcusdt-20240808.gz"
        for p in (pathlib.Path(__file__).resolve().parents[2] / "shared", pathlib.Path("/work/shared"))
        if (p / "data/real").is_dir()
    ),
    pathlib.Path("/work/shared/data/real/binance-usdm-btcusdt-20240808.gz"),
)
BROKERS = [
    "XP",
    "BTG",
    "Goldman",
    "UBS",
    "Itau",
    "Safra",
    "Bradesco",
    "Morgan",
    "Modal",
    "Santander",
    "Genial",
    "Terra",
    "Ativa",
    "Nova",
    "Orama",
    "Clear",
    "Agora",
    "Credit Suisse",
    "JP Morgan",
]
TRADE_TYPES = ["AggressorBuyer", "AggressorSeller", "Auction", "Cross", "RLP"]


def write_profit_export(path: pathlib.Path, rows: int, seed: int = 7) -> None:
    """A WDOFUT export shaped like a real one: days of 09:00-18:00 trades in
    time order, prices on the 0.5 grid, a few dozen brokers."""
    rng = np.random.default_rng(seed)
    with path.open("w") as f:
        for day, start in enumerate(range(0, rows, ROWS_PER_DAY)):
            n = min(ROWS_PER_DAY, rows - start)
            date = 20240102 + day
            secs = np.sort(rng.integers(9 * 3600, 18 * 3600, n))
            hhmmss = secs // 3600 * 10000 + secs // 60 % 60 * 100 + secs % 60
            price = 5000 + np.cumsum(rng.integers(-1, 2, n)) * 0.5
            qty = rng.integers(1, 60, n)
            buyer = rng.integers(0, len(BROKERS), n)
            seller = rng.integers(0, len(BROKERS), n)
            kind = rng.choice(len(TRADE_TYPES), n, p=[0.46, 0.46, 0.03, 0.03, 0.02])
            f.writelines(
                f"WDOFUT,{date},{hhmmss[i]:06d},{i + 1},{price[i]:.8f},{qty[i]},{price[i] * qty[i] * 10:.4f},"
                f"{BROKERS[buyer[i]]},{BROKERS[seller[i]]},{TRADE_TYPES[kind[i]]},N\n"
                for i in range(n)
            )


def _profit_rate(path: pathlib.Path) -> float:
    imp = ProfitCsvImporter(path)
    t0 = time.perf_counter()
    n = sum(len(chunk) for chunk in imp.events())
    dt = time.perf_counter() - t0
    assert imp.stats.bad == 0 and n == imp.stats.trades + imp.stats.sessions
    return imp.stats.rows / dt


def _pandas_rate(path: pathlib.Path) -> float:
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(path, header=None)
    dt = time.perf_counter() - t0
    return len(df) / dt


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="qt-bench-import-") as tmp:
        path = pathlib.Path(tmp) / "wdofut.csv"
        write_profit_export(path, ROWS)
        _profit_rate(path)  # warm the page cache
        rates = [_profit_rate(path) for _ in range(REPEATS)]
        pandas_rates = [_pandas_rate(path) for _ in range(REPEATS)]
        report.add(
            Result(
                f"profit-csv import rows/s ({ROWS / 1e6:.0f}M rows)",
                statistics.median(rates),
                "rows/s",
                budget=1_000_000,
                baseline=statistics.median(pandas_rates),
                baseline_name="pandas.read_csv",
            )
        )
    if BINANCE_CAPTURE.exists():
        rates = []
        for _ in range(REPEATS):
            imp = BinanceImporter(BINANCE_CAPTURE)
            t0 = time.perf_counter()
            for _chunk in imp.events():
                pass
            rates.append(imp.stats.rows / (time.perf_counter() - t0))
        report.add(Result("binance import lines/s (94k-line capture)", statistics.median(rates), "lines/s"))
