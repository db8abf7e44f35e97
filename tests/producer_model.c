/* The producer against a scripted Kinesis, from many seeds: no network, a
 * virtual clock, every answer chosen at random by a peer that parses each
 * request (PutRecords JSON with base64 data, ListShards) and answers it the
 * way Kinesis may: per entry success (ShardId and SequenceNumber of the shard
 * the entry's hash key selects), ProvisionedThroughputExceededException or
 * InternalFailure; whole requests failing with 500, 503, 400 (throttled,
 * expired token, a permanent error); connections refused, closed before or
 * during the answer, or stalled until the request times out; ListShards in
 * pages, with 1-4 open shards, and now and then a resharded map.
 *
 * The driver puts records of random sizes and keys, polls with random work
 * bounds (1 byte to unbounded), 1-4 connections, flushes, abandons and
 * closes at random, rotates credentials through a source that expires them,
 * and puts again (or abandons) from inside callbacks. After every call it
 * checks what the promises say:
 *   - every record put accepted completes exactly once, and by the end;
 *   - a delivered record's shard and sequence number are those the peer gave
 *     the entry holding it, at its index in the aggregate; the aggregate held
 *     only records of that shard (the peer decodes it with kinagg_deagg_*);
 *   - no aggregate, delivered or not, mixes the shards of every map the peer
 *     ever served (or, unmapped, holds records of two hash keys);
 *   - a failure has a cause: expired past record_ttl_ms, abandoned during
 *     abandon, or a permanent error the peer gave for that record;
 *   - the stats add up (buffered_records = put - completed, and bytes);
 *   - with no partial failures and no resharding (a third of the seeds),
 *     each key's delivered records carry increasing sequence numbers, from
 *     the first shard map on (docs/producer.md excepts those; records sent
 *     while the first map could not be listed are sent unmapped, and the
 *     map's arrival is a change of map too);
 *   - credentials are asked for when needed, not every poll;
 *   - the producer's own lists agree with their counts, each record is in
 *     exactly one place, and a busy shard has a request (white-box: these
 *     read the producer's internals, they change nothing);
 *   - with the faults off, everything drains, and a poll that asks to be
 *     called again at once does some work.
 * The region is a heap block of exactly the size init needs: ASan sees any
 * byte outside it. Each seed runs in a child process; a crash or a hang (30
 * s) fails that seed.
 *
 * Usage: producer_model [--seeds N] [--from S] [--seed S] [-v] [-t]
 *                       [--skip close,abandon,cbabandon]
 * --seeds N from S: the regression seeds, then S..S+N-1; --seed S: one, in
 * this process; -v: each seed's settings; -t: a trace of puts, requests and
 * completions; --skip: leave those calls out, to narrow a failure down.
 * The closing line is "producer-model: N passed, N failed", one per seed. */
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#include "check.h"
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

/* Built with KINAGG_NO_SHARD_MAP, the producer never lists shards: every
 * seed runs as with no_shard_map 1, whatever its setting says. */
#ifdef KINAGG_NO_SHARD_MAP
#define BUILD_NO_MAP 1
#else
#define BUILD_NO_MAP 0
#endif
static int cfg_no_shard_map; /* the seed's no_shard_map: never a ListShards call */
#include <string.h>

/* Seeds that found bugs; they run first, every time. (A seed names a run
 * of this file's choices: a change to the choices makes them other runs.)
 *   1   kinagg_producer_close with a request on the wire: its records failed
 *       as "HTTP 0" instead of being sent again
 *   3   abandon called from a completion callback: records completed twice
 *   89  no credentials yet and a map to list: polls said "now" and spun
 *   92  a request half built on a later connection while an earlier idle
 *       one found nothing ready: never sent, its shard busy for good
 *   389, 438, 462  two responses handled across polls at once: one put
 *       the other's half-gathered retries back early, reversing a key's order
 *   30795  after resharding, more shards than max_shards: the stale map was
 *       kept, records went to shards that were gone, again and again
 *   1796640444  abandon during the listing of a map known out of date: the
 *       listing was dropped and never asked for again */
static const unsigned long long regression_seeds[] = {1, 3, 89, 92, 389, 438, 462, 30795, 1796640444ull, 1796654330ull, 5001092ull, 7000705ull};

#define UNIX0 1700000000000ull
#define MAXREC 6000
#define MAXSHARDS 256
#define MAXCONN 4

/* ---- the seed's failures ------------------------------------------------ */

static unsigned long long cur_seed;
static int seed_failures, verbose, tracing;
#define TRACE(...) do { if (tracing) { fprintf(stderr, "%6lu ", (unsigned long)vnow); fprintf(stderr, __VA_ARGS__); } } while (0)
static const char *skip = ""; /* actions left out, for finding a bug's cause: close,abandon,cbabandon */

static void fail(const char *fmt, ...) {
    va_list ap;
    if (seed_failures++ < 6) {
        fprintf(stderr, "seed %llu: ", cur_seed);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}
#define EXPECT(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

static unsigned rnd(unsigned n) { return n ? (unsigned)(check_rand() % n) : 0; }
static int chance(unsigned per_thousand) { return rnd(1000) < per_thousand; }

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) { fprintf(stderr, "out of memory\n"); exit(2); }
    return q;
}

/* A seed that runs 30 s has hung (a flush whose polls all say "now"
 * never lets the virtual clock move): say which, and fail. */
static char hung_msg[96];
static void on_alarm(int sig) {
    size_t n = strlen(hung_msg);
    (void)sig;
    if (write(2, hung_msg, n) < 0) _exit(3);
    _exit(3);
}

/* ---- the virtual clock ---------------------------------------------------- */

static uint64_t vnow;
static uint64_t pf_now(void *c) { (void)c; return vnow; }
static uint64_t pf_unix(void *c) { (void)c; return UNIX0 + vnow; }
static uint32_t pf_random(void *c) { (void)c; return (uint32_t)check_rand(); }
static void pf_sleep(void *c, uint32_t ms) { (void)c; vnow += ms ? ms : 1; }

/* ---- 128-bit hash keys ---------------------------------------------------- */

static kinagg_hash_key hk_max(void) { kinagg_hash_key k; memset(k.be, 0xff, 16); return k; }
static kinagg_hash_key hk_random(void) {
    kinagg_hash_key k;
    int i;
    for (i = 0; i < 16; i++) k.be[i] = (unsigned char)check_rand();
    return k;
}
static kinagg_hash_key hk_minus1(kinagg_hash_key k) {
    int i;
    for (i = 15; i >= 0; i--) if (k.be[i]--) break;
    return k;
}
static int hk_cmp(const void *a, const void *b) {
    return kinagg_hash_key_compare((const kinagg_hash_key *)a, (const kinagg_hash_key *)b);
}

/* ---- the stream: shards, maps, stored entries ----------------------------- */

typedef struct shard { kinagg_hash_key start, end; int open; } shard;
static shard shards[MAXSHARDS * 8];
static unsigned nshards_all;
/* the map the peer serves: every shard it lists (open and closed) */
static unsigned cur_map[MAXSHARDS], cur_map_len, map_gen;
static size_t put_cut; /* PutRecords answers longer than this are cut here (0: never) */
/* every map served: its open shards, for the purity check */
static unsigned *map_hist, map_hist_len; /* [gen start..] lists, ended by ~0u */

static void shard_id(unsigned s, char *out) { sprintf(out, "shardId-%012u", s); }
static int parse_shard_id(const char *p, size_t n, unsigned *s) {
    char tmp[64];
    if (n < 9 || n >= sizeof tmp || memcmp(p, "shardId-", 8) != 0) return 0;
    memcpy(tmp, p, n); tmp[n] = 0;
    *s = (unsigned)strtoul(tmp + 8, NULL, 10);
    return *s < nshards_all;
}

/* A new map of k open shards covering the whole range; the old open ones
 * close and stay listed (the newest few), as after resharding. */
static void new_map(unsigned k) {
    kinagg_hash_key cuts[4];
    unsigned i, old[MAXSHARDS], nold = 0;
    if (nshards_all + k > sizeof shards / sizeof shards[0]) return; /* resharded enough */
    for (i = 0; i < cur_map_len; i++) {
        shards[cur_map[i]].open = 0;
        old[nold++] = cur_map[i];
    }
    if (nold > 8) { memmove(old, old + nold - 8, 8 * sizeof old[0]); nold = 8; }
    for (i = 0; i + 1 < k; i++) cuts[i] = hk_random();
    qsort(cuts, k - 1, sizeof cuts[0], hk_cmp);
    cur_map_len = 0;
    for (i = 0; i < nold; i++) cur_map[cur_map_len++] = old[i];
    for (i = 0; i < k; i++) {
        shard *s = &shards[nshards_all];
        memset(s->start.be, 0, 16);
        if (i) s->start = cuts[i - 1];
        s->end = i + 1 < k ? hk_minus1(cuts[i]) : hk_max();
        s->open = 1;
        cur_map[cur_map_len++] = nshards_all++;
    }
    map_gen++;
    map_hist = (unsigned *)xrealloc(map_hist, (map_hist_len + k + 1) * sizeof *map_hist);
    for (i = 0; i < cur_map_len; i++)
        if (shards[cur_map[i]].open) map_hist[map_hist_len++] = cur_map[i];
    map_hist[map_hist_len++] = ~0u;
}

/* The open shard of the current map that a hash key selects. */
static unsigned route(const kinagg_hash_key *hk) {
    unsigned i;
    for (i = 0; i < cur_map_len; i++) {
        const shard *s = &shards[cur_map[i]];
        if (s->open && kinagg_hash_key_in_range(hk, &s->start, &s->end)) return cur_map[i];
    }
    fprintf(stderr, "seed %llu: no shard for a hash key (model bug)\n", cur_seed);
    exit(2);
}

static int in_listing(unsigned s) {
    unsigned i;
    for (i = 0; i < cur_map_len; i++)
        if (cur_map[i] == s) return 1;
    return 0;
}

/* A closed shard the peer lists that holds the hash key, else s: some
 * servers (moto) store there after resharding. Its range may hold all of
 * the open shard's, or not (the maps here are cut anew, not split). */
static unsigned closed_holding(const kinagg_hash_key *hk, unsigned s) {
    unsigned i;
    for (i = 0; i < cur_map_len; i++) {
        const shard *c = &shards[cur_map[i]];
        if (!c->open && kinagg_hash_key_in_range(hk, &c->start, &c->end)) return cur_map[i];
    }
    return s;
}

typedef struct stored { unsigned shard; int aggregated, clean; size_t first, n; } stored;
static stored *store; /* sequence number s is store[s - 1] */
static size_t nstore, store_cap;
static uint32_t *store_ids;
static size_t nstore_ids, store_ids_cap;

/* ---- records, as the driver knows them ------------------------------------ */

typedef struct key { char pk[300]; size_t pk_len; char ehk[48]; size_t ehk_len; kinagg_hash_key hk; } key;
static key keys[64];
static unsigned nkeys;

typedef struct rec {
    int state;          /* 0 not put, 1 buffered, 2 completed */
    unsigned key;
    size_t size;        /* pk + ehk + data, as the producer counts it */
    int may_fail;       /* the peer gave a permanent error for it */
    int must_fail;      /* one that is per entry: it is never sent again */
    int mapped;         /* put once the shard map was known (or with none at all) */
    int status;
    uint64_t seq, sub;
    uint64_t put_at;    /* the clock when put */
    int worn;           /* its attempts set to the most the count holds */
} rec;
static rec recs[MAXREC];
static unsigned nrecs_put;
static size_t completed, buffered_bytes, reputs;
static kinagg_producer_config cfg;
static kinagg_producer prod;
static uint64_t last_bad_at; /* the clock when a success answer to PutRecords kinagg cannot read was last served */
static size_t low_entries;    /* the fewest entries per request since then (a request of n entries halves to n / 2) */
static struct { uint64_t at; size_t n; } cuts[64]; /* the last such answers read whole: when, and their
                                                   * requests' entries */
static unsigned ncuts;
static uint64_t expired_token_failures; /* ExpiredNextTokenException served: the map failures counted then, + 1 */
static uint64_t cut_read_at; /* with one connection: when such an answer was last read whole, or 0 */
static size_t cut_read_n;

static unsigned id_of_data(const unsigned char *d, size_t n, int *ok) {
    char tmp[9];
    *ok = 0;
    if (n < 11 || d[0] != 'I' || d[1] != 'D') return 0;
    memcpy(tmp, d + 2, 8); tmp[8] = 0;
    *ok = d[10] == '|';
    return (unsigned)strtoul(tmp, NULL, 16);
}

/* ---- the credentials source ----------------------------------------------- */

typedef struct issued { char akid[32], secret[32], token[40]; uint64_t expires; } issued;
static issued creds[4096];
static unsigned ncreds;
static int cred_mode, cred_pending, cred_failing, cred_calls, cred_needless;
static uint32_t cred_refresh_ms;
static unsigned cred_life_min, cred_life_span;

static kinagg_status cred_get(void *ctx, int force, kinagg_credentials *out, uint64_t *expires) {
    issued *c;
    (void)ctx;
    cred_calls++;
    if (ncreds && !force) { /* asked while the last ones were good for long: needless */
        const issued *last = &creds[ncreds - 1];
        if (!last->expires || last->expires > UNIX0 + vnow + cred_refresh_ms + 2000) cred_needless++;
    }
    if (cred_pending > 0) { cred_pending--; return KINAGG_PENDING; }
    if (cred_failing && chance(300)) return KINAGG_ERR_IO;
    if (cred_failing && chance(300)) { cred_pending = (int)rnd(5); return KINAGG_PENDING; }
    if (ncreds == sizeof creds / sizeof creds[0]) ncreds = 1; /* plenty: reuse the table */
    c = &creds[ncreds++];
    sprintf(c->akid, "AKID%u", ncreds);
    sprintf(c->secret, "secret/%u", ncreds);
    sprintf(c->token, chance(500) ? "token%u" : "", ncreds);
    c->expires = chance(100) ? 0 : UNIX0 + vnow + cred_life_min + rnd(cred_life_span);
    out->access_key_id = kinagg_str_c(c->akid);
    out->secret_access_key = kinagg_str_c(c->secret);
    out->session_token = kinagg_str_c(c->token);
    *expires = c->expires;
    return KINAGG_OK;
}

/* ---- the peer: one per connection ----------------------------------------- */

enum { F_NONE, F_CLOSE_BEFORE, F_STALL, F_CLOSE_MID };

typedef struct chaos {
    unsigned connect_fail, close_before, stall, close_mid, idle_drop; /* per thousand requests */
    unsigned http500, http503, http400_pte, expired_token, permanent;  /* per thousand requests */
    unsigned entry_pte, entry_internal, entry_kms_denied, entry_invalid; /* per thousand entries */
    unsigned closed_store; /* per thousand entries: stored on the closed shard listed with the key (as moto does) */
    unsigned list_fail, list_denied, reshard;                          /* per thousand */
    unsigned again;                                                    /* per thousand calls */
    int store_on_fault;
} chaos;
static chaos cz;
static int order_mode;

typedef struct peer {
    int connected, connect_wait, dropped;
    unsigned char *req;
    size_t req_cap, req_len, head_len, body_len;
    int have_head;
    char *resp;
    size_t resp_cap, resp_len, resp_pos, close_at, send_cut;
    int answering, fault;
    unsigned long requests;
    size_t unreadable_n;  /* the answer being sent cannot be read: its request's entries, or 0 */
    unsigned refused[256]; /* records the answer being sent refuses as invalid: once it is read */
    size_t nrefused;      /* whole, they must never be sent again */
    unsigned owed;        /* 1 + a shard the answer being sent names that the producer's map has
                           * not: once it is read whole, the producer must list the shards again */
} peer;
static unsigned owed_shard; /* 1 + such a shard, in an answer read whole */
static unsigned long owed_map_gen; /* the producer's map generation when owed_shard was set */
static peer peers[MAXCONN];
static unsigned long peer_bytes_in; /* for progress checks */

static void peer_reset(peer *pe) {
    pe->req_len = pe->head_len = pe->body_len = 0;
    pe->have_head = 0;
    pe->resp_len = pe->resp_pos = pe->unreadable_n = pe->nrefused = pe->owed = 0;
    pe->answering = 0;
    pe->fault = F_NONE;
    pe->send_cut = 0;
}

static kinagg_io t_connect(void *ctx, const char *host, uint16_t port) {
    peer *pe = (peer *)ctx;
    (void)host; (void)port;
    if (pe->connect_wait > 0) { pe->connect_wait--; return KINAGG_IO_AGAIN; }
    if (chance(cz.connect_fail)) { pe->connect_wait = 0; return KINAGG_IO_ERROR; }
    if (chance(cz.again)) { pe->connect_wait = (int)rnd(3); return KINAGG_IO_AGAIN; }
    pe->connected = 1;
    pe->dropped = 0;
    peer_reset(pe);
    return KINAGG_IO_OK;
}

static void t_close(void *ctx) {
    peer *pe = (peer *)ctx;
    pe->connected = 0;
    peer_reset(pe);
}

static void peer_request(peer *pe);

static kinagg_io t_send(void *ctx, const unsigned char *d, size_t n, size_t *sent) {
    peer *pe = (peer *)ctx;
    size_t take;
    if (!pe->connected) { fail("send on a connection that is not open"); return KINAGG_IO_ERROR; }
    if (pe->dropped) return chance(500) ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR; /* the peer dropped it while idle */
    if (pe->answering) {
        if (pe->resp_pos < pe->resp_len) fail("a new request before the answer was read");
        peer_reset(pe);
    }
    if (pe->req_len == 0 && chance(cz.close_mid / 2)) pe->send_cut = 1 + rnd(4000); /* this request is cut */
    if (pe->send_cut && pe->req_len >= pe->send_cut) { pe->dropped = 1; return chance(500) ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR; }
    if (chance(cz.again)) return KINAGG_IO_AGAIN;
    take = chance(300) ? 1 + rnd((unsigned)n) : n;
    if (pe->req_len + take > pe->req_cap) { fail("a request larger than the peer's buffer"); return KINAGG_IO_ERROR; }
    memcpy(pe->req + pe->req_len, d, take);
    pe->req_len += take;
    peer_bytes_in += take;
    *sent = take;
    if (!pe->have_head) {
        size_t i;
        for (i = 3; i < pe->req_len; i++)
            if (memcmp(pe->req + i - 3, "\r\n\r\n", 4) == 0) {
                const char *cl;
                pe->req[i] = 0; /* the head as a string, for a while */
                cl = strstr((const char *)pe->req, "Content-Length: ");
                pe->req[i] = '\n';
                if (!cl) { fail("a request without Content-Length"); return KINAGG_IO_ERROR; }
                pe->body_len = strtoul(cl + 16, NULL, 10);
                pe->head_len = i + 1;
                pe->have_head = 1;
                break;
            }
    }
    if (pe->have_head && pe->req_len > pe->head_len + pe->body_len) fail("more bytes than Content-Length");
    if (pe->have_head && pe->req_len == pe->head_len + pe->body_len) peer_request(pe);
    return KINAGG_IO_OK;
}

static kinagg_io t_recv(void *ctx, unsigned char *buf, size_t cap, size_t *got) {
    peer *pe = (peer *)ctx;
    size_t n;
    if (!pe->connected) { fail("recv on a connection that is not open"); return KINAGG_IO_ERROR; }
    if (pe->dropped) return KINAGG_IO_CLOSED;
    if (!pe->answering || pe->fault == F_STALL) return KINAGG_IO_AGAIN;
    if (pe->fault == F_CLOSE_BEFORE) { pe->dropped = 1; return chance(500) ? KINAGG_IO_CLOSED : KINAGG_IO_ERROR; }
    if (pe->fault == F_CLOSE_MID && pe->resp_pos >= pe->close_at) { pe->dropped = 1; return KINAGG_IO_CLOSED; }
    if (pe->resp_pos == pe->resp_len) return KINAGG_IO_AGAIN; /* all said: keep-alive */
    if (chance(cz.again)) return KINAGG_IO_AGAIN;
    n = pe->resp_len - pe->resp_pos;
    if (pe->fault == F_CLOSE_MID && n > pe->close_at - pe->resp_pos) n = pe->close_at - pe->resp_pos;
    if (chance(300)) n = 1 + rnd((unsigned)n);
    if (n > cap) n = cap;
    memcpy(buf, pe->resp + pe->resp_pos, n);
    pe->resp_pos += n;
    *got = n;
    if (pe->resp_pos == pe->resp_len) { /* read whole: the producer knows they are invalid, and where they went */
        while (pe->nrefused) recs[pe->refused[--pe->nrefused]].must_fail = 1;
        if (pe->owed) owed_shard = pe->owed, owed_map_gen = prod.map_gen;
        pe->owed = 0;
    }
    if (pe->resp_pos == pe->resp_len && pe->unreadable_n) { /* read whole: the producer halves now */
        cut_read_at = cuts[ncuts % 64].at = vnow;
        cut_read_n = cuts[ncuts % 64].n = pe->unreadable_n;
        ncuts++;
        pe->unreadable_n = 0;
    }
    return KINAGG_IO_OK;
}

/* ---- the peer's answers ---------------------------------------------------- */

static void say(peer *pe, const char *fmt, ...) {
    va_list ap;
    int n;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(pe->resp + pe->resp_len, pe->resp_cap - pe->resp_len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < pe->resp_cap - pe->resp_len) break;
        pe->resp_cap = pe->resp_cap * 2 + (size_t)(n > 0 ? n : 0) + 64;
        pe->resp = (char *)xrealloc(pe->resp, pe->resp_cap);
    }
    pe->resp_len += (size_t)n;
}

/* the whole answer: a head and the body already in resp from body_at */
static void answer(peer *pe, int status, const char *reason, size_t body_at) {
    char head[256];
    size_t body_len = pe->resp_len - body_at;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %lu\r\n%s\r\n",
                     status, reason, (unsigned long)body_len, chance(50) ? "Connection: close\r\n" : "");
    if (pe->resp_len + (size_t)n + 1 > pe->resp_cap) {
        pe->resp_cap = pe->resp_len + (size_t)n + 64;
        pe->resp = (char *)xrealloc(pe->resp, pe->resp_cap);
    }
    memmove(pe->resp + body_at + (size_t)n, pe->resp + body_at, body_len);
    memcpy(pe->resp + body_at, head, (size_t)n);
    pe->resp_len += (size_t)n;
    pe->resp_pos = 0;
    pe->answering = 1;
}

static void answer_error(peer *pe, int status, const char *type, const char *msg) {
    say(pe, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    answer(pe, status, status == 400 ? "Bad Request" : status == 500 ? "Internal Server Error" :
                       status == 429 ? "Too Many Requests" : "Service Unavailable", 0);
}

/* ---- a small JSON reader for request bodies -------------------------------- */

typedef struct jr { const char *p, *end; int bad; } jr;
static void j_ws(jr *j) { while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++; }
static int j_eat(jr *j, char c) {
    j_ws(j);
    if (j->p < j->end && *j->p == c) { j->p++; return 1; }
    return 0;
}
/* a string, unescaped into out (cap bytes); returns its length */
static size_t j_string(jr *j, char *out, size_t cap) {
    size_t n = 0;
    if (!j_eat(j, '"')) { j->bad = 1; return 0; }
    while (j->p < j->end && *j->p != '"') {
        unsigned c = (unsigned char)*j->p++;
        if (c < 0x20) { j->bad = 1; return 0; } /* control characters must be escaped */
        if (c == '\\') {
            if (j->p >= j->end) { j->bad = 1; return 0; }
            c = (unsigned char)*j->p++;
            if (c == 'u') {
                char hx[5];
                if (j->end - j->p < 4) { j->bad = 1; return 0; }
                memcpy(hx, j->p, 4); hx[4] = 0; j->p += 4;
                c = (unsigned)strtoul(hx, NULL, 16);
                if (c >= 0x80) { j->bad = 1; return 0; } /* kinagg escapes only control characters */
            } else if (c == 'n') c = '\n'; else if (c == 't') c = '\t'; else if (c == 'r') c = '\r';
            else if (c == 'b') c = '\b'; else if (c == 'f') c = '\f';
            else if (c != '"' && c != '\\' && c != '/') { j->bad = 1; return 0; }
        }
        if (n < cap) out[n] = (char)c;
        n++;
    }
    if (!j_eat(j, '"')) j->bad = 1;
    if (n > cap) j->bad = 1;
    return n;
}
static void j_skip_number(jr *j) {
    j_ws(j);
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '-')) j->p++;
}

static int b64v(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}
/* decodes standard padded base64 in place; -1 if it is not that */
static long b64_decode(char *s, size_t n) {
    size_t i, o = 0;
    if (n % 4) return -1;
    for (i = 0; i < n; i += 4) {
        int v[4], k, pad = 0;
        for (k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) { v[k] = 0; pad++; continue; }
            if (pad) return -1;
            v[k] = b64v((unsigned char)s[i + k]);
            if (v[k] < 0) return -1;
        }
        s[o++] = (char)((v[0] << 2) | (v[1] >> 4));
        if (pad < 2) s[o++] = (char)((v[1] << 4) | (v[2] >> 2));
        if (pad < 1) s[o++] = (char)((v[2] << 6) | v[3]);
    }
    return (long)o;
}

/* ---- PutRecords ------------------------------------------------------------ */

typedef struct entry {
    char *data; size_t data_len;
    char pk[1100]; size_t pk_len;
    char ehk[48]; size_t ehk_len;
} entry;
static entry *ents;
static size_t ents_cap;
static char *datas;
static size_t datas_cap;

/* Whether hash keys hk[0..n) all fall in one open shard of some map the
 * peer served, or are all equal. */
static int pure_somewhere(const kinagg_hash_key *hk, size_t n) {
    size_t i, g = 0;
    for (i = 1; i < n && kinagg_hash_key_compare(&hk[i], &hk[0]) == 0; i++) {}
    if (i >= n) return 1;
    while (g < map_hist_len) {
        for (; map_hist[g] != ~0u; g++) {
            const shard *s = &shards[map_hist[g]];
            size_t k;
            for (k = 0; k < n && kinagg_hash_key_in_range(&hk[k], &s->start, &s->end); k++) {}
            if (k == n) return 1;
        }
        g++;
    }
    return 0;
}

static kinagg_hash_key *hks;
static size_t hks_cap;
static uint32_t idx_scratch[1 << 16];

/* Reads one entry's user records: their ids into store_ids (from at), and
 * checks the aggregate. Returns the count. */
static size_t entry_records(const entry *e, int *aggregated, int *clean, unsigned shard_idx) {
    kinagg_deagg it;
    kinagg_user_record u;
    size_t n = 0, k;
    kinagg_deagg_init(&it, e->data, e->data_len);
    kinagg_deagg_set_index(&it, idx_scratch, sizeof idx_scratch / sizeof idx_scratch[0]);
    *aggregated = kinagg_deagg_is_aggregated(&it);
    EXPECT(*aggregated || !(e->pk_len == 1 && e->pk[0] == 'a' && e->data_len > 4 &&
                            (unsigned char)e->data[0] == 0xF3),
           "an entry with key \"a\" and the magic that does not decode as an aggregate");
    if (*aggregated)
        EXPECT(e->ehk_len > 0 && e->pk_len == 1 && e->pk[0] == 'a', "an aggregate without its outer keys");
    while (kinagg_deagg_next(&it, &u)) {
        int ok;
        unsigned id = id_of_data(u.data, u.data_len, &ok);
        if (n + 1 > hks_cap) { hks_cap = 2 * hks_cap + 64; hks = (kinagg_hash_key *)xrealloc(hks, hks_cap * sizeof *hks); }
        if (u.explicit_hash_key) {
            EXPECT(kinagg_hash_key_parse(u.explicit_hash_key, u.explicit_hash_key_len, &hks[n]) == KINAGG_OK,
                   "a bad explicit hash key inside an aggregate");
        } else if (u.partition_key) {
            kinagg_hash_key_of_partition_key(u.partition_key, u.partition_key_len, &hks[n]);
        } else if (e->ehk_len) {
            kinagg_hash_key_parse(e->ehk, e->ehk_len, &hks[n]);
        } else {
            kinagg_hash_key_of_partition_key(e->pk, e->pk_len, &hks[n]);
        }
        EXPECT(ok && id < nrecs_put, "a user record without a known id");
        if (ok && id < nrecs_put) {
            const key *kk = &keys[recs[id].key];
            EXPECT(kinagg_hash_key_compare(&hks[n], &kk->hk) == 0, "record %u arrived with another hash key", id);
            if (u.partition_key)
                EXPECT(u.partition_key_len == kk->pk_len && memcmp(u.partition_key, kk->pk, kk->pk_len) == 0,
                       "record %u arrived with another partition key", id);
            else
                EXPECT(e->pk_len == kk->pk_len && memcmp(e->pk, kk->pk, kk->pk_len) == 0,
                       "record %u arrived with another partition key", id);
        }
        if (nstore_ids + 1 > store_ids_cap) {
            store_ids_cap = 2 * store_ids_cap + 1024;
            store_ids = (uint32_t *)xrealloc(store_ids, store_ids_cap * sizeof *store_ids);
        }
        store_ids[nstore_ids++] = ok ? id : ~0u;
        n++;
    }
    *clean = 1;
    for (k = 0; k < n; k++)
        if (!kinagg_hash_key_in_range(&hks[k], &shards[shard_idx].start, &shards[shard_idx].end)) *clean = 0;
    if (*aggregated) EXPECT(pure_somewhere(hks, n), "an aggregate of %lu records that fits no shard of any map served",
                            (unsigned long)n);
    return n;
}

static int in_producer_map(const char *sid) {
    size_t i;
    for (i = 0; i < prod.nshards; i++)
        if (!strncmp(prod.shards[i].id, sid, sizeof prod.shards[i].id)) return 1;
    return 0;
}

static void mark_may_fail(size_t first_id, size_t n) {
    size_t k;
    for (k = 0; k < n; k++)
        if (store_ids[first_id + k] != ~0u) recs[store_ids[first_id + k]].may_fail = 1;
}
static void mark_must_fail(peer *pe, size_t first_id, size_t n) {
    size_t k;
    mark_may_fail(first_id, n);
    for (k = 0; k < n; k++)
        if (store_ids[first_id + k] != ~0u && pe->nrefused < sizeof pe->refused / sizeof pe->refused[0])
            pe->refused[pe->nrefused++] = store_ids[first_id + k];
}

static void put_records(peer *pe, const char *body, size_t len, int refuse_token) {
    jr j;
    size_t n = 0, i, failed = 0, ids_at = nstore_ids;
    char name[32];
    int whole = 0, store_it, unreadable = 0;
    j.p = body; j.end = body + len; j.bad = 0;
    if (!j_eat(&j, '{')) { fail("PutRecords body is not an object"); return; }
    datas_cap = len + 16;
    datas = (char *)xrealloc(datas, datas_cap);
    {
        size_t used = 0;
        do {
            size_t kl = j_string(&j, name, sizeof name);
            if (!j_eat(&j, ':')) j.bad = 1;
            if (j.bad) break;
            if (kl == 7 && memcmp(name, "Records", 7) == 0) {
                if (!j_eat(&j, '[')) { j.bad = 1; break; }
                if (j_eat(&j, ']')) break;
                do {
                    entry *e;
                    if (n + 1 > ents_cap) { ents_cap = 2 * ents_cap + 16; ents = (entry *)xrealloc(ents, ents_cap * sizeof *ents); }
                    e = &ents[n++];
                    e->pk_len = e->ehk_len = e->data_len = 0;
                    e->data = datas + used;
                    if (!j_eat(&j, '{')) { j.bad = 1; break; }
                    do {
                        size_t fl = j_string(&j, name, sizeof name);
                        if (!j_eat(&j, ':') || j.bad) { j.bad = 1; break; }
                        if (fl == 4 && memcmp(name, "Data", 4) == 0) {
                            long d;
                            e->data_len = j_string(&j, e->data, datas_cap - used);
                            d = b64_decode(e->data, e->data_len);
                            if (d < 0) { fail("Data is not base64"); j.bad = 1; break; }
                            e->data_len = (size_t)d;
                            used += e->data_len;
                        } else if (fl == 12 && memcmp(name, "PartitionKey", 12) == 0) {
                            e->pk_len = j_string(&j, e->pk, sizeof e->pk);
                        } else if (fl == 15 && memcmp(name, "ExplicitHashKey", 15) == 0) {
                            e->ehk_len = j_string(&j, e->ehk, sizeof e->ehk);
                        } else {
                            fail("an unknown entry member");
                            j.bad = 1;
                        }
                    } while (!j.bad && j_eat(&j, ','));
                    if (!j_eat(&j, '}')) j.bad = 1;
                } while (!j.bad && j_eat(&j, ','));
                if (!j_eat(&j, ']')) j.bad = 1;
            } else if (kl == 10 && memcmp(name, "StreamName", 10) == 0) {
                char sn[200];
                size_t l = j_string(&j, sn, sizeof sn);
                EXPECT(l == 6 && memcmp(sn, "stream", 6) == 0, "PutRecords for another stream");
            } else {
                fail("an unknown PutRecords member");
                j.bad = 1;
            }
        } while (!j.bad && j_eat(&j, ','));
    }
    if (!j.bad && !j_eat(&j, '}')) j.bad = 1;
    j_ws(&j);
    if (j.bad || j.p != j.end) { fail("PutRecords body does not parse"); answer_error(pe, 400, "SerializationException", "bad"); return; }
    EXPECT(n >= 1 && n <= 500, "PutRecords with %lu entries", (unsigned long)n);
    /* after an answer that could not be read was read whole, half as many
     * entries for at least a minute (20 s on: requests built before it
     * went out on other connections) */
    /* with one connection the next request is built after that answer was
     * read: at once half as many */
    EXPECT(cfg.connections != 1 || !cut_read_at || cut_read_n < 2 || vnow >= cut_read_at + 55000 || n <= cut_read_n / 2,
           "PutRecords with %lu entries %lu ms after an answer to %lu that could not be read was read",
           (unsigned long)n, (unsigned long)(vnow - cut_read_at), (unsigned long)cut_read_n);
    for (i = 0; i < 64 && i < ncuts; i++) {
        size_t cn = cuts[i].n;
        uint64_t at = cuts[i].at;
        EXPECT(cn < 2 || vnow < at + 20000 || vnow >= at + 55000 || n <= cn / 2,
               "PutRecords with %lu entries %lu s after an answer to %lu could not be read", (unsigned long)n,
               (unsigned long)((vnow - at) / 1000), (unsigned long)cn);
    }

    /* the whole request's fate */
    TRACE("peer %d: PutRecords of %lu entries, fault %d, refused %d\n", (int)(pe - peers), (unsigned long)n, pe->fault, refuse_token);
    if (tracing)
        for (i = 0; i < n; i++) {
            int ag, cl;
            size_t at = nstore_ids, q;
            entry_records(&ents[i], &ag, &cl, route(&keys[0].hk));
            fprintf(stderr, "         entry %lu:", (unsigned long)i);
            for (q = at; q < nstore_ids; q++) fprintf(stderr, " %u", store_ids[q]);
            fputc('\n', stderr);
            nstore_ids = at;
        }
    if (refuse_token) { answer_error(pe, 400, "ExpiredTokenException", "The security token included in the request is expired"); return; }
    if (chance(cz.http500)) whole = 500;
    else if (chance(cz.http503)) whole = 503;
    else if (chance(cz.http400_pte)) whole = 4001;
    else if (chance(cz.expired_token)) whole = 4002;
    else if (chance(cz.permanent)) whole = 4003;
    if (whole) TRACE("peer %d: whole request fails %d\n", (int)(pe - peers), whole);
    store_it = !whole && (pe->fault == F_NONE || cz.store_on_fault);
    if (pe->fault == F_NONE) {
        if (whole == 500 && chance(300)) { /* a gateway's error page, larger than the receive buffer */
            size_t k;
            say(pe, "<html><body>502 Bad Gateway ");
            for (k = 0; k < cfg.recv_buffer_size / 16 + 1; k++) say(pe, "padding-padding ");
            say(pe, "</body></html>");
            answer(pe, 502, "Bad Gateway", 0);
            return;
        }
        if (whole == 500) { answer_error(pe, 500, "InternalFailure", "internal"); return; }
        if (whole == 503) { answer_error(pe, 503, "ServiceUnavailable", "slow down"); return; }
        if (whole == 4001) { /* throttled, in the words of Kinesis or of other AWS services and gateways */
            static const struct { int status; const char *type; } throttles[] = {
                {400, "ProvisionedThroughputExceededException"}, {400, "ProvisionedThroughputExceededException"},
                {400, "ThrottlingException"}, {400, "Throttling"}, {400, "LimitExceededException"},
                {400, "RequestLimitExceeded"}, {400, "RequestThrottledException"}, {400, "RequestTimeoutException"},
                {429, "TooManyRequestsException"}, {429, ""}};
            unsigned t = rnd(sizeof throttles / sizeof throttles[0]);
            answer_error(pe, throttles[t].status, throttles[t].type, "Rate exceeded for stream");
            return;
        }
        if (whole == 4002) {
            /* with static credentials this one is for good */
            if (!cred_mode) {
                for (i = 0; i < n; i++) {
                    int ag, cl;
                    size_t at = nstore_ids, c2 = entry_records(&ents[i], &ag, &cl, route(&keys[0].hk));
                    mark_may_fail(at, c2);
                }
                nstore_ids = ids_at;
            }
            answer_error(pe, 400, "ExpiredTokenException", "The security token included in the request is expired");
            return;
        }
        if (whole == 4003) {
            for (i = 0; i < n; i++) {
                int ag, cl;
                size_t at = nstore_ids, c2 = entry_records(&ents[i], &ag, &cl, route(&keys[0].hk));
                mark_may_fail(at, c2);
            }
            nstore_ids = ids_at;
            answer_error(pe, 400, "ResourceNotFoundException", "Stream stream under account 1 not found.");
            return;
        }
    }
    /* per entry */
    say(pe, "{\"FailedRecordCount\":XXXXXX,\"Records\":[");
    for (i = 0; i < n; i++) {
        entry *e = &ents[i];
        kinagg_hash_key hk;
        unsigned s;
        int ag, cl;
        size_t at = nstore_ids, cnt;
        if (e->ehk_len) {
            EXPECT(kinagg_hash_key_parse(e->ehk, e->ehk_len, &hk) == KINAGG_OK, "a bad ExplicitHashKey");
        } else {
            kinagg_hash_key_of_partition_key(e->pk, e->pk_len, &hk);
        }
        EXPECT(e->pk_len >= 1, "an entry without a partition key");
        s = route(&hk);
        if (chance(cz.closed_store)) s = closed_holding(&hk, s);
        cnt = entry_records(e, &ag, &cl, s);
        {
            size_t q;
            for (q = at; q < nstore_ids; q++)
                EXPECT(store_ids[q] == ~0u || !recs[store_ids[q]].must_fail,
                       "record %u sent again after the peer refused it as invalid", store_ids[q]);
        }
        if (i) say(pe, ",");
        if (tracing) {
            size_t q;
            TRACE("peer %d: entry %lu shard %u fault %d store %d ids", (int)(pe - peers), (unsigned long)i, s, pe->fault, store_it);
            for (q = at; q < nstore_ids; q++) fprintf(stderr, " %u", store_ids[q]);
            fprintf(stderr, " -> seq %lu\n", (unsigned long)(store_it ? nstore + 1 : 0));
        }
        if (chance(cz.entry_pte)) {
            say(pe, "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"Rate exceeded for shard\"}");
            failed++;
            nstore_ids = at;
        } else if (chance(cz.entry_internal)) {
            say(pe, "{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"Internal service failure.\"}");
            failed++;
            nstore_ids = at;
        } else if (chance(cz.entry_invalid)) { /* as kinesis-mock refuses a record too large */
            say(pe, "{\"ErrorCode\":\"InvalidArgumentException\",\"ErrorMessage\":\"Record data size exceeds the limit\"}");
            mark_must_fail(pe, at, cnt);
            failed++;
            nstore_ids = at;
        } else if (chance(cz.entry_kms_denied)) {
            say(pe, "{\"ErrorCode\":\"KMS.AccessDeniedException\",\"ErrorMessage\":\"no key\"}");
            mark_may_fail(at, cnt);
            failed++;
            nstore_ids = at;
        } else if (!store_it) {
            nstore_ids = at;
            say(pe, "{}"); /* (the request fails: its answer is never read whole) */
            unreadable = 1;
        } else {
            char sid[32];
            stored *st;
            if (nstore + 1 > store_cap) { store_cap = 2 * store_cap + 256; store = (stored *)xrealloc(store, store_cap * sizeof *store); }
            st = &store[nstore++];
            st->shard = s;
            st->aggregated = ag;
            st->clean = cl;
            st->first = at;
            st->n = cnt;
            shard_id(s, sid);
            if (prod.map_state == KINAGG__MAP_OK && !in_producer_map(sid)) pe->owed = 1 + s;
            if (chance(100)) /* members in another order, with one the producer does not know */
                say(pe, "{\"ShardId\":\"%s\",\"Unknown\":[1,{\"a\":null}],\"SequenceNumber\":\"%020lu\"}", sid,
                    (unsigned long)nstore);
            else
                say(pe, "{\"SequenceNumber\":\"%020lu\",\"ShardId\":\"%s\"}", (unsigned long)nstore, sid);
        }
    }
    say(pe, "]}");
    {
        char num[8];
        char *x = strstr(pe->resp, "XXXXXX");
        sprintf(num, "%6lu", (unsigned long)failed);
        memcpy(x, num, 6);
    }
    if (put_cut && pe->resp_len > put_cut) { /* as kinesalite cuts CBOR answers, under a Content-Length that matches */
        TRACE("peer %d: answer of %lu bytes cut at %lu\n", (int)(pe - peers), (unsigned long)pe->resp_len, (unsigned long)put_cut);
        pe->resp_len = put_cut;
        unreadable = 1;
    }
    answer(pe, 200, "OK", 0);
    if (pe->resp_len > cfg.recv_buffer_size) unreadable = 1;
    if (unreadable) pe->nrefused = 0; /* sent again: the refusal is not read */
    if (unreadable) { /* (one with a fault may go unread: no halving to check then) */
        last_bad_at = vnow;
        low_entries = (size_t)-1;
        pe->unreadable_n = n;
    }
}

/* ---- ListShards -------------------------------------------------------------- */

static void list_shards(peer *pe, const char *body, size_t len) {
    jr j;
    char name[32], token[64];
    size_t from = 0, max = 100, i, end;
    int have_token = 0, have_stream = 0;
    j.p = body; j.end = body + len; j.bad = 0;
    if (!j_eat(&j, '{')) j.bad = 1;
    while (!j.bad) {
        size_t kl = j_string(&j, name, sizeof name);
        if (!j_eat(&j, ':')) j.bad = 1;
        if (j.bad) break;
        if (kl == 9 && memcmp(name, "NextToken", 9) == 0) {
            size_t tl = j_string(&j, token, sizeof token - 1);
            token[tl < sizeof token ? tl : sizeof token - 1] = 0;
            from = strtoul(token + 1, NULL, 10);
            have_token = 1;
        } else if (kl == 10 && memcmp(name, "MaxResults", 10) == 0) {
            j_ws(&j);
            max = strtoul(j.p, NULL, 10);
            j_skip_number(&j);
        } else if (kl == 10 && memcmp(name, "StreamName", 10) == 0) {
            char sn[200];
            j_string(&j, sn, sizeof sn);
            have_stream = 1;
        } else {
            j.bad = 1;
        }
        if (!j_eat(&j, ',')) break;
    }
    if (j.bad || !j_eat(&j, '}')) { fail("ListShards body does not parse"); answer_error(pe, 400, "SerializationException", "bad"); return; }
    EXPECT(have_token != have_stream, "ListShards names %s", have_token ? "a token and the stream" : "neither token nor stream");
    if (max < 1) max = 1;
    if (have_token && chance(cz.list_fail)) { /* AWS keeps a token 300 s: the listing must start again */
        kinagg_producer_stats st;
        kinagg_producer_get_stats(&prod, &st);
        if (!expired_token_failures) expired_token_failures = st.shard_map_failures + 1;
        answer_error(pe, 400, "ExpiredNextTokenException", "The pagination token passed to the operation is expired.");
        return;
    }
    if (chance(cz.list_fail)) { answer_error(pe, chance(500) ? 500 : 503, "InternalFailure", "internal"); return; }
    if (chance(cz.list_denied)) { answer_error(pe, 400, "AccessDeniedException", "not allowed"); return; }
    if (from > cur_map_len) from = cur_map_len; /* a token from an older map: what is left of this one */
    end = from + max < cur_map_len ? from + max : cur_map_len;
    say(pe, "{\"Shards\":[");
    for (i = from; i < end; i++) {
        const shard *s = &shards[cur_map[i]];
        char sid[32], a[48], b[48];
        shard_id(cur_map[i], sid);
        kinagg_hash_key_format(&s->start, a);
        kinagg_hash_key_format(&s->end, b);
        say(pe, "%s{\"ShardId\":\"%s\",\"HashKeyRange\":{\"StartingHashKey\":\"%s\",\"EndingHashKey\":\"%s\"},"
                "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"1\"%s}}",
            i > from ? "," : "", sid, a, b, s->open ? "" : ",\"EndingSequenceNumber\":\"2\"");
    }
    say(pe, "]");
    TRACE("peer %d: ListShards page %lu..%lu of %u\n", (int)(pe - peers), (unsigned long)from, (unsigned long)end, cur_map_len);
    if (end < cur_map_len) say(pe, ",\"NextToken\":\"T%lu\"", (unsigned long)end);
    say(pe, "}");
    answer(pe, 200, "OK", 0);
}

/* ---- a request, whole ---------------------------------------------------------- */

static void peer_request(peer *pe) {
    char *head = (char *)pe->req, *body = (char *)pe->req + pe->head_len;
    const char *cred, *target;
    char akid[64];
    size_t i;
    int put, refuse = 0;
    pe->req[pe->head_len - 1] = 0;
    target = strstr(head, "X-Amz-Target: Kinesis_20131202.");
    cred = strstr(head, "Credential=");
    pe->req[pe->head_len - 1] = '\n';
    pe->requests++;
    if (!target || !cred) { fail("a request without target or credentials"); return; }
    put = strncmp(target + 31, "PutRecords", 10) == 0;
    if (!put && strncmp(target + 31, "ListShards", 10) != 0) { fail("an unexpected call"); return; }
    if (!put && (BUILD_NO_MAP || cfg_no_shard_map)) { fail("ListShards called by a producer without shard maps"); return; }
    for (i = 0; cred[11 + i] && cred[11 + i] != '/' && i + 1 < sizeof akid; i++) akid[i] = cred[11 + i];
    akid[i] = 0;
    EXPECT(i > 0, "a request signed without an access key");
    if (cred_mode) { /* is the signing key still good? */
        unsigned c;
        for (c = 0; c < ncreds && strcmp(creds[c].akid, akid) != 0; c++) {}
        if (c == ncreds) refuse = 1;
        else if (creds[c].expires && UNIX0 + vnow >= creds[c].expires) refuse = 1;
        else if (creds[c].token[0]) {
            char want[80];
            sprintf(want, "X-Amz-Security-Token: %s\r\n", creds[c].token);
            pe->req[pe->head_len - 1] = 0;
            EXPECT(strstr(head, want) != NULL, "a session token that is not the key's");
            pe->req[pe->head_len - 1] = '\n';
        }
    }
    pe->resp_len = pe->resp_pos = pe->unreadable_n = pe->nrefused = pe->owed = 0;
    pe->fault = F_NONE;
    if (chance(cz.close_before)) pe->fault = F_CLOSE_BEFORE;
    else if (chance(cz.stall)) pe->fault = F_STALL;
    else if (chance(cz.close_mid)) pe->fault = F_CLOSE_MID;
    if (put) {
        put_records(pe, body, pe->body_len, refuse);
    } else if (refuse) {
        answer_error(pe, 400, "ExpiredTokenException", "The security token included in the request is expired");
    } else {
        list_shards(pe, body, pe->body_len);
    }
    pe->answering = 1;
    if (pe->fault == F_CLOSE_MID) pe->close_at = pe->resp_len ? rnd((unsigned)pe->resp_len) : 0;
}

/* ---- the producer's side ------------------------------------------------------ */

static int in_abandon, cb_abandon, cb_reput, cb_slow;
static unsigned cb_depth;
static size_t n_abandons;

static kinagg_status do_put(void);

static void on_complete(void *ctx, const kinagg_completion *c) {
    size_t id = (size_t)(uintptr_t)c->user;
    rec *r;
    (void)ctx;
    if (id == 0 || id > nrecs_put) { fail("a completion with an unknown user pointer"); return; }
    r = &recs[id - 1];
    if (r->state != 1) { fail("record %lu completed %s", (unsigned long)(id - 1), r->state == 2 ? "twice" : "before its put"); return; }
    r->state = 2;
    r->status = c->status;
    TRACE("complete %lu: %s %.*s.%lu attempts %u\n", (unsigned long)(id - 1), kinagg_strerror(c->status),
          (int)c->sequence_number.len, c->sequence_number.ptr, (unsigned long)c->subsequence, c->attempts);
    completed++;
    buffered_bytes -= r->size;
    EXPECT(r->worn ? c->attempts == 0xffff : c->attempts <= 60000, "record %lu: attempts %u%s", (unsigned long)(id - 1),
           c->attempts, r->worn ? " after 65535 (wrapped)" : "");
    EXPECT(c->latency_ms <= vnow - r->put_at, "record %lu completed after %llu ms, put %llu ms ago",
           (unsigned long)(id - 1), (unsigned long long)c->latency_ms, (unsigned long long)(vnow - r->put_at));
    EXPECT(!r->must_fail || c->status != KINAGG_OK, "record %lu refused as invalid by the peer, then delivered",
           (unsigned long)(id - 1));
    if (c->status == KINAGG_OK) {
        unsigned s;
        uint64_t seq;
        char tmp[32];
        EXPECT(c->sequence_number.len > 0 && c->sequence_number.len < sizeof tmp, "a delivery without a sequence number");
        memcpy(tmp, c->sequence_number.ptr, c->sequence_number.len < sizeof tmp ? c->sequence_number.len : 0);
        tmp[c->sequence_number.len < sizeof tmp ? c->sequence_number.len : 0] = 0;
        seq = strtoull(tmp, NULL, 10);
        r->seq = seq;
        r->sub = c->subsequence;
        if (seq == 0 || seq > nstore) { fail("record %lu delivered with a sequence number never given", (unsigned long)(id - 1)); return; }
        {
            const stored *st = &store[seq - 1];
            EXPECT(parse_shard_id(c->shard_id.ptr, c->shard_id.len, &s) && s == st->shard,
                   "record %lu delivered with another shard", (unsigned long)(id - 1));
            EXPECT(c->aggregated == st->aggregated, "record %lu: aggregated %d, the entry says %d", (unsigned long)(id - 1),
                   c->aggregated, st->aggregated);
            EXPECT(c->subsequence < st->n && store_ids[st->first + c->subsequence] == id - 1,
                   "record %lu is not at its subsequence %lu in its entry", (unsigned long)(id - 1),
                   (unsigned long)c->subsequence);
            EXPECT(st->clean, "record %lu delivered in an aggregate that holds records of other shards (the KCL drops it)",
                   (unsigned long)(id - 1));
        }
    } else if (c->status == KINAGG_ERR_EXPIRED) {
        EXPECT(cfg.record_ttl_ms && c->latency_ms >= cfg.record_ttl_ms, "record %lu expired after %lu ms (ttl %u)",
               (unsigned long)(id - 1), (unsigned long)c->latency_ms, cfg.record_ttl_ms);
    } else if (c->status == KINAGG_ERR_ABANDONED) {
        EXPECT(in_abandon, "record %lu abandoned outside abandon", (unsigned long)(id - 1));
    } else {
        EXPECT(r->may_fail, "record %lu failed with %s (%.*s) without a permanent error from the peer",
               (unsigned long)(id - 1), kinagg_strerror(c->status), (int)c->error_code.len, c->error_code.ptr);
    }
    /* callbacks that take time (the clock moves on within a poll), put
     * again, or give everything up */
    if (cb_slow) vnow += rnd(cb_slow + 1);
    if (cb_reput && chance(cb_reput) && cb_depth < 3) {
        cb_depth++;
        if (do_put() == KINAGG_OK) reputs++;
        cb_depth--;
    }
    if (cb_abandon && in_abandon && chance(cb_abandon * 100)) { /* again, from a callback of abandon */
        static int nested;
        size_t n;
        nested++;
        EXPECT(nested == 1, "abandon nested %d deep in its own callbacks (the stack grows with the buffer)", nested);
        n = kinagg_producer_abandon(&prod);
        EXPECT(n == 0, "abandon from a callback of abandon gave up %lu records (the first call completes them)",
               (unsigned long)n);
        nested--;
    }
    if (cb_abandon && chance(cb_abandon) && !in_abandon) {
        expired_token_failures = 0; /* a listing dropped unread counts no failure */
        in_abandon++;
        TRACE("abandon from a callback\n");
        kinagg_producer_abandon(&prod);
        in_abandon--;
        n_abandons++;
    }
}

static char databuf[1 << 17];

static kinagg_status do_put(void) {
    unsigned k = rnd(nkeys);
    size_t max = cfg.max_record_size - keys[k].pk_len, len;
    kinagg_status st;
    if (nrecs_put >= MAXREC) return KINAGG_ERR_FULL;
    if (chance(30)) len = max; /* as large as it may be */
    else if (chance(100)) len = 12 + rnd((unsigned)(max - 12 + 1));
    else len = 12 + rnd(max - 12 < 300 ? (unsigned)(max - 12 + 1) : 300);
    if (len > sizeof databuf) len = sizeof databuf;
    if (len < 12) len = 12;
    sprintf(databuf, "ID%08x|", nrecs_put);
    memset(databuf + 11, 'a' + (int)(nrecs_put % 26), len - 11);
    st = kinagg_producer_put(&prod, keys[k].pk, keys[k].pk_len, keys[k].ehk_len ? keys[k].ehk : NULL, keys[k].ehk_len,
                             databuf, len, (void *)(uintptr_t)(nrecs_put + 1));
    if (st == KINAGG_OK) {
        rec *r = &recs[nrecs_put++];
        memset(r, 0, sizeof *r);
        r->state = 1;
        r->key = k;
        r->put_at = vnow;
        r->size = keys[k].pk_len + keys[k].ehk_len + len;
        if (chance(5)) { /* as if retried for days: the count must hold, not wrap to 0 */
            prod.recs[(prod.rec_head + prod.nrecs - 1) % prod.nrecs].attempts = 0xffff;
            r->worn = 1;
        }
        {
            kinagg_producer_stats ps;
            kinagg_producer_get_stats(&prod, &ps);
            r->mapped = cfg.no_shard_map || BUILD_NO_MAP || ps.shard_map_loads > 0;
        }
        buffered_bytes += r->size;
        TRACE("put %u key %u\n", nrecs_put - 1, k);
    } else {
        EXPECT(st == KINAGG_ERR_FULL || (st == KINAGG_ERR_BUFFER_TOO_SMALL && len + keys[k].pk_len + keys[k].ehk_len > prod.ring_cap),
               "put of %lu bytes: %s", (unsigned long)len, kinagg_strerror(st));
    }
    return st;
}

/* ---- white-box: the producer's lists against its counts ------------------------- */

static unsigned char *seen;
static size_t seen_cap;

static void check_internals(const char *when) {
    kinagg_producer *p = &prod;
    size_t qi, ci, n, i;
    /* what route and get_stats take for granted: no map in use while none
     * is known or listing is denied (no shards then: every record is
     * unmapped), and open shards only among the loaded ones */
    if ((p->map_state == KINAGG__MAP_NONE || p->map_state == KINAGG__MAP_DENIED) && (p->nshards || p->nopen))
        fail("%s: map state %d with %lu shards loaded, %lu open", when, p->map_state, (unsigned long)p->nshards,
             (unsigned long)p->nopen);
    if (p->nopen > p->nshards) fail("%s: %lu open shards of %lu", when, (unsigned long)p->nopen, (unsigned long)p->nshards);
    if (seen_cap < p->nrecs) { seen_cap = p->nrecs; seen = (unsigned char *)xrealloc(seen, seen_cap); }
    memset(seen, 0, p->nrecs);
    for (qi = 0; qi <= p->cfg.max_shards; qi++) {
        const kinagg__pqueue *q = &p->shards[qi].q;
        uint32_t x, cnt = 0, last = KINAGG__NONE;
        size_t bytes = 0;
        int pass;
        for (pass = 0; pass < 2; pass++)
            for (x = pass ? q->fhead : q->head; x != KINAGG__NONE; x = p->recs[x].next) {
                if (x >= p->nrecs || cnt > p->nrecs) { fail("%s: queue %lu is broken", when, (unsigned long)qi); return; }
                if (seen[x]) { fail("%s: record slot %u is in two places", when, x); return; }
                seen[x] = (unsigned char)(1 + pass);
                if (p->recs[x].state != KINAGG__R_QUEUED) fail("%s: a record in a queue is not queued", when);
                if (!pass) { cnt++; bytes += p->recs[x].size; last = x; }
            }
        if (cnt != q->count || bytes != q->bytes || last != q->tail)
            fail("%s: queue %lu says %u records, %lu bytes; its list has %u, %lu", when, (unsigned long)qi, q->count,
                 (unsigned long)q->bytes, cnt, (unsigned long)bytes);
        if (qi < p->nshards || qi == p->cfg.max_shards) {
            int owner = 0;
            for (ci = 0; ci < p->cfg.connections; ci++) {
                const kinagg__pconn *c = &p->conns[ci];
                if ((c->state == KINAGG__C_BUILD || c->state == KINAGG__C_PUT || c->state == KINAGG__C_DONE) &&
                    c->map_gen == p->map_gen)
                    for (n = 0; n < c->n; n++) owner |= c->queue[n] == qi;
            }
            if (p->shards[qi].busy != owner)
                fail("%s: queue %lu %s", when, (unsigned long)qi,
                     owner ? "has a request but is not busy" : "is busy with no request (it stalls)");
        } else if (q->count || p->shards[qi].busy) {
            fail("%s: %u records in queue %lu, past the %lu shards", when, q->count, (unsigned long)qi,
                 (unsigned long)p->nshards);
        }
    }
    { /* records gathered for a queue's front wait only while a response is handled */
        int handling = 0;
        for (ci = 0; ci < p->cfg.connections; ci++) handling |= p->conns[ci].state == KINAGG__C_DONE;
        for (qi = 0; !handling && qi <= p->cfg.max_shards; qi++)
            if (p->shards[qi].q.fhead != KINAGG__NONE) fail("%s: queue %lu has records for its front, left behind", when, (unsigned long)qi);
    }
    for (ci = 0; ci < p->cfg.connections; ci++) {
        const kinagg__pconn *c = &p->conns[ci];
        size_t e0 = c->state == KINAGG__C_DONE ? c->done_e : 0;
        if (c->state == KINAGG__C_IDLE || c->state == KINAGG__C_LIST) continue;
        for (n = e0; n < c->n; n++) {
            uint32_t x, cnt = 0;
            for (x = c->first[n]; x != KINAGG__NONE && cnt < c->count[n]; x = p->recs[x].next, cnt++) {
                if (seen[x]) { fail("%s: record slot %u in a request is also elsewhere", when, x); return; }
                seen[x] = 3;
                if (p->recs[x].state != KINAGG__R_FLIGHT) fail("%s: a record in a request is not in flight", when);
            }
            if (cnt != c->count[n]) fail("%s: an entry's list is short", when);
        }
    }
    for (n = 0, i = p->rec_tail; n < p->rec_count; n++, i = (i + 1) % p->nrecs) {
        int st = p->recs[i].state;
        /* after a new map, the records the requeue walk has not reached wait
         * for it in no queue; the ones it passed are in one */
        int waiting = p->requeueing && n >= p->requeued;
        if (waiting && seen[i] && seen[i] != 3) fail("%s: record slot %lu is queued before the requeue reached it", when, (unsigned long)i);
        if (st == KINAGG__R_QUEUED && !waiting && seen[i] != 1 && seen[i] != 2) fail("%s: queued record slot %lu is in no queue (stuck)", when, (unsigned long)i);
        if (st == KINAGG__R_FLIGHT && seen[i] != 3) fail("%s: record slot %lu in flight in no request (stuck)", when, (unsigned long)i);
    }
}

static void check_stats(const char *when) {
    kinagg_producer_stats s;
    kinagg_producer_get_stats(&prod, &s);
    if (s.records_put != nrecs_put || s.records_delivered + s.records_failed != completed ||
        s.buffered_records != nrecs_put - completed || s.buffered_bytes != buffered_bytes)
        fail("%s: stats put %lu done %lu+%lu buffered %lu (%lu bytes); the driver counts put %u done %lu (%lu bytes)",
             when, (unsigned long)s.records_put, (unsigned long)s.records_delivered, (unsigned long)s.records_failed,
             (unsigned long)s.buffered_records, (unsigned long)s.buffered_bytes, nrecs_put, (unsigned long)completed,
             (unsigned long)buffered_bytes);
    check_internals(when);
}

static uint64_t poll_once(void) {
    uint64_t next = 0, start = vnow; /* (slow callbacks move the clock on during the poll) */
    kinagg_status st = kinagg_producer_poll(&prod, &next);
    if (tracing) { /* the map's state, as it changes */
        static int was_state = -1, was_wanted;
        static size_t was_n;
        if (prod.map_state != was_state || prod.nshards != was_n || prod.map_wanted != was_wanted)
            TRACE("map: state %d, %lu shards, wanted %d, retry at %lu, %lu failures\n", prod.map_state,
                  (unsigned long)prod.nshards, prod.map_wanted, (unsigned long)prod.map_retry_ms,
                  (unsigned long)prod.stats.shard_map_failures);
        was_state = prod.map_state, was_n = prod.nshards, was_wanted = prod.map_wanted;
    }
    EXPECT(st == KINAGG_OK, "poll: %s", kinagg_strerror(st));
    EXPECT(next >= start, "next_ms %lu is in the past (the poll began at %lu)", (unsigned long)next, (unsigned long)start);
    /* entries per request: halved only after a success answer cut or too
     * large (never for an error page), and whole again after one quiet
     * wait per doubling (the answer is read within the request timeout,
     * polls come at most 10 s apart) */
    EXPECT(prod.entries_max == cfg.collection_max_count || last_bad_at,
           "entries per request %lu of %u, and no success answer was unreadable", (unsigned long)prod.entries_max,
           cfg.collection_max_count);
    if (prod.entries_max < low_entries) low_entries = prod.entries_max;
    if (prod.entries_max < cfg.collection_max_count && last_bad_at) {
        uint64_t bound = 60000, e;
        for (e = low_entries; e < cfg.collection_max_count; e *= 2) bound += prod.entries_wait_ms + 11000;
        EXPECT(start < last_bad_at + bound, "entries per request still %lu of %u, %lu s after the last unreadable answer",
               (unsigned long)prod.entries_max, cfg.collection_max_count, (unsigned long)((start - last_bad_at) / 1000));
    }
    if (expired_token_failures) { /* the first map failure since: that answer, read (or its connection lost) */
        kinagg_producer_stats st;
        kinagg_producer_get_stats(&prod, &st);
        if (st.shard_map_failures >= expired_token_failures) {
            EXPECT(prod.map_state != KINAGG__MAP_DENIED && prod.map_retry_ms <= start + 30000,
                   "after ExpiredNextTokenException: map state %d, listing again in %ld ms", prod.map_state,
                   (long)(prod.map_retry_ms - start));
            expired_token_failures = 0;
        }
    }
    check_stats("after poll");
    return next;
}

/* ---- one seed ------------------------------------------------------------------ */

static void setup_keys(void) {
    unsigned i;
    nkeys = 2 + rnd(40);
    for (i = 0; i < nkeys; i++) {
        key *k = &keys[i];
        int kind = (int)rnd(10);
        if (kind == 0) { /* long, with characters JSON escapes */
            size_t l = 1 + rnd(256), j;
            for (j = 0; j < l; j++) k->pk[j] = "ab\"\\\x01\x1f/xyz"[rnd(11)];
            k->pk_len = l;
        } else if (kind == 1) { /* UTF-8 */
            k->pk_len = (size_t)sprintf(k->pk, "\xc3\xa9t\xc3\xa9-%u-\xf0\x9f\x98\x80", i);
        } else {
            k->pk_len = (size_t)sprintf(k->pk, "key-%u", i);
        }
        k->ehk_len = 0;
        if (chance(200)) { /* explicit: random, 0, the top, or a cut of the first map */
            kinagg_hash_key h = hk_random();
            int w = (int)rnd(4);
            if (w == 1) memset(h.be, 0, 16);
            if (w == 2) h = hk_max();
            if (w == 3) { const shard *s = &shards[cur_map[rnd(cur_map_len)]]; h = chance(500) ? s->start : s->end; }
            k->ehk_len = kinagg_hash_key_format(&h, k->ehk);
            k->hk = h;
        } else {
            kinagg_hash_key_of_partition_key(k->pk, k->pk_len, &k->hk);
        }
    }
}

static void setup_chaos(unsigned level) {
    memset(&cz, 0, sizeof cz);
    if (level == 0) return;
    cz.again = 50 + rnd(300);
    cz.connect_fail = rnd(level * 15);
    cz.close_before = rnd(level * 15);
    cz.stall = rnd(level * 8);
    cz.close_mid = rnd(level * 15);
    cz.idle_drop = rnd(level * 10);
    cz.http500 = rnd(level * 20);
    cz.http503 = rnd(level * 20);
    cz.http400_pte = rnd(level * 10);
    cz.expired_token = rnd(level * 10);
    cz.permanent = chance(300) ? rnd(level * 3) : 0;
    cz.entry_pte = rnd(level * 40);
    cz.entry_internal = rnd(level * 20);
    cz.entry_kms_denied = chance(300) ? rnd(level * 3) : 0;
    cz.entry_invalid = chance(300) ? rnd(level * 3) : 0;
    cz.list_fail = rnd(level * 30);
    cz.list_denied = chance(200) ? rnd(level * 10) : 0;
    cz.reshard = rnd(level * 3);
    cz.store_on_fault = chance(500);
    cz.closed_store = chance(300) ? rnd(1000) : 0;
    if (order_mode) { /* nothing that the docs let reorder once a map is known */
        cz.entry_pte = cz.entry_internal = cz.entry_kms_denied = cz.entry_invalid = cz.closed_store = 0;
        cz.list_denied = cz.reshard = 0;
    }
}

static void dump_state(void) {
    kinagg_producer *p = &prod;
    size_t ci, q;
    fprintf(stderr, "  now %lu, map state %d (%lu shards, gen %u), creds %d, put %u, completed %lu\n",
            (unsigned long)vnow, p->map_state, (unsigned long)p->nshards, p->map_gen, p->have_credentials, nrecs_put,
            (unsigned long)completed);
    for (ci = 0; ci < p->cfg.connections; ci++)
        fprintf(stderr, "  conn %lu: state %d, n %lu, done_e %lu, preparing %d, http state %d\n", (unsigned long)ci,
                p->conns[ci].state, (unsigned long)p->conns[ci].n, (unsigned long)p->conns[ci].done_e,
                p->conns[ci].k.preparing, p->conns[ci].k.http.state);
    for (q = 0; q <= p->cfg.max_shards; q++)
        if (p->shards[q].q.count || p->shards[q].busy)
            fprintf(stderr, "  queue %lu: %u records, busy %d\n", (unsigned long)q, p->shards[q].q.count, p->shards[q].busy);
    fprintf(stderr, "  last error: %s\n", kinagg_producer_last_error(p));
}

static int run_seed(unsigned long long seed) {
    kinagg_transport tps[MAXCONN];
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    unsigned char *region;
    size_t need, region_size, i, steps, step;
    unsigned level;
    kinagg_status st;
    uint64_t next = 0;

    cur_seed = seed;
    snprintf(hung_msg, sizeof hung_msg, "seed %llu: hung for 30 s\n", seed);
    alarm(30);
    check_rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    seed_failures = 0;
    vnow = 1000;
    nshards_all = cur_map_len = map_gen = 0;
    map_hist_len = 0;
    nstore = nstore_ids = 0;
    nrecs_put = 0;
    owed_shard = 0;
    owed_map_gen = 0;
    completed = buffered_bytes = reputs = n_abandons = 0;
    last_bad_at = 0;
    low_entries = (size_t)-1;
    expired_token_failures = 0;
    ncuts = 0;
    cut_read_at = 0;
    cut_read_n = 0;
    ncreds = 0;
    cred_calls = cred_needless = cred_pending = 0;
    in_abandon = 0;
    new_map(1 + rnd(4));
    setup_keys();
    order_mode = chance(333);
    level = chance(100) ? 0 : 1 + rnd(10);
    setup_chaos(level);

    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c("stream");
    cfg.connections = 1 + rnd(MAXCONN);
    if (cfg.connections > KINAGG_PRODUCER_MAX_CONNECTIONS) cfg.connections = KINAGG_PRODUCER_MAX_CONNECTIONS;
    cfg.poll_work_bytes = chance(150) ? 0 : chance(150) ? 1 : chance(300) ? 1 + rnd(2000) : 1 + rnd(100000);
    cfg.max_record_size = chance(500) ? 400 + rnd(4000) : 1024 + rnd(60000);
    cfg.aggregation_max_size = 64 + rnd((unsigned)(cfg.max_record_size - 64 + 1));
    cfg.collection_max_count = chance(300) ? 1 + rnd(4) : chance(500) ? 1 + rnd(60) : 500;
    cfg.collection_max_size = cfg.max_record_size + rnd(chance(500) ? 4 * (unsigned)cfg.max_record_size : 300000);
    cfg.aggregation = chance(150) ? KINAGG_AGGREGATE_NONE : KINAGG_AGGREGATE_BY_SHARD;
    cfg.unmapped = chance(300) ? KINAGG_UNMAPPED_RAW : KINAGG_UNMAPPED_SAME_KEY;
    cfg.no_shard_map = chance(150);
    cfg_no_shard_map = cfg.no_shard_map;
    cfg.max_buffered_ms = rnd(300);
    cfg.record_ttl_ms = chance(400) ? 0 : 300 + rnd(30000);
    cfg.rate_limit_percent = chance(200) ? 1 + rnd(50) : 50 + rnd(300);
    cfg.min_backoff_ms = 1 + rnd(200);
    cfg.max_backoff_ms = cfg.min_backoff_ms + rnd(3000);
    cfg.request_timeout_ms = 200 + rnd(6000);
    cfg.max_shards = chance(200) ? 1 + rnd(8) : 64;
    cfg.send_buffer_size = 2048 + rnd(30000);
    cfg.recv_buffer_size = 128u * 1024u;
    /* answers cut short, as kinesalite cuts CBOR answers: the records go
     * again (with no time to live, only delivery completes them), in
     * smaller requests */
    put_cut = chance(cfg.aggregation == KINAGG_AGGREGATE_NONE ? 500 : 100) ? 1500 + rnd(6000) : 0;
    if (put_cut) cfg.record_ttl_ms = 0;
    /* a small receive buffer: ListShards in pages of 4-8 shards */
    if (cfg.collection_max_count <= 4 && chance(500)) cfg.recv_buffer_size = 4096 + rnd(4096);
    cfg.max_records = chance(300) ? 1 + rnd(200) : 0;
    cfg.record_buffer_size = chance(300) ? cfg.max_record_size + 39 + rnd(200000) : 0;
    cfg.request_buffer_size = chance(300) ? cfg.aggregation_max_size + rnd(100000) : 0;
    cfg.on_complete = on_complete;
    cred_mode = chance(400);
    cred_failing = chance(500);
    cred_refresh_ms = 100 + rnd(3000);
    cred_life_min = 200 + rnd(3000);
    cred_life_span = 1 + rnd(30000);
#ifdef KINAGG_NO_CREDENTIALS_SOURCE
    cred_mode = 0; /* the build has no credentials source (init would refuse one) */
#endif
    if (cred_mode) {
        cfg.credentials_source.get = cred_get;
        cfg.credentials_refresh_ms = cred_refresh_ms;
    }
    cb_reput = chance(400) ? rnd(300) : 0;
    cb_abandon = chance(150) ? 1 + rnd(3) : 0;
    cb_slow = chance(300) ? 1 + rnd(3) : 0;
    if (strstr(skip, "cbabandon")) cb_abandon = 0;

    memset(&tps, 0, sizeof tps);
    for (i = 0; i < MAXCONN; i++) {
        peer *pe = &peers[i];
        pe->req_cap = cfg.collection_max_size * 2 + 500 * 2000 + 65536;
        pe->req = (unsigned char *)xrealloc(pe->req, pe->req_cap);
        if (!pe->resp) { pe->resp_cap = 65536; pe->resp = (char *)xrealloc(NULL, pe->resp_cap); }
        pe->connected = pe->dropped = pe->connect_wait = 0;
        pe->requests = 0;
        peer_reset(pe);
        tps[i].ctx = pe;
        tps[i].connect = t_connect;
        tps[i].send = t_send;
        tps[i].recv = t_recv;
        tps[i].close = t_close;
    }
    memset(&pf, 0, sizeof pf);
    pf.now_ms = pf_now;
    pf.unix_ms = pf_unix;
    pf.random = pf_random;
    pf.sleep_ms = pf_sleep;
    kinagg_endpoint_from_url(&ep, kinagg_str_c("http://kinesis.test:4567"));
    cr.access_key_id = kinagg_str_c("AKIDSTATIC");
    cr.secret_access_key = kinagg_str_c("secret");
    cr.session_token = kinagg_str_c("");

    need = kinagg_producer_region_size(&cfg);
    if (!need) { fail("region_size refuses the configuration"); return 0; }
    region_size = cfg.record_buffer_size || chance(500) ? need : need + rnd(400000);
    region = (unsigned char *)malloc(region_size);
    if (!region) return 0;
    st = kinagg_producer_init(&prod, region, region_size, &cfg, &ep, kinagg_str_c("us-east-1"),
                              cred_mode && chance(500) ? NULL : &cr, KINAGG_PROTOCOL_JSON, tps, &pf);
    if (st != KINAGG_OK) { fail("init: %s", kinagg_strerror(st)); free(region); return 0; }
    if (verbose)
        fprintf(stderr, "seed %llu: conns %u work %lu rec %lu agg %lu count %lu size %lu aggr %d unmapped %d nomap %d "
                        "ttl %u rate %u creds %d order %d chaos %u cb_abandon %d\n",
                seed, cfg.connections, (unsigned long)cfg.poll_work_bytes, (unsigned long)cfg.max_record_size,
                (unsigned long)cfg.aggregation_max_size, (unsigned long)cfg.collection_max_count,
                (unsigned long)cfg.collection_max_size, cfg.aggregation, cfg.unmapped, cfg.no_shard_map,
                cfg.record_ttl_ms, cfg.rate_limit_percent, cred_mode, order_mode, level, cb_abandon);

    /* the run: random calls */
    steps = 300 + rnd(1500);
    for (step = 0; step < steps && seed_failures == 0; step++) {
        unsigned a = rnd(1000);
        if (a < 300) {
            unsigned n = 1 + rnd(chance(100) ? 200 : 10);
            while (n-- && do_put() != KINAGG_ERR_FULL) {}
            check_stats("after put");
        } else if (a < 800) {
            next = poll_once();
            /* time: mostly what the producer asked for, sometimes more */
            if (chance(700)) vnow = next > vnow + 2000 ? vnow + 2000 : next;
            else vnow += rnd(chance(50) ? 10000 : 50);
        } else if (a < 900) {
            vnow += rnd(30);
        } else if (a < 905) {
            uint32_t t = rnd(2000);
            st = kinagg_producer_flush(&prod, t);
            EXPECT(st == KINAGG_OK || st == KINAGG_ERR_TIMEOUT, "flush: %s", kinagg_strerror(st));
            if (st == KINAGG_OK) EXPECT(nrecs_put == completed, "flush returned OK with records left");
            check_stats("after flush");
        } else if (a < 907 && !strstr(skip, "abandon")) {
            size_t before = nrecs_put - completed, n;
            expired_token_failures = 0; /* a listing dropped unread counts no failure */
            in_abandon++;
            TRACE("abandon\n");
            n = kinagg_producer_abandon(&prod);
            in_abandon--;
            n_abandons++;
            EXPECT(n == before, "abandon gave up %lu of %lu records", (unsigned long)n, (unsigned long)before);
            check_stats("after abandon");
        } else if (a < 909 && !strstr(skip, "close")) {
            TRACE("close\n");
            kinagg_producer_close(&prod);
            check_stats("after close");
        } else if (a < 911 && !cred_mode) {
            char id[32];
            kinagg_credentials c2;
            sprintf(id, "AKIDSET%u", rnd(100));
            c2.access_key_id = kinagg_str_c(id);
            c2.secret_access_key = kinagg_str_c("secret2");
            c2.session_token = kinagg_str_c(chance(500) ? "tok" : "");
            EXPECT(kinagg_producer_set_credentials(&prod, &c2) == KINAGG_OK, "set_credentials");
        } else if (a < 913 && chance(cz.reshard * 100)) {
            new_map(1 + rnd(4));
        } else if (a < 915) {
            for (i = 0; i < MAXCONN; i++)
                if (peers[i].connected && !peers[i].answering && !peers[i].req_len && chance(cz.idle_drop * 10)) peers[i].dropped = 1;
        }
    }

    /* the drain: no faults, the producer's own pace; everything completes */
    if (seed_failures == 0) {
        unsigned long polls = 0, idle = 0;
        uint64_t start = vnow;
        unsigned long bytes_before;
        size_t done_before;
        setup_chaos(0);
        cred_failing = 0;
        cred_pending = 0;
        for (i = 0; i < MAXCONN; i++) if (peers[i].fault == F_STALL) peers[i].fault = F_NONE; /* answer now */
        while (nrecs_put > completed && seed_failures == 0) {
            bytes_before = peer_bytes_in;
            done_before = completed;
            next = poll_once();
            polls++;
            if (next <= vnow && peer_bytes_in == bytes_before && completed == done_before) idle++;
            else idle = 0;
            if (idle >= 5000) {
                fail("5000 polls in a row asked to come back at once and did nothing");
                dump_state();
                break;
            }
            vnow = next > vnow + 1000 ? vnow + 1000 : next > vnow ? next : vnow;
            if (vnow - start > 900000 || polls > 2000000) {
                fail("not drained after %lu s and %lu polls: %lu of %u records left", (unsigned long)((vnow - start) / 1000),
                     polls, (unsigned long)(nrecs_put - completed), nrecs_put);
                dump_state();
                break;
            }
        }
    }
    /* a passing fault is forgotten: with the faults over, entries per
     * request grow back to whole within poll_once's bound, with no traffic */
    while (seed_failures == 0 && last_bad_at && prod.entries_max < cfg.collection_max_count) {
        vnow += 10000;
        (void)poll_once();
    }
    /* an answer named a shard the map has not (resharding): the shards
     * are listed again, whether the entry was an aggregate or a lone record
     * (the rate limits follow the shards) */
    if (seed_failures == 0 && owed_shard && prod.map_state == KINAGG__MAP_OK) {
        char sid[32];
        shard_id(owed_shard - 1, sid);
        /* (after failed listings the next waits up to 30 s: the backoff) */
        for (i = 0; i < 30 && !in_producer_map(sid); i++) {
            vnow += 1500;
            (void)poll_once();
        }
        /* (later reshardings may have aged it out of the listing: then a
         * map loaded since is what is owed) */
        EXPECT(in_producer_map(sid) || prod.map_state != KINAGG__MAP_OK ||
                   (!in_listing(owed_shard - 1) && prod.map_gen != owed_map_gen),
               "%s named in an answer, never listed: the map has %lu shards", sid, (unsigned long)prod.nshards);
    }
    if (seed_failures == 0) {
        size_t n;
        in_abandon++;
        n = kinagg_producer_abandon(&prod);
        in_abandon--;
        EXPECT(n == 0, "abandon after the drain found %lu records", (unsigned long)n);
        for (i = 0; i < nrecs_put; i++) EXPECT(recs[i].state == 2, "record %lu never completed", (unsigned long)i);
        EXPECT(cred_needless == 0, "%d of %d calls of the credentials source were needless", cred_needless, cred_calls);
    }
    /* order: each key's delivered records in put order */
    if (order_mode && seed_failures == 0) {
        uint64_t last[64], last_sub[64];
        memset(last, 0, sizeof last);
        memset(last_sub, 0, sizeof last_sub);
        for (i = 0; i < nrecs_put; i++) {
            const rec *r = &recs[i];
            if (r->status != KINAGG_OK || !r->mapped) continue;
            EXPECT(r->seq > last[r->key] || (r->seq == last[r->key] && r->sub > last_sub[r->key]),
                   "key %u: record %lu delivered as %lu.%lu, after a record put before it (%lu.%lu)", r->key,
                   (unsigned long)i, (unsigned long)r->seq, (unsigned long)r->sub, (unsigned long)last[r->key],
                   (unsigned long)last_sub[r->key]);
            last[r->key] = r->seq;
            last_sub[r->key] = r->sub;
        }
    }
    kinagg_producer_close(&prod);
    free(region);
    if (verbose || seed_failures)
        fprintf(stderr, "seed %llu: %s: %u records (%lu put from callbacks), %lu entries stored, %lu abandons, %d credential calls\n",
                seed, seed_failures ? "FAILED" : "ok", nrecs_put, (unsigned long)reputs, (unsigned long)nstore,
                (unsigned long)n_abandons, cred_calls);
    if (seed_failures) fprintf(stderr, "seed %llu: rerun with: producer_model --seed %llu -v\n", seed, seed);
    return seed_failures == 0;
}

/* Each seed in a child process: a crash or a hang fails that seed only. */
static int run_isolated(unsigned long long seed) {
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0) return run_seed(seed);
    if (pid == 0) _exit(run_seed(seed) ? 0 : 1);
    if (waitpid(pid, &status, 0) != pid) return 0;
    if (WIFSIGNALED(status)) fprintf(stderr, "seed %llu: killed by signal %d\n", seed, WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
    unsigned long long from = 1, one = 0;
    unsigned long seeds = 100, i;
    int have_one = 0, passed = 0, failed = 0;
    signal(SIGALRM, on_alarm);
    for (i = 1; i < (unsigned long)argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < (unsigned long)argc) seeds = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--from") && i + 1 < (unsigned long)argc) from = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < (unsigned long)argc) { one = strtoull(argv[++i], NULL, 10); have_one = 1; }
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (!strcmp(argv[i], "-t")) tracing = verbose = 1;
        else if (!strcmp(argv[i], "--skip") && i + 1 < (unsigned long)argc) skip = argv[++i];
        else { fprintf(stderr, "usage: %s [--seeds N] [--from S] [--seed S] [-v]\n", argv[0]); return 2; }
    }
    if (have_one) {
        if (run_seed(one)) passed++; else failed++;
    } else {
        for (i = 0; i < sizeof regression_seeds / sizeof regression_seeds[0]; i++) {
            if (!regression_seeds[i]) continue;
            if (run_isolated(regression_seeds[i])) passed++; else failed++;
        }
        for (i = 0; i < seeds; i++) {
            if (run_isolated(from + i)) passed++; else failed++;
        }
    }
    printf("producer-model: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
