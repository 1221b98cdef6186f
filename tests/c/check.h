/*
 * The check of the C test programs (tests/c): a failed condition prints
 * its place and text and counts in `failures`, which main returns.
 */
#ifndef OPTKERN_TESTS_CHECK_H
#define OPTKERN_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
            failures++;                                               \
        }                                                             \
    } while (0)

#endif /* OPTKERN_TESTS_CHECK_H */
