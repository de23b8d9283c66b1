"""Binance USD-M futures capture import.

On the real capture (/work/shared/data/real/binance-usdm-btcusdt-20240808.gz,
read independently here with ``json``) we check: the REST snapshot (line 55,
lastUpdateId 5123107852948, 1000 bids + 1000 asks) is emitted as
SNAPSHOT_BEGIN + 2000 L2_LEVEL + SNAPSHOT_END; of the 6 diffs that arrived
before it, the 4 with u < lastUpdateId are dropped and the first applied one
has U <= lastUpdateId <= u (the futures rule holds on this data); every later
diff's pu equals the previous u (no gap in this file, so no FEED_GAP); each
applied diff's L2 records equal its levels exactly, LAST on its last record;
replaying the events through a plain dict book never gives a crossed or
locked book (bid >= ask) after the snapshot; where a bookTicker line has the
same update id as a diff (629 times), the replayed top of book equals it
exactly; all 21,313 trades are emitted (every trade line; trades need no
sync) with price, qty x 1000, code from ``m``, ref, T -> exch_ns and the
line's receive time; the 66,089 bookTicker lines are skipped and counted.
Small hand-written captures cover gaps, resync and bad lines."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from shared_data import BINANCE_CAPTURE, SHARED, requires_shared

from quantumtrader.data.events import EVENT_DTYPE, EventFlag, EventType, GapReason, Side
from quantumtrader.data.importers.binance import BinanceImporter, decimal_units

CAPTURE = SHARED / BINANCE_CAPTURE
needs_capture = requires_shared(BINANCE_CAPTURE)


def run_import(path: Path, **kw) -> tuple[np.ndarray, BinanceImporter]:
    imp = BinanceImporter(path, **kw)
    chunks = list(imp.events())
    return (np.concatenate(chunks) if chunks else np.empty(0, EVENT_DTYPE)), imp


def units(text: str, scale: int) -> int:
    return round(float(text) * scale)


@pytest.fixture(scope="module")
def capture():
    lines = []
    with gzip.open(CAPTURE, "rb") as f:
        for line in f:
            recv, _, payload = line.partition(b" ")
            msg = json.loads(payload)
            lines.append((int(recv), msg.get("data", msg)))
    ev, imp = run_import(CAPTURE, out_records=5000)
    return lines, ev, imp


def rows(levels: np.ndarray) -> list[tuple[int, int, int]]:
    return list(zip(levels["side"].tolist(), levels["price"].tolist(), levels["qty"].tolist(), strict=True))


def replay_tops(ev: np.ndarray, check_crossed: bool = True) -> list[tuple]:
    """Apply the L2 records; the top of book after each message's LAST
    record (bid price, bid qty, ask price, ask qty)."""
    book: dict[int, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
    tops = []
    cols = (ev[k].tolist() for k in ("type", "flags", "side", "price", "qty", "seq"))
    for t, flags, side_no, price, qty, seq in zip(*cols, strict=True):
        if t == EventType.SNAPSHOT_BEGIN:
            book = {Side.BUY: {}, Side.SELL: {}}
        elif t == EventType.L2_LEVEL:
            side = book[side_no]
            if qty == 0:
                side.pop(price, None)
            else:
                side[price] = qty
        if t in (EventType.L2_LEVEL, EventType.SNAPSHOT_END) and flags & EventFlag.LAST:
            bids, asks = book[Side.BUY], book[Side.SELL]
            bb = max(bids) if bids else None
            ba = min(asks) if asks else None
            if check_crossed and bb is not None and ba is not None:
                assert bb < ba, f"crossed book at seq {seq}: bid {bb} >= ask {ba}"
            tops.append((bb, bids.get(bb), ba, asks.get(ba)))
    return tops


@needs_capture
def test_capture_snapshot_and_sync(capture):
    lines, ev, imp = capture
    snap = next(m for _, m in lines if "lastUpdateId" in m)
    lid = snap["lastUpdateId"]
    types = ev["type"]
    begin = np.flatnonzero(types == EventType.SNAPSHOT_BEGIN)
    end = np.flatnonzero(types == EventType.SNAPSHOT_END)
    assert len(begin) == 1 and len(end) == 1
    b, e = begin[0], end[0]
    assert ev["side"][b] == 2 and ev["a"][b] == 2000 and ev["ref"][b] == lid
    assert ev["flags"][e] & EventFlag.LAST
    levels = ev[b + 1 : e]
    assert (levels["type"] == EventType.L2_LEVEL).all() and len(levels) == 2000
    want = [(Side.BUY, units(p, 10), units(q, 1000)) for p, q in snap["bids"]]
    want += [(Side.SELL, units(p, 10), units(q, 1000)) for p, q in snap["asks"]]
    assert rows(levels) == want
    # no book record before the snapshot
    assert not (types[:b] == EventType.L2_LEVEL).any()

    diffs = [m for _, m in lines if m.get("e") == "depthUpdate"]
    snap_line = next(i for i, (_, m) in enumerate(lines) if "lastUpdateId" in m)
    held = [m for _, m in lines[:snap_line] if m.get("e") == "depthUpdate"]
    assert [m["u"] < lid for m in held] == [True] * 4 + [False] * 2
    assert imp.stats.skipped["diffs older than the snapshot"] == 4
    applied = [m for m in diffs if m["u"] >= lid]
    assert applied[0]["U"] <= lid <= applied[0]["u"]  # the futures rule holds on this data
    for prev, cur in itertools.pairwise(applied):
        assert cur["pu"] == prev["u"]  # unbroken chain: no gap expected
    assert imp.stats.gaps == 0 and not (types == EventType.FEED_GAP).any()
    assert imp.stats.book_events == 1 + len(applied)

    # each applied diff's records, in order, LAST on its last one
    after = ev[e + 1 :]
    l2 = after[after["type"] == EventType.L2_LEVEL]
    ends = np.flatnonzero(l2["flags"] & EventFlag.LAST)
    assert len(ends) == len(applied)
    start = 0
    for m, stop in zip(applied, ends, strict=True):
        got = l2[start : stop + 1]
        want = [(Side.BUY, units(p, 10), units(q, 1000)) for p, q in m["b"]]
        want += [(Side.SELL, units(p, 10), units(q, 1000)) for p, q in m["a"]]
        assert rows(got) == want
        assert (got["exch_ns"] == m["T"] * 1_000_000).all()
        start = stop + 1


@needs_capture
def test_capture_replayed_book_never_crosses_and_matches_book_ticker(capture):
    lines, ev, _ = capture
    tops = replay_tops(ev)  # asserts bid < ask after every message
    lid = next(m for _, m in lines if "lastUpdateId" in m)["lastUpdateId"]
    applied_u = [m["u"] for _, m in lines if m.get("e") == "depthUpdate" and m["u"] >= lid]
    top_at_u = dict(zip(applied_u, tops[1:], strict=True))  # tops[0]: right after the snapshot
    tickers = [m for _, m in lines if m.get("e") == "bookTicker" and m["u"] in top_at_u]
    assert len(tickers) == 629
    for t in tickers:
        assert top_at_u[t["u"]] == (
            units(t["b"], 10),
            units(t["B"], 1000),
            units(t["a"], 10),
            units(t["A"], 1000),
        )


@needs_capture
def test_capture_trades(capture):
    lines, ev, imp = capture
    trade_lines = [(recv, m) for recv, m in lines if m.get("e") == "trade"]
    trades = ev[ev["type"] == EventType.TRADE]
    assert len(trades) == len(trade_lines) == 21313 == imp.stats.trades
    for e, (recv, m) in zip(trades.tolist(), trade_lines, strict=True):
        e = dict(zip(EVENT_DTYPE.names, e, strict=True))
        assert e["price"] == units(m["p"], 10) and e["qty"] == units(m["q"], 1000)
        assert e["code"] == (3 if m["m"] else 2) and e["ref"] == m["t"]
        assert e["exch_ns"] == m["T"] * 1_000_000 and e["recv_ns"] == recv
        assert e["a"] == 0 and e["b"] == 0
    assert imp.stats.skipped["bookTicker lines"] == 66089
    assert imp.stats.rows == len(lines) and imp.stats.bad == 0
    assert list(ev["seq"]) == list(range(len(ev)))
    assert (np.diff(ev["recv_ns"]) >= 0).all()  # held diffs take the snapshot's receive time
    assert ev["type"][0] == EventType.SESSION and ev["ref"][0] == 20240808
    h = imp.header()
    assert (h.instrument, h.price_unit, h.qty_scale) == ("BTCUSDT", 0.1, 1000.0)


# ---- small hand-written captures -------------------------------------------


def diff(recv: int, first: int, last: int, prev: int, bids=(), asks=()) -> str:
    data = {"e": "depthUpdate", "E": recv, "T": recv, "s": "BTCUSDT", "U": first, "u": last, "pu": prev,
            "b": [list(x) for x in bids], "a": [list(x) for x in asks]}  # fmt: skip
    return f"{recv * 1000} " + json.dumps({"stream": "btcusdt@depth@0ms", "data": data}) + "\n"


def snapshot(recv: int, lid: int, bids, asks) -> str:
    msg = {
        "lastUpdateId": lid,
        "E": recv,
        "T": recv,
        "bids": [list(x) for x in bids],
        "asks": [list(x) for x in asks],
    }
    return f"{recv * 1000} " + json.dumps(msg) + "\n"


def trade(recv: int, tid: int, price: str, qty: str, maker: bool) -> str:
    data = {"e": "trade", "E": recv, "T": recv, "s": "BTCUSDT", "t": tid, "p": price, "q": qty, "X": "MARKET",
            "m": maker}  # fmt: skip
    return f"{recv * 1000} " + json.dumps({"stream": "btcusdt@trade", "data": data}) + "\n"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cap.txt"
    p.write_text(text)
    return p


BOOK = ([("100.0", "1.000"), ("99.9", "2.000")], [("100.1", "1.500")])


def test_gap_in_the_pu_chain_emits_feed_gap_and_waits_for_a_new_snapshot(tmp_path):
    text = (
        snapshot(1, 10, *BOOK)
        + diff(2, 9, 12, 8, bids=[("100.0", "0.500")])        # applied (U <= 10 <= u)
        + diff(3, 13, 15, 12, asks=[("100.1", "0")])          # applied, pu chain ok
        + diff(4, 20, 22, 18, bids=[("99.9", "0")])           # pu 18 != 15: gap
        + trade(5, 7, "100.1", "0.010", False)                # trades still flow
        + diff(6, 23, 25, 22, bids=[("99.8", "1.000")])       # held: book unknown
        + snapshot(7, 24, [("100.0", "0.700")], [("100.2", "3.000")])
        + diff(8, 26, 27, 25, asks=[("100.3", "1.000")])      # applied after the held one
    )  # fmt: skip
    ev, imp = run_import(write(tmp_path, text))
    kinds = [EventType(t).name for t in ev["type"]]
    assert kinds == [
        "SESSION", "SNAPSHOT_BEGIN", "L2_LEVEL", "L2_LEVEL", "L2_LEVEL", "SNAPSHOT_END",
        "L2_LEVEL", "L2_LEVEL", "FEED_GAP", "TRADE",
        "SNAPSHOT_BEGIN", "L2_LEVEL", "L2_LEVEL", "SNAPSHOT_END", "L2_LEVEL", "L2_LEVEL",
    ]  # fmt: skip
    gap = ev[ev["type"] == EventType.FEED_GAP][0]
    assert gap["a"] == GapReason.SEQUENCE and gap["ref"] == 16 and gap["qty"] == -1
    assert imp.stats.gaps == 1 and imp.stats.book_events == 2 + 2 + 2
    # the held diff (U 23 <= 24 <= u 25) is applied after the second snapshot
    assert list(ev["price"][-2:]) == [998, 1003]
    assert ev["recv_ns"][-2] == 7000  # released at the snapshot's arrival
    assert replay_tops(ev)[-1] == (1000, 700, 1002, 3000)
    assert ev[ev["type"] == EventType.TRADE]["code"][0] == 2


def test_snapshot_older_than_the_first_available_diff_is_a_gap(tmp_path):
    text = diff(1, 20, 25, 19, bids=[("100.0", "1")]) + snapshot(2, 10, *BOOK) + diff(3, 26, 27, 25)
    ev, imp = run_import(write(tmp_path, text))
    assert imp.stats.gaps == 1
    gap = ev[ev["type"] == EventType.FEED_GAP][0]
    assert gap["ref"] == 11
    assert imp.stats.skipped["diffs never applied (no snapshot after them)"] == 2


def test_trades_and_bad_lines(tmp_path):
    text = (
        trade(1, 1, "61800.30", "0.006", False)
        + trade(2, 2, "61800.20", "1.250", True)
        + trade(3, 3, "61800.25", "0.001", True)   # price off the 0.1 grid
        + trade(4, 4, "61800.20", "0.0005", True)  # qty below 0.001
        + "5000 {not json\n"
        + "6000 " + json.dumps({"stream": "x", "data": {"e": "trade", "p": "1.0"}}) + "\n"
        + "7000 " + json.dumps({"stream": "x", "data": {"e": "bookTicker", "s": "BTCUSDT"}}) + "\n"
        + "8000 " + json.dumps({"stream": "x", "data": {"e": "markPriceUpdate", "s": "BTCUSDT"}}) + "\n"
        + diff(9, 1, 2, 0, bids=[("1.05", "1")])    # held diff, bad price: a bad line
    )  # fmt: skip
    ev, imp = run_import(write(tmp_path, text), price_unit=0.1)  # given: 61800.25 is off its grid
    trades = ev[ev["type"] == EventType.TRADE]
    assert list(trades["price"]) == [618003, 618002] and list(trades["qty"]) == [6, 1250]
    assert list(trades["code"]) == [2, 3]
    assert imp.stats.bad_by_reason == {
        "trade price not representable": 1,
        "trade qty not representable at the qty scale": 1,
        "unparsable line": 1,
        "missing or malformed field": 1,
        "depth price or qty not representable": 1,
    }
    assert imp.stats.first_bad_lines == [3, 4, 5, 6, 9]
    assert imp.stats.skipped == {"bookTicker lines": 1, "lines of other streams": 1}
    ev, imp = run_import(write(tmp_path, text), qty_scale=10000, price_unit=0.1)
    assert list(ev[ev["type"] == EventType.TRADE]["qty"]) == [60, 12500, 5]


def test_decimal_units_and_options():
    assert decimal_units("61800.20", 1) == 618002
    assert decimal_units("0.000", 3) == 0
    assert decimal_units("12", 3) == 12000
    assert decimal_units("0.0005", 3) is None
    assert decimal_units("-1.0", 1) is None
    assert decimal_units("1e3", 1) is None
    with pytest.raises(ValueError, match="power of ten"):
        BinanceImporter(CAPTURE, qty_scale=500)


def test_cli_binance(tmp_path, capsys):
    from quantumtrader.cli import main

    assert main(["import", "binance", str(tmp_path / "nope.gz"), "--out", str(tmp_path / "b.log")]) == 2
    assert "nope.gz" in capsys.readouterr().err
    eventlog = pytest.importorskip("quantumtrader.data.eventlog")
    text = (
        snapshot(1, 10, *BOOK)
        + diff(2, 9, 12, 8, bids=[("100.0", "0.5")])
        + trade(3, 1, "100.1", "0.01", True)
    )
    out = tmp_path / "b.qtlog"
    assert main(["import", "binance", str(write(tmp_path, text)), "--out", str(out)]) == 0
    assert "gaps            0" in capsys.readouterr().out
    log = eventlog.read_event_log(out)
    ev, _ = run_import(write(tmp_path, text))
    assert np.array_equal(log.events["price"], ev["price"]) and log.header.qty_scale == 1000
