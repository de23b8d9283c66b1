"""Training rows from the feature engine, and nothing else.

A model sees live exactly what it was trained on because both come from one
place: this module runs an event log or a Profit CSV export through the same
C drain loop as ``quantumtrader features`` and the live pipeline
(:mod:`quantumtrader.features.job`: same input reader, same engine set-up,
same session hours) and keeps, per feature row, the trade's time, number and
price beside the 77 features.  There is no second feature code anywhere.

:class:`InputRows` holds every row of one input in engine order; the
sampler, the labels and the cross-validation work on them
(:mod:`quantumtrader.models.training`).  ``session`` is the row's local date
(YYYYMMDD in the session time zone): the engine resets at a new local date,
and so must labels."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantumtrader.data.events import EventType
from quantumtrader.features.schema import FeatureSchema

BATCH_ROWS = 1 << 16


class TrainingDataError(ValueError):
    """The data cannot make a training or validation set (one line, for the CLI)."""


@dataclass
class InputRows:
    """Every feature row of one input, in the engine's order."""

    path: str
    kind: str  # "event log" or "Profit CSV export"
    instrument: str
    price_unit: float
    tick_size: float
    ts: np.ndarray  # int64 UTC ns of the trade
    trade_number: np.ndarray  # int64
    price: np.ndarray  # int64, price units
    session: np.ndarray  # int64 YYYYMMDD, local date of the row
    features: np.ndarray  # float64 (n, 77)
    session_parameters: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def has_book(self) -> bool:
        """True when book events reached the engine (the 12 book features mean something)."""
        return int(self.counters.get("book_events", 0)) > 0

    @property
    def dates(self) -> list[str]:
        return [f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" for d in np.unique(self.session)]

    def describe(self) -> dict[str, Any]:
        """What a bundle manifest records of this input."""
        dates = self.dates
        return {
            "file": os.path.basename(self.path),
            "kind": self.kind,
            "instrument": self.instrument,
            "rows": len(self),
            "first_date": dates[0] if dates else None,
            "last_date": dates[-1] if dates else None,
            "sessions": len(dates),
            "book": self.has_book,
        }


def local_yyyymmdd(ts: np.ndarray, zone: str) -> np.ndarray:
    """YYYYMMDD of each UTC ns timestamp in ``zone`` (the engine's own
    transition table, so a session boundary is where the engine resets)."""
    from quantumtrader.features.engine_setup import local_days

    civil = np.datetime64("1970-01-01", "D") + local_days(ts, zone).astype("timedelta64[D]")
    y = civil.astype("datetime64[Y]").astype(np.int64) + 1970
    m = civil.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (civil - civil.astype("datetime64[M]")).astype(np.int64) + 1
    return y * 10000 + m * 100 + d


def extract_rows(path: str) -> InputRows:
    """Every feature row of the event log or Profit CSV export at ``path``.
    Raises TrainingDataError (one line) for input the engine cannot use."""
    from quantumtrader.features.engine_setup import SessionSetupError
    from quantumtrader.features.job import (
        INPUT_ERRORS,
        FeatureInput,
        FeaturesFailed,
        check_result,
        set_up_engine,
    )
    from quantumtrader.progress import progress_bar
    from quantumtrader.qtcore.features import DRAIN_FULL, FeatureBatch

    try:
        source = FeatureInput(path)
    except INPUT_ERRORS as e:
        raise TrainingDataError(f"{path}: {e}") from None
    try:
        try:
            job = set_up_engine(source)
        except SessionSetupError as e:
            raise TrainingDataError(f"{path}: {e}") from None
        batch = FeatureBatch(BATCH_ROWS, 1)
        parts: list[tuple[np.ndarray, ...]] = []
        records = 0
        # an event log is known in full: at most one row per trade record, so the
        # rows go straight into arrays of that size (no second copy to join them)
        events = source.events
        cap = None if events is None else int(np.count_nonzero(events["type"] == EventType.TRADE))
        store = None if cap is None else (np.empty(cap, np.int64), np.empty(cap, np.int64),
                                          np.empty(cap, np.int64), np.empty((cap, 77)))
        filled = 0

        def take() -> None:
            nonlocal filled
            n = batch.rows
            if n and store is not None and filled + n <= len(store[0]):
                for dst, src in zip(store, (batch.ts, batch.trade_number, batch.price, batch.matrix),
                                    strict=True):
                    dst[filled:filled + n] = src[:n]
                filled += n
            elif n:
                parts.append((batch.ts[:n].copy(), batch.trade_number[:n].copy(), batch.price[:n].copy(),
                              batch.matrix[:n].copy()))
            batch.clear()

        desc = f"features {os.path.basename(path)}"
        try:
            with progress_bar(desc, None) as show:
                for chunk in source.chunks(show):
                    pos = 0
                    while True:
                        done, status = job.engine.drain(chunk, batch, pos)
                        pos += done
                        records += done
                        take()
                        if status != DRAIN_FULL:
                            break
            check_result(path, job.engine.counters, records)
        except FeaturesFailed as e:
            raise TrainingDataError(str(e)) from None
        except INPUT_ERRORS as e:
            raise TrainingDataError(f"{path}: {e}") from None
        if store is not None and not parts:
            ts, number, price, matrix = (a[:filled] for a in store)
        else:  # a stream (Profit CSV), or more rows than trade records (never, but never wrong)
            head = [tuple(a[:filled] for a in store)] if store is not None and filled else []
            chunks = head + parts
            ts, number, price, matrix = (
                (np.concatenate([p[i] for p in chunks]) for i in range(4)) if chunks
                else (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 77)))
            )
        session = local_yyyymmdd(ts, job.params.timezone)
        rows = InputRows(path, source.kind, source.instrument, source.price_unit, job.tick_size, ts, number,
                         price, session, matrix, counters=dict(job.engine.counters))
        dates = [dt.date.fromisoformat(d) for d in rows.dates]
        rows.session_parameters = job.params.metadata(dates)
        return rows
    finally:
        source.close()


def model_matrix(rows: InputRows, schema: FeatureSchema) -> np.ndarray:
    """The model's columns (the first ``len(schema)`` of the 77, in spec order)."""
    return rows.features[:, : len(schema)]


def check_book_for(rows: list[InputRows], schema: FeatureSchema) -> None:
    """A qt77 model needs book data: refuse inputs without it, naming them."""
    if schema.set_name != "qt77":
        return
    bookless = [r.path for r in rows if not r.has_book]
    if bookless:
        raise TrainingDataError(
            f"{', '.join(bookless)}: no book data (a Profit CSV export has none), so the 12 book features "
            "are empty: train a qt65 model from it (--set qt65), or use a recorded or synthetic event log "
            "with the book for qt77"
        )
