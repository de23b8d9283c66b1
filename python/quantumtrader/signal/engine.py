"""The signal: from the model's probabilities (and the agents' consensus, when
it has an opinion) to entry, exit and size in contracts.

Contract of :meth:`SignalEngine.decide` (one decision point, the signed
position of its instrument at that moment, an optional consensus):

- ``model`` is the decision's (sell, hold, buy) probabilities.  With a
  consensus that has an opinion, the vector decided on (``blended``) is
  ``(1 - w) * model + w * consensus`` with ``w = consensus_weight``;
  without one (``None``, or "no opinion") it is the model alone.
- Exit first: holding a position, the signal exits (the whole position) when
  the blended probability of the opposite side reaches ``exit_threshold``,
  in both modes (agreement gates entries only: leaving needs no vote).
- Entry: the most likely class of ``blended`` must be buy or sell (a tie
  between the top two is no side), its probability must reach
  ``entry_threshold`` and its lead over the runner-up (the *confidence*)
  ``min_confidence``.  Mode ``"agree"`` adds that the model and the
  consensus, each on its own, favour that same side (a consensus with no
  opinion leaves the model alone, as in ``"blend"``).  The size is
  ``contracts``, capped so that the position stays within ``max_position``;
  an entry against an open position waits for its exit (no reversal in one
  decision).
- Never an entry on a history (backfill) decision, which decides nothing at
  all, nor on a ``book_suspect`` one (exits still happen: leaving is never
  the riskier move).  A model output that is not a probability vector
  (NaN, all zeros: no model) holds, with reason ``bad_model_output``.

Every :class:`Signal` carries its inputs and :meth:`Signal.record` returns
them, JSON-able, for the journal: the decision point (ids, feature vector id,
trade, flags), the model's probabilities, the consensus with its agents'
weights (or ``None``), the blend weight and mode, the blended vector, the
action, size and reason.  The engine is not thread-safe (the runner
serialises calls); bad configuration values are refused when the config is
built, in one line naming the field (:class:`SignalConfigError`)."""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from quantumtrader.execution.orders import OrderPurpose, OrderRequest, OrderType, Side
from quantumtrader.signal.decision import (
    Consensus,
    DecisionPoint,
    Probabilities,
    probabilities_problem,
    probability_list,
)

__all__ = ["MODES", "Signal", "SignalAction", "SignalConfig", "SignalConfigError", "SignalEngine"]

MODES = ("blend", "agree")
_SELL, _HOLD, _BUY = 0, 1, 2


class SignalConfigError(ValueError):
    """A signal setting that cannot be used (one line naming the field)."""


def _fraction(name: str, value: Any, *, positive: bool = False) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or not (0.0 <= value <= 1.0) or (positive and value == 0):
        span = "(0, 1]" if positive else "[0, 1]"
        raise SignalConfigError(f"signal.{name}: must be a number in {span} (got {value!r})")
    return float(value)


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SignalConfigError(f"signal.{name}: must be a whole number >= 1 (got {value!r})")
    return value


@dataclass(frozen=True)
class SignalConfig:
    mode: str = "blend"             # "blend" | "agree"
    consensus_weight: float = 0.5   # weight of the consensus in the blend, [0, 1]
    entry_threshold: float = 0.6    # blended probability of the side to enter
    exit_threshold: float = 0.5     # blended probability of the opposite side to exit
    min_confidence: float = 0.1     # lead of the entry side over the runner-up
    contracts: int = 1              # size of one entry
    max_position: int = 1           # |position| the signal never goes beyond

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SignalConfigError(f"signal.mode: must be one of {', '.join(MODES)} (got {self.mode!r})")
        _fraction("consensus_weight", self.consensus_weight)
        _fraction("entry_threshold", self.entry_threshold, positive=True)
        _fraction("exit_threshold", self.exit_threshold, positive=True)
        _fraction("min_confidence", self.min_confidence)
        _count("contracts", self.contracts)
        _count("max_position", self.max_position)
        if self.contracts > self.max_position:
            raise SignalConfigError(f"signal.contracts: {self.contracts} is more than max_position "
                                    f"{self.max_position}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SignalConfig:
        """From a config table (``[signal]``); an unknown key is refused."""
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise SignalConfigError(f"signal: unknown setting {key!r} (known: {', '.join(known)})")
        return cls(**dict(data))


class SignalAction(enum.Enum):
    HOLD = "hold"
    ENTER_LONG = "enter_long"
    ENTER_SHORT = "enter_short"
    EXIT = "exit"


@dataclass(frozen=True)
class Signal:
    decision_id: int
    ticker: str
    action: SignalAction
    side: Side | None               # the order side (EXIT: the side that closes)
    quantity: int                   # contracts (0 for HOLD)
    model: Probabilities
    consensus: Consensus | None
    blended: Probabilities
    reason: str                     # a code: entry, exit, below_entry_threshold, ...
    detail: str = ""                # the numbers behind the reason
    point: DecisionPoint | None = None
    position: int = 0               # the position the decision saw
    mode: str = "blend"
    consensus_weight: float = 0.0   # the weight the blend gave the consensus (0 without opinion)

    def requests(self, position: int) -> list[OrderRequest]:
        """The market orders that carry out this signal given the position
        now (fills may have landed since the decision): an entry against an
        open opposite position, or an exit when flat, asks for nothing; an
        exit closes the whole current position."""
        if self.action is SignalAction.EXIT:
            if position == 0:
                return []
            side = Side.SELL if position > 0 else Side.BUY
            return [OrderRequest(self.ticker, side, abs(position), OrderType.MARKET, OrderPurpose.EXIT,
                                 decision_id=self.decision_id)]
        if self.side is None or self.quantity < 1 or position * self.side.sign < 0:
            return []
        return [OrderRequest(self.ticker, self.side, self.quantity, OrderType.MARKET, OrderPurpose.ENTRY,
                             decision_id=self.decision_id)]

    def record(self, *, with_features: bool = False) -> dict[str, Any]:
        """Everything the decision was made from and what it decided,
        JSON-able: probabilities as [sell, hold, buy] lists (the model's under
        ``probabilities``, the decided-on vector under ``blended``).
        ``with_features`` adds ``features``, the decision's feature vector (a
        numpy array or None, for the journal's BLOB; not JSON)."""
        rec: dict[str, Any] = self.point.record() if self.point is not None else {
            "decision_id": self.decision_id, "ticker": self.ticker}
        rec.update({
            "probabilities": probability_list(self.model),   # the model's
            "consensus": None if self.consensus is None else self.consensus.record(),
            "mode": self.mode, "consensus_weight": self.consensus_weight,
            "blended": probability_list(self.blended), "position": self.position,
            "action": self.action.value, "side": None if self.side is None else self.side.name.lower(),
            "quantity": self.quantity, "reason": self.reason, "detail": self.detail,
        })
        if with_features:
            rec["features"] = None if self.point is None else self.point.features
        return rec


class SignalEngine:
    """``decide(point, position, consensus)`` -> :class:`Signal` (see the module header)."""

    def __init__(self, config: SignalConfig | None = None) -> None:
        self.config = config or SignalConfig()
        self.reasons: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()

    @property
    def counters(self) -> dict[str, Any]:
        return {"decisions": sum(self.actions.values()), "actions": dict(self.actions),
                "reasons": dict(self.reasons)}

    def decide(self, dp: DecisionPoint, position: int, consensus: Consensus | None = None) -> Signal:
        cfg = self.config
        model = _three(dp.probabilities)
        cons = consensus.probabilities if consensus is not None else None
        weight = cfg.consensus_weight if cons is not None else 0.0

        def signal(action: SignalAction, reason: str, detail: str = "", side: Side | None = None,
                   quantity: int = 0, blended: Probabilities | None = None) -> Signal:
            self.actions[action.value] += 1
            self.reasons[reason] += 1
            chosen = model if blended is None else blended
            return Signal(dp.decision_id, dp.ticker, action, side, quantity, model, consensus, chosen, reason,
                          detail, dp, position, cfg.mode, weight)

        if dp.history:
            return signal(SignalAction.HOLD, "history", "a backfilled trade decides nothing")
        problem = probabilities_problem(dp.probabilities)
        if problem:
            return signal(SignalAction.HOLD, "bad_model_output", problem)
        blended = model if cons is None else _three(
            [(1.0 - weight) * m + weight * c for m, c in zip(model, cons, strict=True)])

        if position != 0:
            against = _SELL if position > 0 else _BUY
            if blended[against] >= cfg.exit_threshold:
                side = Side.SELL if position > 0 else Side.BUY
                return signal(SignalAction.EXIT, "exit",
                              f"{_NAMES[against]} {blended[against]:.4f} >= exit_threshold "
                              f"{cfg.exit_threshold}", side, abs(position), blended)

        order = sorted(range(3), key=lambda k: blended[k], reverse=True)
        top, second = order[0], order[1]
        if blended[top] == blended[second]:
            return signal(SignalAction.HOLD, "tie", f"{_NAMES[top]} and {_NAMES[second]} are equally likely",
                          blended=blended)
        if top == _HOLD:
            return signal(SignalAction.HOLD, "hold_most_likely", f"hold {blended[_HOLD]:.4f}",
                          blended=blended)
        side = Side.BUY if top == _BUY else Side.SELL
        name = _NAMES[top]
        if blended[top] < cfg.entry_threshold:
            return signal(SignalAction.HOLD, "below_entry_threshold",
                          f"{name} {blended[top]:.4f} < entry_threshold {cfg.entry_threshold}",
                          blended=blended)
        confidence = blended[top] - blended[second]
        if confidence < cfg.min_confidence:
            return signal(SignalAction.HOLD, "low_confidence",
                          f"{name} leads {_NAMES[second]} by {confidence:.4f} < min_confidence "
                          f"{cfg.min_confidence}", blended=blended)
        if cfg.mode == "agree" and cons is not None:
            m_side, c_side = _favoured(model), _favoured(cons)
            if m_side != top or c_side != top:
                return signal(SignalAction.HOLD, "no_agreement",
                              f"model favours {_NAMES.get(m_side, 'nothing')}, consensus "
                              f"{_NAMES.get(c_side, 'nothing')}", blended=blended)
        if dp.book_suspect:
            return signal(SignalAction.HOLD, "book_suspect", "a feed gap since the last complete book",
                          blended=blended)
        if position * side.sign < 0:
            return signal(SignalAction.HOLD, "opposite_position",
                          f"{name} while holding {position}: the exit comes first", blended=blended)
        room = cfg.max_position - abs(position)
        if room <= 0:
            return signal(SignalAction.HOLD, "at_max_position",
                          f"position {position}, max_position {cfg.max_position}", blended=blended)
        quantity = min(cfg.contracts, room)
        action = SignalAction.ENTER_LONG if side is Side.BUY else SignalAction.ENTER_SHORT
        return signal(action, "entry", f"{name} {blended[top]:.4f} >= entry_threshold {cfg.entry_threshold}, "
                      f"confidence {confidence:.4f}", side, quantity, blended)


_NAMES = {_SELL: "sell", _HOLD: "hold", _BUY: "buy"}


def _three(p: Any) -> Probabilities:
    """``p`` as a (sell, hold, buy) tuple of floats (NaN where it has no number)."""
    values = []
    for k in range(3):
        try:
            values.append(float(p[k]))
        except (TypeError, ValueError, IndexError):
            values.append(math.nan)
    return values[0], values[1], values[2]


def _favoured(p: Probabilities) -> int | None:
    """The single most likely class of ``p`` (None on a tie at the top)."""
    order = sorted(range(3), key=lambda k: p[k], reverse=True)
    return None if p[order[0]] == p[order[1]] else order[0]

