/* The README's quick start: aggregate three user records, decode them. */
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include <stdio.h>
#include <string.h>

int main(void) {
    static unsigned char buf[KINAGG_RECORD_SIZE_DEFAULT]; /* holds any aggregate */
    const char *lines[] = {"GET /index.html 200", "GET /cart 200", "POST /checkout 201"};
    const unsigned char *rec;
    size_t rec_len, i;
    kinagg_agg agg;
    kinagg_deagg it;
    kinagg_user_record u;

    kinagg_agg_init(&agg, buf, sizeof buf, NULL); /* 1 MiB limit, outer key "a" */
    for (i = 0; i < 3; i++) {
        kinagg_status st = kinagg_agg_add(&agg, "client-7", 8, NULL, 0, lines[i], strlen(lines[i]));
        if (st != KINAGG_OK) { fprintf(stderr, "add: %s\n", kinagg_strerror(st)); return 1; }
    }
    kinagg_agg_finish(&agg, &rec, &rec_len); /* magic + protobuf + MD5, in buf */
    printf("3 user records -> 1 Kinesis record of %u bytes\n", (unsigned)rec_len);

    kinagg_deagg_init(&it, rec, rec_len); /* what a consumer does */
    while (kinagg_deagg_next(&it, &u))
        printf("  #%u %.*s: %.*s\n", (unsigned)u.subsequence, (int)u.partition_key_len, u.partition_key,
               (int)u.data_len, (const char *)u.data);
    return 0;
}
