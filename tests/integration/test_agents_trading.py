"""The agents inside the trading loop (issue 11): a backtest runs them as
threads over inproc and a paper session as supervised processes over ipc,
by default; every decision's consensus reaches the signal and is journaled
with the agents that took part, their weights and their own proposals; the
report shows each agent's hit rate and weight over time; learned state is
saved in the run folder and a corrupt one is refused unless told to start
fresh; ``--no-agents`` trades the model alone."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from quantumtrader.agents.specialists import SPECIALISTS
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.runners.backtest import BacktestDay, _run_day
from quantumtrader.runners.report import SessionResult, load_result

DAY = dt.date(2026, 11, 3)  # synth's default first session
AGENTS = sorted(SPECIALISTS)
FAST = "20000"


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents-trading") / "wdo.qtlog"
    write_synthetic_log(path, 1, 41, 1.0, trades_per_day=3000)
    return path


def _backtest(out: Path, log: Path, agents: dict[str, Any] | None = None) -> SessionResult:
    result = _run_day(BacktestDay(log, DAY, out), None, False, None, agents)
    assert isinstance(result, SessionResult), result
    return result


def _consensus_rows(journal: Path) -> list[dict[str, Any] | None]:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        return [None if c is None else json.loads(c)
                for (c,) in db.execute("SELECT consensus FROM decisions ORDER BY decision_id")]


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quantumtrader", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_backtest_decisions_carry_the_agents_consensus(log: Path, tmp_path: Path) -> None:
    result = _backtest(tmp_path / "day", log)
    board = result.agents
    assert board["mode"] == "threads" and sorted(board["agents"]) == AGENTS
    assert board["decisions"] == result.decisions > 0
    for name in AGENTS:
        s = board["scores"][name]
        assert s["proposals"] == result.decisions  # lockstep waits for every agent
        assert s["outcomes"] > 0 and 0 <= s["hits"] <= s["directional"] <= s["outcomes"]
    assert len(board["timeline"]) == result.decisions
    assert all(abs(sum(w) - 1.0) < 1e-9 for _, w, _ in board["timeline"])
    rows = _consensus_rows(tmp_path / "day" / "journal.sqlite")
    assert len(rows) == result.decisions
    with_opinion = [r for r in rows if r and r["probabilities"] is not None]
    assert len(with_opinion) == board["with_opinion"] > 0
    for r in with_opinion:  # who said what: the agents that took part, weights and own proposals
        assert sorted(r["weights"]) == sorted(r["proposals"]) == AGENTS
        assert all(abs(sum(p) - 1) < 1e-6 for p in r["proposals"].values())
    # what the agents learned stays in the run folder, each state loadable
    states = tmp_path / "day" / "agents"
    assert sorted(p.stem for p in states.glob("*.json")) == sorted([*AGENTS, "coordinator"])
    for name in AGENTS:
        assert json.loads((states / f"{name}.json").read_text())["updates"] > 0


def test_backtest_with_agents_is_deterministic(log: Path, tmp_path: Path) -> None:
    a = _backtest(tmp_path / "a", log)
    b = _backtest(tmp_path / "b", log)
    assert a.agents["timeline"] == b.agents["timeline"]
    assert a.net_brl == b.net_brl
    journals = [tmp_path / d / "journal.sqlite" for d in "ab"]
    assert _consensus_rows(journals[0]) == _consensus_rows(journals[1])


def test_no_agents_means_the_model_alone(log: Path, tmp_path: Path) -> None:
    result = _backtest(tmp_path / "day", log, {"enabled": False})
    assert result.agents == {}
    assert all(r is None for r in _consensus_rows(tmp_path / "day" / "journal.sqlite"))
    assert not (tmp_path / "day" / "agents").exists()


def test_a_run_starts_from_pretrained_states_without_changing_them(log: Path, tmp_path: Path) -> None:
    _backtest(tmp_path / "first", log)
    start = tmp_path / "first" / "agents"
    before = {p.name: p.read_bytes() for p in start.glob("*.json")}
    second = _backtest(tmp_path / "second", log, {"state": str(start)})
    assert {p.name: p.read_bytes() for p in start.glob("*.json")} == before  # an input is only read
    updates = {n: json.loads((start / f"{n}.json").read_text())["updates"] for n in AGENTS}
    after = {n: json.loads((tmp_path / "second" / "agents" / f"{n}.json").read_text())["updates"]
             for n in AGENTS}
    assert all(after[n] > updates[n] for n in AGENTS)  # it carried on learning from there
    assert second.agents["with_opinion"] == second.decisions  # trained agents have an opinion at once
    with sqlite3.connect(f"file:{tmp_path / 'second' / 'journal.sqlite'}?mode=ro", uri=True) as db:
        notes = [t for (t,) in db.execute("SELECT text FROM notes WHERE kind = 'agents'")]
    assert sorted(n.split(":")[0] for n in notes) == AGENTS and all("loaded" in n for n in notes), notes


def test_paper_runs_agent_processes_and_reports_them(log: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    p = _cli("paper", "--replay", str(log), "--speed", FAST, "--out", str(run), "--no-dashboard")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "Agents" in p.stdout and "hit rate" in p.stdout
    result = load_result(run / "report" / "report.json")
    assert result.agents["mode"] == "processes" and sorted(result.agents["agents"]) == AGENTS
    assert sum(s["proposals"] for s in result.agents["scores"].values()) > 0
    assert (run / "report" / "agents.png").stat().st_size > 1000
    assert "<h2>Agents</h2>" in (run / "report" / "report.html").read_text()
    # each process saved what it learned as it was stopped; no socket file left behind
    for name in AGENTS:
        assert json.loads((run / "agents" / f"{name}.json").read_text())["agent"] == name
    assert not list((run / "agents").glob("*.sock"))


def test_a_corrupt_state_is_refused_unless_fresh(log: Path, tmp_path: Path) -> None:
    good = tmp_path / "good"
    _backtest(good, log)
    (good / "agents" / "tape.json").write_text('{"format": "qt-agent-state", "version": 1, "agent": "tape"')
    p = _cli("backtest", "--data", str(log), "--out", str(tmp_path / "bt"), "--agents-state",
             str(good / "agents"))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "tape.json" in lines[0] and "--fresh-agents" in lines[0], p.stderr
    p = _cli("backtest", "--data", str(log), "--out", str(tmp_path / "bt2"), "--agents-state",
             str(good / "agents"), "--fresh-agents")
    assert p.returncode == 0, p.stderr[-2000:]
    assert (good / "agents" / "tape.json").is_file()  # the input folder is left as it was
    assert not list((good / "agents").glob("*.corrupt-*"))


def test_a_killed_agent_process_is_restarted_and_the_session_goes_on(log: Path, tmp_path: Path) -> None:
    import os
    import signal
    import threading
    import time

    from quantumtrader.runners.config import TradingConfig
    from quantumtrader.runners.paper import run_paper

    killed: dict[str, int] = {}

    def kill_one(node: Any) -> None:
        def later() -> None:
            time.sleep(1.0)
            pid = node.agents.supervisor.pid("tape")
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                killed["tape"] = pid
        threading.Thread(target=later, daemon=True).start()

    run = run_paper(tmp_path / "run", TradingConfig(), replay=log, speed=3000.0, dashboard=None,
                    on_started=kill_one)
    assert killed, "the agent process was not running"
    board = run.result.agents
    assert board["restarts"]["tape"] >= 1
    scores = board["scores"]
    # the others answered throughout; tape missed the decisions while it was down, then came back
    assert min(scores[a]["proposals"] for a in AGENTS if a != "tape") > scores["tape"]["proposals"] > 0
    assert run.result.decisions == board["decisions"] and not run.interrupted
