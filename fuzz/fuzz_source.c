/* libFuzzer harness: frames of any link type through the capture decoder, fragments included; and capture files, the mapped reader against libpcap. */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

/* Everything a reader gives for a file, folded into a few numbers (the message without its path). */
struct transcript {
	uint64_t	hash;
	int		rc;
	uint64_t	frames, packets, offset;
	char		err[1024];
};

static void
read_file(const char *path, struct transcript *t)
{
	char err[512];
	struct source *s = source_open(path, err, sizeof(err));
	struct tr_packet p;
	const char *e;
	uint64_t size;

	memset(t, 0, sizeof(*t));
	if (s == NULL) {
		t->rc = -2;
		return;
	}
	t->hash = 14695981039346656037u;
	while ((t->rc = source_next(s, &p)) == 1) {
		t->hash = (t->hash ^ p.frame ^ (uint64_t)p.ts ^ p.sport ^
		    (uint64_t)p.dport << 16 ^ p.payload_len) * 1099511628211u;
		for (size_t i = 0; i < p.payload_len; i++)
			t->hash = (t->hash ^ p.payload[i]) * 1099511628211u;
	}
	e = source_error(s);
	if ((e = strchr(e, ':')) != NULL)
		snprintf(t->err, sizeof(t->err), "%s", e);
	t->frames = source_stats(s)->frames;
	t->packets = source_stats(s)->packets;
	source_progress(s, &t->offset, &size);
	source_close(s);
}

/*
 * A capture file: read from a regular file (a classic pcap is mapped) and,
 * when it is a classic pcap small enough for a pipe's buffer, from a pipe
 * (libpcap alone).  Both must give the same.
 */
static void
fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;
	struct transcript a, b;
	char pipe_path[64];
	uint32_t magic = 0;
	int fds[2];

	/* One regular file for the run, unlinked at once: nothing is left behind. */
	if (fd == -1) {
		char tmp[] = "/tmp/fuzz_source_XXXXXX";

		if ((fd = mkstemp(tmp)) == -1)
			return;
		unlink(tmp);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return;
	read_file(path, &a);
	if (size >= 4)
		memcpy(&magic, data, 4);
	if (size > 65536 || (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d &&
	    magic != 0xd4c3b2a1 && magic != 0x4d3cb2a1) || pipe(fds) == -1)
		return;
	if (write(fds[1], data, size) != (ssize_t)size) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	close(fds[1]);
	snprintf(pipe_path, sizeof(pipe_path), "/proc/self/fd/%d", fds[0]);
	read_file(pipe_path, &b);
	close(fds[0]);
	if (a.rc != b.rc || a.hash != b.hash || a.frames != b.frames ||
	    a.packets != b.packets || a.offset != b.offset ||
	    strcmp(a.err, b.err) != 0) {
		fprintf(stderr, "mapped: rc %d frames %llu offset %llu %s\n"
		    "libpcap: rc %d frames %llu offset %llu %s\n", a.rc,
		    (unsigned long long)a.frames, (unsigned long long)a.offset,
		    a.err, b.rc, (unsigned long long)b.frames,
		    (unsigned long long)b.offset, b.err);
		abort();
	}
}

/*
 * Input: one byte; with its top bit set the rest is a capture file (above).
 * Otherwise it chooses the link type, then records of a 2-byte length and
 * that many frame bytes follow.  Frames are fed in order through one
 * decoder, so fragment reassembly state carries across them; some claim a
 * longer wire length than captured, as snaplen-cut frames do.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int links[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
	    DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	struct source *s;
	tr_ns ts = 0;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		fuzz_file(data + 1, size - 1);
		return 0;
	}
	if ((s = source_new_decoder(links[data[0] % 8])) == NULL)
		return 0;
	data++, size--;
	while (size >= 2) {
		size_t n = (size_t)(data[0] << 8 | data[1]);
		struct tr_packet pkt;
		volatile uint8_t sink = 0;

		data += 2, size -= 2;
		if (n > size)
			n = size;
		if (source_feed(s, data, (uint32_t)n,
		    (uint32_t)n + (n % 3 == 0 ? 10 : 0), ts, &pkt) == 1)
			for (size_t i = 0; i < pkt.payload_len; i++)
				sink ^= pkt.payload[i];
		data += n, size -= n;
		ts += 1000000;
	}
	source_flush(s);
	source_close(s);
	return 0;
}
