"""Running the real ``quantumtrader`` command the way a user does: in a
subprocess interrupted by a real SIGINT mid-job, or with stderr on a
terminal (a pseudo-terminal) to see its progress bar."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quantumtrader.data.eventlog import DEFAULT_HEADER_SIZE

COMMAND = [sys.executable, "-m", "quantumtrader"]


def one_line_error(p: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The one line a command printed for bad input (checked: that exit status, no traceback)."""
    assert p.returncode == code, (p.returncode, p.stderr[-2000:])
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, p.stderr
    return lines[0]


def partial_files(out: Path) -> list[Path]:
    """The hidden partial files of ``out`` (output_path.atomic_output)."""
    return sorted(out.parent.glob(f".{out.name}.partial-*"))


def interrupt_mid_job(argv: list[str], out: Path, timeout: float = 120.0) -> tuple[int, str]:
    """Start the command, wait until it has written records (to its partial
    file, or to ``out`` itself as a command without atomic output would),
    send SIGINT; its exit status and stderr."""
    proc = subprocess.Popen([*COMMAND, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    try:
        while True:
            sizes = []
            for p in [out, *partial_files(out)]:
                with contextlib.suppress(FileNotFoundError):  # not yet there, or gone since the glob
                    sizes.append(p.stat().st_size)
            if any(size > DEFAULT_HEADER_SIZE for size in sizes):
                break
            if proc.poll() is not None:
                pytest.fail(f"the job ended (status {proc.returncode}) before it could be interrupted: "
                            f"{proc.stderr.read() if proc.stderr else ''}")
            if time.monotonic() > deadline:
                pytest.fail("the job wrote no records in time")
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def run_on_a_terminal(argv: list[str], timeout: float = 120.0) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; exit status and what it showed."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*COMMAND, *argv], stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side closed (the process ended)
                break
            if not chunk:
                break
            shown += chunk
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, shown.decode("utf-8", "replace")


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (read-only mode; for
    root, who ignores modes, a sysfs folder)."""
    if os.geteuid() == 0:
        sysfs = Path("/sys/kernel")
        if not sysfs.is_dir():
            pytest.fail("running as root without /sys: no folder is unwritable here")
        return sysfs
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder
