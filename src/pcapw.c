/* Pcap writer on top of libpcap's dump functions, with errors remembered until close. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pcapw.h"

/*
 * A large stdio buffer: the benchmark captures hold millions of small frames
 * and the default (one page) would mean a write(2) every few dozen frames.
 */
#define PCAPW_BUFSIZE	(1u << 20)

struct pcapw {
	pcap_t		*dead;		/* carries link type and precision for the dumper */
	pcap_dumper_t	*dumper;
	FILE		*fp;		/* owned by dumper once it exists */
	char		*buf;		/* fp's buffer; must outlive fclose */
	bool		 nanosec;
	int		 err;		/* first errno of a failed write, 0 if none */
	uint64_t	 count;
};

struct pcapw *
pcapw_open(const char *path, int linktype, bool nanosec, char *err,
    size_t errlen)
{
	struct pcapw *w;
	int saved;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	w->nanosec = nanosec;
	w->dead = pcap_open_dead_with_tstamp_precision(linktype, PCAPW_SNAPLEN,
	    nanosec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
	if (w->dead == NULL) {
		snprintf(err, errlen, "%s: cannot set up link type %d",
		    path, linktype);
		saved = EINVAL;
		goto fail;
	}
	if ((w->fp = fopen(path, "wb")) == NULL) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		goto fail;
	}
	if ((w->buf = malloc(PCAPW_BUFSIZE)) != NULL)
		setvbuf(w->fp, w->buf, _IOFBF, PCAPW_BUFSIZE);
	if ((w->dumper = pcap_dump_fopen(w->dead, w->fp)) == NULL) {
		saved = EIO;
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(w->dead));
		goto fail;
	}
	return w;

fail:
	if (w->fp != NULL)
		fclose(w->fp);
	free(w->buf);
	if (w->dead != NULL)
		pcap_close(w->dead);
	free(w);
	errno = saved;
	return NULL;
}

int
pcapw_write(struct pcapw *w, tr_ns ts, const uint8_t *frame, uint32_t caplen,
    uint32_t len)
{
	struct pcap_pkthdr h;

	if (caplen > len || caplen > PCAPW_SNAPLEN || ts < 0) {
		if (w->err == 0)
			w->err = EINVAL;
		errno = EINVAL;
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(ts / TR_NS_PER_SEC);
	/* In a nanosecond dump libpcap stores tv_usec as nanoseconds. */
	h.ts.tv_usec = (suseconds_t)(w->nanosec ? ts % TR_NS_PER_SEC :
	    ts % TR_NS_PER_SEC / TR_NS_PER_US);
	h.caplen = caplen;
	h.len = len;
	/* pcap_dump() returns nothing; stdio keeps the error for ferror(). */
	errno = 0;
	pcap_dump((u_char *)w->dumper, &h, frame);
	if (ferror(w->fp)) {
		if (w->err == 0)
			w->err = errno != 0 ? errno : EIO;
		errno = w->err;
		return -1;
	}
	w->count++;
	return 0;
}

uint64_t
pcapw_count(const struct pcapw *w)
{
	return w->count;
}

int
pcapw_close(struct pcapw *w)
{
	int err;

	if (w == NULL)
		return 0;
	err = w->err;
	errno = 0;
	if (pcap_dump_flush(w->dumper) == -1 || ferror(w->fp)) {
		if (err == 0)
			err = errno != 0 ? errno : EIO;
	}
	/* Closes fp as well; its buffer may only be freed afterwards. */
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	free(w->buf);
	free(w);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
