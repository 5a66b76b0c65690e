/* --map-out: the addresses an anonymize run saw and their pseudonyms, for the key holder only. */
#ifndef TR_ANON_MAP_H
#define TR_ANON_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The pairs are kept in memory until the end of the run (the only state of
 * anonymize that grows with the capture: with the number of distinct
 * addresses, capped at ANON_MAP_MAX; past it, pairs are counted, not kept).
 */
#define ANON_MAP_MAX	(1u << 21)

struct anon_map;

struct anon_map *anon_map_new(void);
void	 anon_map_free(struct anon_map *);
/* anon_addr's seen hook (ctx: the map): one pair, len 4, 16 (IPv4, IPv6) or 6 (MAC); -1 (ENOMEM). */
int	 anon_map_add(void *map, const uint8_t *in, const uint8_t *out,
	    size_t len);

/*
 * Write the map as JSON to path, sorted (IPv4, IPv6, then MACs, each by
 * original): written under a temporary name in its folder, renamed into
 * place when whole.  preserve: the anon_preserve ranges kept as they are
 * (named in the file).  0, or -1 with err set.
 */
int	 anon_map_write(const struct anon_map *, const char *path,
	    unsigned preserve, char *err, size_t errlen);

#endif
