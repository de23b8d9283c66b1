"""The B3 trading calendar: sessions, hours, contracts and bad input."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import pytest
from dateutil.easter import easter

from quantumtrader.calendar import (
    CALENDAR_ENV,
    EXCHANGE_TZ,
    EXCHANGE_UTC_OFFSET_MIN,
    PACKAGED_CALENDAR,
    CalendarError,
    CalendarRangeError,
    NotASessionError,
    TradingCalendar,
    UnknownInstrumentError,
    parse_contract_code,
    root_of,
)

D = dt.date
T = dt.time


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return TradingCalendar.load(PACKAGED_CALENDAR)


def test_exchange_offset_is_the_zone_offset_on_every_day_since_dst_ended():
    # EXCHANGE_UTC_OFFSET_MIN is the fixed default the ProfitDLL adapter
    # uses; it must be what EXCHANGE_TZ gives on every day of the years the
    # packaged calendar covers from 2020 on (Brazil dropped DST in 2019)
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(EXCHANGE_TZ)
    cal = TradingCalendar.load(PACKAGED_CALENDAR)
    day = D(2020, 1, 1)
    while day <= cal.last_date:
        noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        assert noon.utcoffset() == dt.timedelta(minutes=EXCHANGE_UTC_OFFSET_MIN), day
        day += dt.timedelta(days=1)


def test_file_metadata(cal):
    assert cal.version
    assert cal.source
    assert cal.timezone_name == EXCHANGE_TZ
    assert cal.first_date <= D(2018, 1, 1) and cal.last_date >= D(2030, 12, 31)
    assert set(cal.instruments) >= {"WDO", "WIN"}


@pytest.mark.parametrize(
    "day, why",
    [
        (D(2026, 2, 16), "Carnaval"),
        (D(2026, 2, 17), "Carnaval"),
        (D(2026, 4, 3), "Good Friday"),
        (D(2026, 6, 4), "Corpus Christi"),
        (D(2026, 11, 20), "Consciência Negra"),
        (D(2026, 12, 24), "Christmas Eve"),
        (D(2026, 12, 25), "Christmas"),
        (D(2026, 12, 31), "year-end"),
        (D(2023, 12, 29), "year-end"),  # Dec 31 2023 was a Sunday
        (D(2022, 12, 30), "year-end"),
        (D(2019, 11, 20), "SP city holiday"),  # São Paulo holidays closed B3 until 2021
        (D(2021, 1, 25), "São Paulo"),
    ],
)
def test_holidays_are_not_sessions(cal, day, why):
    for inst in ("WDO", "WIN", "WDOFUT"):
        assert not cal.is_session(day, inst)
    assert why in cal.why_closed(day)
    with pytest.raises(NotASessionError, match=str(day)):
        cal.session_hours(day, "WDO")


@pytest.mark.parametrize(
    "day",
    [
        D(2023, 11, 20),  # SP city holiday: B3 trades since 2022; national only from 2024
        D(2022, 1, 25),
        D(2020, 7, 9),  # moved to May 2020 by São Paulo; B3 traded
        D(2020, 11, 20),
        D(2026, 11, 13),
        D(2026, 11, 16),
        D(2026, 12, 30),
    ],
)
def test_ordinary_weekdays_are_sessions(cal, day):
    assert cal.is_session(day, "WDO") and cal.is_session(day, "WIN")
    assert cal.why_closed(day) is None


def test_weekends(cal):
    assert not cal.is_session(D(2026, 11, 14))
    assert not cal.is_session("2026-11-15", "WIN")
    assert cal.why_closed(D(2026, 11, 14)) == "Saturday"
    with pytest.raises(NotASessionError, match="Saturday"):
        cal.session_hours(D(2026, 11, 14), "WDO")


def test_easter_derived_dates_in_file_match_an_independent_easter(cal):
    # The file lists them explicitly; a typo there must not pass unnoticed.
    for year in range(cal.first_date.year, cal.last_date.year + 1):
        e = easter(year)
        for offset, what in ((-48, "Carnaval"), (-47, "Carnaval"), (-2, "Good Friday"), (60, "Corpus")):
            assert what in (cal.why_closed(e + dt.timedelta(days=offset)) or ""), (year, what)
        ash = e - dt.timedelta(days=46)
        assert cal.session_hours(ash, "WDO")[0] == T(13, 0), year
        assert cal.session_hours(ash, "WIN")[0] == T(13, 0), year


def test_ash_wednesday_opens_at_13(cal):
    ash = D(2026, 2, 18)
    assert cal.is_session(ash)
    assert cal.session_hours(ash, "WDO") == (T(13, 0), T(18, 30))  # US winter grid 2025/26
    assert cal.session_hours(ash, "WIN") == (T(13, 0), T(18, 25))
    assert cal.next_session(D(2026, 2, 13)) == ash  # Friday before Carnival


def test_golden_dates_are_9_to_18(cal):
    for day in (D(2026, 11, 13), D(2026, 11, 16)):
        assert cal.session_hours(day, "WDOFUT") == (T(9, 0), T(18, 0))
        o, c = cal.session_bounds_utc_ns(day, "WDOFUT")
        # São Paulo is UTC-3 (no DST since 2019): 12:00Z and 21:00Z.
        midnight = int(np.datetime64(day.isoformat(), "ns").astype(np.int64))
        assert o == midnight + 12 * 3_600_000_000_000
        assert c == midnight + 21 * 3_600_000_000_000


def test_hours_follow_dated_ranges(cal):
    assert cal.session_hours(D(2022, 6, 1), "WIN") == (T(9, 0), T(17, 55))  # US-DST grid
    assert cal.session_hours(D(2022, 6, 1), "WDO") == (T(9, 0), T(18, 0))
    assert cal.session_hours(D(2024, 1, 10), "WDO") == (T(9, 0), T(18, 30))  # US winter grid
    assert cal.session_hours(D(2024, 1, 10), "WIN") == (T(9, 0), T(18, 25))
    assert cal.session_hours(D(2018, 11, 30), "WIN") == (T(9, 0), T(18, 25))  # special day


def test_utc_bounds_use_the_tz_database_for_brazilian_dst(cal):
    # 2018-11-05: Brazil was on DST (UTC-2), so 09:00 local is 11:00Z.
    o, _ = cal.session_bounds_utc_ns(D(2018, 11, 5), "WDO")
    assert o == int(np.datetime64("2018-11-05T11:00", "ns").astype(np.int64))
    o, _ = cal.session_bounds_utc_ns(D(2019, 6, 3), "WDO")
    assert o == int(np.datetime64("2019-06-03T12:00", "ns").astype(np.int64))
    assert cal.local_date_of_ns(o) == D(2019, 6, 3)


def test_next_previous_and_business_days(cal):
    assert cal.next_session(D(2026, 11, 13)) == D(2026, 11, 16)
    assert cal.previous_session(D(2026, 11, 16)) == D(2026, 11, 13)
    assert cal.next_session(D(2026, 11, 19)) == D(2026, 11, 23)  # skips Nov 20 and the weekend
    assert cal.previous_session(D(2027, 1, 4)) == D(2026, 12, 30)  # Dec 31 and Jan 1 closed
    assert cal.business_days_between(D(2026, 11, 13), D(2026, 11, 13)) == 0
    assert cal.business_days_between(D(2026, 11, 13), D(2026, 11, 16)) == 1
    assert cal.business_days_between(D(2026, 11, 16), D(2026, 11, 23)) == 4  # Nov 20 off
    assert cal.business_days_between(D(2026, 11, 23), D(2026, 11, 16)) == -4
    assert cal.business_days_between(D(2026, 12, 23), D(2027, 1, 4)) == 4  # 28, 29, 30 + Jan 4
    assert cal.add_business_days(D(2026, 11, 19), 1) == D(2026, 11, 23)
    assert cal.add_business_days(D(2026, 11, 23), -1) == D(2026, 11, 19)
    assert cal.sessions(D(2026, 11, 13), D(2026, 11, 23)) == [
        D(2026, 11, 13), D(2026, 11, 16), D(2026, 11, 17), D(2026, 11, 18), D(2026, 11, 19), D(2026, 11, 23),
    ]


def test_wdo_contract_resolution_across_month_end(cal):
    c = cal.current_contract(D(2026, 11, 13), "WDO")
    assert c.code == "WDOZ26" and (c.month, c.year) == (12, 2026)
    # Nov 30 is the last session of November: WDOZ26's last trading day, still current.
    c = cal.current_contract(D(2026, 11, 30), "WDOFUT")
    assert c.code == "WDOZ26"
    assert c.expiry == D(2026, 12, 1) and c.last_trading_day == D(2026, 11, 30)
    assert cal.current_contract(D(2026, 11, 28), "WDO").code == "WDOZ26"  # Saturday before
    # The expiry day itself belongs to the next contract.
    c = cal.current_contract(D(2026, 12, 1), "WDO")
    assert c.code == "WDOF27"
    # Dec 31 (no trading) and Jan 1 push WDOF27: expires Mon Jan 4, last trade Dec 30.
    assert c.expiry == D(2027, 1, 4) and c.last_trading_day == D(2026, 12, 30)
    assert cal.current_contract(D(2026, 12, 30), "WDO").code == "WDOF27"
    assert cal.current_contract(D(2026, 12, 31), "WDO").code == "WDOG27"
    assert cal.current_contract(D(2027, 1, 1), "WDO").code == "WDOG27"


def test_wdo_roll_days_switch_earlier(cal):
    assert cal.current_contract(D(2026, 11, 27), "WDO", roll_days=1).code == "WDOZ26"
    assert cal.current_contract(D(2026, 11, 30), "WDO", roll_days=1).code == "WDOF27"
    assert cal.current_contract(D(2026, 11, 25), "WDO", roll_days=3).code == "WDOZ26"
    assert cal.current_contract(D(2026, 11, 26), "WDO", roll_days=3).code == "WDOF27"
    with pytest.raises(CalendarError):
        cal.current_contract(D(2026, 11, 26), "WDO", roll_days=-1)


def test_win_contract_resolution_and_december_roll(cal):
    assert cal.current_contract(D(2026, 11, 13), "WIN").code == "WINZ26"
    c = cal.current_contract(D(2026, 12, 16), "WINFUT")  # Dec 15 2026 is a Tuesday -> Wed 16th
    assert c.code == "WINZ26" and c.expiry == D(2026, 12, 16) == c.last_trading_day
    assert cal.current_contract(D(2026, 12, 17), "WIN").code == "WING27"
    assert cal.current_contract(D(2027, 1, 5), "WIN").code == "WING27"
    assert cal.contract_from_code("WING27").expiry == D(2027, 2, 17)
    # Odd months roll to the next even month.
    assert cal.current_contract(D(2026, 3, 2), "WIN").code == "WINJ26"


def test_win_expiry_moves_past_a_holiday_wednesday(cal):
    # Oct 15 2022 was a Saturday: the nearest Wednesday is Oct 12, a holiday -> Thursday Oct 13.
    c = cal.contract("WIN", 10, 2022)
    assert c.code == "WINV22" and c.expiry == D(2022, 10, 13)
    assert cal.current_contract(D(2022, 10, 13), "WIN").code == "WINV22"
    assert cal.current_contract(D(2022, 10, 14), "WIN").code == "WINZ22"


def test_contract_rules_hold_for_every_month(cal):
    for year in range(2018, 2030):
        for month in range(2 if year == 2018 else 1, 13):  # WDOF18 trades before the coverage
            w = cal.contract("WDO", month, year)
            assert cal.is_session(w.expiry) and w.expiry.month == month
            assert cal.sessions(D(year, month, 1), w.expiry) == [w.expiry]  # the month's first session
            assert cal.next_session(w.last_trading_day) == w.expiry
            if month % 2 == 0:
                i = cal.contract("WIN", month, year)
                assert cal.is_session(i.expiry) and 12 <= i.expiry.day <= 19
                mid = D(year, month, 15)
                nominal = min(
                    (mid + dt.timedelta(days=k) for k in range(-3, 4)), key=lambda d: d.weekday() != 2
                )
                assert nominal.weekday() == 2
                assert i.expiry == (nominal if cal.is_session(nominal) else cal.next_session(nominal))
            else:
                with pytest.raises(CalendarError):
                    cal.contract("WIN", month, year)


def test_days_to_expiry(cal):
    assert cal.days_to_expiry(D(2026, 11, 30), "WDO") == 1
    assert cal.days_to_expiry(D(2026, 11, 27), "WDO") == 2
    assert cal.days_to_expiry(D(2026, 12, 1), "WDO") == 20  # Dec 2..30 (19 sessions) + Jan 4 2027
    assert cal.days_to_expiry(D(2026, 12, 16), "WIN") == 0
    assert cal.days_to_expiry(D(2026, 12, 14), "WIN") == 2


def test_tickers_map_to_roots(cal):
    for t, root in [("WDOFUT", "WDO"), ("WDOZ26", "WDO"), ("WINFUT", "WIN"), ("WINZ26", "WIN"),
                    ("wdofut", "WDO"), ("WDO$N", "WDO"), ("WIN", "WIN")]:
        assert root_of(t) == root
        assert cal.instrument(t).root == root
    assert parse_contract_code("WDOZ26") == ("WDO", 12, 2026)
    for bad in ("", "WDOZ2", "WDO-Z26", "PETR4", "WDOA26"):
        with pytest.raises(UnknownInstrumentError):
            root_of(bad)
    with pytest.raises(UnknownInstrumentError, match="DOL"):
        cal.instrument("DOLFUT")  # a valid ticker shape, not in the file
    with pytest.raises(CalendarError, match="contract code"):
        parse_contract_code("WDOFUT")


def test_instrument_specs(cal):
    wdo, win = cal.instrument("WDO"), cal.instrument("WINFUT")
    assert (wdo.tick_size, wdo.price_unit, wdo.point_value) == (0.5, 0.5, 10.0)
    assert (win.tick_size, win.price_unit, win.point_value) == (5.0, 5.0, 0.2)
    assert wdo.contract_months == "FGHJKMNQUVXZ" and win.contract_months == "GJMQVZ"


def test_bad_input_gives_clear_errors(cal):
    with pytest.raises(CalendarError, match="not a date"):
        cal.is_session(20261113)
    with pytest.raises(CalendarError, match="not a date"):
        cal.is_session("2026-13-01")
    with pytest.raises(CalendarError, match="not a date"):
        cal.session_hours(None, "WDO")
    with pytest.raises(UnknownInstrumentError, match="unknown instrument"):
        cal.session_hours(D(2026, 11, 13), "ABC")
    with pytest.raises(UnknownInstrumentError):
        cal.is_session(D(2026, 11, 13), 7)
    with pytest.raises(CalendarRangeError, match="coverage"):
        cal.is_session(D(2031, 1, 2))
    with pytest.raises(CalendarRangeError):
        cal.current_contract(D(2030, 12, 20), "WDO")  # WDOF31 expires beyond the file
    # Accepted date forms agree.
    assert cal.is_session(dt.datetime(2026, 11, 13, 17, 0)) == cal.is_session(np.datetime64("2026-11-13"))
    aware = dt.datetime(2026, 11, 14, 1, 0, tzinfo=dt.UTC)  # Nov 13, 22:00 in São Paulo
    assert cal.is_session(aware)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cal.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_user_file_via_argument_and_environment(tmp_path, monkeypatch):
    text = PACKAGED_CALENDAR.read_text(encoding="utf-8")
    text = text.replace('version = "', 'version = "user-', 1)
    # The user declares Monday 2026-11-16 a holiday.
    text = text.replace("y2026 = [\n", 'y2026 = [\n  { date = 2026-11-16, name = "user closure" },\n', 1)
    p = _write(tmp_path, text)
    user = TradingCalendar.load(p)
    assert user.version.startswith("user-") and not user.is_session(D(2026, 11, 16))
    monkeypatch.setenv(CALENDAR_ENV, str(p))
    assert TradingCalendar.load().version == user.version
    monkeypatch.delenv(CALENDAR_ENV)
    assert not TradingCalendar.load().version.startswith("user-")


def test_invalid_files_are_rejected(tmp_path):
    with pytest.raises(CalendarError, match="not found"):
        TradingCalendar.load(tmp_path / "missing.toml")
    with pytest.raises(CalendarError, match="not valid TOML"):
        TradingCalendar.load(_write(tmp_path, "version = [unclosed"))
    base = PACKAGED_CALENDAR.read_text(encoding="utf-8")
    overlap = base.replace("to = 2021-11-05", "to = 2021-11-09", 1)
    with pytest.raises(CalendarError, match="overlap"):
        TradingCalendar.load(_write(tmp_path, overlap))
    gap = base.replace("from = 2021-11-08", "from = 2021-11-10", 1)
    with pytest.raises(CalendarError, match="no WDO hours for 2021-11-08"):
        TradingCalendar.load(_write(tmp_path, gap))
    dup = base.replace("y2026 = [\n", "y2026 = [\n  { date = 2026-12-25, name = \"again\" },\n", 1)
    with pytest.raises(CalendarError, match="listed twice"):
        TradingCalendar.load(_write(tmp_path, dup))
    data = tomllib.loads(base)
    del data["version"]
    with pytest.raises(CalendarError, match="version"):
        TradingCalendar(data)
