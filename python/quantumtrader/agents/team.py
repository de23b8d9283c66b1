"""The agent team: the specialists and the coordinator talking over ZeroMQ.

``AgentTeam.ask(instrument, decision_id, exch_ns, price, features77)`` is
what the trading node calls at each decision point: the feature vector is
published (PUB, topic = the instrument id), every live specialist answers
with a proposal (PUSH -> the coordinator's PULL), and the coordinator waits
until every agent it believes alive has answered or ``deadline_ms`` passes,
then forms the consensus (coordinator.py).  The answer is a
``signal.Consensus`` the signal blends with the model, plus the wire
``Consensus`` with the agents that took part, their weights and ages.

Learning: the team remembers each decision's price; when a later decision
of the same instrument is at least an agent's horizon later, the forward
return is known: it is published as an OUTCOME so each agent learns from
the vector it answered, and the coordinator's Hedge step rewards each agent
by the return its proposal would have earned (``(p_buy - p_sell) * r``).

This module runs the specialists as threads of this process over
``inproc://`` (backtests, tests) or over ``ipc://`` / ``tcp://`` endpoints
(the sockets are the same; agent processes reuse ``run_agent``).  A
stopped agent simply stops answering: its absence shows in the consensus
(not among the agents that took part) within one heartbeat timeout."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from quantumtrader.agents.coordinator import Coordinator, CoordinatorConfig
from quantumtrader.agents.messages import (
    Consensus,
    DropCounter,
    FeatureVector,
    Heartbeat,
    Outcome,
    Proposal,
)
from quantumtrader.agents.scoreboard import Scoreboard
from quantumtrader.agents.specialists import SPECIALISTS, OnlinePolicy, SpecialistSpec
from quantumtrader.agents.state import load_states, load_weights, save_states, save_weights
from quantumtrader.agents.supervisor import Supervisor
from quantumtrader.agents.transport import bind_endpoint, close, load_keys, secure_server
from quantumtrader.signal import Consensus as SignalConsensus

__all__ = ["AgentTeam", "AgentTeamError", "TeamAnswer", "run_agent"]

_HEARTBEAT_S = 0.2
_MOVE_EWMA = 0.02     # the typical |forward return| follows about the last 50 outcomes
_REWARD_CAP = 3.0     # one outlier move must not swing the weights to a bound by itself


class AgentTeamError(ValueError):
    """The team's endpoints cannot be opened (one line: the address, the keys, the folder)."""


@dataclass(frozen=True)
class TeamAnswer:
    consensus: SignalConsensus   # what the signal blends (no opinion when no agent was fresh)
    wire: Consensus              # the coordinator's record: agents, weights, ages
    waited_ns: int


def run_agent(ctx: zmq.Context, policy: OnlinePolicy, features_ep: str, proposals_ep: str,
              stop: threading.Event) -> DropCounter:
    """One specialist's loop: answer every feature vector with a proposal,
    learn from every outcome of a vector it answered, send heartbeats; ends
    when ``stop`` is set.  Malformed frames are counted and dropped."""
    sub, push = ctx.socket(zmq.SUB), ctx.socket(zmq.PUSH)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(features_ep)
    push.connect(proposals_ep)
    drops = DropCounter()
    seen: dict[tuple[int, int], np.ndarray] = {}
    order: deque[tuple[int, int]] = deque()
    last_beat = 0.0
    try:
        while not stop.is_set():
            now = time.monotonic()
            if now - last_beat >= _HEARTBEAT_S:
                push.send(Heartbeat(policy.spec.name, time.monotonic_ns()).encode())
                last_beat = now
            if not sub.poll(50):
                continue
            _topic, frame = sub.recv_multipart()
            msg = drops.take(frame)
            if isinstance(msg, FeatureVector):
                probs, conf = policy.propose(msg.features)
                key = (msg.instrument, msg.decision_id)
                seen[key] = msg.features
                order.append(key)
                while len(order) > 4096:  # outcomes older than that are not waited for
                    seen.pop(order.popleft(), None)
                push.send(Proposal(policy.spec.name, msg.instrument, msg.decision_id, msg.exch_ns, probs,
                                   conf, time.monotonic_ns()).encode())
            elif isinstance(msg, Outcome) and msg.agent in ("", policy.spec.name):
                x = seen.pop((msg.instrument, msg.decision_id), None)
                if x is not None:
                    policy.learn(x, msg.forward_return)
    finally:
        close(sub, push)
    return drops


def _next_port(address: str) -> str:
    """The proposals socket's address: the port after the features socket's (or a free one)."""
    host, _, port = address.rpartition(":")
    return address if port == "*" or not port.isdigit() else f"{host}:{int(port) + 1}"


class AgentTeam:
    def __init__(self, specs: Iterable[SpecialistSpec] | None = None, *, transport: str = "inproc",
                 folder: Path | None = None, deadline_ms: float = 20.0,
                 coordinator: CoordinatorConfig | None = None, policy: Mapping[str, float] | None = None,
                 processes: bool = False, external: bool = False, restart_backoff_s: float = 0.5,
                 address: str = "127.0.0.1:*", server_key: Path | None = None,
                 authorized: Path | None = None) -> None:
        if (processes or external) and transport == "inproc":
            raise ValueError("agents in other processes need an ipc or tcp transport, not inproc")
        self.specs = list(specs) if specs is not None else list(SPECIALISTS.values())
        # built here, so an agent asking for a feature the engine lacks is refused before any socket
        # ``policy``: OnlinePolicy's settings (AgentsConfig.policy()), the same for
        # the agents in threads and in processes
        self.policy = dict(policy or {})
        self.policies = {s.name: OnlinePolicy(s, **self.policy) for s in self.specs}
        self.coordinator = Coordinator(self.policies, coordinator)
        self.scoreboard = Scoreboard(self.policies)
        self.cost = next(iter(self.policies.values())).cost  # the trading cost the rewards are net of
        self._horizon_ns = min(s.horizon_s for s in self.specs) * 1e9  # an outcome is due this much later
        self._move = 0.0
        self.deadline_ns = int(deadline_ms * 1e6)
        self.mode = "external" if external else "processes" if processes else "threads"
        self.ctx = zmq.Context()
        self.pub = self.ctx.socket(zmq.PUB)
        self.pull = self.ctx.socket(zmq.PULL)
        self._auth = None
        try:
            if server_key is not None:  # CURVE: only clients whose public key is authorized get in
                self._auth = secure_server(self.ctx, self.pub, server_key,
                                           authorized or server_key.parent / "authorized")
                public, secret = load_keys(server_key)
                self.pull.curve_secretkey, self.pull.curve_publickey = secret, public
                self.pull.curve_server = True
            self.features_ep = bind_endpoint(self.pub, folder, "agents-features", transport=transport,
                                             address=address)
            self.proposals_ep = bind_endpoint(self.pull, folder, "agents-proposals", transport=transport,
                                              address=_next_port(address))
        except (zmq.ZMQError, ValueError) as e:
            close(self.pub, self.pull, self._auth)
            self.ctx.term()
            raise AgentTeamError(f"agents: cannot open the endpoints ({e})") from None
        self.drops = DropCounter()
        self._stops: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._pending: dict[int, deque[tuple[int, int, int, dict[str, tuple[float, float, float]]]]] = {}
        self.notes: list[str] = []  # what was loaded or moved aside at the start
        self.supervisor: Supervisor | None = None
        if processes and not external:
            self.supervisor = Supervisor(self.policies, self.features_ep, self.proposals_ep, folder,
                                         first_backoff_s=restart_backoff_s, policy=self.policy)

    # ------------------------------------------------------------ agents
    def start_agent(self, name: str) -> None:
        stop = threading.Event()
        t = threading.Thread(target=run_agent, args=(self.ctx, self.policies[name], self.features_ep,
                                                     self.proposals_ep, stop), name=f"qt-agent-{name}",
                             daemon=True)
        self._stops[name], self._threads[name] = stop, t
        t.start()

    def stop_agent(self, name: str) -> None:
        stop, t = self._stops.pop(name, None), self._threads.pop(name, None)
        if stop is not None and t is not None:
            stop.set()
            t.join(2.0)

    def start(self, wait_s: float = 5.0) -> None:
        """Start every agent (threads, or supervised processes) and wait until
        each has been heard (subscriptions joined).  External agents
        (``quantumtrader agents run``) join when they connect: not waited for."""
        if self.mode == "external":
            return
        if self.supervisor is not None:
            self.supervisor.start()
        else:
            for name in self.policies:
                self.start_agent(name)
        deadline = time.monotonic() + wait_s
        everyone = set(self.policies)
        while time.monotonic() < deadline and self.coordinator.alive(time.monotonic_ns()) != everyone:
            self._drain(0.05)

    def stop(self) -> None:
        """Stop the agents (processes save their state as they end) and close the sockets; idempotent."""
        if self.ctx.closed:
            return
        if self.supervisor is not None:
            self.supervisor.stop()
        for name in list(self._threads):
            self.stop_agent(name)
        close(self.pub, self.pull, self._auth)
        self.ctx.term()
        for ep in (self.features_ep, self.proposals_ep):  # no socket file left in the run folder
            if ep.startswith("ipc://"):
                Path(ep[len("ipc://"):]).unlink(missing_ok=True)

    # ------------------------------------------------------------ learned state
    def load_state(self, folder: Path, *, fresh: bool = False, aside: bool = True) -> list[str]:
        """What was learned before: each agent's state and the coordinator's
        weights in ``folder`` (agents/state.py: an unusable file refused, or
        with ``fresh`` moved aside, left in place when ``aside`` is False: an
        input folder).  Returns and keeps (``notes``) what was loaded."""
        self.notes = load_states(self.policies, folder, fresh=fresh, aside=aside)
        weights = load_weights(folder, fresh=fresh, aside=aside)
        if weights:
            self.coordinator.restore_weights(weights)
        return self.notes

    def save_state(self, folder: Path) -> list[Path]:
        """What the team learned into ``folder``: the agents' states (agents in
        threads; agent processes save their own as they stop) and the
        coordinator's weights, each file atomically."""
        written = save_states(self.policies, folder) if self.mode == "threads" else []
        return [*written, save_weights(self.coordinator.weights, folder)]

    def __enter__(self) -> AgentTeam:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ asking
    def wait_alive(self, agents: set[str], timeout_s: float) -> bool:
        """Until every one of ``agents`` has been heard within the heartbeat timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if agents <= self.coordinator.alive(time.monotonic_ns()):
                return True
            self._drain(0.05)
        return False

    def _drain(self, timeout_s: float) -> None:
        if not self.pull.poll(int(timeout_s * 1000)):
            return
        while True:
            try:
                frame = self.pull.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            msg = self.drops.take(frame)
            now = time.monotonic_ns()
            if isinstance(msg, Proposal):
                self.coordinator.propose(msg, now)
            elif isinstance(msg, Heartbeat):
                self.coordinator.heartbeat(msg.agent, now)

    def ask(self, instrument: int, decision_id: int, exch_ns: int, price: int,
            features77: np.ndarray) -> TeamAnswer:
        """Publish a decision's vector and return the consensus of the fresh answers."""
        outcomes = self._outcomes(instrument, exch_ns, price)
        self._drain(0.0)  # heartbeats received since the last decision: who is alive now
        t0 = time.monotonic_ns()
        frame = FeatureVector(instrument, decision_id, exch_ns, np.asarray(features77, dtype=np.float64), t0)
        topic = str(instrument).encode()
        self.pub.send_multipart([topic, frame.encode()])
        # the outcomes now known go after the vector: an agent answers first and learns
        # while the decision goes on (it learns one decision later, off the latency path)
        for outcome in outcomes:
            self.pub.send_multipart([topic, outcome])
        expected = self.coordinator.alive(t0)
        while True:
            now = time.monotonic_ns()
            answered = self.coordinator.proposals(instrument, decision_id)
            if expected.issubset(answered) or now - t0 >= self.deadline_ns:
                break
            self._drain(min(0.005, (self.deadline_ns - (now - t0)) / 1e9))
        wire = self.coordinator.consensus(instrument, decision_id, exch_ns, time.monotonic_ns())
        received = self.coordinator.proposals(instrument, decision_id)
        proposals = {a: received[a][0].probabilities for a in wire.weights}  # the fresh ones that took part
        self.coordinator.forget(instrument, decision_id)
        self._pending.setdefault(instrument, deque()).append((decision_id, exch_ns, price, proposals))
        waited = time.monotonic_ns() - t0
        self.scoreboard.on_answer(exch_ns, self.coordinator.weights, proposals, wire.probabilities, waited)
        return TeamAnswer(SignalConsensus(wire.probabilities, wire.weights, proposals), wire, waited)

    def status(self) -> dict[str, Any]:
        """What the dashboard shows: each agent alive or not, its weight, its
        latest proposal, hit rate so far, and restarts (agent processes)."""
        alive = self.coordinator.alive(time.monotonic_ns())
        last = self.scoreboard.last.get("proposals", {})
        rows = {}
        for a in self.policies:
            score = self.scoreboard.scores[a]
            child = self.supervisor.children.get(a) if self.supervisor is not None else None
            rows[a] = {"alive": a in alive, "weight": self.coordinator.weights[a], "proposal": last.get(a),
                       "hit_rate": score.hit_rate, "outcomes": score.outcomes,
                       "restarts": child.restarts if child is not None else 0}
        return {"mode": self.mode, "endpoint": self.features_ep, "agents": rows,
                "consensus": self.scoreboard.last.get("probabilities"),
                "waited_ns": self.scoreboard.last.get("waited_ns"),
                "dropped": sum(self.drops.dropped.values())}

    def _outcomes(self, instrument: int, exch_ns: int, price: int) -> list[bytes]:
        """Forward returns of the earlier decisions now an agent horizon old:
        the coordinator rewarded, the OUTCOME frames for the agents returned."""
        queue = self._pending.get(instrument)
        rewards: dict[str, list[float]] = {}
        frames: list[bytes] = []
        while queue and exch_ns - queue[0][1] >= self._horizon_ns:
            decision_id, _, then, proposals = queue.popleft()
            if then <= 0:
                continue
            r = (price - then) / then
            frames.append(Outcome("", instrument, decision_id, exch_ns, r).encode())
            # the market's typical move, so a reward is "how many typical moves", the same
            # unit on a calm day and a wild one (a per-batch max made every step full size)
            self._move = abs(r) if not self._move else (1 - _MOVE_EWMA) * self._move + _MOVE_EWMA * abs(r)
            for agent, (sell, _hold, buy) in proposals.items():
                lean = buy - sell  # the position the proposal would take, -1..1
                rewards.setdefault(agent, []).append(lean * r - abs(lean) * self.cost)
                self.scoreboard.on_outcome(agent, lean, r)
        if rewards and self._move > 0:
            self.coordinator.reward({a: max(-_REWARD_CAP, min(_REWARD_CAP, sum(xs) / len(xs) / self._move))
                                     for a, xs in rewards.items()})
        return frames
