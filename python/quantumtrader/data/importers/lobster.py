"""LOBSTER level-1 files (message + orderbook) -> event records.

Message file rows: ``time`` (seconds after midnight, up to ns), ``type`` (1
new limit order, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden
execution, 7 halt), ``order_id``, ``size``, ``price`` (USD x 10000),
``direction`` (1 buy, -1 sell; for an execution, the resting order's side).
Orderbook row ``i``: ``ask_price, ask_size, bid_price, bid_size`` after
message ``i`` (an empty side is written as price +-9999999999, size 0).

Each exchange message is one book event (spec qt-features/1): its level
changes are L2_LEVEL records of which the last is flagged LAST.  Logs of
B3 (recorded from ProfitDLL, or synthetic) hold one book event per
price-book action instead, as the DLL delivers them (README, "Book events").

Per message, in this order:
  * an execution (4, 5) -> ``TRADE``: price = message price (price unit
    0.0001, i.e. the file's integers), qty = size, ref = order id, code 2
    (buy aggression) when the resting order was a sell (direction -1), else
    3; agents 0;
  * a halt (7) -> ``PHASE``: price -1 halt -> FROZEN, 0 quoting -> AUCTION,
    1 trading resumes -> OPEN;
  * the top-of-book change against the previous orderbook row -> ``L2_LEVEL``
    records: when a side's best price moves, a delete (qty 0) of the old
    level and the new level's qty; when only its size changes, the new qty;
    flag LAST on the message's last record.  A message that leaves both
    tops unchanged is not a book event and emits no level record.
Times: ``SESSION`` (ref = the date) first, then exch_ns = recv_ns = local
time of the date in ``zone`` -> UTC ns (per-hour offsets from the tz
database).  The date and ticker come from the file name (LOBSTER's
``TICKER_YYYY-MM-DD_...`` or ``lobster-ticker-YYYYMMDD-...``) unless given."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator

import numpy as np

from quantumtrader.data.events import EventFlag, EventType, Phase, Side
from quantumtrader.data.importers.event_buffer import EventBuffer
from quantumtrader.data.importers.file_kind import (
    LOBSTER_MESSAGE,
    LOBSTER_ORDERBOOK,
    file_kind,
    orderbook_levels,
    what_it_looks_like,
)
from quantumtrader.data.importers.input_file import InputFile
from quantumtrader.data.importers.local_time import NS_PER_S, hourly_utc_offsets, local_midnight_epoch_s
from quantumtrader.data.importers.log_header import LogHeaderFields
from quantumtrader.data.importers.stats import ImportStats

PRICE_UNIT = 0.0001
TICK_SIZE = 0.01
EMPTY_SIDE_PRICE = 9999999999
HALT_PHASES = {-1: Phase.FROZEN, 0: Phase.AUCTION, 1: Phase.OPEN}
EXECUTION_TYPES = (4, 5)
HALT_TYPE = 7

Progress = Callable[[int, int], None]

_STANDARD_NAME = re.compile(r"^([A-Za-z.]+)_(\d{4})-(\d{2})-(\d{2})_")
_SAMPLE_NAME = re.compile(r"^lobster-([A-Za-z.]+)-(\d{4})(\d{2})(\d{2})-", re.IGNORECASE)


def name_date_and_ticker(path: str) -> tuple[int | None, str | None]:
    """(YYYYMMDD, TICKER) from a LOBSTER file name, None where absent."""
    base = os.path.basename(path)
    m = _STANDARD_NAME.match(base) or _SAMPLE_NAME.match(base)
    if not m:
        return None, None
    return int(m.group(2) + m.group(3) + m.group(4)), m.group(1).upper()


def parse_seconds_ns(text: str) -> int:
    """``"34200.017459617"`` -> ns after midnight, exactly (no float)."""
    whole, _, frac = text.strip().partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 9:
        raise ValueError(f"bad time {text!r}")
    return int(whole) * NS_PER_S + (int(frac.ljust(9, "0")) if frac else 0)


class LobsterImporter:
    def __init__(
        self,
        message_path: str | os.PathLike[str],
        orderbook_path: str | os.PathLike[str],
        *,
        date: int | None = None,
        instrument: str | None = None,
        zone: str = "America/New_York",
        max_listed: int = 20,
        out_records: int = 1 << 16,
    ) -> None:
        self.message_path = os.fspath(message_path)
        self.orderbook_path = os.fspath(orderbook_path)
        for p in (self.message_path, self.orderbook_path):
            if not os.path.isfile(p):
                raise FileNotFoundError(2, "no such file", p)
        name_date, name_ticker = name_date_and_ticker(self.message_path)
        self.date = date if date is not None else name_date
        self.instrument = instrument if instrument is not None else name_ticker
        if self.date is None:
            raise ValueError(f"{self.message_path}: no date in the file name: pass --date YYYYMMDD")
        if not self.instrument:
            raise ValueError(f"{self.message_path}: no ticker in the file name: pass --instrument")
        self._check_kinds()
        self.zone = zone
        self.out_records = out_records
        self.stats = ImportStats(max_listed=max_listed)
        self._midnight_s = local_midnight_epoch_s(self.date)
        self._offsets = hourly_utc_offsets(self.date, zone)

    def _check_kinds(self) -> None:
        """Refuse swapped or foreign files up front: read as each other they
        make every row a bad row and no event."""
        m, b = self.message_path, self.orderbook_path
        m_kind, b_kind = file_kind(m), file_kind(b)
        if m_kind == LOBSTER_ORDERBOOK and b_kind == LOBSTER_MESSAGE:
            raise ValueError(
                f"the two files are swapped: {m} is the orderbook file and {b} the message file: "
                "give the message file first (quantumtrader import lobster MESSAGE ORDERBOOK)"
            )
        if m_kind != LOBSTER_MESSAGE:
            raise ValueError(
                f"{m} is not a LOBSTER message file (rows time,type,order id,size,price,direction): "
                f"{what_it_looks_like(m_kind)}"
            )
        if b_kind != LOBSTER_ORDERBOOK:
            raise ValueError(
                f"{b} is not a LOBSTER orderbook file (rows ask,ask size,bid,bid size): "
                f"{what_it_looks_like(b_kind)}"
            )
        levels = orderbook_levels(b)
        if levels != 1:
            raise ValueError(f"{b} is a level-{levels} orderbook file: this importer reads level-1 files")

    def header(self) -> LogHeaderFields:
        return LogHeaderFields(
            instrument=self.instrument or "",
            price_unit=PRICE_UNIT,
            tick_size=TICK_SIZE,
            qty_scale=1.0,
            calendar_version="",
            source=f"lobster:{os.path.basename(self.message_path)}",
        )

    def utc_ns(self, ns_after_midnight: int) -> int:
        hour = min(ns_after_midnight // (3600 * NS_PER_S), 23)
        return (self._midnight_s - self._offsets[hour]) * NS_PER_S + ns_after_midnight

    def events(self, progress: Progress | None = None) -> Iterator[np.ndarray]:
        """Event chunks in message order; :attr:`stats` is complete when
        the iterator is exhausted."""
        t0 = time.perf_counter()
        st = self.stats
        buf = EventBuffer(self.out_records)
        # top of book as last emitted: price (None = side empty), size
        top = {Side.BUY: (None, 0), Side.SELL: (None, 0)}
        lineno = 0
        with InputFile(self.message_path) as mf, InputFile(self.orderbook_path) as bf:
            book_lines = bf.lines()
            for mline in mf.lines():
                lineno += 1
                bline = next(book_lines, None)
                if bline is None:
                    raise ValueError(
                        f"{self.orderbook_path} has fewer lines than {self.message_path} (line {lineno})"
                    )
                if not mline.strip():
                    st.skip("blank lines")
                    continue
                st.rows += 1
                try:
                    t_text, typ, order_id, size, price, direction = mline.decode("ascii").split(",")
                    ns = parse_seconds_ns(t_text)
                    typ_i, oid, qty, px, dirn = int(typ), int(order_id), int(size), int(price), int(direction)
                    ask_p, ask_q, bid_p, bid_q = (int(x) for x in bline.decode("ascii").split(","))
                except (ValueError, UnicodeDecodeError):
                    st.add_bad("unparsable row", lineno)
                    continue
                if ns >= 86400 * NS_PER_S:
                    st.add_bad("time beyond the day", lineno)
                    continue
                ts = self.utc_ns(ns)
                if st.sessions == 0:
                    buf.add(EventType.SESSION, recv_ns=ts, exch_ns=ts, ref=self.date)
                    st.sessions += 1
                if typ_i in EXECUTION_TYPES:
                    if qty <= 0 or px <= 0 or dirn not in (1, -1):
                        st.add_bad("execution with bad size, price or direction", lineno)
                        continue
                    buf.add(
                        EventType.TRADE,
                        recv_ns=ts,
                        exch_ns=ts,
                        price=px,
                        qty=qty,
                        code=2 if dirn == -1 else 3,
                        ref=oid,
                    )
                    st.trades += 1
                elif typ_i == HALT_TYPE:
                    if px not in HALT_PHASES:
                        st.add_bad("halt with unknown price code", lineno)
                        continue
                    buf.add(EventType.PHASE, recv_ns=ts, exch_ns=ts, code=HALT_PHASES[px])
                n_levels = 0
                for side, p, q in ((Side.BUY, bid_p, bid_q), (Side.SELL, ask_p, ask_q)):
                    new = (p, q) if 0 < p < EMPTY_SIDE_PRICE and q > 0 else (None, 0)
                    old = top[side]
                    if new == old:
                        continue
                    if old[0] is not None and old[0] != new[0]:
                        buf.add(EventType.L2_LEVEL, recv_ns=ts, exch_ns=ts, price=old[0], qty=0, side=side)
                        n_levels += 1
                    if new[0] is not None:
                        buf.add(
                            EventType.L2_LEVEL, recv_ns=ts, exch_ns=ts, price=new[0], qty=new[1], side=side
                        )
                        n_levels += 1
                    top[side] = new
                if n_levels:
                    buf.set_last_flag(EventFlag.LAST)
                    st.book_events += 1
                if buf.full:
                    st.events += len(buf)
                    yield buf.take()
                    if progress is not None:
                        progress(mf.position(), mf.size)
            if next(book_lines, None) is not None:
                raise ValueError(f"{self.orderbook_path} has more lines than {self.message_path}")
        if len(buf):
            st.events += len(buf)
            yield buf.take()
        if progress is not None:
            progress(1, 1)
        st.seconds = time.perf_counter() - t0
