/* generate's run: every stream's messages on one timeline, as UDP frames into a pcap; the spec's oracle as JSON; the replay config for the capture. */
#ifndef TR_GEN_RUN_H
#define TR_GEN_RUN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "gen_spec.h"
#include "pcapw.h"

struct gen_totals {
	uint64_t	frames;
	uint64_t	bytes;		/* of the UDP payloads */
};

/*
 * Write the spec's traffic into pw (an Ethernet pcap).  stop, when set
 * (a signal), ends the run early with -1 and errno EINTR.  0, or -1 with
 * a message in err.
 */
int	gen_run(const struct gen_spec *, struct pcapw *pw,
	    volatile sig_atomic_t *stop, struct gen_totals *, char *err,
	    size_t errlen);
/* The oracle (--expect): what the spec asks for, per section, exporter and in total, as JSON. */
int	gen_expect_json(const struct gen_spec *, FILE *out);
/* The replay config for the capture at pcap_path: the exporters mapped to their repro addresses, the spec's collector. */
int	gen_write_replay_config(const struct gen_spec *, const char *spec_path,
	    const char *pcap_path, FILE *out);

#endif
