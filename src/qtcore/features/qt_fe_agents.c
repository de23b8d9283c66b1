/* The feature engine's agent ranking, the parts off the per-trade path (see
 * qt_fe_agents.h for the contract). */
#include "features/qt_fe_agents.h"

void qt_fe_agents_clear(fe_agents *ag) {
    for (int i = 0; i < AGENT_MAP; i++) ag->map_slot[i] = -1;
    for (int i = 0; i < AGENT_SLOTS; i++) ag->free_slots[i] = (int16_t)(AGENT_SLOTS - 1 - i);
    ag->n_free = AGENT_SLOTS;
    ag->buy.len = 0;
    ag->sell.len = 0;
}

/* Linear-probing deletion with backward shift (no tombstones, so lookups
 * stay short however long the session). */
void qt_fe_agent_free(fe_agents *ag, int s) {
    int32_t id = ag->slot_id[s];
    uint32_t i = agent_hash(id);
    while (ag->map_key[i] != id || ag->map_slot[i] != s) i = (i + 1) & (AGENT_MAP - 1);
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & (AGENT_MAP - 1);
        if (ag->map_slot[j] < 0) break;
        uint32_t home = agent_hash(ag->map_key[j]);
        /* move j into the hole i unless its home lies cyclically in (i, j] */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            ag->map_key[i] = ag->map_key[j];
            ag->map_slot[i] = ag->map_slot[j];
            i = j;
        }
    }
    ag->map_slot[i] = -1;
    ag->free_slots[ag->n_free++] = (int16_t)s;
}
