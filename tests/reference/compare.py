"""Compare feature vectors with expected ones under the golden tolerance rules.

Rules (``/work/shared/spec/golden/README.md``): NaN positions, 0/1 flags and counts
must match exactly; std-derived features to 1e-6 relative; every other value to
1e-9 relative.  Used to check the reference against the golden file and, later, the
C engine against the reference; the report gives per feature the number of
mismatching rows and the first one."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RELATIVE = 1e-9
STD_DERIVED_RELATIVE = 1e-6

# Integer-valued features: flags, counts, clock fields, signed volumes and depths.
EXACT_FEATURES = frozenset(
    [f"top_buyer_{k}_active" for k in range(5)]
    + [f"top_seller_{k}_active" for k in range(5)]
    + [
        "top_buyers_count",
        "top_sellers_count",
        "buyer_changed",
        "seller_changed",
        "is_buyer_aggressor",
        "is_seller_aggressor",
        "minute",
        "hour",
        "day_of_week",
        "is_opening_30min",
        "is_closing_30min",
        "is_lunch_hour",
        "cumulative_signed_volume",
        "signed_volume",
    ]
)
STD_DERIVED_FEATURES = frozenset(
    [f"volatility_{n}" for n in (10, 20, 50, 100)]
    + [f"volatility_ratio_{n}" for n in (10, 20, 50, 100)]
    + ["volatility_gk", "bb_position"]
    + [f"volume_zscore_{n}" for n in (20, 50, 100)]
    + ["sharpe_5", "sharpe_20"]
)


def relative_tolerance(name: str) -> float:
    """0 for exact features, else the relative tolerance of the feature's class."""
    if name in EXACT_FEATURES:
        return 0.0
    if name in STD_DERIVED_FEATURES:
        return STD_DERIVED_RELATIVE
    return RELATIVE


def values_match(expected: float, actual: float, rel: float, absolute: float = 0.0) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if expected == actual:
        return True
    return abs(expected - actual) <= max(rel * max(abs(expected), abs(actual)), absolute)


@dataclass
class FeatureMismatch:
    name: str
    count: int
    first_row: int  # index into the compared rows
    first_label: object  # e.g. the trade number of that row
    expected: float
    actual: float


@dataclass
class ComparisonReport:
    names: tuple[str, ...]
    rows: int
    mismatches: dict[str, FeatureMismatch] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def rows_of(self, name: str) -> int:
        return self.mismatches[name].count if name in self.mismatches else 0

    def summary(self) -> str:
        if self.ok:
            return f"all {len(self.names)} features match on {self.rows} rows"
        lines = [f"{len(self.mismatches)} of {len(self.names)} features differ on {self.rows} rows:"]
        for m in self.mismatches.values():
            lines.append(
                f"  {m.name}: {m.count} rows; first row {m.first_row} ({m.first_label}): "
                f"expected {m.expected!r}, got {m.actual!r}"
            )
        return "\n".join(lines)


def compare_feature_rows(
    names: Sequence[str],
    expected: Sequence[Sequence[float]],
    actual: Sequence[Sequence[float]],
    labels: Sequence[object] | None = None,
    *,
    relative: Mapping[str, float] | None = None,
    absolute: Mapping[str, float] | None = None,
) -> ComparisonReport:
    """Compare row by row, feature by feature, under each feature's tolerance.

    ``relative`` overrides the relative tolerance of named features (e.g. a
    signed volume that is not an integer once quantities are scaled);
    ``absolute`` gives named features an absolute floor, for values that
    cross zero through a cancellation the two sides round differently."""
    if len(expected) != len(actual):
        raise ValueError(f"{len(expected)} expected rows but {len(actual)} actual rows")
    names = tuple(names)
    report = ComparisonReport(names, len(expected))
    relative = relative or {}
    absolute = absolute or {}
    tolerances = [relative.get(n, relative_tolerance(n)) for n in names]
    floors = [absolute.get(n, 0.0) for n in names]
    for row, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if len(want) != len(names) or len(got) != len(names):
            raise ValueError(
                f"row {row}: {len(want)} expected / {len(got)} actual values, {len(names)} names"
            )
        for name, rel, floor, e, a in zip(names, tolerances, floors, want, got, strict=True):
            if values_match(e, a, rel, floor):
                continue
            if name in report.mismatches:
                report.mismatches[name].count += 1
            else:
                label = labels[row] if labels is not None else row
                report.mismatches[name] = FeatureMismatch(name, 1, row, label, e, a)
    return report


@dataclass(frozen=True)
class FeatureTable:
    names: tuple[str, ...]
    ts: list[int]
    trade_numbers: list[int]
    rows: list[list[float]]


def read_feature_csv(path: str | Path) -> FeatureTable:
    """A golden features file: ``ts,trade_number,<features...>``, NaN as an empty field."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header[:2] != ["ts", "trade_number"]:
            raise ValueError(f"{path}: header must start with ts,trade_number, got {header[:2]}")
        ts, numbers, rows = [], [], []
        for record in reader:
            ts.append(int(record[0]))
            numbers.append(int(record[1]))
            rows.append([math.nan if v == "" else float(v) for v in record[2:]])
    return FeatureTable(tuple(header[2:]), ts, numbers, rows)
