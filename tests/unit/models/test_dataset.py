"""Training rows come from the feature engine and nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantumtrader.data.eventlog import read_event_log
from quantumtrader.data.events import EventType
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.features.schema import schema_for
from quantumtrader.features.table import read_feature_table
from quantumtrader.models.dataset import TrainingDataError, check_book_for, extract_rows, local_yyyymmdd


@pytest.fixture(scope="module")
def synth_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dataset") / "wdo.qtlog"
    write_synthetic_log(path, days=2, seed=11, signal=0.5, trades_per_day=900, levels=10)
    return path


def test_feature_vector_creation(synth_log: Path, tmp_path: Path) -> None:
    """The rows a model trains on equal, bit for bit, the table of `quantumtrader features`
    (the batch path, itself equal to the live pipeline's vectors), with each trade's price."""
    from quantumtrader.cli import main

    table_path = tmp_path / "features.parquet"
    assert main([ "features", str(synth_log), "--out", str(table_path)]) == 0
    table = read_feature_table(table_path)
    rows = extract_rows(str(synth_log))
    assert len(rows) == len(table.ts) > 1000
    np.testing.assert_array_equal(rows.ts, table.ts)
    np.testing.assert_array_equal(rows.trade_number, table.trade_number)
    assert rows.features.shape == (len(rows), 77)
    same = (rows.features == table.matrix) | (np.isnan(rows.features) & np.isnan(table.matrix))
    assert same.all()
    log = read_event_log(synth_log)
    try:
        trades = log.events[log.events["type"] == EventType.TRADE]
        np.testing.assert_array_equal(rows.price, trades["price"])  # synth: every trade gives a row
    finally:
        log.close()
    assert rows.has_book
    assert rows.instrument.startswith("WDO")
    assert len(np.unique(rows.session)) == 2
    assert rows.session_parameters["timezone"] == "America/Sao_Paulo"


def test_session_is_the_local_date() -> None:
    # 2026-11-03 02:30 UTC is 23:30 on the 2nd in Sao Paulo (UTC-3)
    ns = np.array([np.datetime64("2026-11-03T02:30:00", "ns").astype(np.int64),
                   np.datetime64("2026-11-03T03:30:00", "ns").astype(np.int64)])
    assert local_yyyymmdd(ns, "America/Sao_Paulo").tolist() == [20261102, 20261103]


def test_qt77_needs_book_data(synth_log: Path) -> None:
    rows = extract_rows(str(synth_log))
    rows.counters["book_events"] = 0  # as a Profit CSV export gives
    with pytest.raises(TrainingDataError, match="--set qt65"):
        check_book_for([rows], schema_for("qt77"))
    check_book_for([rows], schema_for("qt65"))


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.csv"
    bad.write_text("not,a,profit,export\n1,2,3\n", encoding="utf-8")
    with pytest.raises(TrainingDataError) as e:
        extract_rows(str(bad))
    assert "\n" not in str(e.value) and str(bad) in str(e.value)
    with pytest.raises(TrainingDataError):
        extract_rows(str(tmp_path / "absent.qtlog"))
