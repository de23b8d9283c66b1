"""The feature table of an event log or a Profit CSV export (the job of
``quantumtrader features``), one row per trade (``ts``, ``trade_number``, the
features of the set in spec order), computed by the same C drain loop as
live trading.  Steps: :func:`open_input` (checks the output too),
:func:`set_up_engine`, :func:`write_feature_table` (written aside, renamed
into place only when complete), :func:`report_lines`."""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantumtrader.data.book_capacity import book_capacity_for, tick_units_of
from quantumtrader.features.drain import FeatureDrain
from quantumtrader.features.engine_setup import build_engine, local_dates
from quantumtrader.features.schema import FeatureSchema
from quantumtrader.features.table import FeatureTableWriter
from quantumtrader.output_path import check_output
from quantumtrader.progress import progress_bar

EVENT_LOG_MAGIC = b"QTEVLOG\x00"
INPUT_ERRORS = (OSError, EOFError, ValueError, zlib.error)
CHUNK_RECORDS = 1 << 18  # a progress step; the engine keeps its state across chunks


class FeaturesFailed(Exception):
    """The job ran but its table would be worthless or wrong: nothing is written."""


def _is_event_log(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(EVENT_LOG_MAGIC)) == EVENT_LOG_MAGIC


class FeatureInput:
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


def open_input(path: str, out: str, price_unit: float | None = None,
               tick_size: float | None = None) -> FeatureInput:
    """Check ``out`` (never the input) and open the input, before minutes of
    work rather than after.  Raises OutputPathError or one of INPUT_ERRORS."""
    check_output(out, [path])
    return FeatureInput(path, price_unit, tick_size)


@dataclass
class FeatureJob:
    """The engine set up for one input: session parameters, tick, book size."""

    engine: Any
    params: Any
    tick_size: float
    book_capacity: int


def set_up_engine(source: FeatureInput, tick_size: float | None = None, session_open: str | None = None,
                  session_close: str | None = None, timezone: str | None = None) -> FeatureJob:
    """The feature engine for ``source``: tick size from the input unless
    given, book sized from a recorded stream.  Raises SessionSetupError."""
    tick = tick_size if tick_size is not None else source.tick_size
    units = tick_units_of(tick, source.price_unit) if tick > 0 and source.price_unit > 0 else 1
    # a recorded stream is known in full: the book holds its deepest side (book_capacity)
    capacity = book_capacity_for(source.events, units) if source.events is not None else 0
    engine, params = build_engine(
        source.instrument,
        source.price_unit,
        tick,
        source.qty_scale,
        session_open=session_open,
        session_close=session_close,
        timezone=timezone,
        source=source.source,
        book_capacity=capacity,
    )
    return FeatureJob(engine, params, tick, capacity)


@dataclass(frozen=True)
class FeatureTableResult:
    rows: int
    dates: list
    seconds: float


def write_feature_table(source: FeatureInput, job: FeatureJob, out: str, schema: FeatureSchema,
                        allow_book_rejects: bool = False) -> FeatureTableResult:
    """Drain the input through the engine into the Parquet table ``out``,
    written aside and renamed into place only when complete.  Raises
    FeaturesFailed (the table would be empty or wrong) or one of
    INPUT_ERRORS; nothing is written then."""
    engine, params = job.engine, job.params
    t0 = time.perf_counter()
    dates: set = set()
    check_output(out, [source.path])
    table = FeatureTableWriter(  # written aside, renamed in place by close()
        out,
        schema,
        {
            "input": os.path.basename(source.path),
            "input_kind": source.kind,
            "source": source.source,
        },
    )
    try:
        drain = FeatureDrain(engine, table=table)
        with progress_bar(f"features {os.path.basename(source.path)}", None) as show:
            for chunk in source.chunks(show):
                dates |= _trade_dates(chunk, lambda ts: local_dates(ts, params.timezone))
                drain.run_events(chunk)
        check_result(source.path, engine.counters, drain.records, allow_book_rejects)
        ordered = sorted(dates)
        table.close(
            {
                "session": params.metadata(ordered),
                "counters": engine.counters,
                "book_capacity": job.book_capacity or None,
                "dates": [d.isoformat() for d in ordered],
            }
        )
    except BaseException:
        table.abort()
        raise
    return FeatureTableResult(table.rows_written, ordered, time.perf_counter() - t0)


def check_result(input_path: str, counters: dict, records: int, allow_book_rejects: bool = False) -> None:
    """Raise FeaturesFailed when the table would be empty or computed from a
    book known to be wrong."""
    if counters["rows"] == 0:
        raise FeaturesFailed(
            f"{input_path}: no trade gave a feature row ({records:,} records, {counters['trades']:,} "
            f"trades, {counters['after_hours']:,} after-hours, {counters['invalid']:,} invalid)"
        )
    if counters["book_rejected"] and not allow_book_rejects:
        raise FeaturesFailed(
            f"the book refused {counters['book_rejected']:,} of {counters['book_records']:,} book records, "
            "so the book features are wrong from the first refusal (quantumtrader audit LOG names "
            "the book's problems; --allow-book-rejects writes the table anyway)"
        )


def report_lines(source: FeatureInput, schema: FeatureSchema, job: FeatureJob,
                 result: FeatureTableResult) -> list[str]:
    """What the job did, one line each (the command prints them indented)."""
    counters, params = job.engine.counters, job.params
    dates, rows, seconds = result.dates, result.rows, result.seconds
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
    return lines
