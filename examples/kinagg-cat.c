/* kinagg-cat: ship records (lines, or NUL-ended with -0) from files or
 * standard input to a Kinesis stream, with KPL aggregation.
 *
 *   tail -F access_log | kinagg-cat --stream logs
 *
 * Records are bytes: the input is split on '\n' (or NUL) and nothing else is
 * changed. One loop waits on the input, the connections and the producer's
 * next deadline together, so the lines of a quiet log go out within
 * --max-buffered-ms. Reading stops while the producer is full or delivery is
 * failing, so the writer upstream waits and no more than the buffer
 * (--buffer-mb) is ever at risk; nothing expires unless --record-ttl says
 * so. SIGINT, SIGTERM or SIGHUP stops reading and delivers what was read (for up to
 * --drain-timeout); a second one gives the rest up. Errors are printed when
 * they first happen, repeats summarised every 10 s. */
/* 64-bit file offsets on 32-bit targets (an ARM gateway): input files and
 * --failed past 2 GiB (without it, open and stat fail with EOVERFLOW) */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
/* room for the credentials the config loader takes: a session token of up
 * to 4095 characters besides the key and secret (the default, 4096 for all
 * three, refused tokens over about 4030) */
#define KINAGG_PRODUCER_CREDENTIALS_MAX 8192
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
#include <sys/stat.h>
#include <signal.h>
#include <stdint.h>

typedef char tool_large_files[sizeof(off_t) >= 8 ? 1 : -1]; /* _FILE_OFFSET_BITS took */

static const char usage[] =
    "usage: kinagg-cat --stream NAME [options] [FILE...]\n"
    "Sends each line of the FILEs (or of standard input; - is standard input) to a\n"
    "Kinesis stream as a record, aggregated the way the KPL does.\n"
    "\n"
    "Records are bytes: a line ends at a newline (\\n), which is not sent; every\n"
    "other byte, NUL and \\r included, travels exactly.\n"
    "  -0, --null             records end with a NUL byte instead (as find -print0\n"
    "                         and xargs -0 have them)\n"
    "  --strip-cr             drop a \\r at the end of each record (CRLF text)\n"
    "  --partition-key KEY    the same partition key for every record\n"
    "  --random-key           a random partition key per record (the default)\n"
    "  --tab-key              each record is KEY<TAB>DATA\n"
    "  --max-record-kib N     largest record, data + partition key, in KiB (default\n"
    "                         1024; up to 10240 for a stream raised to larger records)\n"
    "A record over that size (or, with --tab-key, without a TAB) is refused: its\n"
    "line number is printed, nothing of it is sent, and the exit status is 1.\n"
    "\n"
    "Stream and connection:\n" TOOL_COMMON_HELP
    "\n";
/* in two parts: C99 compilers need only take string literals of 4095 bytes */
static const char usage_more[] =
    "Sending:\n"
    "  --no-aggregate         send every record as its own Kinesis record\n"
    "  --max-buffered-ms N    longest a record waits to be sent (default 100)\n"
    "  --max-entries N        entries per PutRecords request, 1-500 (default 500)\n"
    "  --connections N        concurrent requests, 1-8 (default 2)\n"
    "  --rate-limit PERCENT   of each shard's write limits (1000 records/s, 1 MiB/s)\n"
    "                         to send at most, 1-1000 (default 100)\n"
    "  --max-shards N         shards the shard map holds, open and closed (default\n"
    "                         1024); a stream with more is written without it\n"
    "  --record-ttl MS        give a record up when it is not delivered within MS\n"
    "                         (default 0: never; it is retried until delivered)\n"
    "  --cli-read-timeout S   seconds to wait for a request's answer before sending it\n"
    "                         again, 1-3600 (default 6, as the KPL; a slow server or\n"
    "                         downlink needs more)\n"
    "  --cli-connect-timeout S  seconds to look the endpoint up and connect (TCP and\n"
    "                         TLS), 1-3600 (default 5; a satellite or 2G link needs more)\n"
    "  --buffer-mb N          memory for records read and not delivered yet, MiB\n"
    "                         (default 16). Reading waits while it is full or while\n"
    "                         delivery fails, so the writer upstream waits too\n"
    "  --drain-timeout MS     after SIGINT, SIGTERM or SIGHUP, how long to go on delivering\n"
    "                         what was read (default 30000)\n"
    "  --create N             create the stream with N shards first, if it does not exist\n"
    "                         (throttling and passing faults: tried for a minute)\n"
    "\n"
    "Reporting:\n"
    "  --failed FILE          write every record that was not delivered (failed,\n"
    "                         refused, expired or given up; not one over the size\n"
    "                         limit) to FILE as it was read, with its separator, so\n"
    "                         that it can be sent again\n"
    "  --stats-json FILE      write the counts (lines, delivered, Kinesis records,\n"
    "                         requests, retries, throttled, failed, refused,\n"
    "                         abandoned, bytes) as JSON when done\n"
    "Errors are printed when they first happen, and repeats every 10 s at most; a\n"
    "progress line when standard error is a terminal; a summary at the end.\n"
    "\n"
    "Signals: the first SIGINT, SIGTERM or SIGHUP stops reading and delivers what was\n"
    "read (a line read in part is not sent: where reading stopped is printed),\n"
    "for up to --drain-timeout; a second one gives the rest up at once (written to\n"
    "--failed). Killed outright (SIGKILL), the records read and not yet delivered\n"
    "are lost: at most --buffer-mb.\n"
    "\n"
    "Records are retried until delivered (see --record-ttl); but when the server's\n"
    "TLS certificate is refused for its host name or CA before any record was\n"
    "delivered, the records read are given up at once (written to --failed).\n"
    "\n"
    "Exit status: 0 when every record was delivered; 1 when any failed, was refused\n"
    "or was given up; 2 for a usage or setup error.\n";

/* ---- options --------------------------------------------------------------- */

typedef struct cat_opts {
    const char *fixed_key, *stats_path, *failed_path;
    int tab_key, aggregate, strip_cr;
    unsigned char sep;
    unsigned long max_buffered_ms, max_entries, connections, buffer_mb, create, rate_limit, record_ttl_ms,
        drain_timeout_ms, max_record_kib, max_shards, read_timeout_s, connect_timeout_s;
} cat_opts;

static int usage_error(const char *opt, const char *value, const char *want) {
    if (value) fprintf(stderr, "kinagg-cat: %s %s: expected %s (see --help)\n", opt, value, want);
    else fprintf(stderr, "kinagg-cat: %s needs a value: %s (see --help)\n", opt, want);
    return 2;
}

/* ---- state ----------------------------------------------------------------- */

static cat_opts opt;
static kinagg_producer prod;
static kinagg_platform pf;
static unsigned long long lines_read, delivered, failed, abandoned, expired, refused, input_errors;
static int cut_lost; /* reading stopped inside a record read from a pipe: its bytes are gone */
static char first_failure[300];
static volatile sig_atomic_t signals_seen, last_signal;
static int stats_write_error;
static int sig_pipe[2] = {-1, -1};
static int tty, progress_shown;

/* Clears the progress line before a message. */
static void say_begin(void) {
    if (progress_shown) fputs("\r\033[K", stderr);
    progress_shown = 0;
}

/* ---- copies of the records in flight, for --failed ----------------------------
 * A ring like the producer's: records in read order, freed from the oldest
 * once it completed, so it needs no more room than the producer's. */

typedef struct keep_slot {
    size_t off, len; /* the record as read, with its separator */
    int done;
} keep_slot;

static struct {
    unsigned char *buf;
    size_t cap, head, tail, prev_head;
    keep_slot *slots;
    size_t nslots, shead, stail, count;
} keep;
static int failed_fd = -1;
static unsigned long long failed_written, failed_bytes; /* whole records written, and their bytes */
static int failed_write_error;

/* Writes all of p; 0 with errno set when a write fails. */
static int failed_write_all(const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = write(failed_fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return 0;
        }
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Writes a record to --failed; with_sep: add its separator. Unbuffered, so
 * a record is counted only once it is in the file (records that fail are
 * few); when a write fails (a full disk), the file is cut back to the end of
 * the last whole record, so that a rerun on it never sends part of one as if
 * it were whole, and nothing more is written. */
static void failed_write(const unsigned char *rec, size_t len, int with_sep) {
    if (failed_fd < 0 || failed_write_error) return;
    if (!failed_write_all(rec, len) || (with_sep && !failed_write_all(&opt.sep, 1))) {
        int cut;
        failed_write_error = errno ? errno : EIO;
        cut = ftruncate(failed_fd, (off_t)failed_bytes) == 0;
        say_begin();
        fprintf(stderr, "kinagg-cat: --failed %s: %s; no more records written to it%s\n", opt.failed_path,
                strerror(failed_write_error),
                cut ? " (it holds the whole records written before)" : " (its last record may be cut short)");
        return;
    }
    failed_bytes += len + (with_sep ? 1 : 0);
    failed_written++;
}

/* Copies a record in; its slot number + 1, or 0 when there is no room. */
static size_t keep_add(const unsigned char *rec, size_t len) {
    size_t need = len + 1, off, i;
    if (keep.count == keep.nslots) return 0;
    if (keep.count == 0) keep.head = keep.tail = 0;
    if (keep.count == 0 || keep.head > keep.tail) {
        if (keep.cap - keep.head >= need) off = keep.head;
        else if (keep.tail >= need) off = 0;
        else return 0;
    } else if (keep.head < keep.tail && keep.tail - keep.head >= need) {
        off = keep.head;
    } else {
        return 0;
    }
    memcpy(keep.buf + off, rec, len);
    keep.buf[off + len] = opt.sep;
    i = keep.shead;
    keep.slots[i].off = off;
    keep.slots[i].len = need;
    keep.slots[i].done = 0;
    keep.shead = (keep.shead + 1) % keep.nslots;
    keep.count++;
    keep.prev_head = keep.head;
    keep.head = off + need;
    return i + 1;
}

/* Takes back the record keep_add just added (the producer had no room). */
static void keep_undo(void) {
    keep.shead = (keep.shead + keep.nslots - 1) % keep.nslots;
    keep.count--;
    keep.head = keep.prev_head;
}

static void keep_done(size_t slot) {
    keep.slots[slot].done = 1;
    while (keep.count && keep.slots[keep.stail].done) {
        keep.stail = (keep.stail + 1) % keep.nslots;
        keep.count--;
    }
    if (keep.count) keep.tail = keep.slots[keep.stail].off;
    else keep.head = keep.tail = 0;
}

static void on_complete(void *ctx, const kinagg_completion *c) {
    size_t slot = (size_t)(uintptr_t)c->user;
    (void)ctx;
    if (c->status == KINAGG_OK) {
        delivered++;
    } else {
        if (c->status == KINAGG_ERR_ABANDONED) abandoned++;
        else failed++;
        if (c->status == KINAGG_ERR_EXPIRED) expired++;
        /* failed for good: the service's code and message; expired: the
         * code of its last failure (its message is the producer's own
         * text, which kinagg_strerror says already) */
        if (!first_failure[0] && c->status == KINAGG_ERR_EXPIRED)
            snprintf(first_failure, sizeof first_failure, "%s%s%.*s%s", kinagg_strerror(c->status),
                     c->error_code.len ? " (its last failure: " : "", (int)c->error_code.len, c->error_code.ptr,
                     c->error_code.len ? ")" : "");
        else if (!first_failure[0] && c->status != KINAGG_ERR_ABANDONED)
            snprintf(first_failure, sizeof first_failure, "%s: %.*s%s%.*s", kinagg_strerror(c->status),
                     (int)c->error_code.len, c->error_code.ptr, c->error_code.len && c->error_message.len ? ": " : "",
                     (int)c->error_message.len, c->error_message.ptr);
        if (slot) failed_write(keep.buf + keep.slots[slot - 1].off, keep.slots[slot - 1].len, 0);
    }
    if (slot) keep_done(slot - 1);
}

/* ---- input ------------------------------------------------------------------
 * One buffer: room for the longest record and 64 KiB more. Records are put
 * from it as they complete; a record the producer has no room for stays
 * there (and nothing more is read) until it has. */

static struct {
    char **names;
    int count, next;
    int fd;                 /* -1: none open */
    const char *name;       /* for messages */
    unsigned long long no;  /* records taken from this input */
    unsigned char *buf;
    size_t cap, limit, start, end, scan;
    int skipping;           /* dropping the rest of an over-long record */
    int eof;                /* this input has ended (or reading stopped) */
    int stopped;            /* a signal: read no more, put what is buffered */
    int done;               /* every input read and put */
    int ended;              /* read() said so: its last bytes are a whole record */
    unsigned long long consumed; /* bytes of this input before buf[0] */
} in;
static unsigned long refusals_shown;

static void refuse(const unsigned char *rec, size_t len, const char *why) {
    refused++;
    if (refusals_shown++ < 20) {
        say_begin();
        fprintf(stderr, "kinagg-cat: %s:%llu: %s; refused\n", in.name, in.no, why);
        if (refusals_shown == 20) fprintf(stderr, "kinagg-cat: (further refusals are counted, not shown)\n");
    }
    if (rec) failed_write(rec, len, 1);
}

/* Puts one record (len bytes as read, without its separator). 0: no room
 * now, nothing taken; 1: taken (put or refused). */
static int put_record(const unsigned char *rec, size_t len) {
    const unsigned char *data = rec;
    size_t dlen = len, klen, slot = 0;
    const char *key;
    char randkey[17], why[160];
    kinagg_status st;
    if (opt.strip_cr && dlen && data[dlen - 1] == '\r') dlen--;
    if (opt.tab_key) {
        const unsigned char *tab = (const unsigned char *)memchr(data, '\t', dlen);
        if (!tab) {
            in.no++;
            refuse(rec, len, "no TAB between key and data");
            return 1;
        }
        key = (const char *)data;
        klen = (size_t)(tab - data);
        data = tab + 1;
        dlen -= klen + 1;
    } else if (opt.fixed_key) {
        key = opt.fixed_key;
        klen = strlen(opt.fixed_key);
    } else {
        snprintf(randkey, sizeof randkey, "%08x%08x", (unsigned)pf.random(NULL), (unsigned)pf.random(NULL));
        key = randkey;
        klen = 16;
    }
    if (failed_fd >= 0) {
        slot = keep_add(rec, len);
        if (!slot) return 0;
    }
    st = kinagg_producer_put(&prod, key, klen, NULL, 0, data, dlen, (void *)(uintptr_t)slot);
    if (st == KINAGG_ERR_FULL) {
        if (slot) keep_undo();
        return 0;
    }
    in.no++;
    if (st == KINAGG_OK) lines_read++; /* (refused ones are counted by refuse) */
    if (st != KINAGG_OK) {
        int too_large = st == KINAGG_ERR_TOO_LARGE || st == KINAGG_ERR_BUFFER_TOO_SMALL;
        if (slot) keep_undo();
        if (too_large)
            snprintf(why, sizeof why, "record of %lu bytes (data + partition key) is over the limit of %lu",
                     (unsigned long)(dlen + klen), (unsigned long)prod.cfg.max_record_size);
        else
            snprintf(why, sizeof why, "%s", kinagg_strerror(st));
        refuse(too_large ? NULL : rec, len, why); /* one too large could never be sent again */
    }
    return 1;
}

/* Opens the next input; 0 when there is none left. */
static int input_open_next(void) {
    for (;;) {
        const char *name;
        if (in.names ? in.next >= in.count : in.next >= 1) return 0;
        name = in.names ? in.names[in.next] : "-";
        in.next++;
        in.no = 0;
        in.start = in.end = in.scan = 0;
        in.consumed = 0;
        in.skipping = 0;
        in.eof = in.ended = 0;
        if (!strcmp(name, "-")) {
            in.fd = 0; /* shared with others: its flags are left alone */
            in.name = "standard input";
            return 1;
        }
        /* our own description: never blocks (a FIFO without a writer yet) */
        in.fd = open(name, O_RDONLY | O_NONBLOCK);
        in.name = name;
        if (in.fd >= 0) return 1;
        say_begin();
        fprintf(stderr, "kinagg-cat: %s: %s\n", name, strerror(errno));
        input_errors++;
    }
}

static void input_close(void) {
    if (in.fd > 0) close(in.fd);
    in.fd = -1;
}

/* Puts the complete records buffered (and, once the input ended, the last
 * one without a separator); moves on to the next input at the end of one.
 * 0 when the producer had no room for a record. */
static int input_feed(void) {
    for (;;) {
        const unsigned char *sep;
        if (in.skipping) {
            sep = (const unsigned char *)memchr(in.buf + in.start, opt.sep, in.end - in.start);
            if (!sep) {
                in.consumed += in.end;
                in.start = in.end = in.scan = 0;
                if (!in.eof) return 1;
            } else {
                in.start = in.scan = (size_t)(sep - in.buf) + 1;
            }
            in.skipping = 0;
            continue;
        }
        sep = (const unsigned char *)memchr(in.buf + in.scan, opt.sep, in.end - in.scan);
        if (sep) {
            if (!put_record(in.buf + in.start, (size_t)(sep - (in.buf + in.start)))) {
                in.scan = (size_t)(sep - in.buf);
                return 0;
            }
            in.start = in.scan = (size_t)(sep - in.buf) + 1;
            continue;
        }
        in.scan = in.end;
        if (in.end - in.start > in.limit) { /* longer than any record can be */
            char why[96];
            in.no++;
            snprintf(why, sizeof why, "record longer than %lu bytes", (unsigned long)in.limit);
            refuse(NULL, 0, why);
            in.consumed += in.end;
            in.start = in.end = in.scan = 0;
            in.skipping = 1;
            continue;
        }
        if (!in.eof) return 1;
        if (in.end > in.start) { /* the last record, without a separator */
            if (!put_record(in.buf + in.start, in.end - in.start)) return 0;
            in.start = in.end = in.scan = 0;
        }
        input_close();
        if (in.stopped || !input_open_next()) {
            in.done = 1;
            return 1;
        }
    }
}

/* One read (the descriptor was ready). */
static void input_read(void) {
    ssize_t n;
    if (in.start) {
        memmove(in.buf, in.buf + in.start, in.end - in.start);
        in.consumed += in.start;
        in.end -= in.start;
        in.scan -= in.start;
        in.start = 0;
    }
    n = read(in.fd, in.buf + in.end, in.cap - in.end);
    if (n > 0) {
        in.end += (size_t)n;
    } else if (n == 0) {
        in.eof = in.ended = 1;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        say_begin();
        fprintf(stderr, "kinagg-cat: %s: %s\n", in.name, strerror(errno));
        input_errors++;
        in.eof = in.ended = 1;
    }
}

/* Reading stops (a signal): a read ends anywhere, so the buffer usually
 * ends inside a record. That part is not a record, and is not sent (nor
 * written to --failed, whose records must be whole): the input goes on from
 * its first byte, which is printed. */
static void input_stop(void) {
    size_t i, k = 0;
    in.stopped = 1;
    if (in.fd < 0 || in.done || in.ended) return; /* (its last record is whole) */
    if (in.skipping) { /* inside a record refused as too long */
        say_begin();
        fprintf(stderr, "kinagg-cat: %s:%llu: reading stopped inside this refused record; the input after it was not "
                        "read (from byte %llu on)\n", in.name, in.no, in.consumed + in.end);
    } else {
        for (i = in.end; i > in.start && in.buf[i - 1] != opt.sep; i--) {}
        if (i < in.end) {
            const unsigned char *p = in.buf + in.start, *e = in.buf + i;
            struct stat st;
            /* from a pipe, a terminal or a socket, the part read cannot be
             * read again: that record is lost to a rerun too (status 1) */
            int lost = fstat(in.fd, &st) != 0 || !S_ISREG(st.st_mode);
            while ((p = (const unsigned char *)memchr(p, opt.sep, (size_t)(e - p))) != NULL) { p++; k++; }
            say_begin();
            fprintf(stderr,
                    "kinagg-cat: %s:%llu: reading stopped inside this record; it and what follows were not sent "
                    "(they start at byte %llu%s)\n", in.name, in.no + k + 1, in.consumed + i,
                    lost ? "; the part of it already read is lost: this input is not a file, and cannot be read again" : "");
            cut_lost |= lost;
            in.end = i;
            if (in.scan > i) in.scan = i;
        }
    }
    in.skipping = 0;
    in.eof = 1;
}

/* ---- errors as they happen ----------------------------------------------------
 * Each kind (the text without its digits: shard ids, request times) is
 * printed when first met; its repeats are counted and summarised. */

#define ERROR_KINDS 32
static struct {
    char key[96];
    char text[256];
    unsigned long long again;
} kinds[ERROR_KINDS];
static size_t nkinds;
static uint64_t errors_seen, last_summary_ms;
static int map_note;
static char map_why[256];  /* the newest ListShards error seen */
static tool_opts *setup_o; /* what main resolved, for map_cause's own call */
static kinagg_aws_config *setup_cfg;

/* The cause of a failed listing, from a ListShards call of our own: the
 * producer keeps only its newest error, and within one poll or flush a
 * PutRecords error can replace the ListShards one before it is seen (so it
 * is with refused credentials, where both fail alike). Made once, when the
 * map is found unavailable and no ListShards error was seen. */
static void map_cause(char *out, size_t cap) {
    static kinagg_kinesis mk;
    static unsigned char sb[8192], rb[16384]; /* sb: a request head with a session token of 4 KiB */
    static tool_conn cc;
    kinagg_transport ctp;
    kinagg_endpoint mep;
    kinagg_credentials mcred;
    kinagg_platform mpf;
    kinagg_shard one[1];
    char region[64], token[1024] = "";
    size_t n = 0;
    kinagg_status st;
    int service;
    if (!tool_setup("kinagg-cat", setup_o, setup_cfg, &mep, &mcred, region, sizeof region, &cc, 1, &ctp, &mpf)) {
        snprintf(out, cap, "ListShards failed");
        return;
    }
    kinagg_kinesis_init(&mk, &mep, kinagg_str_c(region), &mcred, setup_o->protocol, &ctp, &mpf, sb, sizeof sb, rb,
                        sizeof rb);
    st = kinagg_list_shards_page(&mk, tool_stream(setup_o), token, sizeof token, one, 1, &n, 1);
    service = st == KINAGG_ERR_SERVICE && mk.error_type[0];
    if (st == KINAGG_OK)
        snprintf(out, cap, "ListShards failed, and answered when asked again");
    else
        snprintf(out, cap, "ListShards: %.80s%s%.150s",
                 service                                           ? mk.error_type
                 : mk.http.error_detail && mk.http.error_detail[0] ? mk.http.error_detail
                                                                   : kinagg_strerror(st),
                 service && mk.error_message[0] ? ": " : "", service ? mk.error_message : "");
    kinagg_http_close(&mk.http);
}

static void error_key(const char *text, char *key, size_t cap) {
    size_t n = 0;
    for (; *text && n + 1 < cap; text++)
        if (*text < '0' || *text > '9') key[n++] = *text;
    key[n] = '\0';
}

static void errors_report(uint64_t now, int final);

/* The server's certificate refused for its name or CA before anything was
 * delivered: a wrong endpoint or CA bundle, which waiting will not mend
 * (the error line says which). Says so; the caller gives the records up. */
static int cert_refused(const tool_conn *conns) {
    if (prod.stats.records_delivered || !tool_conns_cert_refused(conns, (unsigned)opt.connections)) return 0;
    errors_report(pf.now_ms(NULL), 0);
    if (!in.stopped && !in.done) input_stop();
    say_begin();
    fprintf(stderr, "kinagg-cat: giving up: the server's certificate is refused (check the endpoint and "
                    "--ca-file)\n");
    return 1;
}

static void errors_report(uint64_t now, int final) {
    kinagg_producer_stats s;
    size_t i;
    kinagg_producer_get_stats(&prod, &s);
    if (s.errors != errors_seen) {
        const char *text = kinagg_producer_last_error(&prod);
        char key[96], cred_text[256];
        /* the producer knows only that its credentials source failed; the
         * provider says why (the command's exit status, the service's answer) */
        if (!strncmp(text, "Credentials: ", 13) && tool_creds.error[0]) {
            snprintf(cred_text, sizeof cred_text, "Credentials: %.240s", tool_creds.error);
            text = cred_text;
        }
        uint64_t delta = s.errors - errors_seen;
        errors_seen = s.errors;
        error_key(text, key, sizeof key);
        for (i = 0; i < nkinds && strcmp(kinds[i].key, key) != 0; i++) {}
        if (i == nkinds && nkinds < ERROR_KINDS) {
            snprintf(kinds[i].key, sizeof kinds[i].key, "%s", key);
            nkinds++;
            say_begin();
            fprintf(stderr, "kinagg-cat: %s\n", text);
            delta--;
        }
        if (i < nkinds) {
            snprintf(kinds[i].text, sizeof kinds[i].text, "%s", text);
            kinds[i].again += delta;
        }
        if (!strncmp(text, "ListShards: ", 12)) snprintf(map_why, sizeof map_why, "%s", text);
    }
    if (s.shard_map == KINAGG_SHARD_MAP_UNAVAILABLE && map_note != 1) {
        /* a missing stream says so itself; the map is not the point then */
        const char *why = kinagg_producer_last_error(&prod);
        if (strncmp(why, "ListShards: ", 12) != 0) {
            if (!map_why[0]) map_cause(map_why, sizeof map_why);
            why = map_why;
        }
        if (!strstr(why, "ResourceNotFoundException")) {
            say_begin();
            fprintf(stderr, "kinagg-cat: shard map unavailable (%s%s): sending without aggregation (only records "
                            "with the same partition key are aggregated)\n",
                    why,
                    strstr(why, "max_shards") ? "; --max-shards counts open and closed shards" : "");
        }
        map_note = 1;
    } else if (s.shard_map == KINAGG_SHARD_MAP_LOADED && map_note == 1) {
        say_begin();
        fprintf(stderr, "kinagg-cat: shard map loaded: aggregating by shard\n");
        map_note = 2;
    }
    if (final || now - last_summary_ms >= 10000) {
        for (i = 0; i < nkinds; i++) {
            if (!kinds[i].again) continue;
            say_begin();
            fprintf(stderr, "kinagg-cat: %s (%llu more like it in %.0f s; %lu records waiting)\n", kinds[i].text,
                    kinds[i].again, (double)(now - last_summary_ms) / 1000.0 + 0.5, (unsigned long)s.buffered_records);
            kinds[i].again = 0;
        }
        last_summary_ms = now;
    }
}

static uint64_t progress_ms;

static void progress(uint64_t now, uint64_t start) {
    kinagg_producer_stats s;
    double secs = (double)(now - start) / 1000.0;
    if (!tty || now - progress_ms < 250) return;
    progress_ms = now;
    kinagg_producer_get_stats(&prod, &s);
    fprintf(stderr, "\r\033[K%llu read, %llu delivered (%.0f/s), %llu failed, %lu buffered%s", lines_read, delivered,
            secs > 0 ? (double)delivered / secs : 0.0, failed, (unsigned long)s.buffered_records,
            in.stopped ? ", stopping" : "");
    progress_shown = 1;
}

/* ---- signals ----------------------------------------------------------------- */

static void on_signal(int sig) {
    int saved = errno;
    signals_seen++;
    last_signal = sig;
    if (sig_pipe[1] >= 0 && write(sig_pipe[1], "s", 1) < 0) {}
    errno = saved;
}

static void signals_setup(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN; /* a closed stderr or --failed pipe is an error, not death */
    sigaction(SIGPIPE, &sa, NULL);
    if (pipe(sig_pipe) == 0) {
        fcntl(sig_pipe[0], F_SETFL, fcntl(sig_pipe[0], F_GETFL, 0) | O_NONBLOCK);
        fcntl(sig_pipe[1], F_SETFL, fcntl(sig_pipe[1], F_GETFL, 0) | O_NONBLOCK);
        fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC);
        fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC);
    }
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    { /* SIGINT and SIGHUP (the terminal or ssh session closed) ignored by
       * the parent (a background job of a script, nohup) stay ignored, as
       * the convention goes */
        static const int sigs[2] = {SIGINT, SIGHUP};
        int k;
        for (k = 0; k < 2; k++) {
            struct sigaction old;
            if (sigaction(sigs[k], NULL, &old) != 0 || old.sa_handler != SIG_IGN) sigaction(sigs[k], &sa, NULL);
        }
    }
}

static const char *signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "signal";
}

/* ---- main -------------------------------------------------------------------- */

int main(int argc, char **argv) {
    tool_opts o;
    kinagg_aws_config cfg;
    kinagg_endpoint ep;
    kinagg_credentials cred;
    static tool_conn conns[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_transport tps[KINAGG_PRODUCER_MAX_CONNECTIONS];
    kinagg_producer_config pc;
    char region[64];
    int i, nfiles = 0, only_files = 0;
    char **files = (char **)calloc((size_t)argc + 1, sizeof(char *));
    unsigned char *region_mem;
    size_t region_bytes, record_bytes;
    uint64_t start, stop_ms = 0, drain_deadline = UINT64_MAX;
    unsigned long long delivered_mark = 0, retried_mark = 0;
    int stalled = 0, full = 0, handled_signals = 0, abandon_now = 0;
    kinagg_status st;

    memset(&o, 0, sizeof o);
    memset(&opt, 0, sizeof opt);
    opt.aggregate = 1;
    opt.sep = '\n';
    opt.max_buffered_ms = 100;
    opt.max_entries = 500;
    opt.connections = 2;
    opt.buffer_mb = 16;
    opt.rate_limit = 100;
    opt.drain_timeout_ms = 30000;
    opt.max_record_kib = 1024;
    opt.max_shards = 1024;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        static const struct {
            const char *name;
            unsigned long lo, hi;
            const char *want;
            size_t at; /* offset in cat_opts */
        } nums[] = {
            {"--max-buffered-ms", 0, 3600000, "milliseconds, 0-3600000", offsetof(cat_opts, max_buffered_ms)},
            {"--max-entries", 1, 500, "a number from 1 to 500", offsetof(cat_opts, max_entries)},
            {"--connections", 1, KINAGG_PRODUCER_MAX_CONNECTIONS, "a number from 1 to 8", offsetof(cat_opts, connections)},
            {"--buffer-mb", 1, 4095, "MiB, 1-4095", offsetof(cat_opts, buffer_mb)},
            {"--create", 1, 10000, "a shard count, 1-10000", offsetof(cat_opts, create)},
            {"--rate-limit", 1, 1000, "a percentage, 1-1000", offsetof(cat_opts, rate_limit)},
            {"--record-ttl", 0, 86400000, "milliseconds, 0 (never) to 86400000", offsetof(cat_opts, record_ttl_ms)},
            {"--drain-timeout", 0, 86400000, "milliseconds, 0-86400000", offsetof(cat_opts, drain_timeout_ms)},
            {"--max-record-kib", 1, 10240, "KiB, 1-10240", offsetof(cat_opts, max_record_kib)},
            {"--max-shards", 1, 65535, "a shard count, 1-65535", offsetof(cat_opts, max_shards)},
            {"--cli-read-timeout", 1, 3600, "seconds, 1-3600", offsetof(cat_opts, read_timeout_s)},
            {"--cli-connect-timeout", 1, 3600, "seconds, 1-3600", offsetof(cat_opts, connect_timeout_s)},
        };
        size_t k;
        int r;
        if (only_files || !strcmp(a, "-") || a[0] != '-') {
            files[nfiles++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) { only_files = 1; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); fputs(usage_more, stdout); return 0; }
        r = tool_common_option(&o, argc, argv, &i);
        if (r < 0) return usage_error(a, i + 1 < argc && !strcmp(a, "--protocol") ? argv[i + 1] : NULL,
                                      !strcmp(a, "--protocol") ? "json or cbor" : "see --help");
        if (r) continue;
        for (k = 0; k < sizeof nums / sizeof nums[0] && strcmp(a, nums[k].name) != 0; k++) {}
        if (k < sizeof nums / sizeof nums[0]) {
            if (i + 1 >= argc) return usage_error(a, NULL, nums[k].want);
            if (!tool_number(argv[i + 1], nums[k].lo, nums[k].hi, (unsigned long *)(void *)((char *)&opt + nums[k].at)))
                return usage_error(a, argv[i + 1], nums[k].want);
            i++;
        } else if (!strcmp(a, "-0") || !strcmp(a, "--null")) opt.sep = '\0';
        else if (!strcmp(a, "--strip-cr")) opt.strip_cr = 1;
        else if (!strcmp(a, "--random-key")) { opt.fixed_key = NULL; opt.tab_key = 0; }
        else if (!strcmp(a, "--tab-key")) { opt.tab_key = 1; opt.fixed_key = NULL; }
        else if (!strcmp(a, "--no-aggregate")) opt.aggregate = 0;
        else if (!strcmp(a, "--partition-key") || !strcmp(a, "--failed") || !strcmp(a, "--stats-json")) {
            if (i + 1 >= argc) return usage_error(a, NULL, !strcmp(a, "--partition-key") ? "a key" : "a file name");
            if (!strcmp(a, "--partition-key")) {
                opt.fixed_key = argv[++i];
                opt.tab_key = 0;
                if (kinagg_partition_key_check(opt.fixed_key, strlen(opt.fixed_key)) != KINAGG_OK)
                    return usage_error(a, opt.fixed_key, "1 to 256 characters of UTF-8");
            } else if (!strcmp(a, "--failed")) opt.failed_path = argv[++i];
            else opt.stats_path = argv[++i];
        } else {
            fprintf(stderr, "kinagg-cat: unknown option %s (see --help)\n", a);
            return 2;
        }
    }
    {
        /* --failed and --stats-json are truncated when they open: never one
         * of the inputs (the usual retry, `kinagg-cat --failed f f`, would
         * erase f unread) */
        const char *outs[2], *what[2] = {"--failed", "--stats-json"};
        int k, stdin_used = !nfiles;
        for (i = 0; i < nfiles; i++) stdin_used |= !strcmp(files[i], "-");
        if (!tool_std_fds("kinagg-cat", stdin_used ? 1u : 0u)) return 2;
        outs[0] = opt.failed_path;
        outs[1] = opt.stats_path;
        for (k = 0; k < 2; k++) {
            struct stat fs, is;
            if (!outs[k] || stat(outs[k], &fs) != 0 || !S_ISREG(fs.st_mode)) continue;
            for (i = 0; i <= nfiles; i++) {
                int same = i < nfiles ? (strcmp(files[i], "-") ? stat(files[i], &is) : fstat(0, &is)) == 0
                                      : stdin_used && fstat(0, &is) == 0;
                if (same && is.st_dev == fs.st_dev && is.st_ino == fs.st_ino) {
                    fprintf(stderr, "kinagg-cat: %s %s is also an input (%s): it would be erased; name another file\n",
                            what[k], outs[k], i < nfiles && strcmp(files[i], "-") ? files[i] : "standard input");
                    return 2;
                }
            }
        }
        if (opt.stats_path) { /* writable? (written, from the start, when done; a new one is left only then) */
            int existed = access(opt.stats_path, F_OK) == 0;
            int fd = open(opt.stats_path, O_WRONLY | O_CREAT, 0666);
            struct stat ss, fs;
            if (fd < 0) {
                fprintf(stderr, "kinagg-cat: --stats-json %s: %s\n", opt.stats_path, strerror(errno));
                return 2;
            }
            /* one file for both: the counts, written last, would replace the
             * failed records (compared while it exists, so another path to
             * a file not there before is found too) */
            if (opt.failed_path && fstat(fd, &ss) == 0 && stat(opt.failed_path, &fs) == 0 && ss.st_dev == fs.st_dev &&
                ss.st_ino == fs.st_ino) {
                close(fd);
                if (!existed) unlink(opt.stats_path);
                fprintf(stderr, "kinagg-cat: --failed %s and --stats-json %s are the same file: the counts would "
                                "replace the failed records; name two files\n", opt.failed_path, opt.stats_path);
                return 2;
            }
            close(fd);
            if (!existed) unlink(opt.stats_path);
        }
    }
    if (opt.record_ttl_ms && opt.record_ttl_ms <= opt.max_buffered_ms) {
        /* a record of a quiet input would expire before its first send */
        fprintf(stderr, "kinagg-cat: --record-ttl %lu must be longer than --max-buffered-ms %lu: a record waits up "
                        "to --max-buffered-ms before it is first sent\n",
                (unsigned long)opt.record_ttl_ms, (unsigned long)opt.max_buffered_ms);
        return 2;
    }
    tty = isatty(2);
    o.connect_timeout_ms = (uint32_t)opt.connect_timeout_s * 1000;
    setup_o = &o;
    setup_cfg = &cfg;
    if (!tool_setup("kinagg-cat", &o, &cfg, &ep, &cred, region, sizeof region, conns, (unsigned)opt.connections, tps,
                    &pf))
        return 2;

    if (opt.create) { /* a plain client for the one call */
        static kinagg_kinesis k;
        static unsigned char sb[8192], rb[65536]; /* (the same) */
        static tool_conn cc;
        kinagg_transport ctp;
        if (!tool_setup("kinagg-cat", &o, &cfg, &ep, &cred, region, sizeof region, &cc, 1, &ctp, &pf)) return 2;
        kinagg_kinesis_init(&k, &ep, kinagg_str_c(region), &cred, o.protocol, &ctp, &pf, sb, sizeof sb, rb, sizeof rb);
        if (opt.connect_timeout_s) k.http.connect_timeout_ms = (uint32_t)opt.connect_timeout_s * 1000;
        {
            /* throttling (five streams being created at most), 5xx and
             * network faults pass: tried again for a minute, as the other
             * calls are (a limit that stays is then reported) */
            uint32_t wait_ms = 500;
            uint64_t until = pf.now_ms(NULL) + 60000;
            for (;;) {
                st = kinagg_create_stream(&k, kinagg_str_c(o.stream ? o.stream : ""), (unsigned)opt.create);
                if (st == KINAGG_OK || !strcmp(k.error_type, "ResourceInUseException") ||
                    !kinagg_producer_retryable(st, &k) || tool_conns_cert_refused(&cc, 1) || pf.now_ms(NULL) >= until)
                    break;
                if (wait_ms == 500)
                    fprintf(stderr, "kinagg-cat: CreateStream: %s; trying again\n",
                            st == KINAGG_ERR_SERVICE && k.error_type[0] ? k.error_type : kinagg_strerror(st));
                pf.sleep_ms(NULL, wait_ms);
                wait_ms = wait_ms >= 4000 ? 5000 : wait_ms * 2;
            }
        }
        if (st != KINAGG_OK && strcmp(k.error_type, "ResourceInUseException") != 0) {
            int service = st == KINAGG_ERR_SERVICE && k.error_type[0];
            const char *detail = service ? k.error_message : k.http.error_detail;
            if (!detail || !detail[0] || !service) detail = "";
            fprintf(stderr, "kinagg-cat: CreateStream: %s%s%s\n",
                    service                                 ? k.error_type
                    : k.http.error_detail && k.http.error_detail[0] ? k.http.error_detail
                                                            : kinagg_strerror(st),
                    detail[0] ? ": " : "", detail);
            return 2;
        }
        { /* a new stream takes a while to become ACTIVE (tens of seconds on AWS) */
            char status[32] = "";
            unsigned waited;
            for (waited = 0; waited < 600; waited++) {
                if (kinagg_describe_stream_summary(&k, tool_stream(&o), status, sizeof status, NULL) == KINAGG_OK &&
                    !strcmp(status, "ACTIVE"))
                    break;
                if (tty && waited % 5 == 4) fprintf(stderr, "\rwaiting for %s to become ACTIVE (%s)...", o.stream, status);
                pf.sleep_ms(NULL, 200);
            }
            if (strcmp(status, "ACTIVE")) {
                fprintf(stderr, "kinagg-cat: stream %s is not ACTIVE after 2 minutes (%s)\n", o.stream, status);
                return 2;
            }
        }
        kinagg_http_close(&k.http);
    }

    /* the producer: --buffer-mb for the records' bytes, the rest as
     * kinagg_producer_region_size says */
    /* a 32-bit system keeps the records below a quarter of its address
     * space (the library's bound), so 1023 MiB at most there */
    if (opt.buffer_mb > ((size_t)-1 / 4) >> 20) {
        fprintf(stderr, "kinagg-cat: --buffer-mb %lu is more than this %u-bit system takes (%lu at most)\n",
                opt.buffer_mb, (unsigned)(sizeof(size_t) * 8), (unsigned long)(((size_t)-1 / 4) >> 20));
        return 2;
    }
    record_bytes = (size_t)opt.buffer_mb << 20;
    kinagg_producer_config_defaults(&pc);
    pc.stream = tool_stream(&o);
    pc.aggregation = opt.aggregate ? KINAGG_AGGREGATE_BY_SHARD : KINAGG_AGGREGATE_NONE;
    pc.max_buffered_ms = (uint32_t)opt.max_buffered_ms;
    pc.collection_max_count = opt.max_entries;
    pc.connections = (unsigned)opt.connections;
    pc.rate_limit_percent = (uint32_t)opt.rate_limit;
    pc.record_ttl_ms = (uint32_t)opt.record_ttl_ms;
    if (opt.read_timeout_s) pc.request_timeout_ms = (uint32_t)opt.read_timeout_s * 1000;
    if (opt.connect_timeout_s) pc.connect_timeout_ms = (uint32_t)opt.connect_timeout_s * 1000;
    pc.max_shards = opt.max_shards;
    pc.max_record_size = (size_t)opt.max_record_kib << 10;
    if (pc.aggregation_max_size > pc.max_record_size) pc.aggregation_max_size = pc.max_record_size;
    if (pc.collection_max_size < pc.max_record_size) pc.collection_max_size = pc.max_record_size;
    pc.record_buffer_size = record_bytes;
    pc.max_records = record_bytes / 128; /* records of about 100 bytes and more fill the bytes first */
    pc.request_buffer_size = record_bytes / 8 / opt.connections; /* a request's aggregates */
    if (pc.request_buffer_size > pc.collection_max_size) pc.request_buffer_size = pc.collection_max_size;
    if (pc.request_buffer_size < pc.aggregation_max_size) pc.request_buffer_size = pc.aggregation_max_size;
    pc.on_complete = on_complete;
    pc.credentials_source = tool_credentials_source();
    region_bytes = kinagg_producer_region_size(&pc);
    if (!region_bytes) {
        fprintf(stderr, "kinagg-cat: --buffer-mb %lu cannot hold a record of --max-record-kib %lu\n", opt.buffer_mb,
                opt.max_record_kib);
        return 2;
    }
    region_mem = (unsigned char *)malloc(region_bytes);
    in.limit = pc.max_record_size + 2; /* a TAB and a \r more than what the producer takes */
    in.cap = in.limit + 65536 + 1;
    in.buf = (unsigned char *)malloc(in.cap);
    if (opt.failed_path) {
        keep.cap = record_bytes + record_bytes / 8;
        keep.nslots = pc.max_records + 1;
        keep.buf = (unsigned char *)malloc(keep.cap);
        keep.slots = (keep_slot *)calloc(keep.nslots, sizeof(keep_slot));
        failed_fd = open(opt.failed_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (failed_fd < 0) {
            fprintf(stderr, "kinagg-cat: --failed %s: %s\n", opt.failed_path, strerror(errno));
            return 2;
        }
    }
    if (!region_mem || !in.buf || (opt.failed_path && (!keep.buf || !keep.slots))) {
        fprintf(stderr, "kinagg-cat: out of memory for --buffer-mb %lu\n", opt.buffer_mb);
        return 2;
    }
    /* (with a source, the credentials come from it, with their expiry) */
    st = kinagg_producer_init(&prod, region_mem, region_bytes, &pc, &ep, kinagg_str_c(region),
                              pc.credentials_source.get ? NULL : &cred, o.protocol, tps, &pf);
    if (st != KINAGG_OK) {
        fprintf(stderr, "kinagg-cat: cannot start the producer: %s\n", kinagg_strerror(st));
        return 2;
    }
    signals_setup();
    in.names = nfiles ? files : NULL;
    in.count = nfiles;
    in.fd = -1;
    if (!input_open_next()) in.done = 1;
    start = pf.now_ms(NULL);
    last_summary_ms = start;

    /* reading: the input, the connections and the producer's timer at once */
    while (!in.done || prod.stats.buffered_records) {
        struct pollfd fds[2 + KINAGG_PRODUCER_MAX_CONNECTIONS];
        size_t nfds = 0;
        int timeout, input_at = -1;
        uint64_t next = 0, now;
        kinagg_producer_stats s;

        if (signals_seen != handled_signals) {
            char drain[16];
            while (read(sig_pipe[0], drain, sizeof drain) > 0) {}
            handled_signals = signals_seen;
            if (handled_signals >= 2) {
                if (!in.stopped) input_stop(); /* (two at once) */
                abandon_now = 1;
                break;
            }
            stop_ms = pf.now_ms(NULL);
            drain_deadline = stop_ms + opt.drain_timeout_ms;
            input_stop();
            say_begin();
            fprintf(stderr, "kinagg-cat: %s: reading stopped; delivering what was read (%lu records buffered), "
                            "for up to %.0f s; a second signal gives it up\n",
                    signal_name(last_signal), (unsigned long)prod.stats.buffered_records,
                    (double)opt.drain_timeout_ms / 1000.0);
        }
        if (in.stopped && pf.now_ms(NULL) >= drain_deadline) {
            say_begin();
            fprintf(stderr, "kinagg-cat: --drain-timeout passed\n");
            abandon_now = 1;
            break;
        }
        if (in.done || in.stopped) {
            /* everything is read: send it all now, and wait for it */
            if (!in.done) full = !input_feed();
            now = pf.now_ms(NULL);
            if (in.done && !prod.stats.buffered_records) break;
            kinagg_producer_flush(&prod, (uint32_t)(drain_deadline - now < 250 ? drain_deadline - now + 1 : 250));
            if (cert_refused(conns)) {
                abandon_now = 1;
                break;
            }
            now = pf.now_ms(NULL);
            errors_report(now, 0);
            progress(now, start);
            continue;
        }

        kinagg_producer_poll(&prod, &next);
        if (cert_refused(conns)) {
            abandon_now = 1;
            break;
        }
        kinagg_producer_get_stats(&prod, &s);
        /* delivery failing: records sent again, none delivered since */
        if (s.records_delivered != delivered_mark || !s.buffered_records) {
            delivered_mark = s.records_delivered;
            retried_mark = s.records_retried;
            stalled = 0;
        } else if (s.records_retried != retried_mark) {
            stalled = 1;
        }
        if (full) full = !input_feed();
        now = pf.now_ms(NULL);
        errors_report(now, 0);
        progress(now, start);
        if (in.done) continue;

        timeout = next > now ? (int)(next - now > 1000 ? 1000 : next - now) : 0;
        if (tty && timeout > 250) timeout = 250;
        if (sig_pipe[0] >= 0) {
            fds[nfds].fd = sig_pipe[0];
            fds[nfds].events = POLLIN;
            fds[nfds].revents = 0;
            nfds++;
        }
        if (!full && !stalled && in.fd >= 0 && !in.eof) {
            input_at = (int)nfds;
            fds[nfds].fd = in.fd;
            fds[nfds].events = POLLIN;
            fds[nfds].revents = 0;
            nfds++;
        }
        nfds += tool_conn_pollfds(conns, (unsigned)opt.connections, fds + nfds, &timeout);
        if (poll(fds, (nfds_t)nfds, timeout) > 0 && input_at >= 0 && fds[input_at].revents) {
            input_read();
            full = !input_feed();
        }
    }

    if (abandon_now) {
        size_t n = kinagg_producer_abandon(&prod);
        unsigned long long left = 0;
        /* records read and not put yet are given up too */
        while (!in.skipping && in.end > in.start) {
            const unsigned char *sep = (const unsigned char *)memchr(in.buf + in.start, opt.sep, in.end - in.start);
            size_t len = sep ? (size_t)(sep - (in.buf + in.start)) : in.end - in.start;
            failed_write(in.buf + in.start, len, 1);
            in.start += len + (sep ? 1 : 0);
            left++;
        }
        abandoned += left;
        lines_read += left; /* read whole, and counted as lines */
        say_begin();
        fprintf(stderr, "kinagg-cat: %llu records given up, not known to be delivered%s%s\n",
                (unsigned long long)n + left, failed_fd >= 0 ? "; written to " : "",
                failed_fd >= 0 ? opt.failed_path : "");
    }
    {
        kinagg_producer_stats s;
        uint64_t now = pf.now_ms(NULL);
        double secs = (double)(now - start) / 1000.0;
        errors_report(now, 1);
        say_begin();
        kinagg_producer_get_stats(&prod, &s);
        fprintf(stderr,
                "kinagg-cat: %llu lines, %llu delivered in %llu Kinesis records (%.1f per record), %llu requests, "
                "%llu retries, %llu throttled, %llu failed, %llu refused%s, %.1f s\n",
                lines_read + refused, delivered, (unsigned long long)s.kinesis_records,
                s.kinesis_records ? (double)delivered / (double)s.kinesis_records : 0.0,
                (unsigned long long)s.requests, (unsigned long long)s.records_retried,
                (unsigned long long)s.entries_throttled, failed, refused, abandoned ? ", some abandoned" : "", secs);
        if (abandoned) fprintf(stderr, "kinagg-cat: %llu records abandoned\n", abandoned);
        if (failed) fprintf(stderr, "kinagg-cat: %llu records failed; the first: %s\n", failed, first_failure);
        if (input_errors)
            fprintf(stderr, "kinagg-cat: %llu input%s could not be read\n", input_errors, input_errors == 1 ? "" : "s");
        if (failed_fd >= 0) {
            if (close(failed_fd) != 0 && !failed_write_error) failed_write_error = errno ? errno : EIO;
            if (failed_written || failed_write_error)
                fprintf(stderr, "kinagg-cat: %llu records written to %s%s%s\n", failed_written, opt.failed_path,
                        failed_write_error ? "; writing it failed: " : "",
                        failed_write_error ? strerror(failed_write_error) : "");
        }
        if (opt.stats_path) {
            FILE *sf = fopen(opt.stats_path, "w");
            int ok = sf != NULL;
            char signal_json[16];
            snprintf(signal_json, sizeof signal_json, "\"%s\"", signal_name(last_signal));
            if (sf) {
                fprintf(sf,
                        "{\"lines\":%llu,\"user_records\":%llu,\"kinesis_records\":%llu,\"requests\":%llu,"
                        "\"retries\":%llu,\"throttled\":%llu,\"failed\":%llu,\"expired\":%llu,\"refused\":%llu,"
                        "\"abandoned\":%llu,\"failed_written\":%llu,\"bytes\":%llu,\"wire_bytes\":%llu,"
                        "\"errors\":%llu,\"signal\":%s,\"seconds\":%.3f}\n",
                        lines_read + refused, (unsigned long long)s.records_delivered,
                        (unsigned long long)s.kinesis_records, (unsigned long long)s.requests,
                        (unsigned long long)s.records_retried, (unsigned long long)s.entries_throttled, failed, expired,
                        refused, abandoned, failed_written, (unsigned long long)s.user_bytes,
                        (unsigned long long)s.wire_bytes, (unsigned long long)s.errors,
                        handled_signals ? signal_json : "null", secs);
                ok = fclose(sf) == 0;
            }
            if (!ok) {
                fprintf(stderr, "kinagg-cat: --stats-json %s: %s\n", opt.stats_path, strerror(errno));
                stats_write_error = 1;
            }
        }
    }
    kinagg_producer_close(&prod);
    free(region_mem);
    free(in.buf);
    free(keep.buf);
    free(keep.slots);
    free(files);
    return failed || refused || abandoned || input_errors || cut_lost || failed_write_error || stats_write_error ? 1 : 0;
}
