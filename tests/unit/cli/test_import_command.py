"""``quantumtrader import``, run as a user runs it (``quantumtrader.cli.main``):
the output never replaces an input, is replaced only whole, and appears only
for an import worth keeping; wrong or swapped files are named; numeric
options are checked with errors that name the option; Binance's price unit
comes from the data."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest
from command_support import unwritable_folder

from quantumtrader.cli import main
from quantumtrader.data.eventlog import read_event_log
from quantumtrader.data.events import EventType

DATA = Path(__file__).resolve().parents[2] / "data"  # tests/data
ETH_CAPTURE = DATA / "binance-usdm-ethusdt-sample.gz"  # made by tools/make_ethusdt_capture.py

ROW = "WDOFUT,20261113,{t},{n},{p},1,0,XP,BTG,AggressorBuyer,N\n"


def profit_csv(tmp_path: Path, rows: int = 50, name: str = "g.csv", bad: int = 0) -> Path:
    """An export of ``rows`` rows, the last ``bad`` of them with a price off WDO's grid."""
    lines = [ROW.format(t=f"10{i // 60 % 60:02d}{i % 60:02d}", n=i + 1,
                        p="5350.25" if i >= rows - bad else "5350") for i in range(rows)]  # fmt: skip
    path = tmp_path / name
    path.write_text("".join(lines))
    return path


def lobster_pair(tmp_path: Path) -> tuple[Path, Path]:
    m = tmp_path / "TEST_2012-06-21_34200000_57600000_message_1.csv"
    b = tmp_path / "TEST_2012-06-21_34200000_57600000_orderbook_1.csv"
    m.write_text("34200.0,1,1,100,1000000,1\n34200.5,1,2,50,1000500,-1\n34201.0,4,2,50,1000500,-1\n")
    b.write_text("9999999999,0,1000000,100\n1000500,50,1000000,100\n9999999999,0,1000000,100\n")
    return m, b


def only_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---- the output never destroys an input ------------------------------------


def test_out_naming_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    src = profit_csv(tmp_path)
    before = src.read_bytes()
    os.link(src, tmp_path / "same.csv")
    for out in (src, tmp_path / "." / "g.csv", tmp_path / "same.csv"):
        assert main(["import", "profit-csv", str(src), "--out", str(out)]) == 2
        assert "also an input" in one_line_error(capsys.readouterr().err)
        assert src.read_bytes() == before
    m, b = lobster_pair(tmp_path)
    for out in (m, b):
        assert main(["import", "lobster", str(m), str(b), "--out", str(out)]) == 2
        assert "also an input" in one_line_error(capsys.readouterr().err)
    assert m.read_text().startswith("34200.0,1,1") and b.read_text().startswith("9999999999")
    assert main(["import", "binance", str(ETH_CAPTURE), "--out", str(ETH_CAPTURE)]) == 2
    assert "also an input" in one_line_error(capsys.readouterr().err)


def test_agents_dictionary_is_an_input_too(tmp_path, capsys):
    src = profit_csv(tmp_path)
    agents = tmp_path / "agents.json"
    agents.write_text('["XP"]')
    assert main(["import", "profit-csv", str(src), "--out", str(agents), "--agents", str(agents)]) == 2
    assert agents.read_text() == '["XP"]'


def test_a_failed_import_keeps_the_old_log_and_leaves_nothing_else(tmp_path, capsys):
    src = profit_csv(tmp_path, rows=10)
    out = tmp_path / "x.qtlog"
    assert main(["import", "profit-csv", str(src), "--out", str(out)]) == 0
    old = out.read_bytes()
    bad = profit_csv(tmp_path, rows=10, bad=5, name="bad.csv")
    assert main(["import", "profit-csv", str(bad), "--out", str(out)]) == 1
    capsys.readouterr()
    assert out.read_bytes() == old
    assert only_files(tmp_path) == ["bad.csv", "g.csv", "x.qtlog"]
    # a good import replaces it whole
    assert main(["import", "profit-csv", str(profit_csv(tmp_path, rows=20)), "--out", str(out)]) == 0
    with read_event_log(out) as log:
        assert np.count_nonzero(log.events["type"] == EventType.TRADE) == 20


def test_an_import_of_nothing_fails_and_writes_nothing(tmp_path, capsys):
    src = profit_csv(tmp_path, rows=5)
    out = tmp_path / "x.qtlog"
    # every row belongs to another ticker than the one asked for: nothing to import
    assert main(["import", "profit-csv", str(src), "--ticker", "WDOF27", "--out", str(out)]) == 1
    err = one_line_error(capsys.readouterr().err)
    assert "no trade and no book event" in err and "nothing written" in err
    assert not out.exists() and only_files(tmp_path) == ["g.csv"]


def test_unwritable_out_is_one_line_and_leaves_nothing(tmp_path, capsys):
    src = profit_csv(tmp_path)
    folder = unwritable_folder(tmp_path)
    out = folder / "x.qtlog"
    assert main(["import", "profit-csv", str(src), "--out", str(out)]) in (1, 2)
    line = one_line_error(capsys.readouterr().err)
    assert str(out) in line and ".partial" not in line
    assert not out.exists() and not list(folder.glob(".x.qtlog.partial-*"))
    missing = tmp_path / "no-such-folder" / "x.qtlog"
    assert main(["import", "profit-csv", str(src), "--out", str(missing)]) == 2
    assert "does not exist" in one_line_error(capsys.readouterr().err)


# ---- too many bad rows is a failure, a few are reported ---------------------


def test_losing_more_than_the_allowed_share_of_rows_fails(tmp_path, capsys):
    src = profit_csv(tmp_path, rows=2000, bad=1)  # 0.05 %: reported, kept
    out = tmp_path / "x.qtlog"
    assert main(["import", "profit-csv", str(src), "--out", str(out)]) == 0
    assert "bad rows        1" in capsys.readouterr().out and out.exists()
    src = profit_csv(tmp_path, rows=2000, bad=3, name="h.csv")  # 0.15 %: more than 0.1 %
    out2 = tmp_path / "y.qtlog"
    assert main(["import", "profit-csv", str(src), "--out", str(out2)]) == 1
    err = one_line_error(capsys.readouterr().err)
    assert "3 of 2,000 data rows are bad (0.15%" in err and "--max-bad-share" in err
    assert "price off the price-unit grid" in err and "--price-unit" in err
    assert not out2.exists()
    assert main(["import", "profit-csv", str(src), "--out", str(out2), "--max-bad-share", "0.01"]) == 0
    assert out2.exists()


def test_rows_of_another_ticker_are_not_a_loss(tmp_path, capsys):
    src = tmp_path / "two.csv"
    src.write_text(ROW.format(t="100000", n=1, p="5350") + ROW.format(t="100001", n=2, p="5350")
                   .replace("WDOFUT", "WDOF27") * 10)  # fmt: skip
    assert main(["import", "profit-csv", str(src), "--out", str(tmp_path / "x.qtlog")]) == 0
    # the loss is named by its own reason, not by the (larger) count of deselected rows
    src.write_text(src.read_text() + ROW.format(t="100002", n=3, p="5350.25"))
    assert main(["import", "profit-csv", str(src), "--out", str(tmp_path / "y.qtlog")]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "1 of 12 data rows are bad" in line and "most of them price off the price-unit grid" in line


# ---- the wrong file is named -----------------------------------------------


def test_profit_csv_refuses_a_binance_or_lobster_file(tmp_path, capsys):
    out = tmp_path / "x.qtlog"
    m, b = lobster_pair(tmp_path)
    for path, looks in ((ETH_CAPTURE, "Binance capture"), (m, "LOBSTER message file"),
                        (b, "LOBSTER orderbook file")):  # fmt: skip
        assert main(["import", "profit-csv", str(path), "--out", str(out)]) == 2
        line = one_line_error(capsys.readouterr().err)
        assert "is not a Profit tick export" in line and looks in line and "ticker" not in line.split(":")[0]
        assert "unknown" not in line
    assert not out.exists()


def test_lobster_files_swapped_are_named(tmp_path, capsys):
    m, b = lobster_pair(tmp_path)
    out = tmp_path / "x.qtlog"
    assert main(["import", "lobster", str(b), str(m), "--out", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "swapped" in line and f"{b} is the orderbook file" in line and f"{m} the message file" in line
    assert not out.exists()
    assert main(["import", "lobster", str(m), str(b), "--out", str(out)]) == 0
    assert "trades 1" in capsys.readouterr().out


def test_lobster_refuses_other_files_and_deeper_books(tmp_path, capsys):
    m, b = lobster_pair(tmp_path)
    out = tmp_path / "x.qtlog"
    assert main(["import", "lobster", str(m), str(profit_csv(tmp_path)), "--out", str(out)]) == 2
    assert "not a LOBSTER orderbook file" in one_line_error(capsys.readouterr().err)
    b.write_text("1000500,50,1000000,100,1000600,5,999900,7\n" * 3)
    assert main(["import", "lobster", str(m), str(b), "--out", str(out)]) == 2
    assert "level-2 orderbook" in one_line_error(capsys.readouterr().err)


def test_binance_refuses_a_profit_export(tmp_path, capsys):
    assert main(["import", "binance", str(profit_csv(tmp_path)), "--out", str(tmp_path / "x.qtlog")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "no Binance message" in line and "Profit tick export" in line


# ---- Binance: the price unit of the data ------------------------------------


def eth_lines() -> list[dict]:
    with gzip.open(ETH_CAPTURE, "rt") as f:
        return [json.loads(line.partition(" ")[2]) for line in f]


def test_ethusdt_price_unit_comes_from_the_data(tmp_path, capsys):
    out = tmp_path / "eth.qtlog"
    assert main(["import", "binance", str(ETH_CAPTURE), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bad rows        0" in text and "price unit      0.01 (from the data)" in text
    msgs = [m.get("data", m) for m in eth_lines()]
    trades = [m for m in msgs if m.get("e") == "trade"]
    with read_event_log(out) as log:
        assert (log.header.instrument, log.header.price_unit, log.header.tick_size) == ("ETHUSDT", 0.01, 0.01)
        got = log.events[log.events["type"] == EventType.TRADE]
        assert len(got) == len(trades) == 469
        assert got["price"].tolist() == [round(float(m["p"]) * 100) for m in trades]
        # most ETHUSDT prices need the second decimal: a 0.1 unit cannot hold them
        assert sum(round(float(m["p"]) * 100) % 10 != 0 for m in trades) == 351


def test_ethusdt_at_a_wrong_price_unit_fails_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "eth.qtlog"
    assert main(["import", "binance", str(ETH_CAPTURE), "--out", str(out), "--price-unit", "0.1"]) == 1
    captured = capsys.readouterr()
    err = one_line_error(captured.err)
    assert "586 of 3,000 data rows are bad" in err and "price unit 0.1 given: see --price-unit" in err
    assert "trade price not representable: 351" in captured.out  # the report says what was found
    assert not out.exists() and only_files(tmp_path) == []


def test_btcusdt_unit_from_the_data_is_0_1(tmp_path):
    from quantumtrader.data.importers.binance import BinanceImporter

    # a BTCUSDT capture prints "61800.20": trailing zeros do not make the unit finer
    line = {"e": "trade", "E": 1, "T": 1, "s": "BTCUSDT", "t": 1, "p": "61800.20", "q": "0.010", "m": False}
    path = tmp_path / "btc.txt"
    path.write_text("1000 " + json.dumps({"stream": "btcusdt@trade", "data": line}) + "\n")
    assert BinanceImporter(path).price_unit == 0.1
    assert BinanceImporter(path, price_unit=0.01).price_unit == 0.01


# ---- numeric options: checked, errors name the option ------------------------


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["profit-csv", "F", "--price-unit", "0"], "--price-unit"),
        (["profit-csv", "F", "--price-unit", "-0.5"], "--price-unit"),
        (["profit-csv", "F", "--tick-size", "nan"], "--tick-size"),
        (["profit-csv", "F", "--max-listed", "-1"], "--max-listed"),
        (["profit-csv", "F", "--max-bad-share", "2"], "--max-bad-share"),
        (["profit-csv", "F", "--ticker", ""], "--ticker"),
        (["binance", "F", "--price-unit", "0.5"], "--price-unit"),
        (["binance", "F", "--price-unit", "10"], "--price-unit"),
        (["binance", "F", "--qty-scale", "0"], "--qty-scale"),
        (["binance", "F", "--qty-scale", "0.01"], "--qty-scale"),
        (["binance", "F", "--max-bad-share", "-0.1"], "--max-bad-share"),
        (["lobster", "M", "B", "--date", "20121340"], "--date"),
        (["lobster", "M", "B", "--instrument", "X" * 80], "--instrument"),
        (["lobster", "M", "B", "--max-listed", "x"], "--max-listed"),
    ],
)
def test_bad_numbers_are_refused_naming_the_option(tmp_path, capsys, argv, flag):
    with pytest.raises(SystemExit) as exit_:
        main(["import", *argv, "--out", str(tmp_path / "x.qtlog")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and "Traceback" not in err
    assert only_files(tmp_path) == []


@pytest.mark.parametrize("fmt", ["profit-csv", "binance", "lobster"])
def test_help_lists_every_option(capsys, fmt):
    with pytest.raises(SystemExit) as exit_:
        main(["import", fmt, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--out" in text and "--max-bad-share" in text and "--max-listed" in text
