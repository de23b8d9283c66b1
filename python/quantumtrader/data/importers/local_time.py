"""Exchange local time -> UTC through the tz database.

Offsets are computed per (date, local hour): every transition of the zones
we import (America/Sao_Paulo, America/New_York) falls on a whole hour, so
one offset holds for a whole local hour and the parsers convert a row with
one table look-up.  An ambiguous local time (the hour repeated when DST
ends) takes the earlier reading (``fold=0``, the DST offset); a local time
that does not exist (skipped when DST starts) takes the offset in force
before the jump, as PEP 495 defines for ``fold=0``."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

NS_PER_S = 1_000_000_000


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def hourly_utc_offsets(yyyymmdd: int, zone: str) -> tuple[int, ...]:
    """UTC offsets in seconds (``utc = local - offset``) of the 24 local
    hours of a date; -10800 for São Paulo without DST."""
    tz = _zone(zone)
    y, m, d = yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100
    out = []
    for h in range(24):
        off = datetime(y, m, d, h, tzinfo=tz).utcoffset()
        assert off is not None
        out.append(int(off.total_seconds()))
    return tuple(out)


def local_midnight_epoch_s(yyyymmdd: int) -> int:
    """Seconds from 1970-01-01 to the date's midnight, reading the local
    wall clock as if it were UTC (the offset is applied separately)."""
    y, m, d = yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100
    return (datetime(y, m, d) - datetime(1970, 1, 1)).days * 86400


def local_to_utc_ns(yyyymmdd: int, ns_after_midnight: int, zone: str) -> int:
    """One local wall-clock time -> UTC ns (same rules as the parsers)."""
    hour = ns_after_midnight // (3600 * NS_PER_S)
    offsets = hourly_utc_offsets(yyyymmdd, zone)
    return (local_midnight_epoch_s(yyyymmdd) - offsets[min(hour, 23)]) * NS_PER_S + ns_after_midnight
