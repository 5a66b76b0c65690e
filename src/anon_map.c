/* --map-out: the (original, pseudonym) pairs of a run in a hash set, written sorted as JSON under a warning. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anon_addr.h"
#include "anon_map.h"
#include "hash.h"

struct pair {
	uint8_t		len;		/* 0: an empty slot */
	uint8_t		in[16];
	uint8_t		out[16];
};

/* Open addressing; cap is 0 or a power of two, at least twice n. */
struct anon_map {
	struct pair	*slots;
	size_t		 cap, n;
	uint64_t	 not_listed;	/* distinct pairs past ANON_MAP_MAX */
};

static const char warning[] =
    "FOR THE KEY HOLDER ONLY: this file reveals the original address behind "
    "every pseudonym of an anonymized capture. Never share it with the "
    "capture, nor put it where the capture goes.";

struct anon_map *
anon_map_new(void)
{
	return calloc(1, sizeof(struct anon_map));
}

void
anon_map_free(struct anon_map *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static struct pair *
slot_of(struct pair *slots, size_t cap, const uint8_t *in, size_t len)
{
	size_t i = fnv1a(fnv1a(FNV1A_BASIS, &len, sizeof(len)), in, len) &
	    (cap - 1);

	for (;; i = (i + 1) & (cap - 1))
		if (slots[i].len == 0 || (slots[i].len == len &&
		    memcmp(slots[i].in, in, len) == 0))
			return &slots[i];
}

static bool
grow(struct anon_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	struct pair *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return false;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].len != 0)
			*slot_of(slots, cap, m->slots[i].in,
			    m->slots[i].len) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return true;
}

int
anon_map_add(void *map, const uint8_t *in, const uint8_t *out, size_t len)
{
	struct anon_map *m = map;
	struct pair *p;

	if (m->cap != 0 && (p = slot_of(m->slots, m->cap, in, len))->len != 0)
		return 0;	/* seen again after its cache slot was reused */
	if (m->n >= ANON_MAP_MAX) {
		m->not_listed++;
		return 0;
	}
	if (2 * (m->n + 1) > m->cap && !grow(m)) {
		errno = ENOMEM;
		return -1;
	}
	p = slot_of(m->slots, m->cap, in, len);
	p->len = (uint8_t)len;
	memcpy(p->in, in, len);
	memcpy(p->out, out, len);
	m->n++;
	return 0;
}

/* IPv4, IPv6, MACs; each by original. */
static int
pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;
	int rank_a = a->len == 4 ? 0 : a->len == 16 ? 1 : 2;
	int rank_b = b->len == 4 ? 0 : b->len == 16 ? 1 : 2;

	if (rank_a != rank_b)
		return rank_a - rank_b;
	return memcmp(a->in, b->in, a->len);
}

static void
format(const uint8_t *p, size_t len, char *buf, size_t size)
{
	if (len == 6)
		snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", p[0],
		    p[1], p[2], p[3], p[4], p[5]);
	else
		inet_ntop(len == 4 ? AF_INET : AF_INET6, p, buf, (socklen_t)size);
}

/* One JSON object of the pairs of a length, from *i on. */
static void
write_kind(FILE *f, const char *name, const struct pair *pairs, size_t n,
    size_t *i, size_t len, bool last)
{
	char in[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN];
	const char *sep = "\n";

	fprintf(f, "  \"%s\": {", name);
	for (; *i < n && pairs[*i].len == len; (*i)++) {
		format(pairs[*i].in, len, in, sizeof(in));
		format(pairs[*i].out, len, out, sizeof(out));
		fprintf(f, "%s    \"%s\": \"%s\"", sep, in, out);
		sep = ",\n";
	}
	fprintf(f, "%s}%s\n", *sep == ',' ? "\n  " : "", last ? "" : ",");
}

static void
write_json(FILE *f, const struct anon_map *m, const struct pair *pairs,
    size_t n, unsigned preserve)
{
	const char *sep = "";
	size_t i = 0;

	fprintf(f, "{\n  \"warning\": \"%s\",\n", warning);
	fprintf(f, "  \"what\": \"traffic-reproducer anonymize --map-out: "
	    "original address -> pseudonym\",\n  \"preserved\": [");
	for (unsigned bit = 1; bit <= ANON_PRESERVE_ALL; bit <<= 1)
		if (preserve & bit) {
			fprintf(f, "%s\"%s\"", sep, anon_preserve_name(bit));
			sep = ", ";
		}
	fprintf(f, "],\n  \"not_listed\": %llu,\n",
	    (unsigned long long)m->not_listed);
	write_kind(f, "ipv4", pairs, n, &i, 4, false);
	write_kind(f, "ipv6", pairs, n, &i, 16, false);
	write_kind(f, "mac", pairs, n, &i, 6, true);
	fprintf(f, "}\n");
}

/* The pairs, sorted; NULL (ENOMEM) or, with none, a non-NULL empty array. */
static struct pair *
sorted(const struct anon_map *m)
{
	struct pair *pairs = malloc((m->n ? m->n : 1) * sizeof(*pairs));
	size_t k = 0;

	if (pairs == NULL)
		return NULL;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].len != 0)
			pairs[k++] = m->slots[i];
	qsort(pairs, k, sizeof(*pairs), pair_cmp);
	return pairs;
}

int
anon_map_write(const struct anon_map *m, const char *path, unsigned preserve,
    char *err, size_t errlen)
{
	struct pair *pairs = sorted(m);
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, rc = -1;

	if (pairs == NULL || asprintf(&tmp, "%s.XXXXXX", path) == -1) {
		tmp = NULL;
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto done;
	}
	/* mkstemp's 0600 stays: the map is as secret as the key. */
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: cannot create a temporary file in "
		    "its folder: %s", path, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto done;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	write_json(f, m, pairs, m->n, preserve);
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) == -1) {
		snprintf(err, errlen, "%s: cannot write: %s", tmp,
		    strerror(errno));
		goto done;
	}
	if (fclose(f) == EOF) {
		f = NULL;
		snprintf(err, errlen, "%s: cannot write: %s", tmp,
		    strerror(errno));
		goto done;
	}
	f = NULL;
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: cannot put the map in place: %s",
		    path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	if (rc == -1 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(pairs);
	return rc;
}
