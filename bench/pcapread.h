/* Minimal classic-pcap reader for the benchmark helpers (header-only).
 *
 * Only what tr-pcapgen writes by default is needed here: classic pcap
 * (micro- or nanosecond, either byte order), Ethernet / raw IP / Linux cooked
 * links, optional 802.1Q tags, IPv4 or IPv6 (no extension headers), UDP, no
 * fragments.  Other frames are skipped.  The whole capture is loaded into
 * memory once, before anything is timed: the baseline is a bare send loop.
 */
#ifndef BENCH_PCAPREAD_H
#define BENCH_PCAPREAD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dgram {
    int64_t ts_ns;       /* capture timestamp */
    uint32_t off;        /* payload offset in capture.buf */
    uint32_t len;        /* payload length */
};

struct capture {
    unsigned char *buf;  /* payloads, back to back */
    size_t used, cap;
    struct dgram *d;
    size_t n, ncap;
};

static uint32_t rd32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static int cap_push(struct capture *c, int64_t ts, const unsigned char *p, uint32_t len)
{
    if (c->n == c->ncap) {
        c->ncap = c->ncap ? c->ncap * 2 : 4096;
        c->d = realloc(c->d, c->ncap * sizeof *c->d);
        if (!c->d)
            return -1;
    }
    if (c->used + len > c->cap) {
        while (c->used + len > c->cap)
            c->cap = c->cap ? c->cap * 2 : (1u << 20);
        c->buf = realloc(c->buf, c->cap);
        if (!c->buf)
            return -1;
    }
    memcpy(c->buf + c->used, p, len);
    c->d[c->n].ts_ns = ts;
    c->d[c->n].off = (uint32_t)c->used;
    c->d[c->n].len = len;
    c->used += len;
    c->n++;
    return 0;
}

/* Returns the UDP payload of one frame, or NULL. */
static const unsigned char *udp_payload(uint32_t linktype, const unsigned char *f,
                                        uint32_t caplen, uint32_t *plen)
{
    const unsigned char *p = f, *end = f + caplen;
    unsigned et;

    switch (linktype) {
    case 1: /* EN10MB */
        if (caplen < 14)
            return NULL;
        et = (unsigned)(p[12] << 8 | p[13]);
        p += 14;
        while ((et == 0x8100 || et == 0x88a8) && end - p >= 4) {
            et = (unsigned)(p[2] << 8 | p[3]);
            p += 4;
        }
        break;
    case 113: /* LINUX_SLL */
        if (caplen < 16)
            return NULL;
        et = (unsigned)(p[14] << 8 | p[15]);
        p += 16;
        break;
    case 276: /* LINUX_SLL2 */
        if (caplen < 20)
            return NULL;
        et = (unsigned)(p[0] << 8 | p[1]);
        p += 20;
        break;
    case 101: /* RAW */
    case 12:
        if (caplen < 1)
            return NULL;
        et = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
        break;
    default:
        return NULL;
    }
    if (et == 0x0800) {
        if (end - p < 20)
            return NULL;
        unsigned ihl = (p[0] & 15u) * 4;
        if (p[9] != 17 || (((p[6] << 8) | p[7]) & 0x3fff) != 0 || end - p < (long)ihl + 8)
            return NULL;
        p += ihl;
    } else if (et == 0x86dd) {
        if (end - p < 48 || p[6] != 17)
            return NULL;
        p += 40;
    } else {
        return NULL;
    }
    unsigned ulen = (unsigned)(p[4] << 8 | p[5]);
    if (ulen < 8 || end - p < (long)ulen)
        return NULL;
    *plen = ulen - 8;
    return p + 8;
}

/* Loads up to max datagrams (0 = all).  Returns 0 or -1 with a message. */
static int capture_load(const char *path, struct capture *c, size_t max)
{
    unsigned char gh[24], rh[16];
    unsigned char *frame = NULL;
    size_t fcap = 0;
    FILE *f = fopen(path, "rb");

    memset(c, 0, sizeof *c);
    if (!f) {
        perror(path);
        return -1;
    }
    if (fread(gh, 1, 24, f) != 24) {
        fprintf(stderr, "%s: short pcap header\n", path);
        fclose(f);
        return -1;
    }
    uint32_t magic;
    memcpy(&magic, gh, 4);
    int swap, nano;
    switch (magic) {
    case 0xa1b2c3d4: swap = 0; nano = 0; break;
    case 0xa1b23c4d: swap = 0; nano = 1; break;
    case 0xd4c3b2a1: swap = 1; nano = 0; break;
    case 0x4d3cb2a1: swap = 1; nano = 1; break;
    default:
        fprintf(stderr, "%s: not a classic pcap file\n", path);
        fclose(f);
        return -1;
    }
    uint32_t linktype = rd32(gh + 20, swap) & 0x0fffffff;
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    while (fread(rh, 1, 16, f) == 16) {
        uint32_t sec = rd32(rh, swap), frac = rd32(rh + 4, swap);
        uint32_t caplen = rd32(rh + 8, swap);
        if (caplen > (1u << 26)) {
            fprintf(stderr, "%s: bad record\n", path);
            break;
        }
        if (caplen > fcap) {
            fcap = caplen;
            frame = realloc(frame, fcap);
        }
        if (fread(frame, 1, caplen, f) != caplen)
            break;
        uint32_t plen;
        const unsigned char *pl = udp_payload(linktype, frame, caplen, &plen);
        if (!pl)
            continue;
        int64_t ts = (int64_t)sec * 1000000000 + (int64_t)frac * (nano ? 1 : 1000);
        if (cap_push(c, ts, pl, plen) < 0) {
            fprintf(stderr, "out of memory\n");
            break;
        }
        if (max && c->n >= max)
            break;
    }
    free(frame);
    fclose(f);
    if (c->n == 0) {
        fprintf(stderr, "%s: no UDP datagram found\n", path);
        return -1;
    }
    return 0;
}

#endif
