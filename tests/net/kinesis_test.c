/* End-to-end test of kinagg's Kinesis calls against kinesalite behind the
 * SigV4-verifying proxy (tests/net/server.js), over POSIX sockets and, with
 * --ca, over mbedTLS.
 *
 *   kinesis_test --endpoint URL --protocol json|cbor --stream NAME
 *                --manifest FILE [--ca FILE] [--records N]
 *                [--signature-checks 0]
 *
 * Creates a 4-shard stream, lists its shards one per page, puts raw and
 * aggregated records (one aggregate per shard), checks every result names
 * the shard the record's hash key selects, and writes each user record to
 * the manifest for an independent reader (tests/net/reader.js) to find. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#ifdef KINAGG_TEST_TLS
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../../port/kinagg_mbedtls.h"
#endif
#include "../check.h"
#include "net_util.h"
#include <stdlib.h>
#include <string.h>

static unsigned char send_buf[16384], recv_buf[1 << 20];
static unsigned char agg_mem[4][64 * 1024];
static kinagg_kinesis k;
static kinagg_shard shards[16];
static size_t nshards;
static FILE *manifest;

static kinagg_credentials creds(int session) {
    kinagg_credentials c;
    c.access_key_id = kinagg_str_c(session ? "ASIAKINAGGTEST" : "AKIDKINAGGTEST");
    c.secret_access_key = kinagg_str_c(session ? "kinagg/session/secret" : "kinagg/test/secret+KEY");
    c.session_token = kinagg_str_c(session ? "kinagg-session-token-123" : "");
    return c;
}

static void manifest_line(const char *kind, const char *pk, size_t pk_len, const unsigned char *d, size_t n,
                          const char *shard) {
    size_t i;
    fprintf(manifest, "%s %s ", kind, shard);
    for (i = 0; i < pk_len; i++) fprintf(manifest, "%02x", (unsigned char)pk[i]);
    fputc(' ', manifest);
    if (!n) fputc('-', manifest);
    for (i = 0; i < n; i++) fprintf(manifest, "%02x", d[i]);
    fputc('\n', manifest);
}

static const char *expected_shard(const char *pk, size_t len, const char *ehk) {
    kinagg_hash_key hk;
    size_t i;
    if (ehk) kinagg_hash_key_parse(ehk, strlen(ehk), &hk);
    else kinagg_hash_key_of_partition_key(pk, len, &hk);
    i = kinagg_shard_find(shards, nshards, &hk, 1);
    return i == (size_t)-1 ? "?" : shards[i].shard_id;
}

/* A body that is different the second time it is read: the signature is
 * made over the first, the proxy receives the second. */
static int tamper_pass;
static size_t tamper_pos;
static void tamper_rewind(void *ctx) {
    (void)ctx;
    tamper_pass++;
    tamper_pos = 0;
}
static size_t tamper_read(void *ctx, unsigned char *out, size_t cap) {
    const char *body = tamper_pass == 1 ? "{\"StreamName\":\"a\"}" : "{\"StreamName\":\"b\"}";
    size_t n = strlen(body) - tamper_pos < cap ? strlen(body) - tamper_pos : cap;
    (void)ctx;
    memcpy(out, body + tamper_pos, n);
    tamper_pos += n;
    return n;
}

int main(int argc, char **argv) {
    const char *endpoint = NULL, *proto = "json", *stream_name = NULL, *ca = NULL, *man = NULL;
    unsigned records = 2000;
    int signatures_checked = 1;
    kinagg_endpoint ep;
    kinagg_posix_socket sock;
    kinagg_transport tp;
    kinagg_platform pf;
    kinagg_credentials cred = creds(0);
    kinagg_stream_ref stream;
    kinagg_status st;
    int i;
#ifdef KINAGG_TEST_TLS
    static kinagg_mbedtls tls;
    kinagg_transport plain;
#endif
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--endpoint")) endpoint = argv[i + 1];
        else if (!strcmp(argv[i], "--protocol")) proto = argv[i + 1];
        else if (!strcmp(argv[i], "--stream")) stream_name = argv[i + 1];
        else if (!strcmp(argv[i], "--ca")) ca = argv[i + 1];
        else if (!strcmp(argv[i], "--manifest")) man = argv[i + 1];
        else if (!strcmp(argv[i], "--records")) records = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--signature-checks")) /* 0: a server that checks none (kinesis-mock) */
            signatures_checked = atoi(argv[i + 1]);
    }
    if (!endpoint || !stream_name || !man) {
        fprintf(stderr, "usage: kinesis_test --endpoint URL --protocol json|cbor --stream NAME --manifest FILE\n");
        return 2;
    }
    manifest = fopen(man, "w");
    check_rng_state ^= (unsigned long long)records * 7919u + (unsigned long long)strlen(stream_name);
    CHECK(kinagg_endpoint_from_url(&ep, kinagg_str_c(endpoint)) == KINAGG_OK, "endpoint %s", endpoint);
    kinagg_posix_socket_init(&sock, &tp);
    kinagg_posix_platform(&pf);
#ifdef KINAGG_TEST_TLS
    plain = tp;
    st = kinagg_mbedtls_init(&tls, &plain, &tp);
    CHECK(st == KINAGG_OK, "tls init");
    if (ca) CHECK(kinagg_mbedtls_ca_file(&tls, ca) == KINAGG_OK, "ca file %s", ca);
    kinagg_mbedtls_server_name(&tls, "localhost");
#else
    (void)ca;
#endif
    st = kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cred,
                             strcmp(proto, "cbor") == 0 ? KINAGG_PROTOCOL_CBOR : KINAGG_PROTOCOL_JSON, &tp, &pf,
                             send_buf, sizeof send_buf, recv_buf, sizeof recv_buf);
    CHECK(st == KINAGG_OK, "init: %s", kinagg_strerror(st));
    stream.name = kinagg_str_c(stream_name);
    stream.arn = kinagg_str_c("");

    /* a stream of 4 shards, active at once in kinesalite */
    st = kinagg_create_stream(&k, stream.name, 4);
    CHECK(st == KINAGG_OK, "CreateStream: %s %s %s (%s)", kinagg_strerror(st), k.error_type, k.error_message,
          k.http.error_detail ? k.http.error_detail : "");
    {
        char status[32] = "";
        unsigned open = 0;
        CHECK(wait_active(&k, stream, &pf, 30), "stream not ACTIVE");
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, &open);
        CHECK(st == KINAGG_OK && strcmp(status, "ACTIVE") == 0 && open == 4, "stream %s with %u shards: %s", status,
              open, kinagg_strerror(st));
    }
    /* ListShards one shard per page: paging with NextToken */
    st = kinagg_list_shards(&k, stream, shards, 16, &nshards, 1);
    CHECK(st == KINAGG_OK && nshards == 4, "ListShards: %s, %u shards", kinagg_strerror(st), (unsigned)nshards);
    {
        kinagg_shard few[2];
        size_t n = 0;
        st = kinagg_list_shards(&k, stream, few, 2, &n, 1);
        CHECK(st == KINAGG_ERR_BUFFER_TOO_SMALL, "4 shards into room for 2: %s", kinagg_strerror(st));
    }
    /* the shards cover the whole hash key space, in order, without gaps */
    {
        kinagg_hash_key zero, max;
        memset(&zero, 0, sizeof zero);
        memset(&max, 0xff, sizeof max);
        CHECK(nshards && kinagg_hash_key_compare(&shards[0].start, &zero) == 0, "first shard starts at 0");
        CHECK(nshards && kinagg_hash_key_compare(&shards[nshards - 1].end, &max) == 0, "last shard ends at 2^128-1");
    }

    /* raw records: random partition keys, some explicit hash keys */
    {
        kinagg_put_entry e[500];
        kinagg_put_result res[500];
        static unsigned char data[500][300];
        static char keys[500][64], ehks[500][40];
        size_t sent = 0;
        /* kinesalite truncates CBOR responses past 16 KiB (its encoder hands
         * back only the first chunk): 100 results stay under that */
        size_t batch = k.protocol == KINAGG_PROTOCOL_CBOR ? 100 : 500;
        while (sent < records / 2) {
            size_t n = records / 2 - sent < batch ? records / 2 - sent : batch, j, failed = 99;
            for (j = 0; j < n; j++) {
                size_t len = check_below(300), b;
                for (b = 0; b < len; b++) data[j][b] = (unsigned char)check_rand();
                e[j].data = data[j];
                e[j].data_len = len;
                sprintf(keys[j], "raw-%u-\xc3\xa9-%llu", (unsigned)(sent + j), check_rand() % 100000);
                e[j].partition_key = kinagg_str_c(keys[j]);
                e[j].explicit_hash_key = kinagg_str_c("");
                if (j % 5 == 0) { /* an explicit hash key, to a random shard */
                    kinagg_hash_key hk;
                    for (b = 0; b < 16; b++) hk.be[b] = (unsigned char)check_rand();
                    kinagg_hash_key_format(&hk, ehks[j]);
                    e[j].explicit_hash_key = kinagg_str_c(ehks[j]);
                }
            }
            st = kinagg_put_records(&k, stream, e, n, res, &failed);
            CHECK(st == KINAGG_OK && failed == 0, "PutRecords raw: %s %s %s", kinagg_strerror(st), k.error_type,
                  k.error_message);
            if (st != KINAGG_OK) break;
            if (sent == 0)
                printf("PutRecords response for %u records (%s): %u bytes\n", (unsigned)n, proto,
                       (unsigned)k.http.response.body_len);
            for (j = 0; j < n; j++) {
                const char *want = expected_shard(keys[j], strlen(keys[j]), e[j].explicit_hash_key.len ? ehks[j] : NULL);
                CHECK(res[j].shard_id.len == strlen(want) && memcmp(res[j].shard_id.ptr, want, strlen(want)) == 0 &&
                          res[j].sequence_number.len > 0,
                      "raw record %u on %.*s, want %s", (unsigned)j, (int)res[j].shard_id.len, res[j].shard_id.ptr,
                      want);
                manifest_line("raw", keys[j], strlen(keys[j]), data[j], e[j].data_len, want);
            }
            sent += n;
        }
    }

    /* aggregated records: one aggregate per shard, sent with PartitionKey
     * "a" and the ExplicitHashKey of the shard's first user record */
    {
        kinagg_agg aggs[4];
        kinagg_put_entry e[4];
        kinagg_put_result res[4];
        char first_hk[4][40];
        size_t s, put = 0;
        static unsigned char data[400];
        for (s = 0; s < 4; s++) kinagg_agg_init(&aggs[s], agg_mem[s], sizeof agg_mem[s], NULL);
        while (put < records / 2) {
            size_t n = 0, failed = 99;
            int full = 0;
            for (s = 0; s < 4; s++) first_hk[s][0] = 0;
            while (!full && put < records / 2) {
                char key[64];
                size_t len = check_below(sizeof data), b, sh;
                kinagg_hash_key hk;
                for (b = 0; b < len; b++) data[b] = (unsigned char)check_rand();
                sprintf(key, "agg-%u-%llu", (unsigned)put, check_rand() % 1000);
                kinagg_hash_key_of_partition_key(key, strlen(key), &hk);
                sh = kinagg_shard_find(shards, nshards, &hk, 1);
                if (kinagg_agg_add(&aggs[sh], key, strlen(key), NULL, 0, data, len) != KINAGG_OK) { full = 1; break; }
                if (!first_hk[sh][0]) kinagg_hash_key_format(&hk, first_hk[sh]);
                manifest_line("agg", key, strlen(key), data, len, shards[sh].shard_id);
                put++;
            }
            for (s = 0; s < 4; s++) {
                const unsigned char *out;
                size_t out_len;
                if (!kinagg_agg_count(&aggs[s])) continue;
                kinagg_agg_finish(&aggs[s], &out, &out_len);
                e[n].data = out;
                e[n].data_len = out_len;
                e[n].partition_key = kinagg_str_c("a");
                e[n].explicit_hash_key = kinagg_str_c(first_hk[s]);
                n++;
            }
            st = kinagg_put_records(&k, stream, e, n, res, &failed);
            CHECK(st == KINAGG_OK && failed == 0, "PutRecords aggregated: %s %s", kinagg_strerror(st), k.error_message);
            for (s = 0; s < n && st == KINAGG_OK; s++) {
                kinagg_hash_key hk;
                size_t sh;
                kinagg_hash_key_parse(e[s].explicit_hash_key.ptr, e[s].explicit_hash_key.len, &hk);
                sh = kinagg_shard_find(shards, nshards, &hk, 1);
                CHECK(res[s].shard_id.len == strlen(shards[sh].shard_id) &&
                          memcmp(res[s].shard_id.ptr, shards[sh].shard_id, res[s].shard_id.len) == 0,
                      "aggregate on %.*s", (int)res[s].shard_id.len, res[s].shard_id.ptr);
            }
            for (s = 0; s < 4; s++) kinagg_agg_reset(&aggs[s]);
        }
    }

    /* request-level errors come back typed */
    {
        kinagg_stream_ref missing;
        char status[32];
        missing.name = kinagg_str_c("no-such-stream");
        missing.arn = kinagg_str_c("");
        st = kinagg_describe_stream_summary(&k, missing, status, sizeof status, NULL);
        CHECK(st == KINAGG_ERR_SERVICE && strcmp(k.error_type, "ResourceNotFoundException") == 0 && k.http_status == 400,
              "missing stream: %s %s", kinagg_strerror(st), k.error_type);
    }
    /* a tampered request: the proxy recomputes the signature and refuses */
    if (signatures_checked) {
        kinagg_body body;
        body.ctx = NULL;
        body.rewind = tamper_rewind;
        body.read = tamper_read;
        tamper_pass = 0;
        st = kinagg__call_begin(&k, "DescribeStreamSummary", &body);
        if (st == KINAGG_OK) st = kinagg__call_run(&k);
        CHECK(st == KINAGG_ERR_SERVICE && strcmp(k.error_type, "InvalidSignatureException") == 0,
              "tampered body: %s %s", kinagg_strerror(st), k.error_type);
    }
    /* wrong secret: refused; a session token: accepted */
    {
        kinagg_credentials bad = creds(0), session = creds(1);
        char status[32];
        bad.secret_access_key = kinagg_str_c("wrong");
        kinagg_sigv4_init(&k.signer, &bad);
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, NULL);
        if (signatures_checked) /* (kinesis-mock takes any secret) */
            CHECK(st == KINAGG_ERR_SERVICE && strcmp(k.error_type, "InvalidSignatureException") == 0, "wrong secret: %s",
                  k.error_type);
        kinagg_sigv4_init(&k.signer, &session);
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, NULL);
        CHECK(st == KINAGG_OK, "session credentials: %s %s", kinagg_strerror(st), k.error_type);
    }
    if (signatures_checked) {
        char status[32];
        /* a clock 20 minutes slow is refused, learnt from Date, and right on retry */
        k.clock_offset_ms = -20 * 60 * 1000;
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, NULL);
        CHECK(st == KINAGG_ERR_CLOCK_SKEW, "skewed clock: %s %s", kinagg_strerror(st), k.error_type);
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, NULL);
        CHECK(st == KINAGG_OK, "after skew correction: %s %s", kinagg_strerror(st), k.error_message);
        /* and one 40 minutes fast (Kinesis says "Signature not yet current") */
        k.clock_offset_ms += 40 * 60 * 1000;
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, NULL);
        CHECK(st == KINAGG_ERR_CLOCK_SKEW, "clock ahead: %s %s %s", kinagg_strerror(st), k.error_type, k.error_message);
        st = kinagg_describe_stream_summary(&k, stream, status, sizeof status, NULL);
        CHECK(st == KINAGG_OK, "after the clock ahead was corrected: %s %s", kinagg_strerror(st), k.error_message);
    }
    CHECK(k.http.connections < k.http.requests, "keep-alive: %lu connections for %lu requests", k.http.connections,
          k.http.requests);
    printf("%lu requests over %lu connections\n", k.http.requests, k.http.connections);
    fclose(manifest);
    return check_summary("kinesis");
}
