/* The receiver of bench/run.sh: one UDP socket that timestamps arrivals.
 *
 *   udp_timestamper [--listen ADDR] [--port N] --ready FILE --out FILE MODE
 *
 * Binds ADDR:N (127.0.0.1, port 0 = any free one), then writes the bound port
 * to FILE (atomically, via rename) so the caller can configure the sender.
 * Arrival times are the kernel's SO_TIMESTAMPNS stamps (CLOCK_REALTIME, taken
 * when the datagram entered the socket layer) next to a clock_gettime
 * (CLOCK_REALTIME) read right after recvmmsg returned.
 *
 *   --first        "black hole": read the FIRST datagram, write
 *                  "KERNEL_NS USER_NS LEN" to --out, then never read again
 *                  (later datagrams fill the receive buffer and are dropped
 *                  by the kernel, which costs the sender what a delivery
 *                  would); exit on SIGTERM/SIGINT
 *   --log N        read N datagrams (or until --idle-ms without data once
 *                  data came, default 3000) with recvmmsg; write one line
 *                  "KERNEL_NS USER_NS LEN" per datagram to --out, in order
 *
 * Build: cc -O2 -o udp_timestamper udp_timestamper.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VLEN 64
#define BUFSZ 65536

static int64_t rt_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t kstamp(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
        }
    return 0;
}

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
    const char *listen_addr = "127.0.0.1", *ready = NULL, *out = NULL;
    int port = 0, mode = 0, idle_ms = 3000;
    long want = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--listen") && v) { listen_addr = v; i++; }
        else if (!strcmp(a, "--port") && v) { port = atoi(v); i++; }
        else if (!strcmp(a, "--ready") && v) { ready = v; i++; }
        else if (!strcmp(a, "--out") && v) { out = v; i++; }
        else if (!strcmp(a, "--idle-ms") && v) { idle_ms = atoi(v); i++; }
        else if (!strcmp(a, "--first")) mode = '1';
        else if (!strcmp(a, "--log") && v) { mode = 'l'; want = atol(v); i++; }
        else {
            fprintf(stderr, "usage: %s [--listen ADDR] [--port N] --ready FILE --out FILE "
                            "--first | --log N [--idle-ms MS]\n", argv[0]);
            return 2;
        }
    }
    if (!ready || !out || !mode) {
        fprintf(stderr, "%s: need --ready, --out and a mode\n", argv[0]);
        return 2;
    }

    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, listen_addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, listen_addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof *a6;
    } else {
        fprintf(stderr, "bad address %s\n", listen_addr);
        return 2;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        perror("socket/bind");
        return 1;
    }
    if (mode == 'l') {
        /* a big buffer so that a paced sender never loses a datagram to us */
        int rb = 8 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ready);
    FILE *rf = fopen(tmp, "w");
    if (!rf) {
        perror(tmp);
        return 1;
    }
    fprintf(rf, "%u\n", ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port));
    fclose(rf);
    if (rename(tmp, ready) < 0) {
        perror(ready);
        return 1;
    }

    FILE *of = fopen(out, "w");
    if (!of) {
        perror(out);
        return 1;
    }

    static char bufs[VLEN][BUFSZ];
    static char ctl[VLEN][CMSG_SPACE(sizeof(struct timespec)) + 64];
    struct mmsghdr mm[VLEN];
    struct iovec iov[VLEN];

    if (mode == '1') {
        struct msghdr m;
        memset(&m, 0, sizeof m);
        iov[0].iov_base = bufs[0];
        iov[0].iov_len = BUFSZ;
        m.msg_iov = &iov[0];
        m.msg_iovlen = 1;
        m.msg_control = ctl[0];
        m.msg_controllen = sizeof ctl[0];
        ssize_t r;
        while ((r = recvmsg(fd, &m, 0)) < 0 && errno == EINTR && !stop)
            ;
        int64_t u = rt_ns();
        if (r >= 0)
            fprintf(of, "%lld %lld %zd\n", (long long)kstamp(&m), (long long)u, r);
        fclose(of);
        while (!stop)
            pause();
        close(fd);
        return 0;
    }

    struct timeval tv = { idle_ms / 1000, (idle_ms % 1000) * 1000 };
    long got = 0;
    while (!stop && got < want) {
        for (int k = 0; k < VLEN; k++) {
            iov[k].iov_base = bufs[k];
            iov[k].iov_len = BUFSZ;
            memset(&mm[k].msg_hdr, 0, sizeof mm[k].msg_hdr);
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            mm[k].msg_hdr.msg_control = ctl[k];
            mm[k].msg_hdr.msg_controllen = sizeof ctl[k];
        }
        unsigned vlen = want - got < VLEN ? (unsigned)(want - got) : VLEN;
        /* wait for the first datagram as long as it takes; then time out */
        int r = recvmmsg(fd, mm, vlen, MSG_WAITFORONE, NULL);
        int64_t u = rt_ns();
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break; /* idle */
            perror("recvmmsg");
            return 1;
        }
        if (got == 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        for (int k = 0; k < r; k++)
            fprintf(of, "%lld %lld %u\n", (long long)kstamp(&mm[k].msg_hdr), (long long)u, mm[k].msg_len);
        got += r;
    }
    fclose(of);
    fprintf(stderr, "udp_timestamper: %ld datagrams\n", got);
    close(fd);
    return got == want ? 0 : 1;
}
