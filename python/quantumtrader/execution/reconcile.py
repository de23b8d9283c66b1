"""Reconciliation: what the journal says against what the venue says, after
a restart (``ExecutionEngine.recover``) or after the order state became
unknown during a session (ring overflow, VENUE_LOST).

Contract of :func:`reconcile`:
- each journaled order still working is looked up at the venue (by ClOrdID
  when known, the permanent id, else by local id); what changed while we
  were away goes through the same state machine, so missed fills are
  journaled (source "recovery") and counted as ``adopted_fills``;
  a working order the venue does not know is a DIFFERENCE;
- an intent without a local id (killed between the journal and SendOrder's
  return) is bound to a venue open order of the same ticker, side, type,
  quantity and price that no journaled order claims; without one it is
  marked never sent (REJECTED, text "never sent"), with a note when the venue
  cannot list its open orders (a filled one then shows as a position
  difference);
- venue open orders that no journaled order claims are DIFFERENCES;
- for each configured instrument, a venue position (day trade) different
  from the journal's fills is a DIFFERENCE.
Each difference is one line.  ``ok`` is True only with none: then the
engine's unknown state is cleared; else it is set, and trading stays
refused until the user resolves it.  The report is journaled (notes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from quantumtrader.execution.orders import Order, OrderStatus
from quantumtrader.execution.venue import VenueError, VenueOrder

if TYPE_CHECKING:
    from quantumtrader.execution.engine import ExecutionEngine

__all__ = ["ReconcileReport", "reconcile"]


@dataclass
class ReconcileReport:
    ok: bool
    differences: list[str] = field(default_factory=list)
    adopted_fills: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = "reconciled: no difference" if self.ok else f"{len(self.differences)} difference(s)"
        return "\n".join([f"{head}; {self.adopted_fills} fill(s) adopted", *self.differences, *self.notes])


def _as_update(v: VenueOrder) -> dict:
    return dict(type=1, flags=0, instrument=0, local_id=v.local_id, event_id=v.event_id,
                quantity=v.quantity, cum_qty=v.traded_quantity, leaves_qty=v.leaves_quantity,
                avg_price=v.average_price, price=v.price, stop_price=v.stop_price, last_price=0.0,
                status=int(v.status), side=int(v.side), order_type=int(v.order_type),
                cl_ord_id=v.cl_ord_id, error_code=0, exch_ns=0, recv_ns=0, text=v.text)


def _describe(o: Order) -> str:
    return (f"order {o.internal_id} ({o.ticker} {o.side.name} {o.quantity} {o.request.order_type.name}"
            f"{'' if o.price is None else f' @{o.price}'}, ClOrdID {o.cl_ord_id or '?'})")


def _same(o: Order, v: VenueOrder, engine: ExecutionEngine) -> bool:
    if (v.ticker.upper() != o.ticker.upper() or v.side is not o.side
            or v.order_type is not o.request.order_type or v.quantity != o.quantity):
        return False
    if o.price is None:
        return True
    try:
        return engine.instruments[o.ticker].units(v.price) == o.price
    except ValueError:
        return False


def _same_order(o: Order, v: VenueOrder) -> bool:
    """The venue's answer is about this order (a stale local id may name another)."""
    return (v.ticker.upper() == o.ticker.upper() and v.side is o.side
            and v.order_type is o.request.order_type)


def reconcile(engine: ExecutionEngine) -> ReconcileReport:
    engine._reconciling = True  # no bracket is placed or resized before the venue agrees
    try:
        report = _reconcile(engine)
    finally:
        engine._reconciling = False
    if report.ok:
        for ticker in sorted(engine.instruments):
            engine.sync_brackets(ticker)
    return report


def _reconcile(engine: ExecutionEngine) -> ReconcileReport:
    report = ReconcileReport(ok=False)
    venue, journal = engine.venue, engine.journal
    fills_before = engine.counters.get("adopted_fills", 0)
    try:
        open_orders = venue.open_orders()
    except VenueError as e:
        open_orders = None
        report.notes.append(f"open orders: {e}")
    if open_orders is None:
        report.notes.append("the venue cannot list its open orders: orders sent outside this journal "
                            "are not checked")
    # ClOrdIDs are permanent; the journal's local ids may be a dead session's,
    # so only the local ids the venue confirms now claim a venue order
    claimed_cl = {o.cl_ord_id for o in engine.orders.values() if o.cl_ord_id}
    claimed_local: set[int] = set()

    def claimed(v: VenueOrder) -> bool:
        return (bool(v.cl_ord_id) and v.cl_ord_id in claimed_cl) or v.local_id in claimed_local

    for o in sorted(engine.working_orders(), key=lambda o: o.internal_id):
        if o.ticker not in engine.instruments:
            report.differences.append(f"{_describe(o)}: working in the journal, {o.ticker} not configured")
            continue
        if o.local_id is None and not o.cl_ord_id:
            match = next((v for v in open_orders or [] if not claimed(v) and _same(o, v, engine)), None)
            if match is None:
                o.status, o.leaves_qty, o.text = OrderStatus.REJECTED, 0, "never sent"
                journal.record_order(o)
                report.notes.append(f"{_describe(o)}: never sent (killed before SendOrder returned)")
                continue
            claimed_local.add(match.local_id)
            claimed_cl.add(match.cl_ord_id)
            engine.bind_recovered(o, match.local_id, match.cl_ord_id)
            report.notes.append(f"{_describe(o)}: found at the venue as local id {match.local_id}")
        try:
            v = venue.order_details(0 if o.cl_ord_id else o.local_id or 0, o.cl_ord_id or "")
        except VenueError as e:
            report.differences.append(f"{_describe(o)}: the venue could not say ({e})")
            continue
        if v is None or not _same_order(o, v):
            report.differences.append(f"{_describe(o)}: working in the journal, unknown at the venue")
            continue
        claimed_local.add(v.local_id)
        if v.cl_ord_id:
            claimed_cl.add(v.cl_ord_id)
        if (v.cl_ord_id and not o.cl_ord_id) or (v.local_id > 0 and v.local_id != o.local_id):
            engine.bind_recovered(o, v.local_id if v.local_id > 0 else o.local_id or 0, v.cl_ord_id)
        u = _as_update(v)
        if v.traded_quantity > o.cum_qty and v.event_id <= o.last_event_id:
            u["event_id"] = 0  # the venue's fills are the truth whatever its event ids say
        elif v.event_id <= o.last_event_id and v.event_id > 0:
            continue  # nothing happened to it while we were away
        engine.apply_update(u, source="recovery", order=o)

    for v in open_orders or []:
        if not claimed(v):
            report.differences.append(f"venue order {v.cl_ord_id or v.local_id} ({v.ticker} {v.side.name} "
                                      f"{v.leaves_quantity} left of {v.quantity} @{v.price:g}, "
                                      f"{v.status.name}) is not in the journal")

    for ticker in sorted(set(engine.positions) - set(engine.instruments)):
        if engine.position(ticker) != 0:
            report.differences.append(f"{ticker}: journal position {engine.position(ticker):+d}, "
                                      f"{ticker} not configured")
    for ticker, spec in sorted(engine.instruments.items()):
        try:
            at_venue = venue.position(spec)
        except VenueError as e:
            report.differences.append(f"{ticker}: position unknown at the venue ({e})")
            continue
        ours = engine.position(ticker)
        if at_venue != ours:
            report.differences.append(f"{ticker}: venue position {at_venue:+d}, journal {ours:+d}")
        journal.record_position(ticker, at_venue, "venue")

    report.adopted_fills = engine.counters.get("adopted_fills", 0) - fills_before
    report.ok = not report.differences
    if report.ok:
        engine.clear_state_unknown()
    else:
        engine.mark_state_unknown(f"reconciliation: {len(report.differences)} difference(s)")
    journal.record_note("reconcile", report.summary())
    return report
