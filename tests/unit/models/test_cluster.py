"""TaskRunner: a two-worker local Dask cluster gives exactly the serial
results, in input order; a task's exception reaches the caller with its type
and message; an unreachable ``--cluster`` is one line; and no worker process
outlives the block, whether it ends normally, by an exception or by Ctrl-C
(SIGINT to the whole process group, as a terminal sends it, and no
traceback from the workers).

The functions run on the workers are module-level (they are pickled by
reference, as the training code's are)."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import pytest

from quantumtrader.models.cluster import ClusterError, TaskRunner


def spectrum(seed: int, *, matrix: np.ndarray, delay_s: float = 0.0) -> np.ndarray:
    """Real numpy work that depends only on its inputs: the singular values
    of the shared matrix times a seeded random one."""
    time.sleep(delay_s)
    rng = np.random.default_rng(seed)
    return np.linalg.svd(matrix @ rng.standard_normal((matrix.shape[1], 40)), compute_uv=False)


def late_first(index: int) -> tuple[int, int]:
    """Earlier items finish later, so completion order is not input order."""
    time.sleep(0.05 * (4 - index))
    return index, os.getpid()


class PlantedError(ValueError):
    pass


def fail_on_three(item: int) -> int:
    if item == 3:
        raise PlantedError(f"item {item}: bad barrier width 0")
    return item


def _worker_processes() -> list[psutil.Process]:
    """This process's children that are Dask workers (not multiprocessing's
    resource tracker, which lives as long as this process)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def _assert_gone(processes: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(processes, timeout=5)
    assert [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


@pytest.fixture(scope="module")
def local() -> Iterator[TaskRunner]:
    with TaskRunner(workers=2) as runner:
        yield runner


@pytest.fixture(scope="module")
def matrix() -> np.ndarray:
    return np.random.default_rng(7).standard_normal((300, 200))


def test_two_workers_match_serial(local: TaskRunner, matrix: np.ndarray) -> None:
    seeds = list(range(8))
    with TaskRunner(serial=True) as serial:
        expected = serial.map(spectrum, seeds, shared={"matrix": matrix}, desc="serial")
    got = local.map(spectrum, seeds, shared={"matrix": matrix}, desc="local")
    assert len(got) == len(expected) == 8
    for a, b in zip(got, expected, strict=True):
        assert np.array_equal(a, b)
    # not all equal to each other: the seeds matter, so the comparison means something
    assert not np.array_equal(got[0], got[1])


def test_results_in_input_order_from_both_workers(local: TaskRunner) -> None:
    got = local.map(late_first, range(5), desc="order")
    assert [index for index, _ in got] == [0, 1, 2, 3, 4]
    assert os.getpid() not in {pid for _, pid in got}  # ran in worker processes


def test_equal_items_are_not_deduplicated(local: TaskRunner, matrix: np.ndarray) -> None:
    got = local.map(spectrum, [5, 5, 5], shared={"matrix": matrix}, desc="dup")
    assert len(got) == 3 and all(np.array_equal(g, got[0]) for g in got)


@pytest.mark.parametrize("serial", [True, False])
def test_task_exception_keeps_type_and_message(local: TaskRunner, serial: bool) -> None:
    runner = TaskRunner(serial=True) if serial else local
    with pytest.raises(PlantedError, match=r"^item 3: bad barrier width 0$"):
        runner.map(fail_on_three, range(6), desc="fail")
    # the runner is still usable after a failed map
    assert runner.map(fail_on_three, [1, 2], desc="again") == [1, 2]


def test_serial_runs_in_process_with_shared_keywords(matrix: np.ndarray) -> None:
    with TaskRunner(serial=True) as runner:
        assert runner.map(late_first, [4], desc="s") == [(4, os.getpid())]
        assert runner.map(spectrum, [], shared={"matrix": matrix}, desc="none") == []
        assert runner.kind == "serial"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_cluster_is_one_line_naming_the_flag() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(ClusterError) as info, TaskRunner(address, timeout_s=1.0) as runner:
        runner.map(fail_on_three, [1], desc="remote")
    message = str(info.value)
    assert message.startswith(f"--cluster {address}: ") and "\n" not in message
    assert time.monotonic() - started < 8


def running_sum(seed: int, *, scale: float) -> np.ndarray:
    """Numpy work without BLAS (thread-count independent)."""
    return np.random.default_rng(seed).standard_normal(10_000).cumsum() * scale


def test_existing_cluster_by_address_is_used_and_left_running() -> None:
    """--cluster ADDRESS: the tasks run on that scheduler's workers (here a
    threaded one, fast to start); leaving the block closes only our
    connection, not the user's cluster."""
    import distributed

    with distributed.LocalCluster(n_workers=1, processes=False, protocol="tcp://", dashboard_address=None,
                                  host="127.0.0.1", scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}
                                  ) as theirs, distributed.Client(theirs, set_as_default=False) as watcher:
        with TaskRunner(theirs.scheduler_address) as runner:
            assert runner.kind == "remote"
            got = runner.map(running_sum, [1, 2], shared={"scale": 0.5}, desc="remote")
        with TaskRunner(serial=True) as serial:
            expected = serial.map(running_sum, [1, 2], shared={"scale": 0.5}, desc="serial")
        assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
        assert len(watcher.scheduler_info()["workers"]) == 1  # still up


@pytest.mark.parametrize("address", ["not an address", "tcp://host", "http//x:1"])
def test_malformed_address_refused_up_front(address: str) -> None:
    with pytest.raises(ClusterError, match=r"^--cluster .*expected tcp://HOST:PORT\)$"):
        TaskRunner(address)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="not both"):
        TaskRunner("tcp://127.0.0.1:8786", serial=True)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        TaskRunner(workers=0)


def test_no_processes_before_the_first_map() -> None:
    before = {p.pid for p in _worker_processes()}
    with TaskRunner(workers=2):
        assert {p.pid for p in _worker_processes()} == before


def test_workers_stop_when_a_task_fails() -> None:
    before = {p.pid for p in _worker_processes()}
    with pytest.raises(PlantedError), TaskRunner(workers=2) as runner:
        runner.map(late_first, range(2), desc="warm")
        workers = [p for p in _worker_processes() if p.pid not in before]
        assert len(workers) >= 2
        runner.map(fail_on_three, range(5), desc="fail")
    _assert_gone(workers)


CTRL_C_SCRIPT = """
import sys, time
from quantumtrader.models.cluster import TaskRunner

def nap(item):
    time.sleep(30)
    return item

if __name__ == "__main__":
    try:
        with TaskRunner(workers=2) as runner:
            runner.map(abs, [1, 2], desc="warm")
            print("running", flush=True)
            runner.map(nap, range(4), desc="long")  # 30 s per task unless interrupted
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
"""


def test_ctrl_c_on_a_terminal_stops_everything_quietly(tmp_path: Path) -> None:
    """Ctrl-C on a terminal sends SIGINT to the whole foreground process
    group: the workers leave it to the caller (no traceback from them), the
    caller gets KeyboardInterrupt and the block stops every worker."""
    script = tmp_path / "ctrl_c.py"
    script.write_text(CTRL_C_SCRIPT)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "running\n"
        workers = [p for p in psutil.Process(child.pid).children(recursive=True)
                   if "resource_tracker" not in " ".join(p.cmdline())]
        assert len(workers) == 2
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert (child.returncode, out, err) == (130, "interrupted\n", "")
    _assert_gone(workers)


@pytest.mark.parametrize("serial", [True, False])
def test_progress_bar_counts_items_on_a_terminal(
    local: TaskRunner, monkeypatch: pytest.MonkeyPatch, serial: bool
) -> None:
    from rich.console import Console

    from quantumtrader import progress

    screen = io.StringIO()
    monkeypatch.setattr(progress, "progress_console",
                        lambda: Console(file=screen, force_terminal=True, width=120))
    runner = TaskRunner(serial=True) if serial else local
    assert runner.map(fail_on_three, [0, 1, 2], desc="features per log") == [0, 1, 2]
    drawn = screen.getvalue()
    assert "features per log" in drawn and "3/3" in drawn
