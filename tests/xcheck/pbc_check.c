/* protobuf-c, with code generated from proto/kpl.proto, as an independent
 * decoder and encoder of aggregated records (MD5 from mbedTLS).
 *   pbc_check decode CORPUS        decode and compare every aggregate
 *   pbc_check encode OUT SEED N    write N aggregates made by protobuf-c */
#include "kpl.pb-c.h"
#include <mbedtls/md5.h>
#include "../check.h"
#include "../records.h"
#include "corpus.h"

static const unsigned char magic[4] = {0xF3, 0x89, 0x9A, 0xC2};

static int md5(const unsigned char *p, size_t n, unsigned char out[16]) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_md5(p, n, out);
#else
    return mbedtls_md5_ret(p, n, out);
#endif
}

static int decode(const char *path) {
    corpus_agg *aggs;
    long n = corpus_load(path, &aggs), i, passed = 0, failed = 0, records = 0;
    if (n < 0) return 2;
    for (i = 0; i < n; i++) {
        corpus_agg *a = &aggs[i];
        unsigned char digest[16];
        Kinagg__Kpl__AggregatedRecord *m = NULL;
        int ok = a->len >= 20 && memcmp(a->bytes, magic, 4) == 0;
        size_t k;
        char where[64];
        snprintf(where, sizeof where, "aggregate %ld", i);
        if (ok) {
            md5(a->bytes + 4, a->len - 20, digest);
            ok = memcmp(digest, a->bytes + a->len - 16, 16) == 0;
            if (!ok) fprintf(stderr, "%s: MD5 mismatch\n", where);
        }
        if (ok) {
            m = kinagg__kpl__aggregated_record__unpack(NULL, a->len - 20, a->bytes + 4);
            ok = m != NULL;
            if (!ok) fprintf(stderr, "%s: protobuf-c cannot unpack\n", where);
        }
        if (ok && m->n_records != a->nrec) {
            fprintf(stderr, "%s: %lu records, want %lu\n", where, (unsigned long)m->n_records,
                    (unsigned long)a->nrec);
            ok = 0;
        }
        for (k = 0; ok && k < m->n_records; k++) {
            Kinagg__Kpl__Record *r = m->records[k];
            const char *pk, *ehk = NULL;
            snprintf(where, sizeof where, "aggregate %ld record %lu", i, (unsigned long)k);
            if (r->partition_key_index >= m->n_partition_key_table ||
                (r->has_explicit_hash_key_index && r->explicit_hash_key_index >= m->n_explicit_hash_key_table)) {
                fprintf(stderr, "%s: index out of range\n", where);
                ok = 0;
                break;
            }
            pk = m->partition_key_table[r->partition_key_index];
            if (r->has_explicit_hash_key_index) ehk = m->explicit_hash_key_table[r->explicit_hash_key_index];
            ok = corpus_same(&a->recs[k], pk, strlen(pk), ehk, ehk ? strlen(ehk) : 0, r->data.data, r->data.len,
                             where);
        }
        records += (long)a->nrec;
        if (m) kinagg__kpl__aggregated_record__free_unpacked(m, NULL);
        if (ok) passed++; else failed++;
    }
    corpus_free(aggs, n);
    fprintf(stderr, "protobuf-c decode: %ld user records checked\n", records);
    printf("protobuf-c decode: %ld passed, %ld failed\n", passed, failed);
    return failed || !n;
}

/* Aggregates as the KPL builds them: key tables de-duplicated in order of
 * first use, indexes per record. */
static int encode(const char *out, unsigned long long seed, long count) {
    FILE *f = fopen(out, "wb");
    long i;
    static unsigned char data[8192];
    if (!f) { perror(out); return 2; }
    check_rng_state ^= seed * 0x9E3779B97F4A7C15ull;
    for (i = 0; i < count; i++) {
        size_t n = 1 + check_below(300), k, j, len;
        Kinagg__Kpl__AggregatedRecord m = KINAGG__KPL__AGGREGATED_RECORD__INIT;
        Kinagg__Kpl__Record *recs = (Kinagg__Kpl__Record *)calloc(n, sizeof *recs);
        Kinagg__Kpl__Record **rp = (Kinagg__Kpl__Record **)calloc(n, sizeof *rp);
        test_record *tr = (test_record *)calloc(n, sizeof *tr);
        unsigned char **datas = (unsigned char **)calloc(n, sizeof *datas);
        unsigned char *buf;
        m.partition_key_table = (char **)calloc(n, sizeof(char *));
        m.explicit_hash_key_table = (char **)calloc(n, sizeof(char *));
        for (k = 0; k < n; k++) {
            kinagg__kpl__record__init(&recs[k]);
            tr[k].data = data;
            tr[k].data_cap = sizeof data;
            test_random_record(&tr[k], sizeof data);
            datas[k] = (unsigned char *)malloc(tr[k].data_len + 1);
            memcpy(datas[k], data, tr[k].data_len);
            tr[k].data = datas[k];
            tr[k].pk[tr[k].pk_len] = 0;
            for (j = 0; j < m.n_partition_key_table && strcmp(m.partition_key_table[j], tr[k].pk); j++) {}
            if (j == m.n_partition_key_table) m.partition_key_table[m.n_partition_key_table++] = tr[k].pk;
            recs[k].partition_key_index = j;
            if (tr[k].has_ehk) {
                for (j = 0; j < m.n_explicit_hash_key_table && strcmp(m.explicit_hash_key_table[j], tr[k].ehk); j++) {}
                if (j == m.n_explicit_hash_key_table) m.explicit_hash_key_table[m.n_explicit_hash_key_table++] = tr[k].ehk;
                recs[k].has_explicit_hash_key_index = 1;
                recs[k].explicit_hash_key_index = j;
            }
            recs[k].data.data = datas[k];
            recs[k].data.len = tr[k].data_len;
            rp[k] = &recs[k];
        }
        m.n_records = n;
        m.records = rp;
        len = kinagg__kpl__aggregated_record__get_packed_size(&m);
        buf = (unsigned char *)malloc(len + 20);
        memcpy(buf, magic, 4);
        kinagg__kpl__aggregated_record__pack(&m, buf + 4);
        md5(buf + 4, len, buf + 4 + len);
        corpus_write_agg(f, buf, len + 20);
        for (k = 0; k < n; k++)
            corpus_write_rec(f, tr[k].pk, tr[k].pk_len, tr[k].has_ehk ? tr[k].ehk : NULL, tr[k].ehk_len,
                             datas[k], tr[k].data_len);
        corpus_write_end(f);
        for (k = 0; k < n; k++) free(datas[k]);
        free(datas); free(tr); free(rp); free(recs); free(buf);
        free(m.partition_key_table); free(m.explicit_hash_key_table);
    }
    if (fclose(f)) return 2;
    printf("protobuf-c encode: %ld aggregates\n", count);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "decode") == 0) return decode(argv[2]);
    if (argc == 5 && strcmp(argv[1], "encode") == 0)
        return encode(argv[2], strtoull(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
    fprintf(stderr, "usage: pbc_check decode CORPUS | encode OUT SEED COUNT\n");
    return 2;
}
