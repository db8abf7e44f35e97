/* kinagg_aws_config.h - credentials, region and endpoint from where AWS
 * users keep them, for POSIX systems.
 *
 * In one file:  #define KINAGG_AWS_CONFIG_IMPLEMENTATION  before including it.
 *
 *   kinagg_aws_config c;
 *   if (kinagg_aws_config_load(&c, NULL) != KINAGG_OK) puts(c.error);
 *   kinagg_credentials cred = kinagg_aws_config_credentials(&c);
 *
 * Looks, in the order the AWS CLI and SDKs use:
 *   keys      AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN, or the older AWS_SECURITY_TOKEN first);
 *             else the profile in ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE),
 *             else in ~/.aws/config (AWS_CONFIG_FILE, section [profile NAME];
 *             [default] or [profile default] for the default profile);
 *             a leading ~/ in those two variables, and ~/.aws, are in
 *             the home directory: HOME, else the password database's
 *             entry (as the AWS CLI finds it); without one, no files;
 *   profile   the argument, else AWS_DEFAULT_PROFILE, AWS_PROFILE (botocore's
 *             order), else "default";
 *   region    AWS_REGION, AWS_DEFAULT_REGION, else the profile's region;
 *   endpoint  AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, else the
 *             endpoint_url under "kinesis =" in the config file's section
 *             [services NAME] named by the profile's "services = NAME",
 *             else the profile's endpoint_url (empty: the region's public
 *             endpoint); none of them when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
 *             else the profile's ignore_configured_endpoint_urls, is true
 *             ("services = NAME" without that section: services_missing);
 *   FIPS, dual-stack  AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT, else
 *             the profile's use_fips_endpoint, use_dualstack_endpoint (for the
 *             region's endpoint: kinagg_aws_config_endpoint);
 *   CA bundle AWS_CA_BUNDLE, else the profile's ca_bundle (empty: none named).
 * Indented lines after a key with an empty value (e.g. "s3 =") are that
 * key's sub-settings, as the AWS CLI reads them: never the profile's own.
 * Keys may be in any case and written "key: value" (Python's configparser).
 * Static memory only: the strings live in the struct.
 */
/* (getpwuid_r is POSIX: asked for when this is the first include, so that
 * plain -std=c99 declares it) */
#if defined(KINAGG_AWS_CONFIG_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef KINAGG_AWS_CONFIG_H
#define KINAGG_AWS_CONFIG_H

#include "../kinagg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kinagg_aws_config {
    char profile[128];
    char access_key_id[128];
    char secret_access_key[256];
    char session_token[4096];
    char region[64];
    char endpoint_url[512];
    char ca_bundle[512];   /* AWS_CA_BUNDLE, else the profile's ca_bundle; "": none named */
    int use_fips;          /* AWS_USE_FIPS_ENDPOINT, else the profile's use_fips_endpoint: true */
    int use_dualstack;     /* AWS_USE_DUALSTACK_ENDPOINT, else the profile's use_dualstack_endpoint */
    char services_missing[128]; /* "services = NAME" with no [services NAME]: NAME (an error where the
                                   endpoint is looked up, as botocore's; endpoint_url is then empty) */
    char source[160];   /* where the keys came from, for messages */
    int keys_from;      /* KINAGG_AWS_KEYS_FROM_*: where the keys came from */
    int broken;         /* the files or the environment are in error (below) */
    char error[512];
} kinagg_aws_config;

enum { KINAGG_AWS_KEYS_FROM_NONE, KINAGG_AWS_KEYS_FROM_ENV, KINAGG_AWS_KEYS_FROM_CREDENTIALS_FILE,
       KINAGG_AWS_KEYS_FROM_CONFIG_FILE };

/* Fills *c. KINAGG_ERR_INVALID_ARGUMENT when no keys are found (c->error
 * says where it looked); the region and endpoint may be empty. Where the
 * AWS CLI stops with an error, c->broken is set and c->error says why
 * (the region and the rest are not to be used then):
 *   - a profile named (the argument, AWS_DEFAULT_PROFILE or AWS_PROFILE) that neither file has;
 *   - a file with a section twice, or a key twice in a section (the CLI's
 *     "Unable to parse config file");
 *   - AWS_ACCESS_KEY_ID set without AWS_SECRET_ACCESS_KEY (unless a
 *     profile is named by argument: the environment's keys are not looked at). */
KINAGG_API kinagg_status kinagg_aws_config_load(kinagg_aws_config *c, const char *profile);

/* The credentials, pointing into *c. */
KINAGG_API kinagg_credentials kinagg_aws_config_credentials(const kinagg_aws_config *c);

/* The region's public endpoint as the AWS SDKs pick it, with c's FIPS and
 * dual-stack settings, and the FIPS pseudo-regions ("fips-us-east-1",
 * "us-east-1-fips": FIPS, signed for us-east-1): *ep, and in signing (64
 * bytes) the region to sign for. KINAGG_ERR_ENDPOINT for a region
 * kinagg_endpoint_from_region refuses, or dual-stack where its partition
 * has none (ISO-E, ISO-F); the region's form is the caller's to check. */
KINAGG_API kinagg_status kinagg_aws_config_endpoint(const kinagg_aws_config *c, const char *region, kinagg_endpoint *ep,
                                                    char *signing);

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_AWS_CONFIG_H */

#if defined(KINAGG_AWS_CONFIG_IMPLEMENTATION) && !defined(KINAGG_AWS_CONFIG_IMPLEMENTATION_DONE)
#define KINAGG_AWS_CONFIG_IMPLEMENTATION_DONE

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

static void kinagg__cfg_copy(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *kinagg__cfg_env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The profile the environment names, in botocore's order: AWS_DEFAULT_PROFILE
 * (the older name), else AWS_PROFILE; set but empty names one too. */
static const char *kinagg__cfg_env_profile(void) {
    const char *v = getenv("AWS_DEFAULT_PROFILE");
    return v ? v : getenv("AWS_PROFILE");
}

/* The environment's session token, in botocore's order: AWS_SECURITY_TOKEN
 * (the older name), else AWS_SESSION_TOKEN. */
static const char *kinagg__cfg_env_token(void) {
    const char *v = kinagg__cfg_env("AWS_SECURITY_TOKEN");
    return v ? v : kinagg__cfg_env("AWS_SESSION_TOKEN");
}

/* The home directory as the AWS CLI finds it (Python's expanduser): HOME,
 * else the user's entry in the password database (a cron job or a
 * service may run without HOME), into out. 0 when neither says: then there
 * are no files, never files of the working directory. */
static int kinagg__cfg_home(char *out, size_t cap) {
    const char *home = kinagg__cfg_env("HOME");
    struct passwd pw, *found = NULL;
    char buf[4096];
    out[0] = '\0';
    if (home) {
        kinagg__cfg_copy(out, cap, home);
        return 1;
    }
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) != 0 || !found || !pw.pw_dir || !pw.pw_dir[0]) return 0;
    kinagg__cfg_copy(out, cap, pw.pw_dir);
    return 1;
}

/* The path of an AWS file: the variable's value (a leading ~ or ~/ is the
 * home directory, as the AWS CLI expands it), else ~/.aws/NAME; "" when
 * it needs a home directory and there is none. */
static void kinagg__cfg_path(char *out, size_t cap, const char *var, const char *name) {
    const char *v = kinagg__cfg_env(var);
    char home[512];
    int have_home = kinagg__cfg_home(home, sizeof home);
    out[0] = '\0';
    if (v && v[0] == '~' && (v[1] == '/' || !v[1])) {
        if (have_home) snprintf(out, cap, "%s%s", home, v + 1);
    } else if (v) {
        snprintf(out, cap, "%s", v);
    } else if (have_home) {
        snprintf(out, cap, "%s/.aws/%s", home, name);
    }
}

/* 64-bit FNV-1a of a text, for telling names seen before. */
static uint64_t kinagg__cfg_hash(const char *s) {
    uint64_t h = 14695981039346656037u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Whether h is among the n hashes seen; adds it when not (and there is
 * room: past cap, nothing more is told apart, and nothing is refused). */
static int kinagg__cfg_seen(uint64_t *seen, size_t *n, size_t cap, uint64_t h) {
    size_t i;
    for (i = 0; i < *n; i++)
        if (seen[i] == h) return 1;
    if (*n < cap) seen[(*n)++] = h;
    return 0;
}

static char *kinagg__cfg_trim(char *s) {
    char *e;
    while (*s == ' ' || *s == '\t') s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
    return s;
}

/* "true" in any case, as the AWS SDKs read their boolean settings */
static int kinagg__cfg_is_true(const char *v) {
    const char *t = "true";
    for (; *t; t++, v++)
        if (*v != *t && *v != *t - 'a' + 'A') return 0;
    return !*v;
}

/* Whether a section header (the text between [ and the last ]) is the
 * section asked for. "profile NAME" and "services NAME" are matched as
 * botocore splits such headers, like a shell (shlex): two words, the first
 * the kind, the second the name, quotes taken off ("[profile  dev]" and
 * [profile "dev"] are profile dev); any other header must be the text
 * asked for exactly ("default", or a credentials file's NAME). */
static int kinagg__cfg_section_is(const char *header, const char *want) {
    const char *kinds[2] = {"profile ", "services "};
    int k;
    for (k = 0; k < 2; k++) {
        size_t kl = strlen(kinds[k]);
        if (!strncmp(want, kinds[k], kl)) {
            char words[2][160];
            size_t nw = 0, len = 0;
            const char *p = header;
            char quote = 0;
            int in_word = 0;
            for (;; p++) {
                char ch = *p;
                if (!ch || (!quote && (ch == ' ' || ch == '\t'))) { /* a word ends */
                    if (in_word) {
                        if (nw < 2) words[nw][len < sizeof words[0] ? len : sizeof words[0] - 1] = '\0';
                        nw++;
                    }
                    in_word = 0;
                    len = 0;
                    if (!ch) break;
                    continue;
                }
                if (!quote && (ch == '"' || ch == '\'')) { quote = ch; in_word = 1; continue; }
                if (quote && ch == quote) { quote = 0; continue; }
                in_word = 1;
                if (nw < 2 && len + 1 < sizeof words[0]) words[nw][len] = ch;
                len++;
            }
            return !quote && nw == 2 && !strncmp(words[0], kinds[k], kl - 1) && strlen(words[0]) == kl - 1 &&
                   !strcmp(words[1], want + kl);
        }
    }
    return !strcmp(header, want);
}

/* Calls fn for each setting of one section of an INI file, read as the AWS
 * CLI reads it (Python's configparser, strict, as botocore uses it):
 * "key = value" or "key: value" lines, keys in any case; a line indented
 * deeper than the key before it is, after a key with an empty value, a
 * sub-setting of that key (fn gets the key as parent), after a key with a
 * value a continuation of that value (ignored); keys indented alike are keys
 * of the section. The rest of a line longer than the buffer is dropped.
 * section NULL: configparser's [DEFAULT], whose settings every section
 * has unless it sets them itself (so, read after the section, into fields
 * still empty; and only for a section that exists, as botocore does).
 * Returns 1 if the section exists, 0 if not, -1 (with why) for a file the
 * AWS CLI refuses ("Unable to parse config file"): a section twice, a key
 * twice in a section, a setting before any section, a line that is neither
 * a section, a setting, a comment nor a continuation. */
typedef void (*kinagg__cfg_fn)(void *ctx, const char *parent, const char *key, const char *value);
static int kinagg__cfg_scan(const char *path, const char *section, kinagg__cfg_fn fn, void *ctx, char *why,
                            size_t why_cap) {
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    char line[4608], parent[128];
    int in = 0, found = 0, have_key = 0, nested = 0, any_section = 0;
    size_t key_indent = 0, nsections = 0, nkeys = 0, ndefault_keys = 0, *nk = &nkeys;
    unsigned long lineno = 0;
    uint64_t sections[128], keys[64], default_keys[64], *kl = keys;
    if (!f) return 0;
    parent[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line), indent = strspn(line, " \t");
        char *s, *eq;
        const char *bad = NULL;
        lineno++;
        if (n && line[n - 1] != '\n' && !feof(f)) {
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {
            }
        }
        s = kinagg__cfg_trim(line);
        if (*s == '#' || *s == ';' || !*s) continue;
        if (have_key && indent > key_indent) { /* a sub-setting, or a value's continuation */
            if (in && nested && (eq = strchr(s, '='))) {
                *eq = '\0';
                fn(ctx, parent, kinagg__cfg_trim(s), kinagg__cfg_trim(eq + 1));
            }
            continue;
        }
        if (*s == '[' && (eq = strrchr(s, ']')) != NULL && eq > s + 1) {
            const char *header = s + 1;
            *eq = '\0'; /* (the header is everything up to the last ]) */
            if (strcmp(header, "DEFAULT") && /* configparser's defaults section: merged, not repeated */
                kinagg__cfg_seen(sections, &nsections, sizeof sections / sizeof sections[0], kinagg__cfg_hash(header))) {
                snprintf(why, why_cap, "%.300s: section [%.100s] appears twice", path, header);
                fclose(f);
                return -1;
            }
            /* (configparser's [DEFAULT] is no section of its own: its
             * settings are every section's, read with section NULL) */
            in = strcmp(header, "DEFAULT") ? section && kinagg__cfg_section_is(header, section) : !section;
            found |= in;
            any_section = 1;
            have_key = 0;
            nkeys = 0;
            /* (the keys of every [DEFAULT] of the file are one section's) */
            kl = strcmp(header, "DEFAULT") ? keys : default_keys;
            nk = strcmp(header, "DEFAULT") ? &nkeys : &ndefault_keys;
            continue;
        }
        eq = strpbrk(s, "=:");
        if (!eq) bad = "neither a [section], a setting (key = value) nor a comment";
        else if (!any_section) bad = "a setting before any [section]";
        if (!bad) {
            *eq = '\0';
            if (!*kinagg__cfg_trim(s)) bad = "a setting without a name";
        }
        if (bad) {
            snprintf(why, why_cap, "%.300s: line %lu: %s", path, lineno, bad);
            fclose(f);
            return -1;
        }
        {
            char *k = kinagg__cfg_trim(s), *v = kinagg__cfg_trim(eq + 1), *c;
            for (c = k; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
            if (kinagg__cfg_seen(kl, nk, sizeof keys / sizeof keys[0], kinagg__cfg_hash(k))) {
                snprintf(why, why_cap, "%.300s: key %.100s appears twice in one section", path, k);
                fclose(f);
                return -1;
            }
            have_key = 1;
            key_indent = indent;
            nested = !*v;
            kinagg__cfg_copy(parent, sizeof parent, k);
            if (in) fn(ctx, NULL, k, v);
        }
    }
    fclose(f);
    return found;
}

/* A section, then [DEFAULT]'s settings under it, as configparser merges
 * them: only the keys the section does not set itself (even to ""), and
 * a key's sub-settings go with it. */
typedef struct kinagg__cfg_layer {
    kinagg__cfg_fn fn;
    void *ctx;
    uint64_t own[64]; /* the section's keys */
    size_t nown;
} kinagg__cfg_layer;
static void kinagg__cfg_own(void *c, const char *parent, const char *k, const char *v) {
    kinagg__cfg_layer *l = (kinagg__cfg_layer *)c;
    if (!parent) (void)kinagg__cfg_seen(l->own, &l->nown, sizeof l->own / sizeof l->own[0], kinagg__cfg_hash(k));
    l->fn(l->ctx, parent, k, v);
}
static void kinagg__cfg_under(void *c, const char *parent, const char *k, const char *v) {
    kinagg__cfg_layer *l = (kinagg__cfg_layer *)c;
    uint64_t h = kinagg__cfg_hash(parent ? parent : k);
    size_t i;
    for (i = 0; i < l->nown; i++)
        if (l->own[i] == h) return;
    l->fn(l->ctx, parent, k, v);
}
static int kinagg__cfg_scan_layered(const char *path, const char *section, kinagg__cfg_fn fn, void *ctx, char *why,
                                    size_t why_cap) {
    kinagg__cfg_layer l;
    int r;
    l.fn = fn;
    l.ctx = ctx;
    l.nown = 0;
    r = kinagg__cfg_scan(path, section, kinagg__cfg_own, &l, why, why_cap);
    return r > 0 ? kinagg__cfg_scan(path, NULL, kinagg__cfg_under, &l, why, why_cap) < 0 ? -1 : 1 : r;
}

/* Which of [default] and [profile default] the config file has last: the
 * AWS CLI takes that one whole for the default profile ("default" when
 * neither, or the file cannot be read). */
static const char *kinagg__cfg_default_section(const char *path) {
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    char line[512];
    const char *last = "default";
    if (!f) return last;
    while (fgets(line, sizeof line, f)) {
        char *s = kinagg__cfg_trim(line), *end;
        if (*s != '[' || !(end = strrchr(s, ']'))) continue;
        *end = '\0';
        if (!strcmp(s + 1, "default")) last = "default";
        else if (kinagg__cfg_section_is(s + 1, "profile default")) last = "profile default";
    }
    fclose(f);
    return last;
}

/* What a profile's sections give besides the struct's fields. */
typedef struct kinagg__cfg_read_ctx {
    kinagg_aws_config *c;
    int keys;               /* take the keys too */
    char services[128];     /* services = NAME */
    char endpoint_url[512]; /* the profile's own endpoint_url */
    char kinesis_url[512];  /* [services NAME]'s kinesis = / endpoint_url */
    char ignore_urls[8];    /* ignore_configured_endpoint_urls = true */
    char fips[8], dualstack[8]; /* use_fips_endpoint, use_dualstack_endpoint */
    int security_token;     /* aws_security_token was read: it wins over aws_session_token */
} kinagg__cfg_read_ctx;

/* A setting of the profile: only the profile's own (not a sub-setting, such
 * as those of s3 =), into the fields still empty. */
static void kinagg__cfg_profile_setting(void *ctx, const char *parent, const char *k, const char *v) {
    kinagg__cfg_read_ctx *x = (kinagg__cfg_read_ctx *)ctx;
    kinagg_aws_config *c = x->c;
    if (parent) return;
    if (x->keys && !strcmp(k, "aws_access_key_id") && !c->access_key_id[0])
        kinagg__cfg_copy(c->access_key_id, sizeof c->access_key_id, v);
    else if (x->keys && !strcmp(k, "aws_secret_access_key") && !c->secret_access_key[0])
        kinagg__cfg_copy(c->secret_access_key, sizeof c->secret_access_key, v);
    else if (x->keys && !strcmp(k, "aws_session_token") && !c->session_token[0] && !x->security_token)
        kinagg__cfg_copy(c->session_token, sizeof c->session_token, v);
    else if (x->keys && !strcmp(k, "aws_security_token") && !x->security_token) {
        /* the older name, which botocore reads first */
        kinagg__cfg_copy(c->session_token, sizeof c->session_token, v);
        x->security_token = 1;
    }
    else if (!strcmp(k, "region") && !c->region[0])
        kinagg__cfg_copy(c->region, sizeof c->region, v);
    else if (!strcmp(k, "endpoint_url") && !x->endpoint_url[0])
        kinagg__cfg_copy(x->endpoint_url, sizeof x->endpoint_url, v);
    else if (!strcmp(k, "ignore_configured_endpoint_urls") && !x->ignore_urls[0])
        kinagg__cfg_copy(x->ignore_urls, sizeof x->ignore_urls, v);
    else if (!strcmp(k, "use_fips_endpoint") && !x->fips[0])
        kinagg__cfg_copy(x->fips, sizeof x->fips, v);
    else if (!strcmp(k, "use_dualstack_endpoint") && !x->dualstack[0])
        kinagg__cfg_copy(x->dualstack, sizeof x->dualstack, v);
    else if (!strcmp(k, "services") && !x->services[0])
        kinagg__cfg_copy(x->services, sizeof x->services, v);
    else if (!strcmp(k, "ca_bundle") && !c->ca_bundle[0])
        kinagg__cfg_copy(c->ca_bundle, sizeof c->ca_bundle, v);
}

/* A setting of a [services NAME] section: Kinesis's endpoint_url. */
static void kinagg__cfg_services_setting(void *ctx, const char *parent, const char *k, const char *v) {
    kinagg__cfg_read_ctx *x = (kinagg__cfg_read_ctx *)ctx;
    if (parent && !strcmp(parent, "kinesis") && !strcmp(k, "endpoint_url") && !x->kinesis_url[0])
        kinagg__cfg_copy(x->kinesis_url, sizeof x->kinesis_url, v);
}

/* A file the AWS CLI would refuse: the load stops there. */
static kinagg_status kinagg__cfg_broken(kinagg_aws_config *c, const char *why) {
    char keep[sizeof c->error];
    kinagg__cfg_copy(keep, sizeof keep, why);
    memset(c, 0, sizeof *c); /* no half-read keys */
    kinagg__cfg_copy(c->error, sizeof c->error, keep);
    c->broken = 1;
    return KINAGG_ERR_INVALID_ARGUMENT;
}

KINAGG_API kinagg_status kinagg_aws_config_load(kinagg_aws_config *c, const char *profile) {
    char creds_path[512], config_path[512], section[160], why[512];
    kinagg__cfg_read_ctx x;
    const char *v;
    const char *env_profile = kinagg__cfg_env_profile(); /* set, even empty, names a profile */
    int env_keys = 0, found = 0, r, ignore, named = profile && *profile;
    memset(c, 0, sizeof *c);
    memset(&x, 0, sizeof x);
    x.c = c;
    v = named ? profile : env_profile;
    kinagg__cfg_copy(c->profile, sizeof c->profile, v ? v : "default");
    kinagg__cfg_path(creds_path, sizeof creds_path, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    kinagg__cfg_path(config_path, sizeof config_path, "AWS_CONFIG_FILE", "config");
    /* environment first, unless a profile was asked for by name */
    if (!named && kinagg__cfg_env("AWS_ACCESS_KEY_ID")) {
        if (!kinagg__cfg_env("AWS_SECRET_ACCESS_KEY"))
            return kinagg__cfg_broken(c, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
        kinagg__cfg_copy(c->access_key_id, sizeof c->access_key_id, kinagg__cfg_env("AWS_ACCESS_KEY_ID"));
        kinagg__cfg_copy(c->secret_access_key, sizeof c->secret_access_key, kinagg__cfg_env("AWS_SECRET_ACCESS_KEY"));
        if ((v = kinagg__cfg_env_token())) kinagg__cfg_copy(c->session_token, sizeof c->session_token, v);
        kinagg__cfg_copy(c->source, sizeof c->source, "environment variables");
        c->keys_from = KINAGG_AWS_KEYS_FROM_ENV;
        env_keys = 1;
    }
    if ((v = kinagg__cfg_env("AWS_REGION")) || (v = kinagg__cfg_env("AWS_DEFAULT_REGION")))
        kinagg__cfg_copy(c->region, sizeof c->region, v);
    if ((v = kinagg__cfg_env("AWS_CA_BUNDLE"))) kinagg__cfg_copy(c->ca_bundle, sizeof c->ca_bundle, v);
    /* the shared files: credentials [NAME], then config [profile NAME] (for
     * the default profile, the later of [default] and [profile default],
     * whole); a setting of the credentials file wins. The keys are one
     * file's: the credentials file's when it has aws_access_key_id, else
     * the config file's (never a key of one with a secret or token of the
     * other) */
    x.keys = !env_keys;
    r = kinagg__cfg_scan_layered(creds_path, c->profile, kinagg__cfg_profile_setting, &x, why, sizeof why);
    if (r < 0) return kinagg__cfg_broken(c, why);
    found |= r;
    if (!env_keys && !c->access_key_id[0]) { /* no keys there: nothing of them is kept */
        memset(c->secret_access_key, 0, sizeof c->secret_access_key);
        memset(c->session_token, 0, sizeof c->session_token);
        x.security_token = 0;
    }
    if (r && !env_keys && c->access_key_id[0]) {
        snprintf(c->source, sizeof c->source, "%.100s [%.40s]", creds_path, c->profile);
        c->keys_from = KINAGG_AWS_KEYS_FROM_CREDENTIALS_FILE;
    }
    if (strcmp(c->profile, "default") == 0) snprintf(section, sizeof section, "%s", kinagg__cfg_default_section(config_path));
    else snprintf(section, sizeof section, "profile %.140s", c->profile);
    x.keys = !env_keys && !c->access_key_id[0];
    r = kinagg__cfg_scan_layered(config_path, section, kinagg__cfg_profile_setting, &x, why, sizeof why);
    if (r < 0) return kinagg__cfg_broken(c, why);
    found |= r;
    if (r && !c->source[0] && c->access_key_id[0]) {
        snprintf(c->source, sizeof c->source, "%.100s [%.40s]", config_path, section);
        c->keys_from = KINAGG_AWS_KEYS_FROM_CONFIG_FILE;
    }
    /* a profile named must exist, as the AWS CLI says ("The config profile
     * (NAME) could not be found"); only the implicit default may be missing */
    if (!found && (named || env_profile)) {
        snprintf(why, sizeof why, "the config profile (%.100s) could not be found in %.150s or %.150s", c->profile,
                 creds_path[0] ? creds_path : "~/.aws/credentials (no home directory)",
                 config_path[0] ? config_path : "~/.aws/config (no home directory)");
        return kinagg__cfg_broken(c, why);
    }
    /* the endpoint: Kinesis's own over the general one, the environment over
     * the files; none of them when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (else
     * the profile's ignore_configured_endpoint_urls) is true */
    v = getenv("AWS_USE_FIPS_ENDPOINT"); /* (set but empty: false, as botocore reads it) */
    c->use_fips = kinagg__cfg_is_true(v ? v : x.fips);
    v = getenv("AWS_USE_DUALSTACK_ENDPOINT");
    c->use_dualstack = kinagg__cfg_is_true(v ? v : x.dualstack);
    v = kinagg__cfg_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!v) v = x.ignore_urls;
    ignore = kinagg__cfg_is_true(v);
    /* services = NAME: the config file's [services NAME], kinesis = / endpoint_url.
     * A section that is not there is botocore's error when it looks there
     * (no endpoint in the environment): said in services_missing, for
     * whoever needs the configured endpoint (not the keys, nor a caller
     * with an endpoint of its own) */
    if (x.services[0] && !ignore && !kinagg__cfg_env("AWS_ENDPOINT_URL_KINESIS") && !kinagg__cfg_env("AWS_ENDPOINT_URL")) {
        snprintf(section, sizeof section, "services %.140s", x.services);
        r = kinagg__cfg_scan_layered(config_path, section, kinagg__cfg_services_setting, &x, why, sizeof why);
        if (r < 0) return kinagg__cfg_broken(c, why);
        if (!r) {
            kinagg__cfg_copy(c->services_missing, sizeof c->services_missing, x.services);
            x.endpoint_url[0] = '\0';
        }
    }
    if (!ignore &&
        ((v = kinagg__cfg_env("AWS_ENDPOINT_URL_KINESIS")) || (v = kinagg__cfg_env("AWS_ENDPOINT_URL")) ||
         (v = x.kinesis_url[0] ? x.kinesis_url : NULL) || (v = x.endpoint_url[0] ? x.endpoint_url : NULL)))
        kinagg__cfg_copy(c->endpoint_url, sizeof c->endpoint_url, v);
    if (!c->access_key_id[0] || !c->secret_access_key[0]) {
        snprintf(c->error, sizeof c->error,
                 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile [%.60s] to %.150s",
                 c->profile, creds_path[0] ? creds_path : "~/.aws/credentials");
        return KINAGG_ERR_INVALID_ARGUMENT;
    }
    return KINAGG_OK;
}

KINAGG_API kinagg_status kinagg_aws_config_endpoint(const kinagg_aws_config *c, const char *region, kinagg_endpoint *ep,
                                                    char *signing) {
    /* dual-stack DNS suffixes by the standard ones (botocore's endpoint
     * rules); ISO-E and ISO-F have none */
    static const char *const dual[][2] = {{".amazonaws.com", ".api.aws"},
                                          {".amazonaws.com.cn", ".api.amazonwebservices.com.cn"},
                                          {".amazonaws.eu", ".api.amazonwebservices.eu"},
                                          {".c2s.ic.gov", ".api.aws"},
                                          {".sc2s.sgov.gov", ".api.aws"}};
    char r[64], suffix[64];
    size_t n = strlen(region), k;
    int fips = c->use_fips;
    if (n >= sizeof r) return KINAGG_ERR_ENDPOINT;
    memcpy(r, region, n + 1);
    if (n > 5 && !strncmp(r, "fips-", 5)) {
        memmove(r, r + 5, n - 4);
        fips = 1;
    } else if (n > 5 && !strcmp(r + n - 5, "-fips")) {
        r[n - 5] = '\0';
        fips = 1;
    }
    if (kinagg_endpoint_from_region(ep, kinagg_str_c(r)) != KINAGG_OK) return KINAGG_ERR_ENDPOINT;
    snprintf(suffix, sizeof suffix, "%s", ep->host + 8 + strlen(r)); /* after "kinesis.REGION" */
    if (c->use_dualstack) {
        for (k = 0; k < sizeof dual / sizeof dual[0] && strcmp(suffix, dual[k][0]); k++) {}
        if (k == sizeof dual / sizeof dual[0]) return KINAGG_ERR_ENDPOINT;
        snprintf(suffix, sizeof suffix, "%s", dual[k][1]);
    }
    /* GovCloud's standard endpoints are FIPS ones already (not dual-stack) */
    if (fips && !c->use_dualstack && !strncmp(r, "us-gov-", 7)) fips = 0;
    snprintf(ep->host, sizeof ep->host, "kinesis%s.%s%s", fips ? "-fips" : "", r, suffix);
    snprintf(signing, 64, "%s", r);
    return KINAGG_OK;
}

KINAGG_API kinagg_credentials kinagg_aws_config_credentials(const kinagg_aws_config *c) {
    kinagg_credentials k;
    k.access_key_id = kinagg_str_c(c->access_key_id);
    k.secret_access_key = kinagg_str_c(c->secret_access_key);
    k.session_token = kinagg_str_c(c->session_token);
    return k;
}

#ifdef __cplusplus
}
#endif
#endif /* KINAGG_AWS_CONFIG_IMPLEMENTATION */
