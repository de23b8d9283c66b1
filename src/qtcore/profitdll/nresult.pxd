# Typed interface to the NResult codes of qt_profitdll.h.
from libc.stdint cimport int64_t


cdef extern from "profitdll/qt_profitdll.h" nogil:
    enum: NL_OK
    enum: NL_FIRST_ERROR
    enum: NL_LAST_ERROR
    const char *qt_profitdll_nresult_name(int64_t r)
