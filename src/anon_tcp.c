/*
 * TCP messages anonymized in two passes.  Pass 1 reassembles each
 * direction of each connection (stream), frames it (framer), hands each
 * whole message to its protocol's anon hook on a copy, and keeps the bytes
 * that changed as runs by stream offset.  Pass 2 writes those bytes into
 * every segment whose sequence range covers them, retransmissions too, so
 * segmentation and lengths stay as captured.
 *
 * The runs grow with the capture (about half of a BMP capture of distinct
 * prefixes), so they do not stay in memory: each direction's runs go in
 * blocks of about BLOCK_BYTES to an unlinked temporary file, each block
 * linked to the direction's previous and next ones.  Pass 2 walks each
 * direction's chain along its segments (forward, or back for a late
 * retransmission), one block in memory per direction at a time, so memory
 * is a window per live direction under a budget, whatever the capture's
 * size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon_tcp.h"
#include "flowkey.h"
#include "framer.h"
#include "grow.h"
#include "hash.h"
#include "sniff.h"
#include "stream.h"

/* Hostile input: connections alive at once, bytes held out of order (each, all). */
#define MAX_CONNS		65536
#define MAX_HELD		(1u << 20)
#define MAX_HELD_ALL		(64u << 20)
/* Changed bytes closer than this share a run: a run costs as much. */
#define MERGE_GAP		16
/* A block of runs in the file: large enough that a pread is cheap per byte (a test build may make it tiny). */
#ifndef BLOCK_BYTES
#define BLOCK_BYTES		(64u << 10)
#endif
/* Blocks being filled (pass 1) and blocks read back (pass 2), over all directions: past it, all go out. */
#ifndef WINDOW_BUDGET
#define WINDOW_BUDGET		(16u << 20)
#endif
#define NO_BLOCK		UINT64_MAX

/* Bytes that changed, at a stream offset; their new values are in the block's bytes from `at`. */
struct run {
	uint64_t	off;
	uint32_t	at;
	uint32_t	len;
};

/* What precedes a block's runs and bytes in the file. */
struct block_head {
	uint64_t	prev, next;	/* file positions of the direction's neighbours, NO_BLOCK at its ends */
	uint64_t	first_off;	/* its first run's offset */
	uint64_t	end_off;	/* where its last run ends */
	uint32_t	nruns, nbytes;
};

/* One block's runs and bytes in memory: being filled (pass 1) or read back (pass 2). */
struct block {
	struct run	*runs;
	size_t		 nruns, runs_cap;
	uint8_t		*bytes;
	size_t		 nbytes, bytes_cap;
};

/*
 * One connection in one direction, as far as patches go: from which
 * packet on it is the one on its ports (by number among the run's TCP
 * packets: until the next connection on them, so that a retransmission
 * after its FIN still gets its bytes), where its stream starts, and its
 * runs in stream order, in the file's blocks.
 */
struct epoch {
	uint64_t	 first_k;
	uint32_t	 base;		/* sequence number of stream offset 0 */
	uint64_t	 first_block, last_block;	/* file positions, NO_BLOCK: none */
	struct block	 w;		/* pass 1: runs not in the file yet */
	/* Pass 2: the block the walk is at (its head; its runs once loaded). */
	uint64_t	 at_block;
	struct block_head head;
	struct block	 r;
	bool		 loaded;
	bool		 in_window;	/* in anon_tcp's windows */
	/* Pass 2: the last sequence number placed, to unwrap past 4 GiB. */
	uint32_t	 ref_seq;
	uint64_t	 ref_off;
	bool		 ref_set;
};

/* The directions that got patches, kept for pass 2. */
struct hist {
	struct flow_key	 key;
	struct epoch	*epochs;
	size_t		 n, cap;
	size_t		 cursor;	/* pass 2: the epoch packets are in now */
};

/* An epoch by its indices (the arrays they are in may move). */
struct epoch_ref {
	uint32_t	hist, epoch;
};
/* A live direction (pass 1). */
struct dir {
	struct anon_tcp	*t;
	struct conn	*conn;
	int		 side;		/* 0: the exporter's */
	struct flow_key	 key;
	struct stream	*stream;
	int		 section;	/* -1: not known yet (held); SECTION_COUNT: not rewritten */
	bool		 framing;	/* its framer is set up */
	struct framer	 fr;
	struct sniff	 sniff;		/* its first bytes, until they say what it carries (as --info) */
	bool		 started;
	bool		 syn_seen;
	uint32_t	 isn;
	uint32_t	 base;
	uint64_t	 consumed;	/* stream bytes framed or skipped */
	uint64_t	 gaps;		/* stream bytes never captured, before those */
	long		 hist;		/* index in t->hists, -1 none yet */
	long		 epoch;
	uint64_t	 first_k;	/* the packet that made its connection */
};

struct conn {
	struct flow_key	 key;		/* the exporter's direction */
	struct conn	*next;		/* hash chain */
	struct dir	 d[2];
	int		 state_section;	/* whose hook state is */
	void		*state;
	bool		 ended;
};

#define CONN_BUCKETS	65536

struct anon_tcp {
	const struct anon_rewriter *rw;
	struct selector		*sel;	/* select_side remembers its answers */
	struct anon_tcp_stats	*st;
	struct conn		**buckets;	/* CONN_BUCKETS chains */
	size_t			 nconns;
	struct stream_pool	 pool;
	uint64_t		 k;		/* TCP packets so far (either pass) */
	uint8_t			*scratch;	/* one message's copy, rewritten */
	size_t			 scratch_cap;
	/* The runs' file (-1: none yet), and the epochs whose blocks are in memory, with their bytes. */
	int			 fd;
	uint64_t		 file_end;
	struct epoch_ref	*windows;
	size_t			 nwindows, windows_cap;
	size_t			 window_bytes;
	bool			 failed;	/* libcrypto failed: the run stops */
	/* Directions with patches, and their index by key. */
	struct hist		*hists;
	size_t			 nhists, hists_cap;
	long			*index;		/* open addressing over hists; -1 empty */
	size_t			 index_cap;
};

struct anon_tcp *
anon_tcp_new(const struct anon_rewriter *rw, struct selector *sel,
    struct anon_tcp_stats *st)
{
	struct anon_tcp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if ((t->buckets = calloc(CONN_BUCKETS, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	t->rw = rw;
	t->sel = sel;
	t->st = st;
	t->pool.max = MAX_HELD_ALL;
	t->fd = -1;
	return t;
}

/* ---- the directions that got patches ------------------------------------ */

static uint32_t
hist_hash(const struct flow_key *k)
{
	return flow_key_hash(k, FNV1A_BASIS);
}

static long *
index_slot(long *index, size_t cap, const struct hist *hists,
    const struct flow_key *k)
{
	size_t i = hist_hash(k) & (cap - 1);

	for (;; i = (i + 1) & (cap - 1))
		if (index[i] == -1 || flow_key_equal(&hists[index[i]].key, k))
			return &index[i];
}

static long
hist_find(const struct anon_tcp *t, const struct flow_key *k)
{
	return t->index_cap == 0 ? -1 :
	    *index_slot(t->index, t->index_cap, t->hists, k);
}

static long
hist_get(struct anon_tcp *t, const struct flow_key *k)
{
	long h = hist_find(t, k);

	if (h != -1)
		return h;
	if (2 * (t->nhists + 1) > t->index_cap) {
		size_t cap = t->index_cap ? t->index_cap * 2 : 256;
		long *index = malloc(cap * sizeof(*index));

		if (index == NULL)
			return -1;
		for (size_t i = 0; i < cap; i++)
			index[i] = -1;
		for (size_t i = 0; i < t->nhists; i++)
			*index_slot(index, cap, t->hists, &t->hists[i].key) =
			    (long)i;
		free(t->index);
		t->index = index;
		t->index_cap = cap;
	}
	if (grow_array(&t->hists, &t->hists_cap, sizeof(*t->hists),
	    t->nhists + 1, SIZE_MAX / sizeof(*t->hists)) == -1)
		return -1;
	t->hists[t->nhists] = (struct hist){ .key = *k };
	*index_slot(t->index, t->index_cap, t->hists, k) = (long)t->nhists;
	return (long)t->nhists++;
}

/* ---- the runs' file and the blocks in memory ---------------------------- */

/* An unlinked file where TMPDIR says (the runs may be as large as half the capture: not a tmpfs's RAM by default, /tmp). */
static int
spill_open(struct anon_tcp *t)
{
	const char *dir = getenv("TMPDIR");
	char *path;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((t->fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC,
	    0600)) != -1)
		return 0;
	/* A file system without O_TMPFILE: a named file, unlinked at once. */
	if (asprintf(&path, "%s/tr-anon-tcp.XXXXXX", dir) == -1)
		return -1;
	if ((t->fd = mkostemp(path, O_CLOEXEC)) != -1)
		unlink(path);
	free(path);
	return t->fd == -1 ? -1 : 0;
}

static int
pwrite_all(int fd, const void *p, size_t len, uint64_t pos)
{
	const uint8_t *b = p;

	while (len > 0) {
		ssize_t n = pwrite(fd, b, len, (off_t)pos);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		b += n;
		len -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

static int
pread_all(int fd, void *p, size_t len, uint64_t pos)
{
	uint8_t *b = p;

	while (len > 0) {
		ssize_t n = pread(fd, b, len, (off_t)pos);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* our own file, shorter than written */
			return -1;
		}
		b += n;
		len -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

static size_t
block_memory(const struct block *b)
{
	return b->runs_cap * sizeof(*b->runs) + b->bytes_cap;
}

static void
block_free(struct anon_tcp *t, struct block *b)
{
	t->window_bytes -= block_memory(b);
	free(b->runs);
	free(b->bytes);
	*b = (struct block){ 0 };
}

/* Room for nruns runs and nbytes bytes in b, counted in the window. */
static int
block_reserve(struct anon_tcp *t, struct block *b, size_t nruns, size_t nbytes)
{
	size_t before = block_memory(b);
	int rc = 0;

	if (grow_array(&b->runs, &b->runs_cap, sizeof(*b->runs), nruns,
	    SIZE_MAX / sizeof(*b->runs)) == -1 ||
	    grow_array(&b->bytes, &b->bytes_cap, 1, nbytes, UINT32_MAX) == -1)
		rc = -1;
	t->window_bytes += block_memory(b) - before;
	return rc;
}

static struct epoch *
epoch_of(const struct anon_tcp *t, struct epoch_ref ref)
{
	return &t->hists[ref.hist].epochs[ref.epoch];
}

/* The epoch's block in memory joins the windows (once; ones emptied since are dropped when the list is full). */
static int
window_add(struct anon_tcp *t, struct epoch_ref ref)
{
	struct epoch *e = epoch_of(t, ref);

	if (e->in_window)
		return 0;
	if (t->nwindows == t->windows_cap) {
		size_t j = 0;

		for (size_t i = 0; i < t->nwindows; i++) {
			struct epoch *o = epoch_of(t, t->windows[i]);

			if (block_memory(&o->w) + block_memory(&o->r) > 0)
				t->windows[j++] = t->windows[i];
			else
				o->in_window = false;
		}
		t->nwindows = j;
	}
	if (grow_array(&t->windows, &t->windows_cap, sizeof(*t->windows),
	    t->nwindows + 1, SIZE_MAX / sizeof(*t->windows)) == -1)
		return -1;
	t->windows[t->nwindows++] = ref;
	e->in_window = true;
	return 0;
}

/* Pass 1: the runs the epoch holds, as one block at the file's end, linked after its last. */
static int
epoch_flush(struct anon_tcp *t, struct epoch *e)
{
	struct block *w = &e->w;
	struct block_head h;
	uint64_t pos = t->file_end;
	size_t runs_len = w->nruns * sizeof(*w->runs);

	if (w->nruns == 0) {
		block_free(t, w);
		return 0;
	}
	if (t->fd == -1 && spill_open(t) == -1)
		return -1;
	h = (struct block_head){ .prev = e->last_block, .next = NO_BLOCK,
	    .first_off = w->runs[0].off,
	    .end_off = w->runs[w->nruns - 1].off + w->runs[w->nruns - 1].len,
	    .nruns = (uint32_t)w->nruns, .nbytes = (uint32_t)w->nbytes };
	if (pwrite_all(t->fd, &h, sizeof(h), pos) == -1 ||
	    pwrite_all(t->fd, w->runs, runs_len, pos + sizeof(h)) == -1 ||
	    pwrite_all(t->fd, w->bytes, w->nbytes,
	    pos + sizeof(h) + runs_len) == -1)
		return -1;
	if (e->last_block != NO_BLOCK && pwrite_all(t->fd, &pos, sizeof(pos),
	    e->last_block + offsetof(struct block_head, next)) == -1)
		return -1;
	if (e->first_block == NO_BLOCK)
		e->first_block = pos;
	e->last_block = pos;
	t->file_end = pos + sizeof(h) + runs_len + w->nbytes;
	block_free(t, w);
	return 0;
}

/* Pass 1: every block being filled goes to the file; pass 2: every block read back is let go. */
static int
windows_empty(struct anon_tcp *t)
{
	int rc = 0;

	for (size_t i = 0; i < t->nwindows; i++) {
		struct epoch *e = epoch_of(t, t->windows[i]);

		if (epoch_flush(t, e) == -1)
			rc = -1;
		block_free(t, &e->r);
		e->loaded = false;
		e->in_window = false;
	}
	t->nwindows = 0;
	return rc;
}

/* The direction's epoch, made with its first patch. */
static struct epoch *
dir_epoch(struct dir *d)
{
	struct anon_tcp *t = d->t;
	struct hist *h;

	if (d->hist == -1) {
		if ((d->hist = hist_get(t, &d->key)) == -1)
			return NULL;
		h = &t->hists[d->hist];
		if (grow_array(&h->epochs, &h->cap, sizeof(*h->epochs),
		    h->n + 1, UINT32_MAX) == -1)
			return NULL;
		h->epochs[h->n] = (struct epoch){ .base = d->base,
		    .first_k = d->first_k, .first_block = NO_BLOCK,
		    .last_block = NO_BLOCK, .at_block = NO_BLOCK };
		d->epoch = (long)h->n++;
	}
	return &t->hists[d->hist].epochs[d->epoch];
}

/* Keep the bytes of msg[s, e) as rewritten, at stream offset off + s: in the epoch's block, which goes to the file when full. */
static int
add_run(struct dir *d, uint64_t off, const uint8_t *new, size_t len)
{
	struct anon_tcp *t = d->t;
	struct epoch *e;
	struct block *w;

	if ((e = dir_epoch(d)) == NULL)
		return -1;
	w = &e->w;
	if (w->nruns > 0 && (w->nruns + 1) * sizeof(*w->runs) + w->nbytes +
	    len > BLOCK_BYTES && epoch_flush(t, e) == -1)
		return -1;
	if (block_reserve(t, w, w->nruns + 1, w->nbytes + len) == -1 ||
	    window_add(t, (struct epoch_ref){ .hist = (uint32_t)d->hist,
	    .epoch = (uint32_t)d->epoch }) == -1)
		return -1;
	w->runs[w->nruns++] = (struct run){ .off = off,
	    .at = (uint32_t)w->nbytes, .len = (uint32_t)len };
	memcpy(w->bytes + w->nbytes, new, len);
	w->nbytes += len;
	return t->window_bytes > WINDOW_BUDGET ? windows_empty(t) : 0;
}

/* The runs where new differs from old (len bytes at stream offset off), changed bytes MERGE_GAP apart or closer in one. */
static int
record_changes(struct dir *d, uint64_t off, const uint8_t *old,
    const uint8_t *new, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t s, last;

		while (i < len && old[i] == new[i])
			i++;
		if (i == len)
			break;
		s = last = i;
		for (i++; i < len && i - last <= MERGE_GAP; i++)
			if (old[i] != new[i])
				last = i;
		if (add_run(d, off + s, new + s, last + 1 - s) == -1)
			return -1;
		i = last + 1;
	}
	return 0;
}

/* ---- pass 1: connections, streams, framing ------------------------------ */

static int
scratch_reserve(struct anon_tcp *t, size_t len)
{
	uint8_t *p;

	if (len <= t->scratch_cap)
		return 0;
	if ((p = realloc(t->scratch, len)) == NULL)
		return -1;
	t->scratch = p;
	t->scratch_cap = len;
	return 0;
}

/* One whole message of a direction: rewritten on a copy, the changes kept. */
static int
on_message(void *ctx, const uint8_t *msg, size_t len, uint8_t type)
{
	struct dir *d = ctx;
	struct anon_tcp *t = d->t;
	struct conn *c = d->conn;
	const struct proto_anon *pa = protocols[d->section]->anon;
	uint64_t off = d->consumed + d->gaps;
	struct flow_key *ek = &c->key;

	(void)type;
	d->consumed += len;
	if (scratch_reserve(t, len) == -1)
		return -1;
	memcpy(t->scratch, msg, len);
	switch (pa->message(c->state_section == d->section ? c->state : NULL,
	    t->rw, &(struct anon_msg){ .data = t->scratch, .len = len,
	    .exporter = &ek->src, .exporter_port = ek->sport,
	    .from_exporter = d->side == 0, .frame = 0 })) {
	case ANON_MSG_REWRITTEN:
		t->st->rewritten[d->section]++;
		break;
	case ANON_MSG_CUT:
	case ANON_MSG_MALFORMED:
		t->st->malformed[d->section]++;
		break;
	case ANON_MSG_FAILED:
		t->failed = true;
		errno = EIO;
		return -1;
	}
	return record_changes(d, off, msg, t->scratch, len);
}

static void
on_skipped(void *ctx, size_t n, const char *why)
{
	struct dir *d = ctx;

	(void)why;
	d->consumed += n;
	d->t->st->skipped_bytes += n;
}

static const struct framer_ops anon_framer_ops = {
	.message = on_message,
	.skipped = on_skipped,
};

/* The framed protocols with a rewriter. */
static bool
rewritable(int id)
{
	return protocols[id]->anon != NULL;
}

/* The direction now knows what it carries: its framer, and the connection's hook state for that protocol. */
static int
dir_set_section(struct dir *d, int section)
{
	struct conn *c = d->conn;
	const struct proto_anon *pa;

	d->section = section;
	if (section >= SECTION_COUNT)
		return 0;
	pa = protocols[section]->anon;
	if (c->state_section == -1) {
		c->state_section = section;
		if (pa->new != NULL && (c->state = pa->new()) == NULL)
			return -1;
	}
	framer_init(&d->fr, protocols[section]->framing, &anon_framer_ops, d);
	d->framing = true;
	return 0;
}

static int
dir_deliver(void *ctx, const struct stream_chunk *ch)
{
	struct dir *d = ctx;

	if (!d->framing) {
		d->consumed += ch->len;
		return 0;
	}
	return framer_feed(&d->fr, ch);
}

/* What a direction's first bytes carry, as --info tells it: a protocol with a rewriter, or none (SECTION_COUNT). */
static int
dir_decide(void *ctx, int id)
{
	return dir_set_section(ctx, id == -1 ? SECTION_COUNT : id);
}

/* Bytes before a gap in the window that frame as nothing are passed over. */
static void
dir_skipped(void *ctx, size_t n)
{
	struct dir *d = ctx;

	d->consumed += n;
	d->t->st->skipped_bytes += n;
}

static const struct sniff_ops dir_sniff = {
	.wanted = rewritable,
	.decide = dir_decide,
	.deliver = dir_deliver,
	.skipped = dir_skipped,
};

/* Bytes of a direction in order; without -t through the sniff window until they say what it carries. */
static int
dir_feed(struct dir *d, const struct stream_chunk *ch)
{
	if (ch->gap_before) {
		d->gaps += ch->gap_bytes;
		d->t->st->gap_bytes += ch->gap_bytes;
	}
	if (d->section != -1)
		return dir_deliver(d, ch);
	return sniff_feed(&d->sniff, &dir_sniff, d, ch);
}

/* The end of a direction: what reassembly holds goes out after its gaps, a partial message is counted. */
static int
dir_finish(struct dir *d)
{
	struct stream_chunk ch[2];
	int n, rc = 0;

	if (d->stream != NULL) {
		while (rc == 0 && (n = stream_finish(d->stream, ch)) > 0)
			for (int i = 0; i < n && rc == 0; i++)
				rc = dir_feed(d, &ch[i]);
		stream_free(d->stream);
		d->stream = NULL;
	}
	if (rc == 0)
		rc = sniff_finish(&d->sniff, &dir_sniff, d);
	sniff_free(&d->sniff);
	if (d->framing) {
		d->t->st->unfinished_bytes += framer_pending(&d->fr);
		framer_free(&d->fr);
		d->framing = false;
	}
	/* Its last runs go to the file: nothing will follow them. */
	if (d->hist != -1 &&
	    epoch_flush(d->t, &d->t->hists[d->hist].epochs[d->epoch]) == -1)
		rc = -1;
	return rc;
}

static size_t
conn_bucket(const struct flow_key *k)
{
	return flow_key_hash_both_ways(k) % CONN_BUCKETS;
}

/* The connection a packet belongs to, and its side in it (0: the exporter's). */
static struct conn *
conn_find(const struct anon_tcp *t, const struct flow_key *k, int *side)
{
	for (struct conn *c = t->buckets[conn_bucket(k)]; c != NULL;
	    c = c->next) {
		if (flow_key_equal(&c->key, k)) {
			*side = 0;
			return c;
		}
		if (flow_key_equal(&c->d[1].key, k)) {
			*side = 1;
			return c;
		}
	}
	return NULL;
}

static int
conn_end(struct anon_tcp *t, struct conn *c)
{
	struct conn **pp = &t->buckets[conn_bucket(&c->key)];
	int rc = 0;

	for (int s = 0; s < 2; s++)
		if (dir_finish(&c->d[s]) == -1)
			rc = -1;
	if (c->state != NULL && protocols[c->state_section]->anon->free != NULL)
		protocols[c->state_section]->anon->free(c->state);
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	free(c);
	t->nconns--;
	return rc;
}

/*
 * Which section a new connection's directions are, and which is the
 * exporter's.  With -t as the replay selects (its collector's side is the
 * same section); without, each direction by its first bytes, the exporter
 * being the side that sent the SYN, else the one on the higher port.
 */
static int
conn_sections(const struct anon_tcp *t, const struct tr_packet *pkt,
    bool *reversed)
{
	int section = -1, exporter;

	*reversed = false;
	if (t->sel == NULL) {
		if (pkt->tcp_flags & TR_TCP_SYN)
			*reversed = (pkt->tcp_flags & TR_TCP_ACK) != 0;
		else
			*reversed = pkt->sport < pkt->dport;
		return -1;
	}
	switch (select_side(t->sel, pkt, &section, &exporter)) {
	case SELECT_EXPORTER:
	case SELECT_UNKNOWN_EXPORTER:
		break;
	case SELECT_COLLECTOR:
		*reversed = true;
		break;
	case SELECT_NONE:
		return SECTION_COUNT;
	}
	if (section < 0 || protocols[section]->l4proto != TR_IPPROTO_TCP ||
	    protocols[section]->framing == NULL ||
	    protocols[section]->anon == NULL)
		return SECTION_COUNT;
	return section;
}

static struct conn *
conn_new(struct anon_tcp *t, const struct tr_packet *pkt, int *side)
{
	struct flow_key k = flow_key_of(pkt);
	bool reversed;
	int section = conn_sections(t, pkt, &reversed);
	size_t b;
	struct conn *c;

	if (t->nconns >= MAX_CONNS) {
		t->st->over_connections++;
		errno = ENOBUFS;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->key = reversed ? flow_key_reversed(&k) : k;
	c->state_section = -1;
	for (int s = 0; s < 2; s++) {
		struct dir *d = &c->d[s];

		d->t = t;
		d->conn = c;
		d->side = s;
		d->key = s == 0 ? c->key : flow_key_reversed(&c->key);
		d->section = -1;
		d->hist = d->epoch = -1;
		d->first_k = t->k;
		if (section == SECTION_COUNT)
			continue;	/* not rewritten: nothing to reassemble */
		if ((d->stream = stream_new(MAX_HELD)) == NULL)
			goto fail;
		stream_set_pool(d->stream, &t->pool);
	}
	for (int s = 0; s < 2 && section != -1; s++)
		if (dir_set_section(&c->d[s], section) == -1)
			goto fail;
	b = conn_bucket(&c->key);
	c->next = t->buckets[b];
	t->buckets[b] = c;
	t->nconns++;
	*side = reversed ? 1 : 0;
	return c;
fail:
	for (int s = 0; s < 2; s++) {
		stream_free(c->d[s].stream);
		if (c->d[s].framing)
			framer_free(&c->d[s].fr);
	}
	if (c->state != NULL && protocols[c->state_section]->anon->free != NULL)
		protocols[c->state_section]->anon->free(c->state);
	free(c);
	errno = ENOMEM;
	return NULL;
}

/* Where the direction's stream starts, by stream.c's rule: a SYN's seq + 1 (its own seq when it carries data), else the first segment with data. */
static void
dir_note_start(struct dir *d, const struct tr_packet *pkt)
{
	bool syn = (pkt->tcp_flags & TR_TCP_SYN) != 0;

	if (syn && !d->syn_seen) {
		d->syn_seen = true;
		d->isn = pkt->tcp_seq;
	}
	if (d->started || (pkt->tcp_flags & TR_TCP_RST) ||
	    (!syn && pkt->payload_len == 0))
		return;
	d->started = true;
	d->base = syn && pkt->payload_len == 0 ? pkt->tcp_seq + 1 :
	    pkt->tcp_seq;
}

/* A SYN with another ISN than the direction's first: a new connection on the same ports. */
static bool
is_new_connection(const struct dir *d, const struct tr_packet *pkt)
{
	return (pkt->tcp_flags & TR_TCP_SYN) && d->syn_seen &&
	    pkt->tcp_seq != d->isn;
}

int
anon_tcp_learn(struct anon_tcp *t, const struct tr_packet *pkt)
{
	struct flow_key k = flow_key_of(pkt);
	struct stream_chunk ch[2];
	struct conn *c;
	struct dir *d;
	int side, n;

	t->k++;
	if ((c = conn_find(t, &k, &side)) != NULL &&
	    is_new_connection(&c->d[side], pkt)) {
		if (conn_end(t, c) == -1)
			return -1;
		c = NULL;
	}
	if (c == NULL) {
		/* Only a SYN or data starts a stream: a FIN's last ACK makes no connection. */
		if (!(pkt->tcp_flags & TR_TCP_SYN) && pkt->payload_len == 0)
			return 0;
		if ((c = conn_new(t, pkt, &side)) == NULL)
			return errno == ENOBUFS ? 0 : -1;
	}
	d = &c->d[side];
	if (d->stream == NULL) {
		/* Not rewritten: the connection is forgotten at its end. */
		if (pkt->tcp_flags & (TR_TCP_FIN | TR_TCP_RST))
			return conn_end(t, c);
		return 0;
	}
	dir_note_start(d, pkt);
	if ((n = stream_push(d->stream, pkt, ch)) == -1)
		return -1;
	for (int i = 0; i < n; i++)
		if (dir_feed(d, &ch[i]) == -1)
			return t->failed || errno != ENOBUFS ? -1 : 0;
	/* A RST, or both ways closed: the connection is over, its memory goes. */
	if ((pkt->tcp_flags & TR_TCP_RST) ||
	    (stream_closed(c->d[0].stream) && stream_closed(c->d[1].stream)))
		return conn_end(t, c);
	return 0;
}

int
anon_tcp_learn_end(struct anon_tcp *t)
{
	int rc = 0;

	for (size_t b = 0; b < CONN_BUCKETS && t->nconns > 0; b++)
		while (t->buckets[b] != NULL)
			if (conn_end(t, t->buckets[b]) == -1)
				rc = -1;
	if (windows_empty(t) == -1)
		rc = -1;
	return t->failed ? -1 : rc;
}

/* ---- pass 2 ------------------------------------------------------------- */

/* The first run of b that ends past off (runs are in stream order and do not overlap). */
static size_t
first_run(const struct block *b, uint64_t off)
{
	size_t lo = 0, hi = b->nruns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->runs[mid].off + b->runs[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Pass 2: the walk of the epoch's chain moves to the block at pos (its head only). */
static int
walk_to(struct anon_tcp *t, struct epoch *e, uint64_t pos)
{
	if (pread_all(t->fd, &e->head, sizeof(e->head), pos) == -1)
		return -1;
	e->at_block = pos;
	e->loaded = false;
	return 0;
}

/* Pass 2: the runs and bytes of the block the walk is at, read into memory (the others' let go past the budget). */
static int
load_block(struct anon_tcp *t, struct epoch_ref ref)
{
	struct epoch *e = epoch_of(t, ref);
	struct block *r = &e->r;
	size_t runs_len = e->head.nruns * sizeof(*r->runs);

	if (e->loaded)
		return 0;
	if (t->window_bytes + runs_len + e->head.nbytes > WINDOW_BUDGET &&
	    windows_empty(t) == -1)
		return -1;
	if (block_reserve(t, r, e->head.nruns, e->head.nbytes) == -1 ||
	    window_add(t, ref) == -1 ||
	    pread_all(t->fd, r->runs, runs_len,
	    e->at_block + sizeof(e->head)) == -1 ||
	    pread_all(t->fd, r->bytes, e->head.nbytes,
	    e->at_block + sizeof(e->head) + runs_len) == -1)
		return -1;
	r->nruns = e->head.nruns;
	r->nbytes = e->head.nbytes;
	e->loaded = true;
	return 0;
}

/* The runs of b in [off, end) written into payload (its first byte at off); false when payload is NULL and one should have been. */
static bool
patch_block(struct anon_tcp *t, const struct block *b, uint64_t off,
    uint64_t end, uint8_t *payload, bool *patched)
{
	for (size_t i = first_run(b, off); i < b->nruns && b->runs[i].off < end;
	    i++) {
		const struct run *r = &b->runs[i];
		uint64_t s = r->off > off ? r->off : off;
		uint64_t f = r->off + r->len < end ? r->off + r->len : end;

		if (payload == NULL) {
			t->st->fragmented_segments++;
			return false;
		}
		memcpy(payload + (s - off), b->bytes + r->at + (s - r->off),
		    f - s);
		*patched = true;
	}
	return true;
}

/* The stream offset of seq, unwrapped near the last one placed (a stream may pass 4 GiB); false before the stream's start. */
static bool
place(struct epoch *e, uint32_t seq, uint64_t *off)
{
	int64_t o;

	if (!e->ref_set) {
		e->ref_seq = e->base;
		e->ref_off = 0;
		e->ref_set = true;
	}
	o = (int64_t)e->ref_off + (int32_t)(seq - e->ref_seq);
	if (o < 0)
		return false;
	if ((uint64_t)o > e->ref_off) {
		e->ref_off = (uint64_t)o;
		e->ref_seq = seq;
	}
	*off = (uint64_t)o;
	return true;
}

int
anon_tcp_patch(struct anon_tcp *t, const struct tr_packet *pkt,
    uint8_t *payload)
{
	struct flow_key k = flow_key_of(pkt);
	struct hist *h;
	struct epoch *e;
	uint64_t off, end;
	bool patched = false;
	long hi;

	t->k++;
	if (pkt->payload_len == 0 || (hi = hist_find(t, &k)) == -1)
		return 0;
	h = &t->hists[hi];
	while (h->cursor + 1 < h->n && h->epochs[h->cursor + 1].first_k <= t->k)
		h->cursor++;
	if (h->epochs[h->cursor].first_k > t->k)
		return 0;
	e = &h->epochs[h->cursor];
	if (!place(e, pkt->tcp_seq, &off) || e->first_block == NO_BLOCK)
		return 0;
	end = off + pkt->payload_len;
	/* Along the chain to the block where off is (back for a retransmission), then over the blocks the segment covers. */
	if (e->at_block == NO_BLOCK && walk_to(t, e, e->first_block) == -1)
		return -1;
	while (off < e->head.first_off && e->head.prev != NO_BLOCK)
		if (walk_to(t, e, e->head.prev) == -1)
			return -1;
	while (e->head.end_off <= off && e->head.next != NO_BLOCK)
		if (walk_to(t, e, e->head.next) == -1)
			return -1;
	while (e->head.first_off < end) {
		if (e->head.end_off > off) {
			if (load_block(t, (struct epoch_ref){ .hist = (uint32_t)hi,
			    .epoch = (uint32_t)h->cursor }) == -1)
				return -1;
			if (!patch_block(t, &e->r, off, end, payload, &patched))
				return 0;
		}
		if (e->head.end_off >= end || e->head.next == NO_BLOCK)
			break;
		if (walk_to(t, e, e->head.next) == -1)
			return -1;
	}
	if (patched)
		t->st->patched_segments++;
	return 0;
}

void
anon_tcp_free(struct anon_tcp *t)
{
	if (t == NULL)
		return;
	(void)anon_tcp_learn_end(t);
	for (size_t i = 0; i < t->nhists; i++) {
		for (size_t j = 0; j < t->hists[i].n; j++) {
			block_free(t, &t->hists[i].epochs[j].w);
			block_free(t, &t->hists[i].epochs[j].r);
		}
		free(t->hists[i].epochs);
	}
	if (t->fd != -1)
		close(t->fd);
	free(t->windows);
	free(t->hists);
	free(t->index);
	free(t->scratch);
	free(t->buckets);
	free(t);
}
