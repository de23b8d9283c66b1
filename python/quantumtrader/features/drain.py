"""The Python side of the drain loop.

The C loop (``FeatureEngine.drain`` / ``drain_ring``) takes every record,
updates the book and the features and calls the decision hook, without the
GIL; it stores feature vectors in a preallocated batch.  This class only
hands it the input (an event array, a mapped event log, the market ring) and
writes the filled batches to a feature table: every vector for a training
set, every N-th for the audit log of the live loop.  Without a table nothing
is stored at all, so the audit costs nothing when it is off."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from quantumtrader.features.table import FeatureTableWriter
from quantumtrader.qtcore.features import (
    DRAIN_CLOSED,
    DRAIN_DONE,
    DRAIN_FULL,
    DRAIN_IDLE,
    DRAIN_STATUS_NAMES,
    DRAIN_STOPPED,
    FeatureBatch,
    FeatureEngine,
)

DEFAULT_BATCH_ROWS = 1 << 16


class FeatureDrain:
    """Runs records through ``engine``.  ``table``: where kept vectors go
    (``every``: keep every N-th decision point, 1 = all).  ``hook``: a
    "qt_fe_hook" capsule called at every decision point (the predictor)."""

    def __init__(
        self,
        engine: FeatureEngine,
        *,
        table: FeatureTableWriter | None = None,
        every: int = 1,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        hook: object | None = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if batch_rows < 1:
            raise ValueError(f"batch_rows must be >= 1, got {batch_rows}")
        self.engine = engine
        self.table = table
        self.batch = FeatureBatch(batch_rows, every, hook=hook) if table else FeatureBatch(0, 0, hook=hook)
        self.records = 0

    def _flush(self) -> None:
        if self.table is not None and self.batch.rows:
            n = self.batch.rows
            self.table.write(self.batch.ts[:n], self.batch.trade_number[:n], self.batch.matrix[:n])
        self.batch.clear()

    def run_events(self, events: np.ndarray) -> str:
        """All of ``events`` (or until the hook stops the loop).  Returns the
        final status name: "done" or "stopped"."""
        pos = 0
        while True:
            done, status = self.engine.drain(events, self.batch, pos)
            pos += done
            self.records += done
            self._flush()
            if status != DRAIN_FULL:
                assert status in (DRAIN_DONE, DRAIN_STOPPED)
                return DRAIN_STATUS_NAMES[status]

    def run_ring(
        self, ring: object, *, timeout_s: float = 0.1, should_stop: Callable[[], bool] | None = None
    ) -> str:
        """Take records from the market ring until it is closed and empty, the
        hook stops the loop, or ``should_stop()`` (checked at every idle
        ``timeout_s``) says so.  Returns the final status name."""
        while True:
            done, status = self.engine.drain_ring(ring, self.batch, timeout_s=timeout_s)
            self.records += done
            if status == DRAIN_FULL:
                self._flush()
                continue
            if status == DRAIN_IDLE and not (should_stop and should_stop()):
                self._flush()  # a quiet moment: the audit log catches up
                continue
            self._flush()
            assert status in (DRAIN_CLOSED, DRAIN_STOPPED, DRAIN_IDLE)
            return DRAIN_STATUS_NAMES[status]
