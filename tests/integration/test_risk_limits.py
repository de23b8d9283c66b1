"""The risk engine, one test per limit breached: each denial carries its
reason code and is counted; reducing orders pass where the issue says they
must (REDUCING; flatten even when HALTED or killed)."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from quantumtrader.data.events import Phase
from quantumtrader.execution.orders import Fill, OrderPurpose, OrderRequest, OrderType, Side
from quantumtrader.instruments import InstrumentSpec
from quantumtrader.portfolio import FeeTable, Portfolio
from quantumtrader.risk import (
    DenialReason,
    KillSwitch,
    RiskConfig,
    RiskConfigError,
    RiskContext,
    RiskEngine,
    RiskState,
    RiskVerdict,
)
from quantumtrader.signal import DecisionPoint, SignalAction, SignalConfig, SignalEngine

Probs = tuple[float, float, float]

WDO = InstrumentSpec.for_ticker("WDOZ26", 0.1, 0.5)      # tick = 5 price units
WIN = InstrumentSpec.for_ticker("WINZ26", 1.0, 5.0)
MIN = 60_000_000_000
OPEN = 1_765_800_000_000_000_000                          # the day's continuous session, UTC ns
CLOSE = OPEN + 9 * 60 * MIN
NOON = OPEN + 3 * 60 * MIN
WALL = 5_000_000_000_000                                  # the monotonic clock
LAST = 57_100                                             # last trade, price units (5710.0 points)
FLAT = RiskContext(position=0)
EXIT1 = OrderRequest(WDO.ticker, Side.SELL, 1, OrderType.MARKET, OrderPurpose.EXIT)   # closes a long 1
LONG1 = RiskContext(position=1)


def ready(**config: object) -> RiskEngine:
    """An engine in the middle of a normal session: session times, a trade, continuous phase."""
    e = RiskEngine(RiskConfig(**config), {WDO.ticker: WDO, WIN.ticker: WIN})  # type: ignore[arg-type]
    for spec in (WDO, WIN):
        e.set_session(spec.ticker, OPEN, CLOSE)
        e.on_phase(spec.ticker, Phase.OPEN, NOON)
    e.on_trade(WDO.ticker, LAST, NOON, WALL)
    e.on_trade(WIN.ticker, 128_845 - 128_845 % 5, NOON, WALL)
    return e


def order(side: Side = Side.BUY, qty: int = 1, purpose: OrderPurpose = OrderPurpose.ENTRY, *,
          kind: OrderType = OrderType.MARKET, price: int | None = None, stop: int | None = None,
          ticker: str = WDO.ticker) -> OrderRequest:
    return OrderRequest(ticker, side, qty, kind, purpose, price=price, stop_price=stop)


def check(e: RiskEngine, req: OrderRequest, ctx: RiskContext = FLAT, *, exch: int = NOON,
          wall: int = WALL) -> RiskVerdict:
    return e.check(req, ctx, exch_ns=exch, wall_ns=wall)


def denied(v: RiskVerdict, reason: DenialReason) -> bool:
    assert not v.approved, f"approved, expected {reason}"
    assert v.reason is reason, f"{v.reason}: {v.detail}"
    assert v.detail and "\n" not in v.detail
    return True


def test_a_normal_entry_passes() -> None:
    e = ready()
    v = check(e, order())
    assert v.approved and v.reason is None and v.request == order()
    assert e.counters["approved"] == 1 and e.counters["denied"] == 0


def test_max_position_counts_the_position_and_working_orders() -> None:
    e = ready(max_position=1)
    assert denied(check(e, order(), RiskContext(position=1)), DenialReason.MAX_POSITION)
    assert denied(check(e, order(Side.SELL), RiskContext(position=0, working_sell=1), wall=WALL + 10**9),
                  DenialReason.MAX_POSITION)
    assert check(e, order(Side.SELL), RiskContext(position=1), wall=WALL + 2 * 10**9).approved  # back to 0
    assert e.denials[DenialReason.MAX_POSITION] == 2


def test_max_order_size_bounds_entries_not_a_flatten() -> None:
    e = ready(max_order_size=1, max_position=5)
    assert denied(check(e, order(qty=2)), DenialReason.MAX_ORDER_SIZE)
    assert check(e, order(Side.SELL, 3, OrderPurpose.FLATTEN), RiskContext(position=3)).approved


def test_orders_per_minute() -> None:
    e = ready(max_orders_per_minute=3, max_position=10, max_order_size=10)
    for i in range(3):
        assert check(e, order(qty=i + 1), wall=WALL + i * 10**9).approved
    assert denied(check(e, order(qty=4), wall=WALL + 3 * 10**9), DenialReason.ORDER_RATE)
    # a reduction still passes at the cap (and counts); a minute after the third entry, one passes again
    assert check(e, EXIT1, RiskContext(position=6), wall=WALL + 4 * 10**9).approved
    e.on_market_activity(WALL + MIN)
    assert denied(check(e, order(qty=4), wall=WALL + MIN + 1), DenialReason.ORDER_RATE)
    assert check(e, order(qty=4), wall=WALL + 2 * 10**9 + MIN + 1).approved


def test_daily_loss_goes_reducing_then_halted_once_flat() -> None:
    e = ready(daily_loss_limit_brl=Decimal(500))
    long1 = RiskContext(position=1, day_pnl_brl=Decimal("-500.00"))
    assert denied(check(e, order(Side.SELL), long1), DenialReason.DAILY_LOSS)   # an entry: the breach's code
    assert e.state is RiskState.REDUCING
    assert check(e, order(Side.SELL, 1, OrderPurpose.EXIT), long1, wall=WALL + 10**9).approved
    # a "reducing" purpose that would grow the position is no reduction
    assert denied(check(e, order(Side.BUY, 1, OrderPurpose.STOP_LOSS), long1, wall=WALL + 2 * 10**9),
                  DenialReason.REDUCING)
    e.on_pnl(Decimal("-520"), 1)
    assert e.state is RiskState.REDUCING
    e.on_pnl(Decimal("-100"), 0)                  # flat (and a recovery changes nothing): halted for the day
    assert e.state is RiskState.HALTED
    flat = RiskContext(position=0, day_pnl_brl=Decimal("-100"))
    assert denied(check(e, order(), flat, wall=WALL + 3 * 10**9), DenialReason.HALTED)
    late = RiskContext(position=1, day_pnl_brl=Decimal("-100"))   # a late fill: only a flatten gets out
    assert denied(check(e, order(Side.SELL, 1, OrderPurpose.EXIT), late, wall=WALL + 4 * 10**9),
                  DenialReason.HALTED)
    assert check(e, order(Side.SELL, 1, OrderPurpose.FLATTEN), late, wall=WALL + 5 * 10**9).approved
    assert "daily_loss" in e.counters["breach"]
    status = e.status()
    assert status["state"] == "halted" and "daily_loss_limit_brl" in status["detail"]
    assert status["denials"] == {"daily_loss": 1, "reducing": 1, "halted": 2}


def test_intraday_drawdown_from_the_peak() -> None:
    e = ready(max_drawdown_brl=Decimal(800), daily_loss_limit_brl=Decimal(500))
    e.on_pnl(Decimal("600"), 1)
    e.on_pnl(Decimal("-199.99"), 1)               # 799.99 below the peak: still active
    assert e.state is RiskState.ACTIVE and check(e, order(Side.SELL), RiskContext(position=1)).approved
    e.on_pnl(Decimal("-200"), 1)
    assert e.state is RiskState.REDUCING
    assert denied(check(e, order(), RiskContext(position=0, day_pnl_brl=Decimal(-200)), wall=WALL + 10**9),
                  DenialReason.MAX_DRAWDOWN)


def test_phase_other_than_continuous_trading_and_outside_the_session() -> None:
    e = ready()
    e.on_phase(WDO.ticker, Phase.AUCTION, NOON)
    assert denied(check(e, order()), DenialReason.PHASE)
    assert check(e, order(Side.SELL, 1, OrderPurpose.EXIT), RiskContext(position=1)).approved
    e.on_phase(WDO.ticker, Phase.OPEN, NOON)
    assert check(e, order(), wall=WALL + 10**9).approved
    assert denied(check(e, order(), exch=OPEN - 1, wall=WALL + 2 * 10**9), DenialReason.PHASE)
    bare = RiskEngine(RiskConfig(), {WDO.ticker: WDO})
    bare.on_trade(WDO.ticker, LAST, NOON, WALL)
    v = check(bare, order())
    assert denied(v, DenialReason.PHASE) and "set_session" in v.detail


def test_no_entries_in_the_last_minutes() -> None:
    e = ready(no_entry_last_minutes=15, closeout_minutes_before_close=0, flatten_minutes_before_closeout=0)
    assert check(e, order(), exch=CLOSE - 15 * MIN - 1).approved
    assert denied(check(e, order(), exch=CLOSE - 15 * MIN, wall=WALL + 10**9), DenialReason.CLOSING)
    assert check(e, EXIT1, LONG1, exch=CLOSE - MIN).approved


def test_flatten_before_the_brokers_closeout() -> None:
    e = ready(no_entry_last_minutes=0, closeout_minutes_before_close=15, flatten_minutes_before_closeout=5)
    flatten_at = CLOSE - 20 * MIN
    assert not e.should_flatten(WDO.ticker, flatten_at - 1)
    assert e.should_flatten(WDO.ticker, flatten_at)
    assert denied(check(e, order(), exch=flatten_at), DenialReason.CLOSING)   # no entry once flattening
    flatten = order(Side.SELL, 2, OrderPurpose.FLATTEN)
    assert check(e, flatten, RiskContext(position=2), exch=flatten_at).approved


def test_price_band_around_the_last_trade() -> None:
    e = ready(price_band_ticks=20)
    band = 20 * WDO.tick
    assert check(e, order(kind=OrderType.LIMIT, price=LAST + band)).approved
    assert denied(check(e, order(kind=OrderType.LIMIT, price=LAST - band - WDO.tick), wall=WALL + 10**9),
                  DenialReason.PRICE_BAND)
    assert denied(check(e, order(Side.SELL, kind=OrderType.STOP_LIMIT, price=LAST, stop=LAST + band + 5),
                        wall=WALL + 2 * 10**9), DenialReason.PRICE_BAND)


def test_inside_the_days_limits() -> None:
    e = ready(price_band_ticks=1000)
    e.on_daily_limits(WDO.ticker, 55_000, 58_000)
    assert denied(check(e, order(Side.SELL, kind=OrderType.LIMIT, price=58_005)), DenialReason.DAILY_LIMITS)
    # every priced order, a reduction included (the exchange would reject it)
    assert denied(check(e, order(Side.SELL, 1, OrderPurpose.TAKE_PROFIT, kind=OrderType.LIMIT, price=58_005),
                        RiskContext(position=1)), DenialReason.DAILY_LIMITS)
    assert check(e, order(Side.SELL, kind=OrderType.LIMIT, price=58_000)).approved
    e.on_daily_limits(WDO.ticker, 58_000, 55_000)          # nonsense: counted, ignored
    assert e.counters["ignored"] == {"bad_daily_limits": 1}


def test_prices_round_to_the_tick_never_more_aggressive() -> None:
    e = ready()
    v = check(e, order(Side.BUY, kind=OrderType.LIMIT, price=LAST + 3))
    assert v.approved and v.request.price == LAST                     # buy limit down
    v = check(e, order(Side.SELL, kind=OrderType.LIMIT, price=LAST + 3), wall=WALL + 10**9)
    assert v.approved and v.request.price == LAST + 5                 # sell limit up
    v = check(e, order(Side.SELL, 1, OrderPurpose.STOP_LOSS, kind=OrderType.STOP_LIMIT, price=LAST - 42,
                       stop=LAST - 22), RiskContext(position=1))
    # a sell stop rounds down, its limit up
    assert v.approved and (v.request.stop_price, v.request.price) == (LAST - 25, LAST - 40)
    v = check(e, order(Side.BUY, 1, OrderPurpose.STOP_LOSS, kind=OrderType.STOP_LIMIT, price=LAST + 42,
                       stop=LAST + 22), RiskContext(position=-1))
    # a buy stop rounds up, its limit down
    assert v.approved and (v.request.stop_price, v.request.price) == (LAST + 25, LAST + 40)
    for bad in (order(kind=OrderType.LIMIT), order(kind=OrderType.LIMIT, price=0), order(price=LAST),
                order(kind=OrderType.LIMIT, price=5710.0)):  # type: ignore[arg-type]
        assert denied(check(e, bad, wall=WALL + 9 * 10**9), DenialReason.BAD_PRICE)


def test_duplicate_order_guard() -> None:
    e = ready(duplicate_window_ms=500, max_position=5, max_order_size=5)
    assert check(e, order(kind=OrderType.LIMIT, price=LAST)).approved
    assert denied(check(e, order(kind=OrderType.LIMIT, price=LAST), wall=WALL + 499_000_000),
                  DenialReason.DUPLICATE)
    assert check(e, order(kind=OrderType.LIMIT, price=LAST - 5), wall=WALL + 499_000_000).approved  # differs
    assert check(e, order(kind=OrderType.LIMIT, price=LAST), wall=WALL + 500_000_000).approved


def test_margin_per_contract_before_an_entry() -> None:
    e = ready(capital_brl=Decimal(200), margin_per_contract_brl={"WDO": 150}, max_position=5,
              max_order_size=5)
    assert check(e, order()).approved
    used = RiskContext(position=0, open_margin_brl=Decimal(150))
    assert denied(check(e, order(), used, wall=WALL + 10**9), DenialReason.MARGIN)
    richer = RiskContext(position=0, open_margin_brl=Decimal(150), day_pnl_brl=Decimal(100))
    assert check(e, order(), richer, wall=WALL + 2 * 10**9).approved
    # no margin configured for WIN
    assert denied(check(e, order(ticker=WIN.ticker), wall=WALL + 3 * 10**9), DenialReason.MARGIN)


def test_stale_market_data_blocks_entries() -> None:
    e = ready(stale_after_s=10.0)
    assert check(e, order(), wall=WALL + 10 * 10**9).approved
    v = check(e, order(Side.SELL), wall=WALL + 10 * 10**9 + 1)
    assert denied(v, DenialReason.STALE_DATA) and "no market data for 10.0 s" in v.detail
    assert check(e, EXIT1, LONG1, wall=WALL + 60 * 10**9).approved
    e.on_market_activity(WALL + 60 * 10**9)              # a book update is activity too
    assert check(e, order(Side.SELL), wall=WALL + 61 * 10**9).approved
    fresh = RiskEngine(RiskConfig(), {WDO.ticker: WDO})
    fresh.set_session(WDO.ticker, OPEN, CLOSE)
    assert denied(check(fresh, order()), DenialReason.STALE_DATA)


def test_dropped_feed_blocks_entries_until_it_is_back() -> None:
    e = ready()
    e.on_feed(False, "gap record: ring full")
    v = check(e, order())
    assert denied(v, DenialReason.FEED_DOWN) and "ring full" in v.detail
    assert check(e, order(Side.SELL, 1, OrderPurpose.EXIT), RiskContext(position=1)).approved
    e.on_feed(True, "full book received")
    assert check(e, order(), wall=WALL + 10**9).approved


def test_order_state_unknown_blocks_entries_until_reconciled() -> None:
    e = ready()
    e.on_order_state_unknown("order ring overflow")
    assert denied(check(e, order()), DenialReason.ORDER_STATE_UNKNOWN)
    e.on_reconciled()
    assert check(e, order(), wall=WALL + 10**9).approved


def test_kill_switch_file_cancels_entries_and_only_flatten_passes(tmp_path: Path) -> None:
    ks = KillSwitch(tmp_path / "KILL")
    assert ks.triggered() is None
    ks.trigger("operator: stop now")
    assert ks.triggered() == "operator: stop now"
    assert json.loads((tmp_path / "KILL").read_text())["why"] == "operator: stop now"
    # written aside and renamed: no partial file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["KILL"]
    e = ready()
    why = ks.triggered()
    assert why is not None
    e.kill(why)                                                          # what the runner's poll does
    assert e.status()["state"] == "killed" and e.status()["detail"] == "operator: stop now"
    assert e.killed and e.should_flatten(WDO.ticker, NOON)
    assert denied(check(e, order()), DenialReason.KILL_SWITCH)
    assert denied(check(e, order(Side.SELL, 1, OrderPurpose.EXIT), RiskContext(position=1)),
                  DenialReason.KILL_SWITCH)
    assert check(e, order(Side.SELL, 1, OrderPurpose.FLATTEN), RiskContext(position=1)).approved
    ks.clear()
    assert ks.triggered() is None
    ks.clear()                                                           # absent: nothing happens
    (tmp_path / "KILL").touch()                                          # by hand: empty still counts
    assert ks.triggered() == f"kill switch file {tmp_path / 'KILL'}"


def test_bad_requests_are_denied_not_raised() -> None:
    e = ready()
    assert denied(check(e, order(ticker="PETR4")), DenialReason.BAD_REQUEST)
    assert denied(check(e, order(qty=0)), DenialReason.BAD_REQUEST)
    assert denied(check(e, OrderRequest(WDO.ticker, 1, 1, OrderType.MARKET, "entry")),  # type: ignore[arg-type]
                  DenialReason.BAD_REQUEST)
    assert e.denials == {DenialReason.BAD_REQUEST: 3}
    assert e.counters["denials"] == {"bad_request": 3}
    e.on_phase(WDO.ticker, None, NOON)  # type: ignore[arg-type]
    e.on_phase(WDO.ticker, 99, NOON)     # not a phase we know: not continuous trading
    v = check(e, order())
    assert denied(v, DenialReason.PHASE) and "unknown (99)" in v.detail
    assert e.counters["ignored"] == {"bad_phase": 1}


@pytest.mark.parametrize(("field", "value"), [
    ("max_position", -1), ("max_order_size", 0), ("max_orders_per_minute", 2.5),
    ("daily_loss_limit_brl", Decimal("-1")), ("max_drawdown_brl", math.nan), ("stale_after_s", math.nan),
    ("price_band_ticks", 0), ("capital_brl", "lots"), ("no_entry_last_minutes", -5),
])
def test_bad_config_values_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(RiskConfigError, match=f"^risk.{field}: ") as e:
        RiskConfig(**{field: value})  # type: ignore[arg-type]
    assert "\n" not in str(e.value)


def test_config_from_a_table_keeps_money_decimal() -> None:
    cfg = RiskConfig.from_mapping({"daily_loss_limit_brl": 250.1, "margin_per_contract_brl": {"wdo": "200"}})
    assert cfg.daily_loss_limit_brl == Decimal("250.1")
    assert cfg.margin_per_contract_brl["WDO"] == Decimal(200) and cfg.margin_per_contract_brl["WIN"] == 100
    with pytest.raises(RiskConfigError, match="unknown setting 'max_loss'"):
        RiskConfig.from_mapping({"max_loss": 1})
    with pytest.raises(RiskConfigError, match=r"risk\.margin_per_contract_brl\.WDO: "):
        RiskConfig(margin_per_contract_brl={"WDO": -1})


def test_daily_loss_through_the_portfolio_and_the_signal() -> None:
    """Signal -> risk -> fills booked by the portfolio -> its net P&L back to
    risk: a losing round trip, a mark that breaches the limit while long
    (REDUCING: the next entry is denied, the signal's exit passes), then flat
    (HALTED: nothing but a flatten)."""
    wdo_fee = {"from": dt.date(2020, 1, 1), "day_trade": 1.2, "overnight": 2.4}
    book = Portfolio({WDO.ticker: WDO}, FeeTable({"instruments": {"WDO": [wdo_fee]}}), dt.date(2026, 12, 5))
    risk = ready(daily_loss_limit_brl=Decimal(100), max_position=2)
    signal = SignalEngine(SignalConfig(max_position=2))
    fills = 0

    def decide(probs: Probs, price: int, t: int) -> tuple[SignalAction, list[RiskVerdict]]:
        nonlocal fills
        risk.on_trade(WDO.ticker, price, NOON + t, WALL + t)
        book.mark(WDO.ticker, price, NOON + t)
        risk.on_pnl(book.net_brl(), book.open_contracts)
        dp = DecisionPoint(t, 1, WDO.ticker, t, NOON + t, price, probs, False, False, None, WALL + t)
        sig = signal.decide(dp, book.position(WDO.ticker))
        verdicts = []
        for req in sig.requests(book.position(WDO.ticker)):
            ctx = RiskContext(book.position(WDO.ticker), day_pnl_brl=book.net_brl())
            v = risk.check(req, ctx, exch_ns=NOON + t, wall_ns=WALL + t)
            verdicts.append(v)
            if v.approved:                       # filled at the decision's price
                fills += 1
                book.apply_fill(Fill(fills, WDO.ticker, req.side, req.quantity, price, NOON + t, fills))
                risk.on_pnl(book.net_brl(), book.open_contracts)
        return sig.action, verdicts

    BUY, SELL = (0.1, 0.2, 0.7), (0.7, 0.2, 0.1)
    sec = 1_000_000_000
    assert decide(BUY, 57_100, 1 * sec)[0] is SignalAction.ENTER_LONG
    assert decide(SELL, 57_050, 2 * sec)[0] is SignalAction.EXIT          # -5 pts: -50 - 2.40 fees
    assert book.net_brl() == Decimal("-52.40") and risk.state is RiskState.ACTIVE
    decide(BUY, 57_100, 3 * sec)
    assert book.position(WDO.ticker) == 1
    risk.on_trade(WDO.ticker, 57_050, NOON + 4 * sec, WALL + 4 * sec)
    book.mark(WDO.ticker, 57_050, NOON + 4 * sec)                         # -52.40 - 1.20 - 50 = -103.60
    risk.on_pnl(book.net_brl(), book.open_contracts)
    assert risk.state is RiskState.REDUCING
    action, [v] = decide(BUY, 57_050, 5 * sec)                            # the signal adds: denied
    assert action is SignalAction.ENTER_LONG and denied(v, DenialReason.DAILY_LOSS)
    action, [v] = decide(SELL, 57_040, 6 * sec)                           # the exit passes
    assert action is SignalAction.EXIT and v.approved and book.position(WDO.ticker) == 0
    assert risk.state is RiskState.HALTED
    action, [v] = decide(BUY, 57_040, 7 * sec)
    assert action is SignalAction.ENTER_LONG and denied(v, DenialReason.HALTED)
    assert book.position(WDO.ticker) == 0 and fills == 4
