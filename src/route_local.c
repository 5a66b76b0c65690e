/*
 * One rtnetlink route lookup.  TCP from a spoofed repro_ip works only when
 * the collector's replies are delivered here: for IPv4 a bind without
 * freebind would tell, but IPv6 binds only to addresses of interfaces,
 * while an AnyIP route ('ip -6 route add local PREFIX dev lo') delivers
 * a whole prefix; the routing table answers for both families.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "route_local.h"

int
route_is_local(const struct tr_addr *a, bool *local)
{
	size_t alen = a->family == AF_INET ? 4 : 16;
	struct {
		struct nlmsghdr	nh;
		struct rtmsg	rt;
		char		attrs[RTA_SPACE(16)];
	} req;
	union {
		char		buf[4096];
		struct nlmsghdr	align;
	} reply;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };	/* the kernel answers at once */
	struct rtattr *rta;
	struct nlmsghdr *nh;
	ssize_t n;
	int fd, saved;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)) +
	    (unsigned)RTA_SPACE(alen);
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = (unsigned char)a->family;
	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	rta = (struct rtattr *)req.attrs;
	rta->rta_type = RTA_DST;
	rta->rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(RTA_DATA(rta), &a->v4, alen);

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) == -1)
		goto fail;
	do
		n = recv(fd, reply.buf, sizeof(reply.buf), 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		goto fail;
	close(fd);
	nh = &reply.align;
	if (!NLMSG_OK(nh, (unsigned)n)) {
		errno = EPROTO;
		return -1;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
			errno = EPROTO;
			return -1;
		}
		/* No route to it at all (ENETUNREACH, EHOSTUNREACH): not delivered here. */
		*local = false;
		return 0;
	}
	if (nh->nlmsg_type != RTM_NEWROUTE ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg))) {
		errno = EPROTO;
		return -1;
	}
	*local = ((const struct rtmsg *)NLMSG_DATA(nh))->rtm_type == RTN_LOCAL;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
