"""What the signal decides on: one decision point of the C pipeline, and the
agents' consensus next to it.

:class:`DecisionPoint` is one record of the pipeline's decision ring
(``DECISION_DTYPE``, or ``DECISION_VECTOR_DTYPE`` with the 77 features that
produced it; ``quantumtrader.qtcore.pipeline``), read by
:meth:`DecisionPoint.from_record`: the trade that triggered it (instrument,
trade number, exchange time, price in integer price units), the ensemble's
``output`` as (sell, hold, buy) probabilities, and the record's flags:
``D_HISTORY`` (a backfilled trade: never a reason to trade) and
``D_BOOK_SUSPECT`` (a feed gap since the last complete book).  The feature
vector is identified by the instrument and its ``row`` (rows of that
instrument in the pipeline, this one included: the row a replay of the same
log computes) and by the trade's ring ``seq``.

:class:`Consensus` is the agents' opinion (quantumtrader.agents):
(sell, hold, buy) probabilities, or ``None`` for "no opinion", with the
weights the agents that took part were combined with and each one's own
proposal, so a journaled decision says who said what.  It is checked when built: a
probability that is not a finite number in [0, 1], or a vector that does not
sum to 1, is refused with one line (:class:`ConsensusError`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "PROBABILITY_SUM_TOLERANCE",
    "Consensus",
    "ConsensusError",
    "DecisionPoint",
    "Probabilities",
    "probabilities_problem",
    "probability_list",
]

Probabilities = tuple[float, float, float]   # (sell, hold, buy)

# Tree ensembles' softmax sums to 1 within rounding; a vector off by more is
# not a probability vector (an unset output is all zeros).
PROBABILITY_SUM_TOLERANCE = 1e-6

# The decision record's flag bits (qt_pl_decision_flags, src/qtcore/pipeline/qt_pipeline.h),
# read from the compiled module when it is importable so the two cannot drift.
try:
    from quantumtrader.qtcore.pipeline import D_BOOK_SUSPECT, D_HISTORY
except ImportError:  # pragma: no cover - a build without the compiled core
    D_HISTORY, D_BOOK_SUSPECT = 1, 2


class ConsensusError(ValueError):
    """A consensus that is not a probability vector (one line)."""


def probabilities_problem(p: Any) -> str | None:
    """Why ``p`` is not a (sell, hold, buy) probability vector, or None."""
    try:
        values = [float(x) for x in p]
    except (TypeError, ValueError):
        return f"not a vector of numbers: {p!r}"
    if len(values) != 3:
        return f"needs 3 probabilities (sell, hold, buy), got {len(values)}"
    for name, x in zip(("sell", "hold", "buy"), values, strict=True):
        if not math.isfinite(x) or x < 0.0 or x > 1.0:
            return f"{name} probability {x!r} is not in [0, 1]"
    if abs(sum(values) - 1.0) > PROBABILITY_SUM_TOLERANCE:
        return f"probabilities sum to {sum(values)!r}, not 1"
    return None


@dataclass(frozen=True)
class DecisionPoint:
    decision_id: int          # the pipeline's decision_seq (1, 2, ... per pipeline)
    instrument_id: int
    ticker: str
    trade_number: int
    exch_ns: int              # the trade's exchange time, UTC ns
    price: int                # the trade's price, integer price units
    probabilities: Probabilities   # the model's (sell, hold, buy), as the record carries them
    book_suspect: bool
    history: bool
    features: np.ndarray | None    # the 77 features (a copy), or None without vectors
    recv_ns: int              # monotonic ns the callback received the trade
    row: int = 0              # feature vector id: the instrument's row in this pipeline
    seq: int = 0              # the trade record's ring sequence number

    @classmethod
    def from_record(cls, rec: np.void, ticker: str) -> DecisionPoint:
        """One decision record (``DECISION_DTYPE`` or ``DECISION_VECTOR_DTYPE``)."""
        names = rec.dtype.names or ()
        for need in ("decision_seq", "instrument", "flags", "trade_number", "exch_ns", "price",
                     "output", "recv_ns"):
            if need not in names:
                raise ValueError(f"not a decision record: no field {need!r}")
        flags = int(rec["flags"])
        out = rec["output"]
        features = np.array(rec["features"], dtype=np.float64) if "features" in names else None
        return cls(
            decision_id=int(rec["decision_seq"]), instrument_id=int(rec["instrument"]), ticker=ticker,
            trade_number=int(rec["trade_number"]), exch_ns=int(rec["exch_ns"]), price=int(rec["price"]),
            probabilities=(float(out[0]), float(out[1]), float(out[2])),
            book_suspect=bool(flags & D_BOOK_SUSPECT), history=bool(flags & D_HISTORY),
            features=features, recv_ns=int(rec["recv_ns"]),
            row=int(rec["row"]) if "row" in names else 0, seq=int(rec["seq"]) if "seq" in names else 0,
        )

    def record(self) -> dict[str, Any]:
        """The decision point as the journal stores it, JSON-able
        (probabilities as a [sell, hold, buy] list; the features, a BLOB, are
        left to :meth:`Signal.record` ``with_features``)."""
        return {
            "decision_id": self.decision_id, "ticker": self.ticker, "instrument_id": self.instrument_id,
            "feature_vector_id": {"instrument_id": self.instrument_id, "row": self.row, "seq": self.seq},
            "trade_number": self.trade_number, "exch_ns": self.exch_ns, "price": self.price,
            "recv_ns": self.recv_ns, "book_suspect": self.book_suspect, "history": self.history,
            "probabilities": probability_list(self.probabilities),
        }


@dataclass(frozen=True)
class Consensus:
    probabilities: Probabilities | None          # None: the agents have no opinion
    weights: Mapping[str, float] = field(default_factory=dict)   # agent -> weight it was given
    proposals: Mapping[str, Probabilities] = field(default_factory=dict)  # agent -> its own (sell, hold, buy)

    def __post_init__(self) -> None:
        if self.probabilities is not None:
            problem = probabilities_problem(self.probabilities)
            if problem:
                raise ConsensusError(f"consensus: {problem}")
            object.__setattr__(self, "probabilities", tuple(float(x) for x in self.probabilities))
        for name, w in self.weights.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                raise ConsensusError(f"consensus: weight of {name!r} must be a number >= 0 (got {w!r})")
        object.__setattr__(self, "weights", dict(self.weights))
        for name, p in self.proposals.items():
            problem = probabilities_problem(p)
            if problem:
                raise ConsensusError(f"consensus: proposal of {name!r}: {problem}")
        object.__setattr__(self, "proposals",
                           {k: tuple(float(x) for x in p) for k, p in self.proposals.items()})

    @property
    def has_opinion(self) -> bool:
        return self.probabilities is not None

    def record(self) -> dict[str, Any]:
        p = self.probabilities
        return {"probabilities": None if p is None else probability_list(p),
                "weights": {str(k): float(v) for k, v in self.weights.items()},
                "proposals": {str(k): probability_list(p) for k, p in self.proposals.items()}}


def probability_list(p: Probabilities) -> list[float | None]:
    """``[sell, hold, buy]`` for a JSON record (None for a value that is not
    a finite number: strict JSON has no NaN)."""
    return [float(x) if math.isfinite(x) else None for x in p]
