/* libFuzzer targets for the credential document parsers of
 * port/kinagg_aws_credentials.h: the JSON answers of containers, IMDS and
 * AWS IoT (the first byte picks which), the STS XML answer
 * (-DFUZZ_CREDS_XML), and credential_process output (-DFUZZ_CREDS_PROCESS),
 * with the time parser on the same bytes. Checks: no crash or
 * out-of-bounds access (ASan), a reason always NUL-terminated inside its
 * buffer, and credentials that come out being what the parser promises:
 * a key id of letters and digits, a secret and token of visible ASCII. */
#define KINAGG_IMPLEMENTATION
#define KINAGG_POSIX_IMPLEMENTATION
#define KINAGG_MBEDTLS_IMPLEMENTATION
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION
#include "../../port/kinagg_aws_credentials.h"
#include <stdlib.h>
#include <string.h>

static void visible_or_die(const char *s, size_t cap, int letters_digits) {
    size_t n = strnlen(s, cap), i;
    if (n == cap) abort();
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e) abort();
        if (letters_digits && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static kinagg_aws_credential_set out;
    char why[160];
    uint64_t ms;
    kinagg_str text;
    kinagg_status st;
    kinagg_aws_document kind;
    const char *doc = (const char *)data;
#if defined(FUZZ_CREDS_XML)
    kind = KINAGG_AWS_DOC_STS;
#elif defined(FUZZ_CREDS_PROCESS)
    kind = KINAGG_AWS_DOC_PROCESS;
#else
    if (size < 1) return 0;
    kind = data[0] % 3 == 0 ? KINAGG_AWS_DOC_CONTAINER : data[0] % 3 == 1 ? KINAGG_AWS_DOC_IMDS : KINAGG_AWS_DOC_IOT;
    doc++;
    size--;
#endif
    memset(why, 'x', sizeof why);
    st = kinagg_aws_parse_credentials(kind, doc, size, 1700000000000ull, &out, why, sizeof why);
    if (!memchr(why, '\0', sizeof why)) abort();
    if (st == KINAGG_OK) {
        if (!out.access_key_id[0] || !out.secret_access_key[0]) abort();
        visible_or_die(out.access_key_id, sizeof out.access_key_id, 1);
        visible_or_die(out.secret_access_key, sizeof out.secret_access_key, 0);
        visible_or_die(out.session_token, sizeof out.session_token, 0);
        if (out.expires_unix_ms && out.expires_unix_ms <= 1700000000000ull) abort();
    } else if (out.access_key_id[0] || out.secret_access_key[0] || out.session_token[0]) {
        abort(); /* nothing half-parsed is left behind */
    }
    text.ptr = doc;
    text.len = size;
    if (kinagg_aws_parse_time(text, &ms) == KINAGG_OK && size < 20) abort();
    return 0;
}
