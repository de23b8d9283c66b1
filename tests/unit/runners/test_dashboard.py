"""The dashboard: plain log lines when the console is no terminal, a rich
Live view when it is, snapshots handed over from other threads, a bad
snapshot counted and never raised, start/stop idempotent and Ctrl-C safe."""

from __future__ import annotations

import io
import logging
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

from quantumtrader.features.schema import BOOK_NAMES, QT77_NAMES
from quantumtrader.runners.dashboard import Dashboard, log_line


def _snapshot(i: int = 0) -> dict[str, Any]:
    features = [0.001 * k for k in range(len(QT77_NAMES))]
    return {
        "ticker": "WDOF26", "exch_ns": 1_764_939_600 * 10**9 + i, "price": 5012.5 + i,
        "features": features,
        "probabilities": (0.2, 0.3, 0.5),
        "signal": {"action": "ENTER_LONG", "reason": "buy 0.50 >= 0.45"},
        "orders": [{"id": 7, "side": "BUY", "type": "LIMIT", "quantity": 1, "price": 5012.0,
                    "status": "NEW", "purpose": "entry"}],
        "position": {"quantity": 1, "average_price": Decimal("5010.5")},
        "pnl": {"realized_brl": Decimal("12.00"), "unrealized_brl": "20", "fees_brl": Decimal("2.40"),
                "net_brl": Decimal("29.60")},
        "risk": {"state": "ACTIVE", "detail": "", "denials": {"order_rate": 2}},
        "feed": {"ok": True, "detail": "", "last_trade_age_s": 0.4},
        "session": {"name": "paper", "venue": "paper", "phase": "open", "progress": 0.25,
                    "decisions": 1234 + i, "orders": 3, "fills": 2},
    }


def _wait(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_the_log_line_holds_the_figures_a_trader_looks_for() -> None:
    line = log_line(_snapshot())
    for needle in ("WDOF26", "last 5,012.5", "pos +1 @ 5,010.5", "net R$ 29.60", "fees R$ 2.40",
                   "p(s/h/b) 0.20/0.30/0.50 ENTER_LONG", "orders 1", "risk ACTIVE denials 2", "feed ok",
                   "decisions 1,234", "session 25%"):
        assert needle in line, (needle, line)
    assert log_line({}).startswith("- - last -")  # nothing known yet: dashes, no error


def test_not_a_terminal_degrades_to_periodic_plain_lines() -> None:
    buf = io.StringIO()
    dash = Dashboard(Console(file=buf, force_terminal=False, width=300), refresh_hz=50, log_every_s=0.05)
    assert not dash.interactive
    dash.update(_snapshot())
    dash.start()
    try:
        assert _wait(lambda: dash.lines >= 3)
    finally:
        dash.stop()
    text = buf.getvalue()
    lines = text.splitlines()
    assert len(lines) == dash.lines >= 4  # the periodic ones and the last one at stop
    assert all("WDOF26" in line and "ENTER_LONG" in line for line in lines)
    assert "\x1b[" not in text and "╭" not in text  # no terminal control, no panels


def test_log_lines_go_to_a_logger_when_given(caplog) -> None:
    buf = io.StringIO()
    logger = logging.getLogger("quantumtrader.test.dashboard")
    quiet = Dashboard(Console(file=buf, force_terminal=False), refresh_hz=50, log_every_s=0.02, logger=logger)
    with caplog.at_level(logging.INFO, logger=logger.name), quiet as dash:
        dash.update(_snapshot())
        assert _wait(lambda: dash.lines >= 2)
    assert buf.getvalue() == ""
    assert len(caplog.records) >= 3 and "WDOF26" in caplog.records[-1].getMessage()


def test_updates_from_another_thread_reach_the_last_line() -> None:
    buf = io.StringIO()
    dash = Dashboard(Console(file=buf, force_terminal=False, width=300), refresh_hz=100, log_every_s=0.01)
    dash.start()

    def feed() -> None:
        for i in range(2000):
            dash.update(_snapshot(i))

    producer = threading.Thread(target=feed)
    producer.start()
    producer.join()
    dash.stop()
    assert "decisions 3,233" in buf.getvalue().splitlines()[-1]  # the latest snapshot, i = 1999
    assert dash.render_errors == 0


def test_a_terminal_gets_the_live_panels() -> None:
    buf = io.StringIO()
    dash = Dashboard(Console(file=buf, force_terminal=True, width=180, height=60), refresh_hz=20)
    assert dash.interactive
    dash.update(_snapshot())
    dash.start()
    time.sleep(0.2)
    dash.stop()
    text = buf.getvalue()
    for needle in ("book", "latest features", "model", "working orders", "position and P&L", "risk",
                   *BOOK_NAMES, "ENTER_LONG", "R$ 29.60", "order_rate", "feed ok", "returns_1"):
        assert needle in text, needle
    assert dash.render_errors == 0 and dash.lines == 0


def test_a_float32_vector_and_a_book_table_are_drawn_as_numbers() -> None:
    import numpy as np

    from quantumtrader.runners.dashboard import render

    snap = _snapshot()
    snap["features"] = np.full(len(QT77_NAMES), 0.123456789, dtype=np.float32)
    snap["book"] = {"spread": np.float32(0.5), "ofi_100": -12}
    buf = io.StringIO()
    Console(file=buf, width=180).print(render(snap))
    text = buf.getvalue()
    assert "0.12346" in text and "0.123456789" not in text and "0.1234567" not in text
    assert "-12" in text and "spread            0.5" in text


def test_a_bad_snapshot_is_counted_not_raised() -> None:
    buf = io.StringIO()
    dash = Dashboard(Console(file=buf, force_terminal=True, width=120), refresh_hz=50)
    dash.update({"features": [1.0, 2.0]})  # not a qt77 vector
    dash.start()
    assert _wait(lambda: dash.render_errors >= 2)
    assert dash.running
    dash.stop()
    why = "cannot draw the snapshot (ValueError: features has 2 values, not the 77 of qt77)"
    assert why in buf.getvalue()


def test_start_and_stop_are_idempotent_and_ctrl_c_safe() -> None:
    dash = Dashboard(Console(file=io.StringIO(), force_terminal=False), refresh_hz=50, log_every_s=60)
    dash.stop()  # never started: nothing to do
    dash.start()
    dash.start()
    assert sum(t.name == "dashboard" for t in threading.enumerate()) == 1
    dash.stop()
    dash.stop()
    assert not dash.running and dash.lines == 1
    live = Dashboard(Console(file=io.StringIO(), force_terminal=True), refresh_hz=50)
    with pytest.raises(KeyboardInterrupt), live:
        raise KeyboardInterrupt
    assert not live.running
    assert not any(t.name == "dashboard" for t in threading.enumerate())
    with pytest.raises(ValueError, match="refresh_hz and log_every_s must be positive"):
        Dashboard(refresh_hz=0)
