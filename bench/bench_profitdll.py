"""The ProfitDLL binding measured through the simulator (libprofitdll_sim):
every figure includes the simulator's own work (reading the log, keeping its
book, formatting dates, building book arrays) on the DLL's thread, as the
real DLL would do its own.

- sustained callbacks/s: a synthetic WDO session replayed as fast as the
  callbacks return while the consumer (ProfitConnection.poll: ring pop +
  date decoding) drains on this thread;
- callback entry -> consumer latency (p50, p99): the same session paced to
  about 40,000 callbacks/s of wall time, latency = the consumer's monotonic
  clock at read minus the record's recv_ns (taken at callback entry)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from harness import Report, Result

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.credentials import ProfitCredentials
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.events import EventType
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.qtcore import profitdll

DAY = "2026-11-03"  # the synthetic market's first session; WDOZ26 is current then


def _connect(log: Path, speed: float) -> ProfitConnection:
    conn = ProfitConnection(simulator_path(), credentials=ProfitCredentials("bench", "bench", "bench"),
                            utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
    dll = conn.dll
    dll.sim_set_replay_log(str(log))
    dll.sim_set_speed(speed)
    dll.sim_set_auto_start(False)
    dll.sim_set_callback_delay_us(0)
    dll.sim_set_login_result(0)
    dll.sim_set_ticker(conn.resolve("WDO", DAY), "F")
    conn.connect(10)
    conn.subscribe("WDO", date=DAY)
    return conn


def _drain(conn: ProfitConnection, on_batch: Callable[[np.ndarray], None]) -> None:
    conn.dll.sim_start_replay()
    while True:
        recs = conn.poll(0.02)
        if len(recs):
            on_batch(recs)
        elif conn.dll.sim_counters()["replay_done"]:
            recs = conn.poll(0.0)
            if len(recs) == 0:
                return
            on_batch(recs)


def _session(log: Path, speed: float) -> tuple[float, int, np.ndarray]:
    conn = _connect(log, speed)
    try:
        conn.poll(0.1)
        lat: list[np.ndarray] = []

        def measure(recs: np.ndarray) -> None:
            now = profitdll.monotonic_ns()
            market = recs[recs["type"] != EventType.CONN_STATE]
            lat.append(now - market["recv_ns"])

        calls0 = sum(profitdll.feed_counters()["calls"].values())
        t0 = time.perf_counter()
        _drain(conn, measure)
        seconds = time.perf_counter() - t0
        calls = sum(profitdll.feed_counters()["calls"].values()) - calls0
        assert conn.counters["records_dropped"] == 0, "the consumer fell behind: figures not comparable"
        return seconds, calls, np.concatenate(lat)
    finally:
        conn.close()


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "bench.qtlog"
        write_synthetic_log(log, days=1, seed=3, signal=0.0, trades_per_day=20_000, levels=15)
        rates = []
        for _ in range(3):
            seconds, calls, _ = _session(log, 0.0)
            rates.append(calls / seconds)
        report.add(Result("callbacks/s through the simulator (sustained)", statistics.median(rates), "cb/s",
                          budget=500_000))
        # pace: the log spans ~9 h of session; choose a speed giving ~40k callbacks/s
        _, calls, _ = _session(log, 0.0)
        span_s = 9 * 3600
        speed = 40_000 * span_s / calls
        p50s, p99s, paced = [], [], []
        for _ in range(3):
            seconds, calls, lat = _session(log, speed)
            paced.append(calls / seconds)
            p50s.append(float(np.percentile(lat, 50)) / 1e3)
            p99s.append(float(np.percentile(lat, 99)) / 1e3)
        report.add(Result("paced replay rate (latency runs)", statistics.median(paced), "cb/s"))
        report.add(Result("callback entry -> consumer latency p50 (~40k cb/s)", statistics.median(p50s), "us",
                          budget=50, higher_is_better=False))
        report.add(Result("callback entry -> consumer latency p99 (~40k cb/s)", statistics.median(p99s), "us",
                          budget=1000, higher_is_better=False))
