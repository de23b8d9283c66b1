/* See qt_layout.h.  offsetof and sizeof come from the compiler: only the
 * field lists are written by hand, and the tiling test catches a missing one. */
#include "market/qt_layout.h"

#include "market/qt_events.h"
#include "features/qt_features.h"
#include "market/qt_profit_csv.h"

#define FIELD(T, f) {#f, (uint32_t)offsetof(T, f), (uint32_t)sizeof(((T *)0)->f)}
#define COUNT(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static const qt_field_layout EVENT_FIELDS[] = {
    FIELD(qt_event, type),    FIELD(qt_event, flags),   FIELD(qt_event, instrument), FIELD(qt_event, crc),
    FIELD(qt_event, seq),     FIELD(qt_event, recv_ns), FIELD(qt_event, exch_ns),    FIELD(qt_event, price),
    FIELD(qt_event, qty),     FIELD(qt_event, code),    FIELD(qt_event, side),       FIELD(qt_event, aux),
    FIELD(qt_event, ref),     FIELD(qt_event, a),       FIELD(qt_event, b),
};

static const qt_field_layout ORDER_UPDATE_FIELDS[] = {
    FIELD(qt_order_update, type),          FIELD(qt_order_update, flags),
    FIELD(qt_order_update, instrument),    FIELD(qt_order_update, reserved),
    FIELD(qt_order_update, seq),           FIELD(qt_order_update, recv_ns),
    FIELD(qt_order_update, exch_ns),       FIELD(qt_order_update, local_id),
    FIELD(qt_order_update, event_id),      FIELD(qt_order_update, quantity),
    FIELD(qt_order_update, cum_qty),       FIELD(qt_order_update, leaves_qty),
    FIELD(qt_order_update, avg_price),     FIELD(qt_order_update, price),
    FIELD(qt_order_update, stop_price),    FIELD(qt_order_update, last_price),
    FIELD(qt_order_update, last_qty),      FIELD(qt_order_update, journal_id),
    FIELD(qt_order_update, status),        FIELD(qt_order_update, side),
    FIELD(qt_order_update, order_type),    FIELD(qt_order_update, cl_ord_id_len),
    FIELD(qt_order_update, error_code),    FIELD(qt_order_update, cl_ord_id),
    FIELD(qt_order_update, _pad),
};

static const qt_field_layout PCSV_ISSUE_FIELDS[] = {
    FIELD(qt_pcsv_issue, line),
    FIELD(qt_pcsv_issue, reason),
    FIELD(qt_pcsv_issue, _pad),
};

static const qt_field_layout TZ_TRANSITION_FIELDS[] = {
    FIELD(qt_fe_tz_transition, utc_ns_from),
    FIELD(qt_fe_tz_transition, offset_s),
    FIELD(qt_fe_tz_transition, _pad),
};

static const qt_field_layout SESSION_HOURS_FIELDS[] = {
    FIELD(qt_fe_session_hours, date),
    FIELD(qt_fe_session_hours, open_s),
    FIELD(qt_fe_session_hours, close_s),
};

/* Not a numpy mirror: FeatureEngine.counters is this struct as a dict. */
static const qt_field_layout FE_COUNTERS_FIELDS[] = {
    FIELD(qt_fe_counters, trades),         FIELD(qt_fe_counters, rows),
    FIELD(qt_fe_counters, ts_regressions), FIELD(qt_fe_counters, ts_missing),
    FIELD(qt_fe_counters, edits),          FIELD(qt_fe_counters, after_hours),
    FIELD(qt_fe_counters, invalid),        FIELD(qt_fe_counters, session_resets),
    FIELD(qt_fe_counters, book_records),   FIELD(qt_fe_counters, book_rejected),
    FIELD(qt_fe_counters, book_events),    FIELD(qt_fe_counters, book_untimed),
    FIELD(qt_fe_counters, recomputations), FIELD(qt_fe_counters, skipped_records),
};

static const qt_record_layout LAYOUTS[] = {
    {"qt_event", sizeof(qt_event), COUNT(EVENT_FIELDS), EVENT_FIELDS},
    {"qt_order_update", sizeof(qt_order_update), COUNT(ORDER_UPDATE_FIELDS), ORDER_UPDATE_FIELDS},
    {"qt_pcsv_issue", sizeof(qt_pcsv_issue), COUNT(PCSV_ISSUE_FIELDS), PCSV_ISSUE_FIELDS},
    {"qt_fe_tz_transition", sizeof(qt_fe_tz_transition), COUNT(TZ_TRANSITION_FIELDS), TZ_TRANSITION_FIELDS},
    {"qt_fe_session_hours", sizeof(qt_fe_session_hours), COUNT(SESSION_HOURS_FIELDS), SESSION_HOURS_FIELDS},
    {"qt_fe_counters", sizeof(qt_fe_counters), COUNT(FE_COUNTERS_FIELDS), FE_COUNTERS_FIELDS},
};

const qt_record_layout *qt_record_layouts(size_t *n) {
    *n = sizeof LAYOUTS / sizeof LAYOUTS[0];
    return LAYOUTS;
}
