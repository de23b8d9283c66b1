"""The three classes of every model: index 0 sell, 1 hold, 2 buy.

Labels are the trading direction (-1, 0, +1); classes are the column index of
the probability arrays (n, 3).  ``label_to_class`` and ``class_to_label``
convert arrays (or scalars) and refuse anything outside the convention."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CLASSES: tuple[str, ...] = ("sell", "hold", "buy")
LABELS: tuple[int, ...] = (-1, 0, 1)


def label_to_class(y: npt.ArrayLike) -> np.ndarray:
    """Labels -1/0/+1 -> class indices 0/1/2 (int64); ValueError on another value."""
    a = np.asarray(y)
    if a.size and not np.isin(a, LABELS).all():
        bad = sorted({v.item() for v in np.unique(a[~np.isin(a, LABELS)])})[:5]
        raise ValueError(f"labels must be -1, 0 or 1; got {bad}")
    return a.astype(np.int64) + 1


def class_to_label(c: npt.ArrayLike) -> np.ndarray:
    """Class indices 0/1/2 -> labels -1/0/+1 (int64); ValueError on another value."""
    a = np.asarray(c)
    if a.size and not np.isin(a, (0, 1, 2)).all():
        bad = sorted({v.item() for v in np.unique(a[~np.isin(a, (0, 1, 2))])})[:5]
        raise ValueError(f"classes must be 0, 1 or 2; got {bad}")
    return a.astype(np.int64) - 1
