/* Captures anonymized into one pcap: the source reads and decodes each frame, anon_frame rewrites it, pcapw writes it. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "anon_frag.h"
#include "anon_pcap.h"
#include "flowkey.h"
#include "hash.h"
#include "pcapw.h"
#include "select.h"
#include "source.h"

/*
 * A payload rewriter's state is per exporter: a source address and port
 * and a protocol.  A capture may not make more of them (hostile input):
 * the datagrams of those past the cap stay as captured, counted.
 */
#define MAX_EXPORTERS	65536

struct exporter {
	struct flow_key	 key;		/* the exporter's address and port (src, sport) */
	uint8_t		 section;
	bool		 used;		/* false: an empty slot */
	void		*state;
};

/* Open addressing; cap is 0 or a power of two, at least twice n. */
struct exporters {
	struct exporter	*slots;
	size_t		 cap, n;
};

struct run {
	struct anon_addr	*addr;
	struct anon_frame_stats	*stats;
	const char		*tmp;		/* the output under its temporary name */
	const char		*in;		/* the input being read */
	volatile sig_atomic_t	*stop;
	struct pcapw		*w;		/* opened with the first frame's link type */
	int			 linktype;
	uint8_t			*buf;		/* one frame, PCAPW_SNAPLEN bytes */
	struct anon_rewriter	 rewriter;
	struct anon_payload_stats *payload;
	struct exporters	 exporters;
	const struct config	*cfg;		/* -t: datagrams are its sections' */
	struct selector		*sel;
	uint64_t		 frame;		/* the one being rewritten */
	struct anon_tcp		*tcp;		/* TCP messages: learned in pass 1, patched in pass 2 */
	struct anon_frag	*frag;		/* fragmented UDP datagrams: held until whole, frames kept in order */
	/* Pass 2: a frame is written once its packet, if any, got its TCP patches. */
	struct source_frame	 pending;	/* its data is buf */
	const uint8_t		*pending_src;	/* the source's bytes of it, where its packet's payload points */
	bool			 has_pending;
	bool			 failed;
	char			*err;
	size_t			 errlen;
};

static uint32_t
exporter_hash(const struct flow_key *k, uint8_t section)
{
	return flow_key_hash(k, fnv1a(FNV1A_BASIS, &section, sizeof(section)));
}

/* The slot of an exporter, or the empty one where it goes. */
static struct exporter *
exporter_slot(struct exporter *slots, size_t cap, const struct flow_key *k,
    uint8_t section)
{
	size_t i = exporter_hash(k, section) & (cap - 1);

	for (;; i = (i + 1) & (cap - 1)) {
		struct exporter *e = &slots[i];

		if (!e->used || (e->section == section &&
		    flow_key_equal(&e->key, k)))
			return e;
	}
}

static bool
exporters_grow(struct exporters *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct exporter *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return false;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			*exporter_slot(slots, cap, &t->slots[i].key,
			    t->slots[i].section) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return true;
}

static void
exporters_free(struct exporters *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		const struct exporter *e = &t->slots[i];

		if (e->used && protocols[e->section]->anon->free != NULL)
			protocols[e->section]->anon->free(e->state);
	}
	free(t->slots);
}

/* The exporter of a datagram (key: its address and port), made on first sight; NULL past the cap (counted) or out of memory (errno ENOMEM). */
static struct exporter *
exporter_get(struct run *r, const struct flow_key *k, int section)
{
	const struct proto_anon *pa = protocols[section]->anon;
	struct exporters *t = &r->exporters;
	struct exporter *e;

	errno = 0;
	if (t->cap != 0) {
		e = exporter_slot(t->slots, t->cap, k, (uint8_t)section);
		if (e->used)
			return e;
	}
	if (t->n >= MAX_EXPORTERS) {
		r->payload->over_exporters++;
		return NULL;
	}
	if (2 * (t->n + 1) > t->cap && !exporters_grow(t)) {
		errno = ENOMEM;
		return NULL;
	}
	e = exporter_slot(t->slots, t->cap, k, (uint8_t)section);
	if (pa->new != NULL && (e->state = pa->new()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	e->key = *k;
	e->section = (uint8_t)section;
	e->used = true;
	t->n++;
	return e;
}

static void
address_of(const uint8_t *p, size_t alen, struct tr_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = alen == 4 ? AF_INET : AF_INET6;
	memcpy(alen == 4 ? (void *)&a->v4 : (void *)&a->v6, p, alen);
}

/* -t: the UDP section whose select and NAME_h take the datagram, as the replay selects; -1: none. */
static int
section_of(const struct run *r, const struct anon_udp *d)
{
	struct tr_packet pkt = { .frame = r->frame, .l4proto = TR_IPPROTO_UDP,
	    .sport = d->sport, .dport = d->dport, .payload = d->payload,
	    .payload_len = d->len };
	int id;

	address_of(d->src, d->alen, &pkt.src);
	address_of(d->dst, d->alen, &pkt.dst);
	id = select_section(r->sel, &pkt);
	if (id < 0 || protocols[id]->l4proto != TR_IPPROTO_UDP ||
	    !select_datagram(&r->cfg->section[id], (enum section_id)id,
	    d->payload, d->len))
		return -1;
	return id;
}

/* A whole UDP datagram's payload to its protocol's rewriter (anon_frame's hook); -1 when the run must stop. */
static int
on_udp(void *ctx, const struct anon_udp *d)
{
	struct run *r = ctx;
	int id = r->sel != NULL ? section_of(r, d) :
	    proto_udp_by_content(d->payload, d->len);
	struct flow_key from = { .sport = d->sport };
	struct exporter *e;

	if (id < 0 || protocols[id]->anon == NULL)
		return 0;
	address_of(d->src, d->alen, &from.src);
	if ((e = exporter_get(r, &from, id)) == NULL)
		return errno == ENOMEM ? -1 : 0;
	switch (protocols[id]->anon->message(e->state, &r->rewriter,
	    &(struct anon_msg){ .data = d->payload, .len = d->len,
	    .exporter = &e->key.src, .exporter_port = d->sport,
	    .from_exporter = true, .frame = r->frame })) {
	case ANON_MSG_REWRITTEN:
		r->payload->rewritten[id]++;
		return 0;
	case ANON_MSG_CUT:	/* whole datagrams only: not one */
	case ANON_MSG_MALFORMED:
		r->payload->malformed[id]++;
		return 0;
	case ANON_MSG_FAILED:
		break;
	}
	return -1;
}

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

/* A frame rewritten, in capture order (anon_frag's output). */
static int
write_frame(void *ctx, const struct source_frame *f, const uint8_t *data)
{
	struct run *r = ctx;

	if (pcapw_write(r->w, f->ts, data, f->caplen, f->len) == -1) {
		snprintf(r->err, r->errlen, "%s: cannot write: %s", r->tmp,
		    strerror(errno));
		r->failed = true;
		return -1;
	}
	return 0;
}

static void
fail_rewrite(struct run *r, const struct source_frame *f)
{
	char why[160];

	if (r->failed)		/* the write said why */
		return;
	snprintf(why, sizeof(why), "cannot compute pseudonyms "
	    "(libcrypto, or out of memory): %s", strerror(errno));
	fail_frame(r, f, why);
}

/* The frame held for its TCP patches, rewritten and written (or held behind a fragmented datagram). */
static void
flush_pending(struct run *r)
{
	const struct source_frame *f = &r->pending;

	if (!r->has_pending)
		return;
	r->has_pending = false;
	if (r->failed)
		return;
	if (anon_frag_frame(r->frag, f, r->buf) == -1)
		fail_rewrite(r, f);
}

/* A TCP packet of the frame held: its payload gets the rewritten bytes of the messages it carries. */
static void
patch_tcp(struct run *r, const struct tr_packet *pkt)
{
	const struct source_frame *f = &r->pending;
	uintptr_t at = (uintptr_t)pkt->payload, src = (uintptr_t)r->pending_src;
	uint8_t *payload = NULL;

	/* A payload reassembled from IP fragments is in no one frame (another buffer): it cannot be patched. */
	if (r->has_pending && pkt->frame == f->number && at >= src &&
	    at - src <= f->caplen && pkt->payload_len <= f->caplen - (at - src))
		payload = r->buf + (at - src);
	if (anon_tcp_patch(r->tcp, pkt, payload) == -1) {
		snprintf(r->err, r->errlen, "%s: frame %llu: cannot read back "
		    "its TCP messages' rewritten bytes (temporary file): %s",
		    r->in, (unsigned long long)pkt->frame, strerror(errno));
		r->failed = true;
	}
}

static void
on_frame(void *ctx, const struct source_frame *f)
{
	struct run *r = ctx;
	char why[160];

	flush_pending(r);
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
	r->pending = *f;
	r->pending.data = r->buf;
	r->pending_src = f->data;
	r->has_pending = true;
}

/*
 * Every input opens before anything is written, so a typo costs no run.
 * Each is read twice (TCP messages are learned, then patched in): a pipe
 * cannot be.
 */
static enum anon_pcap_result
open_inputs(const char *const *inputs, size_t n, struct source **srcs,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if ((srcs[i] = source_open(inputs[i], err, errlen)) == NULL)
			return ANON_PCAP_BAD_INPUT;
		if (stat(inputs[i], &st) == 0 && !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file: "
			    "anonymize reads each input twice (TCP messages "
			    "are learned first, then written back into their "
			    "segments); save the capture to a file first",
			    inputs[i]);
			return ANON_PCAP_BAD_INPUT;
		}
	}
	return ANON_PCAP_OK;
}

/* Pass 1: every TCP packet to the TCP rewriter, which keeps what its messages become. */
static bool
learn_input(struct run *r, struct source *s, const char *path)
{
	struct tr_packet pkt;
	int rc;

	r->in = path;
	while ((rc = source_next(s, &pkt)) == 1) {
		if (*r->stop) {
			snprintf(r->err, r->errlen, "%s: stopped by a signal",
			    path);
			return false;
		}
		if (pkt.l4proto == TR_IPPROTO_TCP &&
		    anon_tcp_learn(r->tcp, &pkt) == -1) {
			snprintf(r->err, r->errlen, "%s: frame %llu: cannot "
			    "rewrite its TCP messages (libcrypto, memory, or "
			    "the temporary file of rewritten bytes under "
			    "TMPDIR or /tmp): %s", path, (unsigned long long)pkt.frame,
			    strerror(errno));
			return false;
		}
	}
	if (rc == -1) {
		snprintf(r->err, r->errlen, "%s", source_error(s));
		return false;
	}
	return true;
}

/* Pass 2: every frame rewritten and written, a TCP segment's payload patched first. */
static bool
read_input(struct run *r, const char *path)
{
	struct tr_packet pkt;
	struct source *s;
	int rc;

	r->in = path;
	if ((s = source_open(path, r->err, r->errlen)) == NULL) {
		r->failed = true;
		return false;
	}
	source_on_frame(s, on_frame, r);
	while ((rc = source_next(s, &pkt)) == 1 && !r->failed)
		if (pkt.l4proto == TR_IPPROTO_TCP)
			patch_tcp(r, &pkt);
	flush_pending(r);
	if (!r->failed && anon_frag_flush(r->frag) == -1)
		fail_rewrite(r, &r->pending);
	if (rc == -1 && !r->failed) {
		snprintf(r->err, r->errlen, "%s", source_error(s));
		r->failed = true;
	}
	source_close(s);
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
anon_pcap_run(struct anon_addr *a, struct anon_as *as, struct anon_text *text,
    const char *const *inputs, size_t n,
    const char *out, const struct config *cfg, volatile sig_atomic_t *stop,
    struct anon_frame_stats *stats, struct anon_payload_stats *payload,
    char *err, size_t errlen)
{
	enum anon_pcap_result result = ANON_PCAP_FAILED;
	struct run r = { .addr = a, .stop = stop, .stats = stats, .err = err,
	    .errlen = errlen, .payload = payload, .cfg = cfg,
	    .rewriter = { .addr = a, .counts = &payload->counts, .as = as,
	    .text = text } };
	struct source **srcs = calloc(n ? n : 1, sizeof(*srcs));
	char *tmp = NULL;
	bool ok = true;
	int fd;

	r.buf = malloc(PCAPW_SNAPLEN);
	if (cfg != NULL)
		r.sel = selector_new(cfg);
	r.tcp = anon_tcp_new(&r.rewriter, r.sel, &payload->tcp);
	r.frag = anon_frag_new(&(struct anon_frag_out){ .addr = a,
	    .frame_stats = stats, .stats = &payload->frag,
	    .udp_payload = on_udp, .frame = &r.frame, .write = write_frame,
	    .ctx = &r });
	if (srcs == NULL || r.buf == NULL || (cfg != NULL && r.sel == NULL) ||
	    r.tcp == NULL || r.frag == NULL ||
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
		ok = learn_input(&r, srcs[i], inputs[i]);
	if (ok && anon_tcp_learn_end(r.tcp) == -1) {
		snprintf(err, errlen, "cannot rewrite TCP messages (libcrypto, "
		    "memory, or the temporary file of rewritten bytes under "
		    "TMPDIR or /tmp): %s", strerror(errno));
		ok = false;
	}
	for (size_t i = 0; i < n && ok; i++)
		ok = read_input(&r, inputs[i]);
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
	exporters_free(&r.exporters);
	anon_tcp_free(r.tcp);
	anon_frag_free(r.frag);
	selector_free(r.sel);
	return result;
}
