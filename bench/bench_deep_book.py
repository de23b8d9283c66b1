"""The feature engine on a deep book: the real Binance BTCUSDT capture
(about 5,200 levels a side, 445,000 level updates in 6,500 messages) through
the book and the 77 features, against the 20-level synthetic L2 stream of
bench_book in the same run.  A deep side costs more per update (an insert or
delete moves up to half a side; finding a price is a longer search), so the
figure to watch is level updates/s on the real capture and its ratio to the
20-level case.  The engine's book is sized from the capture, as
``quantumtrader features`` does (book_capacity): nothing is refused."""

from __future__ import annotations

import numpy as np
from bench_book import realistic_l2_stream
from harness import Report, Result, median_time

from quantumtrader.data.book_capacity import book_capacity_for, tick_units_of
from quantumtrader.data.events import EventType
from quantumtrader.qtcore.features import FeatureBatch, FeatureEngine

REPEATS = 5
CAPTURE = "data/real/binance-usdm-btcusdt-20240808.gz"
# A full-depth BTCUSDT diff stream peaks around 10^4-10^5 level updates/s; the
# engine keeps 20x that peak in hand on one core.
DEEP_BUDGET = 2e6


def _updates_per_second(events: np.ndarray, engine: FeatureEngine) -> tuple[float, dict]:
    updates = int(np.count_nonzero(events["type"] == EventType.L2_LEVEL))
    nothing = FeatureBatch(0, 0)

    def run() -> None:
        engine.reset()
        engine.drain(events, nothing)

    t = median_time(run, REPEATS)
    return updates / t, engine.counters


def run(report: Report) -> None:
    from shared_data import SHARED  # tests/support is on sys.path (bench/run.py)

    path = SHARED / CAPTURE
    if not path.exists():
        print(f"  {path} not found (set QT_SHARED_DIR): deep-book case NOT measured", flush=True)
        return
    from quantumtrader.data.importers.binance import BinanceImporter

    imp = BinanceImporter(path)
    events = np.concatenate(list(imp.events()))
    h = imp.header()
    units = tick_units_of(h.tick_size, h.price_unit)
    capacity = book_capacity_for(events, units)
    deep = FeatureEngine(h.tick_size, h.price_unit, h.qty_scale, book_capacity=capacity)
    deep_rate, c = _updates_per_second(events, deep)
    assert c["book_rejected"] == 0, c
    print(f"  Binance capture: {len(events):,} records, {c['book_records']:,} book records, "
          f"{c['book_events']:,} book events, {c['trades']:,} trades; book sized to {capacity:,} levels",
          flush=True)

    shallow_stream = realistic_l2_stream(1_000_000)
    shallow = FeatureEngine(1.0, 1.0)
    shallow_rate, c20 = _updates_per_second(shallow_stream, shallow)
    assert c20["book_rejected"] == 0, c20
    report.add(Result("20-level L2 stream: level updates/s (book + 77)", shallow_rate, "upd/s"))
    report.add(Result("deep book (Binance capture): level updates/s", deep_rate, "upd/s", budget=DEEP_BUDGET,
                      baseline=shallow_rate, baseline_name="20 levels"))
