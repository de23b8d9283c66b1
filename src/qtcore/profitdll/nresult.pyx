"""ProfitDLL's NResult codes as ``qt_profitdll.h`` defines them: the one
list of names, which ``quantumtrader.adapters.profitdll.errors`` builds its exception
classes from (this module imports nothing from Python, so the binding can
import the errors module without a cycle)."""

from libc.stdint cimport int64_t

from nresult cimport NL_FIRST_ERROR, NL_LAST_ERROR, NL_OK, qt_profitdll_nresult_name

OK = NL_OK
FIRST_ERROR = NL_FIRST_ERROR  # 0x80000001 as signed int32
LAST_ERROR = NL_LAST_ERROR


def error_names() -> tuple:
    """The error names ("NL_INTERNAL_ERROR", ...) for FIRST_ERROR upward."""
    cdef int64_t code
    return tuple(qt_profitdll_nresult_name(code).decode("ascii") for code in range(NL_FIRST_ERROR, NL_LAST_ERROR + 1))
