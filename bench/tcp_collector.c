/* A TCP collector for bench/tcp_isolation.sh that reads as fast as it can, or at a set rate.
 *
 *   tcp_collector --ready FILE --sessions N [--rate BYTES_PER_S] [--rcvbuf B]
 *
 * Listens on 127.0.0.1 (a free port, written to FILE), accepts connections
 * and reads them round-robin on one epoll loop, discarding the bytes: with
 * --rate, no faster than that over all connections together (a token
 * bucket; with --rcvbuf, a small receive buffer, so the sender feels it at
 * once).  Once N connections were accepted and all of them closed, or at
 * SIGTERM, prints "bytes B closed C seconds S", S from the first accepted
 * connection to the last close (or to the signal).  Nothing is decoded.
 *
 * Build: cc -O2 -o tcp_collector tcp_collector.c
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from one connection per turn: keeps a rate-limited reader fair between connections. */
#define TURN (16 * 1024)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *ready = NULL;
    long sessions = 0;
    double rate = 0;
    int rcvbuf = 0;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    struct rlimit rl;
    static char buf[TURN];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--ready")) ready = argv[i + 1];
        else if (!strcmp(argv[i], "--sessions")) sessions = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--rcvbuf")) rcvbuf = atoi(argv[i + 1]);
    }
    if (!ready || sessions <= 0) {
        fprintf(stderr, "usage: tcp_collector --ready FILE --sessions N [--rate BYTES_PER_S] [--rcvbuf B]\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd == -1 || (rcvbuf > 0 && setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == -1) ||
        bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(lfd, 4096) == -1 ||
        getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
        perror("tcp_collector: listen");
        return 1;
    }
    FILE *f = fopen(ready, "w");
    if (f == NULL || fprintf(f, "tcp %u\n", ntohs(sin.sin_port)) < 0 || fclose(f) != 0) {
        perror("tcp_collector: ready file");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    uint64_t bytes = 0;
    long accepted = 0, closed = 0;
    int64_t first = 0, last = 0;
    while (!stop && !(accepted == sessions && closed == sessions)) {
        struct epoll_event evs[256];
        /* Bytes the rate allows by now: at the rate since the first connection. */
        double allowed = rate > 0 && first ? rate * (double)(now_ns() - first) / 1e9 - (double)bytes : 1e18;
        if (allowed < 1) {
            struct timespec nap = { 0, 2 * 1000 * 1000 };
            nanosleep(&nap, NULL);
            continue;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            int fd = evs[k].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    if (accepted++ == 0)
                        first = now_ns();
                }
                continue;
            }
            size_t want = allowed < TURN ? (size_t)allowed : TURN;
            if (want == 0)
                break;
            ssize_t r = recv(fd, buf, want, 0);
            if (r > 0) {
                bytes += (uint64_t)r;
                allowed -= (double)r;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fd);
                closed++;
                last = now_ns();
            }
        }
    }
    if (stop || last == 0)
        last = now_ns();
    printf("bytes %llu closed %ld seconds %.6f\n", (unsigned long long)bytes, closed,
           first ? (double)(last - first) / 1e9 : 0.0);
    return 0;
}
