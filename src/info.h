/* Info mode: a JSON summary of what captures hold, per exporter (flows, BMP, BGP), and what was dropped and why. */
#ifndef TR_INFO_H
#define TR_INFO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "packet.h"

struct info;

/*
 * A summary under construction.  With a config, only what its sections
 * select counts (and exporters are named with their network.map entries);
 * without one (cfg NULL), every UDP/TCP packet is classified by content:
 * NetFlow/IPFIX by header sanity, BMP by its common header, BGP by its
 * marker, anything else as generic.  Memory is bounded by the number of
 * exporters, templates, sessions and BMP peers, never by the capture size.
 * NULL with errno ENOMEM.
 */
struct info	*info_new(const struct config *cfg);
void		 info_free(struct info *);

/*
 * Read one capture file to its end.  0; 1 when the file is damaged (what
 * came before the damage counts, and the JSON's "errors" says where); -1
 * with a message in err and errno EINVAL when it cannot be opened, ENOMEM
 * when memory ran out.
 */
int		 info_add_capture(struct info *, const char *path, char *err,
		    size_t errlen);

/*
 * The stages below info_add_capture, for tests and the fuzz harness: one
 * decoded packet of the capture file `file_index` (as numbered by
 * info_begin_capture), and the end of that file.  info_packet returns 0,
 * or -1 when out of memory.
 */
void		 info_begin_capture(struct info *, const char *path);
int		 info_packet(struct info *, const struct tr_packet *pkt);
void		 info_end_capture(struct info *);

/* The summary (stable key order); the caller owns it.  NULL when out of memory. */
json_t		*info_json(struct info *);

#endif
