"""ProfitDLLVenue's pure parts: the account forms it takes and the binding's
order dicts as VenueOrders (the calls themselves run against the simulator
in tests/integration/test_order_execution_flow.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from quantumtrader.adapters.profitdll.execution import TradingAccount, venue_order
from quantumtrader.execution.orders import OrderStatus, OrderType, Side
from quantumtrader.execution.venue import VenueError


def test_account_forms() -> None:
    want = TradingAccount(7, "ACC1", "SUB")
    assert TradingAccount.of((7, "ACC1", "SUB")) == want
    assert TradingAccount.of({"broker_id": "7", "account_id": "ACC1", "sub_account_id": "SUB"}) == want
    assert TradingAccount.of(SimpleNamespace(broker_id=7, account_id="ACC1", sub_account_id="SUB")) == want
    assert TradingAccount.of((7, "ACC1")) == TradingAccount(7, "ACC1", "")
    for bad in ((), {"account_id": "A"}, ("x", "A"), None):
        with pytest.raises(ValueError, match="account: give") as e:
            TradingAccount.of(bad)
        assert "\n" not in str(e.value)


DETAILS = dict(local_id=3, cl_ord_id="SIMX-3", ticker="WDOZ26", quantity=2, traded_quantity=1,
               leaves_quantity=1, price=5500.0, stop_price=-1.0, average_price=5500.0, side=2,
               order_type=2, status=1, event_id=9, text="")


def test_binding_dict_as_venue_order() -> None:
    v = venue_order(DETAILS)
    assert (v.side, v.order_type, v.status) == (Side.SELL, OrderType.LIMIT, OrderStatus.PARTIALLY_FILLED)
    assert (v.quantity, v.traded_quantity, v.leaves_quantity, v.event_id) == (2, 1, 1, 9)


@pytest.mark.parametrize("field,value", [("status", 55), ("side", 0), ("order_type", 3)])
def test_unknown_codes_are_one_line_venue_errors(field: str, value: int) -> None:
    with pytest.raises(VenueError, match=f"unknown .*{value}"):
        venue_order({**DETAILS, field: value})
