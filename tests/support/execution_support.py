"""Shared pieces of the execution tests: a WDO instrument, order-update
records built by hand (ORDER_UPDATE_DTYPE, as the order ring carries them),
and ScriptedVenue.

ScriptedVenue is an in-memory TEST DOUBLE of the Venue protocol, used only
where the real simulator cannot drive the case: updates out of order, a
fill after a final state, VENUE_LOST, NO_DETAILS, unknown status codes, a
venue that lists open orders (the binding's enumerate_orders is not there
yet) and venue answers chosen to disagree with the journal.  The real
simulator drives tests/integration/test_order_execution_flow.py."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from quantumtrader.adapters.profitdll.order_updates import ORDER_UPDATE_DTYPE
from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.execution.venue import VenueError, VenueOrder
from quantumtrader.instruments import InstrumentSpec

WDO = InstrumentSpec("WDOZ26", "WDO", Decimal("0.5"), 1, Decimal(10), instrument_id=1)


def upd(local_id: int, event_id: int, status: int, *, cum: int = 0, qty: int = 1, leaves: int | None = None,
        avg: float = 0.0, price: float = 5500.0, stop: float = 0.0, side: int = 1, order_type: int = 2,
        cl: str = "", kind: int = 1, flags: int = 0, last: float = 0.0, exch_ns: int = 0) -> np.ndarray:
    """One order-ring record."""
    r = np.zeros(1, dtype=ORDER_UPDATE_DTYPE)
    r["type"], r["flags"], r["instrument"] = kind, flags, 1
    r["local_id"], r["event_id"], r["status"] = local_id, event_id, status
    r["quantity"], r["cum_qty"] = qty, cum
    r["leaves_qty"] = qty - cum if leaves is None else leaves
    r["avg_price"], r["price"], r["stop_price"], r["last_price"] = avg, price, stop, last
    r["side"], r["order_type"], r["exch_ns"] = side, order_type, exch_ns
    cl = cl or (f"CL-{local_id}" if local_id else "")
    r["cl_ord_id_len"] = len(cl)
    r["cl_ord_id"][0, :len(cl)] = np.frombuffer(cl.encode("utf-16-le"), dtype="<u2")
    return r


def limit(side: Side, qty: int, price: int, **kw) -> OrderRequest:
    """A WDOZ26 limit order (an entry unless ``purpose=`` says otherwise)."""
    purpose = kw.pop("purpose", OrderPurpose.ENTRY)
    return OrderRequest("WDOZ26", side, qty, OrderType.LIMIT, purpose, price, **kw)


class ScriptedVenue:
    """TEST DOUBLE (see module docstring): hands out local ids 1, 2, ...,
    records every call, answers details / open orders / positions from what
    the test put in."""

    def __init__(self) -> None:
        self.next_local = 1
        self.sent: list[tuple[int, OrderRequest]] = []
        self.cancels: list[int] = []
        self.changes: list[tuple[int, int, int | None, int | None]] = []
        self.details: dict[str, VenueOrder] = {}
        self.open: list[VenueOrder] | None = None
        self.positions: dict[str, int] = {}
        self.fail_send = False
        self.fail_cancel = False

    def send_order(self, req: OrderRequest, spec: InstrumentSpec) -> int:
        if self.fail_send:
            raise VenueError("SendOrder WDOZ26: NL_NOT_CONNECTED")
        lid = self.next_local
        self.next_local += 1
        self.sent.append((lid, req))
        return lid

    def cancel_order(self, local_id: int, cl_ord_id: str) -> None:
        if self.fail_cancel:
            raise VenueError(f"cancel {cl_ord_id}: NL_NOT_CONNECTED")
        self.cancels.append(local_id)

    def change_order(self, local_id: int, cl_ord_id: str, spec: InstrumentSpec, *, quantity: int,
                     price: int | None, stop_price: int | None) -> None:
        self.changes.append((local_id, quantity, price, stop_price))

    def order_details(self, local_id: int, cl_ord_id: str) -> VenueOrder | None:
        return self.details.get(cl_ord_id or f"#{local_id}")

    def open_orders(self) -> list[VenueOrder] | None:
        return self.open

    def position(self, spec: InstrumentSpec) -> int:
        return self.positions.get(spec.ticker, 0)


def venue_order(local_id: int, cl: str, status: OrderStatus, *, qty: int = 1, traded: int = 0,
                avg: float = 0.0, price: float = 5500.0, side: Side = Side.BUY,
                order_type: OrderType = OrderType.LIMIT, event_id: int = 100) -> VenueOrder:
    return VenueOrder(local_id, cl, "WDOZ26", side, order_type, qty, traded,
                      0 if status.terminal else qty - traded, price, -1.0, avg, status, event_id, "")
