"""See ``quantumtrader/venue/__init__.py``: the names src/qtcore/profitdll.pyx imports."""

from quantumtrader.adapters.profitdll.errors import LibraryLoadError, check_nresult, error_for

__all__ = ["LibraryLoadError", "check_nresult", "error_for"]
