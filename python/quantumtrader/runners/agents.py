"""The agent team of a trading session, built from ``[agents]``
(agents/config.py) for its run folder.

- Where: ``RUN_DIR/agents/`` holds the ipc sockets, each agent's learned
  state (``<agent>.json``) and the coordinator's weights
  (``coordinator.json``).
- Learned state at the start: the run folder's own when it has any (a
  resumed run carries on from where it stopped), else the folder
  ``[agents] state`` (e.g. ``quantumtrader agents pretrain --out``), else
  fresh.  A corrupt file is refused in one line naming it, unless
  ``[agents] fresh`` (``--fresh-agents``): then it is moved aside and that
  agent starts fresh.  The start folder is only read.
- At the end (``close_agent_team``): agent threads' states and the
  coordinator's weights are saved into the run folder, each file written
  aside and renamed; agent processes save their own as they stop.
- Mode ``auto``: agents as threads over ``inproc://`` in a backtest (the
  decision waits for every agent, so a day's result does not depend on the
  machine), as supervised processes over ``ipc://`` in paper and live."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from quantumtrader.agents.config import LOCKSTEP_DEADLINE_MS, AgentsConfig
from quantumtrader.agents.specialists import SPECIALISTS, AgentStateError, OnlinePolicy
from quantumtrader.agents.state import load_states, load_weights, save_states
from quantumtrader.agents.team import AgentTeam
from quantumtrader.output_path import atomic_output

log = logging.getLogger(__name__)

__all__ = ["AGENTS_DIR", "check_agent_state", "close_agent_team", "open_agent_team"]

AGENTS_DIR = "agents"
ENDPOINTS_FILE = "endpoints.json"   # mode external: where `quantumtrader agents run` connects


def open_agent_team(config: AgentsConfig, run_dir: Path, *, lockstep: bool) -> AgentTeam | None:
    """The session's team, its learned state loaded and its agents started;
    None when ``[agents] enabled = false``.  Raises AgentStateError or
    ValueError (one line) for a state file or an endpoint that cannot be used."""
    if not config.enabled:
        return None
    mode = config.resolved_mode(lockstep)
    folder = Path(run_dir) / AGENTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    team = AgentTeam(
        transport=config.resolved_transport(mode), folder=folder,
        deadline_ms=LOCKSTEP_DEADLINE_MS if lockstep and mode == "threads" else config.deadline_ms,
        coordinator=config.coordinator(), policy=config.policy(), processes=mode == "processes",
        external=mode == "external",
        address=config.address, server_key=Path(config.server_key) if config.server_key else None,
        authorized=Path(config.authorized) if config.authorized else None)
    try:
        start = folder if _has_state(folder) else _start_folder(config)
        if start is not None:
            own = start == folder  # the run folder's own states may be moved aside; an input is only read
            team.load_state(start, fresh=config.fresh, aside=own)
            if mode == "processes" and not own:
                save_states(team.policies, folder)  # the processes load theirs from the run folder
        team.start()
        if mode == "external":  # started apart: say where to connect them
            with atomic_output(folder / ENDPOINTS_FILE) as tmp:
                tmp.write_text(json.dumps({"features": team.features_ep, "proposals": team.proposals_ep}),
                               encoding="utf-8")
            log.warning("agents: start them with: quantumtrader agents run --features %s --proposals %s",
                        team.features_ep, team.proposals_ep)
    except BaseException:
        team.stop()
        raise
    return team


def check_agent_state(config: AgentsConfig) -> None:
    """Refuse, before any session runs, a start folder whose states cannot be
    loaded (one line; only read, even with ``fresh``: it is an input)."""
    start = _start_folder(config) if config.enabled else None
    if start is not None and not config.fresh:
        policies = {s.name: OnlinePolicy(s) for s in SPECIALISTS.values()}
        load_states(policies, start, fresh=False)
        load_weights(start, fresh=False)


def close_agent_team(team: AgentTeam, run_dir: Path) -> dict[str, Any]:
    """Stop the team, save what it learned into the run folder, and return its scoreboard."""
    folder = Path(run_dir) / AGENTS_DIR
    team.stop()
    team.save_state(folder)
    board = team.scoreboard.to_json()
    board["mode"] = team.mode
    if team.supervisor is not None:
        board["restarts"] = {a: c.restarts for a, c in team.supervisor.children.items()}
    return board


def _start_folder(config: AgentsConfig) -> Path | None:
    """``[agents] state`` (``--agents-state``) as a folder, None when not given."""
    if not config.state:
        return None
    start = Path(config.state)
    if not start.is_dir():
        raise AgentStateError(f"agent states {start}: not a folder (--agents-state, [agents] state)")
    return start


def _has_state(folder: Path) -> bool:
    return any(p.name != ENDPOINTS_FILE for p in folder.glob("*.json"))
