/* Fault injection for tests (-DTR_FAULT=ON): the transport's sockets see EAGAIN, short I/O, EINTR and resets. */
#ifndef TR_FAULT_H
#define TR_FAULT_H

#ifdef TR_FAULT
#include <stdint.h>

/*
 * Calls on a watched descriptor (the transport's sockets, so a sink or a
 * file in the same process is left alone) fail or fall short on a seeded
 * schedule, when the environment asks for it:
 *   TR_FAULT_SEED   the schedule's seed; no faults without it
 *   TR_FAULT_RATE   percent of calls that get a fault (default 25)
 *   TR_FAULT_RESET  percent of faults that are ECONNRESET (default 0: a
 *                   reset loses bytes, which byte-exact tests cannot allow)
 *   TR_FAULT_LOG    a file to which each process adds how many it injected
 * The build wraps send, sendmsg, sendmmsg, write, writev, recv, read and
 * connect with the linker's --wrap (CMakeLists.txt), and close, which
 * ends the watch.
 */
void		fault_watch(int fd);
/* Faults injected so far, for tests that check the schedule really ran. */
uint64_t	fault_count(void);
#else
static inline void
fault_watch(int fd)
{
	(void)fd;
}
#endif

#endif
