/* Helpers for the network tests (include after kinagg.h's implementation). */
#ifndef KINAGG_TEST_NET_UTIL_H
#define KINAGG_TEST_NET_UTIL_H
#include <string.h>

/* Waits until the stream is ACTIVE: a new stream is not usable at once. */
static int wait_active(kinagg_kinesis *k, kinagg_stream_ref s, const kinagg_platform *pf, unsigned seconds) {
    unsigned i;
    for (i = 0; i < seconds * 5; i++) {
        char status[32] = "";
        if (kinagg_describe_stream_summary(k, s, status, sizeof status, NULL) == KINAGG_OK && !strcmp(status, "ACTIVE"))
            return 1;
        if (pf->sleep_ms) pf->sleep_ms(pf->ctx, 200);
    }
    return 0;
}
#endif
