/* The on-disk event log: an append-only file of 64-byte qt_event records
 * behind a versioned header, readable by memory mapping.
 *
 * File layout (all integers little-endian, as the records are):
 *
 *   [0, 1024)             qt_evlog_header: magic, version, sizes, the
 *                         instrument's price unit / tick size / qty scale,
 *                         names, created_ns; its own CRC.  Written once.
 *   [1024, header_size)   two agent-dictionary slots of equal size.  The
 *                         dictionary (agent id -> name) grows while records
 *                         stream, so it is rewritten in place at each flush,
 *                         alternately into slot 0 and slot 1 with a rising
 *                         generation: a write torn by a crash spoils only the
 *                         slot being written and the reader takes the valid
 *                         slot with the highest generation.
 *   [header_size, ...)    records, each with crc = CRC-32C of its 64 bytes
 *                         taken with the crc field zero.
 *
 * A dictionary slot is a qt_evlog_dict_slot followed by `count` entries,
 * each a uint16 byte length and that many bytes of UTF-8 (index = agent id).
 *
 * After a crash the file may end in a torn record, garbage or zeros (a
 * filesystem that grew the file before the data reached the disk).
 * qt_evlog_validate finds the prefix of records whose checksums hold and
 * whose seq strictly increases; readers keep that prefix and ignore the rest.
 *
 * The writer uses stdio only, buffers records itself (no syscall per record)
 * and never takes a lock or calls back into Python: the recorder's writer
 * thread drives it directly, and the Cython wrapper releases the GIL. */
#ifndef QT_EVLOG_H
#define QT_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "market/qt_events.h"

#define QT_EVLOG_MAGIC "QTEVLOG" /* 8 bytes with its NUL */
#define QT_EVLOG_VERSION 1u
#define QT_EVLOG_FIXED_SIZE 1024u
#define QT_EVLOG_DEFAULT_HEADER_SIZE 65536u
#define QT_EVLOG_MIN_HEADER_SIZE 2048u
#define QT_EVLOG_MAX_HEADER_SIZE (16u << 20)
#define QT_EVLOG_INSTRUMENT_LEN 64u
#define QT_EVLOG_CALENDAR_LEN 64u
#define QT_EVLOG_SOURCE_LEN 768u
#define QT_EVLOG_MAX_NAME_BYTES 65535u

/* The fixed part of the header, exactly as on disk.  Strings are UTF-8,
 * NUL-padded, at most LEN-1 bytes (always NUL-terminated). */
typedef struct qt_evlog_header {
    char magic[8];           /* QT_EVLOG_MAGIC */
    uint32_t version;        /* QT_EVLOG_VERSION */
    uint32_t header_size;    /* offset of the first record; multiple of 64 */
    uint32_t record_size;    /* QT_EVENT_SIZE */
    uint32_t header_crc;     /* CRC-32C of these 1024 bytes with this field 0 */
    double price_unit;       /* float price = qt_price_to_double(price, price_unit) */
    double tick_size;        /* minimum price increment, float price units */
    double qty_scale;        /* integer qty = real qty * qty_scale */
    int64_t created_ns;      /* UTC ns */
    uint8_t reserved[72];    /* zero; room for fixed fields of later versions */
    char instrument[QT_EVLOG_INSTRUMENT_LEN];
    char calendar_version[QT_EVLOG_CALENDAR_LEN];
    char source[QT_EVLOG_SOURCE_LEN];
} qt_evlog_header;

_Static_assert(sizeof(qt_evlog_header) == QT_EVLOG_FIXED_SIZE, "fixed header is 1024 bytes");
_Static_assert(offsetof(qt_evlog_header, version) == 8, "layout");
_Static_assert(offsetof(qt_evlog_header, header_size) == 12, "layout");
_Static_assert(offsetof(qt_evlog_header, record_size) == 16, "layout");
_Static_assert(offsetof(qt_evlog_header, header_crc) == 20, "layout");
_Static_assert(offsetof(qt_evlog_header, price_unit) == 24, "layout");
_Static_assert(offsetof(qt_evlog_header, tick_size) == 32, "layout");
_Static_assert(offsetof(qt_evlog_header, qty_scale) == 40, "layout");
_Static_assert(offsetof(qt_evlog_header, created_ns) == 48, "layout");
_Static_assert(offsetof(qt_evlog_header, instrument) == 128, "layout");
_Static_assert(offsetof(qt_evlog_header, calendar_version) == 192, "layout");
_Static_assert(offsetof(qt_evlog_header, source) == 256, "layout");

/* Head of one dictionary slot; `bytes` bytes of entries follow. */
typedef struct qt_evlog_dict_slot {
    uint64_t generation; /* 0: never written */
    uint32_t count;      /* entries */
    uint32_t bytes;      /* bytes of entries after this struct */
    uint32_t crc;        /* CRC-32C of this struct (crc 0) followed by the entries */
    uint32_t reserved;
} qt_evlog_dict_slot;

_Static_assert(sizeof(qt_evlog_dict_slot) == 24, "dictionary slot head is 24 bytes");

/* Bytes one slot offers to its entries for a given header size. */
#define QT_EVLOG_SLOT_SIZE(header_size) (((header_size) - QT_EVLOG_FIXED_SIZE) / 2u)
#define QT_EVLOG_SLOT_CAPACITY(header_size) \
    (QT_EVLOG_SLOT_SIZE(header_size) - (uint32_t)sizeof(qt_evlog_dict_slot))

/* Return codes (0 is success). */
enum qt_evlog_status {
    QT_EVLOG_OK = 0,
    QT_EVLOG_EIO = -1,      /* the OS refused (sys_errno says why) */
    QT_EVLOG_EARG = -2,     /* bad argument or header field */
    QT_EVLOG_ESEQ = -3,     /* seq not strictly increasing; nothing of the batch written */
    QT_EVLOG_EDICT = -4,    /* the dictionary does not fit its slot */
    QT_EVLOG_ENOMEM = -5,
    QT_EVLOG_EFAILED = -6,  /* an earlier I/O error left the writer unusable */
    QT_EVLOG_EMAGIC = -7,   /* not an event log */
    QT_EVLOG_EVERSION = -8, /* a format version this build does not read */
    QT_EVLOG_ECORRUPT = -9, /* a header whose checksum or fields are wrong */
    QT_EVLOG_ETRUNC = -10,  /* the file ends inside the header */
};

typedef struct qt_evlog_error {
    int code;        /* qt_evlog_status */
    int sys_errno;   /* errno of QT_EVLOG_EIO, else 0 */
    uint64_t index;  /* QT_EVLOG_ESEQ: offending record of the batch */
    char msg[256];   /* what went wrong, for a person */
} qt_evlog_error;

typedef struct qt_evlog_writer qt_evlog_writer;

/* Create (truncate) a log at path (UTF-8) and write its header.  The caller
 * fills price_unit, tick_size, qty_scale, the strings and optionally
 * header_size (0: QT_EVLOG_DEFAULT_HEADER_SIZE) and created_ns (0: now);
 * magic, version, record_size and the CRC are set here.  The dictionary
 * starts empty (qt_evlog_set_agents).  NULL on failure, with *err filled
 * (err may be NULL). */
qt_evlog_writer *qt_evlog_open_write(const char *path, const qt_evlog_header *h, qt_evlog_error *err);

/* Append n records (crc computed here; the caller's crc field is ignored and
 * the caller's array untouched).  seq must strictly increase across the
 * whole log: otherwise QT_EVLOG_ESEQ and none of the n is written.  Records
 * go to an internal buffer written out in large blocks when it fills. */
int qt_evlog_append(qt_evlog_writer *w, const qt_event *ev, uint64_t n);

/* Replace the agent dictionary (names[i] is agent id i, lens[i] its byte
 * length, or lens NULL for NUL-terminated names).  Kept in memory until the
 * next flush or close.  QT_EVLOG_EDICT when it does not fit the header. */
int qt_evlog_set_agents(qt_evlog_writer *w, uint32_t count, const char *const *names,
                        const uint16_t *lens);

/* Write buffered records, then the dictionary if it changed, and fflush.
 * sync != 0 also asks the OS to put them on the device (fsync): the data
 * then survives a power cut, not only a process crash. */
int qt_evlog_flush(qt_evlog_writer *w, int sync);

/* Flush (with sync), close and free.  Always frees; returns the first error. */
int qt_evlog_close(qt_evlog_writer *w);

uint64_t qt_evlog_records_written(const qt_evlog_writer *w);
/* The header as written (created_ns and header_size filled in). */
const qt_evlog_header *qt_evlog_writer_header(const qt_evlog_writer *w);
/* The last error of w (code 0 when none). */
const qt_evlog_error *qt_evlog_last_error(const qt_evlog_writer *w);

/* ---- reading ---- */

/* Why the valid prefix ends. */
enum qt_evlog_tail {
    QT_EVLOG_TAIL_NONE = 0,     /* it does not: every byte is a valid record */
    QT_EVLOG_TAIL_PARTIAL = 1,  /* a record cut short at the end of the file */
    QT_EVLOG_TAIL_CHECKSUM = 2, /* a record whose CRC does not match */
    QT_EVLOG_TAIL_SEQUENCE = 3, /* a record whose seq does not exceed the previous */
    QT_EVLOG_TAIL_ZERO = 4,     /* everything from there to the end is zero bytes */
};

/* CRC of one record as stored in its crc field (computed with crc = 0). */
uint32_t qt_evlog_record_crc(const qt_event *ev);

/* Scan the records region of a log (the bytes after the header, `bytes`
 * long, which may end in a partial record) and return how many leading
 * records are valid: CRC matches and seq strictly increases.  *reason says
 * why the scan stopped (qt_evlog_tail).  Reads only; safe on a mapping. */
uint64_t qt_evlog_validate(const void *region, uint64_t bytes, int *reason);

/* Check the fixed header at the start of buf (len bytes available): magic,
 * version, CRC, sizes, string termination.  Copies it to *out on success. */
int qt_evlog_parse_header(const void *buf, size_t len, qt_evlog_header *out, qt_evlog_error *err);

/* Locate the current dictionary in a header of h->header_size bytes (buf
 * holds at least that many): the valid slot with the highest generation,
 * its entries checked to lie within the slot.  *entries_offset is the
 * offset in buf of the first entry. */
int qt_evlog_find_dictionary(const void *buf, size_t len, const qt_evlog_header *h,
                             uint64_t *entries_offset, uint32_t *count, uint32_t *bytes,
                             uint64_t *generation, qt_evlog_error *err);

#endif
