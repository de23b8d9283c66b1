"""Feature names, feature sets and the schema hash of spec ``qt-features/1``.

A model bundle records the feature set it was trained on, the names in
order and the schema hash; loading a model whose schema the engine does
not produce must be refused with an error that names what differs, never
silently predicted on (``/work/shared/spec/features.md``, "Feature sets and
schema")."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

SPEC_VERSION = "qt-features/1"

QT65_NAMES: tuple[str, ...] = (
    # Volatility (10)
    "volatility_10",
    "volatility_20",
    "volatility_50",
    "volatility_100",
    "volatility_ratio_10",
    "volatility_ratio_20",
    "volatility_ratio_50",
    "volatility_ratio_100",
    "volatility_gk",
    "bb_position",
    # Returns (10)
    "returns_1",
    "returns_2",
    "returns_5",
    "returns_10",
    "returns_20",
    "returns_50",
    "returns_100",
    "log_returns_1",
    "log_returns_5",
    "log_returns_20",
    # Order flow (8)
    "order_flow_imbalance_10",
    "order_flow_imbalance_20",
    "order_flow_imbalance_50",
    "order_flow_imbalance_100",
    "cumulative_signed_volume",
    "signed_volume",
    "volume_weighted_return",
    "agent_turnover",
    # Volume (8)
    "volume_ratio_20",
    "volume_ratio_50",
    "volume_ratio_100",
    "volume_zscore_20",
    "volume_zscore_50",
    "volume_zscore_100",
    "trade_intensity",
    "trade_intensity_ratio",
    # Technical (7)
    "ma_5_20_ratio",
    "ma_20_50_ratio",
    "momentum_5_20",
    "momentum_20_50",
    "sharpe_5",
    "sharpe_20",
    "time_normalized",
    # Microstructure (16)
    "top_buyer_0_active",
    "top_buyer_1_active",
    "top_buyer_2_active",
    "top_buyer_3_active",
    "top_buyer_4_active",
    "top_seller_0_active",
    "top_seller_1_active",
    "top_seller_2_active",
    "top_seller_3_active",
    "top_seller_4_active",
    "top_buyers_count",
    "top_sellers_count",
    "buyer_changed",
    "seller_changed",
    "is_buyer_aggressor",
    "is_seller_aggressor",
    # Temporal (6)
    "minute",
    "hour",
    "day_of_week",
    "is_opening_30min",
    "is_closing_30min",
    "is_lunch_hour",
)

BOOK_NAMES: tuple[str, ...] = (
    "spread",
    "spread_ticks",
    "microprice_dev",
    "book_imbalance_1",
    "book_imbalance_5",
    "book_imbalance_10",
    "depth_bid_5",
    "depth_ask_5",
    "ofi_10",
    "ofi_50",
    "ofi_100",
    "book_update_rate",
)

QT77_NAMES: tuple[str, ...] = QT65_NAMES + BOOK_NAMES

assert len(QT65_NAMES) == 65 and len(BOOK_NAMES) == 12
assert len(set(QT77_NAMES)) == 77

FEATURE_SETS: dict[str, tuple[str, ...]] = {"qt65": QT65_NAMES, "qt77": QT77_NAMES}


class SchemaMismatch(ValueError):
    """A feature vector layout differs from the one a model was trained on."""


def schema_hash(names: Iterable[str], spec_version: str = SPEC_VERSION) -> str:
    """sha256 hex of the spec version and the names joined by newlines (no trailing newline)."""
    text = "\n".join((spec_version, *names))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FeatureSchema:
    set_name: str
    names: tuple[str, ...]
    spec_version: str = SPEC_VERSION
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        if len(set(self.names)) != len(self.names):
            duplicated = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"feature schema {self.set_name!r} repeats names: {duplicated}")
        object.__setattr__(self, "hash", schema_hash(self.names, self.spec_version))

    def __len__(self) -> int:
        return len(self.names)

    def check_compatible(self, other: FeatureSchema | Iterable[str]) -> None:
        """Raise SchemaMismatch unless ``other`` lists exactly these names in this order
        (and, for a schema, under the same spec version).

        ``self`` is what is required (e.g. the model's schema); ``other`` is what is
        offered (e.g. what the engine produces)."""
        if isinstance(other, FeatureSchema):
            offered, offered_version = other.names, other.spec_version
        else:
            offered, offered_version = tuple(other), self.spec_version
        problems: list[str] = []
        if offered_version != self.spec_version:
            problems.append(f"spec version {offered_version!r} instead of {self.spec_version!r}")
        offered_set = set(offered)
        required_set = set(self.names)
        missing = [n for n in self.names if n not in offered_set]
        extra = [n for n in offered if n not in required_set]
        if missing:
            problems.append(f"missing features: {', '.join(missing)}")
        if extra:
            problems.append(f"extra features: {', '.join(extra)}")
        common_required = [n for n in self.names if n in offered_set]
        common_offered = [n for n in offered if n in required_set]
        if common_required != common_offered:
            offered_pos = {n: i for i, n in enumerate(common_offered)}
            reordered = [n for i, n in enumerate(common_required) if offered_pos[n] != i]
            problems.append(f"reordered features: {', '.join(reordered)}")
        if problems:
            raise SchemaMismatch(f"feature schema {self.set_name!r} not matched: " + "; ".join(problems))


def schema_for(set_name: str) -> FeatureSchema:
    """The schema of a named feature set of this spec version: ``qt65`` or ``qt77``."""
    try:
        names = FEATURE_SETS[set_name]
    except KeyError:
        raise ValueError(f"unknown feature set {set_name!r}; known: {', '.join(FEATURE_SETS)}") from None
    return FeatureSchema(set_name, names)
