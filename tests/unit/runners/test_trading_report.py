"""The trading report: metrics against a hand computation of five trades,
two days merged, the five files written aside and renamed (report.json
reads back to the same figures, exact Decimal strings; report.html opens
offline), output folder rules and the console tables."""

from __future__ import annotations

import io
import json
import math
import re
import statistics
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from command_support import unwritable_folder
from rich.console import Console

from quantumtrader.execution.orders import Side
from quantumtrader.output_path import OutputPathError
from quantumtrader.runners import report as report_mod
from quantumtrader.runners.latency import LatencyRecorder
from quantumtrader.runners.report import (
    FILES,
    ReportError,
    SessionResult,
    load_result,
    merge_results,
    report_console,
    result_to_json,
    session_from_json,
    summarize,
    write_report,
)

S = 1_000_000_000
DAY1 = 1_764_936_000 * S  # 2025-12-05 12:00 UTC (09:00 in Sao Paulo)
DAY2 = DAY1 + 86_400 * S
PNG = b"\x89PNG\r\n\x1a\n"


def _trip(side: Side, qty: int, entry: int, exit_: int, t0: int, t1: int) -> SimpleNamespace:
    """A round trip as the portfolio's RoundTrip has it (the report reads
    attributes only); WDO: 0.5 point per price unit, R$ 10 per point,
    R$ 1.20 per contract and side."""
    points = (exit_ - entry) * Decimal("0.5") * side.sign * qty
    gross = points * 10
    fees = Decimal("1.20") * 2 * qty
    return SimpleNamespace(ticker="WDOF26", side=side, quantity=qty, entry_ns=t0, exit_ns=t1,
                           entry_price=entry, exit_price=exit_, points=points, gross_brl=gross, fees_brl=fees,
                           net_brl=gross - fees)


# nets 37.60, -22.40, 55.20 (day 1) and 47.60, -52.40 (day 2)
TRIPS1 = [_trip(Side.BUY, 1, 10000, 10008, DAY1 + 100 * S, DAY1 + 200 * S),
          _trip(Side.SELL, 1, 10010, 10014, DAY1 + 150 * S, DAY1 + 250 * S),
          _trip(Side.BUY, 2, 10000, 10006, DAY1 + 300 * S, DAY1 + 400 * S)]
TRIPS2 = [_trip(Side.SELL, 1, 10020, 10010, DAY2 + 500 * S, DAY2 + 510 * S),
          _trip(Side.BUY, 1, 10000, 9990, DAY2 + 600 * S, DAY2 + 700 * S)]


def _result(trips: list[SimpleNamespace], day: str, start: int, name: str = "wdo", length_s: int = 1000,
            **kw) -> SessionResult:
    equity, total = [], Decimal(0)
    for t in trips:
        total += t.net_brl
        equity.append((t.exit_ns, total))
    gross = sum((t.gross_brl for t in trips), Decimal(0))
    fees = sum((t.fees_brl for t in trips), Decimal(0))
    latency = LatencyRecorder()
    latency.add_many("prediction", [4_000 + 10 * i for i in range(100)])
    latency.add("ack", 2_500_000)
    fields = dict(
        name=name, venue="backtest", tickers=["WDOF26"], start_ns=start, end_ns=start + length_s * S,
        round_trips=list(trips), equity=equity, gross_brl=gross, fees_brl=fees, net_brl=gross - fees,
        tax_estimate_brl=max(Decimal(0), (gross - fees) * Decimal("0.2")), decisions=500,
        orders=2 * len(trips), fills=2 * len(trips), denials={"max_position": 3, "order_rate": 1},
        latency=latency,
        counters={"ring_dropped": 0, "decisions": 500, "model": "wdo-v3"}, days=[day],
        capital_brl=Decimal("50000"), price_unit={"WDOF26": Decimal("0.5")},
    )
    fields.update(kw)
    return SessionResult(**fields)


@pytest.fixture
def one_day() -> SessionResult:
    return _result(TRIPS1 + TRIPS2, "2025-12-05", DAY1)


def test_metrics_match_a_hand_computation(one_day: SessionResult) -> None:
    s = summarize(one_day)
    assert (s["trades"], s["wins"], s["losses"], s["long_trades"], s["short_trades"]) == (5, 3, 2, 3, 2)
    assert s["win_rate"] == 0.6
    assert s["gross_brl"] == Decimal("80.00") and s["fees_brl"] == Decimal("14.40")
    assert s["net_brl"] == Decimal("65.60") == s["trades_net_brl"]
    assert s["tax_estimate_brl"] == Decimal("13.12")
    assert s["average_trade_brl"] == Decimal("13.12")
    assert s["average_win_brl"] == Decimal("46.80") and s["average_loss_brl"] == Decimal("-37.40")
    assert s["profit_factor"] == pytest.approx(140.40 / 74.80)
    # equity 37.60 15.20 70.40 118.00 65.60: the worst fall is 118.00 -> 65.60
    assert s["max_drawdown_brl"] == Decimal("52.40")
    assert s["max_drawdown_pct"] == pytest.approx(52.40 / 50000 * 100)
    nets = [37.60, -22.40, 55.20, 47.60, -52.40]
    assert s["sharpe"] == pytest.approx(statistics.mean(nets) / statistics.stdev(nets))
    assert s["sharpe_basis"] == "per trade over 5 trades, not annualised"
    # open: [100,250] (two overlapping trips) + [300,400] + [500,510] + [600,700] = 360 s of 1000 s
    assert s["exposure"] == pytest.approx(0.36)
    assert (s["decisions"], s["orders"], s["fills"], s["denials"]) == (500, 10, 10, 4)
    assert s["by_ticker"] == {"WDOF26": {"trades": 5, "wins": 3, "contracts": 6, "fees_brl": Decimal("14.40"),
                                         "net_brl": Decimal("65.60")}}


def test_two_instruments_are_broken_down_on_the_page() -> None:
    win = SimpleNamespace(**{**vars(TRIPS2[0]), "ticker": "WINZ25", "net_brl": Decimal("-3.00")})
    r = _result([*TRIPS1, win], "2025-12-05", DAY1, tickers=["WDOF26", "WINZ25"])
    by = summarize(r)["by_ticker"]
    assert by["WINZ25"] == {"trades": 1, "wins": 0, "contracts": 1, "fees_brl": Decimal("2.40"),
                            "net_brl": Decimal("-3.00")}
    assert by["WDOF26"]["net_brl"] == Decimal("70.40")
    page = report_mod.render_html(r, {n: PNG for n in ("equity.png", "drawdown.png", "latency.png")})
    assert "<h2>Instruments</h2>" in page
    assert "<td>WINZ25</td><td>1</td><td>0.0%</td><td>1</td><td>R$ 2.40</td><td>-R$ 3.00</td>" in page


def test_two_days_merge_chains_equity_and_annualises_sharpe_from_daily_pnl() -> None:
    d1 = _result(TRIPS1, "2025-12-05", DAY1)
    d2 = _result(TRIPS2, "2025-12-06", DAY2)
    merged = merge_results([d2, d1])  # any order: time order is restored
    assert merged.days == ["2025-12-05", "2025-12-06"]
    assert merged.daily_net_brl == {"2025-12-05": Decimal("70.40"), "2025-12-06": Decimal("-4.80")}
    # each day from its start: 0, then 70.40 (the first day's net) when the second opens
    chained = ("0", "37.60", "15.20", "70.40", "70.40", "118.00", "65.60")
    assert [v for _, v in merged.equity] == [Decimal(x) for x in chained]
    assert merged.equity[3:5] == [(TRIPS1[-1].exit_ns, Decimal("70.40")), (DAY2, Decimal("70.40"))]
    assert merged.net_brl == Decimal("65.60") and merged.fees_brl == Decimal("14.40")
    assert merged.tax_estimate_brl == Decimal("14.08")  # 20% of 70.40 + 0 of the losing day
    assert merged.active_ns == 2000 * S and merged.denials == {"max_position": 6, "order_rate": 2}
    assert merged.counters == {"ring_dropped": 0, "decisions": 1000, "model": "wdo-v3"}
    assert merged.latency.percentiles("prediction")["count"] == 200
    assert d1.latency.percentiles("prediction")["count"] == 100  # inputs untouched
    s = summarize(merged)
    daily = [70.40, -4.80]
    assert s["sharpe"] == pytest.approx(statistics.mean(daily) / statistics.stdev(daily) * math.sqrt(252))
    assert s["sharpe_basis"] == "annualised from 2 daily net P&L"
    assert s["max_drawdown_brl"] == Decimal("52.40") and s["exposure"] == pytest.approx(360 / 2000)
    page = report_mod.render_html(merged, {n: PNG for n in ("equity.png", "drawdown.png", "latency.png")})
    days = page[page.index("<h2>Days</h2>"):page.index("<h2>Trades")]
    assert "<td>2025-12-05</td><td>3</td><td>2</td><td>R$ 70.40</td><td>R$ 70.40</td>" in days
    assert "<td>2025-12-06</td><td>2</td><td>1</td><td>-R$ 4.80</td><td>R$ 65.60</td>" in days


def test_merge_refuses_what_cannot_be_one_result() -> None:
    d1 = _result(TRIPS1, "2025-12-05", DAY1)
    with pytest.raises(ReportError, match="day 2025-12-05 appears in two results"):
        merge_results([d1, _result(TRIPS2, "2025-12-05", DAY2)])
    with pytest.raises(ReportError, match="different venues"):
        merge_results([d1, _result(TRIPS2, "2025-12-06", DAY2, venue="paper")])
    with pytest.raises(ReportError, match="no results"):
        merge_results([])


def test_a_malformed_result_is_refused_in_one_line() -> None:
    with pytest.raises(ReportError, match="venue 'sim' is not one of"):
        _result(TRIPS1, "2025-12-05", DAY1, venue="sim")
    with pytest.raises(ReportError, match=r"net_brl is 65\.6, not a Decimal amount"):
        _result(TRIPS1, "2025-12-05", DAY1, net_brl=65.6)


def _images(page: str) -> list[str]:
    return re.findall(r'<img [^>]*src="([^"]*)"', page)


def test_write_report_writes_five_files_that_read_back(one_day: SessionResult, tmp_path: Path) -> None:
    out = tmp_path / "day"  # made when missing
    paths = write_report(one_day, out)
    assert sorted(paths) == sorted(FILES) and all(p.parent == out and p.exists() for p in paths.values())
    for name in ("equity.png", "drawdown.png", "latency.png"):
        assert paths[name].read_bytes().startswith(PNG)
    data = json.loads(paths["report.json"].read_text(encoding="utf-8"))
    assert data["net_brl"] == "65.60" and data["summary"]["max_drawdown_brl"] == "52.40"
    assert data["round_trips"][1]["side"] == "SELL" and data["round_trips"][1]["net_brl"] == "-22.40"
    assert data["latency_summary_ns"]["ack"]["max"] == 2_500_000
    back = session_from_json(data)
    assert result_to_json(back) == data
    assert back.net_brl == Decimal("65.60") and back.latency == one_day.latency
    assert [(t.side, t.net_brl) for t in back.round_trips] == [
        (t.side, t.net_brl) for t in one_day.round_trips]
    assert summarize(back) == summarize(one_day)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial left behind


def test_the_page_is_self_contained(one_day: SessionResult, tmp_path: Path) -> None:
    page = write_report(one_day, tmp_path / "r")["report.html"].read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<link" not in page.lower()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?:|//|file:|\burl\(|@import", text)
    images = _images(page)
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    assert page.count("<tr>") >= 5 + 9 + 2  # trades, latency stages, denials
    assert "WDOF26" in page and "5004" in page  # entry price 10008 units shown as points
    assert "R$ 65.60" in page and "per trade over 5 trades, not annualised" in page
    assert "max_position" in page and "ring_dropped" in page


def test_an_empty_session_still_writes_a_readable_report(tmp_path: Path) -> None:
    empty = _result([], "2025-12-05", DAY1, latency=LatencyRecorder(), denials={}, counters={})
    s = summarize(empty)
    assert s["trades"] == 0 and s["win_rate"] is None and s["sharpe"] is None and s["profit_factor"] is None
    assert s["max_drawdown_brl"] == Decimal(0)
    winners = _result(TRIPS1[:1], "2025-12-05", DAY1)  # equity only rises: no drawdown, and no "-0"
    assert str(summarize(winners)["max_drawdown_brl"]) == "0"
    paths = write_report(empty, tmp_path / "r")
    page = paths["report.html"].read_text(encoding="utf-8")
    assert "no closed trades" in page and "no order was denied" in page
    assert paths["equity.png"].read_bytes().startswith(PNG)


def test_a_failed_write_leaves_no_partial_file(one_day: SessionResult, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.json").write_text("the previous report\n")

    def interrupted(self: Path, *a: object, **k: object) -> int:
        self.write_bytes(b"<!DOCTYPE html><html><body>half a pa")
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(one_day, out)
    left = sorted(p.name for p in out.iterdir())
    assert left == ["agents.png", "drawdown.png", "equity.png", "latency.png", "report.json"], left
    assert (out / "report.json").read_text() == "the previous report\n"  # replaced only by a complete one


def test_output_folder_rules(one_day: SessionResult, tmp_path: Path) -> None:
    a_file = tmp_path / "report.txt"
    a_file.write_text("x")
    with pytest.raises(OutputPathError, match=r"^--out .*report\.txt is a file: give a folder$"):
        write_report(one_day, a_file)
    with pytest.raises(OutputPathError, match=r"^--report .*missing/r: folder .*missing does not exist$"):
        write_report(one_day, tmp_path / "missing" / "r", flag="--report")
    logs = tmp_path / "logs"
    logs.mkdir()
    with pytest.raises(OutputPathError, match="is also an input"):
        write_report(one_day, logs, inputs=[logs])
    first = write_report(one_day, tmp_path / "r")
    before = {n: p.read_bytes() for n, p in first.items()}
    with pytest.raises(OutputPathError, match=r"report\.json there is also an input"):
        write_report(one_day, tmp_path / "r", inputs=[first["report.json"]])
    assert {n: p.read_bytes() for n, p in first.items()} == before  # nothing was replaced
    again = write_report(_result(TRIPS1, "2025-12-05", DAY1), tmp_path / "r")  # an existing folder is reused
    assert json.loads(again["report.json"].read_text())["net_brl"] == "70.40"


@pytest.mark.parametrize("mangle, message", [
    (lambda d: d.update(format="x"), "not a 'quantumtrader trading report v1' file"),
    (lambda d: d.update(net_brl=65.6), "net_brl is 65.6, not an amount string"),
    (lambda d: d["round_trips"][0].update(side="LONG"), r"round_trips\[0\].side is 'LONG'"),
    (lambda d: d["round_trips"][2].pop("exit_ns"), r"missing round_trips\[2\].exit_ns"),
    (lambda d: d["latency"]["stages"]["ack"].update(count=9), "report.json: latency: ack: buckets hold 1"),
    (lambda d: d.update(equity=5), r"report.json: malformed \(TypeError"),
    (lambda d: d.update(denials=[1]), r"report.json: malformed \(AttributeError"),
])
def test_a_malformed_report_json_is_one_line(one_day: SessionResult, mangle, message: str) -> None:
    data = json.loads(json.dumps(result_to_json(one_day)))
    mangle(data)
    with pytest.raises(ReportError, match=message) as err:
        session_from_json(data)
    assert "\n" not in str(err.value)


def test_report_console_prints_summary_latency_and_denials(one_day: SessionResult) -> None:
    buf = io.StringIO()
    report_console(one_day, Console(file=buf, width=160, force_terminal=False))
    text = buf.getvalue()
    for needle in ("wdo: backtest, WDOF26, 2025-12-05", "R$ 65.60", "60.0% (3 won, 2 lost)",
                   "per trade over 5 trades, not annualised", "R$ 52.40 (0.10% of R$ 50,000.00)",
                   "prediction", "2.5 ms", "max_position"):
        assert needle in text, needle


def test_durations_read_as_people_write_them() -> None:
    values = (None, 850, 12_345, 1_520_000, 2_100_000_000, 250_000_000_000)
    assert [report_mod.duration(v) for v in values] == ["-", "850 ns", "12.3 µs", "1.52 ms", "2.1 s", "250 s"]


def test_days_written_by_other_processes_merge_from_their_files(tmp_path: Path) -> None:
    d1 = _result(TRIPS1, "2025-12-05", DAY1,
                 counters={"ring_dropped": 1, "risk": {"checks": 10, "mode": "a"}})
    d2 = _result(TRIPS2, "2025-12-06", DAY2,
                 counters={"ring_dropped": 2, "risk": {"checks": 5, "mode": "b"}})
    files = [write_report(d, tmp_path / d.days[0])["report.json"] for d in (d1, d2)]
    merged = merge_results([load_result(f) for f in files])
    assert result_to_json(merged) == result_to_json(merge_results([d1, d2]))
    assert merged.counters == {"ring_dropped": 3, "risk": {"checks": 15, "mode": "a"}}
    assert d1.counters == {"ring_dropped": 1, "risk": {"checks": 10, "mode": "a"}}  # left as they were
    assert summarize(merged)["net_brl"] == Decimal("65.60")


def test_an_unreadable_report_file_is_one_line(tmp_path: Path) -> None:
    cut = tmp_path / "report.json"
    cut.write_text('{"format": "quantumtrader trading report v1", "name": ')
    with pytest.raises(ReportError, match=r"report\.json: not JSON \(line 1: Expecting value\)$"):
        load_result(cut)
    with pytest.raises(ReportError, match="cannot read"):
        load_result(tmp_path / "missing.json")
    cut.write_text('{"format": "something else"}')
    with pytest.raises(ReportError, match=r"/report\.json: not a 'quantumtrader trading report v1' file$"):
        load_result(cut)


def test_an_unwritable_folder_is_refused_in_one_line(one_day: SessionResult, tmp_path: Path) -> None:
    locked = unwritable_folder(tmp_path)
    with pytest.raises(OutputPathError) as err:
        write_report(one_day, locked / "report")
    assert str(err.value).startswith(f"--out {locked / 'report'}: ") and "\n" not in str(err.value)


def test_denials_counted_by_an_enum_show_its_names(tmp_path: Path) -> None:
    import enum

    class Reason(enum.Enum):  # str() of a member is "Reason.max_position"
        max_position = "max_position"
        order_rate = "order_rate"

    r = _result(TRIPS1, "2025-12-05", DAY1, denials={Reason.max_position: 2, Reason.order_rate: 1})
    assert r.denials == {"max_position": 2, "order_rate": 1}
    data = json.loads(write_report(r, tmp_path / "r")["report.json"].read_text())
    assert data["denials"] == {"max_position": 2, "order_rate": 1}


def test_report_console_defaults_to_a_wide_stdout(one_day: SessionResult, capsys) -> None:
    report_console(one_day)
    out = capsys.readouterr().out
    assert "R$ 52.40 (0.10% of R$ 50,000.00)" in out  # not cut at 80 columns on a pipe


def test_a_long_curve_is_thinned_for_the_chart_without_losing_its_extremes() -> None:
    curve = [(i, Decimal(int(1000 * math.sin(i / 5000)) + (i % 7))) for i in range(300_000)]
    curve[123_457] = (123_457, Decimal(-5000))
    thinned = report_mod.thin(curve, 2000)
    assert 1000 <= len(thinned) <= 2002 and thinned[0] == curve[0] and thinned[-1] == curve[-1]
    assert min(v for _, v in thinned) == Decimal(-5000)
    assert max(v for _, v in thinned) == max(v for _, v in curve)
    assert [t for t, _ in thinned] == sorted(t for t, _ in thinned)
    assert report_mod.thin(curve[:10], 2000) == curve[:10]
