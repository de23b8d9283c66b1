"""Agents as supervised processes.

``python -m quantumtrader.agents.supervisor AGENT FEATURES_EP PROPOSALS_EP
[STATE] [--key SECRET --server-key PUBLIC] [--fresh]`` runs one specialist
(``team.run_agent``) in its own process until SIGTERM or SIGINT, loading its
learned state when ``STATE`` exists (``state.load_state``: a corrupt, foreign
or newer file is refused, exit 2, or moved aside with ``--fresh``) and saving
it at the end.  With ``--key`` (this agent's CURVE secret key file) and
``--server-key`` (the node's public key file) both sockets are CURVE
clients, for a node on another machine.  A node that takes no message for
a second (refusing this agent's key, say) ends it with one line and status
3.  With ``--lifeline`` (the supervisor passes it) its standard input is a
pipe from the supervisor: end of file means stop.  The supervisor closes it
to stop an agent, which then saves its state, on Windows as on POSIX
(where SIGTERM would do, Windows has only TerminateProcess, and no state
would be saved); and the system closes it when the supervisor dies, even
by SIGKILL or TerminateProcess, so a killed node leaves no agents behind.

:class:`Supervisor` starts one such process per agent (each in its own
process group, so a Ctrl-C at the terminal reaches the supervisor, which
stops them in order and lets them save), watches them, and restarts one
that died with an exponential backoff (0.5 s by default, doubling to 30 s,
reset after a minute alive); meanwhile the agent is simply absent from the
consensus (it sends no heartbeat).  ``report``, when given, receives one
line per start, exit and restart."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["POLICY_FLAGS", "Supervisor", "agent_policy", "main"]

_BACKOFF_S = (0.5, 30.0)
_STABLE_S = 60.0
_SEND_TIMEOUT_MS = 1000
# OnlinePolicy's settings an agent process takes on its command line
POLICY_FLAGS = {"learning_rate": "--learning-rate", "cost": "--cost", "exploration": "--exploration"}


@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    backoff_s: float = _BACKOFF_S[0]
    started: float = 0.0
    next_start: float = 0.0


class Supervisor:
    def __init__(self, agents: Iterable[str], features_ep: str, proposals_ep: str,
                 state_dir: Path | None = None, first_backoff_s: float = _BACKOFF_S[0], *,
                 client_key: Path | None = None, server_key: Path | None = None, fresh: bool = False,
                 report: Callable[[str], None] | None = None, inherit_stderr: bool = False,
                 policy: Mapping[str, float] | None = None) -> None:
        if (client_key is None) != (server_key is None):
            raise ValueError("CURVE needs both the client's secret key file and the server's public key file")
        self.features_ep, self.proposals_ep, self.state_dir = features_ep, proposals_ep, state_dir
        self.first_backoff_s = first_backoff_s
        self.client_key, self.server_key, self.fresh = client_key, server_key, fresh
        self.report = report
        self.inherit_stderr = inherit_stderr
        # the online policy's settings ([agents] learning_rate, cost, exploration): an
        # agent process learns as the node's threads would
        self.policy = dict(policy or {})
        unknown = sorted(set(self.policy) - set(POLICY_FLAGS))
        if unknown:
            raise ValueError(f"policy settings: unknown {', '.join(unknown)} "
                             f"(known: {', '.join(POLICY_FLAGS)})")
        self.children = {a: _Child(a, backoff_s=first_backoff_s) for a in agents}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def command(self, agent: str) -> list[str]:
        """The agent process's command line."""
        cmd = [sys.executable, "-m", "quantumtrader.agents.supervisor", agent, self.features_ep,
               self.proposals_ep]
        if self.state_dir is not None:
            cmd.append(str(self.state_dir / f"{agent}.json"))
        if self.client_key is not None and self.server_key is not None:
            cmd += ["--key", str(self.client_key), "--server-key", str(self.server_key)]
        if self.fresh:
            cmd.append("--fresh")
        for name, value in self.policy.items():
            cmd += [POLICY_FLAGS[name], repr(float(value))]
        cmd.append("--lifeline")
        return cmd

    def _spawn(self, c: _Child) -> None:
        # its own process group: a terminal's Ctrl-C goes to the supervisor
        # alone, which then stops the agents (a child stopping by itself
        # would be restarted by the watcher before the supervisor stops)
        group: dict[str, object] = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
                                    if os.name == "nt" else {"start_new_session": True})
        c.proc = subprocess.Popen(self.command(c.name), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=None if self.inherit_stderr else subprocess.DEVNULL,
                                  **group)  # type: ignore[call-overload]
        c.started = time.monotonic()
        if self.report is not None:
            again = f", restart {c.restarts}" if c.restarts else ""
            self.report(f"agent {c.name}: started (pid {c.proc.pid}{again})")

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
                    code = c.proc.returncode
                    _close_lifeline(c.proc)
                    c.proc = None
                    if now - c.started > _STABLE_S:
                        c.backoff_s = self.first_backoff_s
                    c.next_start = now + c.backoff_s
                    if self.report is not None:
                        self.report(f"agent {c.name}: exited with status {code}; restarting in "
                                    f"{c.backoff_s:g} s")
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
                _close_lifeline(c.proc)  # end of file: the agent stops and saves
        for c in self.children.values():  # POSIX: SIGTERM too, for an agent not reading its lifeline
            if c.proc is not None and c.proc.poll() is None and os.name != "nt":
                c.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s  # one deadline for all: they stop side by side
        for c in self.children.values():
            if c.proc is not None:
                try:
                    c.proc.wait(max(deadline - time.monotonic(), 0.01))
                except subprocess.TimeoutExpired:
                    c.proc.kill()
                    c.proc.wait()


def _close_lifeline(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):  # the agent is already gone
            proc.stdin.close()


def _watch_lifeline(stop: threading.Event) -> None:
    """Set ``stop`` at the end of standard input: the supervisor closed it, or died."""
    # the raw descriptor, not sys.stdin: a daemon thread blocked in a buffered
    # read holds its lock, and the interpreter aborts at exit waiting for it
    with contextlib.suppress(OSError):
        while os.read(0, 4096):
            pass
    stop.set()


def _watch_parent(stop: threading.Event) -> None:
    """Set ``stop`` once the process that started this one is gone (on POSIX
    the agent is then re-parented: its parent id changes)."""
    parent = os.getppid()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


def _parse(args: list[str]) -> Any:
    import argparse

    from quantumtrader.agents.specialists import SPECIALISTS

    p = argparse.ArgumentParser(prog="python -m quantumtrader.agents.supervisor",
                                description="one specialist agent process (started by the supervisor)")
    p.add_argument("agent", choices=list(SPECIALISTS))
    p.add_argument("features_ep", metavar="FEATURES_EP")
    p.add_argument("proposals_ep", metavar="PROPOSALS_EP")
    p.add_argument("state", metavar="STATE", nargs="?", type=Path, default=None,
                   help="the agent's state file: loaded when present, saved at the end")
    p.add_argument("--key", type=Path, metavar="SECRET_FILE", help="this agent's CURVE secret key file")
    p.add_argument("--server-key", type=Path, metavar="PUBLIC_FILE", help="the node's CURVE public key file")
    p.add_argument("--fresh", action="store_true",
                   help="move an unusable state file aside and start fresh (refused otherwise)")
    p.add_argument("--lifeline", action="store_true",
                   help="stop at the end of standard input (a pipe from the supervisor)")
    for name, flag in POLICY_FLAGS.items():
        p.add_argument(flag, dest=name, type=float, default=None,
                       help=f"the online policy's {name.replace('_', ' ')} (default: OnlinePolicy's)")
    ns = p.parse_args(args)
    if (ns.key is None) != (ns.server_key is None):
        p.error("--key and --server-key go together")
    return ns


def agent_policy(args: Any) -> Any:
    """The OnlinePolicy of the agent process's parsed command line."""
    from quantumtrader.agents.specialists import SPECIALISTS, OnlinePolicy

    settings = {name: getattr(args, name) for name in POLICY_FLAGS if getattr(args, name) is not None}
    return OnlinePolicy(SPECIALISTS[args.agent], **settings)


def main(argv: list[str] | None = None) -> int:
    """One agent process (see the module doc)."""
    import zmq

    from quantumtrader.agents.specialists import AgentConfigError, AgentStateError
    from quantumtrader.agents.state import load_state
    from quantumtrader.agents.team import run_agent
    from quantumtrader.agents.transport import KeyFileError, secure_client

    args = _parse(sys.argv[1:] if argv is None else argv)
    try:
        policy = agent_policy(args)
    except AgentConfigError as e:
        print(f"agent {args.agent}: {e}", file=sys.stderr)
        return 2
    ctx = zmq.Context()
    # a proposal or heartbeat the node does not take within a second (it is
    # unreachable, or refused this agent's CURVE key) ends the process with
    # one line instead of blocking it for good; the supervisor restarts it
    ctx.sndtimeo = _SEND_TIMEOUT_MS
    try:
        if args.key is not None:
            # the context's defaults: both sockets run_agent opens are CURVE clients
            secure_client(ctx, args.key, args.server_key)
        if args.state is not None:
            load_state(policy, args.state, fresh=args.fresh, flag="--fresh")
    except (AgentStateError, KeyFileError) as e:
        print(f"agent {args.agent}: {e}", file=sys.stderr)
        ctx.term()
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=_watch_parent, args=(stop,), daemon=True).start()
    if args.lifeline:
        threading.Thread(target=_watch_lifeline, args=(stop,), daemon=True).start()
    saved, status = True, 0
    try:
        run_agent(ctx, policy, args.features_ep, args.proposals_ep, stop)
    except zmq.Again:
        if not stop.is_set():
            print(f"agent {args.agent}: the node at {args.proposals_ep} took no message for "
                  f"{_SEND_TIMEOUT_MS / 1000:g} s (not reachable, or it does not authorize this agent's key)",
                  file=sys.stderr)
            status = 3
    finally:
        ctx.term()
        if args.state is not None:
            try:
                policy.save(args.state)
            except (OSError, ValueError) as e:
                print(f"agent {args.agent}: cannot save its state to {args.state}: {e}", file=sys.stderr)
                saved = False
    return status if saved else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
