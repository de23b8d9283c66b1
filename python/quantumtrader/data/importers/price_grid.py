"""Price unit and tick size of an imported instrument.

Explicit options win; otherwise the trading calendar's instrument spec
(``quantumtrader.calendar``) when that module and an entry for the ticker
exist; otherwise the built-in defaults below.  This is the only place that
knows instrument defaults in the importers."""

from __future__ import annotations

from dataclasses import dataclass

# Root (first three letters of a B3 ticker) -> (price_unit, tick_size), used
# only when the trading calendar is not available or does not know the root.
BUILTIN_GRIDS: dict[str, tuple[float, float]] = {"WDO": (0.5, 0.5), "WIN": (5.0, 5.0)}


@dataclass(frozen=True)
class PriceGrid:
    price_unit: float
    tick_size: float
    calendar_version: str  # "" when the calendar was not used
    origin: str  # "option", "calendar" or "built-in"


def _from_calendar(ticker: str) -> tuple[float, float, str] | None:
    try:
        from quantumtrader.calendar import TradingCalendar  # built in parallel; optional here
    except ImportError:
        return None
    try:
        cal = TradingCalendar.load()
    except (OSError, ValueError, KeyError):
        return None
    for root in dict.fromkeys((ticker, ticker[:3])):
        try:
            spec = cal.instrument(root)
        except (KeyError, LookupError, ValueError):
            continue
        if spec is not None:
            return float(spec.price_unit), float(spec.tick_size), str(getattr(cal, "version", ""))
    return None


def resolve_price_grid(
    ticker: str, price_unit: float | None = None, tick_size: float | None = None
) -> PriceGrid:
    """The grid of ``ticker``.  Raises ValueError when nothing is known and
    no option was given."""
    known = _from_calendar(ticker)
    origin = "calendar"
    if known is None and ticker[:3] in BUILTIN_GRIDS:
        unit, tick = BUILTIN_GRIDS[ticker[:3]]
        known, origin = (unit, tick, ""), "built-in"
    if price_unit is not None or tick_size is not None:
        unit = price_unit if price_unit is not None else (known[0] if known else tick_size)
        tick = tick_size if tick_size is not None else (known[1] if known else price_unit)
        assert unit is not None and tick is not None
        if not (unit > 0 and tick > 0):
            raise ValueError(f"price unit and tick size must be > 0 (got {unit}, {tick})")
        return PriceGrid(unit, tick, known[2] if known else "", "option")
    if known is None:
        raise ValueError(
            f"no price unit known for ticker {ticker!r} (not in the trading calendar, no built-in "
            "default): pass --price-unit and --tick-size"
        )
    return PriceGrid(known[0], known[1], known[2], origin)
