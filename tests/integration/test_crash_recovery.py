"""kill -9 at random moments of a paper session: nothing lost, nothing doubled.

``quantumtrader paper`` runs as a child process on a synthetic session
(fast pace, a signal that trades often) with its run folder: the SQLite
journal and the simulator's broker state file, which outlives the process
as a broker does.  The test kills it with SIGKILL at random moments and
starts the very same command again, until a run finishes on its own.  After
each kill the journal holds no doubled fill; each restart must reconcile
clean (a difference makes the run exit 1, which fails the test).  At the
end the venue, restored from its state file, is asked for its orders and
position, and they equal the journal's: every order the venue knows is in
the journal once, with the quantity the venue filled, and the journal's
fills add up to the venue's position."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.execution.orders import Side
from quantumtrader.runners.model import load_trading_model

pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="SIGKILL is POSIX; Windows CI runs the C tests")

KILLS = 6
SPEED = 2000  # a 9-hour session in about 16 s of replay: six kills land before its end
CONFIG = """
[signal]
entry_threshold = 0.5
min_confidence = 0.05
[risk]
max_orders_per_minute = 120
[brackets]
stop_loss_ticks = 4
take_profit_ticks = 4
"""


def _paper(log: Path, run: Path, config: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "quantumtrader", "paper", "--replay", str(log), "--speed", str(SPEED),
           "--out", str(run), "--config", str(config), "--no-dashboard"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _journal_rows(journal: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(journal)  # read-write: a killed writer's WAL is recovered on open
    try:
        return list(db.execute(sql))
    finally:
        db.close()


def _no_doubled_fill(journal: Path) -> None:
    if not journal.exists():
        return
    dup = _journal_rows(journal, "SELECT internal_id, event_id, COUNT(*) FROM fills "
                                 "GROUP BY internal_id, event_id HAVING COUNT(*) > 1")
    assert dup == [], f"doubled fills: {dup}"


def _wait_reconciled(journal: Path, runs: int, p: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    """Until the run's node has reconciled (one note per start) or the run ended."""
    deadline = time.monotonic() + timeout_s
    while p.poll() is None and time.monotonic() < deadline:
        if journal.exists():
            try:
                n = _journal_rows(journal, "SELECT COUNT(*) FROM notes WHERE kind = 'reconcile'")[0][0]
            except sqlite3.Error:  # the schema is being created
                n = 0
            if n >= runs:
                return
        time.sleep(0.05)


def test_kill_9_at_random_moments(tmp_path: Path) -> None:
    log = tmp_path / "wdo.qtlog"
    write_synthetic_log(log, 1, 41, 1.0, trades_per_day=3000)
    config = tmp_path / "crash.toml"
    config.write_text(CONFIG)
    run = tmp_path / "run"
    journal = run / "journal.sqlite"
    rng = random.Random(20261206)
    kills = 0
    outputs: list[str] = []
    load_trading_model(None)  # compiled once here: the kills are meant for the trading session
    runs = 0
    while True:
        p = _paper(log, run, config)
        runs += 1
        if kills < KILLS:
            _wait_reconciled(journal, runs, p)  # the restart is trading: from now on any moment will do
            try:
                p.wait(timeout=rng.uniform(0.2, 4.0))
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills += 1
                _no_doubled_fill(journal)
                continue
        else:
            p.wait(timeout=180)
        _out, err = p.communicate()
        outputs.append(err.decode(errors="replace"))
        assert p.returncode == 0, f"run after {kills} kill(s) exited {p.returncode}: {outputs[-1][-2000:]}"
        break
    assert kills >= 3, "the session ended before the test could kill it: nothing was tested"

    notes = _journal_rows(journal, "SELECT text FROM notes WHERE kind = 'reconcile'")
    assert len(notes) == runs, f"{runs} runs, {len(notes)} reconciliations"
    assert all(text.startswith("reconciled: no difference") for (text,) in notes), notes
    _no_doubled_fill(journal)
    dup_ids = _journal_rows(journal, "SELECT decision_id FROM decisions GROUP BY decision_id "
                                     "HAVING COUNT(*) > 1")
    assert dup_ids == [], f"a resumed run reused decision ids: {dup_ids[:5]}"
    orders = {cl: (cum, iid) for iid, cl, cum in _journal_rows(
        journal, "SELECT internal_id, cl_ord_id, cum_qty FROM orders WHERE cl_ord_id IS NOT NULL")}
    for cum, iid in orders.values():
        (filled,) = _journal_rows(journal, "SELECT COALESCE(SUM(quantity), 0) FROM fills "
                                           f"WHERE internal_id = {iid}")[0]
        assert filled == cum, f"order {iid}: fills {filled} != cum {cum}"
    fills = _journal_rows(journal, "SELECT side, quantity FROM fills")
    position = sum((1 if s == Side.BUY else -1) * q for s, q in fills)
    assert len(orders) > 0, "no order was ever sent: the test would prove nothing"

    # the venue, restored from its state file, against the journal
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.venues import SIM_ACCOUNT, open_simulator, replay_log

    session = replay_log(log)
    conn = open_simulator([session], session.days[0], load_trading_config(str(config)).simulator, speed=0.0,
                          state_file=run / "venue.state")
    try:
        venue_orders = conn.dll.enumerate_orders(SIM_ACCOUNT)
        ticker = next(iter(conn.subscriptions.values())).ticker
        venue_position = conn.dll.get_position(SIM_ACCOUNT, ticker)
    finally:
        conn.close()
    seen = {}
    for o in venue_orders:
        assert o["cl_ord_id"] in orders, f"the venue has an order the journal lost: {o['cl_ord_id']}"
        seen[o["cl_ord_id"]] = o
        assert o["traded_quantity"] == orders[o["cl_ord_id"]][0], o
    assert len(seen) == len(orders), "the journal holds orders the venue never had"
    net = venue_position["daily_buy_quantity"] - venue_position["daily_sell_quantity"]
    assert net == position
    print(f"{kills} kills, {len(orders)} orders, {len(fills)} fills, {len(notes)} reconciliations, "
          f"final position {position}")
