/* Decodes every aggregate of a corpus with kinagg's deaggregator and
 * compares the user records with the expected ones.
 * usage: kinagg_read CORPUS [NAME] */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include "corpus.h"

int main(int argc, char **argv) {
    corpus_agg *aggs;
    long n = argc > 1 ? corpus_load(argv[1], &aggs) : -1, i;
    const char *name = argc > 2 ? argv[2] : "kinagg_read";
    long passed = 0, failed = 0, records = 0;
    if (n < 0) { fprintf(stderr, "usage: kinagg_read CORPUS [NAME]\n"); return 2; }
    for (i = 0; i < n; i++) {
        kinagg_deagg it;
        kinagg_user_record u;
        size_t k = 0;
        int ok = 1;
        char where[64];
        kinagg_deagg_init(&it, aggs[i].bytes, aggs[i].len);
        snprintf(where, sizeof where, "aggregate %ld", i);
        if (!kinagg_deagg_is_aggregated(&it)) { fprintf(stderr, "%s: not aggregated\n", where); ok = 0; }
        while (ok && kinagg_deagg_next(&it, &u)) {
            snprintf(where, sizeof where, "aggregate %ld record %lu", i, (unsigned long)k);
            if (k >= aggs[i].nrec) { fprintf(stderr, "%s: extra\n", where); ok = 0; break; }
            ok = corpus_same(&aggs[i].recs[k], u.partition_key, u.partition_key_len, u.explicit_hash_key,
                             u.explicit_hash_key_len, u.data, u.data_len, where) && u.subsequence == k;
            k++;
        }
        if (ok && k != aggs[i].nrec) { fprintf(stderr, "aggregate %ld: %lu of %lu records\n", i, (unsigned long)k,
                                                (unsigned long)aggs[i].nrec); ok = 0; }
        records += (long)k;
        if (ok) passed++; else failed++;
    }
    corpus_free(aggs, n);
    fprintf(stderr, "%s: %ld user records checked\n", name, records);
    printf("%s: %ld passed, %ld failed\n", name, passed, failed);
    return failed || n == 0 ? 1 : 0;
}
