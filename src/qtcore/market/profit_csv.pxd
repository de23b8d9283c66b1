# Typed interface to qt_profit_csv.h, cimported by profit_csv.pyx.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from events cimport qt_event


cdef extern from "market/qt_profit_csv.h" nogil:
    enum: QT_PCSV_FIELDS
    enum: QT_PCSV_MAX_AGENT_LEN
    enum: QT_PCSV_REASON_COUNT
    enum: QT_PCSV_DONE
    enum: QT_PCSV_OUT_FULL
    enum: QT_PCSV_NEED_DATE
    enum: QT_PCSV_NEED_AGENT
    enum: QT_PCSV_ERROR
    ctypedef struct qt_pcsv:
        pass
    ctypedef struct qt_pcsv_issue:
        int64_t line
        int32_t reason
    ctypedef struct qt_pcsv_counters:
        uint64_t lines, rows, trades, sessions, after_hours, blank, bad
        uint64_t reasons[12]
    ctypedef struct qt_pcsv_result:
        size_t consumed, n_events, n_issues
        int32_t need_date
        size_t agent_off, agent_len
    qt_pcsv *qt_pcsv_create(const char *ticker, size_t ticker_len, double price_unit, uint32_t max_listed)
    void qt_pcsv_destroy(qt_pcsv *p)
    int qt_pcsv_add_agent(qt_pcsv *p, const char *name, size_t len, int32_t id)
    int32_t qt_pcsv_agent_id(const qt_pcsv *p, const char *name, size_t len)
    int qt_pcsv_set_date(qt_pcsv *p, int32_t yyyymmdd, const int32_t *offsets)
    void qt_pcsv_set_position(qt_pcsv *p, int64_t next_line, uint64_t next_seq)
    int64_t qt_pcsv_next_line(const qt_pcsv *p)
    uint64_t qt_pcsv_next_seq(const qt_pcsv *p)
    void qt_pcsv_get_counters(const qt_pcsv *p, qt_pcsv_counters *out)
    int qt_pcsv_parse(qt_pcsv *p, const char *buf, size_t len, int final, qt_event *out, size_t out_cap,
                      qt_pcsv_issue *issues, size_t issue_cap, qt_pcsv_result *res)
    int64_t qt_pcsv_days_from_civil(int32_t y, int32_t m, int32_t d)
