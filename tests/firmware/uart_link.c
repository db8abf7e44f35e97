/* The UART link transport (see uart_link.h). */
#include "uart_link.h"

enum { LINK_IDLE, LINK_CONNECTING, LINK_OPEN, LINK_PEER_CLOSED, LINK_CLOSING, LINK_REFUSED };

#define UART_CTRL_TX_EN 1u
#define UART_CTRL_RX_EN 2u
#define UART_CTRL_RX_INT 8u
#define UART_INT_RX 2u

static fw_link *fw_link_active; /* the one the interrupt fills */

static void irq_off(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static void irq_on(void) { __asm__ volatile("cpsie i" ::: "memory"); }

/* Moves received bytes from the UART into the ring, while there is room. */
static void link_drain(fw_link *l) {
    while (l->uart->state & FW_UART_RXFULL) {
        if (l->head - l->tail >= FW_LINK_RING) {
            l->stalled = 1;
            return;
        }
        l->ring[l->head & (FW_LINK_RING - 1)] = (unsigned char)l->uart->data;
        l->head++;
    }
    l->stalled = 0;
}

void fw_uart0_rx_irq(void) {
    fw_link *l = fw_link_active;
    l->uart->intstatus = UART_INT_RX; /* first, so that a byte arriving now raises it again */
    link_drain(l);
}

static int link_take(fw_link *l, unsigned char *b) {
    if (l->tail == l->head) return 0;
    *b = l->ring[l->tail & (FW_LINK_RING - 1)];
    l->tail++;
    if (l->stalled) { /* room again: fetch what the interrupt had to leave */
        irq_off();
        link_drain(l);
        irq_on();
    }
    return 1;
}

static void link_put(fw_link *l, unsigned char b) {
    while (l->uart->state & FW_UART_TXFULL) {
    }
    l->uart->data = b;
}

static void link_control(fw_link *l, unsigned char c) {
    if (c == 'O' && l->state == LINK_CONNECTING) l->state = LINK_OPEN;
    if (c == 'C') {
        if (l->state == LINK_CONNECTING) l->state = LINK_REFUSED;
        else if (l->state == LINK_OPEN) l->state = LINK_PEER_CLOSED;
        else if (l->state == LINK_CLOSING) l->state = LINK_IDLE;
    }
}

/* Reads until a data byte would have to be kept (only while not open: the
 * data of a closed connection is dropped). */
static void link_pump(fw_link *l) {
    unsigned char b;
    while (l->state != LINK_OPEN && link_take(l, &b)) {
        if (l->esc) {
            l->esc = 0;
            if (b != FW_LINK_ESC) link_control(l, b);
        } else if (b == FW_LINK_ESC) {
            l->esc = 1;
        }
    }
}

static kinagg_io link_connect(void *ctx, const char *host, uint16_t port) {
    fw_link *l = (fw_link *)ctx;
    char frame[300];
    size_t n, i;
    link_pump(l);
    switch (l->state) {
    case LINK_OPEN: return KINAGG_IO_OK;
    case LINK_REFUSED:
        l->state = LINK_IDLE;
        l->error = "the bridge could not connect";
        return KINAGG_IO_ERROR;
    case LINK_PEER_CLOSED: /* the last one ended: a new connection */
    case LINK_IDLE:
        n = fw_format(frame, sizeof frame, "%s:%u\n", host, (unsigned)port);
        if (n >= sizeof frame) {
            l->error = "host name too long";
            return KINAGG_IO_ERROR;
        }
        link_put(l, FW_LINK_ESC);
        link_put(l, 'o');
        for (i = 0; i < n; i++) link_put(l, (unsigned char)frame[i]);
        l->state = LINK_CONNECTING;
        l->connects++;
        return KINAGG_IO_AGAIN;
    default: return KINAGG_IO_AGAIN; /* connecting, or the last close not answered yet */
    }
}

static kinagg_io link_send(void *ctx, const unsigned char *data, size_t len, size_t *sent) {
    fw_link *l = (fw_link *)ctx;
    size_t n = 0;
    *sent = 0;
    if (l->state == LINK_PEER_CLOSED) return KINAGG_IO_CLOSED;
    if (l->state != LINK_OPEN) return KINAGG_IO_ERROR;
    while (n < len && !(l->uart->state & FW_UART_TXFULL)) {
        if (data[n] == FW_LINK_ESC) {
            link_put(l, FW_LINK_ESC);
            l->escaped_out++;
        }
        l->uart->data = data[n++];
    }
    l->bytes_out += n;
    *sent = n;
    return n ? KINAGG_IO_OK : KINAGG_IO_AGAIN;
}

static kinagg_io link_recv(void *ctx, unsigned char *buf, size_t cap, size_t *received) {
    fw_link *l = (fw_link *)ctx;
    size_t n = 0;
    unsigned char b;
    *received = 0;
    while (n < cap && l->state == LINK_OPEN && link_take(l, &b)) {
        if (l->esc) {
            l->esc = 0;
            if (b == FW_LINK_ESC) {
                buf[n++] = b;
                l->escaped_in++;
            } else {
                link_control(l, b);
            }
        } else if (b == FW_LINK_ESC) {
            l->esc = 1;
        } else {
            buf[n++] = b;
        }
    }
    l->bytes_in += n;
    *received = n;
    if (n) return KINAGG_IO_OK;
    if (l->state == LINK_OPEN) return KINAGG_IO_AGAIN;
    if (l->state == LINK_PEER_CLOSED) return KINAGG_IO_CLOSED;
    return KINAGG_IO_ERROR;
}

static void link_close(void *ctx) {
    fw_link *l = (fw_link *)ctx;
    if (l->state == LINK_CONNECTING || l->state == LINK_OPEN) {
        link_put(l, FW_LINK_ESC);
        link_put(l, 'c');
        l->state = LINK_CLOSING;
    } else if (l->state == LINK_PEER_CLOSED || l->state == LINK_REFUSED) {
        l->state = LINK_IDLE; /* the bridge has said its 'C' already */
    }
}

/* For the blocking helpers only: sleeps until a byte, a free transmit
 * slot or the timeout. */
static kinagg_io link_wait(void *ctx, unsigned events, uint32_t timeout_ms) {
    fw_link *l = (fw_link *)ctx;
    uint64_t end = fw_now_ms() + timeout_ms;
    for (;;) {
        if ((events & KINAGG_WAIT_READ) && l->head != l->tail) return KINAGG_IO_OK;
        if ((events & KINAGG_WAIT_WRITE) && !(l->uart->state & FW_UART_TXFULL)) return KINAGG_IO_OK;
        if (fw_now_ms() >= end) return KINAGG_IO_AGAIN;
        fw_idle();
    }
}

static const char *link_error(void *ctx) {
    fw_link *l = (fw_link *)ctx;
    return l->error ? l->error : "";
}

void fw_link_init(fw_link *l, kinagg_transport *tp) {
    l->uart = FW_UART0;
    l->state = LINK_IDLE;
    l->esc = 0;
    l->head = l->tail = 0;
    l->stalled = 0;
    l->error = 0;
    l->connects = l->bytes_in = l->bytes_out = l->escaped_in = l->escaped_out = 0;
    fw_link_active = l;
    l->uart->bauddiv = FW_CPU_HZ / 115200u; /* QEMU ignores the rate but wants a divider >= 16 */
    l->uart->ctrl = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INT;
    fw_irq_enable(FW_UART0_RX_IRQ);
    tp->ctx = l;
    tp->connect = link_connect;
    tp->send = link_send;
    tp->recv = link_recv;
    tp->close = link_close;
    tp->wait = link_wait;
    tp->error = link_error;
}
