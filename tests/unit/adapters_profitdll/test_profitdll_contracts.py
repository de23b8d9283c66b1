"""Which contract the connection subscribes for "WDO" / "WIN" on a given
day (the trading calendar's rules), across month ends, holidays and the
December roll, and the UTC offset it hands the callbacks."""

from __future__ import annotations

import datetime as dt

import pytest

from quantumtrader.adapters.profitdll.connection import resolve_ticker, utc_offset_minutes
from quantumtrader.calendar import UnknownInstrumentError, default_calendar

CAL = default_calendar()


@pytest.mark.parametrize(("day", "wdo", "win"), [
    # WDO trades next month's contract; its last trading day is the last
    # session of the month before its expiry month
    ("2026-11-03", "WDOZ26", "WINZ26"),
    ("2026-11-30", "WDOZ26", "WINZ26"),  # last session of November: WDOZ26's last day
    ("2026-12-01", "WDOF27", "WINZ26"),  # December roll: next year's January contract
    # WIN (even months) expires on the Wednesday nearest the 15th: 16 Dec 2026
    ("2026-12-16", "WDOF27", "WINZ26"),
    ("2026-12-17", "WDOF27", "WING27"),
    # 31 Dec and 1 Jan are closed, so WDOF27 expires on Monday 4 Jan and
    # its last session is 30 Dec
    ("2026-12-30", "WDOF27", "WING27"),
    ("2026-12-31", "WDOG27", "WING27"),  # a closed day: the contract of the next session
    ("2027-01-04", "WDOG27", "WING27"),
    # May 2026: the 1st is a holiday (Friday), so WDOK26 expires on Monday 4
    # May and is last traded on 30 April
    ("2026-04-30", "WDOK26", "WINM26"),
    ("2026-05-01", "WDOM26", "WINM26"),
    ("2026-05-04", "WDOM26", "WINM26"),
    # Carnival Monday is closed; nothing rolls
    ("2026-02-13", "WDOH26", "WING26"),
    ("2026-02-16", "WDOH26", "WING26"),
    ("2026-03-02", "WDOJ26", "WINJ26"),
])
def test_current_contract_by_day(day: str, wdo: str, win: str) -> None:
    assert resolve_ticker("WDO", day, CAL) == wdo
    assert resolve_ticker("win", dt.date.fromisoformat(day), CAL) == win


def test_full_codes_pass_through_and_roll_days_move_earlier() -> None:
    assert resolve_ticker("wdof27", "2026-11-03", CAL) == "WDOF27"
    assert resolve_ticker(" WINZ26 ", "2026-11-03", CAL) == "WINZ26"
    # roll_days=3: the next contract once fewer than 3 sessions remain
    # before WDOZ26's last day (30 Nov): from 26 Nov (26, 27 left)
    assert resolve_ticker("WDO", "2026-11-26", CAL, roll_days=3) == "WDOF27"
    assert resolve_ticker("WDO", "2026-11-25", CAL, roll_days=3) == "WDOZ26"
    with pytest.raises(ValueError):
        resolve_ticker("  ", "2026-11-03", CAL)
    with pytest.raises(UnknownInstrumentError):
        CAL.instrument(resolve_ticker("PETR4", "2026-11-03", CAL))


def test_utc_offset_follows_the_exchange_time_zone() -> None:
    # Brazil had daylight saving until 2019: -2 h in December 2018, -3 h since
    assert utc_offset_minutes(CAL, dt.datetime(2018, 12, 3, 15, tzinfo=dt.UTC)) == -120
    assert utc_offset_minutes(CAL, dt.datetime(2025, 12, 3, 15, tzinfo=dt.UTC)) == -180
