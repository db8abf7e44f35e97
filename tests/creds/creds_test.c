/* Tests of port/kinagg_aws_credentials.h: the document parsers and the time
 * parser (against libc's timegm), then every provider against the local
 * services of tests/creds/servers.js, each credential set checked by a
 * signed call through the SigV4-verifying proxy (tests/net/server.js),
 * the default chain, wiping, and a producer fed by a provider.
 *
 *   creds_test PORTS_FILE PKI_DIR DEVICE_PKI_DIR PROXY_PORT
 *   creds_test            (the offline parts only)
 */
#define _GNU_SOURCE /* timegm, for an independent check of the time parser */
#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_POSIX_IMPLEMENTATION
#include "../../port/kinagg_posix.h"
#define KINAGG_MBEDTLS_IMPLEMENTATION
#include "../../port/kinagg_mbedtls.h"
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#include "../../port/kinagg_aws_config.h"
#define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION
#include "../../port/kinagg_aws_credentials.h"
#include "../check.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SECRET "kinagg/session/secret"
#define TOKEN "kinagg-session-token-123"
#define CONTAINER_TOKEN "kinagg-container-token"
#define WEB_TOKEN "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJraW5hZ2ctdGVzdCJ9.c2lnbmF0dXJl"
#define ROLE "arn:aws:iam::123456789012:role/"
#define NOW 1700000000000ull /* 2023-11-14T22:13:20Z, for the offline documents */

static char ports_file[512], pki[512], dpki[512], dir[64];
static int proxy_port;
static kinagg_platform pf;
static kinagg_aws_provider prov; /* 110 KiB: not on the stack */

static int port(const char *name) {
    FILE *f = fopen(ports_file, "r");
    char n[64];
    int p, found = 0;
    if (!f) return 0;
    while (fscanf(f, "%63s %d", n, &p) == 2)
        if (!strcmp(n, name)) found = p;
    fclose(f);
    return found;
}

static const char *path_in(const char *d, const char *name) {
    static char buf[4][600];
    static int k;
    k = (k + 1) & 3;
    snprintf(buf[k], sizeof buf[k], "%s/%s", d, name);
    return buf[k];
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static int has(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

/* 1 if the bytes of needle appear anywhere in mem. */
static int in_memory(const void *mem, size_t n, const char *needle) {
    const unsigned char *m = (const unsigned char *)mem;
    size_t l = strlen(needle), i;
    for (i = 0; i + l <= n; i++)
        if (m[i] == (unsigned char)needle[0] && memcmp(m + i, needle, l) == 0) return 1;
    return 0;
}

static void clear_env(void) {
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_KINESIS",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CA_BUNDLE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_DISABLED",
        "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    setenv("HOME", path_in(dir, "home"), 1);
}

/* get until done; *slowest is the longest single call (get must not block). */
static kinagg_status fetch(kinagg_aws_provider *p, int force, kinagg_credentials *c, uint64_t *exp, uint64_t *slowest,
                           uint64_t *took) {
    uint64_t t0 = pf.now_ms(NULL), worst = 0;
    kinagg_status st;
    for (;;) {
        uint64_t a = pf.now_ms(NULL);
        st = kinagg_aws_provider_get(p, force, c, exp);
        if (pf.now_ms(NULL) - a > worst) worst = pf.now_ms(NULL) - a;
        if (st != KINAGG_PENDING || pf.now_ms(NULL) - t0 > 20000) break;
        force = 0;
        pf.sleep_ms(NULL, 1);
    }
    if (slowest) *slowest = worst;
    if (took) *took = pf.now_ms(NULL) - t0;
    return st;
}

static kinagg_status fetch1(kinagg_aws_provider *p, kinagg_credentials *c) {
    uint64_t exp;
    return fetch(p, 1, c, &exp, NULL, NULL);
}

/* The credentials work: a signed DescribeStreamSummary through the
 * verifying proxy gets past the signature check (to ResourceNotFound). */
static int accepted(const kinagg_credentials *c) {
    static kinagg_kinesis k;
    static unsigned char sb[8192], rb[16384];
    kinagg_posix_socket sock;
    kinagg_transport tp;
    kinagg_endpoint ep;
    kinagg_stream_ref s;
    char url[64], status[32];
    kinagg_status st;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", proxy_port);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    kinagg_posix_socket_init(&sock, &tp);
    if (kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), c, KINAGG_PROTOCOL_JSON, &tp, &pf, sb, sizeof sb, rb,
                            sizeof rb) != KINAGG_OK)
        return 0;
    s.name = kinagg_str_c("kinagg-creds-no-such-stream");
    s.arn = kinagg_str_c("");
    st = kinagg_describe_stream_summary(&k, s, status, sizeof status, NULL);
    kinagg_posix_socket_release(&sock);
    return st == KINAGG_ERR_SERVICE && !strcmp(k.error_type, "ResourceNotFoundException");
}

/* The counters of the test servers (GET /kinagg-test/stats), as JSON text. */
static const char *server_stats(void) {
    static unsigned char sb[1024], rb[16384];
    static char body[16384];
    kinagg_http_client c;
    kinagg_posix_socket sock;
    kinagg_transport tp;
    body[0] = '\0';
    kinagg_posix_socket_init(&sock, &tp);
    kinagg_http_init(&c, &tp, sb, sizeof sb, rb, sizeof rb);
    if (kinagg_http_begin(&c, "127.0.0.1", (uint16_t)port("imds"), kinagg_str_c("GET"),
                          kinagg_str_c("/kinagg-test/stats"), NULL, 0, NULL, 0, pf.now_ms(NULL)) == KINAGG_OK &&
        kinagg_http_run(&c, &pf) == KINAGG_OK && c.response.body_len < sizeof body) {
        memcpy(body, c.response.body, c.response.body_len);
        body[c.response.body_len] = '\0';
    }
    kinagg_posix_socket_release(&sock);
    return body;
}

/* One counter of one listener; -1 when it cannot be read. */
static long server_stat(const char *listener, const char *field) {
    const char *body = server_stats(), *at;
    char key[128];
    snprintf(key, sizeof key, "\"%s\":{", listener);
    if (!(at = strstr(body, key))) return body[0] ? 0 : -1;
    snprintf(key, sizeof key, "\"%s\":", field);
    if (!(at = strstr(at, key))) return -1;
    return strtol(at + strlen(key), NULL, 10);
}

/* The STS session name the server saw last. */
static const char *server_session(void) {
    static char name[80];
    const char *at = strstr(server_stats(), "\"session\":\"");
    name[0] = '\0';
    if (at) sscanf(at + 11, "%79[^\"]", name);
    return name;
}

/* ---- offline: times and documents ---------------------------------------- */

static void test_time(void) {
    static const struct { const char *text; uint64_t ms; } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2000-03-01T00:00:00Z", 951868800000ull},
        {"2024-02-29T12:34:56.789Z", 1709210096789ull},
        {"2026-11-22T12:34:56Z", 1795350896000ull},
        {"2026-11-22T12:34:56.1Z", 1795350896100ull},
        {"2026-11-22T12:34:56.123456789Z", 1795350896123ull},
        {"2026-11-22T13:34:56+01:00", 1795350896000ull},
        {"2026-11-22T07:04:56-05:30", 1795350896000ull},
        {"2100-12-31T23:59:59Z", 4133980799000ull},
    };
    static const char *const bad[] = {
        "", "2026-11-22", "2026-11-22T12:34:56", "2026-11-22 12:34:56Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T12:60:00Z", "2026-11-22T12:34:61Z", "1969-12-31T23:59:59Z",
        "2026-11-22T12:34:56.Z", "2026-11-22T12:34:56.1234567890Z", "2026-11-22T12:34:56Zjunk", "2026-11-22T12:34:56z",
        "2026-11-22T12:34:56+0100", "2026-11-22T12:34:56+24:00", "+2026-11-22T12:34:56Z", "2026-1-22T12:34:56Z",
        "1970-01-01T00:00:00+00:01"};
    size_t i;
    unsigned long agree = 0;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ms = 1;
        kinagg_status st = kinagg_aws_parse_time(kinagg_str_c(good[i].text), &ms);
        CHECK(st == KINAGG_OK && ms == good[i].ms, "%s: %d %llu", good[i].text, st, (unsigned long long)ms);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms;
        CHECK(kinagg_aws_parse_time(kinagg_str_c(bad[i]), &ms) != KINAGG_OK, "accepted %s", bad[i]);
    }
    /* libc's timegm as the independent oracle, over random times 1970-2400 */
    for (i = 0; i < 20000; i++) {
        time_t t = (time_t)(check_rand() % 13569465600ull), back;
        struct tm tm;
        char text[40];
        uint64_t ms = 0;
        gmtime_r(&t, &tm);
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
        back = timegm(&tm);
        if (kinagg_aws_parse_time(kinagg_str_c(text), &ms) == KINAGG_OK && ms == (uint64_t)back * 1000u) agree++;
        else CHECK(0, "%s: %llu, timegm %lld", text, (unsigned long long)ms, (long long)back);
    }
    CHECK(agree == 20000, "%lu of 20000 agree with timegm", agree);
}

static kinagg_status parse(kinagg_aws_document k, const char *doc, kinagg_aws_credential_set *out, char *why) {
    kinagg_status st = kinagg_aws_parse_credentials(k, doc, strlen(doc), NOW, out, why, 300);
    /* the reason never shows a secret */
    CHECK(!has(why, SECRET) && !has(why, TOKEN) && !has(why, "hunter2"), "a secret in \"%s\"", why);
    return st;
}

#define GOOD_JSON \
    "{\"AccessKeyId\":\"ASIAKINAGGTEST\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN \
    "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}"

static void test_json(void) {
    kinagg_aws_credential_set c;
    char why[300], deep[200], big[6000];
    size_t i;
    static const struct { const char *doc; const char *why; } bad[] = {
        {"", "ends early"},
        {"   ", "ends early"},
        {"[]", "not a JSON object"},
        {"\"x\"", "not a JSON object"},
        {"{\"AccessKeyId\":\"A\",}", "not valid JSON"},
        {"{\"AccessKeyId\" \"A\"}", "not valid JSON"},
        {"{'AccessKeyId':'A'}", "not valid JSON"},
        {"{\"AccessKeyId\":\"A", "not valid JSON"},
        {"{\"AccessKeyId\":\"A\nB\"}", "not valid JSON"},
        {"{\"AccessKeyId\":\"A\\xB\"}", "not valid JSON"},
        {"{\"AccessKeyId\":\"\\ud800\"}", "not valid JSON"},
        {"{\"AccessKeyId\":\"\\udc00x\"}", "not valid JSON"},
        {"{\"AccessKeyId\":\"\xff\"}", "not valid JSON"},
        {"{\"AccessKeyId\":\"\xc0\xaf\"}", "not valid JSON"},
        {"{\"AccessKeyId\":\"\xed\xa0\x80\"}", "not valid JSON"},
        {"{\"n\":01}", "not valid JSON"},
        {"{\"n\":1.}", "not valid JSON"},
        {"{\"n\":-}", "not valid JSON"},
        {"{\"n\":1e}", "not valid JSON"},
        {"{\"n\":tru}", "not valid JSON"},
        {"{\"n\":nul}", "not valid JSON"},
        {"{} {}", "more after the document"},
        {"{}x", "more after the document"},
        {"{\"a\":[1,2}", "not valid JSON"},
        {"{\"a\":{\"b\":1]}", "not valid JSON"},
        {"{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\"}", "AccessKeyId appears twice"},
        {"{\"AccessKeyId\":12}", "AccessKeyId is not a string"},
        {"{\"AccessKeyId\":true}", "AccessKeyId is not a string"},
        {"{\"Token\":{\"a\":1}}", "Token is not a string"},
        {"{\"Token\":[\"" TOKEN "\"]}", "Token is not a string"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "missing Token"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":null,\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "missing Token"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN "\"}", "missing Expiration"},
        {"{\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "missing AccessKeyId"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
         "\\r\\nX-Injected: yes\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "Token has characters other than visible ASCII"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"hunter2 " SECRET "\",\"Token\":\"" TOKEN
         "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "SecretAccessKey has characters other than visible ASCII"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"hunter2\\u0000" TOKEN
         "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "Token holds a NUL character"},
        {"{\"AccessKeyId\":\"AS-IA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
         "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
         "AccessKeyId has characters other than A-Z, a-z and 0-9"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
         "\",\"Expiration\":\"tomorrow\"}",
         "Expiration \"tomorrow\" is not an ISO 8601 UTC time"},
        {"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
         "\",\"Expiration\":\"2023-11-14T22:13:20Z\"}",
         "expired at 2023-11-14T22:13:20Z"},
    };
    /* good, with what other services add: unknown members of every type, escapes, spaces */
    CHECK(parse(KINAGG_AWS_DOC_CONTAINER, GOOD_JSON, &c, why) == KINAGG_OK && !strcmp(c.access_key_id, "ASIAKINAGGTEST") &&
              !strcmp(c.secret_access_key, SECRET) && !strcmp(c.session_token, TOKEN) &&
              c.expires_unix_ms == 1893456000000ull,
          "container: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_CONTAINER,
                " {\n \"RoleArn\": \"arn:aws:iam::1:role/x\", \"Nested\": {\"AccessKeyId\": [1, -2.5e3, {\"x\": null}],"
                " \"e\": {}}, \"List\": [], \"Flag\": false, \"N\": null,\n"
                " \"Access\\u004beyId\": \"ASIA\\u004bINAGG\", \"SecretAccessKey\": \"kinagg\\/session\\/secret\","
                " \"Token\": \"" TOKEN "\", \"Expiration\": \"2030-01-01T00:00:00.5+00:00\" } \r\n",
                &c, why) == KINAGG_OK &&
              !strcmp(c.access_key_id, "ASIAKINAGG") && !strcmp(c.secret_access_key, SECRET) &&
              c.expires_unix_ms == 1893456000500ull,
          "container with extras: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IMDS,
                "{\"Code\":\"Success\",\"LastUpdated\":\"2023-11-14T20:00:00Z\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":"
                "\"ASIAKINAGGTEST\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN
                "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
                &c, why) == KINAGG_OK && !strcmp(c.session_token, TOKEN),
          "imds: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IMDS, GOOD_JSON, &c, why) == KINAGG_ERR_JSON && has(why, "missing Code"), "imds: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IMDS, "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no\"}", &c, why) ==
                  KINAGG_ERR_SERVICE && has(why, "AssumeRoleUnauthorizedAccess"),
          "imds code: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IOT,
                "{\"credentials\":{\"accessKeyId\":\"ASIAKINAGGTEST\",\"secretAccessKey\":\"" SECRET
                "\",\"sessionToken\":\"" TOKEN "\",\"expiration\":\"2030-01-01T00:00:00Z\"}}",
                &c, why) == KINAGG_OK && !strcmp(c.secret_access_key, SECRET),
          "iot: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IOT,
                "{\"accessKeyId\":\"ASIAKINAGGTEST\",\"secretAccessKey\":\"" SECRET "\",\"sessionToken\":\"" TOKEN
                "\",\"expiration\":\"2030-01-01T00:00:00Z\"}",
                &c, why) == KINAGG_ERR_JSON && has(why, "missing accessKeyId"),
          "iot members at the top: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IOT,
                "{\"other\":{\"accessKeyId\":\"A\"},\"credentials\":{\"x\":{\"accessKeyId\":\"B\"}}}", &c, why) ==
                  KINAGG_ERR_JSON && has(why, "missing accessKeyId"),
          "iot members elsewhere: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_IOT, "{\"credentials\":\"" SECRET "\"}", &c, why) == KINAGG_ERR_JSON, "iot: %s", why);
    /* credential_process: Version 1; token and expiry optional */
    CHECK(parse(KINAGG_AWS_DOC_PROCESS, "{\"Version\": 1, \"AccessKeyId\": \"AKIDKINAGGTEST\", \"SecretAccessKey\": \"" SECRET "\"}",
                &c, why) == KINAGG_OK && !c.session_token[0] && c.expires_unix_ms == 0,
          "process, long-term keys: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_PROCESS,
                "{\"Version\":1,\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"" SECRET "\",\"SessionToken\":\"" TOKEN
                "\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
                &c, why) == KINAGG_OK && !strcmp(c.session_token, TOKEN) && c.expires_unix_ms == 1893456000000ull,
          "process: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_PROCESS, "{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" SECRET "\"}", &c,
                why) == KINAGG_ERR_JSON && has(why, "Version is 2, not 1"),
          "process version 2: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_PROCESS, "{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}", &c, why) ==
                  KINAGG_ERR_JSON && has(why, "Version is not a number"),
          "process version string: %s", why);
    CHECK(parse(KINAGG_AWS_DOC_PROCESS, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}", &c, why) == KINAGG_ERR_JSON &&
              has(why, "missing Version"),
          "process without version: %s", why);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kinagg_status st = parse(KINAGG_AWS_DOC_CONTAINER, bad[i].doc, &c, why);
        CHECK(st != KINAGG_OK && has(why, bad[i].why) && !c.access_key_id[0] && !c.secret_access_key[0],
              "case %u: %d \"%s\", wanted \"%s\"", (unsigned)i, st, why, bad[i].why);
    }
    /* nesting: 16 levels are fine, 17 are not */
    for (i = 0; i < 15; i++) deep[i] = '[';
    deep[15] = '\0';
    strcat(deep, "]]]]]]]]]]]]]]]");
    {
        char doc[400];
        snprintf(doc, sizeof doc, "{\"x\":%s}", deep);
        CHECK(parse(KINAGG_AWS_DOC_CONTAINER, doc, &c, why) == KINAGG_ERR_JSON && has(why, "missing AccessKeyId"),
              "16 levels: %s", why);
        snprintf(doc, sizeof doc, "{\"x\":[%s]}", deep);
        CHECK(parse(KINAGG_AWS_DOC_CONTAINER, doc, &c, why) == KINAGG_ERR_JSON && has(why, "nested too deeply"),
              "17 levels: %s", why);
    }
    /* a token longer than the room for it */
    memset(big, 'T', sizeof big);
    memcpy(big, "{\"Token\":\"", 10);
    strcpy(big + sizeof big - 3, "\"}");
    CHECK(parse(KINAGG_AWS_DOC_CONTAINER, big, &c, why) == KINAGG_ERR_JSON && has(why, "Token is too long"), "big: %s", why);
    CHECK(kinagg_aws_parse_credentials(KINAGG_AWS_DOC_CONTAINER, NULL, 5, NOW, &c, why, sizeof why) ==
              KINAGG_ERR_INVALID_ARGUMENT,
          "NULL document");
}

#define STS_HEAD                                                                  \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                \
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n" \
    "  <AssumeRoleWithWebIdentityResult>\n"                                       \
    "    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>\n"
#define STS_TAIL "  </AssumeRoleWithWebIdentityResult>\n</AssumeRoleWithWebIdentityResponse>\n"
#define STS_CREDS                                                               \
    "    <Credentials>\n      <SessionToken>" TOKEN "</SessionToken>\n"            \
    "      <SecretAccessKey>" SECRET "</SecretAccessKey>\n"                        \
    "      <Expiration>2030-01-01T00:00:00Z</Expiration>\n"                        \
    "      <AccessKeyId>ASIAKINAGGTEST</AccessKeyId>\n    </Credentials>\n"

static void test_xml(void) {
    kinagg_aws_credential_set c;
    char why[300];
    size_t i;
    static const struct { const char *doc; const char *why; kinagg_status st; } bad[] = {
        {"", "no XML element", KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD STS_CREDS, "XML ends early", KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD STS_CREDS "  </AssumeRoleWithWebIdentityResult>\n</Other>", "does not match", KINAGG_ERR_HTTP_PARSE},
        {"<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" STS_HEAD STS_CREDS STS_TAIL, "DOCTYPE",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>&x;</AccessKeyId></Credentials>" STS_TAIL, "entity reference",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>a & b</AccessKeyId></Credentials>" STS_TAIL, "entity reference",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>&#0;</AccessKeyId></Credentials>" STS_TAIL, "entity reference",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>&#xD800;</AccessKeyId></Credentials>" STS_TAIL, "entity reference",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD STS_CREDS STS_TAIL "<Again/>", "more than one root", KINAGG_ERR_HTTP_PARSE},
        {"junk" STS_HEAD STS_CREDS STS_TAIL, "text outside the root", KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD STS_CREDS STS_TAIL "junk", "text outside the root", KINAGG_ERR_HTTP_PARSE},
        {"<a b=\"<\"/>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a b=c/>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a b=\"1\"c=\"2\"/>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a>\xff</a>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a>\x01</a>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a><!-- unclosed </a>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a><![CDATA[x</a>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<1a/>", "not well-formed", KINAGG_ERR_HTTP_PARSE},
        {"<a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p><q/></p></o></n></m></l></k></j></i></h></g></f></e></d></"
         "c></b></a>",
         "nested too deeply", KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD STS_CREDS STS_CREDS STS_TAIL, "appears twice", KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>A<b/></AccessKeyId></Credentials>" STS_TAIL, "an element inside AccessKeyId",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>" SECRET
                  "</SecretAccessKey><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>" STS_TAIL,
         "missing SessionToken", KINAGG_ERR_HTTP_PARSE},
        {"<AssumeRoleResponse>" STS_CREDS "</AssumeRoleResponse>", "root element is <AssumeRoleResponse>",
         KINAGG_ERR_HTTP_PARSE},
        {STS_HEAD "<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>" SECRET
                  "</SecretAccessKey><SessionToken>" TOKEN
                  "</SessionToken><Expiration>2020-01-01T00:00:00Z</Expiration></Credentials>" STS_TAIL,
         "expired at 2020-01-01T00:00:00Z", KINAGG_ERR_EXPIRED},
        {"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>"
         "InvalidIdentityToken</Code><Message>The web identity token that was passed could not be validated &amp; "
         "more</Message></Error><RequestId>1</RequestId></ErrorResponse>",
         "InvalidIdentityToken: The web identity token that was passed could not be validated & more",
         KINAGG_ERR_SERVICE},
    };
    CHECK(parse(KINAGG_AWS_DOC_STS, STS_HEAD "<!-- a comment -->" STS_CREDS STS_TAIL, &c, why) == KINAGG_OK &&
              !strcmp(c.access_key_id, "ASIAKINAGGTEST") && !strcmp(c.secret_access_key, SECRET) &&
              !strcmp(c.session_token, TOKEN) && c.expires_unix_ms == 1893456000000ull,
          "sts: %s", why);
    /* entities, character references, CDATA, prefixes, attributes, a BOM */
    CHECK(parse(KINAGG_AWS_DOC_STS,
                "\xEF\xBB\xBF<?xml version='1.0'?>\n<s:AssumeRoleWithWebIdentityResponse xmlns:s='urn:x' a=\"&lt;&#65;\">"
                "<s:AssumeRoleWithWebIdentityResult><s:Credentials>"
                "<s:AccessKeyId>ASIA&#x4B;INAGG</s:AccessKeyId><s:SecretAccessKey>kinagg&#47;session/sec&amp;ret"
                "</s:SecretAccessKey><s:SessionToken><![CDATA[tok<en>]]></s:SessionToken>"
                "<s:Expiration>2030-01-01T00:00:00Z</s:Expiration><s:Empty/></s:Credentials>"
                "</s:AssumeRoleWithWebIdentityResult></s:AssumeRoleWithWebIdentityResponse>",
                &c, why) == KINAGG_OK &&
              !strcmp(c.access_key_id, "ASIAKINAGG") && !strcmp(c.secret_access_key, "kinagg/session/sec&ret") &&
              !strcmp(c.session_token, "tok<en>"),
          "sts with markup: %s", why);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kinagg_status st = parse(KINAGG_AWS_DOC_STS, bad[i].doc, &c, why);
        CHECK(st == bad[i].st && has(why, bad[i].why) && !c.secret_access_key[0], "case %u: %d \"%s\", wanted \"%s\"",
              (unsigned)i, st, why, bad[i].why);
    }
}

static void test_addresses(void) {
    static const struct { int allow; const char *host; int want; } t[] = {
        {KINAGG__AC_ALLOW_CONTAINER, "127.0.0.1", 1},       {KINAGG__AC_ALLOW_CONTAINER, "127.200.0.9", 1},
        {KINAGG__AC_ALLOW_CONTAINER, "169.254.170.2", 1},   {KINAGG__AC_ALLOW_CONTAINER, "169.254.170.23", 1},
        {KINAGG__AC_ALLOW_CONTAINER, "169.254.170.3", 0},   {KINAGG__AC_ALLOW_CONTAINER, "169.254.169.254", 0},
        {KINAGG__AC_ALLOW_CONTAINER, "::1", 1},             {KINAGG__AC_ALLOW_CONTAINER, "fd00:ec2::23", 1},
        {KINAGG__AC_ALLOW_CONTAINER, "fd00:ec2::24", 0},    {KINAGG__AC_ALLOW_CONTAINER, "fd00:ec2::254", 0},
        {KINAGG__AC_ALLOW_CONTAINER, "::ffff:127.0.0.1", 1}, {KINAGG__AC_ALLOW_CONTAINER, "::ffff:10.0.0.1", 0},
        {KINAGG__AC_ALLOW_CONTAINER, "10.0.0.1", 0},        {KINAGG__AC_ALLOW_CONTAINER, "192.168.1.1", 0},
        {KINAGG__AC_ALLOW_CONTAINER, "localhost", -1},      {KINAGG__AC_ALLOW_IMDS, "169.254.169.254", 1},
        {KINAGG__AC_ALLOW_IMDS, "fd00:ec2::254", 1},        {KINAGG__AC_ALLOW_IMDS, "169.254.170.2", 0},
        {KINAGG__AC_ALLOW_IMDS, "127.0.0.1", 1},            {KINAGG__AC_ALLOW_LOOPBACK, "169.254.170.2", 0},
        {KINAGG__AC_ALLOW_LOOPBACK, "127.0.0.1", 1},        {KINAGG__AC_ALLOW_LOOPBACK, "::2", 0},
    };
    static const struct { const char *url; int ok; const char *host, *target, *host_header; unsigned port; int tls; } u[] = {
        {"http://127.0.0.1:8080/creds/a?b=c#frag", 1, "127.0.0.1", "/creds/a?b=c", "127.0.0.1:8080", 8080, 0},
        {"https://example.com", 1, "example.com", "/", "example.com", 443, 1},
        {"HTTPS://example.com:443/", 1, "example.com", "/", "example.com", 443, 1},
        {"http://[fd00:ec2::23]/v1/credentials", 1, "fd00:ec2::23", "/v1/credentials", "[fd00:ec2::23]", 80, 0},
        {"http://[::1]:9/?q", 1, "::1", "/?q", "[::1]:9", 9, 0},
        {"http://user:pw@127.0.0.1/", 0, "", "", "", 0, 0},
        {"http://127.0.0.1:0/", 0, "", "", "", 0, 0},
        {"http://127.0.0.1:65536/", 0, "", "", "", 0, 0},
        {"http://127.0.0.1:/", 0, "", "", "", 0, 0},
        {"ftp://127.0.0.1/", 0, "", "", "", 0, 0},
        {"127.0.0.1/", 0, "", "", "", 0, 0},
        {"http:///x", 0, "", "", "", 0, 0},
        {"http://a b/", 0, "", "", "", 0, 0},
        {"http://h/a b", 0, "", "", "", 0, 0},
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++)
        CHECK(kinagg__ac_literal_allowed(t[i].allow, t[i].host) == t[i].want, "%s for %d", t[i].host, t[i].allow);
    for (i = 0; i < sizeof u / sizeof u[0]; i++) {
        int ok;
        memset(&prov, 0, sizeof prov);
        ok = kinagg__ac_url(&prov, u[i].url, 0);
        CHECK(ok == u[i].ok && (!ok || (!strcmp(prov.host, u[i].host) && !strcmp(prov.target, u[i].target) &&
                                        !strcmp(prov.host_header, u[i].host_header) && prov.port == u[i].port &&
                                        prov.tls_used == u[i].tls)),
              "%s: %d %s %s %s %u", u[i].url, ok, prov.host, prov.target, prov.host_header, prov.port);
    }
    memset(&prov, 0, sizeof prov);
    CHECK(kinagg__ac_url(&prov, "iot.example.com:8443", 1) && prov.tls_used && prov.port == 8443, "bare host for IoT");
}

/* ---- providers ------------------------------------------------------------ */

static void test_environment_and_profile(void) {
    kinagg_credentials c;
    uint64_t exp = 1;
    clear_env();
    CHECK(kinagg_aws_provider_environment(&prov) == KINAGG_ERR_INVALID_ARGUMENT && has(prov.error, "AWS_ACCESS_KEY_ID") &&
              prov.kind == KINAGG_AWS_PROVIDER_NONE,
          "no environment: %s", prov.error);
    CHECK(kinagg_aws_provider_get(&prov, 0, &c, &exp) == KINAGG_ERR_INVALID_ARGUMENT, "get after a failed init");
    setenv("AWS_ACCESS_KEY_ID", "ASIAKINAGGTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    CHECK(kinagg_aws_provider_environment(&prov) == KINAGG_OK && kinagg_aws_provider_get(&prov, 1, &c, &exp) == KINAGG_OK &&
              exp == 0 && c.session_token.len == strlen(TOKEN) && accepted(&c),
          "environment: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    setenv("AWS_SESSION_TOKEN", "bad token", 1);
    CHECK(kinagg_aws_provider_environment(&prov) == KINAGG_ERR_INVALID_ARGUMENT && has(prov.error, "visible ASCII") &&
              !has(prov.error, "bad token"),
          "a token with a space: %s", prov.error);
    clear_env();
    /* profiles */
    write_file(path_in(dir, "home/.aws/credentials"),
               "[default]\naws_access_key_id = ASIAKINAGGTEST\naws_secret_access_key = " SECRET
               "\naws_session_token = " TOKEN "\n[half]\naws_access_key_id = AKIDONLY\n");
    write_file(path_in(dir, "home/.aws/config"),
               "[default]\nregion = eu-west-1\n[profile assume]\nrole_arn = " ROLE "x\nsource_profile = default\n"
               "[profile sso]\nsso_session = corp\nsso_account_id = 1\n[profile empty]\nregion = us-west-2\n"
               "  nested = skipped\n");
    CHECK(kinagg_aws_provider_profile(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_STATIC &&
              kinagg_aws_provider_get(&prov, 0, &c, &exp) == KINAGG_OK && accepted(&c) && has(prov.name, "[default]"),
          "profile default: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    CHECK(kinagg_aws_provider_profile(&prov, "half") != KINAGG_OK && has(prov.error, "only one of"), "half: %s", prov.error);
    CHECK(kinagg_aws_provider_profile(&prov, "assume") != KINAGG_OK && has(prov.error, "not supported"),
          "assume role: %s", prov.error);
    CHECK(kinagg_aws_provider_profile(&prov, "sso") != KINAGG_OK && has(prov.error, "sso") &&
              has(prov.error, "export-credentials"),
          "sso: %s", prov.error);
    CHECK(kinagg_aws_provider_profile(&prov, "empty") != KINAGG_OK && has(prov.error, "no aws_access_key_id"),
          "empty: %s", prov.error);
    CHECK(kinagg_aws_provider_profile(&prov, "missing") != KINAGG_OK && has(prov.error, "(missing) could not be found") &&
              has(prov.error, "[missing]"),
          "missing: %s", prov.error);
}

/* Offline: the files named with a leading ~/, as the AWS CLI expands it. */
static void test_profile_paths(void) {
    clear_env();
    write_file(path_in(dir, "home/.aws/tilde-config"), "[profile sso]\nsso_session = corp\nsso_role_name = r\n");
    setenv("AWS_CONFIG_FILE", "~/.aws/tilde-config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/tilde-credentials", 1);
    CHECK(kinagg_aws_provider_profile(&prov, "sso") != KINAGG_OK && has(prov.error, "export-credentials"),
          "AWS_CONFIG_FILE=~/...: %s", prov.error);
    CHECK(kinagg_aws_provider_profile(&prov, "missing") != KINAGG_OK && has(prov.error, "could not be found") &&
              has(prov.error, path_in(dir, "home/.aws/tilde-credentials")),
          "AWS_SHARED_CREDENTIALS_FILE=~/...: %s", prov.error);
    clear_env();
    { /* a profile indented throughout: its keys all count; deeper lines are sub-settings */
        char text[1024];
        kinagg_credentials c;
        uint64_t exp;
        write_file(path_in(dir, "ind-proc.json"), "{\"Version\": 1, \"AccessKeyId\": \"AKIDINDENTED\", "
                                                  "\"SecretAccessKey\": \"kinagg/test/secret+KEY\"}");
        snprintf(text, sizeof text, "[profile ind]\n  region = us-west-2\n  s3 =\n    credential_process = false\n"
                                    "  credential_process = cat %s\n", path_in(dir, "ind-proc.json"));
        write_file(path_in(dir, "home/.aws/ind-config"), text);
        setenv("AWS_CONFIG_FILE", path_in(dir, "home/.aws/ind-config"), 1);
        CHECK(kinagg_aws_provider_profile(&prov, "ind") == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_PROCESS &&
                  kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK && c.access_key_id.len == 12 &&
                  !memcmp(c.access_key_id.ptr, "AKIDINDENTED", 12),
              "a profile indented throughout: its second key read: %s", prov.error);
        kinagg_aws_provider_free(&prov);
        /* keys in any case and "key: value", as the AWS CLI reads them */
        snprintf(text, sizeof text, "[profile upper]\nCredential_Process: cat %s\n", path_in(dir, "ind-proc.json"));
        write_file(path_in(dir, "home/.aws/upper-config"), text);
        setenv("AWS_CONFIG_FILE", path_in(dir, "home/.aws/upper-config"), 1);
        CHECK(kinagg_aws_provider_profile(&prov, "upper") == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_PROCESS &&
                  kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK && c.access_key_id.len == 12,
              "Credential_Process: read as credential_process: %s", prov.error);
        kinagg_aws_provider_free(&prov);
        clear_env();
    }
}

static void test_process(void) {
    kinagg_credentials c;
    uint64_t exp, slowest, took;
    kinagg_status st;
    char cmd[700];
    clear_env();
    write_file(path_in(dir, "proc-good.json"),
               "{\"Version\": 1, \"AccessKeyId\": \"ASIAKINAGGTEST\", \"SecretAccessKey\": \"" SECRET
               "\", \"SessionToken\": \"" TOKEN "\", \"Expiration\": \"2099-01-01T00:00:00Z\"}\n");
    write_file(path_in(dir, "proc-long.json"),
               "{\"Version\": 1, \"AccessKeyId\": \"AKIDKINAGGTEST\", \"SecretAccessKey\": \"kinagg/test/secret+KEY\"}");
    write_file(path_in(dir, "proc-expired.json"),
               "{\"Version\": 1, \"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"" SECRET "\", \"SessionToken\": \"" TOKEN
               "\", \"Expiration\": \"2001-01-01T00:00:00Z\"}");
    write_file(path_in(dir, "proc-v2.json"), "{\"Version\": 2, \"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"" SECRET "\"}");
    write_file(path_in(dir, "proc-bad.json"), "{\"Version\": 1, \"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"" SECRET);
    snprintf(cmd, sizeof cmd, "sleep 0.3; cat %s", path_in(dir, "proc-good.json"));
    CHECK(kinagg_aws_provider_process(&prov, cmd) == KINAGG_OK, "init: %s", prov.error);
    st = fetch(&prov, 0, &c, &exp, &slowest, &took);
    CHECK(st == KINAGG_OK && took >= 250 && slowest < 50 && exp == 4070908800000ull && accepted(&c),
          "process: %d in %llu ms, slowest get %llu ms: %s", st, (unsigned long long)took, (unsigned long long)slowest,
          prov.error);
    CHECK(kinagg_aws_provider_get(&prov, 0, &c, &exp) == KINAGG_OK && prov.fetches == 1,
          "unforced, just after: the same credentials, not run again (%lu runs)", prov.fetches);
    kinagg_aws_provider_free(&prov);
    snprintf(cmd, sizeof cmd, "cat %s", path_in(dir, "proc-long.json"));
    kinagg_aws_provider_process(&prov, cmd);
    CHECK(fetch1(&prov, &c) == KINAGG_OK && !c.session_token.len && accepted(&c) && prov.cur.expires_unix_ms == 0,
          "long-term keys: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    /* failures keep what was there; each names the provider and why */
    snprintf(cmd, sizeof cmd, "cat %s", path_in(dir, "proc-doc.json"));
    write_file(path_in(dir, "proc-doc.json"),
               "{\"Version\": 1, \"AccessKeyId\": \"ASIAKINAGGTEST\", \"SecretAccessKey\": \"" SECRET
               "\", \"SessionToken\": \"" TOKEN "\", \"Expiration\": \"2099-01-01T00:00:00Z\"}\n");
    kinagg_aws_provider_process(&prov, cmd);
    CHECK(fetch1(&prov, &c) == KINAGG_OK, "first: %s", prov.error);
    {
        static const struct { const char *file; const char *why; } f[] = {
            {"proc-expired.json", "expired at 2001-01-01T00:00:00Z"},
            {"proc-v2.json", "Version is 2, not 1"},
            {"proc-bad.json", "not valid JSON"},
        };
        size_t i;
        for (i = 0; i < 3; i++) {
            char text[800];
            FILE *in = fopen(path_in(dir, f[i].file), "r");
            size_t n = fread(text, 1, sizeof text - 1, in);
            fclose(in);
            text[n] = '\0';
            write_file(path_in(dir, "proc-doc.json"), text);
            st = fetch1(&prov, &c);
            CHECK(st != KINAGG_OK && has(prov.error, "credential_process") && has(prov.error, f[i].why) &&
                      !has(prov.error, SECRET) && prov.have && !strcmp(prov.cur.secret_access_key, SECRET),
                  "%s: %d %s", f[i].file, st, prov.error);
        }
    }
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_process(&prov, "exit 3");
    st = fetch1(&prov, &c);
    CHECK(st == KINAGG_ERR_SERVICE && has(prov.error, "exited with status 3"), "exit 3: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_process(&prov, "/nonexistent/kinagg-credentials-helper 2>/dev/null");
    CHECK(fetch1(&prov, &c) != KINAGG_OK && has(prov.error, "status 127"), "not found: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    {
        /* a kinagg connection open meanwhile is not the command's: it
         * lists its descriptors, and fails on a socket among them */
        kinagg_posix_socket sock;
        kinagg_transport tcp;
        int i;
        kinagg_posix_socket_init(&sock, &tcp);
        for (i = 0; i < 200 && tcp.connect(tcp.ctx, "127.0.0.1", (uint16_t)port("sts")) == KINAGG_IO_AGAIN; i++)
            tcp.wait(tcp.ctx, KINAGG_WAIT_WRITE, 10);
        snprintf(cmd, sizeof cmd, "if ls -l /proc/$$/fd | grep -q socket; then ls -l /proc/$$/fd >&2; exit 9; fi; cat %s",
                 path_in(dir, "proc-long.json"));
        kinagg_aws_provider_process(&prov, cmd);
        st = fetch1(&prov, &c);
        CHECK(sock.fd >= 0 && st == KINAGG_OK, "the command inherited kinagg's connection (fd %d): %d %s", sock.fd, st,
              prov.error);
        kinagg_aws_provider_free(&prov);
        tcp.close(tcp.ctx);
    }
    kinagg_aws_provider_process(&prov, "cat"); /* standard input is /dev/null, not ours */
    st = fetch(&prov, 1, &c, &exp, NULL, &took);
    CHECK(st == KINAGG_ERR_JSON && has(prov.error, "ends early") && took < 2000, "stdin: %d %s", st, prov.error);
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_process(&prov, "sleep 10");
    prov.timeout_ms = 300;
    st = fetch(&prov, 1, &c, &exp, &slowest, &took);
    CHECK(st == KINAGG_ERR_TIMEOUT && took >= 290 && took < 2500 && slowest < 50 && has(prov.error, "within 300 ms"),
          "time limit: %d after %llu ms: %s", st, (unsigned long long)took, prov.error);
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_process(&prov, "head -c 40000 /dev/zero | tr '\\000' a");
    st = fetch1(&prov, &c);
    CHECK(st == KINAGG_ERR_RESPONSE_TOO_LARGE && has(prov.error, "more than"), "too much: %d %s", st, prov.error);
    kinagg_aws_provider_free(&prov);
    /* a process still running when the provider is freed is stopped */
    kinagg_aws_provider_process(&prov, "sleep 30");
    CHECK(kinagg_aws_provider_get(&prov, 0, &c, &exp) == KINAGG_PENDING && prov.pid > 0, "started");
    {
        long pid = prov.pid;
        kinagg_aws_provider_free(&prov);
        CHECK(kill((pid_t)pid, 0) != 0, "the process %ld is gone after free", pid);
    }
    CHECK(kinagg_aws_provider_process(&prov, "") != KINAGG_OK, "empty command");
}

static void test_web_identity(void) {
    kinagg_credentials c;
    uint64_t exp, slowest;
    char url[128];
    kinagg_status st;
    clear_env();
    write_file(path_in(dir, "web-token"), WEB_TOKEN "\n");
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("sts"));
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    CHECK(kinagg_aws_provider_web_identity(&prov, path_in(dir, "web-token"), ROLE "kinagg-test", "kinagg-session") ==
              KINAGG_OK,
          "init: %s", prov.error);
    st = fetch(&prov, 0, &c, &exp, &slowest, NULL);
    CHECK(st == KINAGG_OK && slowest < 50 && exp > (uint64_t)time(NULL) * 1000u + 3000000u && accepted(&c),
          "sts: %d %s", st, prov.error);
    CHECK(!strcmp(server_session(), "kinagg-session"), "session name sent: %s", server_session());
    /* the token file is read on every fetch */
    write_file(path_in(dir, "web-token"), "eyJ.not.it");
    st = fetch1(&prov, &c);
    CHECK(st == KINAGG_ERR_SERVICE && has(prov.error, "HTTP 400: InvalidIdentityToken") && !has(prov.error, "eyJ") &&
              !strcmp(prov.cur.secret_access_key, SECRET),
          "another token: %s", prov.error);
    write_file(path_in(dir, "web-token"), WEB_TOKEN);
    CHECK(fetch1(&prov, &c) == KINAGG_OK, "the token back: %s", prov.error);
    unlink(path_in(dir, "web-token"));
    CHECK(fetch1(&prov, &c) != KINAGG_OK && has(prov.error, "cannot read the web identity token file"),
          "no token file: %s", prov.error);
    write_file(path_in(dir, "web-token"), WEB_TOKEN);
    kinagg_aws_provider_free(&prov);
    {
        static const struct { const char *role; const char *why; } f[] = {
            {"denied", "HTTP 403: AccessDenied: Not authorized"},
            {"expired", "expired at"},
            {"malformed", "end tag that does not match"},
            {"incomplete", "missing SessionToken"},
        };
        size_t i;
        for (i = 0; i < 4; i++) {
            char role[128];
            snprintf(role, sizeof role, ROLE "%s", f[i].role);
            kinagg_aws_provider_web_identity(&prov, path_in(dir, "web-token"), role, NULL);
            st = fetch1(&prov, &c);
            CHECK(st != KINAGG_OK && has(prov.error, "web identity (STS http://127.0.0.1:") && has(prov.error, f[i].why) &&
                      !has(prov.error, SECRET),
                  "%s: %s", f[i].role, prov.error);
            kinagg_aws_provider_free(&prov);
        }
    }
    /* from the environment, a generated session name, over https */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path_in(dir, "web-token"), 1);
    setenv("AWS_ROLE_ARN", ROLE "kinagg-test", 1);
    snprintf(url, sizeof url, "https://localhost:%d", port("sts_tls"));
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    setenv("AWS_CA_BUNDLE", path_in(pki, "ca.crt"), 1);
    CHECK(kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL) == KINAGG_OK && fetch1(&prov, &c) == KINAGG_OK &&
              accepted(&c) && !strncmp(server_session(), "kinagg-", 7),
          "sts over https from the environment: %s (session %s)", prov.error, server_session());
    kinagg_aws_provider_free(&prov);
    unsetenv("AWS_CA_BUNDLE"); /* the system's CAs do not know the test CA */
    kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL);
    CHECK(fetch1(&prov, &c) == KINAGG_ERR_TLS && has(prov.error, "not signed by a trusted CA"), "system CAs: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    /* plain http only to loopback: STS answers carry credentials */
    setenv("AWS_ENDPOINT_URL_STS", "http://10.1.2.3", 1);
    CHECK(kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL) == KINAGG_ERR_ENDPOINT && has(prov.error, "in the clear"),
          "http to 10.1.2.3: %s", prov.error);
    snprintf(url, sizeof url, "http://localhost:%d/", port("sts"));
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    CHECK(kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL) == KINAGG_OK && fetch1(&prov, &c) == KINAGG_OK,
          "http://localhost: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    unsetenv("AWS_ENDPOINT_URL_STS");
    setenv("AWS_REGION", "eu-central-1", 1);
    CHECK(kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL) == KINAGG_OK &&
              has(prov.name, "https://sts.eu-central-1.amazonaws.com"),
          "regional endpoint: %s", prov.name);
    kinagg_aws_provider_free(&prov);
    {
        /* the STS endpoint by the environment: region (its partition's DNS
         * suffix), configured endpoints ignored, FIPS (as botocore) */
        static const char *const cases[][4] = {
            /* AWS_REGION, another variable set, its value, the URL */
            {"cn-north-1", "", "", "https://sts.cn-north-1.amazonaws.com.cn"},
            {"cn-north-1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", "https://sts.cn-north-1.amazonaws.com.cn"},
            {"fips-us-east-1", "", "", "https://sts-fips.us-east-1.amazonaws.com"},
            {"us-east-1", "AWS_USE_FIPS_ENDPOINT", "true", "https://sts-fips.us-east-1.amazonaws.com"},
            {"us-iso-east-1", "", "", "https://sts.us-iso-east-1.c2s.ic.gov"}};
        size_t i;
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            setenv("AWS_REGION", cases[i][0], 1);
            if (cases[i][1][0]) setenv(cases[i][1], cases[i][2], 1);
            if (!strcmp(cases[i][1], "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) /* an endpoint to ignore */
                setenv("AWS_ENDPOINT_URL", "http://configured.invalid:1", 1);
            kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL);
            CHECK(has(prov.name, cases[i][3]), "STS of %s %s=%s: %s", cases[i][0], cases[i][1], cases[i][2], prov.name);
            kinagg_aws_provider_free(&prov);
            if (cases[i][1][0]) unsetenv(cases[i][1]);
            unsetenv("AWS_ENDPOINT_URL");
        }
    }
    {
        /* through the chain with no AWS config file at all (a pod with a
         * service account's web identity): the region of the environment
         * (it was lost when the implicit default profile was looked for) */
        const char *saved_cfg = getenv("AWS_CONFIG_FILE"), *saved_cred = getenv("AWS_SHARED_CREDENTIALS_FILE");
        char cfg_keep[512] = "", cred_keep[512] = "";
        if (saved_cfg) snprintf(cfg_keep, sizeof cfg_keep, "%s", saved_cfg);
        if (saved_cred) snprintf(cred_keep, sizeof cred_keep, "%s", saved_cred);
        setenv("AWS_CONFIG_FILE", "/nonexistent/kinagg/config", 1);
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/kinagg/credentials", 1);
        setenv("AWS_REGION", "cn-north-1", 1);
        kinagg_aws_provider_chain(&prov, NULL);
        CHECK(has(prov.name, "https://sts.cn-north-1.amazonaws.com.cn"), "chain, no config files: %s (%s)", prov.name,
              prov.error);
        kinagg_aws_provider_free(&prov);
        /* the profile's use_fips_endpoint and use_dualstack_endpoint find
         * STS too, as botocore's client for it has the profile's settings
         * (the environment's over them) */
        {
            static const char *const fips_cases[][3] = {
                /* the profile's settings, AWS_USE_FIPS_ENDPOINT (- unset), the URL */
                {"use_fips_endpoint = true\n", "-", "https://sts-fips.us-east-2.amazonaws.com"},
                {"use_dualstack_endpoint = true\n", "-", "https://sts.us-east-2.api.aws"},
                {"use_fips_endpoint = true\n", "false", "https://sts.us-east-2.amazonaws.com"},
                {"", "true", "https://sts-fips.us-east-2.amazonaws.com"}};
            size_t i;
            char cfg_path[64];
            snprintf(cfg_path, sizeof cfg_path, "/tmp/kinagg-fips-config-%d", (int)getpid());
            setenv("AWS_CONFIG_FILE", cfg_path, 1);
            setenv("AWS_REGION", "us-east-2", 1);
            for (i = 0; i < sizeof fips_cases / sizeof fips_cases[0]; i++) {
                FILE *f = fopen(cfg_path, "w");
                if (f) {
                    fprintf(f, "[default]\n%s", fips_cases[i][0]);
                    fclose(f);
                }
                if (fips_cases[i][1][0] != '-') setenv("AWS_USE_FIPS_ENDPOINT", fips_cases[i][1], 1);
                kinagg_aws_provider_chain(&prov, NULL);
                CHECK(has(prov.name, fips_cases[i][2]), "chain, profile %s AWS_USE_FIPS_ENDPOINT=%s: %s (%s)",
                      fips_cases[i][0], fips_cases[i][1], prov.name, prov.error);
                kinagg_aws_provider_free(&prov);
                kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL);
                CHECK(has(prov.name, fips_cases[i][2]), "web identity, profile %s AWS_USE_FIPS_ENDPOINT=%s: %s (%s)",
                      fips_cases[i][0], fips_cases[i][1], prov.name, prov.error);
                kinagg_aws_provider_free(&prov);
                unsetenv("AWS_USE_FIPS_ENDPOINT");
            }
            remove(cfg_path);
        }
        if (saved_cfg) setenv("AWS_CONFIG_FILE", cfg_keep, 1); else unsetenv("AWS_CONFIG_FILE");
        if (saved_cred) setenv("AWS_SHARED_CREDENTIALS_FILE", cred_keep, 1); else unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    }
    CHECK(kinagg_aws_provider_web_identity(&prov, NULL, NULL, "has space") != KINAGG_OK, "bad session name");
    unsetenv("AWS_ROLE_ARN");
    CHECK(kinagg_aws_provider_web_identity(&prov, NULL, NULL, NULL) != KINAGG_OK && has(prov.error, "AWS_ROLE_ARN"),
          "no role: %s", prov.error);
}

static uint64_t ahead_3h(void *ctx) { return pf.unix_ms(ctx) + 3 * 3600000ull; }
static uint64_t behind_3h(void *ctx) { return pf.unix_ms(ctx) - 3 * 3600000ull; }

static void test_container(void) {
    kinagg_credentials c;
    uint64_t exp, slowest;
    char url[128];
    kinagg_status st;
    clear_env();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/good", port("container"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    kinagg_aws_provider_container(&prov);
    st = fetch1(&prov, &c);
    CHECK(st == KINAGG_ERR_SERVICE && has(prov.error, "HTTP 401: Unauthorized: Authorization header missing"),
          "no Authorization: %s", prov.error);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "not-the-token", 1);
    st = fetch1(&prov, &c);
    CHECK(st == KINAGG_ERR_SERVICE && has(prov.error, "HTTP 403: AccessDenied") && !has(prov.error, "not-the-token"),
          "wrong Authorization: %s", prov.error);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN, 1);
    st = fetch(&prov, 1, &c, &exp, &slowest, NULL);
    CHECK(st == KINAGG_OK && slowest < 50 && accepted(&c), "container: %s", prov.error);
    /* the token file wins over the variable, and is read on every fetch */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "not-the-token", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path_in(dir, "container-token"), 1);
    write_file(path_in(dir, "container-token"), CONTAINER_TOKEN "\n");
    CHECK(fetch1(&prov, &c) == KINAGG_OK, "token file: %s", prov.error);
    write_file(path_in(dir, "container-token"), "rotated-away");
    CHECK(fetch1(&prov, &c) == KINAGG_ERR_SERVICE && has(prov.error, "HTTP 403"), "token file changed: %s", prov.error);
    write_file(path_in(dir, "container-token"), CONTAINER_TOKEN);
    CHECK(fetch1(&prov, &c) == KINAGG_OK, "token file back: %s", prov.error);
    write_file(path_in(dir, "container-token"), "line\r\nX-Injected: yes");
    CHECK(fetch1(&prov, &c) == KINAGG_ERR_INVALID_ARGUMENT && has(prov.error, "line break") && !has(prov.error, "Injected"),
          "token with CR LF: %s", prov.error);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN, 1);
    kinagg_aws_provider_free(&prov);
    {
        /* a device clock 3 hours ahead (an RTC kept in local time): the
         * document, good for an hour by the service's clock (its Date),
         * is taken, with that expiry; and one that did expire is still
         * refused */
        uint64_t real;
        kinagg_aws_provider_container(&prov);
        prov.platform.unix_ms = ahead_3h;
        real = pf.unix_ms(pf.ctx);
        st = fetch(&prov, 1, &c, &exp, NULL, NULL);
        CHECK(st == KINAGG_OK && exp > real + 3500000 && exp < real + 3700000 && prov.clock_offset_ms < -10700000 &&
                  prov.clock_offset_ms > -10900000,
              "a clock 3 h ahead: %s, expires in %lld s, offset %lld ms", prov.error, (long long)(exp - real) / 1000,
              (long long)prov.clock_offset_ms);
        kinagg_aws_provider_free(&prov);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/expired", port("container"));
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
        kinagg_aws_provider_container(&prov);
        prov.platform.unix_ms = behind_3h;
        st = fetch1(&prov, &c);
        CHECK(st != KINAGG_OK && has(prov.error, "expired at"), "a clock 3 h behind, an expired document: %s", prov.error);
        kinagg_aws_provider_free(&prov);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/good", port("container"));
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    }
    {
        static const struct { const char *path; const char *why; } f[] = {
            {"expired", "expired at"},
            {"malformed", "not valid JSON"},
            {"incomplete", "missing Token"},
            {"badchars", "Token has characters other than visible ASCII"},
            {"NoSuch", "HTTP 404: NotFound"},
        };
        size_t i;
        for (i = 0; i < 5; i++) {
            snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/%s", port("container"), f[i].path);
            setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
            kinagg_aws_provider_container(&prov);
            st = fetch1(&prov, &c);
            CHECK(st != KINAGG_OK && has(prov.error, "container credentials (http://127.0.0.1:") &&
                      has(prov.error, f[i].why) && !has(prov.error, SECRET) && !prov.have,
                  "%s: %s", f[i].path, prov.error);
            kinagg_aws_provider_free(&prov);
        }
    }
    /* https, with the CA bundle; a name that resolves to loopback over http */
    snprintf(url, sizeof url, "https://localhost:%d/creds/good", port("container_tls"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CA_BUNDLE", path_in(pki, "ca.crt"), 1);
    CHECK(kinagg_aws_provider_container(&prov) == KINAGG_OK && fetch1(&prov, &c) == KINAGG_OK && accepted(&c),
          "https: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    unsetenv("AWS_CA_BUNDLE");
    snprintf(url, sizeof url, "http://localhost:%d/creds/good", port("container"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    CHECK(kinagg_aws_provider_container(&prov) == KINAGG_OK && fetch1(&prov, &c) == KINAGG_OK, "http://localhost: %s",
          prov.error);
    kinagg_aws_provider_free(&prov);
    /* where plain http may and may not go (no fetch) */
    {
        static const struct { const char *url; int ok; } w[] = {
            {"http://10.0.0.1/creds", 0},          {"http://169.254.170.23/v1/credentials", 1},
            {"http://[fd00:ec2::23]/v1/credentials", 1}, {"http://[fd00:ec2::24]/", 0},
            {"http://169.254.169.254/", 0},        {"https://10.0.0.1/creds", 1},
            {"http://user:pw@127.0.0.1/", 0},      {"file:///etc/passwd", 0},
        };
        size_t i;
        for (i = 0; i < sizeof w / sizeof w[0]; i++) {
            setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", w[i].url, 1);
            st = kinagg_aws_provider_container(&prov);
            CHECK((st == KINAGG_OK) == w[i].ok && (w[i].ok || !strncmp(w[i].url, "http://user", 11) ||
                                                   !strncmp(w[i].url, "file", 4) || has(prov.error, "in the clear")),
                  "%s: %s", w[i].url, prov.error);
            kinagg_aws_provider_free(&prov);
        }
    }
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    CHECK(kinagg_aws_provider_container(&prov) == KINAGG_OK &&
              has(prov.name, "http://169.254.170.2/v2/credentials/abc") && !strcmp(prov.host, "169.254.170.2"),
          "relative URI wins: %s", prov.name);
    kinagg_aws_provider_free(&prov);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/no-slash", 1);
    CHECK(kinagg_aws_provider_container(&prov) != KINAGG_OK, "a relative URI without its slash");
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    /* rotation: other credentials counted; the old secret and token gone from memory */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/good", port("container"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    kinagg_aws_provider_container(&prov);
    CHECK(fetch1(&prov, &c) == KINAGG_OK && in_memory(&prov, sizeof prov, SECRET), "good first");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/alt", port("container"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    snprintf(prov.target, sizeof prov.target, "/creds/alt");
    CHECK(fetch1(&prov, &c) == KINAGG_OK && prov.changes == 1 && !strcmp(prov.cur.access_key_id, "ASIAKINAGGALT"),
          "alt: %s, %lu changes", prov.error, prov.changes);
    CHECK(!in_memory(&prov, sizeof prov, SECRET) && !in_memory(&prov, sizeof prov, TOKEN) &&
              !in_memory(&prov, sizeof prov, CONTAINER_TOKEN),
          "the replaced secret, its token and the Authorization are wiped");
    kinagg_aws_provider_free(&prov);
    CHECK(!in_memory(&prov, sizeof prov, "kinagg/alternate/secret") && !in_memory(&prov, sizeof prov, "kinagg-alternate"),
          "free wipes the secrets");
}

static void test_imds(void) {
    kinagg_credentials c;
    uint64_t exp, slowest, took;
    char url[128];
    long tokens, refused;
    kinagg_status st;
    clear_env();
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("imds"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    tokens = server_stat("imds", "tokens");
    CHECK(kinagg_aws_provider_imds(&prov) == KINAGG_OK, "init: %s", prov.error);
    st = fetch(&prov, 0, &c, &exp, &slowest, NULL);
    CHECK(st == KINAGG_OK && slowest < 50 && accepted(&c) && exp > (uint64_t)time(NULL) * 1000u, "imds: %s", prov.error);
    CHECK(fetch1(&prov, &c) == KINAGG_OK && server_stat("imds", "tokens") == tokens + 1,
          "the session token is used again (%ld tokens)", server_stat("imds", "tokens") - tokens);
    kinagg_aws_provider_free(&prov);
    /* renewed before its TTL ends */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port("imds"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    kinagg_aws_provider_imds(&prov);
    prov.imds_token_ttl_s = 2;
    tokens = server_stat("imds", "tokens");
    CHECK(fetch1(&prov, &c) == KINAGG_OK, "ttl 2: %s", prov.error);
    pf.sleep_ms(NULL, 1600);
    refused = server_stat("imds", "refused");
    CHECK(fetch1(&prov, &c) == KINAGG_OK && server_stat("imds", "tokens") == tokens + 2 &&
              server_stat("imds", "refused") == refused,
          "renewed in time: %ld tokens, %ld refused", server_stat("imds", "tokens") - tokens,
          server_stat("imds", "refused") - refused);
    kinagg_aws_provider_free(&prov);
    /* a token the service forgot: 401, one new token, done */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("imds_revoke"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    kinagg_aws_provider_imds(&prov);
    tokens = server_stat("imds_revoke", "tokens");
    refused = server_stat("imds_revoke", "refused");
    CHECK(fetch1(&prov, &c) == KINAGG_OK && fetch1(&prov, &c) == KINAGG_OK &&
              server_stat("imds_revoke", "tokens") == tokens + 2 && server_stat("imds_revoke", "refused") == refused + 1,
          "revoked token: %s (%ld tokens, %ld refused)", prov.error, server_stat("imds_revoke", "tokens") - tokens,
          server_stat("imds_revoke", "refused") - refused);
    kinagg_aws_provider_free(&prov);
    {
        static const struct { const char *listener; const char *why; } f[] = {
            {"imds_norole", "no IAM role is attached"},
            {"imds_failcode", "Code is \"AssumeRoleUnauthorizedAccess\""},
            {"imds_expired", "expired at"},
            {"imds_malformed", "not valid JSON"},
            {"imds_incomplete", "missing Token"},
        };
        size_t i;
        for (i = 0; i < 5; i++) {
            snprintf(url, sizeof url, "http://127.0.0.1:%d", port(f[i].listener));
            setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
            kinagg_aws_provider_imds(&prov);
            st = fetch1(&prov, &c);
            CHECK(st != KINAGG_OK && has(prov.error, "EC2 instance metadata (http://127.0.0.1:") &&
                      has(prov.error, f[i].why) && !has(prov.error, SECRET),
                  "%s: %s", f[i].listener, prov.error);
            kinagg_aws_provider_free(&prov);
        }
    }
    /* off EC2: nothing listens (refused at once), or nothing answers (2 x 1 s) */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    kinagg_aws_provider_imds(&prov);
    st = fetch(&prov, 0, &c, &exp, &slowest, &took);
    CHECK(st == KINAGG_ERR_CONNECT && took < 1000 && has(prov.error, "after 2 attempts"), "refused: %d in %llu ms: %s", st,
          (unsigned long long)took, prov.error);
    kinagg_aws_provider_free(&prov);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("silent"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    kinagg_aws_provider_imds(&prov);
    st = fetch(&prov, 0, &c, &exp, &slowest, &took);
    CHECK(st == KINAGG_ERR_TIMEOUT && took >= 1900 && took < 3500 && slowest < 50 && has(prov.error, "not an EC2 instance"),
          "silent: %d in %llu ms (slowest get %llu ms): %s", st, (unsigned long long)took, (unsigned long long)slowest,
          prov.error);
    kinagg_aws_provider_free(&prov);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://10.0.0.1", 1);
    CHECK(kinagg_aws_provider_imds(&prov) == KINAGG_ERR_ENDPOINT && has(prov.error, "169.254.169.254"), "10.0.0.1: %s",
          prov.error);
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6", 1);
    CHECK(kinagg_aws_provider_imds(&prov) == KINAGG_OK && has(prov.name, "[fd00:ec2::254]"), "IPv6: %s", prov.name);
    kinagg_aws_provider_free(&prov);
    setenv("AWS_EC2_METADATA_DISABLED", "True", 1);
    CHECK(kinagg_aws_provider_imds(&prov) != KINAGG_OK && has(prov.error, "disabled"), "disabled: %s", prov.error);
}

static void test_iot(void) {
    kinagg_credentials c;
    uint64_t exp, slowest;
    char ep[64];
    kinagg_status st;
    char crt[600], key[600], ca[600];
    snprintf(crt, sizeof crt, "%s", path_in(dpki, "device.crt"));
    snprintf(key, sizeof key, "%s", path_in(dpki, "device.key"));
    snprintf(ca, sizeof ca, "%s", path_in(pki, "ca.crt"));
    clear_env();
    snprintf(ep, sizeof ep, "localhost:%d", port("iot"));
    CHECK(kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", "kinagg-test-thing", crt, key, ca) == KINAGG_OK,
          "init: %s", prov.error);
    st = fetch(&prov, 0, &c, &exp, &slowest, NULL);
    CHECK(st == KINAGG_OK && slowest < 100 && accepted(&c), "iot: %d %s (slowest get %llu ms)", st, prov.error,
          (unsigned long long)slowest);
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", NULL, crt, key, ca);
    CHECK(fetch1(&prov, &c) == KINAGG_OK, "no thing name: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", "another-thing", crt, key, ca);
    CHECK(fetch1(&prov, &c) == KINAGG_ERR_SERVICE && has(prov.error, "HTTP 403") && has(prov.error, "not attached"),
          "another thing: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", NULL, path_in(dpki, "rogue.crt"), path_in(dpki, "rogue.key"), ca);
    CHECK(fetch1(&prov, &c) == KINAGG_ERR_TLS, "a device certificate of another CA: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    CHECK(kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", NULL, crt, path_in(dpki, "rogue.key"), ca) ==
                  KINAGG_ERR_TLS && has(prov.error, "does not belong"),
          "key of another certificate: %s", prov.error);
    CHECK(kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", NULL, path_in(dpki, "missing.crt"), key, ca) ==
                  KINAGG_ERR_TLS && has(prov.error, "missing.crt"),
          "no certificate file: %s", prov.error);
    kinagg_aws_provider_iot(&prov, ep, "kinagg-test-alias", NULL, crt, key, path_in(pki, "other-ca.crt"));
    CHECK(fetch1(&prov, &c) == KINAGG_ERR_TLS && has(prov.error, "not signed by a trusted CA"), "other CA: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    {
        static const struct { const char *alias; const char *why; } f[] = {
            {"no-such-alias", "HTTP 404: Role alias does not exist"},
            {"expired", "expired at"},
            {"malformed", "not valid JSON"},
            {"incomplete", "missing sessionToken"},
        };
        size_t i;
        for (i = 0; i < 4; i++) {
            kinagg_aws_provider_iot(&prov, ep, f[i].alias, "kinagg-test-thing", crt, key, ca);
            st = fetch1(&prov, &c);
            CHECK(st != KINAGG_OK && has(prov.error, "AWS IoT credentials provider (https://localhost:") &&
                      has(prov.error, f[i].why) && !has(prov.error, SECRET),
                  "%s: %s", f[i].alias, prov.error);
            kinagg_aws_provider_free(&prov);
        }
    }
    snprintf(ep, sizeof ep, "http://localhost:%d", port("iot"));
    CHECK(kinagg_aws_provider_iot(&prov, ep, "a", NULL, crt, key, ca) == KINAGG_ERR_ENDPOINT, "http: %s", prov.error);
    CHECK(kinagg_aws_provider_iot(&prov, "localhost:1", "a/../b", NULL, crt, key, ca) == KINAGG_ERR_INVALID_ARGUMENT,
          "a role alias with a slash: %s", prov.error);
}

static void test_chain(void) {
    kinagg_credentials c;
    uint64_t exp;
    char url[128], text[1000];
    kinagg_status st;
    clear_env();
    unlink(path_in(dir, "home/.aws/credentials"));
    unlink(path_in(dir, "home/.aws/config"));
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    st = kinagg_aws_provider_chain(&prov, NULL);
    CHECK(st != KINAGG_OK && has(prov.error, "no AWS credentials found") && has(prov.error, "environment variables") &&
              has(prov.error, "profile [default]") && has(prov.error, "web identity") && has(prov.error, "container") &&
              has(prov.error, "disabled by AWS_EC2_METADATA_DISABLED"),
          "nothing anywhere: %s", prov.error);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_IMDS, "IMDS last");
    st = kinagg_aws_provider_wait(&prov, 5000, &c, &exp);
    CHECK(st == KINAGG_ERR_CONNECT && has(prov.error, "no AWS credentials found. Looked at: environment variables") &&
              has(prov.error, "profile [default]") && has(prov.error, "EC2 instance metadata (http://127.0.0.1:1)"),
          "nothing, IMDS unreachable: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    /* each place, in the SDKs' order */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("imds"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK &&
              accepted(&c),
          "IMDS: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/good", port("container"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN, 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_CONTAINER &&
              kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK,
          "container before IMDS: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    write_file(path_in(dir, "web-token"), WEB_TOKEN);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path_in(dir, "web-token"), 1);
    setenv("AWS_ROLE_ARN", ROLE "kinagg-test", 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("sts"));
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_WEB_IDENTITY &&
              kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK,
          "web identity before the container: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    snprintf(text, sizeof text, "[profile web]\nrole_arn = " ROLE "kinagg-test\nweb_identity_token_file = %s\n"
                                "role_session_name = from-profile\n[default]\ncredential_process = cat %s\n",
             path_in(dir, "web-token"), path_in(dir, "proc-good.json"));
    write_file(path_in(dir, "home/.aws/config"), text);
    /* the AWS CLI's order (botocore): web identity, with the environment's
     * settings, before the profile's credential_process and keys */
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_WEB_IDENTITY &&
              kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK,
          "the environment's web identity before the profile's credential_process: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_PROCESS &&
              kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK && accepted(&c),
          "the profile's credential_process before the container: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    setenv("AWS_PROFILE", "web", 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_WEB_IDENTITY &&
              has(prov.name, "of profile [web]") && kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK &&
              !strcmp(server_session(), "from-profile"),
          "the profile's web identity: %s %s", prov.name, prov.error);
    kinagg_aws_provider_free(&prov);
    unsetenv("AWS_PROFILE");
    write_file(path_in(dir, "home/.aws/credentials"),
               "[default]\naws_access_key_id = AKIDKINAGGTEST\naws_secret_access_key = kinagg/test/secret+KEY\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_STATIC &&
              kinagg_aws_provider_get(&prov, 0, &c, &exp) == KINAGG_OK && c.access_key_id.len == 14 &&
              !memcmp(c.access_key_id.ptr, "AKIDKINAGGTEST", 14) && accepted(&c),
          "the credentials file's keys before credential_process: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    /* keys in the config file come after credential_process */
    unlink(path_in(dir, "home/.aws/credentials"));
    snprintf(text, sizeof text, "[default]\naws_access_key_id = AKIDCONFIGFILE\naws_secret_access_key = x\n"
                                "credential_process = cat %s\n", path_in(dir, "proc-good.json"));
    write_file(path_in(dir, "home/.aws/config"), text);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_PROCESS &&
              kinagg_aws_provider_wait(&prov, 5000, &c, &exp) == KINAGG_OK && accepted(&c),
          "credential_process before the config file's keys: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    /* role_arn with source_profile: AssumeRole, refused as such, even with keys beside it */
    write_file(path_in(dir, "home/.aws/credentials"),
               "[default]\naws_access_key_id = AKIDKINAGGTEST\naws_secret_access_key = kinagg/test/secret+KEY\n");
    write_file(path_in(dir, "home/.aws/config"), "[default]\nrole_arn = " ROLE "x\nsource_profile = default\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "AssumeRole") &&
              prov.kind == KINAGG_AWS_PROVIDER_NONE,
          "a profile that assumes a role does not use its keys instead: %s", prov.error);
    write_file(path_in(dir, "home/.aws/config"), "[default]\nsso_session = corp\nsso_account_id = 1\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "sso"),
          "an sso profile does not use its keys instead: %s", prov.error);
    write_file(path_in(dir, "home/.aws/config"), "[default]\nsso_session = corp\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_STATIC,
          "sso_session alone is no sso profile (botocore needs sso_account_id or sso_role_name): %s", prov.error);
    kinagg_aws_provider_free(&prov);
    write_file(path_in(dir, "home/.aws/config"), "[default]\nrole_arn = " ROLE "x\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "role_arn without source_profile") &&
              prov.kind == KINAGG_AWS_PROVIDER_NONE,
          "role_arn alone: an error, not the keys nor the container: %s", prov.error);
    snprintf(text, sizeof text, "[default]\nrole_arn = " ROLE "kinagg-test\nsource_profile = other\n"
                                "web_identity_token_file = %s\n", path_in(dir, "web-token"));
    write_file(path_in(dir, "home/.aws/config"), text);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_WEB_IDENTITY,
          "role_arn with a token file and source_profile: web identity, as botocore: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    write_file(path_in(dir, "home/.aws/config"), "[default]\nregion = eu-west-1\n");
    /* what the AWS CLI refuses, the chain refuses: never other credentials */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/creds/good", port("container"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_PROFILE", "prdo", 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "(prdo) could not be found") &&
              prov.kind == KINAGG_AWS_PROVIDER_NONE,
          "AWS_PROFILE names no profile: %s", prov.error);
    CHECK(kinagg_aws_provider_chain(&prov, "prdo") != KINAGG_OK && has(prov.error, "(prdo) could not be found"),
          "a profile named that does not exist: %s", prov.error);
    setenv("AWS_PROFILE", "default", 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_STATIC,
          "AWS_PROFILE=default, which exists: %s", prov.error);
    kinagg_aws_provider_free(&prov);
    write_file(path_in(dir, "home/.aws/credentials"),
               "[default]\naws_access_key_id = AKIDOLDOLDOLD\naws_secret_access_key = old\n\n"
               "[default]\naws_access_key_id = AKIDKINAGGTEST\naws_secret_access_key = kinagg/test/secret+KEY\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "[default] appears twice"),
          "a section twice: %s", prov.error);
    write_file(path_in(dir, "home/.aws/credentials"),
               "[default]\naws_access_key_id = AKIDOLDOLDOLD\nAWS_ACCESS_KEY_ID = AKIDKINAGGTEST\n"
               "aws_secret_access_key = kinagg/test/secret+KEY\n");
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "aws_access_key_id appears twice"),
          "a key twice: %s", prov.error);
    unsetenv("AWS_PROFILE");
    write_file(path_in(dir, "home/.aws/credentials"),
               "[default]\naws_access_key_id = AKIDKINAGGTEST\naws_secret_access_key = kinagg/test/secret+KEY\n");
    setenv("AWS_ACCESS_KEY_ID", "ASIAKINAGGTEST", 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "AWS_SECRET_ACCESS_KEY is not"),
          "half of the environment's keys: %s", prov.error);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) == KINAGG_OK && kinagg_aws_provider_get(&prov, 0, &c, &exp) == KINAGG_OK &&
              !memcmp(c.access_key_id.ptr, "ASIAKINAGGTEST", 14) && has(prov.name, "environment"),
          "the environment first: %s", prov.name);
    kinagg_aws_provider_free(&prov);
    setenv("AWS_PROFILE", "prdo", 1);
    CHECK(kinagg_aws_provider_chain(&prov, NULL) != KINAGG_OK && has(prov.error, "(prdo) could not be found"),
          "AWS_PROFILE names no profile, with the environment's keys (as the AWS CLI): %s", prov.error);
    unsetenv("AWS_PROFILE");
    snprintf(text, sizeof text, "[profile web]\nrole_arn = " ROLE "kinagg-test\nweb_identity_token_file = %s\n",
             path_in(dir, "web-token"));
    write_file(path_in(dir, "home/.aws/config"), text);
    CHECK(kinagg_aws_provider_chain(&prov, "web") == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_WEB_IDENTITY,
          "a profile named skips the environment: %s", prov.name);
    kinagg_aws_provider_free(&prov);
    /* no HOME (cron, systemd): the password database's home, never the
     * working directory's .aws */
    clear_env();
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    mkdir(path_in(dir, "cwd"), 0700);
    mkdir(path_in(dir, "cwd/.aws"), 0700);
    write_file(path_in(dir, "cwd/.aws/credentials"), "[default]\naws_access_key_id = AKIDFROMCWD\n"
                                                     "aws_secret_access_key = cwd\n");
    {
        char here[1024];
        if (getcwd(here, sizeof here) && chdir(path_in(dir, "cwd")) == 0) {
            unsetenv("HOME");
            st = kinagg_aws_provider_chain(&prov, NULL);
            CHECK(!(st == KINAGG_OK && prov.kind == KINAGG_AWS_PROVIDER_STATIC && has(prov.name, "AKIDFROMCWD")) &&
                      !has(prov.error, "./.aws") && !has(prov.name, "./.aws"),
                  "no HOME: not the working directory's files: %s %s", prov.name, prov.error);
            if (st == KINAGG_OK) {
                kinagg_credentials got;
                uint64_t e;
                CHECK(kinagg_aws_provider_get(&prov, 0, &got, &e) != KINAGG_OK || got.access_key_id.len != 11 ||
                          memcmp(got.access_key_id.ptr, "AKIDFROMCWD", 11) != 0,
                      "no HOME: the working directory's keys are not used");
            }
            kinagg_aws_provider_free(&prov);
            CHECK(chdir(here) == 0, "back");
        }
    }
    clear_env();
}

/* A producer whose only credentials come from a provider (IMDS here). */
static unsigned long done_ok, done_failed;
static void on_complete(void *ctx, const kinagg_completion *c) {
    (void)ctx;
    if (c->status == KINAGG_OK) done_ok++;
    else done_failed++;
}

static void test_producer(void) {
    static kinagg_producer p;
    kinagg_producer_config cfg;
    kinagg_posix_socket sock;
    kinagg_transport tp;
    kinagg_endpoint ep;
    kinagg_credentials_source src;
    size_t region_size;
    unsigned char *region;
    char url[64];
    int i;
    kinagg_status st;
    clear_env();
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port("imds"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    kinagg_aws_provider_imds(&prov);
    src = kinagg_aws_provider_source(&prov);
    kinagg_producer_config_defaults(&cfg);
    cfg.stream.name = kinagg_str_c("kinagg-creds-no-such-stream");
    cfg.no_shard_map = 1;
    cfg.record_ttl_ms = 3000;
    cfg.on_complete = on_complete;
    cfg.credentials_source = src;
    region_size = kinagg_producer_region_size(&cfg) + (1u << 20);
    region = (unsigned char *)malloc(region_size);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", proxy_port);
    kinagg_endpoint_from_url(&ep, kinagg_str_c(url));
    kinagg_posix_socket_init(&sock, &tp);
    st = kinagg_producer_init(&p, region, region_size, &cfg, &ep, kinagg_str_c("us-east-1"), NULL,
                              KINAGG_PROTOCOL_JSON, &tp, &pf);
    CHECK(st == KINAGG_OK, "producer init: %s", kinagg_strerror(st));
    for (i = 0; i < 20; i++) kinagg_producer_put(&p, "k", 1, NULL, 0, "x", 1, NULL);
    kinagg_producer_flush(&p, 8000);
    /* the stream does not exist: each record fails for that reason, not for its credentials */
    CHECK(done_ok + done_failed == 20 && prov.fetches >= 1 && has(p.last_error, "ResourceNotFound"),
          "producer fed by IMDS: %lu failed, %lu fetches, last error %s", done_failed, prov.fetches, p.last_error);
    kinagg_posix_socket_release(&sock);
    kinagg_aws_provider_free(&prov);
    free(region);
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof dir, "/tmp/kinagg-creds-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    mkdir(path_in(dir, "home"), 0700);
    mkdir(path_in(dir, "home/.aws"), 0700);
    kinagg_posix_platform(&pf);
    check_rng_state ^= (unsigned long long)time(NULL);
    test_time();
    test_json();
    test_xml();
    test_addresses();
    test_profile_paths();
    if (argc >= 5) {
        snprintf(ports_file, sizeof ports_file, "%s", argv[1]);
        snprintf(pki, sizeof pki, "%s", argv[2]);
        snprintf(dpki, sizeof dpki, "%s", argv[3]);
        proxy_port = atoi(argv[4]);
        {
            kinagg_credentials bogus;
            bogus.access_key_id = kinagg_str_c("ASIAKINAGGTEST");
            bogus.secret_access_key = kinagg_str_c("not-the-secret");
            bogus.session_token = kinagg_str_c(TOKEN);
            CHECK(!accepted(&bogus), "the proxy refuses a wrong secret (so accepted() means something)");
        }
        test_environment_and_profile();
        test_process();
        test_web_identity();
        test_container();
        test_imds();
        test_iot();
        test_chain();
        test_producer();
    }
    return check_summary("creds");
}
