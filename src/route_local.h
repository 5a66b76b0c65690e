/* Whether the kernel routes an address to this host (a local route: an interface's address, or Linux AnyIP), by asking rtnetlink. */
#ifndef TR_ROUTE_LOCAL_H
#define TR_ROUTE_LOCAL_H

#include <stdbool.h>

#include "addr.h"

/*
 * Looks the address up in the kernel's routing tables (RTM_GETROUTE, as
 * 'ip route get ADDR' does): *local is whether the route found is of type
 * local, i.e. packets to the address are delivered to this host.  An
 * address with no route at all is not local.  0, or -1 with errno when
 * rtnetlink cannot be asked.
 */
int	route_is_local(const struct tr_addr *, bool *local);

#endif
