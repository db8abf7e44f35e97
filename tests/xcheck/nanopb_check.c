/* nanopb, with code generated from proto/kpl.proto, as a second independent
 * decoder of aggregated records (MD5 from mbedTLS).
 *   nanopb_check CORPUS */
#include <pb_decode.h>
#include "kpl.pb.h"
#include <mbedtls/md5.h>
#include "corpus.h"

typedef struct bytes { unsigned char *p; size_t n; } bytes;
typedef struct list { bytes *items; size_t n, cap; } list;
typedef struct rec { uint64_t pk, ehk; int has_ehk; bytes data; } rec;
typedef struct recs { rec *items; size_t n, cap; } recs;

static int read_bytes(pb_istream_t *s, bytes *out) {
    out->n = s->bytes_left;
    out->p = (unsigned char *)malloc(out->n + 1);
    return pb_read(s, out->p, out->n);
}
static bool table_cb(pb_istream_t *s, const pb_field_t *f, void **arg) {
    list *l = (list *)*arg;
    (void)f;
    if (l->n == l->cap) l->items = (bytes *)realloc(l->items, (l->cap = l->cap * 2 + 16) * sizeof(bytes));
    return read_bytes(s, &l->items[l->n++]);
}
static bool data_cb(pb_istream_t *s, const pb_field_t *f, void **arg) {
    (void)f;
    return read_bytes(s, (bytes *)*arg);
}
static bool record_cb(pb_istream_t *s, const pb_field_t *f, void **arg) {
    recs *l = (recs *)*arg;
    kinagg_kpl_Record r = kinagg_kpl_Record_init_zero;
    rec *out;
    (void)f;
    if (l->n == l->cap) l->items = (rec *)realloc(l->items, (l->cap = l->cap * 2 + 16) * sizeof(rec));
    out = &l->items[l->n];
    memset(out, 0, sizeof *out);
    r.data.funcs.decode = data_cb;
    r.data.arg = &out->data;
    if (!pb_decode(s, kinagg_kpl_Record_fields, &r)) return false;
    out->pk = r.partition_key_index;
    out->has_ehk = r.has_explicit_hash_key_index;
    out->ehk = r.explicit_hash_key_index;
    l->n++;
    return true;
}

int main(int argc, char **argv) {
    static const unsigned char magic[4] = {0xF3, 0x89, 0x9A, 0xC2};
    corpus_agg *aggs;
    long n = argc == 2 ? corpus_load(argv[1], &aggs) : -1, i, passed = 0, failed = 0, records = 0;
    if (n < 0) { fprintf(stderr, "usage: nanopb_check CORPUS\n"); return 2; }
    for (i = 0; i < n; i++) {
        corpus_agg *a = &aggs[i];
        kinagg_kpl_AggregatedRecord m = kinagg_kpl_AggregatedRecord_init_zero;
        list pks = {0, 0, 0}, ehks = {0, 0, 0};
        recs rs = {0, 0, 0};
        unsigned char digest[16];
        char where[64];
        size_t k;
        int ok = a->len >= 20 && memcmp(a->bytes, magic, 4) == 0;
        snprintf(where, sizeof where, "aggregate %ld", i);
        if (ok) {
#if MBEDTLS_VERSION_MAJOR >= 3
            mbedtls_md5(a->bytes + 4, a->len - 20, digest);
#else
            mbedtls_md5_ret(a->bytes + 4, a->len - 20, digest);
#endif
            ok = memcmp(digest, a->bytes + a->len - 16, 16) == 0;
        }
        if (ok) {
            pb_istream_t s = pb_istream_from_buffer(a->bytes + 4, a->len - 20);
            m.partition_key_table.funcs.decode = table_cb;
            m.partition_key_table.arg = &pks;
            m.explicit_hash_key_table.funcs.decode = table_cb;
            m.explicit_hash_key_table.arg = &ehks;
            m.records.funcs.decode = record_cb;
            m.records.arg = &rs;
            ok = pb_decode(&s, kinagg_kpl_AggregatedRecord_fields, &m);
            if (!ok) fprintf(stderr, "%s: nanopb: %s\n", where, PB_GET_ERROR(&s));
        }
        if (ok && rs.n != a->nrec) {
            fprintf(stderr, "%s: %lu records, want %lu\n", where, (unsigned long)rs.n, (unsigned long)a->nrec);
            ok = 0;
        }
        for (k = 0; ok && k < rs.n; k++) {
            rec *r = &rs.items[k];
            snprintf(where, sizeof where, "aggregate %ld record %lu", i, (unsigned long)k);
            if (r->pk >= pks.n || (r->has_ehk && r->ehk >= ehks.n)) {
                fprintf(stderr, "%s: index out of range\n", where);
                ok = 0;
                break;
            }
            ok = corpus_same(&a->recs[k], pks.items[r->pk].p, pks.items[r->pk].n,
                             r->has_ehk ? (const char *)ehks.items[r->ehk].p : NULL,
                             r->has_ehk ? ehks.items[r->ehk].n : 0, r->data.p, r->data.n, where);
        }
        records += (long)a->nrec;
        if (ok) passed++; else failed++;
    }
    corpus_free(aggs, n);
    fprintf(stderr, "nanopb decode: %ld user records checked\n", records);
    printf("nanopb decode: %ld passed, %ld failed\n", passed, failed);
    return failed || !n;
}
