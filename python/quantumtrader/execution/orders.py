"""Order vocabulary shared by signal, risk, execution and portfolio.

Numbering follows ProfitDLL's Version 1 records (spec/profitdll.md): side 1
buy / 2 sell; type 1 market, 2 limit, 4 stop-limit; statuses 0..18 as the
order callback reports them.  Prices are integer price units of the
instrument (:class:`quantumtrader.instruments.InstrumentSpec`).

:class:`Order` is execution's record of one order: created when its intent
is journaled (its ``internal_id`` is the journal's row id), bound to the
venue's local id and ClOrdID when they are known, moved by the order state
machine (:mod:`quantumtrader.execution.engine`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Fill", "Order", "OrderPurpose", "OrderRequest", "OrderStatus", "OrderType", "Side"]


class Side(enum.IntEnum):
    BUY = 1
    SELL = 2

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.IntEnum):
    MARKET = 1
    LIMIT = 2
    STOP_LIMIT = 4


class OrderStatus(enum.IntEnum):
    """ProfitDLL's order status codes, plus our own state before the venue
    answers (PENDING_SUBMIT: journaled, SendOrder not yet returned)."""

    NEW = 0
    PARTIALLY_FILLED = 1
    FILLED = 2
    DONE_FOR_DAY = 3
    CANCELED = 4
    REPLACED = 5
    PENDING_CANCEL = 6
    STOPPED = 7
    REJECTED = 8
    SUSPENDED = 9
    PENDING_NEW = 10
    CALCULATED = 11
    EXPIRED = 12
    ACCEPTED_FOR_BIDDING = 13
    PENDING_REPLACE = 14
    PARTIALLY_FILLED_CANCELED = 15
    RECEIVED = 16
    PARTIALLY_FILLED_EXPIRED = 17
    PARTIALLY_FILLED_REJECTED = 18
    PENDING_SUBMIT = 100  # ours: journaled, not yet acknowledged by SendOrder

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({
    OrderStatus.FILLED, OrderStatus.DONE_FOR_DAY, OrderStatus.CANCELED, OrderStatus.REJECTED,
    OrderStatus.EXPIRED, OrderStatus.PARTIALLY_FILLED_CANCELED, OrderStatus.PARTIALLY_FILLED_EXPIRED,
    OrderStatus.PARTIALLY_FILLED_REJECTED, OrderStatus.STOPPED,
})


class OrderPurpose(enum.Enum):
    ENTRY = "entry"              # opens or adds to a position
    EXIT = "exit"                # the signal closes (part of) the position
    STOP_LOSS = "stop_loss"      # bracket leg
    TAKE_PROFIT = "take_profit"  # bracket leg
    FLATTEN = "flatten"          # risk: kill switch, close-out time, REDUCING

    @property
    def reduces(self) -> bool:
        return self is not OrderPurpose.ENTRY


@dataclass(frozen=True)
class OrderRequest:
    """What the signal (or a bracket, or risk) wants sent; risk checks it
    before execution journals and sends it."""

    ticker: str
    side: Side
    quantity: int
    order_type: OrderType
    purpose: OrderPurpose
    price: int | None = None        # price units; None for market
    stop_price: int | None = None   # stop-limit trigger, price units
    decision_id: int | None = None  # the decision that asked for it
    parent_id: int | None = None    # bracket legs: the entry order's internal id


@dataclass(frozen=True)
class Fill:
    """One execution: derived from TradedQuantity / AveragePrice deltas of an
    order's updates, in event-id order.  ``price`` is this fill's own price
    in price units (from the average-price delta, exact)."""

    order_id: int       # internal id
    ticker: str
    side: Side
    quantity: int
    price: int
    exch_ns: int
    event_id: int
    fee_brl: Decimal = Decimal(0)


@dataclass
class Order:
    """One order's state.  ``quantity`` / ``price`` / ``stop_price`` start as
    the request's and follow accepted changes (REPLACED); ``cum_qty`` never
    decreases; ``avg_price`` is the venue's average fill price (a double, as
    ProfitDLL reports it); ``fills`` are this order's fills in event order."""

    internal_id: int
    request: OrderRequest
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    local_id: int | None = None
    cl_ord_id: str | None = None
    cum_qty: int = 0
    leaves_qty: int = 0
    avg_price: float = 0.0
    last_event_id: int = 0
    fills: list[Fill] = field(default_factory=list)
    created_wall_ns: int = 0
    sent_wall_ns: int | None = None
    acked_wall_ns: int | None = None
    quantity: int = 0
    price: int | None = None
    stop_price: int | None = None
    cancel_requested: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        if self.quantity == 0:
            self.quantity = self.request.quantity
            self.price = self.request.price
            self.stop_price = self.request.stop_price
            if self.status is OrderStatus.PENDING_SUBMIT:
                self.leaves_qty = self.request.quantity

    @property
    def ticker(self) -> str:
        return self.request.ticker

    @property
    def side(self) -> Side:
        return self.request.side

    @property
    def purpose(self) -> OrderPurpose:
        return self.request.purpose

    @property
    def working(self) -> bool:
        return not self.status.terminal
