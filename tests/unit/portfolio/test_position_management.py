"""Positions and P&L checked against a hand computation of a scripted day:
adds, partial closes, a reversal through zero, WDO and WIN, fees, tax."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantumtrader.execution.orders import Fill, Side
from quantumtrader.instruments import InstrumentSpec
from quantumtrader.portfolio.fees import FeeTable, FeeTableError
from quantumtrader.portfolio.portfolio import Portfolio, PortfolioError
from quantumtrader.portfolio.tax import TaxTable, TaxTableError

DAY = dt.date(2026, 12, 4)
WDO = InstrumentSpec.for_ticker("WDOZ26", 0.5, 0.5)    # 1 price unit = 0.5 point = R$5
WIN = InstrumentSpec.for_ticker("WINZ26", 1.0, 5.0)    # 1 price unit = 1 point = R$0.20
# Fees per contract and side: WDO 1.20 + broker 0.05, WIN 0.30 + 0.05.
FEES = FeeTable({"version": "test", "broker": {"per_contract": 0.05}, "instruments": {
    "WDO": [{"from": dt.date(2026, 1, 1), "day_trade": 1.20, "overnight": 2.40}],
    "WIN": [{"from": dt.date(2026, 1, 1), "day_trade": 0.30, "overnight": 0.60}]}})
TAX = TaxTable({"version": "test", "day_trade": [
    {"from": dt.date(2005, 1, 1), "rate": 0.20, "withheld_at_source": 0.01}]})


def units(spec: InstrumentSpec, points: str) -> int:
    return int(Decimal(points) / spec.price_unit)


def fill(spec: InstrumentSpec, side: Side, qty: int, points: str, t: int, fee: Decimal = Decimal(0)) -> Fill:
    return Fill(order_id=t, ticker=spec.ticker, side=side, quantity=qty, price=units(spec, points), exch_ns=t,
                event_id=t, fee_brl=fee)


def book() -> Portfolio:
    return Portfolio({WDO.ticker: WDO, WIN.ticker: WIN}, FEES, DAY, TAX)


def test_scripted_day_against_a_hand_computation() -> None:
    p = book()
    B, S = Side.BUY, Side.SELL
    # 1-2: long 3 @ 5710.0, add 1 @ 5712.0 -> +4, average 5710.5
    assert p.apply_fill(fill(WDO, B, 3, "5710.0", 1)) == Decimal("3.75")
    assert p.apply_fill(fill(WDO, B, 1, "5712.0", 2)) == Decimal("1.25")
    assert p.position(WDO.ticker) == 4
    assert p.position_detail(WDO.ticker).average_price == Decimal("5710.5")
    # 3: sell 2 @ 5715.0 closes 2 of the first lot (FIFO): +5 pts x 2 x R$10 = 100; fees 2.50 + 2.50
    p.apply_fill(fill(WDO, S, 2, "5715.0", 3))
    assert p.position(WDO.ticker) == 2
    assert p.position_detail(WDO.ticker).average_price == Decimal("5711.0")
    # 4: sell 4 @ 5708.0: closes 1 @ 5710 (-2 pts) and 1 @ 5712 (-4 pts), then short 2 @ 5708.0
    p.apply_fill(fill(WDO, S, 4, "5708.0", 4))
    assert p.position(WDO.ticker) == -2
    assert p.position_detail(WDO.ticker).average_price == Decimal("5708.0")
    # 5: mark 5705.0: the short is 3 pts x 2 up = R$60
    p.mark(WDO.ticker, units(WDO, "5705.0"), 5)
    assert p.unrealized_points(WDO.ticker) == Decimal("6.0")
    assert p.unrealized_brl() == Decimal("60.0")
    # 6: buy 2 @ 5703.0 covers: +5 pts x 2 = 100
    p.apply_fill(fill(WDO, B, 2, "5703.0", 6))
    assert p.position(WDO.ticker) == 0 and p.position_detail(WDO.ticker).average_price is None

    trips = [(rt.side, rt.quantity, rt.entry_price, rt.exit_price, rt.points, rt.gross_brl, rt.fees_brl,
              rt.net_brl) for rt in p.round_trips]
    u = lambda pts: units(WDO, pts)  # noqa: E731
    D = Decimal
    assert trips == [
        (B, 2, u("5710.0"), u("5715.0"), D("5.0"), D("100.00"), D("5.00"), D("95.00")),
        (B, 1, u("5710.0"), u("5708.0"), D("-2.0"), D("-20.00"), D("2.50"), D("-22.50")),
        (B, 1, u("5712.0"), u("5708.0"), D("-4.0"), D("-40.00"), D("2.50"), D("-42.50")),
        (S, 2, u("5708.0"), u("5703.0"), D("5.0"), D("100.00"), D("5.00"), D("95.00")),
    ]
    assert [(rt.entry_ns, rt.exit_ns) for rt in p.round_trips] == [(1, 3), (1, 4), (2, 4), (4, 6)]
    assert p.realized_points(WDO.ticker) == Decimal("14.0")           # 10 - 2 - 4 + 10
    assert p.realized_brl(WDO.ticker) == Decimal("140.00")
    assert p.fees_brl(WDO.ticker) == Decimal("15.00")                 # 12 contracts x 1.25

    # WIN: short 5 @ 128000, cover 2 @ 127900 (+100 pts x 2 x R$0.20 = 40), mark 128050 (-50 pts x 3 = -30)
    assert p.apply_fill(fill(WIN, S, 5, "128000", 7)) == Decimal("1.75")
    p.apply_fill(fill(WIN, B, 2, "127900", 8))
    p.mark(WIN.ticker, 128_050, 9)
    assert p.position(WIN.ticker) == -3
    last = p.round_trips[-1]
    assert (last.side, last.quantity, last.points, last.gross_brl, last.fees_brl, last.net_brl) == (
        S, 2, Decimal(100), Decimal("40.00"), Decimal("1.40"), Decimal("38.60"))
    assert p.unrealized_points(WIN.ticker) == Decimal(-150)
    assert p.unrealized_brl(WIN.ticker) == Decimal("-30.00")

    # the day: realized 180, unrealized -30, fees 15 + 1.75 + 0.70 = 17.45
    assert p.realized_brl() == Decimal("180.00")
    assert p.unrealized_brl() == Decimal("-30.00")
    assert p.fees_brl() == Decimal("17.45")
    assert p.net_brl() == Decimal("132.55")
    assert p.positions == {WDO.ticker: 0, WIN.ticker: -3} and p.open_contracts == 3
    # held overnight, the 3 WIN contracts not day-traded would pay 0.60 instead of 0.30 (broker fee on both)
    assert p.overnight_contracts(WDO.ticker) == 0 and p.overnight_contracts(WIN.ticker) == 3
    assert p.overnight_fee_adjustment_brl() == Decimal("0.90")
    # the round trips' fees plus the open lots' equal every fee charged, to the centavo
    open_fees = p.position_detail(WIN.ticker).open_fees_brl
    assert open_fees == Decimal("1.05")
    assert sum(rt.fees_brl for rt in p.round_trips) + open_fees == p.fees_brl()
    # tax on the closed trades' net: 95 - 22.50 - 42.50 + 95 + 38.60 = 163.60
    assert p.day_trade_result_brl() == Decimal("163.60")
    tax = p.tax_estimate()
    assert (tax.tax_brl, tax.withheld_brl, tax.due_brl) == (D("32.72"), D("1.64"), D("31.08"))
    assert p.tax_estimate_brl() == Decimal("32.72")

    assert p.equity[0] == (1, Decimal("-3.75"))
    assert p.equity[-1] == (9, Decimal("132.55"))
    assert all(isinstance(v, Decimal) for _, v in p.equity)
    snap = json.loads(json.dumps(p.snapshot()))
    assert snap["net_brl"] == "132.55" and snap["tax"]["tax_brl"] == "32.72"
    assert snap["positions"][WIN.ticker]["quantity"] == -3 and snap["open_contracts"] == 3
    assert snap["overnight_fee_adjustment_brl"] == "0.90"
    p.apply_fill(fill(WIN, B, 3, "128050", 10))          # flat again: everything was day trade
    assert p.overnight_fee_adjustment_brl() == 0


def test_reversal_through_zero_in_one_fill() -> None:
    p = book()
    p.apply_fill(fill(WIN, Side.BUY, 1, "128000", 1))
    p.apply_fill(fill(WIN, Side.SELL, 3, "128010", 2))
    assert p.position(WIN.ticker) == -2
    [rt] = p.round_trips
    assert (rt.quantity, rt.points, rt.gross_brl) == (1, Decimal(10), Decimal("2.00"))
    # the exit fill's fee split 1 : 2 between the close and the new short
    assert rt.fees_brl == Decimal("0.35") + Decimal("0.35")
    assert p.position_detail(WIN.ticker).open_fees_brl == Decimal("0.70")


def test_a_losing_day_owes_no_tax() -> None:
    p = book()
    p.apply_fill(fill(WDO, Side.BUY, 1, "5710.0", 1))
    p.apply_fill(fill(WDO, Side.SELL, 1, "5709.5", 2))
    assert p.net_brl() == Decimal("-7.50")             # -0.5 pt x R$10 - 2 x 1.25
    assert p.tax_estimate_brl() == Decimal("0.00")


def test_a_fee_the_venue_reports_is_charged_instead_of_the_table() -> None:
    p = book()
    assert p.apply_fill(fill(WDO, Side.BUY, 3, "5710.0", 1, fee=Decimal("1.00"))) == Decimal("1.00")
    p.apply_fill(fill(WDO, Side.SELL, 1, "5711.0", 2))
    # a third of the entry fee goes with the first closed contract, rounded to the centavo
    assert p.round_trips[0].fees_brl == Decimal("0.33") + Decimal("1.25")
    p.apply_fill(fill(WDO, Side.SELL, 2, "5711.0", 3))
    assert sum(rt.fees_brl for rt in p.round_trips) == p.fees_brl() == Decimal("4.75")


def test_a_table_without_the_days_fee_or_tax_is_refused_up_front() -> None:
    with pytest.raises(FeeTableError, match="no fee for WDO on 2023-06-01"):
        Portfolio({WDO.ticker: WDO}, FEES, dt.date(2023, 6, 1), TAX)
    with pytest.raises(FeeTableError, match="no fees for IND"):
        Portfolio({"INDZ26": InstrumentSpec.for_ticker("INDZ26", 1.0, 5.0)}, FEES, DAY, TAX)
    with pytest.raises(TaxTableError, match="no day-trade tax rate on 2004-01-02"):
        Portfolio({}, FEES, dt.date(2004, 1, 2), TAX)


def test_a_bad_fill_is_refused_and_changes_nothing() -> None:
    p = book()
    p.apply_fill(fill(WDO, Side.BUY, 1, "5710.0", 1))
    before = p.snapshot()
    for bad in (Fill(2, "PETR4", Side.BUY, 1, 100, 2, 2), Fill(2, WDO.ticker, Side.BUY, 0, 11420, 2, 2),
                Fill(2, WDO.ticker, Side.BUY, 1, -5, 2, 2), Fill(2, WDO.ticker, Side.BUY, 1, 5710.0, 2, 2)):  # type: ignore[arg-type]
        with pytest.raises(PortfolioError) as e:
            p.apply_fill(bad)
        assert "\n" not in str(e.value)
    with pytest.raises(PortfolioError, match="not a positive number of price units"):
        p.mark(WDO.ticker, 0, 3)
    assert p.snapshot() == before


@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 7), st.integers(1, 400),
                          st.integers(0, 999)), min_size=1, max_size=40),
       st.integers(1, 400))
@settings(max_examples=200, deadline=None)
def test_any_fill_sequence_keeps_the_books_exact(fills: list[tuple[Side, int, int, int]], mark: int) -> None:
    """Whatever the fills: realized + unrealized equals the cash flows valued
    at the mark, the position is the signed sum of the fills, and the fees of
    the round trips and the open lots add up to every fee charged."""
    p = book()
    cash = 0
    charged = Decimal(0)
    for i, (side, qty, price, cents) in enumerate(fills):
        fee = Decimal(cents) / 100 if cents else Decimal(0)   # the venue's fee, or (0) the table's
        charged += p.apply_fill(Fill(i, WIN.ticker, side, qty, 100_000 + price * 5, i, i, fee))
        cash -= side.sign * qty * (100_000 + price * 5)
    at = 100_000 + mark * 5
    p.mark(WIN.ticker, at, len(fills))
    pos = p.position_detail(WIN.ticker)
    net_qty = sum(s.sign * q for s, q, _, _ in fills)
    assert pos.quantity == p.position(WIN.ticker) == net_qty
    assert pos.realized_units + pos.unrealized_units(at) == cash + net_qty * at
    assert p.realized_brl() + p.unrealized_brl() == WIN.brl(cash + net_qty * at)
    assert p.fees_brl() == charged
    assert sum((rt.fees_brl for rt in p.round_trips), Decimal(0)) + pos.open_fees_brl == charged
    assert sum(rt.quantity for rt in p.round_trips) == (sum(q for _, q, _, _ in fills) - abs(net_qty)) // 2
