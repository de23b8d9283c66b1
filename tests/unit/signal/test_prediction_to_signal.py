"""The signal: blend, agree mode, a consensus with no opinion, thresholds,
minimum confidence, exits, sizing, and the record the journal stores."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from quantumtrader.execution.orders import OrderPurpose, OrderType, Side
from quantumtrader.qtcore.pipeline import D_BOOK_SUSPECT, D_HISTORY, DECISION_DTYPE, DECISION_VECTOR_DTYPE
from quantumtrader.signal import (
    Consensus,
    ConsensusError,
    DecisionPoint,
    SignalAction,
    SignalConfig,
    SignalConfigError,
    SignalEngine,
)


def point(sell: float, hold: float, buy: float, *, book_suspect: bool = False, history: bool = False,
          decision_id: int = 7) -> DecisionPoint:
    return DecisionPoint(decision_id=decision_id, instrument_id=1, ticker="WDOZ26", trade_number=1234,
                         exch_ns=1_765_000_000_000_000_000, price=57_105, probabilities=(sell, hold, buy),
                         book_suspect=book_suspect, history=history, features=None, recv_ns=99, row=42,
                         seq=1001)


def engine(**kw: object) -> SignalEngine:
    return SignalEngine(SignalConfig(**kw))  # type: ignore[arg-type]


# ------------------------------------------------------------ model alone
def test_model_alone_enters_on_threshold_and_confidence() -> None:
    s = engine().decide(point(0.1, 0.2, 0.7), 0)
    assert (s.action, s.side, s.quantity, s.reason) == (SignalAction.ENTER_LONG, Side.BUY, 1, "entry")
    assert s.blended == s.model == (0.1, 0.2, 0.7)
    s = engine().decide(point(0.65, 0.25, 0.10), 0)
    assert (s.action, s.side) == (SignalAction.ENTER_SHORT, Side.SELL)


def test_below_the_entry_threshold_holds() -> None:
    s = engine(entry_threshold=0.6).decide(point(0.2, 0.21, 0.59), 0)
    assert (s.action, s.reason) == (SignalAction.HOLD, "below_entry_threshold")
    # exactly at the threshold enters (>=)
    assert engine(entry_threshold=0.6).decide(point(0.2, 0.2, 0.6), 0).action is SignalAction.ENTER_LONG


def test_min_confidence_is_the_lead_over_the_runner_up() -> None:
    # buy 0.5 leads hold 0.45 by 0.05: enough for 0.05, not for 0.1
    p = point(0.05, 0.45, 0.5)
    assert engine(entry_threshold=0.5, min_confidence=0.1).decide(p, 0).reason == "low_confidence"
    assert engine(entry_threshold=0.5, min_confidence=0.04).decide(p, 0).action is SignalAction.ENTER_LONG


def test_hold_most_likely_and_ties_never_enter() -> None:
    assert engine().decide(point(0.1, 0.8, 0.1), 0).reason == "hold_most_likely"
    assert engine(entry_threshold=0.4, min_confidence=0.0).decide(point(0.45, 0.1, 0.45), 0).reason == "tie"


# ------------------------------------------------------------ consensus
def test_blend_weights_model_and_consensus() -> None:
    cons = Consensus((0.1, 0.1, 0.8), {"trend": 0.6, "mean_reversion": 0.4})
    s = engine(consensus_weight=0.25, entry_threshold=0.6).decide(point(0.2, 0.3, 0.5), 0, cons)
    expected = (0.75 * 0.2 + 0.25 * 0.1, 0.75 * 0.3 + 0.25 * 0.1, 0.75 * 0.5 + 0.25 * 0.8)
    assert s.blended == pytest.approx(expected)
    assert s.blended[2] == pytest.approx(0.575)  # below 0.6: the consensus lifted it, not enough
    assert s.reason == "below_entry_threshold"
    s = engine(consensus_weight=0.5, entry_threshold=0.6).decide(point(0.2, 0.3, 0.5), 0, cons)
    assert s.blended[2] == pytest.approx(0.65) and s.action is SignalAction.ENTER_LONG
    assert s.consensus_weight == 0.5


def test_no_opinion_consensus_leaves_the_model_alone() -> None:
    silent = Consensus(None, {"trend": 1.0})
    for mode in ("blend", "agree"):
        s = engine(mode=mode, consensus_weight=0.9).decide(point(0.1, 0.2, 0.7), 0, silent)
        assert s.blended == s.model and s.action is SignalAction.ENTER_LONG
        assert s.consensus_weight == 0.0  # the record says the blend gave it nothing
        assert s.record()["consensus"] == {"probabilities": None, "weights": {"trend": 1.0}, "proposals": {}}


def test_agree_mode_needs_both_to_favour_the_side() -> None:
    model = point(0.05, 0.15, 0.8)
    against = Consensus((0.5, 0.3, 0.2))
    # blended buy = 0.8*0.8 + 0.2*0.2 = 0.68: enough in blend mode
    s = engine(mode="blend", consensus_weight=0.2).decide(model, 0, against)
    assert s.action is SignalAction.ENTER_LONG
    s = engine(mode="agree", consensus_weight=0.2).decide(model, 0, against)
    assert (s.action, s.reason) == (SignalAction.HOLD, "no_agreement")
    s = engine(mode="agree", consensus_weight=0.2).decide(model, 0, Consensus((0.1, 0.3, 0.6)))
    assert s.action is SignalAction.ENTER_LONG


def test_a_bad_consensus_is_refused_in_one_line() -> None:
    with pytest.raises(ConsensusError, match="sell probability nan"):
        Consensus((math.nan, 0.5, 0.5))
    with pytest.raises(ConsensusError, match="sum to"):
        Consensus((0.5, 0.5, 0.5))
    with pytest.raises(ConsensusError, match="weight of 'trend'"):
        Consensus((0.2, 0.3, 0.5), {"trend": -1.0})
    with pytest.raises(ConsensusError, match="proposal of 'flow': probabilities sum to"):
        Consensus((0.2, 0.3, 0.5), {"flow": 1.0}, {"flow": (0.5, 0.5, 0.5)})


# ------------------------------------------------------------ exits and sizing
def test_exit_when_the_opposite_side_reaches_the_exit_threshold() -> None:
    e = engine(exit_threshold=0.5)
    s = e.decide(point(0.55, 0.3, 0.15), 1)
    assert (s.action, s.side, s.quantity, s.reason) == (SignalAction.EXIT, Side.SELL, 1, "exit")
    s = e.decide(point(0.15, 0.3, 0.55), -2)
    assert (s.action, s.side, s.quantity) == (SignalAction.EXIT, Side.BUY, 2)
    # the held side still favoured, or the other side below the exit threshold: stay
    assert e.decide(point(0.45, 0.3, 0.25), 1).action is SignalAction.HOLD
    # an entry signal against an open position waits for the exit (no reversal in one decision)
    s = engine(exit_threshold=0.9, entry_threshold=0.6).decide(point(0.7, 0.2, 0.1), 1)
    assert (s.action, s.reason) == (SignalAction.HOLD, "opposite_position")


def test_size_is_contracts_capped_by_max_position() -> None:
    e = engine(contracts=2, max_position=3)
    assert e.decide(point(0.1, 0.2, 0.7), 0).quantity == 2
    assert e.decide(point(0.1, 0.2, 0.7), 2).quantity == 1   # adds only up to 3
    s = e.decide(point(0.1, 0.2, 0.7), 3)
    assert (s.action, s.reason) == (SignalAction.HOLD, "at_max_position")
    assert e.decide(point(0.7, 0.2, 0.1), -1).quantity == 2


def test_requests_follow_the_position_now() -> None:
    e = engine(contracts=1, max_position=2)
    entry = e.decide(point(0.1, 0.2, 0.7, decision_id=9), 0)
    [req] = entry.requests(0)
    assert (req.side, req.quantity, req.order_type, req.purpose, req.decision_id, req.price) == (
        Side.BUY, 1, OrderType.MARKET, OrderPurpose.ENTRY, 9, None)
    assert entry.requests(-1) == []          # a short arrived meanwhile: no entry against it
    exit_ = e.decide(point(0.6, 0.3, 0.1), 2)
    [req] = exit_.requests(2)
    assert (req.side, req.quantity, req.purpose) == (Side.SELL, 2, OrderPurpose.EXIT)
    assert exit_.requests(0) == []           # already flat
    [req] = exit_.requests(1)                # a partial exit landed: close what is left
    assert req.quantity == 1
    assert e.decide(point(0.1, 0.8, 0.1), 0).requests(0) == []


# ------------------------------------------------------------ what never trades
def test_history_and_book_suspect_never_enter() -> None:
    e = engine()
    assert e.decide(point(0.1, 0.2, 0.7, history=True), 0).reason == "history"
    assert e.decide(point(0.7, 0.2, 0.1, history=True), 1).action is SignalAction.HOLD
    s = e.decide(point(0.1, 0.2, 0.7, book_suspect=True), 0)
    assert (s.action, s.reason) == (SignalAction.HOLD, "book_suspect")
    # leaving is still allowed on a suspect book
    assert e.decide(point(0.7, 0.2, 0.1, book_suspect=True), 1).action is SignalAction.EXIT


@pytest.mark.parametrize("probs", [(math.nan, 0.5, 0.5), (0.0, 0.0, 0.0), (0.2, 0.2, 0.2), (-0.1, 0.1, 1.0)])
def test_a_model_output_that_is_not_probabilities_holds(probs: tuple[float, float, float]) -> None:
    s = engine().decide(point(*probs), 1)
    assert (s.action, s.reason) == (SignalAction.HOLD, "bad_model_output")
    assert s.requests(1) == []
    json.dumps(s.record(), allow_nan=False)                 # still strict JSON (NaN -> null)
    if math.isnan(probs[0]):
        assert s.record()["probabilities"] == [None, 0.5, 0.5]


# ------------------------------------------------------------ the record
def test_the_record_carries_every_input_and_is_json() -> None:
    cons = Consensus((0.1, 0.2, 0.7), {"trend": 0.7, "flow": 0.3},
                     {"trend": (0.0, 0.2, 0.8), "flow": (0.3, 0.2, 0.5)})
    e = engine(consensus_weight=0.4)
    s = e.decide(point(0.1, 0.3, 0.6), 0, cons)
    rec = json.loads(json.dumps(s.record(), allow_nan=False))
    assert rec["decision_id"] == 7 and rec["ticker"] == "WDOZ26" and rec["trade_number"] == 1234
    assert rec["feature_vector_id"] == {"instrument_id": 1, "row": 42, "seq": 1001}
    assert rec["exch_ns"] == 1_765_000_000_000_000_000 and rec["price"] == 57_105
    assert rec["probabilities"] == [0.1, 0.3, 0.6]       # the model's (sell, hold, buy)
    assert rec["consensus"] == {"probabilities": [0.1, 0.2, 0.7], "weights": {"trend": 0.7, "flow": 0.3},
                                "proposals": {"trend": [0.0, 0.2, 0.8], "flow": [0.3, 0.2, 0.5]}}
    assert rec["consensus_weight"] == 0.4 and rec["mode"] == "blend"
    assert rec["blended"][2] == pytest.approx(0.64)
    assert (rec["action"], rec["side"], rec["quantity"], rec["reason"]) == ("enter_long", "buy", 1, "entry")
    assert rec["book_suspect"] is False and rec["history"] is False and rec["position"] == 0
    assert e.counters["actions"] == {"enter_long": 1}
    assert json.loads(json.dumps(engine().decide(point(0.1, 0.2, 0.7), 0).record()))["consensus"] is None
    assert "features" not in rec and s.record(with_features=True)["features"] is None  # no vector


def test_from_record_reads_the_pipeline_decision() -> None:
    rec = np.zeros(1, dtype=DECISION_VECTOR_DTYPE)[0]
    rec["decision_seq"], rec["instrument"], rec["trade_number"] = 5, 2, 777
    rec["exch_ns"], rec["price"], rec["recv_ns"], rec["row"], rec["seq"] = 123, 1_288_450, 456, 31, 99
    rec["output"] = (0.2, 0.3, 0.5)
    rec["flags"] = D_BOOK_SUSPECT
    rec["features"] = np.arange(rec["features"].shape[0], dtype=np.float64)
    dp = DecisionPoint.from_record(rec, "WINZ26")
    assert (dp.decision_id, dp.instrument_id, dp.ticker, dp.trade_number, dp.exch_ns, dp.price) == (
        5, 2, "WINZ26", 777, 123, 1_288_450)
    assert dp.probabilities == (0.2, 0.3, 0.5) and dp.book_suspect and not dp.history
    assert (dp.recv_ns, dp.row, dp.seq) == (456, 31, 99)
    assert dp.features is not None and dp.features[3] == 3.0
    rec["features"][3] = -1.0                      # a copy: the ring slot may be reused
    assert dp.features[3] == 3.0
    journaled = SignalEngine().decide(dp, 0).record(with_features=True)
    assert journaled["features"] is dp.features and journaled["reason"] == "below_entry_threshold"
    plain = np.zeros(1, dtype=DECISION_DTYPE)[0]
    plain["flags"] = D_HISTORY
    dp = DecisionPoint.from_record(plain, "WDOZ26")
    assert dp.history and not dp.book_suspect and dp.features is None
    with pytest.raises(ValueError, match="not a decision record"):
        DecisionPoint.from_record(np.zeros(1, dtype=[("x", "<i8")])[0], "WDOZ26")


# ------------------------------------------------------------ config
@pytest.mark.parametrize(("field", "value"), [
    ("entry_threshold", math.nan), ("exit_threshold", -0.1), ("min_confidence", 1.5),
    ("consensus_weight", math.inf), ("contracts", 0), ("max_position", 1.0), ("mode", "vote"),
    ("entry_threshold", 0.0),
])
def test_bad_config_values_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(SignalConfigError, match=f"^signal.{field}: ") as e:
        SignalConfig(**{field: value})  # type: ignore[arg-type]
    assert "\n" not in str(e.value)


def test_config_from_a_table() -> None:
    cfg = SignalConfig.from_mapping({"mode": "agree", "entry_threshold": 0.7, "contracts": 1})
    assert cfg.mode == "agree" and cfg.entry_threshold == 0.7
    with pytest.raises(SignalConfigError, match="unknown setting 'threshold'"):
        SignalConfig.from_mapping({"threshold": 0.7})
    with pytest.raises(SignalConfigError, match=r"signal\.contracts: 2 is more than max_position 1"):
        SignalConfig(contracts=2)
