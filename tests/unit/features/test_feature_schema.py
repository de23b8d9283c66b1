"""The feature schema of ``qt-features/1``: names, order, hash and the compatibility check."""

from __future__ import annotations

import hashlib

import pytest

from quantumtrader.features import (
    BOOK_NAMES,
    QT65_NAMES,
    QT77_NAMES,
    SPEC_VERSION,
    FeatureSchema,
    SchemaMismatch,
    schema_for,
)

# Stated in /work/shared/spec/golden/README.md
QT65_HASH = "1ac4332b4b5a1afb66872262ea1dcb2eadc75fb4004aaf51d674319a4a5da2e4"


def test_names_and_sets():
    assert SPEC_VERSION == "qt-features/1"
    assert len(QT65_NAMES) == 65 and len(BOOK_NAMES) == 12 and QT77_NAMES == QT65_NAMES + BOOK_NAMES
    assert QT65_NAMES[0] == "volatility_10" and QT65_NAMES[-1] == "is_lunch_hour"
    assert QT65_NAMES[43] == "top_buyer_0_active"  # feature 44 of the spec
    assert BOOK_NAMES[0] == "spread" and BOOK_NAMES[-1] == "book_update_rate"
    assert schema_for("qt77").names == QT77_NAMES


def test_schema_hash():
    assert schema_for("qt65").hash == QT65_HASH
    text = "qt-features/1\n" + "\n".join(QT77_NAMES)
    assert schema_for("qt77").hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert FeatureSchema("x", QT65_NAMES, "qt-features/2").hash != QT65_HASH


def test_compatible_schemas_pass():
    schema_for("qt65").check_compatible(schema_for("qt65"))
    schema_for("qt65").check_compatible(list(QT65_NAMES))


def test_mismatches_are_named():
    model = schema_for("qt65")
    with pytest.raises(SchemaMismatch, match=r"missing features: sharpe_20$"):
        model.check_compatible([n for n in QT65_NAMES if n != "sharpe_20"])
    with pytest.raises(SchemaMismatch, match=r"extra features: spread, spread_ticks"):
        model.check_compatible(schema_for("qt77"))
    swapped = list(QT65_NAMES)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(SchemaMismatch, match=r"reordered features: volatility_10, volatility_20$"):
        model.check_compatible(swapped)
    with pytest.raises(SchemaMismatch, match="spec version"):
        model.check_compatible(FeatureSchema("qt65", QT65_NAMES, "qt-features/2"))
    # an engine producing only 11 features (the original system's failure) is refused
    with pytest.raises(SchemaMismatch) as info:
        model.check_compatible(QT65_NAMES[:11])
    assert "volatility_gk" not in str(info.value) and "order_flow_imbalance_10" in str(info.value)
    assert issubclass(SchemaMismatch, ValueError)


def test_unknown_set_and_duplicate_names():
    with pytest.raises(ValueError, match="unknown feature set"):
        schema_for("qt11")
    with pytest.raises(ValueError, match="repeats"):
        FeatureSchema("bad", ("a", "b", "a"))
