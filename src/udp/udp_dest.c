#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "udp/udp_dest.h"

bool udp_is_multicast(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int set_ip_options(int fd, int family, bool mcast, const struct udp_dest_opts *o, char *err,
			  size_t errlen)
{
	int one = 1;
	if (o->broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0) {
		snprintf(err, errlen, "SO_BROADCAST: %s", strerror(errno));
		return -1;
	}
	if (o->ttl >= 0) {
		int v4[2] = {IP_TTL, IP_MULTICAST_TTL},
		    v6[2] = {IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS};
		for (int i = 0; i < 2; i++) {
			int r = family == AF_INET
				    ? setsockopt(fd, IPPROTO_IP, v4[i], &o->ttl, sizeof o->ttl)
				    : setsockopt(fd, IPPROTO_IPV6, v6[i], &o->ttl, sizeof o->ttl);
			if (r < 0) {
				snprintf(err, errlen, "--ttl %d: %s", o->ttl, strerror(errno));
				return -1;
			}
		}
	}
	if (!o->iface)
		return 0;
	struct in_addr ia;
	bool is_addr = family == AF_INET && inet_pton(AF_INET, o->iface, &ia) == 1;
	unsigned idx = is_addr ? 0 : if_nametoindex(o->iface);
	if (!is_addr && idx == 0) {
		snprintf(err, errlen, "interface '%s': %s", o->iface, strerror(errno));
		return -1;
	}
	int r;
	if (mcast && family == AF_INET) {
		struct ip_mreqn mr = {.imr_ifindex = (int)idx};
		if (is_addr)
			mr.imr_address = ia;
		r = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr);
	} else if (mcast) {
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
	} else if (is_addr) {
		snprintf(err, errlen, "--interface takes a name for unicast destinations");
		return -1;
	} else {
		r = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface,
			       (socklen_t)strlen(o->iface));
	}
	if (r < 0) {
		snprintf(err, errlen, "interface '%s': %s", o->iface, strerror(errno));
		return -1;
	}
	return 0;
}

int udp_dest_open(const struct sock_endpoint *ep, const struct udp_dest_opts *o, struct udp_dest *u,
		  char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	u->fd = -1;
	struct addrinfo *res;
	if (sock_resolve(ep, false, &res, err, errlen) < 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		sock_addr_str(ai->ai_addr, ai->ai_addrlen, u->text, sizeof u->text);
		memcpy(&u->dst.ss, ai->ai_addr, ai->ai_addrlen);
		u->dst.len = ai->ai_addrlen;
		fd = sock_socket(ai->ai_family, SOCK_DGRAM, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			continue;
		}
		bool mcast = udp_is_multicast(ai->ai_addr);
		u->group = mcast || o->broadcast;
		if (ai->ai_family == AF_UNIX) {
			struct sock_addr me = {.len = sizeof(sa_family_t)};
			me.ss.ss_family = AF_UNIX; /* autobind: an abstract name of its own */
			if (o->src_host && !sock_unix_addr(o->src_host, &me)) {
				snprintf(err, errlen, "source path '%s' is empty or too long",
					 o->src_host);
				close(fd);
				fd = -1;
				break;
			}
			if (bind(fd, (struct sockaddr *)&me.ss, me.len) < 0) {
				snprintf(err, errlen, "bind %s: %s",
					 o->src_host ? o->src_host : "(autobind)", strerror(errno));
				close(fd);
				fd = -1;
				break;
			}
			if (o->src_host && o->src_host[0] != '@')
				snprintf(u->unlink_path, sizeof u->unlink_path, "%s", o->src_host);
		} else {
			if (set_ip_options(fd, ai->ai_family, mcast, o, err, errlen) < 0 ||
			    ((o->src_host || o->src_port) &&
			     sock_bind_source(fd, ai->ai_family, SOCK_DGRAM, o->src_host,
					      o->src_port, err, errlen) < 0)) {
				close(fd);
				fd = -1;
				break; /* the same on every address: say it once */
			}
		}
		if (u->group || connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(err, errlen, "connect %s: %s", u->text, strerror(errno));
		close(fd);
		fd = -1;
	}
	sock_freeaddrinfo(res);
	u->fd = fd;
	return fd;
}

void udp_dest_close(struct udp_dest *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (u->unlink_path[0])
		unlink(u->unlink_path);
	u->unlink_path[0] = '\0';
}
