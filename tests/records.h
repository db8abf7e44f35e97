/* Random user records for tests: keys of every shape Kinesis accepts
 * (ASCII, 2-, 3- and 4-byte UTF-8, exactly 256 characters, repeated keys),
 * explicit hash keys present or absent (0, 2^128-1, random) and data from
 * empty to large. Needs check.h for the generator. */
#ifndef KINAGG_TEST_RECORDS_H
#define KINAGG_TEST_RECORDS_H
#include <string.h>

typedef struct test_record {
    char pk[1024 + 1];
    size_t pk_len;
    char ehk[40];
    size_t ehk_len;
    int has_ehk;
    unsigned char *data; /* caller's buffer of data_cap bytes */
    size_t data_cap, data_len;
} test_record;

/* Append one character of n UTF-8 bytes (1..4) to out. */
static inline size_t test_put_char(char *out, int nbytes) {
    static const char *samples[4][4] = {
        {"a", "Z", "7", "-"},
        {"\xc3\xa9", "\xc3\x9f", "\xd0\x96", "\xce\xbb"},             /* é ß Ж λ */
        {"\xe4\xb8\xad", "\xe2\x82\xac", "\xe3\x81\x82", "\xef\xbf\xbd"}, /* 中 € あ U+FFFD */
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x9a\x80", "\xf0\x90\x8d\x88", "\xf4\x8f\xbf\xbf"}};
    const char *s = samples[nbytes - 1][check_below(4)];
    memcpy(out, s, (size_t)nbytes);
    return (size_t)nbytes;
}

/* A partition key; units_max caps UTF-16 units (256 for valid keys). */
static inline void test_random_key(test_record *r) {
    size_t kind = check_below(10), units = 0, n, i;
    r->pk_len = 0;
    if (kind < 3) { /* from a small pool, so tables de-duplicate */
        r->pk_len = (size_t)sprintf(r->pk, "user-%u", (unsigned)check_below(8));
        return;
    }
    if (kind == 3) { /* exactly 256 ASCII characters */
        for (i = 0; i < 256; i++) r->pk[i] = (char)('a' + check_below(26));
        r->pk_len = 256;
        return;
    }
    if (kind == 4) { /* exactly 256 characters of 2 or 3 bytes, or 128 emoji */
        int b = (int)check_below(3) + 2;
        for (i = 0; i < (b == 4 ? 128u : 256u); i++) r->pk_len += test_put_char(r->pk + r->pk_len, b);
        return;
    }
    n = 1 + check_below(kind < 7 ? 40 : 256);
    while (units < n) {
        int b = kind < 7 ? 1 : (int)check_below(4) + 1;
        if (units + (b == 4 ? 2u : 1u) > 256) b = 1;
        r->pk_len += test_put_char(r->pk + r->pk_len, b);
        units += b == 4 ? 2 : 1;
    }
}

static inline void test_random_ehk(test_record *r) {
    size_t kind = check_below(10), i;
    r->has_ehk = kind >= 6;
    r->ehk_len = 0;
    if (!r->has_ehk) return;
    if (kind == 6) { strcpy(r->ehk, "0"); }
    else if (kind == 7) { strcpy(r->ehk, "340282366920938463463374607431768211455"); }
    else { /* random up to 38 digits: always below 2^128 */
        size_t n = 1 + check_below(38);
        r->ehk[0] = (char)('1' + check_below(9));
        for (i = 1; i < n; i++) r->ehk[i] = (char)('0' + check_below(10));
        r->ehk[n] = 0;
    }
    r->ehk_len = strlen(r->ehk);
}

static inline void test_random_data(test_record *r, size_t max) {
    size_t kind = check_below(20), i;
    if (kind < 2) r->data_len = 0;
    else if (kind < 17) r->data_len = check_below(200);
    else r->data_len = check_below(max < r->data_cap ? max : r->data_cap);
    if (r->data_len > r->data_cap) r->data_len = r->data_cap;
    for (i = 0; i < r->data_len; i++) r->data[i] = (unsigned char)check_rand();
}

static inline void test_random_record(test_record *r, size_t data_max) {
    test_random_key(r);
    test_random_ehk(r);
    test_random_data(r, data_max);
}
#endif
