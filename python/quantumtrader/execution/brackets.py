"""Brackets: a stop loss and a take profit for each filled entry, emulated as
OCO by the system (brokers may not offer OCO on B3 futures).

Contract (the engine applies it after every fill and every leg update):
- Once an entry has filled (even partially) it gets a take-profit LIMIT and a
  stop-loss STOP_LIMIT on the other side, sized to its open quantity, priced
  from the entry's average fill price +- ticks (:class:`BracketConfig`).
  Prices never move after placement; only the size does.
- Open quantity = entry's filled quantity - what its legs have filled,
  capped by what remains of the ticker's position on the entry's side (an
  exit or a flatten closes it too).  Each working leg is resized (change
  order) to its own filled quantity + the open quantity; at 0 both legs are
  cancelled: one leg filling (partially) shrinks the other, which is the OCO.
- Until the venue has bound a leg (local id) a resize waits for it.
- Legs we cancelled (an exit closed the position) while the entry was still
  working are placed anew if the entry fills again.
- Nothing is placed or resized while the venue state is unknown or being
  reconciled; a clean reconciliation brings the legs up to date.  A leg that
  risk denies is asked for again at the next sync until one leg is out; a
  leg the venue rejects is counted and noted in the journal, not re-sent.
- Both legs rest for the full open quantity at once, so if the market jumps
  through both before a cancel lands, both can fill: the residual risk of
  an emulated OCO, which the position reconciliation exposes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from quantumtrader.execution.config import BracketConfig
from quantumtrader.execution.orders import Fill, Side
from quantumtrader.instruments import InstrumentSpec

__all__ = ["Bracket", "entry_price", "leg_prices"]


@dataclass
class Bracket:
    entry_id: int
    ticker: str
    side: Side                     # the entry's side
    take_profit_id: int | None = None   # the current legs
    stop_loss_id: int | None = None
    placed: bool = False           # a current leg went out
    targets: dict[int, int] = field(default_factory=dict)  # leg id -> total quantity last asked
    legs: list[int] = field(default_factory=list)  # every leg ever placed: their fills close the entry

    @property
    def current_ids(self) -> list[int]:
        return [i for i in (self.take_profit_id, self.stop_loss_id) if i is not None]

    def add_leg(self, leg_id: int, take_profit: bool, quantity: int) -> None:
        self.placed = True
        self.legs.append(leg_id)
        self.targets[leg_id] = quantity
        if take_profit:
            self.take_profit_id = leg_id
        else:
            self.stop_loss_id = leg_id


def entry_price(fills: list[Fill]) -> int:
    """Average price of fills, in price units (nearest)."""
    qty = sum(f.quantity for f in fills)
    if qty <= 0:
        raise ValueError("no filled quantity")
    avg = Decimal(sum(f.quantity * f.price for f in fills)) / qty
    return int(avg.to_integral_value(ROUND_HALF_EVEN))


def leg_prices(spec: InstrumentSpec, side: Side, entry: int, cfg: BracketConfig) -> tuple[int, int, int]:
    """(take-profit limit, stop trigger, stop limit) for an entry of ``side``
    at ``entry`` price units.  The take profit is rounded away from the entry
    (never a better price than asked), the stop trigger towards it (never
    more loss than configured)."""
    t = spec.tick
    if side is Side.BUY:
        tp = spec.round_to_tick(entry + cfg.take_profit_ticks * t, down=False)
        stop = spec.round_to_tick(entry - cfg.stop_loss_ticks * t, down=False)
        return tp, stop, stop - cfg.stop_limit_offset_ticks * t
    tp = spec.round_to_tick(entry - cfg.take_profit_ticks * t, down=True)
    stop = spec.round_to_tick(entry + cfg.stop_loss_ticks * t, down=True)
    return tp, stop, stop + cfg.stop_limit_offset_ticks * t
