/* The receiver of bench/rate.sh: counts datagrams per second of their kernel arrival stamp.
 *
 *   rate_counter [--listen ADDR] --ready FILE --out FILE [--idle-ms MS]
 *
 * Binds ADDR (127.0.0.1) on a free port, writes the port to FILE (through a
 * rename), then reads with recvmmsg until --idle-ms (3000) pass without data
 * once data came, or SIGTERM.  Each datagram is binned by its SO_TIMESTAMPNS
 * stamp (taken when it entered the socket layer, in the sender's context on
 * loopback), not by when this reader got to it: a reader that falls behind
 * does not smear the per-second counts, as long as its buffer (64 MiB,
 * SO_RCVBUFFORCE) holds; datagrams dropped for lack of room are counted
 * (SO_RXQ_OVFL) and printed, so a run that lost some says so.
 *
 * Output (--out): "total N drops D first_ns F last_ns L", then one line per
 * whole second after the first datagram: "SECOND COUNT".
 *
 * Build: cc -O2 -o rate_counter rate_counter.c
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

#define VLEN 256
#define MAX_SECONDS 3600

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
    const char *listen_addr = "127.0.0.1", *ready = NULL, *out = NULL;
    int idle_ms = 3000;

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--listen") && v) { listen_addr = v; i++; }
        else if (!strcmp(argv[i], "--ready") && v) { ready = v; i++; }
        else if (!strcmp(argv[i], "--out") && v) { out = v; i++; }
        else if (!strcmp(argv[i], "--idle-ms") && v) { idle_ms = atoi(v); i++; }
        else {
            fprintf(stderr, "usage: %s [--listen ADDR] --ready FILE --out FILE [--idle-ms MS]\n", argv[0]);
            return 2;
        }
    }
    if (!ready || !out) {
        fprintf(stderr, "%s: need --ready and --out\n", argv[0]);
        return 2;
    }

    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t sl = sizeof a;
    if (inet_pton(AF_INET, listen_addr, &a.sin_addr) != 1) {
        fprintf(stderr, "bad IPv4 address %s\n", listen_addr);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, rb = 64 << 20;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sl) < 0 || getsockname(fd, (struct sockaddr *)&a, &sl) < 0) {
        perror("socket/bind");
        return 1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ready);
    FILE *rf = fopen(tmp, "w");
    if (!rf || fprintf(rf, "%u\n", ntohs(a.sin_port)) < 0 || fclose(rf) != 0 || rename(tmp, ready) < 0) {
        perror(ready);
        return 1;
    }

    /* Only the count matters: a small buffer per datagram (the rest is cut, MSG_TRUNC). */
    static char bufs[VLEN][64];
    static char ctl[VLEN][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)) + 32];
    static uint64_t per_sec[MAX_SECONDS];
    struct mmsghdr mm[VLEN];
    struct iovec iov[VLEN];
    struct timeval tv = { idle_ms / 1000, (idle_ms % 1000) * 1000 };
    int64_t first = 0, last = 0;
    uint64_t total = 0;
    uint32_t drops = 0;

    while (!stop) {
        for (int k = 0; k < VLEN; k++) {
            iov[k].iov_base = bufs[k];
            iov[k].iov_len = sizeof bufs[k];
            memset(&mm[k].msg_hdr, 0, sizeof mm[k].msg_hdr);
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1;
            mm[k].msg_hdr.msg_control = ctl[k];
            mm[k].msg_hdr.msg_controllen = sizeof ctl[k];
        }
        int r = recvmmsg(fd, mm, VLEN, MSG_WAITFORONE, NULL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break; /* idle */
            perror("recvmmsg");
            return 1;
        }
        for (int k = 0; k < r; k++) {
            struct msghdr *m = &mm[k].msg_hdr;
            int64_t ts = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec t;
                    memcpy(&t, CMSG_DATA(c), sizeof t);
                    ts = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
                } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
                    memcpy(&drops, CMSG_DATA(c), sizeof drops);
            }
            if (total == 0) {
                first = ts;
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            }
            int64_t s = (ts - first) / 1000000000;
            if (s >= 0 && s < MAX_SECONDS)
                per_sec[s]++;
            if (ts > last)
                last = ts;
            total++;
        }
    }
    FILE *of = fopen(out, "w");
    if (!of) {
        perror(out);
        return 1;
    }
    fprintf(of, "total %llu drops %u first_ns %lld last_ns %lld\n", (unsigned long long)total, drops,
            (long long)first, (long long)last);
    for (int64_t s = 0; total > 0 && s < (last - first) / 1000000000 && s < MAX_SECONDS; s++)
        fprintf(of, "%lld %llu\n", (long long)s, (unsigned long long)per_sec[s]);
    fclose(of);
    close(fd);
    return 0;
}
