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
from collections.abc import Iterator
from typing import Any

import numpy as np

from quantumtrader.features.schema import FEATURE_SETS, schema_for

PROG = "quantumtrader features"
EVENT_LOG_MAGIC = b"QTEVLOG\x00"
INPUT_ERRORS = (OSError, EOFError, ValueError, zlib.error)


def add_features_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "features",
        help="compute the feature table (spec qt-features/1) of an event log or a Profit CSV export",
        description="Compute the features of every trade of an event log or a Profit CSV export "
        "(plain or gzip) into a Parquet table: ts, trade_number, then the features in spec order. "
        "Session hours come from the trading calendar and the tick size from the input unless given.",
    )
    p.add_argument("input", help="event log (quantumtrader import/synth) or Profit CSV export")
    p.add_argument("--out", required=True, metavar="FILE.parquet", help="feature table to write")
    p.add_argument(
        "--set",
        dest="feature_set",
        choices=sorted(FEATURE_SETS),
        default="qt77",
        help="feature set (default qt77: the 65 model features and the 12 book features)",
    )
    p.add_argument("--session-open", metavar="HH:MM", help="regular-session open for every date")
    p.add_argument("--session-close", metavar="HH:MM", help="regular-session close for every date")
    p.add_argument("--tick-size", type=float, help="tick size (default: the log header's)")
    p.set_defaults(func=run_features)


def _error(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _is_event_log(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(EVENT_LOG_MAGIC)) == EVENT_LOG_MAGIC


class _Input:
    """The records of the input and what its header says, for either kind."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._log = None
        self._importer = None
        if _is_event_log(path):
            from quantumtrader.eventlog import read_event_log

            self._log = read_event_log(path)
            h = self._log.header
            self.kind = "event log"
            self.instrument, self.price_unit, self.tick_size = h.instrument, h.price_unit, h.tick_size
            self.qty_scale, self.source = h.qty_scale, h.source
            self.problem = f"tail ignored: {self._log.tail_reason}" if self._log.tail_reason else ""
        else:
            from quantumtrader.importers.profit_csv import ProfitCsvImporter

            self._importer = ProfitCsvImporter(path)
            h = self._importer.header()
            self.kind = "Profit CSV export"
            self.instrument, self.price_unit, self.tick_size = h.instrument, h.price_unit, h.tick_size
            self.qty_scale, self.source = h.qty_scale, h.source
            self.problem = ""

    def chunks(self) -> Iterator[np.ndarray]:
        if self._log is not None:
            yield self._log.events
        else:
            assert self._importer is not None
            yield from self._importer.events()

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
    from quantumtrader.features.drain import FeatureDrain
    from quantumtrader.features.engine_setup import SessionSetupError, build_engine, local_dates
    from quantumtrader.features.table import FeatureTableWriter

    schema = schema_for(args.feature_set)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        _error(f"no such directory for --out: {out_dir}")
        return 2
    try:
        source = _Input(args.input)
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    try:
        tick = args.tick_size if args.tick_size is not None else source.tick_size
        try:
            engine, params = build_engine(
                source.instrument,
                source.price_unit,
                tick,
                source.qty_scale,
                session_open=args.session_open,
                session_close=args.session_close,
            )
        except SessionSetupError as e:
            _error(e)
            return 2
        t0 = time.perf_counter()
        dates: set = set()
        table = FeatureTableWriter(
            args.out,
            schema,
            {"input": os.path.basename(args.input), "input_kind": source.kind, "source": source.source},
        )
        try:
            drain = FeatureDrain(engine, table=table)
            for chunk in source.chunks():
                dates |= _trade_dates(chunk, local_dates)
                drain.run_events(chunk)
            ordered = sorted(dates)
            table.close(
                {
                    "session": params.metadata(ordered),
                    "counters": engine.counters,
                    "dates": [d.isoformat() for d in ordered],
                }
            )
        except INPUT_ERRORS as e:
            table.abort()
            _error(f"{e} (nothing written)")
            return 1
        except BaseException:
            table.abort()
            raise
        seconds = time.perf_counter() - t0
        _report(args, source, schema, engine.counters, params, ordered, table.rows_written, seconds)
    finally:
        source.close()
    return 0


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
            f"{params.default_open}-{params.default_close} (option)"
            if params.hours_source == "option"
            else f"from calendar {params.calendar_version}"
        ),
        f"time            {seconds:.2f} s ({rows / seconds if seconds > 0 else 0:,.0f} rows/s)",
        *source.summary_lines(),
    ]
    if source.problem:
        lines.append(source.problem)
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
