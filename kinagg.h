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
 *   8. Transport     the port's connection callbacks, clock and randomness
 *   9. HTTP/1.1      client on caller buffers: streamed bodies, keep-alive
 *  10. Kinesis       PutRecords, ListShards and more, in JSON or CBOR
 *  11. Producer      put and forget: shard-aware aggregation, retries, limits
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
 * KINAGG_SMALL          favour code size over speed: the two options below
 *                       default to 0; hashing, the chunked-body decoder and
 *                       the signer's texts go a byte at a time, and 64-bit
 *                       quotients a bit at a time; and the
 *                       four memory functions not replaced are the
 *                       library's own byte loops (smaller than newlib's:
 *                       make size shows the producer with either).
 *                       Defined by itself when compiling for size (-Os),
 *                       unless KINAGG_FAST is defined.
 * KINAGG_LIBC_MEMORY    with KINAGG_SMALL, use <string.h>'s memory functions
 *                       all the same: faster, and about the same size when
 *                       the firmware links them anyway (make size).
 * KINAGG_FAST_CRYPTO    1: MD5 and SHA-256 with their rounds written out,
 *                       base64 by blocks with tables (about 5 KB more code
 *                       on Thumb-2); 0: compact loops. Default 1.
 * KINAGG_AGG_INDEX      1: the aggregator's key index (kinagg_agg_set_index);
 *                       0: that call ignores its scratch. Default 1.
 * KINAGG_NO_SHA256_HW   do not use the CPU's SHA-256 instructions, which are
 *                       otherwise used whenever the compiler targets them:
 *                       x86 SHA extensions with SSE4.1 (-msha -msse4.1,
 *                       -march=native), ARMv8 crypto (-march=armv8-a+crypto).
 * KINAGG_NO_CBOR        one wire protocol only, JSON: the CBOR request
 *                       writer and response reader are left out.
 * KINAGG_NO_JSON        one wire protocol only, CBOR: the JSON writer and
 *                       reader are left out (JSON numbers inside CBOR
 *                       strings are still read). Not with KINAGG_NO_CBOR.
 *                       With either, KINAGG_PROTOCOL_DEFAULT is the protocol
 *                       left; asking for the other one (kinagg_kinesis_init,
 *                       kinagg_producer_init) is KINAGG_ERR_INVALID_ARGUMENT,
 *                       and kinagg_put_records_body_size gives 0 for it. An
 *                       error response in the other protocol is read by its
 *                       status and x-amzn-ErrorType header only.
 * KINAGG_NO_READ        a producer-only build: no GetShardIterator,
 *                       GetRecords, DescribeStreamSummary or CreateStream
 *                       (they are not declared), nor the response parsing
 *                       only they need (record data, times). PutRecords and
 *                       ListShards stay. The deaggregator stays: it is not a
 *                       Kinesis call, and unused it links to nothing.
 * KINAGG_SIGV4_SIMPLE_PATH
 *                       a signer for paths that need no normalization nor
 *                       encoding, as Kinesis's POST / with no query: the
 *                       path must be empty or "/" followed by segments of
 *                       unreserved characters (A-Z a-z 0-9 - . _ ~), none
 *                       empty, "." or "..", and the query empty; any other
 *                       request is KINAGG_ERR_INVALID_ARGUMENT. The query
 *                       sorting and encoding and the dot-segment removal are
 *                       left out; signatures are unchanged.
 * KINAGG_NO_SHARD_MAP   a producer that never calls ListShards: it works
 *                       as with no_shard_map 1 whatever the configuration
 *                       says, aggregating only records with the same hash
 *                       key (all of a device's records when it uses one
 *                       partition key) and applying no per-shard rate
 *                       limit. max_shards is ignored and the shard tables
 *                       and ListShards paging token take no memory.
 * KINAGG_NO_CREDENTIALS_SOURCE
 *                       a producer with credentials given at init or by
 *                       kinagg_producer_set_credentials only: a
 *                       configuration with credentials_source.get set is
 *                       KINAGG_ERR_INVALID_ARGUMENT.
 * KINAGG_NO_ERROR_TEXT  no English text: kinagg_strerror gives the status
 *                       number as decimal text ("12"), the producer keeps
 *                       no last error line (kinagg_producer_last_error is
 *                       ""; stats.errors still counts), and completions
 *                       carry the service's error codes and messages only.
 * KINAGG_HTTP_MAX_HEADERS
 *                       header lines of a response kept, default 32; the
 *                       last 6 places are for the ones kinagg reads
 *                       (framing, Date, Content-Type, x-amzn-ErrorType):
 *                       other lines past them are checked and dropped.
 * KINAGG_PRODUCER_MAX_CONNECTIONS
 *                       connections a producer may have, default 8; with 1
 *                       the loops over them are constants.
 * KINAGG_PRODUCER_CREDENTIALS_MAX
 *                       a producer's room for credentials (section 11).
 * KINAGG_PRODUCER_SHARD_ID_MAX
 *                       bytes a producer keeps of a shard id, NUL included,
 *                       default 32 (Kinesis's ids have 20 characters; the
 *                       API allows 128): a stream with a longer id is
 *                       written to without a shard map.
 */
#if defined(KINAGG_NO_CBOR) && defined(KINAGG_NO_JSON)
#error "kinagg.h: KINAGG_NO_CBOR and KINAGG_NO_JSON leave no wire protocol"
#endif
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
    KINAGG_PENDING,               /* not an error: in progress, poll again */
    KINAGG_ERR_CONNECT,           /* could not connect (refused, DNS, reset) */
    KINAGG_ERR_TLS,               /* TLS failed: certificate or handshake */
    KINAGG_ERR_TIMEOUT,           /* connect, send or receive took too long */
    KINAGG_ERR_CLOSED,            /* the peer closed before the response ended */
    KINAGG_ERR_IO,                /* the connection failed while in use */
    KINAGG_ERR_HTTP_PARSE,        /* malformed HTTP response */
    KINAGG_ERR_RESPONSE_TOO_LARGE,/* response larger than the receive buffer */
    KINAGG_ERR_JSON,              /* malformed or unexpected JSON response */
    KINAGG_ERR_CBOR,              /* malformed or unexpected CBOR response */
    KINAGG_ERR_SERVICE,           /* the service returned an error: see its type */
    KINAGG_ERR_CLOCK_SKEW,        /* the service rejected our time; corrected */
    KINAGG_ERR_ENDPOINT,          /* endpoint URL or region not usable */
    KINAGG_ERR_FULL,              /* the producer's buffer is full: poll, retry */
    KINAGG_ERR_EXPIRED,           /* the record's time to live ran out */
    KINAGG_ERR_ABANDONED,         /* the caller gave the record up (abandon) */
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

/* The built-in contexts share the place of their first two fields, so that
 * one body of code serves both hashes. */
typedef struct kinagg_md5_ctx {
#ifdef KINAGG_USE_MBEDTLS
    mbedtls_md5_context mbed;
#else
    uint64_t total;
    unsigned char block[64];
    uint32_t state[4];
#endif
} kinagg_md5_ctx;

typedef struct kinagg_sha256_ctx {
#ifdef KINAGG_USE_MBEDTLS
    mbedtls_sha256_context mbed;
#else
    uint64_t total;
    unsigned char block[64];
    uint32_t state[8];
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
 * records after a gap, oldest first. Finish closes the gap with one move of
 * the records (a record is moved before that only if the tables outgrow the
 * gap or the records reach the end of the buffer, rarely) and writes the MD5.
 *
 * Finding whether a key is already in the aggregate scans its table unless
 * the aggregate has an index (kinagg_agg_set_index): then an add costs time
 * in proportion to the key's length only. */

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
    size_t records_start;  /* offset of the record entries from buf */
    size_t records_len;    /* their bytes */
    size_t record_count;
    size_t pk_count;
    size_t ehk_count;
    size_t last_pk_index;  /* cache: the key of the previous add */
    size_t last_pk_offset; /* its entry's offset from buf (0: none) */
    uint32_t *index;       /* optional key index: 2 words a slot (see set_index) */
    size_t index_slots;
    size_t index_keys;     /* keys in the index, of both tables */
    size_t pk_indexed, ehk_indexed;         /* each table's first entries are */
    size_t pk_indexed_len, ehk_indexed_len; /* in the index: count, bytes */
    int finished;
} kinagg_agg;

/* Start an aggregate in buf. limits may be NULL for the defaults. A buffer
 * of max_record_size bytes can always hold a full aggregate. Kept, not
 * copied (it must outlive the aggregate): buf. */
KINAGG_API kinagg_status kinagg_agg_init(kinagg_agg *agg, void *buf, size_t cap,
                                         const kinagg_agg_limits *limits);

/* Optional, after kinagg_agg_init: n words of scratch for a hash index of
 * the key tables, so that an add no longer scans them. Keys added before
 * the call are indexed too; kinagg_agg_reset keeps the index (and clears
 * it, n words). Each key takes 2 words; the index holds at most 3/8 n keys
 * (both tables together), and keys beyond that are found by scanning only
 * the part of their table not indexed. A NULL scratch or n < 2 removes the
 * index. The output is the same with or without one. Built with
 * KINAGG_AGG_INDEX 0 (KINAGG_SMALL), this does nothing. */
KINAGG_API void kinagg_agg_set_index(kinagg_agg *agg, uint32_t *scratch, size_t n);

/* Words of index scratch to hold `keys` distinct keys (partition keys and
 * explicit hash keys together) at a low load, e.g. the size of the key pool
 * a producer draws from. */
#define KINAGG_AGG_INDEX_WORDS(keys) (4 * (size_t)(keys) + 4)

/* The most distinct keys an aggregate of max_record_size bytes can hold: a
 * new partition key costs at least 9 bytes with its record, a new explicit
 * hash key 5 more. KINAGG_AGG_INDEX_WORDS(KINAGG_AGG_KEYS_MAX(size)) is an
 * index that never fills, whatever the records. */
#define KINAGG_AGG_KEYS_MAX(max_record_size) ((size_t)(max_record_size) / 7 + 1)

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

/* Write the aggregate out: *out is the start of the caller's buffer, *out_len is
 * kinagg_agg_size(). Calling it again returns the same bytes. An aggregate of
 * zero records is refused (KINAGG_ERR_STATE, nothing written): the KCL and
 * the other deaggregators would hand its 20 bytes to consumers as data. */
KINAGG_API kinagg_status kinagg_agg_finish(kinagg_agg *agg, const unsigned char **out, size_t *out_len);

/* Empty the aggregate to build a new one in the same buffer. */
KINAGG_API void kinagg_agg_reset(kinagg_agg *agg);

/* ======================================================================== */
/* 6. Deaggregator                                                          */
/* ======================================================================== */
/* Iterates the user records of one Kinesis record, pointing into its bytes.
 * As the KCL does, input that lacks the magic, has no more than 16 bytes
 * after it (so a 20-byte "empty aggregate" too), fails the MD5 or does not
 * parse as an AggregatedRecord (bad protobuf, a missing required field) is
 * one plain record: the iterator yields it once, with no partition key of
 * its own. Three differences, on purpose (docs/format.md): a table index
 * out of range makes the input one plain record, where the KCL yields the
 * records before the bad one and drops the rest; so does an index of 2^32
 * or more, where the KCL takes its low 32 bits; and the records are yielded
 * whatever shard they were read from (kinagg_hash_key_in_range applies the
 * KCL's shard rule). Never reads outside the input, whatever it holds. */

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
 * is known before the first record is yielded. Kept, not copied (it must
 * outlive the iterator and the records it yields): data. */
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
 * date, region and service and cached in the signer (with KINAGG_SMALL,
 * derived for each signature). */

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

/* Set up a signer. Kept, not copied (they must outlive the signer): the
 * credentials' strings. The kinagg_credentials struct itself is copied. */
KINAGG_API void kinagg_sigv4_init(kinagg_sigv4_signer *signer, const kinagg_credentials *credentials);

/* Sign: writes the Authorization header value (NUL-terminated) into out and
 * its length into *out_len. trace may be NULL. Errors: INVALID_ARGUMENT
 * (bad date, NULL; with KINAGG_SIGV4_SIMPLE_PATH, a query or a path that
 * needs normalizing or encoding), HEADER (a header name outside the HTTP token set),
 * BUFFER_TOO_SMALL (out or a trace buffer). */
KINAGG_API kinagg_status kinagg_sigv4_sign(kinagg_sigv4_signer *signer, const kinagg_sigv4_request *request,
                                           char *out, size_t out_cap, size_t *out_len,
                                           kinagg_sigv4_trace *trace);

/* Seconds since 1970-01-01 UTC to "YYYYMMDDTHHMMSSZ" (16 chars + NUL). */
KINAGG_API void kinagg_sigv4_amz_date(uint64_t unix_seconds, char out[17]);


/* ======================================================================== */
/* 8. Transport                                                             */
/* ======================================================================== */
/* How bytes move: the port supplies these callbacks (port/ has POSIX
 * sockets, lwIP sockets and mbedTLS TLS on top of either). A call may block
 * or not, as the port chooses; the HTTP client works either way and never
 * blocks by itself. Every call says plainly what happened, so "no data yet"
 * is never mistaken for "closed". */

typedef enum kinagg_io {
    KINAGG_IO_OK = 0,   /* done: connected, or some bytes moved */
    KINAGG_IO_AGAIN,    /* nothing yet: call again when ready */
    KINAGG_IO_CLOSED,   /* the peer closed the connection */
    KINAGG_IO_ERROR,    /* the connection failed (reset, unreachable, DNS) */
    KINAGG_IO_TLS_ERROR /* TLS failed (certificate, handshake) */
} kinagg_io;

#define KINAGG_WAIT_READ 1u
#define KINAGG_WAIT_WRITE 2u

typedef struct kinagg_transport {
    void *ctx;
    /* Start or continue connecting; OK once connected. host is NUL-ended. */
    kinagg_io (*connect)(void *ctx, const char *host, uint16_t port);
    /* OK with *sent > 0 bytes taken, or AGAIN / CLOSED / ERROR. */
    kinagg_io (*send)(void *ctx, const unsigned char *data, size_t len, size_t *sent);
    /* OK with *received > 0 bytes, or AGAIN / CLOSED / ERROR. */
    kinagg_io (*recv)(void *ctx, unsigned char *buf, size_t cap, size_t *received);
    /* Drop whatever is held: a connection, a connect under way (its time ran
     * out), or nothing (init calls it first, for a transport still holding
     * a producer's old connection); connect may be called again after. */
    void (*close)(void *ctx);
    /* Optional: block until the connection is ready for events (OK) or
     * timeout_ms passes (AGAIN); only the blocking helpers and
     * kinagg_producer_wait use it (NULL: they spin). */
    kinagg_io (*wait)(void *ctx, unsigned events, uint32_t timeout_ms);
    /* Optional: a short text on the last failure, for error messages. It
     * must stay valid after close (keep it in ctx): the client reads it
     * after closing the failed connection, and so may its caller. */
    const char *(*error)(void *ctx);
} kinagg_transport;

/* Time and randomness, from the port. now_ms is monotonic; unix_ms is the
 * wall clock (UTC) for signatures; random feeds retry jitter. */
typedef struct kinagg_platform {
    void *ctx;
    uint64_t (*now_ms)(void *ctx);
    uint64_t (*unix_ms)(void *ctx);
    uint32_t (*random)(void *ctx);
    void (*sleep_ms)(void *ctx, uint32_t ms); /* optional: kinagg_producer_wait (and so flush)
                                               * idles with it while no request is under way;
                                               * NULL: they return at once (the caller's loop spins) */
} kinagg_platform;

/* ======================================================================== */
/* 9. HTTP/1.1 client                                                       */
/* ======================================================================== */
/* One request at a time on one connection, kept alive between requests.
 * The request head is formatted into the send buffer at once; the body is
 * pulled from a kinagg_body in pieces as the connection takes it, so a
 * 5 MiB request never needs a 5 MiB copy. The response (head and body) is
 * kept in the receive buffer; a chunked body is decoded in place. */

#ifndef KINAGG_HTTP_MAX_HEADERS
#define KINAGG_HTTP_MAX_HEADERS 32
#endif

/* A body produced in pieces. read fills out with up to cap bytes and returns
 * how many (0 at the end); rewind starts it again from the first byte. It
 * must give the same bytes every time: the signer hashes it in a first pass. */
typedef struct kinagg_body {
    void *ctx;
    void (*rewind)(void *ctx);
    size_t (*read)(void *ctx, unsigned char *out, size_t cap);
} kinagg_body;

typedef struct kinagg_http_response {
    int status;                 /* e.g. 200 */
    int version_minor;          /* HTTP/1.x */
    kinagg_str reason;
    size_t header_count;
    unsigned char *body;        /* inside the receive buffer */
    size_t body_len;
    int keep_alive;             /* the connection may carry another request */
    kinagg_http_header headers[KINAGG_HTTP_MAX_HEADERS];
} kinagg_http_response;

typedef struct kinagg_http_client {
    kinagg_transport transport;
    unsigned char *send_buf;
    size_t send_cap;
    unsigned char *recv_buf;
    size_t recv_cap;
    uint32_t connect_timeout_ms; /* default 5000 */
    uint32_t send_timeout_ms;    /* longest the request's sending makes no progress;
                                  * default 10000 */
    uint32_t recv_timeout_ms;    /* whole response after the request; default 10000 */
    size_t send_budget;          /* body bytes one poll may send; 0 (default): no bound */
    size_t sent_in_poll;         /* body bytes the last poll sent */
    /* internal state; the most used first (within 128 bytes of the start,
     * where a Cortex-M reaches a field with a 2-byte instruction) */
    size_t raw_end, raw_pos, dec_end, resp_head_len; /* resp_head_len: 0 until the head is in */
    size_t chunk_size;
    int state, framing, connected, chunk_state;
    size_t head_len, chunk_len, chunk_sent;
    unsigned chunk_has_digit;    /* the chunk size line has a digit */
    size_t body_sent;
    int reused;                  /* on a kept-alive connection, not yet retried */
    int send_failed;             /* the kinagg_io sending failed with, whose answer is read */
    const kinagg_body *body;
    size_t body_len;
    uint16_t port;
    uint64_t deadline;
    unsigned long requests, connections; /* counters */
    int resent;                  /* the request was sent again on a new connection: the
                                  * kept-alive one closed without an answer after it was
                                  * sent (it may have been applied: a PutRecords may
                                  * duplicate) */
    kinagg_http_response response;
    const char *error_detail;    /* the transport's text for the last failure (after response: cleared with it) */
    char host[256];              /* internal */
} kinagg_http_client;

/* Set up a client on a transport and two caller buffers: the send buffer
 * (512 bytes at least, holds the request head) and the receive buffer
 * (holds the whole response). Timeouts take their defaults. Kept, not
 * copied (they must outlive the client): the two buffers and the
 * transport's context; the kinagg_transport struct itself is copied. */
KINAGG_API void kinagg_http_init(kinagg_http_client *c, const kinagg_transport *transport, void *send_buf,
                                 size_t send_cap, void *recv_buf, size_t recv_cap);

/* Start a request. target is the request target ("/" or "/path?query").
 * The headers, host and target are copied now; Content-Length is added from
 * body_len, and Host from host. Kept, not copied (it must outlive the
 * request): body, which may be NULL for none. Reuses the open connection
 * when it is to the same host and port. */
KINAGG_API kinagg_status kinagg_http_begin(kinagg_http_client *c, const char *host, uint16_t port,
                                           kinagg_str method, kinagg_str target, const kinagg_http_header *headers,
                                           size_t header_count, const kinagg_body *body, size_t body_len,
                                           uint64_t now_ms);

/* Make progress without waiting. Returns KINAGG_OK when the response is
 * complete (in c->response), KINAGG_PENDING when it needs to be called
 * again (when *wait_events are ready, and by *wake_ms at the latest), or an
 * error: CONNECT, TLS, TIMEOUT, CLOSED (peer closed early), IO,
 * HTTP_PARSE (malformed response), RESPONSE_TOO_LARGE. After an error the
 * connection is closed. */
KINAGG_API kinagg_status kinagg_http_poll(kinagg_http_client *c, uint64_t now_ms, unsigned *wait_events,
                                          uint64_t *wake_ms);

/* Poll until done, waiting with the transport's wait between steps. */
KINAGG_API kinagg_status kinagg_http_run(kinagg_http_client *c, const kinagg_platform *platform);

/* Drop the connection (the next request opens a new one). */
KINAGG_API void kinagg_http_close(kinagg_http_client *c);

/* A response header's value by case-insensitive name, or NULL. */
KINAGG_API const kinagg_str *kinagg_http_header_get(const kinagg_http_response *r, const char *name);

/* Parse a response head from buf[0, len) (stateless, like picohttpparser).
 * Returns the head's length with *r filled (body not set), 0 if the head is
 * incomplete, or (size_t)-1 if it is malformed or has more header lines
 * kinagg reads than it keeps (KINAGG_HTTP_MAX_HEADERS says which it keeps). */
KINAGG_API size_t kinagg_http_parse_head(const unsigned char *buf, size_t len, kinagg_http_response *r);

/* ======================================================================== */
/* 10. Kinesis                                                              */
/* ======================================================================== */
/* The Kinesis Data Streams API over the HTTP client: PutRecords and
 * ListShards for producers; GetShardIterator, GetRecords,
 * DescribeStreamSummary and CreateStream for tools and tests. Both wire
 * protocols: JSON 1.1 (data in base64) and CBOR 1.1 (data as raw bytes).
 * Requests are generated as they are sent; responses are parsed in the
 * receive buffer, and results point into it until the next request.
 * Responses are read as the AWS SDKs read them: null members are absent,
 * unknown members are skipped, numbers and CBOR items may take any form
 * (docs/kinesis.md, "Responses"). */

typedef enum kinagg_protocol { KINAGG_PROTOCOL_JSON = 0, KINAGG_PROTOCOL_CBOR = 1 } kinagg_protocol;
/* The protocol of a build with one (KINAGG_NO_JSON: CBOR), else JSON. */
#ifdef KINAGG_NO_JSON
#define KINAGG_PROTOCOL_DEFAULT KINAGG_PROTOCOL_CBOR
#else
#define KINAGG_PROTOCOL_DEFAULT KINAGG_PROTOCOL_JSON
#endif

typedef struct kinagg_endpoint {
    char host[256];
    uint16_t port;
    int tls;
} kinagg_endpoint;

/* "https://host[:port][/]", "http://127.0.0.1:4567", "[::1]:..." hosts too. */
KINAGG_API kinagg_status kinagg_endpoint_from_url(kinagg_endpoint *ep, kinagg_str url);
/* kinesis.REGION.amazonaws.com (.amazonaws.com.cn in China), https. */
KINAGG_API kinagg_status kinagg_endpoint_from_region(kinagg_endpoint *ep, kinagg_str region);

/* A stream is named by StreamName or StreamARN; give one of them. */
typedef struct kinagg_stream_ref {
    kinagg_str name;
    kinagg_str arn;
} kinagg_stream_ref;

/* One PutRecords entry: a raw user record, or an aggregate with its outer
 * partition key (and usually an explicit hash key). */
typedef struct kinagg_put_entry {
    const unsigned char *data;
    size_t data_len;
    kinagg_str partition_key;
    kinagg_str explicit_hash_key; /* empty: none */
} kinagg_put_entry;

typedef struct kinagg_put_result {
    kinagg_str shard_id;        /* on success */
    kinagg_str sequence_number;
    kinagg_str error_code;      /* on failure: e.g. ProvisionedThroughputExceededException */
    kinagg_str error_message;
} kinagg_put_result;

/* A PutRecords request being sent. Kept, not copied (they must outlive the
 * call): this struct and the entries with their data and strings. The body
 * is generated into the send buffer as it is read: no copy of it here. */
typedef struct kinagg_put_request {
    kinagg_stream_ref stream;
    const kinagg_put_entry *entries;
    size_t count;
    kinagg_protocol protocol;
    /* generator state */
    kinagg_body body;
    size_t entry, part, offset, pos;
} kinagg_put_request;

/* (internal) A member of a small request body: a string or a number. */
typedef struct kinagg__field {
    const char *key;
    kinagg_str str; /* used when str.ptr is set */
    uint64_t num;
    int time_ms;    /* num is a time, ms since the epoch */
} kinagg__field;

typedef struct kinagg_kinesis {
    kinagg_http_client http;
    kinagg_sigv4_signer signer;
    kinagg_endpoint endpoint;
    kinagg_platform platform;
    char region[64];
    kinagg_protocol protocol;
    int64_t clock_offset_ms;    /* added to unix_ms: learnt from Date headers */
    int64_t last_skew_ms;       /* server Date minus local time, last response */
    /* the last request-level error, when a call returns KINAGG_ERR_SERVICE */
    int http_status;
    char error_type[96];        /* e.g. "ResourceNotFoundException" */
    char error_message[256];
    /* the body of a call other than PutRecords: made from its members as it
     * is read (their strings are the caller's, or in the receive buffer, and
     * stay until the response arrives) */
    kinagg__field small_fields[4];
    size_t small_count, small_pos;
    kinagg_body small_source;
    kinagg_put_request put;         /* for the blocking kinagg_put_records */
    /* Bytes one kinagg_kinesis_poll may hash or send (0, the default: no
     * bound). With a bound, the body's hash for the signature and the send
     * proceed across polls, so no poll stalls on a large request. For
     * poll-driven callers only: the blocking forms need it 0. */
    size_t work_budget;
    size_t work_done;               /* bytes the last kinagg_kinesis_poll hashed or sent */
    /* a call whose body is still being hashed */
    const char *prep_operation;
    const kinagg_body *prep_body;
    size_t prep_len;
    int preparing;
    kinagg_sha256_ctx prep_hash;
} kinagg_kinesis;

/* Set up a client. The endpoint says where to connect; region is what gets
 * signed. The transport must speak TLS when endpoint->tls is set (wrap it
 * with the mbedTLS port). Copied: the endpoint, the region and the structs
 * of credentials, transport and platform. Kept, not copied (they must
 * outlive the client): the credentials' strings, the two buffers and the
 * transport's and platform's contexts. (The producer copies the strings
 * too, so its callers may free theirs.) */
KINAGG_API kinagg_status kinagg_kinesis_init(kinagg_kinesis *k, const kinagg_endpoint *endpoint, kinagg_str region,
                                             const kinagg_credentials *credentials, kinagg_protocol protocol,
                                             const kinagg_transport *transport, const kinagg_platform *platform,
                                             void *send_buf, size_t send_cap, void *recv_buf, size_t recv_cap);





/* Bytes a PutRecords request body will have (to size limits and buffers);
 * 0 for a protocol left out of the build (KINAGG_NO_CBOR, KINAGG_NO_JSON). */
KINAGG_API size_t kinagg_put_records_body_size(kinagg_protocol protocol, kinagg_stream_ref stream,
                                               const kinagg_put_entry *entries, size_t count);

/* The calls come in two forms: _begin + kinagg_kinesis_poll + _finish for
 * poll-driven callers, and a blocking one-call form built on them. Each
 * returns KINAGG_ERR_SERVICE for a request-level AWS error (its type and
 * message are in k->error_type, k->error_message; k->http_status), and
 * KINAGG_ERR_CLOCK_SKEW when the service rejected the time (the clock
 * offset is then corrected: retrying will do). */
KINAGG_API kinagg_status kinagg_put_records_begin(kinagg_kinesis *k, kinagg_put_request *req,
                                                  kinagg_stream_ref stream, const kinagg_put_entry *entries,
                                                  size_t count);
KINAGG_API kinagg_status kinagg_kinesis_poll(kinagg_kinesis *k, unsigned *wait_events, uint64_t *wake_ms);
/* results[count]; *failed is FailedRecordCount. */
KINAGG_API kinagg_status kinagg_put_records_finish(kinagg_kinesis *k, kinagg_put_result *results, size_t count,
                                                   size_t *failed);
KINAGG_API kinagg_status kinagg_put_records(kinagg_kinesis *k, kinagg_stream_ref stream,
                                            const kinagg_put_entry *entries, size_t count,
                                            kinagg_put_result *results, size_t *failed);

#define KINAGG_SHARD_ID_MAX 129 /* the API's 128 characters and a NUL */
typedef struct kinagg_shard {
    char shard_id[KINAGG_SHARD_ID_MAX];
    char parent_shard_id[KINAGG_SHARD_ID_MAX];          /* "" if none */
    char adjacent_parent_shard_id[KINAGG_SHARD_ID_MAX]; /* "" if none */
    kinagg_hash_key start, end;                         /* inclusive */
    int open;                   /* no EndingSequenceNumber: still written to */
} kinagg_shard;

/* ListShards, all pages: fills shards[0..*count). More shards than cap is
 * KINAGG_ERR_BUFFER_TOO_SMALL, with *count the shards listed; so is a shard
 * id longer than KINAGG_SHARD_ID_MAX - 1 (the API's limit), with *count not
 * above cap (a larger table does not help). page_size is MaxResults (0:
 * 1000). */
KINAGG_API kinagg_status kinagg_list_shards(kinagg_kinesis *k, kinagg_stream_ref stream, kinagg_shard *shards,
                                            size_t cap, size_t *count, unsigned page_size);
/* One page; next_token in and out ("" for the first page and at the end). */
KINAGG_API kinagg_status kinagg_list_shards_page(kinagg_kinesis *k, kinagg_stream_ref stream, char *next_token,
                                                 size_t token_cap, kinagg_shard *shards, size_t cap, size_t *count,
                                                 unsigned page_size);

/* Index of the shard whose range holds hash key, or (size_t)-1. Closed
 * shards are skipped when open_only. */
KINAGG_API size_t kinagg_shard_find(const kinagg_shard *shards, size_t count, const kinagg_hash_key *key,
                                    int open_only);

#ifndef KINAGG_NO_READ
/* For tools and tests. type: "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER"
 * or "AFTER_SEQUENCE_NUMBER" (then sequence_number), or "AT_TIMESTAMP" (then
 * sequence_number holds the time instead: milliseconds since the epoch, in
 * decimal). */
KINAGG_API kinagg_status kinagg_get_shard_iterator(kinagg_kinesis *k, kinagg_stream_ref stream, kinagg_str shard_id,
                                                   kinagg_str type, kinagg_str sequence_number, char *iterator,
                                                   size_t iterator_cap);

typedef struct kinagg_record {
    kinagg_str sequence_number;
    kinagg_str partition_key;
    const unsigned char *data;  /* decoded, inside the receive buffer */
    size_t data_len;
    uint64_t arrival_ms;        /* ApproximateArrivalTimestamp */
} kinagg_record;

/* GetRecords: up to cap records (limit = cap). *next_iterator is "" when the
 * shard is closed and read to its end. */
KINAGG_API kinagg_status kinagg_get_records(kinagg_kinesis *k, const char *iterator, kinagg_record *records,
                                            size_t cap, size_t *count, char *next_iterator, size_t next_cap,
                                            uint64_t *millis_behind);

/* DescribeStreamSummary: the stream's status ("ACTIVE", ...) and open shards
 * (0 when the response has no OpenShardCount). */
KINAGG_API kinagg_status kinagg_describe_stream_summary(kinagg_kinesis *k, kinagg_stream_ref stream, char *status,
                                                        size_t status_cap, unsigned *open_shards);

/* CreateStream with a shard count (provisioned mode). */
KINAGG_API kinagg_status kinagg_create_stream(kinagg_kinesis *k, kinagg_str name, unsigned shard_count);
#endif /* KINAGG_NO_READ */

/* Base64 (RFC 4648, with padding). encode returns the output length;
 * decode returns it too, or (size_t)-1 on bad input. Output may not overlap
 * input for encode; decode may run in place (out == in). */
KINAGG_API size_t kinagg_base64_encode(const unsigned char *in, size_t len, char *out);
KINAGG_API size_t kinagg_base64_decode(const char *in, size_t len, unsigned char *out);


/* ======================================================================== */
/* 11. Producer                                                             */
/* ======================================================================== */
/* Put a record and forget it, as with the KPL. The producer copies each
 * user record into the memory region it was given, groups records by the
 * shard their hash key selects (from ListShards), packs them into one
 * aggregate per shard, collects aggregates into PutRecords requests, sends
 * them on one or more connections, retries exactly what failed, respects the
 * shards' rate limits, and reports once per record, by callback, whether it
 * was delivered (shard, sequence number) or failed (why, after how many
 * attempts). It never allocates and never blocks in put or poll. */

typedef enum kinagg_aggregation {
    KINAGG_AGGREGATE_BY_SHARD = 0, /* one aggregate per shard (default) */
    KINAGG_AGGREGATE_NONE = 1      /* every user record is its own Kinesis record */
} kinagg_aggregation;

/* What to do with records while the shard map is unknown (not loaded yet,
 * or ListShards denied): aggregate only records with the same hash key
 * (they cannot span shards), or send them one by one. */
typedef enum kinagg_unmapped { KINAGG_UNMAPPED_SAME_KEY = 0, KINAGG_UNMAPPED_RAW = 1 } kinagg_unmapped;

typedef struct kinagg_completion {
    void *user;                 /* as given to put */
    kinagg_status status;       /* KINAGG_OK delivered, else why it failed */
    kinagg_str shard_id;        /* on success */
    kinagg_str sequence_number;
    uint64_t subsequence;       /* index in its aggregate; 0 when sent alone */
    int aggregated;
    unsigned attempts;          /* times it was put in a PutRecords request to send, tries
                                 * that never reached the service included (stays at 65535) */
    kinagg_str error_code;      /* failed for good: the service's code (or kinagg_strerror);
                                 * else its last failure's, from a short list (e.g.
                                 * ProvisionedThroughputExceededException, or ServiceError
                                 * for a code not in it; docs/producer.md), "" for none */
    kinagg_str error_message;
    uint64_t latency_ms;        /* from put to this completion */
} kinagg_completion;

/* Called from poll (and flush, abandon), once per record put; the strings
 * are valid during the call only. It may call put or abandon (not poll or
 * flush, which return KINAGG_ERR_STATE then, nor close), and must return
 * (no longjmp, no exception); abandon called from a callback of abandon
 * returns 0 at once, the first call completing every record it found. */
typedef void (*kinagg_completion_fn)(void *ctx, const kinagg_completion *c);

/* Where the producer gets credentials that change (instance roles,
 * containers, web identity, AWS IoT, ...). get fills *out (the producer
 * copies the strings at once) and *expires_unix_ms (0: they do not expire),
 * and returns KINAGG_OK; or KINAGG_PENDING while a fetch is under way (it
 * must not block: the producer asks again on a later poll); or an error
 * (the producer keeps the credentials it has and asks again later). force
 * is 1 when the service has just refused the current credentials as
 * expired or invalid. */
typedef struct kinagg_credentials_source {
    void *ctx;
    kinagg_status (*get)(void *ctx, int force, kinagg_credentials *out, uint64_t *expires_unix_ms);
} kinagg_credentials_source;

#ifndef KINAGG_PRODUCER_MAX_CONNECTIONS
#define KINAGG_PRODUCER_MAX_CONNECTIONS 8
#endif

/* Room the producer keeps for credentials (access key id, secret and
 * session token together); session tokens of STS and the IoT credentials
 * provider fit with room to spare. A producer keeps no more than its
 * send_buffer_size, though: the session token is sent in each request's
 * head, which must fit in the send buffer, so longer ones could not be
 * used anyway. */
#ifndef KINAGG_PRODUCER_CREDENTIALS_MAX
#define KINAGG_PRODUCER_CREDENTIALS_MAX 4096
#endif

typedef struct kinagg_producer_config {
    kinagg_stream_ref stream;      /* copied by init */
    kinagg_aggregation aggregation;
    kinagg_unmapped unmapped;
    int no_shard_map;              /* 1: never call ListShards (no permission) */
    size_t max_record_size;        /* data + partition key; default 1 MiB, up to 10 MiB */
    size_t aggregation_max_size;   /* default 51200 (KPL AggregationMaxSize) */
    size_t collection_max_count;   /* entries per PutRecords; default 500 */
    size_t collection_max_size;    /* bytes per PutRecords; default 5 MiB, up to 10 MiB */
    uint32_t max_buffered_ms;      /* default 100 (KPL RecordMaxBufferedTime); not
                                    * waited for after put said KINAGG_ERR_FULL, until
                                    * a put fits again */
    uint32_t record_ttl_ms;        /* default 30000 (KPL RecordTtl); 0: no limit, a
                                    * record is retried until it is delivered or fails
                                    * for good (or is abandoned) */
    uint32_t rate_limit_percent;   /* of a shard's 1000 records/s and 1 MiB/s; default 150;
                                    * 1 to 100000 */
    uint32_t min_backoff_ms;       /* first retry delay; default 100 */
    uint32_t max_backoff_ms;       /* default 5000 */
    uint32_t request_timeout_ms;   /* whole response; default 6000 (KPL RequestTimeout);
                                    * at least 1 */
    uint32_t connect_timeout_ms;   /* name lookup, TCP and TLS handshakes together;
                                    * default 5000, at least 1 (a satellite or 2G link
                                    * may need 20000 or more) */
    unsigned connections;          /* default 1, at most KINAGG_PRODUCER_MAX_CONNECTIONS */
    size_t max_shards;             /* open and closed shards kept; default 64 */
    size_t record_buffer_size;     /* bytes for buffered records (key + explicit hash
                                    * key + data each); 0: all the region leaves. At least
                                    * max_record_size + 39, so that any record fits */
    size_t max_records;            /* records buffered at once; 0: one per
                                    * KINAGG_PRODUCER_RECORD_SLOT bytes of record buffer */
    size_t send_buffer_size;       /* per connection, holds a request head; default 16 KiB */
    size_t recv_buffer_size;       /* per connection; default 128 KiB */
    size_t request_buffer_size;    /* per connection, for its request's aggregates;
                                    * 0: a sixteenth of the region, shared out, at least
                                    * aggregation_max_size and at most collection_max_size
                                    * (kinagg_producer_region_size counts the least) */
    size_t poll_work_bytes;        /* work one poll may do, in bytes built, hashed or
                                    * sent (a completion counts as 64 bytes more than its
                                    * record, sorting a buffered record into its shard's
                                    * queue after a new shard map 64 bytes); a larger job
                                    * goes on in the next poll.
                                    * Default 32768 (about 0.5 ms of CPU at most on an
                                    * x86-64 server core: docs/performance.md); 0: no
                                    * bound */
    kinagg_completion_fn on_complete;
    void *on_complete_ctx;
    /* Optional: credentials that rotate. The producer asks for new ones
     * credentials_refresh_ms before they expire (default 300000, as the AWS
     * SDKs do), and at once when the service answers ExpiredTokenException
     * or says the token is invalid; the records of such a request are sent
     * again, not failed. Until the first credentials arrive, records wait. */
    kinagg_credentials_source credentials_source;
    uint32_t credentials_refresh_ms;
    /* Distinct keys (partition and explicit hash keys) an aggregate's key
     * index holds, so that adding a record costs the same however many keys
     * the aggregate has; 16 bytes of region per key. Default 1024. Beyond
     * it, keys are found by scanning. Ignored (no memory) when aggregation
     * is off or the header is built without the index (KINAGG_AGG_INDEX 0,
     * the default under KINAGG_SMALL and -Os). */
    size_t aggregation_index_keys;
} kinagg_producer_config;

/* With max_records 0, one record slot (a 64-byte header) per this many
 * bytes of record buffer: sized for small records. For records of a few
 * hundred bytes or more, set max_records to what you expect to buffer. */
#define KINAGG_PRODUCER_RECORD_SLOT 64

typedef enum kinagg_shard_map_state {
    KINAGG_SHARD_MAP_NONE = 0,     /* not loaded yet */
    KINAGG_SHARD_MAP_LOADING,      /* ListShards in progress */
    KINAGG_SHARD_MAP_LOADED,       /* aggregates are built per shard */
    KINAGG_SHARD_MAP_UNAVAILABLE   /* ListShards failed (see last_error): only records
                                    * with the same hash key are aggregated */
} kinagg_shard_map_state;

typedef struct kinagg_producer_stats {
    uint64_t records_put;        /* accepted by put */
    uint64_t records_delivered;
    uint64_t records_failed;     /* failed for good, expired or abandoned */
    uint64_t records_retried;    /* times a record was queued again after a failure */
    uint64_t kinesis_records;    /* entries delivered: aggregates and lone records */
    uint64_t requests;           /* PutRecords requests sent */
    uint64_t requests_failed;    /* requests that failed as a whole */
    uint64_t entries_throttled;  /* entries refused for a shard's limit
                                  * (ProvisionedThroughputExceededException) */
    uint64_t errors;             /* errors met: failed requests, ListShards calls and
                                  * entries; kinagg_producer_last_error tells the newest */
    uint64_t user_bytes;         /* data of delivered user records */
    uint64_t wire_bytes;         /* data + partition keys of delivered entries */
    uint64_t latency_ms_total;   /* over delivered records */
    uint64_t latency_ms_max;
    uint64_t shard_map_loads;
    uint64_t shard_map_failures; /* ListShards calls that failed */
    kinagg_shard_map_state shard_map;
    size_t buffered_records;     /* put and not completed yet */
    size_t buffered_bytes;
} kinagg_producer_stats;

struct kinagg__pconn;
struct kinagg__prec;
struct kinagg__pshard;

/* Room for a ListShards paging token and for the last error line; one
 * byte each when the build leaves them out. */
#ifdef KINAGG_NO_SHARD_MAP
#define KINAGG__MAP_TOKEN_CAP 1
#else
#define KINAGG__MAP_TOKEN_CAP 1024
#endif
#ifdef KINAGG_NO_ERROR_TEXT
#define KINAGG__LAST_ERROR_CAP 1
#else
#define KINAGG__LAST_ERROR_CAP 256
#endif

typedef struct kinagg_producer {
    kinagg_producer_config cfg;
    kinagg_platform platform;
    struct kinagg__pconn *conns;
    struct kinagg__prec *recs;
    struct kinagg__pshard *shards, *staging; /* the map, and the next one being listed */
    uint32_t *agg_index;         /* the aggregate key index, shared: one aggregate is
                                  * built at a time */
    size_t agg_index_words;
    char *strings;               /* the stream name and ARN, copied */
    char *cred_buf;              /* cred_cap bytes: the smaller of KINAGG_PRODUCER_CREDENTIALS_MAX
                                  * and send_buffer_size */
    size_t cred_cap;
    kinagg_credentials credentials; /* pointing into cred_buf */
    unsigned char *ring;
    size_t ring_cap, ring_head, ring_tail, nrecs, rec_head, rec_tail, rec_count;
    size_t nshards, nstaging, rr, work_left;
    size_t nopen;                /* the map's open shards, its first ones (by start) */
    size_t requeued;             /* records from the ring's tail sorted into the
                                  * queues of a new map so far, while requeueing */
    int map_state, map_wanted, flushing, requeueing;
    int abandoning;              /* inside kinagg_producer_abandon (its callbacks may call it) */
    int completing;              /* inside a completion callback: poll and flush refused */
    int full;                    /* put said FULL: records go without waiting
                                  * for max_buffered_ms until a put fits again */
    unsigned map_gen;            /* counts maps loaded */
    uint32_t map_backoff_ms;     /* 1 to 30 s */
    uint64_t map_retry_ms;
    uint64_t map_wait_end;       /* records wait for the first map until then (see poll) */
    int map_started;             /* a listing has started */
    int map_awaited;             /* records wait for the first map now */
    uint64_t cred_expires_ms;    /* unix ms; 0: never */
    uint64_t cred_retry_ms;      /* monotonic: when to ask the source again */
    uint32_t cred_backoff_ms;
    size_t entries_max;          /* entries a request carries: collection_max_count,
                                  * halved after an answer that could not be read */
    uint64_t entries_back_ms;    /* monotonic: when entries_max, halved, doubles */
    uint32_t entries_wait_ms;    /* from a change of entries_max to its doubling:
                                  * 1 minute, doubled (to an hour) when a size
                                  * grown back fails again */
    int entries_grown;           /* entries_max was doubled since it was halved */
    int have_credentials, cred_forced;
    unsigned map_empty_pages;    /* pages in a row with a NextToken and no shard */
    char map_token[KINAGG__MAP_TOKEN_CAP];
    char last_error[KINAGG__LAST_ERROR_CAP];
    kinagg_producer_stats stats;
} kinagg_producer;

/* Fills *cfg with the defaults above (stream and callback left empty). */
KINAGG_API void kinagg_producer_config_defaults(kinagg_producer_config *cfg);

/* Bytes of region kinagg_producer_init needs for cfg, whatever the region's
 * alignment; 0 for a configuration init would refuse. With record_buffer_size
 * 0, this is the smallest region (room for one record of max_record_size); a
 * larger region gives the rest to records. */
KINAGG_API size_t kinagg_producer_region_size(const kinagg_producer_config *cfg);

/* Sets up a producer in region (all its memory: connection buffers, shard
 * map, record buffer). transports[i] is the i-th connection's transport.
 * credentials may be NULL when cfg->credentials_source gives them.
 * Copied, so the caller may free or reuse them once init returns: the
 * stream name or ARN, the endpoint, the signing region and the credentials.
 * Kept, not copied (they must outlive the producer): region, the transports'
 * contexts, platform->ctx and cfg->on_complete_ctx.
 * Returns KINAGG_ERR_BUFFER_TOO_SMALL when the region cannot hold the
 * configuration (kinagg_producer_region_size tells what it needs),
 * KINAGG_ERR_INVALID_ARGUMENT for a bad setting. Blocks on nothing. */
KINAGG_API kinagg_status kinagg_producer_init(kinagg_producer *p, void *region, size_t region_size,
                                              const kinagg_producer_config *cfg, const kinagg_endpoint *endpoint,
                                              kinagg_str signing_region, const kinagg_credentials *credentials,
                                              kinagg_protocol protocol, const kinagg_transport *transports,
                                              const kinagg_platform *platform);

/* Replaces the credentials (copied; the old secret is wiped) for requests
 * signed from now on. KINAGG_ERR_BUFFER_TOO_SMALL when they do not fit the
 * producer's room for them, the smaller of KINAGG_PRODUCER_CREDENTIALS_MAX
 * and cfg->send_buffer_size (the three strings together); the old ones stay
 * then. (kinagg_producer_init returns the same when its credentials do not
 * fit.) */
KINAGG_API kinagg_status kinagg_producer_set_credentials(kinagg_producer *p, const kinagg_credentials *credentials);

/* Copies a user record in. Returns at once: KINAGG_OK (it will complete
 * exactly once), KINAGG_ERR_FULL (no room now: poll, then try again),
 * KINAGG_ERR_TOO_LARGE (data + key over max_record_size),
 * KINAGG_ERR_BUFFER_TOO_SMALL (larger than the whole record buffer), or a
 * key error (KINAGG_ERR_KEY_EMPTY, _KEY_TOO_LONG, _KEY_ENCODING,
 * KINAGG_ERR_HASH_KEY). explicit_hash_key may be NULL (none); an empty one
 * with a pointer is KINAGG_ERR_HASH_KEY, as Kinesis refuses it. */
KINAGG_API kinagg_status kinagg_producer_put(kinagg_producer *p, const char *partition_key, size_t partition_key_len,
                                             const char *explicit_hash_key, size_t explicit_hash_key_len,
                                             const void *data, size_t data_len, void *user);

/* Does the work that can be done now without waiting, up to
 * cfg.poll_work_bytes: builds and sends requests, reads responses, runs
 * callbacks, expires records. Never blocks: connections, TLS handshakes and
 * (with the POSIX port) name lookups all proceed across calls. *next_ms is
 * the monotonic time by which to call it again: now, when work is left over;
 * sooner when a transport becomes ready (kinagg_producer_wait waits for
 * either). Called from a completion callback, it (and flush) returns
 * KINAGG_ERR_STATE and does nothing. */
KINAGG_API kinagg_status kinagg_producer_poll(kinagg_producer *p, uint64_t *next_ms);

/* Blocks until a connection is ready or next_ms or max_ms passes (for
 * threads and POSIX loops; a game loop just polls every frame). With
 * several connections on a call, each transport's wait is called in turn
 * for up to 10 ms, so a ready one is seen within 10 ms for each other
 * connection on a call. */
KINAGG_API void kinagg_producer_wait(kinagg_producer *p, uint64_t next_ms, uint32_t max_ms);

/* Sends everything buffered without waiting for max_buffered_ms and blocks
 * until every record put so far has completed, or timeout_ms passes
 * (KINAGG_ERR_TIMEOUT, with records still buffered). For shutdown: after a
 * timeout, call it again to wait longer, or kinagg_producer_abandon to give
 * the rest up and get every user pointer back. */
KINAGG_API kinagg_status kinagg_producer_flush(kinagg_producer *p, uint32_t timeout_ms);

/* Gives up every record not completed yet: each completes now, once, with
 * KINAGG_ERR_ABANDONED, in put order, and the connections are closed. A
 * record that was in a request in flight may still have been delivered:
 * its completion cannot tell. Records put from a callback during abandon
 * are new and stay. Returns how many were abandoned (0 when called from
 * one of its own callbacks). */
KINAGG_API size_t kinagg_producer_abandon(kinagg_producer *p);

KINAGG_API void kinagg_producer_get_stats(const kinagg_producer *p, kinagg_producer_stats *stats);

/* The newest error the producer met while working, as one line of text,
 * e.g. "PutRecords: connect: Connection refused" or
 * "ListShards: AccessDeniedException: ..."; "" before the first. It never
 * holds a secret. stats.errors changes whenever it does. */
KINAGG_API const char *kinagg_producer_last_error(const kinagg_producer *p);

/* Whether a call that ended in st is worth repeating, as the producer
 * judges a PutRecords or ListShards that failed (connections, timeouts,
 * 5xx, 408, 429, throttling and time-out codes, ...; not refused
 * credentials). For callers with their own Kinesis calls, such as a reader
 * (kinagg-tail); not in KINAGG_NO_READ builds. */
#ifndef KINAGG_NO_READ
KINAGG_API int kinagg_producer_retryable(kinagg_status st, const kinagg_kinesis *k);
#endif

/* Closes the connections (records still buffered stay buffered). */
KINAGG_API void kinagg_producer_close(kinagg_producer *p);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_H */

/* ======================================================================== */
/*                              IMPLEMENTATION                              */
/* ======================================================================== */
#if defined(KINAGG_IMPLEMENTATION) && !defined(KINAGG_IMPLEMENTATION_DONE)
#define KINAGG_IMPLEMENTATION_DONE

#ifdef KINAGG_USE_MBEDTLS
#include <mbedtls/version.h>
#endif

/* What to build: see Options. */
#if defined(KINAGG_SMALL) || (defined(__OPTIMIZE_SIZE__) && !defined(KINAGG_FAST))
#define KINAGG__SMALL 1
#else
#define KINAGG__SMALL 0
#endif
/* The memory functions: the caller's, or <string.h>'s, or under
 * KINAGG_SMALL the library's own byte loops (kinagg__mem_*, in Basics),
 * which take less flash than a libc's word-at-a-time versions when nothing
 * else links those. */
#if KINAGG__SMALL && !defined(KINAGG_LIBC_MEMORY)
#define KINAGG__OWN_MEMORY 1
#else
#define KINAGG__OWN_MEMORY 0
#endif
/* (<string.h> whenever one of them is left to the library: a caller's
 * macro may name a libc function) */
#if !defined(KINAGG_MEMCPY) || !defined(KINAGG_MEMMOVE) || !defined(KINAGG_MEMSET) || !defined(KINAGG_MEMCMP)
#include <string.h>
#endif
#if KINAGG__OWN_MEMORY && (!defined(KINAGG_MEMCPY) || !defined(KINAGG_MEMMOVE))
#define KINAGG__OWN_MOVE 1
#endif
#if KINAGG__OWN_MEMORY && !defined(KINAGG_MEMCPY)
/* KINAGG_MEMCPY is the library's own loop, which copies nothing for a
 * length of 0 whatever the pointers (even NULL, which memcpy must not be
 * given): the tests of the length before a copy can go */
#define KINAGG__COPY_ANY 1
#else
#define KINAGG__COPY_ANY 0
#endif
#if KINAGG__OWN_MEMORY && !defined(KINAGG_MEMSET)
#define KINAGG__OWN_SET 1
#endif
#if KINAGG__OWN_MEMORY && !defined(KINAGG_MEMCMP)
#define KINAGG__OWN_CMP 1
#endif
#ifndef KINAGG_MEMCPY
#define KINAGG_MEMCPY KINAGG__PICK(kinagg__mem_move, memcpy)
#endif
#ifndef KINAGG_MEMMOVE
#define KINAGG_MEMMOVE KINAGG__PICK(kinagg__mem_move, memmove)
#endif
#ifndef KINAGG_MEMSET
#define KINAGG_MEMSET KINAGG__PICK(kinagg__mem_set, memset)
#endif
#ifndef KINAGG_MEMCMP
#define KINAGG_MEMCMP KINAGG__PICK(kinagg__mem_cmp, memcmp)
#endif
#if KINAGG__OWN_MEMORY
#define KINAGG__PICK(own, libc) own
#else
#define KINAGG__PICK(own, libc) libc
#endif
#ifdef KINAGG_FAST_CRYPTO
#define KINAGG__FAST_CRYPTO KINAGG_FAST_CRYPTO
#else
#define KINAGG__FAST_CRYPTO (!KINAGG__SMALL)
#endif
#ifdef KINAGG_AGG_INDEX
#define KINAGG__AGG_INDEX KINAGG_AGG_INDEX
#else
#define KINAGG__AGG_INDEX (!KINAGG__SMALL)
#endif
/* The wire protocols built: KINAGG__CBOR(x) is whether a document or a
 * request in x (1: CBOR, 0: JSON) is CBOR, a constant when one protocol
 * is left out, so the other one's code goes; KINAGG__BUILT(x) is whether
 * that protocol is built. */
#if defined(KINAGG_NO_CBOR)
#define KINAGG__CBOR(x) ((void)(x), 0)
#define KINAGG__BUILT(x) (!(x))
#elif defined(KINAGG_NO_JSON)
#define KINAGG__CBOR(x) ((void)(x), 1)
#define KINAGG__BUILT(x) (!!(x))
#else
#define KINAGG__CBOR(x) (x)
#define KINAGG__BUILT(x) 1
#endif
/* The read-side calls: 0 in a producer-only build. */
#ifdef KINAGG_NO_READ
#define KINAGG__READ 0
#else
#define KINAGG__READ 1
#endif
/* SHA-256 in hardware: 1 x86 SHA extensions, 2 ARMv8 crypto, 0 none. */
#if defined(KINAGG_USE_MBEDTLS) || defined(KINAGG_NO_SHA256_HW)
#define KINAGG__SHA256_HW 0
#elif defined(__SHA__) && defined(__SSE4_1__)
#define KINAGG__SHA256_HW 1
#include <immintrin.h>
#elif (defined(__ARM_FEATURE_SHA2) || defined(__ARM_FEATURE_CRYPTO)) && defined(__ARM_NEON) && \
    !defined(__ARM_BIG_ENDIAN)
#define KINAGG__SHA256_HW 2
#include <arm_neon.h>
#else
#define KINAGG__SHA256_HW 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 2. Basics --------------------------------------------------------- */

/* A helper kept out of line where inlining it in each caller would copy
 * it: for code size only. */
#if defined(__GNUC__) || defined(__clang__)
#define KINAGG__NOINLINE __attribute__((noinline))
#else
#define KINAGG__NOINLINE
#endif
/* The same, in a build for size only (KINAGG_SMALL). */
#if KINAGG__SMALL
#define KINAGG__SMALL_NOINLINE KINAGG__NOINLINE
#else
#define KINAGG__SMALL_NOINLINE
#endif

#if KINAGG__OWN_MEMORY
/* The memory functions as byte loops (see KINAGG_LIBC_MEMORY), those the
 * caller's macros leave to the library. One copy
 * serves memcpy and memmove: it runs backwards when the destination is
 * above the source. The addresses are compared as integers because
 * comparing pointers into different objects is undefined. */
#if defined(__GNUC__) && !defined(__clang__)
/* and GCC must not turn the loops back into calls to the libc functions */
#define KINAGG__NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define KINAGG__NO_LIBCALLS
#endif
#ifdef KINAGG__OWN_MOVE
static KINAGG__NO_LIBCALLS void *kinagg__mem_move(void *dst, const void *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if ((uintptr_t)d <= (uintptr_t)s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}
#endif
#ifdef KINAGG__OWN_SET
static KINAGG__NO_LIBCALLS void *kinagg__mem_set(void *dst, int c, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    while (n--) d[n] = (unsigned char)c;
    return dst;
}
#endif
#ifdef KINAGG__OWN_CMP
static int kinagg__mem_cmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    int d = 0;
    while (n-- && (d = *x++ - *y++) == 0) {
    }
    return d;
}
#endif
#endif

/* kinagg_strerror's messages in the order of kinagg_status, each ended by a
 * NUL, then the one for other values: one string, no table of pointers.
 * Without text, each status's message is its number: "10" to "26", then
 * "?" for other values, and "0" to "9" are the ends of "10" to "19". */
#ifdef KINAGG_NO_ERROR_TEXT
static const char kinagg__status_text[] = "10\0" "11\0" "12\0" "13\0" "14\0" "15\0" "16\0" "17\0" "18\0" "19\0"
                                          "20\0" "21\0" "22\0" "23\0" "24\0" "25\0" "26\0" "?";
typedef char kinagg__status_text_complete[KINAGG_STATUS_COUNT_ == 27 ? 1 : -1];

KINAGG_API const char *kinagg_strerror(kinagg_status status) {
    unsigned n = (unsigned)status;
    return kinagg__status_text + (n < 10 ? 3 * n + 1 : 3 * ((n < (unsigned)KINAGG_STATUS_COUNT_ ? n : (unsigned)KINAGG_STATUS_COUNT_) - 10));
}
#else
static const char kinagg__status_text[] =
    "ok\0" /* KINAGG_OK */
    "invalid argument\0" /* KINAGG_ERR_INVALID_ARGUMENT */
    "partition key is empty\0" /* KINAGG_ERR_KEY_EMPTY */
    "partition key is longer than 256 characters\0" /* KINAGG_ERR_KEY_TOO_LONG */
    "partition key is not valid UTF-8\0" /* KINAGG_ERR_KEY_ENCODING */
    "explicit hash key is not a decimal number below 2^128\0" /* KINAGG_ERR_HASH_KEY */
    "record is larger than the record size limit\0" /* KINAGG_ERR_TOO_LARGE */
    "aggregate is full: finish it and start another\0" /* KINAGG_ERR_AGGREGATE_FULL */
    "buffer too small\0" /* KINAGG_ERR_BUFFER_TOO_SMALL */
    "call not valid in this state\0" /* KINAGG_ERR_STATE */
    "header name or value cannot be signed\0" /* KINAGG_ERR_HEADER */
    "in progress\0" /* KINAGG_PENDING */
    "cannot connect\0" /* KINAGG_ERR_CONNECT */
    "TLS failed\0" /* KINAGG_ERR_TLS */
    "timed out\0" /* KINAGG_ERR_TIMEOUT */
    "connection closed by the peer\0" /* KINAGG_ERR_CLOSED */
    "connection failed\0" /* KINAGG_ERR_IO */
    "malformed HTTP response\0" /* KINAGG_ERR_HTTP_PARSE */
    "response larger than the receive buffer\0" /* KINAGG_ERR_RESPONSE_TOO_LARGE */
    "malformed JSON response\0" /* KINAGG_ERR_JSON */
    "malformed CBOR response\0" /* KINAGG_ERR_CBOR */
    "the service returned an error\0" /* KINAGG_ERR_SERVICE */
    "request time rejected as skewed; clock corrected\0" /* KINAGG_ERR_CLOCK_SKEW */
    "bad endpoint\0" /* KINAGG_ERR_ENDPOINT */
    "producer buffer full: poll and retry\0" /* KINAGG_ERR_FULL */
    "record expired before it was known to be delivered\0" /* KINAGG_ERR_EXPIRED */
    "record abandoned before it was known to be delivered\0" /* KINAGG_ERR_ABANDONED */
    "unknown status";

KINAGG_API const char *kinagg_strerror(kinagg_status status) {
    const char *s = kinagg__status_text;
    unsigned n = (unsigned)status < KINAGG_STATUS_COUNT_ ? (unsigned)status : (unsigned)KINAGG_STATUS_COUNT_;
    while (n--)
        while (*s++) {}
    return s;
}
#endif

KINAGG_API kinagg_str kinagg_str_c(const char *s) {
    kinagg_str r;
    const char *e = s;
    r.ptr = s ? s : "";
    r.len = 0;
    if (s) { /* a pointer, not an index: gcc -Os turns an index loop into a call to
              * libc's strlen (220 bytes on the M4) */
        while (*e) e++;
        r.len = (size_t)(e - s);
    }
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
#else /* built-in MD5 (RFC 1321) and SHA-256 (FIPS 180-4) */

/* Byte loads and stores in a fixed order: the same result on every CPU.
 * Compilers turn them into single (byte-swapped) word accesses. */
static uint32_t kinagg__load32le(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
#if !KINAGG__SHA256_HW
static uint32_t kinagg__load32be(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static uint32_t kinagg__rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
#endif
static uint32_t kinagg__rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static const uint32_t kinagg__sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#if KINAGG__FAST_CRYPTO
/* MD5 with its 64 steps written out: constants and rotations in the code,
 * message words in registers. G is computed as (b & d) + (c & ~d), two
 * independent terms, so the step waits less on the previous one. */
#define KINAGG__MD5_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define KINAGG__MD5_H(x, y, z) ((x) ^ (y) ^ (z))
#define KINAGG__MD5_I(x, y, z) ((y) ^ ((x) | ~(z)))
#define KINAGG__MD5_STEP(f, a, b, c, d, m, k, s) \
    (a) += f((b), (c), (d)) + (m) + (uint32_t)(k); (a) = kinagg__rotl((a), (s)) + (b)
#define KINAGG__MD5_STEP_G(a, b, c, d, m, k, s) \
    (a) += ((c) & ~(d)) + (m) + (uint32_t)(k); (a) += (b) & (d); (a) = kinagg__rotl((a), (s)) + (b)

static void kinagg__md5_blocks(uint32_t st[4], const unsigned char *p, size_t blocks) {
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (; blocks; blocks--, p += 64) {
        uint32_t m0 = kinagg__load32le(p), m1 = kinagg__load32le(p + 4), m2 = kinagg__load32le(p + 8),
                 m3 = kinagg__load32le(p + 12), m4 = kinagg__load32le(p + 16), m5 = kinagg__load32le(p + 20),
                 m6 = kinagg__load32le(p + 24), m7 = kinagg__load32le(p + 28), m8 = kinagg__load32le(p + 32),
                 m9 = kinagg__load32le(p + 36), m10 = kinagg__load32le(p + 40), m11 = kinagg__load32le(p + 44),
                 m12 = kinagg__load32le(p + 48), m13 = kinagg__load32le(p + 52), m14 = kinagg__load32le(p + 56),
                 m15 = kinagg__load32le(p + 60);
        uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
        KINAGG__MD5_STEP(KINAGG__MD5_F, a, b, c, d, m0, 0xd76aa478, 7);
        KINAGG__MD5_STEP(KINAGG__MD5_F, d, a, b, c, m1, 0xe8c7b756, 12);
        KINAGG__MD5_STEP(KINAGG__MD5_F, c, d, a, b, m2, 0x242070db, 17);
        KINAGG__MD5_STEP(KINAGG__MD5_F, b, c, d, a, m3, 0xc1bdceee, 22);
        KINAGG__MD5_STEP(KINAGG__MD5_F, a, b, c, d, m4, 0xf57c0faf, 7);
        KINAGG__MD5_STEP(KINAGG__MD5_F, d, a, b, c, m5, 0x4787c62a, 12);
        KINAGG__MD5_STEP(KINAGG__MD5_F, c, d, a, b, m6, 0xa8304613, 17);
        KINAGG__MD5_STEP(KINAGG__MD5_F, b, c, d, a, m7, 0xfd469501, 22);
        KINAGG__MD5_STEP(KINAGG__MD5_F, a, b, c, d, m8, 0x698098d8, 7);
        KINAGG__MD5_STEP(KINAGG__MD5_F, d, a, b, c, m9, 0x8b44f7af, 12);
        KINAGG__MD5_STEP(KINAGG__MD5_F, c, d, a, b, m10, 0xffff5bb1, 17);
        KINAGG__MD5_STEP(KINAGG__MD5_F, b, c, d, a, m11, 0x895cd7be, 22);
        KINAGG__MD5_STEP(KINAGG__MD5_F, a, b, c, d, m12, 0x6b901122, 7);
        KINAGG__MD5_STEP(KINAGG__MD5_F, d, a, b, c, m13, 0xfd987193, 12);
        KINAGG__MD5_STEP(KINAGG__MD5_F, c, d, a, b, m14, 0xa679438e, 17);
        KINAGG__MD5_STEP(KINAGG__MD5_F, b, c, d, a, m15, 0x49b40821, 22);
        KINAGG__MD5_STEP_G(a, b, c, d, m1, 0xf61e2562, 5);
        KINAGG__MD5_STEP_G(d, a, b, c, m6, 0xc040b340, 9);
        KINAGG__MD5_STEP_G(c, d, a, b, m11, 0x265e5a51, 14);
        KINAGG__MD5_STEP_G(b, c, d, a, m0, 0xe9b6c7aa, 20);
        KINAGG__MD5_STEP_G(a, b, c, d, m5, 0xd62f105d, 5);
        KINAGG__MD5_STEP_G(d, a, b, c, m10, 0x02441453, 9);
        KINAGG__MD5_STEP_G(c, d, a, b, m15, 0xd8a1e681, 14);
        KINAGG__MD5_STEP_G(b, c, d, a, m4, 0xe7d3fbc8, 20);
        KINAGG__MD5_STEP_G(a, b, c, d, m9, 0x21e1cde6, 5);
        KINAGG__MD5_STEP_G(d, a, b, c, m14, 0xc33707d6, 9);
        KINAGG__MD5_STEP_G(c, d, a, b, m3, 0xf4d50d87, 14);
        KINAGG__MD5_STEP_G(b, c, d, a, m8, 0x455a14ed, 20);
        KINAGG__MD5_STEP_G(a, b, c, d, m13, 0xa9e3e905, 5);
        KINAGG__MD5_STEP_G(d, a, b, c, m2, 0xfcefa3f8, 9);
        KINAGG__MD5_STEP_G(c, d, a, b, m7, 0x676f02d9, 14);
        KINAGG__MD5_STEP_G(b, c, d, a, m12, 0x8d2a4c8a, 20);
        KINAGG__MD5_STEP(KINAGG__MD5_H, a, b, c, d, m5, 0xfffa3942, 4);
        KINAGG__MD5_STEP(KINAGG__MD5_H, d, a, b, c, m8, 0x8771f681, 11);
        KINAGG__MD5_STEP(KINAGG__MD5_H, c, d, a, b, m11, 0x6d9d6122, 16);
        KINAGG__MD5_STEP(KINAGG__MD5_H, b, c, d, a, m14, 0xfde5380c, 23);
        KINAGG__MD5_STEP(KINAGG__MD5_H, a, b, c, d, m1, 0xa4beea44, 4);
        KINAGG__MD5_STEP(KINAGG__MD5_H, d, a, b, c, m4, 0x4bdecfa9, 11);
        KINAGG__MD5_STEP(KINAGG__MD5_H, c, d, a, b, m7, 0xf6bb4b60, 16);
        KINAGG__MD5_STEP(KINAGG__MD5_H, b, c, d, a, m10, 0xbebfbc70, 23);
        KINAGG__MD5_STEP(KINAGG__MD5_H, a, b, c, d, m13, 0x289b7ec6, 4);
        KINAGG__MD5_STEP(KINAGG__MD5_H, d, a, b, c, m0, 0xeaa127fa, 11);
        KINAGG__MD5_STEP(KINAGG__MD5_H, c, d, a, b, m3, 0xd4ef3085, 16);
        KINAGG__MD5_STEP(KINAGG__MD5_H, b, c, d, a, m6, 0x04881d05, 23);
        KINAGG__MD5_STEP(KINAGG__MD5_H, a, b, c, d, m9, 0xd9d4d039, 4);
        KINAGG__MD5_STEP(KINAGG__MD5_H, d, a, b, c, m12, 0xe6db99e5, 11);
        KINAGG__MD5_STEP(KINAGG__MD5_H, c, d, a, b, m15, 0x1fa27cf8, 16);
        KINAGG__MD5_STEP(KINAGG__MD5_H, b, c, d, a, m2, 0xc4ac5665, 23);
        KINAGG__MD5_STEP(KINAGG__MD5_I, a, b, c, d, m0, 0xf4292244, 6);
        KINAGG__MD5_STEP(KINAGG__MD5_I, d, a, b, c, m7, 0x432aff97, 10);
        KINAGG__MD5_STEP(KINAGG__MD5_I, c, d, a, b, m14, 0xab9423a7, 15);
        KINAGG__MD5_STEP(KINAGG__MD5_I, b, c, d, a, m5, 0xfc93a039, 21);
        KINAGG__MD5_STEP(KINAGG__MD5_I, a, b, c, d, m12, 0x655b59c3, 6);
        KINAGG__MD5_STEP(KINAGG__MD5_I, d, a, b, c, m3, 0x8f0ccc92, 10);
        KINAGG__MD5_STEP(KINAGG__MD5_I, c, d, a, b, m10, 0xffeff47d, 15);
        KINAGG__MD5_STEP(KINAGG__MD5_I, b, c, d, a, m1, 0x85845dd1, 21);
        KINAGG__MD5_STEP(KINAGG__MD5_I, a, b, c, d, m8, 0x6fa87e4f, 6);
        KINAGG__MD5_STEP(KINAGG__MD5_I, d, a, b, c, m15, 0xfe2ce6e0, 10);
        KINAGG__MD5_STEP(KINAGG__MD5_I, c, d, a, b, m6, 0xa3014314, 15);
        KINAGG__MD5_STEP(KINAGG__MD5_I, b, c, d, a, m13, 0x4e0811a1, 21);
        KINAGG__MD5_STEP(KINAGG__MD5_I, a, b, c, d, m4, 0xf7537e82, 6);
        KINAGG__MD5_STEP(KINAGG__MD5_I, d, a, b, c, m11, 0xbd3af235, 10);
        KINAGG__MD5_STEP(KINAGG__MD5_I, c, d, a, b, m2, 0x2ad7d2bb, 15);
        KINAGG__MD5_STEP(KINAGG__MD5_I, b, c, d, a, m9, 0xeb86d391, 21);
        a += a0; b += b0; c += c0; d += d0;
    }
    st[0] = a; st[1] = b; st[2] = c; st[3] = d;
}
#else
/* MD5 as one loop over its 64 steps: small code. */
static void kinagg__md5_blocks(uint32_t st[4], const unsigned char *p, size_t blocks) {
    static const uint32_t K[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
    /* each round's four rotations, then its message word (m * i + k) % 16: m, k */
    static const unsigned char R[24] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21,
                                        1, 0, 5, 1, 3, 5, 7, 0};
    for (; blocks; blocks--, p += 64) {
        uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
        unsigned i;
        for (i = 0; i < 64; i++) {
            uint32_t f, t;
            unsigned r = i >> 4, g = (R[16 + 2 * r] * i + R[17 + 2 * r]) & 15;
            switch (r) {
            case 0: f = (b & c) | (~b & d); break;
            case 1: f = (d & b) | (~d & c); break;
            case 2: f = b ^ c ^ d; break;
            default: f = c ^ (b | ~d); break;
            }
            t = d;
            d = c;
            c = b;
            b = b + kinagg__rotl(a + f + K[i] + kinagg__load32le(p + 4 * g), R[(r << 2) | (i & 3)]);
            a = t;
        }
        st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    }
}
#endif /* KINAGG__FAST_CRYPTO */

#define KINAGG__SHA_CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define KINAGG__SHA_MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define KINAGG__SHA_S0(x) (kinagg__rotr((x), 2) ^ kinagg__rotr((x), 13) ^ kinagg__rotr((x), 22))
#define KINAGG__SHA_S1(x) (kinagg__rotr((x), 6) ^ kinagg__rotr((x), 11) ^ kinagg__rotr((x), 25))
#define KINAGG__SHA_s0(x) (kinagg__rotr((x), 7) ^ kinagg__rotr((x), 18) ^ ((x) >> 3))
#define KINAGG__SHA_s1(x) (kinagg__rotr((x), 17) ^ kinagg__rotr((x), 19) ^ ((x) >> 10))

#if KINAGG__SHA256_HW == 1
/* x86 SHA extensions. The state is kept as the instructions want it: ABEF
 * and CDGH. Each step does four rounds; sha256msg1/2 extend the schedule. */
#define KINAGG__SHANI_ROUNDS(w, i)                                                              \
    do {                                                                                        \
        __m128i m_ = _mm_add_epi32((w), _mm_loadu_si128((const __m128i *)(kinagg__sha256_k + (i)))); \
        s1 = _mm_sha256rnds2_epu32(s1, s0, m_);                                                 \
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m_, 0x0E));                        \
    } while (0)
/* w0..w3 hold schedule words t-16..t-1; w0 becomes t..t+3 */
#define KINAGG__SHANI_NEXT(w0, w1, w2, w3) \
    w0 = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)), w3)

static void kinagg__sha256_blocks(uint32_t st[8], const unsigned char *p, size_t blocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st), 0xB1);       /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(st + 4)), 0x1B); /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                           /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                                /* CDGH */
    for (; blocks; blocks--, p += 64) {
        __m128i save0 = s0, save1 = s1, w0, w1, w2, w3;
        unsigned i;
        w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
        w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
        KINAGG__SHANI_ROUNDS(w0, 0);
        KINAGG__SHANI_ROUNDS(w1, 4);
        KINAGG__SHANI_ROUNDS(w2, 8);
        KINAGG__SHANI_ROUNDS(w3, 12);
        for (i = 16; i < 64; i += 16) {
            KINAGG__SHANI_NEXT(w0, w1, w2, w3);
            KINAGG__SHANI_ROUNDS(w0, i);
            KINAGG__SHANI_NEXT(w1, w2, w3, w0);
            KINAGG__SHANI_ROUNDS(w1, i + 4);
            KINAGG__SHANI_NEXT(w2, w3, w0, w1);
            KINAGG__SHANI_ROUNDS(w2, i + 8);
            KINAGG__SHANI_NEXT(w3, w0, w1, w2);
            KINAGG__SHANI_ROUNDS(w3, i + 12);
        }
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
    }
    t = _mm_shuffle_epi32(s0, 0x1B);                  /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1);                 /* DCHG */
    _mm_storeu_si128((__m128i *)st, _mm_blend_epi16(t, s1, 0xF0));      /* DCBA */
    _mm_storeu_si128((__m128i *)(st + 4), _mm_alignr_epi8(s1, t, 8));   /* HGFE */
}
#elif KINAGG__SHA256_HW == 2
/* ARMv8 crypto extensions: sha256h/h2 do four rounds, su0/su1 extend the
 * schedule. The message is loaded as bytes and byte-swapped per word. */
#define KINAGG__ARMSHA_ROUNDS(w, i)                                         \
    do {                                                                    \
        uint32x4_t m_ = vaddq_u32((w), vld1q_u32(kinagg__sha256_k + (i)));  \
        uint32x4_t abcd_ = s0;                                              \
        s0 = vsha256hq_u32(s0, s1, m_);                                     \
        s1 = vsha256h2q_u32(s1, abcd_, m_);                                 \
    } while (0)
#define KINAGG__ARMSHA_NEXT(w0, w1, w2, w3) w0 = vsha256su1q_u32(vsha256su0q_u32(w0, w1), w2, w3)
#define KINAGG__ARMSHA_LOAD(q) vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(q)))

static void kinagg__sha256_blocks(uint32_t st[8], const unsigned char *p, size_t blocks) {
    uint32x4_t s0 = vld1q_u32(st), s1 = vld1q_u32(st + 4);
    for (; blocks; blocks--, p += 64) {
        uint32x4_t save0 = s0, save1 = s1;
        uint32x4_t w0 = KINAGG__ARMSHA_LOAD(p), w1 = KINAGG__ARMSHA_LOAD(p + 16), w2 = KINAGG__ARMSHA_LOAD(p + 32),
                   w3 = KINAGG__ARMSHA_LOAD(p + 48);
        unsigned i;
        KINAGG__ARMSHA_ROUNDS(w0, 0);
        KINAGG__ARMSHA_ROUNDS(w1, 4);
        KINAGG__ARMSHA_ROUNDS(w2, 8);
        KINAGG__ARMSHA_ROUNDS(w3, 12);
        for (i = 16; i < 64; i += 16) {
            KINAGG__ARMSHA_NEXT(w0, w1, w2, w3);
            KINAGG__ARMSHA_ROUNDS(w0, i);
            KINAGG__ARMSHA_NEXT(w1, w2, w3, w0);
            KINAGG__ARMSHA_ROUNDS(w1, i + 4);
            KINAGG__ARMSHA_NEXT(w2, w3, w0, w1);
            KINAGG__ARMSHA_ROUNDS(w2, i + 8);
            KINAGG__ARMSHA_NEXT(w3, w0, w1, w2);
            KINAGG__ARMSHA_ROUNDS(w3, i + 12);
        }
        s0 = vaddq_u32(s0, save0);
        s1 = vaddq_u32(s1, save1);
    }
    vst1q_u32(st, s0);
    vst1q_u32(st + 4, s1);
}
#elif KINAGG__FAST_CRYPTO
/* Portable SHA-256, sixteen rounds written out: the eight working variables
 * rotate by name instead of by assignment, and the message schedule is a
 * ring of sixteen words extended as the rounds need it. */
#define KINAGG__SHA_ROUND(a, b, c, d, e, f, g, h, j)                                                \
    do {                                                                                            \
        uint32_t t1_ = (h) + KINAGG__SHA_S1(e) + KINAGG__SHA_CH((e), (f), (g)) + k[j] + w[j];     \
        (d) += t1_;                                                                                 \
        (h) = t1_ + KINAGG__SHA_S0(a) + KINAGG__SHA_MAJ((a), (b), (c));                            \
    } while (0)
/* Rounds 16..63 first extend the schedule word they use. */
#define KINAGG__SHA_ROUNDX(a, b, c, d, e, f, g, h, j)                                                      \
    do {                                                                                                   \
        w[j] += KINAGG__SHA_s1(w[((j) + 14) & 15]) + w[((j) + 9) & 15] + KINAGG__SHA_s0(w[((j) + 1) & 15]); \
        KINAGG__SHA_ROUND(a, b, c, d, e, f, g, h, j);                                                      \
    } while (0)
#define KINAGG__SHA_16ROUNDS(R)              \
    R(a, b, c, d, e, f, g, h, 0);            \
    R(h, a, b, c, d, e, f, g, 1);            \
    R(g, h, a, b, c, d, e, f, 2);            \
    R(f, g, h, a, b, c, d, e, 3);            \
    R(e, f, g, h, a, b, c, d, 4);            \
    R(d, e, f, g, h, a, b, c, 5);            \
    R(c, d, e, f, g, h, a, b, 6);            \
    R(b, c, d, e, f, g, h, a, 7);            \
    R(a, b, c, d, e, f, g, h, 8);            \
    R(h, a, b, c, d, e, f, g, 9);            \
    R(g, h, a, b, c, d, e, f, 10);           \
    R(f, g, h, a, b, c, d, e, 11);           \
    R(e, f, g, h, a, b, c, d, 12);           \
    R(d, e, f, g, h, a, b, c, 13);           \
    R(c, d, e, f, g, h, a, b, 14);           \
    R(b, c, d, e, f, g, h, a, 15)

static void kinagg__sha256_blocks(uint32_t st[8], const unsigned char *p, size_t blocks) {
    for (; blocks; blocks--, p += 64) {
        uint32_t w[16], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
        const uint32_t *k = kinagg__sha256_k;
        unsigned i;
        for (i = 0; i < 16; i++) w[i] = kinagg__load32be(p + 4 * i);
        KINAGG__SHA_16ROUNDS(KINAGG__SHA_ROUND);
        for (i = 1; i < 4; i++) {
            k += 16;
            KINAGG__SHA_16ROUNDS(KINAGG__SHA_ROUNDX);
        }
        st[0] += a; st[1] += b; st[2] += c; st[3] += d; st[4] += e; st[5] += f; st[6] += g; st[7] += h;
    }
}
#else
/* SHA-256 as one loop over its 64 rounds: small code, and a schedule of 16
 * words kept as a ring (64 bytes of stack, not 256: this runs at the
 * bottom of the deepest call chain of a firmware). */
static void kinagg__sha256_blocks(uint32_t st[8], const unsigned char *p, size_t blocks) {
    for (; blocks; blocks--, p += 64) {
        uint32_t w[16], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
        unsigned i;
        for (i = 0; i < 64; i++) {
            uint32_t wi, t1, t2;
            if (i < 16) {
                wi = w[i] = kinagg__load32be(p + 4 * i);
            } else {
                wi = w[i & 15] + KINAGG__SHA_s0(w[(i + 1) & 15]) + w[(i + 9) & 15] + KINAGG__SHA_s1(w[(i + 14) & 15]);
                w[i & 15] = wi;
            }
            t1 = h + KINAGG__SHA_S1(e) + KINAGG__SHA_CH(e, f, g) + kinagg__sha256_k[i] + wi;
            t2 = KINAGG__SHA_S0(a) + (((a ^ b) & (b ^ c)) ^ b); /* Maj, in fewer bytes here */
            h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        {
            uint32_t v[8];
            v[0] = a; v[1] = b; v[2] = c; v[3] = d; v[4] = e; v[5] = f; v[6] = g; v[7] = h;
            for (i = 0; i < 8; i++) st[i] += v[i];
        }
    }
}
#endif /* KINAGG__SHA256_HW, KINAGG__FAST_CRYPTO */

/* Shared by MD5 and SHA-256: both take 64-byte blocks and count bytes. */
/* Which compression function a hash runs. A flag, not a function pointer:
 * a direct call keeps the call graph (and make size's stack bound) exact. */
typedef enum kinagg__hash_kind { KINAGG__MD5 = 0, KINAGG__SHA256 = 1 } kinagg__hash_kind;
static void kinagg__hash_blocks(kinagg__hash_kind kind, uint32_t *st, const unsigned char *p, size_t blocks) {
    if (kind == KINAGG__SHA256) kinagg__sha256_blocks(st, p, blocks);
    else kinagg__md5_blocks(st, p, blocks);
}
/* A context's fields, at the same offsets in both (checked below). */
#define KINAGG__HASH_TOTAL(ctx) ((uint64_t *)(ctx))
#define KINAGG__HASH_BLOCK(ctx) ((unsigned char *)(ctx) + offsetof(kinagg_md5_ctx, block))
#define KINAGG__HASH_STATE(ctx) ((uint32_t *)(void *)((unsigned char *)(ctx) + offsetof(kinagg_md5_ctx, state)))
typedef char kinagg__hash_layout[offsetof(kinagg_md5_ctx, total) == 0 && offsetof(kinagg_sha256_ctx, total) == 0 &&
                                         offsetof(kinagg_md5_ctx, block) == offsetof(kinagg_sha256_ctx, block) &&
                                         offsetof(kinagg_md5_ctx, state) == offsetof(kinagg_sha256_ctx, state)
                                     ? 1
                                     : -1];

/* The initial states: MD5's four words, then SHA-256's eight. */
static const uint32_t kinagg__hash_iv[12] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
                                             0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
static KINAGG__SMALL_NOINLINE void kinagg__hash_init(void *ctx, kinagg__hash_kind kind) {
    KINAGG_MEMCPY(KINAGG__HASH_STATE(ctx), kinagg__hash_iv + 4 * kind, 16 + 16 * (size_t)kind);
    *KINAGG__HASH_TOTAL(ctx) = 0;
}
static void kinagg__hash_update(void *ctx, const void *data, size_t len, kinagg__hash_kind kind) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t *total = KINAGG__HASH_TOTAL(ctx);
    unsigned char *block = KINAGG__HASH_BLOCK(ctx);
    uint32_t *st = KINAGG__HASH_STATE(ctx);
    size_t used = (size_t)(*total & 63);
    *total += len;
#if KINAGG__SMALL /* each byte through the block: small code, slower */
    for (; len; len--) {
        block[used++] = *p++;
        if (used == 64) {
            kinagg__hash_blocks(kind, st, block, 1);
            used = 0;
        }
    }
#else
    if (used) {
        size_t take = 64 - used < len ? 64 - used : len;
        KINAGG_MEMCPY(block + used, p, take);
        p += take; len -= take; used += take;
        if (used < 64) return;
        kinagg__hash_blocks(kind, st, block, 1);
    }
    if (len >= 64) kinagg__hash_blocks(kind, st, p, len / 64);
    p += len & ~(size_t)63;
    len &= 63;
    if (KINAGG__COPY_ANY || len) KINAGG_MEMCPY(block, p, len);
#endif
}
/* The padding: 0x80, zeros, the bit count (little-endian for MD5); then
 * the digest, the state's bytes, each word little-endian for MD5 and
 * big-endian for SHA-256. */
static void kinagg__hash_final(void *ctx, unsigned char *out, kinagg__hash_kind kind) {
    /* in the context's block: no buffer on the stack, at the bottom of the
     * deepest call chain of a firmware */
    uint64_t bits = *KINAGG__HASH_TOTAL(ctx) << 3;
    unsigned char *block = KINAGG__HASH_BLOCK(ctx);
    uint32_t *st = KINAGG__HASH_STATE(ctx);
    size_t used = (size_t)(*KINAGG__HASH_TOTAL(ctx) & 63);
    unsigned i, x = 3 * (unsigned)kind; /* 0: MD5, 3: SHA-256 */
#if KINAGG__SMALL
    block[used++] = 0x80;
    while (used != 56) { /* zeros up to the count's place, a byte at a time */
        if (used == 64) {
            kinagg__hash_blocks(kind, st, block, 1);
            used = 0;
        } else {
            block[used++] = 0;
        }
    }
#else
    block[used++] = 0x80;
    if (used > 56) {
        KINAGG_MEMSET(block + used, 0, 64 - used);
        kinagg__hash_blocks(kind, st, block, 1);
        used = 0;
    }
    KINAGG_MEMSET(block + used, 0, 56 - used);
#endif
    for (i = 0; i < 8; i++, bits >>= 8) block[56 + (i ^ (7 * (unsigned)kind))] = (unsigned char)bits;
    kinagg__hash_blocks(kind, st, block, 1);
    for (i = 0; i < 16 + 16 * (unsigned)kind; i++) out[i] = (unsigned char)(st[i >> 2] >> (8 * ((i & 3) ^ x)));
}

KINAGG_API void kinagg_md5_init(kinagg_md5_ctx *ctx) { kinagg__hash_init(ctx, KINAGG__MD5); }
KINAGG_API void kinagg_md5_update(kinagg_md5_ctx *ctx, const void *data, size_t len) {
    kinagg__hash_update(ctx, data, len, KINAGG__MD5);
}
KINAGG_API void kinagg_md5_final(kinagg_md5_ctx *ctx, unsigned char out[KINAGG_MD5_SIZE]) {
    kinagg__hash_final(ctx, out, KINAGG__MD5);
}

KINAGG_API void kinagg_sha256_init(kinagg_sha256_ctx *ctx) { kinagg__hash_init(ctx, KINAGG__SHA256); }
KINAGG_API void kinagg_sha256_update(kinagg_sha256_ctx *ctx, const void *data, size_t len) {
    kinagg__hash_update(ctx, data, len, KINAGG__SHA256);
}
KINAGG_API void kinagg_sha256_final(kinagg_sha256_ctx *ctx, unsigned char out[KINAGG_SHA256_SIZE]) {
    kinagg__hash_final(ctx, out, KINAGG__SHA256);
}

/* The one-shot forms call the shared code directly (the wrappers above
 * need not be linked). */
KINAGG_API void kinagg_md5(const void *data, size_t len, unsigned char out[KINAGG_MD5_SIZE]) {
    kinagg_md5_ctx c;
    kinagg__hash_init(&c, KINAGG__MD5);
    kinagg__hash_update(&c, data, len, KINAGG__MD5);
    kinagg__hash_final(&c, out, KINAGG__MD5);
}
KINAGG_API void kinagg_sha256(const void *data, size_t len, unsigned char out[KINAGG_SHA256_SIZE]) {
    kinagg_sha256_ctx c;
    kinagg__hash_init(&c, KINAGG__SHA256);
    kinagg__hash_update(&c, data, len, KINAGG__SHA256);
    kinagg__hash_final(&c, out, KINAGG__SHA256);
}
#endif /* KINAGG_USE_MBEDTLS */

/* HMAC key from two parts, so SigV4's "AWS4" + secret needs no buffer. */
static void kinagg__hmac_init2(kinagg_hmac_sha256_ctx *ctx, const void *k1, size_t l1, const void *k2, size_t l2) {
    unsigned char pad[64]; /* the key, padded, then xored in place: one buffer on the stack */
    kinagg_sha256_ctx *h;
    unsigned i, x;
    KINAGG_MEMSET(pad, 0, sizeof pad);
    if (l1 + l2 > 64) { /* a long key is hashed in the outer context, not yet in use */
        kinagg_sha256_init(&ctx->outer);
        kinagg_sha256_update(&ctx->outer, k1, l1);
        kinagg_sha256_update(&ctx->outer, k2, l2);
        kinagg_sha256_final(&ctx->outer, pad);
    } else {
        if (l1) KINAGG_MEMCPY(pad, k1, l1);
        if (l2) KINAGG_MEMCPY(pad + l1, k2, l2);
    }
    for (h = &ctx->inner, x = 0x36;; h = &ctx->outer, x = 0x36 ^ 0x5c) { /* the inner pad, then the outer */
        for (i = 0; i < 64; i++) pad[i] ^= (unsigned char)x;
        kinagg_sha256_init(h);
        kinagg_sha256_update(h, pad, 64);
        if (h == &ctx->outer) break;
    }
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
    size_t i; /* from the first digit on: bytes may be out's second half */
    for (i = 0; i < 2 * len; i++) { /* a digit for each half byte, high first */
        unsigned n = (unsigned)(bytes[i / 2] >> (i & 1 ? 0 : 4)) & 15;
        out[i] = (char)(n < 10 ? '0' + n : 'a' - 10 + n);
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
    unsigned char v[16];
    const unsigned char *from = key->be; /* the number, then v */
    size_t n = 0, i;
    int nonzero;
    do { /* v, digit = number / 10, number % 10; the digits come last first,
          * from the end of out */
        unsigned rem = 0;
        nonzero = 0;
        for (i = 0; i < 16; i++) {
            unsigned cur = (rem << 8) | from[i];
            v[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            nonzero |= v[i];
        }
        from = v;
        out[KINAGG_HASH_KEY_DECIMAL_MAX - ++n] = (char)('0' + rem);
    } while (nonzero);
    KINAGG_MEMMOVE(out, out + KINAGG_HASH_KEY_DECIMAL_MAX - n, n); /* to the front */
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
        uint32_t cp = p[i++];
        unsigned n = 0, k; /* n: continuation bytes */
        if (cp >= 0x80) {
            if (cp < 0xc2 || cp > 0xf4) return KINAGG_ERR_KEY_ENCODING;
            n = 1u + (unsigned)(cp >= 0xe0) + (unsigned)(cp >= 0xf0);
            if (len - i < n) return KINAGG_ERR_KEY_ENCODING;
            cp &= 0x3fu >> n;
            for (k = 0; k < n; k++) {
                if ((p[i] & 0xc0) != 0x80) return KINAGG_ERR_KEY_ENCODING;
                cp = (cp << 6) | (p[i++] & 0x3f);
            }
            /* overlong (below 2^11 in three bytes, 2^16 in four; a lead byte
             * from 0xc2 on keeps two bytes at 2^7 or more), out of range,
             * surrogate */
            if (cp < (1u << (5 * n + 1)) || cp > 0x10ffff || cp - 0xd800 < 0x800) return KINAGG_ERR_KEY_ENCODING;
        }
        units += n == 3 ? 2u : 1u;
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

static size_t kinagg__varint_len(size_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}
/* Writes a tag and a varint at p; returns the end. */
static unsigned char *kinagg__put_tagged(unsigned char *p, unsigned tag, size_t v) {
    *p++ = (unsigned char)tag;
    while (v >= 0x80) { *p++ = (unsigned char)(v | 0x80); v >>= 7; }
    *p++ = (unsigned char)v;
    return p;
}
/* Reads a varint at p[*pos..end); 0 on truncation or over 10 bytes. As
 * protobuf-java (the KCL's) and the other protobuf readers do, the bits of
 * a tenth byte beyond the 64th are dropped, not refused. */
static int kinagg__varint_get(const unsigned char *p, size_t end, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    size_t i = *pos;
    while (i < end) {
        unsigned char b = p[i++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *pos = i; *out = v; return 1; }
        shift += 7;
        if (shift > 63) return 0;
    }
    return 0;
}
/* Bytes of a length-delimited field: tag + length varint + body. */
static size_t kinagg__field_len(size_t body) { return 1 + kinagg__varint_len(body) + body; }

/* Bytes of a record entry's body: the key index fields (tag and varint
 * each), then the data field (data_field bytes). */
static size_t kinagg__record_body_len(size_t pk_index, int has_ehk, size_t ehk_index, size_t data_field) {
    return 1 + kinagg__varint_len(pk_index) + (has_ehk ? 1 + kinagg__varint_len(ehk_index) : 0) + data_field;
}

/* Where the records of an empty aggregate start: an eighth of the aggregate
 * is left before them for the key tables. */
static size_t kinagg__agg_first_record_at(const kinagg_agg *agg) {
    size_t usable = agg->cap < agg->max_bytes ? agg->cap : agg->max_bytes;
    return KINAGG__MAGIC_LEN + usable / 8;
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
    agg->records_start = kinagg__agg_first_record_at(agg);
    KINAGG_MEMCPY(agg->buf, kinagg__magic, KINAGG__MAGIC_LEN);
    return KINAGG_OK;
}

KINAGG_API size_t kinagg_agg_count(const kinagg_agg *agg) { return agg->record_count; }

KINAGG_API size_t kinagg_agg_size(const kinagg_agg *agg) {
    return KINAGG__OVERHEAD + agg->pk_table_len + agg->ehk_table_len + agg->records_len;
}

/* Index of a key among the entries at buf[start, start+len), counted from
 * the first of them, or the number of entries if absent. Entries were
 * written by us: well-formed. */
static size_t kinagg__table_find(const unsigned char *buf, size_t start, size_t len, const char *key,
                                 size_t key_len, size_t *entry_off) {
    size_t pos = start, end = start + len, index = 0;
    while (pos < end) {
        size_t body = 0;
        unsigned shift = 0, b;
        pos++; /* tag */
        do { /* the length: a varint we wrote */
            b = buf[pos++];
            body |= (size_t)(b & 0x7f) << shift;
            shift += 7;
        } while (b & 0x80);
        if (body == key_len && KINAGG_MEMCMP(buf + pos, key, key_len) == 0) {
            *entry_off = pos; /* never NULL: both callers pass one */
            return index;
        }
        pos += body;
        index++;
    }
    return index;
}

/* The key index: open addressing with linear probing over slots of two
 * words. Word 0 is 0 for an empty slot, else bit 31 the table (1: explicit
 * hash keys), bits 30..24 seven more bits of the key's hash (most probes of
 * other keys stop there, without reading the buffer), bits 23..0 the
 * entry's offset in its table + 1 (aggregates are at most 10 MiB). Word 1
 * is the key's index in its table. At most 3/4 of the slots are used, so a
 * probe always reaches an empty slot. Table offsets, unlike buffer offsets,
 * stay put when a new partition key pushes the hash key table along. */
#if KINAGG__AGG_INDEX
static uint32_t kinagg__agg_hash(const char *key, size_t len, int ehk) { /* MurmurHash3, x86_32 */
    const unsigned char *p = (const unsigned char *)key;
    uint32_t h = ehk ? 0x9e3779b9u : 0x85ebca6bu, k;
    size_t n = len;
    for (; n >= 4; n -= 4, p += 4) {
        k = ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24)) * 0xcc9e2d51u;
        k = ((k << 15) | (k >> 17)) * 0x1b873593u;
        h ^= k;
        h = ((h << 13) | (h >> 19)) * 5 + 0xe6546b64u;
    }
    k = 0; /* the last 1 to 3 bytes (if chains, not a switch that falls through: no warning to silence) */
    if (n == 3) k ^= (uint32_t)p[2] << 16;
    if (n >= 2) k ^= (uint32_t)p[1] << 8;
    if (n) {
        k ^= p[0];
        k *= 0xcc9e2d51u;
        k = ((k << 15) | (k >> 17)) * 0x1b873593u;
        h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
    return h;
}
static size_t kinagg__agg_slot(const kinagg_agg *agg, uint32_t hash) {
    return (size_t)(((uint64_t)hash * agg->index_slots) >> 32);
}
static uint32_t kinagg__agg_slot_tag(int ehk, uint32_t hash) {
    return ((uint32_t)(ehk != 0) << 31) | ((hash & 0x7f) << 24);
}

/* Indexes table entry number table_index at rel bytes into its table, if
 * all before it are indexed and there is room. */
static void kinagg__agg_index_add(kinagg_agg *agg, int ehk, uint32_t hash, size_t rel, size_t table_index,
                                  size_t entry_len) {
    size_t *indexed = ehk ? &agg->ehk_indexed : &agg->pk_indexed, slot;
    if (!agg->index || *indexed != table_index || agg->index_keys >= agg->index_slots - (agg->index_slots + 3) / 4)
        return;
    slot = kinagg__agg_slot(agg, hash);
    while (agg->index[2 * slot]) slot = slot + 1 == agg->index_slots ? 0 : slot + 1;
    agg->index[2 * slot] = kinagg__agg_slot_tag(ehk, hash) | (uint32_t)(rel + 1);
    agg->index[2 * slot + 1] = (uint32_t)table_index;
    agg->index_keys++;
    (*indexed)++;
    *(ehk ? &agg->ehk_indexed_len : &agg->pk_indexed_len) += entry_len;
}

/* Empties the index and adds the keys already in the tables. */
static void kinagg__agg_index_rebuild(kinagg_agg *agg) {
    int ehk;
    agg->index_keys = agg->pk_indexed = agg->ehk_indexed = agg->pk_indexed_len = agg->ehk_indexed_len = 0;
    if (!agg->index) return;
    KINAGG_MEMSET(agg->index, 0, agg->index_slots * 2 * sizeof *agg->index);
    for (ehk = 0; ehk < 2; ehk++) {
        size_t start = KINAGG__MAGIC_LEN + (ehk ? agg->pk_table_len : 0);
        size_t len = ehk ? agg->ehk_table_len : agg->pk_table_len, pos = 0, index = 0;
        while (pos < len) {
            uint64_t n = 0;
            size_t key = start + pos + 1, entry;
            (void)kinagg__varint_get(agg->buf, start + len, &key, &n);
            entry = key - start - pos + (size_t)n;
            kinagg__agg_index_add(agg, ehk, kinagg__agg_hash((const char *)agg->buf + key, (size_t)n, ehk), pos,
                                  index++, entry);
            pos += entry;
        }
    }
}
#endif /* KINAGG__AGG_INDEX */

KINAGG_API void kinagg_agg_set_index(kinagg_agg *agg, uint32_t *scratch, size_t n) {
    agg->index = NULL;
    agg->index_slots = 0;
#if KINAGG__AGG_INDEX
    if (scratch && n >= 2) {
        agg->index = scratch;
        agg->index_slots = n / 2 < 0x40000000u ? n / 2 : 0x40000000u;
    }
    kinagg__agg_index_rebuild(agg);
#else
    (void)scratch;
    (void)n;
#endif
}

KINAGG_API void kinagg_agg_reset(kinagg_agg *agg) {
    agg->pk_table_len = agg->ehk_table_len = agg->records_len = 0;
    agg->record_count = agg->pk_count = agg->ehk_count = 0;
    agg->last_pk_offset = agg->last_pk_index = 0;
    agg->finished = 0;
    agg->records_start = kinagg__agg_first_record_at(agg);
#if KINAGG__AGG_INDEX
    kinagg__agg_index_rebuild(agg);
#endif
    KINAGG_MEMCPY(agg->buf, kinagg__magic, KINAGG__MAGIC_LEN);
}

/* Index of a key in table ehk (0: partition keys), or the table's count if
 * it is not there. Sets *entry_off to where the key's bytes are, and *hash
 * for kinagg__agg_index_add when the key is new. */
static size_t kinagg__agg_find(const kinagg_agg *agg, int ehk, const char *key, size_t len, size_t *entry_off,
                               uint32_t *hash) {
    size_t start = KINAGG__MAGIC_LEN + (ehk ? agg->pk_table_len : 0);
    size_t table_len = ehk ? agg->ehk_table_len : agg->pk_table_len;
#if KINAGG__AGG_INDEX
    if (agg->index) {
        uint32_t h = kinagg__agg_hash(key, len, ehk), tag = kinagg__agg_slot_tag(ehk, h), w;
        size_t slot = kinagg__agg_slot(agg, h), indexed, indexed_len;
        *hash = h;
        while ((w = agg->index[2 * slot]) != 0) {
            if ((w & 0xff000000u) == tag) {
                size_t pos = start + (w & 0xffffffu); /* past the entry's tag */
                uint64_t n = 0;
                (void)kinagg__varint_get(agg->buf, start + table_len, &pos, &n);
                if (n == len && KINAGG_MEMCMP(agg->buf + pos, key, len) == 0) {
                    *entry_off = pos;
                    return agg->index[2 * slot + 1];
                }
            }
            slot = slot + 1 == agg->index_slots ? 0 : slot + 1;
        }
        indexed = ehk ? agg->ehk_indexed : agg->pk_indexed;
        indexed_len = ehk ? agg->ehk_indexed_len : agg->pk_indexed_len;
        if (indexed == (ehk ? agg->ehk_count : agg->pk_count)) return indexed; /* all indexed: a new key */
        return indexed + kinagg__table_find(agg->buf, start + indexed_len, table_len - indexed_len, key, len,
                                            entry_off);
    }
#endif
    *hash = 0;
    return kinagg__table_find(agg->buf, start, table_len, key, len, entry_off);
}

/* Where a record would go: its key indexes, whether they are new, sizes. */
typedef struct kinagg__agg_plan {
    size_t pk_index, ehk_index, pk_entry_off, ehk_entry_off;
    uint32_t pk_hash, ehk_hash;
    int pk_new, ehk_new, has_ehk;
    size_t add_keys;   /* bytes of new table entries */
    size_t body;       /* bytes of the record entry's body */
    size_t add_record; /* bytes of the record entry */
    size_t alone;      /* finished size of an aggregate holding only it */
} kinagg__agg_plan;

static void kinagg__agg_plan_record(const kinagg_agg *agg, const char *pk, size_t pk_len, const char *ehk,
                                    size_t ehk_len, size_t data_len, kinagg__agg_plan *pl) {
    size_t pk_entry, ehk_entry = 0, data_field = kinagg__field_len(data_len); /* bytes of table entries, data field */
    KINAGG_MEMSET(pl, 0, sizeof *pl);
    if (agg->last_pk_offset && agg->buf[agg->last_pk_offset - 1] == pk_len /* len < 128 */ &&
        KINAGG_MEMCMP(agg->buf + agg->last_pk_offset, pk, pk_len) == 0) {
        pl->pk_index = agg->last_pk_index;
        pl->pk_entry_off = agg->last_pk_offset;
    } else {
        pl->pk_index = kinagg__agg_find(agg, 0, pk, pk_len, &pl->pk_entry_off, &pl->pk_hash);
    }
    pk_entry = kinagg__field_len(pk_len);
    pl->pk_new = pl->pk_index == agg->pk_count;
    if (pl->pk_new) pl->add_keys = pk_entry;
    pl->has_ehk = ehk != NULL;
    if (ehk) {
        ehk_entry = kinagg__field_len(ehk_len);
        pl->ehk_index = kinagg__agg_find(agg, 1, ehk, ehk_len, &pl->ehk_entry_off, &pl->ehk_hash);
        pl->ehk_new = pl->ehk_index == agg->ehk_count;
        if (pl->ehk_new) pl->add_keys += ehk_entry;
    }
    pl->body = kinagg__record_body_len(pl->pk_index, pl->has_ehk, pl->ehk_index, data_field);
    pl->add_record = kinagg__field_len(pl->body);
    pl->alone = KINAGG__OVERHEAD + pk_entry + ehk_entry +
                kinagg__field_len(kinagg__record_body_len(0, pl->has_ehk, 0, data_field));
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

#if KINAGG__SMALL
static int kinagg__agg_ehk_ok(const char *s, size_t len) {
    kinagg_hash_key ignored;
    return kinagg_hash_key_parse(s, len, &ignored) == KINAGG_OK;
}
#else
/* What kinagg_hash_key_parse accepts (a decimal below 2^128 without
 * leading zeros), checked without its arithmetic. */
static int kinagg__agg_ehk_ok(const char *s, size_t len) {
    size_t i;
    if (len == 0 || len > KINAGG_HASH_KEY_DECIMAL_MAX || (s[0] == '0' && len > 1)) return 0;
    for (i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return len < KINAGG_HASH_KEY_DECIMAL_MAX || KINAGG_MEMCMP(s, "340282366920938463463374607431768211455", len) <= 0;
}
#endif

/* Adds a key at the end of table ehk (0: partition keys); returns the key's
 * offset. A new partition key entry pushes the (usually small) hash key
 * table along. */
static size_t kinagg__agg_table_add(kinagg_agg *agg, int ehk, const char *key, size_t len, uint32_t hash) {
    size_t *table_len = ehk ? &agg->ehk_table_len : &agg->pk_table_len;
    size_t *count = ehk ? &agg->ehk_count : &agg->pk_count;
    size_t at = KINAGG__MAGIC_LEN + agg->pk_table_len + (ehk ? agg->ehk_table_len : 0), n = kinagg__field_len(len);
    unsigned char *p;
    if (!ehk && (KINAGG__SMALL || agg->ehk_table_len)) /* moving 0 bytes is no harm, but no use */
        KINAGG_MEMMOVE(agg->buf + at + n, agg->buf + at, agg->ehk_table_len);
    p = kinagg__put_tagged(agg->buf + at, ehk ? KINAGG__TAG_EHK_TABLE : KINAGG__TAG_PK_TABLE, len);
    KINAGG_MEMCPY(p, key, len);
#if KINAGG__AGG_INDEX
    kinagg__agg_index_add(agg, ehk, hash, *table_len, *count, n);
#else
    (void)hash;
#endif
    *table_len += n;
    (*count)++;
    return (size_t)(p - agg->buf);
}

/* kinagg_agg_add after its checks of the record: the producer checked its
 * records at put, and an add should not check them again. */
static kinagg_status kinagg__agg_add_checked(kinagg_agg *agg, const char *pk, size_t pk_len, const char *ehk,
                                            size_t ehk_len, const void *data, size_t data_len) {
    kinagg__agg_plan pl;
    size_t total, front;
    unsigned char *p;
    kinagg__agg_plan_record(agg, pk, pk_len, ehk, ehk_len, data_len, &pl);
    if (pl.alone > agg->max_bytes) return KINAGG_ERR_TOO_LARGE;
    if (pl.alone > agg->cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    total = kinagg_agg_size(agg) + pl.add_keys + pl.add_record;
    if (total > agg->max_bytes || total > agg->cap) return KINAGG_ERR_AGGREGATE_FULL;

    /* From here on nothing can fail. If the tables would run into the
     * records, or the records off the end of the buffer, the records move to
     * the middle of the room left (the accounting above leaves at least the
     * MD5's 16 bytes), so that either side can grow again. */
    front = KINAGG__MAGIC_LEN + agg->pk_table_len + agg->ehk_table_len + pl.add_keys;
    if (front > agg->records_start || agg->records_start + agg->records_len + pl.add_record > agg->cap) {
        size_t to = front + (agg->cap - front - agg->records_len - pl.add_record) / 2;
        KINAGG_MEMMOVE(agg->buf + to, agg->buf + agg->records_start, agg->records_len); /* both in buf */
        agg->records_start = to;
    }
    if (pl.pk_new) pl.pk_entry_off = kinagg__agg_table_add(agg, 0, pk, pk_len, pl.pk_hash);
    if (pl.ehk_new) (void)kinagg__agg_table_add(agg, 1, ehk, ehk_len, pl.ehk_hash); /* has_ehk too */
    if (pk_len < 128) { /* the cache test reads a one-byte length */
        agg->last_pk_index = pl.pk_index;
        agg->last_pk_offset = pl.pk_entry_off;
    } else {
        agg->last_pk_offset = 0;
    }
    /* The record entry goes after the records already added. */
    p = agg->buf + agg->records_start + agg->records_len;
    agg->records_len += pl.add_record;
    p = kinagg__put_tagged(p, KINAGG__TAG_RECORD, pl.body);
    p = kinagg__put_tagged(p, KINAGG__TAG_REC_PK_INDEX, pl.pk_index);
    if (pl.has_ehk) p = kinagg__put_tagged(p, KINAGG__TAG_REC_EHK_INDEX, pl.ehk_index);
    p = kinagg__put_tagged(p, KINAGG__TAG_REC_DATA, data_len);
    if (KINAGG__COPY_ANY || data_len) KINAGG_MEMCPY(p, data, data_len);
    agg->record_count++;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_agg_add(kinagg_agg *agg, const char *pk, size_t pk_len, const char *ehk,
                                        size_t ehk_len, const void *data, size_t data_len) {
    kinagg_status st;
    if (!agg || (!data && data_len)) return KINAGG_ERR_INVALID_ARGUMENT;
    if (agg->finished) return KINAGG_ERR_STATE;
    st = kinagg_partition_key_check(pk, pk_len);
    if (st != KINAGG_OK) return st;
    if (ehk && !kinagg__agg_ehk_ok(ehk, ehk_len)) return KINAGG_ERR_HASH_KEY;
    if (data_len > KINAGG_RECORD_SIZE_MAX) return KINAGG_ERR_TOO_LARGE; /* keeps sums far from overflow */
    return kinagg__agg_add_checked(agg, pk, pk_len, ehk, ehk_len, data, data_len);
}

KINAGG_API kinagg_status kinagg_agg_finish(kinagg_agg *agg, const unsigned char **out, size_t *out_len) {
    size_t front = KINAGG__MAGIC_LEN + agg->pk_table_len + agg->ehk_table_len;
    if (!agg->record_count) return KINAGG_ERR_STATE;
    if (!agg->finished) {
#if KINAGG__SMALL
        /* The records move down to the tables, then all is hashed at once
         * (small code; a microcontroller has no data cache to keep pieces
         * in). */
        if (agg->records_start != front)
            KINAGG_MEMMOVE(agg->buf + front, agg->buf + agg->records_start, agg->records_len);
        agg->records_start = front;
        kinagg_md5(agg->buf + KINAGG__MAGIC_LEN, front - KINAGG__MAGIC_LEN + agg->records_len,
                   agg->buf + front + agg->records_len);
#else
        /* The records move down to the tables in pieces, each hashed while
         * it is still in the cache. Moving down, a piece never overwrites
         * one not yet moved. */
        kinagg_md5_ctx md5;
        size_t done = 0, piece = 16384;
        kinagg_md5_init(&md5);
        kinagg_md5_update(&md5, agg->buf + KINAGG__MAGIC_LEN, front - KINAGG__MAGIC_LEN);
        while (done < agg->records_len) {
            size_t n = agg->records_len - done < piece ? agg->records_len - done : piece;
            if (agg->records_start != front)
                KINAGG_MEMMOVE(agg->buf + front + done, agg->buf + agg->records_start + done, n);
            kinagg_md5_update(&md5, agg->buf + front + done, n);
            done += n;
        }
        agg->records_start = front;
        kinagg_md5_final(&md5, agg->buf + front + agg->records_len);
#endif
        agg->finished = 1;
    }
    if (out) *out = agg->buf;
    if (out_len) *out_len = kinagg_agg_size(agg);
    return KINAGG_OK;
}

/* ---- 6. Deaggregator ---------------------------------------------------- */

/* A field's key: its number and wire type. protobuf-java reads keys and
 * lengths as 32-bit varints (the low 32 bits of up to 10 bytes), and so
 * does this, so that an over-long encoding names the same field. */
static int kinagg__pb_key(const unsigned char *pb, size_t end, size_t *pos, uint32_t *field, unsigned *wt) {
    uint64_t key;
    if (!kinagg__varint_get(pb, end, pos, &key)) return 0;
    *field = (uint32_t)key >> 3;
    *wt = (unsigned)(key & 7);
    return *field != 0;
}
static int kinagg__pb_len(const unsigned char *pb, size_t end, size_t *pos, size_t *len) {
    uint64_t n;
    if (!kinagg__varint_get(pb, end, pos, &n)) return 0;
    n &= 0xffffffffu;
    if (n > 0x7fffffffu || n > end - *pos) return 0; /* (below 0 as a Java int) */
    *len = (size_t)n;
    return 1;
}

/* Messages and groups nest at most this deep (protobuf-java's recursion
 * limit, which counts both: a group inside a Record starts one deeper). */
#define KINAGG__PB_MAX_GROUPS 100

/* Skips the value of field `field` of wire type wt at pb[*pos..end), at
 * message depth depth_at: an unknown field, which protobuf requires readers
 * to skip, groups (wire types 3 and 4, of no field of this schema)
 * included, each group ended by an end of its own field number. */
static int kinagg__pb_skip(const unsigned char *pb, size_t end, size_t *pos, unsigned wt, uint32_t field,
                           size_t depth_at) {
    uint32_t open[KINAGG__PB_MAX_GROUPS]; /* the field numbers of the groups open */
    size_t depth = 0, n;
    uint64_t v;
    for (;;) {
        switch (wt) {
        case 0: if (!kinagg__varint_get(pb, end, pos, &v)) return 0; break;
        case 1: if (end - *pos < 8) return 0; *pos += 8; break;
        case 2: if (!kinagg__pb_len(pb, end, pos, &n)) return 0; *pos += n; break;
        case 3: if (depth_at + depth >= KINAGG__PB_MAX_GROUPS) return 0; open[depth++] = field; break;
        case 4: if (!depth || open[depth - 1] != field) return 0; depth--; break;
        case 5: if (end - *pos < 4) return 0; *pos += 4; break;
        default: return 0;
        }
        if (!depth) return 1;
        if (!kinagg__pb_key(pb, end, pos, &field, &wt)) return 0; /* the group's next field */
    }
}

/* Reads the next (field, wire type) key and, for wire type 2, the body's
 * bounds, in a message at depth `depth` (0: the AggregatedRecord, 1: a
 * Record, 2: a Tag). Returns 0 at a malformed field. */
static int kinagg__pb_next_in(const unsigned char *pb, size_t end, size_t *pos, uint64_t *field, unsigned *wt,
                              size_t *body, size_t *body_len, size_t depth) {
    uint32_t f;
    if (!kinagg__pb_key(pb, end, pos, &f, wt)) return 0;
    *field = f;
    if (*wt == 2) {
        if (!kinagg__pb_len(pb, end, pos, body_len)) return 0;
        *body = *pos;
        *pos += *body_len;
        return 1;
    }
    return kinagg__pb_skip(pb, end, pos, *wt, f, depth);
}
static int kinagg__pb_next(const unsigned char *pb, size_t end, size_t *pos, uint64_t *field, unsigned *wt,
                           size_t *body, size_t *body_len) {
    return kinagg__pb_next_in(pb, end, pos, field, wt, body, body_len, 0);
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
        if (!kinagg__pb_next_in(pb, end, &pos, &field, &wt, &body, &blen, 1)) return 0;
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
                if (!kinagg__pb_next_in(pb, tend, &tpos, &tf, &twt, &tb, &tl, 2)) return 0;
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
    /* the KCL wants more than the magic and an MD5 */
    if (it->in_len <= KINAGG__OVERHEAD || KINAGG_MEMCMP(it->in, kinagg__magic, KINAGG__MAGIC_LEN) != 0) return;
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
    kinagg_sha256_ctx *hash; /* NULL: the text is only wanted in copy */
    char *copy;
    size_t cap, len;
    int overflow;
} kinagg__sink;

static void kinagg__sink_put(kinagg__sink *s, const char *p, size_t n) {
    if (s->hash) kinagg_sha256_update(s->hash, p, n);
    if (s->copy) {
        if (s->len < s->cap && n < s->cap - s->len) KINAGG_MEMCPY(s->copy + s->len, p, n);
        else s->overflow = 1;
    }
    s->len += n;
}
static KINAGG__SMALL_NOINLINE void kinagg__sink_byte(kinagg__sink *s, char c) { kinagg__sink_put(s, &c, 1); }

static int kinagg__unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}
static int kinagg__hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20; /* 'A'-'F' to 'a'-'f'; no other byte lands there */
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

#ifdef KINAGG_SIGV4_SIMPLE_PATH
/* A path that is its own canonical form, normalized or not: empty, or "/"
 * and segments of unreserved bytes, none empty (but a last one), "." or "..". */
static int kinagg__path_simple(kinagg_str p) {
    size_t i, n = 0, dots = 0; /* the current segment's bytes, and its dots */
    if (p.len && p.ptr[0] != '/') return 0;
    for (i = 1; i <= p.len; i++) {
        unsigned char c = i < p.len ? (unsigned char)p.ptr[i] : '/';
        if (c == '/') {
            if ((n == 0 && i < p.len) || (n && n == dots && n <= 2)) return 0;
            n = dots = 0;
        } else {
            if (!kinagg__unreserved(c)) return 0;
            n++;
            dots += c == '.';
        }
    }
    return 1;
}
#else
/* A path segment's dots: 1 for ".", 2 for "..", else 0. */
static int kinagg__dots(const char *p, size_t n) { return (n == 1 || n == 2) && p[0] == '.' && p[n - 1] == '.' ? (int)n : 0; }

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

/* Canonical query: params sorted by encoded key, then value, equal ones in
 * their order in the query. Selection by repeated minimum (queries are
 * short): the next param is the least (param, position) after the last one
 * emitted. */
static void kinagg__canonical_query(kinagg__sink *s, kinagg_str q) {
    kinagg__param prev, cand, best;
    size_t pos, at, prev_at = 0, best_at = 0;
    int have_prev = 0;
    KINAGG_MEMSET(&prev, 0, sizeof prev);
    KINAGG_MEMSET(&best, 0, sizeof best);
    for (;;) {
        int have_best = 0;
        for (pos = 0; at = pos, kinagg__param_next(q, &pos, &cand);) {
            if (have_prev) {
                int c = kinagg__param_compare(&cand, &prev);
                if (c < 0 || (c == 0 && at <= prev_at)) continue;
            }
            if (!have_best || kinagg__param_compare(&cand, &best) < 0) {
                best = cand;
                best_at = at;
                have_best = 1;
            }
        }
        if (!have_best) return;
        if (have_prev) kinagg__sink_byte(s, '&');
        kinagg__enc_emit(s, best.key, best.key_len);
        kinagg__sink_byte(s, '=');
        kinagg__enc_emit(s, best.val, best.val_len);
        prev = best;
        prev_at = best_at;
        have_prev = 1;
    }
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
        if (end > start && !kinagg__dots(path.ptr + start, end - start)) {
            /* count the ".." to the right that are not used up by segments
             * between: this segment dies if one reaches it */
            long depth = 0;
            size_t j = end;
            int dies = 0;
            while (j < path.len) {
                size_t js = j + 1, je = js;
                int dots;
                while (je < path.len && path.ptr[je] != '/') je++;
                dots = kinagg__dots(path.ptr + js, je - js);
                if (dots == 2) {
                    if (depth == 0) { dies = 1; break; }
                    depth--;
                } else if (je > js && !dots) {
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
        if (kinagg__dots(path.ptr + ls, i - ls)) trailing = 1;
    }
    if (kept && trailing) kinagg__sink_byte(s, '/');
}
#endif /* KINAGG_SIGV4_SIMPLE_PATH */

static KINAGG__SMALL_NOINLINE char kinagg__lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Names in lowercase byte order (a name before any it is a prefix of);
 * only the sign of the result means anything. */
static int kinagg__name_compare(const kinagg_str *a, const kinagg_str *b) {
    size_t i;
    for (i = 0; i < a->len && i < b->len; i++) {
        int d = (unsigned char)kinagg__lower(a->ptr[i]) - (unsigned char)kinagg__lower(b->ptr[i]);
        if (d) return d;
    }
    return (a->len > b->len) - (a->len < b->len);
}

/* RFC 9110 tchar (ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~) as a bitmap of
 * the 128 ASCII codes: bit c of word c / 32. */
static const uint32_t kinagg__tchar_bits[4] = {0, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff};
static int kinagg__is_token(kinagg_str n) {
    size_t i;
    if (n.len == 0) return 0;
    for (i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char)n.ptr[i];
        if (c >= 128 || !(kinagg__tchar_bits[c >> 5] >> (c & 31) & 1)) return 0;
    }
    return 1;
}

/* A header value trimmed, with each run of whitespace (line folds too) as
 * one space. */
static void kinagg__emit_value(kinagg__sink *s, kinagg_str v) {
    size_t i;
    int state = 0; /* 0 before the first word, 1 in or after a word, 2 a space owed */
    for (i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (state) state = 2;
            continue;
        }
        if (state == 2) kinagg__sink_byte(s, ' ');
        kinagg__sink_byte(s, c);
        state = 1;
    }
}

/* Visits distinct header names in sorted order; returns the index of the
 * first header with the next name after `prev` (or count when done). */
static size_t kinagg__next_header(const kinagg_sigv4_request *r, const kinagg_str *prev) {
    size_t i, best = r->header_count;
    for (i = 0; i < r->header_count; i++) {
        if (prev && kinagg__name_compare(&r->headers[i].name, prev) <= 0) continue;
        if (best == r->header_count || kinagg__name_compare(&r->headers[i].name, &r->headers[best].name) < 0)
            best = i;
    }
    return best;
}

/* The headers' distinct names, sorted and lowercased: with their values,
 * "name:v1,v2\n" each (repeated names: values joined in order), for the
 * canonical headers; or alone, "a;b;c", for the signed headers. */
static void kinagg__headers(kinagg__sink *s, const kinagg_sigv4_request *r, int with_values) {
    const kinagg_str *prev = NULL;
    size_t h, i;
    while ((h = kinagg__next_header(r, prev)) < r->header_count) {
        if (prev && !with_values) kinagg__sink_byte(s, ';');
        prev = &r->headers[h].name;
        for (i = 0; i < prev->len; i++) kinagg__sink_byte(s, kinagg__lower(prev->ptr[i]));
        if (with_values) {
            char sep = ':';
            for (i = h; i < r->header_count; i++) {
                if (kinagg__name_compare(&r->headers[i].name, prev) != 0) continue;
                kinagg__sink_byte(s, sep);
                sep = ',';
                kinagg__emit_value(s, r->headers[i].value);
            }
            kinagg__sink_byte(s, '\n');
        }
    }
}

/* Bounded appender for the output header value. */
typedef struct kinagg__out {
    char *p;
    size_t cap, len;
} kinagg__out;
static void kinagg__out_put(kinagg__out *o, const char *p, size_t n) {
    /* text already in its place (a request head made in place) stays */
    if (o->len < o->cap && n < o->cap - o->len && p != o->p + o->len) KINAGG_MEMCPY(o->p + o->len, p, n);
    o->len += n;
}
static void kinagg__out_str(kinagg__out *o, kinagg_str s) { kinagg__out_put(o, s.ptr, s.len); }
static void kinagg__out_c(kinagg__out *o, const char *s) { kinagg__out_str(o, kinagg_str_c(s)); }

KINAGG_API void kinagg_sigv4_init(kinagg_sigv4_signer *signer, const kinagg_credentials *credentials) {
#if !KINAGG__SMALL /* else there is no cached key to mark invalid */
    KINAGG_MEMSET(signer, 0, sizeof *signer);
#endif
    signer->credentials = *credentials;
}

/* The parts of the texts to sign, by their codes in the formats: the
 * credential scope's four (also what derives the key), the method, the
 * path, the date and time, a hash or the signature in hex, the access key
 * id, then (10 is the newline) the algorithm. */
enum { KINAGG__P_NONE, KINAGG__P_DATE, KINAGG__P_REGION, KINAGG__P_SERVICE, KINAGG__P_AWS4, KINAGG__P_METHOD, KINAGG__P_PATH,
       KINAGG__P_AMZ_DATE, KINAGG__P_HEX, KINAGG__P_AKID, KINAGG__P_NEWLINE, KINAGG__P_ALGORITHM, KINAGG__P_COUNT };
/* The Authorization value; its start is also the algorithm and the "AWS4"
 * of the key. Codes 12 and 13 stand for the canonical and signed headers. */
#define KINAGG__AUTH_FMT "AWS4-HMAC-SHA256 Credential=\11/\1/\2/\3/\4, SignedHeaders=\15, Signature=\10"
/* The parts that are constants: the key's last link, the algorithm, the
 * canonical form of an empty path. */
static const kinagg_str kinagg__sig_fixed[3] = {{"aws4_request", 12}, {KINAGG__AUTH_FMT, 16}, {"/", 1}};

#if KINAGG__SMALL
/* Writes fmt to s, a byte at a time: its bytes, but for the codes above
 * (less code than each text written piece by piece, and slower). */
static void kinagg__sink_fmt(kinagg__sink *s, const kinagg_sigv4_request *r, const kinagg_str *const *part,
                            const char *fmt) {
    unsigned char k;
    while ((k = (unsigned char)*fmt++) != 0) {
        if (k > 13 || k == '\n') kinagg__sink_byte(s, (char)k);
        else if (k > 11) kinagg__headers(s, r, k == 12);
        else kinagg__sink_put(s, part[k]->ptr, part[k]->len);
    }
}
#else
/* The credential scope: date/region/service/aws4_request. */
static void kinagg__scope(kinagg__sink *s, const kinagg_sigv4_request *r) {
    kinagg__sink_put(s, r->amz_date.ptr, 8);
    kinagg__sink_byte(s, '/');
    kinagg__sink_put(s, r->region.ptr, r->region.len);
    kinagg__sink_byte(s, '/');
    kinagg__sink_put(s, r->service.ptr, r->service.len);
    kinagg__sink_put(s, "/aws4_request", 13);
}
#endif

/* Derives (or finds cached) the signing key and leaves m keyed with it; m
 * is the caller's context, so that one context serves the whole signature.
 * Built with KINAGG_SMALL, no cache: four HMACs for each signature (a
 * fraction of a millisecond on a microcontroller) for less code. */
static void kinagg__signing_key(kinagg_sigv4_signer *sg, const kinagg_str *const *part, kinagg_hmac_sha256_ctx *m) {
    const kinagg_str *secret = &sg->credentials.secret_access_key;
    int i; /* part[1..4]: what each HMAC of the chain takes in turn */
#if !KINAGG__SMALL
    {
        /* What the key depends on, hashed: a new secret, date, region or
         * service derives a new key. The zero bytes keep the fields apart. */
        unsigned char tag[KINAGG_SHA256_SIZE], differs = !sg->key_valid;
        kinagg_sha256_init(&m->inner);
        kinagg_sha256_update(&m->inner, secret->ptr, secret->len);
        for (i = 0; i < 3; i++) {
            kinagg_sha256_update(&m->inner, "", 1);
            kinagg_sha256_update(&m->inner, part[i + 1]->ptr, part[i + 1]->len);
        }
        kinagg_sha256_final(&m->inner, tag);
        for (i = 0; i < KINAGG_SHA256_SIZE; i++) { /* compared and kept in one pass */
            differs |= (unsigned char)(tag[i] ^ sg->key_tag[i]);
            sg->key_tag[i] = tag[i];
        }
        if (!differs) {
            kinagg_hmac_sha256_init(m, sg->signing_key, sizeof sg->signing_key);
            return;
        }
    }
#endif
    /* each link's key is taken in by the next init before the next final
     * overwrites it; the last init keys m for the string to sign */
    kinagg__hmac_init2(m, KINAGG__AUTH_FMT, 4, secret->ptr, secret->len); /* "AWS4" */
    for (i = 0; i < 4; i++) {
        kinagg_hmac_sha256_update(m, part[i + 1]->ptr, part[i + 1]->len);
        kinagg_hmac_sha256_final(m, sg->signing_key);
        kinagg_hmac_sha256_init(m, sg->signing_key, sizeof sg->signing_key);
    }
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
    /* One HMAC context serves throughout: its inner hash takes the canonical
     * request, its outer one the payload when it is given whole; then it
     * derives the signing key and takes the string to sign. */
    kinagg_hmac_sha256_ctx m;
    kinagg__sink s;
    char hex[2 * KINAGG_SHA256_SIZE];
    /* each digest in the second half of hex, spelled out in place (see
     * kinagg_hex), after what hex held is used: no buffer of its own */
    unsigned char *digest = (unsigned char *)hex + KINAGG_SHA256_SIZE;
    const kinagg_str *part[KINAGG__P_COUNT];
    kinagg_str date, hexs; /* the parts not found elsewhere: the date alone, the hex */
    size_t i;
    if (!signer || !r || !out || (r->header_count && !r->headers) || !kinagg__amz_date_ok(r->amz_date) ||
        !r->method.ptr || !r->region.len || !r->service.len || (!r->payload_sha256_hex && r->payload_len && !r->payload))
        return KINAGG_ERR_INVALID_ARGUMENT;
#ifdef KINAGG_SIGV4_SIMPLE_PATH
    if (r->query.len || !kinagg__path_simple(r->path)) return KINAGG_ERR_INVALID_ARGUMENT;
#endif
    for (i = 0; i < r->header_count; i++)
        if (!kinagg__is_token(r->headers[i].name)) return KINAGG_ERR_HEADER;
    if (r->payload_sha256_hex)
        for (i = 0; i < 64; i++) { /* checked, and kept in lowercase for the canonical request */
            if (kinagg__hexval((unsigned char)r->payload_sha256_hex[i]) < 0) return KINAGG_ERR_INVALID_ARGUMENT;
            hex[i] = (char)(r->payload_sha256_hex[i] | 0x20); /* a hex digit: '0'-'9' keep that bit */
        }
    else {
        kinagg_sha256_init(&m.outer);
        kinagg_sha256_update(&m.outer, r->payload ? r->payload : "", r->payload_len);
        kinagg_sha256_final(&m.outer, digest);
        kinagg_hex(digest, KINAGG_SHA256_SIZE, hex);
    }
    date.ptr = r->amz_date.ptr;
    date.len = 8;
    hexs.ptr = hex;
    hexs.len = 64;
    part[KINAGG__P_DATE] = &date;
    part[KINAGG__P_REGION] = &r->region;
    part[KINAGG__P_SERVICE] = &r->service;
    part[KINAGG__P_AWS4] = &kinagg__sig_fixed[0];
    part[KINAGG__P_METHOD] = &r->method;
    part[KINAGG__P_PATH] = r->path.len ? &r->path : &kinagg__sig_fixed[2];
    part[KINAGG__P_AMZ_DATE] = &r->amz_date;
    part[KINAGG__P_HEX] = &hexs;
    part[KINAGG__P_AKID] = &signer->credentials.access_key_id;
    /* part[KINAGG__P_NONE] and part[KINAGG__P_NEWLINE] are never read: the end, the newline */
    part[KINAGG__P_ALGORITHM] = &kinagg__sig_fixed[1];

    /* Canonical request */
    KINAGG_MEMSET(&s, 0, sizeof s);
    s.hash = &m.inner;
    kinagg_sha256_init(&m.inner);
    if (trace) { s.copy = trace->canonical_request; s.cap = trace->canonical_request_cap; }
#if KINAGG__SMALL && defined(KINAGG_SIGV4_SIMPLE_PATH)
    kinagg__sink_fmt(&s, r, part, "\5\n\6\n\n\14\n\15\n\10");
#else /* the same, piece by piece */
    kinagg__sink_put(&s, r->method.ptr, r->method.len);
    kinagg__sink_byte(&s, '\n');
#ifdef KINAGG_SIGV4_SIMPLE_PATH
    kinagg__sink_put(&s, part[KINAGG__P_PATH]->ptr, part[KINAGG__P_PATH]->len);
    kinagg__sink_put(&s, "\n\n", 2);
#else
    kinagg__canonical_path(&s, r->path, r->normalize_path);
    kinagg__sink_byte(&s, '\n');
    kinagg__canonical_query(&s, r->query);
    kinagg__sink_byte(&s, '\n');
#endif
    kinagg__headers(&s, r, 1);
    kinagg__sink_byte(&s, '\n');
    kinagg__headers(&s, r, 0);
    kinagg__sink_byte(&s, '\n');
    kinagg__sink_put(&s, hex, 64);
#endif
    kinagg_sha256_final(&m.inner, digest);
    if (s.overflow) return KINAGG_ERR_BUFFER_TOO_SMALL;
    if (trace && trace->canonical_request) {
        trace->canonical_request[s.len] = '\0';
        trace->canonical_request_len = s.len;
    }
    /* the string to sign (122 bytes and the scope's region and service) is
     * under 256 bytes: an absurd region or service is refused */
    if (r->region.len > 133 || r->service.len > 133 - r->region.len) return KINAGG_ERR_INVALID_ARGUMENT;

    /* String to sign, hashed by HMAC with the signing key as it is made */
    kinagg__signing_key(signer, part, &m);
    KINAGG_MEMSET(&s, 0, sizeof s);
    s.hash = &m.inner; /* what kinagg_hmac_sha256_update feeds */
    if (trace) { s.copy = trace->string_to_sign; s.cap = trace->string_to_sign_cap; }
    kinagg_hex(digest, KINAGG_SHA256_SIZE, hex);
#if KINAGG__SMALL
    kinagg__sink_fmt(&s, r, part, "\13\n\7\n\1/\2/\3/\4\n\10");
#else
    kinagg__sink_put(&s, KINAGG__AUTH_FMT, 16); /* the algorithm */
    kinagg__sink_byte(&s, '\n');
    kinagg__sink_put(&s, r->amz_date.ptr, r->amz_date.len);
    kinagg__sink_byte(&s, '\n');
    kinagg__scope(&s, r);
    kinagg__sink_byte(&s, '\n');
    kinagg__sink_put(&s, hex, 64);
#endif
    kinagg_hmac_sha256_final(&m, digest); /* the signature */
    if (s.overflow) return KINAGG_ERR_BUFFER_TOO_SMALL;
    if (trace && trace->string_to_sign) {
        trace->string_to_sign[s.len] = '\0';
        trace->string_to_sign_len = s.len;
    }
    if (trace) hexs.ptr = trace->signature_hex; /* the signature in hex, once */
    kinagg_hex(digest, KINAGG_SHA256_SIZE, trace ? trace->signature_hex : hex);
    if (trace) trace->signature_hex[64] = '\0';

    /* Authorization value */
    KINAGG_MEMSET(&s, 0, sizeof s); /* no hash: a copy only */
    s.copy = out;
    s.cap = out_cap;
#if KINAGG__SMALL
    kinagg__sink_fmt(&s, r, part, KINAGG__AUTH_FMT);
#else
    kinagg__sink_put(&s, KINAGG__AUTH_FMT, 28);
    kinagg__sink_put(&s, signer->credentials.access_key_id.ptr, signer->credentials.access_key_id.len);
    kinagg__sink_byte(&s, '/');
    kinagg__scope(&s, r);
    kinagg__sink_put(&s, ", SignedHeaders=", 16);
    kinagg__headers(&s, r, 0);
    kinagg__sink_put(&s, ", Signature=", 12);
    kinagg__sink_put(&s, hexs.ptr, 64);
#endif
    if (s.overflow) { /* else each piece left room after it: s.len < out_cap */
        if (out_cap) out[0] = '\0';
        return KINAGG_ERR_BUFFER_TOO_SMALL;
    }
    out[s.len] = '\0';
    if (out_len) *out_len = s.len;
    return KINAGG_OK;
}

/* n /= d, returning n % d, for d from 1 to 65535, in 32-bit arithmetic, so
 * a 32-bit target needs no 64-bit division from libgcc. */
#if KINAGG__SMALL
/* A bit at a time: 26 bytes less on the M4 than 16 bits at a time (below),
 * and slower (64 steps a call: a call for each decimal digit written, and
 * in the producer one for each PutRecords entry). This one takes any d
 * from 1 to 2^31. */
static uint32_t kinagg__divmod16(uint64_t *n, uint32_t d) {
    uint64_t q = *n; /* n's bits go out at the top into r, the quotient's come in at the bottom */
    uint32_t r = 0;
    int i;
    for (i = 0; i < 64; i++) {
        r = r << 1 | (uint32_t)(q >> 63); /* below 2d: fits */
        q <<= 1;
        if (r >= d) {
            r -= d;
            q |= 1;
        }
    }
    *n = q;
    return r;
}
#else /* 16 bits at a time */
static uint32_t kinagg__divmod16(uint64_t *n, uint32_t d) {
    uint32_t w[2], r = 0; /* the high word, then the low one; each becomes its quotient */
    int i, k;
    w[0] = (uint32_t)(*n >> 32);
    w[1] = (uint32_t)*n;
    for (i = 0; i < 2; i++) {
        uint32_t q = 0;
        for (k = 16; k >= 0; k -= 16) {
            uint32_t cur = r << 16 | (w[i] >> k & 0xffff);
            q = q << 16 | cur / d;
            r = cur % d;
        }
        w[i] = q;
    }
    *n = (uint64_t)w[0] << 32 | w[1];
    return r;
}
#endif

/* Quotients of 64-bit numbers by small divisors in 32-bit arithmetic, so
 * that 32-bit CPUs link no 64-bit division (about 900 bytes on the M4). */
static uint64_t kinagg__udiv(uint64_t n, uint32_t d) {
    (void)kinagg__divmod16(&n, d);
    return n;
}
static int64_t kinagg__sdiv(int64_t n, uint32_t d) { /* rounds toward 0, as / */
    uint64_t m = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
    (void)kinagg__divmod16(&m, d);
    return n < 0 ? -(int64_t)m : (int64_t)m;
}

KINAGG_API void kinagg_sigv4_amz_date(uint64_t t, char out[17]) {
    /* days to civil date: Howard Hinnant's algorithm, for dates from 1970;
     * without KINAGG_SMALL, whose kinagg__divmod16 takes divisors up to
     * 65535, 86400 = 128 * 675 and 146097 = 27 * 5411 keep them small.
     * Past the days count all is 32-bit: the era (below 2^31 even for
     * t = 2^64 - 1) matters to the year's last four digits only as era % 25. */
    uint32_t secs, doe, era, yoe, doy, mp, m, v;
    int i;
#if KINAGG__SMALL /* days and seconds, then eras and days, by one division each (see kinagg__divmod16) */
    uint64_t z = t;
    secs = kinagg__divmod16(&z, 86400);
    z += 719468;
    doe = kinagg__divmod16(&z, 146097);
#else
    uint64_t z = t >> 7;
    secs = kinagg__divmod16(&z, 675) << 7 | (uint32_t)(t & 127);
    z += 719468;
    doe = kinagg__divmod16(&z, 27);
    doe += 27 * kinagg__divmod16(&z, 5411);
#endif
    era = (uint32_t)z;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    m = mp < 10 ? mp + 3 : mp - 9;
    /* HHMMSS (the seconds of the day in mixed radix: the tens of seconds
     * and of minutes are digits of base 6), then YYYYMMDD (its last 8
     * digits), written from the right in one loop */
    v = secs;
    for (i = 14; i >= 0; i--) {
        uint32_t base = i == 13 || i == 11 ? 6 : 10;
        if (i == 8) {
            out[8] = 'T';
            v = (yoe + era % 25 * 400 + (m <= 2)) * 10000 + m * 100 + doy - (153 * mp + 2) / 5 + 1;
            continue;
        }
        out[i] = (char)('0' + v % base);
        v /= base;
    }
    out[15] = 'Z';
    out[16] = '\0';
}


/* ---- 8. Transport: declarations only (the ports implement it) ----------- */

/* ---- 9. HTTP/1.1 client ------------------------------------------------- */

/* SEND: send_buf[chunk_sent, chunk_len) goes out: first the head (chunk_sent
 * below head_len, a head is never empty), then each body piece read after it */
enum { KINAGG__ST_IDLE, KINAGG__ST_CONNECT, KINAGG__ST_SEND, KINAGG__ST_RECV, KINAGG__ST_DONE };
/* response body framing; no body at all (204, 304) is LENGTH 0 */
enum { KINAGG__FR_LENGTH, KINAGG__FR_CHUNKED, KINAGG__FR_CLOSE };
/* chunked decoding: the states that take one byte at a time first (in the
 * order of kinagg__chunk_next), then DATA, DONE and two pseudo-states */
enum { KINAGG__CH_SIZE, KINAGG__CH_EXT, KINAGG__CH_SIZE_LF, KINAGG__CH_DATA_CR, KINAGG__CH_DATA_LF,
       KINAGG__CH_TRAILER, KINAGG__CH_TRAILER_LINE, KINAGG__CH_END_LF, KINAGG__CH_DATA, KINAGG__CH_DONE,
       KINAGG__CH_AFTER_SIZE /* DATA, or TRAILER after the last chunk */, KINAGG__CH_BAD };

KINAGG_API void kinagg_http_init(kinagg_http_client *c, const kinagg_transport *transport, void *send_buf,
                                 size_t send_cap, void *recv_buf, size_t recv_cap) {
    KINAGG_MEMSET(c, 0, sizeof *c);
    c->transport = *transport;
    c->send_buf = (unsigned char *)send_buf;
    c->send_cap = send_cap;
    c->recv_buf = (unsigned char *)recv_buf;
    c->recv_cap = recv_cap;
    c->connect_timeout_ms = 5000;
    c->send_timeout_ms = 10000;
    c->recv_timeout_ms = 10000;
    /* init again without a close (of a producer too): the transport may
     * still hold the connection of a request on the wire, whose answer
     * would be read as the next request's */
    c->connected = 1;
    kinagg_http_close(c);
}

KINAGG_API void kinagg_http_close(kinagg_http_client *c) {
    if (c->connected && c->transport.close) c->transport.close(c->transport.ctx);
    c->connected = 0;
    if (c->state != KINAGG__ST_IDLE) c->state = KINAGG__ST_DONE;
}

static int kinagg__ieq(kinagg_str a, const char *b) {
    size_t i;
    for (i = 0; b[i]; i++) { /* equal, or the same letter in the other case */
        unsigned char x, y = (unsigned char)b[i];
        if (i == a.len) return 0;
        x = (unsigned char)a.ptr[i];
        if (x != y && ((x ^ y) != 0x20 || (unsigned char)((x | 0x20) - 'a') > 25)) return 0;
    }
    return i == a.len;
}

/* Whether a comma-separated header value holds token t (any case): each
 * piece between commas is compared without the white space around it (a
 * folded value's CR and LF count as white space). */
static int kinagg__has_token(kinagg_str v, const char *t) {
    size_t i, s = 0, e = 0; /* the piece's text so far: [s, e), none while s == e */
    for (i = 0; i <= v.len; i++) {
        char ch = i < v.len ? v.ptr[i] : ',';
        if (ch == ',') {
            kinagg_str tok;
            tok.ptr = v.ptr + s;
            tok.len = e - s;
            if (kinagg__ieq(tok, t)) return 1; /* an empty one never matches: t is not empty */
            s = e = 0;
        } else if ((unsigned char)ch > ' ') {
            if (s == e) s = i;
            e = i + 1;
        }
    }
    return 0;
}

KINAGG_API const kinagg_str *kinagg_http_header_get(const kinagg_http_response *r, const char *name) {
    size_t i;
    for (i = 0; i < r->header_count; i++)
        if (kinagg__ieq(r->headers[i].name, name)) return &r->headers[i].value;
    return NULL;
}

/* Whether a header may be one kinagg reads (Content-Length,
 * Transfer-Encoding, Connection, Date, Content-Type, x-amzn-ErrorType), by
 * its length and its first and last letters (another that shares all three
 * passes too). */
static int kinagg__header_read(kinagg_str name) {
    static const unsigned char sigs[] = {14, 'c', 'h', 17, 't', 'g', 10, 'c', 'n', 4, 'd', 'e', 12, 'c', 'e', 16, 'x', 'e'};
    unsigned i;
    for (i = 0; i < sizeof sigs; i += 3)
        if (name.len == sigs[i] && (name.ptr[0] | 0x20) == sigs[i + 1] && (name.ptr[name.len - 1] | 0x20) == sigs[i + 2])
            return 1;
    return 0;
}

/* Stateless head parser: lines end in CRLF (a bare LF is accepted too). */
KINAGG_API size_t kinagg_http_parse_head(const unsigned char *buf, size_t len, kinagg_http_response *r) {
    const char *p = (const char *)buf;
    size_t pos = 0, line_end, i;
    int status = 0, prev = 0;
    /* find the end of the head first: nothing is parsed from a partial head */
    for (i = 1;; i++) { /* a LF that ends an empty line: after LF, or after LF CR */
        if (i >= len) return 0;
        if (p[i] == '\n' && (p[i - 1] == '\n' || (p[i - 1] == '\r' && i >= 2 && p[i - 2] == '\n'))) break;
    }
    r->header_count = 0;
    /* status line: HTTP/1.x SP DDD SP reason */
    for (line_end = 0; p[line_end] != '\n'; line_end++) {}
    if (line_end < 12 || KINAGG_MEMCMP(p, "HTTP/1.", 7) != 0 || (unsigned char)(p[7] - '0') > 1 || p[8] != ' ')
        return (size_t)-1;
    r->version_minor = p[7] - '0';
    for (i = 9; i < 12; i++) { /* the code's three digits */
        unsigned char d = (unsigned char)(p[i] - '0');
        if (d > 9) return (size_t)-1;
        status = status * 10 + d;
    }
    /* p[12] is the line's LF if it ends after the code */
    if (status < 100 || (p[12] != ' ' && p[12] != '\r' && p[12] != '\n')) return (size_t)-1;
    r->status = status;
    r->reason.ptr = p + 12 + (p[12] == ' ');
    r->reason.len = (size_t)(p + line_end - r->reason.ptr);
    if (r->reason.len && r->reason.ptr[r->reason.len - 1] == '\r') r->reason.len--;
    for (pos = line_end + 1;; pos = line_end + 1) {
        size_t colon, vs, ve;
        /* obsolete line folding (a line starting with SP or HT) continues
         * the field before: its value is stretched over the fold, which
         * kinagg reads as white space (RFC 9112 5.2: as SP). prev: the
         * line before was a field, 1 kept in the table, 2 only checked */
        int fold = p[pos] == ' ' || p[pos] == '\t';
        for (line_end = pos; p[line_end] != '\n'; line_end++) {}
        if (line_end == pos || (line_end == pos + 1 && p[pos] == '\r')) return line_end + 1; /* blank line */
        for (colon = pos; !fold && colon < line_end && p[colon] != ':'; colon++) {}
        /* no colon, or a fold with no field before it; else the name must
         * be a token, which also refuses an empty name */
        if (fold ? !prev : colon == line_end) return (size_t)-1;
        {
            kinagg_str name;
            size_t slot = r->header_count;
            name.ptr = p + pos;
            name.len = colon - pos;
            if (!fold && !kinagg__is_token(name)) return (size_t)-1;
            vs = fold ? pos : colon + 1;
            ve = line_end;
            while (vs < ve && (p[vs] == ' ' || p[vs] == '\t')) vs++;
            while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t' || p[ve - 1] == '\r')) ve--;
            for (i = vs; i < ve; i++)
                if ((unsigned char)p[i] < 0x20 && p[i] != '\t') return (size_t)-1;
            if (fold) {
                if (prev == 1 && ve > vs) { /* (prev 1: slot is at least 1) */
                    kinagg_str *v = &r->headers[slot - 1].value;
                    if (!v->len) v->ptr = p + vs; /* nothing on the field's own line */
                    v->len = (size_t)(p + ve - v->ptr);
                }
                continue;
            }
            prev = 2;
            /* the table's last 6 places are for the headers kinagg reads (a
             * proxy may add many lines): others past them are only checked */
            if (slot + 6 >= KINAGG_HTTP_MAX_HEADERS && !kinagg__header_read(name)) continue;
            if (slot == KINAGG_HTTP_MAX_HEADERS) return (size_t)-1;
            prev = 1;
            r->header_count++;
            r->headers[slot].name = name;
            r->headers[slot].value.ptr = p + vs;
            r->headers[slot].value.len = ve - vs;
        }
    }
}

static int kinagg__header_safe(kinagg_str s) {
    size_t i;
    for (i = 0; i < s.len; i++)
        if (s.ptr[i] == '\r' || s.ptr[i] == '\n' || s.ptr[i] == '\0') return 0;
    return 1;
}

static void kinagg__out_u64(kinagg__out *o, uint64_t v) {
    char d[20];
    size_t n = sizeof d;
    do { d[--n] = (char)('0' + kinagg__divmod16(&v, 10)); } while (v);
    kinagg__out_put(o, d + n, sizeof d - n); /* all the digits, or none if they do not fit */
}

/* A request head's first line, and a header line. */
static void kinagg__head_start(kinagg__out *o, kinagg_str method, kinagg_str target) {
    kinagg__out_str(o, method);
    kinagg__out_c(o, " ");
    kinagg__out_str(o, target);
    kinagg__out_c(o, " HTTP/1.1\r\n");
}
static void kinagg__head_line(kinagg__out *o, const kinagg_http_header *h) {
    kinagg__out_str(o, h->name);
    kinagg__out_c(o, ": ");
    kinagg__out_str(o, h->value);
    kinagg__out_c(o, "\r\n");
}

/* The request goes out from its first byte, with the body from its start:
 * at once on an open connection, else after connecting. */
static void kinagg__http_start(kinagg_http_client *c, uint64_t now) {
    c->body_sent = c->chunk_sent = 0;
    c->send_failed = 0;
    c->chunk_len = c->head_len;
    if (c->body && c->body->rewind) c->body->rewind(c->body->ctx);
    c->state = c->connected ? KINAGG__ST_SEND : KINAGG__ST_CONNECT;
    c->deadline = now + (c->connected ? c->send_timeout_ms : c->connect_timeout_ms);
}

KINAGG_API kinagg_status kinagg_http_begin(kinagg_http_client *c, const char *host, uint16_t port,
                                           kinagg_str method, kinagg_str target, const kinagg_http_header *headers,
                                           size_t header_count, const kinagg_body *body, size_t body_len,
                                           uint64_t now_ms) {
    kinagg__out o;
    size_t i, host_len = 0;
    int has_host = 0;
    if (!c || !host || !method.len || !target.len || (header_count && !headers)) return KINAGG_ERR_INVALID_ARGUMENT;
    if (c->state != KINAGG__ST_IDLE && c->state != KINAGG__ST_DONE) return KINAGG_ERR_STATE;
    host_len = kinagg_str_c(host).len;
    if (host_len == 0 || host_len >= sizeof c->host) return KINAGG_ERR_INVALID_ARGUMENT;
    if (!kinagg__is_token(method) || !kinagg__header_safe(target)) return KINAGG_ERR_INVALID_ARGUMENT;
    if (body_len && !body) return KINAGG_ERR_INVALID_ARGUMENT;
    if (c->connected && (c->port != port || KINAGG_MEMCMP(c->host, host, host_len + 1) != 0)) kinagg_http_close(c);
    if (c->connected) {
        /* a kept-alive connection the server has closed (as idle), or on
         * which it sent what we did not ask for (a 408 as it closed): a new
         * one now, rather than a request sent into it and sent again. (One
         * byte, not into the receive buffer: the caller may still read the
         * last answer there, such as a paging token for this request.) */
        unsigned char byte;
        size_t n = 0;
        if (c->transport.recv(c->transport.ctx, &byte, 1, &n) != KINAGG_IO_AGAIN) kinagg_http_close(c);
    }
    KINAGG_MEMCPY(c->host, host, host_len + 1);
    c->port = port;

    o.p = (char *)c->send_buf;
    o.cap = c->send_cap;
    o.len = 0;
    kinagg__head_start(&o, method, target);
    for (i = 0; i < header_count; i++) {
        if (!kinagg__is_token(headers[i].name)) return KINAGG_ERR_HEADER;
        if (!kinagg__header_safe(headers[i].value)) return KINAGG_ERR_HEADER;
        if (kinagg__ieq(headers[i].name, "host")) has_host = 1;
        if (kinagg__ieq(headers[i].name, "content-length")) return KINAGG_ERR_HEADER; /* ours to set */
        kinagg__head_line(&o, &headers[i]);
    }
    if (!has_host) { /* the port is named unless it is a default one */
        kinagg__out_c(&o, "Host: ");
        kinagg__out_c(&o, host);
        if (port != 80 && port != 443) {
            kinagg__out_c(&o, ":");
            kinagg__out_u64(&o, port);
        }
        kinagg__out_c(&o, "\r\n");
    }
    kinagg__out_c(&o, "Content-Length: ");
    kinagg__out_u64(&o, body_len);
    kinagg__out_c(&o, "\r\n\r\n");
    /* the head stays at the start of the send buffer (a request sent again
     * on a new connection needs it); body pieces go after it */
    if (o.len >= o.cap || (body_len && c->send_cap - o.len < 64)) return KINAGG_ERR_BUFFER_TOO_SMALL;

    c->head_len = o.len;
    c->body = body;
    c->body_len = body_len;
    c->raw_end = c->resp_head_len = 0; /* raw_pos and dec_end are set with the head */
    /* the response and error_detail after it: cleared */
    KINAGG_MEMSET(&c->response, 0, (size_t)((char *)(&c->error_detail + 1) - (char *)&c->response));
    c->reused = c->connected;
    c->resent = 0;
    c->requests++;
    kinagg__http_start(c, now_ms);
    return KINAGG_OK;
}

static kinagg_status kinagg__http_fail(kinagg_http_client *c, kinagg_status st) {
    /* the transport's text for its own failures only: a port keeps its last
     * text, which would name an old failure beside a parse error */
    if (!c->error_detail && c->transport.error && st >= KINAGG_ERR_CONNECT && st <= KINAGG_ERR_IO &&
        st != KINAGG_ERR_TIMEOUT)
        c->error_detail = c->transport.error(c->transport.ctx);
    kinagg_http_close(c); /* polling: the state is not IDLE, and becomes DONE */
    return st;
}

/* A kept-alive connection may have been closed by the server while idle:
 * the first failure on it, before any response byte, reconnects and sends
 * the request again, once (the retry clears reused, as does an interim
 * answer, whose bytes are dropped from the buffer). */
static int kinagg__http_retry_stale(kinagg_http_client *c, uint64_t now) {
    if (!c->reused || c->raw_end != 0) return 0;
    kinagg_http_close(c); /* connected while sending or receiving */
    c->reused = 0;
    c->resent = 1;
    kinagg__http_start(c, now);
    return 1;
}

/* The next state of a one-byte state on CR, on LF, on any other byte (a
 * chunk size's hex digits are taken before the table is looked at). */
static const unsigned char kinagg__chunk_next[KINAGG__CH_DATA][3] = {
    {KINAGG__CH_SIZE_LF, KINAGG__CH_AFTER_SIZE, KINAGG__CH_EXT},              /* SIZE: ';', SP, HT start ext */
    {KINAGG__CH_SIZE_LF, KINAGG__CH_AFTER_SIZE, KINAGG__CH_EXT},              /* EXT */
    {KINAGG__CH_BAD, KINAGG__CH_AFTER_SIZE, KINAGG__CH_BAD},                  /* SIZE_LF */
    {KINAGG__CH_DATA_LF, KINAGG__CH_SIZE, KINAGG__CH_BAD},                    /* DATA_CR */
    {KINAGG__CH_BAD, KINAGG__CH_SIZE, KINAGG__CH_BAD},                        /* DATA_LF */
    {KINAGG__CH_END_LF, KINAGG__CH_DONE, KINAGG__CH_TRAILER_LINE},            /* TRAILER */
    {KINAGG__CH_TRAILER_LINE, KINAGG__CH_TRAILER, KINAGG__CH_TRAILER_LINE},   /* TRAILER_LINE */
    {KINAGG__CH_BAD, KINAGG__CH_DONE, KINAGG__CH_BAD},                        /* END_LF */
};

/* Decodes the body in place: raw bytes from raw_pos are consumed and their
 * payload moved down to dec_end. Returns 1 done, 0 more, -1 bad. A body of
 * Content-Length bytes is one DATA run of them; one read to the close is a
 * DATA run of (size_t)-1 bytes (a receive buffer never holds that many). */
static int kinagg__http_dechunk(kinagg_http_client *c) {
    unsigned char *b = c->recv_buf;
    for (;;) {
        unsigned char ch;
        int st = c->chunk_state, h, k;
        if (st == KINAGG__CH_DATA) {
#if KINAGG__SMALL /* a byte at a time */
            if (c->chunk_size && c->raw_pos != c->raw_end) {
                b[c->dec_end++] = b[c->raw_pos++];
                c->chunk_size--;
                continue;
            }
#else
            size_t n = c->raw_end - c->raw_pos;
            if (n > c->chunk_size) n = c->chunk_size;
            KINAGG_MEMMOVE(b + c->dec_end, b + c->raw_pos, n);
            c->dec_end += n;
            c->raw_pos += n;
            c->chunk_size -= n;
#endif
            if (c->chunk_size) break; /* the bytes ran out first */
            c->chunk_state = c->framing == KINAGG__FR_CHUNKED ? KINAGG__CH_DATA_CR : KINAGG__CH_DONE;
            continue;
        }
        if (st == KINAGG__CH_DONE || c->raw_pos == c->raw_end) break;
        ch = b[c->raw_pos++];
        k = ch == '\r' ? 0 : ch == '\n' ? 1 : 2;
        if (st == KINAGG__CH_SIZE) {
            h = kinagg__hexval(ch);
            if (h >= 0) {
                c->chunk_has_digit = 1; /* leading zeros too, as many as come */
                /* past what size_t holds, the chunk cannot fit the receive
                 * buffer either way: saturate */
                c->chunk_size = c->chunk_size > (size_t)-1 >> 4 ? (size_t)-1 : c->chunk_size * 16 + (unsigned)h;
                continue;
            }
            if (c->chunk_has_digit == 0 || (k == 2 && ch != ';' && ch != ' ' && ch != '\t')) return -1;
        }
        st = kinagg__chunk_next[st][k];
        if (st == KINAGG__CH_BAD) return -1;
        if (st == KINAGG__CH_AFTER_SIZE) st = c->chunk_size ? KINAGG__CH_DATA : KINAGG__CH_TRAILER;
        if (st == KINAGG__CH_SIZE) c->chunk_has_digit = 0; /* chunk_size is 0 again: its data ran out */
        c->chunk_state = st;
    }
    /* undecoded bytes move down so the buffer's free room is what is left */
    if (c->raw_pos > c->dec_end) {
        size_t rest = c->raw_end - c->raw_pos;
        KINAGG_MEMMOVE(b + c->dec_end, b + c->raw_pos, rest);
        c->raw_end = c->dec_end + rest;
        c->raw_pos = c->dec_end;
    }
    return c->chunk_state == KINAGG__CH_DONE;
}

/* Works on what has been received. Returns OK complete, PENDING more
 * needed, or an error. More needed with the buffer full is RESPONSE_TOO_LARGE:
 * the receive step finds it before asking for bytes. */
static kinagg_status kinagg__http_process(kinagg_http_client *c) {
    kinagg_http_response *r = &c->response;
    while (!c->resp_head_len) {
        size_t n = kinagg_http_parse_head(c->recv_buf, c->raw_end, r);
        const kinagg_str *te = NULL;
        size_t i;
        int told = 0; /* a Connection line says the other than the version's default; 2: close */
        uint64_t cl = (size_t)-1; /* saturated at 2^50: compared, then bounded by the buffer */
        if (n == 0) return KINAGG_PENDING;
        if (n == (size_t)-1) return KINAGG_ERR_HTTP_PARSE;
        if (r->status < 200) { /* interim (100 Continue): drop it */
            KINAGG_MEMMOVE(c->recv_buf, c->recv_buf + n, c->raw_end - n);
            c->raw_end -= n;
            c->reused = 0; /* an answer began: a close now is no stale connection */
            continue;
        }
        c->resp_head_len = n; /* not 0: a head has a status line */
        c->raw_pos = c->dec_end = n;
        c->framing = KINAGG__FR_CLOSE;
        for (i = 0; i < r->header_count; i++) {
            /* a folded value's CR, LF and HT become spaces (RFC 9112 5.2),
             * in the buffer, which is ours: every reader of it sees one line */
            size_t j;
            for (j = 0; j < r->headers[i].value.len; j++)
                if ((unsigned char)r->headers[i].value.ptr[j] < ' ')
                    c->recv_buf[(size_t)(r->headers[i].value.ptr + j - (const char *)c->recv_buf)] = ' ';
            if (kinagg__ieq(r->headers[i].name, "content-length")) {
                kinagg_str v = r->headers[i].value;
                uint64_t x = 0;
                size_t j;
                if (v.len == 0) return KINAGG_ERR_HTTP_PARSE;
                for (j = 0; j < v.len; j++) { /* leading zeros too; past 2^50 (no buffer holds that), saturated */
                    if (v.ptr[j] < '0' || v.ptr[j] > '9') return KINAGG_ERR_HTTP_PARSE;
                    x = x * 10 + (uint64_t)(v.ptr[j] - '0');
                    if (x >> 50) x = (uint64_t)1 << 50;
                }
                if (c->framing == KINAGG__FR_LENGTH && x != cl) return KINAGG_ERR_HTTP_PARSE;
                c->framing = KINAGG__FR_LENGTH;
                cl = x;
            }
            /* a field on several lines is one list (RFC 9110 5.3): the
             * last Transfer-Encoding line ends it, any Connection line may
             * hold the token. HTTP/1.1 keeps the connection unless told
             * "close"; 1.0 closes it unless told "keep-alive" */
            if (kinagg__ieq(r->headers[i].name, "transfer-encoding")) te = &r->headers[i].value;
            if (kinagg__ieq(r->headers[i].name, "connection") &&
                kinagg__has_token(r->headers[i].value, r->version_minor ? "close" : "keep-alive"))
                told = 1;
        }
        if (te) {
            /* chunked must be the last coding (after a comma or a space; a
             * parsed value ends in neither white space nor CR); anything
             * else reads to the close */
            size_t e = te->len;
            /* with a Content-Length too, or in HTTP/1.0, the framing is
             * faulty (RFC 9112 6.1): read as chunked, then closed */
            told = c->framing == KINAGG__FR_LENGTH || !r->version_minor ? 2 : told;
            c->framing = KINAGG__FR_CLOSE;
            if (e >= 7 && (e == 7 || te->ptr[e - 8] == ',' || te->ptr[e - 8] == ' ')) {
                kinagg_str last;
                last.ptr = te->ptr + e - 7;
                last.len = 7;
                if (kinagg__ieq(last, "chunked")) c->framing = KINAGG__FR_CHUNKED;
            }
            cl = (size_t)-1;
        }
        if (r->status == 204 || r->status == 304) { /* no body, whatever the headers say */
            c->framing = KINAGG__FR_LENGTH;
            cl = 0;
        }
        r->keep_alive = r->version_minor ^ told;
        if (c->framing == KINAGG__FR_CLOSE || told == 2) r->keep_alive = 0;
        if (c->framing == KINAGG__FR_LENGTH && cl > c->recv_cap - n) {
            /* an error page larger than the buffer (a proxy's, a firewall's):
             * its status says what went wrong, and what fits of it is kept */
            if (r->status / 100 == 2) return KINAGG_ERR_RESPONSE_TOO_LARGE;
            cl = c->recv_cap - n;
            r->keep_alive = 0;
        }
        /* the body: chunks, or one run of cl bytes ((size_t)-1 when it reads to the close) */
        c->chunk_state = c->framing == KINAGG__FR_CHUNKED ? KINAGG__CH_SIZE : KINAGG__CH_DATA;
        c->chunk_size = c->framing == KINAGG__FR_CHUNKED ? 0 : (size_t)cl; /* fits: it was just bounded */
        c->chunk_has_digit = 0;
    }
    {
        int d = kinagg__http_dechunk(c);
        if (d < 0) return KINAGG_ERR_HTTP_PARSE;
        if (!d) return KINAGG_PENDING;
        if (c->raw_end > c->raw_pos) r->keep_alive = 0; /* bytes we did not ask for */
        return KINAGG_OK;
    }
}

static KINAGG__SMALL_NOINLINE void kinagg__http_complete(kinagg_http_client *c) {
    c->response.body = c->recv_buf + c->resp_head_len;
    c->response.body_len = c->dec_end - c->resp_head_len;
    c->state = KINAGG__ST_DONE;
    if (c->send_failed) c->response.keep_alive = 0; /* the request went out in part only */
    if (!c->response.keep_alive) kinagg_http_close(c); /* connected while receiving */
}

KINAGG_API kinagg_status kinagg_http_poll(kinagg_http_client *c, uint64_t now, unsigned *wait_events,
                                          uint64_t *wake_ms) {
    unsigned ev = 0;
    uint64_t wake;
    c->sent_in_poll = 0;
    for (;;) {
        kinagg_io io;
        size_t n = 0;
        switch (c->state) {
        case KINAGG__ST_CONNECT:
            /* from the first try, and on failure too: close releases what
             * connect took, a connect under way as well (a socket, a TLS
             * handshake), so one that timed out is begun anew, not waited on */
            c->connected = 1;
            io = c->transport.connect(c->transport.ctx, c->host, c->port);
            if (io == KINAGG_IO_AGAIN) { ev = KINAGG_WAIT_WRITE; break; }
            if (io != KINAGG_IO_OK)
                return kinagg__http_fail(c, io == KINAGG_IO_TLS_ERROR ? KINAGG_ERR_TLS : KINAGG_ERR_CONNECT);
            c->connections++;
            c->state = KINAGG__ST_SEND;
            c->deadline = now + c->send_timeout_ms;
            continue;
        case KINAGG__ST_SEND: {
            size_t left;
            if (c->chunk_sent == c->chunk_len) { /* the head, or a body piece, is out */
                size_t want = c->body_len - c->body_sent, room = c->send_cap - c->head_len;
                if (want == 0) {
                    c->state = KINAGG__ST_RECV;
                    c->deadline = now + c->recv_timeout_ms;
                    continue;
                }
                if (c->send_budget && c->sent_in_poll >= c->send_budget) { /* the rest next poll */
                    ev = KINAGG_WAIT_WRITE;
                    wake = now;
                    goto pending;
                }
                left = c->body->read(c->body->ctx, c->send_buf + c->head_len, want < room ? want : room);
                if (left == 0 || left > want) /* the body broke its promise */
                    return kinagg__http_fail(c, KINAGG_ERR_INVALID_ARGUMENT);
                c->chunk_sent = c->head_len;
                c->chunk_len = c->head_len + left;
            }
            left = c->chunk_len - c->chunk_sent;
            n = 0;
            io = c->transport.send(c->transport.ctx, c->send_buf + c->chunk_sent, left, &n);
            /* (OK with nothing sent, against the contract: as AGAIN, not a
             * poll that never returns) */
            if (io == KINAGG_IO_OK && n) {
                if (n > left) n = left;
                if (c->chunk_sent >= c->head_len) { /* body bytes */
                    c->body_sent += n;
                    c->sent_in_poll += n;
                }
                c->chunk_sent += n;
                c->deadline = now + c->send_timeout_ms; /* a slow link sends a large body in time */
                continue;
            }
            if (io <= KINAGG_IO_AGAIN) { ev = KINAGG_WAIT_WRITE; break; }
            /* a server may answer before it has taken the whole request and
             * close (a 413 for a body over its limit): its answer, already
             * here, is read before the failure counts (RFC 9112 9.5) */
            if (io == KINAGG_IO_TLS_ERROR) goto io_failed;
            c->send_failed = (int)io;
            c->state = KINAGG__ST_RECV;
            continue;
        }
        case KINAGG__ST_RECV: {
            kinagg_status st;
            if (c->raw_end == c->recv_cap) {
                if (!c->resp_head_len || c->response.status / 100 == 2)
                    return kinagg__http_fail(c, KINAGG_ERR_RESPONSE_TOO_LARGE);
                c->response.keep_alive = 0; /* an error page: what fits of it (above) */
                kinagg__http_complete(c);
                return KINAGG_OK;
            }
            n = 0;
            io = c->transport.recv(c->transport.ctx, c->recv_buf + c->raw_end, c->recv_cap - c->raw_end, &n);
            if (io == KINAGG_IO_OK && n) {
                if (n > c->recv_cap - c->raw_end) n = c->recv_cap - c->raw_end;
                c->raw_end += n;
                st = kinagg__http_process(c);
                if (st == KINAGG_PENDING) continue;
                if (st != KINAGG_OK) return kinagg__http_fail(c, st);
                kinagg__http_complete(c);
                return KINAGG_OK;
            }
            if (io <= KINAGG_IO_AGAIN) {
                if (c->send_failed) { io = (kinagg_io)c->send_failed; goto io_failed; } /* nothing came */
                ev = KINAGG_WAIT_READ;
                break;
            }
            if (io == KINAGG_IO_CLOSED && c->resp_head_len && c->framing == KINAGG__FR_CLOSE) {
                /* the body ends here: process left dec_end at raw_end and keep_alive 0 */
                kinagg__http_complete(c);
                return KINAGG_OK;
            }
        }
        io_failed: /* sending or receiving failed */
            if (kinagg__http_retry_stale(c, now)) continue;
            return kinagg__http_fail(c, io == KINAGG_IO_CLOSED ? KINAGG_ERR_CLOSED
                                        : io == KINAGG_IO_TLS_ERROR ? KINAGG_ERR_TLS : KINAGG_ERR_IO);
        case KINAGG__ST_DONE: return KINAGG_OK;
        default: return KINAGG_ERR_STATE;
        }
        /* waiting on the transport */
        if (now >= c->deadline) return kinagg__http_fail(c, KINAGG_ERR_TIMEOUT);
        wake = c->deadline;
    pending:
        if (wait_events) *wait_events = ev;
        if (wake_ms) *wake_ms = wake;
        return KINAGG_PENDING;
    }
}

KINAGG_API kinagg_status kinagg_http_run(kinagg_http_client *c, const kinagg_platform *platform) {
    for (;;) {
        uint64_t now = platform->now_ms(platform->ctx), wake = 0;
        unsigned ev = 0;
        kinagg_status st = kinagg_http_poll(c, now, &ev, &wake);
        if (st != KINAGG_PENDING) return st;
        if (c->transport.wait) {
            uint64_t t = wake > now ? wake - now : 0;
            (void)c->transport.wait(c->transport.ctx, ev, (uint32_t)(t > 1000 ? 1000 : t));
        }
    }
}

/* ---- 10. Kinesis -------------------------------------------------------- */

static const char kinagg__b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Three bytes to four characters. */
#define KINAGG__B64_GROUP(in, out)                                                    \
    do {                                                                              \
        uint32_t v_ = ((uint32_t)(in)[0] << 16) | ((uint32_t)(in)[1] << 8) | (in)[2]; \
        (out)[0] = t[v_ >> 18];                                                       \
        (out)[1] = t[(v_ >> 12) & 63];                                                \
        (out)[2] = t[(v_ >> 6) & 63];                                                 \
        (out)[3] = t[v_ & 63];                                                        \
    } while (0)

KINAGG_API size_t kinagg_base64_encode(const unsigned char *in, size_t len, char *out) {
    const char *t = kinagg__b64_alphabet;
    size_t i = 0, o = 0;
#if KINAGG__FAST_CRYPTO
    for (; len - i >= 12; i += 12, o += 16) { /* four groups a turn */
        KINAGG__B64_GROUP(in + i, out + o);
        KINAGG__B64_GROUP(in + i + 3, out + o + 4);
        KINAGG__B64_GROUP(in + i + 6, out + o + 8);
        KINAGG__B64_GROUP(in + i + 9, out + o + 12);
    }
    for (; len - i >= 3; i += 3, o += 4) KINAGG__B64_GROUP(in + i, out + o);
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
#else
    /* small code: six bits at a time from an accumulator */
    uint32_t acc = 0;
    unsigned bits = 0;
    for (; i < len; i++) {
        acc = acc << 8 | in[i];
        for (bits += 8; bits >= 6;) out[o++] = t[(acc >> (bits -= 6)) & 63];
    }
    if (bits) out[o++] = t[(acc << (6 - bits)) & 63];
    while (o % 4) out[o++] = '=';
#endif
    return o;
}

#if KINAGG__FAST_CRYPTO
static const unsigned char kinagg__b64_values[256] = { /* 255: not base64 */
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
    255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

KINAGG_API size_t kinagg_base64_decode(const char *in, size_t len, unsigned char *out) {
    const unsigned char *t = kinagg__b64_values;
    size_t i, o = 0, pad = 0, rest;
    uint32_t acc;
    if (len % 4) return (size_t)-1;
    if (len && in[len - 1] == '=') pad++;
    if (len > 1 && in[len - 2] == '=') pad++;
    /* Whole groups by table. Four characters are read before three bytes
     * are written, so decoding in place (out == in) overwrites nothing unread. */
    for (i = 0; len - pad - i >= 4; i += 4, o += 3) {
        unsigned a = t[(unsigned char)in[i]], b = t[(unsigned char)in[i + 1]], c = t[(unsigned char)in[i + 2]],
                 d = t[(unsigned char)in[i + 3]];
        if ((a | b | c | d) & 0x80) return (size_t)-1;
        acc = (a << 18) | (b << 12) | (c << 6) | d;
        out[o] = (unsigned char)(acc >> 16);
        out[o + 1] = (unsigned char)(acc >> 8);
        out[o + 2] = (unsigned char)acc;
    }
    rest = len - pad - i; /* the characters before the padding: 0, 2 or 3 */
    for (acc = 0; i < len - pad; i++) {
        unsigned v = t[(unsigned char)in[i]];
        if (v & 0x80) return (size_t)-1;
        acc = (acc << 6) | v;
    }
    if (rest == 3) { out[o++] = (unsigned char)(acc >> 10); out[o++] = (unsigned char)(acc >> 2); }
    else if (rest == 2) { out[o++] = (unsigned char)(acc >> 4); }
    return o;
}
#else
static int kinagg__b64val(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* One character at a time: small code. */
KINAGG_API size_t kinagg_base64_decode(const char *in, size_t len, unsigned char *out) {
    size_t i, o = 0, pad = 0;
    uint32_t acc = 0;
    unsigned n = 0;
    if (len % 4) return (size_t)-1;
    if (len && in[len - 1] == '=') pad++;
    if (len > 1 && in[len - 2] == '=') pad++;
    for (i = 0; i < len - pad; i++) {
        int v = kinagg__b64val((unsigned char)in[i]);
        if (v < 0) return (size_t)-1;
        acc = (acc << 6) | (uint32_t)v;
        if (++n == 4) {
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
            n = 0;
        }
    }
    if (n == 3) { out[o++] = (unsigned char)(acc >> 10); out[o++] = (unsigned char)(acc >> 2); }
    else if (n == 2) { out[o++] = (unsigned char)(acc >> 4); }
    else if (n == 1) return (size_t)-1;
    return o;
}
#endif

static kinagg_status kinagg__host_copy(kinagg_endpoint *ep, const char *p, size_t n) {
    size_t i;
    if (n == 0 || n >= sizeof ep->host) return KINAGG_ERR_ENDPOINT;
    for (i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == ':' || c == '_'))
            return KINAGG_ERR_ENDPOINT;
    }
    KINAGG_MEMCPY(ep->host, p, n);
    ep->host[n] = '\0';
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_endpoint_from_url(kinagg_endpoint *ep, kinagg_str url) {
    size_t i = 0, hs, he;
    unsigned long port = 0;
    kinagg_status st;
    if (!ep || !url.ptr) return KINAGG_ERR_INVALID_ARGUMENT;
    KINAGG_MEMSET(ep, 0, sizeof *ep);
    ep->tls = 1;
    {
        kinagg_str head;
        head.ptr = url.ptr;
        head.len = url.len >= 8 ? 8 : url.len;
        if (head.len == 8 && kinagg__ieq(head, "https://")) i = 8;
        else if ((head.len = 7, url.len >= 7 && kinagg__ieq(head, "http://"))) { i = 7; ep->tls = 0; }
    }
    if (i < url.len && url.ptr[i] == '[') { /* IPv6 literal */
        hs = i + 1;
        for (he = hs; he < url.len && url.ptr[he] != ']'; he++) {}
        if (he == url.len) return KINAGG_ERR_ENDPOINT;
        st = kinagg__host_copy(ep, url.ptr + hs, he - hs);
        i = he + 1;
    } else {
        hs = i;
        for (he = hs; he < url.len && url.ptr[he] != ':' && url.ptr[he] != '/'; he++) {}
        st = kinagg__host_copy(ep, url.ptr + hs, he - hs);
        i = he;
    }
    if (st != KINAGG_OK) return st;
    if (i < url.len && url.ptr[i] == ':') {
        size_t digits = 0;
        for (i++; i < url.len && url.ptr[i] >= '0' && url.ptr[i] <= '9'; i++, digits++) {
            port = port * 10 + (unsigned long)(url.ptr[i] - '0');
            if (port > 65535) return KINAGG_ERR_ENDPOINT;
        }
        if (!digits || port == 0) return KINAGG_ERR_ENDPOINT;
    }
    if (i < url.len && !(url.ptr[i] == '/' && i + 1 == url.len)) return KINAGG_ERR_ENDPOINT; /* no paths */
    ep->port = (uint16_t)(port ? port : ep->tls ? 443 : 80);
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_endpoint_from_region(kinagg_endpoint *ep, kinagg_str region) {
    kinagg__out o;
    size_t i;
    if (!ep || !region.ptr || region.len == 0 || region.len > 63) return KINAGG_ERR_ENDPOINT;
    for (i = 0; i < region.len; i++) {
        char c = region.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return KINAGG_ERR_ENDPOINT;
    }
    KINAGG_MEMSET(ep, 0, sizeof *ep);
    o.p = ep->host;
    o.cap = sizeof ep->host;
    o.len = 0;
    kinagg__out_c(&o, "kinesis.");
    kinagg__out_str(&o, region);
    {
        /* the partition's DNS suffix, by the region's prefix (as the AWS
         * SDKs' partitions list has them), pairs ended by the default's
         * empty prefix (an array: literals would share a section kept
         * whole in every firmware, this function or not) */
        static const char parts[] = "cn-\0.amazonaws.com.cn\0us-iso-\0.c2s.ic.gov\0us-isob-\0.sc2s.sgov.gov\0"
                                    "eu-isoe-\0.cloud.adc-e.uk\0us-isof-\0.csp.hci.ic.gov\0eusc-\0.amazonaws.eu\0"
                                    "\0.amazonaws.com";
        const char *at = parts;
        for (;;) {
            size_t n = kinagg_str_c(at).len;
            const char *suffix = at + n + 1;
            if (!n || (n < region.len && KINAGG_MEMCMP(region.ptr, at, n) == 0)) {
                kinagg__out_c(&o, suffix);
                break;
            }
            at = suffix + kinagg_str_c(suffix).len + 1;
        }
    }
    ep->host[o.len] = '\0';
    ep->port = 443;
    ep->tls = 1;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_kinesis_init(kinagg_kinesis *k, const kinagg_endpoint *endpoint, kinagg_str region,
                                             const kinagg_credentials *credentials, kinagg_protocol protocol,
                                             const kinagg_transport *transport, const kinagg_platform *platform,
                                             void *send_buf, size_t send_cap, void *recv_buf, size_t recv_cap) {
    if (!k || !endpoint || !credentials || !transport || !platform || !platform->now_ms || !platform->unix_ms ||
        !send_buf || !recv_buf || region.len == 0 || region.len >= sizeof k->region || send_cap < 1024 ||
        recv_cap < 1024 || (protocol != KINAGG_PROTOCOL_JSON && protocol != KINAGG_PROTOCOL_CBOR) ||
        !KINAGG__BUILT(protocol == KINAGG_PROTOCOL_CBOR))
        return KINAGG_ERR_INVALID_ARGUMENT;
    KINAGG_MEMSET(k, 0, sizeof *k);
    kinagg_http_init(&k->http, transport, send_buf, send_cap, recv_buf, recv_cap);
    kinagg_sigv4_init(&k->signer, credentials);
    KINAGG_MEMCPY(&k->endpoint, endpoint, sizeof *endpoint);
    KINAGG_MEMCPY(&k->platform, platform, sizeof *platform);
    KINAGG_MEMCPY(k->region, region.ptr, region.len); /* the NUL after it: zeroed above */
    k->protocol = protocol;
    return KINAGG_OK;
}

/* ---- request bodies: a writer for small ones, a generator for PutRecords */

/* Writes a text's window: p gets its bytes from skip on, cap of them (the
 * text is made again for each piece, so it needs no buffer of its own);
 * len counts the whole text. */
typedef struct kinagg__w {
    unsigned char *p; /* NULL: only count */
    size_t cap, len, skip;
} kinagg__w;

static void kinagg__w_put(kinagg__w *w, const void *s, size_t n) {
    if (w->p && w->len + n > w->skip && w->len < w->skip + w->cap) {
        size_t from = w->len < w->skip ? w->skip - w->len : 0, at = w->len + from - w->skip, take = n - from;
        if (take > w->cap - at) take = w->cap - at;
        KINAGG_MEMCPY(w->p + at, (const unsigned char *)s + from, take);
    }
    w->len += n;
}
static void kinagg__w_c(kinagg__w *w, const char *s) { kinagg_str t = kinagg_str_c(s); kinagg__w_put(w, t.ptr, t.len); }
static KINAGG__SMALL_NOINLINE void kinagg__w_byte(kinagg__w *w, unsigned char b) { kinagg__w_put(w, &b, 1); }

static void kinagg__w_json_string(kinagg__w *w, kinagg_str s) {
    size_t i, run = 0;
    kinagg__w_byte(w, '"');
    for (i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        char e[6]; /* \" or \\, or \u00 and two hex digits */
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        kinagg__w_put(w, s.ptr + run, i - run);
        run = i + 1;
        e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
        kinagg_hex(&c, 1, e + 4);
        if (c == '"' || c == '\\') e[1] = (char)c;
        kinagg__w_put(w, e, c == '"' || c == '\\' ? 2 : 6);
    }
    kinagg__w_put(w, s.ptr + run, s.len - run);
    kinagg__w_byte(w, '"');
}

static void kinagg__w_cbor_head(kinagg__w *w, unsigned major, uint64_t v) {
    unsigned char h[9];
    unsigned ai = v < 24 ? (unsigned)v : v <= 0xff ? 24 : v <= 0xffff ? 25 : v <= 0xffffffffu ? 26 : 27;
    size_t n = ai < 24 ? 1 : 1 + ((size_t)1 << (ai - 24)), i;
    h[0] = (unsigned char)(major << 5 | ai);
    for (i = n - 1; i; i--, v >>= 8) h[i] = (unsigned char)v; /* big-endian */
    kinagg__w_put(w, h, n);
}
static void kinagg__w_cbor_text(kinagg__w *w, kinagg_str s) {
    kinagg__w_cbor_head(w, 3, s.len);
    kinagg__w_put(w, s.ptr, s.len);
}

static void kinagg__w_cbor_c(kinagg__w *w, const char *s) { kinagg__w_cbor_text(w, kinagg_str_c(s)); }

/* A map of string and number fields, in either protocol (kinagg__field is
 * declared with kinagg_kinesis). */

static void kinagg__w_key(kinagg__w *w, kinagg_protocol pr, const char *key, int first) {
    if (KINAGG__CBOR(pr == KINAGG_PROTOCOL_CBOR)) {
        kinagg__w_cbor_c(w, key);
    } else {
        if (!first) kinagg__w_byte(w, ',');
        kinagg__w_json_string(w, kinagg_str_c(key));
        kinagg__w_byte(w, ':');
    }
}

static void kinagg__w_fields(kinagg__w *w, kinagg_protocol pr, const kinagg__field *f, size_t n) {
    size_t i, present = 0;
    for (i = 0; i < n; i++) present += f[i].key != NULL;
    if (KINAGG__CBOR(pr == KINAGG_PROTOCOL_CBOR)) kinagg__w_cbor_head(w, 5, present);
    else kinagg__w_byte(w, '{');
    for (i = 0, present = 0; i < n; i++) {
        if (!f[i].key) continue;
        kinagg__w_key(w, pr, f[i].key, present++ == 0);
        if (f[i].str.ptr) {
            if (KINAGG__CBOR(pr == KINAGG_PROTOCOL_CBOR)) kinagg__w_cbor_text(w, f[i].str);
            else kinagg__w_json_string(w, f[i].str);
        } else if (KINAGG__CBOR(pr == KINAGG_PROTOCOL_CBOR)) {
            /* a time: tag 1 (epoch time) over milliseconds, as the AWS SDKs send it */
            if (KINAGG__READ && f[i].time_ms) kinagg__w_cbor_head(w, 6, 1);
            kinagg__w_cbor_head(w, 0, f[i].num);
        } else {
            char d[24];
            kinagg__out o;
            uint64_t v = f[i].num;
            uint32_t ms = 0;
            o.p = d;
            o.cap = sizeof d;
            o.len = 0;
            /* a time: epoch seconds, with the milliseconds as a fraction */
            if (KINAGG__READ && f[i].time_ms) ms = kinagg__divmod16(&v, 1000);
            kinagg__out_u64(&o, v);
            if (KINAGG__READ && f[i].time_ms) {
                kinagg__out_u64(&o, 1000 + ms); /* "1" and three digits ... */
                d[o.len - 4] = '.';             /* ... the "1" made the point */
            }
            kinagg__w_put(w, d, o.len);
        }
    }
    if (!KINAGG__CBOR(pr == KINAGG_PROTOCOL_CBOR)) kinagg__w_byte(w, '}');
}

/* The stream's field: StreamARN if given, else StreamName. */
static void kinagg__stream_field(kinagg__field *f, kinagg_stream_ref s) {
    f->num = 0;
    if (s.arn.len) { f->key = "StreamARN"; f->str = s.arn; }
    else { f->key = "StreamName"; f->str = s.name; }
}

static int kinagg__stream_ok(kinagg_stream_ref s) {
    size_t i;
    kinagg_str v = s.arn.len ? s.arn : s.name;
    if (v.len == 0 || !v.ptr || v.len > (s.arn.len ? 2048u : 128u)) return 0;
    for (i = 0; i < v.len; i++)
        if ((unsigned char)v.ptr[i] < 0x20 || v.ptr[i] == '"' || v.ptr[i] == '\\') return 0;
    return 1;
}

/* PutRecords body, in parts. Part 0 of the request is its head; then each
 * entry has parts 1 (text before the data), 2 (the data: base64 or raw) and
 * 3 (text after); part 4 after the last entry is the tail. Text parts are
 * made straight into the reader's buffer from any offset (a window of the
 * part); the data part is read in place, from any offset, so the body
 * streams at any piece size. */
static void kinagg__put_text(const kinagg_put_request *q, size_t entry, size_t part, kinagg__w *w) {
    int cbor = KINAGG__CBOR(q->protocol == KINAGG_PROTOCOL_CBOR);
    size_t count = q->count;
    if (part == 0) {
        kinagg__field f;
        kinagg__stream_field(&f, q->stream);
        if (cbor) {
            kinagg__w_cbor_head(w, 5, 2);
            kinagg__w_cbor_c(w, f.key);
            kinagg__w_cbor_text(w, f.str);
            kinagg__w_cbor_c(w, "Records");
            kinagg__w_cbor_head(w, 4, count);
        } else {
            kinagg__w_c(w, q->stream.arn.len ? "{\"StreamARN\":" : "{\"StreamName\":");
            kinagg__w_json_string(w, f.str);
            kinagg__w_c(w, ",\"Records\":[");
        }
    } else if (part == 1) {
        const kinagg_put_entry *e = &q->entries[entry];
        if (cbor) {
            kinagg__w_cbor_head(w, 5, e->explicit_hash_key.len ? 3 : 2);
            kinagg__w_cbor_c(w, "Data");
            kinagg__w_cbor_head(w, 2, e->data_len);
        } else {
            kinagg__w_c(w, &",{\"Data\":\""[!entry]); /* the comma after the first */
        }
    } else if (part == 3) {
        const kinagg_put_entry *e = &q->entries[entry];
        if (cbor) {
            kinagg__w_cbor_c(w, "PartitionKey");
            kinagg__w_cbor_text(w, e->partition_key);
            if (e->explicit_hash_key.len) {
                kinagg__w_cbor_c(w, "ExplicitHashKey");
                kinagg__w_cbor_text(w, e->explicit_hash_key);
            }
        } else {
            kinagg__w_c(w, "\",\"PartitionKey\":");
            kinagg__w_json_string(w, e->partition_key);
            if (e->explicit_hash_key.len) {
                kinagg__w_c(w, ",\"ExplicitHashKey\":");
                kinagg__w_json_string(w, e->explicit_hash_key);
            }
            kinagg__w_byte(w, '}');
        }
    } else if (!cbor) {
        kinagg__w_c(w, "]}");
    }
}

static size_t kinagg__put_data_len(kinagg_protocol protocol, const kinagg_put_entry *e) {
    return KINAGG__CBOR(protocol == KINAGG_PROTOCOL_CBOR) ? e->data_len : (e->data_len + 2) / 3 * 4;
}

static void kinagg__put_rewind(void *ctx) {
    kinagg_put_request *q = (kinagg_put_request *)ctx;
    q->entry = 0;
    q->part = 0;
    q->pos = 0;
    q->offset = 0;
}

static void kinagg__put_next_part(kinagg_put_request *q) {
    q->offset = 0;
    if (q->part == 0) q->part = q->count ? 1 : 4;
    else if (q->part == 3) { q->entry++; q->part = q->entry < q->count ? 1 : 4; }
    else q->part++;
}

static size_t kinagg__put_read(void *ctx, unsigned char *out, size_t cap) {
    kinagg_put_request *q = (kinagg_put_request *)ctx;
    size_t n = 0;
    while (n < cap && q->part <= 4) {
        size_t end; /* the part's length */
        if (q->part != 2) {
            kinagg__w w;
            size_t take;
            w.p = out + n;
            w.cap = cap - n;
            w.len = 0;
            w.skip = q->offset;
            kinagg__put_text(q, q->entry, q->part, &w);
            take = w.len - q->offset;
            if (take > cap - n) take = cap - n;
            n += take;
            q->offset += take;
            end = w.len;
        } else {
            const kinagg_put_entry *e = &q->entries[q->entry];
            size_t total = kinagg__put_data_len(q->protocol, e);
            if (KINAGG__CBOR(q->protocol == KINAGG_PROTOCOL_CBOR)) {
                size_t take = total - q->offset;
                if (take > cap - n) take = cap - n;
                if (take) KINAGG_MEMCPY(out + n, e->data + q->offset, take);
                n += take;
                q->offset += take;
            } else {
                /* base64 from any offset: whole groups straight into out;
                 * a group cut by the piece's end, or the last, via quad */
                while (n < cap && q->offset < total) {
                    size_t group = q->offset / 4, skip = q->offset % 4, in = group * 3, k;
                    size_t whole = (e->data_len - in) / 3, room = (cap - n) / 4;
                    char quad[4];
                    size_t m = e->data_len - in < 3 ? e->data_len - in : 3;
                    if (KINAGG__FAST_CRYPTO && !skip && whole && room) {
                        size_t g = whole < room ? whole : room;
                        kinagg_base64_encode(e->data + in, 3 * g, (char *)out + n);
                        n += 4 * g;
                        q->offset += 4 * g;
                        continue;
                    }
                    kinagg_base64_encode(e->data + in, m, quad);
                    for (k = skip; k < 4 && n < cap; k++) out[n++] = (unsigned char)quad[k], q->offset++;
                }
            }
            end = total;
        }
        if (q->offset == end) kinagg__put_next_part(q);
    }
    q->pos += n;
    return n;
}

KINAGG_API size_t kinagg_put_records_body_size(kinagg_protocol protocol, kinagg_stream_ref stream,
                                               const kinagg_put_entry *entries, size_t count) {
    kinagg__w w; /* counting only: nothing is written */
    kinagg_put_request q; /* the members kinagg__put_text reads */
    size_t i;
    w.p = NULL;
    w.cap = w.len = w.skip = 0;
    if (!KINAGG__BUILT(protocol == KINAGG_PROTOCOL_CBOR)) return 0;
    q.protocol = protocol;
    q.stream = stream;
    q.entries = entries;
    q.count = count;
    kinagg__put_text(&q, 0, 0, &w);
    for (i = 0; i < count; i++) {
        kinagg__put_text(&q, i, 1, &w);
        w.len += kinagg__put_data_len(protocol, &entries[i]);
        kinagg__put_text(&q, i, 3, &w);
    }
    kinagg__put_text(&q, count, 4, &w);
    return w.len;
}

/* ---- sending a call ------------------------------------------------------ */

/* A small body, made from its members again for each piece read. */
static void kinagg__small_rewind(void *ctx) { ((kinagg_kinesis *)ctx)->small_pos = 0; }
static size_t kinagg__small_read(void *ctx, unsigned char *out, size_t cap) {
    kinagg_kinesis *k = (kinagg_kinesis *)ctx;
    kinagg__w w;
    size_t n;
    w.p = out;
    w.cap = cap;
    w.len = 0;
    w.skip = k->small_pos;
    kinagg__w_fields(&w, k->protocol, k->small_fields, k->small_count);
    n = w.len - k->small_pos < cap ? w.len - k->small_pos : cap;
    k->small_pos += n;
    return n;
}

/* Hashes up to budget bytes of the body being prepared (0: all of it);
 * returns 1 when the whole body is hashed. */
static int kinagg__call_hash(kinagg_kinesis *k, size_t budget) {
    size_t n, done = 0;
    int end = 0;
    while (!budget || done < budget) {
        n = k->prep_body->read(k->prep_body->ctx, k->http.send_buf, k->http.send_cap);
        if (n == 0) { end = 1; break; }
        kinagg_sha256_update(&k->prep_hash, k->http.send_buf, n);
        k->prep_len += n;
        done += n;
    }
    k->work_done += done;
    return end;
}

/* Signs the call whose body is hashed and starts sending it. The head is
 * made in the send buffer where kinagg_http_begin writes it: the Host value
 * and the Authorization value are written at their places in the head (the
 * signature straight there), and kinagg_http_begin leaves text found in its
 * place, so neither needs a buffer on the stack. */
static kinagg_status kinagg__call_send(kinagg_kinesis *k) {
    /* the headers in order: those signed, then Authorization and Accept */
    static const char names[] =
        "Host\0X-Amz-Date\0X-Amz-Target\0Content-Type\0X-Amz-Security-Token\0Authorization\0Accept";
    unsigned char digest[KINAGG_SHA256_SIZE];
    char hash_hex[64], date[17], target[64]; /* (hash_hex and target: no NUL needed) */
    const char *ctype = KINAGG__CBOR(k->protocol == KINAGG_PROTOCOL_CBOR) ? "application/x-amz-cbor-1.1"
                                                            : "application/x-amz-json-1.1";
    const char *nm = names;
    kinagg_http_header hdr[7];
    kinagg_sigv4_request r;
    kinagg_str post = {"POST", 4}, slash = {"/", 1};
    size_t nh, i, at;
    uint64_t unix_ms;
    kinagg_status st;
    kinagg__out o;
    k->preparing = 0;
    /* (before anything can fail: a call that fails here has no answer, and
     * must not report the last call's) */
    k->http_status = 0;
    k->error_type[0] = k->error_message[0] = '\0';
    kinagg_sha256_final(&k->prep_hash, digest);
    kinagg_hex(digest, sizeof digest, hash_hex);
    unix_ms = k->platform.unix_ms(k->platform.ctx);
    unix_ms = (uint64_t)((int64_t)unix_ms + k->clock_offset_ms);
    kinagg_sigv4_amz_date(kinagg__udiv(unix_ms, 1000), date);
    o.p = target; o.cap = sizeof target; o.len = 0;
    kinagg__out_c(&o, "Kinesis_20131202.");
    kinagg__out_c(&o, k->prep_operation);
    hdr[2].value.ptr = target;
    hdr[2].value.len = o.len;
    o.p = (char *)k->http.send_buf; o.cap = k->http.send_cap; o.len = 0;
    /* the Host value's place: the text before it is kinagg_http_begin's to write */
    o.len = at = sizeof "POST / HTTP/1.1\r\nHost: " - 1;
    {
        int v6;
        for (i = 0; k->endpoint.host[i] && k->endpoint.host[i] != ':'; i++) {}
        v6 = k->endpoint.host[i] != '\0'; /* a ':' in it */
        kinagg__out_c(&o, &"["[!v6]); /* "" when not */
        kinagg__out_c(&o, k->endpoint.host);
        kinagg__out_c(&o, &"]"[!v6]);
        if (k->endpoint.port != (k->endpoint.tls ? 443 : 80)) {
            kinagg__out_c(&o, ":");
            kinagg__out_u64(&o, k->endpoint.port);
        }
    }
    hdr[0].value.ptr = o.p + at; hdr[0].value.len = o.len - at;
    kinagg__out_c(&o, "\r\n");
    for (i = 0; i < 7; i++) {
        hdr[i].name = kinagg_str_c(nm);
        nm += hdr[i].name.len + 1;
    }
    hdr[1].value.ptr = date;
    hdr[1].value.len = 16;
    hdr[3].value.ptr = ctype;
    hdr[3].value.len = 26; /* either type */
    hdr[6].value = hdr[3].value;
    hdr[4].value = k->signer.credentials.session_token;
    nh = 5; /* signed; Authorization's value is made by signing */
    if (!hdr[4].value.len) { /* no token: left out */
        hdr[4] = hdr[5];
        hdr[5] = hdr[6];
        nh = 4;
    }
    for (i = 1; i < nh; i++) kinagg__head_line(&o, &hdr[i]);
    kinagg__out_str(&o, hdr[nh].name);
    kinagg__out_c(&o, ": ");
    if (o.len >= o.cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    KINAGG_MEMSET(&r, 0, sizeof r);
    r.method = post;
    r.path = slash;
    r.headers = hdr;
    r.header_count = nh;
    r.payload_sha256_hex = hash_hex;
    r.region = kinagg_str_c(k->region);
    r.service.ptr = "kinesis";
    r.service.len = 7;
    r.amz_date = hdr[1].value;
    hdr[nh].value.ptr = o.p + o.len;
    st = kinagg_sigv4_sign(&k->signer, &r, o.p + o.len, o.cap - o.len, &hdr[nh].value.len, NULL);
    if (st != KINAGG_OK) return st;
    return kinagg_http_begin(&k->http, k->endpoint.host, k->endpoint.port, post, slash, hdr, nh + 2, k->prep_body,
                             k->prep_len, k->platform.now_ms(k->platform.ctx));
}

/* Starts a call: the body is hashed for the signature (a piece per poll
 * when work_budget is set), then signed and sent. */
static kinagg_status kinagg__call_begin(kinagg_kinesis *k, const char *operation, const kinagg_body *body) {
    /* the last call's resend and text: not this one's, should it fail before its request is begun */
    k->http.resent = 0;
    k->http.error_detail = NULL;
    k->prep_operation = operation;
    k->prep_body = body;
    k->prep_len = 0;
    k->preparing = 1;
    kinagg_sha256_init(&k->prep_hash);
    body->rewind(body->ctx);
    if (k->work_budget) return KINAGG_OK; /* kinagg_kinesis_poll goes on */
    (void)kinagg__call_hash(k, 0);
    return kinagg__call_send(k);
}

KINAGG_API kinagg_status kinagg_kinesis_poll(kinagg_kinesis *k, unsigned *wait_events, uint64_t *wake_ms) {
    uint64_t now = k->platform.now_ms(k->platform.ctx);
    kinagg_status st;
    k->work_done = 0;
    if (k->preparing) {
        if (!kinagg__call_hash(k, k->work_budget)) { /* more to hash: next poll */
            if (wait_events) *wait_events = 0;
            if (wake_ms) *wake_ms = now;
            return KINAGG_PENDING;
        }
        st = kinagg__call_send(k);
        if (st != KINAGG_OK) return st;
    }
    /* what the budget leaves for sending (at least one piece) */
    k->http.send_budget = !k->work_budget ? 0 : k->work_budget > k->work_done ? k->work_budget - k->work_done : 1;
    st = kinagg_http_poll(&k->http, now, wait_events, wake_ms);
    k->work_done += k->http.sent_in_poll;
    return st;
}

/* ---- reading responses: one cursor over JSON or CBOR ------------------- */
/* Whatever shape the AWS SDKs read is read: members in any order; a null
 * member (JSON null, CBOR null or undefined) is an absent one; unknown
 * members of any type are skipped; numbers in any JSON form, as CBOR
 * integers of any width or half, single or double floats, or written as a
 * string; CBOR tags anywhere (skipped) and indefinite lengths. Anything
 * else is malformed. Strings are made usable in place: JSON escapes are
 * decoded into the buffer (never longer than the escaped text), base64
 * data and chunked CBOR strings likewise. No recursion: a value nested in
 * an unknown member is skipped with a count per level, up to
 * KINAGG__DOC_MAX_DEPTH levels. No floating point: numbers are read with
 * integer arithmetic. */

#define KINAGG__DOC_MAX_DEPTH 32

typedef struct kinagg__doc {
    unsigned char *p;
    size_t len, pos;
    int cbor;
} kinagg__doc;

typedef struct kinagg__iter {
    uint64_t left; /* CBOR definite count */
    int indefinite, first, map;
} kinagg__iter;

static int kinagg__key_is(kinagg_str k, const char *name) {
    kinagg_str n = kinagg_str_c(name);
    return k.len == n.len && KINAGG_MEMCMP(k.ptr, n.ptr, n.len) == 0;
}

/* The index of key among names (NUL-terminated, one after another, ended
 * by an empty one), or -1. */
static int kinagg__key_find(kinagg_str key, const char *names) {
    int i;
    for (i = 0; *names; i++) {
        kinagg_str n = kinagg_str_c(names);
        if (key.len == n.len && KINAGG_MEMCMP(key.ptr, names, n.len) == 0) return i;
        names += n.len + 1;
    }
    return -1;
}

static void kinagg__copy_cstr(char *dst, size_t cap, kinagg_str s) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) KINAGG_MEMCPY(dst, s.ptr, n);
    dst[n] = '\0';
}

static void kinagg__json_ws(kinagg__doc *d) {
    while (d->pos < d->len && (d->p[d->pos] == ' ' || d->p[d->pos] == '\t' || d->p[d->pos] == '\n' ||
                               d->p[d->pos] == '\r'))
        d->pos++;
}

/* After white space, the byte c: 1 and stepped over, or 0. */
static int kinagg__json_expect(kinagg__doc *d, unsigned char c) {
    kinagg__json_ws(d);
    if (d->pos >= d->len || d->p[d->pos] != c) return 0;
    d->pos++;
    return 1;
}

static int kinagg__json_digit(const kinagg__doc *d) {
    return d->pos < d->len && d->p[d->pos] >= '0' && d->p[d->pos] <= '9';
}

/* The word at pos (true, false or null): 1 and stepped over, or 0. */
static KINAGG__SMALL_NOINLINE int kinagg__json_word(kinagg__doc *d, const char *word) {
    size_t n = kinagg_str_c(word).len;
    if (d->len - d->pos < n || KINAGG_MEMCMP(d->p + d->pos, word, n) != 0) return 0;
    d->pos += n;
    return 1;
}

/* Steps over a run of decimal digits: how many there were. */
static size_t kinagg__json_digits(kinagg__doc *d) {
    size_t at = d->pos;
    while (kinagg__json_digit(d)) d->pos++;
    return d->pos - at;
}

/* CBOR head at pos: major type, argument; ai 31 (indefinite) gives
 * *indef = 1. Returns 0 on malformed or unsupported. */
static int kinagg__cbor_head(kinagg__doc *d, unsigned *major, uint64_t *arg, int *indef) {
    unsigned char b;
    unsigned ai, n;
    uint64_t v = 0;
    if (d->pos >= d->len) return 0;
    b = d->p[d->pos++];
    *major = b >> 5;
    ai = b & 31;
    *indef = ai == 31;
    *arg = ai < 24 ? ai : 0;
    if (ai < 24) return 1;
    if (ai == 31) return *major >= 2 && *major <= 5;
    if (ai > 27) return 0;
    n = 1u << (ai - 24);
    if (d->len - d->pos < n) return 0;
    while (n--) v = (v << 8) | d->p[d->pos++];
    *arg = v;
    return 1;
}

/* Steps over CBOR tags: the value is their content. 1 if a byte follows. */
static int kinagg__cbor_untag(kinagg__doc *d) {
    while (d->pos < d->len && (d->p[d->pos] >> 5) == 6) {
        size_t at = d->pos;
        unsigned major;
        uint64_t arg;
        int indef;
        if (!kinagg__cbor_head(d, &major, &arg, &indef)) {
            d->pos = at; /* still malformed for whoever reads it next */
            return 0;
        }
    }
    return d->pos < d->len;
}

/* A CBOR text or byte string; the chunks of an indefinite-length one are
 * joined in place, over their heads. */
static int kinagg__cbor_string(kinagg__doc *d, kinagg_str *out) {
    unsigned major, m2;
    uint64_t n;
    int indef, i2;
    size_t w;
    if (!kinagg__cbor_untag(d) || !kinagg__cbor_head(d, &major, &n, &indef) || major >> 1 != 1) return 0; /* not 2 or 3 */
    if (!indef) {
        if (n > d->len - d->pos) return 0;
        out->ptr = (const char *)d->p + d->pos;
        out->len = (size_t)n;
        d->pos += (size_t)n;
        return 1;
    }
    w = d->pos;
    out->ptr = (const char *)d->p + w;
    for (;;) { /* definite chunks of the same type until a break */
        if (d->pos >= d->len) return 0;
        if (d->p[d->pos] == 0xff) break;
        if (!kinagg__cbor_head(d, &m2, &n, &i2) || m2 != major || i2 || n > d->len - d->pos) return 0;
        if (n) KINAGG_MEMMOVE(d->p + w, d->p + d->pos, (size_t)n);
        w += (size_t)n;
        d->pos += (size_t)n;
    }
    d->pos++;
    out->len = (size_t)(d->p + w - (const unsigned char *)out->ptr);
    return 1;
}

/* Four hex digits at p: their value, or -1. */
static long kinagg__hex4(const unsigned char *p) {
    long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int h = kinagg__hexval(p[i]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

static int kinagg__json_string_in_place(kinagg__doc *d, kinagg_str *out) {
    static const char esc[] = "\"\\/bfnrt", unesc[] = "\"\\/\b\f\n\r\t";
    size_t w;
    if (!kinagg__json_expect(d, '"')) return 0;
    w = d->pos;
    out->ptr = (const char *)d->p + w;
    while (d->pos < d->len && d->p[d->pos] != '"') {
        unsigned char c = d->p[d->pos++];
        long cp, lo;
        unsigned n, i;
        if (c < 0x20) return 0;
        if (c != '\\') { d->p[w++] = c; continue; }
        if (d->pos >= d->len) return 0;
        c = d->p[d->pos++];
        for (i = 0; esc[i] && esc[i] != c; i++) {}
        if (esc[i]) { d->p[w++] = (unsigned char)unesc[i]; continue; }
        if (c != 'u' || d->len - d->pos < 4 || (cp = kinagg__hex4(d->p + d->pos)) < 0) return 0;
        d->pos += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && d->len - d->pos >= 6 && d->p[d->pos] == '\\' && d->p[d->pos + 1] == 'u') {
            if ((lo = kinagg__hex4(d->p + d->pos + 2)) < 0) return 0;
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                d->pos += 6;
            }
        }
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; /* a lone surrogate */
        /* UTF-8 of cp is never longer than the escape it came from */
        n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        w += n;
        for (i = 1; i < n; i++, cp >>= 6) d->p[w - i] = (unsigned char)(0x80 | (cp & 63));
        d->p[w - n] = (unsigned char)((unsigned long)cp | (n > 1 ? 0xf00u >> n : 0u)); /* 0xc0, 0xe0, 0xf0 */
    }
    if (d->pos >= d->len) return 0;
    d->pos++;
    out->len = (size_t)((const char *)d->p + w - out->ptr);
    return 1;
}

/* A JSON number as RFC 8259 spells it. With out: its value times
 * 10^scale, rounded half up (as the SDKs round seconds to milliseconds);
 * at scale 0 it must be whole. Below zero (but -0) or from 2^64 on is an
 * error. Decimal digits are taken as they come: no binary rounding. */
static int kinagg__json_number(kinagg__doc *d, unsigned scale, uint64_t *out) {
    size_t ia, ib, fb, i;
    long exp10 = 0, left; /* 32 bits are enough: see below */
    int neg = 0, eneg = 0;
    unsigned round = 0, sticky = 0;
    uint64_t v = 0;
    if (d->pos < d->len && d->p[d->pos] == '-') { neg = 1; d->pos++; }
    ia = d->pos;
    if (!kinagg__json_digit(d)) return 0;
    if (d->p[d->pos++] != '0') kinagg__json_digits(d);
    ib = fb = d->pos;
    if (d->pos < d->len && d->p[d->pos] == '.') {
        d->pos++;
        if (!kinagg__json_digits(d)) return 0;
        fb = d->pos;
    }
    if (d->pos < d->len && (d->p[d->pos] | 0x20) == 'e') {
        d->pos++;
        if (d->pos < d->len && (d->p[d->pos] == '+' || d->p[d->pos] == '-')) eneg = d->p[d->pos++] == '-';
        i = d->pos;
        if (!kinagg__json_digits(d)) return 0;
        for (; i < d->pos; i++)
            if (exp10 < 1000000) exp10 = exp10 * 10 + (d->p[i] - '0');
    }
    if (!out) return 1;
    /* The digits int.frac, the point moved by the exponent and the scale:
     * those before it make the integer, the next one rounds. More than
     * 20,000,000 integer digits (the first not 0) leave 10^20 or more
     * before the point whatever the exponent (below 10^7): too large. */
    if (ib - ia > 20000000u) return 0;
    left = (long)(ib - ia) + (eneg ? -exp10 : exp10) + (long)scale; /* digits still before the point */
    /* the digits, then zeros while the point is still ahead */
    for (i = ia; i < fb || (v && left > 0); i++) {
        unsigned digit = 0;
        if (i < fb) {
            if (i == ib) continue; /* the '.' */
            digit = (unsigned)(d->p[i] - '0');
        }
        if (left > 0) {
            /* v * 10 + digit would pass 2^64 - 1 = 18446744073709551615 */
            if (v > 1844674407370955161u || (v == 1844674407370955161u && digit > 5)) return 0;
            v = v * 10 + digit;
        } else if (left == 0) {
            round = digit;
        } else {
            sticky |= digit;
        }
        left -= left >= 0;
    }
    if (neg && (v || round || sticky)) return 0;
    if (!scale && (round || sticky)) return 0;
    if (round >= 5 && ++v == 0) return 0;
    *out = v;
    return 1;
}

/* An IEEE 754 binary float, width bits (16, 32 or 64) with ebits of
 * exponent, as mant * 2^exp (mant odd or 0); 0 for infinities and NaN.
 * Shifts by one and by constants only: no 64-bit shifts by a variable. */
static int kinagg__float_parts(uint64_t bits, unsigned width, unsigned ebits, uint64_t *mant, int *exp, int *neg) {
    unsigned e = 0, emax = (1u << ebits) - 1, i;
    uint64_t m;
    int x;
    for (i = width; i < 64; i++) bits <<= 1; /* the sign at the top */
    *neg = (int)(bits >> 63);
    for (i = 0; i < ebits; i++) {
        bits <<= 1;
        e = e << 1 | (unsigned)(bits >> 63);
    }
    if (e == emax) return 0;
    /* the fraction from bit 62 down, under the leading bit of a normal one */
    m = (bits << 1) >> 1 | (uint64_t)(e != 0) << 63;
    x = (int)(e ? e : 1) - (int)(emax >> 1) - 63; /* e 0: subnormal */
    for (; m && !(m & 1); m >>= 1) x++;
    *mant = m;
    *exp = x;
    return 1;
}

/* mant * 2^exp * 10^scale, rounded and checked as kinagg__json_number. */
static int kinagg__binary_scaled(uint64_t mant, int exp, int neg, unsigned scale, uint64_t *out) {
    unsigned i, half = 0, rest = 0; /* the first bit shifted out; any after it */
    for (i = 0; i < scale; i++) {
        if (mant > (uint64_t)-1 / 10) return 0;
        mant *= 10;
    }
    if (mant && neg) return 0;
    for (; exp > 0; exp--) {
        if (mant >> 63) return 0;
        mant <<= 1;
    }
    for (; exp < 0 && (mant || half); exp++) {
        rest |= half;
        half = (unsigned)mant & 1;
        mant >>= 1;
    }
    if (!scale && (half || rest)) return 0; /* must be whole */
    *out = mant + half;
    return 1;
}

/* Skips one value of any kind, checking it is well formed, without
 * recursion. */
static int kinagg__doc_skip(kinagg__doc *d) {
    int depth = 0;
    if (KINAGG__CBOR(d->cbor)) {
        size_t left[KINAGG__DOC_MAX_DEPTH]; /* definite: items left; indefinite: items seen */
        unsigned char indefinite[KINAGG__DOC_MAX_DEPTH]; /* 0, or 4 (array) or 5 (map) */
        left[0] = 1;
        indefinite[0] = 0;
        for (;;) {
            unsigned major;
            uint64_t arg;
            int indef;
            if (indefinite[depth]) {
                if (d->pos >= d->len) return 0;
                if (d->p[d->pos] == 0xff) {
                    if (indefinite[depth] == 5 && (left[depth] & 1)) return 0; /* a key without a value */
                    d->pos++;
                    depth--;
                    continue;
                }
                left[depth]++;
            } else if (left[depth] == 0) {
                if (--depth < 0) return 1;
                continue;
            } else {
                left[depth]--;
            }
            if (!kinagg__cbor_untag(d) || !kinagg__cbor_head(d, &major, &arg, &indef)) return 0;
            if (major >> 1 == 1) { /* 2 or 3: a string */
                if (indef) {
                    kinagg_str s;
                    d->pos--;
                    if (!kinagg__cbor_string(d, &s)) return 0;
                } else if (arg > d->len - d->pos) {
                    return 0;
                } else {
                    d->pos += (size_t)arg;
                }
            } else if (major >> 1 == 2) { /* 4 or 5: an array or a map */
                if (depth + 1 >= KINAGG__DOC_MAX_DEPTH) return 0;
                /* cannot hold that many (a byte an item at least) */
                if (!indef && arg > (d->len - d->pos) / (major - 3)) return 0; /* items: 1 or 2 each */
                depth++;
                indefinite[depth] = (unsigned char)(indef ? major : 0);
                left[depth] = indef ? 0 : (size_t)arg * (major - 3);
            }
            /* integers, simple values and floats: the head was all */
        }
    } else {
        uint32_t objects = 0; /* a bit per open bracket: 1 for '{' */
        for (;;) {
            unsigned char c;
            kinagg_str s;
            int opened = 0;
            kinagg__json_ws(d); /* a value */
            if (d->pos >= d->len) return 0;
            c = d->p[d->pos];
            if ((c | 0x20) == '{') { /* or '[' */
                if (depth + 1 >= KINAGG__DOC_MAX_DEPTH) return 0;
                objects = (objects << 1) | (c == '{');
                depth++;
                d->pos++;
                opened = 1;
            } else if (c == '"') {
                if (!kinagg__json_string_in_place(d, &s)) return 0;
            } else if (c == 't' || c == 'f' || c == 'n') {
                if (!kinagg__json_word(d, c == 't' ? "true" : c == 'f' ? "false" : "null")) return 0;
            } else if (!kinagg__json_number(d, 0, NULL)) {
                return 0;
            }
            /* after a value: a comma, or the ends of containers; after an
             * opening bracket: its end, or the first member or element */
            for (;;) {
                if (depth == 0) return 1;
                if (!kinagg__json_expect(d, (unsigned char)(']' | (objects & 1) << 5))) break;
                objects >>= 1;
                depth--;
                opened = 0;
            }
            if (!opened && !kinagg__json_expect(d, ',')) return 0;
            if (objects & 1) { /* a member's key */
                if (!kinagg__json_string_in_place(d, &s) || !kinagg__json_expect(d, ':')) return 0;
            }
        }
    }
}

static KINAGG__SMALL_NOINLINE int kinagg__doc_begin(kinagg__doc *d, kinagg__iter *it, int map) {
    /* (left and indefinite: CBOR's, set from its head) */
    it->first = 1;
    it->map = map;
    if (KINAGG__CBOR(d->cbor)) {
        unsigned major;
        int indef;
        if (!kinagg__cbor_untag(d) || !kinagg__cbor_head(d, &major, &it->left, &indef) || major != (map ? 5u : 4u))
            return 0;
        it->indefinite = indef;
        return 1;
    }
    return kinagg__json_expect(d, map ? '{' : '[');
}

/* A string (JSON string; CBOR text or byte string). */
static int kinagg__doc_string(kinagg__doc *d, kinagg_str *out) {
    return KINAGG__CBOR(d->cbor) ? kinagg__cbor_string(d, out) : kinagg__json_string_in_place(d, out);
}

static int kinagg__doc_is_string(kinagg__doc *d) {
    if (KINAGG__CBOR(d->cbor)) return kinagg__cbor_untag(d) && (d->p[d->pos] >> 6) == 1; /* major type 2 or 3 */
    kinagg__json_ws(d);
    return d->pos < d->len && d->p[d->pos] == '"';
}

/* Steps over a null (JSON null; CBOR null or undefined): 1 if there was. */
static int kinagg__is_null(kinagg__doc *d) {
    if (KINAGG__CBOR(d->cbor)) {
        if (kinagg__cbor_untag(d) && (d->p[d->pos] == 0xf6 || d->p[d->pos] == 0xf7)) { d->pos++; return 1; }
        return 0;
    }
    kinagg__json_ws(d);
    return kinagg__json_word(d, "null");
}

/* Next member (map: reads the key into *key) or element: 1, or 0 at the
 * end, -1 when malformed. Members that are null are passed over: null is
 * absent. A CBOR key that is not a string names no member (key->len 0). */
static int kinagg__doc_next(kinagg__doc *d, kinagg__iter *it, kinagg_str *key) {
    for (;;) {
        if (KINAGG__CBOR(d->cbor)) {
            if (it->indefinite) {
                if (d->pos >= d->len) return -1;
                if (d->p[d->pos] == 0xff) { d->pos++; return 0; }
            } else {
                if (it->left == 0) return 0;
                it->left--;
            }
            if (!it->map) return 1;
            if (kinagg__doc_is_string(d)) {
                if (!kinagg__cbor_string(d, key)) return -1;
            } else {
                if (!kinagg__doc_skip(d)) return -1;
                key->ptr = (const char *)d->p + d->pos;
                key->len = 0;
            }
        } else {
            if (kinagg__json_expect(d, (unsigned char)(']' | it->map << 5))) return 0;
            if (d->pos >= d->len || (!it->first && !kinagg__json_expect(d, ','))) return -1;
            it->first = 0;
            if (!it->map) return 1;
            if (!kinagg__json_string_in_place(d, key) || !kinagg__json_expect(d, ':')) return -1;
        }
        if (!kinagg__is_null(d)) return 1;
    }
}

/* The next member of a map that is named in names (see kinagg__key_find):
 * its index, the others skipped; -1 at the map's end, -2 when malformed. */
static int kinagg__doc_member(kinagg__doc *d, kinagg__iter *it, const char *names) {
    kinagg_str key;
    int r;
    while ((r = kinagg__doc_next(d, it, &key)) == 1) {
        int which = kinagg__key_find(key, names);
        if (which >= 0) return which;
        if (!kinagg__doc_skip(d)) return -2;
    }
    return r - 1;
}

/* After the document's one value only JSON white space may follow. */
static int kinagg__doc_end(kinagg__doc *d) {
    if (!KINAGG__CBOR(d->cbor)) kinagg__json_ws(d);
    return d->pos == d->len;
}

/* A number as an integer scaled by 10^scale (3: seconds to milliseconds),
 * rounded half up; at scale 0 it must be whole. A string holding a JSON
 * number is a number too (the SDKs read epoch seconds so). */
static int kinagg__doc_number(kinagg__doc *d, unsigned scale, uint64_t *out) {
    kinagg_str s;
    kinagg__doc n;
    if (!kinagg__doc_is_string(d)) {
        unsigned major, ai;
        uint64_t arg, mant;
        int indef, exp, neg;
        size_t at = d->pos;
        if (!KINAGG__CBOR(d->cbor)) return kinagg__json_number(d, scale, out);
        if (!kinagg__cbor_head(d, &major, &arg, &indef)) return 0;
        ai = d->p[at] & 31;
        if (major == 0) { /* an unsigned integer */
            mant = arg;
            exp = neg = 0;
        } else if (major != 7 || ai < 25 || ai > 27 || /* half, single, double: 16, 32, 64 bits */
                   !kinagg__float_parts(arg, 8u << (ai - 24), 3 * (ai - 24) + 2, &mant, &exp, &neg)) { /* 5, 8, 11 of exponent */
            return 0;
        }
        return kinagg__binary_scaled(mant, exp, neg, scale, out);
    }
    if (!kinagg__doc_string(d, &s)) return 0;
    n.p = (unsigned char *)(uintptr_t)s.ptr;
    n.len = s.len;
    n.pos = 0; /* (cbor: unread by kinagg__json_number) */
    return kinagg__json_number(&n, scale, out) && n.pos == n.len;
}

#ifndef KINAGG_NO_READ
/* Data: JSON base64 decoded in place; a CBOR byte string, or base64 in a
 * CBOR text string (kinesis-mock sends that, and the SDKs built on Jackson
 * read it); and kinesalite's {"type":"Buffer","data":[n, ...]} for records
 * it stored from CBOR. */
static int kinagg__doc_data(kinagg__doc *d, const unsigned char **out, size_t *len) {
    size_t at;
    kinagg_str s;
    if (kinagg__doc_is_string(d)) {
        size_t n;
        int bytes = KINAGG__CBOR(d->cbor) && d->p[d->pos] >> 5 == 2; /* major type 2 */
        if (!kinagg__doc_string(d, &s)) return 0;
        n = bytes ? s.len : kinagg_base64_decode(s.ptr, s.len, (unsigned char *)(uintptr_t)s.ptr);
        if (n == (size_t)-1) return 0;
        *out = (const unsigned char *)s.ptr;
        *len = n;
        return 1;
    }
    if (!KINAGG__CBOR(d->cbor)) kinagg__json_ws(d);
    at = d->pos;
    { /* the Buffer object: its bytes are written over the start of the object */
        static const char members[] = "data\0";
        kinagg__iter it, ai;
        int r, in;
        size_t w = at;
        int got = 0;
        if (!kinagg__doc_begin(d, &it, 1)) return 0;
        while ((r = kinagg__doc_member(d, &it, members)) >= 0) {
            if (!kinagg__doc_begin(d, &ai, 0)) return 0;
            while ((in = kinagg__doc_next(d, &ai, NULL)) == 1) {
                uint64_t v;
                if (!kinagg__doc_number(d, 0, &v) || v > 255 || w >= d->pos) return 0;
                d->p[w++] = (unsigned char)v;
            }
            if (in < 0) return 0;
            got = 1;
        }
        if (r < -1 || !got) return 0;
        *out = d->p + at;
        *len = w - at;
        return 1;
    }
}
#endif /* KINAGG_NO_READ */

/* Seconds since 1970 from an HTTP date: "Sun, 06 Nov 1994 08:49:37 GMT". */
static int kinagg__http_date(kinagg_str s, uint64_t *out) {
    /* the form: d a digit, x any byte, others themselves; the month is
     * checked after */
    static const char form[] = "xxx, dd xxx dddd dd:dd:dd xxx", months[] = "MarAprMayJunJulAugSepOctNovDecJanFeb";
    const char *p = s.ptr;
    uint32_t v[5], y, mon, days, acc = 0; /* day, year, hh, mm, ss */
    unsigned i, n = 0;
    if (s.len != 29) return 0;
    for (i = 0; i < 29; i++) {
        unsigned c = (unsigned char)p[i], f = (unsigned char)form[i];
        if (f == 'd') {
            if (c - '0' > 9) return 0;
            acc = acc * 10 + (c - '0');
            if (form[i + 1] != 'd') { v[n++] = acc; acc = 0; } /* a number's last digit */
        } else if (f != 'x' && c != f) {
            return 0;
        }
    }
    for (mon = 0; mon < 12; mon++)
        if (KINAGG_MEMCMP(months + 3 * mon, p + 8, 3) == 0) break;
    if (mon == 12 || v[1] < 1970 || !v[0] || v[0] > 31 || v[2] > 23 || v[3] > 59 || v[4] > 60) return 0;
    /* days from 0000-03-01, the year starting in March (the leap day last:
     * months counts from March) */
    y = v[1] - (mon >= 10);
    days = y * 365 + y / 4 - y / 100 + y / 400 + (153 * mon + 2) / 5 + v[0] - 1 - 719468;
    *out = (uint64_t)(((days * 24 + v[2]) * 60 + v[3])) * 60 + v[4];
    return 1;
}
/* An error code as the SDKs clean one: up to a ',' and a ':', then the
 * name after a '#' ("com.amazonaws.kinesis.v20131202#ResourceNotFound..."). */
static kinagg_str kinagg__error_code(kinagg_str v) {
    size_t i, from = 0;
    for (i = 0; i < v.len && v.ptr[i] != ',' && v.ptr[i] != ':'; i++) {}
    v.len = i;
    for (i = 0; i < v.len; i++) /* from after the first '#' to the next */
        if (v.ptr[i] == '#') {
            if (from) break;
            from = i + 1;
        }
    v.len = i - from;
    if (from) v.ptr += from; /* (v.ptr may be NULL, when v is empty) */
    return v;
}

static KINAGG__SMALL_NOINLINE void kinagg__doc_of_response(kinagg_kinesis *k, kinagg__doc *d) {
    d->p = k->http.response.body;
    d->len = k->http.response.body_len;
    d->pos = 0;
    d->cbor = k->protocol == KINAGG_PROTOCOL_CBOR;
}

/* Whether name holds one of the words (NUL-separated, ended by an empty one). */
static int kinagg__has_word(kinagg_str name, const char *words) {
    size_t n, j;
    for (; (n = kinagg_str_c(words).len) != 0; words += n + 1)
        for (j = 0; j + n <= name.len; j++)
            if (KINAGG_MEMCMP(name.ptr + j, words, n) == 0) return 1;
    return 0;
}

/* After a response: learns the clock skew, and turns an error response
 * into KINAGG_ERR_SERVICE (or _CLOCK_SKEW) with its type and message. The
 * type is the body's __type, else its code, else the x-amzn-ErrorType
 * header, else "HTTP <status>"; the message is the body's message, else
 * its Message (the SDKs' order). A body that is not a well-formed document
 * gives neither. */
static kinagg_status kinagg__call_result(kinagg_kinesis *k, kinagg_status st) {
    /* (key lists are arrays, not literals with NULs inside: those would all
     * share one .rodata section, kept whole by --gc-sections) */
    static const char members[] = "__type\0code\0Code\0message\0Message\0",
                      skew_types[] = "RequestExpired\0RequestTimeTooSkewed\0InvalidSignatureException\0";
    kinagg_http_response *r = &k->http.response;
    const kinagg_str *date, *header_type, *ct;
    kinagg__doc d;
    kinagg__iter it;
    kinagg_str found[4]; /* __type, code, message, Message */
    uint64_t server;
    int n = -1, ok, i;
    if (st != KINAGG_OK) return st;
    k->http_status = r->status;
    date = kinagg_http_header_get(r, "date");
    if (date && kinagg__http_date(*date, &server)) {
        /* against the corrected clock: the offset learns the remainder. Its
         * seconds round toward 0 (as kinagg__sdiv): the magnitude divided,
         * the sign put back (one division in the code, not one a sign) */
        uint64_t now = k->platform.unix_ms(k->platform.ctx) + (uint64_t)k->clock_offset_ms;
        uint64_t sign = 0 - (now >> 63); /* all ones when below 0 */
        now = (now ^ sign) - sign;
        (void)kinagg__divmod16(&now, 1000);
        k->last_skew_ms = (int64_t)((server - ((now ^ sign) - sign)) * 1000);
    } else {
        date = NULL; /* none we can read (only IMF-fixdate, which AWS sends): no clock to learn */
        k->last_skew_ms = 0;
    }
    if (r->status >= 200 && r->status < 300) return KINAGG_OK;
    kinagg__doc_of_response(k, &d);
    ct = kinagg_http_header_get(r, "content-type");
    if (ct) d.cbor = kinagg__has_word(*ct, "cbor\0");
    KINAGG_MEMSET(found, 0, sizeof found);
    k->error_type[0] = '\0';
    ok = d.len && KINAGG__BUILT(d.cbor) && kinagg__doc_begin(&d, &it, 1);
    while (ok && (n = kinagg__doc_member(&d, &it, members)) >= 0) {
        n -= n >= 2; /* code and Code are one */
        ok = kinagg__doc_is_string(&d) ? kinagg__doc_string(&d, &found[n]) : kinagg__doc_skip(&d);
    }
    if (!ok || n != -1 || !kinagg__doc_end(&d)) KINAGG_MEMSET(found, 0, sizeof found);
    header_type = kinagg_http_header_get(r, "x-amzn-errortype");
    if (header_type && !found[0].len && !found[1].len) found[0] = *header_type;
    for (i = 0; i < 2; i++) {
        kinagg_str t = kinagg__error_code(found[i]);
        if (t.len) { kinagg__copy_cstr(k->error_type, sizeof k->error_type, t); break; }
    }
    kinagg__copy_cstr(k->error_message, sizeof k->error_message, found[found[2].ptr ? 2 : 3]);
    if (!k->error_type[0]) {
        kinagg__out o;
        o.p = k->error_type; o.cap = sizeof k->error_type; o.len = 0;
        kinagg__out_c(&o, "HTTP ");
        kinagg__out_u64(&o, (uint64_t)r->status);
        k->error_type[o.len] = '\0';
    }
    {
        /* (a shorter message differs at its NUL, inside the array) */
        int which = kinagg__key_find(kinagg_str_c(k->error_type), skew_types);
        /* InvalidSignatureException says "Signature expired: ..." (clock
         * behind) or "Signature not yet current: ..." (ahead); a wrong
         * signature is "The request signature we calculated ..." */
        int skewed = which >= 0 && (which < 2 || KINAGG_MEMCMP(k->error_message, "Signature ", 10) == 0);
        if (skewed && date) {
            k->clock_offset_ms += k->last_skew_ms;
            return KINAGG_ERR_CLOCK_SKEW;
        }
    }
    return KINAGG_ERR_SERVICE;
}

static kinagg_status kinagg__doc_err(const kinagg__doc *d) {
    return KINAGG__CBOR(d->cbor) ? KINAGG_ERR_CBOR : KINAGG_ERR_JSON;
}

#ifndef KINAGG_NO_READ
/* Copies a string value into out, NUL-terminated; too long is an error. */
static kinagg_status kinagg__doc_copy(kinagg__doc *d, char *out, size_t cap) {
    kinagg_str v;
    if (!kinagg__doc_string(d, &v)) return kinagg__doc_err(d);
    if (v.len >= cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    kinagg__copy_cstr(out, cap, v);
    return KINAGG_OK;
}
#endif /* KINAGG_NO_READ */

static kinagg_status kinagg__call_run(kinagg_kinesis *k) {
    return kinagg__call_result(k, kinagg_http_run(&k->http, &k->platform));
}

/* ---- PutRecords ---------------------------------------------------------- */

KINAGG_API kinagg_status kinagg_put_records_begin(kinagg_kinesis *k, kinagg_put_request *q, kinagg_stream_ref stream,
                                                  const kinagg_put_entry *entries, size_t count) {
    size_t i;
    if (!k || !q || (count && !entries) || !kinagg__stream_ok(stream)) return KINAGG_ERR_INVALID_ARGUMENT;
    for (i = 0; i < count; i++) {
        kinagg_hash_key hk;
        kinagg_status st = kinagg_partition_key_check(entries[i].partition_key.ptr, entries[i].partition_key.len);
        if (st != KINAGG_OK) return st;
        if (entries[i].explicit_hash_key.len &&
            kinagg_hash_key_parse(entries[i].explicit_hash_key.ptr, entries[i].explicit_hash_key.len, &hk))
            return KINAGG_ERR_HASH_KEY;
        if (entries[i].data_len && !entries[i].data) return KINAGG_ERR_INVALID_ARGUMENT;
    }
    /* the generator's state: set by the rewind kinagg__call_begin makes */
    q->stream = stream;
    q->entries = entries;
    q->count = count;
    q->protocol = k->protocol;
    q->body.ctx = q;
    q->body.rewind = kinagg__put_rewind;
    q->body.read = kinagg__put_read;
    return kinagg__call_begin(k, "PutRecords", &q->body);
}

KINAGG_API kinagg_status kinagg_put_records_finish(kinagg_kinesis *k, kinagg_put_result *results, size_t count,
                                                   size_t *failed) {
    static const char members[] = "FailedRecordCount\0Records\0",
                      result[] = "ShardId\0SequenceNumber\0ErrorCode\0ErrorMessage\0";
    kinagg__doc d;
    kinagg__iter it, ai, ri;
    size_t n = 0;
    uint64_t failed_count = 0;
    int r, which, seen_records = 0, incomplete = 0;
    kinagg_status st = kinagg__call_result(k, KINAGG_OK);
    if (st != KINAGG_OK) return st;
    kinagg__doc_of_response(k, &d);
    if (results) KINAGG_MEMSET(results, 0, count * sizeof *results);
    if (!kinagg__doc_begin(&d, &it, 1)) return kinagg__doc_err(&d);
    while ((which = kinagg__doc_member(&d, &it, members)) >= 0) {
        if (which == 0) {
            if (!kinagg__doc_number(&d, 0, &failed_count)) return kinagg__doc_err(&d);
            continue;
        }
        seen_records = 1;
        if (!kinagg__doc_begin(&d, &ai, 0)) return kinagg__doc_err(&d);
        while ((r = kinagg__doc_next(&d, &ai, NULL)) == 1) {
            static const unsigned char member[] = {
                offsetof(kinagg_put_result, shard_id), offsetof(kinagg_put_result, sequence_number),
                offsetof(kinagg_put_result, error_code), offsetof(kinagg_put_result, error_message)};
            kinagg_put_result *res = n < count && results ? &results[n] : NULL;
            if (!kinagg__doc_begin(&d, &ri, 1)) return kinagg__doc_err(&d);
            /* past the results given: every member skipped */
            while ((which = kinagg__doc_member(&d, &ri, res ? result : "")) >= 0)
                if (!kinagg__doc_string(&d, (kinagg_str *)(void *)((char *)res + member[which])))
                    return kinagg__doc_err(&d);
            if (which < -1) return kinagg__doc_err(&d);
            /* every result must say one thing or the other */
            incomplete |= res && !res->error_code.len && (!res->sequence_number.len || !res->shard_id.len);
            n++;
        }
        if (r < 0) return kinagg__doc_err(&d);
    }
    if (which < -1 || !kinagg__doc_end(&d) || !seen_records || n != count || incomplete) return kinagg__doc_err(&d);
    if (failed) *failed = (size_t)failed_count;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_put_records(kinagg_kinesis *k, kinagg_stream_ref stream,
                                            const kinagg_put_entry *entries, size_t count,
                                            kinagg_put_result *results, size_t *failed) {
    kinagg_status st = kinagg_put_records_begin(k, &k->put, stream, entries, count);
    if (st != KINAGG_OK) return st;
    st = kinagg_http_run(&k->http, &k->platform);
    if (st != KINAGG_OK) return st;
    return kinagg_put_records_finish(k, results, count, failed);
}

/* ---- the other calls ------------------------------------------------------ */

/* Starts a call whose small body is made from fields (at most 4): they are
 * copied into k, their strings are not (they must stay until the response
 * arrives). */
static kinagg_status kinagg__small_begin(kinagg_kinesis *k, const char *op, const kinagg__field *f, size_t n) {
    KINAGG_MEMCPY(k->small_fields, f, n * sizeof *f);
    k->small_count = n; /* (small_pos: set by the rewind kinagg__call_begin makes) */
    k->small_source.ctx = k;
    k->small_source.rewind = kinagg__small_rewind;
    k->small_source.read = kinagg__small_read;
    return kinagg__call_begin(k, op, &k->small_source);
}

/* ... and runs it to its end. */
static kinagg_status kinagg__small_call(kinagg_kinesis *k, const char *op, const kinagg__field *f, size_t n) {
    kinagg_status st = kinagg__small_begin(k, op, f, n);
    return st == KINAGG_OK ? kinagg__call_run(k) : st;
}

/* Where a ListShards response's shards go: a table of cap structs, stride
 * bytes apart, with their members at these offsets (the parents' ids:
 * (size_t)-1 when not kept). Each struct is zeroed, then filled. */
typedef struct kinagg__shard_table {
    unsigned char *base;
    size_t stride, cap, id_cap, id, parent, adjacent, start, end, open;
} kinagg__shard_table;

/* Reads a shard description into the table's entry at: 1, or 0 when it is
 * malformed, -1 when an id is longer than the table keeps. */
static int kinagg__read_shard(kinagg__doc *d, const kinagg__shard_table *t, unsigned char *at) {
    static const char members[] = "ShardId\0ParentShardId\0AdjacentParentShardId\0HashKeyRange\0SequenceNumberRange\0",
                      hash_range[] = "StartingHashKey\0EndingHashKey\0", sequence_range[] = "EndingSequenceNumber\0";
    kinagg__iter it, hi;
    kinagg_str v;
    int which, in, have_range = 0;
    KINAGG_MEMSET(at, 0, t->stride);
    *(int *)(void *)(at + t->open) = 1;
    if (!kinagg__doc_begin(d, &it, 1)) return 0;
    while ((which = kinagg__doc_member(d, &it, members)) >= 0) {
        if (which < 3) {
            size_t off = which == 0 ? t->id : which == 1 ? t->parent : t->adjacent;
            size_t cap = which == 0 ? t->id_cap : KINAGG_SHARD_ID_MAX;
            if (!kinagg__doc_string(d, &v)) return 0;
            if (v.len >= cap) return -1;
            if (off != (size_t)-1) kinagg__copy_cstr((char *)(at + off), cap, v);
            continue;
        }
        if (!kinagg__doc_begin(d, &hi, 1)) return 0;
        /* HashKeyRange: the keys; SequenceNumberRange: its end, if the shard is closed */
        while ((in = kinagg__doc_member(d, &hi, which == 3 ? hash_range : sequence_range)) >= 0) {
            if (!kinagg__doc_string(d, &v)) return 0;
            if (which == 3) {
                kinagg_hash_key *hk = (kinagg_hash_key *)(void *)(at + (in == 0 ? t->start : t->end));
                if (kinagg_hash_key_parse(v.ptr, v.len, hk) != KINAGG_OK) return 0;
                have_range |= in + 1;
            } else {
                *(int *)(void *)(at + t->open) = 0; /* a closed shard; null or absent: open */
            }
        }
        if (in < -1) return 0;
    }
    return which == -1 && at[t->id] && have_range == 3;
}

/* Reads a ListShards response: its shards straight into the table (those
 * past its cap are checked and counted, not kept: *count > cap is
 * KINAGG_ERR_BUFFER_TOO_SMALL), and the next token, which points into the
 * receive buffer (empty at the end). */
static kinagg_status kinagg__list_shards_parse(kinagg_kinesis *k, kinagg_str *next_token,
                                               const kinagg__shard_table *t, size_t *count) {
    static const char members[] = "Shards\0NextToken\0";
    kinagg__doc d;
    kinagg__iter it, ai;
    int r, which;
    size_t n = 0;
    kinagg__doc_of_response(k, &d);
    next_token->ptr = "";
    next_token->len = 0;
    *count = 0;
    if (!kinagg__doc_begin(&d, &it, 1)) return kinagg__doc_err(&d);
    while ((which = kinagg__doc_member(&d, &it, members)) >= 0) {
        if (which == 1) {
            if (!kinagg__doc_string(&d, next_token)) return kinagg__doc_err(&d);
            continue;
        }
        if (!kinagg__doc_begin(&d, &ai, 0)) return kinagg__doc_err(&d);
        while ((r = kinagg__doc_next(&d, &ai, NULL)) == 1) {
            int got = n < t->cap ? kinagg__read_shard(&d, t, t->base + n * t->stride) : kinagg__doc_skip(&d);
            if (got <= 0) return got ? KINAGG_ERR_BUFFER_TOO_SMALL : kinagg__doc_err(&d);
            n++;
        }
        if (r < 0) return kinagg__doc_err(&d);
    }
    if (which < -1 || !kinagg__doc_end(&d)) return kinagg__doc_err(&d);
    *count = n;
    return n > t->cap ? KINAGG_ERR_BUFFER_TOO_SMALL : KINAGG_OK;
}

/* One page. The token given, if any, is sent; the next one is left in
 * *token (in the receive buffer, where it stays until the next response
 * arrives: long enough to be sent with the next page's request). */
static kinagg_status kinagg__list_page(kinagg_kinesis *k, kinagg_stream_ref stream, kinagg_str *token,
                                       kinagg_shard *shards, size_t cap, size_t *count, unsigned page_size) {
    kinagg__field f[2];
    kinagg__shard_table t;
    kinagg_status st;
    KINAGG_MEMSET(f, 0, sizeof f);
    if (token->len) { /* a continued listing names the token only */
        f[0].key = "NextToken";
        f[0].str = *token;
    } else {
        if (!kinagg__stream_ok(stream)) return KINAGG_ERR_INVALID_ARGUMENT;
        kinagg__stream_field(&f[0], stream);
    }
    f[1].key = "MaxResults";
    f[1].num = page_size ? page_size : 1000;
    st = kinagg__small_call(k, "ListShards", f, 2);
    if (st != KINAGG_OK) return st;
    t.base = (unsigned char *)shards;
    t.stride = sizeof *shards;
    t.cap = cap;
    t.id_cap = KINAGG_SHARD_ID_MAX;
    t.id = offsetof(kinagg_shard, shard_id);
    t.parent = offsetof(kinagg_shard, parent_shard_id);
    t.adjacent = offsetof(kinagg_shard, adjacent_parent_shard_id);
    t.start = offsetof(kinagg_shard, start);
    t.end = offsetof(kinagg_shard, end);
    t.open = offsetof(kinagg_shard, open);
    return kinagg__list_shards_parse(k, token, &t, count);
}

KINAGG_API kinagg_status kinagg_list_shards_page(kinagg_kinesis *k, kinagg_stream_ref stream, char *next_token,
                                                 size_t token_cap, kinagg_shard *shards, size_t cap, size_t *count,
                                                 unsigned page_size) {
    kinagg_str token;
    kinagg_status st;
    if (!k || !next_token || !token_cap || !count || (cap && !shards)) return KINAGG_ERR_INVALID_ARGUMENT;
    token = kinagg_str_c(next_token);
    st = kinagg__list_page(k, stream, &token, shards, cap, count, page_size);
    if (token.ptr == next_token) return st; /* no response read: the token stays */
    if (st != KINAGG_OK && st != KINAGG_ERR_BUFFER_TOO_SMALL) {
        next_token[0] = '\0';
        return st;
    }
    if (token.len >= token_cap) {
        next_token[0] = '\0';
        return KINAGG_ERR_BUFFER_TOO_SMALL;
    }
    kinagg__copy_cstr(next_token, token_cap, token);
    return st;
}

/* All pages: the token between them stays in the receive buffer, so no
 * buffer for it on the stack or in k. */
KINAGG_API kinagg_status kinagg_list_shards(kinagg_kinesis *k, kinagg_stream_ref stream, kinagg_shard *shards,
                                            size_t cap, size_t *count, unsigned page_size) {
    kinagg_str token;
    size_t total = 0;
    unsigned empty = 0; /* pages in a row with a NextToken and no shard */
    if (!k || !count || (cap && !shards)) return KINAGG_ERR_INVALID_ARGUMENT;
    token.ptr = "";
    token.len = 0;
    do {
        size_t got = 0;
        kinagg_status st = kinagg__list_page(k, stream, &token, shards + total, cap - total, &got, page_size);
        /* a server that pages on without shards would hold the call for
         * ever: after 16 such pages, an answer we cannot use */
        empty = got ? 0 : empty + 1;
        if (st == KINAGG_OK && token.len && empty > 16) st = KINAGG__CBOR(k->protocol) ? KINAGG_ERR_CBOR : KINAGG_ERR_JSON;
        if (st != KINAGG_OK) {
            *count = total + got;
            return st;
        }
        total += got;
    } while (token.len);
    *count = total;
    return KINAGG_OK;
}

KINAGG_API size_t kinagg_shard_find(const kinagg_shard *shards, size_t count, const kinagg_hash_key *key,
                                    int open_only) {
    size_t i;
    for (i = 0; i < count; i++)
        if ((!open_only || shards[i].open) && kinagg_hash_key_in_range(key, &shards[i].start, &shards[i].end))
            return i;
    return (size_t)-1;
}

#ifndef KINAGG_NO_READ
/* Reads one string member of a response (a map) that must have it; name
 * as kinagg__key_find takes names. */
static kinagg_status kinagg__find_string(kinagg_kinesis *k, const char *name, kinagg_str *out) {
    kinagg__doc d;
    kinagg__iter it;
    int r, found = 0;
    kinagg__doc_of_response(k, &d);
    if (!kinagg__doc_begin(&d, &it, 1)) return kinagg__doc_err(&d);
    while ((r = kinagg__doc_member(&d, &it, name)) >= 0) {
        if (!kinagg__doc_string(&d, out)) return kinagg__doc_err(&d);
        found = 1;
    }
    return r == -1 && kinagg__doc_end(&d) && found ? KINAGG_OK : kinagg__doc_err(&d);
}

KINAGG_API kinagg_status kinagg_get_shard_iterator(kinagg_kinesis *k, kinagg_stream_ref stream, kinagg_str shard_id,
                                                   kinagg_str type, kinagg_str sequence_number, char *iterator,
                                                   size_t iterator_cap) {
    static const char member[] = "ShardIterator\0";
    kinagg__field f[4];
    kinagg_str v;
    kinagg_status st;
    if (!k || !iterator || !iterator_cap || !kinagg__stream_ok(stream) || !shard_id.len || !type.len)
        return KINAGG_ERR_INVALID_ARGUMENT;
    KINAGG_MEMSET(f, 0, sizeof f);
    kinagg__stream_field(&f[0], stream);
    f[1].key = "ShardId"; f[1].str = shard_id;
    f[2].key = "ShardIteratorType"; f[2].str = type;
    if (kinagg__key_is(type, "AT_TIMESTAMP")) {
        size_t i;
        if (!sequence_number.len || sequence_number.len > 15) return KINAGG_ERR_INVALID_ARGUMENT;
        for (i = 0; i < sequence_number.len; i++) {
            if (sequence_number.ptr[i] < '0' || sequence_number.ptr[i] > '9') return KINAGG_ERR_INVALID_ARGUMENT;
            f[3].num = f[3].num * 10 + (uint64_t)(sequence_number.ptr[i] - '0');
        }
        f[3].key = "Timestamp";
        f[3].time_ms = 1;
    } else if (sequence_number.len) {
        f[3].key = "StartingSequenceNumber";
        f[3].str = sequence_number;
    }
    st = kinagg__small_call(k, "GetShardIterator", f, 4);
    if (st != KINAGG_OK) return st;
    st = kinagg__find_string(k, member, &v);
    if (st != KINAGG_OK) return st;
    if (v.len >= iterator_cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    kinagg__copy_cstr(iterator, iterator_cap, v);
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_get_records(kinagg_kinesis *k, const char *iterator, kinagg_record *records,
                                            size_t cap, size_t *count, char *next_iterator, size_t next_cap,
                                            uint64_t *millis_behind) {
    static const char members[] = "Records\0NextShardIterator\0MillisBehindLatest\0",
                      record[] = "SequenceNumber\0PartitionKey\0Data\0ApproximateArrivalTimestamp\0";
    kinagg__field f[2];
    kinagg__doc d;
    kinagg__iter it, ai, ri;
    kinagg_status st;
    size_t n = 0;
    int r, which, in;
    if (!k || !iterator || !count || !next_iterator || !next_cap || (cap && !records) || cap == 0)
        return KINAGG_ERR_INVALID_ARGUMENT;
    KINAGG_MEMSET(f, 0, sizeof f);
    f[0].key = "ShardIterator"; f[0].str = kinagg_str_c(iterator);
    f[1].key = "Limit"; f[1].num = cap > 10000 ? 10000 : cap;
    st = kinagg__small_call(k, "GetRecords", f, 2);
    if (st != KINAGG_OK) return st;
    next_iterator[0] = '\0';
    if (millis_behind) *millis_behind = 0;
    kinagg__doc_of_response(k, &d);
    if (!kinagg__doc_begin(&d, &it, 1)) return kinagg__doc_err(&d);
    while ((which = kinagg__doc_member(&d, &it, members)) >= 0) {
        if (which == 0) {
            if (!kinagg__doc_begin(&d, &ai, 0)) return kinagg__doc_err(&d);
            while ((r = kinagg__doc_next(&d, &ai, NULL)) == 1) {
                kinagg_record *rec;
                if (n >= cap) return kinagg__doc_err(&d); /* more than the Limit asked for */
                rec = &records[n];
                KINAGG_MEMSET(rec, 0, sizeof *rec);
                if (!kinagg__doc_begin(&d, &ri, 1)) return kinagg__doc_err(&d);
                while ((in = kinagg__doc_member(&d, &ri, record)) >= 0) {
                    int ok;
                    if (in < 2) {
                        ok = kinagg__doc_string(&d, in ? &rec->partition_key : &rec->sequence_number);
                    } else if (in == 2) {
                        ok = kinagg__doc_data(&d, &rec->data, &rec->data_len);
                    } else {
                        ok = kinagg__doc_number(&d, 3, &rec->arrival_ms);
                        /* AWS's CBOR sends epoch milliseconds (the SDKs say so), kinesalite
                         * and JSON seconds: past year 5000 as seconds, it was milliseconds */
                        if (ok && KINAGG__CBOR(d.cbor) && rec->arrival_ms > 100000000000000ull) rec->arrival_ms /= 1000;
                    }
                    if (!ok) return kinagg__doc_err(&d);
                }
                if (in < -1 || !rec->sequence_number.len) return kinagg__doc_err(&d);
                n++;
            }
            if (r < 0) return kinagg__doc_err(&d);
        } else if (which == 1) { /* null or absent: the shard's end */
            st = kinagg__doc_copy(&d, next_iterator, next_cap);
            if (st != KINAGG_OK) return st;
        } else {
            uint64_t behind;
            if (!kinagg__doc_number(&d, 0, &behind)) return kinagg__doc_err(&d);
            if (millis_behind) *millis_behind = behind;
        }
    }
    if (which < -1 || !kinagg__doc_end(&d)) return kinagg__doc_err(&d);
    *count = n;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_describe_stream_summary(kinagg_kinesis *k, kinagg_stream_ref stream, char *status,
                                                        size_t status_cap, unsigned *open_shards) {
    static const char members[] = "StreamDescriptionSummary\0", summary[] = "StreamStatus\0OpenShardCount\0";
    kinagg__field f[1];
    kinagg__doc d;
    kinagg__iter it, si;
    kinagg_str v;
    kinagg_status st;
    int r, which, found = 0;
    if (!k || !kinagg__stream_ok(stream) || (status && !status_cap)) return KINAGG_ERR_INVALID_ARGUMENT;
    KINAGG_MEMSET(f, 0, sizeof f);
    kinagg__stream_field(&f[0], stream);
    st = kinagg__small_call(k, "DescribeStreamSummary", f, 1);
    if (st != KINAGG_OK) return st;
    if (open_shards) *open_shards = 0;
    kinagg__doc_of_response(k, &d);
    if (!kinagg__doc_begin(&d, &it, 1)) return kinagg__doc_err(&d);
    while ((r = kinagg__doc_member(&d, &it, members)) >= 0) {
        if (!kinagg__doc_begin(&d, &si, 1)) return kinagg__doc_err(&d);
        while ((which = kinagg__doc_member(&d, &si, summary)) >= 0) {
            if (which == 0) {
                if (!kinagg__doc_string(&d, &v)) return kinagg__doc_err(&d);
                if (status) kinagg__copy_cstr(status, status_cap, v);
                found = 1;
            } else {
                uint64_t nshards;
                if (!kinagg__doc_number(&d, 0, &nshards) || nshards > (unsigned)-1) return kinagg__doc_err(&d);
                if (open_shards) *open_shards = (unsigned)nshards;
            }
        }
        if (which < -1) return kinagg__doc_err(&d);
    }
    return r == -1 && kinagg__doc_end(&d) && found ? KINAGG_OK : kinagg__doc_err(&d);
}

KINAGG_API kinagg_status kinagg_create_stream(kinagg_kinesis *k, kinagg_str name, unsigned shard_count) {
    kinagg__field f[2];
    kinagg_stream_ref ref;
    kinagg__doc d;
    kinagg_status st;
    if (!k || !shard_count) return KINAGG_ERR_INVALID_ARGUMENT;
    ref.name = name;
    ref.arn.ptr = NULL;
    ref.arn.len = 0;
    if (!kinagg__stream_ok(ref)) return KINAGG_ERR_INVALID_ARGUMENT;
    KINAGG_MEMSET(f, 0, sizeof f);
    f[0].key = "StreamName"; f[0].str = name;
    f[1].key = "ShardCount"; f[1].num = shard_count;
    st = kinagg__small_call(k, "CreateStream", f, 2);
    if (st != KINAGG_OK) return st;
    /* no output: an empty body, or one well-formed value ({}) */
    kinagg__doc_of_response(k, &d);
    if (!KINAGG__CBOR(d.cbor)) kinagg__json_ws(&d);
    if (d.pos < d.len && !(kinagg__doc_skip(&d) && kinagg__doc_end(&d))) return kinagg__doc_err(&d);
    return KINAGG_OK;
}
#endif /* KINAGG_NO_READ */


/* ---- 11. Producer -------------------------------------------------------- */
/* Memory: the region holds, in order, the connections (each a Kinesis
 * client with its buffers and per-entry tables), each connection's
 * aggregate buffer, the copied stream name and credentials, two shard
 * tables (the map in use and the next one being listed), the record headers
 * and the record ring. kinagg__producer_layout computes it once for init
 * and kinagg_producer_region_size alike, so the two always agree.
 * Records are copied into the ring in put order and freed from its tail,
 * so a record that takes long keeps the space behind it until it completes
 * or expires: put says KINAGG_ERR_FULL meanwhile. Each shard has a FIFO
 * queue of its records; a record that must be retried goes back to the
 * front of its queue, which keeps the order of a partition key's records.
 * A poll does at most poll_work_bytes of work: a request is built, hashed
 * and sent, and its response handled, across as many polls as that takes;
 * so are the queues sorted again when a new shard map arrives. */

#define KINAGG__NONE 0xffffffffu
#ifndef KINAGG_PRODUCER_SHARD_ID_MAX
#define KINAGG_PRODUCER_SHARD_ID_MAX 32
#endif
#if KINAGG_PRODUCER_SHARD_ID_MAX < 2 || KINAGG_PRODUCER_SHARD_ID_MAX > KINAGG_SHARD_ID_MAX
#error "kinagg.h: KINAGG_PRODUCER_SHARD_ID_MAX must be 2 to KINAGG_SHARD_ID_MAX (129)"
#endif
#define KINAGG__PSHARD_ID KINAGG_PRODUCER_SHARD_ID_MAX
#define KINAGG__COMPLETION_COST 64 /* work of one completion, in bytes */
#define KINAGG__REQUEUE_COST 64    /* work of sorting one record into a queue */
#define KINAGG__SAME_KEY_SCAN 256  /* other keys' records an unmapped aggregate passes over */
#define KINAGG__SCAN_COST 1        /* work of passing over one: a hash key compared, cheaper
                                    * than hashing a byte, counted as one */
/* The parts a build may leave out (section 1), as constants: code under a
 * 0 is compiled and checked in every build, and dropped by the optimizer. */
#ifdef KINAGG_NO_SHARD_MAP
#define KINAGG__MAPS 0
#else
#define KINAGG__MAPS 1
#endif
/* How long records wait for a first shard map whose listing keeps failing
 * in ways that pass (then they go unaggregated until a map comes): tries
 * at 0, 1, 3 and 7 s; and at most half the records' time to live, so that
 * they are sent before they expire */
#define KINAGG__FIRST_MAP_WAIT_MS 10000u
#ifdef KINAGG_NO_CREDENTIALS_SOURCE
#define KINAGG__CRED_SOURCE 0
#define KINAGG__REFUSED_CODES "" /* (looked for only with a source) */
#else
#define KINAGG__CRED_SOURCE 1
#define KINAGG__REFUSED_CODES "\0ExpiredTokenException\0ExpiredToken\0UnrecognizedClientException\0InvalidClientTokenId"
#endif
#ifdef KINAGG_NO_ERROR_TEXT
#define KINAGG__HAS_TEXT 0
#define KINAGG__TEXT(s) ""
#else
#define KINAGG__HAS_TEXT 1
#define KINAGG__TEXT(s) s
#endif
/* connections: a constant when a build allows only one */
#define KINAGG__NCONN_OF(cfg) (KINAGG_PRODUCER_MAX_CONNECTIONS == 1 ? 1u : (cfg)->connections) /* once checked */
#define KINAGG__NCONN(p) KINAGG__NCONN_OF(&(p)->cfg)
/* shards a producer's tables hold: none but the unmapped queue without maps */
#define KINAGG__MAX_SHARDS(cfg) (KINAGG__MAPS ? (cfg)->max_shards : 0)
enum { KINAGG__R_FREE, KINAGG__R_QUEUED, KINAGG__R_FLIGHT };
enum { KINAGG__MAP_NONE, KINAGG__MAP_LISTING, KINAGG__MAP_OK, KINAGG__MAP_DENIED };
/* a connection: idle; building a request; the request on the wire; its
 * response being handled; a ListShards call */
enum { KINAGG__C_IDLE, KINAGG__C_BUILD, KINAGG__C_PUT, KINAGG__C_DONE, KINAGG__C_LIST };
/* a call on the wire (or being prepared): PutRecords, or ListShards */
#define KINAGG__ON_CALL(c) ((c)->state == KINAGG__C_PUT || (KINAGG__MAPS && (c)->state == KINAGG__C_LIST))

/* Codes a record's last failure may have, kept as an index (up to
 * KINAGG__E_CODES), then the other service errors the producer tells
 * apart: more that are worth retrying (up to KINAGG__E_RETRYABLE), and
 * refused credentials (to the end). The retryable codes come first.
 * One after another, each ended by its NUL: no table of pointers (a
 * record's code is walked to when it completes with no code of the
 * service's: no steps for a record that never failed, index 0). */
static const char kinagg__pcodes[] =
    "\0ProvisionedThroughputExceededException\0InternalFailure\0KMSThrottlingException\0ThrottlingException"
    "\0ServiceUnavailable\0WrongShard\0ServiceError\0ConnectionError\0Timeout"
    "\0SlowDown\0ResourceInUseException" /* being created or updated */
    KINAGG__REFUSED_CODES;
enum { KINAGG__E_NONE, KINAGG__E_PTE, KINAGG__E_INTERNAL, KINAGG__E_KMS_THROTTLE, KINAGG__E_THROTTLING,
       KINAGG__E_UNAVAILABLE, KINAGG__E_WRONG_SHARD, KINAGG__E_SERVICE, KINAGG__E_CONNECTION, KINAGG__E_TIMEOUT,
       KINAGG__E_CODES, KINAGG__E_RETRYABLE = KINAGG__E_CODES + 2, KINAGG__E_ALL = KINAGG__E_RETRYABLE + 4,
       /* the names kinagg__pcodes holds (the refused ones only with a source) */
       KINAGG__E_LISTED = KINAGG__CRED_SOURCE ? KINAGG__E_ALL : KINAGG__E_RETRYABLE };
static kinagg_str kinagg__pcode(int i) {
    const char *s = kinagg__pcodes;
    while (i)
        if (!*s++) i--;
    return kinagg_str_c(s);
}

typedef struct kinagg__pqueue {
    uint32_t head, tail, count;
    uint32_t fhead, ftail; /* records going back to the front, gathered first */
    size_t bytes;
} kinagg__pqueue;

typedef struct kinagg__prec {
    void *user;
    uint64_t put_ms, next_ms;
    kinagg_hash_key hk;
    uint32_t off, size, data_len; /* the ring is at most 4 GiB */
    uint32_t next;
    uint16_t pk_len, attempts;
    uint8_t ehk_len, state, last_error;
} kinagg__prec;

typedef struct kinagg__pshard {
    char id[KINAGG__PSHARD_ID];
    kinagg_hash_key start, end;
    int open;
    int busy; /* a request with its records is in flight: one at a time keeps their order */
    kinagg__pqueue q;
    uint64_t refill_ms;
    int64_t rec_tokens, byte_tokens; /* thousandths */
} kinagg__pshard;

/* A connection's per-entry tables, entries to queue: their number */
#define KINAGG__PTABLES 8
typedef struct kinagg__pconn {
    kinagg_kinesis k;
    int state;
    size_t n;                  /* entries in the request being built or in flight */
    size_t used, bytes;        /* aggregate buffer used; request bytes (what Kinesis counts) */
    size_t done_e;             /* the next entry whose records to complete */
    kinagg_status done_st;     /* how the request ended */
    int map_stale;             /* an entry went to another shard than the map said */
    kinagg_put_entry *entries;
    kinagg_put_result *results;
    uint32_t *first, *count;   /* each entry's records: a list through next */
    uint8_t *aggregated;
    char (*ehk)[KINAGG_HASH_KEY_DECIMAL_MAX + 1];
    char (*expect)[KINAGG__PSHARD_ID]; /* shard an aggregate was built for */
    uint32_t *queue;           /* the queue each entry came from (KINAGG__QUEUE_OF) */
    unsigned map_gen;          /* in the map of that generation */
    unsigned char *reqbuf;     /* this request's aggregates: each connection its own, */
    size_t reqcap;             /* as they must not change until the request is done */
    unsigned events;
    uint64_t wake;
} kinagg__pconn;

static void kinagg__queues_clear(kinagg_producer *p);
/* the queue entry e of c came from: without maps, the only one */
#define KINAGG__QUEUE_OF(c, e) (KINAGG__MAPS ? (c)->queue[e] : 0u)

static const char *kinagg__prec_pk(const kinagg_producer *p, const kinagg__prec *r) {
    return (const char *)p->ring + r->off;
}
static const char *kinagg__prec_ehk(const kinagg_producer *p, const kinagg__prec *r) {
    return r->ehk_len ? (const char *)p->ring + r->off + r->pk_len : NULL;
}
static const unsigned char *kinagg__prec_data(const kinagg_producer *p, const kinagg__prec *r) {
    return p->ring + r->off + r->pk_len + r->ehk_len;
}

KINAGG_API void kinagg_producer_config_defaults(kinagg_producer_config *c) {
    KINAGG_MEMSET(c, 0, sizeof *c);
    c->aggregation = KINAGG_AGGREGATE_BY_SHARD;
    c->unmapped = KINAGG_UNMAPPED_SAME_KEY;
    c->max_record_size = KINAGG_RECORD_SIZE_DEFAULT;
    c->aggregation_max_size = 51200;
    c->collection_max_count = 500;
    c->collection_max_size = 5u * 1024u * 1024u;
    c->max_buffered_ms = 100;
    c->record_ttl_ms = 30000;
    c->rate_limit_percent = 150;
    c->min_backoff_ms = 100;
    c->max_backoff_ms = 5000;
    c->request_timeout_ms = 6000;
    c->connect_timeout_ms = 5000;
    c->connections = 1;
    c->max_shards = 64;
    c->send_buffer_size = 16384;
    c->recv_buffer_size = 128u * 1024u;
    c->poll_work_bytes = 32768;
    c->credentials_refresh_ms = 300000;
    c->aggregation_index_keys = 1024;
}

/* Bounds that keep the region's layout from overflowing size_t (they
 * matter on 32-bit targets): each connection buffer below a 128th of the
 * address space, record headers and the record buffer below a quarter. */
#define KINAGG__PBUF_MAX ((size_t)-1 / 128)
static int kinagg__producer_config_ok(const kinagg_producer_config *cfg) {
    return kinagg__stream_ok(cfg->stream) && (KINAGG__CRED_SOURCE || !cfg->credentials_source.get) &&
           (unsigned)cfg->aggregation <= KINAGG_AGGREGATE_NONE &&
           (unsigned)cfg->unmapped <= KINAGG_UNMAPPED_RAW && cfg->connections >= 1 &&
           cfg->connections <= KINAGG_PRODUCER_MAX_CONNECTIONS && cfg->collection_max_count >= 1 &&
           cfg->collection_max_count <= 500 && (!KINAGG__MAPS || (cfg->max_shards >= 1 && cfg->max_shards < 0x10000)) &&
           cfg->max_record_size >= 64 && cfg->max_record_size <= KINAGG_RECORD_SIZE_MAX &&
           cfg->collection_max_size >= cfg->max_record_size && cfg->collection_max_size <= KINAGG_RECORD_SIZE_MAX &&
           cfg->aggregation_max_size >= 64 && cfg->aggregation_max_size <= cfg->max_record_size &&
           cfg->rate_limit_percent >= 1 && cfg->rate_limit_percent <= 100000 && cfg->request_timeout_ms >= 1 &&
           cfg->connect_timeout_ms >= 1 && cfg->recv_buffer_size >= 4096 &&
           cfg->send_buffer_size >= 1024 && cfg->max_backoff_ms >= cfg->min_backoff_ms &&
           cfg->recv_buffer_size <= KINAGG__PBUF_MAX && cfg->send_buffer_size <= KINAGG__PBUF_MAX &&
           cfg->max_records < 0xfffffff0u && cfg->record_buffer_size < 0xfffffff0u &&
           cfg->aggregation_index_keys <= 0x100000u &&
           (!cfg->record_buffer_size || cfg->record_buffer_size >= cfg->max_record_size + KINAGG_HASH_KEY_DECIMAL_MAX);
}

/* Where each part of the region goes, as offsets from a 16-byte aligned
 * start. Every part is rounded up to 16 bytes. */
typedef struct kinagg__playout {
    size_t conns, conn_stride;   /* connection i's parts start at conn_parts + i * conn_stride */
    size_t conn_parts;
    size_t sb, rb, tables[KINAGG__PTABLES], reqbuf; /* within a stride; tables: as in kinagg__pconn */
    size_t reqcap, strings, cred, cred_cap, shards, staging, agg_index, agg_index_words, recs, nrecs, ring, ring_cap,
        end;
} kinagg__playout;

static size_t kinagg__r16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Record headers: max_records, or as many as bytes hold at per each; 1 at least. */
static KINAGG__SMALL_NOINLINE size_t kinagg__nrecs(const kinagg_producer_config *cfg, size_t bytes, size_t per) {
    size_t n = cfg->max_records ? cfg->max_records : bytes / per;
    return n ? n : 1;
}

/* Lays the region out for cfg. With record_buffer_size 0, the records take
 * all of avail (the region's usable bytes), or, when avail is 0, the least
 * they need. Returns 0 when the region cannot hold it. */
static int kinagg__producer_layout(kinagg__playout *l, const kinagg_producer_config *cfg, size_t avail,
                                   int least_reqbuf) {
    size_t at = 0, n = cfg->collection_max_count, s = 0, reqbuf, slot = sizeof(kinagg__prec), left, min_ring;
#define KINAGG__TAKE(field, bytes) (l->field = s, s += kinagg__r16(bytes))
    KINAGG_MEMSET(l, 0, sizeof *l);
    if (cfg->max_records > (size_t)-1 / 4 / slot || cfg->record_buffer_size > (size_t)-1 / 4) return 0;
    l->conns = at;
    at += kinagg__r16(KINAGG__NCONN_OF(cfg) * sizeof(kinagg__pconn));
    l->conn_parts = at;
    KINAGG__TAKE(sb, cfg->send_buffer_size);
    KINAGG__TAKE(rb, cfg->recv_buffer_size);
    { /* the per-entry tables, entries to queue, in the order of their fields */
        static const unsigned short each[KINAGG__PTABLES] = {
            sizeof(kinagg_put_entry), sizeof(kinagg_put_result), sizeof(uint32_t), sizeof(uint32_t), 1,
            KINAGG_HASH_KEY_DECIMAL_MAX + 1, KINAGG__MAPS ? KINAGG__PSHARD_ID : 0, sizeof(uint32_t)};
        size_t k;
        for (k = 0; k < KINAGG__PTABLES; k++) KINAGG__TAKE(tables[k], n * each[k]);
    }
    /* each connection's aggregate buffer: set, or a sixteenth of the region */
    reqbuf = cfg->request_buffer_size ? cfg->request_buffer_size : least_reqbuf ? 0 : avail / 16 / KINAGG__NCONN_OF(cfg);
    if (reqbuf < cfg->aggregation_max_size) reqbuf = cfg->aggregation_max_size;
    if (reqbuf > cfg->collection_max_size) reqbuf = cfg->collection_max_size;
    if (cfg->aggregation == KINAGG_AGGREGATE_NONE) reqbuf = 0;
    l->reqcap = kinagg__r16(reqbuf);
    KINAGG__TAKE(reqbuf, l->reqcap);
#undef KINAGG__TAKE
    l->conn_stride = s;
    at += KINAGG__NCONN_OF(cfg) * s;
    l->strings = at;
    at += kinagg__r16(cfg->stream.name.len + 1 + cfg->stream.arn.len + 1);
    l->cred = at;
    /* no more than a request head can carry: the send buffer */
    l->cred_cap = cfg->send_buffer_size < KINAGG_PRODUCER_CREDENTIALS_MAX ? cfg->send_buffer_size
                                                                         : KINAGG_PRODUCER_CREDENTIALS_MAX;
    at += kinagg__r16(l->cred_cap);
    l->shards = at;
    at += kinagg__r16((KINAGG__MAX_SHARDS(cfg) + 1) * sizeof(kinagg__pshard));
    l->staging = at;
    if (KINAGG__MAPS) at += kinagg__r16((cfg->max_shards + 1) * sizeof(kinagg__pshard));
    l->agg_index = at;
    if (KINAGG__AGG_INDEX && cfg->aggregation != KINAGG_AGGREGATE_NONE && cfg->aggregation_index_keys)
        l->agg_index_words = KINAGG_AGG_INDEX_WORDS(cfg->aggregation_index_keys);
    at += kinagg__r16(l->agg_index_words * sizeof(uint32_t));
    l->recs = at;
    /* the records: a header each, and the ring of their bytes, which must
     * hold at least one record of the largest size */
    min_ring = cfg->max_record_size + KINAGG_HASH_KEY_DECIMAL_MAX;
    if (cfg->record_buffer_size) {
        l->ring_cap = cfg->record_buffer_size;
        l->nrecs = kinagg__nrecs(cfg, l->ring_cap, KINAGG_PRODUCER_RECORD_SLOT);
    } else { /* all of avail, or the least: grow until the headers' share leaves the ring enough */
        size_t heads;
        if (avail && avail < at) return 0;
        left = avail ? avail - at : min_ring;
        for (;;) {
            l->nrecs = kinagg__nrecs(cfg, left, KINAGG_PRODUCER_RECORD_SLOT + slot);
            heads = kinagg__r16(l->nrecs * slot);
            if (avail) {
                if (heads > left) return 0;
                break;
            }
            if (kinagg__r16(min_ring) + heads <= left) break;
            left = kinagg__r16(min_ring) + heads;
        }
        l->ring_cap = (left - heads) & ~(size_t)15;
    }
    if (l->nrecs < 1 || l->nrecs > 0xfffffff0u || l->ring_cap < min_ring) return 0;
    if (l->ring_cap > 0xfffffff0u) l->ring_cap = 0xfffffff0u;
    l->ring = l->recs + kinagg__r16(l->nrecs * slot);
    l->end = l->ring + kinagg__r16(l->ring_cap);
    return !avail || l->end <= avail;
}

KINAGG_API size_t kinagg_producer_region_size(const kinagg_producer_config *cfg) {
    kinagg__playout l;
    if (!cfg || !kinagg__producer_config_ok(cfg) || !kinagg__producer_layout(&l, cfg, 0, 1)) return 0;
    return l.end + 15; /* any alignment of the region */
}

/* The credentials' three strings, and a stream's name and ARN, are runs of
 * kinagg_str with no gap: they are walked as KINAGG__STR_RUN(struct, i)
 * (KINAGG__STR_RUN_C for a const one), reached from the start of the whole
 * struct (an array index past the first member would leave that member's
 * object). */
typedef char kinagg__str_runs[offsetof(kinagg_credentials, access_key_id) == 0 &&
                                      offsetof(kinagg_credentials, secret_access_key) == sizeof(kinagg_str) &&
                                      offsetof(kinagg_credentials, session_token) == 2 * sizeof(kinagg_str) &&
                                      offsetof(kinagg_stream_ref, name) == 0 &&
                                      offsetof(kinagg_stream_ref, arn) == sizeof(kinagg_str) ? 1 : -1];
#define KINAGG__STR_RUN(s, i) ((kinagg_str *)(void *)((char *)(s) + (i) * sizeof(kinagg_str)))
#define KINAGG__STR_RUN_C(s, i) ((const kinagg_str *)(const void *)((const char *)(s) + (i) * sizeof(kinagg_str)))

static KINAGG__SMALL_NOINLINE void kinagg__wipe(void *p, size_t n) { /* not optimised away: the secret goes */
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n--) *v++ = 0;
}

KINAGG_API kinagg_status kinagg_producer_set_credentials(kinagg_producer *p, const kinagg_credentials *cr) {
    size_t need = 0, i;
    char *b;
    if (!p || !cr || !p->cred_buf) return KINAGG_ERR_INVALID_ARGUMENT;
    for (i = 0; i < 3; i++) { /* the three strings, one after another */
        const kinagg_str *from = KINAGG__STR_RUN_C(cr, i);
        if (!from->ptr && from->len) return KINAGG_ERR_INVALID_ARGUMENT;
        need += from->len;
    }
    if (need > p->cred_cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    kinagg__wipe(p->cred_buf, p->cred_cap);
    for (b = p->cred_buf, i = 0; i < 3; i++) {
        const kinagg_str *from = KINAGG__STR_RUN_C(cr, i);
        kinagg_str *to = KINAGG__STR_RUN(&p->credentials, i);
        if (KINAGG__COPY_ANY || from->len) KINAGG_MEMCPY(b, from->ptr, from->len);
        to->ptr = b;
        to->len = from->len;
        b += from->len;
    }
    for (i = 0; p->conns && i < KINAGG__NCONN(p); i++) {
        kinagg__wipe(&p->conns[i].k.signer, sizeof p->conns[i].k.signer); /* and the derived key */
        kinagg_sigv4_init(&p->conns[i].k.signer, &p->credentials);
    }
    p->have_credentials = cr->access_key_id.len != 0 && cr->secret_access_key.len != 0;
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_producer_init(kinagg_producer *p, void *region, size_t region_size,
                                              const kinagg_producer_config *cfg, const kinagg_endpoint *endpoint,
                                              kinagg_str signing_region, const kinagg_credentials *credentials,
                                              kinagg_protocol protocol, const kinagg_transport *transports,
                                              const kinagg_platform *platform) {
    kinagg__playout l;
    unsigned char *base;
    size_t i, pad;
    kinagg_status st;
    int nomap; /* never a shard map */
    static const kinagg_credentials none = {{"", 0}, {"", 0}, {"", 0}};
    if (!p || !region || !cfg || !endpoint || (!credentials && !cfg->credentials_source.get) || !transports ||
        !platform || !platform->now_ms)
        return KINAGG_ERR_INVALID_ARGUMENT;
    if (!kinagg__producer_config_ok(cfg)) return KINAGG_ERR_INVALID_ARGUMENT;
    if (!credentials) credentials = &none;
    pad = (16 - ((uintptr_t)region & 15)) & 15;
    /* the aggregate buffers take their share of a large region, or the least */
    /* (and when the records' headers, by the bytes' share, would leave the
     * ring less than a record, the least layout, as region_size made it) */
    if (region_size < pad || (!kinagg__producer_layout(&l, cfg, region_size - pad, 0) &&
                              !kinagg__producer_layout(&l, cfg, region_size - pad, 1) &&
                              !(kinagg__producer_layout(&l, cfg, 0, 1) && l.end <= region_size - pad)))
        return KINAGG_ERR_BUFFER_TOO_SMALL;
    base = (unsigned char *)region + pad;
    KINAGG_MEMSET(p, 0, sizeof *p);
    KINAGG_MEMCPY(&p->cfg, cfg, sizeof *cfg);
    p->cfg.max_shards = KINAGG__MAX_SHARDS(cfg);
    p->cfg.no_shard_map = cfg->no_shard_map || !KINAGG__MAPS;
    p->platform = *platform;
    p->entries_max = cfg->collection_max_count;
    p->entries_wait_ms = 60000;
    p->conns = (kinagg__pconn *)(void *)(base + l.conns);
    for (i = 0; i < KINAGG__NCONN_OF(cfg); i++) {
        kinagg__pconn *c = &p->conns[i];
        unsigned char *at = base + l.conn_parts + i * l.conn_stride;
        KINAGG_MEMSET(c, 0, sizeof *c);
        c->entries = (kinagg_put_entry *)(void *)(at + l.tables[0]);
        c->results = (kinagg_put_result *)(void *)(at + l.tables[1]);
        c->first = (uint32_t *)(void *)(at + l.tables[2]);
        c->count = (uint32_t *)(void *)(at + l.tables[3]);
        c->aggregated = at + l.tables[4];
        c->ehk = (char(*)[KINAGG_HASH_KEY_DECIMAL_MAX + 1])(void *)(at + l.tables[5]);
        c->expect = (char(*)[KINAGG__PSHARD_ID])(void *)(at + l.tables[6]);
        c->queue = (uint32_t *)(void *)(at + l.tables[7]);
        c->reqbuf = l.reqcap ? at + l.reqbuf : NULL;
        c->reqcap = l.reqcap;
        st = kinagg_kinesis_init(&c->k, endpoint, signing_region, credentials, protocol, &transports[i], platform,
                                 at + l.sb, cfg->send_buffer_size, at + l.rb, cfg->recv_buffer_size);
        if (st != KINAGG_OK) return st;
        c->k.http.recv_timeout_ms = cfg->request_timeout_ms;
        c->k.http.connect_timeout_ms = cfg->connect_timeout_ms;
        /* and c->state is KINAGG__C_IDLE (0), from the memset */
    }
    /* the stream's name and ARN, and the credentials: copies of our own */
    {
        char *b = p->strings = (char *)(base + l.strings);
        for (i = 0; i < 2; i++) { /* the name, then the ARN */
            kinagg_str *to = KINAGG__STR_RUN(&p->cfg.stream, i);
            if (KINAGG__COPY_ANY || to->len) KINAGG_MEMCPY(b, to->ptr, to->len);
            b[to->len] = '\0';
            to->ptr = b;
            b += to->len + 1;
        }
    }
    p->cred_buf = (char *)(base + l.cred);
    p->cred_cap = l.cred_cap;
    st = kinagg_producer_set_credentials(p, credentials);
    if (st != KINAGG_OK) return st;
    p->cred_backoff_ms = 1000;
    p->shards = (kinagg__pshard *)(void *)(base + l.shards);
    p->staging = (kinagg__pshard *)(void *)(base + l.staging);
    p->agg_index = (uint32_t *)(void *)(base + l.agg_index);
    p->agg_index_words = l.agg_index_words;
    KINAGG_MEMSET(p->shards, 0, (KINAGG__MAX_SHARDS(&p->cfg) + 1) * sizeof(kinagg__pshard));
    kinagg__queues_clear(p);
    p->recs = (kinagg__prec *)(void *)(base + l.recs);
    p->nrecs = l.nrecs;
    KINAGG_MEMSET(p->recs, 0, l.nrecs * sizeof(kinagg__prec));
    p->ring = base + l.ring;
    p->ring_cap = l.ring_cap;
    /* (a constant without maps, not read back from p->cfg) */
    nomap = !KINAGG__MAPS || p->cfg.no_shard_map;
    p->map_state = nomap ? KINAGG__MAP_DENIED : KINAGG__MAP_NONE;
    p->map_retry_ms = nomap ? (uint64_t)-1 : 0;
    p->map_backoff_ms = 1000;
    p->stats.shard_map = nomap ? KINAGG_SHARD_MAP_UNAVAILABLE : KINAGG_SHARD_MAP_NONE;
    return KINAGG_OK;
}

/* ---- errors: the newest, as a line of text ---- */

static void kinagg__perror(kinagg_producer *p, const char *call, kinagg_str what, kinagg_str detail) {
    kinagg__out o;
    p->stats.errors++;
    if (!KINAGG__HAS_TEXT) return; /* counted only */
    o.p = p->last_error;
    o.cap = sizeof p->last_error;
    o.len = 0;
    kinagg__out_c(&o, call);
    kinagg__out_c(&o, ": ");
    if (what.len > 160) what.len = 160;
    kinagg__out_str(&o, what);
    if (detail.len) {
        kinagg__out_c(&o, ": ");
        if (detail.len > sizeof p->last_error - o.len - 1) detail.len = sizeof p->last_error - o.len - 1;
        kinagg__out_str(&o, detail);
    }
    p->last_error[o.len < o.cap ? o.len : o.cap - 1] = '\0';
}

/* A call that failed as a whole: the service's error, or the connection's. */
static void kinagg__perror_call(kinagg_producer *p, const char *call, kinagg_status st, const kinagg_kinesis *k) {
    const char *what = kinagg_strerror(st), *detail = "";
    if (!KINAGG__HAS_TEXT) {
        p->stats.errors++;
        return;
    }
    if (st == KINAGG_ERR_SERVICE && k->error_type[0]) what = k->error_type, detail = k->error_message;
    else if (k->http.error_detail && k->http.error_detail[0]) what = k->http.error_detail;
    kinagg__perror(p, call, kinagg_str_c(what), kinagg_str_c(detail));
}

KINAGG_API const char *kinagg_producer_last_error(const kinagg_producer *p) { return p->last_error; }

/* ---- queues ---- */

static kinagg__pqueue *kinagg__q(kinagg_producer *p, size_t qi) { return &p->shards[qi].q; }

/* Appends record i to the list from *head to *tail. */
static void kinagg__q_append(kinagg_producer *p, uint32_t *head, uint32_t *tail, uint32_t i) {
    p->recs[i].next = KINAGG__NONE;
    if (*tail == KINAGG__NONE) *head = i;
    else p->recs[*tail].next = i;
    *tail = i;
}
static void kinagg__q_push(kinagg_producer *p, kinagg__pqueue *q, uint32_t i) {
    kinagg__q_append(p, &q->head, &q->tail, i);
    q->count++;
    q->bytes += p->recs[i].size;
}

static uint32_t kinagg__q_pop(kinagg_producer *p, kinagg__pqueue *q) {
    uint32_t i = q->head;
    q->head = p->recs[i].next;
    if (q->head == KINAGG__NONE) q->tail = KINAGG__NONE;
    q->count--;
    q->bytes -= p->recs[i].size;
    return i;
}

/* Gathers i for the front of q; kinagg__q_splice puts the gathered records,
 * in the order gathered, before the queue's head. Until then they are not
 * in the queue: a response may be handled across several polls. */
static void kinagg__q_front(kinagg_producer *p, kinagg__pqueue *q, uint32_t i) {
    kinagg__q_append(p, &q->fhead, &q->ftail, i);
}
static void kinagg__q_splice(kinagg_producer *p, kinagg__pqueue *q) {
    uint32_t i;
    if (q->fhead == KINAGG__NONE) return;
    for (i = q->fhead; i != KINAGG__NONE; i = p->recs[i].next) {
        q->count++;
        q->bytes += p->recs[i].size;
    }
    p->recs[q->ftail].next = q->head;
    if (q->tail == KINAGG__NONE) q->tail = q->ftail;
    q->head = q->fhead;
    q->fhead = q->ftail = KINAGG__NONE;
}

static void kinagg__q_clear(kinagg__pqueue *q) {
    q->head = q->tail = q->fhead = q->ftail = KINAGG__NONE;
    q->count = 0;
    q->bytes = 0;
}

/* Every queue emptied, and no shard busy. */
static KINAGG__SMALL_NOINLINE void kinagg__queues_clear(kinagg_producer *p) {
    size_t q;
    for (q = 0; q <= KINAGG__MAX_SHARDS(&p->cfg); q++) {
        kinagg__q_clear(kinagg__q(p, q));
        p->shards[q].busy = 0;
    }
}

/* The queue a record belongs to: its shard's, or the unmapped one. The
 * open shards come first in the map, by starting hash key (kinagg__map_sort),
 * and do not overlap: the last one starting at or below the key is the only
 * one that can hold it. Every put routes, so this is a binary search. No
 * map in use (none yet, or forgotten) has nopen 0: all go unmapped. */
static size_t kinagg__route(const kinagg_producer *p, const kinagg__prec *r) {
    size_t lo = 0, hi = KINAGG__MAPS ? p->nopen : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kinagg_hash_key_compare(&p->shards[mid].start, &r->hk) <= 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo && kinagg_hash_key_compare(&r->hk, &p->shards[lo - 1].end) <= 0) return lo - 1;
    return KINAGG__MAX_SHARDS(&p->cfg);
}

/* ---- records ---- */

KINAGG_API kinagg_status kinagg_producer_put(kinagg_producer *p, const char *pk, size_t pk_len, const char *ehk,
                                             size_t ehk_len, const void *data, size_t data_len, void *user) {
    kinagg_status st;
    kinagg_hash_key hk;
    size_t need, off;
    uint32_t i;
    kinagg__prec *r;
    if (!p || (!data && data_len)) return KINAGG_ERR_INVALID_ARGUMENT;
    st = kinagg_partition_key_check(pk, pk_len);
    if (st != KINAGG_OK) return st;
    if (ehk && kinagg_hash_key_parse(ehk, ehk_len, &hk) != KINAGG_OK) return KINAGG_ERR_HASH_KEY;
    if (!ehk) ehk_len = 0;
    if (data_len > p->cfg.max_record_size || pk_len > p->cfg.max_record_size - data_len) return KINAGG_ERR_TOO_LARGE;
    need = pk_len + ehk_len + data_len;
    if (need > p->ring_cap) return KINAGG_ERR_BUFFER_TOO_SMALL;
    /* Full: the ring's space comes back only from its tail, so waiting for
     * max_buffered_ms would hold the caller up for nothing; what is
     * buffered goes now (p->full), in requests as large as ever. */
    p->full = 1;
    if (p->rec_count == p->nrecs) return KINAGG_ERR_FULL;
    /* space in the ring: after the head, or from the start when the end is
     * too short (the end's few bytes then wait for the tail to pass) */
    if (p->rec_count == 0 || p->ring_head > p->ring_tail) { /* none: both 0 (kinagg__prec_free) */
        if (p->ring_cap - p->ring_head >= need) off = p->ring_head;
        else if (p->ring_tail >= need) off = 0;
        else return KINAGG_ERR_FULL;
    } else if (p->ring_head < p->ring_tail && p->ring_tail - p->ring_head >= need) {
        off = p->ring_head;
    } else {
        return KINAGG_ERR_FULL;
    }
    p->full = 0;
    i = (uint32_t)p->rec_head;
    r = &p->recs[i];
    p->rec_head = (p->rec_head + 1) % p->nrecs;
    p->rec_count++;
    p->ring_head = off + need;
    KINAGG_MEMSET(r, 0, sizeof *r);
    r->off = (uint32_t)off;
    r->size = (uint32_t)need;
    r->data_len = (uint32_t)data_len;
    r->pk_len = (uint16_t)pk_len;
    r->ehk_len = (uint8_t)ehk_len;
    r->user = user;
    r->put_ms = p->platform.now_ms(p->platform.ctx);
    r->state = KINAGG__R_QUEUED;
    KINAGG_MEMCPY(p->ring + off, pk, pk_len);
    if (KINAGG__COPY_ANY || ehk_len) KINAGG_MEMCPY(p->ring + off + pk_len, ehk, ehk_len);
    if (KINAGG__COPY_ANY || data_len) KINAGG_MEMCPY(p->ring + off + pk_len + ehk_len, data, data_len);
    if (ehk_len) r->hk = hk;
    else kinagg_hash_key_of_partition_key(pk, pk_len, &r->hk);
    if (!KINAGG__MAPS || !p->requeueing) kinagg__q_push(p, kinagg__q(p, kinagg__route(p, r)), i); /* else the requeue reaches it */
    p->stats.records_put++;
    p->stats.buffered_records++;
    p->stats.buffered_bytes += need;
    return KINAGG_OK;
}

/* Work done in this poll: n bytes' worth off what is left. */
static KINAGG__SMALL_NOINLINE void kinagg__work_done(kinagg_producer *p, size_t n) {
    p->work_left = p->work_left > n ? p->work_left - n : 0;
}

/* Frees a completed record, and the ring space behind the oldest. */
static void kinagg__prec_free(kinagg_producer *p, uint32_t i) {
    p->stats.buffered_records--;
    p->stats.buffered_bytes -= p->recs[i].size;
    p->recs[i].state = KINAGG__R_FREE;
    while (p->rec_count && p->recs[p->rec_tail].state == KINAGG__R_FREE) {
        p->rec_tail = (p->rec_tail + 1) % p->nrecs;
        p->rec_count--;
        if (KINAGG__MAPS && p->requeued) p->requeued--; /* counted from the tail (0 without maps) */
    }
    if (p->rec_count) p->ring_tail = p->recs[p->rec_tail].off;
    else p->ring_head = p->ring_tail = 0;
}

/* How a record ends: the status, and what goes with it; the record's own
 * parts (its pointer, attempts, latency) are added by kinagg__complete,
 * in place. */
static void kinagg__how(kinagg_completion *how, kinagg_status st, kinagg_str code, kinagg_str message) {
    KINAGG_MEMSET(how, 0, sizeof *how);
    how->status = st;
    how->shard_id.ptr = how->sequence_number.ptr = ""; /* lengths 0 */
    how->error_code = code;
    how->error_message = message;
}

/* The ms from t to now, 0 when t is later: a record put by a completion
 * callback during a poll was put after the poll read its clock. */
static KINAGG__SMALL_NOINLINE uint64_t kinagg__since(uint64_t now, uint64_t t) { return now > t ? now - t : 0; }

/* Completes record i as how says, with the record's own parts filled into
 * how; its error code is as it was again afterwards, for the next record. */
static void kinagg__complete(kinagg_producer *p, uint32_t i, kinagg_completion *how, uint64_t now) {
    kinagg__prec *r = &p->recs[i];
    size_t cost = KINAGG__COMPLETION_COST + r->size;
    kinagg_str code = how->error_code;
    how->user = r->user;
    how->attempts = r->attempts;
    if (!code.len) how->error_code = kinagg__pcode(r->last_error);
    how->latency_ms = kinagg__since(now, r->put_ms);
    if (how->status == KINAGG_OK) {
        p->stats.records_delivered++;
        p->stats.user_bytes += r->data_len;
        p->stats.latency_ms_total += how->latency_ms;
        if (how->latency_ms > p->stats.latency_ms_max) p->stats.latency_ms_max = how->latency_ms;
    } else {
        p->stats.records_failed++;
    }
    kinagg__prec_free(p, i); /* first: the callback may put again */
    kinagg__work_done(p, cost);
    if (p->cfg.on_complete) {
        p->completing++;
        p->cfg.on_complete(p->cfg.on_complete_ctx, how);
        p->completing--;
    }
    how->error_code = code;
}

/* A record failed with st before it was sent or known to be delivered. */
static void kinagg__fail(kinagg_producer *p, uint32_t i, kinagg_status st, const char *message, uint64_t now) {
    kinagg_completion how;
    kinagg_str none;
    none.ptr = "";
    none.len = 0;
    kinagg__how(&how, st, none, kinagg_str_c(message));
    kinagg__complete(p, i, &how, now);
}

static int kinagg__expired(const kinagg_producer *p, const kinagg__prec *r, uint64_t now) {
    return p->cfg.record_ttl_ms && kinagg__since(now, r->put_ms) >= p->cfg.record_ttl_ms;
}

static void kinagg__expire(kinagg_producer *p, uint32_t i, uint64_t now) {
    kinagg__fail(p, i, KINAGG_ERR_EXPIRED, KINAGG__TEXT("record_ttl_ms passed before it was known to be delivered"), now);
}

/* Back to its queue's front after a failure, or failed for good when its
 * time to live has run out. */
static KINAGG__SMALL_NOINLINE void kinagg__retry(kinagg_producer *p, uint32_t i, int error, uint64_t now) {
    kinagg__prec *r = &p->recs[i];
    uint32_t delay = p->cfg.max_backoff_ms, shift = r->attempts > 16 ? 15 : r->attempts ? r->attempts - 1u : 0;
    r->last_error = (uint8_t)error;
    if (kinagg__expired(p, r, now)) {
        kinagg__expire(p, i, now);
        return;
    }
    /* exponential backoff with jitter: half to all of min * 2^(attempts-1) */
    if (p->cfg.min_backoff_ms <= delay >> shift) delay = p->cfg.min_backoff_ms << shift; /* else over max */
    if (p->platform.random) {
        uint32_t half = delay / 2;
        delay = half + (half ? p->platform.random(p->platform.ctx) % (half + 1) : 0);
    }
    r->next_ms = now + delay;
    r->state = KINAGG__R_QUEUED;
    p->stats.records_retried++;
    /* a record the requeue has not reached yet waits for it, in put order */
    if (KINAGG__MAPS && p->requeueing && (i + p->nrecs - p->rec_tail) % p->nrecs >= p->requeued) return;
    kinagg__q_front(p, kinagg__q(p, kinagg__route(p, r)), i);
}

static void kinagg__splice_all(kinagg_producer *p) {
    size_t q;
    for (q = 0; q <= KINAGG__MAX_SHARDS(&p->cfg); q++) kinagg__q_splice(p, kinagg__q(p, q));
}

/* Queues rebuilt from the ring after the shard map changed: every queued
 * record goes to the queue its hash key now selects, in put order. Tens of
 * thousands of records may be buffered, so the sorting is poll work, done
 * across polls (kinagg__requeue_step) from the ring's tail: until the walk
 * reaches a record, put and retry leave it to the walk, so each shard's
 * queue stays in put order. */
static void kinagg__requeue_all(kinagg_producer *p) {
    kinagg__queues_clear(p);
    p->requeueing = 1;
    p->requeued = 0;
}

static void kinagg__requeue_step(kinagg_producer *p) {
    size_t n;
    for (n = 0; KINAGG__MAPS && p->requeueing; n++) {
        size_t i;
        if (p->requeued >= p->rec_count) {
            p->requeueing = 0;
            break;
        }
        if (!p->work_left && n >= 64) break; /* a little in every poll, whatever came before */
        i = (p->rec_tail + p->requeued) % p->nrecs;
        p->requeued++;
        if (p->recs[i].state == KINAGG__R_QUEUED) kinagg__q_push(p, kinagg__q(p, kinagg__route(p, &p->recs[i])), (uint32_t)i);
        kinagg__work_done(p, KINAGG__REQUEUE_COST);
    }
}

/* ---- rate limits: token buckets per shard, in thousandths ---- */

/* dt ms (at most a second) of tokens added, up to one second's worth. */
static KINAGG__SMALL_NOINLINE void kinagg__tokens_add(const kinagg_producer *p, kinagg__pshard *s, uint32_t dt) {
    uint32_t pct = p->cfg.rate_limit_percent; /* pct <= 100000: dt * pct * 10 fits 32 bits */
    int64_t rec_cap = (int64_t)(10000 * pct), byte_cap = (int64_t)1048576 * 10 * pct; /* one second's worth */
    s->rec_tokens += (int64_t)(dt * pct * 10);
    s->byte_tokens += (int64_t)(dt * pct) * 10486;
    if (s->rec_tokens > rec_cap) s->rec_tokens = rec_cap;
    if (s->byte_tokens > byte_cap) s->byte_tokens = byte_cap;
}
static void kinagg__refill(kinagg_producer *p, kinagg__pshard *s, uint64_t now) {
    uint64_t d = kinagg__since(now, s->refill_ms);
    kinagg__tokens_add(p, s, d > 1000 ? 1000 : (uint32_t)d);
    s->refill_ms = now;
}
static int kinagg__bucket_full(const kinagg_producer *p, const kinagg__pshard *s) {
    return s->byte_tokens >= (int64_t)1048576 * 10 * (int64_t)p->cfg.rate_limit_percent;
}

/* ---- building a request ---- */

static int kinagg__queue_ready(kinagg_producer *p, kinagg__pqueue *q, uint64_t now) {
    const kinagg__prec *h;
    if (!q->count) return 0;
    h = &p->recs[q->head];
    if (h->next_ms > now) return 0;
    return p->flushing || p->full || kinagg__since(now, h->put_ms) >= p->cfg.max_buffered_ms || q->bytes >= p->cfg.aggregation_max_size ||
           q->count >= p->cfg.collection_max_count;
}

/* Moves the first take records of q into entry c->n, in order; with
 * same_key, the first take records with the head's hash key, wherever
 * they are in q (the others keep their order). */
static KINAGG__SMALL_NOINLINE void kinagg__take_records(kinagg_producer *p, kinagg__pconn *c, kinagg__pqueue *q, size_t take, int same_key) {
    uint32_t prev = KINAGG__NONE, k, at = q->head, before = KINAGG__NONE, head = q->head;
    c->first[c->n] = q->head;
    for (k = 0; k < take; k++) {
        uint32_t i;
        /* unlink the next record (with same_key, the next with the head's
         * hash key; else the queue's head, as nothing is passed over) */
        while (same_key && at != head && kinagg_hash_key_compare(&p->recs[at].hk, &p->recs[head].hk) != 0) {
            before = at;
            at = p->recs[at].next;
        }
        i = at;
        at = p->recs[i].next;
        if (before == KINAGG__NONE) q->head = at;
        else p->recs[before].next = at;
        if (q->tail == i) q->tail = before;
        q->count--;
        q->bytes -= p->recs[i].size;
        p->recs[i].state = KINAGG__R_FLIGHT;
        p->recs[i].attempts = (uint16_t)(p->recs[i].attempts + (p->recs[i].attempts != 0xffff)); /* (saturating: a record retried for days) */
        if (prev != KINAGG__NONE) p->recs[prev].next = i;
        prev = i;
    }
    p->recs[prev].next = KINAGG__NONE;
    c->count[c->n] = (uint32_t)take;
}

/* Adds entries to connection c's request from the ready queues. Returns 1
 * when the request is complete (full, or nothing more is ready), 0 when the
 * poll's work ran out first (the next poll goes on). Budgets are checked
 * before an aggregate is built, so no work is thrown away. */
static int kinagg__build(kinagg_producer *p, kinagg__pconn *c, uint64_t now) {
    size_t visited, nq = KINAGG__MAX_SHARDS(&p->cfg) + 1;
    int aggregate = p->cfg.aggregation == KINAGG_AGGREGATE_BY_SHARD;
    for (visited = 0; visited < nq && c->n < p->entries_max; visited++) {
        size_t qi = (p->rr + visited) % nq;
        kinagg__pqueue *q = kinagg__q(p, qi);
        int unmapped = !KINAGG__MAPS || qi == KINAGG__MAX_SHARDS(&p->cfg);
        kinagg__pshard *sh = unmapped ? NULL : &p->shards[qi];
        if (!unmapped && qi >= p->nshards) continue;
        /* a shard in another request waits; this request may go on with it */
        if (p->shards[qi].busy && !(c->n && KINAGG__QUEUE_OF(c, c->n - 1) == qi)) continue;
        if (sh) kinagg__refill(p, sh, now);
        while (c->n < p->entries_max && kinagg__queue_ready(p, q, now)) {
            const kinagg__prec *h = &p->recs[q->head];
            kinagg_put_entry *e = &c->entries[c->n];
            size_t take = 1, cost, agg_len = 0, left = p->cfg.collection_max_size - c->bytes;
            int as_agg = 0;
            /* the bytes the shard's limit lets go now: no limit unmapped, or
             * when its bucket is full (an entry larger than a second's worth
             * still goes, then waits it off). Compared with sizes only, so
             * kept as one, none below 0; below a second's worth of
             * rate_limit_percent (at most 100000) of 1 MiB, it fits. */
            size_t tokens = (size_t)-1;
            if (!p->work_left) return 0;
            if ((size_t)h->pk_len + h->data_len > left) return 1;                /* the request is full */
            if (sh && !kinagg__bucket_full(p, sh)) {
                int64_t t = kinagg__sdiv(sh->byte_tokens, 1000);
                tokens = t > 0 ? (size_t)t : 0;
            }
            /* the shard's limit (a key is never empty: a record costs 1 or more) */
            if ((sh && sh->rec_tokens < 1000) || tokens < (size_t)h->pk_len + h->data_len) break;
            /* at the limit, wait for a whole aggregate's worth of tokens: slivers
             * sized to the tokens of the moment would spend a record each */
            if (aggregate && q->count > 1 &&
                tokens < (q->bytes < p->cfg.aggregation_max_size ? q->bytes : p->cfg.aggregation_max_size))
                break;
            if (aggregate && !(unmapped && p->cfg.unmapped == KINAGG_UNMAPPED_RAW) && q->count > 1) {
                /* as many records from the front as fit one aggregate (the
                 * unmapped queue: only those with the head's hash key) */
                kinagg_agg agg;
                kinagg_agg_limits lim;
                size_t room = c->reqcap - c->used, skipped = 0;
                uint32_t i = q->head;
                if (room < 1024 && room < p->cfg.aggregation_max_size) return 1; /* aggregate buffer used up */
                if (room > p->cfg.aggregation_max_size) room = p->cfg.aggregation_max_size;
                if (room > p->cfg.max_record_size - 1) room = p->cfg.max_record_size - 1; /* + "a" */
                if (room > left - 1) room = left - 1;
                if (room > tokens - 1) room = tokens - 1; /* tokens > 0 here: see above */
                lim.max_record_size = room + 1;
                lim.outer_key_len = 1;
                take = 0;
                if (room >= 64 && kinagg_agg_init(&agg, c->reqbuf + c->used, room, &lim) == KINAGG_OK) {
                    if (p->agg_index_words) { /* as many words as this aggregate can use: each set clears them */
                        size_t words = KINAGG_AGG_INDEX_WORDS(KINAGG_AGG_KEYS_MAX(room));
                        kinagg_agg_set_index(&agg, p->agg_index, words < p->agg_index_words ? words : p->agg_index_words);
                    }
                    while (i != KINAGG__NONE && take < 100000) {
                        const kinagg__prec *r = &p->recs[i];
                        /* unmapped, the head's hash key only: other keys' records
                         * are passed over, within a bound and the poll's work. A
                         * waiting record of this key stops it (it must not be
                         * overtaken), and so does, once one was passed over, any
                         * record with an explicit hash key: a partition key sent
                         * with two hash keys could have a record passed over and
                         * a later one taken. (Without one, a partition key has a
                         * single hash key, and its records are all passed over or
                         * all taken.) */
                        if (unmapped && (kinagg_hash_key_compare(&r->hk, &h->hk) != 0 || (skipped && r->ehk_len))) {
                            if (r->ehk_len || ++skipped > KINAGG__SAME_KEY_SCAN ||
                                skipped * KINAGG__SCAN_COST > p->work_left)
                                break;
                            i = r->next;
                            continue;
                        }
                        if (r->next_ms > now) break;
                        if (kinagg__agg_add_checked(&agg, kinagg__prec_pk(p, r), r->pk_len, kinagg__prec_ehk(p, r), r->ehk_len,
                                                    kinagg__prec_data(p, r), r->data_len) != KINAGG_OK)
                            break;
                        take++;
                        i = r->next;
                    }
                }
                /* the records passed over (unmapped only): work done */
                kinagg__work_done(p, skipped * KINAGG__SCAN_COST);
                if (take >= 2) {
                    const unsigned char *out;
                    kinagg_agg_finish(&agg, &out, &agg_len);
                    as_agg = 1;
                } else {
                    take = 1; /* alone: too large to aggregate, or nothing to join */
                }
            }
            if (as_agg) {
                e->explicit_hash_key.len = kinagg_hash_key_format(&h->hk, c->ehk[c->n]);
                e->explicit_hash_key.ptr = c->ehk[c->n];
                e->data = c->reqbuf + c->used;
                e->data_len = agg_len;
                e->partition_key.ptr = "a";
                e->partition_key.len = 1;
            } else {
                e->data = kinagg__prec_data(p, h);
                e->data_len = h->data_len;
                e->partition_key.ptr = kinagg__prec_pk(p, h);
                e->partition_key.len = h->pk_len;
                e->explicit_hash_key.ptr = (const char *)e->data - h->ehk_len; /* none: length 0 */
                e->explicit_hash_key.len = h->ehk_len;
            }
            cost = e->partition_key.len + e->data_len;
            kinagg__work_done(p, agg_len + KINAGG__COMPLETION_COST);
            if (sh) {
                sh->rec_tokens -= 1000;
                sh->byte_tokens -= (int64_t)cost * 1000;
            }
            kinagg__take_records(p, c, q, take, unmapped && take > 1);
            c->aggregated[c->n] = (uint8_t)as_agg;
            if (KINAGG__MAPS && sh) /* the id is NUL-padded to its size (kinagg__list_shards_parse) */
                KINAGG_MEMCPY(c->expect[c->n], sh->id, sizeof c->expect[c->n]);
            else if (KINAGG__MAPS)
                c->expect[c->n][0] = '\0';
            if (as_agg) c->used += agg_len;
            c->bytes += cost;
            if (KINAGG__MAPS) c->queue[c->n] = (uint32_t)qi;
            p->shards[qi].busy = 1;
            c->n++;
        }
    }
    return 1;
}

/* ---- responses ---- */

/* Where name is among codes from..to-1 of kinagg__pcodes, or 0. */
static int kinagg__pcode_find(kinagg_str name, int from, int to) {
    kinagg_str code = kinagg__pcode(from);
    for (; from < to; from++) {
        if (name.len == code.len && KINAGG_MEMCMP(name.ptr, code.ptr, code.len) == 0) return from;
        if (from + 1 < to) code = kinagg_str_c(code.ptr + code.len + 1); /* not past the last */
    }
    return 0;
}

static int kinagg__code_index(kinagg_str code) {
    int i = kinagg__pcode_find(code, 1, KINAGG__E_CODES);
    return i ? i : KINAGG__E_SERVICE;
}

/* Whether a failed call is worth sending again: network faults, 5xx and
 * 429, and the codes the AWS SDKs retry as throttling or timeouts, by the
 * words they share (Throttling, RequestThrottledException,
 * LimitExceededException, RequestLimitExceeded, TooManyRequestsException,
 * RequestTimeout, ...). */
static int kinagg__retryable(kinagg_status st, const kinagg_kinesis *k) {
    int i;
    switch (st) {
    case KINAGG_ERR_CONNECT: case KINAGG_ERR_TLS: case KINAGG_ERR_TIMEOUT: case KINAGG_ERR_CLOSED:
    case KINAGG_ERR_IO: case KINAGG_ERR_HTTP_PARSE: case KINAGG_ERR_JSON: case KINAGG_ERR_CBOR:
    case KINAGG_ERR_RESPONSE_TOO_LARGE: case KINAGG_ERR_CLOCK_SKEW:
        return 1;
    case KINAGG_ERR_SERVICE:
        i = kinagg__pcode_find(kinagg_str_c(k->error_type), 1, KINAGG__E_RETRYABLE);
        /* 408: some servers send it on a connection they close as idle, and
         * it is then the answer read for the next request (RFC 9110 lets a
         * client repeat that request) */
        return k->http_status >= 500 || k->http_status == 429 || k->http_status == 408 ||
               (i && (i <= KINAGG__E_UNAVAILABLE || i >= KINAGG__E_CODES)) ||
               kinagg__has_word(kinagg_str_c(k->error_type), "Throttl\0LimitExceeded\0TooManyRequests\0Timeout\0");
    default:
        return 0;
    }
}

#ifndef KINAGG_NO_READ
KINAGG_API int kinagg_producer_retryable(kinagg_status st, const kinagg_kinesis *k) { return kinagg__retryable(st, k); }
#endif

/* The service refused the credentials as expired or unknown: with a
 * credentials source, new ones will come, and the call is worth retrying. */
static int kinagg__cred_refused(const kinagg_producer *p, kinagg_status st, const kinagg_kinesis *k) {
    return KINAGG__CRED_SOURCE && p->cfg.credentials_source.get && st == KINAGG_ERR_SERVICE &&
           kinagg__pcode_find(kinagg_str_c(k->error_type), KINAGG__E_RETRYABLE, KINAGG__E_ALL);
}

/* The clock as one connection's refusal corrected it, for every connection
 * (each would otherwise learn it from a refusal of its own). */
static void kinagg__clock_share(kinagg_producer *p, kinagg_status st, const kinagg_kinesis *k) {
    size_t i;
    if (KINAGG_PRODUCER_MAX_CONNECTIONS > 1 && st == KINAGG_ERR_CLOCK_SKEW)
        for (i = 0; i < KINAGG__NCONN(p); i++) p->conns[i].k.clock_offset_ms = k->clock_offset_ms;
}

static int kinagg__error_of(kinagg_status st, const kinagg_kinesis *k) {
    if (st == KINAGG_ERR_TIMEOUT) return KINAGG__E_TIMEOUT;
    /* (a refusal of the clock is the service's: its code, not a connection's) */
    if (st == KINAGG_ERR_SERVICE || st == KINAGG_ERR_CLOCK_SKEW) return kinagg__code_index(kinagg_str_c(k->error_type));
    return KINAGG__E_CONNECTION;
}

/* The request on c ended with st: read its results; the records are
 * completed or queued again by kinagg__put_done_step. */
static void kinagg__put_done_begin(kinagg_producer *p, kinagg__pconn *c, kinagg_status st, uint64_t now) {
    size_t failed = 0;
    if (c->k.http.resent) { /* a try the HTTP client made again: it failed as a whole */
        p->stats.requests++;
        p->stats.requests_failed++;
        kinagg__perror_call(p, "PutRecords", KINAGG_ERR_CLOSED, &c->k); /* (no error_detail: not a failure of the call) */
    }
    if (st == KINAGG_OK) st = kinagg_put_records_finish(&c->k, c->results, c->n, &failed);
    else st = kinagg__call_result(&c->k, st);
    if (st != KINAGG_OK) {
        p->stats.requests_failed++;
        kinagg__clock_share(p, st, &c->k);
        kinagg__perror_call(p, "PutRecords", st, &c->k);
        if (kinagg__cred_refused(p, st, &c->k)) p->cred_forced = 1;
        /* a success answer cut short or larger than the receive buffer:
         * its size may be why (kinesalite cuts CBOR answers at 16 KiB), so
         * later requests carry half as many entries (a large error page
         * says nothing about entries). A size grown back that fails again
         * waits twice as long before it grows the next time. */
        if ((st == KINAGG_ERR_JSON || st == KINAGG_ERR_CBOR || st == KINAGG_ERR_RESPONSE_TOO_LARGE) && c->n > 1 &&
            c->k.http.response.status / 100 == 2 && c->n / 2 < p->entries_max) {
            p->entries_max = c->n / 2;
            if (p->entries_grown && p->entries_wait_ms < 3600000) p->entries_wait_ms *= 2;
            p->entries_grown = 0;
            p->entries_back_ms = now + p->entries_wait_ms;
        }
    }
    c->done_st = st;
    c->done_e = 0;
    if (KINAGG__MAPS) c->map_stale = 0;
    c->state = KINAGG__C_DONE;
}

/* Whether entry e, stored on another shard than the map named, landed on a
 * shard of the same map whose hash keys hold all of the named one's (some
 * servers, moto, store on a closed parent): a KCL consumer keeps every
 * record of it there, and the map knows that shard (it is not listed again
 * for this). */
static int kinagg__landed_around(const kinagg_producer *p, const kinagg__pconn *c, size_t e) {
    const kinagg__pshard *want = &p->shards[KINAGG__QUEUE_OF(c, e)];
    size_t i;
    for (i = 0; c->map_gen == p->map_gen && i < p->nshards; i++)
        if (kinagg__key_is(c->results[e].shard_id, p->shards[i].id))
            return kinagg_hash_key_compare(&p->shards[i].start, &want->start) <= 0 &&
                   kinagg_hash_key_compare(&want->end, &p->shards[i].end) <= 0;
    return 0;
}

/* Completes or requeues the records of c's entries, as many as the poll's
 * work allows (at least one entry); when all are done, c is idle again. */
static void kinagg__put_done_step(kinagg_producer *p, kinagg__pconn *c, uint64_t now) {
    kinagg_status st = c->done_st;
    size_t e;
    do {
        uint32_t i;
        int retry = -1; /* the records go back with this error, or complete as how says */
        kinagg_completion how;
        if (c->done_e >= c->n) break;
        e = c->done_e++;
        i = c->first[e];
        kinagg__how(&how, st, kinagg_str_c(c->k.error_type), kinagg_str_c(c->k.error_message));
        if (st == KINAGG_OK && c->results[e].error_code.len) {
            kinagg_str code = c->results[e].error_code;
            int index = kinagg__code_index(code);
            if (index == KINAGG__E_PTE) p->stats.entries_throttled++;
            kinagg__perror(p, "PutRecords entry", code, c->results[e].error_message);
            /* KMS errors but throttling, and an entry the service calls
             * invalid (kinesis-mock refuses a record over the stream's size
             * limit so, entry by entry): sent again, it would fail again,
             * and hold its shard's queue behind it for ever */
            if (kinagg__has_word(code, "KMS\0Invalid\0Validation\0") && index != KINAGG__E_KMS_THROTTLE) {
                how.status = KINAGG_ERR_SERVICE; /* permanent */
                how.error_code = code;
                how.error_message = c->results[e].error_message;
            } else
                retry = index;
        } else if (KINAGG__MAPS && st == KINAGG_OK && c->expect[e][0] &&
                   !kinagg__key_is(c->results[e].shard_id, c->expect[e]) && !kinagg__landed_around(p, c, e) &&
                   (c->map_stale = 1, c->aggregated[e])) {
            /* an entry went to another shard than the map said: the map is
             * out of date (resharding), and is listed again (for the rate
             * limits too, and a lone record is delivered all the same). An
             * aggregate there would be dropped by a KCL consumer if any of
             * its records is outside that shard: its records are sent
             * again once the map is new, as the KPL does (a copy that
             * holds only records inside the shard stays: a duplicate). */
            retry = KINAGG__E_WRONG_SHARD;
        } else if (st == KINAGG_OK) {
            p->stats.kinesis_records++;
            p->stats.wire_bytes += c->entries[e].data_len + c->entries[e].partition_key.len;
            how.error_code.len = how.error_message.len = 0;
            how.error_code.ptr = how.error_message.ptr = "";
            how.shard_id = c->results[e].shard_id;
            how.sequence_number = c->results[e].sequence_number;
            how.aggregated = c->aggregated[e];
        } else if (kinagg__retryable(st, &c->k) || kinagg__cred_refused(p, st, &c->k)) {
            retry = kinagg__error_of(st, &c->k);
        } else if (!how.error_code.len) { /* the request can never succeed: its records fail now */
            how.error_code = kinagg_str_c(kinagg_strerror(st));
        }
        while (i != KINAGG__NONE) {
            kinagg__prec *r = &p->recs[i];
            uint32_t next = r->next;
            if (c->k.http.resent) { /* its first try on this request: as a connection error */
                r->attempts = (uint16_t)(r->attempts + (r->attempts != 0xffff));
                r->last_error = KINAGG__E_CONNECTION;
            }
            if (retry >= 0) kinagg__retry(p, i, retry, now);
            else kinagg__complete(p, i, &how, now);
            if (c->state != KINAGG__C_DONE) return; /* a callback called abandon */
            how.subsequence += (unsigned)how.aggregated; /* 0 or 1 */
            i = next;
        }
    } while (p->work_left);
    if (c->done_e < c->n) return; /* the rest in the next poll */
    if (!KINAGG__MAPS || c->map_gen == p->map_gen) { /* a newer map has its own marks */
        /* and only this request's queues get their records back: another
         * connection's response may be half handled, its records half
         * gathered for the front of its own queues */
        for (e = 0; e < c->n; e++) {
            p->shards[KINAGG__QUEUE_OF(c, e)].busy = 0;
            kinagg__q_splice(p, kinagg__q(p, KINAGG__QUEUE_OF(c, e)));
        }
    } else {
        kinagg__splice_all(p); /* routed by the new map: anywhere */
    }
    c->n = 0;
    c->state = KINAGG__C_IDLE;
    /* listed again at once, but at most once a second (kinagg__map_replace),
     * and not for a request of an older map: the new one may know better */
    if (KINAGG__MAPS && c->map_stale && p->map_state == KINAGG__MAP_OK && c->map_gen == p->map_gen) p->map_wanted = 1;
}

/* ---- the shard map ---- */

/* Starts a ListShards call on c (the next page with a token); 1 when it
 * started. */
static int kinagg__list_begin(kinagg_producer *p, kinagg__pconn *c) {
    kinagg__field f[2];
    size_t most;
    KINAGG_MEMSET(f, 0, sizeof f);
    if (p->map_token[0]) {
        f[0].key = "NextToken";
        f[0].str = kinagg_str_c(p->map_token);
    } else {
        kinagg__stream_field(&f[0], p->cfg.stream);
        p->nstaging = 0;
        p->map_empty_pages = 0;
    }
    /* as many shards as the receive buffer surely holds (a shard takes
     * at most about 450 bytes of JSON; 2 KiB for the head and the token),
     * and one more than the table, which then says the stream has too
     * many; at most 32, whose answer stays under 16 KiB, where some
     * servers' CBOR encoders cut answers */
    most = (p->cfg.recv_buffer_size - 2048) / 512;
    if (most > KINAGG__MAX_SHARDS(&p->cfg) + 1) most = KINAGG__MAX_SHARDS(&p->cfg) + 1;
    f[1].key = "MaxResults";
    f[1].num = most > 32 ? 32 : most;
    if (kinagg__small_begin(&c->k, "ListShards", f, 2) != KINAGG_OK) return 0;
    c->state = KINAGG__C_LIST;
    return 1;
}

/* Sorts a map for kinagg__route: open shards first, by starting hash key
 * (a heap sort: no recursion, no scratch, n log n swaps however ListShards
 * ordered the shards). Returns how many are open. */
static KINAGG__SMALL_NOINLINE int kinagg__map_before(const kinagg__pshard *a, const kinagg__pshard *b) {
    if (a->open != b->open) return a->open != 0;
    return kinagg_hash_key_compare(&a->start, &b->start) < 0;
}
static KINAGG__SMALL_NOINLINE void kinagg__map_swap(kinagg__pshard *a, kinagg__pshard *b) {
    unsigned char *x = (unsigned char *)a, *y = (unsigned char *)b;
    size_t k;
    for (k = 0; k < sizeof *a; k++) {
        unsigned char t = x[k];
        x[k] = y[k];
        y[k] = t;
    }
}
static void kinagg__map_sift(kinagg__pshard *s, size_t i, size_t n) {
    for (;;) {
        size_t m = i, c;
        for (c = 2 * i + 1; c <= 2 * i + 2 && c < n; c++) /* the larger of i and its children */
            if (kinagg__map_before(&s[m], &s[c])) m = c;
        if (m == i) return;
        kinagg__map_swap(&s[i], &s[m]);
        i = m;
    }
}
static size_t kinagg__map_sort(kinagg__pshard *s, size_t n) {
    size_t k, open = 0;
    /* one loop: k from n + n/2 down to n makes the heap (sifting k - n),
     * then below n takes the largest to k */
    for (k = n + n / 2; k-- > 1;) {
        if (k < n) kinagg__map_swap(&s[0], &s[k]);
        kinagg__map_sift(s, k < n ? 0 : k - n, k < n ? k : n);
    }
    for (k = 0; k < n; k++) open += s[k].open != 0;
    return open;
}

/* The staged map (nstaging shards, none to forget the map) replaces the
 * one in use: its shards' token buckets full, the records sorted into its
 * queues again (kinagg__requeue_all). */
static KINAGG__SMALL_NOINLINE void kinagg__map_replace(kinagg_producer *p, int state, uint64_t now) {
    kinagg__pshard *t = p->shards;
    size_t i;
    p->nopen = kinagg__map_sort(p->staging, p->nstaging);
    p->shards = p->staging;
    p->staging = t;
    p->nshards = p->nstaging;
    for (i = 0; i <= KINAGG__MAX_SHARDS(&p->cfg); i++) { /* the queues: kinagg__requeue_all */
        p->shards[i].refill_ms = now;
        p->shards[i].rec_tokens = p->shards[i].byte_tokens = 0;
        kinagg__tokens_add(p, &p->shards[i], 1000); /* full */
    }
    p->map_state = state;
    p->map_gen++;
    p->map_retry_ms = now + 1000; /* at most one refresh a second */
    kinagg__requeue_all(p); /* and no shard busy */
}

/* A listing that fails for good (denied, more shards than max_shards, a
 * response we cannot read) while a map is known: that map is out of date
 * (a known map is listed again only after an entry landed on another
 * shard). Forget it: records go on unmapped, where records of one hash key
 * always land together, instead of to shards that are gone (each such
 * aggregate is stored, refused as misplaced, and sent again, until it
 * expires), and the map is asked for again now and then. */
static void kinagg__map_forget(kinagg_producer *p, uint64_t now) {
    if (p->nshards) {
        p->nstaging = 0; /* the listing has ended */
        kinagg__map_replace(p, KINAGG__MAP_DENIED, now);
    }
    p->map_state = KINAGG__MAP_DENIED; /* (no map yet: records do not wait for one) */
    p->map_retry_ms = now + 60000;
}

static void kinagg__list_failed(kinagg_producer *p, kinagg_status st, const kinagg_kinesis *k, uint64_t now) {
    int refused;
    p->map_token[0] = '\0';
    p->map_state = p->nshards ? KINAGG__MAP_OK : KINAGG__MAP_NONE;
    p->stats.shard_map_failures++;
    kinagg__clock_share(p, st, k);
    refused = kinagg__cred_refused(p, st, k);
    kinagg__perror_call(p, "ListShards", st, k);
    if (refused) p->cred_forced = 1;
    /* an expired NextToken (AWS keeps them 300 s): the listing starts again */
    if (st == KINAGG_ERR_SERVICE && !kinagg__retryable(st, k) && !refused &&
        !kinagg__has_word(kinagg_str_c(k->error_type), "ExpiredNextToken\0")) {
        /* no permission (or no such stream): go on without a map, and ask
         * again now and then */
        p->map_state = KINAGG__MAP_DENIED;
        kinagg__map_forget(p, now);
    } else {
        /* refused for the clock, which the refusal has just set right: at
         * once (the first time), not after the backoff */
        p->map_retry_ms = now + (st == KINAGG_ERR_CLOCK_SKEW && p->map_backoff_ms == 1000 ? 0 : p->map_backoff_ms);
        p->map_backoff_ms = p->map_backoff_ms > 15000 ? 30000 : p->map_backoff_ms * 2;
        /* a known map being listed again is out of date: it is still
         * wanted (else no listing would come until another entry landed
         * on a shard it lacks, and none may) */
        if (p->nshards) p->map_wanted = 1;
        /* more shards than the table holds, or an answer we cannot read */
        if (st == KINAGG_ERR_BUFFER_TOO_SMALL || st == KINAGG_ERR_JSON || st == KINAGG_ERR_CBOR)
            kinagg__map_forget(p, now);
    }
}

static void kinagg__list_done(kinagg_producer *p, kinagg__pconn *c, kinagg_status st, uint64_t now) {
    size_t n = 0;
    st = kinagg__call_result(&c->k, st);
    if (st == KINAGG_OK) { /* the page's shards straight into the next map; more than max_shards: too small */
        kinagg__shard_table t;
        kinagg_str token;
        t.base = (unsigned char *)&p->staging[p->nstaging];
        t.stride = sizeof(kinagg__pshard);
        t.cap = KINAGG__MAX_SHARDS(&p->cfg) - p->nstaging;
        t.id_cap = KINAGG__PSHARD_ID; /* an id longer than we keep is an error */
        t.id = offsetof(kinagg__pshard, id);
        t.parent = t.adjacent = (size_t)-1;
        t.start = offsetof(kinagg__pshard, start);
        t.end = offsetof(kinagg__pshard, end);
        t.open = offsetof(kinagg__pshard, open);
        st = kinagg__list_shards_parse(&c->k, &token, &t, &n);
        if (st == KINAGG_OK && token.len >= sizeof p->map_token) st = KINAGG_ERR_BUFFER_TOO_SMALL;
        if (st == KINAGG_OK) {
            kinagg__copy_cstr(p->map_token, sizeof p->map_token, token);
            p->nstaging += n;
            /* a server that pages on without shards would hold records
             * waiting for the map for ever: after 16 such pages in a row,
             * an answer we cannot use (the map is then asked for again
             * now and then, and records go on unmapped) */
            p->map_empty_pages = n || !token.len ? 0 : p->map_empty_pages + 1;
            if (p->map_empty_pages > 16) {
                st = KINAGG__CBOR(c->k.protocol) ? KINAGG_ERR_CBOR : KINAGG_ERR_JSON;
                if (KINAGG__HAS_TEXT) c->k.http.error_detail = "pages without shards, and a NextToken, that do not end";
            }
        }
        if (KINAGG__HAS_TEXT && st == KINAGG_ERR_BUFFER_TOO_SMALL) /* what "too small" means here */
            c->k.http.error_detail = "more shards than max_shards, a shard id longer than the producer keeps, "
                                     "or a NextToken of 1024 bytes or more";
    }
    if (st == KINAGG_OK && p->map_token[0]) { /* the next page */
        if (kinagg__list_begin(p, c)) return;
        st = KINAGG_ERR_IO;
    }
    if (st != KINAGG_OK) {
        kinagg__list_failed(p, st, &c->k, now);
        return;
    }
    /* complete: the new map replaces the old one */
    kinagg__map_replace(p, KINAGG__MAP_OK, now);
    p->map_backoff_ms = 1000;
    p->stats.shard_map_loads++;
}

/* ---- credentials that rotate ---- */

/* Asks the credentials source when the credentials are missing, refused,
 * or close to expiry; the old ones stay in use until new ones come. */
static void kinagg__credentials_step(kinagg_producer *p, uint64_t now) {
    const kinagg_credentials_source *src = &p->cfg.credentials_source;
    kinagg_credentials c;
    uint64_t expires = 0, unix_now;
    int64_t offset = 0;
    uint32_t wait = 10; /* ms until the source is asked again; 0: when needed */
    kinagg_status st;
    size_t i;
    if (!KINAGG__CRED_SOURCE || !src->get || now < p->cred_retry_ms) return;
    /* the clock as corrected by the service's Date, as any connection
     * learnt it (credentials expire by the service's clock: a device clock
     * hours ahead would take them as always about to expire, and fetch them
     * every second) */
    for (i = 0; i < KINAGG__NCONN(p) && !offset; i++) offset = p->conns[i].k.clock_offset_ms;
    unix_now = p->platform.unix_ms ? p->platform.unix_ms(p->platform.ctx) + (uint64_t)offset : 0;
    if (p->have_credentials && !p->cred_forced &&
        (!p->cred_expires_ms || unix_now + p->cfg.credentials_refresh_ms < p->cred_expires_ms))
        return;
    KINAGG_MEMSET(&c, 0, sizeof c);
    st = src->get(src->ctx, p->cred_forced, &c, &expires);
    if (st != KINAGG_PENDING) { /* else a fetch under way: look again soon (wait's 10 ms) */
        if (st == KINAGG_OK && (!c.access_key_id.len || !c.secret_access_key.len)) st = KINAGG_ERR_INVALID_ARGUMENT;
        if (st == KINAGG_OK) st = kinagg_producer_set_credentials(p, &c);
        if (st == KINAGG_OK) {
            p->cred_expires_ms = expires;
            p->cred_forced = 0;
            p->cred_backoff_ms = 1000;
            /* credentials shorter-lived than the refresh margin: not every poll */
            wait = expires && unix_now + p->cfg.credentials_refresh_ms >= expires ? 1000 : 0;
        } else {
            kinagg__perror(p, "Credentials", kinagg_str_c(kinagg_strerror(st)), kinagg_str_c(""));
            wait = p->cred_backoff_ms;
            p->cred_backoff_ms = wait * 2 > 30000 ? 30000 : wait * 2;
        }
    }
    p->cred_retry_ms = wait ? now + wait : 0;
}

/* ---- driving ---- */

/* Entries per request, halved after unreadable answers, doubled again after
 * each quiet wait: a passing fault (a connection closed inside an answer
 * delimited by the close) is forgotten, and a size that fails for good is
 * tried seldom. */
static KINAGG__NOINLINE void kinagg__entries_step(kinagg_producer *p, uint64_t now) {
    if (p->entries_max < p->cfg.collection_max_count && now >= p->entries_back_ms) {
        size_t twice = p->entries_max * 2;
        p->entries_max = twice < p->cfg.collection_max_count ? twice : p->cfg.collection_max_count;
        p->entries_grown = 1;
        p->entries_back_ms = now + p->entries_wait_ms;
    }
}

/* A connection's share of the poll's work for hashing and sending. */
static KINAGG__SMALL_NOINLINE void kinagg__conn_budget(kinagg_producer *p, kinagg__pconn *c) {
    c->k.work_budget = !p->cfg.poll_work_bytes ? 0 : p->work_left ? p->work_left : 1;
}

/* Polls connection c's call (st KINAGG_OK), or takes st as how it ended;
 * handles its end. */
static void kinagg__conn_poll(kinagg_producer *p, kinagg__pconn *c, kinagg_status st, uint64_t now) {
    if (st == KINAGG_OK) {
        kinagg__conn_budget(p, c);
        st = kinagg_kinesis_poll(&c->k, &c->events, &c->wake);
        kinagg__work_done(p, c->k.work_done);
        if (st == KINAGG_PENDING) return;
    }
    if (c->state == KINAGG__C_PUT) {
        kinagg__put_done_begin(p, c, st, now);
        kinagg__put_done_step(p, c, now);
    } else if (KINAGG__MAPS) {
        c->state = KINAGG__C_IDLE;
        kinagg__list_done(p, c, st, now);
    }
}

KINAGG_API kinagg_status kinagg_producer_poll(kinagg_producer *p, uint64_t *next_ms) {
    uint64_t now, next;
    size_t ci, q;
    int idle = 0; /* a connection is idle at the end */
    if (!p) return KINAGG_ERR_INVALID_ARGUMENT;
    /* from a completion callback: the poll under way is in the middle of
     * an answer, whose records a nested one would leave half handled */
    if (p->completing) {
        if (next_ms) *next_ms = 0; /* (any time: the poll under way sets it) */
        return KINAGG_ERR_STATE;
    }
    now = p->platform.now_ms(p->platform.ctx);
    next = now + 1000;
    p->work_left = p->cfg.poll_work_bytes ? p->cfg.poll_work_bytes : (size_t)-1;
    /* 1. responses, and the completions of earlier ones */
    for (ci = 0; ci < KINAGG__NCONN(p); ci++) {
        kinagg__pconn *c = &p->conns[ci];
        if (c->state == KINAGG__C_DONE) kinagg__put_done_step(p, c, now);
        else if (KINAGG__ON_CALL(c)) {
            if (!p->work_left && c->k.preparing) continue;
            kinagg__conn_poll(p, c, KINAGG_OK, now);
        }
    }
    kinagg__requeue_step(p); /* after a new shard map */
    kinagg__credentials_step(p, now);
    /* 2. records whose time is up */
    for (q = 0; p->cfg.record_ttl_ms && q <= KINAGG__MAX_SHARDS(&p->cfg); q++) {
        kinagg__pqueue *x = kinagg__q(p, q);
        while (x->count && kinagg__expired(p, &p->recs[x->head], now)) kinagg__expire(p, kinagg__q_pop(p, x), now);
    }
    /* 3. the shard map, first when none is known (nothing is signed
     * before there are credentials). While no map is known, records wait
     * during each listing; and for KINAGG__FIRST_MAP_WAIT_MS (at most half
     * record_ttl_ms) after the first one started, while tries fail in ways
     * that may pass (5xx, throttling, the clock): a passing failure must
     * not send them unaggregated (a fleet restarting together is
     * throttled; a clock set right needs one more try) */
    if (KINAGG__MAPS && p->have_credentials && p->map_state != KINAGG__MAP_LISTING &&
        (p->map_state == KINAGG__MAP_NONE || p->map_wanted ||
                                                p->map_state == KINAGG__MAP_DENIED) &&
        now >= p->map_retry_ms) {
        for (ci = 0; ci < KINAGG__NCONN(p); ci++) {
            kinagg__pconn *c = &p->conns[ci];
            if (c->state != KINAGG__C_IDLE) continue;
            p->map_token[0] = '\0';
            if (kinagg__list_begin(p, c)) {
                if (!p->map_started) {
                    uint32_t wait = KINAGG__FIRST_MAP_WAIT_MS;
                    if (p->cfg.record_ttl_ms && wait > p->cfg.record_ttl_ms / 2) wait = p->cfg.record_ttl_ms / 2;
                    p->map_wait_end = now + wait;
                    p->map_started = 1;
                }
                p->map_wanted = 0;
                if (p->map_state != KINAGG__MAP_DENIED) p->map_state = KINAGG__MAP_LISTING;
                else p->map_retry_ms = now + 60000;
                kinagg__conn_poll(p, c, KINAGG_OK, now);
            }
            break;
        }
    }
    if (KINAGG__MAPS)
        p->map_awaited = !p->nshards && (p->map_state == KINAGG__MAP_LISTING ||
                                         (p->map_state == KINAGG__MAP_NONE && p->map_started && now < p->map_wait_end));
    kinagg__entries_step(p, now);
    /* 4. requests on idle connections (records wait for the first map, as
     * step 3 says: a map is about to say where they go), built across polls */
    if (p->have_credentials && (!KINAGG__MAPS || !p->map_awaited)) {
        int none_ready = 0;
        for (ci = 0; ci < KINAGG__NCONN(p) && p->work_left; ci++) {
            kinagg__pconn *c = &p->conns[ci];
            kinagg_status st;
            int complete;
            if (c->state == KINAGG__C_IDLE) {
                if (none_ready) continue;
                c->n = c->used = c->bytes = 0;
                if (KINAGG__MAPS) c->map_gen = p->map_gen;
            } else if (c->state != KINAGG__C_BUILD) {
                continue;
            }
            /* a new map since this request was started: send it as it is */
            complete = (KINAGG__MAPS && c->map_gen != p->map_gen) || kinagg__build(p, c, now);
            if (!c->n) {
                c->state = KINAGG__C_IDLE;
                none_ready = 1; /* for the idle ones; a later one may be building */
                continue;
            }
            if (!complete) {
                c->state = KINAGG__C_BUILD; /* the rest in the next poll */
                break;
            }
            if (KINAGG__MAPS) p->rr = (p->rr + 1) % (KINAGG__MAX_SHARDS(&p->cfg) + 1);
            p->stats.requests++;
            kinagg__conn_budget(p, c);
            st = kinagg_put_records_begin(&c->k, &c->k.put, p->cfg.stream, c->entries, c->n);
            c->state = KINAGG__C_PUT;
            kinagg__conn_poll(p, c, st, now); /* or failed at once */
        }
    }
    /* 5. when to come back: now, when work was left over */
    if (KINAGG__MAPS && p->requeueing) next = now;
    for (ci = 0; ci < KINAGG__NCONN(p); ci++) {
        const kinagg__pconn *c = &p->conns[ci];
        if (c->state == KINAGG__C_IDLE) idle = 1;
        else if (c->state == KINAGG__C_BUILD || c->state == KINAGG__C_DONE) next = now;
        else if (c->wake < next) next = c->wake;
    }
    for (q = 0; q <= KINAGG__MAX_SHARDS(&p->cfg); q++) {
        kinagg__pqueue *x = kinagg__q(p, q);
        const kinagg__prec *h;
        uint64_t t;
        if (!x->count) continue;
        h = &p->recs[x->head];
        t = h->put_ms + p->cfg.max_buffered_ms; /* flushing or full: without waiting for that */
        if (p->flushing || p->full || h->next_ms > t) t = h->next_ms;
        if (t <= now) t = p->work_left ? now + 10 : now; /* ready but waiting: a connection or the rate limit */
        if (KINAGG__MAPS && p->map_awaited && p->map_state == KINAGG__MAP_NONE) {
            /* waiting for the map's next try, or the end of the wait */
            uint64_t w = p->map_wait_end < p->map_retry_ms ? p->map_wait_end : p->map_retry_ms;
            if (t < w) t = w;
        }
        if (p->cfg.record_ttl_ms && h->put_ms + p->cfg.record_ttl_ms < t) t = h->put_ms + p->cfg.record_ttl_ms;
        if (t < next) next = t;
    }
    /* a listing due: only when it can start (credentials, a free connection;
     * a busy one wakes us when it is done), or the polls would spin */
    if (KINAGG__MAPS && p->have_credentials && (p->map_state == KINAGG__MAP_NONE || p->map_wanted) &&
        p->map_retry_ms < next && idle)
        next = p->map_retry_ms;
    if (KINAGG__CRED_SOURCE && p->cfg.credentials_source.get && p->cred_retry_ms && p->cred_retry_ms < next)
        next = p->cred_retry_ms;
    if (next < now) next = now;
    if (next_ms) *next_ms = next;
    return KINAGG_OK;
}

/* Several connections on a call: a transport waits on one connection, so
 * each is waited on in turn for up to 10 ms until one is ready (or fails) or
 * the deadline passes; an answer on one is not kept waiting by another's
 * silence. 1 if there were several. */
static int kinagg__wait_each(kinagg_producer *p, uint64_t deadline) {
    size_t ci, busy = 0;
    for (ci = 0; ci < KINAGG__NCONN(p); ci++)
        busy += KINAGG__ON_CALL(&p->conns[ci]) && p->conns[ci].k.http.transport.wait;
    if (busy < 2) return 0;
    for (;;) {
        uint64_t began = p->platform.now_ms(p->platform.ctx);
        for (ci = 0; ci < KINAGG__NCONN(p); ci++) {
            kinagg__pconn *c = &p->conns[ci];
            uint64_t now = p->platform.now_ms(p->platform.ctx);
            if (now >= deadline) return 1;
            if (KINAGG__ON_CALL(c) && c->k.http.transport.wait &&
                c->k.http.transport.wait(c->k.http.transport.ctx, c->events,
                                         deadline - now < 10 ? (uint32_t)(deadline - now) : 10) != KINAGG_IO_AGAIN)
                return 1;
        }
        if (p->platform.now_ms(p->platform.ctx) == began) return 1; /* waits that do not wait: back to poll */
    }
}

KINAGG_API void kinagg_producer_wait(kinagg_producer *p, uint64_t next_ms, uint32_t max_ms) {
    uint64_t now = p->platform.now_ms(p->platform.ctx);
    uint32_t t = next_ms > now ? (next_ms - now > max_ms ? max_ms : (uint32_t)(next_ms - now)) : 0;
    size_t ci;
    if (t == 0 || (KINAGG__NCONN(p) > 1 && kinagg__wait_each(p, now + t))) return;
    for (ci = 0; ci < KINAGG__NCONN(p); ci++) {
        kinagg__pconn *c = &p->conns[ci];
        if (KINAGG__ON_CALL(c) && c->k.http.transport.wait) {
            (void)c->k.http.transport.wait(c->k.http.transport.ctx, c->events, t);
            return;
        }
    }
    if (p->platform.sleep_ms) p->platform.sleep_ms(p->platform.ctx, t);
}

KINAGG_API kinagg_status kinagg_producer_flush(kinagg_producer *p, uint32_t timeout_ms) {
    uint64_t deadline = p->platform.now_ms(p->platform.ctx) + timeout_ms;
    kinagg_status st = KINAGG_OK;
    if (p->completing) return KINAGG_ERR_STATE; /* (as poll) */
    p->flushing = 1;
    for (;;) {
        uint64_t next = 0;
        kinagg_producer_poll(p, &next);
        if (p->stats.buffered_records == 0) break;
        if (p->platform.now_ms(p->platform.ctx) >= deadline) {
            st = KINAGG_ERR_TIMEOUT;
            break;
        }
        kinagg_producer_wait(p, next < deadline ? next : deadline, 100);
    }
    p->flushing = 0;
    return st;
}

KINAGG_API size_t kinagg_producer_abandon(kinagg_producer *p) {
    size_t i, left, abandoned;
    uint64_t now;
    /* from a callback of this call: the records are this call's to complete
     * (a call nested in each callback would grow the stack with the buffer) */
    if (!p || p->abandoning) return 0;
    p->abandoning = 1;
    now = p->platform.now_ms(p->platform.ctx);
    /* requests in flight are dropped with their connections */
    for (i = 0; i < KINAGG__NCONN(p); i++) {
        kinagg__pconn *c = &p->conns[i];
        /* an answer half handled (a callback abandons) that showed the
         * map out of date: the listing is still owed */
        if (KINAGG__MAPS && c->state == KINAGG__C_DONE && c->map_stale && p->map_state == KINAGG__MAP_OK &&
            c->map_gen == p->map_gen)
            p->map_wanted = 1;
        kinagg_http_close(&c->k.http);
        c->k.preparing = 0;
        c->state = KINAGG__C_IDLE;
        c->n = 0;
    }
    kinagg__queues_clear(p);
    if (KINAGG__MAPS) { /* every record is abandoned; new ones are queued at put; a listing is dropped */
        p->requeueing = 0;
        if (p->map_state == KINAGG__MAP_LISTING) {
            p->map_state = p->nshards ? KINAGG__MAP_OK : KINAGG__MAP_NONE;
            /* a map known out of date is still so: its listing is asked for again */
            if (p->nshards) p->map_wanted = 1;
        }
        p->map_token[0] = '\0';
    }
    /* the records buffered now, oldest first: a callback's new records come
     * after them in the ring, and the count ends before them, so they stay */
    abandoned = left = (size_t)p->stats.buffered_records;
    for (i = p->rec_tail; left; i = i + 1 < p->nrecs ? i + 1 : 0)
        if (p->recs[i].state != KINAGG__R_FREE) {
            kinagg__fail(p, (uint32_t)i, KINAGG_ERR_ABANDONED,
                         KINAGG__TEXT("abandoned before it was known to be delivered"), now);
            left--;
        }
    p->abandoning = 0;
    return abandoned;
}

/* The map's states are the public ones, in the same order. */
typedef char kinagg__map_states[(int)KINAGG__MAP_NONE == (int)KINAGG_SHARD_MAP_NONE &&
                                        (int)KINAGG__MAP_LISTING == (int)KINAGG_SHARD_MAP_LOADING &&
                                        (int)KINAGG__MAP_OK == (int)KINAGG_SHARD_MAP_LOADED &&
                                        (int)KINAGG__MAP_DENIED == (int)KINAGG_SHARD_MAP_UNAVAILABLE
                                    ? 1
                                    : -1];

KINAGG_API void kinagg_producer_get_stats(const kinagg_producer *p, kinagg_producer_stats *stats) {
    /* a map in use (nshards, while listing too); else the state, but
     * unavailable once a listing failed */
    int m = !KINAGG__MAPS ? KINAGG__MAP_DENIED : p->nshards ? KINAGG__MAP_OK : p->map_state;
    KINAGG_MEMCPY(stats, &p->stats, sizeof *stats);
    if (m < KINAGG__MAP_OK && p->stats.shard_map_failures && !p->map_awaited) m = KINAGG__MAP_DENIED;
    stats->shard_map = (kinagg_shard_map_state)m;
}

KINAGG_API void kinagg_producer_close(kinagg_producer *p) {
    size_t ci;
    for (ci = 0; ci < KINAGG__NCONN(p); ci++) {
        kinagg__pconn *c = &p->conns[ci];
        int on_wire = KINAGG__ON_CALL(c) && !c->k.preparing;
        kinagg_http_close(&c->k.http);
        if (!on_wire) continue;
        /* the call on it ends as a closed connection would end it (a later
         * poll would otherwise take the cut response for a whole one): its
         * records go back to be sent again, the listing is asked again */
        if (c->state == KINAGG__C_PUT) kinagg__put_done_begin(p, c, KINAGG_ERR_CLOSED, 0); /* (no halving) */
        else if (KINAGG__MAPS) /* a listing, ended as a poll ends it */
            kinagg__conn_poll(p, c, KINAGG_ERR_CLOSED, p->platform.now_ms(p->platform.ctx));
    }
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
