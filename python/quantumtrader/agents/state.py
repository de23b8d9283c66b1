"""Learned state folders (provisional; the agents-cli branch brings the real one)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from quantumtrader.agents.specialists import AgentStateError, OnlinePolicy

__all__ = ["load_states", "move_aside", "save_states"]


def move_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.corrupt-{dt.datetime.now():%Y%m%d-%H%M%S}")
    path.rename(aside)
    return aside


def load_states(policies: dict[str, OnlinePolicy], folder: Path, *, fresh: bool = False,
                aside: bool = True) -> list[str]:
    notes = []
    for name, policy in policies.items():
        path = Path(folder) / f"{name}.json"
        if not path.exists():
            continue
        try:
            policy.load(path)
            notes.append(f"{name}: loaded {path}")
        except AgentStateError as e:
            if not fresh:
                raise AgentStateError(f"{e} (--fresh-agents moves it aside and starts the agent fresh)"
                                      ) from None
            if aside:
                notes.append(f"{name}: {path} moved aside to {move_aside(path).name}; starting fresh")
            else:  # an input folder: only read
                notes.append(f"{name}: {path} is corrupt; starting fresh")
    return notes


def save_states(policies: dict[str, OnlinePolicy], folder: Path) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name, policy in policies.items():
        policy.save(Path(folder) / f"{name}.json")
