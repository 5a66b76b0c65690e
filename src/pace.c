/* Rate pacing: deadlines from a token bucket in virtual time, shared by every exporter of the run. */
#include "pace.h"

void
pace_init(struct pace *p, double pps, double mbps)
{
	*p = (struct pace){
		.ns_per_packet = pps > 0 ? 1e9 / pps : 0,
		.ns_per_byte = mbps > 0 ? 8e9 / (mbps * 1e6) : 0,
	};
}

bool
pace_enabled(const struct pace *p)
{
	return p->ns_per_packet > 0 || p->ns_per_byte > 0;
}

tr_ns
pace_deadline(struct pace *p, size_t bytes, tr_ns now)
{
	double cost = (double)bytes * p->ns_per_byte, elapsed, due;

	if (!p->started) {
		p->start = now;
		p->next = 0;
		p->started = true;
	}
	if (cost < p->ns_per_packet)
		cost = p->ns_per_packet;
	/* A sender further behind than a burst forgets the rest of its debt. */
	elapsed = (double)(now - p->start);
	if (p->next < elapsed - (double)PACE_BURST)
		p->next = elapsed - (double)PACE_BURST;
	due = p->next;
	p->next += cost;
	/* Every packet due within a tick goes at the tick's start, in one batch. */
	return p->start + (tr_ns)due / PACE_TICK * PACE_TICK;
}
