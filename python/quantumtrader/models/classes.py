"""The three classes every model of this project predicts, in one order.

Probability arrays are float64 shaped (n, 3) in this order everywhere: the
triple-barrier labels, the estimators, the compiled ensemble (the C decision
record's ``output[0..2]``), the bundle manifest and the reports.  A label is
the side a trade should have taken: -1 sell, 0 hold (no barrier touched),
+1 buy; its class index is ``label + 1``."""

from __future__ import annotations

import numpy as np

CLASSES: tuple[str, ...] = ("sell", "hold", "buy")
LABELS: tuple[int, ...] = (-1, 0, 1)


def label_to_class(label: np.ndarray) -> np.ndarray:
    """-1/0/+1 labels -> class indexes 0/1/2 (int64)."""
    label = np.asarray(label)
    if label.size and (label.min() < -1 or label.max() > 1):
        raise ValueError("labels must be -1 (sell), 0 (hold) or +1 (buy)")
    return label.astype(np.int64) + 1


def class_to_label(cls: np.ndarray) -> np.ndarray:
    """Class indexes 0/1/2 -> -1/0/+1 labels (int8)."""
    cls = np.asarray(cls)
    if cls.size and (cls.min() < 0 or cls.max() > 2):
        raise ValueError("class indexes must be 0 (sell), 1 (hold) or 2 (buy)")
    return (cls.astype(np.int64) - 1).astype(np.int8)
