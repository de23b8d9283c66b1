/* The byte layout of the C structs that Python mirrors: records as numpy
 * dtypes (quantumtrader.data.events.EVENT_DTYPE for qt_event,
 * quantumtrader.adapters.profitdll.order_updates.ORDER_UPDATE_DTYPE for qt_order_update,
 * quantumtrader.importers.profit_csv.ISSUE_DTYPE for qt_pcsv_issue, and the
 * feature engine's configuration arrays in quantumtrader.qtcore.features for
 * qt_fe_tz_transition and qt_fe_session_hours) and counters as dicts
 * (FeatureEngine.counters for qt_fe_counters), as the compiler lays them
 * out: every field's name, offsetof and sizeof, in declaration order.
 *
 * Contract: each table lists every field of its struct, so the fields tile
 * the struct from 0 to its sizeof with no gap and no overlap (an
 * explicit padding field names its bytes); a test checks that, and checks
 * each numpy mirror field by field against it (names, offsets, sizes).  A
 * field added to a struct without its line here breaks the tiling. */
#ifndef QT_LAYOUT_H
#define QT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct qt_field_layout {
    const char *name; /* the C field name */
    uint32_t offset;  /* offsetof */
    uint32_t size;    /* sizeof (arrays: the whole array) */
} qt_field_layout;

typedef struct qt_record_layout {
    const char *name; /* the C type name, e.g. "qt_event" */
    uint32_t size;    /* sizeof the struct */
    uint32_t n_fields;
    const qt_field_layout *fields;
} qt_record_layout;

/* All tables; *n gets their count. */
const qt_record_layout *qt_record_layouts(size_t *n);

#endif
