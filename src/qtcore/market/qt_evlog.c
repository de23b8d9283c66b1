/* Event-log writer, validator and header parser (format in qt_evlog.h). */
#include "market/qt_evlog.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "platform/qt_crc32c.h"
#include "platform/qt_file.h"

/* Records buffered before one fwrite: large enough that the syscall cost
 * vanishes, small enough to stay in L2 while the CRCs are computed. */
#define WRITER_BUFFER_RECORDS 16384u
/* Records whose CRCs are computed in one qt_crc32c_blocks64 call. */
#define CRC_CHUNK 64u

struct qt_evlog_writer {
    FILE *f;
    qt_evlog_header hdr;
    uint8_t *buf; /* WRITER_BUFFER_RECORDS records awaiting fwrite */
    uint32_t buffered;
    uint64_t records_on_file;
    uint64_t last_seq;
    int have_seq;
    uint8_t *slot; /* image of one dictionary slot: head + entries */
    uint32_t slot_size;
    uint64_t dict_generation; /* generation of the dictionary on file */
    int dict_dirty;
    int failed;
    qt_evlog_error err;
};

static void set_error(qt_evlog_error *err, int code, int sys_errno, const char *fmt, ...) {
    if (!err) return;
    err->code = code;
    err->sys_errno = sys_errno;
    err->index = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

static void clear_error(qt_evlog_error *err) {
    if (!err) return;
    memset(err, 0, sizeof(*err));
}

static int terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static int positive_finite(double x) { return isfinite(x) && x > 0.0; }

static uint32_t header_crc(const qt_evlog_header *h) {
    qt_evlog_header tmp;
    memcpy(&tmp, h, sizeof(tmp));
    tmp.header_crc = 0;
    return qt_crc32c(&tmp, sizeof(tmp));
}

/* CRC of a slot image (head + entries) with its crc field zero. */
static uint32_t slot_crc(const uint8_t *slot) {
    qt_evlog_dict_slot head;
    memcpy(&head, slot, sizeof(head));
    uint32_t bytes = head.bytes;
    head.crc = 0;
    uint32_t c = qt_crc32c(&head, sizeof(head));
    return qt_crc32c_update(c, slot + sizeof(head), bytes);
}

uint32_t qt_evlog_record_crc(const qt_event *ev) {
    qt_event tmp;
    memcpy(&tmp, ev, sizeof(tmp));
    tmp.crc = 0;
    return qt_crc32c(&tmp, sizeof(tmp));
}

/* ---- writer ---- */

static int fail_io(qt_evlog_writer *w, const char *what) {
    int e = errno;
    w->failed = 1;
    set_error(&w->err, QT_EVLOG_EIO, e, "%s: %s", what, strerror(e));
    return QT_EVLOG_EIO;
}

static int refuse_failed(qt_evlog_writer *w) {
    /* The first error's message stays; only the code says "still failed". */
    w->err.code = QT_EVLOG_EFAILED;
    return QT_EVLOG_EFAILED;
}

static int write_buffer(qt_evlog_writer *w) {
    if (w->buffered == 0) return QT_EVLOG_OK;
    size_t n = fwrite(w->buf, QT_EVENT_SIZE, w->buffered, w->f);
    if (n != w->buffered) {
        /* Whole records that made it are on file; the rest are lost. */
        w->records_on_file += n;
        w->buffered = 0;
        return fail_io(w, "writing records");
    }
    w->records_on_file += n;
    w->buffered = 0;
    return QT_EVLOG_OK;
}

qt_evlog_writer *qt_evlog_open_write(const char *path, const qt_evlog_header *h, qt_evlog_error *err) {
    clear_error(err);
    if (!path || !h) {
        set_error(err, QT_EVLOG_EARG, 0, "path and header are required");
        return NULL;
    }
    if (!positive_finite(h->price_unit) || !positive_finite(h->tick_size) ||
        !positive_finite(h->qty_scale)) {
        set_error(err, QT_EVLOG_EARG, 0,
                  "price_unit, tick_size and qty_scale must be finite and > 0 (got %g, %g, %g)",
                  h->price_unit, h->tick_size, h->qty_scale);
        return NULL;
    }
    if (!terminated(h->instrument, sizeof(h->instrument)) ||
        !terminated(h->calendar_version, sizeof(h->calendar_version)) ||
        !terminated(h->source, sizeof(h->source))) {
        set_error(err, QT_EVLOG_EARG, 0, "instrument, calendar_version and source must be NUL-terminated "
                                         "within %u, %u and %u bytes",
                  QT_EVLOG_INSTRUMENT_LEN, QT_EVLOG_CALENDAR_LEN, QT_EVLOG_SOURCE_LEN);
        return NULL;
    }
    uint32_t header_size = h->header_size ? h->header_size : QT_EVLOG_DEFAULT_HEADER_SIZE;
    if (header_size < QT_EVLOG_MIN_HEADER_SIZE || header_size > QT_EVLOG_MAX_HEADER_SIZE ||
        header_size % QT_EVENT_SIZE) {
        set_error(err, QT_EVLOG_EARG, 0, "header_size %u must be a multiple of 64 in [%u, %u]", header_size,
                  QT_EVLOG_MIN_HEADER_SIZE, QT_EVLOG_MAX_HEADER_SIZE);
        return NULL;
    }

    qt_evlog_writer *w = (qt_evlog_writer *)calloc(1, sizeof(*w));
    uint8_t *image = (uint8_t *)calloc(1, header_size);
    if (w) {
        w->slot_size = QT_EVLOG_SLOT_SIZE(header_size);
        w->buf = (uint8_t *)malloc((size_t)WRITER_BUFFER_RECORDS * QT_EVENT_SIZE);
        w->slot = (uint8_t *)calloc(1, w->slot_size);
    }
    if (!w || !image || !w->buf || !w->slot) {
        set_error(err, QT_EVLOG_ENOMEM, 0, "out of memory opening the event log");
        goto fail;
    }

    memcpy(&w->hdr, h, sizeof(w->hdr));
    memcpy(w->hdr.magic, QT_EVLOG_MAGIC, sizeof(w->hdr.magic));
    w->hdr.version = QT_EVLOG_VERSION;
    w->hdr.header_size = header_size;
    w->hdr.record_size = QT_EVENT_SIZE;
    memset(w->hdr.reserved, 0, sizeof(w->hdr.reserved));
    if (w->hdr.created_ns == 0) w->hdr.created_ns = qt_utc_ns();
    /* NUL-pad the strings so identical headers are identical bytes. */
    size_t l = strlen(w->hdr.instrument);
    memset(w->hdr.instrument + l, 0, sizeof(w->hdr.instrument) - l);
    l = strlen(w->hdr.calendar_version);
    memset(w->hdr.calendar_version + l, 0, sizeof(w->hdr.calendar_version) - l);
    l = strlen(w->hdr.source);
    memset(w->hdr.source + l, 0, sizeof(w->hdr.source) - l);
    w->hdr.header_crc = 0;
    w->hdr.header_crc = header_crc(&w->hdr);

    /* Slot 0 holds generation 1, the empty dictionary; slot 1 stays zero. */
    qt_evlog_dict_slot head = {.generation = 1, .count = 0, .bytes = 0, .crc = 0, .reserved = 0};
    memcpy(w->slot, &head, sizeof(head));
    head.crc = slot_crc(w->slot);
    memcpy(w->slot, &head, sizeof(head));
    w->dict_generation = 1;

    memcpy(image, &w->hdr, sizeof(w->hdr));
    memcpy(image + QT_EVLOG_FIXED_SIZE, w->slot, sizeof(head));

    w->f = qt_fopen_utf8(path, "wb");
    if (!w->f) {
        int e = errno;
        set_error(err, QT_EVLOG_EIO, e, "cannot create %s: %s", path, strerror(e));
        goto fail;
    }
    /* Records are buffered here; a second stdio buffer would only copy. */
    setvbuf(w->f, NULL, _IONBF, 0);
    if (fwrite(image, 1, header_size, w->f) != header_size || fflush(w->f) != 0) {
        int e = errno;
        set_error(err, QT_EVLOG_EIO, e, "writing the header of %s: %s", path, strerror(e));
        goto fail;
    }
    free(image);
    return w;

fail:
    if (w) {
        if (w->f) fclose(w->f);
        free(w->buf);
        free(w->slot);
        free(w);
    }
    free(image);
    return NULL;
}

int qt_evlog_append(qt_evlog_writer *w, const qt_event *ev, uint64_t n) {
    if (!w) return QT_EVLOG_EARG;
    if (w->failed) return refuse_failed(w);
    if (n == 0) return QT_EVLOG_OK;
    if (!ev) {
        set_error(&w->err, QT_EVLOG_EARG, 0, "no records given");
        return QT_EVLOG_EARG;
    }
    /* Check the whole batch first so a bad one leaves the log untouched. */
    uint64_t prev = w->last_seq;
    int have = w->have_seq;
    for (uint64_t i = 0; i < n; i++) {
        if (have && ev[i].seq <= prev) {
            set_error(&w->err, QT_EVLOG_ESEQ, 0,
                      "seq must strictly increase: record %llu of the batch has seq %llu after %llu",
                      (unsigned long long)i, (unsigned long long)ev[i].seq, (unsigned long long)prev);
            w->err.index = i;
            return QT_EVLOG_ESEQ;
        }
        prev = ev[i].seq;
        have = 1;
    }
    const uint8_t *src = (const uint8_t *)ev;
    uint32_t crcs[CRC_CHUNK];
    for (uint64_t i = 0; i < n;) {
        if (w->buffered == WRITER_BUFFER_RECORDS) {
            int rc = write_buffer(w);
            if (rc) return rc;
        }
        uint64_t k = WRITER_BUFFER_RECORDS - w->buffered;
        if (k > n - i) k = n - i;
        if (k > CRC_CHUNK) k = CRC_CHUNK;
        uint8_t *dst = w->buf + (size_t)w->buffered * QT_EVENT_SIZE;
        memcpy(dst, src + i * QT_EVENT_SIZE, (size_t)k * QT_EVENT_SIZE);
        qt_crc32c_blocks64(dst, (size_t)k, offsetof(qt_event, crc), crcs);
        for (uint64_t j = 0; j < k; j++)
            memcpy(dst + j * QT_EVENT_SIZE + offsetof(qt_event, crc), &crcs[j], sizeof(uint32_t));
        w->buffered += (uint32_t)k;
        i += k;
    }
    w->last_seq = prev;
    w->have_seq = 1;
    return QT_EVLOG_OK;
}

int qt_evlog_set_agents(qt_evlog_writer *w, uint32_t count, const char *const *names, const uint16_t *lens) {
    if (!w) return QT_EVLOG_EARG;
    if (w->failed) return refuse_failed(w);
    if (count && !names) {
        set_error(&w->err, QT_EVLOG_EARG, 0, "no names given");
        return QT_EVLOG_EARG;
    }
    uint32_t capacity = w->slot_size - (uint32_t)sizeof(qt_evlog_dict_slot);
    uint64_t need = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t len = lens ? lens[i] : (names[i] ? strlen(names[i]) : 0);
        if (len > QT_EVLOG_MAX_NAME_BYTES) {
            set_error(&w->err, QT_EVLOG_EDICT, 0, "agent %u: name of %zu bytes exceeds %u", i, len,
                      QT_EVLOG_MAX_NAME_BYTES);
            return QT_EVLOG_EDICT;
        }
        need += 2 + len;
    }
    if (need > capacity) {
        set_error(&w->err, QT_EVLOG_EDICT, 0,
                  "agent dictionary of %u names needs %llu bytes; the header reserves %u per slot "
                  "(header_size %u: open the log with a larger header_size)",
                  count, (unsigned long long)need, capacity, w->hdr.header_size);
        return QT_EVLOG_EDICT;
    }
    uint8_t *p = w->slot + sizeof(qt_evlog_dict_slot);
    for (uint32_t i = 0; i < count; i++) {
        size_t len = lens ? lens[i] : (names[i] ? strlen(names[i]) : 0);
        p[0] = (uint8_t)(len & 0xff);
        p[1] = (uint8_t)(len >> 8);
        if (len) memcpy(p + 2, names[i], len);
        p += 2 + len;
    }
    qt_evlog_dict_slot head = {.generation = 0, .count = count, .bytes = (uint32_t)need, .crc = 0,
                               .reserved = 0};
    memcpy(w->slot, &head, sizeof(head));
    w->dict_dirty = 1;
    return QT_EVLOG_OK;
}

static int write_dictionary(qt_evlog_writer *w) {
    qt_evlog_dict_slot head;
    memcpy(&head, w->slot, sizeof(head));
    head.generation = w->dict_generation + 1;
    head.crc = 0;
    memcpy(w->slot, &head, sizeof(head));
    head.crc = slot_crc(w->slot);
    memcpy(w->slot, &head, sizeof(head));
    /* Alternate slots so the previous dictionary survives a torn write. */
    int64_t at = (int64_t)QT_EVLOG_FIXED_SIZE + (int64_t)((head.generation - 1) & 1) * w->slot_size;
    int64_t end = (int64_t)w->hdr.header_size + (int64_t)(w->records_on_file * QT_EVENT_SIZE);
    size_t len = sizeof(head) + head.bytes;
    if (qt_fseek64(w->f, at, SEEK_SET) != 0) return fail_io(w, "seeking to the dictionary");
    if (fwrite(w->slot, 1, len, w->f) != len) return fail_io(w, "writing the dictionary");
    if (qt_fseek64(w->f, end, SEEK_SET) != 0) return fail_io(w, "seeking back to the records");
    w->dict_generation = head.generation;
    w->dict_dirty = 0;
    return QT_EVLOG_OK;
}

int qt_evlog_flush(qt_evlog_writer *w, int sync) {
    if (!w) return QT_EVLOG_EARG;
    if (w->failed) return refuse_failed(w);
    int rc = write_buffer(w);
    if (rc) return rc;
    /* Records first: a dictionary on file never lags records that need it
     * by more than one flush, and never names agents of lost records only. */
    if (w->dict_dirty && (rc = write_dictionary(w)) != 0) return rc;
    if (fflush(w->f) != 0) return fail_io(w, "flushing");
    if (sync && qt_fsync(w->f) != 0) return fail_io(w, "syncing to disk");
    return QT_EVLOG_OK;
}

int qt_evlog_close(qt_evlog_writer *w) {
    if (!w) return QT_EVLOG_EARG;
    int rc = w->failed ? QT_EVLOG_EFAILED : qt_evlog_flush(w, 1);
    if (fclose(w->f) != 0 && rc == 0) rc = QT_EVLOG_EIO;
    free(w->buf);
    free(w->slot);
    free(w);
    return rc;
}

uint64_t qt_evlog_records_written(const qt_evlog_writer *w) { return w->records_on_file + w->buffered; }

const qt_evlog_header *qt_evlog_writer_header(const qt_evlog_writer *w) { return &w->hdr; }

const qt_evlog_error *qt_evlog_last_error(const qt_evlog_writer *w) { return &w->err; }

/* ---- reading ---- */

static int all_zero(const uint8_t *p, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

uint64_t qt_evlog_validate(const void *region, uint64_t bytes, int *reason) {
    const uint8_t *p = (const uint8_t *)region;
    uint64_t n = bytes / QT_EVENT_SIZE, i = 0;
    uint64_t prev = 0;
    int have = 0, r = QT_EVLOG_TAIL_NONE;
    uint32_t crcs[CRC_CHUNK];
    while (i < n && r == QT_EVLOG_TAIL_NONE) {
        uint64_t k = n - i < CRC_CHUNK ? n - i : CRC_CHUNK;
        const uint8_t *b = p + i * QT_EVENT_SIZE;
        qt_crc32c_blocks64(b, (size_t)k, offsetof(qt_event, crc), crcs);
        uint64_t j = 0;
        for (; j < k; j++) {
            uint32_t stored;
            uint64_t seq;
            memcpy(&stored, b + j * QT_EVENT_SIZE + offsetof(qt_event, crc), sizeof(stored));
            memcpy(&seq, b + j * QT_EVENT_SIZE + offsetof(qt_event, seq), sizeof(seq));
            if (crcs[j] != stored) {
                r = QT_EVLOG_TAIL_CHECKSUM;
                break;
            }
            if (have && seq <= prev) {
                r = QT_EVLOG_TAIL_SEQUENCE;
                break;
            }
            prev = seq;
            have = 1;
        }
        i += j;
    }
    if (i == n && bytes % QT_EVENT_SIZE) r = QT_EVLOG_TAIL_PARTIAL;
    if (r != QT_EVLOG_TAIL_NONE && all_zero(p + i * QT_EVENT_SIZE, bytes - i * QT_EVENT_SIZE))
        r = QT_EVLOG_TAIL_ZERO;
    if (reason) *reason = r;
    return i;
}

int qt_evlog_parse_header(const void *buf, size_t len, qt_evlog_header *out, qt_evlog_error *err) {
    clear_error(err);
    const uint8_t *b = (const uint8_t *)buf;
    size_t m = len < 8 ? len : 8;
    if (len == 0) {
        set_error(err, QT_EVLOG_EMAGIC, 0, "not an event log (the file is empty)");
        return QT_EVLOG_EMAGIC;
    }
    if (memcmp(b, QT_EVLOG_MAGIC, m) != 0) {
        set_error(err, QT_EVLOG_EMAGIC, 0, "not an event log (no %s magic at the start)", QT_EVLOG_MAGIC);
        return QT_EVLOG_EMAGIC;
    }
    if (len < 12) {
        set_error(err, QT_EVLOG_ETRUNC, 0, "truncated header: the file has %zu bytes", len);
        return QT_EVLOG_ETRUNC;
    }
    uint32_t version;
    memcpy(&version, b + offsetof(qt_evlog_header, version), sizeof(version));
    if (version != QT_EVLOG_VERSION) {
        set_error(err, QT_EVLOG_EVERSION, 0,
                  "unsupported format version %u (this build reads version %u; a newer writer, or a "
                  "damaged header)",
                  version, QT_EVLOG_VERSION);
        return QT_EVLOG_EVERSION;
    }
    if (len < QT_EVLOG_FIXED_SIZE) {
        set_error(err, QT_EVLOG_ETRUNC, 0, "truncated header: the file has %zu bytes, the header needs %u",
                  len, QT_EVLOG_FIXED_SIZE);
        return QT_EVLOG_ETRUNC;
    }
    qt_evlog_header h;
    memcpy(&h, b, sizeof(h));
    uint32_t want = header_crc(&h);
    if (want != h.header_crc) {
        set_error(err, QT_EVLOG_ECORRUPT, 0, "corrupt header: checksum 0x%08x, expected 0x%08x", h.header_crc,
                  want);
        return QT_EVLOG_ECORRUPT;
    }
    if (h.record_size != QT_EVENT_SIZE) {
        set_error(err, QT_EVLOG_ECORRUPT, 0, "corrupt header: record size %u, expected %u", h.record_size,
                  QT_EVENT_SIZE);
        return QT_EVLOG_ECORRUPT;
    }
    if (h.header_size < QT_EVLOG_MIN_HEADER_SIZE || h.header_size > QT_EVLOG_MAX_HEADER_SIZE ||
        h.header_size % QT_EVENT_SIZE) {
        set_error(err, QT_EVLOG_ECORRUPT, 0, "corrupt header: header size %u", h.header_size);
        return QT_EVLOG_ECORRUPT;
    }
    if (!positive_finite(h.price_unit) || !positive_finite(h.tick_size) || !positive_finite(h.qty_scale)) {
        set_error(err, QT_EVLOG_ECORRUPT, 0, "corrupt header: price_unit %g, tick_size %g, qty_scale %g",
                  h.price_unit, h.tick_size, h.qty_scale);
        return QT_EVLOG_ECORRUPT;
    }
    if (!terminated(h.instrument, sizeof(h.instrument)) ||
        !terminated(h.calendar_version, sizeof(h.calendar_version)) ||
        !terminated(h.source, sizeof(h.source))) {
        set_error(err, QT_EVLOG_ECORRUPT, 0, "corrupt header: unterminated name field");
        return QT_EVLOG_ECORRUPT;
    }
    if (out) memcpy(out, &h, sizeof(h));
    return QT_EVLOG_OK;
}

/* 1 when the slot at s (slot_size bytes) holds a well-formed dictionary. */
static int slot_valid(const uint8_t *s, uint32_t slot_size, qt_evlog_dict_slot *head) {
    memcpy(head, s, sizeof(*head));
    if (head->generation == 0) return 0;
    if (head->bytes > slot_size - sizeof(*head)) return 0;
    if (slot_crc(s) != head->crc) return 0;
    const uint8_t *p = s + sizeof(*head), *end = p + head->bytes;
    for (uint32_t i = 0; i < head->count; i++) {
        if (end - p < 2) return 0;
        uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8;
        if ((uint64_t)(end - p) < 2u + len) return 0;
        p += 2 + len;
    }
    return p == end;
}

int qt_evlog_find_dictionary(const void *buf, size_t len, const qt_evlog_header *h,
                             uint64_t *entries_offset, uint32_t *count, uint32_t *bytes,
                             uint64_t *generation, qt_evlog_error *err) {
    clear_error(err);
    if (len < h->header_size) {
        set_error(err, QT_EVLOG_ETRUNC, 0, "truncated header: the file has %zu bytes, the header needs %u",
                  len, h->header_size);
        return QT_EVLOG_ETRUNC;
    }
    const uint8_t *b = (const uint8_t *)buf;
    uint32_t slot_size = QT_EVLOG_SLOT_SIZE(h->header_size);
    int best = -1;
    qt_evlog_dict_slot heads[2];
    for (int s = 0; s < 2; s++) {
        if (!slot_valid(b + QT_EVLOG_FIXED_SIZE + (size_t)s * slot_size, slot_size, &heads[s])) continue;
        if (best < 0 || heads[s].generation > heads[best].generation) best = s;
    }
    if (best < 0) {
        set_error(err, QT_EVLOG_ECORRUPT, 0, "corrupt header: no valid agent dictionary (both slots damaged)");
        return QT_EVLOG_ECORRUPT;
    }
    *entries_offset = QT_EVLOG_FIXED_SIZE + (uint64_t)best * slot_size + sizeof(qt_evlog_dict_slot);
    *count = heads[best].count;
    *bytes = heads[best].bytes;
    if (generation) *generation = heads[best].generation;
    return QT_EVLOG_OK;
}
