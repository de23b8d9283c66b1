"""What latency bookkeeping costs the decision thread, and that its memory
does not grow with the session.

- ``LatencyRecorder.add_decision`` per decision (with its share of the
  batched recording and the final read), next to the least any recorder
  must do in the same run: read the record's four stage stamps.  Budget:
  10 us a decision, a tenth of a decision's whole path on this kind of
  machine (tick to order is ~100-200 us).
- the recorder's memory (tracemalloc) after 20,000 and after 400,000
  decisions: bounded, so the two figures must stay within 1 MiB of each
  other (budget) and under 2 MiB in all."""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np
from harness import Report, Result

from quantumtrader.qtcore.pipeline import DECISION_DTYPE
from quantumtrader.runners.latency import LatencyRecorder

N = 50_000
REPEATS = 7


def _records(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    recs = np.zeros(n, dtype=DECISION_DTYPE)
    recs["recv_ns"] = np.cumsum(rng.integers(10_000, 1_000_000, n))
    recs["taken_ns"] = recs["recv_ns"] + rng.integers(500, 20_000, n)
    recs["decoded_ns"] = recs["taken_ns"] + 300
    recs["features_ns"] = recs["taken_ns"] + rng.integers(2_000, 20_000, n)
    recs["decided_ns"] = recs["features_ns"] + rng.integers(10_000, 60_000, n)
    return recs, recs["decided_ns"] + rng.integers(1_000, 50_000, n)


def _record_all(recs: np.ndarray, woken: list[int]) -> LatencyRecorder:
    lat = LatencyRecorder()
    for rec, w in zip(recs, woken, strict=True):
        lat.add_decision(rec, w, w + 5_000, w + 9_000, w + 60_000)
    lat.percentiles("tick_to_order")
    return lat


def _read_stamps(recs: np.ndarray, woken: list[int]) -> None:
    for rec, _w in zip(recs, woken, strict=True):
        (rec["recv_ns"], rec["taken_ns"], rec["features_ns"], rec["decided_ns"])


def _memory(n: int) -> int:
    recs, woken = _records(n, seed=2)
    stamps = woken.tolist()
    tracemalloc.start()
    lat = _record_all(recs, stamps)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert lat.percentiles("tick_to_order")["count"] == n
    return size


def run(report: Report) -> None:
    recs, woken_ns = _records(N)
    woken = woken_ns.tolist()
    ours, floor = [], []
    for _ in range(REPEATS):  # interleaved, so both see the same machine load
        t0 = time.perf_counter()
        _record_all(recs, woken)
        ours.append((time.perf_counter() - t0) / N * 1e6)
        t0 = time.perf_counter()
        _read_stamps(recs, woken)
        floor.append((time.perf_counter() - t0) / N * 1e6)
    report.add(Result("latency add_decision per decision", statistics.median(ours), "us", budget=10.0,
                      higher_is_better=False, baseline=statistics.median(floor),
                      baseline_name="reading the 4 stamps"))
    small, large = _memory(20_000), _memory(400_000)
    report.add(Result("latency recorder memory, 20k decisions", small / 2**20, "MiB", budget=2.0,
                      higher_is_better=False))
    report.add(Result("latency recorder memory, 400k decisions", large / 2**20, "MiB", budget=2.0,
                      higher_is_better=False))
    report.add(Result("latency recorder growth 20k -> 400k decisions", (large - small) / 2**20, "MiB",
                      budget=1.0, higher_is_better=False))
