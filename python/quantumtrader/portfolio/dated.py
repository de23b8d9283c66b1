"""Dated entries, the shape the fee and tax tables share: a TOML array of
tables, each with a ``from`` date and fixed keys, applying from its date
until the next entry's.  One place checks the rows (one-line errors naming
the file and the row) and finds the entry in force on a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

__all__ = ["Dated", "dated_entries", "in_force"]


class Dated(Protocol):
    @property
    def valid_from(self) -> dt.date: ...


T = TypeVar("T", bound=Dated)


def dated_entries(rows: list[Any], *, origin: str, where: str, keys: tuple[str, ...],
                  error: Callable[[str], Exception], build: Callable[[dt.date, dict[str, Any], str], T]
                  ) -> list[T]:
    """``build(from, row, "where[i]")`` of every row (an entry whose
    ``valid_from`` is ``from``), oldest first.
    Each row must be a table of exactly ``from`` and ``keys`` with ``from`` a
    date; two rows of one date are refused.  ``build`` checks its values."""
    out = []
    names = ", ".join(keys[:-1]) + (" and " if len(keys) > 1 else "") + keys[-1]
    for i, row in enumerate(rows):
        at = f"{where}[{i}]"
        if not isinstance(row, dict) or set(row) != {"from", *keys}:
            raise error(f"{origin}: {at}: needs exactly from, {names}")
        if not isinstance(row["from"], dt.date) or isinstance(row["from"], dt.datetime):
            raise error(f"{origin}: {at}.from: must be a date YYYY-MM-DD")
        out.append(build(row["from"], row, at))
    out.sort(key=lambda e: e.valid_from)
    if len({e.valid_from for e in out}) != len(out):
        raise error(f"{origin}: {where}: two entries from the same date")
    return out


def in_force(entries: Sequence[T], on: dt.date) -> T | None:
    """The entry applying on ``on`` (the latest from on or before it), or None."""
    valid = [e for e in entries if e.valid_from <= on]
    return valid[-1] if valid else None
