/* Proves kinagg.h allocates nothing: malloc, calloc, realloc, free and the
 * aligned allocators are wrapped at link time (-Wl,--wrap=...) and counted
 * while every part of the library runs. The test first shows the counter
 * works by allocating once itself. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

static volatile unsigned long heap_calls; /* volatile: gcc assumes malloc keeps globals */
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__wrap_malloc(size_t n) { heap_calls++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { heap_calls++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { heap_calls++; return __real_realloc(p, n); }
void __wrap_free(void *p) { heap_calls++; __real_free(p); }
void *__wrap_aligned_alloc(size_t a, size_t n) { heap_calls++; return __real_aligned_alloc(a, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { heap_calls++; return __real_posix_memalign(p, a, n); }

static unsigned char buf[256 * 1024];
static uint32_t scratch[4096];

/* Runs every public part of the library; returns records deaggregated. */
static size_t exercise(void) {
    kinagg_agg agg;
    kinagg_deagg it;
    kinagg_user_record u;
    kinagg_hash_key k;
    kinagg_sigv4_signer s;
    kinagg_credentials c;
    kinagg_sigv4_request r;
    kinagg_http_header h[3];
    kinagg_agg_limits lim;
    char key[32], date[17], auth[512], dec[40], canon[2048], sts[512];
    const unsigned char *out;
    size_t out_len, n = 0, i;
    unsigned char d[32];
    kinagg_sigv4_trace tr;
    lim.max_record_size = sizeof buf;
    lim.outer_key_len = 1;
    kinagg_agg_init(&agg, buf, sizeof buf, &lim);
    for (i = 0; i < 5000; i++) {
        int len = 0;
        unsigned v = (unsigned)i % 97;
        key[len++] = 'k';
        do { key[len++] = (char)('0' + v % 10); v /= 10; } while (v);
        if (kinagg_agg_add(&agg, key, (size_t)len, i % 3 ? NULL : "12345", 5, "payload", 7) != KINAGG_OK) break;
    }
    kinagg_agg_finish(&agg, &out, &out_len);
    kinagg_deagg_init(&it, out, out_len);
    kinagg_deagg_set_index(&it, scratch, 4096);
    while (kinagg_deagg_next(&it, &u)) n++;
    kinagg_deagg_init(&it, out, out_len - 1); /* plain-record path */
    while (kinagg_deagg_next(&it, &u)) n++;
    kinagg_hash_key_of_partition_key("key", 3, &k);
    kinagg_hash_key_format(&k, dec);
    kinagg_hash_key_parse(dec, strlen(dec), &k);
    kinagg_hmac_sha256("k", 1, "m", 1, d);
    c.access_key_id = kinagg_str_c("AKIDEXAMPLE");
    c.secret_access_key = kinagg_str_c("secret");
    c.session_token = kinagg_str_c("token");
    kinagg_sigv4_init(&s, &c);
    kinagg_sigv4_amz_date(1700000000, date);
    memset(&r, 0, sizeof r);
    r.method = kinagg_str_c("POST");
    r.path = kinagg_str_c("/a/./b/../c");
    r.query = kinagg_str_c("b=2&a=1&a=1&%41=x");
    h[0].name = kinagg_str_c("Host");
    h[0].value = kinagg_str_c("kinesis.us-east-1.amazonaws.com");
    h[1].name = kinagg_str_c("X-Amz-Date");
    h[1].value = kinagg_str_c(date);
    h[2].name = kinagg_str_c("X-Amz-Security-Token");
    h[2].value = kinagg_str_c("token");
    r.headers = h;
    r.header_count = 3;
    r.payload = out;
    r.payload_len = out_len;
    r.region = kinagg_str_c("us-east-1");
    r.service = kinagg_str_c("kinesis");
    r.amz_date = kinagg_str_c(date);
    r.normalize_path = 1;
    memset(&tr, 0, sizeof tr);
    tr.canonical_request = canon;
    tr.canonical_request_cap = sizeof canon;
    tr.string_to_sign = sts;
    tr.string_to_sign_cap = sizeof sts;
    kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, &tr);
    kinagg_sigv4_sign(&s, &r, auth, sizeof auth, NULL, NULL); /* cached key */
    return n;
}

int main(void) {
    void *volatile p; /* volatile: the compiler may not drop the pair */
    size_t n;
    heap_calls = 0;
    p = malloc(16); /* the wrapper must see this, or the test proves nothing */
    free(p);
    CHECK(heap_calls == 2, "the wrapper counted %lu calls of 2", (unsigned long)heap_calls);
    heap_calls = 0;
    n = exercise();
    CHECK(heap_calls == 0, "kinagg.h made %lu heap calls", (unsigned long)heap_calls);
    CHECK(n > 1000, "only %lu records went through", (unsigned long)n);
    return check_summary("noheap");
}
