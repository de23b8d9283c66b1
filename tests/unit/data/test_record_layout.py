"""Every numpy mirror of a C record has the C layout, field by field: the
name, offset and size of each field as the C compiler lays the struct out
(``qt_layout.h``), not only the item size."""

from __future__ import annotations

import numpy as np
import pytest

from quantumtrader.adapters.profitdll.order_updates import ORDER_UPDATE_DTYPE
from quantumtrader.data.events import EVENT_DTYPE
from quantumtrader.data.importers.profit_csv import ISSUE_DTYPE
from quantumtrader.qtcore import features
from quantumtrader.qtcore.layout import record_layouts

MIRRORS = {
    "qt_event": EVENT_DTYPE,
    "qt_order_update": ORDER_UPDATE_DTYPE,
    "qt_pcsv_issue": ISSUE_DTYPE,
    # the engine's time-zone and session-hours arrays, handed to C as they are
    "qt_fe_tz_transition": features._TZ_DTYPE,
    "qt_fe_session_hours": features._SESSION_DTYPE,
}


def _name(field: str) -> str:
    # a padding field is `_pad` in C and may be `pad` in Python: the
    # leading underscore is the only difference allowed
    return field.lstrip("_")


def _dtype_fields(dtype: np.dtype) -> list[tuple[str, int, int]]:
    fields = [(name, dtype.fields[name][1], dtype.fields[name][0].itemsize) for name in dtype.names]
    return sorted(fields, key=lambda f: f[1])


def test_every_mirrored_record_has_a_c_layout() -> None:
    assert set(record_layouts()) == set(MIRRORS) | {"qt_fe_counters"}


@pytest.mark.parametrize("c_type", sorted(record_layouts()))
def test_c_table_lists_every_field_of_the_struct(c_type: str) -> None:
    size, fields = record_layouts()[c_type]
    end = 0
    for name, offset, nbytes in sorted(fields, key=lambda f: f[1]):
        assert offset == end, f"{c_type}: gap or overlap before {name} (offset {offset}, expected {end})"
        end = offset + nbytes
    assert end == size, f"{c_type}: fields end at {end}, the struct is {size} bytes"


@pytest.mark.parametrize("c_type", sorted(MIRRORS))
def test_numpy_mirror_matches_c_field_by_field(c_type: str) -> None:
    size, fields = record_layouts()[c_type]
    dtype = MIRRORS[c_type]
    assert dtype.itemsize == size
    c = [(_name(n), off, nbytes) for n, off, nbytes in fields]
    py = [(_name(n), off, nbytes) for n, off, nbytes in _dtype_fields(dtype)]
    assert py == c


def test_feature_counters_name_every_c_counter() -> None:
    # FeatureEngine.counters is qt_fe_counters converted by Cython: a counter
    # added in C but not declared to Cython would be missing here
    _, fields = record_layouts()["qt_fe_counters"]
    engine = features.FeatureEngine(0.5, 0.5)
    assert list(engine.counters) == [name for name, _, _ in fields]
    assert all(isinstance(v, int) and v == 0 for v in engine.counters.values())


def test_a_wrong_offset_is_caught() -> None:
    # the check compares offsets, not only the item size: swapping two
    # fields of one size keeps the size and must fail
    names = list(EVENT_DTYPE.names)
    i, j = names.index("recv_ns"), names.index("exch_ns")
    names[i], names[j] = names[j], names[i]
    swapped = np.dtype({"names": names, "formats": [EVENT_DTYPE.fields[n][0] for n in EVENT_DTYPE.names],
                        "offsets": [EVENT_DTYPE.fields[n][1] for n in EVENT_DTYPE.names]})
    assert swapped.itemsize == EVENT_DTYPE.itemsize
    _, fields = record_layouts()["qt_event"]
    assert _dtype_fields(swapped) != [(n, off, nbytes) for n, off, nbytes in fields]
