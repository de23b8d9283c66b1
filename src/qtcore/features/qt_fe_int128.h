/* Private to the feature engine (qt_features.c and its qt_fe_*.c parts; not
 * installed, not part of the qt_features.h contract).
 *
 * Exact integer arithmetic for the engine's rolling sums: a two's-complement
 * 128-bit integer as a portable (lo, hi) pair (no compiler extension), so
 * sums of squares of int64 values and sums of 2^53-scaled returns are exact
 * however long the session (see qt_features.h, "Exactness").
 *
 * Contract: add, sub and neg wrap modulo 2^128 (callers keep true values
 * within +-2^127); i128_square is exact for |x| < 2^63; u128_mul_small
 * takes a non-negative a; i128_to_double is within one rounding of the true
 * value's representable neighbours; i128_from_integral_double is exact for
 * an integer-valued double of magnitude < 2^127; var_numerator returns
 * N*sum(x^2) - sum(x)^2 exactly, so std_from_sums is exactly 0 if and only
 * if all values are equal.
 *
 * Everything here is static inline: it runs several times per trade and
 * must stay inlinable into the engine's trade path. */
#ifndef QT_FE_INT128_H
#define QT_FE_INT128_H

#include <math.h>
#include <stdint.h>

#define TWO53 9007199254740992.0              /* 2^53 */
#define INV_TWO53 (1.0 / 9007199254740992.0)  /* 2^-53, exact */
#define TWO64 18446744073709551616.0          /* 2^64 */

/* Two's-complement 128-bit integer as a (lo, hi) pair: exact sums of squares
 * without a compiler extension. */
typedef struct fe_i128 {
    uint64_t lo;
    uint64_t hi;
} fe_i128;

static inline fe_i128 i128_zero(void) {
    fe_i128 z = {0, 0};
    return z;
}

static inline void i128_add(fe_i128 *a, fe_i128 b) {
    uint64_t lo = a->lo + b.lo;
    a->hi = a->hi + b.hi + (lo < a->lo);
    a->lo = lo;
}

static inline void i128_sub(fe_i128 *a, fe_i128 b) {
    uint64_t lo = a->lo - b.lo;
    a->hi = a->hi - b.hi - (a->lo < b.lo);
    a->lo = lo;
}

static inline fe_i128 i128_neg(fe_i128 a) {
    fe_i128 r;
    r.lo = ~a.lo + 1;
    r.hi = ~a.hi + (r.lo == 0);
    return r;
}

static inline int i128_is_zero(fe_i128 a) { return (a.lo | a.hi) == 0; }

/* Full 64x64 -> 128 unsigned product through 32-bit halves. */
static inline fe_i128 u128_mul64(uint64_t a, uint64_t b) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    fe_i128 r;
    r.lo = (mid << 32) | (uint32_t)p00;
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

static inline uint64_t u64_abs(int64_t x) { return x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x; }

/* x^2 for |x| < 2^63. */
static inline fe_i128 i128_square(int64_t x) {
    uint64_t a = u64_abs(x);
    return u128_mul64(a, a);
}

/* n * a for a non-negative a and a small n. */
static inline fe_i128 u128_mul_small(fe_i128 a, uint32_t n) {
    fe_i128 r = u128_mul64(a.lo, n);
    r.hi += a.hi * n;
    return r;
}

/* Signed value to double (within one rounding of the true value's
 * representable neighbours: hi*2^64 is exact for |hi| < 2^53). */
static inline double i128_to_double(fe_i128 a) {
    if (a.hi == 0) return (double)a.lo;
    if ((int64_t)a.hi < 0) {
        fe_i128 m = i128_neg(a);
        return -((double)m.hi * TWO64 + (double)m.lo);
    }
    return (double)a.hi * TWO64 + (double)a.lo;
}

/* An integer-valued double of magnitude < 2^127 to 128 bits, exactly. */
static inline fe_i128 i128_from_integral_double(double x) {
    double a = x < 0 ? -x : x;
    uint64_t hi = (uint64_t)(a * (1.0 / TWO64)); /* truncation = floor, exact scaling */
    double lo = a - (double)hi * TWO64;           /* exact: a's bits above 2^64 removed */
    fe_i128 r = {(uint64_t)lo, hi};
    return x < 0 ? i128_neg(r) : r;
}

/* Exact N*sum(x^2) - sum(x)^2 (>= 0), the numerator of N^2 * pstd^2. */
static inline fe_i128 var_numerator(int64_t s1, fe_i128 s2, uint32_t n) {
    fe_i128 d = u128_mul_small(s2, n);
    i128_sub(&d, i128_square(s1));
    return d;
}

/* sample std (ddof=1) in the units of x; exactly 0 iff all values equal. */
static inline double std_from_sums(int64_t s1, fe_i128 s2, uint32_t n) {
    fe_i128 d = var_numerator(s1, s2, n);
    if (i128_is_zero(d)) return 0.0;
    return sqrt(i128_to_double(d) / ((double)n * (double)(n - 1)));
}

#endif
