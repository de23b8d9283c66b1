"""Binance USD-M futures capture -> event records.

Input lines: ``<local receive ns> <JSON>``; the JSON is a combined-stream
message (``{"stream": ..., "data": {...}}``) of ``depthUpdate``, ``trade``
or ``bookTicker``, or one REST depth snapshot (``lastUpdateId``, ``bids``,
``asks``).  Events come out in file order, except the depth diffs that
arrived before the snapshot: they are held until it arrives.

Each exchange message is one book event (spec qt-features/1): its level
changes are L2_LEVEL records of which the last is flagged LAST.  Logs of
B3 (recorded from ProfitDLL, or synthetic) hold one book event per
price-book action instead, as the DLL delivers them (README, "Book events").

Book synchronisation (Binance futures rules):
  1. hold diffs until a snapshot arrives (at most ``max_held_diffs``);
  2. emit the snapshot: ``SNAPSHOT_BEGIN`` (side 2 = both, a = levels),
     ``L2_LEVEL`` records (bids best first, then asks), ``SNAPSHOT_END``
     (flag LAST);
  3. drop held diffs with ``u < lastUpdateId``; the first applied diff must
     have ``U <= lastUpdateId <= u``;
  4. from then on each diff's ``pu`` must equal the previous diff's ``u``.
A break in 3 or 4 is a gap: one ``FEED_GAP`` record (a = GapReason.SEQUENCE,
ref = the first update id missing, qty = -1: count unknown), and the book is
unknown until the next snapshot in the file, so later diffs are held (not
emitted) until one arrives.  A diff whose price or qty is not representable
is a bad line and, once synced, also a gap (the book would silently differ).
Held diffs released at the snapshot get the snapshot's receive time, when
they became applicable, so recv_ns never goes backwards in the log.

Depth diff = ``L2_LEVEL`` records (qty 0 deletes), flag LAST on the
message's last record; exch_ns = ``T`` (ms -> ns), recv_ns = the line's
receive ns.  Trades: price in units of ``price_unit`` (see below), qty
x ``qty_scale`` (a qty not representable at that scale is a bad line), code
3 when ``m`` (buyer is maker: sell aggression) else 2, ref = trade id ``t``,
agents 0.  ``bookTicker`` lines are derived views of the book: skipped and
counted.  One ``SESSION`` record (ref = UTC date) precedes the first event:
a 24-hour market has no session boundaries of its own.

Price unit: unless given, the data's own price grid: 10^-d where d is the
most decimals (trailing zeros ignored) of any price in the first
``HEAD_LINES`` lines and the first snapshot (0.1 for BTCUSDT, 0.01 for
ETHUSDT); the tick size written to the log is the price unit.  A price
finer than the unit later on is a bad row, and an import that loses more
than its allowed share of rows fails (``quantumtrader.data.importers.job``)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from quantumtrader.data.events import EventFlag, EventType, GapReason, Side
from quantumtrader.data.importers.event_buffer import EventBuffer
from quantumtrader.data.importers.file_kind import BINANCE, file_kind, what_it_looks_like
from quantumtrader.data.importers.input_file import InputFile
from quantumtrader.data.importers.log_header import LogHeaderFields
from quantumtrader.data.importers.stats import ImportStats

try:
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is optional
    _loads = json.loads

MS = 1_000_000
HEAD_LINES = 10000  # lines read ahead for the symbol and the price grid ...
SNAPSHOT_SEARCH_LINES = 200_000  # ... and on to the first snapshot, up to this line
MAX_PRICE_DECIMALS = 8  # Binance's finest price step; a longer fraction is a bad row, not a finer unit
SNAPSHOT_BOTH_SIDES = 2

Progress = Callable[[int, int], None]


def decimal_units(text: str, decimals: int) -> int | None:
    """``"61800.20"`` with 1 decimal -> 618002; None when negative, not a
    plain decimal or not a whole number of units (``"0.0005"`` at 3)."""
    ip, _, fp = text.partition(".")
    fp = fp.rstrip("0")
    if len(fp) > decimals or not ip.isascii() or not fp.isascii():
        return None
    if not ip.isdigit() or (fp and not fp.isdigit()):
        return None
    return int(ip) * 10**decimals + (int(fp.ljust(decimals, "0")) if fp else 0)


def _power_of_ten_decimals(value: float, what: str) -> int:
    k = round(math.log10(value))
    if value <= 0 or not math.isclose(value, 10.0**k, rel_tol=1e-12):
        raise ValueError(f"{what} must be a power of ten (got {value})")
    return k


@dataclass
class _Diff:
    first: int  # U
    last: int  # u
    prev: int  # pu
    exch_ns: int
    recv_ns: int
    levels: list[tuple[int, int, int]]  # (side, price, qty)


class BinanceImporter:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        qty_scale: float = 1000,
        price_unit: float | None = None,
        max_listed: int = 20,
        out_records: int = 1 << 16,
        max_held_diffs: int = 100_000,
    ) -> None:
        self.path = os.fspath(path)
        self.qty_scale = qty_scale
        self.qty_decimals = _power_of_ten_decimals(qty_scale, "qty scale")
        if self.qty_decimals < 0:
            raise ValueError(f"qty scale must be >= 1 (got {qty_scale})")
        self.out_records = out_records
        self.max_held_diffs = max_held_diffs
        self.stats = ImportStats(max_listed=max_listed)
        self.instrument, seen_decimals = self._scan_head()
        self.price_unit_origin = "option" if price_unit is not None else "data"
        if price_unit is None:
            if seen_decimals is None:
                raise ValueError(f"{self.path}: no price in the first {HEAD_LINES} lines: give --price-unit")
            price_unit = 10.0**-seen_decimals
        self.price_unit = price_unit
        self.price_decimals = -_power_of_ten_decimals(price_unit, "price unit")
        if self.price_decimals < 0:
            raise ValueError(f"price unit must be <= 1 (got {price_unit})")

    def header(self) -> LogHeaderFields:
        return LogHeaderFields(
            instrument=self.instrument,
            price_unit=self.price_unit,
            tick_size=self.price_unit,
            qty_scale=float(self.qty_scale),
            calendar_version="",
            source=f"binance:{os.path.basename(self.path)}",
        )

    def _scan_head(self) -> tuple[str, int | None]:
        """The symbol, and the most decimals (trailing zeros ignored) of any
        price in the first snapshot and the first HEAD_LINES lines: the price
        grid of the data, which gives the default price unit (0.1 for
        BTCUSDT, 0.01 for ETHUSDT)."""
        symbol: str | None = None
        decimals: int | None = None

        def note(prices: list[Any]) -> None:
            nonlocal decimals
            for text in prices:
                if isinstance(text, str):
                    d = min(len(text.partition(".")[2].rstrip("0")), MAX_PRICE_DECIMALS)
                    decimals = d if decimals is None else max(decimals, d)

        snapshot_seen = False
        with InputFile(self.path) as f:
            for i, line in enumerate(f.lines()):
                if i >= SNAPSHOT_SEARCH_LINES or (i >= HEAD_LINES and (snapshot_seen or symbol is None)):
                    break
                try:
                    msg = _loads(line.partition(b" ")[2])
                    data = msg.get("data", msg)
                except (ValueError, AttributeError, TypeError):
                    continue
                if not isinstance(data, dict):
                    continue
                if symbol is None and isinstance(data.get("s"), str) and data["s"]:
                    symbol = data["s"]
                with contextlib.suppress(KeyError, TypeError, IndexError):
                    if "lastUpdateId" in data:
                        snapshot_seen = True
                        note([lv[0] for lv in data["bids"] + data["asks"]])
                    elif data.get("e") == "depthUpdate":
                        note([lv[0] for lv in data["b"] + data["a"]])
                    elif data.get("e") == "trade":
                        note([data["p"]])
        if symbol is None:
            kind = file_kind(self.path)
            raise ValueError(
                f"{self.path}: no Binance message with a symbol in its first {HEAD_LINES:,} lines"
                + ("" if kind == BINANCE else f": {what_it_looks_like(kind)}")
            )
        return symbol, decimals

    # -- parsing ---------------------------------------------------------

    def _levels(self, side: int, pairs: list[list[str]]) -> list[tuple[int, int, int]] | None:
        out = []
        for price_text, qty_text in pairs:
            price = decimal_units(price_text, self.price_decimals)
            qty = decimal_units(qty_text, self.qty_decimals)
            if price is None or qty is None or price == 0 or qty >= 2**31:
                return None
            out.append((side, price, qty))
        return out

    def events(self, progress: Progress | None = None) -> Iterator[np.ndarray]:
        """Event chunks in file order; :attr:`stats` is complete when the
        iterator is exhausted."""
        t0 = time.perf_counter()
        st = self.stats
        buf = EventBuffer(self.out_records)
        held: deque[_Diff] = deque()
        synced = False  # a snapshot was applied and the diff chain is intact
        snapshot_id: int | None = None  # lastUpdateId of the snapshot being synced to, until synced
        prev_u = 0
        session_done = False

        def session(exch_ns: int, recv_ns: int) -> None:
            nonlocal session_done
            if not session_done:
                day = datetime.fromtimestamp(exch_ns / 1e9, UTC)
                buf.add(
                    EventType.SESSION,
                    recv_ns=recv_ns,
                    exch_ns=exch_ns,
                    ref=day.year * 10000 + day.month * 100 + day.day,
                )
                st.sessions += 1
                session_done = True

        def gap(first_missing: int, exch_ns: int, recv_ns: int) -> None:
            nonlocal synced, snapshot_id
            session(exch_ns, recv_ns)
            buf.add(
                EventType.FEED_GAP,
                recv_ns=recv_ns,
                exch_ns=exch_ns,
                ref=first_missing,
                qty=-1,
                a=GapReason.SEQUENCE,
            )
            st.gaps += 1
            synced, snapshot_id = False, None

        def hold(d: _Diff) -> None:
            if len(held) == self.max_held_diffs:
                held.popleft()
                st.skip("diffs dropped while waiting for a snapshot")
            held.append(d)

        def apply(d: _Diff, recv_ns: int) -> None:
            nonlocal prev_u
            prev_u = d.last
            if not d.levels:
                return
            session(d.exch_ns, recv_ns)
            for side, price, qty in d.levels:
                buf.add(
                    EventType.L2_LEVEL, recv_ns=recv_ns, exch_ns=d.exch_ns, price=price, qty=qty, side=side
                )
            buf.set_last_flag(EventFlag.LAST)
            st.book_events += 1

        def feed(d: _Diff, recv_ns: int) -> None:
            """One diff through the sync state machine."""
            nonlocal synced, snapshot_id
            if synced:
                if d.prev != prev_u:
                    gap(prev_u + 1, d.exch_ns, recv_ns)
                    hold(d)
                    return
                apply(d, recv_ns)
            elif snapshot_id is not None:
                if d.last < snapshot_id:
                    st.skip("diffs older than the snapshot")
                elif d.first <= snapshot_id:
                    synced, snapshot_id = True, None
                    apply(d, recv_ns)
                else:  # updates between the snapshot and this diff are missing
                    gap(snapshot_id + 1, d.exch_ns, recv_ns)
                    hold(d)
            else:
                hold(d)

        lineno = 0
        with InputFile(self.path) as f:
            for line in f.lines():
                lineno += 1
                if not line.strip():
                    st.skip("blank lines")
                    continue
                st.rows += 1
                recv_text, _, payload = line.partition(b" ")
                try:
                    recv_ns = int(recv_text)
                    msg = _loads(payload)
                except ValueError:
                    st.add_bad("unparsable line", lineno)
                    continue
                try:
                    if not isinstance(msg, dict):
                        raise TypeError
                    if "lastUpdateId" in msg:
                        exch_ns = int(msg.get("T", msg.get("E"))) * MS
                        bids = self._levels(Side.BUY, msg["bids"])
                        asks = self._levels(Side.SELL, msg["asks"])
                        if bids is None or asks is None:
                            st.add_bad("snapshot price or qty not representable", lineno)
                            continue
                        bids = sorted((lv for lv in bids if lv[2] > 0), key=lambda lv: -lv[1])
                        asks = sorted((lv for lv in asks if lv[2] > 0), key=lambda lv: lv[1])
                        session(exch_ns, recv_ns)
                        buf.add(
                            EventType.SNAPSHOT_BEGIN,
                            recv_ns=recv_ns,
                            exch_ns=exch_ns,
                            side=SNAPSHOT_BOTH_SIDES,
                            a=len(bids) + len(asks),
                            ref=int(msg["lastUpdateId"]),
                        )
                        for side, price, qty in bids + asks:
                            buf.add(
                                EventType.L2_LEVEL,
                                recv_ns=recv_ns,
                                exch_ns=exch_ns,
                                price=price,
                                qty=qty,
                                side=side,
                            )
                        buf.add(
                            EventType.SNAPSHOT_END,
                            recv_ns=recv_ns,
                            exch_ns=exch_ns,
                            side=SNAPSHOT_BOTH_SIDES,
                            flags=EventFlag.LAST,
                        )
                        st.book_events += 1
                        synced, snapshot_id = False, int(msg["lastUpdateId"])
                        pending = list(held)
                        held.clear()
                        for d in pending:
                            feed(d, max(d.recv_ns, recv_ns))
                        continue
                    data = msg.get("data", msg)
                    kind = data.get("e")
                    if kind == "depthUpdate":
                        exch_ns = int(data["T"]) * MS
                        bid_levels = self._levels(Side.BUY, data["b"])
                        ask_levels = self._levels(Side.SELL, data["a"])
                        if bid_levels is None or ask_levels is None:
                            st.add_bad("depth price or qty not representable", lineno)
                            if synced:
                                gap(prev_u + 1, exch_ns, recv_ns)
                            continue
                        feed(
                            _Diff(
                                int(data["U"]),
                                int(data["u"]),
                                int(data["pu"]),
                                exch_ns,
                                recv_ns,
                                bid_levels + ask_levels,
                            ),
                            recv_ns,
                        )
                    elif kind == "trade":
                        price = decimal_units(data["p"], self.price_decimals)
                        qty = decimal_units(data["q"], self.qty_decimals)
                        if price is None or price == 0:
                            st.add_bad("trade price not representable", lineno)
                            continue
                        if qty is None or qty == 0 or qty >= 2**31:
                            st.add_bad("trade qty not representable at the qty scale", lineno)
                            continue
                        exch_ns = int(data["T"]) * MS
                        session(exch_ns, recv_ns)
                        buf.add(
                            EventType.TRADE,
                            recv_ns=recv_ns,
                            exch_ns=exch_ns,
                            price=price,
                            qty=qty,
                            code=3 if data["m"] else 2,
                            ref=int(data["t"]),
                        )
                        st.trades += 1
                    elif kind == "bookTicker":
                        st.skip("bookTicker lines")
                    else:
                        st.skip("lines of other streams")
                except (KeyError, TypeError, ValueError, AttributeError):
                    st.add_bad("missing or malformed field", lineno)
                    continue
                if buf.full:
                    st.events += len(buf)
                    yield buf.take()
                    if progress is not None:
                        progress(f.position(), f.size)
            if held:
                st.skip("diffs never applied (no snapshot after them)", len(held))
            if len(buf):
                st.events += len(buf)
                yield buf.take()
            if progress is not None:
                progress(f.position(), f.size)
        st.seconds = time.perf_counter() - t0
