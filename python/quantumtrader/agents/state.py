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
  state whole.

The coordinator's learned weights go beside them in ``coordinator.json``
(``{"format": "qt-coordinator-state", "version": 1, "weights": {agent:
weight}}``), refused or moved aside the same way."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

from quantumtrader.agents.specialists import AgentStateError, OnlinePolicy
from quantumtrader.output_path import atomic_output

__all__ = [
    "COORDINATOR_FILE", "FRESH_FLAG", "load_state", "load_states", "load_weights", "move_aside",
    "save_states", "save_weights", "state_file",
]

FRESH_FLAG = "--fresh-agents"  # the commands' flag; the agent process passes its own
COORDINATOR_FILE = "coordinator.json"
_COORDINATOR_FORMAT = ("qt-coordinator-state", 1)


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


def save_weights(weights: Mapping[str, float], folder: str | os.PathLike[str]) -> Path:
    """The coordinator's weights into ``folder/coordinator.json``, atomically."""
    path = Path(folder) / COORDINATOR_FILE
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            record = {"format": _COORDINATOR_FORMAT[0], "version": _COORDINATOR_FORMAT[1],
                      "weights": {a: float(w) for a, w in weights.items()}}
            tmp.write_text(json.dumps(record), encoding="utf-8")
    except (OSError, ValueError) as e:
        text = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise AgentStateError(f"{path}: cannot save the coordinator's weights: {text}") from None
    return path


def load_weights(folder: str | os.PathLike[str], *, fresh: bool = False, aside: bool = True,
                 flag: str = FRESH_FLAG) -> dict[str, float] | None:
    """The weights in ``folder/coordinator.json``, or None when there is no
    such file (or, with ``fresh``, an unusable one: moved aside unless
    ``aside`` is False).  Unusable without ``fresh``: AgentStateError naming
    the file and ``flag``."""
    path = Path(folder) / COORDINATOR_FILE
    if not path.exists():
        return None
    try:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise AgentStateError(f"{path}: not a readable coordinator state ({e})") from None
        if (not isinstance(data, dict) or (data.get("format"), data.get("version")) != _COORDINATOR_FORMAT
                or not isinstance(data.get("weights"), dict)):
            raise AgentStateError(f"{path}: not a coordinator state of this version")
        weights = data["weights"]
        if not all(isinstance(w, (int, float)) and math.isfinite(w) and w >= 0 for w in weights.values()):
            raise AgentStateError(f"{path}: damaged coordinator state (weights)")
    except AgentStateError as e:
        if not fresh:
            raise AgentStateError(f"{e}; {flag} starts the coordinator's weights fresh (the file is kept, "
                                  "renamed aside)") from None
        if aside:
            move_aside(path)
        return None
    return {str(a): float(w) for a, w in weights.items()}
