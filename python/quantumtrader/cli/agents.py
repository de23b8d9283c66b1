"""``quantumtrader agents``: the specialist agents outside a trading session.

- ``agents keygen NAME [--dir DIR]``: a CURVE key pair for tcp endpoints
  (``NAME.key`` public, ``NAME.key_secret`` owner-only), in the user's
  configuration folder by default and never inside a git work tree.
- ``agents run --features EP --proposals EP ...``: the supervised agent
  processes of a trading node on this or another machine (the node binds,
  the agents connect), in the foreground until Ctrl-C (exit 130) or SIGTERM
  (exit 0); the agents save their states as they stop.
- ``agents pretrain --data LOG... --out DIR``: the agents learn by replaying
  event logs (agents/pretrain.py); a state folder the node starts from.

Exit status: 0 done, 2 bad input or arguments (nothing written or started),
1 failed part way (nothing written), 130 interrupted."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from quantumtrader.cli.trading import error

PROG = "quantumtrader agents"
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def add_agents_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "agents", help="the specialist agents: CURVE keys, agent processes for a node, pre-training",
        description="The HMARL specialist agents (order_flow, liquidity, tape, footprint) outside a "
        "trading session: make CURVE keys for agents on other machines, run the agent processes of a "
        "node, or pre-train their states by replaying event logs.")
    p.set_defaults(func=lambda args: _no_subcommand(p))
    sub = p.add_subparsers(dest="agents_command", metavar="SUBCOMMAND")

    k = sub.add_parser("keygen", help="make a CURVE key pair (stored outside the repository)",
                       description="Make a CURVE key pair for tcp agent endpoints: NAME.key (public) and "
                       "NAME.key_secret (readable by its owner only). Existing keys are never overwritten.")
    k.add_argument("name", metavar="NAME", help="the key's name, e.g. node or agents-host-2")
    k.add_argument("--dir", type=Path, default=None,
                   help=f"where to write the keys (default: {default_key_dir()}); not inside a git work tree")
    k.set_defaults(func=run_keygen)

    r = sub.add_parser("run",
                       help="run the agent processes of a trading node (the node binds, agents connect)",
                       description="Start one supervised process per agent, connected to a trading node's "
                       "agent endpoints, until Ctrl-C or SIGTERM; a crashed agent is restarted with backoff. "
                       "tcp endpoints of a node on another machine use CURVE: --key and --server-key.")
    r.add_argument("--features", required=True, metavar="EP",
                   help="the node's feature endpoint (ipc://PATH or tcp://HOST:PORT)")
    r.add_argument("--proposals", required=True, metavar="EP",
                   help="the node's proposal endpoint (ipc://PATH or tcp://HOST:PORT)")
    _agents_flag(r)
    r.add_argument("--state", type=Path, metavar="DIR",
                   help="the agents' learned states: loaded at the start, saved when they stop")
    r.add_argument("--key", type=Path, metavar="SECRET_FILE",
                   help="these agents' CURVE secret key file (NAME.key_secret of agents keygen)")
    r.add_argument("--server-key", type=Path, metavar="PUBLIC_FILE",
                   help="the node's CURVE public key file (its NAME.key)")
    r.add_argument("--fresh-agents", action="store_true",
                   help="an unusable state file is moved aside and that agent starts fresh "
                   "(refused otherwise)")
    r.set_defaults(func=run_agents)

    t = sub.add_parser("pretrain", help="pre-train the agents by replaying event logs",
                       description="Replay event logs through the feature engine, ask the agents at the "
                       "model bundle's decision points in time order and let them learn from the outcomes "
                       "as in live trading; write every agent's state (and the coordinator's weights) into "
                       "--out.")
    t.add_argument("--data", nargs="+", required=True, metavar="LOG",
                   help="event logs, replayed in time order")
    t.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="state folder to write (new, or holding no agent state)")
    t.add_argument("--model", metavar="DIR", default=None,
                   help="model bundle whose sampler picks the decision points (default: the shipped "
                   "models/default)")
    t.add_argument("--from", dest="start_from", type=Path, metavar="DIR",
                   help="start from these states (only read, never changed)")
    _agents_flag(t)
    t.add_argument("--fresh-agents", action="store_true",
                   help="an agent whose --from state is unusable starts fresh (refused otherwise; the "
                   "file is left as it is)")
    t.set_defaults(func=run_pretrain)


def _agents_flag(p: argparse.ArgumentParser) -> None:
    from quantumtrader.agents.specialists import SPECIALISTS

    p.add_argument("--agents", metavar="NAMES", default=",".join(SPECIALISTS),
                   help=f"comma-separated agents (default: all: {','.join(SPECIALISTS)})")


def _no_subcommand(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


# ---------------------------------------------------------------- checks
def default_key_dir() -> Path:
    """The user's configuration folder for keys: ``%APPDATA%/quantumtrader/keys``
    on Windows, else ``$XDG_CONFIG_HOME`` (default ``~/.config``) ``/quantumtrader/keys``."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "quantumtrader" / "keys"
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(base) / "quantumtrader" / "keys"


def git_work_tree(folder: Path) -> Path | None:
    """The git work tree ``folder`` (or the folder it would be created in) is
    inside, or None."""
    here = Path(os.path.abspath(folder))
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return None


def parse_agents(text: str) -> list[str]:
    """The agent names of ``--agents``; ValueError (one line) lists the known ones."""
    from quantumtrader.agents.specialists import SPECIALISTS

    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in SPECIALISTS:
            raise ValueError(f"--agents: unknown agent {n!r} (known: {', '.join(SPECIALISTS)})")
    if not names:
        raise ValueError(f"--agents: no agent named (known: {', '.join(SPECIALISTS)})")
    if len(set(names)) != len(names):
        raise ValueError("--agents: an agent is named twice")
    return names


def endpoint_problem(flag: str, ep: str) -> str | None:
    """Why ``ep`` cannot be an endpoint agents connect to, or None."""
    if ep.startswith("inproc://"):
        return (f"{flag} {ep}: inproc endpoints work only inside one process; use the node's ipc:// or "
                "tcp:// endpoint")
    if ep.startswith("ipc://"):
        return None if len(ep) > len("ipc://") else f"{flag} {ep}: an ipc endpoint needs a path (ipc://PATH)"
    if ep.startswith("tcp://"):
        host, _, port = ep[len("tcp://"):].rpartition(":")
        if not host or host == "*" or not port.isdigit() or not 0 < int(port) < 65536:
            return f"{flag} {ep}: expected tcp://HOST:PORT with a port from 1 to 65535"
        return None
    return f"{flag} {ep}: expected ipc://PATH or tcp://HOST:PORT"


# ---------------------------------------------------------------- keygen
def run_keygen(args: argparse.Namespace) -> int:
    from quantumtrader.agents.transport import KeyFileError, keygen, load_keys

    if not _KEY_NAME.fullmatch(args.name):
        error(f"{PROG} keygen", f"NAME {args.name!r}: letters, digits, '_', '.', '-' (up to 64), no path")
        return 2
    folder = args.dir if args.dir is not None else default_key_dir()
    tree = git_work_tree(folder)
    if tree is not None:
        error(f"{PROG} keygen", f"{folder} is inside the git work tree {tree}: keys are stored outside the "
              "repository (choose another --dir)")
        return 2
    if folder.exists() and not folder.is_dir():
        error(f"{PROG} keygen", f"--dir {folder} is a file, not a folder")
        return 2
    try:
        public, secret = keygen(folder, args.name)
        key, _ = load_keys(public)
    except KeyFileError as e:
        error(f"{PROG} keygen", e)
        return 2
    except OSError as e:
        error(f"{PROG} keygen", f"cannot write keys in {folder}: {e.strerror or e}")
        return 1
    print(f"public key  {public}")
    print(f"secret key  {secret} (owner read/write only: never share or commit it)")
    print(f"public      {key.decode()}")
    print(f"authorize it: copy {public.name} into the server's authorized/ folder (the node accepts only "
          "the public keys found there); a node's own key: give its .key file to the agents (--server-key)")
    return 0


# ---------------------------------------------------------------- run
def _check_run(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(agents, notes) or ValueError (one line) for what cannot run."""
    from quantumtrader.agents.specialists import SPECIALISTS, OnlinePolicy
    from quantumtrader.agents.state import load_states
    from quantumtrader.agents.transport import KeyFileError, load_keys
    from quantumtrader.output_path import folder_problem

    for flag, ep in (("--features", args.features), ("--proposals", args.proposals)):
        why = endpoint_problem(flag, ep)
        if why is not None:
            raise ValueError(why)
    names = parse_agents(args.agents)
    if (args.key is None) != (args.server_key is None):
        raise ValueError("--key and --server-key go together (CURVE needs both)")
    if args.key is not None:
        _, secret = load_keys(args.key)
        if secret is None:
            raise KeyFileError(f"--key {args.key}: holds no secret key (give the NAME.key_secret file)")
        load_keys(args.server_key)
    notes: list[str] = []
    if args.state is not None:
        why = folder_problem(args.state, "--state")
        if why is not None:
            raise ValueError(why)
        policies = {n: OnlinePolicy(SPECIALISTS[n]) for n in names}
        notes = load_states(policies, args.state, fresh=args.fresh_agents)
        args.state.mkdir(parents=True, exist_ok=True)
    return names, notes


def run_agents(args: argparse.Namespace) -> int:
    from quantumtrader.agents.config import AgentsConfig
    from quantumtrader.agents.supervisor import Supervisor

    prog = f"{PROG} run"
    try:
        names, notes = _check_run(args)
    except ValueError as e:  # KeyFileError, AgentStateError included
        error(prog, e)
        return 2
    except OSError as e:
        error(prog, f"--state {args.state}: {e.strerror or e}")
        return 2
    for note in notes:
        print(note, flush=True)

    def report(line: str) -> None:
        print(line, flush=True)

    # the agents learn as a node's would on its default [agents]
    sup = Supervisor(names, args.features, args.proposals, args.state, client_key=args.key,
                     server_key=args.server_key, fresh=args.fresh_agents, report=report, inherit_stderr=True,
                     policy=AgentsConfig().policy())
    stop = threading.Event()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if main_thread else None
    print(f"agents {', '.join(names)} -> {args.features} (features), {args.proposals} (proposals)",
          flush=True)
    try:
        sup.start()
        while not stop.wait(0.2):
            pass
    finally:
        if main_thread:  # a second Ctrl-C must not cut the agents' saving short
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        sup.stop()
        if main_thread:
            signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
        saved = f"; states saved in {args.state}" if args.state is not None else ""
        print(f"agents stopped{saved}", flush=True)
    return 0


# ---------------------------------------------------------------- pretrain
def run_pretrain(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from quantumtrader.agents.pretrain import pretrain
    from quantumtrader.output_path import is_output_error
    from quantumtrader.progress import stage_progress

    prog = f"{PROG} pretrain"
    try:
        names = parse_agents(args.agents)
    except ValueError as e:
        error(prog, e)
        return 2
    try:
        with stage_progress() as show:
            run = pretrain(args.data, args.out, model=args.model, start_from=args.start_from,
                           fresh=args.fresh_agents, agents=names, progress=show)
    except ValueError as e:  # bad log, bundle, state or --out: nothing written
        error(prog, f"{e}; nothing written")
        return 2
    except OSError as e:
        what = f"cannot write {args.out}: {e.strerror or e}" if is_output_error(e, args.out) else e
        error(prog, f"{what}; nothing written")
        return 1
    for note in run.notes:
        print(note)
    table = Table(title=f"agents pretrained on {len(args.data)} log(s): {run.sessions} session(s), "
                  f"{run.decisions:,} decisions of {run.rows:,} feature rows")
    for col in ("agent", "decisions answered", "outcomes learned", "hit rate", "weight"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for a in names:
        s = run.scores[a]
        hit = "-" if s.hit_rate is None else f"{s.hit_rate:.1%} of {s.directional:,}"
        table.add_row(a, f"{s.proposals:,}", f"{s.outcomes:,}", hit, f"{run.weights[a]:.3f}")
    Console().print(table)
    print(f"states written to {args.out} ({', '.join(p.name for p in run.written)})")
    return 0
