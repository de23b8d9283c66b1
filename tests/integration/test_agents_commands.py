"""`quantumtrader agents` (keygen, run, pretrain), each in a child process as
a user runs it: one-line errors and exit statuses, keys outside the
repository, agent processes answering a node's endpoints over ipc and over
CURVE tcp (and nothing for a client without the key), Ctrl-C saving the
states, pre-trained states that load, and a corrupt one refused unless
--fresh-agents (then moved aside, not deleted)."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from command_support import one_line_error

from quantumtrader.agents.messages import DropCounter, FeatureVector, Proposal
from quantumtrader.agents.specialists import SPECIALISTS, OnlinePolicy
from quantumtrader.agents.state import load_states
from quantumtrader.agents.team import AgentTeam
from quantumtrader.agents.transport import close, load_keys, secure_server
from quantumtrader.data.synth import write_synthetic_log

S = 1_000_000_000
CMD = [sys.executable, "-m", "quantumtrader", "agents"]


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=timeout)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CMD, "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _interrupt(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents-log") / "synth.qtlog"
    write_synthetic_log(path, 2, 5, 1.0, trades_per_day=2000)
    return path


def test_help() -> None:
    for sub in ([], ["keygen"], ["run"], ["pretrain"]):
        p = _cli(*sub, "--help")
        assert p.returncode == 0 and "usage: quantumtrader agents" in p.stdout, p.stderr
    assert "--fresh-agents" in _cli("run", "--help").stdout
    assert "--from" in _cli("pretrain", "--help").stdout


def test_keygen(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    p = _cli("keygen", "node", "--dir", str(keys))
    assert p.returncode == 0, p.stderr
    assert "authorized/" in p.stdout and str(keys / "node.key") in p.stdout
    secret = keys / "node.key_secret"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    before = secret.read_bytes()
    assert "never overwritten" in one_line_error(_cli("keygen", "node", "--dir", str(keys)))
    assert secret.read_bytes() == before
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    line = one_line_error(_cli("keygen", "node", "--dir", str(repo / "keys")))
    assert "keys are stored outside the repository" in line
    assert not (repo / "keys").exists()


def _ask_until_all(team: AgentTeam, names: set[str], timeout_s: float = 60) -> set[str]:
    """Ask until every agent in ``names`` took part in one decision (processes start in seconds)."""
    deadline, i, took = time.monotonic() + timeout_s, 0, set()
    while time.monotonic() < deadline:
        i += 1
        took = set(team.ask(1, i, i * S, 11000, np.random.default_rng(i).normal(size=77)).wire.weights)
        if took >= names:
            return took
        time.sleep(0.05)
    return took


@pytest.mark.skipif(not zmq.has("ipc"), reason="this libzmq has no ipc transport")
def test_run_answers_a_node_over_ipc_and_saves_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with AgentTeam(transport="ipc", folder=tmp_path, deadline_ms=500) as team:  # the node: binds, no agents
        proc = _start("--features", team.features_ep, "--proposals", team.proposals_ep, "--state", str(state))
        try:
            assert _ask_until_all(team, set(SPECIALISTS)) == set(SPECIALISTS)
            for i in range(1000, 1020):  # decisions 300 s apart: outcomes reach the agents
                team.ask(1, i, i * 300 * S, 11000 + i % 7, np.random.default_rng(i).normal(size=77))
        finally:
            code, out, err = _interrupt(proc)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sum("started (pid" in ln for ln in out.splitlines()) == len(SPECIALISTS)
    policies = {n: OnlinePolicy(s) for n, s in SPECIALISTS.items()}
    notes = load_states(policies, state)
    assert all("loaded" in n for n in notes), notes
    assert policies["tape"].updates > 0  # it learned from the outcomes, and saved that


def test_run_refusals(tmp_path: Path) -> None:
    ep = ["--features", "ipc:///tmp/qt-f", "--proposals", "ipc:///tmp/qt-p"]
    assert "inproc" in one_line_error(_cli("run", "--features", "inproc://x", "--proposals", "inproc://y"))
    assert "tcp://HOST:PORT" in one_line_error(_cli("run", "--features", "tcp://host", "--proposals", "ipc://p"))
    line = one_line_error(_cli("run", *ep, "--agents", "order_flow,magic"))
    assert "'magic'" in line and "order_flow, liquidity, tape, footprint" in line
    (tmp_path / "not-a-key").write_text("hello")
    line = one_line_error(_cli("run", *ep, "--key", str(tmp_path / "not-a-key"), "--server-key",
                                str(tmp_path / "not-a-key")))
    assert "not-a-key" in line
    state = tmp_path / "state"
    state.mkdir()
    (state / "tape.json").write_text("{broken")
    line = one_line_error(_cli("run", *ep, "--state", str(state)))
    assert "tape.json" in line and "--fresh-agents" in line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _curve_node(tmp_path: Path, client: str | None, *, authorize: bool,
                wait_s: float = 20) -> tuple[set[str], str]:
    """A CURVE node on loopback tcp (server key and authorized/ folder from
    keygen); `agents run` connects with ``client``'s key (or none).  Returns
    the agents that answered within ``wait_s`` and the child's stdout."""
    keys = tmp_path / "keys"
    for name in ("node", "agents"):
        if not (keys / f"{name}.key").exists():
            assert _cli("keygen", name, "--dir", str(keys)).returncode == 0
    authorized = tmp_path / "authorized"
    authorized.mkdir(exist_ok=True)
    if authorize:
        (authorized / "agents.key").write_bytes((keys / "agents.key").read_bytes())
    else:
        (authorized / "agents.key").unlink(missing_ok=True)
    ctx = zmq.Context()
    pub, pull = ctx.socket(zmq.PUB), ctx.socket(zmq.PULL)
    auth = secure_server(ctx, pub, keys / "node.key_secret", authorized)
    public, secret = load_keys(keys / "node.key_secret")  # the same server keys; one authenticator
    pull.curve_secretkey, pull.curve_publickey, pull.curve_server = secret, public, True
    f_ep, p_ep = f"tcp://127.0.0.1:{_free_port()}", f"tcp://127.0.0.1:{_free_port()}"
    pub.bind(f_ep)
    pull.bind(p_ep)
    args = ["--features", f_ep, "--proposals", p_ep]
    if client is not None:
        args += ["--key", str(keys / f"{client}.key_secret"), "--server-key", str(keys / "node.key")]
    proc = _start(*args)
    answered: set[str] = set()
    drops = DropCounter()
    try:
        deadline, i = time.monotonic() + wait_s, 0
        while time.monotonic() < deadline and answered != set(SPECIALISTS):
            i += 1
            pub.send_multipart([b"1", FeatureVector(1, i, i * S, np.zeros(77), time.monotonic_ns()).encode()])
            while pull.poll(50):
                msg = drops.take(pull.recv())
                if isinstance(msg, Proposal):
                    answered.add(msg.agent)
    finally:
        code, out, err = _interrupt(proc)
        close(pub, pull, auth)
        ctx.term()
    assert code == 130 and "Traceback" not in err, err
    return answered, out


def test_run_over_curve_tcp(tmp_path: Path) -> None:
    answered, out = _curve_node(tmp_path, "agents", authorize=True)
    assert answered == set(SPECIALISTS), out
    # a key the node does not know; the agents above answered within about a second
    answered, out = _curve_node(tmp_path, "agents", authorize=False, wait_s=6)
    assert answered == set()
    assert "exited with status 3" in out, out  # each agent said why and is restarted with backoff


def test_run_without_the_client_key_gets_nothing(tmp_path: Path) -> None:
    answered, out = _curve_node(tmp_path, None, authorize=True, wait_s=6)
    assert answered == set()
    assert "exited with status 3" in out


def test_pretrain(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "states"
    p = _cli("pretrain", "--data", str(log), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "hit rate" in p.stdout and "order_flow" in p.stdout
    policies = {n: OnlinePolicy(s) for n, s in SPECIALISTS.items()}
    assert all("loaded" in n for n in load_states(policies, out))
    assert min(pol.updates for pol in policies.values()) > 0
    weights = json.loads((out / "coordinator.json").read_text())["weights"]
    assert set(weights) == set(SPECIALISTS) and sum(weights.values()) == pytest.approx(1.0)

    assert "also an input" in one_line_error(_cli("pretrain", "--data", str(log), "--out", str(log)))
    assert "--from" in one_line_error(_cli("pretrain", "--data", str(log), "--out", str(out), "--from",
                                            str(out)))
    assert "no such file" in one_line_error(_cli("pretrain", "--data", str(tmp_path / "nope.qtlog"),
                                                  "--out", str(tmp_path / "x")))

    (out / "liquidity.json").write_text("{corrupt")
    again = tmp_path / "again"
    line = one_line_error(_cli("pretrain", "--data", str(log), "--out", str(again), "--from", str(out)))
    assert "liquidity.json" in line and "--fresh-agents" in line
    assert not again.exists()
    p = _cli("pretrain", "--data", str(log), "--out", str(again), "--from", str(out), "--fresh-agents")
    assert p.returncode == 0, p.stderr
    # --from is an input: only read, the corrupt file left where it was; the agent started fresh
    assert not list(out.glob("liquidity.json.corrupt-*"))
    assert (out / "liquidity.json").read_text() == "{corrupt"
    assert (again / "liquidity.json").exists()
