/* Firmware test: kinagg's producer on a Cortex-M4 (QEMU mps2-an386) with
 * 64 KB of RAM in all, sending through the board's UART to a host bridge
 * (bridge.js), which connects it to the SigV4-verifying test proxy.
 *
 * Command line (semihosting):
 *   producer PROXY_PORT UNIX_MS SEED STREAM RECORDS [ECHO_PORT]
 *   UNIX_MS: the host's clock when QEMU started (the board has no RTC);
 *   the records and their keys come from SEED; with ECHO_PORT it first
 *   tests the link itself against the bridge's echo server.
 *
 * It puts RECORDS records on a few hundred partition keys, and five bad
 * records (one of each kind) at the start and again halfway, which put must
 * refuse with their own error without disturbing anything. Every record
 * put is printed as a manifest line ("rec * KEY-HEX DATA-HEX") for the
 * independent reader. At the end it checks that each record completed
 * once, delivered, and reports the RAM it used: .data, .bss (the region,
 * the producer, the rest) and the stack's high-water mark. */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#include "board.h"
#include "fw_config.h"
#include "uart_link.h"
#include <string.h>

#define FW_MAX_RECORDS 10000
/* partition keys: a few hundred; the smallest build (no shard map, so only
 * records of one key are aggregated) is run as a device with a few sensors */
#ifndef FW_KEYS
#define FW_KEYS 300
#endif
#define FW_DATA_MAX 100

static unsigned char fw_region[FW_REGION_SIZE] __attribute__((aligned(16)));
static kinagg_producer prod;
static fw_link link;
static unsigned char done_map[(FW_MAX_RECORDS + 7) / 8]; /* completions seen */
static unsigned long completed, delivered, failed, twice, checks_passed, checks_failed;
static uint64_t unix_base_ms, rng; /* zero-initialised, so .data stays empty */

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (cond) {                                                      \
            checks_passed++;                                             \
        } else {                                                         \
            checks_failed++;                                             \
            fw_printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fw_printf(__VA_ARGS__);                                      \
            fw_printf("\n");                                             \
        }                                                                \
    } while (0)

static uint32_t rand32(void) { /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

static uint64_t pf_now(void *ctx) {
    (void)ctx;
    return fw_now_ms();
}
static uint64_t pf_unix(void *ctx) {
    (void)ctx;
    return unix_base_ms + fw_now_ms();
}
static uint32_t pf_random(void *ctx) {
    (void)ctx;
    return rand32();
}
static void pf_sleep(void *ctx, uint32_t ms) {
    uint64_t end = fw_now_ms() + ms;
    (void)ctx;
    while (fw_now_ms() < end) fw_idle();
}

static uint64_t parse_u64(const char *s) {
    uint64_t v = 0;
    while (s && *s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

static void on_complete(void *ctx, const kinagg_completion *c) {
    size_t id = (size_t)(uintptr_t)c->user;
    (void)ctx;
    completed++;
    if (id >= FW_MAX_RECORDS) {
        twice++;
        return;
    }
    if (done_map[id / 8] & (1u << (id % 8))) twice++;
    done_map[id / 8] |= (unsigned char)(1u << (id % 8));
    if (c->status == KINAGG_OK && c->shard_id.len && c->sequence_number.len) {
        delivered++;
    } else if (failed++ < 5) {
        fw_printf("record %zu failed: %s %.*s %.*s\n", id, kinagg_strerror(c->status), (int)c->error_code.len,
                  c->error_code.ptr, (int)c->error_message.len, c->error_message.ptr);
    }
}

/* Record i: a key out of FW_KEYS (some with '~', the link's escape byte, or
 * with UTF-8 beyond ASCII) and 8 to FW_DATA_MAX bytes of data, any bytes,
 * that start with its number so that no two are alike. */
#define FW_NOINLINE __attribute__((noinline)) /* its frame only while it runs, not under every poll */

static FW_NOINLINE void make_record(unsigned long i, char *key, size_t *key_len, unsigned char *data, size_t *data_len) {
    unsigned k = rand32() % FW_KEYS;
    size_t n, b;
    if (k % 10 == 0) *key_len = fw_format(key, 32, "dev~%u", k);
    else if (k % 10 == 1) *key_len = fw_format(key, 32, "capteur-\xc3\xa9t\xc3\xa9-%u", k);
    else *key_len = fw_format(key, 32, "sensor-%u", k);
    n = 8 + rand32() % (FW_DATA_MAX - 8 + 1);
    b = fw_format((char *)data, n, "#%lu:", i);
    for (; b < n; b++) data[b] = (unsigned char)rand32();
    *data_len = n;
}

static FW_NOINLINE void manifest_line(const char *key, size_t key_len, const unsigned char *data, size_t data_len) {
    char line[8 + 2 * 32 + 1 + 2 * FW_DATA_MAX + 2];
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i;
    memcpy(line, "rec * ", 6);
    n = 6;
    for (i = 0; i < key_len; i++) {
        line[n++] = hex[(unsigned char)key[i] >> 4];
        line[n++] = hex[(unsigned char)key[i] & 15];
    }
    line[n++] = ' ';
    for (i = 0; i < data_len; i++) {
        line[n++] = hex[data[i] >> 4];
        line[n++] = hex[data[i] & 15];
    }
    line[n++] = '\n';
    fw_write(line, n);
}

/* Does the work that can be done now, and sleeps (WFI) until the next
 * interrupt when the producer has nothing to do before later. */
static FW_NOINLINE void service(void) {
    uint64_t next;
    kinagg_status st = kinagg_producer_poll(&prod, &next);
    if (st != KINAGG_OK && st != KINAGG_PENDING) fw_printf("poll: %s\n", kinagg_strerror(st));
    if (next > fw_now_ms()) fw_idle();
}

/* The five bad records, each refused with its own error; nothing changes. */
static const unsigned char too_large[2100] = {1};

static FW_NOINLINE void put_bad_records(const char *when) {
#define K16 "kkkkkkkkkkkkkkkk"
    static const char long_key[] = K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 K16 "k";
#undef K16
    static const struct {
        const char *what, *key, *ehk;
        size_t data_len;
        kinagg_status want;
    } bad[] = {
        {"empty key", "", NULL, 10, KINAGG_ERR_KEY_EMPTY},
        {"key of 257 characters", long_key, NULL, 10, KINAGG_ERR_KEY_TOO_LONG},
        {"key not UTF-8", "bad\xc3\x28key", NULL, 10, KINAGG_ERR_KEY_ENCODING},
        {"explicit hash key 2^128", "k", "340282366920938463463374607431768211456", 10, KINAGG_ERR_HASH_KEY},
        {"data over max_record_size", "k", NULL, 2048, KINAGG_ERR_TOO_LARGE},
    };
    size_t i;
    CHECK(sizeof long_key == 258, "long key of %zu characters", sizeof long_key - 1);
    CHECK(sizeof too_large > FW_MAX_RECORD_SIZE, "too_large has %zu bytes", sizeof too_large);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kinagg_producer_stats before, after;
        kinagg_status st;
        kinagg_producer_get_stats(&prod, &before);
        st = kinagg_producer_put(&prod, bad[i].key, strlen(bad[i].key), bad[i].ehk,
                                 bad[i].ehk ? strlen(bad[i].ehk) : 0, too_large, bad[i].data_len,
                                 (void *)(uintptr_t)FW_MAX_RECORDS);
        kinagg_producer_get_stats(&prod, &after);
        CHECK(st == bad[i].want, "%s, %s: put said %s, not %s", when, bad[i].what, kinagg_strerror(st),
              kinagg_strerror(bad[i].want));
        CHECK(after.records_put == before.records_put && after.buffered_records == before.buffered_records &&
                  after.buffered_bytes == before.buffered_bytes,
              "%s, %s: the producer changed", when, bad[i].what);
    }
    fw_printf("bad records %s: %zu refused, each with its own error\n", when, sizeof bad / sizeof bad[0]);
}

/* ---- a test of the link itself, against the bridge's echo server ---- */

static kinagg_io tp_connect(const kinagg_transport *tp, uint16_t port) {
    uint64_t end = fw_now_ms() + 5000;
    kinagg_io io;
    while ((io = tp->connect(tp->ctx, "127.0.0.1", port)) == KINAGG_IO_AGAIN && fw_now_ms() < end) fw_idle();
    return io;
}

static int tp_send_all(const kinagg_transport *tp, const unsigned char *p, size_t n) {
    uint64_t end = fw_now_ms() + 5000;
    while (n && fw_now_ms() < end) {
        size_t sent = 0;
        kinagg_io io = tp->send(tp->ctx, p, n, &sent);
        if (io != KINAGG_IO_OK && io != KINAGG_IO_AGAIN) return 0;
        p += sent;
        n -= sent;
    }
    return n == 0;
}

static int tp_recv_n(const kinagg_transport *tp, unsigned char *p, size_t n) {
    uint64_t end = fw_now_ms() + 5000;
    while (n && fw_now_ms() < end) {
        size_t got = 0;
        kinagg_io io = tp->recv(tp->ctx, p, n, &got);
        if (io == KINAGG_IO_AGAIN) fw_idle();
        else if (io != KINAGG_IO_OK) return 0;
        p += got;
        n -= got;
    }
    return n == 0;
}

/* Every byte value both ways (0x7E is the link's escape), bytes still in
 * flight when a connection closes kept from the next one, and a refused
 * connect. */
static FW_NOINLINE void link_selftest(const kinagg_transport *tp, uint16_t echo) {
    unsigned char out[256], in[256];
    size_t i;
    for (i = 0; i < sizeof out; i++) out[i] = (unsigned char)i;
    CHECK(tp_connect(tp, echo) == KINAGG_IO_OK, "link: connect to the echo server");
    CHECK(tp_send_all(tp, out, sizeof out) && tp_recv_n(tp, in, sizeof in) && !memcmp(in, out, sizeof in),
          "link: bytes 0 to 255 echoed");
    memset(out, FW_LINK_ESC, sizeof out);
    CHECK(tp_send_all(tp, out, sizeof out) && tp_recv_n(tp, in, 16) && !memcmp(in, out, 16),
          "link: 256 escape bytes sent, the first 16 echoed");
    tp->close(tp->ctx); /* the other 240 are on their way: the next connection must not see them */
    for (i = 0; i < sizeof out; i++) out[i] = (unsigned char)(i & 1 ? FW_LINK_ESC : 255 - i);
    CHECK(tp_connect(tp, echo) == KINAGG_IO_OK, "link: connect again");
    CHECK(tp_send_all(tp, out, sizeof out) && tp_recv_n(tp, in, sizeof in) && !memcmp(in, out, sizeof in),
          "link: the new connection gets its own bytes only");
    tp->close(tp->ctx);
    CHECK(tp_connect(tp, 9) == KINAGG_IO_ERROR, "link: a connect to a port the bridge does not allow fails");
    tp->close(tp->ctx);
    fw_printf("link: echo test done: every byte value both ways, close and reconnect, a refused connect\n");
}

/* Sets the producer up from the command line; 0 when it is ready. */
static FW_NOINLINE int setup(int argc, char **argv, unsigned long *total) {
    kinagg_producer_config cfg;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_transport tp;
    kinagg_platform pf;
    kinagg_status st;
    char url[40], stream[64];
    size_t need;
    if (argc < 6) {
        fw_printf("usage: producer PROXY_PORT UNIX_MS SEED STREAM RECORDS [ECHO_PORT]\n");
        return -1;
    }
    fw_format(url, sizeof url, "http://127.0.0.1:%s", argv[1]);
    unix_base_ms = parse_u64(argv[2]);
    rng = 88172645463325252ull ^ (parse_u64(argv[3]) * 0x9E3779B97F4A7C15ull);
    fw_format(stream, sizeof stream, "%s", argv[4]);
    *total = (unsigned long)parse_u64(argv[5]);
    if (*total > FW_MAX_RECORDS) *total = FW_MAX_RECORDS;

    fw_link_init(&link, &tp);
    if (argc > 6) link_selftest(&tp, (uint16_t)parse_u64(argv[6]));
    pf.ctx = NULL;
    pf.now_ms = pf_now;
    pf.unix_ms = pf_unix;
    pf.random = pf_random;
    pf.sleep_ms = pf_sleep;
    cr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    cr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    cr.session_token = kinagg_str_c(NULL);
    fw_producer_config(&cfg, stream);
    cfg.on_complete = on_complete;
    st = kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    CHECK(st == KINAGG_OK, "endpoint %s: %s", url, kinagg_strerror(st));
    need = kinagg_producer_region_size(&cfg);
    CHECK(need && need <= sizeof fw_region, "region: %zu needed, %zu given", need, sizeof fw_region);
    st = kinagg_producer_init(&prod, fw_region, sizeof fw_region, &cfg, &ep, kinagg_str_c("us-east-1"), &cr,
                              KINAGG_PROTOCOL_DEFAULT, &tp, &pf);
    CHECK(st == KINAGG_OK, "init: %s", kinagg_strerror(st));
    if (st != KINAGG_OK) return -1;
    fw_printf("producer: region %zu bytes (kinagg_producer_region_size says %zu at least for this "
              "configuration), room for %zu records in %zu bytes\n",
              sizeof fw_region, need, prod.nrecs, prod.ring_cap);
    return 0;
}

static FW_NOINLINE void report(unsigned long total, unsigned long full, uint64_t ms) {
    kinagg_producer_stats s;
    kinagg_producer_get_stats(&prod, &s);
    CHECK(completed == total && twice == 0, "%lu completions for %lu records, %lu twice", completed, total, twice);
    CHECK(delivered == total && failed == 0, "%lu of %lu delivered, %lu failed (last error: %s)", delivered, total,
          failed, kinagg_producer_last_error(&prod));
    CHECK(s.records_put == total, "stats: %lu put", (unsigned long)s.records_put);
    fw_printf("firmware: %lu records in %lu Kinesis records (%lu per record), %lu requests (%lu failed), "
              "%lu retries, put said FULL %lu times, %lu ms\n",
              (unsigned long)s.records_delivered, (unsigned long)s.kinesis_records,
              s.kinesis_records ? (unsigned long)(s.records_delivered / s.kinesis_records) : 0ul,
              (unsigned long)s.requests, (unsigned long)s.requests_failed, (unsigned long)s.records_retried, full,
              (unsigned long)ms);
    fw_printf("link: %lu connections, %lu bytes sent, %lu received, %lu + %lu escaped\n", link.connects,
              link.bytes_out, link.bytes_in, link.escaped_out, link.escaped_in);
}

int fw_main(int argc, char **argv) {
    unsigned char data[FW_DATA_MAX];
    char key[32];
    size_t key_len, data_len;
    unsigned long i, total = 0, full = 0;
    uint64_t t0, deadline;
    kinagg_status st;
    fw_ram ram;

    if (setup(argc, argv, &total) == 0) {
        put_bad_records("at the start");
        t0 = fw_now_ms();
        for (i = 0; i < total; i++) {
            make_record(i, key, &key_len, data, &data_len);
            for (;;) {
                st = kinagg_producer_put(&prod, key, key_len, NULL, 0, data, data_len, (void *)(uintptr_t)i);
                if (st != KINAGG_ERR_FULL) break;
                full++;
                service();
            }
            CHECK(st == KINAGG_OK, "put %lu: %s", i, kinagg_strerror(st));
            if (st == KINAGG_OK) manifest_line(key, key_len, data, data_len);
            if (i == total / 2) put_bad_records("halfway, with records buffered");
            if ((i & 15) == 0) service();
        }
        deadline = fw_now_ms() + 120000;
        while (completed < total && fw_now_ms() < deadline) service();
        report(total, full, fw_now_ms() - t0);
        kinagg_producer_close(&prod);
    } else {
        checks_failed++;
    }
    fw_ram_usage(&ram);
    fw_printf("RAM: %zu of %zu bytes: .data %zu, .bss %zu (producer region %zu, kinagg_producer %zu, link %zu, "
              "the test's own %zu), stack %zu (high-water %zu), %zu free\n",
              ram.total - ram.free, ram.total, ram.data, ram.bss, sizeof fw_region, sizeof prod, sizeof link,
              ram.bss - sizeof fw_region - sizeof prod - sizeof link, ram.stack, ram.stack_used, ram.free);
    CHECK(ram.stack_used < ram.stack, "stack: all %zu bytes used", ram.stack);
    fw_printf("firmware: %lu passed, %lu failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}
