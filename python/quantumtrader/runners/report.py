"""The trading report of a session (backtest day, paper, live, dry-run) or of
several backtest days merged.

A runner ends with a :class:`SessionResult`; ``merge_results`` joins the
days that ran in parallel processes (equity chained day after day, latency
histograms merged exactly).  ``summarize`` computes the figures:

- ``trades`` (closed round trips), ``wins``, ``losses``, ``win_rate``
  (wins / trades);
- ``gross_brl``, ``fees_brl``, ``net_brl`` (the portfolio's totals: realized
  plus unrealized minus fees), ``tax_estimate_brl``; ``trades_net_brl``,
  ``average_trade_brl``, ``average_win_brl``, ``average_loss_brl`` over the
  closed round trips; ``profit_factor`` = the winners' net / the losers' net
  (None without a losing trade);
- ``sharpe``: annualised (x sqrt(252)) mean / sample standard deviation of
  the daily net P&L when the result spans two days or more, else of the
  per-trade net P&L, not annualised; ``sharpe_basis`` says which, and is
  shown beside the figure; None when undefined (fewer than two samples, or
  all equal);
- ``max_drawdown_brl``: the largest fall of the equity curve (net P&L after
  each fill or mark, starting from 0) below its running peak;
  ``max_drawdown_pct``: the same as a percentage of ``capital_brl``;
- ``exposure``: the share of the session's time (``active_ns``) with at
  least one round trip open;
- ``decisions``, ``orders``, ``fills``, ``denials`` (total).

Money is ``Decimal`` BRL from end to end: sums are exact, averages are
rounded to the centavo, and JSON writes money as strings ("12.50"); ratios
(win rate, Sharpe, profit factor, exposure) are floats.  Prices stay
integers of the instrument's price unit; ``price_unit`` (ticker -> points
per unit), when given, shows them as points.

``write_report(result, out_dir)`` renders everything first, then writes
``equity.png``, ``drawdown.png``, ``latency.png``, ``agents.png``, ``report.html`` and, last,
``report.json`` into ``out_dir`` (made when missing; refused, with one line,
when it is a file or one of the inputs), each written aside and renamed
into place (``output_path.atomic_output``): an interrupted or failed write
leaves no partial file.  ``report.html`` is self-contained
(:mod:`quantumtrader.html_page`): summary, equity curve, drawdown,
per-trade table, latency histograms (log x) and percentiles per stage,
counters and risk denials by reason.  ``report.json`` reads back with
``session_from_json`` (``load_result`` for a file) into an equal
SessionResult: days run in other processes are merged from their files.
``report_console(result, console)`` prints the summary, the latency
percentiles and the denials as rich tables.

Round trips are read by attribute only (ticker, side, quantity, entry_ns,
exit_ns, entry_price, exit_price, points, gross_brl, fees_brl, net_brl), as
the portfolio's RoundTrip has them; ``session_from_json`` rebuilds them as
``quantumtrader.portfolio.RoundTrip`` when the package exports it, else as
:class:`StoredRoundTrip`, a record of the same fields.  A malformed result
or JSON is refused with a one-line ReportError naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from quantumtrader import html_page
from quantumtrader.agents.scoreboard import merge_scoreboards
from quantumtrader.calendar import EXCHANGE_TZ
from quantumtrader.execution.orders import Side
from quantumtrader.output_path import OutputPathError, atomic_output
from quantumtrader.runners.agents_report import AGENTS_HEAD, agents_note, agents_png, agents_rows
from quantumtrader.runners.latency import STAGES, LatencyError, LatencyRecorder

__all__ = [
    "FILES", "VENUES", "ReportError", "SessionResult", "StoredRoundTrip",
    "load_result", "merge_results", "render_html", "report_console", "result_to_json", "session_from_json",
    "summarize", "write_report",
]

FORMAT = "quantumtrader trading report v1"
VENUES = ("backtest", "paper", "live", "dry-run")
# in the order they are written: report.json last, so that a run cut short
# never leaves a new report.json beside the charts of an older run
FILES = ("equity.png", "drawdown.png", "latency.png", "agents.png", "report.html", "report.json")
TRADING_DAYS_PER_YEAR = 252
HTML_TRADE_ROWS = 5000  # the page lists at most this many trades; report.json holds all
_CENT = Decimal("0.01")
_TZ = ZoneInfo(EXCHANGE_TZ)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ReportError(ValueError):
    """A result that cannot be reported or merged, or a malformed report JSON; one line."""


@dataclass(frozen=True)
class StoredRoundTrip:
    """A round trip read back from report.json (the portfolio's RoundTrip fields)."""

    ticker: str
    side: Side
    quantity: int
    entry_ns: int
    exit_ns: int
    entry_price: int
    exit_price: int
    points: Decimal
    gross_brl: Decimal
    fees_brl: Decimal
    net_brl: Decimal


_TRIP_FIELDS = tuple(f.name for f in dataclasses.fields(StoredRoundTrip))
_TRIP_MONEY = ("points", "gross_brl", "fees_brl", "net_brl")


@dataclass
class SessionResult:
    """What a runner hands the report at the end of a session or a day.

    ``equity``: (exch_ns, net BRL) after each fill or mark that changed it,
    starting from 0 at the session's start.  ``daily_net_brl``: net BRL per
    trading day (ISO date); a one-day result without it gets
    ``{days[0]: net_brl}``.  ``active_ns``: how long the session traded
    (0: end_ns - start_ns).  ``price_unit``: points per price unit by ticker."""

    name: str
    venue: str
    tickers: list[str]
    start_ns: int
    end_ns: int
    round_trips: list[Any]
    equity: list[tuple[int, Decimal]]
    gross_brl: Decimal
    fees_brl: Decimal
    net_brl: Decimal
    tax_estimate_brl: Decimal
    decisions: int
    orders: int
    fills: int
    denials: dict[str, int]
    latency: LatencyRecorder
    counters: dict[str, Any]
    days: list[str]
    capital_brl: Decimal = Decimal("50000")
    daily_net_brl: dict[str, Decimal] = field(default_factory=dict)
    active_ns: int = 0
    price_unit: dict[str, Decimal] = field(default_factory=dict)
    agents: dict[str, Any] = field(default_factory=dict)   # agents.scoreboard.Scoreboard.to_json; {} = off

    def __post_init__(self) -> None:
        if self.venue not in VENUES:
            raise ReportError(f"session result: venue {self.venue!r} is not one of {', '.join(VENUES)}")
        for name in ("gross_brl", "fees_brl", "net_brl", "tax_estimate_brl", "capital_brl"):
            if not isinstance(getattr(self, name), Decimal) or not getattr(self, name).is_finite():
                raise ReportError(f"session result: {name} is {getattr(self, name)!r}, not a Decimal amount")
        if self.end_ns < self.start_ns:
            raise ReportError("session result: end_ns is before start_ns")
        if not self.active_ns:
            self.active_ns = self.end_ns - self.start_ns
        if not self.daily_net_brl and len(self.days) == 1:
            self.daily_net_brl = {self.days[0]: self.net_brl}
        # the risk engine counts by DenialReason: its names are what the report shows
        self.denials = {_name(k): int(v) for k, v in self.denials.items()}


def _name(key: Any) -> str:
    """A table key as text: an enum member by its value when that is text, else its name."""
    if isinstance(key, enum.Enum):
        return key.value if isinstance(key.value, str) else key.name
    return str(key)


# ---------------------------------------------------------------- merging


def _is_amount(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _add_counters(total: dict[str, Any], counters: Mapping[str, Any]) -> None:
    """Numbers summed, tables of counters summed key by key, anything else kept as first seen."""
    for key, value in counters.items():
        if isinstance(value, Mapping) and key not in total:
            total[key] = {}  # a copy, built up: the days' own tables stay as they were
            _add_counters(total[key], value)
        elif key not in total:
            total[key] = value
        elif isinstance(value, Mapping) and isinstance(total[key], dict):
            _add_counters(total[key], value)
        elif _is_amount(value) and _is_amount(total[key]):
            total[key] = total[key] + value


def merge_results(results: Sequence[SessionResult], name: str | None = None) -> SessionResult:
    """The days of ``results`` as one result, in time order: sums of the
    money and counts (the tax estimate is the sum of the days' estimates:
    B3 day-trade tax is assessed by month, so a losing day's offset is not
    in it), the equity of each day after the previous days' net, latency
    merged; counters summed where numbers, else the first day's value.
    The inputs are not changed.  ReportError for no result, mixed venues,
    capitals or a day that appears twice."""
    if not results:
        raise ReportError("merge: no results to merge")
    ordered = sorted(results, key=lambda r: r.start_ns)
    venues = {r.venue for r in ordered}
    if len(venues) > 1:
        raise ReportError(f"merge: results of different venues ({', '.join(sorted(venues))})")
    capitals = {r.capital_brl for r in ordered}
    if len(capitals) > 1:
        raise ReportError(f"merge: results with different capitals ({', '.join(map(str, sorted(capitals)))})")
    days: list[str] = []
    daily: dict[str, Decimal] = {}
    equity: list[tuple[int, Decimal]] = []
    offset = Decimal(0)
    denials: dict[str, int] = {}
    counters: dict[str, Any] = {}
    latency = LatencyRecorder()
    tickers: list[str] = []
    price_unit: dict[str, Decimal] = {}
    for r in ordered:
        for day in r.days:
            if day in days:
                raise ReportError(f"merge: day {day} appears in two results")
            days.append(day)
        daily.update(r.daily_net_brl)
        equity.extend((t, offset + v) for t, v in equity_curve(r))
        offset += r.net_brl
        for reason, n in r.denials.items():
            denials[reason] = denials.get(reason, 0) + n
        _add_counters(counters, r.counters)
        latency.merge(r.latency)
        tickers.extend(t for t in r.tickers if t not in tickers)
        price_unit.update(r.price_unit)
    names = list(dict.fromkeys(r.name for r in ordered))
    return SessionResult(
        name=name or (names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]} ({len(ordered)} days)"),
        venue=ordered[0].venue, tickers=tickers, start_ns=ordered[0].start_ns,
        end_ns=max(r.end_ns for r in ordered),
        round_trips=[t for r in ordered for t in r.round_trips], equity=equity,
        gross_brl=sum((r.gross_brl for r in ordered), Decimal(0)),
        fees_brl=sum((r.fees_brl for r in ordered), Decimal(0)),
        net_brl=offset, tax_estimate_brl=sum((r.tax_estimate_brl for r in ordered), Decimal(0)),
        decisions=sum(r.decisions for r in ordered), orders=sum(r.orders for r in ordered),
        fills=sum(r.fills for r in ordered), denials=denials, latency=latency, counters=counters,
        days=days, capital_brl=ordered[0].capital_brl, daily_net_brl=daily,
        active_ns=sum(r.active_ns for r in ordered), price_unit=price_unit,
        agents=merge_scoreboards([r.agents for r in ordered]),
    )


# ---------------------------------------------------------------- figures


def equity_curve(result: SessionResult) -> list[tuple[int, Decimal]]:
    """The result's equity, or, when the runner gave none, the cumulative
    net of the round trips at their exits; from 0 at the session's start."""
    if result.equity:
        curve = list(result.equity)
    else:
        total, curve = Decimal(0), []
        for trip in sorted(result.round_trips, key=lambda t: t.exit_ns):
            total += trip.net_brl
            curve.append((trip.exit_ns, total))
    if curve and curve[0][0] > result.start_ns:
        curve.insert(0, (result.start_ns, Decimal(0)))
    return curve


def drawdown_curve(equity: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    """(exch_ns, equity - running peak) for each equity point; the peak starts at 0."""
    peak, out = Decimal(0), []
    for t, value in equity:
        peak = max(peak, value)
        out.append((t, value - peak))
    return out


def _sharpe(samples: Sequence[Decimal], annualise: bool) -> float | None:
    if len(samples) < 2:
        return None
    values = np.array([float(s) for s in samples])
    std = float(values.std(ddof=1))
    if std == 0.0:
        return None
    ratio = float(values.mean()) / std
    return ratio * math.sqrt(TRADING_DAYS_PER_YEAR) if annualise else ratio


def _exposure(result: SessionResult) -> float | None:
    if result.active_ns <= 0:
        return None
    spans = sorted((t.entry_ns, t.exit_ns) for t in result.round_trips)
    covered, end = 0, None
    for start, stop in spans:
        if end is None or start > end:
            covered += stop - start
            end = stop
        elif stop > end:
            covered += stop - end
            end = stop
    return min(1.0, covered / result.active_ns)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT)


def summarize(result: SessionResult) -> dict[str, Any]:
    """The figures of the module docstring (Decimal money, float ratios, None where undefined)."""
    trips = result.round_trips
    nets = [t.net_brl for t in trips]
    wins = [n for n in nets if n > 0]
    losses = [n for n in nets if n < 0]
    won, lost = sum(wins, Decimal(0)), -sum(losses, Decimal(0))
    daily = [result.daily_net_brl[d] for d in sorted(result.daily_net_brl)]
    if len(daily) >= 2:
        sharpe, basis = _sharpe(daily, True), f"annualised from {len(daily)} daily net P&L"
    else:
        sharpe, basis = _sharpe(nets, False), f"per trade over {len(nets)} trades, not annualised"
    drawdown = min((v for _, v in drawdown_curve(equity_curve(result))), default=Decimal(0))
    max_dd = abs(drawdown)  # drawdown <= 0; abs, not minus: no "-0.00"
    return {
        "trades": len(trips),
        "wins": len(wins),
        "losses": len(losses),
        "win_rate": len(wins) / len(trips) if trips else None,
        "long_trades": sum(1 for t in trips if Side(t.side) is Side.BUY),
        "short_trades": sum(1 for t in trips if Side(t.side) is Side.SELL),
        "gross_brl": result.gross_brl,
        "fees_brl": result.fees_brl,
        "net_brl": result.net_brl,
        "tax_estimate_brl": result.tax_estimate_brl,
        "trades_net_brl": sum(nets, Decimal(0)),
        "average_trade_brl": _cents(sum(nets, Decimal(0)) / len(nets)) if nets else None,
        "average_win_brl": _cents(won / len(wins)) if wins else None,
        "average_loss_brl": _cents(-lost / len(losses)) if losses else None,
        "profit_factor": float(won / lost) if lost else None,
        "sharpe": sharpe,
        "sharpe_basis": basis,
        "max_drawdown_brl": max_dd,
        "max_drawdown_pct": float(max_dd / result.capital_brl * 100) if result.capital_brl > 0 else None,
        "capital_brl": result.capital_brl,
        "exposure": _exposure(result),
        "decisions": result.decisions,
        "orders": result.orders,
        "fills": result.fills,
        "denials": sum(result.denials.values()),
        "by_ticker": _by_ticker(trips),
    }


def _by_ticker(trips: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Closed trades, wins, contracts, fees and net BRL per instrument."""
    out: dict[str, dict[str, Any]] = {}
    for t in trips:
        row = out.setdefault(t.ticker, {"trades": 0, "wins": 0, "contracts": 0, "fees_brl": Decimal(0),
                                        "net_brl": Decimal(0)})
        row["trades"] += 1
        row["wins"] += t.net_brl > 0
        row["contracts"] += t.quantity
        row["fees_brl"] += t.fees_brl
        row["net_brl"] += t.net_brl
    return out


# ---------------------------------------------------------------- JSON


def _plain(value: Any) -> Any:
    """JSON data: Decimal -> str, numpy -> Python, non-finite float -> None."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Mapping):
        return {_name(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _trip_json(trip: Any) -> dict[str, Any]:
    data = {name: getattr(trip, name) for name in _TRIP_FIELDS}
    data["side"] = Side(data["side"]).name
    return _plain(data)


def result_to_json(result: SessionResult) -> dict[str, Any]:
    """report.json's content: the format, the summary, then the session."""
    session = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    session["round_trips"] = [_trip_json(t) for t in result.round_trips]
    session["latency"] = result.latency.to_json()
    session["latency_summary_ns"] = {s: result.latency.percentiles(s) for s in STAGES}
    return {"format": FORMAT, "summary": _plain(summarize(result)), **_plain(session)}


def _round_trip_type() -> Any:
    try:
        from quantumtrader.portfolio import RoundTrip  # type: ignore[attr-defined]
    except ImportError:
        return StoredRoundTrip
    return RoundTrip


def load_result(path: str | os.PathLike[str]) -> SessionResult:
    """The SessionResult of a report.json file (a day run in another
    process, to merge); ReportError (one line) for a file that cannot be
    read or is not a report."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        return session_from_json(data)
    except ReportError as exc:
        raise ReportError(f"{path}: {str(exc).removeprefix('report.json: ')}") from None


def _money(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ReportError(f"report.json: {where} is {value!r}, not an amount string")
    return amount


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportError(f"report.json: {where} is {value!r}, not a whole number")
    return value


def _get(data: Mapping[str, Any], key: str, where: str = "") -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise ReportError(f"report.json: missing {where}{key}")
    return data[key]


def _trip_from_json(data: Any, i: int) -> Any:
    where = f"round_trips[{i}]."
    values: dict[str, Any] = {}
    for name in _TRIP_FIELDS:
        raw = _get(data, name, where)
        if name == "side":
            if raw not in Side.__members__:
                raise ReportError(f"report.json: {where}side is {raw!r}, not BUY or SELL")
            values[name] = Side[raw]
        elif name == "ticker":
            values[name] = str(raw)
        elif name in _TRIP_MONEY:
            values[name] = _money(raw, where + name)
        else:
            values[name] = _int(raw, where + name)
    return _round_trip_type()(**values)


def session_from_json(data: Mapping[str, Any]) -> SessionResult:
    """The SessionResult that ``result_to_json`` wrote (the summary is
    recomputed, not read); ReportError (one line) on a malformed file."""
    try:
        return _session_from_json(data)
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError(f"report.json: malformed ({type(exc).__name__}: {exc})") from None


def _session_from_json(data: Mapping[str, Any]) -> SessionResult:
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ReportError(f"report.json: not a {FORMAT!r} file")
    try:
        latency = LatencyRecorder.from_json(_get(data, "latency"))
    except LatencyError as exc:
        raise ReportError(f"report.json: {exc}") from None
    equity = [(_int(t, f"equity[{i}]"), _money(v, f"equity[{i}]"))
              for i, (t, v) in enumerate(_get(data, "equity"))]
    money = {k: _money(_get(data, k), k) for k in ("gross_brl", "fees_brl", "net_brl", "tax_estimate_brl",
                                                     "capital_brl")}
    ints = {k: _int(_get(data, k), k) for k in ("start_ns", "end_ns", "decisions", "orders", "fills",
                                                 "active_ns")}
    return SessionResult(
        name=str(_get(data, "name")), venue=str(_get(data, "venue")),
        tickers=[str(t) for t in _get(data, "tickers")],
        round_trips=[_trip_from_json(t, i) for i, t in enumerate(_get(data, "round_trips"))],
        equity=equity, denials={str(k): _int(v, f"denials.{k}") for k, v in _get(data, "denials").items()},
        latency=latency, counters=dict(_get(data, "counters")), days=[str(d) for d in _get(data, "days")],
        daily_net_brl={str(k): _money(v, f"daily_net_brl.{k}")
                       for k, v in _get(data, "daily_net_brl").items()},
        price_unit={str(k): _money(v, f"price_unit.{k}") for k, v in _get(data, "price_unit").items()},
        agents=dict(data.get("agents") or {}),  # absent in reports written before the agents
        **money, **ints,
    )


# ---------------------------------------------------------------- formatting


def _brl(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"-R$ {-value:,.2f}" if value < 0 else f"R$ {abs(value):,.2f}"  # abs: no "-0.00"


def _ratio(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def duration(ns: float | None) -> str:
    """A latency for people: 850 ns, 12.3 µs, 1.52 ms, 2.10 s."""
    if ns is None:
        return "-"
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns < 100 * scale else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def _local(ns: int) -> str:
    when = (_EPOCH + dt.timedelta(microseconds=ns // 1000)).astimezone(_TZ)
    return when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def _price(result: SessionResult, ticker: str, units: int) -> str:
    unit = result.price_unit.get(ticker)
    return str(units) if unit is None else f"{(units * unit).normalize():f}"


def summary_rows(result: SessionResult, s: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(label, text) of the summary, shared by the console and the page."""
    s = summarize(result) if s is None else s
    pf = s["profit_factor"]
    pf_text = _ratio(pf) if pf is not None else ("∞ (no losing trade)" if s["wins"] else "-")
    return [
        ("trades (long / short)", f"{s['trades']} ({s['long_trades']} / {s['short_trades']})"),
        ("win rate", f"{_pct(s['win_rate'])} ({s['wins']} won, {s['losses']} lost)"),
        ("gross P&L", _brl(s["gross_brl"])),
        ("fees", _brl(s["fees_brl"])),
        ("net P&L", _brl(s["net_brl"])),
        ("tax estimate (day trade)", _brl(s["tax_estimate_brl"])),
        ("net of closed trades", _brl(s["trades_net_brl"])),
        ("average trade (win / loss)",
         f"{_brl(s['average_trade_brl'])} ({_brl(s['average_win_brl'])} / {_brl(s['average_loss_brl'])})"),
        ("profit factor", pf_text),
        ("Sharpe", f"{_ratio(s['sharpe'])} ({s['sharpe_basis']})"),
        ("max drawdown", f"{_brl(s['max_drawdown_brl'])} ({_ratio(s['max_drawdown_pct'])}% of "
                         f"{_brl(s['capital_brl'])})"),
        ("exposure", _pct(s["exposure"])),
        ("decisions / orders / fills", f"{s['decisions']:,} / {s['orders']:,} / {s['fills']:,}"),
        ("risk denials", f"{s['denials']:,}"),
    ]


def latency_rows(result: SessionResult) -> list[tuple[str, list[str]]]:
    rows = []
    for stage in STAGES:
        p = result.latency.percentiles(stage)
        figures = (duration(p[k]) for k in ("p50", "p99", "p999", "max"))
        rows.append((stage, [stage, f"{p['count']:,}", *figures, f"{p['dropped']:,}"]))
    return rows


LATENCY_HEAD = ["stage", "count", "p50", "p99", "p99.9", "max", "dropped"]


def _flat(counters: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in counters.items():
        if isinstance(value, Mapping):
            rows.extend(_flat(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", f"{value:,}" if isinstance(value, int) else str(value)))
    return rows


# ---------------------------------------------------------------- terminal


def report_console(result: SessionResult, console: Any = None) -> None:
    """Print the summary, the latency percentiles per stage and the risk
    denials on a rich Console (default: stdout, wide enough for the tables
    when it is a pipe or a log file)."""
    from rich.table import Table

    if console is None:
        from quantumtrader.models.report import report_console as wide_console

        console = wide_console()

    days = f"{result.days[0]} .. {result.days[-1]} ({len(result.days)} days)" if len(result.days) > 1 else (
        result.days[0] if result.days else "-")
    summary = Table(title=f"{result.name}: {result.venue}, {', '.join(result.tickers)}, {days}",
                    title_justify="left", show_header=False)
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for label, text in summary_rows(result):
        summary.add_row(label, text)
    console.print(summary)
    latency = Table(title="Latency per stage", title_justify="left")
    for i, head in enumerate(LATENCY_HEAD):
        latency.add_column(head, justify="left" if i == 0 else "right")
    for _, cells in latency_rows(result):
        latency.add_row(*cells)
    console.print(latency)
    console.print(agents_note(result.agents))
    if result.agents:
        table = Table(title="Agents", title_justify="left")
        for i, head in enumerate(AGENTS_HEAD):
            table.add_column(head, justify="left" if i == 0 else "right", no_wrap=i == 0)  # names whole
        for _, cells in agents_rows(result.agents):
            table.add_row(*cells)
        console.print(table)
    if result.denials:
        denials = Table(title="Risk denials", title_justify="left")
        denials.add_column("reason")
        denials.add_column("count", justify="right")
        for reason, n in sorted(result.denials.items(), key=lambda kv: -kv[1]):
            denials.add_row(reason, f"{n:,}")
        console.print(denials)


# ---------------------------------------------------------------- charts


def _time_axis(ax: Any, points: Sequence[tuple[int, Any]]) -> list[Any]:
    """x values of ``points`` in exchange time: clock time for one day; for
    several, one unit a day (the hours of the session spread over it, the
    nights left out) with the days as ticks."""
    from matplotlib.dates import DateFormatter

    local = [(_EPOCH + dt.timedelta(microseconds=t // 1000)).astimezone(_TZ).replace(tzinfo=None)
             for t, _ in points]
    days = sorted({w.date() for w in local})
    if len(days) == 1:
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
        ax.set_xlabel(f"{days[0].isoformat()}, exchange time ({EXCHANGE_TZ})")
        return local
    clock = [w.hour * 3600 + w.minute * 60 + w.second + w.microsecond / 1e6 for w in local]
    first, span = min(clock), max(max(clock) - min(clock), 1.0)
    index = {d: i for i, d in enumerate(days)}
    ax.set_xticks(range(len(days)), [d.strftime("%m-%d") for d in days], rotation=45 if len(days) > 10 else 0)
    for i in range(1, len(days)):
        ax.axvline(i - 0.03, color="#bbb", linewidth=0.6, linestyle="--")
    ax.set_xlabel(f"trading days (session hours, {EXCHANGE_TZ}; nights left out)")
    return [index[w.date()] + 0.94 * (c - first) / span for w, c in zip(local, clock, strict=True)]


def _empty_chart(fig: Any, message: str) -> bytes:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#666")
    ax.set_axis_off()
    return html_page.figure_png(fig)


PLOT_POINTS = 20_000  # a chart is ~1000 pixels wide: more points than this only slow the drawing


def thin(curve: Sequence[tuple[int, Decimal]], points: int = PLOT_POINTS) -> list[tuple[int, Decimal]]:
    """At most about ``points`` points of ``curve`` for a chart: the first and
    last, and the lowest and highest of each slice, so no peak or trough is lost."""
    if len(curve) <= points:
        return list(curve)
    values = np.array([float(v) for _, v in curve])
    keep = {0, len(curve) - 1}
    for chunk in np.array_split(np.arange(len(curve)), points // 2):
        keep.add(int(chunk[np.argmin(values[chunk])]))
        keep.add(int(chunk[np.argmax(values[chunk])]))
    return [curve[i] for i in sorted(keep)]


def equity_png(result: SessionResult) -> bytes:
    curve = thin(equity_curve(result))
    fig = html_page.figure(9, 3.4)
    if not curve:
        return _empty_chart(fig, "no fills: no equity curve")
    ax = fig.add_subplot()
    ax.step(_time_axis(ax, curve), [float(v) for _, v in curve], where="post", color="#1f5fa8", linewidth=1.2)
    ax.axhline(0, color="#999", linewidth=0.8)
    ax.set_ylabel("net P&L (BRL)")
    ax.grid(alpha=0.3)
    return html_page.figure_png(fig)


def drawdown_png(result: SessionResult) -> bytes:
    curve = thin(drawdown_curve(equity_curve(result)))
    fig = html_page.figure(9, 2.6)
    if not curve:
        return _empty_chart(fig, "no fills: no drawdown")
    ax = fig.add_subplot()
    times, values = _time_axis(ax, curve), [float(v) for _, v in curve]
    ax.fill_between(times, values, 0, step="post", color="#c0392b", alpha=0.35, linewidth=0)
    ax.step(times, values, where="post", color="#c0392b", linewidth=1)
    ax.set_ylabel("below peak (BRL)")
    ax.grid(alpha=0.3)
    return html_page.figure_png(fig)


def latency_png(result: SessionResult) -> bytes:
    """One log-x histogram per stage with samples (10 bins a decade), p50 and p99 marked."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from quantumtrader.runners.latency import bucket_bounds

    stages = [s for s in STAGES if result.latency.stages[s].count]
    if not stages:
        return _empty_chart(html_page.figure(9, 2), "no latency samples")
    cols = 3
    rows = math.ceil(len(stages) / cols)
    fig = html_page.figure(10, 2.6 * rows)
    for n, stage in enumerate(stages):
        hist = result.latency.stages[stage]
        idx, counts = hist.nonempty()
        low, high = bucket_bounds(idx)
        centre = np.maximum((low + high) / 2, 1.0)
        first = math.floor(math.log10(centre.min()) * 10)
        last = max(math.ceil(math.log10(centre.max()) * 10), first + 1)
        edges = 10 ** (np.arange(first, last + 1) / 10)
        binned, _ = np.histogram(centre, bins=edges, weights=counts)
        ax = fig.add_subplot(rows, cols, n + 1)
        ax.stairs(binned, edges, fill=True, color="#1f5fa8", alpha=0.6)
        ax.set_xscale("log")
        decades = (last - first) / 10  # 1-2-5 ticks on a narrow axis, fewer on a wide one
        subs = (1.0, 2.0, 5.0) if decades <= 1.5 else (1.0, 3.0) if decades <= 2.5 else (1.0,)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: duration(v)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        p = hist.summary()
        for key, color in (("p50", "#27ae60"), ("p99", "#c0392b")):
            ax.axvline(p[key], color=color, linewidth=1, label=f"{key} {duration(p[key])}")
        ax.set_title(f"{stage} (n={hist.count:,})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper right")
    return html_page.figure_png(fig)


# ---------------------------------------------------------------- HTML

_EXTRA_CSS = "body{max-width:80em;padding:0 2em}td{white-space:nowrap}.trades table{font-size:.8em}"


def _trade_rows(result: SessionResult) -> list[tuple[str, list[str]]]:
    rows, total = [], Decimal(0)
    for i, t in enumerate(sorted(result.round_trips, key=lambda t: t.exit_ns)[:HTML_TRADE_ROWS], 1):
        total += t.net_brl
        rows.append((str(i), [
            str(i), t.ticker, Side(t.side).name, str(t.quantity), _local(t.entry_ns), _local(t.exit_ns),
            _price(result, t.ticker, t.entry_price), _price(result, t.ticker, t.exit_price),
            f"{t.points if t.points else abs(t.points):f}", _brl(t.gross_brl), _brl(t.fees_brl),
            _brl(t.net_brl), _brl(total),
        ]))
    return rows


def _local_day(ns: int) -> str:
    return (_EPOCH + dt.timedelta(microseconds=ns // 1000)).astimezone(_TZ).date().isoformat()


def _day_rows(result: SessionResult) -> list[tuple[str, list[str]]]:
    """Per trading day: closed trades (by exit day), wins, net P&L, cumulative."""
    trades: dict[str, list[Decimal]] = {}
    for t in result.round_trips:
        trades.setdefault(_local_day(t.exit_ns), []).append(t.net_brl)
    rows, total = [], Decimal(0)
    for day in sorted(result.daily_net_brl):
        total += result.daily_net_brl[day]
        nets = trades.get(day, [])
        rows.append((day, [day, f"{len(nets):,}", f"{sum(1 for n in nets if n > 0):,}",
                           _brl(result.daily_net_brl[day]), _brl(total)]))
    return rows


def render_html(result: SessionResult, pngs: Mapping[str, bytes]) -> str:
    """The page (see the module docstring); ``pngs`` by file name (equity.png, drawdown.png, latency.png)."""
    s = summarize(result)
    days = ", ".join(result.days) if len(result.days) <= 6 else f"{result.days[0]} .. {result.days[-1]}"
    period = f"{_local(result.start_ns)} to {_local(result.end_ns)}" if result.end_ns else "-"
    trades = _trade_rows(result)
    cut = len(result.round_trips) - len(trades)
    denials = sorted(result.denials.items(), key=lambda kv: -kv[1])
    head = ["#", "ticker", "side", "qty", "entry", "exit", "entry price", "exit price", "points", "gross",
            "fees", "net", "cumulative"]
    body = [
        f"<p>{html.escape(result.venue)} &middot; {html.escape(', '.join(result.tickers))} &middot; "
        f"{len(result.days)} day(s): {html.escape(days)} &middot; {html.escape(period)} ({EXCHANGE_TZ})</p>",
        "<h2>Summary</h2>",
        html_page.table(["figure", "value"], [(k, [k, text]) for k, text in summary_rows(result, s)],
                        total_label=""),
        '<p class="note">net P&amp;L includes fees and the unrealized P&amp;L of a position still open; '
        "the tax estimate is not deducted.</p>",
        "<h2>Equity</h2>",
        html_page.img(pngs["equity.png"], "equity curve", "no equity curve"),
        "<h2>Drawdown</h2>",
        html_page.img(pngs["drawdown.png"], "drawdown", "no drawdown"),
        *(("<h2>Days</h2>", html_page.table(["day", "trades", "won", "net", "cumulative"], _day_rows(result),
                                            total_label=""))
          if len(result.daily_net_brl) > 1 else ()),
        *(("<h2>Instruments</h2>", html_page.table(
            ["ticker", "trades", "win rate", "contracts", "fees", "net"],
            [(k, [k, f"{v['trades']:,}", _pct(v["wins"] / v["trades"]), f"{v['contracts']:,}",
                  _brl(v["fees_brl"]), _brl(v["net_brl"])]) for k, v in s["by_ticker"].items()],
            total_label=""))
          if len(s["by_ticker"]) > 1 else ()),
        f"<h2>Trades ({len(result.round_trips):,})</h2>",
        f'<div class="trades">{html_page.table(head, trades, total_label="")}</div>'
        if trades else '<p class="note">no closed trades</p>',
        f'<p class="note">the first {len(trades):,} trades are listed; report.json holds all of them.</p>'
        if cut else "",
        "<h2>Agents</h2>",
        f'<p>{html.escape(agents_note(result.agents))}</p>',
        *((html_page.table(AGENTS_HEAD, agents_rows(result.agents), total_label=""),
           html_page.img(pngs["agents.png"], "agent weights and hit rates", "no agent decisions"),
           '<p class="note">hit rate: among an agent\'s proposals whose forward return over its horizon was '
           "not zero and that leaned (buy and sell probabilities unequal), the share that leaned the "
           "return's way. Weights: the coordinator's trust, learned from the agents' realized rewards.</p>")
          if result.agents else ()),
        "<h2>Latency per stage</h2>",
        html_page.table(LATENCY_HEAD, latency_rows(result), total_label=""),
        '<p class="note">percentiles are upper bounds within 0.8% (log-linear histograms); max is exact. '
        "Stages: callback to ring, ring to features, prediction, decision wake, signal, risk, order sent "
        "(SendOrder returned), tick to order (callback to SendOrder returned), ack (SendOrder to "
        "acknowledgement).</p>",
        html_page.img(pngs["latency.png"], "latency histograms", "no latency samples"),
        "<h2>Risk denials by reason</h2>",
        html_page.table(["reason", "count"], [(r, [r, f"{n:,}"]) for r, n in denials], total_label="")
        if denials else '<p class="note">no order was denied</p>',
        "<h2>Counters</h2>",
        html_page.table(["counter", "value"], [(k, [k, v]) for k, v in _flat(result.counters)],
                        total_label="")
        if result.counters else '<p class="note">no counters</p>',
    ]
    return html_page.page(f"Trading report: {result.name}", body, _EXTRA_CSS)


def _check_folder(folder: Path, inputs: Sequence[str | os.PathLike[str]], flag: str) -> None:
    for src in inputs:
        if folder.exists() and os.path.exists(src) and os.path.samefile(src, folder):
            raise OutputPathError(f"{flag} {folder} is also an input: choose another folder")
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{flag} {folder} is a file: give a folder")
    where = folder if folder.exists() else folder.parent
    if not where.is_dir():
        raise OutputPathError(f"{flag} {folder}: folder {folder.parent} does not exist")
    if not os.access(where, os.W_OK | os.X_OK):
        raise OutputPathError(f"{flag} {folder}: folder {where} is not writable")


def write_report(result: SessionResult, out_dir: str | os.PathLike[str], *,
                 inputs: Sequence[str | os.PathLike[str]] = (), flag: str = "--out") -> dict[str, Path]:
    """Write ``FILES`` into ``out_dir`` (see the module docstring); returns
    their paths by name.  OutputPathError (one line, naming ``flag``) when
    ``out_dir`` is a file, an input or under a missing folder, or a file
    would overwrite an input; nothing is written then."""
    folder = Path(out_dir)
    _check_folder(folder, inputs, flag)
    pngs = {"equity.png": equity_png(result), "drawdown.png": drawdown_png(result),
            "latency.png": latency_png(result),
            "agents.png": agents_png(result.agents, _time_axis, _empty_chart)}
    texts = {"report.json": json.dumps(result_to_json(result), indent=1, allow_nan=False) + "\n",
             "report.html": render_html(result, pngs)}
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{flag} {folder}: cannot make the folder ({exc.strerror or exc})") from None
    paths = {name: folder / name for name in FILES}
    for name in FILES:  # every path is checked before any is replaced
        if any(os.path.exists(src) and paths[name].exists() and os.path.samefile(src, paths[name])
               for src in inputs):
            raise OutputPathError(f"{flag} {folder}: {name} there is also an input: choose another folder")
    for name in FILES:
        try:
            with atomic_output(paths[name], inputs) as tmp:
                if name in pngs:
                    tmp.write_bytes(pngs[name])
                else:
                    tmp.write_text(texts[name], encoding="utf-8")
        except OSError as exc:  # disk full, folder gone: one line naming the file, not the partial
            raise OutputPathError(f"{flag} {folder}: cannot write {name} ({exc.strerror or exc})") from None
    return paths
