"""Folders of learned agent states: the one place they are read and written.

A state folder holds ``<agent>.json`` per specialist (``OnlinePolicy.save``
format).  The trading node, ``quantumtrader agents run`` / ``pretrain`` and
the agent process itself all go through here, so a bad file is treated the
same everywhere:

- a missing file: the agent starts fresh (noted);
- a corrupt, foreign (another agent's, other features) or newer file:
  AgentStateError naming the file and the flag that starts the agent fresh,
  unless ``fresh=True``; then the file is moved aside, never deleted
  (``<agent>.json.corrupt-YYYYmmdd-HHMMSS``, a ``-N`` suffix when that name is
  taken) and that agent starts fresh;
- saving: every file written aside and renamed into place
  (``output_path.atomic_output``), so a crash mid-save leaves the previous
  state whole."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from quantumtrader.agents.specialists import AgentStateError, OnlinePolicy

__all__ = ["FRESH_FLAG", "load_state", "load_states", "move_aside", "save_states", "state_file"]

FRESH_FLAG = "--fresh-agents"  # the commands' flag; the agent process passes its own


def state_file(folder: str | os.PathLike[str], agent: str) -> Path:
    return Path(folder) / f"{agent}.json"


def move_aside(path: Path) -> Path:
    """Rename an unusable state file to ``NAME.corrupt-YYYYmmdd-HHMMSS`` (never
    over another file) and return the new path."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists() or aside.is_symlink():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.rename(path, aside)
    except OSError as e:
        raise AgentStateError(f"{path}: cannot move the unusable state aside ({e.strerror or e})") from None
    return aside


def load_state(policy: OnlinePolicy, path: str | os.PathLike[str], *, fresh: bool = False,
               aside: bool = True, flag: str = FRESH_FLAG) -> str:
    """Load ``path`` into ``policy`` when it exists; returns a note of what
    happened.  An unusable file: AgentStateError naming it and ``flag``, or,
    with ``fresh``, moved aside (left where it is when ``aside`` is False: a
    folder that is only an input) and the agent left fresh."""
    p = Path(path)
    name = policy.spec.name
    if p.is_dir():
        raise AgentStateError(f"{p}: a folder where agent {name}'s state file belongs")
    if not p.exists():
        return f"{name}: no saved state in {p.parent}; starts fresh"
    try:
        policy.load(p)
    except AgentStateError as e:
        if not fresh:
            raise AgentStateError(f"{e}; {flag} starts agent {name} fresh (the file is kept, renamed "
                                  "aside)") from None
        if not aside:
            return f"{name}: {e}; starts fresh (the file is left as it is)"
        return f"{name}: {e}; moved aside to {move_aside(p).name}, starts fresh"
    return f"{name}: loaded {p} ({policy.updates:,} outcomes learned)"


def load_states(policies: Mapping[str, OnlinePolicy], folder: str | os.PathLike[str], *,
                fresh: bool = False, aside: bool = True, flag: str = FRESH_FLAG) -> list[str]:
    """Load ``folder/<agent>.json`` into each policy that has one (see
    :func:`load_state`); a folder that does not exist means every agent
    starts fresh.  Without ``fresh`` nothing on disk changes: the first
    unusable file is refused."""
    where = Path(folder)
    if where.exists() and not where.is_dir():
        raise AgentStateError(f"{where}: a file, not an agent state folder")
    if not where.exists():
        return [f"{name}: no saved state ({where} does not exist); starts fresh" for name in policies]
    return [load_state(policy, state_file(where, name), fresh=fresh, aside=aside, flag=flag)
            for name, policy in policies.items()]


def save_states(policies: Mapping[str, OnlinePolicy], folder: str | os.PathLike[str]) -> list[Path]:
    """Write every policy's state to ``folder/<agent>.json`` (the folder
    created when missing), each atomically; AgentStateError (one line) when
    the folder cannot be written."""
    where = Path(folder)
    written = []
    try:
        where.mkdir(parents=True, exist_ok=True)
        for name, policy in policies.items():
            path = state_file(where, name)
            policy.save(path)
            written.append(path)
    except (OSError, ValueError) as e:  # ValueError: output_path's OutputPathError
        text = f"{e.strerror} ({e.filename})" if isinstance(e, OSError) and e.strerror else str(e)
        raise AgentStateError(f"{where}: cannot save agent states: {text}") from None
    return written
