"""The team end to end over ZeroMQ (specialists as threads, inproc and ipc):
a decision's vector in, every agent's proposal collected, the consensus the
signal blends with the model out; a stopped agent leaves the consensus
while the others go on, and comes back when restarted; outcomes teach the
agents and move the coordinator's weight toward the one whose features
carry the planted signal."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from quantumtrader.agents.specialists import SPECIALISTS
from quantumtrader.agents.team import AgentTeam
from quantumtrader.features.schema import QT77_NAMES
from quantumtrader.signal import DecisionPoint, SignalAction, SignalConfig, SignalEngine

S = 1_000_000_000
OFI = QT77_NAMES.index("order_flow_imbalance_20")


def _pretrain(team: AgentTeam, n: int = 300) -> None:
    """Teach the order-flow agent the planted signal (an untrained agent has
    no lean, so no confidence, so no opinion)."""
    rng = np.random.default_rng(11)
    policy = team.policies["order_flow"]
    for _ in range(n):
        x = rng.normal(size=77)
        policy.propose(x)
        policy.learn(x, float(x[OFI] + rng.normal()))


def _point(decision: int, probs: tuple[float, float, float]) -> DecisionPoint:
    return DecisionPoint(decision_id=decision, instrument_id=1, ticker="WDOZ26", trade_number=decision,
                         exch_ns=decision * S, price=11000, probabilities=probs, book_suspect=False,
                         history=False, features=None, recv_ns=0)


@pytest.mark.parametrize("transport", ["inproc", "ipc"])
def test_consensus_reaches_the_signal(transport: str, tmp_path: Path) -> None:
    with AgentTeam(transport=transport, folder=tmp_path, deadline_ms=2000) as team:
        _pretrain(team)
        team.start()
        x = np.zeros(77)
        x[OFI] = 2.0
        answer = team.ask(1, 1, S, 11000, x)
        assert set(answer.wire.weights) == set(SPECIALISTS)  # every agent took part
        assert answer.consensus.has_opinion
        engine = SignalEngine(SignalConfig(mode="blend", consensus_weight=0.5))
        sig = engine.decide(_point(1, (0.1, 0.2, 0.7)), 0, answer.consensus)
        blended = tuple(0.5 * m + 0.5 * c for m, c in zip((0.1, 0.2, 0.7), answer.consensus.probabilities,
                                                            strict=True))
        assert sig.blended == pytest.approx(blended)
        record = sig.record()
        assert set(record["consensus"]["weights"]) == set(SPECIALISTS)


def test_a_stopped_agent_leaves_the_consensus_and_comes_back(tmp_path: Path) -> None:
    with AgentTeam(deadline_ms=300) as team:
        _pretrain(team)
        team.start()
        x = np.zeros(77)
        x[OFI] = 2.0
        team.stop_agent("tape")
        answer = team.ask(1, 1, S, 11000, x)
        assert "tape" not in answer.wire.weights and set(answer.wire.weights) == set(SPECIALISTS) - {"tape"}
        assert answer.consensus.has_opinion
        team.start_agent("tape")
        for i in range(2, 40):  # until its heartbeat and subscription are back
            answer = team.ask(1, i, i * S, 11000, x)
            if "tape" in answer.wire.weights:
                break
        assert "tape" in answer.wire.weights


def test_no_agent_means_no_opinion() -> None:
    with AgentTeam(deadline_ms=50) as team:  # never started
        answer = team.ask(1, 1, S, 11000, np.zeros(77))
        assert not answer.consensus.has_opinion and answer.wire.weights == {}
        sig = SignalEngine(SignalConfig()).decide(_point(1, (0.05, 0.15, 0.8)), 0, answer.consensus)
        assert sig.action is SignalAction.ENTER_LONG  # the model alone


def test_outcomes_move_weight_to_the_informed_agent() -> None:
    rng = np.random.default_rng(3)
    specs = [SPECIALISTS["order_flow"], SPECIALISTS["footprint"]]
    specs = [type(s)(s.name, s.features, horizon_s=1.0) for s in specs]
    with AgentTeam(specs, deadline_ms=500) as team:
        team.start()
        price = 11000.0
        for i in range(1, 400):
            x = rng.normal(size=77)
            team.ask(1, i, i * S, round(price), x)
            price *= 1 + 0.001 * x[OFI] + 0.0002 * rng.normal()  # the next move follows the imbalance
        w = team.coordinator.weights
    assert w["order_flow"] > w["footprint"], w


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_kill_an_agent_process_mid_stream(tmp_path: Path) -> None:
    """Agents as supervised processes over ipc: SIGKILL one mid-stream; the
    consensus goes on with the others, and takes it back once restarted."""
    # a 3 s first backoff: the agent is surely still dead when the next decision comes
    with AgentTeam(transport="ipc", folder=tmp_path, deadline_ms=500, processes=True,
                   restart_backoff_s=3.0) as team:
        team.start(wait_s=60)
        assert team.wait_alive(set(SPECIALISTS), 60)
        x = np.zeros(77)
        assert set(team.ask(1, 1, S, 11000, x).wire.weights) == set(SPECIALISTS)
        assert team.supervisor is not None
        pid = team.supervisor.pid("liquidity")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        time.sleep(1.2)  # past the heartbeat timeout: the coordinator knows
        answer = team.ask(1, 2, 2 * S, 11000, x)
        assert "liquidity" not in answer.wire.weights
        assert set(answer.wire.weights) == set(SPECIALISTS) - {"liquidity"}
        assert team.wait_alive({"liquidity"}, 60), "the supervisor did not bring the agent back"
        for i in range(3, 50):
            if "liquidity" in team.ask(1, i, i * S, 11000, x).wire.weights:
                break
        else:
            raise AssertionError("the restarted agent never took part again")
        assert team.supervisor.children["liquidity"].restarts >= 1


_NODE = r'''
import sys, time, pathlib
from quantumtrader.agents.team import AgentTeam
team = AgentTeam(transport="ipc", folder=pathlib.Path(sys.argv[1]), processes=True)
team.start()
print("PIDS", *[team.supervisor.pid(a) for a in team.policies], flush=True)
time.sleep(120)
'''


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read().lower()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc to see the agent processes")
def test_a_killed_node_leaves_no_agent_behind(tmp_path: Path) -> None:
    """SIGKILL to the node: the system closes the agents' lifeline (their
    stdin pipe), each agent saves its state and ends."""
    import subprocess
    import sys

    node = subprocess.Popen([sys.executable, "-c", _NODE, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(x) for x in node.stdout.readline().split()[1:]]  # type: ignore[union-attr]
        assert len(pids) == len(SPECIALISTS) and all(_running(p) for p in pids)
        os.kill(node.pid, signal.SIGKILL)
        node.wait()
        deadline = time.monotonic() + 10
        while any(_running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in pids if _running(p)]
        assert sorted(p.stem for p in tmp_path.glob("*.json")) == sorted(SPECIALISTS)
    finally:
        if node.poll() is None:
            node.kill()
