"""The simulator's broker outlives its client (SimSetStateFile): a paper
session is killed with SIGKILL at a random moment and restarted on the same
state file; the restarted process finds its orders, fills, ClOrdIDs, event
ids and position exactly as an uninterrupted run of the same orders had them
at the replay position the killed one reached (the uninterrupted run's state
file cut at that position gives the reference), goes on trading, and ends
exactly where the uninterrupted run ends.

The client (CHILD below, a separate Python process on the ctypes client of
tests/support/sim_client.py) holds the DLL's thread inside chosen trade
callbacks and sends ONE command per held trade from its main thread (a
request must not be made inside a callback), so each command is issued at a
known point of the replay.  Local ids are deterministic (1, 2, ... in send
order), so a restarted client names earlier orders without a journal of its
own.  One command per trade makes the replay's resume point decide exactly
once: a command that reached the broker is in the state file at or after
its trade, so that trade is not delivered again; one that did not is sent
again when the trade is replayed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import sim_client as sc

from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.data.events import EventFlag, EventType, TradeType, empty_events
from quantumtrader.qtcore.evlog import crc32c

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL of a child process")

T0 = 1_793_707_200_000_000_000  # 2026-11-03 09:00:00 -03:00
MS = 1_000_000
SUPPORT = Path(__file__).resolve().parents[1] / "support"
N_TRADES = 120


def write_log(path: Path) -> Path:
    """WDO (unit = tick = 0.5 point): a two-sided book 10999 / 11001 and
    trades alternating at the touch, with trade-throughs every 10th trade
    (10994 sold, 11006 bought) that fill our resting orders."""
    rows = [dict(type=EventType.SESSION, ref=20261103), dict(type=EventType.PHASE, code=0),
            dict(type=EventType.DAILY_LIMITS, price=12000, ref=10000),
            dict(type=EventType.SNAPSHOT_BEGIN, side=2)]
    rows += [dict(type=EventType.L2_LEVEL, side=0, price=10999 - i, qty=50, b=1) for i in range(5)]
    rows += [dict(type=EventType.L2_LEVEL, side=1, price=11001 + i, qty=50, b=1) for i in range(5)]
    rows.append(dict(type=EventType.SNAPSHOT_END, side=2, flags=EventFlag.LAST))
    for n in range(1, N_TRADES + 1):
        if n % 20 == 0:
            price, code = 10994, TradeType.SELL_AGGRESSION
        elif n % 10 == 0:
            price, code = 11006, TradeType.BUY_AGGRESSION
        else:
            price, code = (10999, TradeType.SELL_AGGRESSION) if n % 2 else (11001, TradeType.BUY_AGGRESSION)
        rows.append(dict(type=EventType.TRADE, price=price, qty=4, code=code, ref=n))
    ev = empty_events(len(rows))
    for i, row in enumerate(rows):
        ev[i]["exch_ns"] = ev[i]["recv_ns"] = T0 + (i // 3) * MS  # several records share a timestamp
        for k, v in row.items():
            ev[i][k] = v
    ev["seq"] = np.arange(1, len(rows) + 1)
    with EventLogWriter(path, EventLogHeader("WDOFUT", 0.5, 0.5, agents=["XP"])) as w:
        w.append(ev)
    return path


CHILD = r'''
import ctypes as C, json, queue, sys, threading, time
sys.path.insert(0, sys.argv[1])
import sim_client as sc
log, state, out, pace, speed = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
hang_at = int(sys.argv[7])  # > 0: stop there, the DLL's thread held in that trade's callback, until killed
if state.startswith("env:"):  # QT_SIM_STATE_FILE, read at the login, as an unmodified client would use it
    import os
    os.environ["QT_SIM_STATE_FILE"] = state[4:]
lib = sc.load()
sc.configure(lib, log, latency_us=1000, seed=7, speed=speed)
if not state.startswith("env:"):
    assert lib.SimSetStateFile(state.encode() if state else None) == 0

# one command per held trade; local ids are 1, 2, ... in send order
PLAN = {
    3: ("limit", sc.BUY, 5498.0, 2),    # id 1: rests, filled by the sell-through at trade 20
    5: ("market", sc.BUY, 3),           # id 2: fills at once
    7: ("limit", sc.SELL, 5501.5, 1),   # id 3: rests, filled by the buy-through at trade 10
    12: ("limit", sc.BUY, 5497.0, 1),   # id 4: rests
    15: ("cancel", 4),
    18: ("limit", sc.SELL, 5502.0, 2),  # id 5: rests
    22: ("change", 5, 5501.5, 3),       # filled by the buy-through at trade 30
    25: ("market", sc.SELL, 1),         # id 6
    33: ("limit", sc.BUY, 5498.0, 1),   # id 7: filled at trade 40
    37: ("cancel_cl", 1),               # by ClOrdID: order 1 is filled by then (a cancel-reject)
    45: ("limit", sc.SELL, 5504.0, 1),  # id 8: rests above every trade
    52: ("market", sc.BUY, 2),          # id 9
    58: ("limit", sc.SELL, 5502.0, 1),  # id 10: filled at trade 70
    66: ("limit", sc.BUY, 5496.0, 1),   # id 11: rests until the market closes (expired)
    75: ("market", sc.SELL, 2),         # id 12
    88: ("limit", sc.BUY, 5498.0, 3),   # id 13: filled at trade 100
    95: ("cancel", 8),
    104: ("market", sc.BUY, 1),         # id 14
}
held = queue.Queue()
release = {n: threading.Event() for n in PLAN}

def on_trade(client, number):
    if number in PLAN:
        held.put(number)
        release[number].wait(30)

client = sc.SimClient(lib, routing=True, on_trade=on_trade)
if client.init_result != 0:
    buf = C.create_string_buffer(512)
    lib.SimGetLastError(buf, 512)
    print(json.dumps({"login": client.init_result, "error": buf.value.decode()}), flush=True)
    sys.exit(3)
client.wait_state((1, 5))
desk = sc.OrderDesk(client)
def dump():
    orders = []
    for lid, cl, *_ in desk.enumerate():
        d = desk.details(lid)
        by_cl = desk.details(0, cl)
        assert (by_cl.local_id, by_cl.event_id, by_cl.status) == (lid, d.event_id, d.status)
        orders.append(dict(local_id=lid, cl_ord_id=cl, status=d.status, side=d.side, type=d.type,
                           quantity=d.quantity, traded=d.traded, leaves=d.leaves, price=d.price,
                           average_price=d.average_price, text=d.text, event_id=d.event_id,
                           date=list(d.date), last_update=list(d.last_update), fees=desk.fees(lid)))
    pos = {}
    for kind in (sc.DAY_TRADE, sc.CONSOLIDATED):
        rc, p = desk.position(kind)
        pos[kind] = [rc, p.OpenQuantity, p.OpenSide, p.OpenAveragePrice, p.DailyBuyQuantity,
                     p.DailySellQuantity, p.DailyQuantity, p.EventID]
    rc, s = desk.stats()
    return dict(orders=orders, position=pos,
                stats=[rc, s.net_qty, s.average_price, s.realized_pnl, s.fees, s.fills])

def finish():
    result = dump()
    result["counters"] = {k: getattr(client.counters(), k) for k in
                          ("state_entries_written", "state_entries_restored", "state_write_errors",
                           "state_restore_errors")}
    with open(out, "w") as f:
        json.dump(result, f)
    client.finalize()
    print(json.dumps({"done": True}), flush=True)

restored = desk.enumerate()
print(json.dumps({"ready": True, "restored": [list(r) for r in restored]}), flush=True)
if pace < 0:  # peek: the broker as the login restored it, before any market data
    finish()
    sys.exit(0)
client.subscribe()
assert lib.SimStartReplay() == 0

def cl_of(local_id):
    return next(cl for lid, cl, *_ in desk.enumerate() if lid == local_id)

while True:
    try:
        n = held.get(timeout=0.05)
    except queue.Empty:
        if lib.SimWaitReplayDone(0) == 0:
            break
        continue
    if n == hang_at:
        print(json.dumps({"hang": n}), flush=True)
        time.sleep(60)
    kind, *a = PLAN[n]
    if kind == "limit":
        rc = desk.limit(a[0], a[1], a[2])
    elif kind == "market":
        rc = desk.market(a[0], a[1])
    elif kind == "cancel":
        rc = desk.cancel(a[0])
    elif kind == "cancel_cl":
        rc = desk.cancel(-1, cl_of(a[0]))
    else:
        rc = desk.change(a[0], a[1], a[2])
    print(json.dumps({"trade": n, "kind": kind, "rc": rc}), flush=True)
    time.sleep(pace)
    release[n].set()

finish()
'''


def run_child(tmp: Path, log: Path, state: Path | str | None, out: Path, *, pace: float = 0.0,
              speed: float = 0.0, kill_after: float | None = None,
              kill_at: int = 0) -> tuple[int, list[dict]]:
    """Run CHILD; with kill_after, SIGKILL it that many seconds after it is
    ready; with kill_at, once it holds the DLL's thread in that trade's
    callback (before acting on it).  Returns its exit code and the JSON
    lines it printed."""
    script = tmp / "child.py"
    script.write_text(CHILD)
    args = [str(a) for a in (script, SUPPORT, log, state or "", out, pace, speed, kill_at)]
    p = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    assert p.stdout is not None
    first = p.stdout.readline()
    lines.append(json.loads(first) if first.strip() else {})
    if kill_after is not None and lines[0].get("ready"):
        time.sleep(kill_after)
        os.kill(p.pid, signal.SIGKILL)
    while kill_at and lines[-1] and "hang" not in lines[-1]:
        line = p.stdout.readline()
        lines.append(json.loads(line) if line.strip() else {})
    if kill_at and "hang" in lines[-1]:
        os.kill(p.pid, signal.SIGKILL)
    rest, err = p.communicate(timeout=60)
    lines += [json.loads(x) for x in rest.splitlines() if x.strip()]
    if kill_after is None and not kill_at:
        assert p.returncode in (0, 3), err
    return p.returncode, lines


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_log(tmp_path_factory.mktemp("state") / "wdo.qtlog")


@pytest.fixture(scope="module")
def reference(market: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The uninterrupted run to the end of the replay (its state file in "state")."""
    tmp = tmp_path_factory.mktemp("ref")
    rc, lines = run_child(tmp, market, tmp / "ref.state", tmp / "ref.json")
    assert rc == 0, lines
    ref = json.loads((tmp / "ref.json").read_text())
    ref["state"] = str(tmp / "ref.state")
    assert len(ref["orders"]) == 14 and all(ln.get("rc", 1) >= 0 for ln in lines)
    statuses = {o["local_id"]: o["status"] for o in ref["orders"]}
    assert statuses.pop(4) == statuses.pop(8) == sc.Status.CANCELED and statuses.pop(11) == sc.Status.EXPIRED
    assert set(statuses.values()) == {sc.Status.FILLED}  # market orders and resting orders that traded
    return ref


def comparable(result: dict) -> dict:
    """Everything but the ClOrdIDs' session prefix (the reference has its own)."""
    out = json.loads(json.dumps(result))
    for o in out["orders"]:
        o["cl_ord_id"] = o["cl_ord_id"].rsplit("-", 1)[1]
    out.pop("counters", None)
    out.pop("state", None)
    return out


def entries(state: Path) -> list[bytes]:
    """The state file's whole entry lines (after the header), without their newline."""
    body = state.read_bytes().split(b"\nbegin *", 1)[1].split(b"\n", 1)[1]
    return body.split(b"\n")[:-1]  # the last piece is "" or a torn line


def position(line: bytes) -> tuple[int, int]:
    _kind, records, events = line.split(b" ")[:3]
    return int(records), int(events)


def reference_at(ref_state: Path, at: tuple[int, int], out: Path) -> Path:
    """The uninterrupted run's state file cut at replay position `at`: its
    entries up to there and a "reached" line at exactly `at`, so a login on
    it stops where the killed client's broker stopped."""
    head = ref_state.read_bytes().split(b"\nbegin *", 1)
    header = head[0] + b"\nbegin *" + head[1].split(b"\n", 1)[0] + b"\n"
    keep = [ln for ln in entries(ref_state) if position(ln) <= at and position(ln)[1] <= at[1]]
    reached = b"A %d %d" % at
    reached += b" *%08X" % crc32c(reached)
    out.write_bytes(header + b"".join(ln + b"\n" for ln in keep) + reached + b"\n")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_client_restarts_to_the_same_broker_state(market: Path, reference: dict, tmp_path: Path,
                                                         seed: int) -> None:
    rng = random.Random(seed)
    state = tmp_path / "broker.state"
    prefixes = set()
    sent: set[int] = set()  # local ids SendOrder returned to a killed client
    for attempt in range(2):  # killed twice at random moments, then run to the end
        # 18 commands 30 ms apart: the first kill lands within the first ten, the second
        # within the next six (what is left after the first restart)
        rc, lines = run_child(tmp_path, market, state, tmp_path / f"k{attempt}.json", pace=0.03,
                              kill_after=rng.uniform(0.02, 0.28 if attempt == 0 else 0.17))
        assert rc == -signal.SIGKILL and lines[0].get("ready"), lines
        restored = lines[0]["restored"]
        assert sent <= {lid for lid, *_ in restored}  # the broker kept every order it had taken
        prefixes |= {cl.rsplit("-", 1)[0] for _, cl, *_ in restored}
        sent |= {ln["rc"] for ln in lines[1:] if ln.get("kind") in ("limit", "market")}
        assert len([ln for ln in lines if "trade" in ln]) < 18  # killed mid-session
        # the broker a restart finds = the uninterrupted run's at the same replay position
        killed = entries(state)
        if killed:
            at = position(killed[-1])
            copy = tmp_path / f"k{attempt}.copy"
            copy.write_bytes(state.read_bytes())
            rc, _ = run_child(tmp_path, market, copy, tmp_path / f"peek{attempt}.json", pace=-1)
            assert rc == 0
            cut = reference_at(Path(reference["state"]), at, tmp_path / "r.state")
            rc, _ = run_child(tmp_path, market, cut, tmp_path / f"ref{attempt}.json", pace=-1)
            assert rc == 0
            peek = json.loads((tmp_path / f"peek{attempt}.json").read_text())
            assert comparable(peek) == comparable(json.loads((tmp_path / f"ref{attempt}.json").read_text()))
            assert {o["local_id"] for o in peek["orders"]} >= sent | {ln["rc"] for ln in lines[1:]
                                                                     if ln.get("kind") in ("limit", "market")}
    # a torn last line, as a kill in the middle of a write leaves it
    with state.open("ab") as f:
        f.write(b"C 999 999 17")
    rc, lines = run_child(tmp_path, market, state, tmp_path / "final.json")
    assert rc == 0, lines
    assert sent <= {lid for lid, *_ in lines[0]["restored"]}
    final = json.loads((tmp_path / "final.json").read_text())
    assert final["counters"]["state_restore_errors"] == 0 and final["counters"]["state_write_errors"] == 0
    assert final["counters"]["state_entries_restored"] > 0 or not lines[0]["restored"]
    prefixes |= {o["cl_ord_id"].rsplit("-", 1)[0] for o in final["orders"]}
    assert len(prefixes) == 1  # one ClOrdID prefix across the restarts: the client's ids stay valid
    assert comparable(final) == comparable(reference)
    assert b"C 999 999 17" not in state.read_bytes()  # the torn tail was cut off before appending


def test_resting_orders_fill_after_a_restart(market: Path, reference: dict, tmp_path: Path) -> None:
    """Killed at a chosen point (held in trade 25's callback): order 5, a
    sell of 2 being changed to 3 at 5501.5 since trade 22, is working at the
    broker; the restarted client is handed trades 23-25 again, and order 5
    fills at trade 30's buy-through, as in the uninterrupted run."""
    state = tmp_path / "broker.state"
    rc, lines = run_child(tmp_path, market, state, tmp_path / "k.json", kill_at=25)
    assert rc == -signal.SIGKILL and lines[-1] == {"hang": 25}, lines
    assert [ln["trade"] for ln in lines if "trade" in ln] == [3, 5, 7, 12, 15, 18, 22]
    rc, _ = run_child(tmp_path, market, state, tmp_path / "peek.json", pace=-1)
    assert rc == 0
    at_kill = {o["local_id"]: o for o in json.loads((tmp_path / "peek.json").read_text())["orders"]}
    # the change reached the exchange with trade 25, whose callback held the thread: its order
    # callback never fired, so the broker stands where the client last saw it (change pending)
    assert at_kill[5]["status"] == sc.Status.PENDING_REPLACE and at_kill[5]["leaves"] == 2
    rc, lines = run_child(tmp_path, market, state, tmp_path / "final.json")
    assert rc == 0
    assert next(ln["trade"] for ln in lines if "trade" in ln) == 25  # trade 25 comes again: the market order
    final = json.loads((tmp_path / "final.json").read_text())
    assert {o["local_id"]: o["status"] for o in final["orders"]}[5] == sc.Status.FILLED
    assert comparable(final) == comparable(reference)


def test_restored_state_through_the_binding(market: Path, reference: dict, tmp_path: Path) -> None:
    """A client that has finished (the whole replay in the state file) logs in
    again through the Cython binding: enumerate_orders, get_order_details by
    ClOrdID and get_position see the same orders and position."""
    from profitdll_support import SIM_CREDENTIALS

    from quantumtrader.adapters.profitdll.connection import ProfitConnection
    from quantumtrader.adapters.profitdll.library import simulator_path

    state = tmp_path / "broker.state"
    rc, _ = run_child(tmp_path, market, state, tmp_path / "first.json")
    assert rc == 0
    first = json.loads((tmp_path / "first.json").read_text())
    lib = sc.load()
    sc.configure(lib, str(market), latency_us=1000, seed=7)  # the process-wide settings the child used
    conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, routing=True)
    conn.dll.sim_set_state_file(str(state))
    try:
        conn.connect(10.0)
        account = SimpleNamespace(broker_id=1, account_id="SIM0001", sub_account_id="")
        orders = conn.dll.enumerate_orders(account)
        assert [(o["local_id"], o["cl_ord_id"], o["status"], o["traded_quantity"], o["event_id"])
                for o in orders] == [(o["local_id"], o["cl_ord_id"], o["status"], o["traded"], o["event_id"])
                                     for o in first["orders"]]
        for o in first["orders"]:
            by_cl = conn.dll.get_order_details(-1, o["cl_ord_id"])
            assert (by_cl["local_id"], by_cl["status"], by_cl["event_id"]) == (o["local_id"], o["status"],
                                                                                o["event_id"])
        pos = conn.dll.get_position(account, "WDOFUT", "F", 2)
        assert pos["open_quantity"] == first["position"]["2"][1]
        assert conn.dll.sim_counters()["state_entries_restored"] > 0
    finally:
        conn.close()
        conn.dll.sim_set_state_file(None)
    assert comparable(first) == comparable(reference)


def test_a_paced_session_is_restored_exactly(market: Path, tmp_path: Path) -> None:
    """Paper trading is paced (speed > 0): the market clock runs with the
    wall clock between records, so a command's market time and the moment
    an order in flight reaches the exchange depend on wall time.  The file
    records both; a login on the complete file of a paced session rebuilds
    every order, fill, time stamp and event id bit for bit."""
    state = tmp_path / "paced.state"
    rc, _ = run_child(tmp_path, market, state, tmp_path / "paced.json", pace=0.01, speed=0.05)
    assert rc == 0
    lines = state.read_text().splitlines()
    assert any(ln.startswith("K ") for ln in lines)  # orders reached the exchange between records
    assert any(ln.startswith("A ") for ln in lines) and sum(ln.startswith("C ") for ln in lines) == 18
    rc, again = run_child(tmp_path, market, state, tmp_path / "restored.json")
    assert rc == 0 and len(again[0]["restored"]) == 14
    paced = json.loads((tmp_path / "paced.json").read_text())
    restored = json.loads((tmp_path / "restored.json").read_text())
    assert restored["counters"]["state_entries_restored"] > 18
    paced.pop("counters")
    restored.pop("counters")
    assert restored == paced


def test_a_state_file_of_another_replay_is_refused(market: Path, tmp_path: Path) -> None:
    """Refused, each with its one-line reason, and left untouched: another
    log, a file in use by a running session, a file that is not a state file."""
    state = tmp_path / "broker.state"
    rc, _ = run_child(tmp_path, market, f"env:{state}", tmp_path / "a.json")
    assert rc == 0
    before = state.read_bytes()
    assert before.startswith(b"QTSIMSTATE 1 *") and b"\nC " in before  # written through QT_SIM_STATE_FILE
    other = tmp_path / "other.qtlog"
    other.write_bytes(market.read_bytes()[:-64])  # another log: a shorter recording
    rc, lines = run_child(tmp_path, other, state, tmp_path / "b.json")
    assert rc == 3 and lines[0]["login"] == sc.NL_INVALID_ARGS
    assert "was written for another replay" in lines[0]["error"] and "log 0" in lines[0]["error"]
    assert state.read_bytes() == before  # never overwritten
    import fcntl  # POSIX only, as this module (SIGKILL)

    with state.open("rb") as held:  # a session still running on the file (its lock)
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        rc, lines = run_child(tmp_path, market, state, tmp_path / "d.json")
    assert rc == 3 and "is in use by another session" in lines[0]["error"]
    assert state.read_bytes() == before
    junk = tmp_path / "notes.txt"
    junk.write_text("my notes\n")
    rc, lines = run_child(tmp_path, market, junk, tmp_path / "c.json")
    assert rc == 3 and "is not a simulator state file" in lines[0]["error"]
    assert junk.read_text() == "my notes\n"
