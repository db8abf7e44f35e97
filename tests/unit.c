/* Unit tests of kinagg.h's core: crypto, base64 and the PutRecords body,
 * hash keys, partition keys, the aggregator, its errors and its key index,
 * the deaggregator on good and bad input, and the SigV4 signer against the
 * AWS test suite.
 *
 * usage: unit [SIGV4_VECTOR_DIR]   (default tests/vectors/sigv4/v4)
 * Runs natively and under qemu-user; prints "unit: N passed, N failed". */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64 /* readdir on 32-bit targets */
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include "records.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static void to_hex(const unsigned char *p, size_t n, char *out) {
    kinagg_hex(p, n, out);
    out[2 * n] = 0;
}

/* ---- the memory functions ------------------------------------------- */

/* Whichever the build uses (the library's byte loops under KINAGG_SMALL,
 * else <string.h>'s), against plain reference loops: copies forward and
 * backward over overlapping ranges, fills, and the sign of comparisons. */
static void test_memory(void) {
    unsigned char a[64], b[64], ref[64];
    unsigned i, round, bad = 0;
    uint32_t x = 12345;
    for (round = 0; round < 2000; round++) {
        size_t from, to, n, j;
        int c1, c2;
        for (i = 0; i < 64; i++) { x = x * 1103515245u + 12345u; a[i] = (unsigned char)(x >> 16); }
        x = x * 1103515245u + 12345u; from = (x >> 16) % 64;
        x = x * 1103515245u + 12345u; to = (x >> 16) % 64;
        x = x * 1103515245u + 12345u; n = (x >> 16) % (64 - (from > to ? from : to) + 1);
        for (i = 0; i < 64; i++) ref[i] = a[i];
        for (j = 0; j < n; j++) b[j] = a[from + j];
        for (j = 0; j < n; j++) ref[to + j] = b[j];
        KINAGG_MEMMOVE(a + to, a + from, n);
        if (memcmp(a, ref, 64) != 0) bad++;
        if (from + n <= to || to + n <= from) { /* no overlap: a copy */
            KINAGG_MEMCPY(b, a + from, n);
            if (n && memcmp(b, a + from, n) != 0) bad++;
        }
        KINAGG_MEMSET(a + from, (int)(round & 0xff), n);
        for (j = 0; j < n; j++) if (a[from + j] != (unsigned char)round) bad++;
        for (i = 0; i < 64; i++) { x = x * 1103515245u + 12345u; b[i] = (unsigned char)(x >> 28); ref[i] = (unsigned char)(x >> 24 & 3); }
        c1 = KINAGG_MEMCMP(b, ref, n);
        for (c2 = 0, j = 0; j < n && !c2; j++) c2 = b[j] < ref[j] ? -1 : b[j] > ref[j];
        if ((c1 < 0) != (c2 < 0) || (c1 > 0) != (c2 > 0)) bad++;
    }
    CHECK(bad == 0, "memory functions: %u wrong results", bad);
    CHECK(KINAGG_MEMCMP("\x80", "\x7f", 1) > 0, "memcmp compares bytes as unsigned");
#ifdef KINAGG_LIBC_MEMORY
    CHECK(!KINAGG__OWN_MEMORY, "KINAGG_LIBC_MEMORY: <string.h>'s functions");
#else
    CHECK(KINAGG__OWN_MEMORY == KINAGG__SMALL, "the byte loops are built exactly under KINAGG_SMALL");
#endif
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

/* Every length 0..299 (all the padding cases of one and two blocks), each
 * message hashed whole and in two pieces; the digests of all of them hashed
 * together must give what Python's hashlib gives for the same messages. */
static void test_hash_lengths(void) {
    static unsigned char million[1000000];
    const char *two = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
                      "lmnopqrsmnopqrstnopqrstu";
    unsigned char msg[300], d[32], d2[32];
    char hex[65];
    size_t len, i;
    kinagg_md5_ctx m, macc;
    kinagg_sha256_ctx s, sacc;
    for (i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)(i * 7 % 251);
    kinagg_md5_init(&macc);
    kinagg_sha256_init(&sacc);
    for (len = 0; len < sizeof msg; len++) {
        size_t cut = len ? check_below(len) : 0;
        kinagg_md5(msg, len, d);
        kinagg_md5_init(&m);
        kinagg_md5_update(&m, msg, cut);
        kinagg_md5_update(&m, msg + cut, len - cut);
        kinagg_md5_final(&m, d2);
        CHECK(memcmp(d, d2, 16) == 0, "md5 of %u bytes cut at %u differs", (unsigned)len, (unsigned)cut);
        kinagg_md5_update(&macc, d, 16);
        kinagg_sha256(msg, len, d);
        kinagg_sha256_init(&s);
        kinagg_sha256_update(&s, msg, cut);
        kinagg_sha256_update(&s, msg + cut, len - cut);
        kinagg_sha256_final(&s, d2);
        CHECK(memcmp(d, d2, 32) == 0, "sha256 of %u bytes cut at %u differs", (unsigned)len, (unsigned)cut);
        kinagg_sha256_update(&sacc, d, 32);
    }
    kinagg_md5_final(&macc, d);
    to_hex(d, 16, hex);
    CHECK(strcmp(hex, "43fb29f87b9bc2a496f24a282012d469") == 0, "md5 of lengths 0..299: %s", hex);
    kinagg_sha256_final(&sacc, d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "35c6b5439515e743ab02715b54e01009ca52b6e596d342fd26c560cf4719bffd") == 0,
          "sha256 of lengths 0..299: %s", hex);
    /* FIPS 180-2's two-block message; a million 'a' for MD5 */
    kinagg_sha256(two, strlen(two), d);
    to_hex(d, 32, hex);
    CHECK(strcmp(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1") == 0, "%s", hex);
    memset(million, 'a', sizeof million);
    kinagg_md5(million, sizeof million, d);
    to_hex(d, 16, hex);
    CHECK(strcmp(hex, "7707d6ae4e027c70eea2a935c2296f21") == 0, "md5 of a million a: %s", hex);
#ifndef KINAGG_USE_MBEDTLS
    /* the build uses the SHA-256 code its compiler flags ask for */
#if !defined(KINAGG_NO_SHA256_HW) && defined(__SHA__) && defined(__SSE4_1__)
    CHECK(KINAGG__SHA256_HW == 1, "x86 SHA extensions targeted but not used");
#elif !defined(KINAGG_NO_SHA256_HW) && defined(__ARM_FEATURE_SHA2) && !defined(__ARM_BIG_ENDIAN)
    CHECK(KINAGG__SHA256_HW == 2, "ARMv8 SHA-256 instructions targeted but not used");
#else
    CHECK(KINAGG__SHA256_HW == 0, "SHA-256 hardware path without the target for it");
#endif
    printf("unit: SHA-256 %s; MD5 and SHA-256 %s\n",
           KINAGG__SHA256_HW == 1 ? "x86 SHA extensions" : KINAGG__SHA256_HW == 2 ? "ARMv8 crypto" : "portable",
           KINAGG__FAST_CRYPTO ? "unrolled" : "compact");
#endif
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

/* ---- base64 and the PutRecords body ------------------------------------ */

/* Base64 the slow way, one bit at a time, to check the library against. */
static size_t ref_base64(const unsigned char *in, size_t len, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t bit, o = 0;
    for (bit = 0; bit < 8 * len; bit += 6) {
        unsigned v = 0, k;
        for (k = 0; k < 6; k++) {
            size_t b = bit + k;
            v = v << 1 | (b < 8 * len ? (in[b / 8] >> (7 - b % 8)) & 1u : 0u);
        }
        out[o++] = t[v];
    }
    while (o % 4) out[o++] = '=';
    return o;
}

static void test_base64(void) {
    static const char *const rfc[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    static const char *const bad[] = {"Z", "Zg=", "Zg===", "Z===", "====", "Zm9v!A==", "Zm=v", "=Zm9", "Zg==Zg==",
                                      "Zm9\x80", "Zm9v\xffmFy", "Zm 9", "Zm9vYmFy\n"};
    unsigned char bin[300], back[300];
    char text[404], ref[404];
    size_t i, len;
    for (i = 0; i < sizeof rfc / sizeof rfc[0]; i++) { /* RFC 4648 section 10 */
        size_t n = kinagg_base64_encode((const unsigned char *)rfc[i][0], strlen(rfc[i][0]), text);
        CHECK(n == strlen(rfc[i][1]) && memcmp(text, rfc[i][1], n) == 0, "base64 of \"%s\"", rfc[i][0]);
        n = kinagg_base64_decode(rfc[i][1], strlen(rfc[i][1]), back);
        CHECK(n == strlen(rfc[i][0]) && memcmp(back, rfc[i][0], n) == 0, "decode \"%s\"", rfc[i][1]);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(kinagg_base64_decode(bad[i], strlen(bad[i]), back) == (size_t)-1, "bad base64 \"%s\" accepted", bad[i]);
    for (len = 0; len < sizeof bin; len++) { /* every length, every byte value */
        size_t n, r, j;
        for (j = 0; j < len; j++) bin[j] = (unsigned char)check_rand();
        n = kinagg_base64_encode(bin, len, text);
        r = ref_base64(bin, len, ref);
        CHECK(n == r && memcmp(text, ref, n) == 0, "base64 of %u bytes", (unsigned)len);
        CHECK(kinagg_base64_decode(text, n, back) == len && memcmp(back, bin, len) == 0, "decode %u", (unsigned)len);
        CHECK(kinagg_base64_decode(text, n, (unsigned char *)text) == len && memcmp(text, bin, len) == 0,
              "decode %u in place", (unsigned)len);
        if (n) { /* one character changed to one outside the alphabet */
            ref[check_below(n)] = "!-_.~\x7f\x80 "[check_below(8)];
            CHECK(kinagg_base64_decode(ref, n, back) == (size_t)-1, "bad character in %u accepted", (unsigned)len);
        }
    }
}

/* The JSON PutRecords body streams base64 data from any offset: read in
 * pieces of every size from 1 byte, it must be the same text, and carry
 * each entry's data as base64. */
#ifndef KINAGG_NO_JSON
static void test_put_body(void) {
    static unsigned char data[8][200], whole[4096], piecewise[4096];
    kinagg_put_entry e[8];
    kinagg_put_request q;
    size_t i, n, piece, total;
    memset(e, 0, sizeof e);
    for (i = 0; i < 8; i++) {
        size_t j;
        e[i].data = data[i];
        e[i].data_len = i < 4 ? i : check_below(sizeof data[i]);
        for (j = 0; j < e[i].data_len; j++) data[i][j] = (unsigned char)check_rand();
        e[i].partition_key = kinagg_str_c("pk");
    }
    memset(&q, 0, sizeof q);
    q.stream.name = kinagg_str_c("s");
    q.entries = e;
    q.count = 8;
    q.protocol = KINAGG_PROTOCOL_JSON;
    total = kinagg_put_records_body_size(q.protocol, q.stream, e, 8);
    CHECK(total < sizeof whole, "body of %u bytes", (unsigned)total);
    kinagg__put_rewind(&q);
    n = kinagg__put_read(&q, whole, sizeof whole);
    CHECK(n == total && kinagg__put_read(&q, whole + n, sizeof whole - n) == 0, "body read at once: %u of %u",
          (unsigned)n, (unsigned)total);
    for (i = 0; i < 8; i++) { /* "Data":"<base64>" for each entry, in order */
        char b64[300];
        size_t m = ref_base64(e[i].data, e[i].data_len, b64), k, found = 0;
        for (k = 0; k + m + 10 <= n && !found; k++)
            found = memcmp(whole + k, "\"Data\":\"", 8) == 0 && memcmp(whole + k + 8, b64, m) == 0 &&
                    whole[k + 8 + m] == '"';
        CHECK(found, "entry %u's data is not in the body", (unsigned)i);
    }
    for (piece = 1; piece <= 70; piece++) {
        size_t got = 0, r;
        kinagg__put_rewind(&q);
        while ((r = kinagg__put_read(&q, piecewise + got, piece)) > 0) got += r;
        CHECK(got == total && memcmp(piecewise, whole, total) == 0, "body in pieces of %u differs", (unsigned)piece);
    }
}

#endif /* KINAGG_NO_JSON */

#if defined(KINAGG_NO_CBOR) || defined(KINAGG_NO_JSON)
/* One wire protocol built: the other one is refused, the default is the one. */
static uint64_t zero_ms(void *ctx) { (void)ctx; return 0; }
static void test_one_protocol(void) {
    static unsigned char sbuf[1024], rbuf[1024];
    static kinagg_kinesis k;
    kinagg_protocol other = KINAGG_PROTOCOL_DEFAULT == KINAGG_PROTOCOL_JSON ? KINAGG_PROTOCOL_CBOR : KINAGG_PROTOCOL_JSON;
    kinagg_put_entry e;
    kinagg_stream_ref st;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_transport t;
    kinagg_platform pf;
#ifdef KINAGG_NO_CBOR
    CHECK(KINAGG_PROTOCOL_DEFAULT == KINAGG_PROTOCOL_JSON, "default protocol without CBOR");
#else
    CHECK(KINAGG_PROTOCOL_DEFAULT == KINAGG_PROTOCOL_CBOR, "default protocol without JSON");
#endif
    memset(&e, 0, sizeof e);
    e.data = (const unsigned char *)"abc";
    e.data_len = 3;
    e.partition_key = kinagg_str_c("pk");
    st.name = kinagg_str_c("s");
    st.arn = kinagg_str_c(NULL);
    CHECK(kinagg_put_records_body_size(other, st, &e, 1) == 0, "body size in the protocol left out");
    /* JSON: {"StreamName":"s","Records":[{"Data":"YWJj","PartitionKey":"pk"}]}; CBOR: the same map, 49 bytes */
    CHECK(kinagg_put_records_body_size(KINAGG_PROTOCOL_DEFAULT, st, &e, 1) ==
              (KINAGG_PROTOCOL_DEFAULT == KINAGG_PROTOCOL_JSON ? 66u : 49u),
          "body size %u", (unsigned)kinagg_put_records_body_size(KINAGG_PROTOCOL_DEFAULT, st, &e, 1));
    memset(&t, 0, sizeof t);
    memset(&pf, 0, sizeof pf);
    pf.now_ms = zero_ms;
    pf.unix_ms = zero_ms;
    CHECK(kinagg_endpoint_from_url(&ep, kinagg_str_c("http://127.0.0.1:4567")) == KINAGG_OK, "endpoint");
    cr.access_key_id = kinagg_str_c("AKID");
    cr.secret_access_key = kinagg_str_c("secret");
    cr.session_token = kinagg_str_c("");
    CHECK(kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cr, other, &t, &pf, sbuf, sizeof sbuf, rbuf,
                              sizeof rbuf) == KINAGG_ERR_INVALID_ARGUMENT,
          "the protocol left out is refused");
    CHECK(kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_DEFAULT, &t, &pf, sbuf,
                              sizeof sbuf, rbuf, sizeof rbuf) == KINAGG_OK,
          "the default protocol");
}
#endif

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

/* ---- the aggregator's key index and its record moves ----------------- */

static unsigned char twin_buf[KINAGG_RECORD_SIZE_DEFAULT];
/* an index that never fills for the 60,000-byte aggregates below */
static uint32_t index_words[KINAGG_AGG_INDEX_WORDS(KINAGG_AGG_KEYS_MAX(62000))];

/* The same record into an aggregate without an index and one with: the
 * prediction, the status, the size must agree. Returns the status. */
static kinagg_status twin_add(kinagg_agg *plain, kinagg_agg *indexed, const char *pk, size_t pk_len,
                              const char *ehk, size_t ehk_len, const void *data, size_t len, const char *what) {
    size_t pa = kinagg_agg_size_if_added(plain, pk, pk_len, ehk, ehk_len, len);
    size_t pb = kinagg_agg_size_if_added(indexed, pk, pk_len, ehk, ehk_len, len);
    kinagg_status sa = kinagg_agg_add(plain, pk, pk_len, ehk, ehk_len, data, len);
    kinagg_status sb = kinagg_agg_add(indexed, pk, pk_len, ehk, ehk_len, data, len);
    CHECK(pa == pb, "%s: predictions %u and %u", what, (unsigned)pa, (unsigned)pb);
    CHECK(sa == sb, "%s: %s without an index, %s with", what, kinagg_strerror(sa), kinagg_strerror(sb));
    CHECK(kinagg_agg_size(plain) == kinagg_agg_size(indexed) && kinagg_agg_count(plain) == kinagg_agg_count(indexed),
          "%s: sizes %u and %u", what, (unsigned)kinagg_agg_size(plain), (unsigned)kinagg_agg_size(indexed));
    return sb;
}

/* Both finished aggregates must be the same bytes, and decode to kept[0..n). */
static void twin_finish(kinagg_agg *plain, kinagg_agg *indexed, size_t n, const char *what) {
    const unsigned char *a, *b;
    size_t la, lb;
    kinagg_deagg it;
    kinagg_agg_finish(plain, &a, &la);
    kinagg_agg_finish(indexed, &b, &lb);
    CHECK(la == lb && memcmp(a, b, la) == 0, "%s: aggregates differ (%u, %u bytes)", what, (unsigned)la,
          (unsigned)lb);
    kinagg_deagg_init(&it, b, lb);
    compare_yield(&it, n, what);
}

/* A record for kept[n]; keys repeat often, from the records before. */
static void twin_record(size_t n) {
    test_record *r = &kept[n];
    r->data = kept_data[n];
    r->data_cap = sizeof kept_data[n];
    test_random_record(r, 256);
    if (n && check_below(3)) { /* an earlier key, and often its hash key too */
        const test_record *o = &kept[check_below(n)];
        memcpy(r->pk, o->pk, o->pk_len);
        r->pk_len = o->pk_len;
        if (check_below(2)) {
            r->has_ehk = o->has_ehk;
            memcpy(r->ehk, o->ehk, o->ehk_len);
            r->ehk_len = o->ehk_len;
        }
    }
}

/* Random records into twin aggregates, without an index and with one of
 * every size from none to never full, given at the start or part way. */
static void test_agg_index_twins(void) {
    static const size_t sizes[] = {0, 1, 2, 3, 5, 8, 16, 64, 1000, sizeof index_words / sizeof index_words[0]};
    size_t round;
    for (round = 0; round < 120; round++) {
        kinagg_agg plain, indexed;
        kinagg_agg_limits lim;
        size_t words = sizes[round % (sizeof sizes / sizeof sizes[0])], n = 0, late = check_below(3) ? 0 : 1 + check_below(50);
        int again;
        char what[64];
        lim.max_record_size = 2000 + check_below(60000);
        lim.outer_key_len = 1 + check_below(256);
        sprintf(what, "twins, %u index words", (unsigned)words);
        CHECK(kinagg_agg_init(&plain, agg_buf, lim.max_record_size, &lim) == KINAGG_OK, "init");
        CHECK(kinagg_agg_init(&indexed, twin_buf, lim.max_record_size, &lim) == KINAGG_OK, "init");
        if (!late) kinagg_agg_set_index(&indexed, index_words, words);
        for (again = 0; again < 2; again++) { /* a second aggregate after reset */
            for (n = 0; n < MAX_KEEP; n++) {
                test_record *r = &kept[n];
                kinagg_status st;
                if (n == late) kinagg_agg_set_index(&indexed, index_words, words);
                twin_record(n);
                st = twin_add(&plain, &indexed, r->pk, r->pk_len, r->has_ehk ? r->ehk : NULL, r->ehk_len, r->data,
                              r->data_len, what);
                if (st == KINAGG_ERR_AGGREGATE_FULL) break;
                CHECK(st == KINAGG_OK, "%s: add %s", what, kinagg_strerror(st));
            }
#if KINAGG__AGG_INDEX
            CHECK(indexed.index_keys <= 3 * words / 8, "%s: %u keys in %u words", what,
                  (unsigned)indexed.index_keys, (unsigned)words);
            if (words == sizes[sizeof sizes / sizeof sizes[0] - 1] && indexed.index) /* given before full */
                CHECK(indexed.index_keys == indexed.pk_count + indexed.ehk_count, "%s: a key left out", what);
#endif
            twin_finish(&plain, &indexed, n, what);
            kinagg_agg_reset(&plain);
            kinagg_agg_reset(&indexed);
            late = 0;
        }
    }
}

/* Many keys of both tables in one bucket: each is found by probing past the
 * others, and none is mistaken for another. */
static void test_agg_index_collisions(void) {
#if KINAGG__AGG_INDEX
    enum { SLOTS = 64, PKS = 40, EHKS = 8 };
    static char pks[PKS][16], ehks[EHKS][16];
    size_t npk = 0, nehk = 0, i, n = 0, used = 0;
    unsigned c;
    kinagg_agg plain, indexed;
    const size_t bucket = 61; /* near the end: probes wrap around */
    for (c = 0; npk < PKS || nehk < EHKS; c++) {
        char key[16];
        size_t len = (size_t)sprintf(key, "%u", 1000 + c);
        if (npk < PKS && (((uint64_t)kinagg__agg_hash(key, len, 0) * SLOTS) >> 32) == bucket)
            strcpy(pks[npk++], key);
        if (nehk < EHKS && (((uint64_t)kinagg__agg_hash(key, len, 1) * SLOTS) >> 32) == bucket)
            strcpy(ehks[nehk++], key);
    }
    CHECK(kinagg_agg_init(&plain, agg_buf, 200000, NULL) == KINAGG_OK, "init");
    CHECK(kinagg_agg_init(&indexed, twin_buf, 200000, NULL) == KINAGG_OK, "init");
    kinagg_agg_set_index(&indexed, index_words, 2 * SLOTS);
    CHECK(indexed.index_slots == SLOTS, "%u slots", (unsigned)indexed.index_slots);
    for (i = 0; i < 3 * PKS; i++) { /* each key once, in order, then at random */
        test_record *r = &kept[n++];
        const char *pk = pks[i < PKS ? i : check_below(PKS)];
        r->pk_len = strlen(pk);
        memcpy(r->pk, pk, r->pk_len);
        r->has_ehk = i % 2 == 0;
        if (r->has_ehk) {
            const char *ehk = ehks[i / 2 < EHKS ? i / 2 : check_below(EHKS)];
            r->ehk_len = strlen(ehk);
            memcpy(r->ehk, ehk, r->ehk_len);
        }
        r->data = kept_data[i];
        r->data_len = 1 + check_below(20);
        memset(kept_data[i], (int)i, r->data_len);
        CHECK(twin_add(&plain, &indexed, r->pk, r->pk_len, r->has_ehk ? r->ehk : NULL, r->ehk_len, r->data,
                       r->data_len, "collisions") == KINAGG_OK, "add");
    }
    CHECK(indexed.pk_indexed == PKS && indexed.ehk_indexed == EHKS && indexed.index_keys == PKS + EHKS,
          "indexed %u partition keys, %u hash keys", (unsigned)indexed.pk_indexed, (unsigned)indexed.ehk_indexed);
    for (i = 0; i < SLOTS; i++) used += indexed.index[2 * i] != 0;
    CHECK(used == PKS + EHKS, "%u slots used", (unsigned)used);
    CHECK(indexed.index[2 * bucket] != 0 && indexed.index[0] != 0, "the bucket and the slots after it wrapped");
    twin_finish(&plain, &indexed, n, "collisions");

    /* A string that is a partition key and an explicit hash key, at the same
     * offset of both tables, whose two hashes pick the same slot with the
     * same check bits: the slot of one table's entry must not answer for
     * the other's. */
    {
        static const char *const seq[][2] = {{"aaaa", "1"}, {NULL, "2"}, {NULL, NULL}, {NULL, NULL}};
        char both[16];
        size_t len = 0;
        for (c = 0;; c++) {
            uint32_t h0, h1;
            len = (size_t)sprintf(both, "%u", 100000 + c);
            h0 = kinagg__agg_hash(both, len, 0);
            h1 = kinagg__agg_hash(both, len, 1);
            if ((((uint64_t)h0 * SLOTS) >> 32) == (((uint64_t)h1 * SLOTS) >> 32) && (h0 & 0x7f) == (h1 & 0x7f)) break;
        }
        CHECK(kinagg_agg_init(&plain, agg_buf, 200000, NULL) == KINAGG_OK, "init");
        CHECK(kinagg_agg_init(&indexed, twin_buf, 200000, NULL) == KINAGG_OK, "init");
        kinagg_agg_set_index(&indexed, index_words, 2 * SLOTS);
        /* partition keys "aaaa", both; hash keys "1", "2", both: both is at
         * offset 6 of each table, index 1 of one and 2 of the other */
        for (n = 0; n < 4; n++) {
            test_record *r = &kept[n];
            const char *pk = seq[n][0] ? seq[n][0] : both, *ehk = seq[n][1] ? seq[n][1] : both;
            r->pk_len = strlen(pk);
            memcpy(r->pk, pk, r->pk_len);
            r->has_ehk = 1;
            r->ehk_len = strlen(ehk);
            memcpy(r->ehk, ehk, r->ehk_len);
            r->data = kept_data[n];
            r->data_len = 0;
            CHECK(twin_add(&plain, &indexed, r->pk, r->pk_len, r->ehk, r->ehk_len, r->data, 0, "both tables") ==
                      KINAGG_OK, "add");
        }
        CHECK(indexed.pk_count == 2 && indexed.ehk_count == 3, "%u partition keys, %u hash keys",
              (unsigned)indexed.pk_count, (unsigned)indexed.ehk_count);
        twin_finish(&plain, &indexed, n, "a key in both tables");
    }
#endif
}

/* A full index: keys beyond its room are found by scanning the rest of
 * their table, and keys in it still by the index. */
static void test_agg_index_full(void) {
    static const size_t words[] = {8, 2 * 3, KINAGG_AGG_INDEX_WORDS(50)};
    size_t w;
    for (w = 0; w < sizeof words / sizeof words[0]; w++) {
        kinagg_agg plain, indexed;
        size_t i, n = 0, room = words[w] / 2 - (words[w] / 2 + 3) / 4;
        CHECK(kinagg_agg_init(&plain, agg_buf, 300000, NULL) == KINAGG_OK, "init");
        CHECK(kinagg_agg_init(&indexed, twin_buf, 300000, NULL) == KINAGG_OK, "init");
        kinagg_agg_set_index(&indexed, index_words, words[w]);
        for (i = 0; i < 1500; i++) {
            test_record *r = &kept[n++];
            size_t key = i < 200 ? i : check_below(200);
            r->pk_len = (size_t)sprintf(r->pk, "key-%u", (unsigned)key);
            r->has_ehk = key % 3 == 0;
            if (r->has_ehk) r->ehk_len = (size_t)sprintf(r->ehk, "%u", (unsigned)(key * 7919 % 90));
            r->data = kept_data[i];
            r->data_len = check_below(8);
            memset(kept_data[i], 'a' + (int)(i % 26), r->data_len);
            CHECK(twin_add(&plain, &indexed, r->pk, r->pk_len, r->has_ehk ? r->ehk : NULL, r->ehk_len, r->data,
                           r->data_len, "full index") == KINAGG_OK, "add");
#if KINAGG__AGG_INDEX
            if (i == 49 && words[w] == KINAGG_AGG_INDEX_WORDS(50)) /* 50 partition keys, some hash keys */
                CHECK(indexed.index_keys == indexed.pk_count + indexed.ehk_count,
                      "an index for 50 keys: %u of %u keys in it", (unsigned)indexed.index_keys,
                      (unsigned)(indexed.pk_count + indexed.ehk_count));
#endif
        }
#if KINAGG__AGG_INDEX
        CHECK(indexed.index_keys == room, "full index of %u words: %u keys, want %u", (unsigned)words[w],
              (unsigned)indexed.index_keys, (unsigned)room);
        CHECK(indexed.pk_count == 200 && indexed.pk_indexed + indexed.ehk_indexed == room,
              "%u of %u partition keys indexed", (unsigned)indexed.pk_indexed, (unsigned)indexed.pk_count);
#else
        (void)room;
#endif
        twin_finish(&plain, &indexed, n, "full index");
    }
}

/* The records move when the key tables outgrow the room before them, and
 * when they reach the end of the buffer with room left before them. */
static void test_agg_moves(void) {
    size_t kind;
    for (kind = 0; kind < 2; kind++) {
        kinagg_agg agg;
        kinagg_deagg it;
        kinagg_agg_limits lim;
        const unsigned char *out;
        size_t n = 0, first, moves = 0, last;
        kinagg_status st;
        lim.max_record_size = 40000;
        lim.outer_key_len = 1;
        CHECK(kinagg_agg_init(&agg, agg_buf, lim.max_record_size, &lim) == KINAGG_OK, "init");
        first = last = agg.records_start;
        for (;;) {
            test_record *r = &kept[n];
            size_t i;
            r->data = kept_data[n];
            r->has_ehk = 0;
            if (kind == 0) { /* distinct long keys, little data: the tables grow */
                r->pk_len = 200;
                for (i = 0; i < 200; i++) r->pk[i] = (char)('a' + check_below(26));
                r->data_len = check_below(4);
            } else { /* one key, records up to the end of the buffer */
                r->pk_len = 1;
                r->pk[0] = 'k';
                r->data_len = 200 + check_below(56);
            }
            for (i = 0; i < r->data_len; i++) r->data[i] = (unsigned char)check_rand();
            st = kinagg_agg_add(&agg, r->pk, r->pk_len, NULL, 0, r->data, r->data_len);
            if (st == KINAGG_ERR_AGGREGATE_FULL) break;
            CHECK(st == KINAGG_OK, "moves: %s", kinagg_strerror(st));
            if (agg.records_start != last) moves++;
            last = agg.records_start;
            n++;
        }
        CHECK(kind == 0 ? agg.records_start > first : agg.records_start < first,
              "moves %u: records at %u, first at %u", (unsigned)kind, (unsigned)agg.records_start, (unsigned)first);
        CHECK(moves >= 1 && moves <= 20, "moves %u: %u moves", (unsigned)kind, (unsigned)moves);
        CHECK(kinagg_agg_size(&agg) + 1 + 300 > lim.max_record_size, "moves %u: filled to %u", (unsigned)kind,
              (unsigned)kinagg_agg_size(&agg));
        kinagg_agg_finish(&agg, &out, NULL);
        CHECK(out == agg_buf, "the aggregate starts the buffer");
        kinagg_deagg_init(&it, out, kinagg_agg_size(&agg));
        compare_yield(&it, n, kind == 0 ? "tables outgrow the gap" : "records reach the end");
    }
}

/* The aggregator's quick explicit hash key check agrees with the parser. */
static void test_agg_ehk_check(void) {
    static const char *const edge[] = {"0", "00", "01", "9", "340282366920938463463374607431768211455",
                                       "340282366920938463463374607431768211456",
                                       "340282366920938463463374607431768211454",
                                       "339999999999999999999999999999999999999",
                                       "400000000000000000000000000000000000000",
                                       "99999999999999999999999999999999999999", "1x", "-1", " 1"};
    size_t i, bad = 0;
    kinagg_hash_key k;
    for (i = 0; i < sizeof edge / sizeof edge[0]; i++)
        CHECK(kinagg__agg_ehk_ok(edge[i], strlen(edge[i])) == (kinagg_hash_key_parse(edge[i], strlen(edge[i]), &k) == 0),
              "explicit hash key \"%s\"", edge[i]);
    for (i = 0; i < 20000; i++) {
        char s[41];
        size_t len = 1 + check_below(40), j;
        for (j = 0; j < len; j++) s[j] = check_below(30) ? (char)('0' + check_below(10)) : "3a4 -"[check_below(5)];
        if (len == 39 && check_below(2)) memcpy(s, "3402823669209384634633746074317682114", 37);
        bad += kinagg__agg_ehk_ok(s, len) != (kinagg_hash_key_parse(s, len, &k) == KINAGG_OK);
    }
    CHECK(bad == 0, "%u random hash keys judged differently", (unsigned)bad);
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
    /* eleven bytes: over the ten a varint may have */
    static const unsigned char huge_varint[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x82, 0x01};
    static const unsigned char field_zero[] = {0x02, 0};
    /* groups: one never ended, one ended by another field's end, an end
     * with no start, nested deeper than protobuf-java allows */
    static const unsigned char group_open[] = {0x0A, 1, 'k', 0x4B, 0x08, 1};
    static const unsigned char group_crossed[] = {0x0A, 1, 'k', 0x4B, 0x54};
    static const unsigned char group_stray_end[] = {0x0A, 1, 'k', 0x4C};
    unsigned char deep[2 * 101 + 3];
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
    n = wrap(huge_varint, sizeof huge_varint, buf); expect_plain(buf, n, "varint over 10 bytes");
    n = wrap(field_zero, sizeof field_zero, buf); expect_plain(buf, n, "field number 0");
    n = wrap(group_open, sizeof group_open, buf); expect_plain(buf, n, "a group never ended");
    n = wrap(group_crossed, sizeof group_crossed, buf); expect_plain(buf, n, "a group ended by another field");
    n = wrap(group_stray_end, sizeof group_stray_end, buf); expect_plain(buf, n, "a group's end without its start");
    deep[0] = 0x0A; deep[1] = 1; deep[2] = 'k';
    for (i = 0; i < 101; i++) { deep[3 + i] = 0x4B; deep[3 + 101 + i] = 0x4C; }
    n = wrap(deep, sizeof deep, buf); expect_plain(buf, n, "groups nested 101 deep");
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
    {   /* what protobuf-java (the KCL) and the other protobuf readers accept:
         * unknown groups, nested (here 100 deep, the most), skipped; a
         * ten-byte varint whose last byte has bits past the 64th (dropped); keys
         * and lengths read as 32-bit varints (the low 32 bits of a longer
         * encoding) */
        static const unsigned char grouped[] = {0x4B, 0x4C,                              /* empty group, field 9 */
                                                0x0A, 1, 'k', 0x1A, 12, 0x08, 0, 0x1A, 2, 'h', 'i',
                                                0x53, 0x08, 5, 0x5B, 0x5C, 0x54,         /* group 10 { 1: 5, group 11 {} } in the record */
                                                0x4B, 0x5B, 0x12, 1, 'x', 0x5C, 0x4C};   /* nested, with a bytes field */
        static const unsigned char wide[] = {0x48, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
                                             0x8A, 0x80, 0x80, 0x80, 0x10, 2, 'k', 'X', /* key 1 + 2^32*8: field 1 */
                                             0x0A, 0x81, 0x80, 0x80, 0x80, 0x10, 'y',    /* length 1 + 2^32 */
                                             0x1A, 6, 0x08, 1, 0x1A, 2, 'h', 'i'};
        unsigned char nest[2 * 100 + 11];
        n = wrap(grouped, sizeof grouped, buf);
        kinagg_deagg_init(&it, buf, n);
        CHECK(kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 1 && kinagg_deagg_next(&it, &u) &&
                  u.partition_key_len == 1 && u.partition_key[0] == 'k' && u.data_len == 2 && !kinagg_deagg_next(&it, &u),
              "unknown groups skipped, in the aggregate and in a record");
        n = wrap(wide, sizeof wide, buf);
        kinagg_deagg_init(&it, buf, n);
        CHECK(kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 1 && kinagg_deagg_next(&it, &u) &&
                  u.partition_key_len == 1 && u.partition_key[0] == 'y' && u.data_len == 2,
              "ten-byte varints, 32-bit keys and lengths, as protobuf-java reads them");
        kinagg_deagg_init(&it, buf, n);
        CHECK(kinagg_deagg_is_aggregated(&it), "(again)");
        memcpy(nest, "\x0A\x01k\x1A\x06\x08\x00\x1A\x02hi", 11);
        for (i = 0; i < 100; i++) { nest[11 + i] = 0x4B; nest[11 + 100 + i] = 0x4C; }
        n = wrap(nest, sizeof nest, buf);
        kinagg_deagg_init(&it, buf, n);
        CHECK(kinagg_deagg_is_aggregated(&it) && kinagg_deagg_count(&it) == 1, "groups nested 100 deep skipped");
        /* inside a Record, which is one level down already: 99 groups, not 100 */
        {
            unsigned char rec[3 + 3 + 6 + 2 * 100];
            size_t depth, k;
            for (depth = 99; depth <= 100; depth++) {
                size_t body = 6 + 2 * depth;
                k = 0;
                rec[k++] = 0x0A; rec[k++] = 1; rec[k++] = 'k';
                rec[k++] = 0x1A; rec[k++] = (unsigned char)(0x80 | (body & 0x7f)); rec[k++] = (unsigned char)(body >> 7);
                rec[k++] = 0x08; rec[k++] = 0; rec[k++] = 0x1A; rec[k++] = 2; rec[k++] = 'h'; rec[k++] = 'i';
                for (i = 0; i < depth; i++) rec[k++] = 0x4B;
                for (i = 0; i < depth; i++) rec[k++] = 0x4C;
                n = wrap(rec, k, buf);
                kinagg_deagg_init(&it, buf, n);
                CHECK(kinagg_deagg_is_aggregated(&it) == (depth == 99),
                      "%u groups nested in a Record: %s as protobuf-java has it", (unsigned)depth,
                      depth == 99 ? "skipped" : "too deep");
            }
        }
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

#ifdef KINAGG_SIGV4_SIMPLE_PATH
/* What KINAGG_SIGV4_SIMPLE_PATH signs: "" or "/" then unreserved bytes in
 * segments, none empty (but the last), "." or "..". */
static size_t sigv4_refused;
static int simple_path(const char *p, size_t n) {
    size_t i = 0;
    if (n == 0) return 1;
    if (p[0] != '/') return 0;
    while (i < n) { /* p[i] is a '/' */
        size_t j = i + 1;
        while (j < n && p[j] != '/') {
            if (!isalnum((unsigned char)p[j]) && !strchr("-._~", p[j])) return 0;
            j++;
        }
        if ((j == i + 1 && j < n) || (j - i - 1 == 1 && p[i + 1] == '.') ||
            (j - i - 1 == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
            return 0;
        i = j;
    }
    return 1;
}
#endif

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
#ifdef KINAGG_SIGV4_SIMPLE_PATH
    if (!simple_path(r.path.ptr, r.path.len) || r.query.len) { /* refused, never signed otherwise */
        CHECK(st == KINAGG_ERR_INVALID_ARGUMENT, "%s: a path or query to normalize: %s", name, kinagg_strerror(st));
        sigv4_refused++;
        goto done;
    }
#endif
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
#ifdef KINAGG_SIGV4_SIMPLE_PATH
    printf("  sigv4: %u of the cases refused (a path or query to normalize), the rest signed alike\n",
           (unsigned)sigv4_refused);
    CHECK(sigv4_refused > 0 && sigv4_refused < n, "%u cases refused", (unsigned)sigv4_refused);
#endif
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
    /* far dates: the date is made in 32-bit arithmetic (no 64-bit division) */
    kinagg_sigv4_amz_date(253402300799ull, date);
    CHECK(strcmp(date, "99991231T235959Z") == 0, "9999 %s", date);
    kinagg_sigv4_amz_date(1000000000000ull, date);
    CHECK(strcmp(date, "36580927T014640Z") == 0, "10^12 s: year 33658, its last four digits %s", date);
    kinagg_sigv4_amz_date(18446744073709551615ull, date);
    CHECK(strcmp(date, "12231109T070015Z") == 0, "2^64 - 1 s %s", date);
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

/* kinagg__route against a linear search, on shard maps made by random
 * splits and merges (closed parents left in the map) and listed in any
 * order: kinagg__map_sort puts the open shards first by starting key, and
 * the binary search must find the one open shard that holds each key, or
 * none where the open shards leave a gap. */
static void key_dec(kinagg_hash_key *k) {
    int i;
    for (i = 15; i >= 0; i--)
        if (k->be[i]--) break;
}
static size_t route_linear(const kinagg__pshard *s, size_t n, const kinagg_hash_key *k, size_t none) {
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i].open && kinagg_hash_key_in_range(k, &s[i].start, &s[i].end)) return i;
    return none;
}
/* The producer's error code names: as many as its index ranges say, and
 * which of them a failed call is sent again for. */
static void test_producer_codes(void) {
    static const struct { const char *type; int status, retry; } cases[] = {
        {"ProvisionedThroughputExceededException", 400, 1}, {"ThrottlingException", 400, 1}, {"Throttling", 400, 1},
        {"RequestThrottledException", 400, 1}, {"EC2ThrottledException", 400, 1}, {"LimitExceededException", 400, 1},
        {"RequestLimitExceeded", 400, 1}, {"BandwidthLimitExceeded", 400, 1}, {"TooManyRequestsException", 429, 1},
        {"HTTP 429", 429, 1}, {"RequestTimeout", 400, 1}, {"RequestTimeoutException", 408, 1}, {"SlowDown", 503, 1},
        {"ResourceInUseException", 400, 1}, {"InternalFailure", 500, 1}, {"ServiceUnavailable", 503, 1},
        {"ResourceNotFoundException", 400, 0}, {"AccessDeniedException", 400, 0}, {"ValidationException", 400, 0},
        {"InvalidArgumentException", 400, 0}, {"KMSAccessDeniedException", 400, 0}, {"ExpiredTokenException", 400, 0},
        {"UnrecognizedClientException", 400, 0}, {"InvalidSignatureException", 403, 0}, {"HTTP 404", 404, 0},
        {"HTTP 408", 408, 1}};
    kinagg_str last = kinagg__pcode(KINAGG__E_LISTED - 1);
    kinagg_kinesis k;
    size_t i;
    CHECK(last.ptr + last.len == kinagg__pcodes + sizeof kinagg__pcodes - 1,
          "kinagg__pcodes holds KINAGG__E_LISTED - 1 names (the last ends the array)");
    CHECK(!KINAGG__CRED_SOURCE || (kinagg__pcode_find(kinagg_str_c("ExpiredToken"), KINAGG__E_RETRYABLE, KINAGG__E_LISTED) &&
                                   !kinagg__pcode_find(kinagg_str_c("ExpiredToken"), 1, KINAGG__E_RETRYABLE)),
          "refused credentials are past the retryable codes");
    memset(&k, 0, sizeof k);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(k.error_type, sizeof k.error_type, "%s", cases[i].type);
        k.http_status = cases[i].status;
        CHECK(kinagg__retryable(KINAGG_ERR_SERVICE, &k) == cases[i].retry, "%s (HTTP %d): %s", cases[i].type,
              cases[i].status, cases[i].retry ? "sent again" : "fails for good");
    }
}

#ifndef KINAGG_NO_JSON
static uint64_t skew_test_unix_ms(void *ctx) { (void)ctx; return 784111777000ull - 3600000; } /* an hour slow */

/* A refused request time corrects the clock only from a Date header kinagg
 * can read (IMF-fixdate, as AWS sends); from another form it is a service
 * error, not a "corrected" skew that changes nothing. */
static void test_clock_skew_date(void) {
    static const char body[] = "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired: "
                               "19941106T074937Z is now earlier than 19941106T084437Z\"}";
    static const char *const dates[] = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                                        "Sun Nov  6 08:49:37 1994", ""};
    static kinagg_kinesis k;
    static char copy[sizeof body]; /* strings are read in place */
    size_t i;
    for (i = 0; i < 4; i++) {
        kinagg_http_response *r = &k.http.response;
        kinagg_status st;
        memset(&k, 0, sizeof k);
        memcpy(copy, body, sizeof body);
        k.platform.unix_ms = skew_test_unix_ms;
        k.protocol = KINAGG_PROTOCOL_JSON;
        r->status = 400;
        r->body = (unsigned char *)copy;
        r->body_len = sizeof body - 1;
        r->headers[0].name = kinagg_str_c("Content-Type");
        r->headers[0].value = kinagg_str_c("application/x-amz-json-1.1");
        r->headers[1].name = kinagg_str_c("Date");
        r->headers[1].value = kinagg_str_c(dates[i]);
        r->header_count = dates[i][0] ? 2 : 1;
        st = kinagg__call_result(&k, KINAGG_OK);
        if (i == 0)
            CHECK(st == KINAGG_ERR_CLOCK_SKEW && k.clock_offset_ms == 3600000, "skew from %s: %s, offset %ld",
                  dates[i], kinagg_strerror(st), (long)k.clock_offset_ms);
        else
            CHECK(st == KINAGG_ERR_SERVICE && k.clock_offset_ms == 0 && !strcmp(k.error_type, "InvalidSignatureException"),
                  "no skew learnt from Date \"%s\": %s, offset %ld", dates[i], kinagg_strerror(st), (long)k.clock_offset_ms);
    }
}
#endif

#if KINAGG_PRODUCER_MAX_CONNECTIONS > 1
/* kinagg_producer_wait with two connections on a call: the first silent,
 * the second answered 5 ms in. The wait ends soon after that answer, not
 * when the first connection's wait would have timed out. */
static uint64_t wait_clock;
static unsigned wait_calls[2];
static uint64_t wait_now(void *ctx) { (void)ctx; return wait_clock; }
static kinagg_io wait_one(void *ctx, unsigned events, uint32_t timeout_ms) {
    int id = *(const int *)ctx;
    (void)events;
    wait_calls[id]++;
    if (id == 1 && wait_clock >= 1005) return KINAGG_IO_OK;
    wait_clock += timeout_ms;
    return KINAGG_IO_AGAIN;
}
static void test_producer_wait_each(void) {
    static kinagg_producer p;
    static kinagg__pconn conns[2];
    static const int ids[2] = {0, 1};
    int i;
    memset(&p, 0, sizeof p);
    memset(conns, 0, sizeof conns);
    p.cfg.connections = 2;
    p.conns = conns;
    p.platform.now_ms = wait_now;
    for (i = 0; i < 2; i++) {
        conns[i].state = KINAGG__C_PUT;
        conns[i].k.http.transport.wait = wait_one;
        conns[i].k.http.transport.ctx = (void *)(uintptr_t)&ids[i];
    }
    wait_clock = 1000;
    kinagg_producer_wait(&p, 6000, 10000);
    CHECK(wait_clock <= 1030 && wait_calls[1] > 0, "wait ended at %lu ms (an answer came at 1005): connection 1 waited on %u times",
          (unsigned long)wait_clock, wait_calls[1]);
    conns[1].state = KINAGG__C_IDLE; /* one on a call: its wait, whole */
    wait_clock = 1000;
    kinagg_producer_wait(&p, 1500, 10000);
    CHECK(wait_clock == 1500, "one connection on a call: waited to %lu, not 1500", (unsigned long)wait_clock);
}
#endif

#ifndef KINAGG_NO_SHARD_MAP
/* A ListShards that fails: an expired NextToken or throttling starts the
 * listing again after the backoff; a denial goes on without a map. */
static void test_list_failed(void) {
    static const struct { const char *type; int status, denied; } cases[] = {
        {"ExpiredNextTokenException", 400, 0}, {"LimitExceededException", 400, 0}, {"HTTP 503", 503, 0},
        {"AccessDeniedException", 400, 1}, {"ResourceNotFoundException", 400, 1}};
    static kinagg_producer p;
    static kinagg_kinesis k;
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&p, 0, sizeof p);
        memset(&k, 0, sizeof k);
        p.map_backoff_ms = 1000;
        p.map_state = KINAGG__MAP_LISTING;
        snprintf(k.error_type, sizeof k.error_type, "%s", cases[i].type);
        k.http_status = cases[i].status;
        kinagg__list_failed(&p, KINAGG_ERR_SERVICE, &k, 5000);
        CHECK((p.map_state == KINAGG__MAP_DENIED) == cases[i].denied &&
                  (cases[i].denied || p.map_retry_ms == 6000),
              "ListShards %s: map state %d, listed again at %lu", cases[i].type, p.map_state, (unsigned long)p.map_retry_ms);
    }
}
#endif

static void test_producer_route(void) {
    enum { MAXS = 64 };
    static kinagg__pshard map[MAXS + 1];
    static kinagg_producer p;
    int round;
    for (round = 0; round < 300; round++) {
        size_t n = 1, i, open = 0, tries;
        kinagg__prec r;
        memset(map, 0, sizeof map);
        memset(map[0].end.be, 0xff, 16);
        map[0].open = 1;
        for (tries = 0; tries < 200 && n + 2 <= MAXS; tries++) {
            size_t a = check_below(n), b;
            if (!map[a].open) continue;
            if (check_below(4)) { /* split a at a key inside it */
                kinagg_hash_key cut;
                int j;
                for (j = 0; j < 16; j++) cut.be[j] = (unsigned char)check_rand();
                if (check_below(2)) memcpy(cut.be, map[a].start.be, 1 + check_below(15)); /* near the start */
                if (kinagg_hash_key_compare(&cut, &map[a].start) <= 0 || kinagg_hash_key_compare(&cut, &map[a].end) > 0) continue;
                map[a].open = 0;
                map[n] = map[a];
                map[n].open = 1;
                map[n].end = cut;
                key_dec(&map[n].end);
                map[n + 1] = map[a];
                map[n + 1].open = 1;
                map[n + 1].start = cut;
                n += 2;
            } else { /* merge a with the open shard that starts right after it */
                kinagg_hash_key next = map[a].end;
                int j, all = 1;
                for (j = 0; j < 16; j++) all &= map[a].end.be[j] == 0xff;
                if (all) continue;
                for (j = 15; j >= 0; j--)
                    if (++next.be[j]) break;
                for (b = 0; b < n; b++)
                    if (map[b].open && kinagg_hash_key_compare(&map[b].start, &next) == 0) break;
                if (b == n) continue;
                map[a].open = map[b].open = 0;
                map[n] = map[a];
                map[n].end = map[b].end;
                map[n].open = 1;
                n++;
            }
        }
        if (round % 3 == 1) { /* a gap: an open shard left out of the listing */
            for (i = 0; i < n && !map[i].open; i++) {}
            map[i] = map[n - 1];
            n--;
        }
        for (i = n; i > 1; i--) { /* listed in any order */
            size_t j = check_below(i);
            kinagg__pshard t = map[i - 1];
            map[i - 1] = map[j];
            map[j] = t;
        }
        for (i = 0; i < n; i++) {
            open += map[i].open != 0;
            snprintf(map[i].id, sizeof map[i].id, "shard-%u", (unsigned)i);
        }
        memset(&p, 0, sizeof p);
        p.shards = map;
        p.nshards = n;
        p.cfg.max_shards = MAXS;
        p.map_state = KINAGG__MAP_OK;
        p.nopen = kinagg__map_sort(map, n);
        CHECK(p.nopen == open, "round %d: %u open shards sorted, %u listed", round, (unsigned)p.nopen, (unsigned)open);
        for (i = 1; i < n; i++)
            CHECK(!(map[i].open && !map[i - 1].open) &&
                      !(map[i].open && kinagg_hash_key_compare(&map[i - 1].start, &map[i].start) > 0),
                  "round %d: map out of order at %u", round, (unsigned)i);
        for (i = 0; i < 400; i++) {
            size_t want, got, j;
            if (i < 2 * n) { /* every shard's ends, and a key just past */
                r.hk = i % 2 ? map[i / 2].end : map[i / 2].start;
                if (i % 4 == 3) key_dec(&r.hk);
            } else {
                for (j = 0; j < 16; j++) r.hk.be[j] = (unsigned char)check_rand();
            }
#ifdef KINAGG_NO_SHARD_MAP
            want = 0; /* a build without maps: every record in the unmapped queue, the only one */
            (void)route_linear;
#else
            want = route_linear(map, n, &r.hk, MAXS);
#endif
            got = kinagg__route(&p, &r);
            CHECK(got == want, "round %d, key %u: routed to %u, the shard holding it is %u", round, (unsigned)i,
                  (unsigned)got, (unsigned)want);
        }
    }
}

/* Without a shard map, an aggregate gathers the ready records of its first
 * record's hash key from the whole queue, and a partition key's records
 * still go in put order, even one put with two explicit hash keys. The
 * transport never connects: the first poll builds a request and stops. */
static uint64_t gather_now(void *ctx) { (void)ctx; return 5000; }
static uint64_t gather_unix(void *ctx) { (void)ctx; return 1700000000000ull; }
static kinagg_io gather_connect(void *c, const char *h, uint16_t port) { (void)c, (void)h, (void)port; return KINAGG_IO_AGAIN; }
static kinagg_io gather_send(void *c, const unsigned char *d, size_t l, size_t *n) { (void)c, (void)d, (void)l, (void)n; return KINAGG_IO_AGAIN; }
static kinagg_io gather_recv(void *c, unsigned char *b, size_t l, size_t *n) { (void)c, (void)b, (void)l, (void)n; return KINAGG_IO_AGAIN; }
static void gather_close(void *c) { (void)c; }

/* Puts n records (key i: keys[i], explicit hash key ehks[i] or none), polls
 * once, and writes the request's entries as "key:id key:id|key:id..." */
static void gather_run(size_t n, const char *const *keys, const char *const *ehks, char *out, size_t cap) {
    static unsigned char region[1 << 20];
    static kinagg_producer p;
    static size_t ids[64];
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp;
    kinagg_platform pl;
    kinagg_credentials cr;
    uint64_t next;
    size_t i, e, len = 0;
    memset(&tp, 0, sizeof tp);
    memset(&pl, 0, sizeof pl);
    cr.access_key_id = kinagg_str_c("AKID");
    cr.secret_access_key = kinagg_str_c("SECRET");
    cr.session_token = kinagg_str_c("");
    kinagg_endpoint_from_region(&ep, kinagg_str_c("us-east-1"));
    tp.connect = gather_connect, tp.send = gather_send, tp.recv = gather_recv, tp.close = gather_close;
    pl.now_ms = gather_now, pl.unix_ms = gather_unix;
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c("gather");
    cfg.no_shard_map = 1;
    cfg.max_buffered_ms = 0;
    cfg.max_record_size = cfg.aggregation_max_size = 4096;
    cfg.collection_max_size = cfg.recv_buffer_size = 1 << 16;
    out[0] = '\0';
    if (kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                             KINAGG_PROTOCOL_DEFAULT, &tp, &pl) != KINAGG_OK) {
        CHECK(0, "gather: init");
        return;
    }
    for (i = 0; i < n && i < 64; i++) {
        ids[i] = i;
        CHECK(kinagg_producer_put(&p, keys[i], strlen(keys[i]), ehks[i], ehks[i] ? strlen(ehks[i]) : 0, "data", 4,
                                  &ids[i]) == KINAGG_OK, "gather: put %lu", (unsigned long)i);
    }
    kinagg_producer_poll(&p, &next);
    for (e = 0; e < p.conns[0].n; e++) {
        uint32_t r;
        for (r = p.conns[0].first[e]; r != KINAGG__NONE; r = p.recs[r].next)
            len += (size_t)snprintf(out + len, cap - len, "%s%s:%lu", r == p.conns[0].first[e] ? (e ? "|" : "") : " ",
                                    keys[*(size_t *)p.recs[r].user], (unsigned long)*(size_t *)p.recs[r].user);
    }
    kinagg_producer_abandon(&p);
}

static void test_unmapped_gather(void) {
    static const char *const keys3[] = {"a", "b", "c", "a", "b", "c", "a", "b", "c"};
    static const char *const none[9] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    static const char *const pk[] = {"sensor", "sensor", "sensor"};
    static const char *const two_ehk[] = {"1", "2", "1"};
    static const char *const one_ehk[] = {NULL, "5", NULL};
    static const char *const mixed_keys[] = {"a", "p", "p"};
    static char a_hash[KINAGG_HASH_KEY_DECIMAL_MAX + 1];
    const char *mixed_ehk[3];
    kinagg_hash_key hk;
    char got[1024];
    gather_run(9, keys3, none, got, sizeof got);
    CHECK(strcmp(got, "a:0 a:3 a:6|b:1 b:4 b:7|c:2 c:5 c:8") == 0, "three keys, each gathered in put order: %s", got);
    gather_run(3, pk, two_ehk, got, sizeof got);
    CHECK(strcmp(got, "sensor:0|sensor:1|sensor:2") == 0, "one key with two explicit hash keys, in put order: %s", got);
    gather_run(3, pk, one_ehk, got, sizeof got); /* the one with an explicit hash key is not passed over */
    CHECK(strcmp(got, "sensor:0|sensor:1|sensor:2") == 0, "one key, once with an explicit hash key, in put order: %s", got);
    /* p's first record is passed over; its second has a's hash key as its
     * explicit hash key, and must not be taken ahead of the first */
    kinagg_hash_key_of_partition_key("a", 1, &hk);
    kinagg_hash_key_format(&hk, a_hash);
    mixed_ehk[0] = mixed_ehk[1] = NULL;
    mixed_ehk[2] = a_hash;
    gather_run(3, mixed_keys, mixed_ehk, got, sizeof got);
    CHECK(strcmp(got, "a:0|p:1|p:2") == 0, "an explicit hash key after a record passed over: %s", got);
}

/* A producer over a scripted transport, as the tests below set it up: no
 * shard map, records sent at once, records up to 4 KiB, the transport's
 * connect, send, recv and close and the platform's clocks given. */
static void scripted_producer(kinagg_producer_config *cfg, kinagg_endpoint *ep, kinagg_transport *tp,
                              kinagg_platform *pl, kinagg_credentials *cr, const char *stream,
                              const kinagg_transport *io, uint64_t (*now)(void *), uint64_t (*unix_now)(void *)) {
    memset(tp, 0, KINAGG_PRODUCER_MAX_CONNECTIONS * sizeof *tp);
    memset(pl, 0, sizeof *pl);
    tp[0].connect = io->connect, tp[0].send = io->send, tp[0].recv = io->recv, tp[0].close = io->close;
    pl->now_ms = now, pl->unix_ms = unix_now;
    cr->access_key_id = kinagg_str_c("AKID");
    cr->secret_access_key = kinagg_str_c("SECRET");
    cr->session_token = kinagg_str_c("");
    kinagg_endpoint_from_region(ep, kinagg_str_c("us-east-1"));
    kinagg_producer_config_defaults(cfg);
    cfg->stream.name = kinagg_str_c(stream);
    cfg->no_shard_map = 1;
    cfg->max_buffered_ms = 0;
    cfg->max_record_size = cfg->aggregation_max_size = 4096;
    cfg->collection_max_size = cfg->recv_buffer_size = 1 << 14;
}

/* init again on a producer that was never closed, with a request on the
 * wire: the transport's connection is dropped first, or the old request's
 * answer would be read as the first new request's (its sequence numbers
 * given to other records, a refusal missed). */
static int reinit_open;
static kinagg_io reinit_connect(void *c, const char *h, uint16_t port) { (void)c, (void)h, (void)port; reinit_open = 1; return KINAGG_IO_OK; }
static kinagg_io reinit_send(void *c, const unsigned char *d, size_t l, size_t *n) { (void)c, (void)d; *n = l; return KINAGG_IO_OK; }
static void reinit_close(void *c) { (void)c; reinit_open = 0; }

static void test_reinit_closes(void) {
    static unsigned char region[1 << 18];
    static kinagg_producer p;
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pl;
    kinagg_credentials cr;
    kinagg_transport io;
    uint64_t next;
    int round, polls;
    io.connect = reinit_connect, io.send = reinit_send, io.recv = gather_recv, io.close = reinit_close;
    scripted_producer(&cfg, &ep, tp, &pl, &cr, "reinit", &io, gather_now, gather_unix);
    for (round = 0; round < 2; round++) {
        CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                                   KINAGG_PROTOCOL_DEFAULT, tp, &pl) == KINAGG_OK, "reinit: init %d", round);
        CHECK(!reinit_open, "init %d left the connection of the producer before it open", round);
        CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "reinit: put");
        for (polls = 0; polls < 10 && !reinit_open; polls++) kinagg_producer_poll(&p, &next);
        CHECK(reinit_open, "reinit: the request did not go out");
    }
    kinagg_producer_abandon(&p);
#ifndef __cplusplus /* (C++: a value out of an enum's range is undefined; C's enums are ints) */
    /* a setting out of its enum is refused, as a number out of range is */
    cfg.aggregation = (kinagg_aggregation)2;
    CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                               KINAGG_PROTOCOL_DEFAULT, tp, &pl) == KINAGG_ERR_INVALID_ARGUMENT, "aggregation 2 accepted");
    cfg.aggregation = KINAGG_AGGREGATE_BY_SHARD;
    cfg.unmapped = (kinagg_unmapped)2;
    CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                               KINAGG_PROTOCOL_DEFAULT, tp, &pl) == KINAGG_ERR_INVALID_ARGUMENT, "unmapped 2 accepted");
#endif
}

/* The producer's connect_timeout_ms reaches its connections: a connect
 * that stays pending (a link with seconds of latency) is given up at that
 * limit, not at the HTTP client's default 5 s. */
static uint64_t slow_clock;
static unsigned slow_connects;
static uint64_t slow_now(void *ctx) { (void)ctx; return slow_clock; }
static kinagg_io slow_connect(void *c, const char *h, uint16_t port) {
    (void)c, (void)h, (void)port;
    slow_connects++;
    return KINAGG_IO_AGAIN;
}
static void slow_close(void *c) { (void)c; }
static void test_connect_timeout(void) {
    static unsigned char region[1 << 18];
    static kinagg_producer p;
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pl;
    kinagg_credentials cr;
    kinagg_producer_stats st;
    kinagg_transport io;
    uint64_t next, gave_up = 0;
    io.connect = slow_connect, io.send = reinit_send, io.recv = gather_recv, io.close = slow_close;
    scripted_producer(&cfg, &ep, tp, &pl, &cr, "slow-link", &io, slow_now, gather_unix);
    CHECK(cfg.connect_timeout_ms == 5000, "connect_timeout_ms default %lu", (unsigned long)cfg.connect_timeout_ms);
    cfg.record_ttl_ms = 0;
    cfg.connect_timeout_ms = 0;
    CHECK(kinagg_producer_region_size(&cfg) == 0, "connect_timeout_ms 0 accepted");
    cfg.connect_timeout_ms = 20000;
    slow_clock = 1000;
    CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                               KINAGG_PROTOCOL_DEFAULT, tp, &pl) == KINAGG_OK, "slow link: init");
    CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "slow link: put");
    /* the clock moves 100 ms a poll; the first failure is the time out */
    for (; slow_clock < 60000 && !gave_up; slow_clock += 100) {
        kinagg_producer_poll(&p, &next);
        kinagg_producer_get_stats(&p, &st);
        if (st.requests_failed) gave_up = slow_clock;
    }
    CHECK(slow_connects >= 1 && gave_up >= 1000 + 20000 && gave_up <= 1000 + 20000 + 200,
          "a connect pending for ever was given up at %lu ms (connect_timeout_ms 20000, from 1000)", (unsigned long)gave_up);
    kinagg_producer_abandon(&p);
}

#ifndef KINAGG_NO_JSON
/* The scripted servers below answer a request with text made when it came:
 * recv gives from *pos what is left of its len bytes, AGAIN when none is. */
static kinagg_io give_answer(const char *answer, size_t len, size_t *pos, unsigned char *b, size_t l, size_t *n) {
    if (*pos == len) return KINAGG_IO_AGAIN;
    *n = l < len - *pos ? l : len - *pos;
    memcpy(b, answer + *pos, *n);
    *pos += *n;
    return KINAGG_IO_OK;
}
#endif

#if !defined(KINAGG_NO_JSON) && !defined(KINAGG_NO_CREDENTIALS_SOURCE)
/* A device clock 3 hours ahead: the first request is refused as skewed,
 * the producer learns the service's clock from Date, and credentials that
 * expire an hour from now by the service's clock are not taken as about to
 * expire (they were fetched again every second). */
#define SKEW_MS (3 * 3600 * 1000ull)
static uint64_t skew_clock; /* the service's clock, ms since the epoch */
static int skew_throttle_first; /* the first answer: throttled, not refused as skewed */
static unsigned skew_requests, skew_gets;
static size_t skew_pos, skew_len;
static char skew_resp[512];
static uint64_t skew_now(void *ctx) { (void)ctx; return skew_clock - 1700000000000ull; }
static uint64_t skew_unix(void *ctx) { (void)ctx; return skew_clock + SKEW_MS; }
static kinagg_io skew_connect(void *c, const char *h, uint16_t port) { (void)c, (void)h, (void)port; return KINAGG_IO_OK; }
static kinagg_io skew_send(void *c, const unsigned char *d, size_t l, size_t *n) {
    (void)c, (void)d;
    if (skew_pos == skew_len) { /* a new request: answer it */
        static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        static const char refused[] = "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired: "
                                      "20231115T011320Z is now earlier than 20231114T220820Z\"}";
        static const char stored[] = "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"49\","
                                     "\"ShardId\":\"shardId-000000000000\"}]}";
        uint64_t secs = skew_clock / 1000, days_since = secs / 86400, rem = secs % 86400;
        /* the civil date (Howard Hinnant's days_from_civil, inverted) */
        uint64_t z = days_since + 719468, era = z / 146097, doe = z - era * 146097;
        uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
        uint64_t y = yoe + era * 400 + (m <= 2);
        static const char throttled[] = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}";
        const char *body = skew_requests++ ? stored : skew_throttle_first ? throttled : refused;
        skew_len = (size_t)snprintf(skew_resp, sizeof skew_resp,
                                    "HTTP/1.1 %s\r\nDate: %s, %02u %s %04u %02u:%02u:%02u GMT\r\n"
                                    "Content-Type: application/x-amz-json-1.1\r\nContent-Length: %u\r\n\r\n%s",
                                    body == stored ? "200 OK" : "400 Bad Request", days[days_since % 7], (unsigned)d,
                                    months[m - 1], (unsigned)y, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                                    (unsigned)(rem % 60), (unsigned)strlen(body), body);
        skew_pos = 0;
    }
    *n = l;
    return KINAGG_IO_OK;
}
static kinagg_io skew_recv(void *c, unsigned char *b, size_t l, size_t *n) {
    (void)c;
    return give_answer(skew_resp, skew_len, &skew_pos, b, l, n);
}
static kinagg_status skew_get(void *ctx, int force, kinagg_credentials *out, uint64_t *expires) {
    (void)ctx, (void)force;
    skew_gets++;
    out->access_key_id = kinagg_str_c("ASIASKEW");
    out->secret_access_key = kinagg_str_c("SECRET");
    out->session_token = kinagg_str_c("TOKEN");
    *expires = skew_clock + 3600 * 1000; /* an hour, by the service's clock */
    return KINAGG_OK;
}
static char skew_done_code[64];
static void skew_done(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    *(kinagg_status *)c->user = c->status;
    snprintf(skew_done_code, sizeof skew_done_code, "%.*s", (int)c->error_code.len, c->error_code.ptr);
}
static void test_credentials_skewed_clock(void) {
    static unsigned char region[1 << 19];
    static kinagg_producer p;
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pl;
    kinagg_credentials cr; /* (unused: the source gives them) */
    kinagg_transport io;
    kinagg_status done = KINAGG_PENDING;
    uint64_t next, end;
    io.connect = skew_connect, io.send = skew_send, io.recv = skew_recv, io.close = slow_close;
    scripted_producer(&cfg, &ep, tp, &pl, &cr, "skewed", &io, skew_now, skew_unix);
    cfg.credentials_source.get = skew_get;
    cfg.on_complete = skew_done;
#if KINAGG_PRODUCER_MAX_CONNECTIONS > 1
    cfg.connections = 2; /* one record: the second connection stays idle */
    tp[1] = tp[0];
#endif
    skew_clock = 1700000000000ull;
    skew_requests = skew_gets = 0;
    skew_pos = skew_len = 0;
    CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), NULL,
                               KINAGG_PROTOCOL_JSON, tp, &pl) == KINAGG_OK, "skewed clock: init");
    CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, &done) == KINAGG_OK, "skewed clock: put");
    for (end = skew_clock + 600000; skew_clock < end; skew_clock += 100) kinagg_producer_poll(&p, &next);
    /* (its failure was the service's refusal of the clock, not a connection's) */
    CHECK(done == KINAGG_OK && skew_requests == 2 && !strcmp(skew_done_code, "ServiceError"),
          "skewed clock: the record %s after %u requests, its last failure \"%s\"", kinagg_strerror(done), skew_requests,
          skew_done_code);
    CHECK(skew_gets <= 2, "a clock 3 h ahead: credentials good for an hour fetched %u times in 10 minutes", skew_gets);
#if KINAGG_PRODUCER_MAX_CONNECTIONS > 1
    /* the clock one connection learnt from its refusal: the other's too */
    CHECK(p.conns[0].k.clock_offset_ms < -10000000 && p.conns[1].k.clock_offset_ms == p.conns[0].k.clock_offset_ms,
          "a clock corrected on one connection: offsets %ld and %ld ms", (long)p.conns[0].k.clock_offset_ms,
          (long)p.conns[1].k.clock_offset_ms);
#endif
    kinagg_producer_abandon(&p);
}

/* A request that fails before it is sent (its head, with a session token
 * grown too long, does not fit the send buffer) reports its own failure,
 * not the last answer's error (here a throttling). */
static kinagg_completion skew_last;
static char skew_last_code[64];
static void skew_keep(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    skew_last = *c;
    snprintf(skew_last_code, sizeof skew_last_code, "%.*s", (int)c->error_code.len, c->error_code.ptr);
}
static void test_unsent_request_error(void) {
    static unsigned char region[1 << 18];
    static kinagg_producer p;
    static char token[1900];
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pl;
    kinagg_credentials cr;
    kinagg_producer_stats st;
    kinagg_transport io;
    uint64_t next;
    int i;
    memset(&st, 0, sizeof st);
    io.connect = skew_connect, io.send = skew_send, io.recv = skew_recv, io.close = slow_close;
    scripted_producer(&cfg, &ep, tp, &pl, &cr, "unsent", &io, skew_now, gather_unix); /* a clock that is right */
    cfg.send_buffer_size = 2048;
    cfg.on_complete = skew_keep;
    skew_clock = 1700000000000ull;
    skew_requests = 0;
    skew_pos = skew_len = 0;
    skew_throttle_first = 1;
    skew_last.status = KINAGG_PENDING;
    CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                               KINAGG_PROTOCOL_JSON, tp, &pl) == KINAGG_OK, "unsent: init");
    CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "unsent: put");
    for (i = 0; i < 20 && !st.requests_failed; i++, skew_clock += 10) {
        kinagg_producer_poll(&p, &next);
        kinagg_producer_get_stats(&p, &st);
    }
    CHECK(st.requests_failed == 1 && strstr(kinagg_producer_last_error(&p), "Throttling"), "unsent: throttled first: %s",
          kinagg_producer_last_error(&p));
    memset(token, 'T', sizeof token - 1);
    cr.session_token = kinagg_str_c(token); /* the head's room left in 2 KiB: less than this */
    CHECK(kinagg_producer_set_credentials(&p, &cr) == KINAGG_OK, "unsent: set_credentials");
    for (i = 0; i < 2000 && skew_last.status == KINAGG_PENDING; i++, skew_clock += 10) kinagg_producer_poll(&p, &next);
    CHECK(skew_requests == 1 && skew_last.status == KINAGG_ERR_BUFFER_TOO_SMALL &&
              !strcmp(skew_last_code, kinagg_strerror(KINAGG_ERR_BUFFER_TOO_SMALL)),
          "a request that never went out: %s, error_code \"%s\" after %u answers", kinagg_strerror(skew_last.status),
          skew_last_code, skew_requests);
    skew_throttle_first = 0;
    kinagg_producer_abandon(&p);
}
#endif

#ifndef KINAGG_NO_JSON
/* A kept-alive connection that closes without answering (the server may
 * have stored the request first): the HTTP client sends the request again
 * on a new connection, and that try is counted as one (in attempts,
 * requests, requests_failed and the last failure's code), so a caller
 * can tell the records may be in the stream twice. */
static unsigned resend_requests, resend_connects;
static size_t resend_pos, resend_len;
static int resend_closed;
static char resend_resp[256];
static kinagg_completion resend_last;
static char resend_code[64];
static kinagg_io resend_connect(void *c, const char *h, uint16_t port) {
    (void)c, (void)h, (void)port;
    resend_connects++;
    return KINAGG_IO_OK;
}
static kinagg_io resend_send(void *c, const unsigned char *d, size_t l, size_t *n) {
    static const char stored[] = "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"49\","
                                 "\"ShardId\":\"shardId-000000000000\"}]}";
    (void)c, (void)d;
    if (resend_pos == resend_len && !resend_closed) { /* a new request: the second is stored, then its connection closed */
        resend_closed = ++resend_requests == 2;
        resend_len = (size_t)snprintf(resend_resp, sizeof resend_resp,
                                      "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                                      "Content-Length: %u\r\n\r\n%s", (unsigned)strlen(stored), stored);
        resend_pos = resend_closed ? resend_len : 0;
    }
    *n = l;
    return KINAGG_IO_OK;
}
static kinagg_io resend_recv(void *c, unsigned char *b, size_t l, size_t *n) {
    (void)c;
    if (resend_closed) return KINAGG_IO_CLOSED;
    return give_answer(resend_resp, resend_len, &resend_pos, b, l, n);
}
static void resend_close(void *c) { (void)c, resend_closed = 0; }
static void resend_keep(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    resend_last = *c;
    snprintf(resend_code, sizeof resend_code, "%.*s", (int)c->error_code.len, c->error_code.ptr);
}
static void test_resent_request_counted(void) {
    static unsigned char region[1 << 18];
    static kinagg_producer p;
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pl;
    kinagg_credentials cr;
    kinagg_producer_stats st;
    kinagg_transport io;
    uint64_t next;
    int i, rec;
    io.connect = resend_connect, io.send = resend_send, io.recv = resend_recv, io.close = resend_close;
    scripted_producer(&cfg, &ep, tp, &pl, &cr, "resent", &io, gather_now, gather_unix);
    cfg.on_complete = resend_keep;
    cfg.send_buffer_size = 2048;
    resend_requests = resend_connects = 0;
    resend_pos = resend_len = 0;
    resend_closed = 0;
    CHECK(kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                               KINAGG_PROTOCOL_JSON, tp, &pl) == KINAGG_OK, "resent: init");
    for (rec = 0; rec < 2; rec++) { /* the first opens the connection, the second finds it closed */
        resend_last.status = KINAGG_PENDING;
        CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "resent: put");
        for (i = 0; i < 20 && resend_last.status == KINAGG_PENDING; i++) kinagg_producer_poll(&p, &next);
    }
    kinagg_producer_get_stats(&p, &st);
    CHECK(resend_requests == 3 && resend_connects == 2 && resend_last.status == KINAGG_OK &&
              resend_last.attempts == 2 && !strcmp(resend_code, "ConnectionError") && st.requests == 3 &&
              st.requests_failed == 1 && st.errors == 1,
          "a request sent again on a new connection: %u sent on %u connections; the record %s after %u attempts "
          "(last failure \"%s\"); stats: %lu requests, %lu failed, %lu errors",
          resend_requests, resend_connects, kinagg_strerror(resend_last.status), resend_last.attempts, resend_code,
          (unsigned long)st.requests, (unsigned long)st.requests_failed, (unsigned long)st.errors);
    /* the next request fails before it is begun (its head, with a session
     * token grown too long, does not fit the send buffer): one try, not
     * the last request's resend as well */
    {
        static char token[1900];
        memset(token, 'T', sizeof token - 1);
        cr.session_token = kinagg_str_c(token);
        CHECK(kinagg_producer_set_credentials(&p, &cr) == KINAGG_OK, "resent: set_credentials");
        resend_last.status = KINAGG_PENDING;
        CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "resent: put");
        for (i = 0; i < 20 && resend_last.status == KINAGG_PENDING; i++) kinagg_producer_poll(&p, &next);
        kinagg_producer_get_stats(&p, &st);
        CHECK(resend_last.status == KINAGG_ERR_BUFFER_TOO_SMALL && resend_last.attempts == 1 && st.requests == 4 &&
                  st.requests_failed == 2 && st.errors == 2,
              "a request that never went out, after one sent again: %s after %u attempts; %lu requests, %lu failed, "
              "%lu errors", kinagg_strerror(resend_last.status), resend_last.attempts, (unsigned long)st.requests,
              (unsigned long)st.requests_failed, (unsigned long)st.errors);
    }
    kinagg_producer_abandon(&p);
}
#endif

#ifndef KINAGG_NO_JSON
/* A server whose ListShards pages on without shards, each page with a
 * NextToken: the producer gives the listing up after some pages, and the
 * records waiting for the map go on unmapped (they waited for ever, while
 * ListShards was sent back to back). */
static unsigned pages_listings, pages_puts;
static size_t pages_pos, pages_len;
static char pages_resp[512];
static kinagg_io pages_send(void *c, const unsigned char *d, size_t l, size_t *n) {
    static const char page[] = "{\"Shards\":[],\"NextToken\":\"AAAAtoken\"}",
                      stored[] = "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"49\","
                                 "\"ShardId\":\"shardId-000000000000\"}]}";
    (void)c;
    if (l >= 5 && memcmp(d, "POST ", 5) == 0) { /* a request's head: the answer it gets */
        size_t i;
        int list = 0;
        for (i = 0; i + 10 <= l && !list; i++) list = memcmp(d + i, "ListShards", 10) == 0;
        if (list) pages_listings++;
        else pages_puts++;
        if (pages_listings > 1000) return KINAGG_IO_ERROR; /* (a failure of the test, not a hang) */
        pages_len = (size_t)snprintf(pages_resp, sizeof pages_resp,
                                     "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
                                     "Content-Length: %u\r\n\r\n%s", (unsigned)strlen(list ? page : stored),
                                     list ? page : stored);
        pages_pos = 0;
    }
    *n = l;
    return KINAGG_IO_OK;
}
static kinagg_io pages_recv(void *c, unsigned char *b, size_t l, size_t *n) {
    (void)c;
    return give_answer(pages_resp, pages_len, &pages_pos, b, l, n);
}
static uint64_t pages_clock;
static uint64_t pages_now(void *ctx) { (void)ctx; return pages_clock; }
/* A producer over this server, its clock at 1 s: with or without the shard
 * map, at most max_entries entries a request. */
static kinagg_status pages_producer(kinagg_producer *p, void *region, size_t size, int shard_map, size_t max_entries,
                                    kinagg_completion_fn done) {
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_transport tp[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_platform pl;
    kinagg_credentials cr;
    kinagg_transport io;
    io.connect = resend_connect, io.send = pages_send, io.recv = pages_recv, io.close = gather_close;
    scripted_producer(&cfg, &ep, tp, &pl, &cr, "pages", &io, pages_now, gather_unix);
    cfg.no_shard_map = !shard_map;
    cfg.collection_max_count = max_entries;
    cfg.on_complete = done;
    cfg.record_ttl_ms = 600000;
    pages_listings = pages_puts = 0;
    pages_pos = pages_len = 0;
    pages_clock = 1000;
    return kinagg_producer_init(p, region, size, &cfg, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_JSON, tp, &pl);
}
/* ... and kinagg_list_shards, which reads every page in one call: it ends
 * with an answer it cannot use after 16 such pages (it looped for ever). */
static void test_list_shards_endless_pages(void) {
    static unsigned char send_buf[4096], recv_buf[16384];
    static kinagg_kinesis k;
    kinagg_shard shards[4];
    kinagg_endpoint ep;
    kinagg_transport tp;
    kinagg_platform pl;
    kinagg_credentials cr;
    kinagg_stream_ref stream;
    size_t count = 99;
    kinagg_status st;
    memset(&tp, 0, sizeof tp);
    memset(&pl, 0, sizeof pl);
    tp.connect = resend_connect, tp.send = pages_send, tp.recv = pages_recv, tp.close = gather_close;
    pl.now_ms = pages_now, pl.unix_ms = gather_unix;
    cr.access_key_id = kinagg_str_c("AKID");
    cr.secret_access_key = kinagg_str_c("SECRET");
    cr.session_token = kinagg_str_c("");
    kinagg_endpoint_from_region(&ep, kinagg_str_c("us-east-1"));
    stream.name = kinagg_str_c("pages");
    stream.arn = kinagg_str_c("");
    pages_listings = pages_puts = 0;
    pages_pos = pages_len = 0;
    pages_clock = 1000;
    CHECK(kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_JSON, &tp, &pl, send_buf,
                              sizeof send_buf, recv_buf, sizeof recv_buf) == KINAGG_OK, "list pages: init");
    st = kinagg_list_shards(&k, stream, shards, 4, &count, 0);
    CHECK(st == KINAGG_ERR_JSON && count == 0 && pages_listings == 17,
          "kinagg_list_shards over pages without shards that never end: %s after %u pages, %lu shards",
          kinagg_strerror(st), pages_listings, (unsigned long)count);
}

#ifndef KINAGG_NO_SHARD_MAP
static kinagg_completion pages_last;
static void pages_keep(void *ctx, const kinagg_completion *c) { (void)ctx, pages_last = *c; }
static void test_endless_empty_pages(void) {
    static unsigned char region[1 << 18];
    static kinagg_producer p;
    uint64_t next;
    int i;
    CHECK(pages_producer(&p, region, sizeof region, 1, 500, pages_keep) == KINAGG_OK, "pages: init");
    pages_last.status = KINAGG_PENDING;
    CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "pages: put");
    for (i = 0; i < 2000 && pages_last.status == KINAGG_PENDING; i++) {
        kinagg_producer_poll(&p, &next);
        pages_clock += 10;
    }
    CHECK(pages_last.status == KINAGG_OK && pages_puts == 1 && pages_listings <= 20 &&
              strstr(kinagg_producer_last_error(&p), "ListShards") != NULL,
          "ListShards pages without shards that never end: the record %s after %d polls, %u listings, %u PutRecords; "
          "last error \"%s\"", kinagg_strerror(pages_last.status), i, pages_listings, pages_puts,
          kinagg_producer_last_error(&p));
    kinagg_producer_abandon(&p);
}
#endif
#endif

#ifndef KINAGG_NO_JSON
/* poll and flush from a completion callback (which the docs forbid): each
 * returns KINAGG_ERR_STATE and does nothing, and every record still
 * completes (a nested poll left an answer's other records stuck for good). */
static kinagg_producer *nested_p;
static kinagg_status nested_poll_st, nested_flush_st;
static unsigned nested_done;
static void nested_keep(void *ctx, const kinagg_completion *c) {
    uint64_t next;
    (void)ctx;
    if (c->status == KINAGG_OK) nested_done++;
    nested_poll_st = kinagg_producer_poll(nested_p, &next);
    nested_flush_st = kinagg_producer_flush(nested_p, 0); /* (the clock stands still in here) */
}
static void test_poll_from_callback(void) {
    static unsigned char region[1 << 18];
    static kinagg_producer p;
    kinagg_producer_stats st;
    uint64_t next;
    int i;
    nested_p = &p;
    nested_done = 0;
    nested_poll_st = nested_flush_st = KINAGG_OK;
    /* (the server answers one entry a request) */
    CHECK(pages_producer(&p, region, sizeof region, 0, 1, nested_keep) == KINAGG_OK, "nested: init");
    for (i = 0; i < 6; i++) CHECK(kinagg_producer_put(&p, "k", 1, NULL, 0, "data", 4, NULL) == KINAGG_OK, "nested: put");
    for (i = 0; i < 500 && nested_done < 6; i++) {
        kinagg_producer_poll(&p, &next);
        pages_clock += 10;
    }
    kinagg_producer_get_stats(&p, &st);
    CHECK(nested_done == 6 && st.buffered_records == 0 && nested_poll_st == KINAGG_ERR_STATE &&
              nested_flush_st == KINAGG_ERR_STATE,
          "poll and flush from a callback: %u of 6 delivered, %lu buffered; the nested poll %s, flush %s", nested_done,
          (unsigned long)st.buffered_records, kinagg_strerror(nested_poll_st), kinagg_strerror(nested_flush_st));
    kinagg_producer_abandon(&p);
}
#endif


/* A transport that breaks the contract, answering OK with nothing moved
 * (a modem's "SEND OK, 0 bytes"): taken as AGAIN, so a poll still returns
 * (it looped inside the poll for as long as the transport did so). */
static unsigned zero_calls;
static kinagg_io zero_connect(void *c, const char *h, uint16_t port) { (void)c, (void)h, (void)port; return KINAGG_IO_OK; }
static kinagg_io zero_send(void *c, const unsigned char *d, size_t l, size_t *n) {
    (void)c, (void)d, (void)l;
    *n = 0;
    return ++zero_calls < 1000 ? KINAGG_IO_OK : KINAGG_IO_ERROR;
}
static kinagg_io zero_recv(void *c, unsigned char *b, size_t l, size_t *n) {
    (void)c, (void)b, (void)l;
    *n = 0;
    return ++zero_calls < 1000 ? KINAGG_IO_OK : KINAGG_IO_ERROR;
}
static kinagg_io zero_send_all(void *c, const unsigned char *d, size_t l, size_t *n) {
    (void)c, (void)d;
    *n = l;
    return KINAGG_IO_OK;
}
static void test_transport_ok_with_nothing(void) {
    static unsigned char sbuf[1024], rbuf[1024];
    static kinagg_http_client c;
    kinagg_transport t;
    unsigned ev = 0;
    uint64_t wake = 0;
    kinagg_status st;
    memset(&t, 0, sizeof t);
    t.connect = zero_connect, t.send = zero_send, t.recv = zero_recv, t.close = slow_close;
    kinagg_http_init(&c, &t, sbuf, sizeof sbuf, rbuf, sizeof rbuf);
    zero_calls = 0;
    kinagg_http_begin(&c, "example.com", 80, kinagg_str_c("GET"), kinagg_str_c("/"), NULL, 0, NULL, 0, 1000);
    st = kinagg_http_poll(&c, 1000, &ev, &wake);
    CHECK(st == KINAGG_PENDING && zero_calls == 1 && ev == KINAGG_WAIT_WRITE,
          "send OK with 0 bytes: %s after %u calls, waiting for %u", kinagg_strerror(st), zero_calls, ev);
    kinagg_http_close(&c);
    t.send = zero_send_all;
    kinagg_http_init(&c, &t, sbuf, sizeof sbuf, rbuf, sizeof rbuf);
    zero_calls = 0;
    kinagg_http_begin(&c, "example.com", 80, kinagg_str_c("GET"), kinagg_str_c("/"), NULL, 0, NULL, 0, 1000);
    st = kinagg_http_poll(&c, 1000, &ev, &wake);
    CHECK(st == KINAGG_PENDING && zero_calls == 1 && ev == KINAGG_WAIT_READ,
          "recv OK with 0 bytes: %s after %u calls, waiting for %u", kinagg_strerror(st), zero_calls, ev);
    kinagg_http_close(&c);
}

/* Endpoints by region, with each partition's DNS suffix (as botocore's
 * partitions list gives them). */
static void test_endpoint_partitions(void) {
    static const char *const cases[][2] = {
        {"us-east-1", "kinesis.us-east-1.amazonaws.com"},        {"cn-north-1", "kinesis.cn-north-1.amazonaws.com.cn"},
        {"us-gov-west-1", "kinesis.us-gov-west-1.amazonaws.com"}, {"us-iso-east-1", "kinesis.us-iso-east-1.c2s.ic.gov"},
        {"us-isob-east-1", "kinesis.us-isob-east-1.sc2s.sgov.gov"},
        {"eu-isoe-west-1", "kinesis.eu-isoe-west-1.cloud.adc-e.uk"},
        {"us-isof-south-1", "kinesis.us-isof-south-1.csp.hci.ic.gov"},
        {"eusc-de-east-1", "kinesis.eusc-de-east-1.amazonaws.eu"}, {"cn-", "kinesis.cn-.amazonaws.com"}};
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kinagg_endpoint ep;
        kinagg_status st = kinagg_endpoint_from_region(&ep, kinagg_str_c(cases[i][0]));
        CHECK(st == KINAGG_OK && strcmp(ep.host, cases[i][1]) == 0 && ep.port == 443 && ep.tls, "region %s: %s",
              cases[i][0], st == KINAGG_OK ? ep.host : kinagg_strerror(st));
    }
    CHECK(kinagg_endpoint_from_region(NULL, kinagg_str_c("us-east-1")) != KINAGG_OK, "no endpoint");
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/vectors/sigv4/v4";
    test_memory();
    test_producer_codes();
#ifndef KINAGG_NO_SHARD_MAP
    test_list_failed();
#endif
#if KINAGG_PRODUCER_MAX_CONNECTIONS > 1
    test_producer_wait_each();
#endif
#ifndef KINAGG_NO_JSON
    test_clock_skew_date();
#endif
    test_md5();
    test_sha256();
    test_hash_lengths();
    test_hmac();
    test_base64();
#ifndef KINAGG_NO_JSON
    test_put_body();
#endif
#if defined(KINAGG_NO_CBOR) || defined(KINAGG_NO_JSON)
    test_one_protocol();
#endif
    test_hash_keys();
    test_producer_route();
    test_unmapped_gather();
    test_reinit_closes();
    test_connect_timeout();
    test_transport_ok_with_nothing();
#ifndef KINAGG_NO_JSON
    test_resent_request_counted();
#if !defined KINAGG_NO_SHARD_MAP && !defined KINAGG_NO_JSON
    test_endless_empty_pages();
#endif
#ifndef KINAGG_NO_JSON
    test_poll_from_callback();
    test_list_shards_endless_pages();
#endif
#endif
#if !defined(KINAGG_NO_JSON) && !defined(KINAGG_NO_CREDENTIALS_SOURCE)
    test_credentials_skewed_clock();
    test_unsent_request_error();
#endif
    test_endpoint_partitions();
    test_partition_keys();
    test_agg_errors();
    test_roundtrip();
    test_agg_index_twins();
    test_agg_index_collisions();
    test_agg_index_full();
    test_agg_moves();
    test_agg_ehk_check();
    test_deagg_bad_input();
    test_sigv4_suite(dir);
    test_sigv4_misc();
    return check_summary("unit");
}
