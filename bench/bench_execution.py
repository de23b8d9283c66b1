"""Execution's own cost on the order path: ExecutionEngine.submit (risk hook,
intent committed to the SQLite journal in WAL mode, send) and the
application of order updates (state machine, fill, journal), with a venue
that answers at once so only our side is measured.  Baseline: the same
engine on an in-memory journal (``:memory:``: no file, no WAL), so the ratio
is what durability costs."""

from __future__ import annotations

import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
from harness import Report, Result

from quantumtrader.adapters.profitdll.order_updates import ORDER_UPDATE_DTYPE
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.instruments import InstrumentSpec

SPEC = InstrumentSpec("WDOZ26", "WDO", Decimal("0.5"), 1, Decimal(10), instrument_id=1)
N = 2000


class InstantVenue:
    """Answers every call at once (the bench measures the engine and journal, not a venue)."""

    def __init__(self) -> None:
        self.next_local = 0

    def send_order(self, req, spec) -> int:
        self.next_local += 1
        return self.next_local

    def cancel_order(self, local_id, cl_ord_id) -> None: ...

    def change_order(self, local_id, cl_ord_id, spec, *, quantity, price, stop_price) -> None: ...

    def order_details(self, local_id, cl_ord_id):
        return None

    def open_orders(self):
        return None

    def position(self, spec) -> int:
        return 0


def _updates(n: int) -> np.ndarray:
    """NEW then FILLED for orders 1..n."""
    u = np.zeros(2 * n, dtype=ORDER_UPDATE_DTYPE)
    u["type"], u["instrument"], u["quantity"], u["side"], u["order_type"], u["price"] = 1, 1, 1, 1, 2, 5500.0
    u["local_id"] = np.repeat(np.arange(1, n + 1), 2)
    u["event_id"] = np.arange(1, 2 * n + 1)
    u["status"][0::2], u["status"][1::2] = OrderStatus.NEW, OrderStatus.FILLED
    u["cum_qty"][1::2], u["avg_price"][1::2] = 1, 5500.0
    u["leaves_qty"][0::2] = 1
    return u


def _run(path: str) -> tuple[float, float]:
    """(median submit seconds, updates applied per second)."""
    journal = Journal(path, session="bench")
    eng = ExecutionEngine(InstantVenue(), journal, {"WDOZ26": SPEC})
    req = OrderRequest("WDOZ26", Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, 11000)
    times = []
    for _ in range(N):
        t0 = time.perf_counter()
        eng.submit(req)
        times.append(time.perf_counter() - t0)
    ups = _updates(N)
    t0 = time.perf_counter()
    eng.on_order_updates(ups)
    rate = len(ups) / (time.perf_counter() - t0)
    assert eng.counters["fills"] == N
    journal.close()
    return statistics.median(times), rate


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as d:
        disk = [_run(str(Path(d) / f"j{i}.sqlite")) for i in range(3)]
    mem = [_run(":memory:") for _ in range(3)]
    sub, sub_mem = statistics.median(s for s, _ in disk), statistics.median(s for s, _ in mem)
    rate, rate_mem = statistics.median(r for _, r in disk), statistics.median(r for _, r in mem)
    report.add(Result("execution submit (journal WAL, median)", sub * 1e6, "us", budget=1000,
                      higher_is_better=False, baseline=sub_mem * 1e6, baseline_name="in-memory journal"))
    report.add(Result("execution order updates applied (journal WAL)", rate, "upd/s", budget=2000,
                      baseline=rate_mem, baseline_name="in-memory journal"))
