/* The credentials port as the first include of a file, with everything it
 * builds on: it must ask for the POSIX interfaces it uses by itself. For
 * the warning builds (gcc, clang, g++, clang++; C99, C11, C++11, C++17). */
#define KINAGG_IMPLEMENTATION
#define KINAGG_POSIX_IMPLEMENTATION
#define KINAGG_MBEDTLS_IMPLEMENTATION
#define KINAGG_AWS_CONFIG_IMPLEMENTATION
#define KINAGG_AWS_CREDENTIALS_IMPLEMENTATION
#include "../../port/kinagg_aws_credentials.h"

int main(void) {
    static kinagg_aws_provider p;
    kinagg_credentials_source s;
    kinagg_aws_credential_set c;
    char why[100];
    if (kinagg_aws_parse_credentials(KINAGG_AWS_DOC_PROCESS, "{}", 2, 0, &c, why, sizeof why) == KINAGG_OK) return 1;
    if (kinagg_aws_provider_process(&p, "true") != KINAGG_OK) return 1;
    s = kinagg_aws_provider_source(&p);
    kinagg_aws_provider_free(&p);
    return s.get ? 0 : 1;
}
