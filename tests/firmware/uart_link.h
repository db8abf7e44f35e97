/* A kinagg_transport over the board's UART0, to a host bridge
 * (tests/firmware/bridge.js) that makes the TCP connections for it.
 *
 * The UART carries a byte stream each way. One escape byte, 0x7E, marks
 * the few control messages; a data byte 0x7E is sent twice:
 *   0x7E 0x7E                        a data byte 0x7E (both ways)
 *   firmware to bridge:
 *     0x7E 'o' HOST ':' PORT '\n'    connect
 *     0x7E 'c'                       close
 *   bridge to firmware:
 *     0x7E 'O'                       connected
 *     0x7E 'C'                       closed
 * The bridge ends every connect with exactly one 'C': when the connection
 * fails or the peer closes it (after its last data), or when the firmware
 * closes it. After its own close the firmware drops what still arrives
 * until that 'C', so a new connection never sees the old one's bytes.
 * One connection at a time. Received bytes go from the UART's receive
 * interrupt into a small ring; when the ring is full the byte stays in the
 * UART, and QEMU holds the rest back. */
#ifndef FW_UART_LINK_H
#define FW_UART_LINK_H
#include "../../kinagg.h"
#include "board.h"

#define FW_LINK_ESC 0x7E
#ifndef FW_LINK_RING
#define FW_LINK_RING 256 /* a power of two */
#endif

typedef struct fw_link {
    fw_uart_regs *uart;
    int state, esc;
    volatile uint32_t head;   /* written by the interrupt */
    volatile uint32_t tail;   /* written by the main loop */
    volatile int stalled;     /* the ring was full: a byte waits in the UART */
    unsigned char ring[FW_LINK_RING];
    const char *error;
    unsigned long connects, bytes_in, bytes_out, escaped_in, escaped_out;
} fw_link;

/* Sets up UART0 and the link, and fills *tp with its callbacks. */
void fw_link_init(fw_link *l, kinagg_transport *tp);

#endif
