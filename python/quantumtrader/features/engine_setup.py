"""The session parameters of a feature engine and the engine built from them.

By default the regular-session hours of every date come from the trading
calendar (B3 moves them) and the tick size from the event log header; explicit
hours (one pair for every date) and tick size override them, which is the
only way for instruments the calendar does not know (captures of other
markets).  The parameters go into every feature table's metadata: a model
records what it was trained with, and a mismatch at load can be reported."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from quantumtrader.calendar import EXCHANGE_TZ, CalendarError, TradingCalendar, default_calendar
from quantumtrader.qtcore.features import FeatureEngine, seconds_of_day, tz_transitions


class SessionSetupError(ValueError):
    """The engine cannot be configured as asked (unknown instrument, bad hours...)."""


@dataclass(frozen=True)
class SessionParameters:
    instrument: str
    price_unit: float
    tick_size: float
    qty_scale: float
    hours_source: str  # "calendar" or "option"
    default_open: str  # HH:MM:SS: every date with --session-open/--session-close; otherwise unused
    default_close: str
    calendar_version: str = ""
    timezone: str = EXCHANGE_TZ
    session_hours: dict[str, tuple[str, str]] = field(default_factory=dict)  # date -> hours (calendar)

    def metadata(self, dates: list[dt.date] | None = None) -> dict[str, Any]:
        """For a feature table: the hours of the dates it covers, not of the whole calendar."""
        meta = asdict(self)
        if dates is not None:
            meta["session_hours"] = {
                d.isoformat(): self.session_hours[d.isoformat()]
                for d in dates
                if d.isoformat() in self.session_hours
            }
        return meta


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _time_text(t: dt.time) -> str:
    return t.strftime("%H:%M:%S")


def build_engine(
    instrument: str,
    price_unit: float,
    tick_size: float,
    qty_scale: float = 1.0,
    *,
    session_open: str | None = None,
    session_close: str | None = None,
    calendar: TradingCalendar | None = None,
) -> tuple[FeatureEngine, SessionParameters]:
    """An engine for ``instrument``.  Hours: ``session_open``/``session_close``
    (both or neither) for every date, else the calendar's per date."""
    if (session_open is None) != (session_close is None):
        raise SessionSetupError("give both --session-open and --session-close, or neither")
    if not (price_unit > 0 and tick_size > 0 and qty_scale > 0):
        raise SessionSetupError(
            f"price unit, tick size and qty scale must be > 0 (got {price_unit}, {tick_size}, {qty_scale})"
        )
    if session_open is not None:
        try:
            o, c = seconds_of_day(session_open), seconds_of_day(session_close)
        except ValueError as e:
            raise SessionSetupError(str(e)) from None
        if c <= o:
            raise SessionSetupError(f"session close {session_close} is not after open {session_open}")
        params = SessionParameters(instrument, price_unit, tick_size, qty_scale, "option", _hms(o), _hms(c))
        engine = FeatureEngine(
            tick_size, price_unit, qty_scale, tz_transitions(EXCHANGE_TZ), default_open=o, default_close=c
        )
        return engine, params
    cal = calendar or default_calendar()
    try:
        spec = cal.instrument(instrument)
    except (CalendarError, KeyError) as e:
        raise SessionSetupError(
            f"{e}; the trading calendar has no hours for {instrument}: give --session-open and "
            "--session-close"
        ) from None
    hours = {
        d: cal.session_hours(d, spec.root) for d in cal.sessions(cal.first_date, cal.last_date, spec.root)
    }
    text = {d.isoformat(): (_time_text(o), _time_text(c)) for d, (o, c) in hours.items()}
    last_open, last_close = hours[max(hours)]
    params = SessionParameters(
        instrument,
        price_unit,
        tick_size,
        qty_scale,
        "calendar",
        _time_text(last_open),
        _time_text(last_close),
        cal.version,
        cal.timezone_name,
        text,
    )
    engine = FeatureEngine(
        tick_size,
        price_unit,
        qty_scale,
        tz_transitions(cal.timezone_name),
        sessions=hours,
        default_open=last_open,
        default_close=last_close,
    )
    return engine, params


def local_dates(ts: np.ndarray, zone: str = EXCHANGE_TZ) -> list[dt.date]:
    """The distinct local dates of UTC ns timestamps (vectorised through the
    time-zone transition table the engine uses)."""
    if len(ts) == 0:
        return []
    table = tz_transitions(zone)
    starts = np.array([t for t, _ in table], dtype=np.int64)
    offsets = np.array([o for _, o in table], dtype=np.int64)
    at = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, len(starts) - 1)
    days = np.unique((ts // 1_000_000_000 + offsets[at]) // 86400)
    epoch = dt.date(1970, 1, 1)
    return [epoch + dt.timedelta(days=int(d)) for d in days]
