"""Latency per stage of the trading loop, kept as bounded histograms.

Every timestamp is read from one monotonic clock (the core's
``monotonic_ns``: the pipeline stamps its decision records with it and the
Python side reads the same clock), in integer nanoseconds.  The stages, in
the order a trade travels through them:

``callback_to_ring``  taken_ns - recv_ns: the record waiting in the market ring
``ring_to_features``  features_ns - taken_ns: decode, book and the 77 features
``prediction``        decided_ns - features_ns: the model (ensemble hook)
``decision_wake``     woken_ns - decided_ns: the decision ring until the Python
                      decision thread holds the record
``signal``            signal_ns - woken_ns: SignalEngine.decide
``risk``              risk_ns - signal_ns: the order request built and RiskEngine.check
``order_sent``        sent_ns - risk_ns: the intent journaled and the SendOrder
                      call until it returned
``tick_to_order``     sent_ns - recv_ns: the whole path, callback to order sent
``ack``               SendOrder return to the venue's acknowledgement (the
                      order thread measures it and calls ``add("ack", ns)``)

Memory is bounded whatever the session's length: each stage is a fixed
log-linear histogram (HDR style: below 2**7 ns one bucket per nanosecond,
above it 2**7 buckets per power of two), so a value is known to within
1/128 (0.8 %) of itself and the tail quantiles keep that precision
too, which a bounded random reservoir would not (p99.9 of a day's decisions
rests on a handful of samples).  Histograms merge exactly by adding counts
(several backtest days in parallel processes) and the JSON form holds the
non-empty buckets, so a round trip gives identical figures.  Count, min,
max and sum are exact; a percentile is the nearest-rank sample's bucket,
reported as its highest value clamped to the exact [min, max] (an upper
bound, never an optimistic figure).  Values from 2**40 ns (18 minutes) up
share the last bucket; their max stays exact.

``add_decision`` costs the decision thread one tuple append: the stamps
are held back and recorded in batches of 4096 decisions, and every read
(``percentiles``, ``stages``, ``to_json``, ``merge``) records them first.
A stage whose two timestamps are not both stamped (<= 0, e.g. a replay
without receive times, or None for a decision that sent no order) is not
recorded; a negative duration (clocks mixed up) is counted in ``dropped``
and not recorded.  ``add`` raises LatencyError (one line) for an unknown
stage.  Not thread-safe: the runner serialises calls (one lock), as it
does for every trading component.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "PERCENTILES", "STAGES", "SUB_BUCKET_BITS", "LatencyError", "LatencyRecorder", "StageHistogram",
]

STAGES: tuple[str, ...] = (
    "callback_to_ring", "ring_to_features", "prediction", "decision_wake", "signal", "risk",
    "order_sent", "tick_to_order", "ack",
)
#: The quantiles a summary reports, as (key, quantile).
PERCENTILES: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p99", 0.99), ("p999", 0.999))

SUB_BUCKET_BITS = 7
_SUB = 1 << SUB_BUCKET_BITS
_MAX_BITS = 40
_N_BUCKETS = (_MAX_BITS - SUB_BUCKET_BITS + 1) * _SUB
_FORMAT = "log-linear histogram v1"


class LatencyError(ValueError):
    """An unknown stage or a malformed latency JSON; one line."""


def bucket_index(ns: int) -> int:
    """The histogram bucket of a duration ``ns`` >= 0."""
    if ns < _SUB:
        return ns
    octave = ns.bit_length() - 1 - SUB_BUCKET_BITS
    return min((octave + 1) * _SUB + (ns >> octave) - _SUB, _N_BUCKETS - 1)


def _bucket_indices(ns: np.ndarray) -> np.ndarray:
    values = ns.astype(np.int64)
    # frexp is exact for integers below 2**53: exponent == bit_length
    octave = np.maximum(np.frexp(values.astype(np.float64))[1].astype(np.int64) - 1 - SUB_BUCKET_BITS, 0)
    idx = np.where(values < _SUB, values, (octave + 1) * _SUB + (values >> octave) - _SUB)
    return np.minimum(idx, _N_BUCKETS - 1)


def bucket_bounds(idx: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest nanosecond value of bucket(s) ``idx``."""
    i = np.asarray(idx, dtype=np.int64)
    octave = np.maximum(i // _SUB - 1, 0)
    low = np.where(i < _SUB, i, (_SUB + i % _SUB) << octave)
    return low, low + (np.int64(1) << octave) - 1


class StageHistogram:
    """One stage's counts (fixed buckets) with its exact count, min, max, sum.

    The counts are a Python list: one sample costs a list increment, not a
    numpy scalar write (the decision thread records every decision)."""

    __slots__ = ("count", "counts", "dropped", "max", "min", "sum")

    def __init__(self) -> None:
        self.counts: list[int] = [0] * _N_BUCKETS
        self.count = 0
        self.min = 0
        self.max = 0
        self.sum = 0
        self.dropped = 0

    def add(self, ns: int) -> None:
        if ns < 0:
            self.dropped += 1
            return
        if ns < _SUB:
            self.counts[ns] += 1
        else:
            octave = ns.bit_length() - 1 - SUB_BUCKET_BITS
            self.counts[min((octave + 1) * _SUB + (ns >> octave) - _SUB, _N_BUCKETS - 1)] += 1
        if ns > self.max:
            self.max = ns
        if ns < self.min or not self.count:
            self.min = ns
        self.count += 1
        self.sum += ns

    def add_many(self, ns: np.ndarray) -> None:
        values = np.asarray(ns, dtype=np.int64).ravel()
        bad = values < 0
        self.dropped += int(bad.sum())
        values = values[~bad]
        if values.size == 0:
            return
        added = np.bincount(_bucket_indices(values), minlength=_N_BUCKETS)
        self.counts = (np.asarray(self.counts, dtype=np.int64) + added).tolist()
        lo, hi = int(values.min()), int(values.max())
        self.min = lo if self.count == 0 else min(self.min, lo)
        self.max = max(self.max, hi)
        self.count += int(values.size)
        self.sum += int(values.sum(dtype=np.int64))

    def merge(self, other: StageHistogram) -> None:
        if other.count:
            self.min = other.min if self.count == 0 else min(self.min, other.min)
            self.max = max(self.max, other.max)
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.count += other.count
        self.sum += other.sum
        self.dropped += other.dropped

    def quantile(self, q: float) -> int | None:
        """The nearest-rank ``q`` quantile (see the module docstring); None when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        idx = int(np.searchsorted(np.cumsum(np.asarray(self.counts, dtype=np.int64)), rank))
        high = self.max if idx == _N_BUCKETS - 1 else int(bucket_bounds(idx)[1])
        return max(self.min, min(high, self.max))

    def summary(self) -> dict[str, int | float | None]:
        """p50, p99, p999, max, count (ns; None when empty), plus min, mean, dropped."""
        out: dict[str, int | float | None] = {k: self.quantile(q) for k, q in PERCENTILES}
        empty = self.count == 0
        out.update(max=None if empty else self.max, count=self.count, min=None if empty else self.min,
                   mean=None if empty else self.sum / self.count, dropped=self.dropped)
        return out

    def nonempty(self) -> tuple[np.ndarray, np.ndarray]:
        """Indices and counts of the buckets that hold samples."""
        counts = np.asarray(self.counts, dtype=np.int64)
        idx = np.flatnonzero(counts)
        return idx, counts[idx]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StageHistogram):
            return NotImplemented
        return (self.count, self.min, self.max, self.sum, self.dropped) == (
            other.count, other.min, other.max, other.sum, other.dropped
        ) and self.counts == other.counts

    __hash__ = None  # type: ignore[assignment]  # mutable


_RECORD_FIELDS = ("recv_ns", "taken_ns", "features_ns", "decided_ns")
# Decisions are held back as tuples of stamps and recorded in batches of
# this many: a decision then costs the decision thread a tuple append.
_PENDING = 4096
# (stage, start, end): indices into the held-back stamps (recv, taken,
# features, decided, woken, signal, risk, sent)
_SPANS: tuple[tuple[str, int, int], ...] = (
    ("callback_to_ring", 0, 1), ("ring_to_features", 1, 2), ("prediction", 2, 3), ("decision_wake", 3, 4),
    ("signal", 4, 5), ("risk", 5, 6), ("order_sent", 6, 7), ("tick_to_order", 0, 7),
)


class LatencyRecorder:
    """Histograms of every stage of ``STAGES`` (see the module docstring)."""

    def __init__(self, receive_clock: bool = True) -> None:
        """``receive_clock``: False when the records' recv_ns are not this
        process's clock (a log replayed with ``Pipeline.run_events`` keeps
        the capture's receive times): callback_to_ring and tick_to_order are
        then not recorded rather than recorded wrong."""
        self.receive_clock = receive_clock
        self._stages: dict[str, StageHistogram] = {s: StageHistogram() for s in STAGES}
        self._pending: list[tuple[int, ...]] = []
        self._fields: dict[np.dtype, tuple[int, int, int, int]] = {}

    @property
    def stages(self) -> dict[str, StageHistogram]:
        """The histograms by stage, with every decision recorded so far."""
        self._flush()
        return self._stages

    def _stage(self, stage: str) -> StageHistogram:
        try:
            return self._stages[stage]
        except KeyError:
            raise LatencyError(f"unknown latency stage {stage!r} (stages: {', '.join(STAGES)})") from None

    def add(self, stage: str, ns: int) -> None:
        """One duration of ``stage`` in nanoseconds (negative: counted as dropped)."""
        self._stage(stage).add(int(ns))

    def add_many(self, stage: str, ns: Iterable[int] | np.ndarray) -> None:
        """Many durations of ``stage`` at once (a bench, a replayed session)."""
        self._stage(stage).add_many(np.fromiter(ns, dtype=np.int64) if not isinstance(ns, np.ndarray) else ns)

    def add_decision(self, rec: Any, woken_ns: int | None, signal_ns: int | None = None,
                     risk_ns: int | None = None, sent_ns: int | None = None) -> None:
        """The stages of one decision record (``DECISION_DTYPE``: recv_ns,
        taken_ns, features_ns, decided_ns) and of what the decision thread
        did with it: woken (got the record), signal (decide returned), risk
        (verdict), sent (SendOrder returned); None for a step not taken."""
        if isinstance(rec, np.void):  # one item() call: a quarter of the cost of four field reads
            fields = self._fields.get(rec.dtype) or self._learn(rec.dtype)
            values = rec.item()
            recv, taken, features, decided = (values[i] for i in fields)
        else:
            recv, taken, features, decided = (rec[k] for k in _RECORD_FIELDS)
        self._pending.append((recv, taken, features, decided, woken_ns or 0, signal_ns or 0, risk_ns or 0,
                              sent_ns or 0))
        if len(self._pending) >= _PENDING:
            self._flush()

    def _learn(self, dtype: np.dtype) -> tuple[int, int, int, int]:
        names = dtype.names or ()
        if any(k not in names for k in _RECORD_FIELDS):
            raise LatencyError(f"latency: a decision record needs the fields {', '.join(_RECORD_FIELDS)}")
        recv, taken, features, decided = (names.index(k) for k in _RECORD_FIELDS)
        self._fields[dtype] = (recv, taken, features, decided)
        return recv, taken, features, decided

    def _flush(self) -> None:
        """Move the decisions held back into the histograms, a stage at a time."""
        if not self._pending:
            return
        stamps = np.array(self._pending, dtype=np.int64)
        self._pending.clear()
        if not self.receive_clock:
            stamps[:, 0] = 0  # recv_ns: not stamped here
        for name, start, end in _SPANS:
            first, last = stamps[:, start], stamps[:, end]
            stamped = (first > 0) & (last > 0)  # <= 0: not stamped
            self._stages[name].add_many(last[stamped] - first[stamped])

    def percentiles(self, stage: str) -> dict[str, int | float | None]:
        """``{"p50", "p99", "p999", "max", "count", "min", "mean", "dropped"}`` in ns."""
        self._flush()
        return self._stage(stage).summary()

    def merge(self, other: LatencyRecorder) -> LatencyRecorder:
        """Add ``other``'s samples to this recorder (exact); returns self."""
        for stage, hist in other.stages.items():
            self._stage(stage).merge(hist)
        return self

    @property
    def total(self) -> int:
        return sum(h.count for h in self.stages.values())

    # ------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        """JSON data: per stage the exact figures, the summary (for readers;
        ignored when read back) and the non-empty buckets as [index, count]."""
        stages: dict[str, Any] = {}
        for stage, h in self.stages.items():
            idx, counts = h.nonempty()
            stages[stage] = {
                "count": h.count, "min": h.min, "max": h.max, "sum": h.sum, "dropped": h.dropped,
                "summary_ns": h.summary(),
                "buckets": [[int(i), int(c)] for i, c in zip(idx, counts, strict=True)],
            }
        return {"format": _FORMAT, "sub_bucket_bits": SUB_BUCKET_BITS, "unit": "ns", "stages": stages}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LatencyRecorder:
        """The recorder ``to_json`` wrote; LatencyError (one line) otherwise."""
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise LatencyError(f"latency: not a {_FORMAT!r} record")
        if data.get("sub_bucket_bits") != SUB_BUCKET_BITS:
            raise LatencyError(f"latency: sub_bucket_bits {data.get('sub_bucket_bits')!r}, "
                               f"this version reads {SUB_BUCKET_BITS}")
        stages = data.get("stages")
        if not isinstance(stages, Mapping):
            raise LatencyError("latency: missing stages")
        rec = cls()
        for stage, d in stages.items():
            h = rec._stage(str(stage))
            try:
                h.count, h.min, h.max, h.sum, h.dropped = (
                    _whole(d[k], f"{stage}.{k}") for k in ("count", "min", "max", "sum", "dropped")
                )
                for pair in d["buckets"]:
                    i, c = (_whole(v, f"{stage}.buckets") for v in pair)
                    if not 0 <= i < _N_BUCKETS:
                        raise LatencyError(f"latency: {stage}.buckets index {i} out of range")
                    h.counts[i] += c
            except (KeyError, TypeError, ValueError) as exc:
                if isinstance(exc, LatencyError):
                    raise
                raise LatencyError(f"latency: {stage}: malformed ({exc!s})") from None
            if sum(h.counts) != h.count:
                raise LatencyError(f"latency: {stage}: buckets hold {sum(h.counts)} samples, "
                                   f"count says {h.count}")
        return rec

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencyRecorder):
            return NotImplemented
        return self.stages == other.stages

    __hash__ = None  # type: ignore[assignment]  # mutable


def _whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LatencyError(f"latency: {where} is {value!r}, not a whole number >= 0")
    return value
