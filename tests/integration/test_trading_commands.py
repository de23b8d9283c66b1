"""The trading commands as a user runs them (``quantumtrader paper``,
``backtest``, ``kill``, ``live``), each in a child process, on small
synthetic sessions: the happy path, what is written, and the bad input the
issue lists: a malformed config, an unknown model, an unpromoted model
without --allow-unvalidated, a venue that rejects everything, a feed that
stalls mid-session, Ctrl-C and the kill switch.  Errors are one line and no
traceback; the paper process carries no pandas, scikit-learn or XGBoost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from command_support import one_line_error

from quantumtrader.data.synth import write_synthetic_log

FAST = "20000"  # a 9-hour session in under 2 s of replay


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("trading-commands") / "wdo.qtlog"
    write_synthetic_log(log, 1, 51, 1.0, trades_per_day=1500)
    return log


def _cli(*args: str, timeout: float = 240, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quantumtrader", *args], capture_output=True, text=True,
                          timeout=timeout, **kw)


def test_paper_session_end_to_end(day: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    p = _cli("paper", "--replay", str(day), "--speed", FAST, "--out", str(run), "--no-dashboard")
    assert p.returncode == 0, p.stderr[-2000:]
    for name in ("report.json", "report.html", "equity.png", "drawdown.png", "latency.png"):
        assert (run / "report" / name).is_file()
    report = json.loads((run / "report" / "report.json").read_text())
    assert report["venue"] == "paper" and report["decisions"] > 0
    assert "tick_to_order" in p.stdout or "latency" in p.stdout.lower()
    assert (run / "journal.sqlite").is_file() and (run / "venue.state").is_file()


def test_paper_process_has_no_training_libraries(day: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from quantumtrader.cli import main\n"
        f"rc = main(['paper', '--replay', {str(day)!r}, '--speed', '{FAST}',"
        f" '--out', {str(tmp_path / 'r')!r}, '--no-dashboard'])\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'xgboost'})\n"
        "print('LOADED', ','.join(bad))\n"
        "sys.exit(rc)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "LOADED \n" in p.stdout or p.stdout.rstrip().endswith("LOADED"), p.stdout[-500:]


def test_backtest_writes_its_report(day: Path, tmp_path: Path) -> None:
    out = tmp_path / "bt"
    p = _cli("backtest", "--data", str(day), "--out", str(out), "--jobs", "1")
    assert p.returncode == 0, p.stderr[-2000:]
    html = (out / "report.html").read_text()
    assert "<img" in html and "http://" not in html and "https://" not in html
    assert (out / "days" / "2026-11-03" / "journal.sqlite").is_file()
    again = _cli("backtest", "--data", str(day), "--out", str(out))
    assert "not an empty folder" in one_line_error(again)


def test_malformed_config_is_one_line(day: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk]\nmax_position = -1\n")
    line = one_line_error(_cli("paper", "--replay", str(day), "--config", str(bad),
                                "--out", str(tmp_path / "r")))
    assert "bad.toml" in line and "[risk]" in line and "max_position" in line
    bad.write_text("[risk\n")
    assert "not valid TOML" in one_line_error(_cli("backtest", "--data", str(day), "--config", str(bad),
                                                    "--out", str(tmp_path / "b")))
    bad.write_text("[signals]\n")
    line = one_line_error(_cli("paper", "--config", str(bad), "--out", str(tmp_path / "r2")))
    assert "unknown section" in line


def test_unknown_model_is_one_line(day: Path, tmp_path: Path) -> None:
    line = one_line_error(_cli("paper", "--replay", str(day), "--model", str(tmp_path / "nope"),
                                "--out", str(tmp_path / "r")))
    assert "no model bundle" in line


def test_unpromoted_model_needs_allow_unvalidated(day: Path, tmp_path: Path) -> None:
    from quantumtrader.models.bundle import ModelBundle, default_bundle_dir

    model = tmp_path / "unpromoted"
    shutil.copytree(default_bundle_dir(), model, ignore=shutil.ignore_patterns("compiled"))
    ModelBundle.load(model).mark_promoted(False, {"passed": False, "failed": ["win_rate"]})
    line = one_line_error(_cli("paper", "--replay", str(day), "--model", str(model), "--out",
                                str(tmp_path / "r")))
    assert "--allow-unvalidated" in line
    p = _cli("paper", "--replay", str(day), "--model", str(model), "--allow-unvalidated", "--speed", FAST,
             "--out", str(tmp_path / "r2"), "--no-dashboard")
    assert p.returncode == 0, p.stderr[-2000:]


def test_venue_that_rejects_everything(day: Path, tmp_path: Path) -> None:
    """Every order refused by the broker: no fill, no position, the session
    runs to its end and says how many were rejected."""
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.paper import run_paper

    config = tmp_path / "eager.toml"
    # the model alone: this is about the venue, and an eager model sends orders from the start
    config.write_text("[signal]\nentry_threshold = 0.45\nmin_confidence = 0.0\n[agents]\nenabled = false\n")
    run = run_paper(tmp_path / "run", load_trading_config(str(config)), replay=day, speed=float(FAST),
                    on_started=lambda node: node.connection.dll.sim_reject_orders(0, 1.0, "no credit"))
    assert run.result.fills == 0 and run.result.round_trips == []
    assert run.result.orders > 0
    rejected = run.result.counters["execution"].get("rejected", 0)
    statuses = _rows(tmp_path / "run" / "journal.sqlite", "SELECT DISTINCT status FROM orders")
    assert rejected > 0 or statuses == [(8,)], (run.result.counters["execution"], statuses)


def _rows(db: Path, sql: str) -> list[tuple]:
    c = sqlite3.connect(db)
    try:
        return list(c.execute(sql))
    finally:
        c.close()


def test_feed_that_stalls_mid_session(day: Path, tmp_path: Path) -> None:
    """The market data stops for a while mid-session (the DLL's thread held):
    the risk engine sees the feed go stale and blocks entries; the session
    recovers and ends normally."""
    from quantumtrader.runners.config import load_trading_config
    from quantumtrader.runners.paper import run_paper

    config = tmp_path / "stale.toml"
    config.write_text("[risk]\nstale_after_s = 30.0\n")
    stale_seen: list[dict] = []

    def stall(node) -> None:
        def later() -> None:
            time.sleep(1.5)  # into the session: decisions have set the market clock
            node.connection.dll.sim_stall_callbacks(1500)  # 1.5 s at 2000x: 50 minutes of market
            for _ in range(12):
                time.sleep(0.1)
                stale_seen.append(node.risk.counters)
        import threading
        threading.Thread(target=later, daemon=True).start()

    run = run_paper(tmp_path / "run", load_trading_config(str(config)), replay=day, speed=2000.0,
                    on_started=stall)
    assert not run.interrupted
    assert any("stale" in str(c.get("feed_down")) or c.get("feed_down") for c in stale_seen) or any(
        "stale" in r for r in run.result.denials), (stale_seen[-1:], run.result.denials)


def _start_paper(day: Path, run: Path, speed: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "quantumtrader", "paper", "--replay", str(day), "--speed",
                             speed, "--out", str(run), "--no-dashboard"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_ctrl_c_flattens_and_reports(day: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    p = _start_paper(day, run, "200")
    deadline = time.monotonic() + 60
    while not (run / "journal.sqlite").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)
    p.send_signal(signal.SIGINT)
    _out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted" in err
    assert (run / "report" / "report.json").is_file()


def test_kill_command_flattens_a_running_session(day: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    p = _start_paper(day, run, "300")
    deadline = time.monotonic() + 60
    while not (run / "journal.sqlite").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)
    k = _cli("kill", str(run), "--reason", "test")
    assert k.returncode == 0, k.stderr
    _out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err[-2000:]
    report = json.loads((run / "report" / "report.json").read_text())
    assert report["counters"]["risk_state"] == "HALTED" or report["counters"]["risk"]["killed"]
    sent_after = _rows(run / "journal.sqlite", "SELECT COUNT(*) FROM orders WHERE purpose = 'entry' AND "
                                              "created_wall_ns > (SELECT MAX(created_wall_ns) FROM orders "
                                              "WHERE purpose = 'flatten')")
    assert sent_after in ([(0,)], [(None,)])
    assert _cli("kill", str(tmp_path / "missing")).returncode == 2


def test_live_without_a_dll_is_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "live.toml"
    cfg.write_text('[profitdll]\naccount_id = "123"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_PROFITDLL")}
    line = one_line_error(_cli("live", "--config", str(cfg), "--out", str(tmp_path / "r"), env=env))
    assert "[profitdll] library" in line
    p = _cli("live", "--out", str(tmp_path / "r"))
    assert p.returncode == 2 and "required: --config" in p.stderr and "Traceback" not in p.stderr


def test_an_out_that_cannot_be_a_folder_is_refused_before_any_work(day: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for args in (("paper", "--replay", str(day)), ("backtest", "--data", str(day))):
        line = one_line_error(_cli(*args, "--out", str(blocker / "run")))
        assert line.endswith(f"--out {blocker / 'run'}: {blocker} is a file, not a folder")
