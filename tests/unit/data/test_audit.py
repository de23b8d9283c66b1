"""Book audit (C, qt_audit) and the ``audit`` (alias ``replay``) / ``demo`` commands.

The audit's judgements are checked against a plain-Python replay of the same
records (dict book, touch read before each trade), on a synthetic session and
on hand-made streams that break each rule once.  On the real Binance capture
the C book, fed every record in order, refuses nothing and never crosses."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import BINANCE_CAPTURE, REAL, requires_shared

from quantumtrader.cli import main
from quantumtrader.data.audit import audit_event_log
from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.data.events import PRICE_NONE, EventFlag, EventType, Side, TradeType, empty_events
from quantumtrader.data.synth import generate_market
from quantumtrader.qtcore.audit import BookAudit

BINANCE = REAL / "binance-usdm-btcusdt-20240808.gz"


def l2(side: int, price: int, qty: int, last: bool = True, t: int = 0) -> np.ndarray:
    ev = empty_events(1)
    ev["type"] = EventType.L2_LEVEL
    ev["side"] = side
    ev["price"] = price
    ev["qty"] = qty
    ev["exch_ns"] = t
    ev["flags"] = EventFlag.LAST if last else 0
    return ev


def trade(price: int, qty: int = 1, flags: int = 0, t: int = 0) -> np.ndarray:
    ev = empty_events(1)
    ev["type"] = EventType.TRADE
    ev["price"] = price
    ev["qty"] = qty
    ev["code"] = TradeType.BUY_AGGRESSION
    ev["flags"] = flags
    ev["exch_ns"] = t
    return ev


def stream(*parts: np.ndarray) -> np.ndarray:
    ev = np.concatenate(parts)
    ev["seq"] = np.arange(len(ev))
    return ev


def python_audit(ev: np.ndarray) -> dict[str, int]:
    """Independent model: dict book, judged at message ends and before trades."""
    book: dict[int, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
    out = {"trades": 0, "at": 0, "inside": 0, "outside": 0, "no_book": 0, "crossed": 0, "qty": 0}
    for r in ev:
        if r["type"] == EventType.TRADE:
            out["trades"] += 1
            out["qty"] += int(r["qty"])
            bids, asks = book[Side.BUY], book[Side.SELL]
            if not bids or not asks:
                out["no_book"] += 1
                continue
            bb, ba, p = max(bids), min(asks), int(r["price"])
            if p in (bb, ba):
                out["at"] += 1
            elif bb < p < ba:
                out["inside"] += 1
            else:
                out["outside"] += 1
        elif r["type"] == EventType.L2_LEVEL:
            side = book[int(r["side"])]
            if r["qty"] == 0:
                side.pop(int(r["price"]), None)
            else:
                side[int(r["price"])] = int(r["qty"])
            if r["flags"] & EventFlag.LAST and book[0] and book[1] and max(book[0]) > min(book[1]):
                out["crossed"] += 1
    return out


def test_synthetic_session_matches_python_replay_and_is_consistent():
    _, ev = generate_market(1, seed=11, signal=0.5, trades_per_day=3000)
    audit = BookAudit(tick_units=1)
    audit.feed(ev)
    s = audit.stats
    ref = python_audit(ev)
    assert s["trades"] == ref["trades"] > 0
    assert s["trade_qty"] == ref["qty"]
    assert (s["trades_at_touch"], s["trades_inside"], s["trades_outside"]) == (ref["at"], ref["inside"],
                                                                              ref["outside"])
    assert s["trades_without_book"] == ref["no_book"]
    assert s["crossed_events"] == ref["crossed"] == 0
    assert s["trades_outside"] == 0 and s["book_rejects"] == 0
    assert s["by_type"]["TRADE"] == ref["trades"]
    assert s["records"] == len(ev)


def test_chunked_feeding_equals_one_call():
    _, ev = generate_market(1, seed=3, signal=0.0, trades_per_day=2000)
    whole, chunked = BookAudit(1), BookAudit(1)
    whole.feed(ev)
    for start in range(0, len(ev), 777):
        chunked.feed(ev[start:start + 777])
    assert whole.stats == chunked.stats


def test_trade_outside_touch_is_found_with_its_index():
    ev = stream(l2(0, 100, 5), l2(1, 102, 5), trade(101), trade(102), trade(103), trade(99))
    audit = BookAudit(1)
    audit.feed(ev)
    s = audit.stats
    assert (s["trades_inside"], s["trades_at_touch"], s["trades_outside"]) == (1, 1, 2)
    assert s["first_outside_index"] == 4
    assert s["price_min"] == 99 and s["price_max"] == 103


def test_crossed_book_is_judged_at_message_end_only():
    # the first message crosses only in passing (the ask moves up in the same message)
    ev = stream(l2(0, 100, 5), l2(1, 102, 5),
                l2(0, 103, 1, last=False), l2(1, 102, 0, last=False), l2(1, 104, 2),
                l2(0, 105, 1))  # this one leaves bid 105 > ask 104
    audit = BookAudit(1)
    audit.feed(ev)
    s = audit.stats
    assert s["crossed_events"] == 1 and s["first_crossed_index"] == 5
    assert s["book_events"] == 4


def test_edits_after_hours_and_invalid_trades_are_not_judged():
    ev = stream(l2(0, 100, 5), l2(1, 102, 5), trade(200, flags=EventFlag.EDIT),
                trade(200, flags=EventFlag.AFTER_HOURS), trade(200, flags=EventFlag.INVALID),
                trade(200, qty=0), trade(101))
    audit = BookAudit(1)
    audit.feed(ev)
    s = audit.stats
    assert s["trades_skipped"] == 4 and s["trades"] == 1 and s["trades_outside"] == 0


def test_refused_records_are_counted():
    bad = l2(0, 101, 5)
    bad["price"] = PRICE_NONE
    off_tick = l2(1, 103, 5)
    audit = BookAudit(tick_units=2)
    audit.feed(stream(l2(0, 100, 5), bad, off_tick))
    assert audit.stats["book_rejects"] == 2


def test_bad_arguments():
    with pytest.raises(ValueError):
        BookAudit(tick_units=0)
    with pytest.raises(TypeError):
        BookAudit(1).feed(np.zeros(3, dtype=np.int64))


@requires_shared(BINANCE_CAPTURE)
def test_binance_capture_through_the_c_book_never_crosses(tmp_path):
    out = tmp_path / "btc.qtlog"
    assert main(["import", "binance", str(BINANCE), "--out", str(out)]) == 0
    r = audit_event_log(out)
    s = r.stats
    assert s["book_rejects"] == 0
    assert 5000 < max(r.deepest) < 6000  # about 5,200 levels a side: above the engine's default 4,096
    assert s["crossed_events"] == 0 and s["locked_events"] == 0
    assert s["book_events"] == 6548 and s["trades"] == 21313
    assert r.book_consistent
    # trades print against a depth stream batched every 100 ms: many meet a stale touch
    assert s["trades_outside"] > 0 and not r.trades_consistent


def _write(path, ev: np.ndarray) -> None:
    with EventLogWriter(path, EventLogHeader("TEST", price_unit=0.5, tick_size=0.5)) as w:
        w.append(ev)


# `audit` is the command; `replay`, its old name, stays an alias so old scripts work
COMMAND_NAMES = ["audit", "replay"]


@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_audit_command_check(tmp_path, capsys, command):
    good, bad = tmp_path / "good.qtlog", tmp_path / "bad.qtlog"
    _write(good, stream(l2(0, 100, 5), l2(1, 102, 5), trade(101)))
    _write(bad, stream(l2(0, 100, 5), l2(1, 102, 5), l2(0, 103, 1)))
    assert main([command, "--check", str(good)]) == 0
    assert main([command, str(bad)]) == 0
    assert main([command, "--check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "book consistent" in out


@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_audit_command_trades_check(tmp_path, command):
    log = tmp_path / "outside.qtlog"
    _write(log, stream(l2(0, 100, 5), l2(1, 102, 5), trade(104)))
    assert main([command, "--check", str(log)]) == 0
    assert main([command, "--check", "--check-trades", str(log)]) == 1


@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_audit_command_unreadable_log(tmp_path, capsys, command):
    junk = tmp_path / "junk.qtlog"
    junk.write_bytes(b"not a log" * 100)
    assert main([command, str(junk)]) == 2
    err = capsys.readouterr().err
    assert "junk.qtlog" in err and err.startswith(f"quantumtrader {command}: error: ")
    assert main([command, str(tmp_path / "missing.qtlog")]) == 2


def test_demo_runs_end_to_end_and_keeps_its_logs(tmp_path, capsys):
    assert main(["demo", "--workdir", str(tmp_path), "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "synthetic WDOFUT, seed 5" in out and "book consistent" in out
    assert "features (qt-features/1, C engine)" in out and "60,053 x 77" not in out  # seed 5 differs
    logs = list(tmp_path.glob("*.qtlog"))
    assert len(logs) == 1
    r = audit_event_log(logs[0])
    assert r.consistent and r.book_events_per_trade >= 5


def test_demo_bad_arguments(tmp_path, capsys):
    assert main(["demo", "--days", "0"]) == 2
    assert main(["demo", "--real", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_log_deeper_than_the_replay_book_is_replayed_whole(tmp_path, capsys):
    """A valid level is never refused for room: a log deeper than the first
    book (65,536 levels a side) is replayed again through one sized from it."""
    n = 70_000
    ev = empty_events(n + 1)
    ev["type"] = EventType.L2_LEVEL
    ev["flags"] = EventFlag.LAST
    ev["price"][:n] = 2 * np.arange(n)  # bids, the best last
    ev["qty"] = 1
    ev["side"][n] = 1
    ev["price"][n] = 2 * n
    ev["seq"] = np.arange(len(ev))
    log = tmp_path / "deep.qtlog"
    _write(log, ev)
    r = audit_event_log(log)
    assert r.stats["book_rejects"] == 0 and r.deepest == (n, 1) and r.book_capacity == n
    assert main(["audit", "--check", str(log)]) == 0
    assert "70,000 / 1" in capsys.readouterr().out
    first = BookAudit(1)  # the first book alone refuses the best levels
    first.feed(ev)
    assert first.stats["book_rejects"] == n - 65536
