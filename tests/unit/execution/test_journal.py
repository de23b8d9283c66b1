"""The SQLite journal: intent before sending, a round trip (write, close,
reopen, rebuild equal), decisions and denials, and the files it refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from execution_support import WDO, ScriptedVenue, limit, upd

from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import SCHEMA_VERSION, Journal, JournalError
from quantumtrader.execution.orders import OrderStatus, Side


def test_intent_is_committed_before_send_order(tmp_path: Path) -> None:
    """What a second connection sees when SendOrder is called is what a
    restart after a kill -9 at that moment would see."""
    path = tmp_path / "j.sqlite"
    journal = Journal(path, session="d1")

    class Spy(ScriptedVenue):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list = []

        def send_order(self, req, spec):
            with sqlite3.connect(path) as other:
                self.seen.append(other.execute("SELECT internal_id, status, local_id FROM orders").fetchall())
            return super().send_order(req, spec)

    venue = Spy()
    eng = ExecutionEngine(venue, journal, {"WDOZ26": WDO})
    o = eng.submit(limit(Side.BUY, 1, 11000))
    assert venue.seen == [[(o.internal_id, int(OrderStatus.PENDING_SUBMIT), None)]]
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    journal.close()


def test_round_trip_rebuilds_equal_orders_and_fills(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, session="d1")
    eng = ExecutionEngine(ScriptedVenue(), journal, {"WDOZ26": WDO})
    a = eng.submit(limit(Side.BUY, 3, 11000, decision_id=4))
    b = eng.submit(limit(Side.SELL, 1, 11010))
    eng.on_order_updates(np.concatenate([
        upd(1, 1, OrderStatus.NEW, qty=3), upd(2, 2, OrderStatus.NEW, side=2, price=5505.0),
        upd(1, 3, OrderStatus.PARTIALLY_FILLED, qty=3, cum=2, avg=5500.0, exch_ns=11),
        upd(2, 4, OrderStatus.REPLACED, qty=2, side=2, price=5504.5)]))
    eng.cancel(b.internal_id)
    journal.record_decision(dict(decision_id=4, ticker="WDOZ26", trade_number=17, exch_ns=11,
                                 probabilities=(0.1, 0.2, 0.7), consensus={"w": 0.5}, action="ENTER_LONG",
                                 reason="p_buy", features=np.arange(3, dtype=np.float32)))
    before_orders, before_fills = list(eng.orders.values()), journal.fills()
    journal.close()

    again = Journal(path, session="d1")
    assert again.orders() == before_orders
    assert again.fills() == before_fills == a.fills and len(before_fills) == 1
    assert again.positions() == {"WDOZ26": 2}
    d = again.decisions()[0]
    assert (d["decision_id"], d["p_buy"], d["action"]) == (4, pytest.approx(0.7), "ENTER_LONG")
    assert np.frombuffer(d["features"], dtype=np.float32).tolist() == [0, 1, 2]
    assert again.counts()["order_events"] == 4
    again.close()


def test_refuses_another_session_a_newer_schema_and_other_files(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path, session="2026-11-03").close()
    with pytest.raises(JournalError, match="session '2026-11-03', not '2026-11-04'"):
        Journal(path, session="2026-11-04")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(JournalError, match="newer"):
        Journal(path, session="2026-11-03")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(JournalError, match="not a trading journal"):
        Journal(other, session="x")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(JournalError, match="not a journal"):
        Journal(junk, session="x")
    assert junk.read_bytes() == b"not sqlite at all" * 100  # the user's file is untouched


def test_a_journal_that_cannot_be_written_stops_sending_not_the_process(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", session="d1")
    venue = ScriptedVenue()
    got = []
    eng = ExecutionEngine(venue, journal, {"WDOZ26": WDO}, on_fill=got.append)
    o = eng.submit(limit(Side.BUY, 2, 11000))
    journal._db.execute("PRAGMA query_only = ON")  # every write now fails, as on a full disk
    eng.on_order_updates(upd(1, 1, OrderStatus.PARTIALLY_FILLED, qty=2, cum=1, avg=5500.0))
    assert o.cum_qty == 1 and len(got) == 1  # memory follows the venue; the fill is not lost
    assert eng.state_unknown and "journal failed" in eng.unknown_reason
    assert eng.submit(limit(Side.BUY, 1, 11000)) is None and len(venue.sent) == 1
    eng.cancel(o.internal_id)  # a cancel still goes out
    assert venue.cancels == [1]
    eng.clear_state_unknown()  # even then: no SendOrder without its intent committed
    assert eng.submit(limit(Side.BUY, 1, 11000)) is None and len(venue.sent) == 1
    assert eng.denials["journal_error"] == 1 and eng.state_unknown
    assert eng.counters["journal_errors"] >= 3
    journal._db.execute("PRAGMA query_only = OFF")
    assert journal.fills() == []  # what the journal missed, a restart adopts from the venue
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.record_note("x", "y")


def test_decisions_and_requests_with_numpy_values(tmp_path: Path) -> None:
    """What the decision thread hands over comes from numpy records."""
    import enum
    from dataclasses import dataclass as dc

    class Action(enum.Enum):
        ENTER_LONG = 1

    @dc(frozen=True)
    class Consensus:
        probabilities: tuple
        weights: dict

    j = Journal(tmp_path / "j.sqlite", session="d1")
    j.record_decision(dict(decision_id=np.int64(3), ticker="WDOZ26", trade_number=np.uint64(9),
                           exch_ns=np.int64(5), probabilities=np.array([0.2, 0.3, 0.5], dtype=np.float32),
                           consensus=Consensus((0.1, 0.1, 0.8), {"a": 1.0}), signal_action=Action.ENTER_LONG,
                           signal_reason="p_buy >= 0.6", features=None))
    d = j.decisions()[0]
    assert (d["decision_id"], d["trade_number"], d["action"]) == (3, 9, "ENTER_LONG")
    assert d["reason"] == "p_buy >= 0.6"
    assert d["p_buy"] == pytest.approx(0.5) and '"weights": {"a": 1.0}' in d["consensus"]
    with pytest.raises(ValueError, match="probabilities must be"):
        j.record_decision(dict(decision_id=4, probabilities=(0.5, 0.5)))
    eng = ExecutionEngine(ScriptedVenue(), j, {"WDOZ26": WDO})
    o = eng.submit(limit(Side.BUY, int(np.int64(1)), np.int64(11000), decision_id=np.int64(3)))
    assert type(o.price) is int and o.local_id == 1
    back = j.orders()[0]
    assert (back.request.price, back.price, back.request.decision_id) == (11000, 11000, 3)
    j.close()


def test_one_process_at_a_time(tmp_path: Path) -> None:
    first = Journal(tmp_path / "j.sqlite", session="d1")
    with pytest.raises(JournalError, match="in use by another process"):
        Journal(tmp_path / "j.sqlite", session="d1")
    first.close()
    Journal(tmp_path / "j.sqlite", session="d1").close()  # free again
    with pytest.raises(JournalError, match="cannot be opened"):
        Journal(tmp_path / "no-such-dir" / "j.sqlite", session="d1")
