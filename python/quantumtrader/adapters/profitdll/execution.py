"""ProfitDLLVenue: the execution engine's :class:`Venue` over the ProfitDLL
binding (the real DLL on Windows, the simulator library elsewhere).

Contract:
- Orders go out as Version 1 SendOrder records: market price -1, stop -1
  when none, prices converted from integer price units with the instrument's
  spec (exact for B3 ticks).
- Every DLL error becomes a one-line :class:`VenueError` naming the call.
- ``order_details`` looks an order up by ClOrdID when given (permanent;
  local id 0), else by local id (its ClOrdID then comes from the order list
  when the binding can enumerate, else stays ""); NL_NOT_FOUND /
  NL_INVALID_ARGS is None.
- ``open_orders`` lists the account's working orders through the binding's
  ``enumerate_orders`` when it has one (and the DLL exports
  EnumerateAllOrders), else None (cannot list).
- ``position``: GetPositionV2 day trade, signed (open side 1 buy, 2 sell);
  no position yet (NL_NO_POSITION) is 0.
- The routing password is passed through and not logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quantumtrader.adapters.profitdll.errors import LibraryLoadError, ProfitDLLError
from quantumtrader.execution.orders import OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.execution.venue import VenueError, VenueOrder
from quantumtrader.instruments import InstrumentSpec

__all__ = ["ProfitDLLVenue", "TradingAccount", "venue_order"]

_DAY_TRADE = 1
_NOT_FOUND = ("NL_NOT_FOUND", "NL_INVALID_ARGS", "NL_NO_ORDER")


@dataclass(frozen=True)
class TradingAccount:
    broker_id: int
    account_id: str
    sub_account_id: str = ""

    @classmethod
    def of(cls, account: Any) -> TradingAccount:
        """From a (broker_id, account_id[, sub_account_id]) tuple, a dict with
        those keys, or an object with those attributes."""
        try:
            if isinstance(account, TradingAccount):
                return account
            if isinstance(account, tuple | list):
                return cls(int(account[0]), str(account[1]), str(account[2]) if len(account) > 2 else "")
            if isinstance(account, dict):
                return cls(int(account["broker_id"]), str(account["account_id"]),
                           str(account.get("sub_account_id") or ""))
            return cls(int(account.broker_id), str(account.account_id),
                       str(getattr(account, "sub_account_id", "") or ""))
        except (KeyError, IndexError, AttributeError, TypeError, ValueError):
            raise ValueError("account: give (broker_id, account_id[, sub_account_id]) or a dict "
                             "with those keys") from None


def _enum(kind: type, value: int, what: str) -> Any:
    try:
        return kind(int(value))
    except ValueError:
        raise VenueError(f"venue reported an unknown {what} {value}") from None


def venue_order(d: dict) -> VenueOrder:
    """A binding order dict (get_order_details / enumerate_orders) as a VenueOrder."""
    return VenueOrder(
        local_id=int(d.get("local_id", 0)), cl_ord_id=str(d.get("cl_ord_id") or ""),
        ticker=str(d.get("ticker", "")), side=_enum(Side, d["side"], "side"),
        order_type=_enum(OrderType, d["order_type"], "order type"), quantity=int(d["quantity"]),
        traded_quantity=int(d["traded_quantity"]), leaves_quantity=int(d["leaves_quantity"]),
        price=float(d["price"]), stop_price=float(d["stop_price"]),
        average_price=float(d["average_price"]), status=_enum(OrderStatus, d["status"], "status"),
        event_id=int(d.get("event_id", 0)), text=str(d.get("text") or ""))


class ProfitDLLVenue:
    def __init__(self, dll: Any, account: Any, password: str = "", exchange: str = "F") -> None:
        self.dll = dll
        self.account = TradingAccount.of(account)
        self._password = password
        self.exchange = exchange

    def __repr__(self) -> str:
        return f"ProfitDLLVenue({self.account.broker_id}/{self.account.account_id})"

    def send_order(self, req: OrderRequest, spec: InstrumentSpec) -> int:
        market = req.order_type is OrderType.MARKET or req.price is None
        price = -1.0 if market else spec.price_float(req.price)
        stop = -1.0 if req.stop_price is None else spec.price_float(req.stop_price)
        try:
            return int(self.dll.send_order(self.account, req.ticker, spec.exchange or self.exchange,
                                           int(req.side), int(req.order_type), price, stop,
                                           int(req.quantity), self._password))
        except (ProfitDLLError, ValueError) as e:
            raise VenueError(f"SendOrder {req.ticker}: {e}") from None

    def cancel_order(self, local_id: int, cl_ord_id: str) -> None:
        try:
            self.dll.cancel_order(self.account, int(local_id), cl_ord_id or "", self._password)
        except (ProfitDLLError, ValueError) as e:
            raise VenueError(f"cancel {cl_ord_id or local_id}: {e}") from None

    def change_order(self, local_id: int, cl_ord_id: str, spec: InstrumentSpec, *, quantity: int,
                     price: int | None, stop_price: int | None) -> None:
        p = -1.0 if price is None else spec.price_float(price)
        s = -1.0 if stop_price is None else spec.price_float(stop_price)
        try:
            self.dll.change_order(self.account, int(local_id), cl_ord_id or "", p, s, int(quantity),
                                  self._password)
        except (ProfitDLLError, ValueError) as e:
            raise VenueError(f"change {cl_ord_id or local_id}: {e}") from None

    def order_details(self, local_id: int, cl_ord_id: str) -> VenueOrder | None:
        try:
            d = self.dll.get_order_details(0 if cl_ord_id else int(local_id), cl_ord_id or "")
        except ProfitDLLError as e:
            if getattr(e, "name", "") in _NOT_FOUND:
                return None
            raise VenueError(f"GetOrderDetails {cl_ord_id or local_id}: {e}") from None
        if not d.get("cl_ord_id"):
            d = {**d, "cl_ord_id": cl_ord_id or self._cl_ord_id_of(int(d.get("local_id") or local_id))}
        return venue_order(d)

    def _cl_ord_id_of(self, local_id: int) -> str:
        """GetOrderDetails does not give the ClOrdID back (it is an input);
        the account's order list does, when the binding can enumerate."""
        try:
            listed = self.open_orders()
        except VenueError:
            return ""
        return next((v.cl_ord_id for v in listed or [] if v.local_id == local_id), "")

    def open_orders(self) -> list[VenueOrder] | None:
        enumerate_orders = getattr(self.dll, "enumerate_orders", None)
        if enumerate_orders is None:
            return None
        try:
            rows = enumerate_orders(self.account)
        except LibraryLoadError:  # a DLL without EnumerateAllOrders
            return None
        except ProfitDLLError as e:
            raise VenueError(f"EnumerateAllOrders: {e}") from None
        out = [venue_order(d) for d in rows]
        return [v for v in out if not v.status.terminal]

    def position(self, spec: InstrumentSpec) -> int:
        try:
            p = self.dll.get_position(self.account, spec.ticker, spec.exchange or self.exchange, _DAY_TRADE)
        except ProfitDLLError as e:
            if getattr(e, "name", "") == "NL_NO_POSITION":
                return 0
            raise VenueError(f"GetPositionV2 {spec.ticker}: {e}") from None
        qty = int(p["open_quantity"])
        side = int(p["open_side"])
        return qty if side == 1 else -qty if side == 2 else 0
