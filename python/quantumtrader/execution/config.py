"""Execution settings: the bracket (stop loss + take profit) every filled
entry gets.  Distances are in ticks of the instrument, counted from the
entry's average fill price; the stop loss is a STOP_LIMIT whose limit sits
``stop_limit_offset_ticks`` beyond its trigger, so a fast market still fills
it (a plain stop would be a market order the broker may refuse in an
auction)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BracketConfig"]


@dataclass(frozen=True)
class BracketConfig:
    stop_loss_ticks: int = 8
    take_profit_ticks: int = 8
    stop_limit_offset_ticks: int = 4
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.stop_loss_ticks < 1 or self.take_profit_ticks < 1 or self.stop_limit_offset_ticks < 0:
            raise ValueError("bracket: stop loss and take profit need >= 1 tick, the stop-limit offset >= 0")
