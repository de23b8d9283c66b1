"""``quantumtrader features``, the feature tables it writes and the drain's audit log."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from feature_streams import edge_case_sessions
from reference.compare import compare_feature_rows, read_feature_csv
from shared_data import GOLDEN, GOLDEN_FEATURES, GOLDEN_TRADES, requires_shared

from quantumtrader.cli import main
from quantumtrader.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.features import schema_for
from quantumtrader.features.drain import FeatureDrain
from quantumtrader.features.engine_setup import build_engine, local_dates
from quantumtrader.features.table import FeatureTableWriter, read_feature_table
from quantumtrader.qtcore.features import FeatureEngine
from quantumtrader.qtcore.ring import Ring
from quantumtrader.synth import write_synthetic_log


@requires_shared(GOLDEN_TRADES, GOLDEN_FEATURES)
def test_golden_export_to_a_qt65_table(tmp_path, capsys):
    out = tmp_path / "golden.parquet"
    argv = [
        "features",
        str(GOLDEN / "golden_trades.csv"),
        "--out",
        str(out),
        "--set",
        "qt65",
        "--session-open",
        "09:00",
        "--session-close",
        "18:00",
    ]
    assert main(argv) == 0
    assert "1,099 in 2 session(s)" in capsys.readouterr().out
    table = read_feature_table(out)
    expected = read_feature_csv(GOLDEN / "golden_trades.features.csv")
    assert table.names == expected.names
    assert table.metadata["set"] == "qt65" and table.metadata["spec_version"] == "qt-features/1"
    assert table.schema_hash == "1ac4332b4b5a1afb66872262ea1dcb2eadc75fb4004aaf51d674319a4a5da2e4"
    assert table.metadata["session"]["default_open"] == "09:00:00"
    np.testing.assert_array_equal(table.ts, expected.ts)
    np.testing.assert_array_equal(table.trade_number, expected.trade_numbers)
    report = compare_feature_rows(
        expected.names, expected.rows, table.matrix.tolist(), expected.trade_numbers
    )
    assert report.ok, report.summary()


def test_event_log_to_a_qt77_table_with_calendar_hours(tmp_path):
    log = tmp_path / "synth.qtlog"
    write_synthetic_log(log, 2, seed=2, signal=0.0, trades_per_day=800)
    out = tmp_path / "synth.parquet"
    assert main(["features", str(log), "--out", str(out)]) == 0
    table = read_feature_table(out)
    from quantumtrader.eventlog import read_event_log

    with read_event_log(log) as ev_log:
        events = np.array(ev_log.events)
        engine, params = build_engine("WDOFUT", 0.5, 0.5)
        ts, tn, m = engine.run(events)
    assert table.metadata["set"] == "qt77" and len(table.names) == 77
    np.testing.assert_array_equal(table.ts, ts)
    np.testing.assert_array_equal(table.trade_number, tn)
    np.testing.assert_array_equal(table.matrix, m)  # the batch is the same code: bit for bit
    session = table.metadata["session"]
    assert session["hours_source"] == "calendar" and session["calendar_version"] == params.calendar_version
    dates = local_dates(events["exch_ns"][events["type"] == 1])
    assert sorted(session["session_hours"]) == [d.isoformat() for d in dates] == table.metadata["dates"]
    assert table.metadata["counters"]["rows"] == len(ts)


def test_tick_size_option_and_unknown_instruments(tmp_path, capsys):
    log = tmp_path / "btc.qtlog"
    events = edge_case_sessions()
    with EventLogWriter(log, EventLogHeader(instrument="BTCUSDT", price_unit=0.5, tick_size=0.5)) as w:
        w.append(events)
    out = tmp_path / "btc.parquet"
    assert main(["features", str(log), "--out", str(out)]) == 2  # the calendar does not know it
    assert "--session-open" in capsys.readouterr().err and not out.exists()
    assert main(["features", str(log), "--out", str(out), "--session-open", "09:00"]) == 2
    assert (
        main(
            [
                "features",
                str(log),
                "--out",
                str(out),
                "--session-open",
                "09:00",
                "--session-close",
                "18:00",
                "--tick-size",
                "1.0",
            ]
        )
        == 0
    )
    table = read_feature_table(out)
    assert table.metadata["session"]["tick_size"] == 1.0
    _, _, m = FeatureEngine(1.0, 0.5).run(events)
    np.testing.assert_array_equal(table.matrix, m)
    j = table.names.index("spread_ticks")
    assert np.nanmax(table.matrix[:, j]) == np.nanmax(m[:, j]) and np.nanmin(table.matrix[:, j]) > 0


def test_bad_inputs_write_nothing(tmp_path, capsys):
    out = tmp_path / "x.parquet"
    assert main(["features", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    junk = tmp_path / "junk.qtlog"
    junk.write_bytes(b"QTEVLOG\x00" + b"\xff" * 100)
    assert main(["features", str(junk), "--out", str(out)]) == 2
    assert main(["features", str(junk), "--out", str(tmp_path / "no" / "x.parquet")]) == 2
    assert "error" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    with pytest.raises(SystemExit):
        main(["features", str(junk), "--out", str(out), "--set", "qt99"])


def test_a_failed_write_leaves_no_table(tmp_path):
    out = tmp_path / "t.parquet"
    with pytest.raises(RuntimeError), FeatureTableWriter(out, schema_for("qt65")) as w:
        w.write(np.zeros(2, np.int64), np.zeros(2, np.int64), np.zeros((2, 77)))
        raise RuntimeError("boom")
    assert not out.exists() and not list(tmp_path.iterdir())
    with pytest.raises(ValueError):
        FeatureTableWriter(out, schema_for("qt77")).write(
            np.zeros(2, np.int64), np.zeros(2, np.int64), np.zeros((2, 65))
        )


def test_audit_log_every_nth_vector_from_the_ring(tmp_path):
    """The live loop with the audit on: every 7th vector lands in the table, all of them
    in the engine; the same numbers as the batch run."""
    events = edge_case_sessions()
    _, tn_all, m_all = FeatureEngine(0.5, 0.5).run(events)
    ring = Ring(1 << 12)
    audit = FeatureTableWriter(tmp_path / "audit.parquet", schema_for("qt77"), {"every": 7})
    engine = FeatureEngine(0.5, 0.5)
    drain = FeatureDrain(engine, table=audit, every=7, batch_rows=16)
    raw = events.view(np.uint8)

    def produce() -> None:
        for start in range(0, len(events), 100):
            chunk = raw[start * 64 : (start + 100) * 64]
            while ring.push_bytes(chunk, batch=len(chunk) // 64) == 0:
                pass
        ring.close()

    producer = threading.Thread(target=produce)
    producer.start()
    assert drain.run_ring(ring, timeout_s=0.01) == "closed"
    producer.join()
    audit.close()
    table = read_feature_table(tmp_path / "audit.parquet")
    np.testing.assert_array_equal(table.trade_number, tn_all[::7])
    np.testing.assert_array_equal(table.matrix, m_all[::7])
    assert table.metadata["every"] == 7 and drain.records == len(events)
    # audit off: nothing kept, nothing written, the engine computes every vector all the same
    quiet = FeatureDrain(FeatureEngine(0.5, 0.5))
    assert quiet.run_events(events) == "done" and quiet.batch.capacity == 0
    assert quiet.engine.counters["rows"] == len(m_all)
