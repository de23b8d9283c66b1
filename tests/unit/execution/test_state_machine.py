"""The order state machine driven by hand-written order-ring records: every
status path, fills from cumulative quantity / average price deltas, updates
out of order, a fill after a cancel request and after a final state, the
callback that beats SendOrder's return, and the unknown-state stop.
(ScriptedVenue is the labelled test double of execution_support.)"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from execution_support import WDO, ScriptedVenue, limit, upd

from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import Fill, OrderPurpose, OrderRequest, OrderStatus, OrderType, Side

S = OrderStatus


@dataclass(frozen=True)
class Verdict:
    approved: bool
    request: OrderRequest
    reason: str | None = None
    detail: str = ""


def make(venue: ScriptedVenue, journal: Journal, **kw) -> tuple[ExecutionEngine, list[Fill]]:
    got: list[Fill] = []
    eng = ExecutionEngine(venue, journal, {"WDOZ26": WDO}, on_fill=got.append, **kw)
    return eng, got


def test_partial_fills_then_filled(venue, journal) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 3, 11000), exch_ns=5)
    assert o is not None and o.local_id == 1 and o.status is S.PENDING_NEW
    assert journal.orders()[0].status is S.PENDING_NEW and journal.orders()[0].local_id == 1
    eng.on_order_updates(upd(1, 1, S.PENDING_NEW, qty=3))
    eng.on_order_updates(upd(1, 2, S.NEW, qty=3))
    assert o.status is S.NEW and o.cl_ord_id == "CL-1" and o.acked_wall_ns is not None
    eng.on_order_updates(upd(1, 3, S.PARTIALLY_FILLED, qty=3, cum=1, avg=5500.0, exch_ns=77))
    # two more at 5499.5: the average becomes (5500 + 2 * 5499.5) / 3
    eng.on_order_updates(upd(1, 4, S.FILLED, qty=3, cum=3, avg=(5500.0 + 2 * 5499.5) / 3))
    assert o.status is S.FILLED and o.cum_qty == 3 and o.leaves_qty == 0 and not o.working
    assert [(f.quantity, f.price, f.event_id) for f in got] == [(1, 11000, 3), (2, 10999, 4)]
    assert got[0].exch_ns == 77 and o.fills == got
    assert journal.fills() == got and eng.position("WDOZ26") == 3
    assert eng.counters["fills"] == 2 and not eng.state_unknown


def test_out_of_order_update_changes_nothing_but_is_journaled(venue, journal) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.SELL, 2, 11000))
    eng.on_order_updates(upd(1, 5, S.PARTIALLY_FILLED, qty=2, cum=1, avg=5500.0, side=2))
    eng.on_order_updates(upd(1, 4, S.NEW, qty=2, side=2))          # older: ignored
    eng.on_order_updates(upd(1, 5, S.PARTIALLY_FILLED, qty=2, cum=1, avg=5500.0, side=2))  # repeated
    assert o.status is S.PARTIALLY_FILLED and o.cum_qty == 1 and len(got) == 1
    assert eng.counters["out_of_order"] == 2
    ev = journal.events(o.internal_id)
    assert [(e["event_id"], e["applied"], e["note"]) for e in ev] == [
        (5, 1, ""), (4, 0, "out of order"), (5, 0, "out of order")]
    assert got[0].side is Side.SELL and eng.position("WDOZ26") == -1


def test_fill_after_cancel_request_is_a_fill(venue, journal) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.NEW))
    eng.cancel(o.internal_id)
    assert venue.cancels == [1] and o.cancel_requested
    eng.cancel(o.internal_id)  # once is enough
    assert venue.cancels == [1]
    eng.on_order_updates(upd(1, 2, S.PENDING_CANCEL))
    eng.on_order_updates(upd(1, 3, S.FILLED, cum=1, avg=5500.0))
    assert o.status is S.FILLED and [f.quantity for f in got] == [1]
    assert journal.actions(o.internal_id) == [("cancel", "sent")]
    assert journal.orders()[0].cancel_requested


def test_failed_cancel_is_journaled_and_can_be_retried(venue, journal) -> None:
    eng, _ = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 1, 11000))
    venue.fail_cancel = True
    eng.cancel(o.internal_id)
    assert not o.cancel_requested and eng.counters["cancel_errors"] == 1
    venue.fail_cancel = False
    eng.cancel(o.internal_id)
    assert venue.cancels == [1] and o.cancel_requested
    assert [a for a, _ in journal.actions(o.internal_id)] == ["cancel", "cancel failed", "cancel"]
    assert "NL_NOT_CONNECTED" in journal.actions(o.internal_id)[1][1]


def test_fill_after_final_state_is_journaled_and_counted(venue, journal) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 2, 11000))
    eng.on_order_updates(upd(1, 1, S.NEW, qty=2))
    eng.on_order_updates(upd(1, 2, S.CANCELED, qty=2, leaves=0))
    eng.on_order_updates(upd(1, 3, S.PARTIALLY_FILLED, qty=2, cum=1, avg=5499.5))
    assert o.status is S.CANCELED and o.cum_qty == 1 and o.leaves_qty == 0
    assert [(f.quantity, f.price) for f in got] == [(1, 10999)]
    assert eng.counters["late_fills"] == 1
    assert journal.events(o.internal_id)[-1]["note"] == "late fill"


@pytest.mark.parametrize("final", [S.REJECTED, S.EXPIRED, S.CANCELED, S.PARTIALLY_FILLED_EXPIRED,
                                   S.PARTIALLY_FILLED_CANCELED, S.PARTIALLY_FILLED_REJECTED, S.DONE_FOR_DAY])
def test_final_states_stay_final(venue, journal, final: OrderStatus) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 2, 11000))
    cum = 1 if final.name.startswith("PARTIALLY") else 0
    eng.on_order_updates(upd(1, 1, final, qty=2, cum=cum, avg=5500.0 if cum else 0.0, leaves=0))
    eng.on_order_updates(upd(1, 2, S.NEW, qty=2, cum=cum, avg=5500.0 if cum else 0.0))
    assert o.status is final and not o.working and eng.working_orders() == []
    assert len(got) == cum
    assert journal.events(o.internal_id)[-1]["note"] == "after final: NEW ignored"


@pytest.mark.parametrize("status", [S.SUSPENDED, S.CALCULATED, S.ACCEPTED_FOR_BIDDING, S.RECEIVED,
                                    S.PENDING_NEW, S.PENDING_CANCEL, S.PENDING_REPLACE])
def test_working_statuses_keep_the_order_working(venue, journal, status: OrderStatus) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, status))
    assert o.status is status and o.working and eng.working_quantity("WDOZ26", Side.BUY) == 1
    eng.on_order_updates(upd(1, 2, S.FILLED, cum=1, avg=5500.0))
    assert not o.working and len(got) == 1


def test_stopped_is_final(venue, journal) -> None:
    eng, _ = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.STOPPED, leaves=0))
    assert not o.working and eng.working_quantity("WDOZ26", Side.BUY) == 0


def test_replaced_carries_new_price_and_quantity(venue, journal) -> None:
    eng, _ = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.NEW))
    eng.on_order_updates(upd(1, 2, S.PENDING_REPLACE))
    eng.on_order_updates(upd(1, 3, S.REPLACED, qty=2, price=5499.0))
    assert (o.status, o.quantity, o.price, o.leaves_qty) == (S.REPLACED, 2, 10998, 2)
    assert eng.working_quantity("WDOZ26", Side.BUY) == 2 and eng.working_quantity("WDOZ26", Side.SELL) == 0
    back = journal.orders()[0]
    assert (back.quantity, back.price, back.request.price) == (2, 10998, 11000)


def test_cumulative_quantity_never_decreases(venue, journal) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 3, 11000))
    eng.on_order_updates(upd(1, 1, S.PARTIALLY_FILLED, qty=3, cum=2, avg=5500.0))
    eng.on_order_updates(upd(1, 2, S.PARTIALLY_FILLED, qty=3, cum=1, avg=5500.0))
    assert o.cum_qty == 2 and len(got) == 1 and eng.counters["cum_decreases"] == 1


@pytest.mark.parametrize("avg", [float("nan"), float("inf"), 0.0])
def test_unusable_average_price_falls_back_to_the_last_price(venue, journal, avg: float) -> None:
    eng, got = make(venue, journal)
    o = eng.submit(limit(Side.BUY, 2, 11000))
    eng.on_order_updates(upd(1, 1, S.PARTIALLY_FILLED, qty=2, cum=1, avg=avg, last=5499.5))
    assert o.avg_price == 5499.5  # ours, from the fills: the next delta stays right
    eng.on_order_updates(upd(1, 2, S.FILLED, qty=2, cum=2, avg=5499.75))
    assert [(f.quantity, f.price) for f in got] == [(1, 10999), (1, 11000)]
    assert eng.counters["bad_fill_prices"] == 1 and journal.orders()[0].avg_price == 5499.75


def test_callback_before_send_order_returns_binds_the_intent(journal) -> None:
    """The DLL may call back before SendOrder returns: the update finds the
    journaled intent (same side, type and quantity) and binds it."""

    class EarlyVenue(ScriptedVenue):
        engine: ExecutionEngine

        def send_order(self, req, spec):
            lid = super().send_order(req, spec)
            self.engine.on_order_updates(upd(lid, 1, S.NEW, qty=req.quantity, cl="SIMX-1"))
            return lid

    venue = EarlyVenue()
    eng, _ = make(venue, journal)
    venue.engine = eng
    o = eng.submit(limit(Side.BUY, 1, 11000))
    assert o.local_id == 1 and o.cl_ord_id == "SIMX-1" and o.status is S.NEW
    assert not eng.state_unknown and eng.counters.get("unknown_orders", 0) == 0


def test_unknown_order_stops_trading(venue, journal) -> None:
    eng, _ = make(venue, journal)
    eng.on_order_updates(upd(42, 1, S.NEW))
    assert eng.state_unknown and eng.counters["unknown_orders"] == 1
    assert eng.submit(limit(Side.BUY, 1, 11000)) is None
    assert venue.sent == [] and eng.denials["order_state_unknown"] == 1
    assert journal.denials()[0][1] == "order_state_unknown"
    assert journal.events()[0]["note"] == "unknown order"


@pytest.mark.parametrize("case", ["venue_lost", "no_details", "unknown_status"])
def test_unknown_venue_state_stops_trading(venue, journal, case: str) -> None:
    eng, _ = make(venue, journal)
    eng.submit(limit(Side.BUY, 1, 11000))
    rec = {"venue_lost": upd(0, 0, 0, kind=2), "no_details": upd(1, 1, S.NEW, flags=1),
           "unknown_status": upd(1, 1, 77)}[case]
    eng.on_order_updates(rec)
    assert eng.state_unknown
    assert eng.submit(limit(Side.BUY, 1, 11000)) is None and len(venue.sent) == 1
    assert journal.notes("state_unknown")


def test_ring_overflow_marks_unknown(venue, journal) -> None:
    eng, _ = make(venue, journal)
    eng.mark_state_unknown("order ring overflowed")
    assert eng.state_unknown and eng.unknown_reason == "order ring overflowed"
    assert eng.submit(limit(Side.BUY, 1, 11000)) is None
    assert journal.denials() == [("WDOZ26", "order_state_unknown", "order ring overflowed")]


def test_every_denial_is_journaled_and_counted(venue, journal) -> None:
    def risk(req: OrderRequest) -> Verdict:
        if req.quantity > 1:
            return Verdict(False, req, "max_order_size", f"{req.quantity} > 1")
        return Verdict(True, OrderRequest(req.ticker, req.side, req.quantity, req.order_type, req.purpose,
                                          req.price - 1 if req.price else None))  # risk may re-price

    eng, _ = make(venue, journal, risk_check=risk)
    assert eng.submit(limit(Side.BUY, 2, 11000)) is None
    assert eng.submit(OrderRequest("WINZ26", Side.BUY, 1, OrderType.MARKET, OrderPurpose.ENTRY)) is None
    assert eng.submit(OrderRequest("WDOZ26", Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY)) is None
    o = eng.submit(limit(Side.BUY, 1, 11000))
    assert o is not None and o.price == 10999 and venue.sent[0][1].price == 10999
    assert dict(eng.denials) == {"max_order_size": 1, "unknown_instrument": 1, "bad_request": 1}
    assert [d[1] for d in journal.denials()] == ["max_order_size", "unknown_instrument", "bad_request"]


def test_send_error_gives_a_rejected_order(venue, journal) -> None:
    eng, _ = make(venue, journal)
    venue.fail_send = True
    o = eng.submit(limit(Side.BUY, 1, 11000))
    assert o.status is S.REJECTED and "NL_NOT_CONNECTED" in o.text and not o.working
    assert eng.counters["send_errors"] == 1
    assert journal.orders()[0].status is S.REJECTED


def test_flatten_cancels_working_orders_and_closes_the_position(venue, journal) -> None:
    eng, _ = make(venue, journal)
    eng.submit(limit(Side.BUY, 1, 10990))
    eng.on_order_updates(upd(1, 1, S.NEW, price=5495.0))
    f = eng.flatten("WDOZ26", -2, exch_ns=9)
    assert venue.cancels == [1]
    assert (f.side, f.quantity, f.request.order_type, f.purpose) == (Side.BUY, 2, OrderType.MARKET,
                                                                     OrderPurpose.FLATTEN)
    assert eng.flatten("WDOZ26", 0, exch_ns=9) is None


def test_a_failing_fill_consumer_stops_trading_but_loses_no_update(venue, journal) -> None:
    def broken(fill: Fill) -> None:
        raise ArithmeticError("portfolio broke")

    eng = ExecutionEngine(venue, journal, {"WDOZ26": WDO}, on_fill=broken)
    a = eng.submit(limit(Side.BUY, 1, 11000))
    b = eng.submit(limit(Side.BUY, 1, 10999))
    eng.on_order_updates(np.concatenate([upd(1, 1, S.FILLED, cum=1, avg=5500.0), upd(2, 2, S.NEW)]))
    assert a.status is S.FILLED and b.status is S.NEW  # the batch went on
    assert journal.fills() == a.fills and eng.counters["on_fill_errors"] == 1
    assert eng.state_unknown and "ArithmeticError: portfolio broke" in eng.unknown_reason
