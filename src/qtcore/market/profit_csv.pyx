# cython: freethreading_compatible=False
"""The C parser of the Profit tick CSV export (``qt_profit_csv.c``).

:class:`ProfitCsvParser` turns byte chunks into event records; the Python
importer (``quantumtrader.importers.profit_csv``) owns the file, the time
zone and the broker dictionary, and answers the parser's pauses (a new date,
a new broker name).  Status codes and reasons mirror ``qt_profit_csv.h``."""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

from events cimport QT_EVENT_SIZE, qt_event
from profit_csv cimport (
    QT_PCSV_DONE, QT_PCSV_ERROR, QT_PCSV_NEED_AGENT, QT_PCSV_NEED_DATE, QT_PCSV_OUT_FULL,
    QT_PCSV_REASON_COUNT, qt_pcsv, qt_pcsv_add_agent, qt_pcsv_agent_id, qt_pcsv_counters, qt_pcsv_create,
    qt_pcsv_days_from_civil, qt_pcsv_destroy, qt_pcsv_get_counters, qt_pcsv_issue, qt_pcsv_next_line,
    qt_pcsv_next_seq, qt_pcsv_parse, qt_pcsv_result, qt_pcsv_set_date, qt_pcsv_set_position,
)

DONE = QT_PCSV_DONE
OUT_FULL = QT_PCSV_OUT_FULL
NEED_DATE = QT_PCSV_NEED_DATE
NEED_AGENT = QT_PCSV_NEED_AGENT
REASON_COUNT = QT_PCSV_REASON_COUNT
ISSUE_SIZE = sizeof(qt_pcsv_issue)

# qt_pcsv_reason numbers -> names used in reports
REASONS = {
    1: "wrong field count",
    2: "unparsable number",
    3: "price NaN, negative or zero",
    4: "price off the price-unit grid",
    5: "qty negative, zero or too large",
    6: "bad date",
    7: "bad time",
    8: "aft neither S nor N",
    9: "broker name too long",
    10: "other ticker",
    11: "out of order (kept)",
}
BAD_REASONS = frozenset(range(1, 11))
OUT_OF_ORDER = 11


def days_from_civil(int32_t y, int32_t m, int32_t d):
    """Days since 1970-01-01 (the C parser's date arithmetic, for tests)."""
    return qt_pcsv_days_from_civil(y, m, d)


cdef class ProfitCsvParser:
    """Streaming parser state: broker table, per-date UTC offsets, line and
    seq counters, the previous row's order key and the counters."""

    cdef qt_pcsv *_p

    def __cinit__(self, bytes ticker, double price_unit, uint32_t max_listed=20):
        self._p = qt_pcsv_create(ticker, len(ticker), price_unit, max_listed)
        if self._p == NULL:
            raise ValueError(f"invalid parser arguments: ticker={ticker!r} (1..64 bytes), "
                             f"price_unit={price_unit} (> 0)")

    def __dealloc__(self):
        if self._p != NULL:
            qt_pcsv_destroy(self._p)
            self._p = NULL

    def add_agent(self, bytes name, int32_t agent_id):
        if qt_pcsv_add_agent(self._p, name, len(name), agent_id) != 0:
            raise ValueError(f"cannot add broker {name!r} as {agent_id} (name too long or out of memory)")

    def agent_id(self, bytes name):
        """The id of a broker name (bytes as in the file), or -1."""
        return qt_pcsv_agent_id(self._p, name, len(name))

    def set_date(self, int32_t yyyymmdd, offsets):
        """UTC offsets in seconds (UTC = local - offset) of the 24 local hours."""
        cdef int32_t off[24]
        if len(offsets) != 24:
            raise ValueError("24 hourly offsets expected")
        for i in range(24):
            off[i] = offsets[i]
        if qt_pcsv_set_date(self._p, yyyymmdd, off) != 0:
            raise ValueError(f"invalid date {yyyymmdd}")

    def set_position(self, int64_t next_line, uint64_t next_seq):
        qt_pcsv_set_position(self._p, next_line, next_seq)

    @property
    def next_line(self):
        return qt_pcsv_next_line(self._p)

    @property
    def next_seq(self):
        return qt_pcsv_next_seq(self._p)

    def counters(self):
        cdef qt_pcsv_counters c
        qt_pcsv_get_counters(self._p, &c)
        return {
            "lines": c.lines, "rows": c.rows, "trades": c.trades, "sessions": c.sessions,
            "after_hours": c.after_hours, "blank": c.blank, "bad": c.bad,
            "reasons": {r: c.reasons[r] for r in range(1, QT_PCSV_REASON_COUNT) if c.reasons[r]},
        }

    def parse(self, const uint8_t[::1] buf, bint final, uint8_t[::1] out, uint8_t[::1] issues):
        """Parse whole lines of ``buf`` into ``out`` (a byte view of an
        EVENT_DTYPE array) and ``issues`` (a byte view of 16-byte
        (line int64, reason int32, pad) records).  Returns (status, consumed,
        n_events, n_issues, need_date, agent_off, agent_len)."""
        cdef qt_pcsv_result res
        cdef size_t out_cap = out.shape[0] // QT_EVENT_SIZE
        cdef size_t issue_cap = issues.shape[0] // sizeof(qt_pcsv_issue)
        cdef const char *bp = <const char *>&buf[0] if buf.shape[0] else NULL
        cdef qt_event *op = <qt_event *>&out[0] if out_cap else NULL
        cdef qt_pcsv_issue *ip = <qt_pcsv_issue *>&issues[0] if issue_cap else NULL
        cdef size_t n = buf.shape[0]
        cdef int st
        with nogil:
            st = qt_pcsv_parse(self._p, bp, n, final, op, out_cap, ip, issue_cap, &res)
        if st == QT_PCSV_ERROR:
            raise ValueError("qt_pcsv_parse: invalid arguments")
        return (st, res.consumed, res.n_events, res.n_issues, res.need_date, res.agent_off, res.agent_len)
