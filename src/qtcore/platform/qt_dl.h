/* Loading a shared library (ProfitDLL64.dll, the simulator) and resolving
 * its exports.  Implemented in qt_platform.c, the only OS-specific file.
 *
 * Windows: the path must be absolute; it is loaded with LoadLibraryExW and
 * LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32, so the
 * DLL's own dependencies are looked up only beside it and in System32, never
 * in the current directory or PATH (DLL planting).  Elsewhere: dlopen with
 * RTLD_NOW | RTLD_LOCAL (every relocation resolved now, nothing leaked into
 * the global namespace). */
#ifndef QT_DL_H
#define QT_DL_H

#include <stddef.h>

/* Open the library at path_utf8.  Returns a handle, or NULL with a
 * NUL-terminated message in err[errcap] (the OS's reason). */
void *qt_dl_open(const char *path_utf8, char *err, size_t errcap);
/* Address of the export `name`, or NULL if the library does not export it. */
void *qt_dl_sym(void *lib, const char *name);
void qt_dl_close(void *lib);

#endif
