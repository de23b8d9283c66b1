"""The trading node: one session of the whole pipeline on one ProfitDLL
connection, the same for backtest, paper and live (only the library behind
the connection differs: the simulator replaying at full speed in lockstep,
the simulator paced, Nelogica's DLL).

    callbacks -> market ring -> C pipeline (book, 77 features, sampler +
    compiled ensemble) -> decision thread: DecisionPoint -> SignalEngine ->
    OrderRequest -> RiskEngine (inside ExecutionEngine.submit) -> journal ->
    SendOrder;  order callback -> order ring -> order thread:
    ExecutionEngine.on_order_updates -> fills -> Portfolio (+ brackets)

Threads: the C loop (none in lockstep: the DLL thread runs it inline), one
decision thread, one order thread, one control thread (phases, feed gaps,
connection, daily limits) and a housekeeping thread (kill switch file,
stale feed, close-out time on the wall clock, dashboard snapshot).  Python
never sees individual market events: it is woken at decision points only.
Every component call goes through one lock, so signal, risk, execution and
portfolio are single-threaded code.

Clocks: ``exch_ns`` is the market time of the latest trade the node has
seen (session rules: phases, last minutes, close-out); ``wall_ns`` is
``monotonic_ns`` (staleness, latency).  In lockstep the market clock stands
in for the wall clock, so a backtest's result does not depend on the
machine's speed.

A restart recovers: the journal rebuilds orders and fills, the venue is
reconciled (ExecutionEngine.recover), the portfolio is rebuilt from the
journal's fills, and a difference stops the node before it trades."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from quantumtrader.adapters.profitdll.connection import FeedStatus, ProfitConnection
from quantumtrader.adapters.profitdll.execution import ProfitDLLVenue
from quantumtrader.agents.team import AgentTeam
from quantumtrader.calendar import TradingCalendar, default_calendar
from quantumtrader.data.events import EventType, Phase
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import OrderRequest, OrderStatus, Side
from quantumtrader.instruments import InstrumentSpec
from quantumtrader.output_path import clear_interrupt
from quantumtrader.portfolio.fees import FeeTable, default_fee_table
from quantumtrader.portfolio.portfolio import Portfolio
from quantumtrader.qtcore.pipeline import monotonic_ns
from quantumtrader.risk import KillSwitch, RiskContext, RiskEngine, RiskState
from quantumtrader.runners.agents import close_agent_team, open_agent_team
from quantumtrader.runners.config import TradingConfig
from quantumtrader.runners.latency import LatencyRecorder
from quantumtrader.runners.live_pipeline import ControlEvent, ControlKind, LivePipeline
from quantumtrader.runners.report import SessionResult
from quantumtrader.signal import Consensus, DecisionPoint, SignalAction, SignalEngine

__all__ = ["ReconciliationError", "TradingNode", "instruments_of"]

log = logging.getLogger(__name__)

_HOUSEKEEPING_S = 0.1
_CONTROL_TYPES = (EventType.CONN_STATE, EventType.FEED_GAP, EventType.PHASE, EventType.DAILY_LIMITS)


class ReconciliationError(RuntimeError):
    """The journal and the venue disagree after a restart: the node does not trade over it."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        super().__init__(f"the journal and the venue disagree ({len(differences)} difference(s)): "
                         + "; ".join(differences[:3]) + (" ..." if len(differences) > 3 else ""))


@dataclass
class _Stats:
    decisions: int = 0
    signals: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    fills: int = 0


class TradingNode:
    """One trading session over a connected, subscribed ``ProfitConnection``
    with routing.  ``bundle``: a ModelBundle (``native=False`` is enough).
    ``lockstep``: backtest (the replay waits for every decision and order
    update).  ``market_speed``: how fast the market clock runs against the
    wall clock (paper's replay pace; 1 live) for the close-out check between
    decisions."""

    def __init__(
        self,
        *,
        connection: ProfitConnection,
        bundle: Any,
        config: TradingConfig,
        run_dir: Path,
        venue: str,
        account: Any,
        password: str = "",
        trading_day: dt.date,
        lockstep: bool = False,
        market_speed: float = 1.0,
        calendar: TradingCalendar | None = None,
        fees: FeeTable | None = None,
        dashboard: Any = None,
        kill_switch: KillSwitch | None = None,
        session_name: str | None = None,
    ) -> None:
        self.connection = connection
        self.config = config
        self.run_dir = Path(run_dir)
        self.venue_name = venue
        self.trading_day = trading_day
        self.lockstep = lockstep
        self.market_speed = market_speed
        self.dashboard = dashboard
        self.kill_switch = kill_switch
        self.calendar = calendar or default_calendar()
        self.instruments: dict[str, InstrumentSpec] = dict(instruments_of(connection))
        self.by_id = {s.instrument_id: s for s in self.instruments.values()}
        self._lock = threading.RLock()
        self._stats = _Stats()
        self.latency = LatencyRecorder()
        self._exch_ns = 0
        self._exch_wall_ns = 0
        self._first_exch_ns: int | None = None
        self._risk_ns = 0
        self._last_taken = -1
        self._activity_clock = 0
        self._unacked: set[int] = set()
        self._phase: dict[str, str] = {}  # ticker -> the latest ticker-state callback's phase
        self._stale = False
        self._stopping = threading.Event()
        self._stopped = False
        self._housekeeper: threading.Thread | None = None
        self.started_wall = time.time()
        self.start_ns: int | None = None
        self.errors: list[str] = []
        self.last_decision: dict[str, Any] = {}

        self.journal = Journal(self.run_dir / config.journal.path,
                               session=session_name or f"{venue}-{trading_day.isoformat()}")
        self._decision_base = self.journal.last_decision_id()
        self.portfolio = Portfolio(self.instruments, fees or default_fee_table(), trading_day)
        self.signal = SignalEngine(config.signal)
        self.risk = RiskEngine(config.risk, self.instruments)
        self.risk_session: dict[str, tuple[int, int]] = {}
        for ticker, spec in self.instruments.items():
            open_ns, close_ns = self.calendar.session_bounds_utc_ns(trading_day, spec.root)
            self.risk.set_session(ticker, open_ns, close_ns)
            self.risk_session[ticker] = (open_ns, close_ns)
        self.venue = ProfitDLLVenue(connection.dll, account, password)
        self.execution, report = ExecutionEngine.recover(
            self.venue, self.journal, self.instruments, risk_check=self._risk_check,
            brackets=config.brackets)
        self.reconcile_report = report
        for fill in self.journal.fills():  # the portfolio is what the journal's fills say
            self.portfolio.apply_fill(fill)
        self.execution.on_fill = self._on_fill  # from now on, new fills only
        if not report.ok:
            raise ReconciliationError(list(report.differences))

        self.pipeline = LivePipeline.from_connection(
            connection, on_decision=self._on_decision, on_control=self._on_control,
            on_orders=self._on_orders, control_types=_CONTROL_TYPES)
        self.pipeline.use_model(bundle)
        # the agents last: a node that cannot start (reconciliation, model) starts no agent processes
        self.agents: AgentTeam | None = open_agent_team(config.agents, self.run_dir, lockstep=lockstep)
        for note in self.agents.notes if self.agents is not None else ():  # states loaded, or moved aside
            self.journal.record_note("agents", note)
        self._agents_board: dict[str, Any] = {}
        self._agent_errors = 0

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        """Start the pipeline's threads (and, outside lockstep, its loop and
        the housekeeping thread).  The replay or the live feed then drives it."""
        self.start_ns = time.time_ns()
        # what was built so far lives for the session: keep it out of the
        # collector's generations, so a collection pause does not land on a decision
        gc.collect()
        gc.freeze()
        # a woken decision thread waits for the GIL up to the switch interval while
        # another Python thread (orders, controls, housekeeping) holds it: 5 ms by
        # default, the whole tick-to-order budget; these threads are mostly idle
        sys.setswitchinterval(0.0002)
        self.pipeline.start(lockstep=self.lockstep)
        self._housekeeper = threading.Thread(target=self._housekeeping, name="qt-node-housekeeping",
                                             daemon=True)
        self._housekeeper.start()

    def run_until(self, done: Callable[[], bool], *, after_start: Callable[[], None] | None = None
                  ) -> tuple[SessionResult, bool]:
        """The session: start (and the dashboard), ``after_start()`` (e.g.
        start the replay), then call ``done()`` (which blocks a little) until
        it says the session is over or Ctrl-C; then stop (cancel, flatten,
        report).  A Ctrl-C is handled here: the session still ends properly
        and its report may be written.  Returns (result, interrupted)."""
        interrupted = False
        if self.dashboard is not None:
            self.dashboard.start()
        try:
            self.start()
            try:
                if after_start is not None:
                    after_start()
                while not done():
                    pass
            except KeyboardInterrupt:
                interrupted = True
                clear_interrupt()  # handled: the Ctrl-C note must not refuse the report
            result = self.stop()
        finally:
            if self.dashboard is not None:
                self.dashboard.stop()
        return result, interrupted

    def stop(self, *, flatten: bool | None = None, wait_flat_s: float = 5.0) -> SessionResult:
        """End the session: cancel working orders and (by default, per
        ``[session] flatten_on_exit``) flatten, wait up to ``wait_flat_s``
        for the venue to confirm, stop the pipeline, close the journal and
        return the session's result.  Idempotent."""
        if self._stopped:
            return self.result()
        flatten = self.config.session.flatten_on_exit if flatten is None else flatten
        with self._lock:
            self.execution.cancel_all()
            if flatten:
                self._flatten_all("session end")
        deadline = time.monotonic() + wait_flat_s
        while flatten and time.monotonic() < deadline and self._exposed():
            time.sleep(0.05)
        self._stopping.set()
        try:
            self.pipeline.stop()
        finally:
            if self._housekeeper is not None:
                self._housekeeper.join(2.0)
            if self.agents is not None:
                with self._lock:  # no decision is asking any more
                    self._agents_board = close_agent_team(self.agents, self.run_dir)
            self._stopped = True
            result = self.result()
            self.journal.close()
        return result

    def _exposed(self) -> bool:
        with self._lock:
            return any(self.portfolio.position(t) for t in self.instruments) or bool(
                self.execution.working_orders())

    def kill(self, why: str) -> None:
        """The kill switch: HALTED, every working order canceled, every position flattened."""
        with self._lock:
            if self.risk.killed:
                return
            log.warning("kill switch: %s", why)
            self.risk.kill(why)
            self.execution.cancel_all()
            self._flatten_all(f"kill switch: {why}")

    # ------------------------------------------------------------------ decisions
    def _on_decision(self, recs: np.ndarray, woken_ns: int) -> None:
        with self._lock:
            for rec in recs:
                self._decide(rec, woken_ns)

    def _decide(self, rec: np.void, woken_ns: int) -> None:
        spec = self.by_id.get(int(rec["instrument"]))
        if spec is None:
            return
        dp = DecisionPoint.from_record(rec, spec.ticker)
        if self._decision_base:  # a resumed session: ids continue after the journal's
            dp = dataclasses.replace(dp, decision_id=self._decision_base + dp.decision_id)
        self._stats.decisions += 1
        self._exch_ns = max(self._exch_ns, dp.exch_ns)
        self._exch_wall_ns = monotonic_ns()
        if self._first_exch_ns is None:
            self._first_exch_ns = dp.exch_ns
        clock = self._clock_ns()
        self.risk.on_trade(spec.ticker, dp.price, dp.exch_ns, clock)
        self.risk.on_market_activity(clock)
        self.risk.on_feed(not dp.book_suspect and self._feed_live(), "book suspect after a feed gap"
                          if dp.book_suspect else "market data not live")
        self.portfolio.mark(spec.ticker, dp.price, dp.exch_ns)
        self._update_pnl()
        if self.risk.should_flatten(spec.ticker, dp.exch_ns):
            self._flatten(spec.ticker, "close-out time" if self.risk.state is RiskState.ACTIVE
                          else f"risk {self.risk.state.name}")
        position = self._signal_position(spec.ticker)
        consensus = self._ask_agents(dp) if self.agents is not None else None
        sig = self.signal.decide(dp, position, consensus)
        signal_ns = monotonic_ns()
        self._stats.signals[sig.action.name] = self._stats.signals.get(sig.action.name, 0) + 1
        sent_ns = None
        self._risk_ns = 0
        if sig.action is not SignalAction.HOLD:
            for req in sig.requests(position):
                order = self.execution.submit(req, exch_ns=dp.exch_ns)  # journals its intent first
                if order is not None:
                    self._stats.orders += 1
                    self._unacked.add(order.internal_id)
                    sent_ns = order.sent_wall_ns or monotonic_ns()
        # the decision's own record follows its orders: only an order's intent must
        # precede SendOrder, and this write stays off the tick-to-order path
        self.journal.record_decision(sig.record(with_features=True))
        self.latency.add_decision(rec, woken_ns, signal_ns, self._risk_ns or None, sent_ns)
        self.last_decision = {"ticker": spec.ticker, "exch_ns": dp.exch_ns,
                              "price": str(spec.points(dp.price)), "probabilities": dp.probabilities,
                              "signal": {"action": sig.action.name, "reason": sig.reason},
                              "features": None if dp.features is None else dp.features.tolist()}
        if self.dashboard is not None and not self.lockstep:
            self.dashboard.update(self.snapshot())

    def _ask_agents(self, dp: DecisionPoint) -> Consensus | None:
        """The agents' consensus on this decision; a failure of the team is
        counted and the decision goes on with the model alone."""
        if dp.features is None:
            return None
        try:
            return self.agents.ask(dp.instrument_id, dp.decision_id, dp.exch_ns, dp.price,  # type: ignore[union-attr]
                                   dp.features).consensus
        except (zmq.ZMQError, ValueError) as e:
            self._agent_errors += 1
            if self._agent_errors == 1:
                self.errors.append(f"agents: {e}")
                log.warning("agents: %s (the model decides alone)", e)
            return None

    def _signal_position(self, ticker: str) -> int:
        """The position the signal reasons about: held plus working entries
        and exits (bracket legs are protection, not intent)."""
        pos = self.portfolio.position(ticker)
        for order in self.execution.working_orders(ticker):
            if order.request.purpose.value in ("entry", "exit", "flatten"):
                pos += order.request.side.sign * order.leaves_qty
        return pos

    def _risk_check(self, req: OrderRequest) -> Any:
        ctx = self._risk_context(req.ticker)
        verdict = self.risk.check(req, ctx, exch_ns=self._exch_ns, wall_ns=self._clock_ns())
        self._risk_ns = monotonic_ns()
        return verdict

    def _risk_context(self, ticker: str) -> RiskContext:
        return RiskContext(
            position=self.portfolio.position(ticker),
            working_buy=self.execution.working_quantity(ticker, Side.BUY),
            working_sell=self.execution.working_quantity(ticker, Side.SELL),
            day_pnl_brl=self.portfolio.net_brl(),
            open_margin_brl=self.portfolio.open_margin_brl(self.config.risk.margin_per_contract_brl),
        )

    def _update_pnl(self) -> None:
        self.risk.on_pnl(self.portfolio.net_brl(), self.portfolio.open_contracts)

    def _flatten(self, ticker: str, why: str) -> None:
        position = self.portfolio.position(ticker)
        working_exit = any(o.request.purpose.value == "flatten"
                           for o in self.execution.working_orders(ticker))
        if position and not working_exit:
            log.info("flatten %s (%+d): %s", ticker, position, why)
            self.execution.flatten(ticker, position, self._exch_ns)

    def _flatten_all(self, why: str) -> None:
        for ticker in self.instruments:
            self._flatten(ticker, why)

    # ------------------------------------------------------------------ orders
    def _on_orders(self, recs: np.ndarray) -> None:
        with self._lock:
            self.execution.on_order_updates(recs)
            if self.connection.order_state_unknown and not self.execution.state_unknown:
                self.execution.mark_state_unknown("the order ring overflowed")
            if self.execution.state_unknown:
                self.risk.on_order_state_unknown("venue order state unknown: reconcile before trading")
            for oid in list(self._unacked):  # only the orders sent and not yet acknowledged
                order = self.execution.orders.get(oid)
                if order is None or order.status.terminal or order.acked_wall_ns:
                    self._unacked.discard(oid)
                    if order is not None and order.acked_wall_ns and order.sent_wall_ns:
                        self.latency.add("ack", max(0, order.acked_wall_ns - order.sent_wall_ns))

    def _on_fill(self, fill: Any) -> None:
        # called by the execution engine under the node lock
        self.portfolio.apply_fill(fill)
        self._stats.fills += 1
        self._update_pnl()

    # ------------------------------------------------------------------ controls
    def _on_control(self, event: ControlEvent) -> None:
        with self._lock:
            spec = self.by_id.get(event.instrument)
            if event.exch_ns and event.exch_ns > self._exch_ns:  # phases carry the market clock too
                self._exch_ns = event.exch_ns
                self._exch_wall_ns = monotonic_ns()
            if event.kind is ControlKind.PHASE and spec is not None and event.phase is not None:
                self.risk.on_phase(spec.ticker, event.phase, event.exch_ns or self._exch_ns)
                known = event.phase in Phase._value2member_map_
                self._phase[spec.ticker] = Phase(event.phase).name.lower() if known else str(event.phase)
            elif event.kind is ControlKind.FEED_GAP:
                self.risk.on_feed(False, f"feed gap ({event.gap_reason}, {event.lost} records lost)")
            elif event.kind is ControlKind.CONNECTION:
                if not self._feed_live():
                    self.risk.on_feed(False, f"market data {self.connection.feed_status.value}")
            elif (event.kind is ControlKind.DAILY_LIMITS and spec is not None and event.low is not None
                  and event.high is not None):
                self.risk.on_daily_limits(spec.ticker, event.low, event.high)

    def _feed_live(self) -> bool:
        return self.connection.feed_status is FeedStatus.LIVE

    # ------------------------------------------------------------------ housekeeping
    def _clock_ns(self) -> int:
        """The clock of the risk engine's windows (orders per minute,
        duplicates, staleness): the wall clock live; on the simulator the
        market's (a replay at 500x must not fit 500 minutes of orders into
        one), exact in lockstep, estimated from the pace when paced."""
        if self.venue_name == "live":
            return monotonic_ns()
        return self._market_now_ns()

    def _in_session(self, clock_ns: int) -> bool:
        """Whether the market clock is inside any instrument's session (live:
        the wall clock's stamp cannot be compared, so always)."""
        if self.venue_name == "live":
            return True
        return any(o <= clock_ns < c for o, c in self.risk_session.values())

    def _market_now_ns(self) -> int:
        """The market time now, estimated from the last trade and the pace."""
        if self.lockstep or not self._exch_ns:
            return self._exch_ns
        return self._exch_ns + int((monotonic_ns() - self._exch_wall_ns) * self.market_speed)

    def _housekeeping(self) -> None:
        while not self._stopping.wait(_HOUSEKEEPING_S):
            try:
                self._tick()
            except Exception as e:  # the session goes on; the error is reported at the end
                if len(self.errors) < 100:
                    self.errors.append(f"housekeeping: {e}")
                log.exception("housekeeping failed")

    def _tick(self) -> None:
        if self.kill_switch is not None:
            why = self.kill_switch.triggered()
            if why is not None and not self.risk.killed:
                self.kill(why)
        if self.lockstep:
            return
        taken = self.pipeline.core.counters.get("records", 0)
        with self._lock:
            clock = self._clock_ns()
            if taken != self._last_taken:
                self._last_taken = taken
                self._activity_clock = clock
                self.risk.on_market_activity(clock)
                if self._stale:
                    self._stale = False
                    self.risk.on_feed(self._feed_live(), "market data not live")
            elif self._activity_clock and self._in_session(clock):
                idle_s = (clock - self._activity_clock) / 1e9
                if idle_s > self.config.risk.stale_after_s and not self._stale:
                    self._stale = True
                    self.risk.on_feed(False, f"stale: no market data for {idle_s:.0f} s")
                    self.journal.record_note("feed", f"stale: no market data for {idle_s:.0f} s")
            now = self._market_now_ns()
            for ticker in self.instruments:
                if now and self.risk.should_flatten(ticker, now):
                    self._flatten(ticker, "close-out time")
            if self.dashboard is not None:
                self.dashboard.update(self.snapshot())

    # ------------------------------------------------------------------ views
    def snapshot(self) -> dict[str, Any]:
        """What the dashboard shows (runners.dashboard's snapshot keys), taken
        under the lock; a fresh dict each time."""
        ticker = self.last_decision.get("ticker") or next(iter(self.instruments))
        spec = self.instruments[ticker]
        detail = self.portfolio.position_detail(ticker)
        working = [
            dict(id=o.internal_id, side=o.request.side.name, type=o.request.order_type.name,
                 purpose=o.request.purpose.value, quantity=o.request.quantity,
                 price=None if o.request.price is None else str(spec.points(o.request.price)),
                 status=OrderStatus(o.status).name)
            for o in self.execution.working_orders(ticker)
        ]
        p = self.portfolio
        snap = dict(self.last_decision)
        snap.update(
            ticker=ticker,
            orders=working,
            position={"quantity": p.position(ticker), "average_price": detail.average_price},
            pnl={"realized_brl": p.realized_brl(), "unrealized_brl": p.unrealized_brl(),
                 "fees_brl": p.fees_brl(), "net_brl": p.net_brl()},
            risk=self.risk.status(),
            agents=self.agents.status() if self.agents is not None else None,
            feed={"ok": self._feed_live(), "detail": self.connection.feed_status.value,
                  "last_trade_age_s": ((monotonic_ns() - self._exch_wall_ns) / 1e9
                                       if self._exch_wall_ns else None)},
            session={"name": f"{self.venue_name} {self.trading_day.isoformat()}", "venue": self.venue_name,
                     "phase": self._phase.get(ticker, "-"),
                     "progress": self._progress(), "decisions": self._stats.decisions,
                     "orders": self._stats.orders, "fills": self._stats.fills},
        )
        return snap

    def _progress(self) -> float | None:
        spans = [self.risk_session.get(t) for t in self.instruments]
        spans = [s for s in spans if s]
        if not spans or not self._exch_ns:
            return None
        open_ns, close_ns = min(s[0] for s in spans), max(s[1] for s in spans)
        return min(1.0, max(0.0, (self._exch_ns - open_ns) / max(1, close_ns - open_ns)))

    def result(self) -> SessionResult:
        with self._lock:
            p = self.portfolio
            # the session's span in market time, as its trades and equity are stamped
            start = self._first_exch_ns or min((s[0] for s in self.risk_session.values()), default=0)
            counters: dict[str, Any] = {
                "decisions": self._stats.decisions, "signals": dict(self._stats.signals),
                "orders_sent": self._stats.orders, "fills": self._stats.fills,
                "risk_state": self.risk.state.name, "execution": dict(self.execution.counters),
                "errors": list(self.errors),
            }
            counters["risk"] = self.risk.counters
            if self.agents is not None:
                counters["agents"] = {"errors": self._agent_errors,
                                      "dropped": sum(self.agents.drops.dropped.values())}
            pc = self.pipeline.core.counters
            counters["pipeline"] = {k: v for k, v in pc.items() if isinstance(v, (int, float, str))}
            return SessionResult(
                name=f"{self.venue_name} {self.trading_day.isoformat()}", venue=self.venue_name,
                tickers=list(self.instruments), start_ns=start, end_ns=max(start, self._exch_ns),
                round_trips=list(p.round_trips), equity=list(p.equity), gross_brl=p.realized_brl()
                + p.unrealized_brl(), fees_brl=p.fees_brl(), net_brl=p.net_brl(),
                tax_estimate_brl=p.tax_estimate_brl(), decisions=self._stats.decisions,
                orders=self._stats.orders, fills=self._stats.fills,
                denials={str(k): v for k, v in self.risk.denials.items()}, latency=self.latency,
                counters=counters, days=[self.trading_day.isoformat()],
                capital_brl=self.config.risk.capital_brl,
                price_unit={t: s.price_unit for t, s in self.instruments.items()},
                agents=self._agents_board or (self.agents.scoreboard.to_json()
                                              if self.agents is not None else {}),
            )


def instruments_of(connection: ProfitConnection) -> Mapping[str, InstrumentSpec]:
    """The node's instrument specs of a connection's subscriptions."""
    return {s.ticker: InstrumentSpec.for_ticker(s.ticker, s.price_unit, s.tick_size, exchange=s.exchange,
                                                instrument_id=s.instrument_id)
            for s in connection.subscriptions.values()}
