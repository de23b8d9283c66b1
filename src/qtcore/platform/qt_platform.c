/* Platform primitives declared in qt_atomic.h.  The only file of the core
 * with #ifdef _WIN32: the rest is portable C11. */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* syscall(), clock_gettime() under -std=c11 */
#endif
#include "platform/qt_atomic.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <synchapi.h>
#include <stdlib.h>

void qt_wait_u32(qt_atomic_u32 *addr, uint32_t expected, int64_t timeout_ns) {
    DWORD ms = INFINITE;
    if (timeout_ns >= 0) {
        int64_t m = timeout_ns / 1000000;
        ms = (DWORD)(m < 1 ? 1 : (m > 0x7fffffff ? 0x7fffffff : m));
    }
    WaitOnAddress((volatile VOID *)addr, &expected, sizeof(expected), ms);
}

void qt_wake_all_u32(qt_atomic_u32 *addr) { WakeByAddressAll((PVOID)addr); }

/* FlushProcessWriteBuffers exists on every supported Windows (Vista on).
 * Wine (ntdll exports wine_get_version) implements it as an empty stub up
 * to at least 8.0, which lost ring wake-ups in CI's wine run: there, say
 * the heavy side does not work, so rings use seq_cst on both sides. */
int qt_heavy_fence_init(void) {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return !(ntdll && GetProcAddress(ntdll, "wine_get_version"));
}
void qt_heavy_fence(void) { FlushProcessWriteBuffers(); }

int64_t qt_monotonic_ns(void) {
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    /* split to avoid overflow of now * 1e9 */
    int64_t sec = now.QuadPart / freq.QuadPart;
    int64_t rem = now.QuadPart % freq.QuadPart;
    return sec * 1000000000LL + rem * 1000000000LL / freq.QuadPart;
}

int64_t qt_utc_ns(void) {
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; /* 100 ns since 1601 */
    return (int64_t)(t - 116444736000000000ULL) * 100;
}

uint64_t qt_thread_id(void) { return (uint64_t)GetCurrentThreadId(); }

typedef struct thread_start {
    qt_thread_fn fn;
    void *arg;
} thread_start;

static DWORD WINAPI thread_trampoline(LPVOID p) {
    thread_start st = *(thread_start *)p;
    free(p);
    st.fn(st.arg);
    return 0;
}

int qt_thread_start(qt_thread *t, qt_thread_fn fn, void *arg) {
    thread_start *st = (thread_start *)malloc(sizeof(*st));
    if (!st) return -1;
    st->fn = fn;
    st->arg = arg;
    HANDLE h = CreateThread(NULL, 0, thread_trampoline, st, 0, NULL);
    if (!h) {
        free(st);
        return -1;
    }
    t->handle = (void *)h;
    return 0;
}

void qt_thread_join(qt_thread *t) {
    WaitForSingleObject((HANDLE)t->handle, INFINITE);
    CloseHandle((HANDLE)t->handle);
    t->handle = NULL;
}

void qt_sleep_ns(int64_t ns) { Sleep((DWORD)(ns / 1000000)); }

#else
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void qt_wait_u32(qt_atomic_u32 *addr, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        ts.tv_nsec = (long)(timeout_ns % 1000000000LL);
        tsp = &ts;
    }
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
}

void qt_wake_all_u32(qt_atomic_u32 *addr) {
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

/* membarrier(2), private expedited: an IPI to each CPU running one of our
 * threads.  Needs a one-time registration; kernels before 4.14 or a seccomp
 * filter that refuses the call leave it unavailable (state -1). */
static qt_atomic_i32 membarrier_state; /* 0 not probed, 1 registered, -1 unavailable */

int qt_heavy_fence_init(void) {
    int32_t st = atomic_load_explicit(&membarrier_state, memory_order_acquire);
    if (st != 0) return st > 0;
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
    st = -1;
    if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0)
        st = 1;
    atomic_store_explicit(&membarrier_state, st, memory_order_release);
    return st > 0;
}

void qt_heavy_fence(void) {
    /* registered before any ring chose this path, so the call cannot fail;
     * the kernel orders the caller's own accesses around it too */
    atomic_signal_fence(memory_order_seq_cst);
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0);
    atomic_signal_fence(memory_order_seq_cst);
}

int64_t qt_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t qt_utc_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

uint64_t qt_thread_id(void) { return (uint64_t)syscall(SYS_gettid); }

typedef struct thread_start {
    qt_thread_fn fn;
    void *arg;
} thread_start;

static void *thread_trampoline(void *p) {
    thread_start st = *(thread_start *)p;
    free(p);
    st.fn(st.arg);
    return NULL;
}

int qt_thread_start(qt_thread *t, qt_thread_fn fn, void *arg) {
    thread_start *st = (thread_start *)malloc(sizeof(*st));
    if (!st) return -1;
    st->fn = fn;
    st->arg = arg;
    pthread_t *th = (pthread_t *)malloc(sizeof(pthread_t));
    if (!th) {
        free(st);
        return -1;
    }
    if (pthread_create(th, NULL, thread_trampoline, st) != 0) {
        free(st);
        free(th);
        return -1;
    }
    t->handle = th;
    return 0;
}

void qt_thread_join(qt_thread *t) {
    pthread_join(*(pthread_t *)t->handle, NULL);
    free(t->handle);
    t->handle = NULL;
}

void qt_sleep_ns(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
    nanosleep(&ts, NULL);
}
#endif

/* Files (qt_file.h). */
#include "platform/qt_file.h"
#if defined(_WIN32)
#include <errno.h>
#include <io.h>

FILE *qt_fopen_utf8(const char *path, const char *mode) {
    wchar_t wmode[16];
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0 || !MultiByteToWideChar(CP_UTF8, 0, mode, -1, wmode, 16)) {
        errno = EINVAL;
        return NULL;
    }
    wchar_t *wpath = (wchar_t *)malloc(sizeof(wchar_t) * (size_t)n);
    if (!wpath) {
        errno = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath, n);
    FILE *f = _wfopen(wpath, wmode);
    int saved = errno;
    free(wpath);
    errno = saved;
    return f;
}

int qt_fseek64(FILE *f, int64_t offset, int whence) { return _fseeki64(f, offset, whence); }

int qt_fsync(FILE *f) { return _commit(_fileno(f)); }
#else
#include <sys/types.h>

FILE *qt_fopen_utf8(const char *path, const char *mode) { return fopen(path, mode); }

int qt_fseek64(FILE *f, int64_t offset, int whence) { return fseeko(f, (off_t)offset, whence); }

int qt_fsync(FILE *f) { return fsync(fileno(f)); }
#endif

/* Shared libraries (qt_dl.h). */
#include "platform/qt_dl.h"
#include <stdio.h>
#include <string.h>

static void dl_message(char *err, size_t errcap, const char *what, const char *path,
                       const char *why) {
    if (err && errcap) snprintf(err, errcap, "%s %s: %s", what, path, why ? why : "unknown error");
}

#if defined(_WIN32)
void *qt_dl_open(const char *path_utf8, char *err, size_t errcap) {
    if (!path_utf8 || !path_utf8[0]) {
        dl_message(err, errcap, "cannot load", "\"\"", "empty path");
        return NULL;
    }
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path_utf8, -1, NULL, 0);
    if (n <= 0) {
        dl_message(err, errcap, "cannot load", path_utf8, "path is not valid UTF-8");
        return NULL;
    }
    wchar_t *wpath = (wchar_t *)malloc(sizeof(wchar_t) * (size_t)n);
    if (!wpath) {
        dl_message(err, errcap, "cannot load", path_utf8, "out of memory");
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path_utf8, -1, wpath, n);
    /* LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR requires a fully qualified path. */
    int absolute = (n > 3 && wpath[1] == L':' && (wpath[2] == L'\\' || wpath[2] == L'/')) ||
                   (n > 2 && (wpath[0] == L'\\' && wpath[1] == L'\\'));
    if (!absolute) {
        free(wpath);
        dl_message(err, errcap, "cannot load", path_utf8, "the path must be absolute");
        return NULL;
    }
    HMODULE h = LoadLibraryExW(wpath, NULL,
                               LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
    DWORD code = h ? 0 : GetLastError();
    free(wpath);
    if (!h) {
        char why[256];
        DWORD len = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                   NULL, code, 0, why, (DWORD)sizeof(why), NULL);
        while (len > 0 && (why[len - 1] == '\n' || why[len - 1] == '\r' || why[len - 1] == ' '))
            why[--len] = '\0';
        if (len == 0) snprintf(why, sizeof(why), "error %lu", (unsigned long)code);
        dl_message(err, errcap, "cannot load", path_utf8, why);
        return NULL;
    }
    return (void *)h;
}

void *qt_dl_sym(void *lib, const char *name) {
    FARPROC p = GetProcAddress((HMODULE)lib, name);
    void *out;
    memcpy(&out, &p, sizeof(out)); /* function pointer -> void*, without a cast warning */
    return out;
}

void qt_dl_close(void *lib) {
    if (lib) FreeLibrary((HMODULE)lib);
}
#else
#include <dlfcn.h>

void *qt_dl_open(const char *path_utf8, char *err, size_t errcap) {
    if (!path_utf8 || !path_utf8[0]) {
        dl_message(err, errcap, "cannot load", "\"\"", "empty path");
        return NULL;
    }
    dlerror();
    void *h = dlopen(path_utf8, RTLD_NOW | RTLD_LOCAL);
    if (!h) dl_message(err, errcap, "cannot load", path_utf8, dlerror());
    return h;
}

void *qt_dl_sym(void *lib, const char *name) { return dlsym(lib, name); }

void qt_dl_close(void *lib) {
    if (lib) dlclose(lib);
}
#endif
