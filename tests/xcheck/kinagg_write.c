/* Writes a corpus of aggregates made by kinagg from random user records.
 * usage: kinagg_write OUT SEED COUNT
 * Aggregates vary in size limit (1 MiB default, small ones filled to the
 * last byte) and include records right at the 1 MiB limit. Every other one
 * is built with a key index: one full at once, a middling one, or one that
 * never fills. */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include "../check.h"
#include "../records.h"
#include "corpus.h"

static unsigned char buf[KINAGG_RECORD_SIZE_DEFAULT];
static unsigned char data[KINAGG_RECORD_SIZE_DEFAULT];
static uint32_t index_words[KINAGG_AGG_INDEX_WORDS(KINAGG_AGG_KEYS_MAX(KINAGG_RECORD_SIZE_DEFAULT))];

int main(int argc, char **argv) {
    FILE *f;
    long count, i, records = 0;
    if (argc != 4) { fprintf(stderr, "usage: kinagg_write OUT SEED COUNT\n"); return 2; }
    f = fopen(argv[1], "wb");
    check_rng_state ^= strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ull;
    count = strtol(argv[3], NULL, 10);
    for (i = 0; i < count && f; i++) {
        kinagg_agg agg;
        kinagg_agg_limits lim;
        const unsigned char *out;
        size_t out_len, want = i % 5 == 0 ? 1 : 1 + check_below(600), n = 0;
        int near_limit = i % 10 == 0;
        test_record r;
        r.data = data;
        r.data_cap = sizeof data;
        lim.max_record_size = i % 3 == 1 && !near_limit ? 1000 + check_below(20000) : KINAGG_RECORD_SIZE_DEFAULT;
        lim.outer_key_len = 1;
        kinagg_agg_init(&agg, buf, sizeof buf, &lim);
        if (i % 2)
            kinagg_agg_set_index(&agg, index_words,
                                 i % 6 == 1 ? 6 : i % 6 == 3 ? 256 : sizeof index_words / sizeof index_words[0]);
        fprintf(stderr, "\raggregate %ld/%ld", i + 1, count);
        /* records are added while they fit; their lines follow the aggregate */
        {
            static char lines[64 << 20]; /* the record lines, written after the aggregate's */
            size_t used = 0;
            while (n < want || lim.max_record_size < KINAGG_RECORD_SIZE_DEFAULT) {
                kinagg_status st;
                test_random_record(&r, near_limit ? 0 : 4096);
                if (near_limit) { /* fill to exactly the limit */
                    size_t d = KINAGG_RECORD_SIZE_DEFAULT - 1200; /* keys take up to 1 KiB */
                    while (kinagg_agg_size_if_added(&agg, r.pk, r.pk_len, r.has_ehk ? r.ehk : NULL, r.ehk_len,
                                                    d + 1) != (size_t)-1)
                        d++;
                    r.data_len = d;
                }
                st = kinagg_agg_add(&agg, r.pk, r.pk_len, r.has_ehk ? r.ehk : NULL, r.ehk_len, r.data, r.data_len);
                if (st == KINAGG_ERR_AGGREGATE_FULL) break;
                if (st == KINAGG_ERR_TOO_LARGE && !near_limit) continue; /* over a small limit */
                if (st != KINAGG_OK) { fprintf(stderr, "add: %s\n", kinagg_strerror(st)); return 1; }
                {
                    FILE *m = fmemopen(lines + used, sizeof lines - used, "w");
                    corpus_write_rec(m, r.pk, r.pk_len, r.has_ehk ? r.ehk : NULL, r.ehk_len, r.data, r.data_len);
                    used += (size_t)ftell(m);
                    fclose(m);
                }
                n++;
                if (near_limit) break;
            }
            if (kinagg_agg_finish(&agg, &out, &out_len) != KINAGG_OK) { /* no record was added */
                fprintf(stderr, "aggregate %ld has no records\n", i);
                return 1;
            }
            if (near_limit && out_len + 1 != KINAGG_RECORD_SIZE_DEFAULT) {
                fprintf(stderr, "near-limit aggregate is %lu bytes\n", (unsigned long)out_len);
                return 1;
            }
            corpus_write_agg(f, out, out_len);
            fwrite(lines, 1, used, f);
            corpus_write_end(f);
        }
        records += (long)n;
    }
    fprintf(stderr, "\n");
    if (!f || fclose(f)) { perror(argv[1]); return 1; }
    printf("kinagg_write: %ld aggregates, %ld user records\n", count, records);
    return 0;
}
