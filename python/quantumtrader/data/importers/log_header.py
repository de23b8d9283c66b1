"""The header fields an importer decides for the event log it feeds (the
writer itself lives in ``quantumtrader.data.eventlog``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogHeaderFields:
    instrument: str
    price_unit: float  # price_float = price * price_unit
    tick_size: float
    qty_scale: float  # integer qty = venue qty * qty_scale (1 for contracts)
    calendar_version: str
    source: str  # "<format>:<file name>"
