"""The day-trade income tax estimate, from a dated, editable rate table.

Data, not code: ``b3_tax.toml`` beside this module (or a user's copy passed to
:meth:`TaxTable.load`) holds ``[[day_trade]]`` entries with the ``rate`` on the
positive net day-trade result and the part of it ``withheld_at_source``
(the broker's 1%: part of the 20%, not on top of it); an entry applies from
its ``from`` date until the next.  :meth:`TaxTable.estimate` applies them to a
day's net day-trade result in ``Decimal`` BRL, rounded to the centavo
(half up): no tax on a loss or zero.  A malformed table is refused with one
line naming the file and the key (:class:`TaxTableError`)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from quantumtrader.config_file import ConfigError, read_toml
from quantumtrader.portfolio.dated import dated_entries, in_force

__all__ = ["PACKAGED_TAX", "TaxEstimate", "TaxRate", "TaxTable", "TaxTableError", "default_tax_table"]

PACKAGED_TAX = Path(__file__).with_name("b3_tax.toml")
_CENT = Decimal("0.01")


class TaxTableError(ValueError):
    """The tax table cannot be used (one line naming the file and key)."""


@dataclass(frozen=True)
class TaxRate:
    valid_from: dt.date
    rate: Decimal
    withheld_at_source: Decimal


@dataclass(frozen=True)
class TaxEstimate:
    taxable_brl: Decimal     # the positive net day-trade result (0 for a loss)
    tax_brl: Decimal         # rate x taxable, to the centavo
    withheld_brl: Decimal    # the broker's withholding, part of tax_brl
    due_brl: Decimal         # what remains to pay: tax - withheld


def _rate(origin: str, where: str, value: Any) -> Decimal:
    bad = TaxTableError(f"{origin}: {where}: must be a fraction in [0, 1] (got {value!r})")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise bad
    try:
        r = Decimal(str(value))
    except InvalidOperation:
        raise bad from None
    if not r.is_finite() or not (0 <= r <= 1):
        raise bad
    return r


class TaxTable:
    def __init__(self, data: dict[str, Any], origin: str = "<dict>") -> None:
        self.origin = origin
        self.version = str(data.get("version", ""))
        unknown = sorted(set(data) - {"version", "day_trade"})
        if unknown:
            raise TaxTableError(f"{origin}: unknown key {unknown[0]!r} (known: version, [[day_trade]])")
        rows = data.get("day_trade")
        if not isinstance(rows, list) or not rows:
            raise TaxTableError(f"{origin}: give [[day_trade]] entries (from, rate, withheld_at_source)")

        def entry(valid_from: dt.date, row: dict[str, Any], at: str) -> TaxRate:
            rate = _rate(origin, f"{at}.rate", row["rate"])
            withheld = _rate(origin, f"{at}.withheld_at_source", row["withheld_at_source"])
            if withheld > rate:
                raise TaxTableError(f"{origin}: {at}.withheld_at_source: {withheld} is more than the rate "
                                    f"{rate} it is part of")
            return TaxRate(valid_from, rate, withheld)

        self.rates = dated_entries(rows, origin=origin, where="day_trade",
                                   keys=("rate", "withheld_at_source"), error=TaxTableError, build=entry)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> TaxTable:
        """The table in ``path`` (default: the packaged ``b3_tax.toml``)."""
        p = Path(path) if path is not None else PACKAGED_TAX
        try:
            data = read_toml(str(p))
        except ConfigError as e:
            raise TaxTableError(str(e)) from None
        return cls(data, str(p))

    def rate(self, on: dt.date) -> TaxRate:
        r = in_force(self.rates, on)
        if r is None:
            raise TaxTableError(f"{self.origin}: no day-trade tax rate on {on} (its first entry is from "
                                f"{self.rates[0].valid_from})")
        return r

    def estimate(self, net_day_trade_brl: Decimal, on: dt.date) -> TaxEstimate:
        """The tax on one day's net day-trade result (gains - losses - costs)."""
        r = self.rate(on)
        taxable = max(Decimal(0), net_day_trade_brl)
        tax = (taxable * r.rate).quantize(_CENT, ROUND_HALF_UP)
        withheld = (taxable * r.withheld_at_source).quantize(_CENT, ROUND_HALF_UP)
        return TaxEstimate(taxable, tax, withheld, tax - withheld)


_DEFAULT: TaxTable | None = None


def default_tax_table() -> TaxTable:
    """The packaged table, read once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = TaxTable.load()
    return _DEFAULT
