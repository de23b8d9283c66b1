"""Ring throughput across threads (producer thread -> consumer thread), in C."""

from __future__ import annotations

import statistics

from harness import Report, Result

from quantumtrader.qtcore.ring import ring_throughput

N = 20_000_000


def run(report: Report) -> None:
    for batch in (1, 16):
        rates, drops = [], 0
        for _ in range(5):
            r = ring_throughput(N, capacity=1 << 16, batch=batch)
            rates.append(r["received"] / r["seconds"])
            drops += r["dropped"]
        budget = 20e6 if batch == 1 else None
        report.add(Result(f"ring events/s (2 threads, batch {batch})", statistics.median(rates), "ev/s",
                          budget=budget))
        report.add(Result(f"ring drops with consumer keeping up (batch {batch})", drops, "events",
                          budget=0, higher_is_better=False))
