"""The configuration of one training run: ``--config train.toml``.

Every section is optional; a missing key takes its default.  Unknown
sections or keys, wrong types and out-of-range values are refused with one
line naming the file and the key (``train.toml: [barriers] horizon_s: must be
a positive number``), never guessed around::

    feature_set = "qt77"          # or "qt65" (no book: Profit CSV exports)

    [sampler]                     # where the model acts (SamplerConfig)
    kind = "cusum"                # "cusum", "time" or "every"
    threshold = 3.0
    volatility_feature = "volatility_gk"
    interval_s = 60.0

    [barriers]                    # triple-barrier labels (BarrierConfig)
    profit_take = 1.5
    stop_loss = 1.5
    horizon_s = 900.0

    [model]                       # Random Forest + XGBoost (ModelConfig)
    rf_trees = 100
    xgb_trees = 200

    [cv]                          # purged walk-forward (CVConfig)
    n_splits = 5
    embargo_s = 600.0

    [evaluation]                  # trading evaluation of the out-of-fold signal
    min_confidence = 0.6
    capital_brl = 50000.0

A sweep file (``--sweep``) uses the same keys with lists under ``[grid]``."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from quantumtrader.config_file import ConfigError, read_toml, section
from quantumtrader.features.schema import FEATURE_SETS
from quantumtrader.models.estimators import ModelConfig
from quantumtrader.models.labels import BarrierConfig
from quantumtrader.models.sampler import SamplerConfig


@dataclass(frozen=True)
class CVConfig:
    n_splits: int = 5
    embargo_s: float = 600.0

    def __post_init__(self) -> None:
        if self.n_splits < 2:
            raise ValueError(f"n_splits must be at least 2 (got {self.n_splits})")
        if not (self.embargo_s >= 0 and math.isfinite(self.embargo_s)):
            raise ValueError(f"embargo_s must be >= 0 seconds (got {self.embargo_s!r})")


@dataclass(frozen=True)
class EvaluationConfig:
    # act on sell/buy only at this class probability or more: on a planted
    # signal, below 0.6 the extra trades are the marginal ones that lose the costs
    min_confidence: float = 0.6
    capital_brl: float = 50_000.0  # the base of the drawdown in the gate

    def __post_init__(self) -> None:
        if not (0 < self.min_confidence <= 1):
            raise ValueError(f"min_confidence must be in (0, 1] (got {self.min_confidence!r})")
        if not (self.capital_brl > 0 and math.isfinite(self.capital_brl)):
            raise ValueError(f"capital_brl must be a positive amount (got {self.capital_brl!r})")


SECTIONS: dict[str, type] = {
    "sampler": SamplerConfig,
    "barriers": BarrierConfig,
    "model": ModelConfig,
    "cv": CVConfig,
    "evaluation": EvaluationConfig,
}


@dataclass(frozen=True)
class TrainConfig:
    feature_set: str = "qt77"
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    barriers: BarrierConfig = field(default_factory=BarrierConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    cv: CVConfig = field(default_factory=CVConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "config") -> TrainConfig:
        """Build from a TOML-shaped dict; ConfigError names ``origin`` and the key."""
        unknown = sorted(set(data) - {"feature_set", *SECTIONS})
        if unknown:
            raise ConfigError(f"{origin}: unknown key {unknown[0]!r} (known: feature_set, "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)})")
        fs = data.get("feature_set", "qt77")
        if fs not in FEATURE_SETS:
            raise ConfigError(f"{origin}: feature_set: must be one of {', '.join(FEATURE_SETS)} (got {fs!r})")
        parts = {name: section(origin, name, typ, data.get(name, {})) for name, typ in SECTIONS.items()}
        return cls(feature_set=fs, **parts)

    def with_overrides(self, overrides: dict[str, Any], origin: str = "sweep") -> TrainConfig:
        """This configuration with nested ``overrides`` applied (a sweep's trial)."""
        merged = self.to_dict()
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return TrainConfig.from_dict(merged, origin)


def load_config(path: str | None) -> TrainConfig:
    """The configuration in the TOML file ``path`` (None: the defaults)."""
    if path is None:
        return TrainConfig()
    return TrainConfig.from_dict(read_toml(path), path)
