/* The producer in a plain POSIX program: each line of standard input is a
 * record (partition key: the text before the first space), shipped with
 * aggregation. A loop that blocks on the socket when it has nothing to do.
 *
 *   producer_posix ENDPOINT_URL STREAM < lines
 * Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN); region from AWS_REGION (default us-east-1). Exits
 * non-zero when any record failed. (kinagg-cat is the full tool.) */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../port/kinagg_posix.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long ok, failed;

static void on_complete(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    if (c->status == KINAGG_OK) {
        ok++;
    } else {
        failed++;
        fprintf(stderr, "record failed after %u attempts: %s %.*s\n", c->attempts, kinagg_strerror(c->status),
                (int)c->error_code.len, c->error_code.ptr);
    }
}

static const char *env(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int main(int argc, char **argv) {
    static unsigned char region[16u << 20];
    static kinagg_producer p;
    static char line[65536];
    kinagg_producer_config cfg;
    kinagg_credentials cr;
    kinagg_endpoint ep;
    kinagg_posix_socket sock;
    kinagg_transport tp;
    kinagg_platform pf;
    kinagg_status st;
    unsigned long lines = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: producer_posix ENDPOINT_URL STREAM < lines\n");
        return 2;
    }
    if (kinagg_endpoint_from_url(&ep, kinagg_str_c(argv[1])) != KINAGG_OK) {
        fprintf(stderr, "bad endpoint: %s\n", argv[1]);
        return 2;
    }
    cr.access_key_id = kinagg_str_c(env("AWS_ACCESS_KEY_ID", ""));
    cr.secret_access_key = kinagg_str_c(env("AWS_SECRET_ACCESS_KEY", ""));
    cr.session_token = kinagg_str_c(env("AWS_SESSION_TOKEN", ""));
    kinagg_posix_socket_init(&sock, &tp);
    kinagg_posix_platform(&pf);
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c(argv[2]);
    cfg.stream.arn = kinagg_str_c("");
    cfg.on_complete = on_complete;
    st = kinagg_producer_init(&p, region, sizeof region, &cfg, &ep, kinagg_str_c(env("AWS_REGION", "us-east-1")),
                              &cr, KINAGG_PROTOCOL_JSON, &tp, &pf);
    if (st != KINAGG_OK) {
        fprintf(stderr, "producer: %s\n", kinagg_strerror(st));
        return 1;
    }
    while (fgets(line, sizeof line, stdin)) {
        size_t len = strcspn(line, "\n"), key = strcspn(line, " ");
        uint64_t next;
        if (len == 0) continue;
        if (key == 0 || key > len) key = len;
        for (;;) { /* full: let the producer send, then try again */
            st = kinagg_producer_put(&p, line, key, NULL, 0, line, len, NULL);
            if (st != KINAGG_ERR_FULL) break;
            kinagg_producer_poll(&p, &next);
            kinagg_producer_wait(&p, next, 100);
        }
        if (st != KINAGG_OK) fprintf(stderr, "line %lu refused: %s\n", lines + 1, kinagg_strerror(st));
        lines++;
        kinagg_producer_poll(&p, &next); /* cheap when there is nothing to do */
    }
    st = kinagg_producer_flush(&p, 60000);
    printf("producer_posix: %lu lines, %lu delivered, %lu failed%s\n", lines, ok, failed,
           st == KINAGG_OK ? "" : " (flush timed out)");
    kinagg_producer_close(&p);
    return failed || st != KINAGG_OK || ok != lines ? 1 : 0;
}
