/* A minimal test harness: CHECK counts, and the closing line reads
 * "NAME: N passed, N failed" for CI to count. */
#ifndef KINAGG_TEST_CHECK_H
#define KINAGG_TEST_CHECK_H
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            check_passed++;                                                     \
        } else {                                                                \
            check_failed++;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

static inline int check_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

/* xorshift64*: reproducible randomness from a seed printed by the test */
static unsigned long long check_rng_state = 88172645463325252ull;
static inline unsigned long long check_rand(void) {
    check_rng_state ^= check_rng_state >> 12;
    check_rng_state ^= check_rng_state << 25;
    check_rng_state ^= check_rng_state >> 27;
    return check_rng_state * 2685821657736338717ull;
}
static inline size_t check_below(size_t n) { return n ? (size_t)(check_rand() % n) : 0; }
#endif
