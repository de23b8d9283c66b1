"""Decision points: where a model acts.

The sampler is one C implementation (``src/qtcore/predict/qt_sampler.h``):
training selects its rows through :class:`quantumtrader.qtcore.predict.Sampler`
over the engine's feature rows, and the live drain loop runs the same code as
the filter of the decision hook, per instrument, on the same vectors.  Its
parameters travel in the model bundle, so live decisions happen exactly where
the training samples were taken.

Kinds: ``cusum`` (a symmetric CUSUM filter on the log trade price,
``log_returns_1``, firing when the cumulated move reaches ``threshold`` times
the volatility feature), ``time`` (the first trade of every ``interval_s``
seconds of exchange time) and ``every`` (every row)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from quantumtrader.features.schema import schema_for

SAMPLER_KINDS = ("cusum", "time", "every")
LOG_RETURN_FEATURE = "log_returns_1"


@dataclass(frozen=True)
class SamplerConfig:
    kind: str = "cusum"
    threshold: float = 3.0  # cusum: multiples of the volatility feature (3: a few per 10 minutes)
    volatility_feature: str = "volatility_gk"
    interval_s: float = 60.0  # time: seconds between decision points

    def __post_init__(self) -> None:
        if self.kind not in SAMPLER_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SAMPLER_KINDS)} (got {self.kind!r})")
        if not (self.threshold > 0 and np.isfinite(self.threshold)):
            raise ValueError(f"threshold must be a positive number (got {self.threshold!r})")
        if not (self.interval_s > 0 and np.isfinite(self.interval_s)):
            raise ValueError(f"interval_s must be a positive number of seconds (got {self.interval_s!r})")
        names = schema_for("qt77").names
        if self.volatility_feature not in names:
            raise ValueError(f"volatility_feature {self.volatility_feature!r} is not a feature of the engine")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def build(self) -> Any:
        """The C sampler (fresh state) for these parameters."""
        from quantumtrader.qtcore.predict import Sampler

        names = schema_for("qt77").names
        return Sampler(self.kind, threshold=self.threshold,
                       volatility_index=names.index(self.volatility_feature),
                       log_return_index=names.index(LOG_RETURN_FEATURE), interval_s=self.interval_s)

    def decision_points(self, features: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Row indexes where the sampler fires over one input's rows in order."""
        mask = self.build().select(np.ascontiguousarray(features, dtype=np.float64),
                                   np.ascontiguousarray(ts, dtype=np.int64))
        return np.flatnonzero(mask)
