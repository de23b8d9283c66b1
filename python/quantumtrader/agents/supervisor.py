"""Agents as supervised processes.

``python -m quantumtrader.agents.supervisor AGENT FEATURES_EP PROPOSALS_EP
[STATE]`` runs one specialist (``team.run_agent``) in its own process until
SIGTERM, loading its learned state when ``STATE`` exists and saving it at
the end.  :class:`Supervisor` starts one such process per agent, watches
them, and restarts one that died with an exponential backoff (0.5 s by default,
doubling to 30 s, reset after a minute alive); meanwhile the agent is simply
absent from the consensus (it sends no heartbeat)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Supervisor", "main"]

_BACKOFF_S = (0.5, 30.0)
_STABLE_S = 60.0


@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    backoff_s: float = _BACKOFF_S[0]
    started: float = 0.0
    next_start: float = 0.0
    exits: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(self, agents: Iterable[str], features_ep: str, proposals_ep: str,
                 state_dir: Path | None = None, first_backoff_s: float = _BACKOFF_S[0]) -> None:
        self.features_ep, self.proposals_ep, self.state_dir = features_ep, proposals_ep, state_dir
        self.first_backoff_s = first_backoff_s
        self.children = {a: _Child(a, backoff_s=first_backoff_s) for a in agents}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _spawn(self, c: _Child) -> None:
        cmd = [sys.executable, "-m", "quantumtrader.agents.supervisor", c.name, self.features_ep,
               self.proposals_ep]
        if self.state_dir is not None:
            cmd.append(str(self.state_dir / f"{c.name}.json"))
        c.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c.started = time.monotonic()

    def start(self) -> None:
        for c in self.children.values():
            self._spawn(c)
        self._thread = threading.Thread(target=self._watch, name="qt-agent-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            now = time.monotonic()
            for c in self.children.values():
                if c.proc is not None and c.proc.poll() is not None:
                    c.exits.append(c.proc.returncode)
                    c.proc = None
                    if now - c.started > _STABLE_S:
                        c.backoff_s = self.first_backoff_s
                    c.next_start = now + c.backoff_s
                    c.backoff_s = min(c.backoff_s * 2, _BACKOFF_S[1])
                elif c.proc is None and now >= c.next_start:
                    c.restarts += 1
                    self._spawn(c)

    def pid(self, agent: str) -> int | None:
        c = self.children[agent]
        return None if c.proc is None else c.proc.pid

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        for c in self.children.values():
            if c.proc is not None and c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        for c in self.children.values():
            if c.proc is not None:
                try:
                    c.proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    c.proc.kill()
                    c.proc.wait()


def main(argv: list[str] | None = None) -> int:
    """One agent process (see the module doc)."""
    import zmq

    from quantumtrader.agents.specialists import SPECIALISTS, AgentStateError, OnlinePolicy
    from quantumtrader.agents.team import run_agent

    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4) or args[0] not in SPECIALISTS:
        print(f"usage: python -m quantumtrader.agents.supervisor {{{','.join(SPECIALISTS)}}} FEATURES_EP "
              "PROPOSALS_EP [STATE]", file=sys.stderr)
        return 2
    policy = OnlinePolicy(SPECIALISTS[args[0]])
    state = Path(args[3]) if len(args) == 4 else None
    if state is not None and state.exists():
        try:
            policy.load(state)
        except AgentStateError as e:
            print(f"agent {args[0]}: {e}", file=sys.stderr)
            return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    ctx = zmq.Context()
    try:
        run_agent(ctx, policy, args[1], args[2], stop)
    finally:
        ctx.term()
        if state is not None:
            policy.save(state)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
