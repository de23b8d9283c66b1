"""The kill switch file.

A file whose mere presence means "stop trading": the runner polls
:meth:`KillSwitch.triggered` and, when it returns a reason, kills the risk
engine (entries denied, only flatten orders pass), cancels every working
order and flattens.  The file can be written by :meth:`KillSwitch.trigger`
(the CLI's kill command) or by hand (``touch``): its content, JSON
``{"why": ..., "at_utc": ...}`` when written here, is only the reason shown;
an empty or unreadable file still counts as triggered.  Written atomically
(aside, then renamed) so a poll never sees half a file; :meth:`clear`
removes it (the switch stays off until then, across restarts)."""

from __future__ import annotations

import datetime as dt
import json
import os
from contextlib import suppress
from pathlib import Path

from quantumtrader.output_path import OutputPathError, atomic_output

__all__ = ["KillSwitch", "KillSwitchError"]


class KillSwitchError(ValueError):
    """The kill switch file cannot be written (one line)."""


class KillSwitch:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def trigger(self, why: str) -> None:
        """Write the file (atomically) with ``why``; KillSwitchError (one
        line) when it cannot be written."""
        body = {"why": str(why) or "kill switch", "at_utc": dt.datetime.now(dt.UTC).isoformat()}
        try:
            with atomic_output(self.path) as tmp:
                tmp.write_text(json.dumps(body) + "\n", encoding="utf-8")
        except OutputPathError as e:  # its text names --out, a flag the caller may not have
            folder = self.path.parent
            if self.path.is_dir():
                why_not = "is a folder"
            elif not folder.is_dir():
                why_not = f"folder {folder} does not exist"
            else:
                why_not = f"folder {folder} is not writable"
            raise KillSwitchError(f"kill switch file {self.path}: {why_not}") from e
        except OSError as e:
            raise KillSwitchError(f"kill switch file {self.path}: {e.strerror or e}") from None

    def triggered(self) -> str | None:
        """The reason when the file exists, else None."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except FileNotFoundError:
            return None
        except OSError as e:  # present but unreadable: still a kill
            return f"kill switch file {self.path} ({e.strerror or e})"
        try:
            why = json.loads(text).get("why") if text.startswith("{") else None
        except (ValueError, AttributeError):
            why = None
        return str(why) if why else (text.splitlines()[0][:200] if text else f"kill switch file {self.path}")

    def clear(self) -> None:
        """Remove the file (nothing happens when it is absent)."""
        with suppress(FileNotFoundError):
            self.path.unlink()
