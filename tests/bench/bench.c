/* Throughput of kinagg's aggregator, hashes and base64, and of the same work
 * done by OpenSSL and mbedTLS. tests/bench/run.sh runs it in rounds against
 * npm aws-kinesis-agg and prints the table.
 *
 *   bench gen FILE COUNT RECORD_BYTES SEED  write COUNT user records
 *   bench agg FILE AGG_BYTES SECONDS        kinagg: add + finish, rec/s
 *   bench agg-noindex FILE AGG_BYTES SECONDS      the same without an index
 *   bench bound FILE AGG_BYTES SECONDS      OpenSSL MD5 over the protobuf
 *                                           bytes of kinagg's aggregates
 *   bench hash NAME SECONDS                 MB/s; NAME is md5 or sha256 with
 *                                           a -kinagg, -mbedtls or -openssl suffix
 *   bench base64 NAME SECONDS               MB/s of input; NAME is encode or
 *                                           decode with -kinagg or -openssl
 *   bench jitter                            the machine's own spread: the same
 *                                           work (SHA-256 of 32 KiB) 12,000 times,
 *                                           each timed in thread CPU time;
 *                                           prints p50, p99, p99.9 and max in us
 *
 * Records: partition keys drawn from a pool of 1,000, random data. The
 * file is read by this program and by npm_agg.js, so both see the same
 * records. Each measurement repeats passes over its input until SECONDS
 * have gone by and prints one number. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#define MBED(fn) fn
#else
#define MBED(fn) fn##_ret
#endif

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "bench: %s\n", what);
    exit(2);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rand32(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

/* ---- records ---------------------------------------------------------- */

typedef struct rec {
    const char *pk;
    size_t pk_len;
    const unsigned char *data;
    size_t data_len;
} rec;

static rec *recs;
static size_t nrecs;

/* File: per record, u16 key length, key, u32 data length, data (little-endian). */
static void gen(const char *file, size_t count, size_t rec_bytes, unsigned seed) {
    char pool[1000][40];
    size_t pool_len[1000], i, j;
    unsigned char hdr[4], *data = (unsigned char *)malloc(rec_bytes + 1);
    FILE *f = fopen(file, "wb");
    if (!f || !data) die("cannot write the record file");
    rng ^= (uint64_t)seed * 0x100000001B3ull;
    for (i = 0; i < 1000; i++) /* keys of 12 to 27 characters */
        pool_len[i] = (size_t)sprintf(pool[i], "device-%u-%0*x", (unsigned)i, (int)(1 + rand32() % 12), rand32());
    for (i = 0; i < count; i++) {
        size_t k = rand32() % 1000;
        hdr[0] = (unsigned char)pool_len[k];
        hdr[1] = (unsigned char)(pool_len[k] >> 8);
        fwrite(hdr, 1, 2, f);
        fwrite(pool[k], 1, pool_len[k], f);
        for (j = 0; j < 4; j++) hdr[j] = (unsigned char)(rec_bytes >> (8 * j));
        fwrite(hdr, 1, 4, f);
        for (j = 0; j < rec_bytes; j++) data[j] = (unsigned char)rand32();
        fwrite(data, 1, rec_bytes, f);
    }
    if (fclose(f) != 0) die("write failed");
    free(data);
}

static void load(const char *file) {
    FILE *f = fopen(file, "rb");
    unsigned char *all;
    long size = 0;
    size_t pos = 0, cap = 1024;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("cannot read the record file");
    all = (unsigned char *)malloc((size_t)size + 1);
    recs = (rec *)malloc(cap * sizeof *recs);
    if (!all || !recs || fread(all, 1, (size_t)size, f) != (size_t)size) die("cannot read the record file");
    fclose(f);
    while (pos + 6 <= (size_t)size) {
        rec *r;
        if (nrecs == cap && !(recs = (rec *)realloc(recs, (cap *= 2) * sizeof *recs))) die("out of memory");
        r = &recs[nrecs++];
        r->pk_len = (size_t)all[pos] | (size_t)all[pos + 1] << 8;
        r->pk = (const char *)all + pos + 2;
        pos += 2 + r->pk_len;
        r->data_len = (size_t)all[pos] | (size_t)all[pos + 1] << 8 | (size_t)all[pos + 2] << 16 |
                      (size_t)all[pos + 3] << 24;
        r->data = all + pos + 4;
        pos += 4 + r->data_len;
    }
    if (pos != (size_t)size || nrecs == 0) die("malformed record file");
}

/* ---- aggregation ------------------------------------------------------- */

static unsigned char *agg_buf;
static uint32_t *index_buf;
static size_t index_words;

/* One pass over the records: aggregates of at most agg_bytes (with the outer
 * key "a"). Calls sink for each finished aggregate. Returns aggregates made. */
static size_t agg_pass(size_t agg_bytes, int use_index, void (*sink)(const unsigned char *, size_t, size_t)) {
    kinagg_agg agg;
    kinagg_agg_limits lim;
    size_t i, made = 0;
    const unsigned char *out;
    size_t out_len;
    lim.max_record_size = agg_bytes;
    lim.outer_key_len = 1;
    if (kinagg_agg_init(&agg, agg_buf, agg_bytes, &lim) != KINAGG_OK) die("init");
#ifdef KINAGG_AGG_INDEX_WORDS
    if (use_index) kinagg_agg_set_index(&agg, index_buf, index_words);
#else
    (void)use_index;
#endif
    for (i = 0; i < nrecs; i++) {
        const rec *r = &recs[i];
        kinagg_status st = kinagg_agg_add(&agg, r->pk, r->pk_len, NULL, 0, r->data, r->data_len);
        if (st == KINAGG_ERR_AGGREGATE_FULL) {
            kinagg_agg_finish(&agg, &out, &out_len);
            if (sink) sink(out, out_len, kinagg_agg_count(&agg));
            made++;
            kinagg_agg_reset(&agg);
            st = kinagg_agg_add(&agg, r->pk, r->pk_len, NULL, 0, r->data, r->data_len);
        }
        if (st != KINAGG_OK) die(kinagg_strerror(st));
    }
    kinagg_agg_finish(&agg, &out, &out_len);
    if (sink) sink(out, out_len, kinagg_agg_count(&agg));
    return made + 1;
}

static size_t sink_bytes, sink_records;
static unsigned char *pb_store; /* the protobuf parts, back to back */
static size_t pb_store_len, pb_count, pb_cap;
static size_t *pb_lens;
static volatile unsigned char sink_x; /* keeps the work from being optimised away */
static void sink_count(const unsigned char *p, size_t n, size_t records) {
    sink_bytes += n;
    sink_records += records;
    sink_x ^= p[n - 1];
}
static void sink_keep(const unsigned char *p, size_t n, size_t records) {
    sink_count(p, n, records);
    if (pb_count == pb_cap && !(pb_lens = (size_t *)realloc(pb_lens, (pb_cap = pb_cap * 2 + 64) * sizeof *pb_lens)))
        die("out of memory");
    memcpy(pb_store + pb_store_len, p + 4, n - 20);
    pb_lens[pb_count++] = n - 20;
    pb_store_len += n - 20;
}

static void bench_agg(const char *file, size_t agg_bytes, double seconds, int use_index) {
    double t0, t;
    size_t passes = 0;
    load(file);
    agg_buf = (unsigned char *)malloc(agg_bytes);
#ifdef KINAGG_AGG_INDEX_WORDS
    index_words = KINAGG_AGG_INDEX_WORDS(1024); /* the 1,000 keys of the pool */
#else
    index_words = 1;
#endif
    index_buf = (uint32_t *)malloc(index_words * sizeof *index_buf);
    if (!agg_buf || !index_buf) die("out of memory");
    agg_pass(agg_bytes, use_index, sink_count); /* warm up, and count */
    fprintf(stderr, "kinagg: %u records in %u aggregates, %u bytes\n", (unsigned)sink_records,
            (unsigned)(agg_pass(agg_bytes, use_index, NULL)), (unsigned)sink_bytes);
    t0 = now_s();
    do {
        agg_pass(agg_bytes, use_index, NULL);
        passes++;
        t = now_s() - t0;
    } while (t < seconds);
    printf("%.0f\n", (double)(passes * nrecs) / t);
}

static void bench_bound(const char *file, size_t agg_bytes, double seconds) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md5 = EVP_md5();
    unsigned char d[16];
    double t0, t;
    size_t passes = 0;
    load(file);
    agg_buf = (unsigned char *)malloc(agg_bytes);
    pb_store = (unsigned char *)malloc(nrecs * (recs[0].data_len + 300) + agg_bytes);
    if (!agg_buf || !pb_store || !ctx) die("out of memory");
    agg_pass(agg_bytes, 0, sink_keep);
    fprintf(stderr, "bound: %u aggregates, %u protobuf bytes\n", (unsigned)pb_count, (unsigned)pb_store_len);
    t0 = now_s();
    do {
        size_t i, off = 0;
        for (i = 0; i < pb_count; i++) {
            EVP_DigestInit_ex(ctx, md5, NULL);
            EVP_DigestUpdate(ctx, pb_store + off, pb_lens[i]);
            EVP_DigestFinal_ex(ctx, d, NULL);
            sink_x ^= d[0];
            off += pb_lens[i];
        }
        passes++;
        t = now_s() - t0;
    } while (t < seconds);
    printf("%.0f\n", (double)(passes * nrecs) / t);
    EVP_MD_CTX_free(ctx);
}

/* ---- hashes and base64 -------------------------------------------------- */

#define BUF_BYTES (1u << 20)

static void bench_hash(const char *name, double seconds) {
    unsigned char *buf = (unsigned char *)malloc(BUF_BYTES), d[32];
    double t0, t;
    size_t i, passes = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!buf || !ctx) die("out of memory");
    for (i = 0; i < BUF_BYTES; i++) buf[i] = (unsigned char)rand32();
    t0 = now_s();
    do {
        if (!strcmp(name, "md5-kinagg")) kinagg_md5(buf, BUF_BYTES, d);
        else if (!strcmp(name, "sha256-kinagg")) kinagg_sha256(buf, BUF_BYTES, d);
        else if (!strcmp(name, "md5-mbedtls")) (void)MBED(mbedtls_md5)(buf, BUF_BYTES, d);
        else if (!strcmp(name, "sha256-mbedtls")) (void)MBED(mbedtls_sha256)(buf, BUF_BYTES, d, 0);
        else if (!strcmp(name, "md5-openssl") || !strcmp(name, "sha256-openssl")) {
            EVP_DigestInit_ex(ctx, name[0] == 'm' ? EVP_md5() : EVP_sha256(), NULL);
            EVP_DigestUpdate(ctx, buf, BUF_BYTES);
            EVP_DigestFinal_ex(ctx, d, NULL);
        } else die("unknown hash");
        sink_x ^= d[0];
        passes++;
        t = now_s() - t0;
    } while (t < seconds);
    printf("%.1f\n", (double)passes * BUF_BYTES / t / 1e6);
    EVP_MD_CTX_free(ctx);
}

static void bench_base64(const char *name, double seconds) {
    size_t in_len = BUF_BYTES / 4 * 3, i, passes = 0, n = 0;
    unsigned char *bin = (unsigned char *)malloc(in_len), *back = (unsigned char *)malloc(in_len + 3);
    char *text = (char *)malloc(BUF_BYTES + 1);
    int decode = !strncmp(name, "decode", 6), openssl = strstr(name, "openssl") != NULL;
    double t0, t;
    if (!bin || !text || !back) die("out of memory");
    for (i = 0; i < in_len; i++) bin[i] = (unsigned char)rand32();
    if (kinagg_base64_encode(bin, in_len, text) != BUF_BYTES) die("encode length");
    t0 = now_s();
    do {
        if (!decode && openssl) n = (size_t)EVP_EncodeBlock((unsigned char *)text, bin, (int)in_len);
        else if (!decode) n = kinagg_base64_encode(bin, in_len, text);
        else if (openssl) n = (size_t)EVP_DecodeBlock(back, (const unsigned char *)text, BUF_BYTES);
        else n = kinagg_base64_decode(text, BUF_BYTES, back);
        sink_x ^= text[n / 2];
        passes++;
        t = now_s() - t0;
    } while (t < seconds);
    if (decode && memcmp(back, bin, in_len) != 0) die("decode differs");
    /* MB/s of the binary side: what a PutRecords body carries */
    printf("%.1f\n", (double)passes * in_len / t / 1e6);
    free(bin), free(text), free(back);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A poll's CPU time varies with the machine as well as with its work: this
 * times one fixed piece of work many times, so that the spread of poll times
 * can be read against it. */
static void bench_jitter(void) {
    enum { N = 12000 };
    static unsigned char buf[32768];
    static double t[N];
    unsigned char out[32];
    size_t i;
    for (i = 0; i < N; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        kinagg_sha256(buf, sizeof buf, out);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        buf[i % sizeof buf] ^= out[0];
        t[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
    }
    qsort(t, N, sizeof t[0], cmp_double);
    printf("p50=%.0f p99=%.0f p999=%.0f max=%.0f\n", t[N / 2], t[N * 99 / 100], t[N * 999 / 1000], t[N - 1]);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "gen") && argc == 6)
        gen(argv[2], (size_t)strtoul(argv[3], NULL, 10), (size_t)strtoul(argv[4], NULL, 10),
            (unsigned)strtoul(argv[5], NULL, 10));
    else if ((!strcmp(mode, "agg") || !strcmp(mode, "agg-noindex")) && argc == 5)
        bench_agg(argv[2], (size_t)strtoul(argv[3], NULL, 10), atof(argv[4]), !strcmp(mode, "agg"));
    else if (!strcmp(mode, "bound") && argc == 5)
        bench_bound(argv[2], (size_t)strtoul(argv[3], NULL, 10), atof(argv[4]));
    else if (!strcmp(mode, "hash") && argc == 4)
        bench_hash(argv[2], atof(argv[3]));
    else if (!strcmp(mode, "base64") && argc == 4)
        bench_base64(argv[2], atof(argv[3]));
    else if (!strcmp(mode, "jitter") && argc == 2)
        bench_jitter();
    else {
        fprintf(stderr, "usage: see the comment at the top of tests/bench/bench.c\n");
        return 2;
    }
    return 0;
}
