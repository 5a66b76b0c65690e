/* libFuzzer harness: NetFlow/IPFIX headers, sets and templates; BMP and BGP framing; BGP OPEN. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bgp.h"
#include "bmp.h"
#include "netflow.h"

static void
walk_ipfix(const uint8_t *data, size_t size)
{
	struct nf_header h;
	struct nf_set_iter it;
	struct nf_set set;
	uint16_t ids[8];

	if (nf_parse_header(data, size, &h) == -1)
		return;
	(void)nf_set_ids(data, size, ids, 8);
	if (nf_sets_begin(data, size, &it) == -1)
		return;
	while (nf_set_next(&it, &set) == 1) {
		const uint8_t *p = set.body;
		size_t left = set.body_len;
		struct nf_template t;

		if (!nf_is_template_set(h.version, set.id))
			continue;
		while (left >= 4 && nf_template_parse(h.version, set.id, p,
		    left, &t) == 0 && t.consumed > 0 && t.consumed <= left) {
			p += t.consumed;
			left -= t.consumed;
		}
	}
}

/*
 * A well-formed OPEN trimmed against itself and against a peer with no
 * capability stays a well-formed OPEN, never longer than it was.
 */
static void
trim_open(const uint8_t *data, size_t size, const struct bgp_open *self)
{
	static const struct bgp_open bare;
	const struct bgp_open *peers[] = { self, &bare };
	static uint8_t out[BGP_MAX_MSG_LEN];
	size_t mlen = (size_t)(data[16] << 8 | data[17]);
	struct bgp_open back;
	char removed[256];

	(void)size;
	for (size_t i = 0; i < 2; i++) {
		int n = bgp_open_trim(data, size, peers[i], out, sizeof(out),
		    removed, sizeof(removed));

		if (n < 0 || (size_t)n > mlen ||
		    bgp_open_parse(out, (size_t)n, &back) == -1)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_open o;
	uint8_t type;
	size_t blen, glen;

	walk_ipfix(data, size);
	(void)bmp_frame(data, size, &type, &blen);
	(void)bgp_frame(data, size, &type, &glen);
	if (bgp_open_parse(data, size, &o) == 0)
		trim_open(data, size, &o);
	return 0;
}
