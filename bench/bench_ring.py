"""Ring throughput across threads (producer thread -> consumer thread), in C,
next to the ring's previous scheme (publication through a shared head index,
bench/c/ring_head_reference.h) measured in the same run."""

from __future__ import annotations

import statistics

import c_extension
from harness import Report, Result

N = 20_000_000
REPEATS = 9  # interleaved with the baseline; the shared VM swings 2-50M/s between runs


def run(report: Report) -> None:
    ring_throughput = c_extension.load().ring_throughput
    for batch in (1, 16):
        rates, baseline, drops = [], [], 0
        for _ in range(REPEATS):  # interleaved, so both see the same machine load
            r = ring_throughput(N, capacity=1 << 16, batch=batch)
            rates.append(r["received"] / r["seconds"])
            drops += r["dropped"]
            b = ring_throughput(N, capacity=1 << 16, batch=batch, reference=True)
            baseline.append(b["received"] / b["seconds"])
        budget = 20e6 if batch == 1 else None
        report.add(Result(f"ring events/s (2 threads, batch {batch})", statistics.median(rates), "ev/s",
                          budget=budget, baseline=statistics.median(baseline),
                          baseline_name="previous ring (shared head)"))
        report.add(Result(f"ring drops with consumer keeping up (batch {batch})", drops, "events",
                          budget=0, higher_is_better=False))
