/* Unit tests of kinagg.h's core: crypto, hash keys, partition keys, the
 * aggregator and its errors, the deaggregator on good and bad input, and the
 * SigV4 signer against the AWS test suite.
 *
 * usage: unit [SIGV4_VECTOR_DIR]   (default tests/vectors/sigv4/v4)
 * Runs natively and under qemu-user; prints "unit: N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64 /* readdir on 32-bit targets */
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include "records.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *p, size_t n, char *out) {
    kinagg_hex(p, n, out);
    out[2 * n] = 0;
}

/* ---- crypto ---------------------------------------------------------- */

static void test_md5(void) {
    static const char *const vec[][2] = { /* RFC 1321 A.5 */
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"}};
    size_t i;
    for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        unsigned char d[16];
        char hex[33];
        kinagg_md5(vec[i][0], strlen(vec[i][0]), d);
        to_hex(d, 16, hex);
        CHECK(strcmp(hex, vec[i][1]) == 0, "md5(\"%s\") = %s", vec[i][0], hex);
    }
}

static void test_sha256(void) {
    unsigned char d[32], d2[32];
    char hex[65];
    static unsigned char million[1000000];
    size_t i, pos;
    kinagg_sha256_ctx c;
    kinagg_sha256("", 0, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "%s", hex);
    kinagg_sha256("abc", 3, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "%s", hex);
    kinagg_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "%s", hex);
    memset(million, 'a', sizeof million);
    kinagg_sha256(million, sizeof million, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "%s", hex);
    /* streaming in uneven pieces gives the same digest */
    kinagg_sha256_init(&c);
    for (pos = 0, i = 1; pos < sizeof million; i = i * 7 % 1000 + 1) {
        size_t n = i < sizeof million - pos ? i : sizeof million - pos;
        kinagg_sha256_update(&c, million + pos, n);
        pos += n;
    }
    kinagg_sha256_final(&c, d2);
    CHECK(memcmp(d, d2, 32) == 0, "streamed sha256 differs");
}

static void test_hmac(void) { /* RFC 4231 cases 1, 2, 3, 6, 7 */
    unsigned char key[131], data[152], d[32];
    char hex[65];
    memset(key, 0x0b, 20);
    kinagg_hmac_sha256(key, 20, "Hi There", 8, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7") == 0, "case 1 %s", hex);
    kinagg_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0, "case 2 %s", hex);
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    kinagg_hmac_sha256(key, 20, data, 50, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe") == 0, "case 3 %s", hex);
    memset(key, 0xaa, 131);
    kinagg_hmac_sha256(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54") == 0, "case 6 %s", hex);
    {
        const char *m = "This is a test using a larger than block-size key and a larger than block-size data. "
                        "The key needs to be hashed before being used by the HMAC algorithm.";
        kinagg_hmac_sha256(key, 131, m, strlen(m), d);
        to_hex(d, 32, hex);
        CHECK(strcmp(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2") == 0, "case 7 %s", hex);
    }
}

/* ---- hash keys -------------------------------------------------------- */

static void test_hash_keys(void) {
    static const char *const bad[] = {"", "01", "00", "-1", "+1", " 1", "1 ", "1a", "0x10",
                                      "340282366920938463463374607431768211456",
                                      "999999999999999999999999999999999999999",
                                      "1000000000000000000000000000000000000000"};
    kinagg_hash_key k, k2;
    char dec[40];
    size_t i, n;
    CHECK(kinagg_hash_key_parse("0", 1, &k) == KINAGG_OK, "parse 0");
    n = kinagg_hash_key_format(&k, dec);
    CHECK(n == 1 && strcmp(dec, "0") == 0, "format 0 -> %s", dec);
    CHECK(kinagg_hash_key_parse("340282366920938463463374607431768211455", 39, &k) == KINAGG_OK, "parse max");
    for (i = 0; i < 16; i++) CHECK(k.be[i] == 0xff, "max byte %u", (unsigned)i);
    n = kinagg_hash_key_format(&k, dec);
    CHECK(n == 39 && strcmp(dec, "340282366920938463463374607431768211455") == 0, "format max -> %s", dec);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(kinagg_hash_key_parse(bad[i], strlen(bad[i]), &k) == KINAGG_ERR_HASH_KEY, "'%s' accepted", bad[i]);
    for (i = 0; i < 2000; i++) { /* random values round trip through decimal */
        size_t j;
        for (j = 0; j < 16; j++) k.be[j] = (unsigned char)check_rand();
        if (i % 3 == 0) memset(k.be, 0, check_below(16)); /* shorter numbers too */
        n = kinagg_hash_key_format(&k, dec);
        CHECK(kinagg_hash_key_parse(dec, n, &k2) == KINAGG_OK && kinagg_hash_key_compare(&k, &k2) == 0,
              "round trip of %s", dec);
    }
    /* the hash key of a partition key is its MD5 as a big-endian number */
    kinagg_hash_key_of_partition_key("a", 1, &k);
    to_hex(k.be, 16, dec);
    CHECK(strcmp(dec, "0cc175b9c0f1b6a831c399e269772661") == 0, "hash of 'a' = %s", dec);
    kinagg_hash_key_format(&k, dec);
    CHECK(strcmp(dec, "16955237001963240173058271559858726497") == 0, "decimal hash of 'a' = %s", dec);
    /* ranges are inclusive at both ends */
    kinagg_hash_key_parse("100", 3, &k);
    kinagg_hash_key_parse("100", 3, &k2);
    CHECK(kinagg_hash_key_in_range(&k, &k2, &k2), "start=end=key in range");
    kinagg_hash_key_parse("99", 2, &k2);
    CHECK(!kinagg_hash_key_in_range(&k2, &k, &k), "99 not in [100,100]");
    CHECK(kinagg_hash_key_compare(&k2, &k) < 0, "99 < 100");
}

static void test_partition_keys(void) {
    char key[2048];
    size_t i, n;
    CHECK(kinagg_partition_key_check("", 0) == KINAGG_ERR_KEY_EMPTY, "empty");
    memset(key, 'k', 257);
    CHECK(kinagg_partition_key_check(key, 256) == KINAGG_OK, "256 ascii");
    CHECK(kinagg_partition_key_check(key, 257) == KINAGG_ERR_KEY_TOO_LONG, "257 ascii");
    for (i = 0, n = 0; i < 257; i++) n += test_put_char(key + n, 2);
    CHECK(kinagg_partition_key_check(key, n - 2) == KINAGG_OK, "256 two-byte chars");
    CHECK(kinagg_partition_key_check(key, n) == KINAGG_ERR_KEY_TOO_LONG, "257 two-byte chars");
    for (i = 0, n = 0; i < 129; i++) n += test_put_char(key + n, 4);
    CHECK(kinagg_partition_key_check(key, n - 4) == KINAGG_OK, "128 emoji = 256 units");
    CHECK(kinagg_partition_key_check(key, n) == KINAGG_ERR_KEY_TOO_LONG, "129 emoji = 258 units");
    CHECK(kinagg_partition_key_check("\xff", 1) == KINAGG_ERR_KEY_ENCODING, "0xff");
    CHECK(kinagg_partition_key_check("\xc0\x80", 2) == KINAGG_ERR_KEY_ENCODING, "overlong NUL");
    CHECK(kinagg_partition_key_check("\xe0\x80\xaf", 3) == KINAGG_ERR_KEY_ENCODING, "overlong slash");
    CHECK(kinagg_partition_key_check("\xed\xa0\x80", 3) == KINAGG_ERR_KEY_ENCODING, "surrogate");
    CHECK(kinagg_partition_key_check("\xf4\x90\x80\x80", 4) == KINAGG_ERR_KEY_ENCODING, "above U+10FFFF");
    CHECK(kinagg_partition_key_check("a\xe2\x82", 3) == KINAGG_ERR_KEY_ENCODING, "truncated");
    CHECK(kinagg_partition_key_check("\x80", 1) == KINAGG_ERR_KEY_ENCODING, "lone continuation");
}

/* ---- aggregator and deaggregator ------------------------------------- */

static unsigned char agg_buf[KINAGG_RECORD_SIZE_DEFAULT];
static unsigned char data_buf[KINAGG_RECORD_SIZE_DEFAULT];

/* An error must leave the aggregate exactly as it was. */
static void expect_add_error(kinagg_agg *agg, kinagg_status want, const char *pk, size_t pk_len, const char *ehk,
                             size_t ehk_len, const void *data, size_t len, const char *what) {
    static unsigned char before[4096];
    kinagg_agg copy = *agg;
    size_t keep = agg->cap < sizeof before ? agg->cap : sizeof before;
    kinagg_status st;
    memcpy(before, agg->buf, keep);
    st = kinagg_agg_add(agg, pk, pk_len, ehk, ehk_len, data, len);
    CHECK(st == want, "%s: got %s, want %s", what, kinagg_strerror(st), kinagg_strerror(want));
    CHECK(memcmp(&copy, agg, sizeof copy) == 0, "%s: aggregate state changed", what);
    CHECK(memcmp(before, agg->buf, keep) == 0, "%s: buffer changed", what);
}

static void test_agg_errors(void) {
    kinagg_agg agg;
    kinagg_agg_limits lim;
    unsigned char small[64];
    char key[300];
    const unsigned char *out;
    size_t out_len, i;
    kinagg_status st;
    memset(key, 'k', sizeof key);
    CHECK(kinagg_agg_init(&agg, agg_buf, sizeof agg_buf, NULL) == KINAGG_OK, "init");
    CHECK(kinagg_agg_size(&agg) == 20, "empty aggregate is 20 bytes, got %u", (unsigned)kinagg_agg_size(&agg));
    CHECK(kinagg_agg_add(&agg, "pk", 2, NULL, 0, "hello", 5) == KINAGG_OK, "first add");
    expect_add_error(&agg, KINAGG_ERR_KEY_EMPTY, "", 0, NULL, 0, "x", 1, "empty key");
    expect_add_error(&agg, KINAGG_ERR_KEY_TOO_LONG, key, 257, NULL, 0, "x", 1, "257-char key");
    expect_add_error(&agg, KINAGG_ERR_KEY_ENCODING, "\xff", 1, NULL, 0, "x", 1, "bad UTF-8 key");
    expect_add_error(&agg, KINAGG_ERR_HASH_KEY, "pk", 2, "", 0, "x", 1, "empty hash key");
    expect_add_error(&agg, KINAGG_ERR_HASH_KEY, "pk", 2, "340282366920938463463374607431768211456", 39, "x", 1,
                     "hash key 2^128");
    expect_add_error(&agg, KINAGG_ERR_HASH_KEY, "pk", 2, "12x", 3, "x", 1, "hash key not decimal");
    expect_add_error(&agg, KINAGG_ERR_HASH_KEY, "pk", 2, "007", 3, "x", 1, "hash key leading zeros");
    expect_add_error(&agg, KINAGG_ERR_TOO_LARGE, "pk", 2, NULL, 0, data_buf, sizeof data_buf, "1 MiB of data");
    expect_add_error(&agg, KINAGG_ERR_INVALID_ARGUMENT, "pk", 2, NULL, 0, NULL, 5, "NULL data");

    /* a small buffer: too small for the record alone vs. full */
    CHECK(kinagg_agg_init(&agg, small, sizeof small, NULL) == KINAGG_OK, "init small");
    expect_add_error(&agg, KINAGG_ERR_BUFFER_TOO_SMALL, "pk", 2, NULL, 0, data_buf, 60, "record over buffer");
    CHECK(kinagg_agg_add(&agg, "pk", 2, NULL, 0, data_buf, 20) == KINAGG_OK, "fits");
    expect_add_error(&agg, KINAGG_ERR_AGGREGATE_FULL, "pk", 2, NULL, 0, data_buf, 20, "second does not fit");
    CHECK(kinagg_agg_init(&agg, small, 19, NULL) == KINAGG_ERR_BUFFER_TOO_SMALL, "19-byte buffer");

    /* limits */
    lim.max_record_size = KINAGG_RECORD_SIZE_MAX + 1;
    lim.outer_key_len = 1;
    CHECK(kinagg_agg_init(&agg, agg_buf, sizeof agg_buf, &lim) == KINAGG_ERR_INVALID_ARGUMENT, "limit over 10 MiB");
    lim.max_record_size = 100;
    lim.outer_key_len = 10;
    CHECK(kinagg_agg_init(&agg, agg_buf, sizeof agg_buf, &lim) == KINAGG_OK, "100-byte limit");
    /* 20 overhead + key entry (tag, len, "pk") 4 + record entry (tag, len,
     * index field 2, data tag and len 2, d) 6+d + outer key 10 <= 100: d <= 60 */
    expect_add_error(&agg, KINAGG_ERR_TOO_LARGE, "pk", 2, NULL, 0, data_buf, 61, "61 bytes over a 100-byte limit");
    CHECK(kinagg_agg_add(&agg, "pk", 2, NULL, 0, data_buf, 60) == KINAGG_OK, "60 bytes fit exactly");
    CHECK(kinagg_agg_size(&agg) + 10 == 100, "size %u + outer 10 == 100", (unsigned)kinagg_agg_size(&agg));

    /* an empty aggregate is never written: consumers would take its 20 bytes for data */
    {
        kinagg_agg empty;
        unsigned char eb[64];
        const unsigned char *eo = NULL;
        size_t el = 7;
        CHECK(kinagg_agg_init(&empty, eb, sizeof eb, NULL) == KINAGG_OK, "empty: init");
        memset(eb, 0x5a, sizeof eb);
        CHECK(kinagg_agg_finish(&empty, &eo, &el) == KINAGG_ERR_STATE && eo == NULL && el == 7,
              "finish of an empty aggregate is refused");
        for (i = 0; i < sizeof eb && eb[i] == 0x5a; i++) {}
        CHECK(i == sizeof eb, "finish of an empty aggregate writes nothing (byte %u changed)", (unsigned)i);
    }

    /* finish, then add is a state error; finish twice gives the same bytes */
    CHECK(kinagg_agg_finish(&agg, &out, &out_len) == KINAGG_OK && out_len == 90, "finish");
    expect_add_error(&agg, KINAGG_ERR_STATE, "pk", 2, NULL, 0, "x", 1, "add after finish");
    {
        const unsigned char *out2;
        size_t len2;
        CHECK(kinagg_agg_finish(&agg, &out2, &len2) == KINAGG_OK && out2 == out && len2 == out_len, "refinish");
    }
    kinagg_agg_reset(&agg);
    CHECK(kinagg_agg_count(&agg) == 0 && kinagg_agg_size(&agg) == 20, "reset empties");

    /* a record exactly at the default 1 MiB limit (data + outer key "a") */
    CHECK(kinagg_agg_init(&agg, agg_buf, sizeof agg_buf, NULL) == KINAGG_OK, "init 1 MiB");
    for (i = sizeof data_buf - 300; i < sizeof data_buf; i++)
        if (kinagg_agg_size_if_added(&agg, "near-limit", 10, NULL, 0, i + 1) == (size_t)-1) break;
    st = kinagg_agg_add(&agg, "near-limit", 10, NULL, 0, data_buf, i + 1);
    CHECK(st == KINAGG_ERR_TOO_LARGE, "one byte over the limit: %s", kinagg_strerror(st));
    st = kinagg_agg_add(&agg, "near-limit", 10, NULL, 0, data_buf, i);
    CHECK(st == KINAGG_OK, "largest record: %s", kinagg_strerror(st));
    CHECK(kinagg_agg_size(&agg) + 1 == KINAGG_RECORD_SIZE_DEFAULT, "aggregate + 'a' = %u",
          (unsigned)(kinagg_agg_size(&agg) + 1));
    expect_add_error(&agg, KINAGG_ERR_AGGREGATE_FULL, "near-limit", 10, NULL, 0, "", 0, "nothing more fits");

    for (i = 0; i < KINAGG_STATUS_COUNT_; i++) {
        const char *s = kinagg_strerror((kinagg_status)i);
        size_t j;
        CHECK(strcmp(s, "unknown status") != 0, "status %u has a message", (unsigned)i);
        for (j = 0; j < i; j++) CHECK(strcmp(s, kinagg_strerror((kinagg_status)j)) != 0, "messages %u %u same",
                                      (unsigned)i, (unsigned)j);
    }
}

/* Records kept to compare with what the deaggregator yields. */
#define MAX_KEEP 4096
static test_record kept[MAX_KEEP];
static unsigned char kept_data[MAX_KEEP][256];

static void compare_yield(kinagg_deagg *it, size_t n, const char *what) {
    kinagg_user_record u;
    size_t i = 0;
    CHECK(kinagg_deagg_is_aggregated(it), "%s: not recognised as aggregated", what);
    CHECK(kinagg_deagg_count(it) == n, "%s: count %u want %u", what, (unsigned)kinagg_deagg_count(it), (unsigned)n);
    while (kinagg_deagg_next(it, &u)) {
        test_record *r = &kept[i];
        if (i >= n) { CHECK(0, "%s: extra record", what); break; }
        CHECK(u.partition_key_len == r->pk_len && memcmp(u.partition_key, r->pk, r->pk_len) == 0, "%s: key %u",
              what, (unsigned)i);
        CHECK((u.explicit_hash_key != NULL) == (r->has_ehk != 0), "%s: ehk presence %u", what, (unsigned)i);
        if (r->has_ehk && u.explicit_hash_key)
            CHECK(u.explicit_hash_key_len == r->ehk_len && memcmp(u.explicit_hash_key, r->ehk, r->ehk_len) == 0,
                  "%s: ehk %u", what, (unsigned)i);
        CHECK(u.data_len == r->data_len && (r->data_len == 0 || memcmp(u.data, r->data, r->data_len) == 0),
              "%s: data %u", what, (unsigned)i);
        CHECK(u.subsequence == i, "%s: subsequence %u", what, (unsigned)i);
        i++;
    }
    CHECK(i == n, "%s: yielded %u of %u", what, (unsigned)i, (unsigned)n);
}

static void test_roundtrip(void) {
    size_t round;
    static uint32_t scratch[8192];
    for (round = 0; round < 200; round++) {
        kinagg_agg agg;
        kinagg_agg_limits lim;
        kinagg_deagg it;
        const unsigned char *out;
        size_t n = 0, out_len, expect_size, distinct_bytes = 0;
        lim.max_record_size = 2000 + check_below(60000);
        lim.outer_key_len = 1 + check_below(256);
        CHECK(kinagg_agg_init(&agg, agg_buf, lim.max_record_size, &lim) == KINAGG_OK, "init");
        for (;;) {
            test_record *r = &kept[n];
            kinagg_status st;
            size_t predicted;
            r->data = kept_data[n];
            r->data_cap = sizeof kept_data[n];
            test_random_record(r, 256);
            predicted = kinagg_agg_size_if_added(&agg, r->pk, r->pk_len, r->has_ehk ? r->ehk : NULL, r->ehk_len,
                                                 r->data_len);
            st = kinagg_agg_add(&agg, r->pk, r->pk_len, r->has_ehk ? r->ehk : NULL, r->ehk_len, r->data,
                                r->data_len);
            if (st == KINAGG_ERR_AGGREGATE_FULL) {
                CHECK(predicted == (size_t)-1, "prediction said it fits");
                break;
            }
            CHECK(st == KINAGG_OK, "add: %s", kinagg_strerror(st));
            CHECK(predicted == kinagg_agg_size(&agg), "predicted %u got %u", (unsigned)predicted,
                  (unsigned)kinagg_agg_size(&agg));
            if (++n == MAX_KEEP) break;
        }
        expect_size = kinagg_agg_size(&agg);
        (void)distinct_bytes;
        CHECK(kinagg_agg_finish(&agg, &out, &out_len) == KINAGG_OK && out_len == expect_size, "finish size");
        CHECK(out_len + lim.outer_key_len <= lim.max_record_size, "within limit");
        kinagg_deagg_init(&it, out, out_len);
        compare_yield(&it, n, "scan lookup");
        kinagg_deagg_init(&it, out, out_len);
        kinagg_deagg_set_index(&it, scratch, sizeof scratch / sizeof scratch[0]);
        compare_yield(&it, n, "indexed lookup");
    }
}

/* Hand-made protobuf with a correct MD5, to test structure checks. */
static size_t wrap(const unsigned char *pb, size_t n, unsigned char *out) {
    memcpy(out, "\xF3\x89\x9A\xC2", 4);
    memcpy(out + 4, pb, n);
    kinagg_md5(pb, n, out + 4 + n);
    return n + 20;
}

static void expect_plain(const unsigned char *in, size_t n, const char *what) {
    kinagg_deagg it;
    kinagg_user_record u;
    kinagg_deagg_init(&it, in, n);
    CHECK(!kinagg_deagg_is_aggregated(&it), "%s: taken as aggregated", what);
    CHECK(kinagg_deagg_next(&it, &u) == 1 && u.data == in && u.data_len == n && u.partition_key == NULL,
          "%s: plain record not yielded whole", what);
    CHECK(kinagg_deagg_next(&it, &u) == 0, "%s: more than one plain record", what);
}

static void test_deagg_bad_input(void) {
    /* table "k"; record {pk 0, data "hi"} */
    static const unsigned char good[] = {0x0A, 1, 'k', 0x1A, 6, 0x08, 0, 0x1A, 2, 'h', 'i'};
    static const unsigned char bad_index[] = {0x0A, 1, 'k', 0x1A, 6, 0x08, 1, 0x1A, 2, 'h', 'i'};
    static const unsigned char no_data[] = {0x0A, 1, 'k', 0x1A, 2, 0x08, 0};
    static const unsigned char no_pk[] = {0x0A, 1, 'k', 0x1A, 4, 0x1A, 2, 'h', 'i'};
    static const unsigned char bad_ehk[] = {0x0A, 1, 'k', 0x1A, 8, 0x08, 0, 0x10, 0, 0x1A, 2, 'h', 'i'};
    static const unsigned char long_len[] = {0x0A, 9, 'k'};
    static const unsigned char bad_varint[] = {0x0A, 1, 'k', 0x1A, 0x86};
    static const unsigned char huge_varint[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    static const unsigned char field_zero[] = {0x02, 0};
    static const unsigned char group[] = {0x0B, 0x0C};
    static const unsigned char tag_without_key[] = {0x0A, 1, 'k', 0x1A, 10, 0x08, 0, 0x1A, 2, 'h', 'i', 0x22, 2,
                                                    0x12, 0};
    /* records before tables, unknown fields: still a valid aggregate */
    static const unsigned char reordered[] = {0x1A, 6, 0x08, 1, 0x1A, 2, 'h', 'i', 0x28, 7, 0x0A, 1, 'a', 0x0A,
                                              1,    'b', 0x12, 1, '5', 0x1A, 0x0B, 0x08, 0, 0x10, 0, 0x1A, 0, 0x22, 3,
                                              0x0A, 1, 't', 0x78, 1};
    unsigned char buf[256], agg[256];
    size_t n, i, good_len;
    kinagg_deagg it;
    kinagg_user_record u;

    good_len = wrap(good, sizeof good, agg);
    kinagg_deagg_init(&it, agg, good_len);
    CHECK(kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 1, "hand-made aggregate");
    expect_plain((const unsigned char *)"just a log line", 15, "no magic");
    expect_plain(agg, 0, "empty");
    expect_plain(agg, 19, "shorter than magic + md5");
    for (i = 0; i < good_len; i++) expect_plain(agg, i, "truncated");
    for (i = 0; i < good_len; i++) { /* any flipped bit fails the MD5 or the magic */
        memcpy(buf, agg, good_len);
        buf[i] ^= (unsigned char)(1u << (i % 8));
        expect_plain(buf, good_len, "bit flip");
    }
    n = wrap(bad_index, sizeof bad_index, buf); expect_plain(buf, n, "key index out of range");
    n = wrap(no_data, sizeof no_data, buf); expect_plain(buf, n, "record without data");
    n = wrap(no_pk, sizeof no_pk, buf); expect_plain(buf, n, "record without key index");
    n = wrap(bad_ehk, sizeof bad_ehk, buf); expect_plain(buf, n, "hash key index with empty table");
    n = wrap(long_len, sizeof long_len, buf); expect_plain(buf, n, "length past the end");
    n = wrap(bad_varint, sizeof bad_varint, buf); expect_plain(buf, n, "truncated varint");
    n = wrap(huge_varint, sizeof huge_varint, buf); expect_plain(buf, n, "varint over 64 bits");
    n = wrap(field_zero, sizeof field_zero, buf); expect_plain(buf, n, "field number 0");
    n = wrap(group, sizeof group, buf); expect_plain(buf, n, "group wire type");
    n = wrap(tag_without_key, sizeof tag_without_key, buf); expect_plain(buf, n, "tag without its key");

    n = wrap(reordered, sizeof reordered, buf);
    kinagg_deagg_init(&it, buf, n);
    CHECK(kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 2, "reordered fields accepted");
    CHECK(kinagg_deagg_next(&it, &u) && u.partition_key_len == 1 && u.partition_key[0] == 'b' &&
              u.explicit_hash_key == NULL && u.data_len == 2 && memcmp(u.data, "hi", 2) == 0,
          "first record of reordered");
    CHECK(kinagg_deagg_next(&it, &u) && u.partition_key[0] == 'a' && u.explicit_hash_key_len == 1 &&
              u.explicit_hash_key[0] == '5' && u.data_len == 0 && u.subsequence == 1,
          "second record of reordered");
    CHECK(!kinagg_deagg_next(&it, &u), "reordered ends");

    n = wrap(good, 0, buf); /* no fields: magic + MD5 of nothing, 20 bytes: plain, as the KCL has it */
    CHECK(n == 20, "an empty protobuf wraps to %u bytes", (unsigned)n);
    kinagg_deagg_init(&it, buf, n);
    CHECK(!kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 1 && kinagg_deagg_next(&it, &u) &&
              u.partition_key == NULL && u.data_len == 20 && memcmp(u.data, buf, 20) == 0 &&
              !kinagg_deagg_next(&it, &u),
          "a 20-byte empty aggregate is one plain record of its 20 bytes");
    {   /* one byte more (an unknown varint field): more than 16 bytes after the magic, an aggregate of 0 */
        static const unsigned char unknown_field[] = {0x28, 0x01}; /* field 5, varint 1 */
        n = wrap(unknown_field, sizeof unknown_field, buf);
        kinagg_deagg_init(&it, buf, n);
        CHECK(kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 0 && !kinagg_deagg_next(&it, &u),
              "22 bytes with no records: an aggregate of zero records");
    }
    kinagg_deagg_init(&it, NULL, 5);
    CHECK(kinagg_deagg_next(&it, &u) == 1 && u.data_len == 0, "NULL input is an empty plain record");
}

/* ---- SigV4 ------------------------------------------------------------ */

static char *read_file(const char *dir, const char *name, size_t *len) {
    char path[1024];
    FILE *f;
    char *s;
    long n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = (char *)malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    s[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return s;
}

/* The value of "key": "..." (string) or true/false in a flat JSON text. */
static int json_get(const char *json, const char *key, char *out, size_t cap) {
    char pat[64];
    const char *p, *e;
    snprintf(pat, sizeof pat, "\"%s\"", key);
    p = strstr(json, pat);
    if (!p) return 0;
    p = strchr(p + strlen(pat), ':') + 1;
    while (*p == ' ') p++;
    if (*p == '"') {
        e = strchr(++p, '"');
    } else {
        e = p;
        while (*e && *e != ',' && *e != '\n' && *e != '}') e++;
    }
    if ((size_t)(e - p) >= cap) return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 1;
}

static void test_sigv4_case(const char *dir, const char *name) {
    char casedir[1024], token[1024], flag[16], akid[64], secret[128], date[17];
    char *ctx, *req, *want_creq, *want_sts, *want_sig, *want_signed;
    char creq[4096], sts[1024], auth[1024], body_hash[65];
    kinagg_http_header headers[32];
    kinagg_sigv4_request r;
    kinagg_sigv4_trace tr;
    kinagg_sigv4_signer signer;
    kinagg_credentials cred;
    size_t nh = 0, req_len, auth_len;
    char *line, *p, *body = NULL, *target, *sp;
    int sign_body, normalize, omit_token, has_token;
    kinagg_status st;

    snprintf(casedir, sizeof casedir, "%s/%s", dir, name);
    ctx = read_file(casedir, "context.json", NULL);
    req = read_file(casedir, "request.txt", &req_len);
    want_creq = read_file(casedir, "header-canonical-request.txt", NULL);
    want_sts = read_file(casedir, "header-string-to-sign.txt", NULL);
    want_sig = read_file(casedir, "header-signature.txt", NULL);
    want_signed = read_file(casedir, "header-signed-request.txt", NULL);
    if (!ctx || !req || !want_creq || !want_sts || !want_sig || !want_signed) {
        CHECK(0, "%s: missing files", name);
        goto done;
    }
    json_get(ctx, "access_key_id", akid, sizeof akid);
    json_get(ctx, "secret_access_key", secret, sizeof secret);
    has_token = json_get(ctx, "token", token, sizeof token);
    sign_body = json_get(ctx, "sign_body", flag, sizeof flag) && strcmp(flag, "true") == 0;
    normalize = json_get(ctx, "normalize", flag, sizeof flag) && strcmp(flag, "true") == 0;
    omit_token = json_get(ctx, "omit_session_token", flag, sizeof flag) && strcmp(flag, "true") == 0;

    memset(&r, 0, sizeof r);
    /* request line: METHOD SP TARGET SP HTTP/1.1 (the target may hold spaces) */
    line = req;
    p = strchr(line, '\n');
    *p = 0;
    sp = strchr(line, ' ');
    r.method.ptr = line;
    r.method.len = (size_t)(sp - line);
    target = sp + 1;
    sp = strrchr(target, ' ');
    *sp = 0;
    r.path.ptr = target;
    sp = strchr(target, '?');
    if (sp) {
        r.path.len = (size_t)(sp - target);
        r.query = kinagg_str_c(sp + 1);
    } else {
        r.path.len = strlen(target);
        r.query = kinagg_str_c("");
    }
    /* headers; a line starting with whitespace continues the previous value */
    line = p + 1;
    while (line < req + req_len) {
        char *eol = strchr(line, '\n');
        if (!eol) eol = req + req_len;
        if (eol == line) { body = line + 1; break; }
        if ((*line == ' ' || *line == '\t') && nh) {
            headers[nh - 1].value.len = (size_t)(eol - headers[nh - 1].value.ptr);
        } else {
            char *colon = strchr(line, ':');
            headers[nh].name.ptr = line;
            headers[nh].name.len = (size_t)(colon - line);
            headers[nh].value.ptr = colon + 1;
            headers[nh].value.len = (size_t)(eol - colon - 1);
            nh++;
        }
        if (eol >= req + req_len) break;
        line = eol + 1;
    }
    if (body) {
        r.payload = body;
        r.payload_len = req_len - (size_t)(body - req);
    }
    kinagg_sigv4_amz_date(1440938160, date); /* 2015-08-30T12:36:00Z */
    headers[nh].name = kinagg_str_c("X-Amz-Date");
    headers[nh++].value = kinagg_str_c(date);
    if (has_token && !omit_token) {
        headers[nh].name = kinagg_str_c("X-Amz-Security-Token");
        headers[nh++].value = kinagg_str_c(token);
    }
    if (sign_body) {
        unsigned char d[32];
        kinagg_sha256(r.payload ? r.payload : "", r.payload_len, d);
        to_hex(d, 32, body_hash);
        headers[nh].name = kinagg_str_c("X-Amz-Content-Sha256");
        headers[nh++].value = kinagg_str_c(body_hash);
    }
    r.headers = headers;
    r.header_count = nh;
    r.region = kinagg_str_c("us-east-1");
    r.service = kinagg_str_c("service");
    r.amz_date = kinagg_str_c(date);
    r.normalize_path = normalize;
    cred.access_key_id = kinagg_str_c(akid);
    cred.secret_access_key = kinagg_str_c(secret);
    cred.session_token = kinagg_str_c(has_token ? token : "");
    kinagg_sigv4_init(&signer, &cred);
    memset(&tr, 0, sizeof tr);
    tr.canonical_request = creq;
    tr.canonical_request_cap = sizeof creq;
    tr.string_to_sign = sts;
    tr.string_to_sign_cap = sizeof sts;
    st = kinagg_sigv4_sign(&signer, &r, auth, sizeof auth, &auth_len, &tr);
    CHECK(st == KINAGG_OK, "%s: sign: %s", name, kinagg_strerror(st));
    CHECK(strcmp(creq, want_creq) == 0, "%s: canonical request\n--- got\n%s\n--- want\n%s", name, creq, want_creq);
    CHECK(strcmp(sts, want_sts) == 0, "%s: string to sign\n--- got\n%s\n--- want\n%s", name, sts, want_sts);
    CHECK(strcmp(tr.signature_hex, want_sig) == 0, "%s: signature %s want %s", name, tr.signature_hex, want_sig);
    p = strstr(want_signed, "Authorization:");
    if (p) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        CHECK(strcmp(auth, p + 14) == 0, "%s: authorization\n got %s\nwant %s", name, auth, p + 14);
    }
    /* too small an output buffer is an error, never a truncated header */
    st = kinagg_sigv4_sign(&signer, &r, auth, auth_len, NULL, NULL);
    CHECK(st == KINAGG_ERR_BUFFER_TOO_SMALL, "%s: short buffer: %s", name, kinagg_strerror(st));
done:
    free(ctx); free(req); free(want_creq); free(want_sts); free(want_sig); free(want_signed);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_sigv4_suite(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[128];
    size_t n = 0, i;
    CHECK(d != NULL, "cannot open %s", dir);
    if (!d) return;
    while ((e = readdir(d)) && n < 128)
        if (e->d_name[0] != '.') {
            names[n] = (char *)malloc(strlen(e->d_name) + 1);
            strcpy(names[n++], e->d_name);
        }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    CHECK(n == 38, "expected 38 SigV4 cases, found %u", (unsigned)n);
    for (i = 0; i < n; i++) {
        int before = check_failed;
        test_sigv4_case(dir, names[i]);
        if (check_failed == before) printf("  sigv4 %-45s ok\n", names[i]);
        free(names[i]);
    }
}

static void test_sigv4_misc(void) {
    char date[17], auth[512];
    kinagg_sigv4_signer s;
    kinagg_credentials c;
    kinagg_sigv4_request r;
    kinagg_http_header h[2];
    kinagg_sigv4_trace tr;
    char sig1[65];
    kinagg_sigv4_amz_date(0, date);
    CHECK(strcmp(date, "19700101T000000Z") == 0, "epoch %s", date);
    kinagg_sigv4_amz_date(951782400, date);
    CHECK(strcmp(date, "20000229T000000Z") == 0, "leap day %s", date);
    kinagg_sigv4_amz_date(4107628799ull, date);
    CHECK(strcmp(date, "21000301T235959Z") == 0, "2100 %s", date);
    /* the cached key follows the date: signing with a new date must match a
     * fresh signer's result */
    c.access_key_id = kinagg_str_c("AKIDEXAMPLE");
    c.secret_access_key = kinagg_str_c("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    c.session_token = kinagg_str_c("");
    memset(&r, 0, sizeof r);
    r.method = kinagg_str_c("POST");
    r.path = kinagg_str_c("/");
    r.region = kinagg_str_c("eu-west-1");
    r.service = kinagg_str_c("kinesis");
    h[0].name = kinagg_str_c("Host");
    h[0].value = kinagg_str_c("kinesis.eu-west-1.amazonaws.com");
    h[1].name = kinagg_str_c("X-Amz-Date");
    r.headers = h;
    r.header_count = 2;
    kinagg_sigv4_init(&s, &c);
    memset(&tr, 0, sizeof tr);
    kinagg_sigv4_amz_date(1440938160, date);
    h[1].value = r.amz_date = kinagg_str_c(date);
    CHECK(kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, &tr) == KINAGG_OK, "sign day 1");
    memcpy(sig1, tr.signature_hex, 65);
    kinagg_sigv4_amz_date(1440938160 + 86400, date);
    CHECK(kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, &tr) == KINAGG_OK, "sign day 2");
    CHECK(strcmp(sig1, tr.signature_hex) != 0, "new day, same signature");
    {
        kinagg_sigv4_signer fresh;
        kinagg_sigv4_trace tr2;
        memset(&tr2, 0, sizeof tr2);
        kinagg_sigv4_init(&fresh, &c);
        CHECK(kinagg_sigv4_sign(&fresh, &r, auth, sizeof auth, NULL, &tr2) == KINAGG_OK, "fresh");
        CHECK(strcmp(tr2.signature_hex, tr.signature_hex) == 0, "cached key differs from fresh key");
    }
    r.amz_date = kinagg_str_c("2015-08-30T12:36:00Z");
    CHECK(kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, NULL) == KINAGG_ERR_INVALID_ARGUMENT, "bad date");
    r.amz_date = kinagg_str_c(date);
    h[0].name = kinagg_str_c("Bad Name");
    CHECK(kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, NULL) == KINAGG_ERR_HEADER, "bad header name");
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/vectors/sigv4/v4";
    test_md5();
    test_sha256();
    test_hmac();
    test_hash_keys();
    test_partition_keys();
    test_agg_errors();
    test_roundtrip();
    test_deagg_bad_input();
    test_sigv4_suite(dir);
    test_sigv4_misc();
    return check_summary("unit");
}
