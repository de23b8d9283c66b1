"""What execution needs from a venue (ProfitDLL, or its simulator, through
:class:`quantumtrader.adapters.profitdll.execution.ProfitDLLVenue`).

Prices cross this boundary as integer price units of the instrument on the
way in and as the venue's doubles on the way out (``VenueOrder``: the
ProfitDLL's own fields, converted by the engine with ``InstrumentSpec``).
Every failure is a :class:`VenueError` with a one-line message; the engine
never sees the DLL's exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from quantumtrader.execution.orders import OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.instruments import InstrumentSpec

__all__ = ["Venue", "VenueError", "VenueOrder"]


class VenueError(RuntimeError):
    """A venue call failed (one line: which call and why)."""


@dataclass(frozen=True)
class VenueOrder:
    """One order as the venue reports it (GetOrderDetails)."""

    local_id: int
    cl_ord_id: str
    ticker: str
    side: Side
    order_type: OrderType
    quantity: int
    traded_quantity: int
    leaves_quantity: int
    price: float
    stop_price: float
    average_price: float
    status: OrderStatus
    event_id: int
    text: str


class Venue(Protocol):
    def send_order(self, req: OrderRequest, spec: InstrumentSpec) -> int:
        """Send; the venue's local id (the order callback may come first)."""
        ...

    def cancel_order(self, local_id: int, cl_ord_id: str) -> None: ...

    def change_order(self, local_id: int, cl_ord_id: str, spec: InstrumentSpec, *, quantity: int,
                     price: int | None, stop_price: int | None) -> None: ...

    def order_details(self, local_id: int, cl_ord_id: str) -> VenueOrder | None:
        """None: the venue does not know the order."""
        ...

    def open_orders(self) -> list[VenueOrder] | None:
        """Working orders of the account; None when the venue cannot list them."""
        ...

    def position(self, spec: InstrumentSpec) -> int:
        """Signed net contracts of the day (GetPositionV2, day trade)."""
        ...
