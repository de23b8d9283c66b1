/* Latency model of the matching engine (sim_matching.h, "Latency").
 *
 * Contract: a command (new order, change, cancel) sent at market time t
 * reaches the exchange at t + latency (saturating at INT64_MAX), with the
 * latency in force when it was sent (a later change applies to later
 * commands only).  Commands leave in (due time, send order): two commands
 * due at the same time keep the order they were sent in.  The queue holds
 * at most `capacity` commands in flight (fixed when created; nothing
 * allocates afterwards).  Market time itself is the engine's: this model
 * only says when each command falls due. */
#ifndef SIM_LATENCY_H
#define SIM_LATENCY_H

#include <stdint.h>

enum sim_command_kind { SIM_CMD_NEW = 1, SIM_CMD_CHANGE = 2, SIM_CMD_CANCEL = 3 };

typedef struct sim_command {
    int64_t due; /* market time it reaches the exchange */
    uint64_t seq; /* send order */
    int64_t local_id;
    int64_t price, stop, qty; /* SIM_CMD_CHANGE: the new values (or SIM_MATCH_KEEP) */
    int kind;                 /* sim_command_kind */
} sim_command;

typedef struct sim_latency {
    int64_t latency; /* ns, >= 0 */
    sim_command *heap; /* min-heap on (due, seq) */
    uint32_t n, capacity;
    uint64_t seq;
} sim_latency;

/* 0, or -1 when out of memory. */
int sim_latency_init(sim_latency *q, int64_t latency_ns, uint32_t capacity);
void sim_latency_free(sim_latency *q);

static inline int sim_latency_full(const sim_latency *q) { return q->n == q->capacity; }

/* Due time (market ns) of the earliest command in flight, INT64_MAX when none. */
static inline int64_t sim_latency_next_due(const sim_latency *q) { return q->n ? q->heap[0].due : INT64_MAX; }

/* Queue command c sent at market time now (the caller checked it is not
 * full): it falls due at now + latency. */
void sim_latency_send(sim_latency *q, int64_t now, sim_command c);

/* The earliest command due by t into *out and 1, or 0 when none is due. */
int sim_latency_pop_due(sim_latency *q, int64_t t, sim_command *out);

#endif
