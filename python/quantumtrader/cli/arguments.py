"""The argument types every command shares, so a flag means and checks the
same thing whichever command takes it.  Each raises ArgumentTypeError with a
short reason; argparse prefixes it with the flag's name ("argument
--price-unit: must be > 0 (got -1)") and exits 2."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable


def count(text: str) -> int:
    """A whole number >= 0."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {n})")
    return n


def number(text: str) -> float:
    """A finite number (no NaN, no infinity)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be finite (got {text})")
    return x


def positive(text: str) -> float:
    x = number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
    return x


def not_negative(text: str) -> float:
    x = number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {text})")
    return x


def share(text: str) -> float:
    x = number(text)
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1 (got {text})")
    return x


def power_of_ten(*, at_least_one: bool) -> Callable[[str], float]:
    """A power of ten, >= 1 (quantity scales) or <= 1 (price units)."""

    def parse(text: str) -> float:
        x = positive(text)
        k = round(math.log10(x))
        if not math.isclose(x, 10.0**k, rel_tol=1e-12):
            raise argparse.ArgumentTypeError(f"must be a power of ten (got {text})")
        if at_least_one and k < 0:
            raise argparse.ArgumentTypeError(f"must be 1 or more (got {text})")
        if not at_least_one and k > 0:
            raise argparse.ArgumentTypeError(f"must be 1 or less (got {text})")
        return x

    return parse


def yyyymmdd(text: str) -> int:
    """A calendar date written YYYYMMDD, as that integer."""
    try:
        day = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYYMMDD: {text!r}") from None
    return day.year * 10000 + day.month * 100 + day.day


def ticker(text: str) -> str:
    """An instrument name an event log's header can hold."""
    from quantumtrader.qtcore.evlog import INSTRUMENT_MAX_BYTES

    name = text.strip()
    if not name or len(name.encode()) > INSTRUMENT_MAX_BYTES or "," in name:
        raise argparse.ArgumentTypeError(
            f"a ticker is 1 to {INSTRUMENT_MAX_BYTES} bytes without a comma (got {text!r})"
        )
    return name
