"""Ctrl-C in ``quantumtrader import`` (a real SIGINT to the running command)
ends it with one line and exit status 130 and leaves no log that looks
finished: no new file, an existing log untouched, no partial file.  The
progress bar shows on a terminal and not in a log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from command_support import COMMAND, interrupt_mid_job, partial_files, run_on_a_terminal

TRADE = ('{"stream":"ethusdt@trade","data":{"e":"trade","E":%d,"T":%d,"s":"ETHUSDT","t":%d,'
         '"p":"2654.%02d","q":"0.010","X":"MARKET","m":false}}')  # fmt: skip


def trade_capture(path: Path, lines: int) -> Path:
    """A Binance capture of ``lines`` trades: the importer reads it in seconds."""
    t0 = 1723161255000
    with path.open("w") as f:
        f.writelines(f"{(t0 + i) * 1_000_000} " + TRADE % (t0 + i, t0 + i, i + 1, i % 100) + "\n"
                     for i in range(lines))  # fmt: skip
    return path


def test_sigint_mid_import_exits_130_and_leaves_no_log(tmp_path):
    src = trade_capture(tmp_path / "cap.txt", 200_000)
    out = tmp_path / "cap.qtlog"
    status, err = interrupt_mid_job(["import", "binance", str(src), "--out", str(out)], out)
    assert status == 130
    assert err.strip() == "quantumtrader: interrupted", err
    assert not out.exists() and partial_files(out) == []


def test_sigint_mid_import_keeps_the_previous_log(tmp_path):
    src = trade_capture(tmp_path / "cap.txt", 200_000)
    out = tmp_path / "cap.qtlog"
    out.write_bytes(b"the log of yesterday")
    status, _ = interrupt_mid_job(["import", "binance", str(src), "--out", str(out)], out)
    assert status == 130
    assert out.read_bytes() == b"the log of yesterday" and partial_files(out) == []


def test_progress_bar_on_a_terminal_only(tmp_path):
    src = trade_capture(tmp_path / "cap.txt", 100_000)
    status, shown = run_on_a_terminal(["import", "binance", str(src), "--out", str(tmp_path / "a.qtlog")])
    assert status == 0
    assert f"binance {src}" in shown and "MB" in shown  # the bar: title and bytes read
    quiet = subprocess.run([*COMMAND, "import", "binance", str(src), "--out", str(tmp_path / "b.qtlog")],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""
