/* Files for the core's writers (the event log): the few operations stdio
 * does not spell the same way everywhere.  Implemented in qt_platform.c. */
#ifndef QT_FILE_H
#define QT_FILE_H

#include <stdint.h>
#include <stdio.h>

/* fopen with a UTF-8 path (Windows: converted to UTF-16 for _wfopen, so
 * paths with accents work; elsewhere plain fopen).  NULL + errno on failure. */
FILE *qt_fopen_utf8(const char *path, const char *mode);
/* fseek with a 64-bit offset (files beyond 2 GiB on Windows).  0 on success. */
int qt_fseek64(FILE *f, int64_t offset, int whence);
/* Push what the OS holds for f to the device (fsync / _commit); call after
 * fflush.  0 on success, -1 + errno on failure. */
int qt_fsync(FILE *f);

#endif
