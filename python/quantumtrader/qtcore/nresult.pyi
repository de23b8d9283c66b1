"""Type stub of quantumtrader.qtcore.nresult (src/qtcore/profitdll/nresult.pyx)."""

FIRST_ERROR: int
LAST_ERROR: int
OK: int

def error_names() -> tuple: ...
