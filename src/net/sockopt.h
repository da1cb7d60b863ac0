/* Socket options from the command line: --nodelay --sndbuf --rcvbuf
 * --keepalive[=IDLE,INTERVAL,COUNT] --reuseport --tos --ttl --linger
 * --bind-dev. Parsing is pure; applying returns errors as text. */
#ifndef SOCKCTL_SOCKOPT_H
#define SOCKCTL_SOCKOPT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

enum {
	SOCKOPT_NODELAY = 1 << 0,
	SOCKOPT_SNDBUF = 1 << 1,
	SOCKOPT_RCVBUF = 1 << 2,
	SOCKOPT_KEEPALIVE = 1 << 3,
	SOCKOPT_REUSEPORT = 1 << 4,
	SOCKOPT_TOS = 1 << 5,
	SOCKOPT_TTL = 1 << 6,
	SOCKOPT_LINGER = 1 << 7,
	SOCKOPT_BINDDEV = 1 << 8,
};

struct sockopts {
	unsigned set; /* SOCKOPT_* given */
	int sndbuf, rcvbuf;
	int ka_idle, ka_intvl, ka_cnt; /* 0 = the system's default */
	int tos, ttl, linger;
	char bind_dev[IF_NAMESIZE];
};

/* Parses option NAME ("nodelay", "sndbuf", ..., as spelt without "--")
 * with its value (NULL when none was given). Returns 0, or -1 with err;
 * 1 if NAME is not a socket option. */
int sockopt_parse(struct sockopts *o, const char *name, const char *val, char *err, size_t errlen);
/* An interface name as SO_BINDTODEVICE takes it: 1 to IF_NAMESIZE - 1
 * bytes, no '/', ':' or blanks. */
bool sockopt_ifname_ok(const char *name);
/* Sizes: a decimal count of bytes with an optional K, M or G (x1024). */
bool sockopt_parse_size(const char *s, int *out);

/* Before bind(): SO_REUSEPORT, SO_BINDTODEVICE and the buffer sizes (so
 * the window scale is chosen from them). */
int sockopt_apply_early(const struct sockopts *o, int fd, char *err, size_t errlen);
/* On a connected or accepted socket: all but SO_REUSEPORT and
 * SO_BINDTODEVICE. IP-level
 * options use the IPv6 forms on IPv6 sockets. */
int sockopt_apply(const struct sockopts *o, int fd, char *err, size_t errlen);

#endif
