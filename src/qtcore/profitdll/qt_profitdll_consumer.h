/* The feed's consumer slot (qt_profitdll_feed_set_consumer in
 * qt_profitdll_feed.h), internal to the binding: the callback entry points
 * (qt_profitdll_callbacks.c) call these after they have pushed, outside the
 * feed lock; the slot and its setter live in qt_profitdll_consumer.c.
 *
 * The check is inline so that with no consumer installed (live trading) a
 * callback pays one atomic pointer load and a predicted branch. */
#ifndef QT_PROFITDLL_CONSUMER_H
#define QT_PROFITDLL_CONSUMER_H

#include "platform/qt_atomic.h"
#include "profitdll/qt_profitdll_feed.h"

extern _Atomic(const qt_profitdll_consumer *) qt_profitdll_consumer_slot_;

/* Enter the installed consumer (if it is still installed) and call its
 * after_order (order != 0) or after_market function. */
void qt_profitdll_consumer_call_(int order);

QT_INLINE void qt_profitdll_after_market_(void) {
    if (QT_UNLIKELY(atomic_load_explicit(&qt_profitdll_consumer_slot_, memory_order_acquire) != NULL))
        qt_profitdll_consumer_call_(0);
}

QT_INLINE void qt_profitdll_after_order_(void) {
    if (QT_UNLIKELY(atomic_load_explicit(&qt_profitdll_consumer_slot_, memory_order_acquire) != NULL))
        qt_profitdll_consumer_call_(1);
}

#endif
