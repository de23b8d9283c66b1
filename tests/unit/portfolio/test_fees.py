"""The B3 fee table: dated, editable, Decimal, one-line refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from quantumtrader.portfolio.fees import FeeTable, FeeTableError, default_fee_table

TABLE = """
version = "test"
[broker]
per_contract = 0.25
[[instruments.WDO]]
from = 2025-01-01
day_trade = 1.00
overnight = 2.00
[[instruments.WDO]]
from = 2026-07-01
day_trade = 1.10
overnight = 2.20
"""


def _table(tmp_path: Path, text: str) -> FeeTable:
    p = tmp_path / "fees.toml"
    p.write_text(text, encoding="utf-8")
    return FeeTable.load(p)


def test_each_entry_applies_from_its_date_plus_the_broker_fee(tmp_path: Path) -> None:
    t = _table(tmp_path, TABLE)
    assert t.fee("WDO", dt.date(2025, 3, 1)) == Decimal("1.25")
    assert t.fee("wdo", dt.date(2026, 6, 30), day_trade=False) == Decimal("2.25")
    assert t.fee("WDO", dt.date(2026, 7, 1)) == Decimal("1.35")  # the new price from its first day
    with pytest.raises(FeeTableError, match="first entry is from 2025-01-01"):
        t.fee("WDO", dt.date(2024, 12, 31))
    with pytest.raises(FeeTableError, match="no fees for WIN"):
        t.fee("WIN", dt.date(2026, 1, 5))


def test_the_packaged_table_has_both_minis() -> None:
    t = default_fee_table()
    assert t.fee("WDO", dt.date(2026, 12, 1)) == Decimal("1.20")
    assert t.fee("WIN", dt.date(2026, 12, 1)) == Decimal("0.30")
    assert t.fee("WIN", dt.date(2026, 12, 1), day_trade=False) > t.fee("WIN", dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[[instruments.WDO]]\nfrom = 2025-01-01\nday_trade = -1\novernight = 1\n", "day_trade"),
        ("[[instruments.WDO]]\nfrom = 2025-01-01\nday_trade = 1\n", "needs exactly"),
        ("[[instruments.WDO]]\nfrom = '2025'\nday_trade = 1\novernight = 1\n", "from: must be a date"),
        ("[broker]\nper_contract = 'x'\n", "per_contract"),
        ("[tax]\nrate = 0.2\n", "unknown key 'tax'"),
        ("[[instruments.WDO]]\nfrom = 2025-01-01\nday_trade = 1\novernight = 1\n"
         "[[instruments.WDO]]\nfrom = 2025-01-01\nday_trade = 2\novernight = 2\n", "same date"),
        ("not toml at all", "not valid TOML"),
    ],
)
def test_a_bad_table_is_one_line_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(FeeTableError) as e:
        _table(tmp_path, text)
    assert "\n" not in str(e.value) and named in str(e.value) and "fees.toml" in str(e.value)
