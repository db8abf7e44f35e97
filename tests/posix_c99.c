/* port/kinagg_posix.h as the first include of a file, under plain -std=c99
 * (and as C++): it must ask for the POSIX interfaces it uses by itself.
 * `make warnings` compiles this; running it checks a numeric lookup. */
#define KINAGG_IMPLEMENTATION
#define KINAGG_POSIX_IMPLEMENTATION
#include "../port/kinagg_posix.h"

int main(void) {
    kinagg_posix_socket s;
    kinagg_transport t;
    kinagg_io io;
    kinagg_posix_socket_init(&s, &t);
    io = t.connect(t.ctx, "127.0.0.1", 9); /* numeric: no lookup; refused or pending */
    kinagg_posix_socket_release(&s);
    return io == KINAGG_IO_OK ? 1 : 0;
}
