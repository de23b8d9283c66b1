"""``quantumtrader features INPUT --out FILE.parquet``: the feature table of an
event log or a Profit CSV export, one row per trade (``ts``, ``trade_number``,
the features of ``--set`` in spec order), computed by the same C drain loop as
live trading.

Exit status: 0 done, 2 bad input or arguments (nothing written), 1 failed part
way (nothing written either: the table appears only when complete)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from quantumtrader.features.schema import FEATURE_SETS, schema_for

PROG = "quantumtrader features"
EVENT_LOG_MAGIC = b"QTEVLOG\x00"
INPUT_ERRORS = (OSError, EOFError, ValueError, zlib.error)
CHUNK_RECORDS = 1 << 18  # a progress step; the engine keeps its state across chunks


def add_features_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "features",
        help="compute the feature table (spec qt-features/1) of an event log or a Profit CSV export",
        description="Compute the features of every trade of an event log or a Profit CSV export "
        "(plain or gzip) into a Parquet table: ts, trade_number, then the features in spec order. "
        "Session hours come from the trading calendar (B3, America/Sao_Paulo) or the venue of an "
        "imported capture (Binance: the whole UTC day; LOBSTER: 09:30-16:00 America/New_York) unless "
        "given; the tick size from the input unless given.",
    )
    p.add_argument("input", help="event log (quantumtrader import/synth/record) or Profit CSV export")
    p.add_argument("--out", required=True, metavar="FILE.parquet",
                   help="feature table to write (never the input; replaced only when complete)")
    p.add_argument(
        "--set",
        dest="feature_set",
        choices=sorted(FEATURE_SETS),
        default="qt77",
        help="feature set (default qt77: the 65 model features and the 12 book features)",
    )
    p.add_argument("--session-open", metavar="HH:MM", help="regular-session open for every date")
    p.add_argument("--session-close", metavar="HH:MM", help="regular-session close for every date")
    p.add_argument("--timezone", metavar="ZONE",
                   help="tz database zone --session-open/--session-close are read in (default: the "
                   "venue's: America/Sao_Paulo for B3, UTC for Binance, America/New_York for LOBSTER)")
    p.add_argument("--tick-size", type=float, help="tick size (default: the log header's)")
    p.add_argument("--price-unit", type=float,
                   help="Profit CSV export: price unit of a ticker the calendar does not know (an event "
                   "log's prices are in its header's unit: a different value is refused)")
    p.add_argument("--allow-book-rejects", action="store_true",
                   help="write the table even when the book refused records (its book features are "
                   "then wrong from the first refusal); without it that is a failure, exit 1")
    p.set_defaults(func=run_features)


def _error(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


class FeaturesFailed(Exception):
    """The job ran but its table would be worthless or wrong: nothing is written."""


def _is_event_log(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(EVENT_LOG_MAGIC)) == EVENT_LOG_MAGIC


class _Input:
    """The records of the input and what its header says, for either kind."""

    def __init__(self, path: str, price_unit: float | None = None, tick_size: float | None = None) -> None:
        self.path = path
        self._log = None
        self._importer = None
        if _is_event_log(path):
            from quantumtrader.data.eventlog import read_event_log

            self._log = read_event_log(path)
            h = self._log.header
            if price_unit is not None and abs(price_unit - h.price_unit) > 1e-12 * h.price_unit:
                self._log.close()
                raise ValueError(
                    f"--price-unit {price_unit:g} differs from the log's {h.price_unit:g}: an event "
                    "log's prices are whole numbers of its header's unit (--price-unit is for Profit "
                    "CSV exports)"
                )
            self.kind = "event log"
            self.instrument, self.price_unit, self.tick_size = h.instrument, h.price_unit, h.tick_size
            self.qty_scale, self.source = h.qty_scale, h.source
            self.problem = f"tail ignored: {self._log.tail_reason}" if self._log.tail_reason else ""
        else:
            from quantumtrader.data.importers.profit_csv import ProfitCsvImporter

            self._importer = ProfitCsvImporter(path, price_unit=price_unit, tick_size=tick_size)
            h = self._importer.header()
            self.kind = "Profit CSV export"
            self.instrument, self.price_unit, self.tick_size = h.instrument, h.price_unit, h.tick_size
            self.qty_scale, self.source = h.qty_scale, h.source
            self.problem = ""

    @property
    def events(self) -> np.ndarray | None:
        """All records at once (an event log, mapped), else None (a stream)."""
        return self._log.events if self._log is not None else None

    def chunks(self, show: Callable[..., None]) -> Iterator[np.ndarray]:
        """The records in order; ``show(done, total)`` follows the progress."""
        if self._log is not None:
            events = self._log.events
            for start in range(0, len(events), CHUNK_RECORDS):
                yield events[start : start + CHUNK_RECORDS]
                show(min(start + CHUNK_RECORDS, len(events)), len(events))
        else:
            assert self._importer is not None
            yield from self._importer.events(lambda done, total: show(done, total))

    def close(self) -> None:
        if self._log is not None:
            self._log.close()

    def summary_lines(self) -> list[str]:
        if self._importer is None:
            return []
        s = self._importer.stats
        return [
            f"import          {s.trades:,} trades, {s.after_hours:,} after-hours excluded, {s.bad:,} bad rows"
        ]


def _trade_dates(chunk: np.ndarray, local_dates: Any) -> set:
    trades = chunk[(chunk["type"] == 1) & (chunk["exch_ns"] != np.iinfo(np.int64).min)]
    return set(local_dates(trades["exch_ns"]))


def run_features(args: argparse.Namespace) -> int:
    from quantumtrader.book_capacity import book_capacity_for, tick_units_of
    from quantumtrader.features.drain import FeatureDrain
    from quantumtrader.features.engine_setup import SessionSetupError, build_engine, local_dates
    from quantumtrader.features.table import FeatureTableWriter
    from quantumtrader.output_path import OutputPathError, atomic_output, check_output
    from quantumtrader.progress import progress_bar

    schema = schema_for(args.feature_set)
    try:
        check_output(args.out, [args.input])  # up front: before minutes of work, not after
        source = _Input(args.input, args.price_unit, args.tick_size)
    except OutputPathError as e:
        _error(e)
        return 2
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    try:
        tick = args.tick_size if args.tick_size is not None else source.tick_size
        try:
            units = tick_units_of(tick, source.price_unit) if tick > 0 and source.price_unit > 0 else 1
            # a recorded stream is known in full: the book holds its deepest side (book_capacity)
            capacity = book_capacity_for(source.events, units) if source.events is not None else 0
            engine, params = build_engine(
                source.instrument,
                source.price_unit,
                tick,
                source.qty_scale,
                session_open=args.session_open,
                session_close=args.session_close,
                timezone=args.timezone,
                source=source.source,
                book_capacity=capacity,
            )
        except SessionSetupError as e:
            _error(e)
            return 2
        t0 = time.perf_counter()
        dates: set = set()
        try:
            with atomic_output(args.out, [args.input]) as partial:
                table = FeatureTableWriter(
                    partial,
                    schema,
                    {
                        "input": os.path.basename(args.input),
                        "input_kind": source.kind,
                        "source": source.source,
                    },
                )
                try:
                    drain = FeatureDrain(engine, table=table)
                    with progress_bar(f"features {os.path.basename(args.input)}", None) as show:
                        for chunk in source.chunks(show):
                            dates |= _trade_dates(chunk, lambda ts: local_dates(ts, params.timezone))
                            drain.run_events(chunk)
                    _check_result(args, engine.counters, drain.records)
                    ordered = sorted(dates)
                    table.close(
                        {
                            "session": params.metadata(ordered),
                            "counters": engine.counters,
                            "book_capacity": capacity or None,
                            "dates": [d.isoformat() for d in ordered],
                        }
                    )
                except BaseException:
                    table.abort()
                    raise
        except FeaturesFailed as e:
            _error(f"{e}; nothing written")
            return 1
        except INPUT_ERRORS as e:
            _error(f"{e} (nothing written)")
            return 1
        seconds = time.perf_counter() - t0
        _report(args, source, schema, engine.counters, params, ordered, table.rows_written, seconds)
    finally:
        source.close()
    return 0


def _check_result(args: argparse.Namespace, counters: dict, records: int) -> None:
    """Raise FeaturesFailed when the table would be empty or computed from a
    book known to be wrong."""
    if counters["rows"] == 0:
        raise FeaturesFailed(
            f"{args.input}: no trade gave a feature row ({records:,} records, {counters['trades']:,} "
            f"trades, {counters['after_hours']:,} after-hours, {counters['invalid']:,} invalid)"
        )
    if counters["book_rejected"] and not args.allow_book_rejects:
        raise FeaturesFailed(
            f"the book refused {counters['book_rejected']:,} of {counters['book_records']:,} book records, "
            "so the book features are wrong from the first refusal (quantumtrader replay LOG names "
            "the book's problems; --allow-book-rejects writes the table anyway)"
        )


def _report(
    args: argparse.Namespace,
    source: _Input,
    schema: Any,
    counters: dict,
    params: Any,
    dates: list,
    rows: int,
    seconds: float,
) -> None:
    print(f"features {args.input} ({source.kind}, {source.instrument}) -> {args.out}")
    lines = [
        f"feature set     {schema.set_name} ({len(schema)} features, {schema.spec_version}, "
        f"schema {schema.hash[:16]}...)",
        f"rows            {rows:,} in {len(dates)} session(s)"
        + (f" ({dates[0]} .. {dates[-1]})" if dates else ""),
        f"book events     {counters['book_events']:,} ({counters['book_rejected']:,} book records rejected)",
        f"not in stream   {counters['edits']:,} edits, {counters['after_hours']:,} after-hours, "
        f"{counters['invalid']:,} invalid",
        f"clock           {counters['ts_regressions']:,} timestamps taken as the latest, "
        f"{counters['ts_missing']:,} missing",
        f"tick size       {params.tick_size:g}; hours "
        + (
            f"from calendar {params.calendar_version} ({params.timezone})"
            if params.hours_source == "calendar"
            else f"{params.default_open}-{params.default_close} {params.timezone} ({params.hours_source})"
        ),
        f"time            {seconds:.2f} s ({rows / seconds if seconds > 0 else 0:,.0f} rows/s)",
        *source.summary_lines(),
    ]
    if source.problem:
        lines.append(source.problem)
    if counters["book_rejected"]:
        lines.append(
            f"WARNING: the book refused {counters['book_rejected']:,} records: book features are wrong "
            "from the first refusal (written because of --allow-book-rejects)"
        )
    if params.hours_source == "calendar":
        missing = [d for d in dates if d.isoformat() not in params.session_hours]
        if missing:
            shown = ", ".join(str(d) for d in missing[:5]) + (", ..." if len(missing) > 5 else "")
            lines.append(
                f"WARNING: {len(missing)} date(s) with trades are not sessions in the calendar "
                f"({shown}): their hours were taken as {params.default_open}-{params.default_close}"
            )
    for line in lines:
        print(f"  {line}")
