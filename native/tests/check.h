/* CHECK(cond, printf-style message): counts a failure in `failures` (which the including test defines) and says
 * where, without stopping the test. Shared by the C tests. */
#ifndef GG_TESTS_CHECK_H
#define GG_TESTS_CHECK_H

#include <stdio.h>

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            ++failures;                                                          \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
    } while (0)

#endif
