"""Where a command writes its output, and how.

The rules every command follows (README, "CLI reference"):
- no command overwrites one of its own inputs: ``--out`` naming an input
  file (the same file by any path, hard links included) is refused before
  anything is read;
- an output folder that does not exist or cannot be written is refused up
  front, with a one-line message, not a traceback after minutes of work;
- the output is written aside (a hidden sibling ``.NAME.partial-XXXX``) and
  renamed over ``--out`` only when complete, so an existing file is replaced
  atomically or not at all, and an interrupted or failed job (Ctrl-C, an
  error, a job that produced nothing) leaves no file that looks finished.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_interrupted = False


def note_interrupt() -> None:
    """Ctrl-C was pressed (the CLI's SIGINT handler calls this before it
    raises KeyboardInterrupt).  CPython drops an exception raised inside a
    finalizer (``__del__``, a GC callback), so the KeyboardInterrupt alone
    can be lost mid-job; the note is not, and atomic_output then refuses to
    put the output in place."""
    global _interrupted
    _interrupted = True


def clear_interrupt() -> None:
    """A new job starts (the CLI's main, called again in one process)."""
    global _interrupted
    _interrupted = False


class OutputPathError(ValueError):
    """``--out`` cannot be used (names an input, folder missing or read-only)."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """``out`` as a Path, or OutputPathError saying why it cannot be written."""
    path = Path(out)
    for src in inputs:
        if _same_file(path, Path(src)):
            raise OutputPathError(f"--out {out} is also an input: choose another output file")
    if path.is_dir():
        raise OutputPathError(f"--out {out} is a folder: give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"--out {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"--out {out}: folder {folder} is not writable")
    return path


def partial_path(out: str | os.PathLike[str]) -> Path:
    """A fresh hidden sibling of ``out`` to write into before the rename."""
    path = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.partial-", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    return Path(tmp)


def is_output_error(exc: BaseException, out: str | os.PathLike[str]) -> bool:
    """Whether ``exc`` is an OSError about writing ``out`` or its partial
    file, so that a message names ``out`` and not the hidden partial."""
    name = getattr(exc, "filename", None)
    if not isinstance(exc, OSError) or name is None:
        return False
    failed, path = Path(os.path.abspath(os.fsdecode(name))), Path(os.path.abspath(out))
    partial = failed.parent == path.parent and failed.name.startswith(f".{path.name}.partial-")
    return failed == path or partial


def commit_partial(partial: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Put a complete partial file in place of ``out`` (one rename), unless
    a Ctrl-C was noted: then KeyboardInterrupt, and the caller removes it."""
    if _interrupted:
        raise KeyboardInterrupt
    os.replace(partial, out)


@contextmanager
def atomic_output(
    out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()
) -> Iterator[Path]:
    """Check ``out`` (see check_output), yield a partial path to write, and
    rename it over ``out`` when the block ends normally.  On any exception,
    KeyboardInterrupt included, the partial file is removed and ``out`` is
    left as it was; so it is after a Ctrl-C that note_interrupt() recorded
    but whose KeyboardInterrupt was lost.  A block that decides its output
    is worthless raises (e.g. an EmptyOutputError of its own) rather than
    returning."""
    path = check_output(out, inputs)
    tmp = partial_path(path)
    try:
        yield tmp
        commit_partial(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def folder_problem(out: str | os.PathLike[str], flag: str = "--out") -> str | None:
    """Why ``out`` cannot be a command's output folder (created when
    missing), in one line naming ``flag``, or None.  Checked before any work:
    the folder, or its nearest existing parent, must be a writable folder."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        return f"{flag} {out} is a file: give a folder"
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{flag} {out}: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{flag} {out}: folder {existing} is not writable"
    return None
