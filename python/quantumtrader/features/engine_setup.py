"""The session parameters of a feature engine and the engine built from them.

Where the hours of every date come from, first match wins:
1. ``--session-open``/``--session-close``: one pair for every date, read in
   ``--timezone`` (default: the venue's zone below, else America/Sao_Paulo);
2. the trading calendar, for the instruments it knows (B3: WDO, WIN), per
   date (B3 moves them), in the calendar's zone (America/Sao_Paulo);
3. the venue of an imported capture, named by the log header's source:
   Binance trades 24 hours, so a session is the whole UTC day (00:00-24:00
   UTC; all state resets at 00:00 UTC as at any new date); LOBSTER files
   are NASDAQ's regular session, 09:30-16:00 America/New_York.
Anything else needs the options.  The tick size is the log header's unless
given.  The parameters go into every feature table's metadata: a model
records what it was trained with, and a mismatch at load can be reported."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from quantumtrader.calendar import EXCHANGE_TZ, CalendarError, TradingCalendar, default_calendar
from quantumtrader.qtcore.features import FeatureEngine, seconds_of_day, tz_transitions


@dataclass(frozen=True)
class VenueHours:
    """Session hours of a venue whose instruments the calendar does not know."""

    venue: str
    timezone: str
    open: str
    close: str


# keyed by the event log header's source, up to its first ":" (importers write "binance:FILE" ...)
VENUE_HOURS: dict[str, VenueHours] = {
    "binance": VenueHours("Binance, 24 hours", "UTC", "00:00", "24:00"),
    "lobster": VenueHours("NASDAQ regular session (LOBSTER)", "America/New_York", "09:30", "16:00"),
}


def venue_hours(source: str) -> VenueHours | None:
    return VENUE_HOURS.get(source.split(":", 1)[0].strip().lower()) if source else None


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SessionSetupError(f"--timezone {name!r} is not a time zone of the tz database "
                                "(e.g. UTC, America/Sao_Paulo, America/New_York)") from None
    return name


class SessionSetupError(ValueError):
    """The engine cannot be configured as asked (unknown instrument, bad hours...)."""


@dataclass(frozen=True)
class SessionParameters:
    instrument: str
    price_unit: float
    tick_size: float
    qty_scale: float
    hours_source: str  # "calendar", "option" or "venue"
    default_open: str  # HH:MM:SS: every date ("option", "venue"); dates the calendar lacks ("calendar")
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
    timezone: str | None = None,
    source: str = "",
    book_capacity: int = 0,
    calendar: TradingCalendar | None = None,
) -> tuple[FeatureEngine, SessionParameters]:
    """An engine for ``instrument``.  Hours (module doc): ``session_open``/
    ``session_close`` (both or neither) for every date in ``timezone``, else
    the calendar's per date, else the defaults of the venue named by
    ``source``.  ``book_capacity``: levels per book side (0: the core's
    default; see quantumtrader.data.book_capacity)."""
    if (session_open is None) != (session_close is None):
        raise SessionSetupError("give both --session-open and --session-close, or neither")
    if not (price_unit > 0 and tick_size > 0 and qty_scale > 0):
        raise SessionSetupError(
            f"price unit, tick size and qty scale must be > 0 (got {price_unit}, {tick_size}, {qty_scale})"
        )
    venue = venue_hours(source)
    if timezone is not None:
        _zone(timezone)
    if session_open is not None:
        zone = timezone or (venue.timezone if venue else EXCHANGE_TZ)
        return _fixed_hours(instrument, price_unit, tick_size, qty_scale, session_open, session_close,
                            zone, "option", book_capacity)
    cal = calendar or default_calendar()
    try:
        spec = cal.instrument(instrument)
    except (CalendarError, KeyError) as e:
        if venue is not None:
            return _fixed_hours(instrument, price_unit, tick_size, qty_scale, venue.open, venue.close,
                                timezone or venue.timezone, "venue", book_capacity)
        raise SessionSetupError(
            f"{e}; the trading calendar has no hours for {instrument} and its source "
            f"{source or '(none)'!r} is no venue with known hours: give --session-open and "
            "--session-close (read in --timezone, default America/Sao_Paulo)"
        ) from None
    if timezone is not None and timezone != cal.timezone_name:
        raise SessionSetupError(
            f"{instrument}'s hours come from the trading calendar, in {cal.timezone_name}: --timezone "
            "applies to --session-open/--session-close only"
        )
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
        book_capacity=book_capacity,
    )
    return engine, params


def _fixed_hours(
    instrument: str,
    price_unit: float,
    tick_size: float,
    qty_scale: float,
    session_open: str | None,
    session_close: str | None,
    zone: str,
    hours_source: str,
    book_capacity: int,
) -> tuple[FeatureEngine, SessionParameters]:
    """One pair of hours for every date, in ``zone``."""
    try:
        o, c = seconds_of_day(session_open), seconds_of_day(session_close)
    except ValueError as e:
        raise SessionSetupError(str(e)) from None
    if c <= o:
        raise SessionSetupError(f"session close {session_close} is not after open {session_open}")
    params = SessionParameters(
        instrument, price_unit, tick_size, qty_scale, hours_source, _hms(o), _hms(c), timezone=zone
    )
    engine = FeatureEngine(
        tick_size,
        price_unit,
        qty_scale,
        tz_transitions(zone),
        default_open=o,
        default_close=c,
        book_capacity=book_capacity,
    )
    return engine, params


def local_days(ts: np.ndarray, zone: str = EXCHANGE_TZ) -> np.ndarray:
    """The local date of each UTC ns timestamp as days since 1970-01-01
    (int64), vectorised through the time-zone transition table the engine
    uses, so a date boundary here is where the engine resets its session."""
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) == 0:
        return np.empty(0, dtype=np.int64)
    table = tz_transitions(zone)
    starts = np.array([t for t, _ in table], dtype=np.int64)
    offsets = np.array([o for _, o in table], dtype=np.int64)
    at = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, len(starts) - 1)
    return (ts // 1_000_000_000 + offsets[at]) // 86400


def local_dates(ts: np.ndarray, zone: str = EXCHANGE_TZ) -> list[dt.date]:
    """The distinct local dates of UTC ns timestamps."""
    days = np.unique(local_days(ts, zone))
    epoch = dt.date(1970, 1, 1)
    return [epoch + dt.timedelta(days=int(d)) for d in days]
