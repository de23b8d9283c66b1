"""The B3 fee table: what one contract costs per side, by instrument and date.

Data, not code: ``b3_fees.toml`` beside this module (or a user's copy, passed
to :meth:`FeeTable.load`) holds, per instrument root, dated entries with the
exchange's day-trade and overnight fee per contract and side; a
``[broker]`` fee per contract and side is added to both.  An entry applies
from its ``from`` date until the next entry of the same root.  Amounts are
``Decimal`` BRL (money never drifts in floats).  A malformed table is refused
with one line naming the file and the key."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from quantumtrader.config_file import ConfigError, read_toml
from quantumtrader.portfolio.dated import dated_entries, in_force

PACKAGED_FEES = Path(__file__).with_name("b3_fees.toml")


class FeeTableError(ValueError):
    """The fee table cannot be used (one line naming the file and key), or has no fee for a request."""


@dataclass(frozen=True)
class FeeEntry:
    valid_from: dt.date
    day_trade: Decimal
    overnight: Decimal


def _money(origin: str, where: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FeeTableError(f"{origin}: {where}: must be an amount in BRL (got {value!r})")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise FeeTableError(f"{origin}: {where}: must be an amount in BRL (got {value!r})") from None
    if not amount.is_finite() or amount < 0:
        raise FeeTableError(f"{origin}: {where}: must be >= 0 (got {value!r})")
    return amount


class FeeTable:
    """Fees per contract and side: ``fee(root, on, day_trade)``."""

    def __init__(self, data: dict[str, Any], origin: str = "<dict>") -> None:
        self.origin = origin
        self.version = str(data.get("version", ""))
        unknown = sorted(set(data) - {"version", "broker", "instruments"})
        if unknown:
            raise FeeTableError(f"{origin}: unknown key {unknown[0]!r} (known: version, [broker], "
                                "[instruments])")
        broker = data.get("broker", {})
        if not isinstance(broker, dict) or set(broker) - {"per_contract"}:
            raise FeeTableError(f"{origin}: [broker] holds only per_contract")
        self.broker = _money(origin, "[broker] per_contract", broker.get("per_contract", 0))
        self.entries: dict[str, list[FeeEntry]] = {}
        instruments = data.get("instruments", {})
        if not isinstance(instruments, dict):
            raise FeeTableError(f"{origin}: [instruments] must be a table of [[instruments.ROOT]] entries")

        def entry(valid_from: dt.date, row: dict[str, Any], at: str) -> FeeEntry:
            return FeeEntry(valid_from, _money(origin, f"{at}.day_trade", row["day_trade"]),
                            _money(origin, f"{at}.overnight", row["overnight"]))

        for root, rows in instruments.items():
            if not isinstance(rows, list) or not rows:
                raise FeeTableError(f"{origin}: instruments.{root}: give [[instruments.{root}]] entries")
            self.entries[root.upper()] = dated_entries(
                rows, origin=origin, where=f"instruments.{root}", keys=("day_trade", "overnight"),
                error=FeeTableError, build=entry)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> FeeTable:
        """The table in ``path`` (default: the packaged ``b3_fees.toml``)."""
        p = Path(path) if path is not None else PACKAGED_FEES
        try:
            data = read_toml(str(p))
        except ConfigError as e:
            raise FeeTableError(str(e)) from None
        return cls(data, str(p))

    def fee(self, root: str, on: dt.date | None = None, *, day_trade: bool = True) -> Decimal:
        """Exchange plus broker fee per contract and side for ``root`` (WDO,
        WIN) on the date ``on`` (default: today), day trade or overnight."""
        entries = self.entries.get(root.upper())
        if not entries:
            known = ", ".join(sorted(self.entries)) or "none"
            raise FeeTableError(f"{self.origin}: no fees for {root} (the table has {known})")
        on = on or dt.date.today()
        e = in_force(entries, on)
        if e is None:
            raise FeeTableError(f"{self.origin}: no fee for {root} on {on} (its first entry is from "
                                f"{entries[0].valid_from})")
        return (e.day_trade if day_trade else e.overnight) + self.broker


_DEFAULT: FeeTable | None = None


def default_fee_table() -> FeeTable:
    """The packaged table, read once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = FeeTable.load()
    return _DEFAULT
