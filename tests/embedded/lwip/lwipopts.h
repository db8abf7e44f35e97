/* A firmware's lwIP options, as an RTOS build would have them: sockets on,
 * an OS below (NO_SYS 0), DNS and poll for the kinagg port. Only used to
 * compile port/kinagg_lwip.h for Cortex-M4 (make size). */
#ifndef KINAGG_TEST_LWIPOPTS_H
#define KINAGG_TEST_LWIPOPTS_H
#define NO_SYS 0
#define LWIP_SOCKET 1
#define LWIP_NETCONN 1
#define LWIP_SOCKET_POLL 1
#define LWIP_DNS 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_PROVIDE_ERRNO 1
#define LWIP_TIMEVAL_PRIVATE 1
#define LWIP_SO_RCVTIMEO 1
#define MEM_ALIGNMENT 4
#endif
