"""Risk limits: one frozen, validated configuration.

Every value is checked when the config is built; a bad one (negative, NaN,
a float where contracts are counted, an unknown key) is refused with one
line naming the field (:class:`RiskConfigError`).  Money is ``Decimal`` BRL;
a float or string given for it is converted through ``str`` (no binary
drift).  Times are minutes of the exchange clock; ``stale_after_s`` is
seconds of the wall (monotonic) clock."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from quantumtrader.instruments import DEFAULT_MARGIN_BRL

__all__ = ["RiskConfig", "RiskConfigError"]


class RiskConfigError(ValueError):
    """A risk setting that cannot be used (one line naming the field)."""


def _count(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RiskConfigError(f"risk.{name}: must be a whole number >= {minimum} (got {value!r})")
    return value


def _money(name: str, value: Any, *, positive: bool) -> Decimal:
    bad = RiskConfigError(f"risk.{name}: must be an amount in BRL {'> 0' if positive else '>= 0'} "
                          f"(got {value!r})")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise bad
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise bad from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise bad
    return amount


@dataclass(frozen=True)
class RiskConfig:
    max_position: int = 1                      # |net contracts| per instrument
    max_order_size: int = 1                    # contracts per entry order
    max_orders_per_minute: int = 30            # entries + reductions sent in any 60 s (entries denied)
    daily_loss_limit_brl: Decimal = Decimal(500)    # net day P&L at or below -limit: REDUCING
    max_drawdown_brl: Decimal = Decimal(800)        # net day P&L this far below its peak: REDUCING
    no_entry_last_minutes: int = 15            # no entries in the session's last minutes
    flatten_minutes_before_closeout: int = 5   # flatten this long before the broker's close-out
    closeout_minutes_before_close: int = 15    # the broker's automatic close-out, before the close
    price_band_ticks: int = 20                 # limit/stop prices within this of the last trade
    duplicate_window_ms: int = 500             # the same order again within this is a duplicate
    capital_brl: Decimal = Decimal(50000)      # what margins are drawn from
    margin_per_contract_brl: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_MARGIN_BRL))
    stale_after_s: float = 10.0                # no market activity this long: no entries

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _count("max_position", self.max_position, minimum=1)
        _count("max_order_size", self.max_order_size, minimum=1)
        _count("max_orders_per_minute", self.max_orders_per_minute, minimum=1)
        set_(self, "daily_loss_limit_brl", _money("daily_loss_limit_brl", self.daily_loss_limit_brl,
                                                   positive=True))
        set_(self, "max_drawdown_brl", _money("max_drawdown_brl", self.max_drawdown_brl, positive=True))
        _count("no_entry_last_minutes", self.no_entry_last_minutes, minimum=0)
        _count("flatten_minutes_before_closeout", self.flatten_minutes_before_closeout, minimum=0)
        _count("closeout_minutes_before_close", self.closeout_minutes_before_close, minimum=0)
        _count("price_band_ticks", self.price_band_ticks, minimum=1)
        _count("duplicate_window_ms", self.duplicate_window_ms, minimum=0)
        set_(self, "capital_brl", _money("capital_brl", self.capital_brl, positive=True))
        if not isinstance(self.margin_per_contract_brl, Mapping):
            raise RiskConfigError("risk.margin_per_contract_brl: must be a table ROOT = amount")
        margins = {}
        for root, amount in self.margin_per_contract_brl.items():
            margins[str(root).upper()] = _money(f"margin_per_contract_brl.{root}", amount, positive=False)
        set_(self, "margin_per_contract_brl", margins)
        s = self.stale_after_s
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s <= 0:
            raise RiskConfigError(f"risk.stale_after_s: must be a number of seconds > 0 (got {s!r})")
        set_(self, "stale_after_s", float(s))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RiskConfig:
        """From a config table (``[risk]``); an unknown key is refused.  A
        ``margin_per_contract_brl`` table replaces the defaults root by root."""
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise RiskConfigError(f"risk: unknown setting {key!r} (known: {', '.join(known)})")
        kw = dict(data)
        if "margin_per_contract_brl" in kw:
            given = kw["margin_per_contract_brl"]
            if not isinstance(given, Mapping):
                raise RiskConfigError("risk.margin_per_contract_brl: must be a table ROOT = amount")
            given = {str(k).upper(): v for k, v in given.items()}
            kw["margin_per_contract_brl"] = {**DEFAULT_MARGIN_BRL, **given}
        return cls(**kw)
