"""Event streams for the feature-engine tests: a small builder of records and
the hand-made edge-case sessions (flat prices, gaps, boundaries, few agents,
ranking ties, empty/locked/crossed books, a session change, clock faults).

Tests-only; it makes inputs and knows nothing of how features are computed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np

from quantumtrader.calendar import EXCHANGE_TZ
from quantumtrader.data.events import EVENT_DTYPE, PRICE_NONE, EventFlag, EventType

TZ = zoneinfo.ZoneInfo(EXCHANGE_TZ)
NS = 1_000_000_000
LAST = int(EventFlag.LAST)


def local_ns(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ms: int = 0) -> int:
    """Local America/Sao_Paulo wall clock -> UTC ns (ambiguous: the earlier reading)."""
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=TZ, fold=0).timestamp()) * NS + ms * 1_000_000


class StreamBuilder:
    """Appends records in arrival order; prices in price units."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.trade_number = 0

    def trade(
        self,
        ts: int,
        price: int,
        qty: int = 1,
        buyer: int = 1,
        seller: int = 2,
        code: int = 2,
        flags: int = 0,
    ) -> None:
        self.trade_number += 1
        self.rows.append((EventType.TRADE, flags, ts, price, qty, code, 0, self.trade_number, buyer, seller))

    def levels(self, ts: int, changes: list[tuple[int, int, int]]) -> None:
        """One exchange message: (side, price, new qty; 0 deletes) applied together."""
        for k, (side, price, qty) in enumerate(changes):
            flags = LAST if k == len(changes) - 1 else 0
            self.rows.append((EventType.L2_LEVEL, flags, ts, price, qty, 0, side, 0, 0, 0))

    def snapshot(self, ts: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        """A full book of both sides (price, qty), best first."""
        self.rows.append((EventType.SNAPSHOT_BEGIN, 0, ts, PRICE_NONE, 0, 0, 2, 0, len(bids) + len(asks), 0))
        for side, levels in ((0, bids), (1, asks)):
            for price, qty in levels:
                self.rows.append((EventType.L2_LEVEL, 0, ts, price, qty, 0, side, 0, 0, 0))
        self.rows.append((EventType.SNAPSHOT_END, LAST, ts, PRICE_NONE, 0, 0, 2, 0, 0, 0))

    def marker(self, ts: int, yyyymmdd: int) -> None:
        self.rows.append((EventType.SESSION, 0, ts, PRICE_NONE, 0, 0, 0, yyyymmdd, 0, 0))

    def events(self) -> np.ndarray:
        ev = np.zeros(len(self.rows), dtype=EVENT_DTYPE)
        cols = ("type", "flags", "exch_ns", "price", "qty", "code", "side", "ref", "a", "b")
        for j, name in enumerate(cols):
            ev[name] = [r[j] for r in self.rows]
        ev["recv_ns"] = ev["exch_ns"]
        ev["seq"] = np.arange(1, len(ev) + 1)
        return ev


def trades_only(ts, price, qty, buyer, seller, code, flags=None) -> np.ndarray:
    """Trade records from columns (trade numbers 1..n)."""
    n = len(ts)
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["type"] = EventType.TRADE
    ev["exch_ns"] = ts
    ev["recv_ns"] = ts
    ev["price"] = price
    ev["qty"] = qty
    ev["a"] = buyer
    ev["b"] = seller
    ev["code"] = code
    ev["ref"] = np.arange(1, n + 1)
    ev["seq"] = np.arange(1, n + 1)
    if flags is not None:
        ev["flags"] = flags
    return ev


def edge_case_sessions(seed: int = 5) -> np.ndarray:
    """Two sessions (Fri 2026-11-13 and Mon 2026-11-16, WDO units of 0.5)
    that visit every boundary the spec names.  About 1,400 trades."""
    rng = np.random.default_rng(seed)
    b = StreamBuilder()
    day = (2026, 11, 13)
    # pre-open book: fewer levels than 5 and 10
    b.snapshot(local_ns(*day, 8, 59, 58), [(10_700, 5), (10_699, 3), (10_698, 9)], [(10_701, 4), (10_702, 6)])
    # an opening auction print, several trades in the same second, first trades of the session
    t = local_ns(*day, 9, 0, 0)
    b.trade(t, 10_700, 50, 1, 2, 4)
    for k in range(4):
        b.trade(t, 10_700 + k % 2, 1 + k, 1 + k % 3, 3 - k % 3, 2 + k % 2)
    price = 10_700
    # 600 trades among three agents with exact ties (equal volumes alternate)
    for k in range(600):
        t += int(rng.integers(50, 400)) * 1_000_000
        price += int(rng.choice([-1, 0, 0, 1]))
        buyer, seller = (7, 8) if k % 2 == 0 else (8, 7)
        if k % 50 == 49:
            buyer = 9
        b.trade(t, price, 2, buyer, seller, 2 if k % 3 else 3)
        if k % 4 == 0:  # the touch follows the price; sometimes several levels in one message
            b.levels(t, [(0, price - 1, int(rng.integers(1, 40))), (1, price + 1, int(rng.integers(1, 40)))])
    # a flat run: price and quantity constant, more than 200 trades
    for _ in range(260):
        t += 100_000_000
        b.trade(t, price, 3, 10, 11, 2)
    # a 3-minute gap without trades; book events inside it
    for k in range(5):
        b.levels(t + (k + 1) * 30 * NS, [(0, price - 1, 20 + k)])
    t += 180 * NS
    # the book goes locked, then crossed, then a side empties: trades meanwhile
    b.levels(t, [(1, price - 1, 5)])  # ask at the best bid: locked
    b.trade(t, price, 1, 12, 13, 3)
    b.levels(t + 1, [(1, price - 2, 5)])  # ask below the bid: crossed
    b.trade(t + 1, price - 1, 1, 12, 13, 3)
    b.levels(t + 2, [(1, price - 2, 0), (1, price - 1, 0), (1, price + 1, 0)])  # asks gone
    b.trade(t + 2, price - 1, 1, 12, 13, 2)
    b.levels(t + 3, [(1, price + 1, 0)])  # deletes a level that is not there: not a book event
    b.levels(t + 4, [(1, price + 1, 8), (1, price + 2, 3)])
    # a corrected trade, an after-hours row and an invalid record: none are part of the stream
    b.trade(t + 5, price + 50, 99, 1, 2, 2, flags=int(EventFlag.EDIT))
    b.trade(t + 6, price + 60, 99, 1, 2, 2, flags=int(EventFlag.AFTER_HOURS))
    b.trade(t + 7, price + 70, 99, 1, 2, 2, flags=int(EventFlag.INVALID))
    # a timestamp earlier than the latest: taken as the latest
    b.trade(t - 5 * NS, price, 2, 12, 13, 3)
    # the lunch and closing boundaries, to the second: trades in the 20 s before each, at it and just after
    boundaries = [
        local_ns(*day, hh, mm, ss)
        for hh, mm, ss in (
            (11, 59, 59),
            (12, 0, 0),
            (12, 30, 0),
            (12, 59, 59),
            (13, 0, 0),
            (17, 29, 59),
            (17, 30, 0),
            (17, 59, 59),
            (18, 0, 0),
            (18, 0, 1),
        )
    ]
    times = sorted(
        {tb + off * 500_000_000 for tb in boundaries for off in range(-40, 1)}
        | {tb + 300_000_000 for tb in boundaries}
    )
    for k, tk in enumerate(times):
        price += int(rng.choice([-1, 0, 1]))
        b.trade(
            tk,
            price,
            int(rng.integers(1, 20)),
            int(rng.integers(20, 24)),
            int(rng.integers(20, 24)),
            int(rng.choice([1, 2, 3])),
        )
        if k % 3 == 0:
            b.levels(tk, [(0, price - 1, int(rng.integers(1, 30))), (1, price + 1, int(rng.integers(1, 30)))])
    # the next session (a new local date): everything starts again, the book empty
    day2 = (2026, 11, 16)
    b.marker(local_ns(*day2, 8, 0, 0), 20261116)
    t = local_ns(*day2, 9, 0, 0)
    b.levels(t, [(0, 10_650, 10)])  # one side only
    for k in range(40):
        t += 700_000_000
        b.trade(t, 10_650 + k % 4, 1 + k % 5, 30 + k % 2, 31, 2 + k % 2)
        if k == 10:
            b.levels(t, [(1, 10_655, 12)])
    return b.events()
