"""The B3 trading calendar: which days are sessions, their regular hours per
instrument, and which WDO / WIN contract is current on a date.

Everything that changes with B3's notices (holidays, hours, special days,
tick sizes) is data in ``b3_calendar.toml`` beside it; this module only applies
the rules.  A user-supplied file replaces the packaged one through
``TradingCalendar.load(path)`` or the ``QUANTUMTRADER_CALENDAR`` variable.

Definitions used throughout:

* A *session* (business day) is a weekday inside the file's coverage that is
  not listed as a holiday.  All instruments share the holiday list; a special
  day may close one instrument only.
* Hours are local ``America/Sao_Paulo`` wall-clock times; UTC bounds go
  through the tz database, so dates before 2019 get Brazilian DST right.
* WDO contract M expires on the first session of month M; its last trading
  day is the session before.  WIN contracts (even months) expire on the
  Wednesday nearest the 15th, or the next session if that is no session, and
  trade on their expiry day.
* ``current_contract(d)`` is the nearest contract whose last trading day is
  on or after ``d`` (so on its last trading day a contract is still current,
  and the next session belongs to the next contract): for WDO on 2026-11-30
  (the last session of November) ``WDOZ26``, on 2026-12-01 ``WDOF27``.
  ``roll_days`` moves the switch that many sessions earlier, for callers that
  follow liquidity rather than the listing.
* ``business_days_between(a, b)`` counts sessions ``d`` with ``a < d <= b``
  (negative when ``b < a``), so ``days_to_expiry`` is 1 on a WDO contract's
  last trading day and 0 on a WIN contract's expiry day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

CALENDAR_ENV = "QUANTUMTRADER_CALENDAR"
PACKAGED_CALENDAR = Path(__file__).with_name("b3_calendar.toml")

MONTH_CODES = "FGHJKMNQUVXZ"  # B3 month letters, January..December
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)
_EXPIRY_RULES = ("first_business_day", "wednesday_nearest_15th")
_TICKER_RE = re.compile(r"^([A-Z]{3})(?:FUT|\$N?|([FGHJKMNQUVXZ])(\d{2}))?$")

DateLike = dt.date | str | np.datetime64

# B3's time zone: the one place the name is written (features, importers,
# the ProfitDLL adapter and the tests import it from here).
EXCHANGE_TZ = "America/Sao_Paulo"
# Its UTC offset in minutes east of UTC, fixed since Brazil dropped daylight
# saving in 2019: the default for the ProfitDLL adapter's local times (the
# connection computes it from the calendar for the session's day).
EXCHANGE_UTC_OFFSET_MIN = -180
_SAO_PAULO = ZoneInfo(EXCHANGE_TZ)


class CalendarError(ValueError):
    """The calendar file is invalid, or a query cannot be answered."""


class NotASessionError(CalendarError):
    """The date has no B3 session (weekend, holiday, instrument closed)."""


class CalendarRangeError(CalendarError):
    """The date lies outside the years the calendar file covers."""


class UnknownInstrumentError(CalendarError, KeyError):
    """The calendar has no instrument with that root or ticker."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class InstrumentSpec:
    root: str
    name: str
    tick_size: float
    price_unit: float
    point_value: float
    contract_months: str
    expiry_rule: str


@dataclass(frozen=True)
class Contract:
    root: str
    month: int
    year: int
    code: str  # e.g. "WDOZ26"
    expiry: dt.date
    last_trading_day: dt.date


@dataclass(frozen=True)
class _HoursRange:
    start: dt.date
    end: dt.date
    open: dt.time
    close: dt.time


@dataclass(frozen=True)
class _SpecialDay:
    date: dt.date
    instruments: tuple[str, ...] | None  # None: every instrument
    open: dt.time | None
    close: dt.time | None
    closed: bool
    note: str


def to_date(value: Any) -> dt.date:
    """A ``date`` from a ``date``, a ``datetime`` (tz-aware ones are read in
    São Paulo local time), ``numpy.datetime64`` or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(_SAO_PAULO).date()
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return to_date(str(value.astype("datetime64[D]")))
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise CalendarError(f"not a date: {value!r} (expected YYYY-MM-DD)") from None
    raise CalendarError(f"not a date: {value!r} of type {type(value).__name__}")


def root_of(ticker: str) -> str:
    """Instrument root of a B3 futures ticker: ``WDOFUT``, ``WDOZ26``,
    ``WDO$N``, ``WDO`` -> ``"WDO"``.  Raises ``UnknownInstrumentError`` for
    anything else (the root itself is checked by the calendar)."""
    if not isinstance(ticker, str):
        raise UnknownInstrumentError(f"ticker must be a string, got {type(ticker).__name__}")
    m = _TICKER_RE.match(ticker.strip().upper())
    if not m:
        raise UnknownInstrumentError(
            f"unrecognised ticker {ticker!r}: expected ROOT, ROOTFUT or ROOT<month letter><yy>, e.g. WDOZ26"
        )
    return m.group(1)


def parse_contract_code(code: str) -> tuple[str, int, int]:
    """``"WDOZ26"`` -> ``("WDO", 12, 2026)``."""
    m = _TICKER_RE.match(code.strip().upper()) if isinstance(code, str) else None
    if not m or m.group(2) is None:
        raise CalendarError(f"not a contract code: {code!r} (expected e.g. WDOZ26)")
    return m.group(1), MONTH_CODES.index(m.group(2)) + 1, 2000 + int(m.group(3))


def contract_code(root: str, month: int, year: int) -> str:
    return f"{root}{MONTH_CODES[month - 1]}{year % 100:02d}"


def _local_ns(day: dt.date, t: dt.time, tz: ZoneInfo) -> int:
    # fold=0: an ambiguous local time takes the earlier reading (spec).
    aware = dt.datetime.combine(day, t, tzinfo=tz)
    return ((aware - _EPOCH) // _ONE_US) * 1000


class TradingCalendar:
    """B3 sessions, hours and contracts from one calendar file."""

    def __init__(self, data: dict[str, Any], origin: str = "<dict>") -> None:
        self.origin = origin
        try:
            self._parse(data)
        except CalendarError as exc:
            raise CalendarError(f"{origin}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CalendarError(f"{origin}: invalid calendar data: {exc!r}") from None

    # ------------------------------------------------------------------ load
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> TradingCalendar:
        """Read ``path``, else ``$QUANTUMTRADER_CALENDAR``, else the packaged file."""
        if path is None:
            path = os.environ.get(CALENDAR_ENV) or PACKAGED_CALENDAR
        p = Path(path)
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise CalendarError(f"calendar file not found: {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise CalendarError(f"{p}: not valid TOML: {exc}") from None
        return cls(data, origin=str(p))

    def _parse(self, data: dict[str, Any]) -> None:
        self.version: str = _req(data, "version", str)
        self.source: str = data.get("source", "")
        self.timezone_name: str = _req(data, "timezone", str)
        self.tz = ZoneInfo(self.timezone_name)
        self.first_date: dt.date = _req(data, "first_date", dt.date)
        self.last_date: dt.date = _req(data, "last_date", dt.date)
        if self.last_date < self.first_date:
            raise CalendarError("last_date is before first_date")

        self._instruments: dict[str, InstrumentSpec] = {}
        for root, spec in _req(data, "instruments", dict).items():
            ins = InstrumentSpec(
                root=root,
                name=str(spec.get("name", root)),
                tick_size=float(spec["tick_size"]),
                price_unit=float(spec["price_unit"]),
                point_value=float(spec["point_value"]),
                contract_months=str(spec["contract_months"]),
                expiry_rule=str(spec["expiry_rule"]),
            )
            if ins.tick_size <= 0 or ins.price_unit <= 0 or ins.point_value <= 0:
                raise CalendarError(f"instrument {root}: sizes must be positive")
            if not ins.contract_months or any(c not in MONTH_CODES for c in ins.contract_months):
                raise CalendarError(f"instrument {root}: bad contract_months {ins.contract_months!r}")
            if ins.expiry_rule not in _EXPIRY_RULES:
                raise CalendarError(f"instrument {root}: unknown expiry_rule {ins.expiry_rule!r}")
            self._instruments[root] = ins

        self._holidays: dict[dt.date, str] = {}
        for key, entries in _req(data, "holidays", dict).items():
            for e in entries:
                d = _req(e, "date", dt.date)
                if d in self._holidays:
                    raise CalendarError(f"holiday {d} listed twice (holidays.{key})")
                self._holidays[d] = str(e.get("name", "holiday"))

        self._hours: dict[str, list[_HoursRange]] = {}
        hours = _req(data, "hours", dict)
        for root in self._instruments:
            if root not in hours:
                raise CalendarError(f"no hours for instrument {root}")
            ranges = sorted(
                (
                    _HoursRange(
                        _req(r, "from", dt.date), _req(r, "to", dt.date),
                        _req(r, "open", dt.time), _req(r, "close", dt.time),
                    )
                    for r in hours[root]
                ),
                key=lambda r: r.start,
            )
            for r in ranges:
                if r.end < r.start or r.close <= r.open:
                    raise CalendarError(f"hours.{root}: empty range or close <= open at {r.start}")
            for a, b in itertools.pairwise(ranges):
                if b.start <= a.end:
                    raise CalendarError(f"hours.{root}: ranges overlap at {b.start}")
            self._hours[root] = ranges
        self._range_starts = {root: [r.start for r in rs] for root, rs in self._hours.items()}

        self._special: dict[dt.date, list[_SpecialDay]] = {}
        for e in data.get("special_days", []):
            inst = e.get("instruments")
            sd = _SpecialDay(
                date=_req(e, "date", dt.date),
                instruments=tuple(inst) if inst is not None else None,
                open=e.get("open"),
                close=e.get("close"),
                closed=bool(e.get("closed", False)),
                note=str(e.get("note", "")),
            )
            for root in sd.instruments or ():
                if root not in self._instruments:
                    raise CalendarError(f"special day {sd.date}: unknown instrument {root}")
            self._special.setdefault(sd.date, []).append(sd)

        # Every session of every instrument must have hours, and the result
        # must be a proper interval: checked once here, not on each query.
        self._sessions = np.array(
            [
                d
                for d in _date_range(self.first_date, self.last_date)
                if d.weekday() < 5 and d not in self._holidays
            ],
            dtype="datetime64[D]",
        )
        for root in self._instruments:
            for d in self._sessions.astype(object):
                if self.is_session(d, root):
                    o, c = self.session_hours(d, root)
                    if c <= o:
                        raise CalendarError(f"{root} on {d}: close {c} not after open {o}")

    # --------------------------------------------------------------- queries
    def instrument(self, root_or_ticker: str) -> InstrumentSpec:
        root = root_of(root_or_ticker)
        try:
            return self._instruments[root]
        except KeyError:
            known = ", ".join(sorted(self._instruments))
            raise UnknownInstrumentError(
                f"unknown instrument {root_or_ticker!r} (calendar {self.version} knows {known})"
            ) from None

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(self._instruments)

    def _check_range(self, d: dt.date) -> None:
        if not (self.first_date <= d <= self.last_date):
            raise CalendarRangeError(
                f"{d} is outside the calendar's coverage {self.first_date}..{self.last_date} "
                f"(calendar {self.version}, {self.origin}); extend the calendar file"
            )

    def _is_market_day(self, d: dt.date) -> bool:
        return d.weekday() < 5 and d not in self._holidays

    def _special_for(self, d: dt.date, root: str) -> list[_SpecialDay]:
        return [s for s in self._special.get(d, ()) if s.instruments is None or root in s.instruments]

    def is_session(self, date: DateLike, instrument: str = "WDO") -> bool:
        d = to_date(date)
        root = self.instrument(instrument).root
        self._check_range(d)
        if not self._is_market_day(d):
            return False
        return not any(s.closed for s in self._special_for(d, root))

    def why_closed(self, date: DateLike, instrument: str = "WDO") -> str | None:
        """Why ``date`` has no session (holiday name, weekday name), or None."""
        d = to_date(date)
        root = self.instrument(instrument).root
        self._check_range(d)
        if d.weekday() >= 5:
            return d.strftime("%A")
        if d in self._holidays:
            return self._holidays[d]
        for s in self._special_for(d, root):
            if s.closed:
                return s.note or f"{root} closed"
        return None

    def session_hours(self, date: DateLike, instrument: str = "WDO") -> tuple[dt.time, dt.time]:
        """Local (open, close) of the instrument's regular session on ``date``."""
        d = to_date(date)
        root = self.instrument(instrument).root
        reason = self.why_closed(d, root)
        if reason is not None:
            raise NotASessionError(f"{d} is not a B3 session for {root}: {reason}")
        starts = self._range_starts[root]
        i = bisect.bisect_right(starts, d) - 1
        if i < 0 or d > self._hours[root][i].end:
            raise CalendarError(f"calendar {self.version} has no {root} hours for {d}")
        r = self._hours[root][i]
        open_, close = r.open, r.close
        for s in self._special_for(d, root):
            open_ = s.open or open_
            close = s.close or close
        return open_, close

    def session_bounds_utc_ns(self, date: DateLike, instrument: str = "WDO") -> tuple[int, int]:
        """(open, close) of the regular session as UTC nanoseconds since the epoch."""
        d = to_date(date)
        o, c = self.session_hours(d, instrument)
        return _local_ns(d, o, self.tz), _local_ns(d, c, self.tz)

    def local_date_of_ns(self, ns: int) -> dt.date:
        """Exchange-local date of a UTC nanosecond timestamp."""
        return (_EPOCH + dt.timedelta(microseconds=int(ns) // 1000)).astimezone(self.tz).date()

    # -------------------------------------------------------- business days
    def _session_index(self, d: dt.date) -> int:
        """Number of market days strictly before ``d`` in the coverage."""
        return int(np.searchsorted(self._sessions, np.datetime64(d, "D"), side="left"))

    def _nth(self, i: int) -> dt.date:
        return self._sessions[i].astype(object)

    def next_session(self, date: DateLike) -> dt.date:
        """The first market day strictly after ``date``."""
        d = to_date(date)
        self._check_range(d)
        i = int(np.searchsorted(self._sessions, np.datetime64(d, "D"), side="right"))
        if i >= len(self._sessions):
            raise CalendarRangeError(f"no session after {d} within the calendar (ends {self.last_date})")
        return self._nth(i)

    def previous_session(self, date: DateLike) -> dt.date:
        """The last market day strictly before ``date``."""
        d = to_date(date)
        self._check_range(d)
        i = self._session_index(d) - 1
        if i < 0:
            raise CalendarRangeError(f"no session before {d} within the calendar (starts {self.first_date})")
        return self._nth(i)

    def sessions(self, start: DateLike, end: DateLike, instrument: str = "WDO") -> list[dt.date]:
        """The instrument's sessions ``d`` with ``start <= d <= end``."""
        a, b = to_date(start), to_date(end)
        self._check_range(a)
        self._check_range(b)
        i, j = self._session_index(a), self._session_index(b + dt.timedelta(days=1))
        return [d for d in self._sessions[i:j].astype(object) if self.is_session(d, instrument)]

    def business_days_between(self, start: DateLike, end: DateLike) -> int:
        """Market days ``d`` with ``start < d <= end``; negative if ``end < start``."""
        a, b = to_date(start), to_date(end)
        self._check_range(a)
        self._check_range(b)
        if b < a:
            return -self.business_days_between(b, a)
        na = int(np.searchsorted(self._sessions, np.datetime64(a, "D"), side="right"))
        nb = int(np.searchsorted(self._sessions, np.datetime64(b, "D"), side="right"))
        return nb - na

    def add_business_days(self, date: DateLike, n: int) -> dt.date:
        """The market day ``n`` sessions after (``n < 0``: before) ``date``."""
        d = to_date(date)
        self._check_range(d)
        if n == 0:
            return d
        base = int(np.searchsorted(self._sessions, np.datetime64(d, "D"), side="right"))
        i = base + n - 1 if n > 0 else self._session_index(d) + n
        if not 0 <= i < len(self._sessions):
            raise CalendarRangeError(f"{n} sessions from {d} leaves the calendar coverage")
        return self._nth(i)

    # ------------------------------------------------------------ contracts
    def contract(self, root: str, month: int, year: int) -> Contract:
        """The contract ``root`` of ``month``/``year`` with its expiry dates."""
        spec = self.instrument(root)
        if not 1 <= month <= 12 or MONTH_CODES[month - 1] not in spec.contract_months:
            raise CalendarError(f"{spec.root} has no contract in month {month}")
        first = dt.date(year, month, 1)
        if spec.expiry_rule == "first_business_day":
            expiry = first if self._is_market_day_checked(first) else self.next_session(first)
            last = self.previous_session(expiry)
        else:  # wednesday_nearest_15th
            fifteenth = dt.date(year, month, 15)
            offset = (2 - fifteenth.weekday() + 3) % 7 - 3
            wednesday = fifteenth + dt.timedelta(days=offset)
            expiry = wednesday if self._is_market_day_checked(wednesday) else self.next_session(wednesday)
            last = expiry
        return Contract(spec.root, month, year, contract_code(spec.root, month, year), expiry, last)

    def contract_from_code(self, code: str) -> Contract:
        root, month, year = parse_contract_code(code)
        return self.contract(root, month, year)

    def _is_market_day_checked(self, d: dt.date) -> bool:
        self._check_range(d)
        return self._is_market_day(d)

    def current_contract(self, date: DateLike, root: str = "WDO", roll_days: int = 0) -> Contract:
        """The contract trading as front month on ``date`` (see module doc).

        ``roll_days > 0`` makes the next contract current that many sessions
        before the front contract's last trading day."""
        d = to_date(date)
        spec = self.instrument(root)
        self._check_range(d)
        if roll_days < 0:
            raise CalendarError("roll_days must be >= 0")
        year, month = d.year, d.month
        for _ in range(30):
            if MONTH_CODES[month - 1] in spec.contract_months:
                c = self.contract(spec.root, month, year)
                if self.business_days_between(d, c.last_trading_day) >= roll_days and d <= c.last_trading_day:
                    return c
            month += 1
            if month > 12:
                month, year = 1, year + 1
        raise CalendarError(f"no {spec.root} contract found after {d}")  # unreachable with valid months

    def days_to_expiry(self, date: DateLike, root: str = "WDO", roll_days: int = 0) -> int:
        """Sessions from ``date`` (exclusive) to the current contract's expiry (inclusive)."""
        c = self.current_contract(date, root, roll_days)
        return self.business_days_between(to_date(date), c.expiry)

    def __repr__(self) -> str:
        span = f"{self.first_date}..{self.last_date}"
        return f"TradingCalendar(version={self.version!r}, {span}, {self.origin})"


def _req(table: dict[str, Any], key: str, typ: type) -> Any:
    if not isinstance(table, dict) or key not in table:
        raise CalendarError(f"missing key {key!r}")
    v = table[key]
    if typ is dt.date and isinstance(v, dt.datetime):
        raise CalendarError(f"{key!r} must be a date, not a date-time: {v}")
    if not isinstance(v, typ):
        raise CalendarError(f"{key!r} must be {typ.__name__}, got {type(v).__name__}: {v!r}")
    return v


def _date_range(a: dt.date, b: dt.date):
    d = a
    one = dt.timedelta(days=1)
    while d <= b:
        yield d
        d += one


_DEFAULT: TradingCalendar | None = None


def default_calendar() -> TradingCalendar:
    """The calendar of ``$QUANTUMTRADER_CALENDAR`` or the packaged file, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = TradingCalendar.load()
    return _DEFAULT
