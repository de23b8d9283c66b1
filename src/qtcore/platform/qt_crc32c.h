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

/* CRC-32C of each of n consecutive 64-byte blocks into crcs[0..n), reading
 * the 4 bytes at offset zero_at (a multiple of 4, below 64) as zeros: the
 * checksum of records that store it in their own field.  Several blocks are
 * computed side by side, which is what makes the hardware path fast (one
 * block alone is a chain of dependent crc32 instructions). */
void qt_crc32c_blocks64(const void *blocks, size_t n, unsigned zero_at, uint32_t *crcs);

/* The portable table path regardless of the CPU (for tests and benchmarks). */
uint32_t qt_crc32c_update_portable(uint32_t crc, const void *data, size_t len);

/* 1 when the hardware path is in use. */
int qt_crc32c_hardware(void);

/* Tests and benchmarks: on = 0 forces the portable path for every caller,
 * on = 1 returns to the hardware path where the CPU has one. */
void qt_crc32c_use_hardware(int on);

#endif
