"""``quantumtrader features``, the feature tables it writes and the drain's audit log."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from feature_streams import NS, StreamBuilder, edge_case_sessions, local_ns
from reference.compare import compare_feature_rows, read_feature_csv
from shared_data import BINANCE_CAPTURE, GOLDEN, GOLDEN_FEATURES, GOLDEN_TRADES, SHARED, requires_shared

from quantumtrader.cli import main
from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.data.events import EventFlag, EventType
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.features import QT77_NAMES, schema_for
from quantumtrader.features.drain import FeatureDrain
from quantumtrader.features.engine_setup import build_engine, local_dates
from quantumtrader.features.table import FeatureTableWriter, read_feature_table
from quantumtrader.qtcore.features import FeatureEngine, tz_transitions
from quantumtrader.qtcore.ring import Ring


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
    from quantumtrader.data.eventlog import read_event_log

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
    argv = ["features", str(log), "--out", str(out), "--session-open", "09:00", "--session-close", "18:00"]
    # a 1.0 tick over 0.5 prices: the book refuses the levels off the tick, which fails loudly ...
    assert main([*argv, "--tick-size", "1.0"]) == 1 and not out.exists()
    assert "the book refused" in capsys.readouterr().err
    # ... unless asked to write anyway
    assert main([*argv, "--tick-size", "1.0", "--allow-book-rejects"]) == 0
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
    assert not out.exists() and not list(tmp_path.glob("*partial*")) and not list(tmp_path.glob(".*partial*"))
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


# ------------------------------------------------ what a new user hit (issue 8)


def _log(tmp_path, events, name="t.qtlog", **header) -> Path:
    path = tmp_path / name
    header = {"instrument": "WDOFUT", "price_unit": 0.5, "tick_size": 0.5, **header}
    with EventLogWriter(path, EventLogHeader(**header)) as w:
        w.append(events)
    return path


def _error_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.strip()]


def test_out_naming_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    log = tmp_path / "synth.qtlog"
    write_synthetic_log(log, 1, seed=3, signal=0.0, trades_per_day=300)
    before = log.read_bytes()
    assert main(["features", str(log), "--out", str(log)]) == 2
    (line,) = _error_lines(capsys)
    assert "also an input" in line
    link = tmp_path / "other-name.parquet"
    os.link(log, link)  # the same file under another name
    assert main(["features", str(log), "--out", str(link)]) == 2
    assert log.read_bytes() == before and link.read_bytes() == before


def test_a_failed_run_leaves_an_existing_table_and_no_partial_file(tmp_path, capsys):
    out = tmp_path / "kept.parquet"
    out.write_bytes(b"the previous table")
    b = StreamBuilder()  # book records only: no trade, no row
    b.levels(local_ns(2026, 11, 13, 10), [(0, 100, 5), (1, 102, 5)])
    log = _log(tmp_path, b.events())
    assert main(["features", str(log), "--out", str(out)]) == 1
    (line,) = _error_lines(capsys)
    assert "no trade gave a feature row" in line and "nothing written" in line
    assert out.read_bytes() == b"the previous table"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.parquet", "t.qtlog"]
    good = tmp_path / "good.qtlog"
    write_synthetic_log(good, 1, seed=3, signal=0.0, trades_per_day=300)
    assert main(["features", str(good), "--out", str(out)]) == 0
    assert read_feature_table(out).metadata["rows"] > 0  # replaced, whole
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_unwritable_out_is_one_line_before_any_work(tmp_path, capsys):
    log = tmp_path / "synth.qtlog"
    write_synthetic_log(log, 1, seed=3, signal=0.0, trades_per_day=300)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out in (a_file / "t.parquet", tmp_path / "missing" / "t.parquet", tmp_path):
        assert main(["features", str(log), "--out", str(out)]) == 2
        (line,) = _error_lines(capsys)
        assert line.startswith("quantumtrader features: error: --out")


def test_price_unit_is_accepted_as_its_own_error_message_asks(tmp_path, capsys):
    csv = tmp_path / "xyz.csv"
    rows = [f"XYZFUT,20261113,10{m:02d}00,{m + 1},12.34,1,0,XP,BTG,AggressorBuyer,N\n" for m in range(30)]
    csv.write_text("".join(rows))
    out = tmp_path / "xyz.parquet"
    hours = ["--session-open", "09:00", "--session-close", "18:00"]
    assert main(["features", str(csv), "--out", str(out), *hours]) == 2
    (line,) = _error_lines(capsys)
    assert "--price-unit" in line  # the message names the option ...
    argv = ["features", str(csv), "--out", str(out), *hours, "--price-unit", "0.01", "--tick-size", "0.01"]
    assert main(argv) == 0  # ... and the option exists
    table = read_feature_table(out)
    assert len(table.ts) == 30 and table.metadata["session"]["price_unit"] == 0.01
    log = _log(tmp_path, edge_case_sessions())
    assert main(["features", str(log), "--out", str(out), "--price-unit", "0.01"]) == 2
    (line,) = _error_lines(capsys)
    assert "differs from the log's 0.5" in line


@pytest.mark.parametrize(
    ("source", "zone", "open_", "close"),
    [
        ("binance:capture.gz", "UTC", "00:00:00", "24:00:00"),
        ("lobster:AMZN_message.csv", "America/New_York", "09:30:00", "16:00:00"),
    ],
)
def test_captures_of_other_venues_get_their_venue_hours(tmp_path, capsys, source, zone, open_, close):
    events = edge_case_sessions()
    log = _log(tmp_path, events, instrument="BTCUSDT", source=source)
    out = tmp_path / "t.parquet"
    assert main(["features", str(log), "--out", str(out)]) == 0
    assert f"{open_}-{close} {zone} (venue)" in capsys.readouterr().out
    session = read_feature_table(out).metadata["session"]
    assert (session["hours_source"], session["timezone"]) == ("venue", zone)
    assert (session["default_open"], session["default_close"]) == (open_, close)
    _, _, m = FeatureEngine(0.5, 0.5, 1.0, tz_transitions(zone), default_open=open_,
                            default_close=close).run(events)
    np.testing.assert_array_equal(read_feature_table(out).matrix, m)
    # explicit hours are read in the venue's zone unless --timezone says otherwise
    argv = ["features", str(log), "--out", str(out), "--session-open", "10:00", "--session-close", "11:00"]
    assert main(argv) == 0
    assert read_feature_table(out).metadata["session"]["timezone"] == zone
    assert main([*argv, "--timezone", "Asia/Tokyo"]) == 0
    assert read_feature_table(out).metadata["session"]["timezone"] == "Asia/Tokyo"
    assert main([*argv, "--timezone", "Mars/Olympus"]) == 2


def _deep_book(levels: int) -> np.ndarray:
    """A book of ``levels`` bids and asks built one exchange message per level from
    the worst in (a full side then refuses the best levels), then trades."""
    b = StreamBuilder()
    t = local_ns(2026, 11, 13, 10)
    for i in range(levels):
        d = 2 * (levels - 1 - i)
        b.levels(t + i, [(0, 10_000 - d, 1 + i % 7), (1, 10_002 + d, 1 + i % 5)])
    for k in range(50):
        b.trade(t + levels + k * NS, 10_000 if k % 2 else 10_002, code=3 if k % 2 else 2)
        b.levels(t + levels + k * NS + 1, [(k % 2, 10_000 + 2 * (k % 2), 3 + k)])
    return b.events()


def test_a_book_deeper_than_the_default_is_held_whole(tmp_path, capsys):
    events = _deep_book(5000)  # the Binance capture reaches about 5,200 levels a side
    log = _log(tmp_path, events)
    out = tmp_path / "deep.parquet"
    assert main(["features", str(log), "--out", str(out)]) == 0
    assert "(0 book records rejected)" in capsys.readouterr().out
    table = read_feature_table(out)
    assert table.metadata["counters"]["book_rejected"] == 0 and table.metadata["book_capacity"] == 5000
    sized = FeatureEngine(0.5, 0.5, book_capacity=5000)
    _, _, m = sized.run(events)
    np.testing.assert_array_equal(table.matrix, m)
    default = FeatureEngine(0.5, 0.5)  # what the command used to do: 4,096 levels
    _, _, wrong = default.run(events)
    assert default.counters["book_rejected"] >= 2 * (5000 - 4096)
    book = [QT77_NAMES.index(n) for n in ("book_imbalance_10", "ofi_10")]
    assert not np.array_equal(wrong[:, book], m[:, book], equal_nan=True)  # the test can fail


def test_features_from_a_book_that_refused_records_fail_loudly(tmp_path, capsys):
    b = StreamBuilder()
    t = local_ns(2026, 11, 13, 10)
    b.levels(t, [(0, 100, 5), (1, 102, 5)])
    b.levels(t + 1, [(0, 101, 5)])
    # a record its producer flagged invalid: the book refuses it
    b.rows.append((EventType.L2_LEVEL, int(EventFlag.LAST | EventFlag.INVALID), t + 2, 99, 5, 0, 0, 0, 0, 0))
    for k in range(5):
        b.trade(t + (k + 1) * NS, 102)
    log = _log(tmp_path, b.events())
    out = tmp_path / "t.parquet"
    assert main(["features", str(log), "--out", str(out)]) == 1
    (line,) = _error_lines(capsys)
    assert "the book refused 1 of 4 book records" in line and "--allow-book-rejects" in line
    assert not out.exists()
    assert main(["features", str(log), "--out", str(out), "--allow-book-rejects"]) == 0
    assert "WARNING: the book refused 1 records" in capsys.readouterr().out
    assert read_feature_table(out).metadata["counters"]["book_rejected"] == 1


@requires_shared(BINANCE_CAPTURE)
def test_the_binance_capture_one_book_one_answer(tmp_path, capsys):
    """The user's case: features of the imported capture refused 35,837 book records
    (a 4,096-level book) while replay refused none."""
    from quantumtrader.data.audit import audit_event_log

    log = tmp_path / "btc.qtlog"
    assert main(["import", "binance", str(SHARED / BINANCE_CAPTURE), "--out", str(log)]) == 0
    out = tmp_path / "btc.parquet"
    assert main(["features", str(log), "--out", str(out)]) == 0  # no --session-open needed: UTC day
    assert "(0 book records rejected)" in capsys.readouterr().out
    table = read_feature_table(out)
    replay = audit_event_log(log)
    assert replay.stats["book_rejects"] == 0 and table.metadata["counters"]["book_rejected"] == 0
    assert table.metadata["book_capacity"] == max(replay.deepest) > 4096
    assert table.metadata["counters"]["book_events"] == replay.stats["book_events"]
    assert table.metadata["session"]["timezone"] == "UTC" and len(table.ts) == replay.stats["trades"]


def test_an_out_that_cannot_be_written_is_named_not_its_partial_file(tmp_path, capsys):
    """A folder the access check lets through but the kernel refuses (root
    passes access(); /sys/kernel refuses file creation even to root)."""
    log = tmp_path / "s.qtlog"
    write_synthetic_log(log, days=1, seed=2, signal=0.0, trades_per_day=300, levels=10)
    out = "/sys/kernel/x.parquet"
    rc = main(["features", str(log), "--out", out])
    line = capsys.readouterr().err.strip()
    if os.geteuid() != 0:  # refused up front by the access check (exit 2), before any partial exists
        assert rc == 2 and f"--out {out}" in line
    else:
        assert rc == 1 and line.startswith(f"quantumtrader features: error: cannot write {out}:")
    assert ".partial" not in line and "\n" not in line
