"""Profit tick CSV export -> event records, streamed in constant memory.

Row: ``<ticker>,<YYYYMMDD>,<HHMMSS local>,<trade_number>,<price>,<qty>,<vol>,
<buy_agent>,<sell_agent>,<trade_type word>,<aft S/N>``.  The C parser
(``quantumtrader.qtcore.profit_csv``) does the per-row work; this module
reads the file in large chunks (a row cut by a chunk boundary waits for the
next chunk), answers the parser's pauses (UTC offsets of a new date from
the tz database, ids of new broker names) and collects the counts.

Output per date change: one ``SESSION`` record (ref = local date YYYYMMDD,
times of the session's first trade), then ``TRADE`` records: price in price
units, qty, ref = trade_number, a = buy agent id, b = sell agent id, code =
ProfitDLL trade type, exch_ns = recv_ns = UTC ns, seq from 0.

Order: the export is expected in (date, time, trade_number) order.  Rows
that are not strictly after the previous row are kept in file order (the
feature engine already clamps a time that goes backwards, and dropping them
would lose volume), counted and listed as out of order, so a user can sort
the export and re-import; a date change in either direction starts a new
session record.  Sorting inside the importer would need a whole day in
memory, which is what the streaming design avoids.

The vol field is not validated (it is price x qty x multiplier, redundant).
The first non-blank line is a header when its second field has no digit."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from quantumtrader.data.events import EVENT_DTYPE
from quantumtrader.data.importers.file_kind import PROFIT_CSV, file_kind, what_it_looks_like
from quantumtrader.data.importers.input_file import InputFile
from quantumtrader.data.importers.local_time import hourly_utc_offsets
from quantumtrader.data.importers.log_header import LogHeaderFields
from quantumtrader.data.importers.price_grid import PriceGrid, resolve_price_grid
from quantumtrader.data.importers.stats import ImportStats
from quantumtrader.qtcore import profit_csv as _c

TIME_ZONE = "America/Sao_Paulo"
BOM = b"\xef\xbb\xbf"
ISSUE_DTYPE = np.dtype([("line", "<i8"), ("reason", "<i4"), ("pad", "<i4")])
assert ISSUE_DTYPE.itemsize == _c.ISSUE_SIZE
MAX_LINE_BYTES = 64 << 20  # a "line" longer than this is not a Profit export

Progress = Callable[[int, int], None]


def decode_broker_name(raw: bytes) -> str:
    """Broker names as written: UTF-8, or Windows-1252 (what Profit on
    Windows writes) when the bytes are not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _is_header(line: bytes) -> bool:
    fields = line.split(b",")
    return len(fields) < 2 or not any(48 <= c <= 57 for c in fields[1])


class ProfitCsvImporter:
    """Streams one Profit export.  ``agents`` seeds the broker dictionary
    (index = id) so several imports share ids; new names are appended in
    first-seen order.  ``ticker`` selects the rows to import (default: the
    first data row's ticker); the price grid comes from
    :func:`resolve_price_grid` (options ``price_unit``/``tick_size`` win)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        agents: Sequence[str] = (),
        ticker: str | None = None,
        price_unit: float | None = None,
        tick_size: float | None = None,
        chunk_bytes: int = 8 << 20,
        max_listed: int = 20,
        out_records: int = 1 << 16,
    ) -> None:
        if chunk_bytes < 1 or out_records < 2:
            raise ValueError("chunk_bytes must be >= 1 and out_records >= 2")
        self.path = os.fspath(path)
        self.chunk_bytes = chunk_bytes
        self.out_records = out_records
        self.max_listed = max_listed
        self.agents: list[str] = list(agents)
        self._ids = {name: i for i, name in enumerate(self.agents)}
        if len(self._ids) != len(self.agents):
            raise ValueError("the seed broker dictionary has duplicate names")
        first_row = self._first_data_row()
        if first_row is None:
            raise ValueError(f"{self.path}: no data rows")
        kind = file_kind(self.path)
        if kind != PROFIT_CSV:  # otherwise: "unknown ticker" named after a line of JSON
            raise ValueError(
                f"{self.path} is not a Profit tick export (rows of 11 fields: ticker,date,time,"
                f"trade number,price,qty,vol,buyer,seller,type,aft): {what_it_looks_like(kind)}"
            )
        if ticker is None:
            ticker = decode_broker_name(first_row.split(b",")[0].strip().strip(b'"'))
        if not ticker:
            raise ValueError(f"{self.path}: the first data row has an empty ticker")
        self.ticker = ticker
        self.grid: PriceGrid = resolve_price_grid(ticker, price_unit, tick_size)
        self.stats = ImportStats(max_listed=max_listed)

    def header(self) -> LogHeaderFields:
        return LogHeaderFields(
            instrument=self.ticker,
            price_unit=self.grid.price_unit,
            tick_size=self.grid.tick_size,
            qty_scale=1.0,
            calendar_version=self.grid.calendar_version,
            source=f"profit-csv:{os.path.basename(self.path)}",
        )

    def _first_data_row(self) -> bytes | None:
        with InputFile(self.path) as f:
            head = f.stream.read(1 << 20)
        lines = head.removeprefix(BOM).split(b"\n")
        nonblank = [ln for ln in lines[:-1] if ln.strip()] + ([lines[-1]] if lines[-1].strip() else [])
        if nonblank and _is_header(nonblank[0]):
            nonblank = nonblank[1:]
        return nonblank[0] if nonblank else None

    @staticmethod
    def _skip_preamble(buf: bytearray, fill: int, eof: bool) -> tuple[int, int] | None:
        """Offset past a BOM and a header line at the start of the file, and
        the number of the line after them; None while the first non-blank
        line is not complete in the buffer."""
        start = 3 if buf.startswith(BOM) else 0
        line_no, pos = 1, start
        while pos < fill:
            nl = buf.find(b"\n", pos, fill)
            if nl < 0 and not eof:
                return None
            end = fill if nl < 0 else nl
            line = bytes(buf[pos:end])
            if line.strip():
                return (end + 1, line_no + 1) if _is_header(line) else (start, 1)
            line_no, pos = line_no + 1, end + 1
        return (start, 1) if eof else None

    def _room_for_line(self, buf: bytearray, fill: int, parser: _c.ProfitCsvParser) -> bytearray:
        """A bigger buffer when one line fills the whole of ``buf``."""
        if fill < len(buf):
            return buf
        if len(buf) * 2 > MAX_LINE_BYTES:
            raise ValueError(
                f"{self.path}: line {parser.next_line} is longer than {MAX_LINE_BYTES >> 20} MiB: "
                "not a Profit CSV export"
            )
        bigger = bytearray(len(buf) * 2)
        bigger[:fill] = buf[:fill]
        return bigger

    def _register_agent(self, parser: _c.ProfitCsvParser, raw: bytes) -> None:
        name = decode_broker_name(raw)
        agent_id = self._ids.get(name)
        if agent_id is None:
            agent_id = len(self.agents)
            self.agents.append(name)
            self._ids[name] = agent_id
        parser.add_agent(raw, agent_id)

    def _take_issues(self, issues: np.ndarray) -> None:
        for line, reason in zip(issues["line"].tolist(), issues["reason"].tolist(), strict=True):
            if reason == _c.OUT_OF_ORDER:
                if len(self.stats.out_of_order_lines) < self.max_listed:
                    self.stats.out_of_order_lines.append(line)
            else:
                self.stats.list_bad_line(_c.REASONS[reason], line)

    def _update_counts(self, parser: _c.ProfitCsvParser) -> None:
        c = parser.counters()
        s = self.stats
        s.rows, s.trades, s.sessions = c["rows"], c["trades"], c["sessions"]
        s.events = s.trades + s.sessions
        s.after_hours = c["after_hours"]
        s.bad = c["bad"]
        s.bad_by_reason = {_c.REASONS[r]: n for r, n in c["reasons"].items() if r in _c.BAD_REASONS}
        s.out_of_order = c["reasons"].get(_c.OUT_OF_ORDER, 0)
        if c["blank"]:
            s.skipped["blank lines"] = c["blank"]

    def events(self, progress: Progress | None = None) -> Iterator[np.ndarray]:
        """Event chunks (EVENT_DTYPE arrays, at most ``out_records`` each)
        in file order; :attr:`stats` and :attr:`agents` are complete when
        the iterator is exhausted."""
        t0 = time.perf_counter()
        parser = _c.ProfitCsvParser(self.ticker.encode(), self.grid.price_unit, self.max_listed)
        issues = np.zeros(self.max_listed * _c.REASON_COUNT + 1, ISSUE_DTYPE)
        issues_view = issues.view(np.uint8)
        out = np.empty(self.out_records, EVENT_DTYPE)
        filled = 0
        with InputFile(self.path) as f:
            buf = bytearray(self.chunk_bytes)
            fill, first, eof = 0, True, False
            while not eof:
                n = f.readinto(memoryview(buf)[fill:])
                eof = n == 0 or n < len(buf) - fill
                fill += n
                start = 0
                if first:
                    preamble = self._skip_preamble(buf, fill, eof)
                    if preamble is None:  # first line still incomplete: read on
                        buf = self._room_for_line(buf, fill, parser)
                        continue
                    start, next_line = preamble
                    parser.set_position(next_line, 0)
                    first = False
                mv = memoryview(buf)
                out_view = out.view(np.uint8)
                while True:
                    st, consumed, nev, niss, need_date, aoff, alen = parser.parse(
                        mv[start:fill], eof, out_view[filled * EVENT_DTYPE.itemsize :], issues_view
                    )
                    filled += nev
                    if niss:
                        self._take_issues(issues[:niss])
                    base, start = start, start + consumed
                    if st == _c.DONE:
                        break
                    if st == _c.OUT_FULL:
                        yield out[:filled]
                        out = np.empty(self.out_records, EVENT_DTYPE)
                        out_view = out.view(np.uint8)
                        filled = 0
                    elif st == _c.NEED_DATE:
                        parser.set_date(need_date, hourly_utc_offsets(need_date, TIME_ZONE))
                    elif st == _c.NEED_AGENT:
                        self._register_agent(parser, bytes(mv[base + aoff : base + aoff + alen]))
                mv.release()
                self._update_counts(parser)
                if filled:
                    yield out[:filled]
                    out = np.empty(self.out_records, EVENT_DTYPE)
                    filled = 0
                if progress is not None:
                    progress(f.position(), f.size)
                rest = fill - start
                if rest:  # a row cut by the chunk boundary: keep it for the next chunk
                    buf[:rest] = buf[start:fill]
                if rest == len(buf) and not eof:
                    buf = self._room_for_line(buf, rest, parser)
                fill = rest
        self._update_counts(parser)
        self.stats.seconds = time.perf_counter() - t0
