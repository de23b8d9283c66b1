"""The byte layout of the C records that Python mirrors as numpy dtypes, as
the C compiler lays them out (see ``qt_layout.h``): what the tests check
every mirrored dtype against, field by field."""
from libc.stdint cimport uint32_t

from layout cimport qt_record_layout, qt_record_layouts


def record_layouts() -> dict:
    """``{C type name: (sizeof, [(field, offsetof, sizeof), ...])}``, fields
    in declaration order."""
    cdef size_t n = 0
    cdef size_t i
    cdef uint32_t k
    cdef const qt_record_layout *layouts = qt_record_layouts(&n)
    out = {}
    for i in range(n):
        fields = [(layouts[i].fields[k].name.decode("ascii"), layouts[i].fields[k].offset,
                   layouts[i].fields[k].size) for k in range(layouts[i].n_fields)]
        out[layouts[i].name.decode("ascii")] = (layouts[i].size, fields)
    return out
