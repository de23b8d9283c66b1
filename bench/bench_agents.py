"""The agent team's budgets (issue 11): the four specialists over ZeroMQ.

1. decision point -> consensus: the time of ``AgentTeam.ask`` as the trading
   node pays it (the outcomes now known published and rewarded, the vector
   published, every live agent's proposal collected, the consensus formed),
   p50 / p99 over ASKS back-to-back decisions after WARMUP, on the feature
   rows of a synthetic WDO day in order (NaN warm-up rows included), with
   the rows' own market times and prices, so outcomes flow (each vector's
   forward return is published 300 s of market time later and the agents
   learn from it, as in a real run):
   - ipc, each specialist in its own process (the default live set-up):
     budget p99 < 2 ms;
   - tcp on loopback, agents in processes (no CURVE: AgentTeam binds plain
     loopback); inproc, agents as threads of this process: report lines.
2. baseline in the same run: the bare transport round trip of the same
   topology over ipc (one PUB -> four SUB echo processes -> PUSH -> one
   PULL collecting the four replies; the echo returns a proposal-sized
   frame and does no other work), interleaved in blocks with the agents'
   ipc asks so both see the same machine load.
3. CPU of the four agent processes (utime + stime from /proc, summed, over
   wall time, % of one core) at a paced decision rate: idle (heartbeats and
   the agents' 50 ms polls only), 5/s (the bundled paper session makes about
   250 decisions in about 60 s at 500x pace: ~4/s) and 50/s; budget at 5/s
   < 10% of one core.  The asks of the 50/s window give the paced latency
   (every process asleep between decisions, as live), against the bare
   round trip paced at the same rate.
``QT_BENCH_LARGE=0`` shortens it (fewer asks, shorter CPU windows).  The
figures are of this machine, loaded or not: quote medians of runs and the
ratio to the bare round trip.

Run as ``python bench/bench_agents.py echo FEATURES_EP REPLIES_EP`` it is
one echo process of the baseline."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import zmq
from harness import Report, Result

from quantumtrader.agents.messages import HEADER, FeatureVector
from quantumtrader.agents.team import AgentTeam
from quantumtrader.agents.transport import bind_endpoint, close

LARGE = os.environ.get("QT_BENCH_LARGE", "1").strip() not in ("0", "no", "false", "")
WARMUP = 300
ASKS = 3000 if LARGE else 1000
BLOCKS = 5  # agents and baseline alternate in blocks of ASKS / BLOCKS
AGENTS = 4
DEADLINE_MS = 20.0  # AgentTeam's default
# (decisions/s, seconds): idle, about the paper session's rate, ten times it
CPU_WINDOWS = ((0.0, 4.0), (5.0, 10.0), (50.0, 6.0)) if LARGE else ((0.0, 2.0), (5.0, 4.0), (50.0, 3.0))
PACED_RATE = 50.0  # the paced latency lines: the 50/s window against the bare round trip at that rate
PACED_BASE_S = 4.0 if LARGE else 2.0
# the agents at the paper session's rate must stay a small part of one core:
# the trading process itself is allowed 25% (bench_trading), and the
# deployment target is a desktop next to Profit, so the four agents together
# get less than half that
CPU_BUDGET_PCT = 10.0
PAPER_RATE = 5.0
_REPLY_BODY = bytes(64)  # a proposal's body: agent name (32 bytes) and 4 float64
_DECISION = struct.Struct("<Q")  # the header's decision id, at byte 12
_DECISION_AT = 12


# ------------------------------------------------------------------ decisions

class _Decisions:
    """Decision points from the feature rows of a synthetic day, in order; past
    the last row it starts the rows again a day later, so market time only
    moves forward (outcomes keep flowing)."""

    def __init__(self, features: np.ndarray, ts: np.ndarray, price: np.ndarray) -> None:
        self.features, self.ts, self.price = features, ts, price
        self.span = int(ts[-1] - ts[0]) + 86_400 * 10**9
        self.i = 0

    def next(self) -> tuple[int, int, int, np.ndarray]:
        k, lap = self.i % len(self.ts), self.i // len(self.ts)
        self.i += 1
        return self.i, int(self.ts[k]) + lap * self.span, int(self.price[k]), self.features[k]


def _day() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from quantumtrader.data.events import EventType
    from quantumtrader.data.synth import simulate_market
    from quantumtrader.qtcore.features import FeatureBatch, FeatureEngine

    market = simulate_market(1, seed=7, signal=1.0)
    fe = FeatureEngine(market.tick_size, market.price_unit)
    batch = FeatureBatch(int(np.count_nonzero(market.events["type"] == EventType.TRADE)) + 1, 1)
    fe.drain(market.events, batch)
    n = batch.rows
    return batch.matrix[:n].copy(), batch.ts[:n].copy(), batch.price[:n].copy()


# ------------------------------------------------------------------ agents

def _team(transport: str, folder: Path, processes: bool) -> AgentTeam:
    team = AgentTeam(transport=transport, folder=folder, processes=processes, deadline_ms=DEADLINE_MS)
    try:
        team.start(wait_s=20.0)
        if not team.wait_alive(set(team.policies), 20.0):
            missing = set(team.policies) - team.coordinator.alive(time.monotonic_ns())
            raise RuntimeError(f"agents not heard after 20 s over {transport}: {', '.join(sorted(missing))}")
    except BaseException:
        team.stop()
        raise
    return team


def _ask(team: AgentTeam, decisions: _Decisions) -> tuple[int, int]:
    """One decision: (ns in ask(), agents that answered)."""
    d, exch_ns, price, x = decisions.next()
    t0 = time.perf_counter_ns()
    answer = team.ask(1, d, exch_ns, price, x)
    return time.perf_counter_ns() - t0, len(answer.wire.weights)


def _asks(team: AgentTeam, decisions: _Decisions, n: int, lat: list[int]) -> int:
    """n back-to-back asks, their times appended to ``lat``; returns the asks
    not every agent answered before the deadline."""
    short = 0
    for _ in range(n):
        ns, answered = _ask(team, decisions)
        lat.append(ns)
        short += answered < AGENTS
    return short


# ------------------------------------------------------------------ baseline

class _EchoRing:
    """The agents' topology without the agents: PUB -> four SUB echo
    processes -> PUSH -> PULL, over ipc in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.ctx = zmq.Context()
        self.pub, self.pull = self.ctx.socket(zmq.PUB), self.ctx.socket(zmq.PULL)
        self.procs: list[subprocess.Popen[bytes]] = []
        try:
            features_ep = bind_endpoint(self.pub, folder, "echo-features", transport="ipc")
            replies_ep = bind_endpoint(self.pull, folder, "echo-replies", transport="ipc")
            cmd = [sys.executable, __file__, "echo", features_ep, replies_ep]
            for _ in range(AGENTS):
                self.procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        except BaseException:
            self.close()
            raise

    def wait_ready(self, timeout_s: float) -> None:
        """Until a published frame reaches all four (their subscriptions joined)."""
        frame = FeatureVector(1, 0, 0, np.zeros(77)).encode()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    err = p.stderr.read().decode()[-300:] if p.stderr else ""
                    raise RuntimeError(f"echo process exited {p.returncode}: {err}")
            if self.round_trip(0, frame, 100.0)[1] == AGENTS:
                return
        raise RuntimeError(f"echo processes not all answering after {timeout_s:.0f} s")

    def round_trip(self, decision: int, frame: bytes, deadline_ms: float = DEADLINE_MS) -> tuple[int, int]:
        """(ns from publish to the last reply, replies) for one frame; a reply
        to an earlier frame is not counted."""
        t0 = time.perf_counter_ns()
        end = t0 + int(deadline_ms * 1e6)
        self.pub.send_multipart([b"1", frame])
        got = 0
        while got < AGENTS:
            left_ms = (end - time.perf_counter_ns()) / 1e6
            if left_ms <= 0:
                break
            if self.pull.poll(max(1, int(left_ms))):
                reply = self.pull.recv()
                got += _DECISION.unpack_from(reply, _DECISION_AT)[0] == decision
        return time.perf_counter_ns() - t0, got

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5.0)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stderr is not None:
                p.stderr.close()
        close(self.pub, self.pull)
        self.ctx.term()


def _echo(features_ep: str, replies_ep: str) -> int:
    """One echo process: every frame's header back with a proposal-sized
    body, nothing else (ends on SIGTERM, the default action)."""
    ctx = zmq.Context()
    sub, push = ctx.socket(zmq.SUB), ctx.socket(zmq.PUSH)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(features_ep)
    push.connect(replies_ep)
    while True:
        _topic, frame = sub.recv_multipart()
        push.send(frame[:HEADER.size] + _REPLY_BODY)


def _echo_one(ring: _EchoRing, decisions: _Decisions) -> tuple[int, bool]:
    """One round trip of the next decision's vector: (ns, a reply missed the deadline)."""
    d, exch_ns, _price, x = decisions.next()
    ns, got = ring.round_trip(d, FeatureVector(1, d, exch_ns, x).encode())
    return ns, got < AGENTS


def _echo_block(ring: _EchoRing, decisions: _Decisions, n: int, lat: list[int]) -> int:
    """n back-to-back round trips, their times appended to ``lat``; returns the misses."""
    short = 0
    for _ in range(n):
        ns, missed = _echo_one(ring, decisions)
        lat.append(ns)
        short += missed
    return short


# ------------------------------------------------------------------ CPU

def _cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _paced(step: Callable[[], int], rate: float, seconds: float) -> list[int]:
    """``step()`` (returning its ns) at ``rate`` per second for ``seconds``
    (none at rate 0: the idle window); the steps' times."""
    lat: list[int] = []
    w0 = time.monotonic()
    while (now := time.monotonic() - w0) < seconds:
        due = len(lat) / rate if rate > 0 else seconds
        if now >= due:
            lat.append(step())
        else:
            time.sleep(min(due, seconds) - now)
    return lat


def _cpu_window(team: AgentTeam, decisions: _Decisions, rate: float, seconds: float,
                pids: list[int]) -> tuple[float, float, list[int]]:
    """Asks at ``rate`` for ``seconds``: (the agent processes' CPU, this
    process's CPU, both as % of one core over the wall time; the asks' times)."""
    agents0, own0, w0 = sum(_cpu_s(p) for p in pids), time.process_time(), time.monotonic()
    lat = _paced(lambda: _ask(team, decisions)[0], rate, seconds)
    wall = time.monotonic() - w0
    agents, own = sum(_cpu_s(p) for p in pids) - agents0, time.process_time() - own0
    return 100 * agents / wall, 100 * own / wall, lat


# ------------------------------------------------------------------ run

def _pct(lat: list[int], q: float) -> float:
    return float(np.percentile(np.asarray(lat, dtype=np.float64), q)) / 1e3  # us


def _latency_lines(report: Report, label: str, lat: list[int], short: int, budget_p99_us: float | None = None,
                   base: list[int] | None = None) -> None:
    for q, budget in ((50, None), (99, budget_p99_us)):
        report.add(Result(f"agents {label}: decision -> consensus p{q}", _pct(lat, q), "us", budget=budget,
                          higher_is_better=False, baseline=_pct(base, q) if base else None,
                          baseline_name="bare ipc round trip"))
    if short:
        print(f"  {label}: {short} of {len(lat)} asks not answered by all {AGENTS} agents within "
              f"{DEADLINE_MS:.0f} ms", flush=True)


def _ipc(report: Report, tmp: Path, decisions_of: Callable[[], _Decisions]) -> None:
    """Figures 1 (ipc) and 2, then 3 on the same agent processes."""
    ring = team = None
    try:
        ring = _EchoRing(tmp)
        team = _team("ipc", tmp, processes=True)
        ring.wait_ready(20.0)
        agents, echoes = decisions_of(), decisions_of()
        _asks(team, agents, WARMUP, [])
        _echo_block(ring, echoes, WARMUP, [])
        lat: list[int] = []
        base: list[int] = []
        short = base_short = 0
        for _ in range(BLOCKS):  # interleaved, so both see the same machine load
            short += _asks(team, agents, ASKS // BLOCKS, lat)
            base_short += _echo_block(ring, echoes, ASKS // BLOCKS, base)
        print(f"  {len(lat):,} back-to-back asks per transport after {WARMUP} warm-up, {AGENTS} agents, "
              f"deadline {DEADLINE_MS:.0f} ms, feature rows of a synthetic WDO day in order", flush=True)
        for q in (50, 99):
            report.add(Result(f"bare ipc round trip (PUB -> 4 echo -> PULL) p{q}", _pct(base, q), "us",
                              higher_is_better=False))
        if base_short:
            print(f"  bare ipc: {base_short} of {len(base)} round trips missed a reply within "
                  f"{DEADLINE_MS:.0f} ms", flush=True)
        _latency_lines(report, "ipc, 4 processes", lat, short, budget_p99_us=2000.0, base=base)
        print(f"  agents ipc / bare ipc: p50 x{_pct(lat, 50) / _pct(base, 50):.1f}, "
              f"p99 x{_pct(lat, 99) / _pct(base, 99):.1f}", flush=True)

        assert team.supervisor is not None
        pids = [pid for a in team.policies if (pid := team.supervisor.pid(a)) is not None]
        if len(pids) != AGENTS:
            raise RuntimeError("an agent process is down before the CPU windows")
        restarts = sum(c.restarts for c in team.supervisor.children.values())
        paced: list[int] = []
        for rate, seconds in CPU_WINDOWS:
            share, own, window = _cpu_window(team, agents, rate, seconds, pids)
            what = "idle (heartbeats, polls)" if rate == 0 else f"{rate:.0f} decisions/s"
            budget = CPU_BUDGET_PCT if rate == PAPER_RATE else None
            report.add(Result(f"agents ipc CPU, 4 processes, {what}", share, "% core", budget=budget,
                              higher_is_better=False))
            tail = (f"; asks p50 {_pct(window, 50):,.0f} us, p99 {_pct(window, 99):,.0f} us ({len(window)})"
                    if window else "")
            print(f"  over {seconds:.0f} s: the team's side (this process) {own:.1f}% of one core{tail}",
                  flush=True)
            if rate == PACED_RATE:
                paced = window
        if sum(c.restarts for c in team.supervisor.children.values()) != restarts:
            raise RuntimeError("an agent process restarted during the CPU windows")
        # paced, every process sleeps between decisions and wakes cold (as live, where
        # decisions are seconds apart): the same wake-ups cost the bare transport too
        bare = _paced(lambda: _echo_one(ring, echoes)[0], PACED_RATE, PACED_BASE_S)
        for q in (50, 99):
            report.add(Result(f"agents ipc paced {PACED_RATE:.0f}/s: decision -> consensus p{q}",
                              _pct(paced, q), "us", higher_is_better=False, baseline=_pct(bare, q),
                              baseline_name=f"bare ipc at {PACED_RATE:.0f}/s"))
    finally:
        if ring is not None:
            ring.close()
        if team is not None:
            team.stop()


def _other(report: Report, tmp: Path, transport: str, processes: bool,
           decisions_of: Callable[[], _Decisions]) -> None:
    team = _team(transport, tmp, processes)
    try:
        decisions = decisions_of()
        _asks(team, decisions, WARMUP, [])
        lat: list[int] = []
        short = _asks(team, decisions, ASKS, lat)
    finally:
        team.stop()
    label = f"{transport}, 4 processes" if processes else f"{transport}, 4 threads"
    _latency_lines(report, label, lat, short)


def run(report: Report) -> None:
    features, ts, price = _day()
    print(f"  {len(ts):,} feature rows ({int(np.isfinite(features).all(axis=1).sum()):,} without NaN) over "
          f"{(ts[-1] - ts[0]) / 3.6e12:.1f} h of market time; QT_BENCH_LARGE={'1' if LARGE else '0'}",
          flush=True)

    def decisions_of() -> _Decisions:
        return _Decisions(features, ts, price)

    # short folder: an ipc socket path must fit in sun_path
    with tempfile.TemporaryDirectory(prefix="qt-ba-") as d:
        tmp = Path(d)
        for sub in ("ipc", "tcp"):
            (tmp / sub).mkdir()
        _ipc(report, tmp / "ipc", decisions_of)
        _other(report, tmp / "tcp", "tcp", True, decisions_of)
        _other(report, tmp, "inproc", False, decisions_of)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "echo":
        sys.exit(_echo(sys.argv[2], sys.argv[3]))
    print("usage: python bench/bench_agents.py echo FEATURES_EP REPLIES_EP (the baseline's echo process; "
          "the benchmark itself: python bench/run.py agents)", file=sys.stderr)
    sys.exit(2)
