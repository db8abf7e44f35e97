/* kinagg.h - Kinesis Producer Library (KPL) aggregation, SigV4 signing and
 * Kinesis Data Streams for C, in one header, with no heap.
 *
 * Do this:
 *     #define KINAGG_IMPLEMENTATION
 * before you include this file in *one* C or C++ file to create the
 * implementation. Every other file includes it without the define.
 *
 * Contents
 *   1. Options       macros you may define before including this file
 *   2. Basics        status codes, kinagg_strerror, (pointer, length) strings
 *   3. Crypto        MD5, SHA-256, HMAC-SHA256 (built in, or from mbedTLS)
 *   4. Hash keys     128-bit Kinesis hash keys: from partition keys, decimal
 *   5. Aggregator    writes one KPL aggregated record into a caller buffer
 *   6. Deaggregator  zero-copy iterator over the user records of a record
 *   7. SigV4         AWS Signature Version 4 for request headers
 *   Implementation, in the same order
 *   License (MIT)
 *
 * Every layer stands alone: a firmware with its own HTTP stack may use just
 * the aggregator and the signer. No function allocates memory; all memory
 * comes from the caller, and no function recurses.
 */
#ifndef KINAGG_H
#define KINAGG_H

/* ======================================================================== */
/* 1. Options                                                               */
/* ======================================================================== */
/*
 * KINAGG_STATIC         make every function static to the file that defines
 *                       KINAGG_IMPLEMENTATION (define it before each include).
 * KINAGG_API            the linkage of public functions (default: extern).
 * KINAGG_USE_MBEDTLS    take MD5 and SHA-256 from mbedTLS (2.28 or 3.x) in
 *                       place of the built-in code; the API is unchanged.
 * KINAGG_MEMCPY, KINAGG_MEMMOVE, KINAGG_MEMSET, KINAGG_MEMCMP
 *                       replace the four <string.h> functions used.
 */
#include <stddef.h>
#include <stdint.h>

#ifndef KINAGG_API
#ifdef KINAGG_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define KINAGG_API static __attribute__((unused)) /* no warning for parts not used */
#else
#define KINAGG_API static
#endif
#else
#define KINAGG_API extern
#endif
#endif

#define KINAGG_VERSION_MAJOR 0
#define KINAGG_VERSION_MINOR 1
#define KINAGG_VERSION_PATCH 0
#define KINAGG_VERSION_STRING "0.1.0"

#ifdef KINAGG_USE_MBEDTLS
#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* 2. Basics                                                                */
/* ======================================================================== */

/* Every fallible call returns one of these. KINAGG_OK is zero. */
typedef enum kinagg_status {
    KINAGG_OK = 0,
    KINAGG_ERR_INVALID_ARGUMENT,  /* a NULL pointer or a value out of range */
    KINAGG_ERR_KEY_EMPTY,         /* partition key of length 0 */
    KINAGG_ERR_KEY_TOO_LONG,      /* partition key over 256 characters */
    KINAGG_ERR_KEY_ENCODING,      /* partition key is not valid UTF-8 */
    KINAGG_ERR_HASH_KEY,          /* explicit hash key not a decimal < 2^128 */
    KINAGG_ERR_TOO_LARGE,         /* record over the record size limit */
    KINAGG_ERR_AGGREGATE_FULL,    /* fits an empty aggregate, not this one */
    KINAGG_ERR_BUFFER_TOO_SMALL,  /* a caller buffer cannot hold the result */
    KINAGG_ERR_STATE,             /* call not valid now (add after finish) */
    KINAGG_ERR_HEADER,            /* header name or value unfit for signing */
    KINAGG_STATUS_COUNT_          /* not a status: the number of them */
} kinagg_status;

/* A short English description of a status; never NULL. */
KINAGG_API const char *kinagg_strerror(kinagg_status status);

/* Text as (pointer, length). It need not be NUL-terminated. */
typedef struct kinagg_str {
    const char *ptr;
    size_t len;
} kinagg_str;

/* A kinagg_str of a NUL-terminated string (NULL gives an empty one). */
KINAGG_API kinagg_str kinagg_str_c(const char *s);

/* Kinesis limits, as documented by AWS. The record and request sizes can be
 * raised per stream since 2025, so the library takes them as settings with
 * these defaults, up to the maxima. */
#define KINAGG_PARTITION_KEY_MAX_CHARS 256
#define KINAGG_RECORD_SIZE_DEFAULT (1024u * 1024u)
#define KINAGG_RECORD_SIZE_MAX (10u * 1024u * 1024u)

/* ======================================================================== */
/* 3. Crypto                                                                */
/* ======================================================================== */
/* Streaming contexts live wherever the caller puts them (stack or static).
 * MD5 is used for hash keys and the aggregate checksum, never for security. */

#define KINAGG_MD5_SIZE 16
#define KINAGG_SHA256_SIZE 32

typedef struct kinagg_md5_ctx {
#ifdef KINAGG_USE_MBEDTLS
    mbedtls_md5_context mbed;
#else
    uint32_t state[4];
    uint64_t total;
    unsigned char block[64];
#endif
} kinagg_md5_ctx;

typedef struct kinagg_sha256_ctx {
#ifdef KINAGG_USE_MBEDTLS
    mbedtls_sha256_context mbed;
#else
    uint32_t state[8];
    uint64_t total;
    unsigned char block[64];
#endif
} kinagg_sha256_ctx;

typedef struct kinagg_hmac_sha256_ctx {
    kinagg_sha256_ctx inner;
    kinagg_sha256_ctx outer;
} kinagg_hmac_sha256_ctx;

KINAGG_API void kinagg_md5_init(kinagg_md5_ctx *ctx);
KINAGG_API void kinagg_md5_update(kinagg_md5_ctx *ctx, const void *data, size_t len);
KINAGG_API void kinagg_md5_final(kinagg_md5_ctx *ctx, unsigned char out[KINAGG_MD5_SIZE]);
KINAGG_API void kinagg_md5(const void *data, size_t len, unsigned char out[KINAGG_MD5_SIZE]);

KINAGG_API void kinagg_sha256_init(kinagg_sha256_ctx *ctx);
KINAGG_API void kinagg_sha256_update(kinagg_sha256_ctx *ctx, const void *data, size_t len);
KINAGG_API void kinagg_sha256_final(kinagg_sha256_ctx *ctx, unsigned char out[KINAGG_SHA256_SIZE]);
KINAGG_API void kinagg_sha256(const void *data, size_t len, unsigned char out[KINAGG_SHA256_SIZE]);

/* HMAC-SHA256 (RFC 2104) with a key of any length. */
KINAGG_API void kinagg_hmac_sha256_init(kinagg_hmac_sha256_ctx *ctx, const void *key, size_t key_len);
KINAGG_API void kinagg_hmac_sha256_update(kinagg_hmac_sha256_ctx *ctx, const void *data, size_t len);
KINAGG_API void kinagg_hmac_sha256_final(kinagg_hmac_sha256_ctx *ctx, unsigned char out[KINAGG_SHA256_SIZE]);
KINAGG_API void kinagg_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                   unsigned char out[KINAGG_SHA256_SIZE]);

/* Lowercase hex of len bytes into out[2*len] (no NUL written). */
KINAGG_API void kinagg_hex(const unsigned char *bytes, size_t len, char *out);

/* ======================================================================== */
/* 4. Hash keys                                                             */
/* ======================================================================== */
/* Kinesis routes a record by a 128-bit unsigned hash key: the explicit hash
 * key if one is given, else the MD5 of the UTF-8 partition key read as a
 * big-endian number. Shards own inclusive ranges of hash keys. The value is
 * kept as 16 big-endian bytes, so it means the same on every CPU. */

typedef struct kinagg_hash_key {
    unsigned char be[16];
} kinagg_hash_key;

/* The longest decimal form: 2^128-1 has 39 digits. */
#define KINAGG_HASH_KEY_DECIMAL_MAX 39

/* The hash key Kinesis derives from a partition key (no validation). */
KINAGG_API void kinagg_hash_key_of_partition_key(const char *key, size_t len, kinagg_hash_key *out);

/* Parse the decimal ExplicitHashKey form: 0|[1-9][0-9]{0,38}, below 2^128.
 * Anything else (sign, spaces, leading zeros, overflow) is KINAGG_ERR_HASH_KEY. */
KINAGG_API kinagg_status kinagg_hash_key_parse(const char *dec, size_t len, kinagg_hash_key *out);

/* Decimal form into out, NUL-terminated; returns the digit count (1..39). */
KINAGG_API size_t kinagg_hash_key_format(const kinagg_hash_key *key,
                                         char out[KINAGG_HASH_KEY_DECIMAL_MAX + 1]);

/* <0, 0, >0 as a is below, equal to, above b. */
KINAGG_API int kinagg_hash_key_compare(const kinagg_hash_key *a, const kinagg_hash_key *b);

/* 1 if start <= key <= end (a shard's inclusive HashKeyRange), else 0. */
KINAGG_API int kinagg_hash_key_in_range(const kinagg_hash_key *key, const kinagg_hash_key *start,
                                        const kinagg_hash_key *end);

/* Check a partition key as Kinesis would: 1 to 256 characters of valid
 * UTF-8. Characters are counted as UTF-16 code units, as the service and
 * kinesalite count them, so a character outside the BMP (an emoji) counts 2.
 * Returns KINAGG_OK, KINAGG_ERR_KEY_EMPTY, _KEY_TOO_LONG or _KEY_ENCODING. */
KINAGG_API kinagg_status kinagg_partition_key_check(const char *key, size_t len);

/* ======================================================================== */
/* 5. Aggregator                                                            */
/* ======================================================================== */
/* Builds one KPL aggregated record: magic F3 89 9A C2, a protobuf
 * AggregatedRecord (partition key table, explicit hash key table, records),
 * then the MD5 of the protobuf bytes. Keys are stored once per aggregate.
 *
 * Size accounting is exact: kinagg_agg_size() is the byte count finish will
 * produce, and a record is refused, before anything is written, unless the
 * finished aggregate plus the outer partition key stays within
 * max_record_size (what Kinesis counts) and within the caller's buffer.
 *
 * The buffer holds the aggregate as it grows: key tables at the front,
 * records at the back, so adding a record never moves the records already
 * added. Finish puts them in protobuf field order in the same buffer. */

typedef struct kinagg_agg_limits {
    /* Largest Kinesis record: aggregate bytes + outer partition key bytes.
     * 0 means KINAGG_RECORD_SIZE_DEFAULT; at most KINAGG_RECORD_SIZE_MAX. */
    size_t max_record_size;
    /* Bytes of the partition key the aggregate will be sent with (the KPL
     * sends "a", 1 byte, with an ExplicitHashKey). 0 means 1. */
    size_t outer_key_len;
} kinagg_agg_limits;

typedef struct kinagg_agg {
    unsigned char *buf;
    size_t cap;
    size_t max_bytes;      /* max_record_size - outer_key_len */
    size_t pk_table_len;   /* bytes of partition key entries at buf+4 */
    size_t ehk_table_len;  /* bytes of explicit hash key entries after them */
    size_t records_len;    /* bytes of record entries at the end of buf */
    size_t record_count;
    size_t pk_count;
    size_t ehk_count;
    size_t last_pk_index;  /* cache: the key of the previous add */
    size_t last_pk_offset; /* its entry's offset from buf (0: none) */
    int finished;
} kinagg_agg;

/* Start an aggregate in buf. limits may be NULL for the defaults. A buffer
 * of max_record_size bytes can always hold a full aggregate. */
KINAGG_API kinagg_status kinagg_agg_init(kinagg_agg *agg, void *buf, size_t cap,
                                         const kinagg_agg_limits *limits);

/* Add a user record. explicit_hash_key may be NULL (then its length is
 * ignored). On any error the aggregate is unchanged and still valid:
 *   KINAGG_ERR_KEY_EMPTY / _KEY_TOO_LONG / _KEY_ENCODING  bad partition key
 *   KINAGG_ERR_HASH_KEY        explicit hash key not a decimal below 2^128
 *   KINAGG_ERR_TOO_LARGE       the record alone exceeds max_record_size
 *   KINAGG_ERR_BUFFER_TOO_SMALL  the record alone does not fit the buffer
 *   KINAGG_ERR_AGGREGATE_FULL  it fits an empty aggregate: finish this one
 *   KINAGG_ERR_STATE           the aggregate is already finished */
KINAGG_API kinagg_status kinagg_agg_add(kinagg_agg *agg, const char *partition_key, size_t partition_key_len,
                                        const char *explicit_hash_key, size_t explicit_hash_key_len,
                                        const void *data, size_t data_len);

/* Bytes the aggregate would have after adding such a record (same checks on
 * sizes, none on content); (size_t)-1 if it would not fit. Lets a caller plan
 * without trying. */
KINAGG_API size_t kinagg_agg_size_if_added(const kinagg_agg *agg, const char *partition_key,
                                           size_t partition_key_len, const char *explicit_hash_key,
                                           size_t explicit_hash_key_len, size_t data_len);

/* User records added so far. */
KINAGG_API size_t kinagg_agg_count(const kinagg_agg *agg);

/* Bytes the finished aggregate has (magic + protobuf + MD5); 20 when empty. */
KINAGG_API size_t kinagg_agg_size(const kinagg_agg *agg);

/* Write the aggregate out: *out points into the caller's buffer, *out_len is
 * kinagg_agg_size(). Calling it again returns the same bytes. An aggregate of
 * zero records is valid (it decodes to nothing). */
KINAGG_API kinagg_status kinagg_agg_finish(kinagg_agg *agg, const unsigned char **out, size_t *out_len);

/* Empty the aggregate to build a new one in the same buffer. */
KINAGG_API void kinagg_agg_reset(kinagg_agg *agg);

/* ======================================================================== */
/* 6. Deaggregator                                                          */
/* ======================================================================== */
/* Iterates the user records of one Kinesis record, pointing into its bytes.
 * Following the KCL, input that lacks the magic, is too short, fails the MD5
 * or does not parse as a complete AggregatedRecord (bad protobuf, a missing
 * required field, a table index out of range) is one plain record: the
 * iterator yields it once, with no partition key of its own. Never reads
 * outside the input, whatever it holds. */

typedef struct kinagg_user_record {
    const char *partition_key;      /* NULL for a plain record: use the */
    size_t partition_key_len;       /* Kinesis record's own key */
    const char *explicit_hash_key;  /* NULL when the record has none */
    size_t explicit_hash_key_len;
    const unsigned char *data;
    size_t data_len;
    uint64_t subsequence;           /* 0..n-1 within the aggregate */
} kinagg_user_record;

typedef struct kinagg_deagg {
    const unsigned char *in;
    size_t in_len;
    const unsigned char *pb;  /* the protobuf part, when aggregated */
    size_t pb_len;
    size_t pos;               /* next byte of pb to look at */
    uint64_t next_sub;
    size_t pk_count, ehk_count, record_count;
    uint32_t *index;          /* optional: offsets of table entries */
    size_t index_cap;
    int aggregated;
    int done;
    size_t pk_cursor_index, pk_cursor_pos;   /* table lookup cursors */
    size_t ehk_cursor_index, ehk_cursor_pos;
} kinagg_deagg;

/* Start iterating data. Checks the whole input at once, so a bad aggregate
 * is known before the first record is yielded. */
KINAGG_API void kinagg_deagg_init(kinagg_deagg *it, const void *data, size_t len);

/* Optional, before the first next: n entries of scratch for the offsets of
 * the key tables. With room for both tables a key lookup is O(1); without,
 * lookups scan forward from the last one (fast for KPL-made aggregates,
 * whose records mostly use increasing indexes, slow for adversarial ones). */
KINAGG_API void kinagg_deagg_set_index(kinagg_deagg *it, uint32_t *scratch, size_t n);

/* 1 if the input is a valid aggregated record, 0 if it is a plain record. */
KINAGG_API int kinagg_deagg_is_aggregated(const kinagg_deagg *it);

/* Number of user records the iterator yields in all. */
KINAGG_API size_t kinagg_deagg_count(const kinagg_deagg *it);

/* Fill *rec with the next user record and return 1, or return 0 at the end. */
KINAGG_API int kinagg_deagg_next(kinagg_deagg *it, kinagg_user_record *rec);

/* ======================================================================== */
/* 7. SigV4                                                                 */
/* ======================================================================== */
/* Signs a request into the value of its Authorization header. The signer
 * signs exactly the headers it is given: they must include Host and
 * X-Amz-Date (kinagg_sigv4_amz_date makes its value), plus
 * X-Amz-Security-Token when the credentials carry a session token, and the
 * caller must send them unchanged. The signing key is derived once per
 * date, region and service and cached in the signer. */

typedef struct kinagg_credentials {
    kinagg_str access_key_id;
    kinagg_str secret_access_key;
    kinagg_str session_token; /* empty for long-term keys */
} kinagg_credentials;

typedef struct kinagg_http_header {
    kinagg_str name;
    kinagg_str value;
} kinagg_http_header;

typedef struct kinagg_sigv4_request {
    kinagg_str method;            /* "POST" */
    kinagg_str path;              /* not yet percent-encoded, e.g. "/" */
    kinagg_str query;             /* as sent, without '?'; may be empty */
    const kinagg_http_header *headers;
    size_t header_count;
    /* The payload's SHA-256 as 64 lowercase hex characters, or NULL to hash
     * payload/payload_len here. Streaming senders hash in a first pass. */
    const char *payload_sha256_hex;
    const void *payload;
    size_t payload_len;
    kinagg_str region;            /* "us-east-1" */
    kinagg_str service;           /* "kinesis" */
    kinagg_str amz_date;          /* "YYYYMMDDTHHMMSSZ", as in X-Amz-Date */
    int normalize_path;           /* remove . and .. and empty segments */
} kinagg_sigv4_request;

/* Optional copies of the intermediate texts, for tests and debugging. */
typedef struct kinagg_sigv4_trace {
    char *canonical_request;
    size_t canonical_request_cap;
    size_t canonical_request_len;
    char *string_to_sign;
    size_t string_to_sign_cap;
    size_t string_to_sign_len;
    char signature_hex[2 * KINAGG_SHA256_SIZE + 1];
} kinagg_sigv4_trace;

typedef struct kinagg_sigv4_signer {
    kinagg_credentials credentials;   /* the strings must outlive the signer */
    unsigned char key_tag[KINAGG_SHA256_SIZE]; /* what the cached key is for */
    unsigned char signing_key[KINAGG_SHA256_SIZE];
    int key_valid;
} kinagg_sigv4_signer;

/* Upper bound on the Authorization value for a given request. */
#define KINAGG_SIGV4_AUTH_MAX(akid_len, region_len, service_len, signed_headers_len) \
    (16 + 12 + (akid_len) + 10 + (region_len) + 1 + (service_len) + 13 + 16 +       \
     (signed_headers_len) + 12 + 64 + 1)

KINAGG_API void kinagg_sigv4_init(kinagg_sigv4_signer *signer, const kinagg_credentials *credentials);

/* Sign: writes the Authorization header value (NUL-terminated) into out and
 * its length into *out_len. trace may be NULL. Errors: INVALID_ARGUMENT
 * (bad date, NULL), HEADER (a header name outside the HTTP token set),
 * BUFFER_TOO_SMALL (out or a trace buffer). */
KINAGG_API kinagg_status kinagg_sigv4_sign(kinagg_sigv4_signer *signer, const kinagg_sigv4_request *request,
                                           char *out, size_t out_cap, size_t *out_len,
                                           kinagg_sigv4_trace *trace);

/* Seconds since 1970-01-01 UTC to "YYYYMMDDTHHMMSSZ" (16 chars + NUL). */
KINAGG_API void kinagg_sigv4_amz_date(uint64_t unix_seconds, char out[17]);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_H */

/* ======================================================================== */
/*                              IMPLEMENTATION                              */
/* ======================================================================== */
#if defined(KINAGG_IMPLEMENTATION) && !defined(KINAGG_IMPLEMENTATION_DONE)
#define KINAGG_IMPLEMENTATION_DONE

#if !defined(KINAGG_MEMCPY) || !defined(KINAGG_MEMMOVE) || !defined(KINAGG_MEMSET) || !defined(KINAGG_MEMCMP)
#include <string.h>
#endif
#ifdef KINAGG_USE_MBEDTLS
#include <mbedtls/version.h>
#endif
#ifndef KINAGG_MEMCPY
#define KINAGG_MEMCPY memcpy
#endif
#ifndef KINAGG_MEMMOVE
#define KINAGG_MEMMOVE memmove
#endif
#ifndef KINAGG_MEMSET
#define KINAGG_MEMSET memset
#endif
#ifndef KINAGG_MEMCMP
#define KINAGG_MEMCMP memcmp
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 2. Basics --------------------------------------------------------- */

KINAGG_API const char *kinagg_strerror(kinagg_status status) {
    switch (status) {
    case KINAGG_OK: return "ok";
    case KINAGG_ERR_INVALID_ARGUMENT: return "invalid argument";
    case KINAGG_ERR_KEY_EMPTY: return "partition key is empty";
    case KINAGG_ERR_KEY_TOO_LONG: return "partition key is longer than 256 characters";
    case KINAGG_ERR_KEY_ENCODING: return "partition key is not valid UTF-8";
    case KINAGG_ERR_HASH_KEY: return "explicit hash key is not a decimal number below 2^128";
    case KINAGG_ERR_TOO_LARGE: return "record is larger than the record size limit";
    case KINAGG_ERR_AGGREGATE_FULL: return "aggregate is full: finish it and start another";
    case KINAGG_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case KINAGG_ERR_STATE: return "call not valid in this state";
    case KINAGG_ERR_HEADER: return "header name or value cannot be signed";
    case KINAGG_STATUS_COUNT_: break;
    }
    return "unknown status";
}

KINAGG_API kinagg_str kinagg_str_c(const char *s) {
    kinagg_str r;
    r.ptr = s ? s : "";
    r.len = 0;
    if (s)
        while (s[r.len]) r.len++;
    return r;
}

/* ---- 3. Crypto ---------------------------------------------------------- */

#ifdef KINAGG_USE_MBEDTLS
/* mbedTLS 3.0 renamed the *_ret functions to the plain names. */
#if MBEDTLS_VERSION_MAJOR >= 3
#define KINAGG__MBED(fn) fn
#else
#define KINAGG__MBED(fn) fn##_ret
#endif

KINAGG_API void kinagg_md5_init(kinagg_md5_ctx *ctx) {
    mbedtls_md5_init(&ctx->mbed);
    (void)KINAGG__MBED(mbedtls_md5_starts)(&ctx->mbed);
}
KINAGG_API void kinagg_md5_update(kinagg_md5_ctx *ctx, const void *data, size_t len) {
    (void)KINAGG__MBED(mbedtls_md5_update)(&ctx->mbed, (const unsigned char *)data, len);
}
KINAGG_API void kinagg_md5_final(kinagg_md5_ctx *ctx, unsigned char out[KINAGG_MD5_SIZE]) {
    (void)KINAGG__MBED(mbedtls_md5_finish)(&ctx->mbed, out);
    mbedtls_md5_free(&ctx->mbed);
}
KINAGG_API void kinagg_sha256_init(kinagg_sha256_ctx *ctx) {
    mbedtls_sha256_init(&ctx->mbed);
    (void)KINAGG__MBED(mbedtls_sha256_starts)(&ctx->mbed, 0);
}
KINAGG_API void kinagg_sha256_update(kinagg_sha256_ctx *ctx, const void *data, size_t len) {
    (void)KINAGG__MBED(mbedtls_sha256_update)(&ctx->mbed, (const unsigned char *)data, len);
}
KINAGG_API void kinagg_sha256_final(kinagg_sha256_ctx *ctx, unsigned char out[KINAGG_SHA256_SIZE]) {
    (void)KINAGG__MBED(mbedtls_sha256_finish)(&ctx->mbed, out);
    mbedtls_sha256_free(&ctx->mbed);
}
#else /* built-in MD5 (RFC 1321) and SHA-256 (FIPS 180-4) */

static uint32_t kinagg__load32le(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint32_t kinagg__load32be(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static void kinagg__store32be(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);  p[3] = (unsigned char)v;
}
static uint32_t kinagg__rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }
static uint32_t kinagg__rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }


static void kinagg__md5_block(uint32_t st[4], const unsigned char *blk) {
    static const uint32_t K[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
    static const unsigned char R[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};
    uint32_t m[16], a = st[0], b = st[1], c = st[2], d = st[3];
    unsigned i;
    for (i = 0; i < 16; i++) m[i] = kinagg__load32le(blk + 4 * i);
    for (i = 0; i < 64; i++) {
        uint32_t f, t;
        unsigned g;
        switch (i >> 4) {
        case 0: f = (b & c) | (~b & d); g = i; break;
        case 1: f = (d & b) | (~d & c); g = (5 * i + 1) & 15; break;
        case 2: f = b ^ c ^ d; g = (3 * i + 5) & 15; break;
        default: f = c ^ (b | ~d); g = (7 * i) & 15; break;
        }
        t = d;
        d = c;
        c = b;
        b = b + kinagg__rotl(a + f + K[i] + m[g], R[((i >> 4) << 2) | (i & 3)]);
        a = t;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
}

KINAGG_API void kinagg_md5_init(kinagg_md5_ctx *ctx) {
    ctx->state[0] = 0x67452301; ctx->state[1] = 0xefcdab89;
    ctx->state[2] = 0x98badcfe; ctx->state[3] = 0x10325476;
    ctx->total = 0;
}
KINAGG_API void kinagg_md5_update(kinagg_md5_ctx *ctx, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    size_t used = (size_t)(ctx->total & 63);
    ctx->total += len;
    if (used) {
        size_t take = 64 - used < len ? 64 - used : len;
        KINAGG_MEMCPY(ctx->block + used, p, take);
        p += take; len -= take; used += take;
        if (used < 64) return;
        kinagg__md5_block(ctx->state, ctx->block);
    }
    for (; len >= 64; p += 64, len -= 64) kinagg__md5_block(ctx->state, p);
    if (len) KINAGG_MEMCPY(ctx->block, p, len);
}
KINAGG_API void kinagg_md5_final(kinagg_md5_ctx *ctx, unsigned char out[KINAGG_MD5_SIZE]) {
    unsigned char pad[72];
    uint64_t bits = ctx->total * 8;
    size_t used = (size_t)(ctx->total & 63), padlen = used < 56 ? 56 - used : 120 - used, i;
    KINAGG_MEMSET(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padlen + i] = (unsigned char)(bits >> (8 * i));
    kinagg_md5_update(ctx, pad, padlen + 8);
    for (i = 0; i < 16; i++) out[i] = (unsigned char)(ctx->state[i / 4] >> (8 * (i % 4)));
}

static void kinagg__sha256_block(uint32_t st[8], const unsigned char *blk) {
    static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64], a, b, c, d, e, f, g, h;
    unsigned i;
    for (i = 0; i < 16; i++) w[i] = kinagg__load32be(blk + 4 * i);
    for (i = 16; i < 64; i++) {
        uint32_t s0 = kinagg__rotr(w[i - 15], 7) ^ kinagg__rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = kinagg__rotr(w[i - 2], 17) ^ kinagg__rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = st[0]; b = st[1]; c = st[2]; d = st[3]; e = st[4]; f = st[5]; g = st[6]; h = st[7];
    for (i = 0; i < 64; i++) {
        uint32_t s1 = kinagg__rotr(e, 6) ^ kinagg__rotr(e, 11) ^ kinagg__rotr(e, 25);
        uint32_t t1 = h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t s0 = kinagg__rotr(a, 2) ^ kinagg__rotr(a, 13) ^ kinagg__rotr(a, 22);
        uint32_t t2 = s0 + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

KINAGG_API void kinagg_sha256_init(kinagg_sha256_ctx *ctx) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    unsigned i;
    for (i = 0; i < 8; i++) ctx->state[i] = iv[i];
    ctx->total = 0;
}
KINAGG_API void kinagg_sha256_update(kinagg_sha256_ctx *ctx, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    size_t used = (size_t)(ctx->total & 63);
    ctx->total += len;
    if (used) {
        size_t take = 64 - used < len ? 64 - used : len;
        KINAGG_MEMCPY(ctx->block + used, p, take);
        p += take; len -= take; used += take;
        if (used < 64) return;
        kinagg__sha256_block(ctx->state, ctx->block);
    }
    for (; len >= 64; p += 64, len -= 64) kinagg__sha256_block(ctx->state, p);
    if (len) KINAGG_MEMCPY(ctx->block, p, len);
}
KINAGG_API void kinagg_sha256_final(kinagg_sha256_ctx *ctx, unsigned char out[KINAGG_SHA256_SIZE]) {
    unsigned char pad[72];
    uint64_t bits = ctx->total * 8;
    size_t used = (size_t)(ctx->total & 63), padlen = used < 56 ? 56 - used : 120 - used, i;
    KINAGG_MEMSET(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    kinagg_sha256_update(ctx, pad, padlen + 8);
    for (i = 0; i < 8; i++) kinagg__store32be(out + 4 * i, ctx->state[i]);
}
#endif /* KINAGG_USE_MBEDTLS */

KINAGG_API void kinagg_md5(const void *data, size_t len, unsigned char out[KINAGG_MD5_SIZE]) {
    kinagg_md5_ctx c;
    kinagg_md5_init(&c);
    kinagg_md5_update(&c, data, len);
    kinagg_md5_final(&c, out);
}
KINAGG_API void kinagg_sha256(const void *data, size_t len, unsigned char out[KINAGG_SHA256_SIZE]) {
    kinagg_sha256_ctx c;
    kinagg_sha256_init(&c);
    kinagg_sha256_update(&c, data, len);
    kinagg_sha256_final(&c, out);
}

/* HMAC key from two parts, so SigV4's "AWS4" + secret needs no buffer. */
static void kinagg__hmac_init2(kinagg_hmac_sha256_ctx *ctx, const void *k1, size_t l1, const void *k2, size_t l2) {
    unsigned char key[64], pad[64];
    unsigned i;
    KINAGG_MEMSET(key, 0, sizeof key);
    if (l1 + l2 > 64) {
        kinagg_sha256_ctx h;
        kinagg_sha256_init(&h);
        kinagg_sha256_update(&h, k1, l1);
        kinagg_sha256_update(&h, k2, l2);
        kinagg_sha256_final(&h, key);
    } else {
        if (l1) KINAGG_MEMCPY(key, k1, l1);
        if (l2) KINAGG_MEMCPY(key + l1, k2, l2);
    }
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(key[i] ^ 0x36);
    kinagg_sha256_init(&ctx->inner);
    kinagg_sha256_update(&ctx->inner, pad, 64);
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(key[i] ^ 0x5c);
    kinagg_sha256_init(&ctx->outer);
    kinagg_sha256_update(&ctx->outer, pad, 64);
}
KINAGG_API void kinagg_hmac_sha256_init(kinagg_hmac_sha256_ctx *ctx, const void *key, size_t key_len) {
    kinagg__hmac_init2(ctx, key, key_len, "", 0);
}
KINAGG_API void kinagg_hmac_sha256_update(kinagg_hmac_sha256_ctx *ctx, const void *data, size_t len) {
    kinagg_sha256_update(&ctx->inner, data, len);
}
KINAGG_API void kinagg_hmac_sha256_final(kinagg_hmac_sha256_ctx *ctx, unsigned char out[KINAGG_SHA256_SIZE]) {
    unsigned char inner[KINAGG_SHA256_SIZE];
    kinagg_sha256_final(&ctx->inner, inner);
    kinagg_sha256_update(&ctx->outer, inner, sizeof inner);
    kinagg_sha256_final(&ctx->outer, out);
}
KINAGG_API void kinagg_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                                   unsigned char out[KINAGG_SHA256_SIZE]) {
    kinagg_hmac_sha256_ctx c;
    kinagg_hmac_sha256_init(&c, key, key_len);
    kinagg_hmac_sha256_update(&c, data, len);
    kinagg_hmac_sha256_final(&c, out);
}

KINAGG_API void kinagg_hex(const unsigned char *bytes, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
}

/* ---- 4. Hash keys ------------------------------------------------------- */

KINAGG_API void kinagg_hash_key_of_partition_key(const char *key, size_t len, kinagg_hash_key *out) {
    kinagg_md5(key, len, out->be); /* the digest bytes are the big-endian number */
}

KINAGG_API kinagg_status kinagg_hash_key_parse(const char *dec, size_t len, kinagg_hash_key *out) {
    kinagg_hash_key v;
    size_t i;
    if (!dec || !out || len == 0 || len > KINAGG_HASH_KEY_DECIMAL_MAX) return KINAGG_ERR_HASH_KEY;
    if (dec[0] == '0' && len > 1) return KINAGG_ERR_HASH_KEY;
    KINAGG_MEMSET(&v, 0, sizeof v);
    for (i = 0; i < len; i++) {
        unsigned carry;
        int j;
        if (dec[i] < '0' || dec[i] > '9') return KINAGG_ERR_HASH_KEY;
        carry = (unsigned)(dec[i] - '0');
        for (j = 15; j >= 0; j--) { /* v = v * 10 + digit */
            unsigned t = (unsigned)v.be[j] * 10u + carry;
            v.be[j] = (unsigned char)t;
            carry = t >> 8;
        }
        if (carry) return KINAGG_ERR_HASH_KEY; /* 2^128 or more */
    }
    *out = v;
    return KINAGG_OK;
}

KINAGG_API size_t kinagg_hash_key_format(const kinagg_hash_key *key, char out[KINAGG_HASH_KEY_DECIMAL_MAX + 1]) {
    kinagg_hash_key v = *key;
    char rev[KINAGG_HASH_KEY_DECIMAL_MAX];
    size_t n = 0, i;
    int nonzero;
    do { /* v, digit = v / 10, v % 10 */
        unsigned rem = 0;
        nonzero = 0;
        for (i = 0; i < 16; i++) {
            unsigned cur = (rem << 8) | v.be[i];
            v.be[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            nonzero |= v.be[i];
        }
        rev[n++] = (char)('0' + rem);
    } while (nonzero);
    for (i = 0; i < n; i++) out[i] = rev[n - 1 - i];
    out[n] = '\0';
    return n;
}

KINAGG_API int kinagg_hash_key_compare(const kinagg_hash_key *a, const kinagg_hash_key *b) {
    return KINAGG_MEMCMP(a->be, b->be, 16);
}

KINAGG_API int kinagg_hash_key_in_range(const kinagg_hash_key *key, const kinagg_hash_key *start,
                                        const kinagg_hash_key *end) {
    return kinagg_hash_key_compare(key, start) >= 0 && kinagg_hash_key_compare(key, end) <= 0;
}

KINAGG_API kinagg_status kinagg_partition_key_check(const char *key, size_t len) {
    const unsigned char *p = (const unsigned char *)key;
    size_t i = 0, units = 0;
    if (len == 0) return KINAGG_ERR_KEY_EMPTY;
    if (!key) return KINAGG_ERR_INVALID_ARGUMENT;
    /* A key over 1024 bytes has over 256 characters if it is valid at all;
     * checking the encoding first keeps the more useful error for garbage. */
    while (i < len) {
        unsigned c = p[i], n, k;
        uint32_t cp;
        if (c < 0x80) { i++; units++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
        else return KINAGG_ERR_KEY_ENCODING;
        if (len - i <= n) return KINAGG_ERR_KEY_ENCODING;
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return KINAGG_ERR_KEY_ENCODING;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return KINAGG_ERR_KEY_ENCODING; /* overlong, out of range, surrogate */
        units += n == 3 ? 2 : 1;
        i += n + 1;
    }
    return units > KINAGG_PARTITION_KEY_MAX_CHARS ? KINAGG_ERR_KEY_TOO_LONG : KINAGG_OK;
}

/* ---- 5. Aggregator ------------------------------------------------------ */
/* Protobuf wire format pieces shared with the deaggregator. */

#define KINAGG__MAGIC_LEN 4
static const unsigned char kinagg__magic[KINAGG__MAGIC_LEN] = {0xF3, 0x89, 0x9A, 0xC2};
/* AggregatedRecord: 1 partition_key_table, 2 explicit_hash_key_table,
 * 3 records (all length-delimited). Record: 1 partition_key_index (varint),
 * 2 explicit_hash_key_index (varint), 3 data (bytes), 4 tags. */
#define KINAGG__TAG_PK_TABLE 0x0A
#define KINAGG__TAG_EHK_TABLE 0x12
#define KINAGG__TAG_RECORD 0x1A
#define KINAGG__TAG_REC_PK_INDEX 0x08
#define KINAGG__TAG_REC_EHK_INDEX 0x10
#define KINAGG__TAG_REC_DATA 0x1A
#define KINAGG__OVERHEAD (KINAGG__MAGIC_LEN + KINAGG_MD5_SIZE)

static size_t kinagg__varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}
static size_t kinagg__varint_put(unsigned char *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (unsigned char)(v | 0x80); v >>= 7; }
    p[n++] = (unsigned char)v;
    return n;
}
/* Reads a varint at p[*pos..end); 0 on truncation or over 10 bytes / 64 bits. */
static int kinagg__varint_get(const unsigned char *p, size_t end, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    size_t i = *pos;
    while (i < end) {
        unsigned char b = p[i++];
        if (shift == 63 && b > 1) return 0;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *pos = i; *out = v; return 1; }
        shift += 7;
        if (shift > 63) return 0;
    }
    return 0;
}
/* Bytes of a length-delimited field: tag + length varint + body. */
static size_t kinagg__field_len(size_t body) { return 1 + kinagg__varint_len(body) + body; }

static size_t kinagg__record_body_len(size_t pk_index, int has_ehk, size_t ehk_index, size_t data_len) {
    return 1 + kinagg__varint_len(pk_index) + (has_ehk ? 1 + kinagg__varint_len(ehk_index) : 0) +
           kinagg__field_len(data_len);
}

KINAGG_API kinagg_status kinagg_agg_init(kinagg_agg *agg, void *buf, size_t cap, const kinagg_agg_limits *limits) {
    size_t max_record = KINAGG_RECORD_SIZE_DEFAULT, outer = 1;
    if (!agg || !buf) return KINAGG_ERR_INVALID_ARGUMENT;
    if (limits) {
        if (limits->max_record_size) max_record = limits->max_record_size;
        if (limits->outer_key_len) outer = limits->outer_key_len;
    }
    if (max_record > KINAGG_RECORD_SIZE_MAX || outer > 4 * KINAGG_PARTITION_KEY_MAX_CHARS ||
        max_record < outer + KINAGG__OVERHEAD)
        return KINAGG_ERR_INVALID_ARGUMENT;
    if (cap < KINAGG__OVERHEAD) return KINAGG_ERR_BUFFER_TOO_SMALL;
    KINAGG_MEMSET(agg, 0, sizeof *agg);
    agg->buf = (unsigned char *)buf;
    agg->cap = cap;
    agg->max_bytes = max_record - outer;
    KINAGG_MEMCPY(agg->buf, kinagg__magic, KINAGG__MAGIC_LEN);
    return KINAGG_OK;
}

KINAGG_API void kinagg_agg_reset(kinagg_agg *agg) {
    agg->pk_table_len = agg->ehk_table_len = agg->records_len = 0;
    agg->record_count = agg->pk_count = agg->ehk_count = 0;
    agg->last_pk_offset = agg->last_pk_index = 0;
    agg->finished = 0;
    KINAGG_MEMCPY(agg->buf, kinagg__magic, KINAGG__MAGIC_LEN);
}

KINAGG_API size_t kinagg_agg_count(const kinagg_agg *agg) { return agg->record_count; }

KINAGG_API size_t kinagg_agg_size(const kinagg_agg *agg) {
    return KINAGG__OVERHEAD + agg->pk_table_len + agg->ehk_table_len + agg->records_len;
}

/* Index of a key in a table of entries at buf[start, start+len), or the
 * table's count if absent. Entries were written by us: well-formed. */
static size_t kinagg__table_find(const unsigned char *buf, size_t start, size_t len, const char *key,
                                 size_t key_len, size_t *entry_off) {
    size_t pos = start, end = start + len, index = 0;
    while (pos < end) {
        uint64_t n = 0;
        size_t body;
        pos++; /* tag */
        (void)kinagg__varint_get(buf, end, &pos, &n);
        body = (size_t)n;
        if (body == key_len && KINAGG_MEMCMP(buf + pos, key, key_len) == 0) {
            if (entry_off) *entry_off = pos;
            return index;
        }
        pos += body;
        index++;
    }
    return index;
}

/* Where a record would go: its key indexes, whether they are new, sizes. */
typedef struct kinagg__agg_plan {
    size_t pk_index, ehk_index, pk_entry_off;
    int pk_new, ehk_new, has_ehk;
    size_t add_keys;   /* bytes of new table entries */
    size_t add_record; /* bytes of the record entry */
    size_t alone;      /* finished size of an aggregate holding only it */
} kinagg__agg_plan;

static void kinagg__agg_plan_record(const kinagg_agg *agg, const char *pk, size_t pk_len, const char *ehk,
                                    size_t ehk_len, size_t data_len, kinagg__agg_plan *pl) {
    size_t ehk_table_off = KINAGG__MAGIC_LEN + agg->pk_table_len;
    KINAGG_MEMSET(pl, 0, sizeof *pl);
    if (agg->last_pk_offset && agg->buf[agg->last_pk_offset - 1] == pk_len /* len < 128 */ &&
        KINAGG_MEMCMP(agg->buf + agg->last_pk_offset, pk, pk_len) == 0) {
        pl->pk_index = agg->last_pk_index;
        pl->pk_entry_off = agg->last_pk_offset;
    } else {
        pl->pk_index = kinagg__table_find(agg->buf, KINAGG__MAGIC_LEN, agg->pk_table_len, pk, pk_len,
                                          &pl->pk_entry_off);
    }
    pl->pk_new = pl->pk_index == agg->pk_count;
    if (pl->pk_new) pl->add_keys += kinagg__field_len(pk_len);
    pl->has_ehk = ehk != NULL;
    if (ehk) {
        pl->ehk_index = kinagg__table_find(agg->buf, ehk_table_off, agg->ehk_table_len, ehk, ehk_len, NULL);
        pl->ehk_new = pl->ehk_index == agg->ehk_count;
        if (pl->ehk_new) pl->add_keys += kinagg__field_len(ehk_len);
    }
    pl->add_record = kinagg__field_len(kinagg__record_body_len(pl->pk_index, pl->has_ehk, pl->ehk_index, data_len));
    pl->alone = KINAGG__OVERHEAD + kinagg__field_len(pk_len) + (ehk ? kinagg__field_len(ehk_len) : 0) +
                kinagg__field_len(kinagg__record_body_len(0, pl->has_ehk, 0, data_len));
}

KINAGG_API size_t kinagg_agg_size_if_added(const kinagg_agg *agg, const char *partition_key,
                                           size_t partition_key_len, const char *explicit_hash_key,
                                           size_t explicit_hash_key_len, size_t data_len) {
    kinagg__agg_plan pl;
    size_t total;
    if (!agg || agg->finished || !partition_key || data_len > KINAGG_RECORD_SIZE_MAX) return (size_t)-1;
    kinagg__agg_plan_record(agg, partition_key, partition_key_len, explicit_hash_key, explicit_hash_key_len,
                            data_len, &pl);
    total = kinagg_agg_size(agg) + pl.add_keys + pl.add_record;
    return total > agg->max_bytes || total > agg->cap ? (size_t)-1 : total;
}

KINAGG_API kinagg_status kinagg_agg_add(kinagg_agg *agg, const char *pk, size_t pk_len, const char *ehk,
                                        size_t ehk_len, const void *data, size_t data_len) {
    kinagg__agg_plan pl;
    kinagg_hash_key ignored;
    kinagg_status st;
    size_t total;
    unsigned char *p;
    if (!agg || (!data && data_len)) return KINAGG_ERR_INVALID_ARGUMENT;
    if (agg->finished) return KINAGG_ERR_STATE;
    st = kinagg_partition_key_check(pk, pk_len);
    if (st != KINAGG_OK) return st;
    if (ehk && kinagg_hash_key_parse(ehk, ehk_len, &ignored) != KINAGG_OK) return KINAGG_ERR_HASH_KEY;
    if (data_len > KINAGG_RECORD_SIZE_MAX) return KINAGG_ERR_TOO_LARGE; /* keeps sums far from overflow */
    kinagg__agg_plan_record(agg, pk, pk_len, ehk, ehk_len, data_len, &pl);
    if (pl.alone > agg->max_bytes) return KINAGG_ERR_TOO_LARGE;
    if (pl.alone > agg->cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    total = kinagg_agg_size(agg) + pl.add_keys + pl.add_record;
    if (total > agg->max_bytes || total > agg->cap) return KINAGG_ERR_AGGREGATE_FULL;

    /* From here on nothing can fail. New table entries go at the front; a new
     * partition key entry pushes the (usually small) hash key table along. */
    if (pl.pk_new) {
        size_t at = KINAGG__MAGIC_LEN + agg->pk_table_len, n = kinagg__field_len(pk_len);
        if (agg->ehk_table_len) KINAGG_MEMMOVE(agg->buf + at + n, agg->buf + at, agg->ehk_table_len);
        p = agg->buf + at;
        *p++ = KINAGG__TAG_PK_TABLE;
        p += kinagg__varint_put(p, pk_len);
        KINAGG_MEMCPY(p, pk, pk_len);
        pl.pk_entry_off = (size_t)(p - agg->buf);
        agg->pk_table_len += n;
        agg->pk_count++;
    }
    if (pl.has_ehk && pl.ehk_new) {
        p = agg->buf + KINAGG__MAGIC_LEN + agg->pk_table_len + agg->ehk_table_len;
        *p++ = KINAGG__TAG_EHK_TABLE;
        p += kinagg__varint_put(p, ehk_len);
        KINAGG_MEMCPY(p, ehk, ehk_len);
        agg->ehk_table_len += kinagg__field_len(ehk_len);
        agg->ehk_count++;
    }
    if (pk_len < 128) { /* the cache test reads a one-byte length */
        agg->last_pk_index = pl.pk_index;
        agg->last_pk_offset = pl.pk_entry_off;
    } else {
        agg->last_pk_offset = 0;
    }
    /* The record entry goes just below the records already at the back. */
    agg->records_len += pl.add_record;
    p = agg->buf + agg->cap - agg->records_len;
    *p++ = KINAGG__TAG_RECORD;
    p += kinagg__varint_put(p, kinagg__record_body_len(pl.pk_index, pl.has_ehk, pl.ehk_index, data_len));
    *p++ = KINAGG__TAG_REC_PK_INDEX;
    p += kinagg__varint_put(p, pl.pk_index);
    if (pl.has_ehk) {
        *p++ = KINAGG__TAG_REC_EHK_INDEX;
        p += kinagg__varint_put(p, pl.ehk_index);
    }
    *p++ = KINAGG__TAG_REC_DATA;
    p += kinagg__varint_put(p, data_len);
    if (data_len) KINAGG_MEMCPY(p, data, data_len);
    agg->record_count++;
    return KINAGG_OK;
}

static void kinagg__reverse(unsigned char *p, size_t n) {
    size_t i = 0, j = n;
    while (i + 1 < j) {
        unsigned char t = p[i];
        p[i++] = p[--j];
        p[j] = t;
    }
}

KINAGG_API kinagg_status kinagg_agg_finish(kinagg_agg *agg, const unsigned char **out, size_t *out_len) {
    size_t tables = KINAGG__MAGIC_LEN + agg->pk_table_len + agg->ehk_table_len;
    if (!agg->finished) {
        unsigned char *recs = agg->buf + agg->cap - agg->records_len;
        size_t pos = 0;
        /* The back holds the records newest first. Reversing each entry, then
         * the whole run, puts them oldest first without any scratch memory. */
        while (pos < agg->records_len) {
            uint64_t body = 0;
            size_t start = pos;
            pos++;
            (void)kinagg__varint_get(recs, agg->records_len, &pos, &body);
            pos += (size_t)body;
            kinagg__reverse(recs + start, pos - start);
        }
        kinagg__reverse(recs, agg->records_len);
        if (agg->records_len) KINAGG_MEMMOVE(agg->buf + tables, recs, agg->records_len);
        kinagg_md5(agg->buf + KINAGG__MAGIC_LEN, tables - KINAGG__MAGIC_LEN + agg->records_len,
                   agg->buf + tables + agg->records_len);
        agg->finished = 1;
    }
    if (out) *out = agg->buf;
    if (out_len) *out_len = kinagg_agg_size(agg);
    return KINAGG_OK;
}

/* ---- 6. Deaggregator ---------------------------------------------------- */

/* Skip one field's value of wire type wt at pb[*pos..end). */
static int kinagg__pb_skip(const unsigned char *pb, size_t end, size_t *pos, unsigned wt) {
    uint64_t n;
    switch (wt) {
    case 0: return kinagg__varint_get(pb, end, pos, &n);
    case 1: if (end - *pos < 8) return 0; *pos += 8; return 1;
    case 2:
        if (!kinagg__varint_get(pb, end, pos, &n) || n > end - *pos) return 0;
        *pos += (size_t)n;
        return 1;
    case 5: if (end - *pos < 4) return 0; *pos += 4; return 1;
    default: return 0; /* groups (3, 4) are not used by this schema */
    }
}

/* Reads the next (field, wire type) key and, for wire type 2, the body's
 * bounds. Returns 0 at a malformed field. */
static int kinagg__pb_next(const unsigned char *pb, size_t end, size_t *pos, uint64_t *field, unsigned *wt,
                           size_t *body, size_t *body_len) {
    uint64_t key, n;
    if (!kinagg__varint_get(pb, end, pos, &key)) return 0;
    *field = key >> 3;
    *wt = (unsigned)(key & 7);
    if (*field == 0) return 0;
    if (*wt == 2) {
        if (!kinagg__varint_get(pb, end, pos, &n) || n > end - *pos) return 0;
        *body = *pos;
        *body_len = (size_t)n;
        *pos += (size_t)n;
        return 1;
    }
    return kinagg__pb_skip(pb, end, pos, *wt);
}

/* A Record's fields; as in protobuf, the last occurrence of a field wins. */
typedef struct kinagg__rec_fields {
    uint64_t pk_index, ehk_index;
    int has_pk, has_ehk, has_data;
    size_t data, data_len;
} kinagg__rec_fields;

static int kinagg__pb_parse_record(const unsigned char *pb, size_t start, size_t len, kinagg__rec_fields *r) {
    size_t pos = start, end = start + len;
    KINAGG_MEMSET(r, 0, sizeof *r);
    while (pos < end) {
        uint64_t field;
        unsigned wt;
        size_t body = 0, blen = 0, vpos = pos;
        if (!kinagg__pb_next(pb, end, &pos, &field, &wt, &body, &blen)) return 0;
        if ((field == 1 || field == 2) && wt == 0) {
            uint64_t key = 0, v = 0;
            (void)kinagg__varint_get(pb, end, &vpos, &key);
            (void)kinagg__varint_get(pb, end, &vpos, &v);
            if (field == 1) { r->pk_index = v; r->has_pk = 1; }
            else { r->ehk_index = v; r->has_ehk = 1; }
        } else if (field == 3 && wt == 2) {
            r->data = body; r->data_len = blen; r->has_data = 1;
        } else if (field == 4 && wt == 2) { /* Tag: required string key = 1 */
            size_t tpos = body, tend = body + blen;
            int has_key = 0;
            while (tpos < tend) {
                uint64_t tf;
                unsigned twt;
                size_t tb, tl;
                if (!kinagg__pb_next(pb, tend, &tpos, &tf, &twt, &tb, &tl)) return 0;
                if (tf == 1 && twt == 2) has_key = 1;
            }
            if (!has_key) return 0;
        }
    }
    return r->has_pk && r->has_data;
}

/* Checks the whole AggregatedRecord: structure, required fields, indexes. */
static int kinagg__deagg_validate(kinagg_deagg *it) {
    size_t pos = 0, pass;
    for (pass = 0; pass < 2; pass++) { /* 1: count the tables; 2: check indexes */
        pos = 0;
        while (pos < it->pb_len) {
            uint64_t field;
            unsigned wt;
            size_t body = 0, blen = 0;
            if (!kinagg__pb_next(it->pb, it->pb_len, &pos, &field, &wt, &body, &blen)) return 0;
            if (wt != 2) continue;
            if (pass == 0) {
                if (field == 1) it->pk_count++;
                else if (field == 2) it->ehk_count++;
                else if (field == 3) it->record_count++;
            } else if (field == 3) {
                kinagg__rec_fields r;
                if (!kinagg__pb_parse_record(it->pb, body, blen, &r)) return 0;
                if (r.pk_index >= it->pk_count) return 0;
                if (r.has_ehk && r.ehk_index >= it->ehk_count) return 0;
            }
        }
    }
    return 1;
}

KINAGG_API void kinagg_deagg_init(kinagg_deagg *it, const void *data, size_t len) {
    unsigned char digest[KINAGG_MD5_SIZE];
    KINAGG_MEMSET(it, 0, sizeof *it);
    it->in = (const unsigned char *)data;
    it->in_len = data ? len : 0;
    if (it->in_len < KINAGG__OVERHEAD || KINAGG_MEMCMP(it->in, kinagg__magic, KINAGG__MAGIC_LEN) != 0) return;
    it->pb = it->in + KINAGG__MAGIC_LEN;
    it->pb_len = it->in_len - KINAGG__OVERHEAD;
    kinagg_md5(it->pb, it->pb_len, digest);
    if (KINAGG_MEMCMP(digest, it->pb + it->pb_len, KINAGG_MD5_SIZE) != 0 || !kinagg__deagg_validate(it)) {
        it->pk_count = it->ehk_count = it->record_count = 0;
        return;
    }
    it->aggregated = 1;
}

KINAGG_API void kinagg_deagg_set_index(kinagg_deagg *it, uint32_t *scratch, size_t n) {
    size_t pos = 0, pk = 0, ehk = 0;
    if (!it->aggregated || !scratch || n < it->pk_count + it->ehk_count || it->pb_len > 0xffffffffu) return;
    while (pos < it->pb_len) {
        uint64_t field;
        unsigned wt;
        size_t body = 0, blen = 0, entry = pos;
        (void)kinagg__pb_next(it->pb, it->pb_len, &pos, &field, &wt, &body, &blen); /* validated */
        if (wt != 2) continue;
        if (field == 1) scratch[pk++] = (uint32_t)entry;
        else if (field == 2) scratch[it->pk_count + ehk++] = (uint32_t)entry;
    }
    it->index = scratch;
    it->index_cap = n;
}

KINAGG_API int kinagg_deagg_is_aggregated(const kinagg_deagg *it) { return it->aggregated; }

KINAGG_API size_t kinagg_deagg_count(const kinagg_deagg *it) { return it->aggregated ? it->record_count : 1; }

/* Finds entry `want` of table `field`, scanning forward from a cursor that
 * remembers the last hit (restarting from the top when asked for an earlier
 * one). Sets *s, *l to the entry's string. */
static void kinagg__deagg_lookup(const kinagg_deagg *it, uint64_t field, size_t want, size_t *cur_index,
                                 size_t *cur_pos, size_t *s, size_t *l) {
    size_t pos, index;
    if (it->index) {
        uint64_t f;
        unsigned wt;
        pos = it->index[field == 1 ? want : it->pk_count + want];
        (void)kinagg__pb_next(it->pb, it->pb_len, &pos, &f, &wt, s, l);
        return;
    }
    if (want < *cur_index || *cur_pos == 0) { pos = 0; index = 0; }
    else { pos = *cur_pos - 1; index = *cur_index; }
    while (pos < it->pb_len) { /* validation guarantees a hit */
        uint64_t f;
        unsigned wt;
        size_t entry = pos, body = 0, blen = 0;
        (void)kinagg__pb_next(it->pb, it->pb_len, &pos, &f, &wt, &body, &blen);
        if (wt == 2 && f == field) {
            if (index == want) {
                *cur_index = index;
                *cur_pos = entry + 1;
                *s = body;
                *l = blen;
                return;
            }
            index++;
        }
    }
}

KINAGG_API int kinagg_deagg_next(kinagg_deagg *it, kinagg_user_record *rec) {
    if (it->done) return 0;
    KINAGG_MEMSET(rec, 0, sizeof *rec);
    if (!it->aggregated) {
        rec->data = it->in;
        rec->data_len = it->in_len;
        it->done = 1;
        return 1;
    }
    while (it->pos < it->pb_len) {
        uint64_t field;
        unsigned wt;
        size_t body = 0, blen = 0, s = 0, l = 0;
        kinagg__rec_fields r;
        (void)kinagg__pb_next(it->pb, it->pb_len, &it->pos, &field, &wt, &body, &blen);
        if (field != 3 || wt != 2) continue;
        (void)kinagg__pb_parse_record(it->pb, body, blen, &r);
        kinagg__deagg_lookup(it, 1, (size_t)r.pk_index, &it->pk_cursor_index, &it->pk_cursor_pos, &s, &l);
        rec->partition_key = (const char *)it->pb + s;
        rec->partition_key_len = l;
        if (r.has_ehk) {
            kinagg__deagg_lookup(it, 2, (size_t)r.ehk_index, &it->ehk_cursor_index, &it->ehk_cursor_pos, &s, &l);
            rec->explicit_hash_key = (const char *)it->pb + s;
            rec->explicit_hash_key_len = l;
        }
        rec->data = it->pb + r.data;
        rec->data_len = r.data_len;
        rec->subsequence = it->next_sub++;
        return 1;
    }
    it->done = 1;
    return 0;
}

/* ---- 7. SigV4 ----------------------------------------------------------- */
/* The canonical request is never stored: it is fed to SHA-256 as it is
 * produced (and copied to the trace buffer when one is given). */

typedef struct kinagg__sink {
    kinagg_sha256_ctx hash;
    char *copy;
    size_t cap, len;
    int overflow;
} kinagg__sink;

static void kinagg__sink_put(kinagg__sink *s, const char *p, size_t n) {
    kinagg_sha256_update(&s->hash, p, n);
    if (s->copy) {
        if (s->len < s->cap && n < s->cap - s->len) KINAGG_MEMCPY(s->copy + s->len, p, n);
        else s->overflow = 1;
    }
    s->len += n;
}
static void kinagg__sink_byte(kinagg__sink *s, char c) { kinagg__sink_put(s, &c, 1); }

static int kinagg__unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}
static int kinagg__hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Produces, one byte at a time, the canonical URI encoding of a query key or
 * value: percent escapes decoded, then everything but unreserved bytes
 * encoded with uppercase hex. Lets params be compared and emitted without a
 * buffer. */
typedef struct kinagg__enc {
    const unsigned char *p, *end;
    char pending[3];
    int npending, ipending;
} kinagg__enc;

static void kinagg__enc_init(kinagg__enc *e, const char *p, size_t n) {
    e->p = (const unsigned char *)p;
    e->end = e->p + n;
    e->npending = e->ipending = 0;
}
static int kinagg__enc_next(kinagg__enc *e) { /* -1 at the end */
    static const char hex[] = "0123456789ABCDEF";
    unsigned char c;
    if (e->ipending < e->npending) return (unsigned char)e->pending[e->ipending++];
    if (e->p >= e->end) return -1;
    c = *e->p++;
    if (c == '%' && e->end - e->p >= 2 && kinagg__hexval(e->p[0]) >= 0 && kinagg__hexval(e->p[1]) >= 0) {
        c = (unsigned char)(kinagg__hexval(e->p[0]) * 16 + kinagg__hexval(e->p[1]));
        e->p += 2;
    }
    if (kinagg__unreserved(c)) return c;
    e->pending[0] = hex[c >> 4];
    e->pending[1] = hex[c & 15];
    e->npending = 2;
    e->ipending = 0;
    return '%';
}
static int kinagg__enc_compare(const char *a, size_t al, const char *b, size_t bl) {
    kinagg__enc ea, eb;
    kinagg__enc_init(&ea, a, al);
    kinagg__enc_init(&eb, b, bl);
    for (;;) {
        int x = kinagg__enc_next(&ea), y = kinagg__enc_next(&eb);
        if (x != y) return x < y ? -1 : 1;
        if (x < 0) return 0;
    }
}
static void kinagg__enc_emit(kinagg__sink *s, const char *p, size_t n) {
    kinagg__enc e;
    int c;
    kinagg__enc_init(&e, p, n);
    while ((c = kinagg__enc_next(&e)) >= 0) kinagg__sink_byte(s, (char)c);
}

/* The query's params, one at a time: [*pos..) up to the next '&'. */
typedef struct kinagg__param {
    const char *key, *val;
    size_t key_len, val_len;
} kinagg__param;

static int kinagg__param_next(kinagg_str q, size_t *pos, kinagg__param *out) {
    while (*pos < q.len) {
        size_t start = *pos, end = start, eq;
        while (end < q.len && q.ptr[end] != '&') end++;
        *pos = end < q.len ? end + 1 : end;
        if (end == start) continue;
        for (eq = start; eq < end && q.ptr[eq] != '='; eq++) {}
        out->key = q.ptr + start;
        out->key_len = eq - start;
        out->val = eq < end ? q.ptr + eq + 1 : q.ptr + end;
        out->val_len = eq < end ? end - eq - 1 : 0;
        return 1;
    }
    return 0;
}
static int kinagg__param_compare(const kinagg__param *a, const kinagg__param *b) {
    int c = kinagg__enc_compare(a->key, a->key_len, b->key, b->key_len);
    return c ? c : kinagg__enc_compare(a->val, a->val_len, b->val, b->val_len);
}

/* Canonical query: params sorted by encoded key, then value. Selection by
 * repeated minimum (queries are short); equal params are all emitted, in
 * order, by counting how many of the current value were seen. */
static void kinagg__canonical_query(kinagg__sink *s, kinagg_str q) {
    kinagg__param prev, cand, best;
    size_t pos, emitted_of_prev = 0, total = 0, done = 0;
    int have_prev = 0;
    KINAGG_MEMSET(&prev, 0, sizeof prev);
    KINAGG_MEMSET(&best, 0, sizeof best);
    pos = 0;
    while (kinagg__param_next(q, &pos, &cand)) total++;
    while (done < total) {
        int have_best = 0;
        size_t dup_index = 0, seen_equal = 0;
        pos = 0;
        /* first, another copy of prev if there are more of it */
        if (have_prev) {
            while (kinagg__param_next(q, &pos, &cand))
                if (kinagg__param_compare(&cand, &prev) == 0) seen_equal++;
            if (seen_equal > emitted_of_prev) {
                best = prev;
                have_best = 1;
                dup_index = emitted_of_prev + 1;
            }
        }
        if (!have_best) {
            pos = 0;
            while (kinagg__param_next(q, &pos, &cand)) {
                if (have_prev && kinagg__param_compare(&cand, &prev) <= 0) continue;
                if (!have_best || kinagg__param_compare(&cand, &best) < 0) { best = cand; have_best = 1; }
            }
            dup_index = 1;
        }
        if (done) kinagg__sink_byte(s, '&');
        kinagg__enc_emit(s, best.key, best.key_len);
        kinagg__sink_byte(s, '=');
        kinagg__enc_emit(s, best.val, best.val_len);
        prev = best;
        have_prev = 1;
        emitted_of_prev = dup_index;
        done++;
    }
}

/* Path segments: [*pos..) up to the next '/', after skipping one '/'. */
static int kinagg__seg_is(const char *p, size_t n, const char *what) {
    size_t i;
    for (i = 0; i < n; i++)
        if (what[i] != p[i]) return 0;
    return what[n] == '\0';
}

static void kinagg__emit_path_bytes(kinagg__sink *s, const char *p, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (kinagg__unreserved(c) || c == '/') {
            kinagg__sink_byte(s, (char)c);
        } else {
            char e[3];
            e[0] = '%'; e[1] = hex[c >> 4]; e[2] = hex[c & 15];
            kinagg__sink_put(s, e, 3);
        }
    }
}

/* Normalized path (RFC 3986 dot-segment removal, empty segments dropped).
 * Whether segment i survives depends on the ".." after it, so each segment
 * looks right to count them: quadratic in segments, no memory. */
static void kinagg__canonical_path(kinagg__sink *s, kinagg_str path, int normalize) {
    size_t i, start, kept = 0;
    int trailing = 0;
    if (path.len == 0) { kinagg__sink_byte(s, '/'); return; }
    if (!normalize) { kinagg__emit_path_bytes(s, path.ptr, path.len); return; }
    kinagg__sink_byte(s, '/');
    for (start = 0; start <= path.len;) {
        size_t end = start;
        while (end < path.len && path.ptr[end] != '/') end++;
        if (end > start && !kinagg__seg_is(path.ptr + start, end - start, ".") &&
            !kinagg__seg_is(path.ptr + start, end - start, "..")) {
            /* count the ".." to the right that are not used up by segments
             * between: this segment dies if one reaches it */
            long depth = 0;
            size_t j = end;
            int dies = 0;
            while (j < path.len) {
                size_t js = j + 1, je = js;
                while (je < path.len && path.ptr[je] != '/') je++;
                if (kinagg__seg_is(path.ptr + js, je - js, "..")) {
                    if (depth == 0) { dies = 1; break; }
                    depth--;
                } else if (je > js && !kinagg__seg_is(path.ptr + js, je - js, ".")) {
                    depth++;
                }
                j = je;
            }
            if (!dies) {
                if (kept++) kinagg__sink_byte(s, '/');
                kinagg__emit_path_bytes(s, path.ptr + start, end - start);
            }
        }
        start = end + 1;
    }
    /* keep a trailing slash: "/a/" and "/a/b/.." both mean a directory */
    i = path.len;
    if (path.ptr[i - 1] == '/') trailing = 1;
    else {
        size_t ls = i;
        while (ls > 0 && path.ptr[ls - 1] != '/') ls--;
        if (kinagg__seg_is(path.ptr + ls, i - ls, ".") || kinagg__seg_is(path.ptr + ls, i - ls, "..")) trailing = 1;
    }
    if (kept && trailing) kinagg__sink_byte(s, '/');
}

static char kinagg__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int kinagg__name_compare(kinagg_str a, kinagg_str b) {
    size_t i, n = a.len < b.len ? a.len : b.len;
    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)kinagg__lower(a.ptr[i]), y = (unsigned char)kinagg__lower(b.ptr[i]);
        if (x != y) return x < y ? -1 : 1;
    }
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static int kinagg__is_token(kinagg_str n) {
    size_t i;
    if (n.len == 0) return 0;
    for (i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char)n.ptr[i];
        if (c <= 32 || c >= 127 || c == ':' || c == '(' || c == ')' || c == ',' || c == '/' || c == ';' ||
            c == '<' || c == '=' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' || c == ']' ||
            c == '{' || c == '}' || c == '"')
            return 0;
    }
    return 1;
}

/* A header value trimmed, with each run of whitespace (line folds too) as
 * one space. */
static void kinagg__emit_value(kinagg__sink *s, kinagg_str v) {
    size_t i = 0, end = v.len;
    int space = 0;
    while (i < end && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == '\r' || v.ptr[i] == '\n')) i++;
    while (end > i && (v.ptr[end - 1] == ' ' || v.ptr[end - 1] == '\t' || v.ptr[end - 1] == '\r' ||
                       v.ptr[end - 1] == '\n'))
        end--;
    for (; i < end; i++) {
        char c = v.ptr[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { space = 1; continue; }
        if (space) { kinagg__sink_byte(s, ' '); space = 0; }
        kinagg__sink_byte(s, c);
    }
}

/* Visits distinct header names in sorted order; returns the index of the
 * first header with the next name after `prev` (or count when done). */
static size_t kinagg__next_header(const kinagg_sigv4_request *r, const kinagg_str *prev) {
    size_t i, best = r->header_count;
    for (i = 0; i < r->header_count; i++) {
        if (prev && kinagg__name_compare(r->headers[i].name, *prev) <= 0) continue;
        if (best == r->header_count || kinagg__name_compare(r->headers[i].name, r->headers[best].name) < 0)
            best = i;
    }
    return best;
}

static void kinagg__signed_headers(kinagg__sink *s, const kinagg_sigv4_request *r) {
    size_t h = kinagg__next_header(r, NULL), k;
    int first = 1;
    while (h < r->header_count) {
        if (!first) kinagg__sink_byte(s, ';');
        first = 0;
        for (k = 0; k < r->headers[h].name.len; k++) kinagg__sink_byte(s, kinagg__lower(r->headers[h].name.ptr[k]));
        h = kinagg__next_header(r, &r->headers[h].name);
    }
}

/* Bounded appender for the output header value. */
typedef struct kinagg__out {
    char *p;
    size_t cap, len;
} kinagg__out;
static void kinagg__out_put(kinagg__out *o, const char *p, size_t n) {
    if (o->len < o->cap && n < o->cap - o->len) KINAGG_MEMCPY(o->p + o->len, p, n);
    o->len += n;
}
static void kinagg__out_str(kinagg__out *o, kinagg_str s) { kinagg__out_put(o, s.ptr, s.len); }
static void kinagg__out_c(kinagg__out *o, const char *s) { kinagg__out_str(o, kinagg_str_c(s)); }

KINAGG_API void kinagg_sigv4_init(kinagg_sigv4_signer *signer, const kinagg_credentials *credentials) {
    KINAGG_MEMSET(signer, 0, sizeof *signer);
    signer->credentials = *credentials;
}

static void kinagg__signing_key(kinagg_sigv4_signer *sg, const kinagg_sigv4_request *r) {
    unsigned char tag[KINAGG_SHA256_SIZE], k[KINAGG_SHA256_SIZE];
    kinagg_sha256_ctx h;
    kinagg_hmac_sha256_ctx m;
    const kinagg_str *secret = &sg->credentials.secret_access_key;
    /* What the key depends on, hashed: a new secret, date, region or service
     * derives a new key. The zero bytes keep the fields apart. */
    kinagg_sha256_init(&h);
    kinagg_sha256_update(&h, secret->ptr, secret->len);
    kinagg_sha256_update(&h, "", 1);
    kinagg_sha256_update(&h, r->amz_date.ptr, 8);
    kinagg_sha256_update(&h, "", 1);
    kinagg_sha256_update(&h, r->region.ptr, r->region.len);
    kinagg_sha256_update(&h, "", 1);
    kinagg_sha256_update(&h, r->service.ptr, r->service.len);
    kinagg_sha256_final(&h, tag);
    if (sg->key_valid && KINAGG_MEMCMP(tag, sg->key_tag, sizeof tag) == 0) return;
    kinagg__hmac_init2(&m, "AWS4", 4, secret->ptr, secret->len);
    kinagg_hmac_sha256_update(&m, r->amz_date.ptr, 8);
    kinagg_hmac_sha256_final(&m, k);
    kinagg_hmac_sha256(k, sizeof k, r->region.ptr, r->region.len, k);
    kinagg_hmac_sha256(k, sizeof k, r->service.ptr, r->service.len, k);
    kinagg_hmac_sha256(k, sizeof k, "aws4_request", 12, sg->signing_key);
    KINAGG_MEMCPY(sg->key_tag, tag, sizeof tag);
    sg->key_valid = 1;
}

static int kinagg__amz_date_ok(kinagg_str d) {
    size_t i;
    if (d.len != 16 || d.ptr[8] != 'T' || d.ptr[15] != 'Z') return 0;
    for (i = 0; i < 15; i++)
        if (i != 8 && (d.ptr[i] < '0' || d.ptr[i] > '9')) return 0;
    return 1;
}

KINAGG_API kinagg_status kinagg_sigv4_sign(kinagg_sigv4_signer *signer, const kinagg_sigv4_request *r, char *out,
                                           size_t out_cap, size_t *out_len, kinagg_sigv4_trace *trace) {
    kinagg__sink canon, sts;
    kinagg__out o;
    unsigned char digest[KINAGG_SHA256_SIZE], sig[KINAGG_SHA256_SIZE];
    char hex[2 * KINAGG_SHA256_SIZE];
    size_t i, h;
    kinagg_hmac_sha256_ctx m;
    if (!signer || !r || !out || (r->header_count && !r->headers) || !kinagg__amz_date_ok(r->amz_date) ||
        !r->method.ptr || !r->region.len || !r->service.len || (!r->payload_sha256_hex && r->payload_len && !r->payload))
        return KINAGG_ERR_INVALID_ARGUMENT;
    for (i = 0; i < r->header_count; i++)
        if (!kinagg__is_token(r->headers[i].name)) return KINAGG_ERR_HEADER;
    if (r->payload_sha256_hex)
        for (i = 0; i < 64; i++)
            if (kinagg__hexval((unsigned char)r->payload_sha256_hex[i]) < 0) return KINAGG_ERR_INVALID_ARGUMENT;

    /* Canonical request */
    KINAGG_MEMSET(&canon, 0, sizeof canon);
    kinagg_sha256_init(&canon.hash);
    if (trace) { canon.copy = trace->canonical_request; canon.cap = trace->canonical_request_cap; }
    kinagg__sink_put(&canon, r->method.ptr, r->method.len);
    kinagg__sink_byte(&canon, '\n');
    kinagg__canonical_path(&canon, r->path, r->normalize_path);
    kinagg__sink_byte(&canon, '\n');
    kinagg__canonical_query(&canon, r->query);
    kinagg__sink_byte(&canon, '\n');
    for (h = kinagg__next_header(r, NULL); h < r->header_count; h = kinagg__next_header(r, &r->headers[h].name)) {
        int first = 1;
        for (i = 0; i < r->headers[h].name.len; i++) kinagg__sink_byte(&canon, kinagg__lower(r->headers[h].name.ptr[i]));
        kinagg__sink_byte(&canon, ':');
        for (i = h; i < r->header_count; i++) { /* repeated names: values joined in order */
            if (kinagg__name_compare(r->headers[i].name, r->headers[h].name) != 0) continue;
            if (!first) kinagg__sink_byte(&canon, ',');
            first = 0;
            kinagg__emit_value(&canon, r->headers[i].value);
        }
        kinagg__sink_byte(&canon, '\n');
    }
    kinagg__sink_byte(&canon, '\n');
    kinagg__signed_headers(&canon, r);
    kinagg__sink_byte(&canon, '\n');
    if (r->payload_sha256_hex) {
        for (i = 0; i < 64; i++) hex[i] = kinagg__lower(r->payload_sha256_hex[i]);
    } else {
        kinagg_sha256(r->payload ? r->payload : "", r->payload_len, digest);
        kinagg_hex(digest, sizeof digest, hex);
    }
    kinagg__sink_put(&canon, hex, 64);
    kinagg_sha256_final(&canon.hash, digest);
    if (canon.overflow) return KINAGG_ERR_BUFFER_TOO_SMALL;
    if (trace && trace->canonical_request) {
        trace->canonical_request[canon.len] = '\0';
        trace->canonical_request_len = canon.len;
    }

    /* String to sign, hashed by HMAC with the signing key as it is made */
    kinagg__signing_key(signer, r);
    KINAGG_MEMSET(&sts, 0, sizeof sts);
    kinagg_sha256_init(&sts.hash);
    if (trace) { sts.copy = trace->string_to_sign; sts.cap = trace->string_to_sign_cap; }
    kinagg_hmac_sha256_init(&m, signer->signing_key, sizeof signer->signing_key);
    {
        char line[256];
        kinagg__out l;
        l.p = line; l.cap = sizeof line; l.len = 0;
        kinagg__out_c(&l, "AWS4-HMAC-SHA256\n");
        kinagg__out_str(&l, r->amz_date);
        kinagg__out_c(&l, "\n");
        kinagg__out_put(&l, r->amz_date.ptr, 8);
        kinagg__out_c(&l, "/");
        kinagg__out_str(&l, r->region);
        kinagg__out_c(&l, "/");
        kinagg__out_str(&l, r->service);
        kinagg__out_c(&l, "/aws4_request\n");
        if (l.len >= l.cap) return KINAGG_ERR_INVALID_ARGUMENT; /* absurd region or service */
        kinagg_hex(digest, sizeof digest, hex);
        kinagg__out_put(&l, hex, 64);
        if (l.len >= l.cap) return KINAGG_ERR_INVALID_ARGUMENT;
        kinagg__sink_put(&sts, line, l.len);
        kinagg_hmac_sha256_update(&m, line, l.len);
    }
    kinagg_hmac_sha256_final(&m, sig);
    if (sts.overflow) return KINAGG_ERR_BUFFER_TOO_SMALL;
    if (trace && trace->string_to_sign) {
        trace->string_to_sign[sts.len] = '\0';
        trace->string_to_sign_len = sts.len;
    }
    kinagg_hex(sig, sizeof sig, hex);
    if (trace) {
        KINAGG_MEMCPY(trace->signature_hex, hex, 64);
        trace->signature_hex[64] = '\0';
    }

    /* Authorization value */
    o.p = out; o.cap = out_cap; o.len = 0;
    kinagg__out_c(&o, "AWS4-HMAC-SHA256 Credential=");
    kinagg__out_str(&o, signer->credentials.access_key_id);
    kinagg__out_c(&o, "/");
    kinagg__out_put(&o, r->amz_date.ptr, 8);
    kinagg__out_c(&o, "/");
    kinagg__out_str(&o, r->region);
    kinagg__out_c(&o, "/");
    kinagg__out_str(&o, r->service);
    kinagg__out_c(&o, "/aws4_request, SignedHeaders=");
    {
        kinagg__sink sh;
        KINAGG_MEMSET(&sh, 0, sizeof sh);
        kinagg_sha256_init(&sh.hash); /* unused hash; the sink copies */
        sh.copy = o.len < o.cap ? out + o.len : NULL;
        sh.cap = o.len < o.cap ? o.cap - o.len : 0;
        kinagg__signed_headers(&sh, r);
        if (sh.overflow || !sh.copy) o.len = o.cap; /* force the size error below */
        else o.len += sh.len;
    }
    kinagg__out_c(&o, ", Signature=");
    kinagg__out_put(&o, hex, 64);
    if (o.len >= o.cap) {
        if (out_cap) out[0] = '\0';
        return KINAGG_ERR_BUFFER_TOO_SMALL;
    }
    out[o.len] = '\0';
    if (out_len) *out_len = o.len;
    return KINAGG_OK;
}

KINAGG_API void kinagg_sigv4_amz_date(uint64_t t, char out[17]) {
    /* days to civil date: Howard Hinnant's algorithm, for dates from 1970 */
    uint64_t days = t / 86400, secs = t % 86400, z = days + 719468, era = z / 146097;
    uint64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    uint64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    unsigned v[6];
    int i, w[6] = {4, 2, 2, 2, 2, 2};
    char *p = out;
    if (m <= 2) y++;
    v[0] = (unsigned)(y % 10000); v[1] = (unsigned)m; v[2] = (unsigned)d;
    v[3] = (unsigned)(secs / 3600); v[4] = (unsigned)(secs / 60 % 60); v[5] = (unsigned)(secs % 60);
    for (i = 0; i < 6; i++) {
        int k;
        if (i == 3) *p++ = 'T';
        for (k = w[i] - 1; k >= 0; k--) {
            p[k] = (char)('0' + v[i] % 10);
            v[i] /= 10;
        }
        p += w[i];
    }
    *p++ = 'Z';
    *p = '\0';
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
MIT License

Copyright (c) 2026 The kinagg authors

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
