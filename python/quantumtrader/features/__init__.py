"""Features of spec ``qt-features/1``: names, sets and schema."""

from quantumtrader.features.schema import (
    BOOK_NAMES,
    FEATURE_SETS,
    QT65_NAMES,
    QT77_NAMES,
    SPEC_VERSION,
    FeatureSchema,
    SchemaMismatch,
    schema_for,
    schema_hash,
)

__all__ = [
    "BOOK_NAMES",
    "FEATURE_SETS",
    "QT65_NAMES",
    "QT77_NAMES",
    "SPEC_VERSION",
    "FeatureSchema",
    "SchemaMismatch",
    "schema_for",
    "schema_hash",
]
