"""A plain-Python decision-point sampler written from the rule in the
issue 9 work plan ("Sampler"), to check the C one (src/qtcore/predict/
qt_sampler.c).  It shares no code with the engine: rows are walked one by
one with Python floats and ints.

- every: every row fires.
- cusum (threshold h, volatility column v, log-return column l):
  r = row[l]; r NaN: both sums back to 0, no fire.  Else
  s+ = max(0, s+ + r), s- = min(0, s- + r); sigma = row[v]; sigma NaN or
  <= 0: no fire, sums kept.  Else the row fires if s+ >= h*sigma (s+ back to
  0) or s- <= -h*sigma (s- back to 0): both sides are checked, once each.
- time (interval in ns): fires at the first row with ts >= next, then
  next = (ts // interval + 1) * interval; next starts at 0."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


class ReferenceSampler:
    def __init__(self, kind: str, threshold: float = 1.0, volatility_index: int = 8,
                 log_return_index: int = 17, interval_ns: int = 60_000_000_000) -> None:
        self.kind = kind
        self.h = float(threshold)
        self.v = volatility_index
        self.lr = log_return_index
        self.interval = int(interval_ns)
        self.s_pos = 0.0
        self.s_neg = 0.0
        self.next_ns = 0

    def step(self, row: Sequence[float], ts: int) -> bool:
        if self.kind == "every":
            return True
        if self.kind == "time":
            if ts < self.next_ns:
                return False
            self.next_ns = (ts // self.interval + 1) * self.interval
            return True
        r = float(row[self.lr])
        if math.isnan(r):
            self.s_pos = self.s_neg = 0.0
            return False
        self.s_pos = max(0.0, self.s_pos + r)
        self.s_neg = min(0.0, self.s_neg + r)
        sigma = float(row[self.v])
        if math.isnan(sigma) or sigma <= 0.0:
            return False
        limit = self.h * sigma
        fired = False
        if self.s_pos >= limit:
            self.s_pos = 0.0
            fired = True
        if self.s_neg <= -limit:
            self.s_neg = 0.0
            fired = True
        return fired

    def select(self, rows: Iterable[Sequence[float]], ts: Iterable[int]) -> list[bool]:
        return [self.step(row, int(t)) for row, t in zip(rows, ts, strict=True)]
