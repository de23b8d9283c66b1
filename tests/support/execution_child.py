"""A trading process to be killed (tests/integration/test_order_execution_flow.py).

    python execution_child.py trade LOG JOURNAL
        logs in to the ProfitDLL simulator on LOG, then sends market orders
        (buy 1, sell 1, ...) through the execution engine, journaling a
        decision before each, and prints "round trip N" after each round
        trip until it is killed (or 60 s pass).

    python execution_child.py broker LOG JOURNAL STATE
        logs in with the simulator's broker state file STATE, sends an entry
        (buy 1 @ 5500.0) and waits for its acknowledgement; then journals an
        exit (sell 1 @ 5510.0) and sends it without binding its local id (as
        if killed inside SendOrder), journals one more (sell 1 @ 5515.0) and
        never sends it; stops reading order updates, waits until the venue
        has filled the entry, prints "ready" and sleeps until killed."""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from profitdll_support import LOG_DAY, SIM_CREDENTIALS, TICKER, configure_sim, sim_connection

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.execution import ProfitDLLVenue
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.instruments import InstrumentSpec

SPEC = InstrumentSpec(TICKER, "WDO", Decimal("0.5"), 1, Decimal(10), instrument_id=1)


def trade(log: str, journal_path: str) -> None:
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


def broker(log: str, journal_path: str, state: str) -> None:
    conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, routing=True,
                            utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
    configure_sim(conn.dll, log)
    conn.dll.sim_set_state_file(state)
    conn.connect(10.0)
    conn.subscribe("WDO", date=LOG_DAY)
    conn.dll.sim_set_speed(1.0)
    conn.dll.sim_start_replay()
    time.sleep(0.3)  # the session's opening records
    venue = ProfitDLLVenue(conn.dll, (1, "SIM0001"), SIM_CREDENTIALS.routing_password)
    journal = Journal(journal_path, session="broker-test")
    eng = ExecutionEngine(venue, journal, {TICKER: SPEC})
    entry = eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, 11000))
    while entry.status is not OrderStatus.NEW:
        eng.on_order_updates(conn.order_updates())
        time.sleep(0.001)
    sent = OrderRequest(TICKER, Side.SELL, 1, OrderType.LIMIT, OrderPurpose.EXIT, 11020)
    journal.record_intent(sent, time.monotonic_ns())
    venue.send_order(sent, SPEC)  # its local id is never bound: the kill came first
    journal.record_intent(OrderRequest(TICKER, Side.SELL, 1, OrderType.LIMIT, OrderPurpose.EXIT, 11030),
                          time.monotonic_ns())
    while venue.order_details(0, entry.cl_ord_id or "").status is not OrderStatus.FILLED:
        conn.poll(0.01)
    print("ready", flush=True)
    time.sleep(60)


if __name__ == "__main__":
    if sys.argv[1] == "broker":
        broker(*sys.argv[2:5])
    else:
        trade(*sys.argv[2:4])
