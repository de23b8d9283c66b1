"""LOBSTER level-1 import.

On the real AMZN 2012-06-21 files (/work/shared/data/real/lobster-amzn-*)
we check, reading both files independently here: replaying the emitted
L2_LEVEL records through a plain dict book reproduces the orderbook file's
top of book (ask price/size, bid price/size) exactly after every message
-- the book changes exactly at the messages where the file's top changes,
each such message ends in one LAST record at that message's time, and no
record is emitted for a message that leaves the top unchanged; the trade
count equals the executions (8,974 visible + 2,445 hidden = 11,419), each
with the message's price, size, order id and the aggressor opposite to
``direction``; times are 2012-06-21 America/New_York (EDT, UTC-4) -> UTC,
so 34200 s after midnight = 13:30:00 UTC.  Hand-written files cover halts,
empty sides, bad rows and mismatched files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_data import LOBSTER_BOOK, LOBSTER_MESSAGES, SHARED, requires_shared

from quantumtrader.data.events import EVENT_DTYPE, EventFlag, EventType, Phase, Side
from quantumtrader.data.importers.lobster import LobsterImporter, name_date_and_ticker, parse_seconds_ns

MESSAGES = SHARED / LOBSTER_MESSAGES
BOOK = SHARED / LOBSTER_BOOK
needs_real = requires_shared(LOBSTER_MESSAGES, LOBSTER_BOOK)
MIDNIGHT_UTC_NS = 1340251200 * 10**9  # 2012-06-21 00:00 EDT = 04:00 UTC


def run_import(msg: Path, book: Path, **kw) -> tuple[np.ndarray, LobsterImporter]:
    imp = LobsterImporter(msg, book, **kw)
    chunks = list(imp.events())
    return (np.concatenate(chunks) if chunks else np.empty(0, EVENT_DTYPE)), imp


def replay(ev: np.ndarray) -> list[tuple[int, tuple]]:
    """(exch_ns, (ask_p, ask_q, bid_p, bid_q)) after each LAST record;
    an empty side reads as (None, 0)."""
    book: dict[int, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
    out = []
    cols = (ev[k].tolist() for k in ("type", "flags", "side", "price", "qty", "exch_ns"))
    for t, flags, side, price, qty, ts in zip(*cols, strict=True):
        if t != EventType.L2_LEVEL:
            continue
        if qty == 0:
            del book[side][price]  # a delete always names an existing level
        else:
            book[side][price] = qty
        if flags & EventFlag.LAST:
            bids, asks = book[Side.BUY], book[Side.SELL]
            assert len(bids) <= 1 and len(asks) <= 1  # level 1: one level per side
            ap = min(asks) if asks else None
            bp = max(bids) if bids else None
            out.append((ts, (ap, asks.get(ap, 0), bp, bids.get(bp, 0))))
    return out


@pytest.fixture(scope="module")
def real():
    ev, imp = run_import(MESSAGES, BOOK, out_records=4096)
    messages = [line.split(",") for line in MESSAGES.read_text().splitlines()]
    books = [tuple(int(x) for x in line.split(",")) for line in BOOK.read_text().splitlines()]
    return ev, imp, messages, books


@needs_real
def test_replayed_levels_reproduce_the_top_of_book_after_every_message(real):
    ev, imp, messages, books = real
    assert len(messages) == len(books) == 57515
    expected, prev = [], (None, 0, None, 0)
    for m, (ap, aq, bp, bq) in zip(messages, books, strict=True):
        top = (ap if aq > 0 else None, aq, bp if bq > 0 else None, bq)
        if top != prev:
            whole, frac = m[0].split(".")
            ns = int(whole) * 10**9 + int(frac.ljust(9, "0"))
            expected.append((MIDNIGHT_UTC_NS + ns, top))
            prev = top
    got = replay(ev)
    assert len(got) == len(expected) == imp.stats.book_events
    assert got == expected


@needs_real
def test_trades_are_the_executions(real):
    ev, imp, messages, _ = real
    execs = [m for m in messages if m[1] in ("4", "5")]
    trades = ev[ev["type"] == EventType.TRADE]
    assert len(trades) == len(execs) == 8974 + 2445 == imp.stats.trades
    assert trades["price"].tolist() == [int(m[4]) for m in execs]
    assert trades["qty"].tolist() == [int(m[3]) for m in execs]
    assert trades["ref"].tolist() == [int(m[2]) for m in execs]
    assert trades["code"].tolist() == [2 if m[5] == "-1" else 3 for m in execs]
    assert set(trades["code"].tolist()) == {2, 3}


@needs_real
def test_times_session_and_header(real):
    ev, imp, _, _ = real
    assert ev["type"][0] == EventType.SESSION and ev["ref"][0] == 20120621
    assert ev["exch_ns"][1] == MIDNIGHT_UTC_NS + 34200_017459617  # first message 09:30:00.017 EDT
    assert ev["exch_ns"][1] == 1340285400_017459617  # 13:30:00.017459617 UTC
    assert (np.diff(ev["exch_ns"]) >= 0).all() and (ev["recv_ns"] == ev["exch_ns"]).all()
    assert ev["seq"].tolist() == list(range(len(ev)))
    assert imp.stats.rows == 57515 and imp.stats.bad == 0
    h = imp.header()
    assert (h.instrument, h.price_unit, h.tick_size) == ("AMZN", 0.0001, 0.01)


def write_pair(tmp_path: Path, messages: list[str], books: list[str]) -> tuple[Path, Path]:
    m = tmp_path / "TEST_2012-06-21_34200000_57600000_message_1.csv"
    b = tmp_path / "TEST_2012-06-21_34200000_57600000_orderbook_1.csv"
    m.write_text("".join(x + "\n" for x in messages))
    b.write_text("".join(x + "\n" for x in books))
    return m, b


def test_halts_empty_sides_and_unchanged_tops(tmp_path):
    msgs = [
        "34200.0,1,1,100,1000000,1",       # bid appears
        "34200.5,1,2,50,1000500,-1",       # ask appears
        "34201.0,1,3,10,990000,1",         # deeper bid: top unchanged, nothing for the book
        "34202,7,0,0,-1,-1",               # halt
        "34203,7,0,0,0,-1",                # quoting
        "34204,7,0,0,1,-1",                # resume
        "34205.25,4,2,50,1000500,-1",      # ask executed away: ask side empty
        "34206,3,1,100,1000000,1",         # bid deleted, next level shows
    ]  # fmt: skip
    books = [
        "9999999999,0,1000000,100",
        "1000500,50,1000000,100",
        "1000500,50,1000000,100",
        "1000500,50,1000000,100",
        "1000500,50,1000000,100",
        "1000500,50,1000000,100",
        "9999999999,0,1000000,100",
        "9999999999,0,990000,10",
    ]
    ev, imp = run_import(*write_pair(tmp_path, msgs, books))
    kinds = [EventType(t).name for t in ev["type"]]
    assert kinds == ["SESSION", "L2_LEVEL", "L2_LEVEL", "PHASE", "PHASE", "PHASE", "TRADE", "L2_LEVEL",
                     "L2_LEVEL", "L2_LEVEL"]  # fmt: skip
    assert ev[ev["type"] == EventType.PHASE]["code"].tolist() == [Phase.FROZEN, Phase.AUCTION, Phase.OPEN]
    trade = ev[ev["type"] == EventType.TRADE][0]
    assert (trade["price"], trade["qty"], trade["code"], trade["ref"]) == (1000500, 50, 2, 2)
    assert trade["exch_ns"] == MIDNIGHT_UTC_NS + 34205_250000000
    # the execution deletes the ask (LAST), the delete moves the bid: old level out, new in
    assert ev["qty"][7] == 0 and ev["flags"][7] & EventFlag.LAST
    assert ev["qty"][8:].tolist() == [0, 10] and ev["flags"][8:].tolist() == [0, EventFlag.LAST]
    assert replay(ev)[-1][1] == (None, 0, 990000, 10)
    assert imp.stats.book_events == 4
    assert imp.header().instrument == "TEST"


def test_bad_rows_are_skipped_and_the_book_stays_right(tmp_path):
    msgs = [
        "34200.0,1,1,100,1000000,1",
        "34200.x,1,2,5,1000100,1",
        "34201,1,3,5,1000200,1",
        "34202,4,3,5,1,0",
    ]
    books = ["1010000,5,1000000,100", "1010000,5,1000100,5", "1010000,5,1000200,5", "1010000,5,1000200,5"]
    ev, imp = run_import(*write_pair(tmp_path, msgs, books))
    assert imp.stats.bad_by_reason == {"unparsable row": 1, "execution with bad size, price or direction": 1}
    assert imp.stats.first_bad_lines == [2, 4]
    assert replay(ev)[-1][1] == (1010000, 5, 1000200, 5)


def test_mismatched_files_and_names(tmp_path):
    m, b = write_pair(tmp_path, ["34200.0,1,1,100,1000000,1", "34201.0,3,1,100,1000000,1"], ["1,1,1,1"])
    with pytest.raises(ValueError, match="fewer lines"):
        run_import(m, b)
    other = tmp_path / "messages.csv"
    other.write_text("")
    with pytest.raises(ValueError, match="--date"):
        LobsterImporter(other, b)
    with pytest.raises(FileNotFoundError):
        LobsterImporter(m, tmp_path / "nope.csv")
    assert name_date_and_ticker("lobster-amzn-20120621-level1-message.csv") == (20120621, "AMZN")
    assert name_date_and_ticker("AAPL_2012-06-21_34200000_57600000_message_5.csv") == (20120621, "AAPL")
    assert parse_seconds_ns("34200.017459617") == 34200_017459617
    assert parse_seconds_ns("34200.5") == 34200_500000000
    with pytest.raises(ValueError):
        parse_seconds_ns("3.4e4")


@needs_real
def test_cli_lobster(real, tmp_path, capsys):
    from quantumtrader.cli import main

    out = tmp_path / "l.qtlog"
    assert main(["import", "lobster", str(tmp_path / "m.csv"), str(BOOK), "--out", str(out)]) == 2
    assert "m.csv" in capsys.readouterr().err
    eventlog = pytest.importorskip("quantumtrader.data.eventlog")
    assert main(["import", "lobster", str(MESSAGES), str(BOOK), "--out", str(out)]) == 0
    assert "trades 11,419" in capsys.readouterr().out
    log = eventlog.read_event_log(out)
    assert np.array_equal(log.events["exch_ns"], real[0]["exch_ns"])
    assert log.header.instrument == "AMZN"
