/* Captures anonymized into one pcap: the source reads and decodes each frame, anon_frame rewrites it, pcapw writes it. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "anon_pcap.h"
#include "pcapw.h"
#include "source.h"

struct run {
	struct anon_addr	*addr;
	struct anon_frame_stats	*stats;
	const char		*tmp;		/* the output under its temporary name */
	const char		*in;		/* the input being read */
	volatile sig_atomic_t	*stop;
	struct pcapw		*w;		/* opened with the first frame's link type */
	int			 linktype;
	uint8_t			*buf;		/* one frame, PCAPW_SNAPLEN bytes */
	bool			 failed;
	char			*err;
	size_t			 errlen;
};

static bool
open_output(struct run *r, int linktype)
{
	/* Nanoseconds: the source reads every timestamp at that precision, so none is rounded. */
	r->w = pcapw_open(r->tmp, linktype, true, r->err, r->errlen);
	r->linktype = linktype;
	return r->w != NULL;
}

static void
fail_frame(struct run *r, const struct source_frame *f, const char *why)
{
	snprintf(r->err, r->errlen, "%s: frame %llu: %s", r->in,
	    (unsigned long long)f->number, why);
	r->failed = true;
}

static void
on_frame(void *ctx, const struct source_frame *f)
{
	struct run *r = ctx;
	char why[160];

	if (r->failed)
		return;
	if (*r->stop) {
		fail_frame(r, f, "stopped by a signal");
		return;
	}
	if (r->w == NULL && !open_output(r, f->linktype)) {
		r->failed = true;
		return;
	}
	if (f->linktype != r->linktype) {
		snprintf(why, sizeof(why), "link type %s, but the output's is "
		    "%s (its first frame's): one pcap holds one link type; "
		    "anonymize these frames into another output",
		    pcap_datalink_val_to_name(f->linktype),
		    pcap_datalink_val_to_name(r->linktype));
		fail_frame(r, f, why);
		return;
	}
	if (f->caplen > PCAPW_SNAPLEN) {
		fail_frame(r, f, "longer than the largest frame a pcap holds");
		return;
	}
	memcpy(r->buf, f->data, f->caplen);
	if (anon_frame(r->addr, f->linktype, r->buf, f->caplen,
	    &(struct anon_frame_at){ .l3_offset = f->l3_offset,
	    .arp_offset = f->arp_offset }, r->stats) == -1) {
		snprintf(why, sizeof(why), "cannot compute pseudonyms "
		    "(libcrypto): %s", strerror(errno));
		fail_frame(r, f, why);
		return;
	}
	if (pcapw_write(r->w, f->ts, r->buf, f->caplen, f->len) == -1) {
		snprintf(r->err, r->errlen, "%s: cannot write: %s", r->tmp,
		    strerror(errno));
		r->failed = true;
	}
}

/* Every input opens before anything is written, so a typo costs no run. */
static enum anon_pcap_result
open_inputs(const char *const *inputs, size_t n, struct source **srcs,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if ((srcs[i] = source_open(inputs[i], err, errlen)) == NULL)
			return ANON_PCAP_BAD_INPUT;
	return ANON_PCAP_OK;
}

static bool
read_input(struct run *r, struct source *s, const char *path)
{
	struct tr_packet pkt;
	int rc;

	r->in = path;
	source_on_frame(s, on_frame, r);
	/* Packets are of no use here: each frame came through on_frame already. */
	while ((rc = source_next(s, &pkt)) == 1 && !r->failed)
		;
	if (rc == -1 && !r->failed) {
		snprintf(r->err, r->errlen, "%s", source_error(s));
		r->failed = true;
	}
	return !r->failed;
}

/* What a new file gets: mkstemp's 0600 is for the temporary name only. */
static int
output_mode(const char *path)
{
	mode_t mask = umask(0);

	umask(mask);
	return chmod(path, 0666 & ~mask);
}

static bool
finish_output(struct run *r, const char *out)
{
	if (r->w == NULL && !open_output(r, DLT_EN10MB))
		return false;
	if (pcapw_close(r->w) == -1) {
		r->w = NULL;
		snprintf(r->err, r->errlen, "%s: cannot write: %s", r->tmp,
		    strerror(errno));
		return false;
	}
	r->w = NULL;
	if (output_mode(r->tmp) == -1 || rename(r->tmp, out) == -1) {
		snprintf(r->err, r->errlen, "%s: cannot put the output in "
		    "place: %s", out, strerror(errno));
		return false;
	}
	return true;
}

enum anon_pcap_result
anon_pcap_run(struct anon_addr *a, const char *const *inputs, size_t n,
    const char *out, volatile sig_atomic_t *stop,
    struct anon_frame_stats *stats, char *err, size_t errlen)
{
	enum anon_pcap_result result = ANON_PCAP_FAILED;
	struct run r = { .addr = a, .stop = stop, .stats = stats, .err = err,
	    .errlen = errlen };
	struct source **srcs = calloc(n ? n : 1, sizeof(*srcs));
	char *tmp = NULL;
	bool ok = true;
	int fd;

	r.buf = malloc(PCAPW_SNAPLEN);
	if (srcs == NULL || r.buf == NULL ||
	    asprintf(&tmp, "%s.XXXXXX", out) == -1) {
		snprintf(err, errlen, "%s: %s", out, strerror(ENOMEM));
		tmp = NULL;
		goto done;
	}
	if ((result = open_inputs(inputs, n, srcs, err, errlen)) != ANON_PCAP_OK)
		goto done;
	result = ANON_PCAP_FAILED;
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: cannot create a temporary file in "
		    "its folder: %s", out, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto done;
	}
	close(fd);
	r.tmp = tmp;
	for (size_t i = 0; i < n && ok; i++)
		ok = read_input(&r, srcs[i], inputs[i]);
	if (ok && *stop) {	/* after the last frame: still not a finished run */
		snprintf(err, errlen, "%s: stopped by a signal", out);
		ok = false;
	}
	if (ok && finish_output(&r, out))
		result = ANON_PCAP_OK;
done:
	if (r.w != NULL)
		pcapw_close(r.w);
	if (result != ANON_PCAP_OK && tmp != NULL)
		unlink(tmp);
	for (size_t i = 0; srcs != NULL && i < n; i++)
		source_close(srcs[i]);
	free(srcs);
	free(tmp);
	free(r.buf);
	return result;
}
