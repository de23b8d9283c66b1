"""What the trading side knows of an instrument: how its integer prices map to
points, the tick, and what a point is worth in BRL.

Every price on the trading side (orders, fills, positions, risk bands) is an
integer count of the instrument's price unit, the unit the C engine's records
use (``price_unit`` points each, from the event log header or the
subscription); money is ``Decimal`` BRL.  Floats appear only at the ProfitDLL
boundary (its prices are doubles) and are converted there, exactly, by
:meth:`InstrumentSpec.units` / :meth:`InstrumentSpec.price_float`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["BRL_PER_POINT", "DEFAULT_MARGIN_BRL", "InstrumentSpec", "root_of"]

# B3's contract multipliers (spec/profitdll.md, "Instruments").
BRL_PER_POINT: dict[str, Decimal] = {
    "WDO": Decimal("10"), "DOL": Decimal("50"), "WIN": Decimal("0.20"), "IND": Decimal("1"),
}
# Day-trade margin per contract: set by each broker, not by B3; these are
# typical values and only the default of the risk configuration's
# `margin_per_contract_brl`.
DEFAULT_MARGIN_BRL: dict[str, Decimal] = {
    "WDO": Decimal("150"), "DOL": Decimal("750"), "WIN": Decimal("100"), "IND": Decimal("500"),
}


def root_of(ticker: str) -> str:
    """``WDOZ26`` / ``WDOFUT`` -> ``WDO``."""
    return ticker.strip().upper()[:3]


@dataclass(frozen=True)
class InstrumentSpec:
    ticker: str              # what orders are sent for, e.g. "WDOZ26"
    root: str                # "WDO", "WIN"
    price_unit: Decimal      # points per integer price unit of the engine's records
    tick: int                # tick size in price units (>= 1)
    brl_per_point: Decimal
    exchange: str = "F"
    instrument_id: int = 0   # the id the market records carry in the ring

    def __post_init__(self) -> None:
        if self.price_unit <= 0 or self.tick < 1 or self.brl_per_point <= 0:
            raise ValueError(f"{self.ticker}: price unit, tick and BRL per point must be positive")

    @classmethod
    def for_ticker(cls, ticker: str, price_unit: float, tick_size: float, *, exchange: str = "F",
                   instrument_id: int = 0, brl_per_point: Decimal | None = None) -> InstrumentSpec:
        """The spec of a B3 future from its ticker and the engine's price
        unit and tick size (points).  Raises ValueError for a root whose
        multiplier is unknown unless ``brl_per_point`` is given, or a tick
        that is not a whole number of price units."""
        root = root_of(ticker)
        if brl_per_point is None:
            if root not in BRL_PER_POINT:
                raise ValueError(f"{ticker}: no BRL per point known for {root} "
                                 f"(known: {', '.join(sorted(BRL_PER_POINT))})")
            brl_per_point = BRL_PER_POINT[root]
        unit = Decimal(repr(float(price_unit)))
        ticks = Decimal(repr(float(tick_size))) / unit
        if ticks != ticks.to_integral_value() or ticks < 1:
            raise ValueError(f"{ticker}: tick size {tick_size} is not a whole number of "
                             f"price units {price_unit}")
        return cls(ticker.upper(), root, unit, int(ticks), brl_per_point, exchange, instrument_id)

    # ---- conversions
    def points(self, units: int) -> Decimal:
        """A price or price difference in points."""
        return Decimal(units) * self.price_unit

    def brl(self, units: int) -> Decimal:
        """A price difference of one contract in BRL."""
        return self.points(units) * self.brl_per_point

    def price_float(self, units: int) -> float:
        """The double ProfitDLL takes (exact for B3 ticks)."""
        return float(self.points(units))

    def units(self, price: float) -> int:
        """A ProfitDLL double price in price units, nearest (ValueError for NaN, inf or <= 0)."""
        if not (price == price) or price in (float("inf"), float("-inf")) or price <= 0:
            raise ValueError(f"{self.ticker}: not a price: {price!r}")
        return int((Decimal(repr(price)) / self.price_unit).to_integral_value())

    def round_to_tick(self, units: int, *, down: bool) -> int:
        """The tick at or below (``down``) or at or above ``units``: a buy
        limit rounds down and a sell limit up, so rounding never makes an
        order more aggressive than asked."""
        q, r = divmod(units, self.tick)
        if r == 0:
            return units
        return q * self.tick if down else (q + 1) * self.tick
