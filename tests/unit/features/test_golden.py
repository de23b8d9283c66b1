"""The reference implementation against the golden case of ``qt-features/1`` (feature set qt65).

The golden values come from an independent implementation of the spec; the
tolerance rules are those of ``/work/shared/spec/golden/README.md`` (see
``reference.compare``)."""

from __future__ import annotations

from datetime import time

import pytest
from reference import feature_reference
from reference.compare import compare_feature_rows, read_feature_csv
from reference.feature_reference import ReferenceFeatures
from reference.profit_export import read_profit_export
from shared_data import GOLDEN, GOLDEN_DIR, requires_shared

from quantumtrader.features import QT65_NAMES, schema_for

GOLDEN_QT65_HASH = "1ac4332b4b5a1afb66872262ea1dcb2eadc75fb4004aaf51d674319a4a5da2e4"

pytestmark = requires_shared(GOLDEN_DIR)


@pytest.fixture(scope="module")
def stream():
    return read_profit_export(GOLDEN / "golden_trades.csv")


@pytest.fixture(scope="module")
def expected():
    return read_feature_csv(GOLDEN / "golden_trades.features.csv")


def reference_rows(trades) -> list[list[float]]:
    engine = ReferenceFeatures(0.5, time(9, 0), time(18, 0), feature_set="qt65")
    return [engine.on_trade(t.ts, t.price, t.qty, t.buy_agent, t.sell_agent, t.trade_type) for t in trades]


def test_golden_stream_is_read_as_the_readme_says(stream, expected):
    assert stream.after_hours_dropped == 4
    assert len(stream.trades) == 1044 + 55
    # 16 broker names, one dictionary for both sides
    assert len(stream.agent_ids) == 16
    assert expected.names == QT65_NAMES
    assert schema_for("qt65").hash == GOLDEN_QT65_HASH
    assert [t.trade_number for t in stream.trades] == expected.trade_numbers
    assert [t.ts for t in stream.trades] == expected.ts
    # Fri 2026-11-13 09:00:00 local is 12:00:00 UTC (UTC-3)
    assert stream.trades[0].ts == 1_794_571_200 * 10**9


def test_reference_matches_golden_qt65(stream, expected):
    report = compare_feature_rows(
        expected.names, expected.rows, reference_rows(stream.trades), expected.trade_numbers
    )
    assert report.ok, report.summary()


def _rank_by_id(agents_and_qty):
    volume: dict = {}
    for agent, qty in agents_and_qty:
        volume[agent] = volume.get(agent, 0) + qty
    return sorted(volume, key=lambda agent: (-volume[agent], agent))


def test_golden_comparison_catches_a_wrong_tie_break(stream, expected, monkeypatch):
    """Breaking ranking ties by id instead of recency must show up, named per feature
    with its first row: the golden ties (Ativa/Orama, Nova/Clear) are there to catch it."""
    monkeypatch.setattr(feature_reference, "rank_agents", _rank_by_id)
    report = compare_feature_rows(
        expected.names, expected.rows, reference_rows(stream.trades), expected.trade_numbers
    )
    assert not report.ok
    assert set(report.mismatches) <= {
        f"top_{role}_{k}_active" for role in ("buyer", "seller") for k in range(5)
    }
    first = min(report.mismatches.values(), key=lambda m: m.first_row)
    assert first.first_label == expected.trade_numbers[first.first_row]
    assert "rows; first row" in report.summary()


def test_golden_comparison_catches_an_off_by_one_time_window(stream, expected, monkeypatch):
    monkeypatch.setattr(feature_reference, "TRADE_INTENSITY_SECONDS", 61)
    report = compare_feature_rows(
        expected.names, expected.rows, reference_rows(stream.trades), expected.trade_numbers
    )
    assert set(report.mismatches) == {"trade_intensity", "trade_intensity_ratio"}
    assert report.mismatches["trade_intensity"].count == len(stream.trades)
