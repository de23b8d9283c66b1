"""A backtest's replay rate, lockstep against threaded: one synthetic WDO day
(the synthetic market's default size) replayed by the simulator as fast as
the callbacks return, through the binding's callbacks into the pipeline
(book, 77 features, every trade a decision: no sampler, the worst case) and
a Python decision thread that only counts.

- threaded (the baseline): the loop on its own thread, the replay runs ahead;
- lockstep, no decision consumer: the DLL's thread runs the loop inline
  (what the gate itself costs);
- lockstep: the DLL's thread also waits for the decision thread to return
  at every decision (the price of determinism: one thread hand-over per
  decision).

Records/s = pipeline records / wall time from the replay's start to its end
(threaded: until the loop has drained the ring); medians of 3 runs."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import Report, Result

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.credentials import ProfitCredentials
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.runners import LivePipeline

DAY = "2026-11-03"  # the synthetic market's first session; WDOZ26 is current then
RUNS = 3


def _connect(log: Path) -> ProfitConnection:
    conn = ProfitConnection(simulator_path(), credentials=ProfitCredentials("bench", "bench", "bench"),
                            utc_offset_min=EXCHANGE_UTC_OFFSET_MIN, market_capacity=1 << 20)
    dll = conn.dll
    dll.sim_set_replay_log(str(log))
    dll.sim_set_speed(0.0)
    dll.sim_set_auto_start(False)
    dll.sim_set_callback_delay_us(0)
    dll.sim_set_login_result(0)
    dll.sim_set_ticker(conn.resolve("WDO", DAY), "F")
    conn.connect(10)
    conn.subscribe("WDO", date=DAY)
    return conn


def _replay(log: Path, mode: str) -> tuple[float, int, int]:
    """(seconds, records, decisions) of one full-speed replay."""
    conn = _connect(log)
    decided = [0]

    def count(recs: np.ndarray, woken_ns: int) -> None:
        decided[0] += len(recs)

    try:
        pipe = LivePipeline.from_connection(conn, on_decision=None if mode == "inline" else count)
        pipe.start(lockstep=mode != "threaded")
        t0 = time.perf_counter()
        conn.dll.sim_start_replay()
        assert conn.dll.sim_wait_replay_done(600.0), "the replay did not finish"
        if mode == "threaded":
            conn.market_ring.close()
            assert pipe.wait(600.0)
        seconds = time.perf_counter() - t0
        c = pipe.stop()
        assert conn.counters["records_dropped"] == 0 and c["decisions_dropped"] == 0, "not comparable"
        if mode == "lockstep":
            assert c["lockstep"]["timeouts"] == 0 and decided[0] == c["decisions"]
    finally:
        conn.close()
    return seconds, int(c["records"]), int(c["decisions"])


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "day.qtlog"
        write_synthetic_log(log, days=1, seed=3, signal=0.0)
        rates: dict[str, float] = {}
        for mode in ("threaded", "inline", "lockstep"):
            runs = [_replay(log, mode) for _ in range(RUNS)]
            rates[mode] = statistics.median(r / s for s, r, _ in runs)
            print(f"   {mode}: {runs[0][1]:,} records, {runs[0][2]:,} decisions, "
                  f"median {statistics.median(s for s, _, _ in runs):.2f} s", flush=True)
        base = rates["threaded"]
        report.add(Result("replay records/s, threaded (decision per trade)", base, "rec/s"))
        report.add(Result("replay records/s, lockstep inline, no decisions", rates["inline"], "rec/s",
                          budget=0.5 * base, baseline=base, baseline_name="threaded"))
        report.add(Result("replay records/s, lockstep (decision per trade)", rates["lockstep"], "rec/s",
                          budget=100_000, baseline=base, baseline_name="threaded"))
