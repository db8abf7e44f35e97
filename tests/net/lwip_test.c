/* kinagg over lwIP sockets (Debian's liblwip, the unix port) to the real
 * server. lwIP runs in this process with one interface, 127.0.0.2; traffic
 * to its own address loops back inside lwIP. A bridge accepts on an lwIP
 * listening socket and relays each connection over a POSIX socket to the
 * SigV4-verifying proxy in front of kinesalite. kinagg's lwIP port connects
 * to the bridge through lwIP's own TCP/IP stack, so every request kinagg
 * sends crosses lwip_send and every response lwip_recv.
 *   lwip_test PROXY_PORT STREAM MANIFEST */
#define _POSIX_C_SOURCE 200809L
#include <limits.h> /* before lwIP: its arch.h defines ssize_t otherwise */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lwip/opt.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"

#define KINAGG_IMPLEMENTATION
#include "../../kinagg.h"
#define KINAGG_LWIP_IMPLEMENTATION
#include "../../port/kinagg_lwip.h"
#include "../check.h"
#include "net_util.h"

#define BRIDGE_ADDR "127.0.0.2"
#define BRIDGE_PORT 8080

static int proxy_port;
static volatile unsigned long relayed_up, relayed_down, bridged;
static struct netif nif;
static sys_sem_t ready;

static err_t drop4(struct netif *n, struct pbuf *p, const ip4_addr_t *a) { (void)n; (void)p; (void)a; return ERR_OK; }
#if LWIP_IPV6
static err_t drop6(struct netif *n, struct pbuf *p, const ip6_addr_t *a) { (void)n; (void)p; (void)a; return ERR_OK; }
#endif
static err_t nif_init(struct netif *n) {
    n->name[0] = 'k';
    n->name[1] = 'b';
    n->output = drop4; /* nothing leaves: only our own address is used */
#if LWIP_IPV6
    n->output_ip6 = drop6;
#endif
    n->mtu = 1500;
    return ERR_OK;
}
static void stack_up(void *arg) {
    ip4_addr_t ip, mask, gw;
    (void)arg;
    ip4addr_aton(BRIDGE_ADDR, &ip);
    ip4addr_aton("255.0.0.0", &mask);
    ip4_addr_set_zero(&gw);
    netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, tcpip_input);
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    sys_sem_signal(&ready);
}

/* ---- the bridge: lwIP connection <-> POSIX connection to the proxy ---- */
typedef struct pipe_pair { int lw, px; } pipe_pair;

static void *up(void *arg) { /* lwIP -> proxy */
    pipe_pair *pp = (pipe_pair *)arg;
    char buf[8192];
    ssize_t n;
    while ((n = lwip_recv(pp->lw, buf, sizeof buf, 0)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = send(pp->px, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w <= 0) goto done;
            off += w;
        }
        relayed_up += (unsigned long)n;
    }
done:
    shutdown(pp->px, SHUT_WR);
    return NULL;
}
static void *down(void *arg) { /* proxy -> lwIP */
    pipe_pair *pp = (pipe_pair *)arg;
    char buf[8192];
    ssize_t n;
    while ((n = recv(pp->px, buf, sizeof buf, 0)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = lwip_send(pp->lw, buf + off, (size_t)(n - off), 0);
            if (w <= 0) goto done;
            off += w;
        }
        relayed_down += (unsigned long)n;
    }
done:
    lwip_shutdown(pp->lw, SHUT_WR);
    return NULL;
}
static void *serve(void *arg) {
    pipe_pair *pp = (pipe_pair *)arg;
    pthread_t a, b;
    struct sockaddr_in to;
    pp->px = socket(AF_INET, SOCK_STREAM, 0);
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)proxy_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(pp->px, (struct sockaddr *)&to, sizeof to) == 0) {
        pthread_create(&a, NULL, up, pp);
        pthread_create(&b, NULL, down, pp);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
    }
    close(pp->px);
    lwip_close(pp->lw);
    free(pp);
    return NULL;
}
static void *bridge(void *arg) {
    int ls = *(int *)arg;
    for (;;) {
        int c = lwip_accept(ls, NULL, NULL);
        pthread_t t;
        pipe_pair *pp;
        if (c < 0) break;
        pp = (pipe_pair *)malloc(sizeof *pp);
        pp->lw = c;
        bridged++;
        pthread_create(&t, NULL, serve, pp);
        pthread_detach(t);
    }
    return NULL;
}


static uint64_t wall_ms(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned char send_buf[8192], recv_buf[1 << 18], agg_mem[2][32768];

int main(int argc, char **argv) {
    static kinagg_kinesis k;
    static kinagg_shard shards[8];
    kinagg_lwip_socket sock;
    kinagg_transport tp;
    kinagg_platform pf;
    kinagg_endpoint ep;
    kinagg_credentials cr;
    kinagg_stream_ref s;
    kinagg_status st;
    struct sockaddr_in a;
    int ls;
    pthread_t bt;
    size_t nshards = 0, i, failed;
    FILE *man;
    if (argc != 4) { fprintf(stderr, "usage: lwip_test PROXY_PORT STREAM MANIFEST\n"); return 2; }
    proxy_port = atoi(argv[1]);
    man = fopen(argv[3], "w");

    sys_sem_new(&ready, 0);
    tcpip_init(stack_up, NULL);
    sys_sem_wait(&ready);
    ls = lwip_socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = lwip_htons(BRIDGE_PORT);
    inet_pton(AF_INET, BRIDGE_ADDR, &a.sin_addr);
    CHECK(lwip_bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && lwip_listen(ls, 4) == 0, "lwIP listen");
    pthread_create(&bt, NULL, bridge, &ls);

    kinagg_lwip_socket_init(&sock, &tp);
    kinagg_lwip_platform(&pf, wall_ms, NULL);
    kinagg_endpoint_from_url(&ep, kinagg_str_c("http://" BRIDGE_ADDR ":8080"));
    cr.access_key_id = kinagg_str_c("AKIDKINAGGTEST");
    cr.secret_access_key = kinagg_str_c("kinagg/test/secret+KEY");
    cr.session_token = kinagg_str_c("");
    st = kinagg_kinesis_init(&k, &ep, kinagg_str_c("us-east-1"), &cr, KINAGG_PROTOCOL_JSON, &tp, &pf, send_buf,
                             sizeof send_buf, recv_buf, sizeof recv_buf);
    CHECK(st == KINAGG_OK, "init");
    s.name = kinagg_str_c(argv[2]);
    s.arn = kinagg_str_c("");
    st = kinagg_create_stream(&k, s.name, 2);
    CHECK(st == KINAGG_OK, "CreateStream over lwIP: %s %s %s", kinagg_strerror(st), k.error_type,
          k.http.error_detail ? k.http.error_detail : "");
    CHECK(wait_active(&k, s, &pf, 30), "stream not ACTIVE");
    st = kinagg_list_shards(&k, s, shards, 8, &nshards, 0);
    CHECK(st == KINAGG_OK && nshards == 2, "ListShards over lwIP: %s, %u", kinagg_strerror(st), (unsigned)nshards);
    if (nshards != 2) return check_summary("lwip");

    /* raw records, then one aggregate per shard */
    {
        kinagg_put_entry e[200];
        kinagg_put_result res[200];
        static char keys[200][32], data[200][64];
        kinagg_agg aggs[2];
        char first[2][40];
        for (i = 0; i < 200; i++) {
            sprintf(keys[i], "lwip-%u", (unsigned)i);
            sprintf(data[i], "record %u over lwIP", (unsigned)i);
            e[i].data = (const unsigned char *)data[i];
            e[i].data_len = strlen(data[i]);
            e[i].partition_key = kinagg_str_c(keys[i]);
            e[i].explicit_hash_key = kinagg_str_c("");
        }
        st = kinagg_put_records(&k, s, e, 200, res, &failed);
        CHECK(st == KINAGG_OK && failed == 0, "PutRecords raw over lwIP: %s", kinagg_strerror(st));
        for (i = 0; i < 200 && st == KINAGG_OK; i++) {
            kinagg_hash_key hk;
            size_t sh;
            kinagg_hash_key_of_partition_key(keys[i], strlen(keys[i]), &hk);
            sh = kinagg_shard_find(shards, nshards, &hk, 1);
            CHECK(sh != (size_t)-1 && res[i].shard_id.len == strlen(shards[sh].shard_id), "raw shard");
            fprintf(man, "raw %s ", shards[sh].shard_id);
            { size_t b; for (b = 0; b < strlen(keys[i]); b++) fprintf(man, "%02x", (unsigned char)keys[i][b]); }
            fputc(' ', man);
            { size_t b; for (b = 0; b < strlen(data[i]); b++) fprintf(man, "%02x", (unsigned char)data[i][b]); }
            fputc('\n', man);
        }
        for (i = 0; i < 2; i++) { kinagg_agg_init(&aggs[i], agg_mem[i], sizeof agg_mem[i], NULL); first[i][0] = 0; }
        for (i = 0; i < 200; i++) {
            kinagg_hash_key hk;
            size_t sh, b;
            sprintf(keys[i], "lwip-agg-%u", (unsigned)i);
            kinagg_hash_key_of_partition_key(keys[i], strlen(keys[i]), &hk);
            sh = kinagg_shard_find(shards, nshards, &hk, 1);
            kinagg_agg_add(&aggs[sh], keys[i], strlen(keys[i]), NULL, 0, data[i], strlen(data[i]));
            if (!first[sh][0]) kinagg_hash_key_format(&hk, first[sh]);
            fprintf(man, "agg %s ", shards[sh].shard_id);
            for (b = 0; b < strlen(keys[i]); b++) fprintf(man, "%02x", (unsigned char)keys[i][b]);
            fputc(' ', man);
            for (b = 0; b < strlen(data[i]); b++) fprintf(man, "%02x", (unsigned char)data[i][b]);
            fputc('\n', man);
        }
        for (i = 0; i < 2; i++) {
            const unsigned char *out;
            size_t len;
            kinagg_agg_finish(&aggs[i], &out, &len);
            e[i].data = out;
            e[i].data_len = len;
            e[i].partition_key = kinagg_str_c("a");
            e[i].explicit_hash_key = kinagg_str_c(first[i]);
        }
        st = kinagg_put_records(&k, s, e, 2, res, &failed);
        CHECK(st == KINAGG_OK && failed == 0, "PutRecords aggregated over lwIP: %s", kinagg_strerror(st));
    }
    fclose(man);
    CHECK(bridged >= 1 && relayed_up > 10000 && relayed_down > 1000, "through the bridge: %lu connections, %lu bytes up, %lu down",
          bridged, relayed_up, relayed_down);
    printf("lwIP: %lu requests on %lu connections, %lu bytes sent through lwip_send, %lu received\n", k.http.requests,
           k.http.connections, relayed_up, relayed_down);
    return check_summary("lwip");
}
