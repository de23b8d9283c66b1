"""One instrument's position as FIFO lots of integer prices, and the round
trips its fills close.

A fill first closes the oldest open lots of the other side (first in, first
out), each closed piece becoming a :class:`RoundTrip`; what is left of it
opens a lot of its own side, so a fill larger than the position reverses it
through zero.  Prices are integer price units, so a round trip's points and
BRL are exact (``Decimal``, from :class:`~quantumtrader.instruments.InstrumentSpec`).

Fees follow the contracts: each fill's fee (``Decimal`` BRL for all its
contracts) is split over the pieces it closes and the lot it opens in
proportion to contracts, the last piece taking the remainder, so the fees of
the round trips plus those of the open lots always add up, to the centavo, to
the fees charged."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from quantumtrader.execution.orders import Side
from quantumtrader.instruments import InstrumentSpec

__all__ = ["Lot", "Position", "RoundTrip"]


@dataclass(frozen=True)
class RoundTrip:
    ticker: str
    side: Side            # of the entry
    quantity: int         # contracts
    entry_ns: int
    exit_ns: int
    entry_price: int      # price units
    exit_price: int
    points: Decimal       # per contract, in the trade's favour (negative: a loss)
    gross_brl: Decimal    # points x BRL per point x quantity
    fees_brl: Decimal     # the entry's and the exit's share of their fills' fees
    net_brl: Decimal      # gross - fees


@dataclass
class Lot:
    quantity: int         # > 0 contracts still open
    price: int            # price units
    exch_ns: int
    fee_brl: Decimal      # the part of its fill's fee not yet given to a round trip


def _share(total: Decimal, part: int, whole: int) -> Decimal:
    """``total * part / whole`` to the precision of ``total`` (at least the centavo)."""
    if part == whole:
        return total
    exp = total.as_tuple().exponent
    places = min(exp, -2) if isinstance(exp, int) else -2
    return (total * part / whole).quantize(Decimal(1).scaleb(places))


class Position:
    def __init__(self, spec: InstrumentSpec) -> None:
        self.spec = spec
        self.side: Side | None = None          # of the open lots
        self.lots: deque[Lot] = deque()
        self.realized_units = 0                # sum of (exit - entry) x sign x contracts, price units

    @property
    def quantity(self) -> int:
        """Signed net contracts (long > 0)."""
        n = sum(lot.quantity for lot in self.lots)
        return n if self.side is Side.BUY else -n

    @property
    def average_price(self) -> Decimal | None:
        """The open lots' average entry price in points (None when flat)."""
        n = sum(lot.quantity for lot in self.lots)
        if n == 0:
            return None
        return self.spec.points(sum(lot.quantity * lot.price for lot in self.lots)) / n

    @property
    def open_fees_brl(self) -> Decimal:
        return sum((lot.fee_brl for lot in self.lots), Decimal(0))

    def unrealized_units(self, mark: int) -> int:
        """Price units x contracts gained if everything closed at ``mark``."""
        if self.side is None:
            return 0
        return sum((mark - lot.price) * lot.quantity for lot in self.lots) * self.side.sign

    def apply(self, side: Side, quantity: int, price: int, exch_ns: int, fee_brl: Decimal) -> list[RoundTrip]:
        """Apply one fill; the round trips it closes."""
        closed: list[RoundTrip] = []
        left, fee_left = quantity, fee_brl
        while left and self.lots and self.side is not side:
            lot = self.lots[0]
            k = min(lot.quantity, left)
            entry_fee = _share(lot.fee_brl, k, lot.quantity)
            exit_fee = _share(fee_left, k, left)
            entry_side = side.opposite
            move = (price - lot.price) * entry_side.sign
            points = self.spec.points(move)
            gross = self.spec.brl(move) * k
            fees = entry_fee + exit_fee
            closed.append(RoundTrip(self.spec.ticker, entry_side, k, lot.exch_ns, exch_ns, lot.price, price,
                                    points, gross, fees, gross - fees))
            self.realized_units += move * k
            lot.quantity -= k
            lot.fee_brl -= entry_fee
            left -= k
            fee_left -= exit_fee
            if lot.quantity == 0:
                self.lots.popleft()
        if not self.lots:
            self.side = None
        if left:
            self.side = side
            self.lots.append(Lot(left, price, exch_ns, fee_left))
        return closed
