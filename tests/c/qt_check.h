/* CHECK for the C tests: a failed condition prints where and what, and
 * ends the test with status 1 (meson test reports it). */
#ifndef QT_CHECK_H
#define QT_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

#endif
