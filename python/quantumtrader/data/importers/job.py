"""An import job (``quantumtrader import {profit-csv,binance,lobster}``): run
an importer, write its events into an event log with a progress bar, print a
summary (:func:`write_import_log`); broker dictionaries shared by imports.

The log is written aside and renamed over ``--out`` only when the import
succeeded (``quantumtrader.output_path``): ``--out`` never names an input,
and a failed or interrupted import leaves no log (an existing one is kept).
An import fails when it has no trade and no book event, or when it loses
more than ``--max-bad-share`` of its data rows (default 0.1 %: bad rows,
not counting rows of another ticker than the one imported); a few bad rows
are reported and skipped.

Exit status: 0 when the import completed, 2 when an input cannot be read or
an argument is wrong (nothing read yet), 1 when the import failed (nothing
written)."""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Protocol

import numpy as np

from quantumtrader.data.importers.log_header import LogHeaderFields
from quantumtrader.data.importers.stats import DEFAULT_MAX_BAD_SHARE, DESELECTED_REASONS, ImportStats
from quantumtrader.output_path import OutputPathError, atomic_output, is_output_error
from quantumtrader.progress import progress_bar

PROG = "quantumtrader import"
# what a bad or unreadable input raises: reported as a message, never a traceback
INPUT_ERRORS = (OSError, EOFError, ValueError, zlib.error)


class Importer(Protocol):
    stats: ImportStats

    def header(self) -> LogHeaderFields: ...

    def events(self, progress: Callable[[int, int], None] | None = None) -> Iterator[np.ndarray]: ...


def describe_error(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename and e.strerror:
        return f"{e.filename}: {e.strerror}"
    return str(e)


def print_error(msg: str | BaseException) -> None:
    print(f"{PROG}: error: {msg if isinstance(msg, str) else describe_error(msg)}", file=sys.stderr)


def read_agent_dictionary(path: str) -> list[str]:
    """A broker dictionary file: a JSON list of names (index = id) or an
    object name -> id with ids 0..n-1."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list) and all(isinstance(n, str) for n in data):
        return data
    if isinstance(data, dict) and all(isinstance(n, str) and isinstance(i, int) for n, i in data.items()):
        names = sorted(data, key=data.__getitem__)
        if [data[n] for n in names] != list(range(len(names))):
            raise ValueError(f"{path}: broker ids must be 0..{len(names) - 1}, each once")
        return names
    raise ValueError(f"{path}: expected a JSON list of broker names or an object name -> id")


def write_agent_dictionary(path: str, names: list[str]) -> None:
    """Replace ``path`` atomically with the dictionary as a JSON list."""
    with atomic_output(path) as partial, open(partial, "w", encoding="utf-8") as f:
        json.dump(names, f, ensure_ascii=False, indent=0)
        f.write("\n")


class ImportFailed(Exception):
    """The import ran but its result is not worth a log (see the module doc)."""


def import_verdict(stats: ImportStats, max_bad_share: float, hint: str = "") -> str | None:
    """Why the import failed, or None when its log may be kept; ``hint``
    (what to check) follows the reason of too many bad rows."""
    if stats.trades == 0 and stats.book_events == 0:
        return f"no trade and no book event in {stats.rows:,} data rows"
    if stats.lost_share > max_bad_share:
        lost = {r: n for r, n in stats.bad_by_reason.items() if r not in DESELECTED_REASONS}
        worst = max(lost.items(), key=lambda kv: kv[1])
        return (
            f"{stats.lost_rows:,} of {stats.rows:,} data rows are bad ({stats.lost_share:.2%}, more than the "
            f"{max_bad_share:.2%} of --max-bad-share), most of them {worst[0]}{hint}"
        )
    return None


def write_import_log(
    title: str,
    importer: Importer,
    out: str,
    agents: list[str] | None,
    inputs: list[str],
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
    hint: str = "",
) -> int:
    """Import into ``out`` (written aside, renamed when the import succeeded).
    ``hint`` is added to the message of an import that lost too many rows."""
    from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter

    fields = importer.header()
    header = EventLogHeader(**asdict(fields), agents=list(agents or []))
    try:
        with progress_bar(title, None, unit="bytes") as show, atomic_output(out, inputs) as partial:
            with EventLogWriter(partial, header) as writer:
                for chunk in importer.events(show):
                    writer.append(chunk)
                if agents is not None:
                    writer.set_agents(agents)
            why = import_verdict(importer.stats, max_bad_share, hint)
            if why is not None:
                raise ImportFailed(why)
    except OutputPathError as e:
        print_error(e)
        return 2
    except ImportFailed as e:
        _print_summary(f"{title}: failed", importer.stats)  # what was found; stderr: one line
        print_error(f"{title}: {e}: nothing written to {out}")
        return 1
    except INPUT_ERRORS as e:
        if is_output_error(e, out):  # the partial file's name would mean nothing to a user
            print_error(f"cannot write {out}: {e.strerror or e}")
        else:
            print_error(f"{describe_error(e)}: nothing written to {out}")
        return 1
    _print_summary(f"{title} -> {out}", importer.stats)
    return 0


def _print_summary(heading: str, stats: ImportStats) -> None:
    print(heading)
    for line in stats.summary_lines():
        print(f"  {line}")
