"""Recovery after a crash: the journal rebuilt, then reconciled with what the
venue says.  ScriptedVenue (the labelled test double of execution_support)
plays venues that list their open orders (the binding cannot yet) and that
disagree with the journal on purpose; the simulator drives a restart in
tests/integration/test_order_execution_flow.py."""

from __future__ import annotations

from pathlib import Path

from execution_support import WDO, ScriptedVenue, limit, upd, venue_order

from quantumtrader.execution.config import BracketConfig
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import OrderPurpose, OrderStatus, Side

S = OrderStatus
INSTRUMENTS = {"WDOZ26": WDO}


def crashed(path: Path, *, acked: bool = True, intent_only: bool = False) -> None:
    """A session that journaled a BUY 2 @ 11000 (acked as CL-1 when
    ``acked``) and maybe an intent it never sent, then died."""
    j = Journal(path, session="d1")
    eng = ExecutionEngine(ScriptedVenue(), j, INSTRUMENTS)
    eng.submit(limit(Side.BUY, 2, 11000))
    if acked:
        eng.on_order_updates(upd(1, 1, S.NEW, qty=2))
    if intent_only:  # killed between the journal's commit and SendOrder
        j.record_intent(limit(Side.SELL, 1, 11010), created_wall_ns=1)
    j.close()  # what a kill leaves is what was committed: closing adds nothing


def test_fills_missed_while_down_are_adopted(tmp_path: Path) -> None:
    crashed(tmp_path / "j.sqlite")
    venue = ScriptedVenue()
    venue.details["CL-1"] = venue_order(7, "CL-1", S.FILLED, qty=2, traded=2, avg=5499.75, event_id=30)
    venue.positions["WDOZ26"] = 2
    j = Journal(tmp_path / "j.sqlite", session="d1")
    got = []
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS, on_fill=got.append)
    assert rep.ok and rep.differences == [] and rep.adopted_fills == 1
    o = eng.orders[1]
    assert o.status is S.FILLED and o.local_id == 7 and o.last_event_id == 30
    assert [(f.quantity, f.price) for f in got] == [(2, 11000)]  # 5499.75 -> 10999.5 -> nearest even
    assert j.fill_sources() == ["recovery"] and eng.position("WDOZ26") == 2
    assert not eng.state_unknown
    j.close()


def test_intent_never_sent_is_marked_so(tmp_path: Path) -> None:
    crashed(tmp_path / "j.sqlite", intent_only=True)
    venue = ScriptedVenue()
    venue.details["CL-1"] = venue_order(1, "CL-1", S.NEW, qty=2, event_id=1)
    j = Journal(tmp_path / "j.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS)
    assert rep.ok
    intent = eng.orders[2]
    assert intent.status is S.REJECTED and intent.text == "never sent"
    assert any("never sent" in n for n in rep.notes)
    assert any("cannot list" in n for n in rep.notes)  # this venue cannot list open orders
    assert j.orders()[1].status is S.REJECTED
    j.close()


def test_intent_found_at_the_venue_is_bound(tmp_path: Path) -> None:
    crashed(tmp_path / "j.sqlite", intent_only=True)
    venue = ScriptedVenue()
    venue.details["CL-1"] = venue_order(1, "CL-1", S.NEW, qty=2, event_id=1)
    sent = venue_order(5, "CL-5", S.NEW, qty=1, price=5505.0, side=Side.SELL, event_id=9)
    other = venue_order(6, "CL-6", S.NEW, qty=1, price=5506.0, side=Side.SELL, event_id=10)
    venue.open = [venue.details["CL-1"], sent]
    venue.details["CL-5"] = sent
    j = Journal(tmp_path / "j.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS)
    assert rep.ok, rep.summary()
    o = eng.orders[2]
    assert (o.local_id, o.cl_ord_id, o.status, o.last_event_id) == (5, "CL-5", S.NEW, 9)
    j.close()
    # a venue order of another price is not it, and is a difference
    crashed(tmp_path / "k.sqlite", intent_only=True)
    venue.open = [venue.details["CL-1"], other]
    j = Journal(tmp_path / "k.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS)
    assert not rep.ok and eng.orders[2].text == "never sent"
    assert rep.differences == ["venue order CL-6 (WDOZ26 SELL 1 left of 1 @5506, NEW) is not in the journal"]
    j.close()


def test_differences_are_reported_and_trading_refused(tmp_path: Path) -> None:
    crashed(tmp_path / "j.sqlite")
    venue = ScriptedVenue()  # knows nothing of CL-1
    venue.open = [venue_order(3, "MANUAL-3", S.NEW, qty=1, price=5490.0)]
    venue.positions["WDOZ26"] = -1
    j = Journal(tmp_path / "j.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS)
    assert not rep.ok and rep.adopted_fills == 0
    assert rep.differences == [
        "order 1 (WDOZ26 BUY 2 LIMIT @11000, ClOrdID CL-1): working in the journal, unknown at the venue",
        "venue order MANUAL-3 (WDOZ26 BUY 1 left of 1 @5490, NEW) is not in the journal",
        "WDOZ26: venue position -1, journal +0",
    ]
    assert eng.state_unknown and eng.submit(limit(Side.BUY, 1, 11000)) is None
    assert venue.sent == [] and j.denials()[0][1] == "order_state_unknown"
    assert "3 difference(s)" in j.notes("reconcile")[-1][1]
    j.close()


def test_brackets_wait_for_a_clean_reconciliation(tmp_path: Path) -> None:
    """An entry filled while down gets its legs once the venue agrees, not before."""
    crashed(tmp_path / "j.sqlite")
    venue = ScriptedVenue()
    venue.next_local = 20
    venue.details["CL-1"] = venue_order(1, "CL-1", S.FILLED, qty=2, traded=2, avg=5500.0, event_id=5)
    venue.positions["WDOZ26"] = 2
    j = Journal(tmp_path / "j.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS, brackets=BracketConfig())
    assert rep.ok and not eng.state_unknown and eng.counters["bracket_legs"] == 2
    assert [(r.purpose, r.quantity) for _, r in venue.sent] == [(OrderPurpose.TAKE_PROFIT, 2),
                                                               (OrderPurpose.STOP_LOSS, 2)]
    j.close()
    # the same with a position difference: no leg is sent
    crashed(tmp_path / "k.sqlite")
    venue.sent.clear()
    venue.positions["WDOZ26"] = 3
    j = Journal(tmp_path / "k.sqlite", session="d1")
    _, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS, brackets=BracketConfig())
    assert not rep.ok and venue.sent == []
    j.close()


def test_orders_of_an_instrument_not_configured_are_differences(tmp_path: Path) -> None:
    crashed(tmp_path / "j.sqlite")
    j = Journal(tmp_path / "j.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(ScriptedVenue(), j, {})
    assert eng.state_unknown and not rep.ok and rep.differences == [
        "order 1 (WDOZ26 BUY 2 LIMIT @11000, ClOrdID CL-1): working in the journal, WDOZ26 not configured"]
    j.close()


def test_in_session_reconcile_binds_what_lost_callbacks_did_not(tmp_path: Path) -> None:
    """After an order-ring overflow: an order whose updates were lost is
    found by its local id, gets its ClOrdID, and is not a difference."""
    j = Journal(tmp_path / "j.sqlite", session="d1")
    venue = ScriptedVenue()
    eng = ExecutionEngine(venue, j, INSTRUMENTS)
    o = eng.submit(limit(Side.BUY, 1, 11000))
    eng.mark_state_unknown("order ring overflowed")
    at_venue = venue_order(1, "CL-1", S.NEW, event_id=4)
    venue.details["#1"] = at_venue
    venue.open = [at_venue]
    rep = eng.reconcile()
    assert rep.ok and rep.differences == [], rep.summary()
    assert (o.cl_ord_id, o.status, o.last_event_id) == ("CL-1", S.NEW, 4) and not eng.state_unknown
    assert j.orders()[0].cl_ord_id == "CL-1"
    j.close()


def test_a_dead_sessions_local_id_never_names_an_order(tmp_path: Path) -> None:
    """After a restart local ids start again at 1: until the venue confirms
    an order's current one, cancels name it by ClOrdID only."""
    crashed(tmp_path / "j.sqlite")  # order 1: local id 1 of the dead session, ClOrdID CL-1
    venue = ScriptedVenue()
    j = Journal(tmp_path / "j.sqlite", session="d1")
    eng = ExecutionEngine(venue, j, INSTRUMENTS)
    eng._load(j.orders())
    eng.cancel(1)
    assert venue.cancels == [0]  # ClOrdID only
    j.close()
    crashed(tmp_path / "k.sqlite")
    venue.cancels.clear()
    venue.details["CL-1"] = venue_order(7, "CL-1", S.NEW, qty=2, event_id=1)
    j = Journal(tmp_path / "k.sqlite", session="d1")
    eng, rep = ExecutionEngine.recover(venue, j, INSTRUMENTS)
    assert rep.ok and eng.orders[1].local_id == 7
    eng.cancel(1)
    assert venue.cancels == [7]  # confirmed by the venue: its current local id
    j.close()
