/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of
 * event-log records and headers.  Castagnoli rather than zlib's CRC-32
 * because x86 computes it in hardware (SSE4.2 crc32), which this module uses
 * when the CPU has it; elsewhere a portable slicing-by-8 table does the work.
 * Both give identical results (tests/c/test_evlog.c checks them against a
 * bitwise reference). */
#ifndef QT_CRC32C_H
#define QT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes.  qt_crc32c("123456789", 9) == 0xE3069283. */
uint32_t qt_crc32c(const void *data, size_t len);

/* Continue a CRC: qt_crc32c_update(qt_crc32c(a, n), b, m) == CRC of a||b.
 * Start with crc = 0. */
uint32_t qt_crc32c_update(uint32_t crc, const void *data, size_t len);

/* The portable table path regardless of the CPU (for tests and benchmarks). */
uint32_t qt_crc32c_update_portable(uint32_t crc, const void *data, size_t len);

/* 1 when the hardware path is in use. */
int qt_crc32c_hardware(void);

#endif
