"""A trading process to be killed: logs in to the ProfitDLL simulator on the
given log, then sends market orders (buy 1, sell 1, ...) through the
execution engine, journaling a decision before each, and prints "round
trip N" after each round trip until it is killed (or 60 s pass).

    python execution_child.py LOG JOURNAL"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profitdll_support import SIM_CREDENTIALS, TICKER, sim_connection

from quantumtrader.adapters.profitdll.execution import ProfitDLLVenue
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderType, Side
from quantumtrader.instruments import InstrumentSpec

SPEC = InstrumentSpec(TICKER, "WDO", Decimal("0.5"), 1, Decimal(10), instrument_id=1)


def main(log: str, journal_path: str) -> None:
    conn = sim_connection(log, routing=True)
    conn.dll.sim_set_speed(1.0)
    conn.dll.sim_start_replay()
    time.sleep(0.3)  # the session's opening records
    journal = Journal(journal_path, session="kill-test")
    eng = ExecutionEngine(ProfitDLLVenue(conn.dll, (1, "SIM0001"), SIM_CREDENTIALS.routing_password),
                          journal, {TICKER: SPEC})
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        for side in (Side.BUY, Side.SELL):
            conn.poll(0.0)
            journal.record_decision(dict(decision_id=n, ticker=TICKER, action=side.name, reason="kill test"))
            o = eng.submit(OrderRequest(TICKER, side, 1, OrderType.MARKET, OrderPurpose.ENTRY, decision_id=n))
            while o is not None and o.working and time.monotonic() < deadline:
                eng.on_order_updates(conn.order_updates())
                time.sleep(0.001)
        n += 1
        print(f"round trip {n}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
