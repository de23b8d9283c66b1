/* Reading one of our event logs (qt_evlog format) for replay: the header,
 * the agent dictionary (ids -> names, served by GetAgentNameByID) and a
 * census of what the log holds, then sequential cursors over its valid
 * prefix (records whose CRC holds and whose seq increases; a torn tail is
 * ignored as every reader of the format does).  Reads with stdio in blocks,
 * so logs of any size replay in constant memory; a second cursor serves
 * history requests while the replay cursor runs. */
#ifndef SIM_LOG_H
#define SIM_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "market/qt_events.h"
#include "market/qt_evlog.h"

typedef struct sim_log {
    char *path;
    qt_evlog_header header;
    uint64_t records;                    /* valid prefix */
    int tail_reason;                     /* qt_evlog_tail of the prefix's end */
    uint64_t type_count[QT_EV__COUNT];   /* records per type in the prefix */
    int64_t first_exch_ns, last_exch_ns; /* QT_TIME_NONE if none */
    uint32_t n_agents;
    uint16_t **agents; /* UTF-16 names, NUL-terminated; agents[i] may be NULL */
} sim_log;

#define SIM_LOG_BLOCK 1024 /* records read per fread */

typedef struct sim_log_cursor {
    FILE *f;
    const sim_log *log;
    uint64_t index;   /* index of the next record to return */
    qt_event *buf;
    uint32_t buf_n, buf_pos;
    uint64_t last_seq;
} sim_log_cursor;

/* Open and census a log.  0 on success; else -1 with a message in err. */
int sim_log_open(sim_log *lg, const char *path_utf8, char *err, size_t errcap);
void sim_log_close(sim_log *lg);

int sim_log_cursor_open(sim_log_cursor *c, const sim_log *lg);
/* Next record of the valid prefix, or NULL at its end (or on a read error).
 * The pointer stays valid until the next call. */
const qt_event *sim_log_cursor_next(sim_log_cursor *c);
/* The record after the one last returned, without consuming it (NULL at end). */
const qt_event *sim_log_cursor_peek(sim_log_cursor *c);
void sim_log_cursor_close(sim_log_cursor *c);

#endif
