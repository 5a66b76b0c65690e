/* The "bare send loop" baselines for bench/run.sh.
 *
 *   udp_baseline --pcap FILE --port N [--dst ADDR] MODE
 *
 * Loads every UDP datagram of the capture into memory first (not timed),
 * then sends them on ONE connected UDP socket to ADDR:N (default 127.0.0.1):
 *
 *   --flood          as fast as possible, sendmmsg in batches of --batch (64);
 *                    prints "sent N seconds S rate R" (the send loop only)
 *   --paced F        datagram i at start + (ts_i - ts_0) * F on
 *                    CLOCK_MONOTONIC, sleeping with clock_nanosleep
 *                    (TIMER_ABSTIME); datagrams due at the same instant go out
 *                    in one sendmmsg; --spin-us N spins the last N us instead
 *                    of sleeping them (default 0: pure sleep); the first
 *                    deadline is 1 ms after the capture is loaded
 *   --rate R --seconds S
 *                    R datagrams per second for S seconds, cycling over the
 *                    capture's datagrams (rate.sh's bare loop): the ones due
 *                    by now (start + k / R) go in one sendmmsg, then a sleep
 *                    to the next one's 100 us tick (--spin-us as above)
 *   --first          send only the first datagram, as early as possible
 *                    (the floor for "time to first packet": exec + socket)
 *
 * Build: cc -O2 -o udp_baseline udp_baseline.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pcapread.h"

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void sleep_until(int64_t due, int64_t spin_ns)
{
    int64_t wake = due - spin_ns;
    struct timespec t = { (time_t)(wake / 1000000000), (long)(wake % 1000000000) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
    if (spin_ns)
        while (now_ns() < due)
            ;
}

static int open_sock(const char *dst, int port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, dst, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, dst, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof *a6;
    } else {
        fprintf(stderr, "bad address %s\n", dst);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
        perror("socket/connect");
        return -1;
    }
    return fd;
}

/* Sends d[0..n) with sendmmsg; ECONNREFUSED (a previous ICMP) is retried. */
static size_t send_batch(int fd, struct capture *c, size_t first, size_t n)
{
    struct mmsghdr mm[256];
    struct iovec iov[256];
    size_t done = 0;
    memset(mm, 0, sizeof(mm[0]) * n);
    for (size_t k = 0; k < n; k++) {
        iov[k].iov_base = c->buf + c->d[first + k].off;
        iov[k].iov_len = c->d[first + k].len;
        mm[k].msg_hdr.msg_iov = &iov[k];
        mm[k].msg_hdr.msg_iovlen = 1;
    }
    while (done < n) {
        int r = sendmmsg(fd, mm + done, (unsigned)(n - done), 0);
        if (r < 0) {
            if (errno == EINTR || errno == ECONNREFUSED || errno == EAGAIN || errno == ENOBUFS)
                continue;
            perror("sendmmsg");
            exit(1);
        }
        done += (size_t)r;
    }
    return done;
}

int main(int argc, char **argv)
{
    const char *pcap = NULL, *dst = "127.0.0.1";
    int port = 0, mode = 0, batch = 64;
    double factor = 1, rate = 0, seconds = 0;
    int64_t spin_ns = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--pcap") && v) { pcap = v; i++; }
        else if (!strcmp(a, "--dst") && v) { dst = v; i++; }
        else if (!strcmp(a, "--port") && v) { port = atoi(v); i++; }
        else if (!strcmp(a, "--batch") && v) { batch = atoi(v); i++; }
        else if (!strcmp(a, "--spin-us") && v) { spin_ns = atoll(v) * 1000; i++; }
        else if (!strcmp(a, "--flood")) mode = 'f';
        else if (!strcmp(a, "--first")) mode = '1';
        else if (!strcmp(a, "--paced") && v) { mode = 'p'; factor = atof(v); i++; }
        else if (!strcmp(a, "--rate") && v) { mode = 'r'; rate = atof(v); i++; }
        else if (!strcmp(a, "--seconds") && v) { seconds = atof(v); i++; }
        else {
            fprintf(stderr, "usage: %s --pcap FILE --port N [--dst ADDR] "
                            "--flood [--batch N] | --paced F [--spin-us N] | "
                            "--rate R --seconds S [--spin-us N] | --first\n", argv[0]);
            return 2;
        }
    }
    if (!pcap || port <= 0 || !mode || batch < 1 || batch > 256 ||
        (mode == 'r' && (rate <= 0 || seconds <= 0))) {
        fprintf(stderr, "%s: need --pcap, --port and a mode (-h)\n", argv[0]);
        return 2;
    }

    struct capture c;
    if (capture_load(pcap, &c, mode == '1' ? 1 : 0) < 0)
        return 1;
    int fd = open_sock(dst, port);
    if (fd < 0)
        return 1;

    if (mode == '1') {
        send_batch(fd, &c, 0, 1);
        return 0;
    }

    /* paced: the first deadline is 1 ms ahead, so every datagram (the first
     * too) is sent after a sleep, as in the tool */
    int64_t t0 = now_ns() + (mode == 'p' ? 1000000 : 0);
    size_t sent = 0;
    if (mode == 'r') {
        /* datagram k is due at k / rate; the due ones go together, cycling over the capture */
        uint64_t total = (uint64_t)(rate * seconds), k = 0;
        const int64_t tick = 100000, end = t0 + (int64_t)(seconds * 1e9);
        /* a machine too slow for the rate stops at the time, as --duration does */
        while (k < total && now_ns() < end) {
            uint64_t due = (uint64_t)((double)(now_ns() - t0) * rate / 1e9) + 1;
            if (due > total)
                due = total;
            if (k < due) {
                /* one batch, then the clock again: a late loop stops at the time too */
                size_t i = (size_t)(k % c.n);
                size_t n = c.n - i < (size_t)batch ? c.n - i : (size_t)batch;
                if (n > due - k)
                    n = (size_t)(due - k);
                sent += send_batch(fd, &c, i, n);
                k += n;
            } else if (k < total) {
                int64_t next = t0 + (int64_t)((double)k * 1e9 / rate);
                sleep_until(next - (next - t0) % tick, spin_ns);
            }
        }
    } else if (mode == 'f') {
        for (size_t i = 0; i < c.n; i += (size_t)batch) {
            size_t n = c.n - i < (size_t)batch ? c.n - i : (size_t)batch;
            sent += send_batch(fd, &c, i, n);
        }
    } else {
        int64_t ts0 = c.d[0].ts_ns;
        for (size_t i = 0; i < c.n;) {
            size_t n = 1;
            while (i + n < c.n && n < (size_t)batch && c.d[i + n].ts_ns == c.d[i].ts_ns)
                n++;
            sleep_until(t0 + (int64_t)((double)(c.d[i].ts_ns - ts0) * factor), spin_ns);
            sent += send_batch(fd, &c, i, n);
            i += n;
        }
    }
    double s = (double)(now_ns() - t0) / 1e9;
    printf("sent %zu seconds %.6f rate %.0f\n", sent, s, (double)sent / s);
    return 0;
}
