/* The "bare connections" baseline for bench/tcp_sessions.sh.
 *
 *   tcp_baseline --pcap FILE --dport N --port P [--dst ADDR] [--write W]
 *
 * Loads the exporters' side of every TCP session to port N in the capture
 * (classic pcap, Ethernet, IPv4, as tr-pcapgen writes it without --noise:
 * segments in order, no retransmissions) into one buffer per session, keyed
 * by source address and port (not timed).  Then, timed: opens one
 * non-blocking connection per session from the session's source address
 * with its first octet made 127 (all of 127/8 is local on Linux loopback)
 * to ADDR:P (127.0.0.1), writes the session's bytes as the socket takes
 * them on one epoll loop, and closes each connection once written.  Prints
 * "sessions N bytes B seconds S".  No framing, pacing or reassembly: what
 * any replay of these sessions must at least do.  --write W caps each send
 * at W bytes (the "bare loopback copy in W-byte writes" of bench/tcp_bulk.sh);
 * by default a send offers everything left.
 *
 * Build: cc -O2 -o tcp_baseline tcp_baseline.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct session {
    uint32_t src;        /* network order */
    uint16_t sport;
    unsigned char *buf;
    size_t len, cap, off;
    int fd;
};

static struct session *sess;
static size_t nsess, capsess;
/* Open addressing over (source, port): index + 1 into sess, 0 for empty; load kept under a half. */
static size_t *slots;
static size_t nslots;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static size_t slot_of(uint32_t src, uint16_t sport)
{
    uint64_t h = ((uint64_t)src << 16 | sport) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (nslots - 1);
}

static int rehash(void)
{
    size_t n = nslots ? nslots * 2 : 4096;
    free(slots);
    if ((slots = calloc(n, sizeof *slots)) == NULL)
        return -1;
    nslots = n;
    for (size_t i = 0; i < nsess; i++) {
        size_t k = slot_of(sess[i].src, sess[i].sport);
        while (slots[k] != 0)
            k = (k + 1) & (nslots - 1);
        slots[k] = i + 1;
    }
    return 0;
}

static struct session *find(uint32_t src, uint16_t sport)
{
    size_t k;

    if (nslots == 0 && rehash() == -1)
        return NULL;
    for (k = slot_of(src, sport); slots[k] != 0; k = (k + 1) & (nslots - 1))
        if (sess[slots[k] - 1].src == src && sess[slots[k] - 1].sport == sport)
            return &sess[slots[k] - 1];
    if (nsess == capsess) {
        capsess = capsess ? capsess * 2 : 1024;
        if ((sess = realloc(sess, capsess * sizeof *sess)) == NULL)
            return NULL;
    }
    memset(&sess[nsess], 0, sizeof *sess);
    sess[nsess].src = src;
    sess[nsess].sport = sport;
    sess[nsess].fd = -1;
    slots[k] = ++nsess;
    if (nsess * 2 > nslots && rehash() == -1)
        return NULL;
    return &sess[nsess - 1];
}

static int append(struct session *s, const unsigned char *p, size_t n)
{
    if (s->len + n > s->cap) {
        while (s->len + n > s->cap)
            s->cap = s->cap ? s->cap * 2 : 4096;
        if ((s->buf = realloc(s->buf, s->cap)) == NULL)
            return -1;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

static int load(const char *path, unsigned dport)
{
    unsigned char gh[24], rh[16], *f = NULL;
    size_t fcap = 0;
    FILE *fp = fopen(path, "rb");

    if (!fp || fread(gh, 1, 24, fp) != 24) {
        fprintf(stderr, "tcp_baseline: cannot read %s\n", path);
        return -1;
    }
    if ((!(gh[0] == 0xd4 && gh[1] == 0xc3) && !(gh[0] == 0x4d && gh[1] == 0x3c)) ||
        gh[20] != 1) {
        fprintf(stderr, "tcp_baseline: %s: only little-endian classic pcap, Ethernet\n", path);
        return -1;
    }
    while (fread(rh, 1, 16, fp) == 16) {
        uint32_t caplen;
        memcpy(&caplen, rh + 8, 4);
        if (caplen > fcap) {
            fcap = caplen;
            if ((f = realloc(f, fcap)) == NULL)
                return -1;
        }
        if (fread(f, 1, caplen, fp) != caplen)
            break;
        if (caplen < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
            continue;
        const unsigned char *ip = f + 14;
        unsigned ihl = (ip[0] & 15u) * 4, tot = (unsigned)(ip[2] << 8 | ip[3]);
        if (ip[9] != 6 || caplen < 14 + tot || tot < ihl + 20)
            continue;
        const unsigned char *tcp = ip + ihl;
        unsigned doff = (tcp[12] >> 4) * 4;
        if ((unsigned)(tcp[2] << 8 | tcp[3]) != dport || tot < ihl + doff)
            continue;
        uint32_t src;
        memcpy(&src, ip + 12, 4);
        struct session *s = find(src, (uint16_t)(tcp[0] << 8 | tcp[1]));
        if (s == NULL || append(s, tcp + doff, tot - ihl - doff) == -1)
            return -1;
    }
    free(f);
    fclose(fp);
    return 0;
}

int main(int argc, char **argv)
{
    const char *pcap = NULL, *dst = "127.0.0.1";
    unsigned dport = 0, port = 0;
    size_t wmax = SIZE_MAX;
    struct sockaddr_in to = { .sin_family = AF_INET };
    struct rlimit rl;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--pcap")) pcap = argv[i + 1];
        else if (!strcmp(argv[i], "--dport")) dport = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--port")) port = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dst")) dst = argv[i + 1];
        else if (!strcmp(argv[i], "--write")) wmax = (size_t)atol(argv[i + 1]);
    }
    if (!pcap || !dport || !port || wmax == 0 || inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
        fprintf(stderr, "usage: tcp_baseline --pcap FILE --dport N --port P [--dst ADDR] [--write W]\n");
        return 2;
    }
    to.sin_port = htons((uint16_t)port);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (load(pcap, dport) == -1)
        return 1;

    int64_t t0 = now_ns();
    int ep = epoll_create1(0);
    size_t open = 0, bytes = 0;
    for (size_t i = 0; i < nsess; i++) {
        struct session *s = &sess[i];
        struct sockaddr_in from = { .sin_family = AF_INET };
        struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = i };

        from.sin_addr.s_addr = (s->src & htonl(0x00ffffff)) | htonl(0x7f000000);
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s->fd == -1 || bind(s->fd, (struct sockaddr *)&from, sizeof from) == -1 ||
            (connect(s->fd, (struct sockaddr *)&to, sizeof to) == -1 && errno != EINPROGRESS) ||
            epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) == -1) {
            perror("tcp_baseline: connect");
            return 1;
        }
        open++;
    }
    while (open > 0) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 10000);
        if (n <= 0) {
            fprintf(stderr, "tcp_baseline: stuck with %zu connections open\n", open);
            return 1;
        }
        for (int k = 0; k < n; k++) {
            struct session *s = &sess[evs[k].data.u64];
            while (s->off < s->len) {
                size_t left = s->len - s->off;
                ssize_t w = send(s->fd, s->buf + s->off, left < wmax ? left : wmax, MSG_NOSIGNAL);
                if (w > 0) {
                    s->off += (size_t)w;
                    bytes += (size_t)w;
                } else if (w == -1 && errno == EINTR) {
                    continue;
                } else if (w == -1 && errno == EAGAIN) {
                    break;
                } else {
                    perror("tcp_baseline: send");
                    return 1;
                }
            }
            if (s->off == s->len) {
                close(s->fd);
                open--;
            }
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    printf("sessions %zu bytes %zu seconds %.6f\n", nsess, bytes, secs);
    return 0;
}
