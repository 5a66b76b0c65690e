/* libFuzzer harness: NetFlow/IPFIX headers, sets and templates; BMP and BGP framing; BGP OPEN. */
#include <stddef.h>
#include <stdint.h>

#include "bgp.h"
#include "bmp.h"
#include "ipfix.h"

static void
walk_ipfix(const uint8_t *data, size_t size)
{
	struct nf_header h;
	struct nf_set_iter it;
	struct nf_set set;
	uint16_t ids[8];

	(void)ipfix_version(data, size);
	if (ipfix_parse_header(data, size, &h) == -1)
		return;
	(void)ipfix_set_ids(data, size, ids, 8);
	if (ipfix_sets_begin(data, size, &it) == -1)
		return;
	while (ipfix_set_next(&it, &set) == 1) {
		const uint8_t *p = set.body;
		size_t left = set.body_len;
		struct nf_template t;

		if (!ipfix_is_template_set(h.version, set.id))
			continue;
		while (left >= 4 && ipfix_template_parse(h.version, set.id, p,
		    left, &t) == 0 && t.consumed > 0 && t.consumed <= left) {
			p += t.consumed;
			left -= t.consumed;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_open o;
	uint8_t type;
	uint32_t blen;
	uint16_t glen;

	walk_ipfix(data, size);
	(void)bmp_frame(data, size, &type, &blen);
	(void)bgp_frame(data, size, &type, &glen);
	(void)bgp_open_parse(data, size, &o);
	return 0;
}
