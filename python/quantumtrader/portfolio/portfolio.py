"""The portfolio of one trading day: positions, P&L in points and BRL, fees,
net result and the day-trade income tax estimate.

- :meth:`Portfolio.apply_fill` books a fill on its instrument's
  :class:`~quantumtrader.portfolio.position.Position` (FIFO lots of integer
  prices: realized P&L is exact) and charges its fee: the fill's own
  ``fee_brl`` when the venue reported one, else the day-trade fee per contract
  and side of the :class:`~quantumtrader.portfolio.fees.FeeTable` on the
  trading day, times its contracts.  A fill the portfolio cannot book (unknown
  ticker, quantity or price not a positive integer) is refused with one line
  (:class:`PortfolioError`) and changes nothing.  A fee or tax table with no
  entry for an instrument on the trading day is refused when the portfolio is
  built (FeeTableError / TaxTableError), so every fill of the day can be booked.
- :meth:`Portfolio.mark` values the open position at a trade price; until an
  instrument is marked, its last fill price is the mark.
- Money is ``Decimal`` BRL, prices integer price units: no float drift.
  ``net_brl() = realized_brl() + unrealized_brl() - fees_brl()``, where the
  fees are every fee charged (the open lots' entry fees included).
- :meth:`Portfolio.tax_estimate` applies the dated tax table
  (:mod:`~quantumtrader.portfolio.tax`) to the closed round trips' net
  result (gross - their fees): an estimate for the day, the monthly netting
  of losses being the investor's.
- Day trade vs overnight: B3 charges the day-trade fee on the contracts of
  an instrument bought and sold the same day (the smaller of the two
  quantities, each side) and the overnight fee on the rest.  The portfolio
  starts the day flat and charges each fill the day-trade fee;
  :meth:`Portfolio.overnight_fee_adjustment_brl` is what B3 would charge on
  top if the day ended now with the open position carried (``|bought - sold|``
  contracts x (overnight - day-trade fee)): zero once flat, the normal end of
  a day-trading day.  It is reported in the snapshot, not in ``net_brl``.
- ``equity`` lists (exch_ns, net BRL) after each fill or mark that changed
  the net.  Not thread-safe: the runner serialises calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from quantumtrader.execution.orders import Fill, Side
from quantumtrader.instruments import InstrumentSpec
from quantumtrader.portfolio.fees import FeeTable
from quantumtrader.portfolio.position import Position, RoundTrip
from quantumtrader.portfolio.tax import TaxEstimate, TaxTable, default_tax_table

__all__ = ["Portfolio", "PortfolioError"]

_CENT = Decimal("0.01")


class PortfolioError(ValueError):
    """A fill or mark the portfolio cannot book (one line)."""


def _brl(amount: Decimal) -> str:
    """An amount as text, to the centavo (more places only when the exact value has them)."""
    cents = amount.quantize(_CENT)
    return str(cents if cents == amount else amount)


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value > 0


class Portfolio:
    def __init__(self, instruments: Mapping[str, InstrumentSpec], fees: FeeTable, trading_day: dt.date,
                 tax: TaxTable | None = None) -> None:
        self.instruments = {t.upper(): s for t, s in instruments.items()}
        self.fees = fees
        self.trading_day = trading_day
        self.tax = tax if tax is not None else default_tax_table()
        # Refuse a table without this day's fee or tax now, not at the first fill of the session:
        # a fill must always be bookable.
        for spec in self.instruments.values():
            self.fees.fee(spec.root, trading_day, day_trade=True)
            self.fees.fee(spec.root, trading_day, day_trade=False)
        self.tax.rate(trading_day)
        self._positions: dict[str, Position] = {t: Position(s) for t, s in self.instruments.items()}
        self._marks: dict[str, int] = {}
        self._fees: dict[str, Decimal] = {t: Decimal(0) for t in self.instruments}
        self._traded: dict[str, dict[Side, int]] = {t: {Side.BUY: 0, Side.SELL: 0} for t in self.instruments}
        self._round_trips: list[RoundTrip] = []
        self.equity: list[tuple[int, Decimal]] = []
        self.fills = 0
        self._net = Decimal(0)

    # ------------------------------------------------------------ inputs
    def apply_fill(self, fill: Fill) -> Decimal:
        """Book ``fill``; the fee charged for it (BRL)."""
        ticker = fill.ticker.upper() if isinstance(fill.ticker, str) else ""
        pos = self._positions.get(ticker)
        if pos is None:
            raise PortfolioError(f"fill {fill.order_id}/{fill.event_id}: unknown instrument {fill.ticker!r}")
        if not isinstance(fill.side, Side) or not _whole(fill.quantity) or not _whole(fill.price):
            raise PortfolioError(f"fill {fill.order_id}/{fill.event_id}: side {fill.side!r}, quantity "
                                 f"{fill.quantity!r} and price {fill.price!r} are not a fill")
        own = fill.fee_brl
        if isinstance(own, Decimal) and own.is_finite() and own > 0:
            fee = own
        else:
            fee = self.fees.fee(pos.spec.root, self.trading_day, day_trade=True) * fill.quantity
        self._round_trips.extend(pos.apply(fill.side, fill.quantity, fill.price, fill.exch_ns, fee))
        self._fees[ticker] += fee
        self._traded[ticker][fill.side] += fill.quantity
        self._marks.setdefault(ticker, fill.price)
        self.fills += 1
        self._changed(fill.exch_ns)
        return fee

    def mark(self, ticker: str, price: int, exch_ns: int) -> None:
        """Value ``ticker``'s position at ``price`` (price units)."""
        t = ticker.upper()
        if t not in self._positions:
            raise PortfolioError(f"mark: unknown instrument {ticker!r}")
        if not _whole(price):
            raise PortfolioError(f"mark {ticker}: price {price!r} is not a positive number of price units")
        self._marks[t] = price
        if self._positions[t].lots:
            self._changed(exch_ns)

    def _changed(self, exch_ns: int) -> None:
        net = self.net_brl()
        if not self.equity or net != self._net:
            self.equity.append((exch_ns, net))
        self._net = net

    # ------------------------------------------------------------ positions
    def position(self, ticker: str) -> int:
        pos = self._positions.get(ticker.upper())
        return 0 if pos is None else pos.quantity

    def position_detail(self, ticker: str) -> Position:
        return self._positions[ticker.upper()]

    @property
    def positions(self) -> dict[str, int]:
        """Signed net contracts per ticker."""
        return {t: p.quantity for t, p in self._positions.items()}

    @property
    def open_contracts(self) -> int:
        """Sum of |position| over every instrument (0: flat)."""
        return sum(abs(p.quantity) for p in self._positions.values())

    def open_margin_brl(self, margin_per_contract: Mapping[str, Decimal]) -> Decimal:
        """Margin held by the open positions (``margin_per_contract`` by root)."""
        return sum((margin_per_contract.get(p.spec.root.upper(), Decimal(0)) * abs(p.quantity)
                    for p in self._positions.values()), Decimal(0))

    @property
    def round_trips(self) -> list[RoundTrip]:
        return list(self._round_trips)

    # ------------------------------------------------------------ P&L
    def _tickers(self, ticker: str | None) -> list[str]:
        return list(self._positions) if ticker is None else [ticker.upper()]

    def realized_points(self, ticker: str) -> Decimal:
        """Closed contracts' points (sum of per-contract points x contracts)."""
        pos = self._positions[ticker.upper()]
        return pos.spec.points(pos.realized_units)

    def unrealized_points(self, ticker: str) -> Decimal:
        t = ticker.upper()
        pos = self._positions[t]
        return pos.spec.points(pos.unrealized_units(self._marks[t])) if pos.lots else Decimal(0)

    def realized_brl(self, ticker: str | None = None) -> Decimal:
        positions = [self._positions[t] for t in self._tickers(ticker)]
        return sum((p.spec.brl(p.realized_units) for p in positions), Decimal(0))

    def unrealized_brl(self, ticker: str | None = None) -> Decimal:
        total = Decimal(0)
        for t in self._tickers(ticker):
            pos = self._positions[t]
            if pos.lots:
                total += pos.spec.brl(pos.unrealized_units(self._marks[t]))
        return total

    def fees_brl(self, ticker: str | None = None) -> Decimal:
        return sum((self._fees[t] for t in self._tickers(ticker)), Decimal(0))

    def overnight_contracts(self, ticker: str) -> int:
        """Contracts of the day not day-traded: |bought - sold|."""
        traded = self._traded[ticker.upper()]
        return abs(traded[Side.BUY] - traded[Side.SELL])

    def overnight_fee_adjustment_brl(self) -> Decimal:
        """What B3 adds if the day ends now: the overnight fee instead of the
        day-trade fee on the contracts not day-traded."""
        total = Decimal(0)
        for t, pos in self._positions.items():
            n = self.overnight_contracts(t)
            if n:
                overnight = self.fees.fee(pos.spec.root, self.trading_day, day_trade=False)
                total += n * (overnight - self.fees.fee(pos.spec.root, self.trading_day, day_trade=True))
        return total

    def net_brl(self) -> Decimal:
        return self.realized_brl() + self.unrealized_brl() - self.fees_brl()

    def day_trade_result_brl(self) -> Decimal:
        """The closed round trips' net (gross - their fees): what the tax is on."""
        return sum((rt.net_brl for rt in self._round_trips), Decimal(0))

    def tax_estimate(self) -> TaxEstimate:
        return self.tax.estimate(self.day_trade_result_brl(), self.trading_day)

    def tax_estimate_brl(self) -> Decimal:
        return self.tax_estimate().tax_brl

    # ------------------------------------------------------------ report
    def snapshot(self) -> dict[str, Any]:
        """The portfolio now, JSON-able (Decimals as strings)."""
        per: dict[str, Any] = {}
        for t, pos in self._positions.items():
            avg = pos.average_price
            per[t] = {
                "quantity": pos.quantity, "average_price": None if avg is None else str(avg),
                "mark": self._marks.get(t), "realized_points": str(self.realized_points(t)),
                "unrealized_points": str(self.unrealized_points(t)),
                "realized_brl": _brl(self.realized_brl(t)),
                "unrealized_brl": _brl(self.unrealized_brl(t)), "fees_brl": _brl(self.fees_brl(t)),
            }
        tax = self.tax_estimate()
        return {
            "trading_day": self.trading_day.isoformat(), "positions": per,
            "open_contracts": self.open_contracts,
            "realized_brl": _brl(self.realized_brl()), "unrealized_brl": _brl(self.unrealized_brl()),
            "fees_brl": _brl(self.fees_brl()), "net_brl": _brl(self.net_brl()),
            "overnight_fee_adjustment_brl": _brl(self.overnight_fee_adjustment_brl()),
            "day_trade_result_brl": _brl(self.day_trade_result_brl()),
            "tax": {"taxable_brl": _brl(tax.taxable_brl), "tax_brl": _brl(tax.tax_brl),
                    "withheld_brl": _brl(tax.withheld_brl), "due_brl": _brl(tax.due_brl),
                    "table": self.tax.version},
            "fee_table": self.fees.version, "fills": self.fills, "round_trips": len(self._round_trips),
        }
