/* Pcap writer: classic pcap files (microsecond or nanosecond timestamps) for tests, tools and pre-processing. */
#ifndef TR_PCAPW_H
#define TR_PCAPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monotime.h"

/* Largest frame accepted; also the snaplen written into the file header. */
#define PCAPW_SNAPLEN	262144u

struct pcapw;

/*
 * Create (truncate) path and write the file header.  linktype is a DLT_*
 * value as libpcap's pcap_datalink() returns it (DLT_EN10MB, DLT_RAW, ...);
 * libpcap turns it into the on-disk LINKTYPE_* value.  nanosec chooses the
 * nanosecond magic (0xa1b23c4d) over the microsecond one.  On failure
 * returns NULL with errno set and a message naming the file in err.
 */
struct pcapw	*pcapw_open(const char *path, int linktype, bool nanosec,
		    char *err, size_t errlen);

/*
 * Append one frame captured at ts (ns since the Unix epoch; truncated to
 * microseconds in a microsecond file).  caplen bytes of frame are stored,
 * len is the original length on the wire.  Returns 0, or -1 with errno set
 * (EINVAL for caplen > len, caplen > PCAPW_SNAPLEN or ts < 0; an I/O error).
 * A failure is also remembered so that pcapw_close() reports it.
 */
int		 pcapw_write(struct pcapw *, tr_ns ts, const uint8_t *frame,
		    uint32_t caplen, uint32_t len);

/* Frames written so far. */
uint64_t	 pcapw_count(const struct pcapw *);

/*
 * Flush and close; frees w.  Returns -1 (errno set) if this or any earlier
 * write failed, so a caller may ignore pcapw_write() results and check once.
 */
int		 pcapw_close(struct pcapw *w);

#endif
