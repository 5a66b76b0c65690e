/* Replay mode: captures -> source -> select -> timeline -> transport, observed by report. */
#ifndef TR_REPLAY_H
#define TR_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "monotime.h"
#include "report.h"
#include "shard.h"

struct replay_opts {
	bool			 no_sync;	/* CLI --no-sync (OR'ed with the config's) */
	bool			 keep_open;	/* CLI --keep-open (OR'ed with the config's) */
	bool			 ask_for_input;	/* ask before each capture */
	/* Rate and duration (issue 15); 0 = no such limit. */
	double			 pps;		/* --pps: packets per second, instead of the capture's timing */
	double			 mbps;		/* --mbps: payload megabits per second, the same */
	uint64_t		 limit;		/* --limit: stop after this many datagrams + messages */
	tr_ns			 duration;	/* --duration: stop this long after the first packet */
	uint64_t		 loops;		/* --loop: plays of the whole list; 0 = until stopped */
	/* Beyond one machine (issue 15). */
	struct shard		 shard;		/* --shard: only this shard's exporters; n 0 = all */
	tr_ns			 start_at;	/* --start-at: CLOCK_REALTIME start of the timeline; 0 = now */
	volatile sig_atomic_t	*stop;		/* set by SIGINT/SIGTERM */
};

/* How a replay ended, to choose main's exit code. */
enum replay_result {
	REPLAY_OK,		/* everything played */
	REPLAY_STOPPED,		/* a signal stopped it early */
	REPLAY_DAMAGED,		/* played, but some capture was damaged (said where) */
	REPLAY_INCOMPLETE,	/* played, but TCP messages could not be delivered (said why) */
	REPLAY_SETUP_FAILED,	/* nothing sent: a capture, address or collector is wrong (said which) */
};

enum replay_result replay_run(const struct config *cfg,
		    const struct replay_opts *opts, struct report *rep);

#endif
