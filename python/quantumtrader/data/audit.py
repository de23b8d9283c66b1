"""The book audit of event logs: play a log through the C price book and
report the market it describes: trades, volume, prices, book events,
spreads, and whether it is consistent (every trade at or inside the touch it
met, no crossed book).  ``quantumtrader audit LOG`` prints the report."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from quantumtrader.data.book_capacity import PROBE_CAPACITY, book_capacity_for
from quantumtrader.data.eventlog import EventLog, EventLogError, EventLogHeader, read_event_log
from quantumtrader.data.events import PRICE_NONE, TIME_NONE
from quantumtrader.progress import progress_bar
from quantumtrader.qtcore.audit import BookAudit

CHUNK_RECORDS = 1 << 18  # 16 MiB of records per C call: Python overhead stays negligible


@dataclass(frozen=True)
class AuditReport:
    path: str
    header: EventLogHeader
    stats: dict[str, Any]
    tail_bytes_ignored: int
    tail_reason: str
    deepest: tuple[int, int] = (0, 0)  # most levels held per side (bids, asks)
    book_capacity: int = PROBE_CAPACITY

    @property
    def tick_units(self) -> int:
        return tick_units_of(self.header)

    @property
    def book_consistent(self) -> bool:
        """Every book record accepted and no complete book event left the book crossed."""
        return self.stats["crossed_events"] == 0 and self.stats["book_rejects"] == 0

    @property
    def trades_consistent(self) -> bool:
        """Every trade at or inside the touch it met.  Holds for the synthetic market and a
        venue that sequences trades and book changes in one feed; not for a capture whose
        book stream is batched (Binance diff depth every 100 ms) while trades are not."""
        return self.stats["trades_outside"] == 0

    @property
    def consistent(self) -> bool:
        return self.book_consistent and self.trades_consistent

    @property
    def book_events_per_trade(self) -> float:
        trades = self.stats["trades"]
        return self.stats["book_events"] / trades if trades else math.nan

    def price(self, units: int) -> float:
        return units * self.header.price_unit

    @property
    def vwap(self) -> float:
        qty = self.stats["trade_qty"]
        return self.stats["trade_notional"] / qty * self.header.price_unit if qty else math.nan

    @property
    def mean_spread_ticks(self) -> float:
        n = self.stats["spread_samples"]
        return self.stats["spread_sum"] / n / self.tick_units if n else math.nan


def tick_units_of(header: EventLogHeader) -> int:
    """Price units per tick; the log's tick must be a whole number of units."""
    ratio = header.tick_size / header.price_unit
    units = round(ratio)
    if units < 1 or abs(ratio - units) > 1e-9 * max(1.0, ratio):
        raise EventLogError(
            f"tick size {header.tick_size} is not a whole number of price units ({header.price_unit})"
        )
    return units


def audit_log(log: EventLog, *, chunk_records: int = CHUNK_RECORDS) -> AuditReport:
    """Replay an open event log through a fresh book, chunk by chunk.  The
    book holds PROBE_CAPACITY levels per side; a log that needs more is
    replayed again through a book sized from it (book_capacity), so a
    refused record is never one refused for room (the ``features`` rule)."""
    units = tick_units_of(log.header)
    events = log.events
    capacity = PROBE_CAPACITY
    with progress_bar(f"audit {Path(log.path).name}", len(events)) as show:
        audit = _audit(events, units, capacity, chunk_records, show)
    if audit.stats["book_rejects"] and PROBE_CAPACITY in audit.deepest:
        capacity = book_capacity_for(events, units)
        if capacity > PROBE_CAPACITY:
            audit = _audit(events, units, capacity, chunk_records, lambda done: None)
    return AuditReport(log.path, log.header, audit.stats, log.tail_bytes_ignored, log.tail_reason,
                        audit.deepest, capacity)


def _audit(events: Any, units: int, capacity: int, chunk_records: int,
           show: Callable[[int], None]) -> BookAudit:
    audit = BookAudit(units, capacity)
    for start in range(0, len(events), chunk_records):
        audit.feed(events[start:start + chunk_records])
        show(min(start + chunk_records, len(events)))
    return audit


def audit_event_log(path: str | Path) -> AuditReport:
    with read_event_log(path) as log:
        return audit_log(log)


def _time(ns: int) -> str:
    if ns == TIME_NONE:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def report_table(r: AuditReport, title: str | None = None) -> Table:
    s = r.stats
    h = r.header
    table = Table(title=title or f"{h.instrument}: {Path(r.path).name}", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    qty_scale = h.qty_scale or 1.0
    rows: list[tuple[str, str]] = [
        ("records", f"{s['records']:,}"),
        ("span", f"{_time(s['first_exch_ns'])} .. {_time(s['last_exch_ns'])}"),
        ("trades", f"{s['trades']:,}" + (f" (+{s['trades_skipped']:,} edits/after-hours/invalid)"
                                         if s["trades_skipped"] else "")),
        ("volume", f"{s['trade_qty'] / qty_scale:,.6g}"),
    ]
    if s["price_min"] != PRICE_NONE:
        rows += [
            ("price range", f"{r.price(s['price_min']):,.6g} .. {r.price(s['price_max']):,.6g}"),
            ("VWAP", f"{r.vwap:,.8g}"),
        ]
    rows += [
        ("book events", f"{s['book_events']:,}"),
        ("book events / trade", f"{r.book_events_per_trade:.2f}"),
        ("book records rejected", f"{s['book_rejects']:,}"),
        ("deepest book (levels bid / ask)", f"{r.deepest[0]:,} / {r.deepest[1]:,}"),
        ("mean / max spread (ticks)",
         f"{r.mean_spread_ticks:.2f} / {s['spread_max'] / r.tick_units:g}" if s["spread_samples"] else "-"),
        ("trades at / inside touch", f"{s['trades_at_touch']:,} / {s['trades_inside']:,}"),
        ("trades outside touch", f"{s['trades_outside']:,}"),
        ("trades before a two-sided book", f"{s['trades_without_book']:,}"),
        ("crossed / locked book events", f"{s['crossed_events']:,} / {s['locked_events']:,}"),
    ]
    if r.tail_reason:
        rows.append(("damaged tail ignored", f"{r.tail_bytes_ignored:,} bytes ({r.tail_reason})"))
    rows.append(("book consistent", _yes_no(r.book_consistent)))
    rows.append(("trades at or inside the touch", _yes_no(r.trades_consistent)))
    for k, v in rows:
        table.add_row(k, v)
    return table


def _yes_no(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"
