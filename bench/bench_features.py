"""The feature engine on a synthetic WDO day: the book and the 77 features in
the C drain loop, per-vector latency (ring pop to feature vector) in a tight
loop and paced at 10,000 records/s, the batch path over a mapped event log,
the slow Python reference on a slice of the same day, and memory over a long
session.  Medians over repeats; the machine is shared and noisy."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import c_extension
import numpy as np
from harness import Report, Result, median_time

from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter, read_event_log
from quantumtrader.data.events import EventType
from quantumtrader.data.synth import simulate_market
from quantumtrader.features import schema_for
from quantumtrader.features.drain import FeatureDrain
from quantumtrader.features.table import FeatureTableWriter
from quantumtrader.qtcore.features import FeatureBatch, FeatureEngine

REPEATS = 5
PACED_RATE = 10_000.0  # records per second
PACED_RECORDS = 60_000  # six seconds
REFERENCE_TRADES = 1_500
LONG_SESSION_DAYS = 20  # the day replayed this many times into one engine


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _percentiles(lat: np.ndarray) -> tuple[float, float, float]:
    p50, p99, p999 = np.percentile(lat, [50, 99, 99.9])
    return float(p50), float(p99), float(p999)


def run(report: Report) -> None:
    market = simulate_market(1, seed=7, signal=0.5)
    events = market.events
    is_trade = events["type"] == EventType.TRADE
    trades = int(np.count_nonzero(is_trade))
    book_only = events[~is_trade]

    def engine() -> FeatureEngine:
        return FeatureEngine(market.tick_size, market.price_unit)

    probe = engine()
    probe.drain(events)
    book_events = probe.counters["book_events"]
    print(f"  synthetic day: {len(events):,} records, {trades:,} trades, {book_events:,} book events "
          f"({book_events / trades:.2f} book events per trade)", flush=True)
    report.add(Result("book events per trade (synthetic day)", book_events / trades, "ratio", budget=5.0))

    # ---- throughput: one drain call over the whole day, nothing stored
    fe = engine()
    nothing = FeatureBatch(0, 0)

    def whole_day() -> None:
        fe.reset()
        fe.drain(events, nothing)

    t = median_time(whole_day, REPEATS)
    engine_rate = trades / t
    report.add(Result("trades/s through book + 77 features", engine_rate, "trades/s", budget=1e6))
    report.add(Result("records/s (trades and book records)", len(events) / t, "rec/s"))

    def book_day() -> None:
        fe.reset()
        fe.drain(book_only, nothing)

    t = median_time(book_day, REPEATS)
    report.add(Result("book events/s alone (book + OFI, no trades)", book_events / t, "ev/s", budget=10e6))

    # ---- latency from per-vector timers: a C producer thread, the drain on this one
    ring_latency = c_extension.load().feature_ring_latency
    tight = []
    for _ in range(REPEATS):
        fe.reset()
        lat, info = ring_latency(fe, events, rate=0.0)
        # the timed loop computes what the batch computes, one latency per vector
        if (info["records"], info["rows"], fe.counters) != (len(events), len(lat), probe.counters):
            raise RuntimeError(f"ring drain differs from the batch drain: {info}, {fe.counters}")
        tight.append(_percentiles(lat))
    p50, p99, p999 = (statistics.median(x[k] for x in tight) for k in range(3))
    report.add(Result("tight loop latency p50 (ring pop -> vector)", p50, "ns", higher_is_better=False))
    report.add(Result("tight loop latency p99", p99, "ns", higher_is_better=False))
    report.add(Result("tight loop latency p99.9", p999, "ns", budget=5000, higher_is_better=False))

    fe.reset()
    lat, info = ring_latency(fe, events[:PACED_RECORDS], rate=PACED_RATE)
    p50, p99, p999 = _percentiles(lat)
    print(f"  paced: {info['records']:,} records in {info['seconds']:.1f} s, {len(lat):,} vectors, "
          f"{info['late']:,} pushes more than one period late", flush=True)
    report.add(Result("paced 10k rec/s latency p50", p50, "ns", higher_is_better=False))
    report.add(Result("paced 10k rec/s latency p99", p99, "ns", budget=10_000, higher_is_better=False))
    report.add(Result("paced 10k rec/s latency p99.9", p999, "ns", higher_is_better=False))

    # ---- batch: the same loop over a mapped event log, every row kept
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "day.qtlog")
        header = EventLogHeader(instrument=market.instrument, price_unit=market.price_unit,
                                tick_size=market.tick_size, source=market.source)
        with EventLogWriter(log_path, header) as w:
            w.append(events)
        with read_event_log(log_path) as log:
            batch = FeatureBatch(1 << 16)

            def batch_day() -> None:
                fe.reset()
                pos = 0
                while pos < len(log.events):
                    done, _ = fe.drain(log.events, batch, pos)
                    pos += done
                    batch.clear()

            t = median_time(batch_day, REPEATS)
            report.add(Result("batch: mapped log -> feature matrix", trades / t, "trades/s"))

            def to_parquet() -> None:
                fe.reset()
                with FeatureTableWriter(os.path.join(tmp, "day.parquet"), schema_for("qt77")) as table:
                    FeatureDrain(fe, table=table).run_events(log.events)

            t = median_time(to_parquet, 3)
            report.add(Result("batch: mapped log -> Parquet table (77 columns)", trades / t, "trades/s"))

    # ---- the Python reference on the first trades of the same day
    from reference.event_replay import replay_to_reference

    at = np.flatnonzero(is_trade)[REFERENCE_TRADES - 1]
    head = events[: at + 1]
    t0 = time.perf_counter()
    rows, _ = replay_to_reference(head, tick_size=market.tick_size, price_unit=market.price_unit)
    ref_rate = len(rows.rows) / (time.perf_counter() - t0)
    report.add(Result("Python reference (first 1,500 trades)", ref_rate, "trades/s"))
    report.add(Result("engine speed-up over the reference", engine_rate / ref_rate, "x", budget=500))

    # ---- memory over a long session (the day replayed: the clock never goes back, one session)
    fe = engine()
    fe.drain(events, nothing)
    start = _rss_bytes()
    for _ in range(LONG_SESSION_DAYS - 1):
        fe.drain(events, nothing)
    end = _rss_bytes()
    print(f"  long session: {fe.counters['rows']:,} trades, RSS {start / 1e6:.1f} MB at the start, "
          f"{end / 1e6:.1f} MB at the end; engine + book {fe.memory_bytes / 1e6:.2f} MB", flush=True)
    report.add(Result("RSS growth over a long session", (end - start) / 1e6, "MB", budget=1.0,
                      higher_is_better=False))
