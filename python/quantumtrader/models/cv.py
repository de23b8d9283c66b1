"""Purged walk-forward cross-validation with an embargo (after López de Prado, AFML ch. 7).

Contract of :class:`PurgedWalkForward`
--------------------------------------
A sample is a label with an interval ``[start_ns, exit_ns]`` (the decision time and
the time its triple barrier resolved; ``exit_ns >= start_ns``). The samples are
ordered by start time (stable for ties) and cut into ``n_splits + 1`` contiguous
blocks of as-equal-as-possible counts. Fold k = 1 .. n_splits, yielded in time order:

- test: the samples of block k; the test interval is
  ``[first start of block k, last exit of block k]``;
- train: samples of blocks 0 .. k-1 only (walk-forward: every training sample starts
  at or before the first test sample; nothing after the test block is ever trained on),
- purged: a training sample whose interval overlaps the test interval
  (``start <= test_end and exit >= test_start``) is dropped: its label was decided by
  prices inside the test period;
- embargoed: a sample that starts in ``(end_j, end_j + embargo_s]``, where ``end_j``
  is the last exit of a test block j, is dropped from every training set that would
  contain it.

What the embargo means in a walk-forward, exactly: fold j's own training set only holds
samples before test block j, so the embargo after block j never touches it; its only
effect is to remove the samples that start within ``embargo_s`` after each earlier test
block j < k from the training set of every later fold k. It does not protect any test
fold from leakage: training always precedes the test, the purge already drops every
label that reaches into the test block, and features with a look-back only reach
backwards, as they do live. The embargo exists in López de Prado's purged k-fold, where
training data follows the test block and the samples just after it carry the test
period's prices in their look-back features (rolling volatility, order-flow windows);
here it is kept with that definition, so that one ``embargo_s`` means the same gap in
every split the project uses, and it only costs training samples. ``embargo_s = 0``
(the default) turns it off and loses no protection in a walk-forward.

:meth:`PurgedWalkForward.split` computes every fold before yielding the first, and
raises a one-line ValueError when the samples are too few: fewer than
``n_splits + 1`` samples, or a fold left with fewer than ``min_train`` training
samples after the purge and the embargo.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["PurgedWalkForward"]

Split = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


class PurgedWalkForward:
    """Walk-forward folds in time order, purged of overlapping labels, with an embargo.

    ``n_splits`` >= 1 test folds; ``embargo_s`` >= 0 seconds; ``min_train`` >= 1, the
    fewest training samples a fold may keep after the purge and the embargo. Indices
    returned by :meth:`split` refer to the caller's order of ``start_ns``/``exit_ns``."""

    def __init__(self, n_splits: int = 5, embargo_s: float = 0.0, min_train: int = 20) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
            raise ValueError(f"n_splits must be an integer >= 1, got {n_splits!r}")
        if isinstance(min_train, bool) or not isinstance(min_train, (int, np.integer)) or min_train < 1:
            raise ValueError(f"min_train must be an integer >= 1, got {min_train!r}")
        if isinstance(embargo_s, bool) or not isinstance(embargo_s, (int, float)):
            raise ValueError(f"embargo_s must be a number of seconds, got {embargo_s!r}")
        if not math.isfinite(embargo_s) or embargo_s < 0:
            raise ValueError(f"embargo_s must be finite and >= 0, got {embargo_s!r}")
        self._n_splits = int(n_splits)
        self.embargo_s = float(embargo_s)
        self.min_train = int(min_train)

    @property
    def n_splits(self) -> int:
        return self._n_splits

    def get_n_splits(self) -> int:
        """scikit-learn's name for :attr:`n_splits`."""
        return self._n_splits

    def __repr__(self) -> str:
        return (
            f"PurgedWalkForward(n_splits={self._n_splits}, embargo_s={self.embargo_s}, "
            f"min_train={self.min_train})"
        )

    def split(self, start_ns: npt.ArrayLike, exit_ns: npt.ArrayLike) -> Iterator[Split]:
        """Yield ``(train_idx, test_idx)`` int64 index arrays, one pair per fold, in time order.

        Both arrays are sorted ascending by sample index. Raises ValueError (one line)
        on malformed intervals or too few samples (see the module docstring)."""
        return iter(self._folds(start_ns, exit_ns))

    def _folds(self, start_ns: npt.ArrayLike, exit_ns: npt.ArrayLike) -> list[Split]:
        start = np.asarray(start_ns)
        exit_ = np.asarray(exit_ns)
        if start.ndim != 1 or exit_.ndim != 1 or start.size != exit_.size:
            raise ValueError(
                f"start_ns and exit_ns must be 1-D of one length, got {start.shape}, {exit_.shape}"
            )
        for name, arr in (("start_ns", start), ("exit_ns", exit_)):
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"{name} must be integer ns, got dtype {arr.dtype}")
        start = start.astype(np.int64)
        exit_ = exit_.astype(np.int64)
        n = start.size
        blocks = self._n_splits + 1
        if n < blocks:
            raise ValueError(
                f"{n} labelled samples are too few for {self._n_splits} walk-forward folds "
                f"(need at least {blocks}; use more data or fewer folds)"
            )
        if np.any(exit_ < start):
            k = int(np.argmax(exit_ < start))
            raise ValueError(f"sample {k} exits before it starts ({int(exit_[k])} < {int(start[k])})")

        order = np.argsort(start, kind="stable")
        s_sorted, e_sorted = start[order], exit_[order]
        edges = np.linspace(0, n, blocks + 1).round().astype(np.int64)
        embargo_ns = round(self.embargo_s * 1e9)
        embargoed = np.zeros(n, dtype=np.bool_)  # in sorted order, grows with each test block
        folds: list[Split] = []
        for k in range(1, blocks):
            lo, hi = int(edges[k]), int(edges[k + 1])
            test_start = int(s_sorted[lo])
            test_end = int(e_sorted[lo:hi].max())
            candidates = np.arange(lo)
            overlaps = (s_sorted[:lo] <= test_end) & (e_sorted[:lo] >= test_start)
            keep = ~overlaps & ~embargoed[:lo]
            train = np.sort(order[candidates[keep]])
            test = np.sort(order[lo:hi])
            if train.size < self.min_train:
                raise ValueError(
                    f"fold {k} of {self._n_splits} keeps {train.size} training samples after the purge "
                    f"and embargo (minimum {self.min_train}); use more data or fewer folds"
                )
            folds.append((train.astype(np.int64), test.astype(np.int64)))
            if embargo_ns > 0:
                embargoed |= (s_sorted > test_end) & (s_sorted <= test_end + embargo_ns)
        return folds
