"""Brackets (stop loss + take profit emulated as OCO) driven by scripted
order-ring records: placed on the first partial fill, resized as the entry
fills, one leg's fill shrinks or cancels the other, an exit cancels both,
every leg passes the risk check.  (ScriptedVenue: the labelled test double
of execution_support; the simulator drives the same path in
tests/integration/test_order_execution_flow.py.)"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from execution_support import WDO, limit, upd

from quantumtrader.execution.brackets import leg_prices
from quantumtrader.execution.config import BracketConfig
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.execution.reconcile import reconcile
from quantumtrader.instruments import InstrumentSpec

S = OrderStatus
CFG = BracketConfig(stop_loss_ticks=8, take_profit_ticks=10, stop_limit_offset_ticks=4)


@dataclass(frozen=True)
class Verdict:
    approved: bool
    request: OrderRequest
    reason: str | None = None
    detail: str = ""


def engine(venue, journal, **kw) -> ExecutionEngine:
    return ExecutionEngine(venue, journal, {"WDOZ26": WDO}, brackets=CFG, **kw)


def test_partial_fills_place_then_resize_the_legs_and_one_leg_shrinks_the_other(venue, journal) -> None:
    eng = engine(venue, journal)
    entry = eng.submit(limit(Side.BUY, 3, 11000, decision_id=9))
    eng.on_order_updates(upd(1, 1, S.NEW, qty=3))
    assert len(venue.sent) == 1  # nothing filled: no bracket
    eng.on_order_updates(upd(1, 2, S.PARTIALLY_FILLED, qty=3, cum=1, avg=5500.0))
    (tp_id, tp), (sl_id, sl) = venue.sent[1:]
    assert (tp.side, tp.order_type, tp.quantity, tp.price, tp.purpose) == (
        Side.SELL, OrderType.LIMIT, 1, 11010, OrderPurpose.TAKE_PROFIT)
    assert (sl.side, sl.order_type, sl.quantity, sl.stop_price, sl.price, sl.purpose) == (
        Side.SELL, OrderType.STOP_LIMIT, 1, 10992, 10988, OrderPurpose.STOP_LOSS)
    assert tp.parent_id == sl.parent_id == entry.internal_id and tp.decision_id == 9
    eng.on_order_updates(upd(tp_id, 3, S.NEW, side=2, price=5505.0))
    eng.on_order_updates(upd(sl_id, 4, S.NEW, side=2, order_type=4, price=5494.0, stop=5496.0))
    assert venue.changes == []

    # the rest of the entry fills: both legs grow to 3
    eng.on_order_updates(upd(1, 5, S.FILLED, qty=3, cum=3, avg=5500.0))
    assert venue.changes == [(tp_id, 3, 11010, None), (sl_id, 3, 10988, 10992)]
    eng.on_order_updates(upd(tp_id, 6, S.REPLACED, qty=3, side=2, price=5505.0))
    eng.on_order_updates(upd(sl_id, 7, S.REPLACED, qty=3, side=2, order_type=4, price=5494.0, stop=5496.0))
    assert len(venue.changes) == 2  # nothing new to ask

    # the take profit fills 1: the stop loss shrinks to the 2 still open
    eng.on_order_updates(upd(tp_id, 8, S.PARTIALLY_FILLED, qty=3, cum=1, avg=5505.0, side=2, price=5505.0))
    assert eng.position("WDOZ26") == 2 and venue.changes[-1] == (sl_id, 2, 10988, 10992)
    # and then the rest: the stop loss is cancelled (OCO)
    eng.on_order_updates(upd(tp_id, 9, S.FILLED, qty=3, cum=3, avg=5505.0, side=2, price=5505.0))
    assert eng.position("WDOZ26") == 0 and venue.cancels == [sl_id]
    assert eng.counters["bracket_legs"] == 2
    fills = journal.fills()
    assert [(f.side, f.quantity, f.price) for f in fills] == [
        (Side.BUY, 1, 11000), (Side.BUY, 2, 11000), (Side.SELL, 1, 11010), (Side.SELL, 2, 11010)]


def test_stop_loss_fill_cancels_the_take_profit_of_a_short(venue, journal) -> None:
    eng = engine(venue, journal)
    eng.submit(limit(Side.SELL, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0, side=2))
    (tp_id, tp), (sl_id, sl) = venue.sent[1:]
    assert (tp.side, tp.price) == (Side.BUY, 10990)
    assert (sl.side, sl.stop_price, sl.price) == (Side.BUY, 11008, 11012)
    eng.on_order_updates(upd(sl_id, 2, S.NEW, order_type=4, price=5506.0, stop=5504.0))
    eng.on_order_updates(upd(sl_id, 3, S.FILLED, cum=1, avg=5505.0, order_type=4, price=5506.0))
    assert eng.position("WDOZ26") == 0 and venue.cancels == [tp_id]


def test_exit_closing_the_position_cancels_both_legs(venue, journal) -> None:
    eng = engine(venue, journal)
    eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0))
    tp_id, sl_id = venue.sent[1][0], venue.sent[2][0]
    ex = eng.submit(OrderRequest("WDOZ26", Side.SELL, 1, OrderType.MARKET, OrderPurpose.EXIT))
    assert len(venue.sent) == 4  # an exit gets no bracket
    eng.on_order_updates(upd(ex.local_id, 5, S.FILLED, cum=1, avg=5501.0, side=2, order_type=1, price=-1.0))
    assert sorted(venue.cancels) == sorted([tp_id, sl_id])
    assert eng.position("WDOZ26") == 0 and len(venue.sent) == 4


def test_every_leg_passes_the_risk_check(venue, journal) -> None:
    seen: list[OrderPurpose] = []

    def risk(req: OrderRequest) -> Verdict:
        seen.append(req.purpose)
        if req.purpose is OrderPurpose.STOP_LOSS:
            return Verdict(False, req, "price_band", "stop beyond the band")
        return Verdict(True, req)

    eng = engine(venue, journal, risk_check=risk)
    eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0))
    assert seen == [OrderPurpose.ENTRY, OrderPurpose.TAKE_PROFIT, OrderPurpose.STOP_LOSS]
    assert [r.purpose for _, r in venue.sent] == [OrderPurpose.ENTRY, OrderPurpose.TAKE_PROFIT]
    assert eng.counters["bracket_denied"] == 1 and eng.denials["price_band"] == 1
    assert journal.denials() == [("WDOZ26", "price_band", "stop beyond the band")]


def test_disabled_brackets_place_nothing(venue, journal) -> None:
    eng = ExecutionEngine(venue, journal, {"WDOZ26": WDO}, brackets=BracketConfig(enabled=False))
    eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0))
    assert len(venue.sent) == 1


def test_leg_prices_round_away_for_profit_and_towards_the_entry_for_the_stop() -> None:
    win = InstrumentSpec("WINZ26", "WIN", Decimal(1), 5, Decimal("0.2"))
    cfg = BracketConfig(stop_loss_ticks=2, take_profit_ticks=3, stop_limit_offset_ticks=1)
    # an average entry of 100003 (off the 5-point tick)
    assert leg_prices(win, Side.BUY, 100003, cfg) == (100020, 99995, 99990)
    assert leg_prices(win, Side.SELL, 100003, cfg) == (99985, 100010, 100015)


def test_a_rejected_leg_is_counted_and_noted_once(venue, journal) -> None:
    eng = engine(venue, journal)
    eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0))
    tp_id = venue.sent[1][0]
    eng.on_order_updates(upd(tp_id, 2, S.REJECTED, side=2, price=5505.0, leaves=0))
    eng.on_order_updates(upd(tp_id, 3, S.REJECTED, side=2, price=5505.0, leaves=0))
    assert eng.counters["bracket_leg_rejected"] == 1
    assert len(journal.notes("bracket")) == 1 and "not fully protected" in journal.notes("bracket")[0][1]
    assert len(venue.sent) == 3  # not re-sent


def test_no_leg_while_the_state_is_unknown(venue, journal) -> None:
    eng = engine(venue, journal)
    eng.submit(limit(Side.BUY, 1, 11000))
    eng.mark_state_unknown("order ring overflowed")
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0))
    assert len(venue.sent) == 1 and eng.denials == {}  # nothing tried, nothing denied
    venue.positions["WDOZ26"] = 1
    assert reconcile(eng).ok and not eng.state_unknown
    assert [r.purpose for _, r in venue.sent[1:]] == [OrderPurpose.TAKE_PROFIT, OrderPurpose.STOP_LOSS]


def test_a_leg_filling_after_its_cancel_is_counted_and_the_position_kept(venue, journal) -> None:
    """Both legs filled before the cancel landed: the emulated OCO's residual risk."""
    eng = engine(venue, journal)
    eng.submit(limit(Side.BUY, 1, 11000))
    eng.on_order_updates(upd(1, 1, S.FILLED, cum=1, avg=5500.0))
    tp_id, sl_id = venue.sent[1][0], venue.sent[2][0]
    eng.on_order_updates(upd(tp_id, 2, S.FILLED, cum=1, avg=5505.0, side=2, price=5505.0))
    assert venue.cancels == [sl_id]
    eng.on_order_updates(upd(sl_id, 3, S.FILLED, cum=1, avg=5494.0, side=2, order_type=4, price=5494.0))
    assert eng.position("WDOZ26") == -1 and eng.counters["oco_overfills"] == 1
    assert "filled after its cancel" in journal.notes("bracket")[-1][1]


def test_legs_come_back_when_a_working_entry_fills_after_an_exit(venue, journal) -> None:
    eng = engine(venue, journal)
    eng.submit(limit(Side.BUY, 3, 11000))
    eng.on_order_updates(upd(1, 1, S.PARTIALLY_FILLED, qty=3, cum=1, avg=5500.0))
    first = [lid for lid, _ in venue.sent[1:]]
    ex = eng.submit(OrderRequest("WDOZ26", Side.SELL, 1, OrderType.MARKET, OrderPurpose.EXIT))
    eng.on_order_updates(upd(ex.local_id, 2, S.FILLED, cum=1, avg=5501.0, side=2, order_type=1, price=-1.0))
    assert sorted(venue.cancels) == sorted(first)
    for lid in first:
        eng.on_order_updates(upd(lid, 3 + lid, S.CANCELED, side=2, leaves=0,
                                 order_type=2 if lid == first[0] else 4))
    # the entry is still working and fills 2 more: they get legs of their own
    eng.on_order_updates(upd(1, 20, S.FILLED, qty=3, cum=3, avg=5500.0))
    again = [(r.purpose, r.quantity) for _, r in venue.sent[4:]]  # after entry, 2 legs, exit
    assert again == [(OrderPurpose.TAKE_PROFIT, 2), (OrderPurpose.STOP_LOSS, 2)]
    assert eng.position("WDOZ26") == 2
