/* Pre-processing (-p): raw captures into a clean, deterministic capture, its replay config and its JSON summary. */
#ifndef TR_PREPROC_H
#define TR_PREPROC_H

#include <signal.h>
#include <stddef.h>

#include "config.h"

/* The fixed reference time of every output: 2020-01-01T00:00:00Z (Unix seconds); initial_delay is added to it. */
#define PREPROC_REF_SECS	1577836800

/* Results, mapped to exit codes by main.c. */
enum preproc_result {
	PREPROC_OK,		/* the three files were written */
	PREPROC_DAMAGED,	/* written, but an input capture was damaged (what came before counts) */
	PREPROC_NOTHING,	/* no message was kept: an empty traffic.pcap and the summary, no config */
	PREPROC_BAD_INPUT,	/* a capture cannot be opened; the output folder cannot be made or
				   written, is locked by another run, its path is too long, or an
				   output would replace an input */
	PREPROC_FAILED,		/* out of memory, a write failed */
	PREPROC_STOPPED,	/* *stop was set (a signal): the output folder is as it was */
};

/*
 * Read cfg's captures (merged by timestamp), select, clean, filter, retime
 * and re-segment; write traffic.pcap, traffic-reproducer.yml and
 * traffic-info.json into the output folder.  They are written under
 * temporary names and renamed into place together at the end, under a lock
 * on the folder: a run that fails or is stopped (stop set, checked while
 * reading) leaves the folder as it was.  The path of the written config
 * goes into yml_path (for exit: false, which replays it).
 */
enum preproc_result preproc_run(const struct config *cfg, char *yml_path,
		    size_t yml_len, volatile sig_atomic_t *stop);

#endif
