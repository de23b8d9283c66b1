/* Event log at the C level:
 *  1. CRC-32C: the standard check value, the table path and the hardware
 *     path against a bitwise reference, chaining;
 *  2. writer -> bytes on disk -> header parse, dictionary, validator: every
 *     record back, byte-identical apart from the computed crc;
 *  3. tails: partial record, zero fill, flipped byte, sequence break;
 *  4. refusals: non-increasing seq (nothing written), oversized dictionary
 *     (previous one kept), unwritable path;
 *  5. header damage: magic, version, checksum, truncation, a torn newest
 *     dictionary slot (the previous generation is used).
 * Runs under ASan+UBSan in CI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_crc32c.h"
#include "market/qt_evlog.h"

#include "qt_check.h"

static uint32_t crc_bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_crc(void) {
    CHECK(qt_crc32c("123456789", 9) == 0xE3069283u);
    CHECK(qt_crc32c_update_portable(0, "123456789", 9) == 0xE3069283u);
    CHECK(qt_crc32c("", 0) == 0);
    uint8_t buf[1031];
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (uint8_t)rng();
    /* every length and misalignment up to a few blocks, then long ones */
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 80; n++) {
            uint32_t ref = crc_bitwise(buf + off, n);
            CHECK(qt_crc32c_update_portable(0, buf + off, n) == ref);
            CHECK(qt_crc32c(buf + off, n) == ref);
        }
    CHECK(qt_crc32c(buf, sizeof(buf)) == crc_bitwise(buf, sizeof(buf)));
    CHECK(qt_crc32c_update_portable(0, buf, sizeof(buf)) == crc_bitwise(buf, sizeof(buf)));
    for (size_t cut = 0; cut <= sizeof(buf); cut += 97)
        CHECK(qt_crc32c_update(qt_crc32c(buf, cut), buf + cut, sizeof(buf) - cut) ==
              qt_crc32c(buf, sizeof(buf)));
    /* blocks with a zeroed word, every count around the 4-way interleave */
    uint8_t blocks[64 * 11], tmp[64];
    uint32_t crcs[11];
    for (size_t i = 0; i < sizeof(blocks); i++) blocks[i] = (uint8_t)rng();
    for (unsigned zero_at = 0; zero_at < 64; zero_at += 4)
        for (size_t n = 0; n <= 11; n++) {
            for (int hw = 1; hw >= 0; hw--) {
                qt_crc32c_use_hardware(hw);
                memset(crcs, 0xAB, sizeof(crcs));
                qt_crc32c_blocks64(blocks, n, zero_at, crcs);
                for (size_t i = 0; i < n; i++) {
                    memcpy(tmp, blocks + i * 64, 64);
                    memset(tmp + zero_at, 0, 4);
                    CHECK(crcs[i] == crc_bitwise(tmp, 64));
                }
                if (n < 11) CHECK(crcs[n] == 0xABABABABu); /* writes exactly n */
            }
        }
    qt_crc32c_use_hardware(1);
    printf("crc32c ok (hardware path: %s)\n", qt_crc32c_hardware() ? "yes" : "no");
}

static qt_event make_event(uint64_t seq) {
    qt_event e;
    memset(&e, 0, sizeof(e));
    e.type = QT_EV_TRADE;
    e.flags = (uint8_t)(seq & 3);
    e.instrument = 7;
    e.crc = 0xDEADBEEF; /* ignored by the writer */
    e.seq = seq;
    e.recv_ns = (int64_t)(seq * 1000 + 17);
    e.exch_ns = (int64_t)(seq * 999);
    e.price = 50000 + (int64_t)(rng() % 1000);
    e.qty = (int32_t)(rng() % 50) + 1;
    e.code = 2;
    e.side = (uint8_t)(seq & 1);
    e.ref = (int64_t)seq * 3;
    e.a = (int32_t)(seq % 5);
    e.b = (int32_t)(seq % 7);
    return e;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = (uint8_t *)malloc((size_t)n + 1);
    CHECK(b);
    CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static qt_evlog_header base_header(void) {
    qt_evlog_header h;
    memset(&h, 0, sizeof(h));
    h.price_unit = 0.5;
    h.tick_size = 0.5;
    h.qty_scale = 1.0;
    strcpy(h.instrument, "WDOFUT");
    strcpy(h.calendar_version, "b3-2024.1");
    strcpy(h.source, "test_evlog.c");
    return h;
}

static void test_round_trip(const char *path) {
    enum { N = 40000 }; /* more than one writer buffer */
    qt_event *ev = (qt_event *)malloc(sizeof(qt_event) * N);
    CHECK(ev);
    for (uint64_t i = 0; i < N; i++) ev[i] = make_event(100 + 2 * i);

    qt_evlog_header h = base_header();
    qt_evlog_error err;
    qt_evlog_writer *w = qt_evlog_open_write(path, &h, &err);
    CHECK(w);
    CHECK(qt_evlog_writer_header(w)->created_ns > 0);
    const char *names[] = {"XP", "BTG", "Itaú"};
    CHECK(qt_evlog_set_agents(w, 2, names, NULL) == 0);
    CHECK(qt_evlog_append(w, ev, 10) == 0);
    CHECK(qt_evlog_flush(w, 0) == 0);
    /* a batch that breaks seq inside is refused whole */
    qt_event bad[3] = {make_event(200000), make_event(200002), make_event(200001)};
    CHECK(qt_evlog_append(w, bad, 3) == QT_EVLOG_ESEQ);
    CHECK(qt_evlog_last_error(w)->index == 2);
    CHECK(qt_evlog_append(w, ev + 9, 1) == QT_EVLOG_ESEQ); /* repeats the last seq */
    CHECK(qt_evlog_records_written(w) == 10);
    CHECK(qt_evlog_append(w, ev + 10, N - 10) == 0);
    CHECK(qt_evlog_set_agents(w, 3, names, NULL) == 0);
    CHECK(qt_evlog_records_written(w) == N);
    CHECK(qt_evlog_close(w) == 0);

    size_t len;
    uint8_t *b = read_file(path, &len);
    CHECK(len == QT_EVLOG_DEFAULT_HEADER_SIZE + (size_t)N * QT_EVENT_SIZE);
    qt_evlog_header got;
    CHECK(qt_evlog_parse_header(b, len, &got, &err) == 0);
    CHECK(got.header_size == QT_EVLOG_DEFAULT_HEADER_SIZE && got.price_unit == 0.5);
    CHECK(strcmp(got.instrument, "WDOFUT") == 0 && strcmp(got.source, "test_evlog.c") == 0);
    uint64_t off, gen;
    uint32_t count, bytes;
    CHECK(qt_evlog_find_dictionary(b, len, &got, &off, &count, &bytes, &gen, &err) == 0);
    CHECK(count == 3 && gen == 3); /* 1 at open, 2 at the flush, 3 at close */
    CHECK(bytes == 3 * 2 + 2 + 3 + strlen("Itaú"));
    CHECK(b[off] == 2 && memcmp(b + off + 2, "XP", 2) == 0);

    int reason = -1;
    const uint8_t *region = b + got.header_size;
    uint64_t region_bytes = len - got.header_size;
    CHECK(qt_evlog_validate(region, region_bytes, &reason) == N && reason == QT_EVLOG_TAIL_NONE);
    for (uint64_t i = 0; i < N; i++) {
        qt_event e;
        memcpy(&e, region + i * QT_EVENT_SIZE, sizeof(e));
        CHECK(e.crc == qt_evlog_record_crc(&e));
        e.crc = ev[i].crc;
        CHECK(memcmp(&e, &ev[i], sizeof(e)) == 0);
    }

    /* tails */
    CHECK(qt_evlog_validate(region, region_bytes - 10, &reason) == N - 1 && reason == QT_EVLOG_TAIL_PARTIAL);
    CHECK(qt_evlog_validate(region, 0, &reason) == 0 && reason == QT_EVLOG_TAIL_NONE);
    uint8_t *z = (uint8_t *)calloc(1, region_bytes + 10 * QT_EVENT_SIZE + 5);
    CHECK(z);
    memcpy(z, region, region_bytes);
    CHECK(qt_evlog_validate(z, region_bytes + 10 * QT_EVENT_SIZE + 5, &reason) == N &&
          reason == QT_EVLOG_TAIL_ZERO);
    CHECK(qt_evlog_validate(z, region_bytes + 5, &reason) == N && reason == QT_EVLOG_TAIL_ZERO);
    z[region_bytes + 3 * QT_EVENT_SIZE + 1] = 1; /* not all zero: a checksum failure */
    CHECK(qt_evlog_validate(z, region_bytes + 10 * QT_EVENT_SIZE, &reason) == N &&
          reason == QT_EVLOG_TAIL_CHECKSUM);
    memcpy(z, region, region_bytes);
    z[1234 * QT_EVENT_SIZE + 37] ^= 0x10;
    CHECK(qt_evlog_validate(z, region_bytes, &reason) == 1234 && reason == QT_EVLOG_TAIL_CHECKSUM);
    memcpy(z, region, region_bytes);
    /* a record with a valid crc but an older seq */
    qt_event e = make_event(50);
    e.crc = qt_evlog_record_crc(&e);
    memcpy(z + 777 * QT_EVENT_SIZE, &e, sizeof(e));
    CHECK(qt_evlog_validate(z, region_bytes, &reason) == 777 && reason == QT_EVLOG_TAIL_SEQUENCE);
    free(z);

    /* header damage */
    qt_evlog_header tmp;
    CHECK(qt_evlog_parse_header(b, 0, &tmp, &err) == QT_EVLOG_EMAGIC);
    CHECK(qt_evlog_parse_header(b, 5, &tmp, &err) == QT_EVLOG_ETRUNC);
    CHECK(qt_evlog_parse_header(b, 500, &tmp, &err) == QT_EVLOG_ETRUNC);
    CHECK(strstr(err.msg, "truncated header") != NULL);
    CHECK(qt_evlog_find_dictionary(b, 5000, &got, &off, &count, &bytes, &gen, &err) == QT_EVLOG_ETRUNC);
    b[0] ^= 1;
    CHECK(qt_evlog_parse_header(b, len, &tmp, &err) == QT_EVLOG_EMAGIC);
    b[0] ^= 1;
    b[8] = 9;
    CHECK(qt_evlog_parse_header(b, len, &tmp, &err) == QT_EVLOG_EVERSION);
    CHECK(strstr(err.msg, "version 9") != NULL);
    b[8] = 1;
    b[200] ^= 4;
    CHECK(qt_evlog_parse_header(b, len, &tmp, &err) == QT_EVLOG_ECORRUPT);
    b[200] ^= 4;
    CHECK(qt_evlog_parse_header(b, len, &tmp, &err) == 0);
    /* generation 3 sits in slot 0 ((3-1)&1); tear it: generation 2 (2 names) is used */
    b[QT_EVLOG_FIXED_SIZE + sizeof(qt_evlog_dict_slot) + 1] ^= 0x40;
    CHECK(qt_evlog_find_dictionary(b, len, &got, &off, &count, &bytes, &gen, &err) == 0);
    CHECK(gen == 2 && count == 2);
    b[QT_EVLOG_FIXED_SIZE + QT_EVLOG_SLOT_SIZE(got.header_size) + 3] ^= 0x40;
    CHECK(qt_evlog_find_dictionary(b, len, &got, &off, &count, &bytes, &gen, &err) == QT_EVLOG_ECORRUPT);
    free(b);
    free(ev);
    printf("round trip, tails and header damage ok\n");
}

static void test_dictionary_limits(const char *path) {
    qt_evlog_header h = base_header();
    h.header_size = 4096; /* slots of (4096-1024)/2 = 1536 bytes */
    qt_evlog_error err;
    qt_evlog_writer *w = qt_evlog_open_write(path, &h, &err);
    CHECK(w);
    char name[100];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    const char *names[20];
    for (int i = 0; i < 20; i++) names[i] = name;
    CHECK(qt_evlog_set_agents(w, 10, names, NULL) == 0);
    CHECK(qt_evlog_set_agents(w, 20, names, NULL) == QT_EVLOG_EDICT);
    CHECK(strstr(qt_evlog_last_error(w)->msg, "header_size") != NULL);
    qt_event e = make_event(1);
    CHECK(qt_evlog_append(w, &e, 1) == 0);
    CHECK(qt_evlog_close(w) == 0);
    size_t len;
    uint8_t *b = read_file(path, &len);
    qt_evlog_header got;
    uint64_t off, gen;
    uint32_t count, bytes;
    CHECK(qt_evlog_parse_header(b, len, &got, &err) == 0 && got.header_size == 4096);
    CHECK(qt_evlog_find_dictionary(b, len, &got, &off, &count, &bytes, &gen, &err) == 0);
    CHECK(count == 10 && gen == 2);
    int reason;
    CHECK(qt_evlog_validate(b + 4096, len - 4096, &reason) == 1 && reason == QT_EVLOG_TAIL_NONE);
    free(b);

    /* bad arguments and an unwritable path */
    h = base_header();
    h.price_unit = 0;
    CHECK(qt_evlog_open_write(path, &h, &err) == NULL && err.code == QT_EVLOG_EARG);
    h = base_header();
    h.header_size = 1000;
    CHECK(qt_evlog_open_write(path, &h, &err) == NULL && err.code == QT_EVLOG_EARG);
    h = base_header();
    memset(h.instrument, 'x', sizeof(h.instrument));
    CHECK(qt_evlog_open_write(path, &h, &err) == NULL && err.code == QT_EVLOG_EARG);
    h = base_header();
    CHECK(qt_evlog_open_write("no-such-dir/x/y.qtlog", &h, &err) == NULL);
    CHECK(err.code == QT_EVLOG_EIO && err.sys_errno != 0);
    printf("dictionary limits and refusals ok\n");
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "test_evlog.tmp.qtlog";
    test_crc();
    test_round_trip(path);
    test_dictionary_limits(path);
    if (qt_crc32c_hardware()) { /* the same files and verdicts on the table path */
        qt_crc32c_use_hardware(0);
        CHECK(!qt_crc32c_hardware());
        test_round_trip(path);
        qt_crc32c_use_hardware(1);
    }
    remove(path);
    printf("test_evlog: all ok\n");
    return 0;
}
