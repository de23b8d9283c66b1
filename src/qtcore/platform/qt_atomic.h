/* The one place where the core touches atomics, cache-line layout and the
 * platform's wait/wake and clock primitives.  Everything else in src/qtcore
 * includes this header instead of <stdatomic.h> or OS headers, so the core
 * builds unchanged with gcc on Linux and mingw-w64 on Windows. */
#ifndef QT_ATOMIC_H
#define QT_ATOMIC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define QT_CACHE_LINE 64

#if defined(_MSC_VER)
#define QT_ALIGNED(n) __declspec(align(n))
#else
#define QT_ALIGNED(n) __attribute__((aligned(n)))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define QT_LIKELY(x) __builtin_expect(!!(x), 1)
#define QT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define QT_INLINE static inline __attribute__((always_inline))
#else
#define QT_LIKELY(x) (x)
#define QT_UNLIKELY(x) (x)
#define QT_INLINE static inline
#endif

typedef _Atomic uint64_t qt_atomic_u64;
typedef _Atomic uint32_t qt_atomic_u32;
typedef _Atomic int32_t qt_atomic_i32;

#define qt_load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define qt_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define qt_store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define qt_store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define qt_fetch_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define qt_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)

/* A hint to the CPU inside spin loops (PAUSE on x86). */
QT_INLINE void qt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Block while *addr == expected, at most timeout_ns (<0: forever).  Spurious
 * returns are allowed; callers re-check their condition.  Linux: futex;
 * Windows: WaitOnAddress. */
void qt_wait_u32(qt_atomic_u32 *addr, uint32_t expected, int64_t timeout_ns);
/* Wake every waiter blocked on addr. */
void qt_wake_all_u32(qt_atomic_u32 *addr);

/* Asymmetric fence, the heavy side: when it returns, every other thread of
 * the process has executed a full memory barrier, so a thread that only put
 * a compiler barrier between a store and a load (qt_light_fence) is ordered
 * as if it had used a seq_cst fence.  Linux: membarrier(2); Windows:
 * FlushProcessWriteBuffers.  Costs microseconds: for slow paths only (a ring
 * consumer about to sleep).  qt_heavy_fence_init returns 1 when the heavy
 * side works in this process (call it once before relying on the pair). */
int qt_heavy_fence_init(void);
void qt_heavy_fence(void);
#define qt_light_fence() atomic_signal_fence(memory_order_seq_cst)

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC / QueryPerformanceCounter). */
int64_t qt_monotonic_ns(void);
/* Wall clock, UTC nanoseconds since the Unix epoch. */
int64_t qt_utc_ns(void);
/* Identifier of the calling thread (for "which thread fired this callback"). */
uint64_t qt_thread_id(void);

/* Native threads (pthreads / CreateThread) for the core's own workers: the
 * simulator's replay thread, the recorder's writer, benchmarks. */
typedef struct qt_thread {
    void *handle;
} qt_thread;
typedef void (*qt_thread_fn)(void *arg);
/* Returns 0 on success. */
int qt_thread_start(qt_thread *t, qt_thread_fn fn, void *arg);
void qt_thread_join(qt_thread *t);
/* Sleep the calling thread. */
void qt_sleep_ns(int64_t ns);

#endif
