/* The socket udp-send talks through: resolved, optionally bound to a
 * source, connected for unicast (so that only the destination's replies
 * are accepted and ICMP port unreachable is reported), unconnected for
 * broadcast and multicast (whose replies come from other addresses).
 * Returns errors as text; never prints or exits. */
#ifndef SOCKCTL_UDP_DEST_H
#define SOCKCTL_UDP_DEST_H

#include <stdbool.h>
#include <sys/un.h>

#include "net/sock.h"

struct udp_dest_opts {
	const char *src_host; /* -s: local address, or with -U the socket path */
	const char *src_port; /* -p */
	const char *iface;    /* multicast interface (name or IPv4 address) */
	int ttl;	      /* 1-255, -1: leave alone */
	bool broadcast;
};

struct udp_dest {
	int fd;
	bool group; /* broadcast or multicast: unconnected */
	struct sock_addr dst;
	char text[SOCK_ADDRSTRLEN];
	/* A socket file this bound (-U -s PATH): the caller removes it. */
	char unlink_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

bool udp_is_multicast(const struct sockaddr *sa);

/* Opens the datagram socket towards ep, trying each resolved address.
 * Returns the fd (also in u->fd), or -1 with a message in err. A Unix
 * sender without -s binds an automatic abstract name so replies reach it. */
int udp_dest_open(const struct sock_endpoint *ep, const struct udp_dest_opts *o, struct udp_dest *u,
		  char *err, size_t errlen);
/* Closes an open destination (fd -1 after) and removes the socket file
 * it bound. Fine on one that is not open. */
void udp_dest_close(struct udp_dest *u);

#endif
