"""The execution engine: risk check, journal, send; the order state machine
over ProfitDLL's statuses; fills from the cumulative quantity and average
price; brackets; the stop on unknown venue state; recovery after a crash.

Contract (every call is made under the runner's one lock; nothing here is
thread-safe):
- ``submit``: refused (journaled as a denial, counted, None) while the venue
  state is unknown, for an instrument not configured, for a malformed
  request, or when ``risk_check`` denies it; else the intent is committed to
  the journal (its row id is the internal id), then ``Venue.send_order``
  runs and its local id is bound.  A venue error gives a REJECTED order.
- ``on_order_updates`` applies ORDER_UPDATE_DTYPE records in arrival order:
  * an update is matched by local id, then ClOrdID, then to the oldest
    intent still waiting for SendOrder's return with the same side, type and
    quantity (the callback may fire first); no match: the venue knows an
    order we do not, so the state is unknown (trading stops);
  * an update whose event id is at or below the last applied one changes
    nothing (journaled, counted ``out_of_order``);
  * ``cum_qty`` never decreases; a rise is a fill of the difference, priced
    from the average-price delta ``(avg_new*cum_new - avg_old*cum_old) /
    delta`` rounded to the instrument's price unit; a fill after a cancel
    request is a fill, and so is a rise after a final state (journaled,
    counted ``late_fills``);
  * final states (``OrderStatus.terminal``) stay final; REPLACED and other
    updates carry the order's current quantity and prices;
  * a VENUE_LOST record, a NO_DETAILS record or an unknown status code
    marks the state unknown.
- A journal that cannot be written (disk full, read-only) marks the state
  unknown too: nothing more is sent (a SendOrder is never made without its
  intent committed), cancels still go out, updates are still applied in
  memory and fills still reach ``on_fill``; counted ``journal_errors``.
- The state stays unknown until :meth:`reconcile` finds no difference.  The
  runner marks it on the order ring's overflow flag
  (``ProfitConnection.order_state_unknown``) with :meth:`mark_state_unknown`.
- ``cancel`` / ``cancel_all`` / ``flatten``'s cancels go out whatever the
  state (they reduce risk), journaled before the request; ``cancel_all``
  cancels our orders one by one, never the account's others.  A local id
  journaled before a restart names nothing until the venue confirms it: the
  ClOrdID alone is used meanwhile.  ``flatten``'s market order is a submit:
  refused while the state is unknown (the position it would close is not
  known either; closing a wrong one would open the reverse).
- ``working_quantity(ticker, side)``: quantity not yet filled of our working
  orders (pending ones included), what risk counts as exposure in flight.
- Fills are journaled before ``on_fill`` sees them; ``on_fill`` runs after
  the update's journal transaction has committed.  An exception from
  ``on_fill`` (or from applying one record) is counted and stops trading
  (state unknown, one line why); the other records are still applied."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from quantumtrader.execution.brackets import Bracket, entry_price, leg_prices
from quantumtrader.execution.config import BracketConfig
from quantumtrader.execution.journal import Journal, JournalError
from quantumtrader.execution.orders import (
    Fill,
    Order,
    OrderPurpose,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from quantumtrader.execution.venue import Venue, VenueError
from quantumtrader.instruments import InstrumentSpec

if TYPE_CHECKING:
    from quantumtrader.execution.reconcile import ReconcileReport

__all__ = ["ExecutionEngine"]

_VENUE_LOST = 2   # OrderUpdateType.VENUE_LOST (adapters/profitdll/order_updates.py)
_NO_DETAILS = 1   # OrderUpdateFlag.NO_DETAILS


class _Verdict(Protocol):
    approved: bool
    request: OrderRequest
    reason: Any
    detail: str


def update_dict(rec: np.void) -> dict:
    """The fields of one ORDER_UPDATE_DTYPE record the engine uses."""
    n = int(rec["cl_ord_id_len"])
    cl = rec["cl_ord_id"][:n].astype("<u2").tobytes().decode("utf-16-le", "replace") if n else ""
    return dict(type=int(rec["type"]), flags=int(rec["flags"]), instrument=int(rec["instrument"]),
                local_id=int(rec["local_id"]), event_id=int(rec["event_id"]),
                quantity=int(rec["quantity"]), cum_qty=int(rec["cum_qty"]),
                leaves_qty=int(rec["leaves_qty"]), avg_price=float(rec["avg_price"]),
                price=float(rec["price"]), stop_price=float(rec["stop_price"]),
                last_price=float(rec["last_price"]), status=int(rec["status"]), side=int(rec["side"]),
                order_type=int(rec["order_type"]), cl_ord_id=cl, error_code=int(rec["error_code"]),
                exch_ns=int(rec["exch_ns"]), recv_ns=int(rec["recv_ns"]))


def _plain(req: OrderRequest) -> OrderRequest:
    """The request with Python ints (numpy scalars from the decision records
    would reach SQLite as blobs)."""
    def opt(v: Any) -> int | None:
        return None if v is None else int(v)

    return replace(req, quantity=int(req.quantity), price=opt(req.price), stop_price=opt(req.stop_price),
                   decision_id=opt(req.decision_id), parent_id=opt(req.parent_id))


def _reason_name(reason: Any) -> str:
    return str(getattr(reason, "value", reason) or "denied")


class ExecutionEngine:
    def __init__(self, venue: Venue, journal: Journal, instruments: Mapping[str, InstrumentSpec], *,
                 risk_check: Callable[[OrderRequest], _Verdict] | None = None,
                 on_fill: Callable[[Fill], None] | None = None,
                 brackets: BracketConfig | None = None,
                 clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self.venue = venue
        self.journal = journal
        self.instruments = dict(instruments)
        self.risk_check = risk_check
        self.on_fill = on_fill
        self.bracket_config = brackets
        self.clock_ns = clock_ns
        self.orders: dict[int, Order] = {}
        self._working: dict[int, Order] = {}
        self._stale_local: set[int] = set()  # loaded orders whose local id this session has not confirmed
        self.denials: Counter[str] = Counter()
        self._counters: Counter[str] = Counter()
        self._by_local: dict[int, int] = {}
        self._by_cl: dict[str, int] = {}
        self._brackets: dict[int, Bracket] = {}     # entry id -> bracket
        self._leg_of: dict[int, int] = {}           # leg id -> entry id
        self._positions: dict[str, int] = {}
        self._unknown: str | None = None
        self._reconciling = False
        self._rejected_legs: set[int] = set()
        self._by_instrument = {s.instrument_id: s for s in self.instruments.values() if s.instrument_id}

    # ------------------------------------------------------------ state
    @property
    def state_unknown(self) -> bool:
        return self._unknown is not None

    @property
    def unknown_reason(self) -> str | None:
        return self._unknown

    def mark_state_unknown(self, why: str) -> None:
        """Order ring overflow, VENUE_LOST, an order we do not know: stop
        sending until a reconciliation finds no difference."""
        self._counters["state_unknown"] += 1
        if self._unknown is None:
            self._unknown = why
        self._journal(self.journal.record_note, "state_unknown", why, self.clock_ns())

    def _journal(self, write: Callable[..., Any], *args: Any, **kw: Any) -> bool:
        """A journal write; on failure the state becomes unknown (no note: the journal is what failed)."""
        try:
            write(*args, **kw)
            return True
        except JournalError as e:
            self._journal_failed(e)
            return False

    def _journal_failed(self, e: JournalError) -> None:
        self._counters["journal_errors"] += 1
        if self._unknown is None:
            self._unknown = str(e)

    @property
    def counters(self) -> dict:
        return {**self._counters, "denials": dict(self.denials),
                "working": len(self.working_orders()), "state_unknown_now": self.state_unknown}

    @property
    def positions(self) -> dict[str, int]:
        """Net contracts per ticker from this engine's fills."""
        return dict(self._positions)

    def position(self, ticker: str) -> int:
        """Net contracts from this engine's fills (journal + session)."""
        return self._positions.get(ticker, 0)

    def working_orders(self, ticker: str | None = None) -> list[Order]:
        """Orders not in a final state, oldest first.  Kept in their own map
        (pruned as they end) since risk asks for them at every decision."""
        for oid in [oid for oid, o in self._working.items() if not o.working]:
            del self._working[oid]  # final states are final: an order never comes back
        return [o for o in self._working.values() if ticker is None or o.ticker == ticker]

    def working_quantity(self, ticker: str, side: Side) -> int:
        return sum(max(o.quantity - o.cum_qty, 0) for o in self.working_orders(ticker) if o.side is side)

    # ------------------------------------------------------------ sending
    def _deny(self, req: OrderRequest, reason: str, detail: str, exch_ns: int) -> None:
        self.denials[reason] += 1
        self._journal(self.journal.record_denial, req, reason, detail, exch_ns)

    def _malformed(self, req: OrderRequest) -> str | None:
        if req.quantity <= 0:
            return f"quantity {req.quantity}"
        if req.order_type is OrderType.MARKET and (req.price is not None or req.stop_price is not None):
            return "a market order with a price"
        if req.order_type is OrderType.LIMIT and (req.price is None or req.price <= 0):
            return "a limit order without a price"
        if req.order_type is OrderType.STOP_LIMIT and (not req.price or not req.stop_price
                                                       or req.price <= 0 or req.stop_price <= 0):
            return "a stop-limit order without both prices"
        return None

    def submit(self, req: OrderRequest, exch_ns: int = 0) -> Order | None:
        """Risk-check, journal, send.  None when denied (journaled, counted)."""
        req = _plain(req)
        if self._unknown is not None:
            self._deny(req, "order_state_unknown", self._unknown, exch_ns)
            return None
        spec = self.instruments.get(req.ticker)
        if spec is None:
            self._deny(req, "unknown_instrument", f"{req.ticker} is not configured", exch_ns)
            return None
        bad = self._malformed(req)
        if bad is not None:
            self._deny(req, "bad_request", bad, exch_ns)
            return None
        if self.risk_check is not None:
            verdict = self.risk_check(req)
            if not verdict.approved:
                self._deny(req, _reason_name(verdict.reason), verdict.detail, exch_ns)
                return None
            req = _plain(verdict.request)
        now = self.clock_ns()
        try:
            oid = self.journal.record_intent(req, now, exch_ns)  # committed before SendOrder
        except JournalError as e:
            self._journal_failed(e)  # nothing is sent without its intent on record
            self.denials["journal_error"] += 1
            return None
        o = Order(oid, req, created_wall_ns=now)
        self.orders[oid] = o
        self._working[oid] = o
        self._counters["submitted"] += 1
        try:
            local_id = self.venue.send_order(req, spec)
        except VenueError as e:
            o.status, o.leaves_qty, o.text = OrderStatus.REJECTED, 0, str(e)
            self._counters["send_errors"] += 1
            self._journal(self.journal.record_order, o)
            return o
        o.local_id, o.sent_wall_ns = int(local_id), self.clock_ns()
        self._by_local[o.local_id] = oid
        if o.status is OrderStatus.PENDING_SUBMIT:
            o.status = OrderStatus.PENDING_NEW
        self._journal(self.journal.record_order, o)
        return o

    def cancel(self, internal_id: int) -> None:
        """Ask the venue to cancel (journaled); a fill may still come."""
        o = self.orders.get(internal_id)
        if o is None:
            raise ValueError(f"no order {internal_id}")
        if not o.working or o.cancel_requested:
            return
        o.cancel_requested = True
        self._counters["cancels"] += 1
        sendable = self._venue_local_id(o) > 0 or bool(o.cl_ord_id)
        self._journal(self._record_cancel, o, "cancel", "sent" if sendable else "not sent yet")
        if not sendable:
            return
        try:
            self.venue.cancel_order(self._venue_local_id(o), o.cl_ord_id or "")
        except VenueError as e:
            o.cancel_requested = False
            self._counters["cancel_errors"] += 1
            self._journal(self._record_cancel, o, "cancel failed", str(e))

    def _record_cancel(self, o: Order, action: str, result: str) -> None:
        with self.journal.transaction():  # before the request goes out
            self.journal.record_action(o.internal_id, action, wall_ns=self.clock_ns(), result=result)
            self.journal.record_order(o)

    def _venue_local_id(self, o: Order) -> int:
        """The local id to name ``o`` by at the venue, 0 when it may belong to
        a DLL session that is gone (journaled before a restart and not yet
        confirmed): then only the ClOrdID names it, never another order."""
        return 0 if o.internal_id in self._stale_local or o.local_id is None else o.local_id

    def cancel_all(self, ticker: str | None = None) -> None:
        """Cancel our working orders (one by one: never the account's other orders)."""
        for o in self.working_orders(ticker):
            self.cancel(o.internal_id)

    def flatten(self, ticker: str, position: int, exch_ns: int) -> Order | None:
        """Cancel the ticker's working orders, then a market order closing ``position``."""
        self.cancel_all(ticker)
        if position == 0:
            return None
        side = Side.SELL if position > 0 else Side.BUY
        return self.submit(OrderRequest(ticker, side, abs(position), OrderType.MARKET, OrderPurpose.FLATTEN),
                           exch_ns)

    def _change(self, o: Order, quantity: int) -> bool:
        """Resize (a bracket leg), journaled before it goes out; False if the venue refused the call."""
        spec = self.instruments[o.ticker]
        if not self._journal(self.journal.record_action, o.internal_id, "change", quantity=quantity,
                             price=o.price, stop_price=o.stop_price, wall_ns=self.clock_ns(), result="sent"):
            return False  # not journaled, not sent
        self._counters["changes"] += 1
        try:
            self.venue.change_order(self._venue_local_id(o), o.cl_ord_id or "", spec, quantity=quantity,
                                    price=o.price, stop_price=o.stop_price)
        except VenueError as e:
            self._counters["change_errors"] += 1
            self._journal(self.journal.record_action, o.internal_id, "change failed", quantity=quantity,
                          wall_ns=self.clock_ns(), result=str(e))
            return False
        return True

    # ------------------------------------------------------------ updates
    def on_order_updates(self, recs: np.ndarray) -> None:
        """Apply order-ring records (ORDER_UPDATE_DTYPE), in order.  The
        records have left the ring: an error in one (ours, or a callback's)
        must not lose the rest, so it is counted, noted in one line and
        stops trading, and the next record is applied."""
        for rec in recs:
            try:
                self.apply_update(update_dict(rec))
            except Exception as e:  # see above: never lose the batch
                self._counters["update_errors"] += 1
                self.mark_state_unknown(f"order update {int(rec['local_id'])}/{int(rec['event_id'])} "
                                        f"failed: {type(e).__name__}: {e}")

    def apply_update(self, u: dict, *, source: str = "update", order: Order | None = None) -> list[Fill]:
        """One update as a dict (:func:`update_dict`); the fills it made.
        ``order``: the order it is known to be about (reconciliation)."""
        self._counters["updates"] += 1
        fills: list[Fill] = []
        o: Order | None = None

        def apply() -> None:
            nonlocal o
            with self.journal.transaction():
                o = self._apply(u, fills, source, order)

        self._journal(apply)  # a journal failure stops trading; memory still follows the venue
        for f in fills:
            if self.on_fill is not None:
                try:
                    self.on_fill(f)
                except Exception as e:  # the fill is journaled; its consumer failed
                    self._counters["on_fill_errors"] += 1
                    self.mark_state_unknown(f"fill of order {f.order_id} not taken by on_fill: "
                                            f"{type(e).__name__}: {e}")
        if o is not None:
            self._after_update(o, bool(fills))
        return fills

    def _find(self, u: dict) -> Order | None:
        oid = self._by_local.get(u["local_id"]) if u["local_id"] > 0 else None
        if oid is None and u["cl_ord_id"]:
            oid = self._by_cl.get(u["cl_ord_id"])
        if oid is not None:
            return self.orders[oid]
        spec = self._by_instrument.get(u.get("instrument", 0))
        for o in self.orders.values():  # an intent whose SendOrder has not returned yet
            if (o.status is OrderStatus.PENDING_SUBMIT and o.local_id is None and int(o.side) == u["side"]
                    and int(o.request.order_type) == u["order_type"] and o.quantity == u["quantity"]
                    and (spec is None or spec.ticker == o.ticker)):
                return o
        return None

    def _apply(self, u: dict, fills: list[Fill], source: str, order: Order | None) -> Order | None:
        if u["type"] == _VENUE_LOST:
            self.journal.record_event(None, u, applied=False, note="venue lost")
            self.mark_state_unknown("the venue's order link was lost")
            return None
        o = order if order is not None else self._find(u)
        if o is None:
            self._counters["unknown_orders"] += 1
            self.journal.record_event(None, u, applied=False, note="unknown order")
            self.mark_state_unknown(f"update for an order not in the journal (local id {u['local_id']}, "
                                    f"ClOrdID {u['cl_ord_id'] or '?'})")
            return None
        if u["flags"] & _NO_DETAILS:
            self._counters["no_details"] += 1
            self.journal.record_event(o.internal_id, u, applied=False, note="no details")
            self.mark_state_unknown(f"order {o.internal_id}: the venue gave no details "
                                    f"(error {u['error_code']})")
            return None
        self._bind(o, u)
        if u["event_id"] > 0 and u["event_id"] <= o.last_event_id:
            self._counters["out_of_order"] += 1
            self.journal.record_event(o.internal_id, u, applied=False, note="out of order")
            self.journal.record_order(o)
            return o
        try:
            status = OrderStatus(u["status"])
        except ValueError:
            self.journal.record_event(o.internal_id, u, applied=False, note="unknown status")
            self.mark_state_unknown(f"order {o.internal_id}: unknown status code {u['status']}")
            return o
        note = ""
        spec = self.instruments.get(o.ticker)
        if spec is None:  # a journaled order of an instrument this run was not given
            self.journal.record_event(o.internal_id, u, applied=False, note="instrument not configured")
            self.mark_state_unknown(f"order {o.internal_id}: {o.ticker} is not configured")
            return o
        if u["cum_qty"] > o.cum_qty:
            f = self._fill(o, u, spec)
            if o.status.terminal:
                self._counters["late_fills"] += 1
                note = "late fill"
            fills.append(f)
            o.fills.append(f)
            self.journal.record_fill(f, source)
            self._positions[o.ticker] = self._positions.get(o.ticker, 0) + f.side.sign * f.quantity
            self.journal.record_position(o.ticker, self._positions[o.ticker], source, f.exch_ns)
            self._counters["fills" if source == "update" else "adopted_fills"] += 1
        elif u["cum_qty"] < o.cum_qty:
            self._counters["cum_decreases"] += 1
            note = "cum_qty went down: kept"
        if u["event_id"] > 0:
            o.last_event_id = u["event_id"]
        if o.acked_wall_ns is None:
            o.acked_wall_ns = self.clock_ns()
        if not o.status.terminal:
            o.status = status
            if u["quantity"] > 0:
                o.quantity = u["quantity"]
            if o.request.order_type is not OrderType.MARKET and u["price"] > 0:
                o.price = self._units(spec, u["price"], o.price)
            if o.request.order_type is OrderType.STOP_LIMIT and u["stop_price"] > 0:
                o.stop_price = self._units(spec, u["stop_price"], o.stop_price)
            o.leaves_qty = max(u["leaves_qty"], 0) if not status.terminal else 0
        elif status != o.status and not note:
            note = f"after final: {status.name} ignored"
        if u.get("text"):
            o.text = u["text"]
        self.journal.record_event(o.internal_id, u, applied=True, note=note)
        self.journal.record_order(o)
        return o

    def _bind(self, o: Order, u: dict) -> None:
        # a local id lives for one DLL session: after a restart the venue's
        # current one replaces the journal's (matched by ClOrdID)
        if (u["local_id"] > 0 and o.local_id != u["local_id"]
                and self._by_local.get(u["local_id"], o.internal_id) == o.internal_id):
            o.local_id = u["local_id"]
            self._by_local[o.local_id] = o.internal_id
        if u["local_id"] > 0 and u["local_id"] == o.local_id:
            self._stale_local.discard(o.internal_id)
        if not o.cl_ord_id and u["cl_ord_id"]:
            o.cl_ord_id = u["cl_ord_id"]
            self._by_cl[o.cl_ord_id] = o.internal_id

    @staticmethod
    def _units(spec: InstrumentSpec, price: float, keep: int | None) -> int | None:
        try:
            return spec.units(price)
        except ValueError:
            return keep

    def _fill(self, o: Order, u: dict, spec: InstrumentSpec) -> Fill:
        delta = u["cum_qty"] - o.cum_qty
        price: int | None = None
        try:
            new = Decimal(repr(u["avg_price"])) * u["cum_qty"]
            old = Decimal(repr(o.avg_price)) * o.cum_qty
            units = ((new - old) / delta / spec.price_unit).to_integral_value(ROUND_HALF_EVEN)
            price = int(units) if units > 0 else None
        except (InvalidOperation, ValueError, OverflowError):  # NaN / inf average
            price = None
        avg = u["avg_price"]
        if price is None:  # no usable average: the last trade's price, counted
            self._counters["bad_fill_prices"] += 1
            price = self._units(spec, u["last_price"], None) or o.price or 0
            # keep our average consistent with our fills, so the next delta is right
            avg = float((Decimal(repr(o.avg_price)) * o.cum_qty + spec.points(price) * delta) / u["cum_qty"])
        o.cum_qty = u["cum_qty"]
        o.avg_price = avg
        return Fill(o.internal_id, o.ticker, o.side, delta, price, u["exch_ns"], u["event_id"])

    # ------------------------------------------------------------ brackets
    def _after_update(self, o: Order, filled: bool) -> None:
        if self.bracket_config is None or not self.bracket_config.enabled:
            return
        if o.purpose is OrderPurpose.ENTRY and filled and o.internal_id not in self._brackets:
            self._brackets[o.internal_id] = Bracket(o.internal_id, o.ticker, o.side)
        if self._reconciling:  # legs wait until the venue agrees with the journal
            return
        entry_id = self._leg_of.get(o.internal_id)
        if (entry_id is not None and o.status in (OrderStatus.REJECTED, OrderStatus.PARTIALLY_FILLED_REJECTED)
                and not o.cancel_requested and o.internal_id not in self._rejected_legs):
            self._rejected_legs.add(o.internal_id)
            self._counters["bracket_leg_rejected"] += 1
            self._journal(self.journal.record_note, "bracket", f"order {entry_id}: its {o.purpose.value} "
                          f"leg {o.internal_id} was rejected: the position is not fully protected",
                          self.clock_ns())
        if entry_id is not None and filled and o.cancel_requested:
            # both legs filled before the cancel of the second landed: the
            # emulated OCO's residual risk; the position is what the fills say
            self._counters["oco_overfills"] += 1
            self._journal(self.journal.record_note, "bracket", f"order {entry_id}: its {o.purpose.value} "
                          f"leg {o.internal_id} filled after its cancel was asked", self.clock_ns())
        if filled or o.internal_id in self._leg_of or o.internal_id in self._brackets:
            self.sync_brackets(o.ticker)

    def sync_brackets(self, ticker: str) -> None:
        """Place, resize or cancel the legs of the ticker's brackets (see brackets.py)."""
        if self.bracket_config is None or not self.bracket_config.enabled or self._unknown is not None:
            return  # with the venue state unknown nothing is sent; reconcile() syncs after
        held = {s: max(self.position(ticker) * s.sign, 0) for s in Side}
        for b in [b for b in self._brackets.values() if b.ticker == ticker]:
            entry = self.orders[b.entry_id]
            every = [self.orders[i] for i in b.legs]
            legs = [self.orders[i] for i in b.current_ids]
            open_qty = max(min(entry.cum_qty - sum(leg.cum_qty for leg in every), held[b.side]), 0)
            held[b.side] -= open_qty
            if open_qty == 0:
                for leg in legs:
                    if leg.working and not leg.cancel_requested:
                        self.cancel(leg.internal_id)
                if not entry.working and not any(leg.working for leg in every):
                    del self._brackets[b.entry_id]
                continue
            if b.placed and legs and all(not leg.working and leg.cancel_requested for leg in legs):
                b.placed, b.take_profit_id, b.stop_loss_id = False, None, None  # we cancelled them: anew
            if not b.placed:
                self._place_legs(b, entry, open_qty)
                continue
            for leg in legs:
                if not leg.working or leg.cancel_requested or (leg.local_id is None and not leg.cl_ord_id):
                    continue
                want = leg.cum_qty + open_qty
                if b.targets.get(leg.internal_id, leg.quantity) == want:
                    continue
                if want > b.targets.get(leg.internal_id, leg.quantity) and self.risk_check is not None:
                    more = OrderRequest(ticker, leg.side, want - leg.quantity, leg.request.order_type,
                                        leg.purpose, leg.price, leg.stop_price, parent_id=b.entry_id)
                    verdict = self.risk_check(more)
                    if not verdict.approved:
                        self._counters["bracket_denied"] += 1
                        self._deny(more, _reason_name(verdict.reason), verdict.detail, 0)
                        continue
                if self._change(leg, want):
                    b.targets[leg.internal_id] = want

    def _place_legs(self, b: Bracket, entry: Order, qty: int) -> None:
        cfg = self.bracket_config
        assert cfg is not None
        spec = self.instruments[b.ticker]
        tp, stop, limit = leg_prices(spec, b.side, entry_price(entry.fills), cfg)
        other = b.side.opposite
        for purpose, req in (
                (OrderPurpose.TAKE_PROFIT, OrderRequest(b.ticker, other, qty, OrderType.LIMIT,
                                                        OrderPurpose.TAKE_PROFIT, tp, None,
                                                        entry.request.decision_id, b.entry_id)),
                (OrderPurpose.STOP_LOSS, OrderRequest(b.ticker, other, qty, OrderType.STOP_LIMIT,
                                                      OrderPurpose.STOP_LOSS, limit, stop,
                                                      entry.request.decision_id, b.entry_id))):
            leg = self.submit(req)
            if leg is None:
                self._counters["bracket_denied"] += 1
                continue
            self._counters["bracket_legs"] += 1
            # a leg went out: from now on only resizes (a denied one is retried until then)
            b.add_leg(leg.internal_id, purpose is OrderPurpose.TAKE_PROFIT, leg.quantity)
            self._leg_of[leg.internal_id] = b.entry_id

    # ------------------------------------------------------------ recovery
    def _load(self, orders: list[Order]) -> None:
        """Adopt the journal's orders (recovery): indexes, positions, brackets."""
        for o in orders:  # local ids are not indexed: they belonged to the DLL session that died
            self.orders[o.internal_id] = o
            if o.working:
                self._working[o.internal_id] = o
            if o.local_id is not None:
                self._stale_local.add(o.internal_id)
            if o.cl_ord_id:
                self._by_cl[o.cl_ord_id] = o.internal_id
            for f in o.fills:
                self._positions[f.ticker] = self._positions.get(f.ticker, 0) + f.side.sign * f.quantity
        for o in orders:
            parent = o.request.parent_id
            if o.purpose is OrderPurpose.ENTRY and o.cum_qty > 0:
                self._brackets.setdefault(o.internal_id, Bracket(o.internal_id, o.ticker, o.side))
            if parent is not None and o.purpose in (OrderPurpose.TAKE_PROFIT, OrderPurpose.STOP_LOSS):
                entry = self.orders.get(parent)
                if entry is None:
                    continue
                b = self._brackets.setdefault(parent, Bracket(parent, entry.ticker, entry.side))
                b.add_leg(o.internal_id, o.purpose is OrderPurpose.TAKE_PROFIT, o.quantity)
                self._leg_of[o.internal_id] = parent

    def bind_recovered(self, o: Order, local_id: int, cl_ord_id: str) -> None:
        """Bind an order to the ids the venue gives it now (reconciliation):
        an intent found at the venue, or the current session's local id."""
        if local_id > 0:
            o.local_id = local_id
            self._by_local[local_id] = o.internal_id
            self._stale_local.discard(o.internal_id)
        o.cl_ord_id = cl_ord_id or o.cl_ord_id
        if o.cl_ord_id:
            self._by_cl[o.cl_ord_id] = o.internal_id
        if o.status is OrderStatus.PENDING_SUBMIT:
            o.status = OrderStatus.PENDING_NEW
        self.journal.record_order(o)

    def clear_state_unknown(self) -> None:
        self._unknown = None

    def reconcile(self) -> ReconcileReport:
        """Compare with the venue now (after a ring overflow or VENUE_LOST):
        adopt what was missed; the unknown state is cleared only when the
        report has no difference (see reconcile.py)."""
        from quantumtrader.execution.reconcile import reconcile

        return reconcile(self)

    @classmethod
    def recover(cls, venue: Venue, journal: Journal, instruments: Mapping[str, InstrumentSpec],
                **kw: Any) -> tuple[ExecutionEngine, ReconcileReport]:
        """Rebuild from the journal, reconcile with the venue; the engine and
        its :class:`ReconcileReport` (``ok=False``: the engine stays in the
        unknown state and refuses to send).

        Fills adopted from the venue are journaled and given to ``on_fill``:
        rebuild the portfolio from ``journal.fills()`` *before* calling this
        (then on_fill adds only what was missed), or after it without
        ``on_fill`` -- not both, or the adopted fills count twice."""
        from quantumtrader.execution.reconcile import reconcile

        engine = cls(venue, journal, instruments, **kw)
        engine._load(journal.orders())
        return engine, reconcile(engine)
