"""The day-trade tax table: dated, editable, Decimal, one-line refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from quantumtrader.portfolio.tax import TaxTable, TaxTableError, default_tax_table

TABLE = """
version = "test"
[[day_trade]]
from = 2005-01-01
rate = 0.20
withheld_at_source = 0.01
[[day_trade]]
from = 2027-01-01
rate = 0.175
withheld_at_source = 0.01
"""


def _table(tmp_path: Path, text: str) -> TaxTable:
    p = tmp_path / "tax.toml"
    p.write_text(text, encoding="utf-8")
    return TaxTable.load(p)


def test_each_rate_applies_from_its_date(tmp_path: Path) -> None:
    t = _table(tmp_path, TABLE)
    e = t.estimate(Decimal("1000.05"), dt.date(2026, 12, 31))
    assert (e.taxable_brl, e.tax_brl, e.withheld_brl, e.due_brl) == (
        Decimal("1000.05"), Decimal("200.01"), Decimal("10.00"), Decimal("190.01"))
    assert t.estimate(Decimal("1000"), dt.date(2027, 1, 1)).tax_brl == Decimal("175.00")
    assert t.estimate(Decimal("-50"), dt.date(2026, 1, 2)).tax_brl == Decimal("0.00")
    with pytest.raises(TaxTableError, match="first entry is from 2005-01-01"):
        t.rate(dt.date(2004, 12, 31))


def test_the_packaged_table_is_brazils_20_percent_with_1_percent_withheld() -> None:
    r = default_tax_table().rate(dt.date(2026, 12, 4))
    assert (r.rate, r.withheld_at_source) == (Decimal("0.2"), Decimal("0.01"))


@pytest.mark.parametrize(("text", "message"), [
    ('[[day_trade]]\nfrom = 2020-01-01\nrate = nan\nwithheld_at_source = 0.01\n', r"day_trade\[0\].rate"),
    ('[[day_trade]]\nfrom = 2020-01-01\nrate = 0.2\nwithheld_at_source = 0.3\n', "more than the rate"),
    ('[[day_trade]]\nfrom = 2020-01-01\nrate = 0.2\n', "needs exactly from, rate and withheld_at_source"),
    ('[swing]\nrate = 0.15\n', "unknown key 'swing'"),
    ('rate = [', "not valid TOML"),
])
def test_a_bad_table_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TaxTableError, match=message) as e:
        _table(tmp_path, text)
    assert "\n" not in str(e.value)
