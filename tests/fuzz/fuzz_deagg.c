/* libFuzzer target for the deaggregator. The first byte picks how the rest
 * is used: as a whole Kinesis record (raw), or as the protobuf part wrapped
 * with the magic and a correct MD5, so the parser itself is reached. Checks:
 * no crash or out-of-bounds read (ASan), every yielded slice lies inside the
 * input, the count is what next() yields, indexed and scanning lookups give
 * the same records, and what a valid aggregate yields re-aggregates to the
 * same records (with a key index, small or large, when the first byte's
 * bit 1 is set). */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include <stdlib.h>
#include <string.h>

static unsigned char wrapped[1 << 20], rebuilt[1 << 20];
static uint32_t scratch[1 << 16], agg_index[1 << 12];

static int inside(const void *p, size_t n, const unsigned char *in, size_t len) {
    const unsigned char *c = (const unsigned char *)p;
    return n == 0 || (c >= in && c + n <= in + len);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    const unsigned char *in = data + 1;
    size_t len, count = 0;
    kinagg_deagg a, b;
    kinagg_user_record ra, rb;
    kinagg_agg agg;
    int rebuild_ok;
    if (size < 1 || size - 1 > sizeof wrapped - 20) return 0;
    len = size - 1;
    if (data[0] & 1) {
        memcpy(wrapped, "\xF3\x89\x9A\xC2", 4);
        memcpy(wrapped + 4, data + 1, len);
        kinagg_md5(data + 1, len, wrapped + 4 + len);
        in = wrapped;
        len += 20;
    }
    kinagg_deagg_init(&a, in, len);
    kinagg_deagg_init(&b, in, len);
    kinagg_deagg_set_index(&b, scratch, sizeof scratch / sizeof scratch[0]);
    rebuild_ok = kinagg_deagg_is_aggregated(&a) &&
                 kinagg_agg_init(&agg, rebuilt, sizeof rebuilt, NULL) == KINAGG_OK;
    if (rebuild_ok && (data[0] & 2))
        kinagg_agg_set_index(&agg, agg_index, data[0] & 4 ? 16 : sizeof agg_index / sizeof agg_index[0]);
    while (kinagg_deagg_next(&a, &ra)) {
        if (!kinagg_deagg_next(&b, &rb)) abort();
        if (ra.data != rb.data || ra.data_len != rb.data_len || ra.partition_key != rb.partition_key ||
            ra.partition_key_len != rb.partition_key_len || ra.explicit_hash_key != rb.explicit_hash_key ||
            ra.subsequence != count)
            abort();
        if (!inside(ra.data, ra.data_len, in, len) || !inside(ra.partition_key, ra.partition_key_len, in, len) ||
            !inside(ra.explicit_hash_key, ra.explicit_hash_key_len, in, len))
            abort();
        if (rebuild_ok && kinagg_agg_add(&agg, ra.partition_key, ra.partition_key_len, ra.explicit_hash_key,
                                         ra.explicit_hash_key_len, ra.data, ra.data_len) != KINAGG_OK)
            rebuild_ok = 0; /* keys kinagg would refuse (bad UTF-8, ...) */
        count++;
    }
    if (kinagg_deagg_next(&b, &rb) || count != kinagg_deagg_count(&a)) abort();
    if (rebuild_ok && count) { /* re-aggregated, it yields the same records (an empty one is never written) */
        const unsigned char *out;
        size_t out_len, k = 0;
        kinagg_deagg c;
        kinagg_agg_finish(&agg, &out, &out_len);
        kinagg_deagg_init(&c, out, out_len);
        kinagg_deagg_init(&a, in, len);
        if (!kinagg_deagg_is_aggregated(&c) || kinagg_deagg_count(&c) != count) abort();
        while (kinagg_deagg_next(&c, &rb)) {
            if (!kinagg_deagg_next(&a, &ra)) abort();
            if (ra.data_len != rb.data_len || memcmp(ra.data, rb.data, ra.data_len) ||
                ra.partition_key_len != rb.partition_key_len ||
                memcmp(ra.partition_key, rb.partition_key, ra.partition_key_len) ||
                (ra.explicit_hash_key == NULL) != (rb.explicit_hash_key == NULL))
                abort();
            k++;
        }
        if (k != count) abort();
    }
    return 0;
}
