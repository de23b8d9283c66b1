"""Trading calendars: which days are sessions, their hours, and which
contract is current.  B3 is the one exchange so far (:mod:`.b3`, its data in
``b3_calendar.toml`` beside it, replaced by ``$QUANTUMTRADER_CALENDAR``)."""

from quantumtrader.calendar.b3 import (
    CALENDAR_ENV,
    EXCHANGE_TZ,
    EXCHANGE_UTC_OFFSET_MIN,
    MONTH_CODES,
    PACKAGED_CALENDAR,
    CalendarError,
    CalendarRangeError,
    Contract,
    DateLike,
    InstrumentSpec,
    NotASessionError,
    TradingCalendar,
    UnknownInstrumentError,
    contract_code,
    default_calendar,
    parse_contract_code,
    root_of,
    to_date,
)

__all__ = [
    "CALENDAR_ENV",
    "EXCHANGE_TZ",
    "EXCHANGE_UTC_OFFSET_MIN",
    "MONTH_CODES",
    "PACKAGED_CALENDAR",
    "CalendarError",
    "CalendarRangeError",
    "Contract",
    "DateLike",
    "InstrumentSpec",
    "NotASessionError",
    "TradingCalendar",
    "UnknownInstrumentError",
    "contract_code",
    "default_calendar",
    "parse_contract_code",
    "root_of",
    "to_date",
]
