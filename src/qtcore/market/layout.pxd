# Typed interface to qt_layout.h (the byte layout of the records Python
# mirrors as numpy dtypes).
from libc.stdint cimport uint32_t


cdef extern from "market/qt_layout.h" nogil:
    ctypedef struct qt_field_layout:
        const char *name
        uint32_t offset
        uint32_t size

    ctypedef struct qt_record_layout:
        const char *name
        uint32_t size
        uint32_t n_fields
        const qt_field_layout *fields

    const qt_record_layout *qt_record_layouts(size_t *n)
