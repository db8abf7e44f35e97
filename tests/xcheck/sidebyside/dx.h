#include <stddef.h>
#include <stdint.h>
typedef struct dxlog { size_t len; int over; unsigned char buf[1 << 22]; } dxlog;
#define DXDECL(side) \
  void side##hash(const unsigned char *d, size_t n, dxlog *l); \
  void side##sign(const unsigned char *d, size_t n, dxlog *l); \
  void side##parse(const unsigned char *d, size_t n, dxlog *l); \
  void side##http(const unsigned char *d, size_t n, dxlog *l); \
  void side##agg(const unsigned char *d, size_t n, dxlog *l); void side##div(const unsigned char *d, size_t n, dxlog *l);
DXDECL(old_)
DXDECL(new_)
