/* The simulator's broker state on disk (SimSetStateFile, QT_SIM_STATE_FILE):
 * what lets the simulated venue outlive a client process that is killed
 * (kill -9) and restarted, as a real broker outlives its clients.
 *
 * The simulator is deterministic: given the replayed logs, its
 * configuration and the order commands with the exact point of the replay
 * at which each reached the order engine, the engine reproduces the same
 * orders, local ids, ClOrdIDs, event ids, fills, fees and positions.  So the
 * file holds no engine state, only those inputs, and a login with the file
 * replays them (sim_replay.c, fast-forward) before the client sees anything.
 *
 * POSITION.  A point of the replay is (records, events): records = log
 * records the connector thread has taken from the merged logs (all logs),
 * events = market events the order engine has been given (records of the
 * first log, the phases and limits the replay synthesizes, the end of the
 * replay).  `events` places a command exactly, also between two events of
 * one record (several records share a timestamp, and one record can give
 * the engine several events); `records` says where the replay stands.
 *
 * FORMAT.  UTF-8 text lines, fields separated by one space, each line ending
 * in " *" + the CRC-32C of what precedes it (8 hex digits) + "\n".  Strings
 * are escaped: '%', space, control characters and '~' as %XX, the empty
 * string as "~".  Doubles are their IEEE-754 bits in 16 hex digits (exact).
 *   QTSIMSTATE 1                       the format
 *   prefix <ClOrdID prefix>            of the session that created the file
 *   log <i> <path> <bytes> <crc of the first 64 KiB> <crc of the last 64 KiB> <ticker> <exchange>
 *   cfg <name> <value ...>             every setting the engine depends on
 *   begin                              end of the header
 * (the header is one write: it is whole or torn), then entries:
 *   C <records> <events> <now_ns> <command ...> = <result>   an order command
 *   K <records> <events> <now_ns>      the paced clock ran commands due between records
 *   A <records> <events>               reached: before an order callback fires, when
 *                                      the last line does not name this position yet
 *   P <records> <events> <state>       SimInjectPhase reached the engine (its event follows)
 * Each line is one unbuffered write(2) (WriteFile on Windows) made with the
 * orders lock held, before the request returns and before any callback it
 * causes: the OS page cache keeps it when the process is killed, so no
 * fsync is made (a machine crash may lose the tail; the format tolerates
 * a torn tail).
 *
 * OPEN (at a routing login).  The file is locked for the session first
 * (flock; on Windows LockFileEx of one byte far past the end): a file
 * another process holds refuses the login.  No file, an empty file, or a torn header: a
 * new file is written.  A file whose header matches the configured replay:
 * its entries are loaded for the fast-forward; a torn last line (killed
 * mid-write) is dropped and cut off the file before appending.  Anything
 * else (another replay or configuration, not a state file, a damaged line
 * before the end) refuses the login with a one-line SimGetLastError text. */
#ifndef SIM_STATE_FILE_H
#define SIM_STATE_FILE_H

#include <stdint.h>

#include "matching/sim_orders.h"

/* One order command as the order engine gets it, recorded and replayed by
 * the same dispatcher (sim_command_exec), so a restored session gives the
 * engine exactly what the live one did. */
enum sim_command_kind {
    SIM_COMMAND_SEND = 1,
    SIM_COMMAND_CHANGE,
    SIM_COMMAND_CANCEL,
    SIM_COMMAND_CANCEL_MANY,
    SIM_COMMAND_ZERO,
    SIM_COMMAND_LATENCY, /* SimSetOrderLatencyUs during the session */
    SIM_COMMAND_REJECTS, /* SimRejectOrders during the session */
};

typedef struct sim_command {
    int kind;
    union {
        sim_order_request send;
        sim_change_request change;
        sim_cancel_request cancel;
        sim_cancel_filter filter;
        sim_zero_request zero;
        int64_t latency_ns;
        struct {
            int64_t count;
            double probability;
            char reason[SIM_REASON_LEN];
        } rejects;
    } u;
} sim_command;

/* The command on the order side: a local id / NResult as the export returns. */
int64_t sim_command_exec(sim_orders *o, const sim_command *c);

struct sim_session;
typedef struct sim_state sim_state;

/* At DLLInitializeLogin, with the session's configuration final: open or
 * create s->cfg.state_path (nothing when empty) into s->state.  0, or -1
 * with SimGetLastError set (the login fails). */
int sim_state_open(struct sim_session *s);
void sim_state_close(struct sim_session *s);
/* The ClOrdID prefix the order engine must use ("" without a state file). */
const char *sim_state_prefix(const struct sim_session *s);

/* Appending (orders lock held).  A failed write sets SimGetLastError and is
 * counted (SimCounters.state_write_errors); the session goes on. */
void sim_state_command(struct sim_session *s, const sim_command *c, int64_t now_ns, int64_t result);
void sim_state_clock(struct sim_session *s, int64_t now_ns);
void sim_state_reached(struct sim_session *s);
/* An injected phase (SimInjectPhase) about to reach the engine: written in
 * the same hold of the orders lock as the engine takes it, so no command
 * falls between the line and the event. */
void sim_state_phase(struct sim_session *s, int state);

/* Fast-forward (connector thread, at login).  restore_target: 1 and the
 * records position to reach when the file has entries.  restore_due (orders
 * lock held): run the entries placed at the engine's current event count,
 * in file order.  restore_pending: entries not yet run.  restore_end: 0, or
 * -1 with SimGetLastError set when the replay did not reproduce the file
 * (an entry left over, or a command whose result differs).
 * restore_phase (orders lock held): 1 and the state when the next entry is
 * an injected phase placed at the current event count (consumed); the
 * connector then injects it as SimInjectPhase did. */
int sim_state_restore_phase(struct sim_session *s, int *state);
int sim_state_restore_target(const struct sim_session *s, uint64_t *records);
void sim_state_restore_due(struct sim_session *s);
int sim_state_restore_pending(const struct sim_session *s);
int sim_state_restore_end(struct sim_session *s);

#endif
