"""Where independent pieces of training work run: on Dask distributed.

Feature extraction per log and the configurations of a sweep are
independent tasks.  ``TaskRunner`` runs a function over a list of items and
returns the results in input order, whichever of three places does the work:

- ``TaskRunner()`` (no address): a local Dask cluster of ``workers``
  single-threaded worker *processes* (``distributed.LocalCluster``, no
  dashboard, bound to 127.0.0.1, its logs silenced: a failed task is
  re-raised in the caller instead), started lazily on the first ``map``
  (a run that fails before any work starts no processes) and closed when
  the ``with`` block ends, normally, on an exception or on Ctrl-C: no
  worker process outlives the block (a task still running is given Dask's
  grace period of about 4 s to stop, then its process is killed);
- ``TaskRunner("tcp://HOST:PORT")``: an existing Dask scheduler (the CLI's
  ``--cluster ADDRESS``), connected to within ``timeout_s`` seconds or
  refused with a one-line ``ClusterError`` naming ``--cluster``; the
  cluster is the user's and is left running, only the client is closed.
  Its workers must have the same ``quantumtrader`` installed (functions
  travel by reference to their module);
- ``TaskRunner(serial=True)``: in this process, one item after the other,
  the reference every distributed run must reproduce exactly.

Contract of ``map(fn, items, shared=..., desc=...)``: ``fn(item, **shared)``
is called once per item (``fn`` must be a module-level function: it is
pickled); the list of results is in the order of ``items``, whatever order
the tasks finish in, and bit for bit the same wherever they ran: a task
runs with one thread per BLAS/OpenMP pool everywhere (Dask's nanny-started
workers, ours and ``dask worker``'s by default, set
OMP/MKL/OPENBLAS_NUM_THREADS=1 before they start; the serial runner limits
its pools with threadpoolctl while it runs; a cluster whose workers use
threaded BLAS can differ in the last bits of BLAS results).  ``shared``
holds large read-only objects (a feature table, a dataset) sent to every
worker once (``client.scatter(..., broadcast=True)``) instead of once per
task.  A task that raises makes
``map`` raise the same exception type with the same message in the caller
(the remaining tasks are cancelled; with several failures, the first one
noticed: in input order when serial).  Tasks are never deduplicated: two
equal items run twice.  A progress bar (``progress.progress_bar``) counts
finished items on a terminal.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, Self

from quantumtrader.progress import progress_bar

__all__ = ["ClusterError", "TaskRunner"]

# scheme://host:port or host:port (Dask's own default scheme is tcp)
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):\d{1,5}$")


class ClusterError(RuntimeError):
    """The Dask cluster cannot be used (unreachable address, bad address);
    the message is one line and names ``--cluster``."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """SIGINT ignored while the worker processes start, so that they are
    born ignoring it (an ignored signal stays ignored across exec, and
    Python then installs no KeyboardInterrupt handler): Ctrl-C on a
    terminal reaches the whole process group, and the workers must leave it
    to this process, which stops them, instead of each printing a
    traceback.  A Ctrl-C during these seconds of start-up is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change handlers (and only it gets SIGINT)
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


class TaskRunner:
    """Runs ``fn`` over items on Dask distributed or in process (see the
    module docstring for the contract).  Use it as a context manager; the
    local cluster or the connection is closed when the block ends."""

    def __init__(
        self,
        cluster: str | None = None,
        workers: int = 2,
        serial: bool = False,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        if serial and cluster is not None:
            raise ValueError("a serial run uses no cluster: give serial=True or a cluster address, not both")
        if not serial and cluster is None and workers < 1:
            raise ValueError(f"workers must be >= 1, not {workers}")
        if cluster is not None and not _ADDRESS.match(cluster):
            raise ClusterError(f"--cluster {cluster}: not a scheduler address (expected tcp://HOST:PORT)")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, not {timeout_s}")
        self.address = cluster
        self.workers = workers
        self.serial = serial
        self.timeout_s = timeout_s
        self._cluster: Any = None  # distributed.LocalCluster we started, if any
        self._client: Any = None  # distributed.Client, once connected

    @property
    def kind(self) -> str:
        """"serial", "local" (a LocalCluster of ours) or "remote" (``--cluster``)."""
        if self.serial:
            return "serial"
        return "local" if self.address is None else "remote"

    def __repr__(self) -> str:
        if self.kind == "remote":
            return f"TaskRunner({self.address})"
        return "TaskRunner(in process)" if self.serial else f"TaskRunner({self.workers} local workers)"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -------------------------------------------------------------- lifecycle

    def _connect(self) -> Any:
        """The Dask client, starting the local cluster or connecting on first use."""
        if self._client is not None:
            return self._client
        import distributed

        if self.address is None:
            with _children_ignore_ctrl_c():
                cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    host="127.0.0.1",
                    silence_logs=logging.CRITICAL,  # a failed task is re-raised in the caller instead
                    # no dashboard; the scheduler's health/metrics HTTP server on
                    # a free loopback port, not 8787 (another run may hold it)
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                )
            self._cluster = cluster
            try:
                self._client = distributed.Client(cluster, set_as_default=False)
            except BaseException:
                self.close()
                raise
            return self._client
        try:
            self._client = distributed.Client(self.address, timeout=self.timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(
                f"--cluster {self.address}: no Dask scheduler answered within {self.timeout_s:g} s "
                f"({_first_line(exc)})"
            ) from None
        return self._client

    def close(self) -> None:
        """Close the client and the local cluster we started (idempotent).
        Errors while closing are not raised: they would hide the exception
        that ended the block, and the cluster's close kills its workers."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # "connection closed" chatter while shutting down
        try:
            if client is not None:
                with suppress(Exception):
                    client.close()
            if cluster is not None:
                with suppress(Exception):
                    cluster.close()
        finally:
            quiet.setLevel(level)

    # -------------------------------------------------------------------- work

    def map(
        self,
        fn: Callable[..., Any],
        items: Iterable[Any],
        *,
        shared: dict[str, Any] | None = None,
        desc: str,
    ) -> list[Any]:
        """``[fn(item, **shared) for item in items]``, run where this runner
        runs; results in input order; a task's exception re-raised here."""
        todo = list(items)
        extra = dict(shared or {})
        if not todo:
            return []
        if self.serial:
            return self._map_serial(fn, todo, extra, desc)
        return self._map_distributed(fn, todo, extra, desc)

    @staticmethod
    def _map_serial(fn: Callable[..., Any], todo: list[Any], extra: dict[str, Any], desc: str) -> list[Any]:
        from threadpoolctl import threadpool_limits

        results = []
        # one BLAS/OpenMP thread, as on Dask's workers (their pre-spawn
        # environment): a threaded BLAS sums in another order, and the serial
        # reference must match the cluster to the last bit
        with threadpool_limits(limits=1), progress_bar(desc, total=len(todo), unit="items") as show:
            for item in todo:
                results.append(fn(item, **extra))
                show(len(results))
        return results

    def _map_distributed(
        self, fn: Callable[..., Any], todo: list[Any], extra: dict[str, Any], desc: str
    ) -> list[Any]:
        import distributed

        client = self._connect()
        # one object per name; wrapped in a list so that a shared list or
        # dict travels whole instead of being scattered element by element
        scattered = {name: client.scatter([value], broadcast=True)[0] for name, value in extra.items()}
        futures = [client.submit(fn, item, pure=False, **scattered) for item in todo]
        try:
            with progress_bar(desc, total=len(futures), unit="items") as show:
                for done, future in enumerate(distributed.as_completed(futures, loop=client.loop), start=1):
                    if future.status == "error":
                        future.result()  # raises the task's own exception (type and message)
                    show(done)
            return [future.result() for future in futures]
        finally:
            # on an error or Ctrl-C nothing keeps running on the workers
            pending = [future for future in futures if not future.done()]
            if pending:
                with suppress(Exception):
                    client.cancel(pending)
            with suppress(Exception):
                client.cancel(list(scattered.values()))
