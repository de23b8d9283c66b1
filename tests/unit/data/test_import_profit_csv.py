"""Profit tick CSV import (C parser + streaming driver).

On the golden export (/work/shared/spec/golden/golden_trades.csv) we check,
against an independent reading with the ``csv`` module and ``zoneinfo``:
1,044 + 55 trades, 4 after-hours rows excluded, one SESSION record per date
before its first trade, the broker dictionary in first-seen order shared by
buyers and sellers, every trade's price units, qty, ref, agents and
trade-type code, and every timestamp, which must also equal the ``ts`` and
``trade_number`` columns of golden_trades.features.csv (made by an
independent reference implementation).  Small files written by the tests
cover each bad-row kind, chunk boundaries, DST, headers, gzip, dictionaries
and ordering."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from shared_data import GOLDEN_FEATURES as GOLDEN_FEATURES_PATH
from shared_data import GOLDEN_TRADES, SHARED, requires_shared

from quantumtrader.calendar import EXCHANGE_TZ
from quantumtrader.data.events import EVENT_DTYPE, PRICE_NONE, EventType
from quantumtrader.data.importers.job import read_agent_dictionary, write_agent_dictionary
from quantumtrader.data.importers.profit_csv import ProfitCsvImporter

GOLDEN = SHARED / GOLDEN_TRADES
GOLDEN_FEATURES = SHARED / GOLDEN_FEATURES_PATH
SP = ZoneInfo(EXCHANGE_TZ)
CODES = {
    "cross": 1, "aggressorbuyer": 2, "aggressorseller": 3, "auction": 4, "surveillance": 5, "expit": 6,
    "optionexercise": 7, "overthecounter": 8, "derivativeterm": 9, "index": 10, "btc": 11, "onbehalf": 12,
    "rlp": 13,
}  # fmt: skip

needs_golden = requires_shared(GOLDEN_TRADES, GOLDEN_FEATURES_PATH)


def run_import(path: Path, **kw) -> tuple[np.ndarray, ProfitCsvImporter]:
    imp = ProfitCsvImporter(path, **kw)
    chunks = list(imp.events())
    ev = np.concatenate(chunks) if chunks else np.empty(0, EVENT_DTYPE)
    return ev, imp


def utc_ns(date: str, hhmmss: str) -> int:
    local = datetime.strptime(date + hhmmss, "%Y%m%d%H%M%S").replace(tzinfo=SP)
    return int(local.timestamp()) * 1_000_000_000


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


ROW = "WDOFUT,{d},{t},{n},{p},{q},0,{b},{s},{ty},{aft}\n"


def row(n: int, d: str = "20261113", t: str = "100000", p: str = "5350", q: str = "1", b: str = "XP",
        s: str = "BTG", ty: str = "AggressorBuyer", aft: str = "N") -> str:  # fmt: skip
    return ROW.format(d=d, t=t, n=n, p=p, q=q, b=b, s=s, ty=ty, aft=aft)


@pytest.fixture(scope="module")
def golden():
    return run_import(GOLDEN)


@needs_golden
def test_golden_counts_sessions_and_stats(golden):
    ev, imp = golden
    trades = ev[ev["type"] == EventType.TRADE]
    sessions = ev[ev["type"] == EventType.SESSION]
    assert len(trades) == 1044 + 55
    assert imp.stats.after_hours == 4
    assert imp.stats.bad == 0 and imp.stats.out_of_order == 0
    assert imp.stats.rows == 1044 + 4 + 55
    assert imp.stats.trades == 1099 and imp.stats.sessions == 2 and imp.stats.events == len(ev) == 1101
    assert list(sessions["ref"]) == [20261113, 20261116]
    # a session record precedes its date's first trade and carries its time
    idx = np.flatnonzero(ev["type"] == EventType.SESSION)
    assert list(idx) == [0, 1 + 1044]
    assert ev["exch_ns"][idx[1]] == ev["exch_ns"][idx[1] + 1]
    assert (sessions["price"] == PRICE_NONE).all()
    assert list(ev["seq"]) == list(range(len(ev)))
    assert (ev["recv_ns"] == ev["exch_ns"]).all()
    assert imp.header().instrument == "WDOFUT" and imp.header().price_unit == 0.5


@needs_golden
def test_golden_every_trade_matches_an_independent_reading(golden):
    ev, imp = golden
    trades = ev[ev["type"] == EventType.TRADE]
    with GOLDEN.open(newline="") as f:
        rows = [r for r in csv.reader(f) if r[10] == "N"]
    names: list[str] = []
    for r in rows:  # first-seen order over buyers and sellers of the stream
        for name in (r[7], r[8]):
            if name not in names:
                names.append(name)
    assert imp.agents == names
    assert len(trades) == len(rows)
    for e, r in zip(trades, rows, strict=True):
        assert e["exch_ns"] == utc_ns(r[1], r[2])
        assert e["ref"] == int(r[3])
        assert e["price"] * 0.5 == float(r[4])
        assert e["qty"] == int(r[5])
        assert names[e["a"]] == r[7] and names[e["b"]] == r[8]
        key = r[9].lower().replace(" ", "").replace("_", "").replace("-", "")
        assert e["code"] == CODES.get(key, 32)
    assert set(trades["code"]) == {1, 2, 3, 4, 13}
    # 2026-11-13 09:00:00 local (UTC-3, no DST since 2019) = 12:00:00 UTC
    assert trades["exch_ns"][0] == 1794571200000000000
    assert datetime.fromtimestamp(trades["exch_ns"][0] / 1e9, ZoneInfo("UTC")).hour == 12


@needs_golden
def test_golden_times_equal_the_reference_feature_file(golden):
    ev, _ = golden
    trades = ev[ev["type"] == EventType.TRADE]
    ref = np.loadtxt(GOLDEN_FEATURES, delimiter=",", skiprows=1, usecols=(0, 1), dtype=np.int64)
    assert np.array_equal(trades["exch_ns"], ref[:, 0])
    assert np.array_equal(trades["ref"], ref[:, 1])


@needs_golden
@pytest.mark.parametrize("chunk_bytes", [1, 7, 100, 4096])
def test_rows_split_across_chunk_boundaries_give_the_same_events(golden, chunk_bytes):
    ev, imp = golden
    ev2, imp2 = run_import(GOLDEN, chunk_bytes=chunk_bytes, out_records=5)
    assert np.array_equal(ev, ev2)
    assert imp2.agents == imp.agents
    assert imp2.stats.after_hours == 4 and imp2.stats.rows == imp.stats.rows


@needs_golden
def test_gzip_input_is_read_transparently(golden, tmp_path):
    gz = tmp_path / "golden.csv.gz"
    gz.write_bytes(gzip.compress(GOLDEN.read_bytes()))
    ev, _ = run_import(gz, chunk_bytes=1000)
    assert np.array_equal(ev, golden[0])


def test_each_kind_of_bad_row_is_reported_and_the_rest_imported(tmp_path):
    lines = [
        row(1),                                        # 1 ok
        "WDOFUT,20261113,100000,2,5350,1,0,XP,BTG,AggressorBuyer\n",  # 2 field count
        row(3, p="53x0"),                              # 3 unparsable price
        row(4, q="1e3"),                               # 4 unparsable qty
        "WDOFUT,20261113,100000,#5,5350,1,0,XP,BTG,Cross,N\n",  # 5 unparsable trade number
        row(6, p="NaN"),                               # 6 NaN price
        row(7, p="-5350"),                             # 7 negative price
        row(8, p="0.00000000"),                        # 8 zero price
        row(9, p="5350.25"),                           # 9 off the 0.5 grid
        row(10, q="-2"),                               # 10 negative qty
        row(11, d="20261131"),                         # 11 bad date (Nov 31)
        row(12, d="2026-11-13"),                       # 12 bad date
        row(13, t="106100"),                           # 13 bad time (61 min)
        row(14, t="1000"),                             # 14 bad time
        row(15, aft="X"),                              # 15 aft neither S nor N
        row(16),                                       # 16 ok
    ]  # fmt: skip
    ev, imp = run_import(write(tmp_path, "".join(lines)))
    trades = ev[ev["type"] == EventType.TRADE]
    assert list(trades["ref"]) == [1, 16]
    st = imp.stats
    assert st.bad == 14 and st.rows == 16 and st.trades == 2
    assert st.bad_by_reason == {
        "wrong field count": 1,
        "unparsable number": 3,
        "price NaN, negative or zero": 3,
        "price off the price-unit grid": 1,
        "qty negative, zero or too large": 1,
        "bad date": 2,
        "bad time": 2,
        "aft neither S nor N": 1,
    }
    assert st.bad_lines["unparsable number"] == [3, 4, 5]
    assert st.bad_lines["bad date"] == [11, 12]
    assert st.first_bad_lines == list(range(2, 16))
    text = "\n".join(st.summary_lines())
    assert "bad rows        14" in text and "bad time: 2 (lines 13, 14)" in text


def test_only_the_first_n_bad_lines_are_listed_but_all_counted(tmp_path):
    lines = [row(1)] + [row(i, p="nan") for i in range(2, 60)]
    _, imp = run_import(write(tmp_path, "".join(lines)), max_listed=5)
    assert imp.stats.bad == 58
    assert imp.stats.bad_lines == {"price NaN, negative or zero": [2, 3, 4, 5, 6]}
    assert "..." in "\n".join(imp.stats.summary_lines())


def test_after_hours_rows_are_excluded_and_their_brokers_not_registered(tmp_path):
    lines = [
        row(1, b="A", s="B"),
        row(2, b="Late", s="Night", aft="S"),
        row(3, b="B", s="C"),
        row(4, aft="s"),
    ]
    ev, imp = run_import(write(tmp_path, "".join(lines)))
    assert list(ev[ev["type"] == EventType.TRADE]["ref"]) == [1, 3]
    assert imp.stats.after_hours == 2
    assert imp.agents == ["A", "B", "C"]


def test_header_line_bom_crlf_and_blank_lines(tmp_path):
    text = "\ufeffAtivo,Data,Hora,Numero,Preco,Qtd,Vol,Comprador,Vendedor,Agressor,Aft\r\n"
    text += row(1).replace("\n", "\r\n") + "\r\n" + row(2, p="x") + row(3)
    ev, imp = run_import(write(tmp_path, text))
    assert list(ev[ev["type"] == EventType.TRADE]["ref"]) == [1, 3]
    assert imp.stats.bad_lines == {"unparsable number": [4]}  # the header is line 1
    assert imp.stats.rows == 3 and imp.stats.skipped == {"blank lines": 1}


def test_a_bad_first_row_is_not_taken_for_a_header(tmp_path):
    ev, imp = run_import(write(tmp_path, row(1, d="2026-11-13") + row(2)))
    assert imp.stats.bad_lines == {"bad date": [1]}
    assert list(ev[ev["type"] == EventType.TRADE]["ref"]) == [2]


def test_trade_type_words_ignore_case_spaces_underscores_and_dashes(tmp_path):
    words = ["Cross", "aggressor buyer", "AGGRESSOR_SELLER", "auction", "Surveil-lance", "Expit",
             "Option Exercise", "over_the_counter", "DerivativeTerm", "index", "btc", "On-Behalf", "R L P",
             "Leilao", ""]  # fmt: skip
    lines = [row(i + 1, ty=w) for i, w in enumerate(words)]
    ev, _ = run_import(write(tmp_path, "".join(lines)))
    assert list(ev[ev["type"] == EventType.TRADE]["code"]) == [*range(1, 14), 32, 32]


@pytest.mark.parametrize(
    ("date", "time", "utc_hour_minute", "why"),
    [
        ("20180115", "100000", "2018-01-15 12:00", "Brazil DST in force (UTC-2)"),
        ("20180217", "233000", "2018-02-18 01:30", "ambiguous hour at DST end: earlier reading (UTC-2)"),
        ("20180218", "100000", "2018-02-18 13:00", "after DST ended (UTC-3)"),
        ("20171015", "100000", "2017-10-15 12:00", "first day of DST (UTC-2)"),
        ("20171014", "100000", "2017-10-14 13:00", "last day before DST (UTC-3)"),
        ("20191115", "100000", "2019-11-15 13:00", "no DST since 2019 (UTC-3)"),
    ],
)
def test_local_time_to_utc_with_historical_dst(tmp_path, date, time, utc_hour_minute, why):
    ev, _ = run_import(write(tmp_path, row(1, d=date, t=time)))
    ts = int(ev[ev["type"] == EventType.TRADE]["exch_ns"][0])
    utc = datetime.fromtimestamp(ts / 1e9, ZoneInfo("UTC"))
    assert utc.strftime("%Y-%m-%d %H:%M") == utc_hour_minute, why
    assert ts == utc_ns(date, time)


def test_out_of_order_rows_are_kept_in_file_order_and_listed(tmp_path):
    times = [("100000", 1), ("100001", 3), ("100001", 2), ("095959", 4), ("100002", 5)]
    lines = [row(n, t=t) for t, n in times] + [row(6, d="20261112", t="110000"), row(7, t="110000")]
    ev, imp = run_import(write(tmp_path, "".join(lines)))
    assert list(ev[ev["type"] == EventType.TRADE]["ref"]) == [1, 3, 2, 4, 5, 6, 7]
    assert imp.stats.out_of_order == 3 and imp.stats.out_of_order_lines == [3, 4, 6]
    assert imp.stats.bad == 0
    # a date change in either direction starts a session
    assert list(ev[ev["type"] == EventType.SESSION]["ref"]) == [20261113, 20261112, 20261113]
    assert "out of order    3 kept in file order (lines 3, 4, 6)" in "\n".join(imp.stats.summary_lines())


def test_rows_of_another_ticker_are_skipped_unless_selected(tmp_path):
    text = row(1) + row(2).replace("WDOFUT", "WDOF27") + row(3)
    ev, imp = run_import(write(tmp_path, text))
    assert list(ev[ev["type"] == EventType.TRADE]["ref"]) == [1, 3]
    assert imp.stats.bad_by_reason == {"other ticker": 1} and imp.stats.bad_lines == {"other ticker": [2]}
    ev, imp = run_import(write(tmp_path, text), ticker="WDOF27")
    assert list(ev[ev["type"] == EventType.TRADE]["ref"]) == [2]
    assert imp.grid.price_unit == 0.5  # WDO root


def test_price_grid_from_ticker_prefix_or_options(tmp_path):
    win = "WINFUT,20240108,090038,10,132840.00000000,25,664200.0000,Capital,Capital,Auction,N\n"
    win += "WINFUT,20240108,090039,11,132842.00000000,25,0,Capital,Capital,Auction,N\n"
    ev, imp = run_import(write(tmp_path, win))
    assert imp.grid.price_unit == 5.0 and imp.grid.tick_size == 5.0
    assert list(ev[ev["type"] == EventType.TRADE]["price"]) == [132840 // 5]
    assert imp.stats.bad_by_reason == {"price off the price-unit grid": 1}
    other = write(tmp_path, row(1).replace("WDOFUT", "PETR4").replace("5350", "38.27"), "p.csv")
    with pytest.raises(ValueError, match="--price-unit"):
        ProfitCsvImporter(other)
    ev, imp = run_import(other, price_unit=0.01)
    assert imp.grid.origin == "option" and imp.grid.tick_size == 0.01
    assert ev[ev["type"] == EventType.TRADE]["price"][0] == 3827


def test_seeded_dictionary_keeps_ids_and_matches_cp1252_names(tmp_path):
    text = (row(1, b="Ágora", s="XP") + row(2, b="Novo", s="Clear")).encode("cp1252")
    ev, imp = run_import(write(tmp_path, text), agents=["Clear", "Ágora"])
    trades = ev[ev["type"] == EventType.TRADE]
    assert imp.agents == ["Clear", "Ágora", "XP", "Novo"]
    assert list(zip(trades["a"], trades["b"], strict=True)) == [(1, 2), (3, 0)]
    with pytest.raises(ValueError, match="duplicate"):
        ProfitCsvImporter(write(tmp_path, row(1)), agents=["XP", "XP"])


def test_agent_dictionary_file_round_trip(tmp_path):
    path = str(tmp_path / "agents.json")
    write_agent_dictionary(path, ["XP", "Ágora"])
    assert read_agent_dictionary(path) == ["XP", "Ágora"]
    Path(path).write_text(json.dumps({"B": 1, "A": 0}))
    assert read_agent_dictionary(path) == ["A", "B"]
    Path(path).write_text(json.dumps({"B": 2, "A": 0}))
    with pytest.raises(ValueError, match=r"0\.\.1"):
        read_agent_dictionary(path)


def test_files_without_data_rows_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no data rows"):
        ProfitCsvImporter(write(tmp_path, ""))
    with pytest.raises(ValueError, match="no data rows"):
        ProfitCsvImporter(write(tmp_path, "ticker,date,time\n\n"))
    with pytest.raises(FileNotFoundError):
        ProfitCsvImporter(tmp_path / "missing.csv")


def test_last_row_without_newline_and_fractional_seconds(tmp_path):
    ev, _ = run_import(write(tmp_path, row(1) + row(2, t="100000.250").rstrip("\n")))
    t = ev[ev["type"] == EventType.TRADE]["exch_ns"]
    assert list(t - t[0]) == [0, 250_000_000]


def test_cli_reports_a_missing_file_with_nonzero_status(tmp_path, capsys):
    from quantumtrader.cli import main

    missing = tmp_path / "nope.csv"
    assert main(["import", "profit-csv", str(missing), "--out", str(tmp_path / "x.log")]) == 2
    err = capsys.readouterr().err
    assert "error" in err and "nope.csv" in err and "No such file" in err
    assert not (tmp_path / "x.log").exists()


@needs_golden
def test_cli_writes_the_log_and_shares_the_broker_dictionary(golden, tmp_path, capsys):
    eventlog = pytest.importorskip("quantumtrader.data.eventlog")
    from quantumtrader.cli import main

    ev, imp = golden
    agents = tmp_path / "agents.json"
    agents.write_text(json.dumps(["Zeta", "XP"]))
    out = tmp_path / "golden.qtlog"
    assert main(["import", "profit-csv", str(GOLDEN), "--out", str(out), "--agents", str(agents)]) == 0
    text = capsys.readouterr().out
    assert "trades 1,099" in text and "after-hours     4 excluded" in text
    log = eventlog.read_event_log(out)
    names = ["Zeta", "XP"] + [n for n in imp.agents if n != "XP"]
    assert list(log.header.agents) == names == json.loads(agents.read_text())
    assert log.header.instrument == "WDOFUT" and log.header.price_unit == 0.5
    got = log.events
    for field in ("type", "seq", "exch_ns", "recv_ns", "price", "qty", "code", "ref"):
        assert np.array_equal(got[field], ev[field]), field
    trades = got["type"] == EventType.TRADE
    assert [names[i] for i in got["a"][trades]] == [imp.agents[i] for i in ev["a"][trades]]


def test_corrupt_or_truncated_gzip_raises_an_input_error(tmp_path, capsys):
    from quantumtrader.cli import main
    from quantumtrader.data.importers.job import INPUT_ERRORS

    data = gzip.compress("".join(row(i) for i in range(1, 60000)).encode())  # 3.9 MB of text
    truncated = write(tmp_path, data[: len(data) // 2], "t.csv.gz")
    imp = ProfitCsvImporter(truncated, chunk_bytes=4096)
    with pytest.raises(INPUT_ERRORS):
        list(imp.events())
    garbled = write(tmp_path, data[:20] + bytes(200) + data[220:], "g.csv.gz")
    assert main(["import", "profit-csv", str(garbled), "--out", str(tmp_path / "x.log")]) == 2
    assert "error" in capsys.readouterr().err
