"""`quantumtrader record`: what the simulator plays ends up in daily event
logs, record for record; a slow disk shows as counted drops, never a stall.

Recording equals input: a synthetic log is played and recorded (run 1: the
simulator turns its L2 updates into the DLL's positional book actions and
adds tiny book, daily and phases, so run 1 is the DLL's view of the market);
run 1's log is then played and recorded again (run 2).  Run 2 must equal
its input, every record in order, comparing every field except ``seq``,
``recv_ns`` and ``crc`` (numbered, stamped and checksummed by the recorder)
and leaving out the CONN_STATE records of the session and the empty full
book the simulator sends when the price book is subscribed before the
replay starts (neither is an input event)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from profitdll_support import log_expectations, same_trades, tops_at_trades, trades_of

from quantumtrader.adapters.profitdll import recorder as recorder_module
from quantumtrader.cli import main
from quantumtrader.data.eventlog import EventLogWriter, read_event_log
from quantumtrader.data.events import EventFlag, EventType, GapReason
from quantumtrader.data.synth import write_synthetic_log

COMPARED = ("type", "flags", "instrument", "exch_ns", "price", "qty", "code", "side", "aux", "ref", "a", "b")


@pytest.fixture(scope="module")
def synth2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "wdo2.qtlog"
    write_synthetic_log(path, days=2, seed=9, signal=0.0, trades_per_day=400, levels=10)
    return path


def record(replay: Path, out: Path, capsys: pytest.CaptureFixture, *extra: str) -> str:
    rc = main(["record", "--venue", "sim", "--ticker", "WDO", "--out", str(out), "--replay", str(replay),
               *extra])
    text = capsys.readouterr().out
    assert rc == 0, text
    return text


def market(ev: np.ndarray) -> np.ndarray:
    return ev[ev["type"] != EventType.CONN_STATE]


def test_recording_equals_what_the_simulator_plays(synth2: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    exp = log_expectations(synth2)
    out1 = tmp_path / "run1"
    text = record(synth2, out1, capsys)
    days = sorted((out1 / "WDOZ26").glob("*.qtlog"))
    assert [d.name for d in days] == ["2026-11-03.qtlog", "2026-11-04.qtlog"]  # one log per day
    assert "ring drops 0" in text
    logs = [read_event_log(d) for d in days]
    rec1 = np.concatenate([lg.events for lg in logs])
    h = logs[0].header
    assert (h.instrument, h.price_unit, h.tick_size) == ("WDOZ26", 0.5, 0.5)
    assert h.source.startswith("profitdll-sim:")
    # run 1 against the synthetic input: same trades, same whole book at every trade
    same_trades(trades_of(rec1), exp["trades"])
    assert tops_at_trades(rec1, exp["tick_units"])["tops"] == exp["tops"]
    # every day's log is that day's: trades dated on it
    for lg, day in zip(logs, ("2026-11-03", "2026-11-04"), strict=True):
        t = trades_of(lg.events)
        assert len(t) and all(str(np.datetime64(int(x), "ns") - np.timedelta64(3, "h"))[:10] == day
                              for x in t["exch_ns"][[0, -1]])

    # run 2 plays run 1's first day: the recording equals its input
    out2 = tmp_path / "run2"
    record(days[0], out2, capsys)
    rec2 = read_event_log(out2 / "WDOZ26" / "2026-11-03.qtlog").events
    want, got = market(logs[0].events), market(rec2)
    prelude = got[: len(got) - len(want)]
    assert [int(t) for t in prelude["type"]] == [EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END]
    assert prelude[1]["flags"] & EventFlag.LAST
    body = got[len(prelude):]
    for f in COMPARED:
        np.testing.assert_array_equal(body[f], want[f], err_msg=f)
    assert len(want) > 10_000
    for lg in logs:
        lg.close()


class SlowDiskWriter(EventLogWriter):
    """An event log on a disk that takes 3 ms per write."""

    def append(self, events):
        import time

        time.sleep(0.003)
        super().append(events)


def test_a_slow_disk_shows_as_counted_drops_not_a_stall(synth2: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "EventLogWriter", SlowDiskWriter)
    text = record(synth2, tmp_path / "slow", capsys, "--ring", "1024")
    dropped = int(text.split("ring drops ")[1].split(",")[0])
    assert dropped > 0
    ev = np.concatenate([read_event_log(p).events for p in sorted((tmp_path / "slow" / "WDOZ26").glob("*"))])
    gaps = ev[ev["type"] == EventType.FEED_GAP]
    assert len(gaps) >= 1 and np.all(gaps["a"] == GapReason.RING_FULL)
    # the gaps in the log account for the drops (the last ones may have had no record after them)
    assert 0 < gaps["qty"].sum() <= dropped
    # records were lost, not waited for: the command returned because the
    # simulator played the whole log while the writer was behind
    assert len(trades_of(ev)) < len(log_expectations(synth2)["trades"])


# ------------------------------------------------ what a new user hit (issue 8)


def _error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [x for x in err.splitlines() if x.strip() and " INFO " not in x]
    return line


def test_the_ticker_comes_from_the_log_and_another_instrument_is_refused(synth2: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture):
    out = tmp_path / "rec"
    rc = main(["record", "--venue", "sim", "--ticker", "WIN", "--out", str(out), "--replay", str(synth2)])
    assert rc == 2 and not out.exists()
    line = _error_line(capsys)
    assert "--ticker WIN is not the instrument of" in line and "WDO" in line
    assert main(["record", "--venue", "sim", "--out", str(out), "--replay", str(synth2)]) == 0
    (folder,) = out.iterdir()
    assert folder.name.startswith("WDO")  # the contract current on the log's first day
    with read_event_log(synth2) as played:
        trades = int(np.count_nonzero(played.events["type"] == EventType.TRADE))
    recorded = 0
    for f in sorted(folder.iterdir()):
        with read_event_log(f) as lg:
            recorded += int(np.count_nonzero(lg.events["type"] == EventType.TRADE))
    assert recorded == trades


@pytest.mark.parametrize("duration", ["-5", "0", "nan"])
def test_a_duration_that_is_not_positive_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                    duration: str):
    with pytest.raises(SystemExit) as exit_:
        main(["record", "--venue", "profit", "--ticker", "WDO", "--out", str(tmp_path), "--duration",
              duration])
    assert exit_.value.code == 2
    assert "--duration" in capsys.readouterr().err


@pytest.mark.parametrize("venue", ["profitdll", "profit"])  # profit: the old name, an alias
def test_an_unwritable_out_is_refused_before_the_library_or_a_login(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture, venue: str):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    # --venue profitdll: no ProfitDLL on this machine, so reaching the library would say so instead
    for out in (a_file, a_file / "sub"):
        rc = main(["record", "--venue", venue, "--ticker", "WDO", "--out", str(out),
                   "--dll", str(tmp_path / "ProfitDLL64.dll")])
        assert rc == 2
        line = _error_line(capsys)
        assert line.startswith("quantumtrader record: error: --out") and "ProfitDLL" not in line


def test_clean_synthetic_logs_record_no_invalid_record(synth2: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    """A clean WIN day and a second WDO day used to report thousands of records "invalid (kept,
    flagged)": the simulator's synthesized daily limits (reference +- 10 %) were off the tick grid,
    so every NewDaily's DAILY_LIMITS record was flagged.  Limits are prices: whole ticks."""
    text = record(synth2, tmp_path / "wdo", capsys)
    assert "invalid (kept, flagged) 0" in text
    win = tmp_path / "win.qtlog"
    write_synthetic_log(win, days=1, seed=4, signal=0.0, instrument="WINFUT", trades_per_day=300, levels=10)
    rc = main(["record", "--venue", "sim", "--ticker", "WIN", "--out", str(tmp_path / "win"), "--replay",
               str(win)])
    text = capsys.readouterr().out
    assert rc == 0 and "invalid (kept, flagged) 0" in text, text
    ev = read_event_log(next((tmp_path / "win" / "WINZ26").glob("*.qtlog"))).events
    limits = ev[ev["type"] == EventType.DAILY_LIMITS]
    assert len(limits) > 100 and not np.any(limits["flags"] & EventFlag.INVALID)
    assert np.all(limits["price"] > limits["ref"])  # max above min, both prices of the grid


@pytest.mark.parametrize(("given", "venue"),
                         [("sim", "sim"), ("profitdll", "profitdll"), ("profit", "profitdll")])
def test_venue_values_and_the_old_name_profit(given: str, venue: str) -> None:
    from quantumtrader.cli import build_parser

    args = build_parser().parse_args(["record", "--venue", given, "--out", "x"])
    assert args.venue == venue


def test_an_unknown_venue_is_refused(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["record", "--venue", "nelogica", "--out", "x"])
    assert exit_.value.code == 2
    assert "--venue" in capsys.readouterr().err
