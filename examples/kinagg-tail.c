/* kinagg-tail: print the user records of a Kinesis stream, deaggregated.
 *
 *   kinagg-tail --stream logs --from latest --follow --grep ' 500 '
 *
 * Reads every shard (or the ones picked), parents before children, so the
 * records of a key come out in order across a resharding; exits once caught
 * up unless following. A follower rides out outages: failed calls are tried
 * again with backoff, an expired iterator is replaced after the last record
 * printed, and an answer too large for the receive buffer is asked again
 * with a smaller Limit. With --checkpoint it saves, after printing, where
 * each shard stands, and starts from there next time. */
/* 64-bit file offsets on 32-bit targets (an ARM gateway): input files and
 * --failed past 2 GiB (without it, open and stat fail with EOVERFLOW) */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#define KINAGG_IMPLEMENTATION
#include "../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../port/kinagg_posix.h"
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../port/kinagg_mbedtls.h"
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../port/kinagg_aws_config.h"
#include "tool_common.h"
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

typedef char tool_large_files[sizeof(off_t) >= 8 ? 1 : -1]; /* _FILE_OFFSET_BITS took */

static const char usage[] =
    "usage: kinagg-tail --stream NAME [options]\n"
    "Prints the user records of a Kinesis stream, one per line, unpacking KPL\n"
    "aggregates. Reads every shard, parents before children.\n\n"
    "The stream and the connection:\n" TOOL_COMMON_HELP
    "\nWhat to read and how to print it:\n"
    "  --from WHERE           where to start: trim_horizon (or trim; the default),\n"
    "                         latest, or timestamp:TIME with TIME in ISO 8601 (any\n"
    "                         case; LATEST, TRIM_HORIZON, AT_TIMESTAMP:TIME too)\n"
    "                         (2024-05-01T12:00:00.250Z, +02:00 offsets; UTC if none)\n"
    "                         or in seconds since the epoch\n"
    "  --shard ID             only this shard; repeat for more (children not followed)\n"
    "  --follow               keep reading new records (else exit once caught up)\n"
    "  --grep PATTERN         only records whose data matches the extended regular\n"
    "                         expression (a NUL byte in the data matches as a newline)\n"
    "  --output raw|json      raw (the default): the data, one record per line;\n"
    "                         json: one object per record with shard, sequence_number,\n"
    "                         subsequence, aggregated, partition_key, explicit_hash_key,\n"
    "                         arrival_time, data and data_encoding (utf-8, or base64\n"
    "                         when the data is not valid UTF-8)\n"
    "  --with-key             raw output as SHARD<TAB>PARTITION-KEY<TAB>DATA\n"
    "  --checkpoint FILE      after printing, save each shard's last record (sequence\n"
    "                         number and place in its aggregate) in FILE, replaced\n"
    "                         atomically; start after them when FILE exists\n"
    "  --buffer-mb N          receive buffer for one GetRecords answer, MiB, 1-1024\n"
    "                         (default 16: the largest answer Kinesis gives)\n"
    "  --cli-read-timeout S   seconds to wait for a whole answer, 1-3600 (default 30)\n"
    "  --cli-connect-timeout S  seconds to look the endpoint up and connect (TCP and\n"
    "                         TLS), 1-3600 (default 5; a satellite or 2G link needs more)\n\n";
static const char usage_more[] =
    "Failed calls (connection errors, 5xx, throttling) are tried again with\n"
    "backoff, for ever with --follow, else for 60 s; an expired iterator is taken\n"
    "again after the last record printed; an answer larger than the receive\n"
    "buffer is asked again with a smaller Limit. Errors go to stderr as they\n"
    "happen; repeats are counted. SIGINT, SIGTERM and SIGHUP stop it after the\n"
    "record being printed, with the checkpoint saved; a second signal at once.\n\n"
    "Exit status: 0 when the stream was read (or it was stopped by a signal, or\n"
    "its output was closed); 1 when the stream is gone (ResourceNotFoundException),\n"
    "access is refused, a call kept failing without --follow, a shard picked does\n"
    "not exist, a record is larger than the receive buffer, or the checkpoint\n"
    "cannot be saved; 2 for a usage or setup error.\n";

#define MAX_SHARDS 4096 /* listed, open and closed: a resharded stream lists its closed shards for its retention */
#define SEQ_CAP 132  /* 0|[1-9][0-9]{0,128} */
#define ITER_CAP 1024
#define MAX_LIMIT 10000 /* records per GetRecords */
#define READ_BYTES_PER_S (2u << 20) /* a shard's read limit */
#define GIVE_UP_MS 60000 /* without --follow */
enum { S_NEW, S_READING, S_DONE };
enum { FROM_TRIM, FROM_LATEST, FROM_TIMESTAMP };
enum { ACT_RETRY, ACT_NEW_ITERATOR, ACT_SMALLER, ACT_FATAL };

typedef struct tshard {
    kinagg_shard info;
    int listed;               /* in the latest ListShards answer */
    int later;                /* first listed after the start: made by a resharding */
    int state;
    int followed;             /* read in this run, or in the checkpoint */
    int has_pos;              /* seq is the last record read */
    char seq[SEQ_CAP];
    long sub;                 /* last user record printed of seq's aggregate, -1: all */
    int end;                  /* read to its end */
    char skip_seq[SEQ_CAP];   /* resuming inside this aggregate: */
    long skip_sub;            /* its user records up to here are printed */
    const char *start_type;   /* how its first iterator is taken, */
    char start_arg[SEQ_CAP];  /* and again when it expires before a record */
    uint64_t latest_ms;       /* started at LATEST, no record read yet: the service's time
                               * then (unix ms), where a restart or a new iterator goes on */
    char iter[ITER_CAP];
    size_t limit;
    uint64_t next_call_ms;
    unsigned fails;
    int caught_up;
    unsigned closed_quiet;    /* closed, and answers with nothing, caught up, in a row */
} tshard;

static tshard shards[MAX_SHARDS];
static size_t nshards;
static kinagg_shard fresh[MAX_SHARDS];
static kinagg_kinesis k;
static kinagg_credentials cred; /* k keeps a pointer to it; refreshed in place */
static kinagg_platform pf;
static tool_opts o;
static unsigned char sbuf[16384];
static kinagg_record recs[MAX_LIMIT];
static regex_t re;
static int grep, with_key, json, follow, from = FROM_TRIM;
static char from_ms[24];
static const char *only[MAX_SHARDS];
static size_t nonly;
static unsigned long long printed; /* (64-bit on 32-bit targets too: --follow runs for months) */
static char *line;             /* --grep: the data, NUL-terminated */
static volatile sig_atomic_t stop_signal;

/* ---- output: buffered, written out at commits ---------------------------- */

static unsigned char *obuf;
static size_t olen, ocap;
static const char *ckpt_path;
static char ckpt_tmp[4096];
static int ckpt_dirty;

static void finish_quietly(void) { /* the reader went away: nothing more to do */
    if (ckpt_path) unlink(ckpt_tmp);
    kinagg_http_close(&k.http);
    exit(0);
}

static void write_all(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    while (n) {
        ssize_t w = write(1, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EPIPE) finish_quietly();
        if (w < 0) {
            fprintf(stderr, "kinagg-tail: writing the output: %s\n", strerror(errno));
            exit(1);
        }
        b += w;
        n -= (size_t)w;
    }
}

static void out(const void *p, size_t n) {
    if (olen + n > ocap) { /* only a record larger than half the buffer gets here */
        write_all(obuf, olen);
        olen = 0;
        if (n > ocap) { write_all(p, n); return; }
    }
    memcpy(obuf + olen, p, n);
    olen += n;
}
static void out_s(const char *s) { out(s, strlen(s)); }

/* ---- the checkpoint ------------------------------------------------------ */
/* A text file:
 *   kinagg-tail checkpoint 1
 *   stream NAME-OR-ARN
 *   SHARD-ID SEQUENCE-NUMBER -      the record and all of its aggregate printed
 *   SHARD-ID SEQUENCE-NUMBER 4      its user records 0..4 printed
 *   SHARD-ID end                    read to the end of the closed shard      */

static tshard *shard_find(const char *id) {
    size_t i;
    for (i = 0; i < nshards; i++)
        if (!strcmp(shards[i].info.shard_id, id)) return &shards[i];
    return NULL;
}

static tshard *shard_add(const char *id) {
    tshard *s;
    if (nshards == MAX_SHARDS) { /* room: forget shards gone from the listing */
        size_t i, j = 0;
        for (i = 0; i < nshards; i++)
            if (shards[i].listed) shards[j++] = shards[i];
        nshards = j;
        if (nshards == MAX_SHARDS) return NULL;
    }
    s = &shards[nshards++];
    memset(s, 0, sizeof *s);
    snprintf(s->info.shard_id, sizeof s->info.shard_id, "%s", id);
    s->sub = -1;
    s->skip_sub = -1;
    s->limit = MAX_LIMIT;
    return s;
}

static const char *stream_label(void) { return o.stream_arn ? o.stream_arn : o.stream; }

static void ckpt_load(void) {
    FILE *f = fopen(ckpt_path, "r");
    char l[512], a[256], b[256], c[32];
    int n = 0, ok = 1;
    if (!f) {
        if (errno == ENOENT) return;
        fprintf(stderr, "kinagg-tail: %s: %s\n", ckpt_path, strerror(errno));
        exit(2);
    }
    while (ok && fgets(l, sizeof l, f)) {
        int fields = sscanf(l, "%255s %255s %31s", a, b, c);
        n++;
        if (n == 1) { ok = !strcmp(l, "kinagg-tail checkpoint 1\n"); continue; }
        if (n == 2) {
            ok = fields == 2 && !strcmp(a, "stream");
            if (ok && strcmp(b, stream_label())) {
                fprintf(stderr, "kinagg-tail: %s is the checkpoint of stream %s, not %s\n", ckpt_path, b,
                        stream_label());
                exit(2);
            }
            continue;
        }
        if (fields == 2 && !strcmp(b, "end") && strlen(a) < KINAGG_SHARD_ID_MAX && !shard_find(a)) {
            tshard *s = shard_add(a);
            ok = s != NULL;
            if (ok) s->end = s->followed = 1;
        } else if (fields == 3 && !strcmp(b, "at") && strlen(a) < KINAGG_SHARD_ID_MAX && c[0] &&
                   strspn(c, "0123456789") == strlen(c) && strlen(c) <= 15 && !shard_find(a)) {
            /* started at LATEST and stopped before a record: on from then */
            tshard *s = shard_add(a);
            ok = s != NULL;
            if (!ok) continue;
            s->followed = 1;
            s->latest_ms = strtoull(c, NULL, 10);
            ok = s->latest_ms != 0; /* (0 is "none" in latest_ms) */
            s->start_type = "AT_TIMESTAMP";
            snprintf(s->start_arg, sizeof s->start_arg, "%s", c);
        } else if (fields == 3 && strlen(a) < KINAGG_SHARD_ID_MAX && strlen(b) < SEQ_CAP &&
                   strspn(b, "0123456789") == strlen(b) && !shard_find(a)) {
            char *e;
            long sub = strtol(c, &e, 10);
            tshard *s;
            if (!strcmp(c, "-")) sub = -1;
            else if (*e || e == c || sub < 0) { ok = 0; continue; }
            s = shard_add(a);
            ok = s != NULL;
            if (!ok) continue;
            s->has_pos = s->followed = 1;
            memcpy(s->seq, b, strlen(b) + 1); /* fits: checked above */
            s->sub = sub;
        } else {
            ok = 0;
        }
    }
    fclose(f);
    if (n == 0) return; /* an empty file (made with touch, say): no position yet */
    if (!ok || n < 2) {
        fprintf(stderr, "kinagg-tail: %s is not a kinagg-tail checkpoint (line %d)\n", ckpt_path, n);
        exit(2);
    }
}

/* Writes the positions into the temporary file, on disk before the output
 * they follow is written; commit renames it over the checkpoint after.
 * Exits with status on failure. */
static void ckpt_prepare(int status) {
    FILE *f = fopen(ckpt_tmp, "w");
    size_t i;
    int ok = f != NULL;
    if (ok) {
        fprintf(f, "kinagg-tail checkpoint 1\nstream %s\n", stream_label());
        for (i = 0; i < nshards; i++) {
            const tshard *s = &shards[i];
            if (s->end) fprintf(f, "%s end\n", s->info.shard_id);
            else if (s->has_pos && s->sub >= 0) fprintf(f, "%s %s %ld\n", s->info.shard_id, s->seq, s->sub);
            else if (s->has_pos) fprintf(f, "%s %s -\n", s->info.shard_id, s->seq);
            else if (s->latest_ms) fprintf(f, "%s at %llu\n", s->info.shard_id, (unsigned long long)s->latest_ms);
        }
        ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
        ok = fclose(f) == 0 && ok;
    }
    if (!ok) {
        fprintf(stderr, "kinagg-tail: cannot save the checkpoint %s: %s\n", ckpt_tmp, strerror(errno));
        exit(status);
    }
}

static void ckpt_publish(void) {
    char dir[4096];
    char *slash;
    int fd;
    if (rename(ckpt_tmp, ckpt_path) != 0) {
        fprintf(stderr, "kinagg-tail: cannot save the checkpoint %s: %s\n", ckpt_path, strerror(errno));
        exit(1);
    }
    snprintf(dir, sizeof dir, "%s", ckpt_path); /* the rename itself, on disk */
    slash = strrchr(dir, '/');
    if (slash) slash[slash == dir ? 1 : 0] = '\0';
    fd = open(slash ? dir : ".", O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* The output so far goes out, and the checkpoint moves to where it ends.
 * The checkpoint's new text is on disk before the output is written, and
 * is renamed into place right after it. */
static void commit(void) {
    int save = ckpt_path && ckpt_dirty;
    if (save) ckpt_prepare(1);
    write_all(obuf, olen);
    olen = 0;
    if (save) {
        ckpt_publish();
        ckpt_dirty = 0;
    }
}

/* ---- printing records ---------------------------------------------------- */

/* The length of the UTF-8 character at p (of n bytes), 0 if it is none. */
static size_t utf8_char(const unsigned char *p, size_t n) {
    unsigned c = p[0], need, cp, min;
    size_t i;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) { need = 1; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { need = 2; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { need = 3; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n <= need) return 0;
    for (i = 1; i <= need; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return need + 1;
}

static int utf8_valid(const unsigned char *p, size_t n) { /* 1 if valid */
    size_t i = 0, len;
    while (i < n) {
        if (!(len = utf8_char(p + i, n - i))) return 0;
        i += len;
    }
    return 1;
}

/* A JSON string; each byte that is not part of a UTF-8 character becomes
 * U+FFFD (the characters around it stay). */
static void out_json_string(const unsigned char *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0, len;
    out("\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 0x80 && (len = utf8_char(p + i, n - i)) != 0) {
            i += len - 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) continue;
        out(p + run, i - run);
        run = i + 1;
        if (c == '"') out("\\\"", 2);
        else if (c == '\\') out("\\\\", 2);
        else if (c == '\n') out("\\n", 2);
        else if (c == '\t') out("\\t", 2);
        else if (c == '\r') out("\\r", 2);
        else if (c >= 0x80) out("\xef\xbf\xbd", 3);
        else {
            char e[6];
            e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = hex[c >> 4]; e[5] = hex[c & 15];
            out(e, 6);
        }
    }
    out(p + run, n - run);
    out("\"", 1);
}

static void out_base64(const unsigned char *p, size_t n) {
    char b[4096];
    while (n) {
        size_t take = n < 3072 ? n : 3072; /* whole groups of three, but the last */
        out(b, kinagg_base64_encode(p, take, b));
        p += take;
        n -= take;
    }
}

/* ISO 8601 UTC with milliseconds, by kinagg's own date arithmetic (a
 * 32-bit time_t, as on armhf, would wrap in 2038) */
static void out_time(uint64_t ms) {
    char d[17], b[40];
    if (!ms) { out_s("null"); return; }
    kinagg_sigv4_amz_date(ms / 1000, d); /* YYYYMMDDTHHMMSSZ */
    snprintf(b, sizeof b, "\"%.4s-%.2s-%.2sT%.2s:%.2s:%.2s.%03uZ\"", d, d + 4, d + 6, d + 9, d + 11, d + 13,
             (unsigned)(ms % 1000));
    out_s(b);
}

static void emit(const tshard *s, const kinagg_record *r, int aggregated, const kinagg_user_record *u) {
    const char *pk = u->partition_key ? u->partition_key : r->partition_key.ptr;
    size_t pk_len = u->partition_key ? u->partition_key_len : r->partition_key.len;
    if (grep) {
        size_t i;
        /* regexec reads up to a NUL: a NUL in the data is matched as a
         * newline instead, so that what follows it is searched too */
        for (i = 0; i < u->data_len; i++) line[i] = u->data[i] ? (char)u->data[i] : '\n';
        line[u->data_len] = '\0';
        if (regexec(&re, line, 0, NULL, 0) != 0) return;
    }
    if (json) {
        char num[32];
        int text = utf8_valid(u->data, u->data_len);
        out_s("{\"shard\":");
        out_json_string((const unsigned char *)s->info.shard_id, strlen(s->info.shard_id));
        out_s(",\"sequence_number\":");
        out_json_string((const unsigned char *)r->sequence_number.ptr, r->sequence_number.len);
        snprintf(num, sizeof num, "%llu", (unsigned long long)u->subsequence);
        out_s(",\"subsequence\":");
        out_s(num);
        out_s(aggregated ? ",\"aggregated\":true" : ",\"aggregated\":false");
        out_s(",\"partition_key\":");
        out_json_string((const unsigned char *)pk, pk_len);
        out_s(",\"explicit_hash_key\":");
        if (u->explicit_hash_key) out_json_string((const unsigned char *)u->explicit_hash_key, u->explicit_hash_key_len);
        else out_s("null");
        out_s(",\"arrival_time\":");
        out_time(r->arrival_ms);
        out_s(",\"data\":");
        if (text) out_json_string(u->data, u->data_len);
        else { out("\"", 1); out_base64(u->data, u->data_len); out("\"", 1); }
        out_s(text ? ",\"data_encoding\":\"utf-8\"}\n" : ",\"data_encoding\":\"base64\"}\n");
    } else {
        if (with_key) {
            out_s(s->info.shard_id);
            out("\t", 1);
            out(pk, pk_len);
            out("\t", 1);
        }
        out(u->data, u->data_len);
        if (!u->data_len || u->data[u->data_len - 1] != '\n') out("\n", 1);
    }
    printed++;
}

/* ---- errors: reported when they start, repeats counted -------------------- */

static struct {
    char key[160];
    unsigned long repeats, total;
    uint64_t first_ms, reported_ms;
} err;
static uint64_t failing_since; /* 0: the last call succeeded */

static void err_summary(uint64_t now) {
    if (err.repeats)
        fprintf(stderr, "kinagg-tail: ... %lu more time%s in %.0f s\n", err.repeats, err.repeats == 1 ? "" : "s",
                (double)(now - err.reported_ms) / 1000.0);
    err.repeats = 0;
    err.reported_ms = now;
}

static void report(const char *key, const char *message) {
    uint64_t now = pf.now_ms(NULL);
    if (!failing_since) failing_since = now;
    if (err.key[0] && !strcmp(err.key, key)) {
        err.repeats++;
        err.total++;
        if (now - err.reported_ms >= 30000) err_summary(now);
        return;
    }
    if (err.key[0]) err_summary(now);
    snprintf(err.key, sizeof err.key, "%s", key);
    err.total = 1;
    err.first_ms = err.reported_ms = now;
    fprintf(stderr, "kinagg-tail: %s\n", message);
}

/* A call of kind op succeeded. It ends the errors of that kind; and a read
 * (GetRecords) that succeeds ends the failing spell whatever failed: a
 * ListShards or GetShardIterator that works while every GetRecords fails
 * is no progress, and must not keep a run without --follow going for ever. */
static void recovered(const char *op) {
    uint64_t now = pf.now_ms(NULL);
    size_t n = strlen(op);
    int same = err.key[0] && !strncmp(err.key, op, n) && err.key[n] == ' ';
    if (!strcmp(op, "GetRecords")) failing_since = 0;
    if (!same) return;
    err_summary(now);
    fprintf(stderr, "kinagg-tail: recovered after %lu failed call%s in %.1f s\n", err.total,
            err.total == 1 ? "" : "s", (double)(now - err.first_ms) / 1000.0);
    err.key[0] = '\0';
}

/* The Limit after an answer did not fit: a tenth, and no more than the
 * records of 1 MiB (1.4 MiB as JSON) that fill three quarters of the buffer. */
static size_t smaller_limit(size_t limit) {
    size_t one_mib_records = k.http.recv_cap / 4 * 3 / (1400u << 10);
    if (limit > one_mib_records * 10) limit = one_mib_records * 10;
    return limit > 10 ? limit / 10 : 1;
}

static int is_type(const char *t) { return !strcmp(k.error_type, t); }

/* Worth another try: the producer's rule (5xx, 408, 429, throttling and
 * time-out codes, a stream being updated, ...), and an expired ListShards
 * token (kinagg_list_shards starts again without it). */
static int retryable(kinagg_status st) {
    return kinagg_producer_retryable(st, &k) || is_type("ExpiredNextTokenException");
}

/* New temporary credentials for the client's signer (see tool_common.h). */
static int refresh_credentials(int force) {
    if (!tool_credentials_refresh("kinagg-tail", &cred, force)) return 0;
    kinagg_sigv4_init(&k.signer, &cred);
    return 1;
}

/* What to do after a failed call; says so on stderr. */
static int on_error(const char *op, const tshard *s, kinagg_status st) {
    char key[160], msg[900];
    const char *detail = st == KINAGG_ERR_SERVICE ? k.error_message : k.http.error_detail ? k.http.error_detail : "";
    int act = ACT_RETRY;
    if (st == KINAGG_ERR_SERVICE) {
        if (is_type("ExpiredIteratorException")) act = ACT_NEW_ITERATOR;
        else if (retryable(st))
            act = ACT_RETRY;
        else if ((is_type("ExpiredTokenException") || is_type("ExpiredToken") ||
                  is_type("UnrecognizedClientException")) &&
                 (refresh_credentials(1) || tool_credentials_source().get))
            act = ACT_RETRY; /* temporary credentials ran out: the new ones may do (or come later: the
                                source may be down for a while; without --follow, for 60 s) */
        else act = ACT_FATAL; /* ResourceNotFound, AccessDenied, bad credentials, InvalidArgument... */
    } else if (st == KINAGG_ERR_RESPONSE_TOO_LARGE) {
        act = ACT_SMALLER;
    } else if ((st == KINAGG_ERR_JSON || st == KINAGG_ERR_CBOR || st == KINAGG_ERR_TIMEOUT) &&
               !strcmp(op, "GetRecords")) {
        act = ACT_SMALLER; /* a cut or slow answer: ask for less */
    } else if (st == KINAGG_ERR_BUFFER_TOO_SMALL || st == KINAGG_ERR_INVALID_ARGUMENT) {
        act = ACT_FATAL;
    }
    snprintf(key, sizeof key, "%s %s %s", op, kinagg_strerror(st), k.error_type);
    snprintf(msg, sizeof msg, "%s%s%s: %s%s%s%s%s%s", op, s ? " " : "", s ? s->info.shard_id : "",
             kinagg_strerror(st), k.error_type[0] ? " " : "", k.error_type, detail[0] ? " (" : "", detail,
             detail[0] ? ")" : "");
    if (act == ACT_SMALLER && s && s->limit > 1) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "; asking for at most %lu, not %lu records",
                 (unsigned long)smaller_limit(s->limit), (unsigned long)s->limit);
    }
    if (act == ACT_FATAL) {
        fprintf(stderr, "kinagg-tail: %s\n", msg);
        if (is_type("ResourceNotFoundException")) fprintf(stderr, "kinagg-tail: the stream or shard is gone\n");
        return act;
    }
    if (act == ACT_RETRY || act == ACT_NEW_ITERATOR) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "%s",
                 act == ACT_RETRY ? "; trying again" : "; taking a new one after the last record read");
    }
    report(key, msg);
    if (!follow && failing_since && pf.now_ms(NULL) - failing_since > GIVE_UP_MS) {
        fprintf(stderr, "kinagg-tail: giving up after %d s of failed calls\n", GIVE_UP_MS / 1000);
        return ACT_FATAL;
    }
    return act;
}

static uint32_t backoff_ms(unsigned fails) { /* 100 ms doubling to 5 s, with jitter */
    uint32_t b = 100;
    while (fails-- > 1 && b < 5000) b *= 2;
    if (b > 5000) b = 5000;
    return b / 2 + pf.random(NULL) % (b / 2 + 1);
}

static void fatal_exit(void) {
    commit();
    kinagg_http_close(&k.http);
    exit(1);
}

/* ---- shards --------------------------------------------------------------- */

static int selected(const tshard *s) {
    size_t i;
    if (!nonly) return 1;
    for (i = 0; i < nonly; i++)
        if (!strcmp(only[i], s->info.shard_id)) return 1;
    return 0;
}

/* A parent no longer listed (past the retention period) or not picked does
 * not hold its children back. */
static int parent_done(const char *id) {
    const tshard *p;
    if (!id[0]) return 1;
    p = shard_find(id);
    if (!p || !p->listed || !selected(p)) return 1;
    return p->state == S_DONE;
}

static int parent_followed(const tshard *s) {
    const tshard *p = s->info.parent_shard_id[0] ? shard_find(s->info.parent_shard_id) : NULL;
    const tshard *a = s->info.adjacent_parent_shard_id[0] ? shard_find(s->info.adjacent_parent_shard_id) : NULL;
    return (p && p->followed) || (a && a->followed);
}

/* ListShards, merged into the table; 1 when done, 0 to try again later. */
static int list_shards(int first) {
    size_t n = 0, j;
    kinagg_status st = kinagg_list_shards(&k, tool_stream(&o), fresh, MAX_SHARDS, &n, 0);
    if (st == KINAGG_ERR_BUFFER_TOO_SMALL) {
        fprintf(stderr, "kinagg-tail: the stream lists more than %d shards (open and closed), or a shard id longer than %d "
                        "characters: more than kinagg-tail reads\n", MAX_SHARDS, (int)sizeof fresh[0].shard_id - 1);
        fatal_exit();
    }
    if (st != KINAGG_OK) {
        if (stop_signal) return 0; /* the call was cut short by it */
        if (on_error("ListShards", NULL, st) == ACT_FATAL) fatal_exit();
        return 0;
    }
    recovered("ListShards");
    for (j = 0; j < nshards; j++) shards[j].listed = 0;
    for (j = 0; j < n; j++) {
        tshard *s = shard_find(fresh[j].shard_id);
        if (!s) {
            s = shard_add(fresh[j].shard_id);
            if (!s) {
                fprintf(stderr, "kinagg-tail: more than %d shards\n", MAX_SHARDS);
                fatal_exit();
            }
            s->later = !first;
        }
        s->info = fresh[j];
        s->listed = 1;
    }
    if (first) {
        for (j = 0; j < nonly; j++)
            if (!shard_find(only[j]) || !shard_find(only[j])->listed) {
                fprintf(stderr, "kinagg-tail: stream %s has no shard %s\n", stream_label(), only[j]);
                kinagg_http_close(&k.http);
                exit(1);
            }
    }
    return 1;
}

/* Where a shard starts when the checkpoint does not say. */
static void choose_start(tshard *s) {
    s->start_arg[0] = '\0';
    if (s->later) { /* made by a resharding while we read: all of it is new */
        s->start_type = "TRIM_HORIZON";
    } else if (from == FROM_TIMESTAMP) {
        s->start_type = "AT_TIMESTAMP";
        snprintf(s->start_arg, sizeof s->start_arg, "%s", from_ms);
    } else if (from == FROM_TRIM || parent_followed(s)) {
        s->start_type = "TRIM_HORIZON";
    } else {
        s->start_type = s->info.open ? "LATEST" : NULL; /* a closed shard has nothing new */
    }
}

/* A new iterator: after the last record read, else where the shard starts.
 * 1 when done, 0 to try again later. */
static int take_iterator(tshard *s) {
    kinagg_status st;
    uint64_t asked;
    uint32_t read_ms;
    int at_time;
    const char *type = s->start_type;
    const char *arg = s->start_arg;
    if (s->has_pos) {
        type = s->sub >= 0 ? "AT_SEQUENCE_NUMBER" : "AFTER_SEQUENCE_NUMBER";
        arg = s->seq;
        if (s->sub >= 0) { /* inside an aggregate: its first user records are printed */
            snprintf(s->skip_seq, sizeof s->skip_seq, "%s", s->seq);
            s->skip_sub = s->sub;
        }
    }
    /* from a LATEST start's time: Kinesis answers at once, kinesalite never
     * when nothing came to the shard after that time (so nothing is
     * missed there by taking LATEST instead, after 5 s) */
    at_time = !s->has_pos && s->latest_ms && type == s->start_type;
    read_ms = k.http.recv_timeout_ms;
    if (at_time && read_ms > 5000) k.http.recv_timeout_ms = 5000;
    asked = pf.unix_ms(NULL) + (uint64_t)k.clock_offset_ms;
    st = kinagg_get_shard_iterator(&k, tool_stream(&o), kinagg_str_c(s->info.shard_id), kinagg_str_c(type),
                                   kinagg_str_c(arg), s->iter, sizeof s->iter);
    k.http.recv_timeout_ms = read_ms;
    if (st != KINAGG_OK) {
        int act;
        if (stop_signal) return 0;
        if (at_time && st == KINAGG_ERR_TIMEOUT) {
            fprintf(stderr, "kinagg-tail: GetShardIterator %s: no answer for AT_TIMESTAMP %s in 5 s (a server that "
                            "never answers it for a shard with nothing newer); taking LATEST\n",
                    s->info.shard_id, s->start_arg);
            s->start_type = "LATEST"; /* (latest_ms stays, for a stop before it is taken) */
            s->start_arg[0] = '\0';
            return 0;
        }
        act = on_error("GetShardIterator", s, st);
        if (act == ACT_FATAL) fatal_exit();
        s->next_call_ms = pf.now_ms(NULL) + backoff_ms(++s->fails);
        return 0;
    }
    recovered("GetShardIterator");
    s->followed = 1;
    s->state = S_READING;
    if (!s->has_pos && type == s->start_type && !strcmp(type, "LATEST") &&
        kinagg_http_header_get(&k.http.response, "date")) {
        /* LATEST is "from now": a checkpoint saved before the shard's first
         * record, and an iterator taken again after this one expired, go
         * on from that time (by the service's clock, as its Date said, less
         * 2 s for that clock's whole seconds), not from a later "now",
         * which would skip what came in between. (Without a Date, the
         * local clock could put that time in the future: LATEST again.) */
        s->latest_ms = asked + (uint64_t)k.last_skew_ms - 2000;
        s->start_type = "AT_TIMESTAMP";
        snprintf(s->start_arg, sizeof s->start_arg, "%llu", (unsigned long long)s->latest_ms);
        ckpt_dirty = 1;
    }
    return 1;
}

/* The deaggregator's key index, grown to the largest aggregate's tables:
 * with it each key lookup is O(1) whatever order an aggregate's records ask
 * for their keys in (a hostile or unusual one would otherwise cost a scan of
 * the tables per record: minutes for one 1 MiB record). */
static uint32_t *deagg_index;
static size_t deagg_index_cap;

static void deagg_use_index(kinagg_deagg *it) {
    size_t need = it->pk_count + it->ehk_count;
    if (!kinagg_deagg_is_aggregated(it)) return;
    if (need > deagg_index_cap) {
        uint32_t *grown = (uint32_t *)realloc(deagg_index, need * sizeof *grown);
        if (!grown) return; /* no index: slower, still right */
        deagg_index = grown;
        deagg_index_cap = need;
    }
    kinagg_deagg_set_index(it, deagg_index, deagg_index_cap);
}

/* Prints one GetRecords answer; checks for a stop between user records. */
static void print_records(tshard *s, size_t got) {
    size_t r;
    for (r = 0; r < got; r++) {
        kinagg_deagg it;
        kinagg_user_record u;
        const kinagg_record *rec = &recs[r];
        int skipping = s->skip_seq[0] && rec->sequence_number.len == strlen(s->skip_seq) &&
                       !memcmp(rec->sequence_number.ptr, s->skip_seq, rec->sequence_number.len);
        kinagg_deagg_init(&it, rec->data, rec->data_len);
        deagg_use_index(&it);
        if (rec->sequence_number.len >= SEQ_CAP) {
            fprintf(stderr, "kinagg-tail: sequence number of %lu digits\n", (unsigned long)rec->sequence_number.len);
            fatal_exit();
        }
        while (kinagg_deagg_next(&it, &u)) {
            if (skipping && (long)u.subsequence <= s->skip_sub) continue;
            if (stop_signal) { /* stop here: the checkpoint says which of the aggregate were printed */
                commit();
                return;
            }
            if (olen > ocap / 2) commit();
            emit(s, rec, kinagg_deagg_is_aggregated(&it), &u);
            memcpy(s->seq, rec->sequence_number.ptr, rec->sequence_number.len);
            s->seq[rec->sequence_number.len] = '\0';
            s->sub = (long)u.subsequence;
            s->has_pos = 1;
            ckpt_dirty = 1;
        }
        memcpy(s->seq, rec->sequence_number.ptr, rec->sequence_number.len);
        s->seq[rec->sequence_number.len] = '\0';
        s->sub = -1;
        s->has_pos = 1;
        s->skip_seq[0] = '\0';
        ckpt_dirty = 1;
    }
}

/* One GetRecords call on a shard, printed. */
static void read_shard(tshard *s) {
    size_t got = 0, r;
    uint64_t behind = 0, now, bytes = 0, wait;
    char next[ITER_CAP];
    kinagg_status st = kinagg_get_records(&k, s->iter, recs, s->limit, &got, next, sizeof next, &behind);
    now = pf.now_ms(NULL);
    if (st != KINAGG_OK) {
        int act;
        s->closed_quiet = 0; /* (three quiet answers in a row, with nothing between) */
        if (stop_signal) return;
        act = on_error("GetRecords", s, st);
        if (act == ACT_FATAL) fatal_exit();
        if (act == ACT_SMALLER && s->limit == 1 && st == KINAGG_ERR_RESPONSE_TOO_LARGE) {
            fprintf(stderr, "kinagg-tail: one record does not fit the receive buffer: use a larger --buffer-mb\n");
            fatal_exit();
        }
        if (act == ACT_SMALLER && s->limit > 1) {
            s->limit = smaller_limit(s->limit); /* after an answer, it grows back to what fits */
            s->next_call_ms = now; /* at once, but after the other shards */
        } else if (act == ACT_NEW_ITERATOR) {
            s->state = S_NEW; /* taken again at the top: after the last record read */
            s->next_call_ms = s->fails++ ? now + backoff_ms(s->fails) : now;
        } else {
            s->next_call_ms = now + backoff_ms(++s->fails);
        }
        return;
    }
    recovered("GetRecords");
    s->fails = 0;
    for (r = 0; r < got; r++) bytes += recs[r].data_len + recs[r].partition_key.len;
    if (got) { /* the next Limit: what fills three quarters of the buffer */
        uint64_t fit = (uint64_t)got * (k.http.recv_cap / 4 * 3) / (k.http.response.body_len + 1);
        s->limit = fit < 1 ? 1 : fit > MAX_LIMIT ? MAX_LIMIT : (size_t)fit;
    }
    print_records(s, got);
    if (stop_signal) return;
    s->caught_up = !got && behind == 0;
    /* a closed shard ends with no next iterator; some servers (moto) never
     * say so, and answer nothing, caught up, for ever: after three such
     * answers in a row it is read to its end too (Kinesis, with records
     * further on, says how far behind they are) */
    s->closed_quiet = s->caught_up && !s->info.open ? s->closed_quiet + 1 : 0;
    if (!next[0] || s->closed_quiet >= 3) { /* closed and read to its end: its children may start */
        s->state = S_DONE;
        s->end = 1;
        ckpt_dirty = 1;
    } else {
        memcpy(s->iter, next, sizeof next);
    }
    commit();
    /* 5 calls a second and 2 MiB a second per shard */
    wait = bytes * 1000 / READ_BYTES_PER_S;
    if (wait < 200) wait = 200;
    if (s->caught_up && follow && wait < 1000) wait = 1000;
    s->next_call_ms = now + wait;
}

/* ---- options ---------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) { /* days since 1970-01-01 */
    int64_t era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **p, int n, unsigned *v) {
    *v = 0;
    while (n--) {
        if (**p < '0' || **p > '9') return 0;
        *v = *v * 10 + (unsigned)(*(*p)++ - '0');
    }
    return 1;
}

/* ISO 8601 (date, or date and time, with an optional fraction and zone) or
 * seconds since the epoch, to milliseconds since the epoch; 0 if malformed. */
static int parse_time(const char *t, uint64_t *ms) {
    const char *p = t;
    unsigned y, mo, d, h = 0, mi = 0, s = 0, frac = 0, scale = 1000;
    int64_t secs, zone = 0;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strspn(p, "0123456789") && strspn(p, "0123456789") == strcspn(p, ".")) { /* epoch seconds */
        uint64_t v = 0;
        if (strspn(p, "0123456789") > 12) return 0;
        while (*p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
        if (*p == '.') {
            p++;
            if (!*p) return 0;
            while (*p >= '0' && *p <= '9') { if (scale > 1) { scale /= 10; frac += (unsigned)(*p - '0') * scale; } p++; }
        }
        if (*p) return 0;
        *ms = v * 1000 + frac;
        return 1;
    }
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d)) return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || y < 1970) return 0;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) return 0;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &s)) return 0;
            if (*p == '.' || *p == ',') {
                p++;
                if (*p < '0' || *p > '9') return 0;
                while (*p >= '0' && *p <= '9') { if (scale > 1) { scale /= 10; frac += (unsigned)(*p - '0') * scale; } p++; }
            }
        }
        if (h > 23 || mi > 59 || s > 60) return 0;
        if (*p == 'Z' || *p == 'z') p++;
        else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            unsigned zh, zm = 0;
            if (!digits(&p, 2, &zh)) return 0;
            if (*p == ':') p++;
            if (*p && !digits(&p, 2, &zm)) return 0;
            if (zh > 23 || zm > 59) return 0;
            zone = sign * (int64_t)(zh * 3600 + zm * 60);
        }
    }
    if (*p) return 0;
    secs = days_from_civil((int64_t)y, mo, d) * 86400 + (int64_t)(h * 3600 + mi * 60 + s) - zone;
    if (secs < 0) return 0;
    *ms = (uint64_t)secs * 1000 + frac;
    return 1;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "kinagg-tail: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

/* The first signal stops it after the record being printed (and the output
 * it waits to write); a second one at once. */
static void on_signal(int sig) {
    struct sigaction dfl;
    if (stop_signal) {
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        raise(sig);
    }
    stop_signal = sig;
}

/* Sleeps until when, or a signal. It waits on the standard output too:
 * with nothing to print (a quiet stream with --follow), a reader that went
 * away (`| head -1`) would be noticed only at the next write, which may
 * never come; a pipe with no reader left (POLLERR) or a hung-up terminal
 * (POLLHUP) ends it as EPIPE does. */
static void sleep_until(uint64_t when) {
    for (;;) {
        uint64_t now = pf.now_ms(NULL);
        struct pollfd out_fd;
        if (stop_signal || now >= when) return;
        out_fd.fd = 1;
        out_fd.events = 0; /* (POLLERR and POLLHUP are always reported) */
        out_fd.revents = 0;
        if (poll(&out_fd, 1, (int)(when - now < 100 ? when - now : 100)) > 0 &&
            (out_fd.revents & (POLLERR | POLLHUP))) {
            commit(); /* what is left to write meets EPIPE; else the checkpoint covers all written */
            finish_quietly();
        }
    }
}

int main(int argc, char **argv) {
    kinagg_aws_config cfg;
    kinagg_endpoint ep;
    static tool_conn conn;
    kinagg_transport tp;
    char region[64];
    unsigned long buffer_mb = 16;
    uint32_t read_timeout_ms = 30000, connect_timeout_ms = 5000;
    int connect_timeout_given = 0;
    unsigned char *rbuf;
    uint64_t next_list_ms = 0;
    unsigned list_fails = 0;
    int i, listed = 0;
    struct sigaction sa;

    memset(&o, 0, sizeof o);
    for (i = 1; i < argc; i++) {
        int r = tool_common_option(&o, argc, argv, &i);
        const char *a = argv[i];
        if (r < 0) return usage_error("%s needs a value", argv[i]);
        if (r) continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); fputs(usage_more, stdout); return 0; }
        if (!strcmp(a, "--follow")) { follow = 1; continue; }
        if (!strcmp(a, "--with-key")) { with_key = 1; continue; }
        if (strcmp(a, "--from") && strcmp(a, "--shard") && strcmp(a, "--grep") && strcmp(a, "--output") &&
            strcmp(a, "--checkpoint") && strcmp(a, "--buffer-mb") && strcmp(a, "--cli-read-timeout") &&
            strcmp(a, "--cli-connect-timeout"))
            return usage_error("unknown option %s", a);
        if (i + 1 >= argc) return usage_error("%s needs a value", a);
        {
            const char *v = argv[++i];
            if (!strcmp(a, "--from")) {
                uint64_t ms;
                /* any case: TRIM_HORIZON and LATEST as the API spells them,
                 * AT_TIMESTAMP:TIME too */
                if (!strcasecmp(v, "trim_horizon") || !strcasecmp(v, "trim")) from = FROM_TRIM;
                else if (!strcasecmp(v, "latest")) from = FROM_LATEST;
                else if ((!strncasecmp(v, "timestamp:", 10) && parse_time(v + 10, &ms)) ||
                         (!strncasecmp(v, "at_timestamp:", 13) && parse_time(v + 13, &ms))) {
                    from = FROM_TIMESTAMP;
                    snprintf(from_ms, sizeof from_ms, "%llu", (unsigned long long)ms);
                } else return usage_error("--from trim_horizon, latest or timestamp:TIME, not %s", v);
            } else if (!strcmp(a, "--shard")) {
                if (!v[0] || strlen(v) >= KINAGG_SHARD_ID_MAX) return usage_error("bad shard id %s", v);
                if (nonly == MAX_SHARDS) {
                    char most[16];
                    snprintf(most, sizeof most, "%d", MAX_SHARDS);
                    return usage_error("more than %s shards", most);
                }
                only[nonly++] = v;
            } else if (!strcmp(a, "--grep")) {
                if (grep) regfree(&re);
                if (regcomp(&re, v, REG_EXTENDED | REG_NOSUB) != 0) return usage_error("bad pattern %s", v);
                grep = 1;
            } else if (!strcmp(a, "--output")) {
                if (!strcmp(v, "json")) json = 1;
                else if (!strcmp(v, "raw")) json = 0;
                else return usage_error("--output raw or json, not %s", v);
            } else if (!strcmp(a, "--checkpoint")) {
                if (!v[0] || strlen(v) + 5 > sizeof ckpt_tmp) return usage_error("bad checkpoint file name %s", v);
                ckpt_path = v;
            } else if (!strcmp(a, "--cli-read-timeout")) {
                unsigned long sec;
                if (!tool_number(v, 1, 3600, &sec)) return usage_error("--cli-read-timeout takes 1 to 3600 seconds, not %s", v);
                read_timeout_ms = (uint32_t)sec * 1000;
            } else if (!strcmp(a, "--cli-connect-timeout")) {
                unsigned long sec;
                if (!tool_number(v, 1, 3600, &sec))
                    return usage_error("--cli-connect-timeout takes 1 to 3600 seconds, not %s", v);
                connect_timeout_ms = (uint32_t)sec * 1000;
                connect_timeout_given = 1;
            } else {
                char *e;
                errno = 0;
                buffer_mb = strtoul(v, &e, 10);
                if (errno || e == v || *e || v[0] == '-' || buffer_mb < 1 || buffer_mb > 1024)
                    return usage_error("--buffer-mb takes 1 to 1024, not %s", v);
            }
        }
    }
    if (!tool_std_fds("kinagg-tail", 2u)) return 2; /* the records go to standard output */
    o.connect_timeout_ms = connect_timeout_given ? connect_timeout_ms : 0;
    if (!tool_setup("kinagg-tail", &o, &cfg, &ep, &cred, region, sizeof region, &conn, 1, &tp, &pf)) return 2;
    if (ckpt_path) {
        snprintf(ckpt_tmp, sizeof ckpt_tmp, "%s.tmp", ckpt_path);
        ckpt_load();
        ckpt_prepare(2); /* can it be saved? */
        unlink(ckpt_tmp);
    }
    /* the tool's memory, once: the receive buffer, the output, a line for --grep */
    rbuf = (unsigned char *)malloc(buffer_mb << 20);
    ocap = 4u << 20;
    obuf = (unsigned char *)malloc(ocap);
    line = grep ? (char *)malloc((buffer_mb << 20) + 1) : NULL;
    if (!rbuf || !obuf || (grep && !line)) {
        fprintf(stderr, "kinagg-tail: out of memory for a %lu MiB buffer\n", buffer_mb);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    { /* SIGINT and SIGHUP ignored by the parent (a background job of a
       * script, nohup) stay ignored, as the convention goes */
        static const int sigs[2] = {SIGINT, SIGHUP};
        int n;
        for (n = 0; n < 2; n++) {
            struct sigaction old;
            if (sigaction(sigs[n], NULL, &old) != 0 || old.sa_handler != SIG_IGN) sigaction(sigs[n], &sa, NULL);
        }
    }
    signal(SIGPIPE, SIG_IGN); /* a closed output is EPIPE: a quiet end */

    kinagg_kinesis_init(&k, &ep, kinagg_str_c(region), &cred, o.protocol, &tp, &pf, sbuf, sizeof sbuf, rbuf,
                        buffer_mb << 20);
    k.http.recv_timeout_ms = read_timeout_ms; /* a full answer over a slow link: 30 s by default */
    k.http.connect_timeout_ms = connect_timeout_ms;

    while (!stop_signal) {
        uint64_t now = pf.now_ms(NULL), wake;
        size_t s;
        int all_caught_up = 1, any_open = 0, relist = 0;
        (void)refresh_credentials(0); /* a long --follow outlives temporary credentials */
        if (now >= next_list_ms) {
            if (list_shards(!listed)) {
                listed = 1;
                list_fails = 0;
                next_list_ms = now + 30000;
            } else {
                next_list_ms = now + backoff_ms(++list_fails);
            }
        }
        if (!listed) { sleep_until(next_list_ms); continue; }
        for (s = 0; s < nshards && !stop_signal; s++) {
            tshard *t = &shards[s];
            if (!t->listed || !selected(t) || t->state == S_DONE) continue;
            any_open = 1;
            if (t->state == S_NEW) { /* a shard starts when its parents are read */
                if (!parent_done(t->info.parent_shard_id) || !parent_done(t->info.adjacent_parent_shard_id)) {
                    all_caught_up = 0;
                    continue;
                }
                if (t->end) { t->state = S_DONE; relist = 1; continue; }
                if (!t->has_pos && !t->start_type && !t->start_arg[0]) {
                    choose_start(t);
                    if (!t->start_type) { t->state = S_DONE; continue; } /* --from latest: closed */
                }
                if (pf.now_ms(NULL) < t->next_call_ms || !take_iterator(t)) { all_caught_up = 0; continue; }
            }
            if (!follow && t->caught_up && t->info.open) continue; /* read to now: done for this run */
            if (pf.now_ms(NULL) >= t->next_call_ms) read_shard(t);
            if (t->state == S_DONE) relist = 1;
            else if (!(t->caught_up && t->info.open)) all_caught_up = 0;
        }
        if (stop_signal) break;
        if (relist) { next_list_ms = 0; continue; } /* children may be listed now */
        if (!follow && all_caught_up) break;
        if (!any_open && nonly) {
            fprintf(stderr, "kinagg-tail: the shards picked are closed and read\n");
            break;
        }
        wake = next_list_ms;
        for (s = 0; s < nshards; s++) {
            const tshard *t = &shards[s];
            if (t->listed && selected(t) && t->state != S_DONE && t->next_call_ms < wake &&
                !(!follow && t->caught_up && t->info.open))
                wake = t->next_call_ms;
        }
        sleep_until(wake);
    }
    commit();
    fprintf(stderr, "kinagg-tail: %llu records\n", printed);
    kinagg_http_close(&k.http);
    free(rbuf);
    free(obuf);
    free(line);
    return 0;
}
