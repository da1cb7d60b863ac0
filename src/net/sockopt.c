#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/sockopt.h"

static bool parse_int(const char *s, size_t n, long min, long max, long *out)
{
	if (n == 0 || n > 10)
		return false;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool sockopt_ifname_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < IF_NAMESIZE && !strpbrk(name, "/ \t\n:");
}

bool sockopt_parse_size(const char *s, int *out)
{
	size_t n = strlen(s);
	long mult = 1;
	if (n > 1) {
		switch (s[n - 1]) {
		case 'k':
		case 'K':
			mult = 1024;
			break;
		case 'm':
		case 'M':
			mult = 1024 * 1024;
			break;
		case 'g':
		case 'G':
			mult = 1024L * 1024 * 1024;
			break;
		}
		if (mult > 1)
			n--;
	}
	long v;
	/* The kernel doubles what it is given; keep that within an int. */
	if (!parse_int(s, n, 1, INT_MAX / 2, &v) || v > INT_MAX / 2 / mult)
		return false;
	*out = (int)(v * mult);
	return true;
}

/* IDLE[,INTERVAL[,COUNT]], each may be empty (system default), but not
 * all of them: "--keepalive=,," or "--keepalive=" is a slip, and plain
 * --keepalive says "system defaults". */
static bool parse_keepalive(const char *s, struct sockopts *o)
{
	long v[3] = {0, 0, 0};
	static const long max[3] = {32767, 32767, 127};
	const char *p = s;
	bool any = false;
	for (int i = 0; i < 3; i++) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n && !parse_int(p, n, 1, max[i], &v[i]))
			return false;
		any |= n > 0;
		if (!c)
			break;
		if (i == 2)
			return false;
		p = c + 1;
	}
	if (!any)
		return false;
	o->ka_idle = (int)v[0];
	o->ka_intvl = (int)v[1];
	o->ka_cnt = (int)v[2];
	return true;
}

static bool parse_tos(const char *s, int *out)
{
	static const struct {
		const char *name;
		int v;
	} names[] = {
	    {"lowdelay", IPTOS_LOWDELAY},
	    {"throughput", IPTOS_THROUGHPUT},
	    {"reliability", IPTOS_RELIABILITY},
	    {"mincost", 0x02},
	    {"ef", 0xb8},
	    {"af11", 0x28},
	    {"af12", 0x30},
	    {"af13", 0x38},
	    {"af21", 0x48},
	    {"af22", 0x50},
	    {"af23", 0x58},
	    {"af31", 0x68},
	    {"af32", 0x70},
	    {"af33", 0x78},
	    {"af41", 0x88},
	    {"af42", 0x90},
	    {"af43", 0x98},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].v;
			return true;
		}
	if (strncmp(s, "cs", 2) == 0 && s[2] >= '0' && s[2] <= '7' && !s[3]) {
		*out = (s[2] - '0') << 5;
		return true;
	}
	long v;
	if (strncmp(s, "0x", 2) == 0 && s[2] && strlen(s) <= 4) {
		char *end;
		v = strtol(s + 2, &end, 16);
		if (*end || s[2] == '-' || s[2] == '+' || s[2] == ' ')
			return false;
	} else if (!parse_int(s, strlen(s), 0, 255, &v)) {
		return false;
	}
	*out = (int)v;
	return true;
}

int sockopt_parse(struct sockopts *o, const char *name, const char *val, char *err, size_t errlen)
{
	long v;
	const char *vv = val ? val : "";
	if (strcmp(name, "nodelay") == 0) {
		o->set |= SOCKOPT_NODELAY;
	} else if (strcmp(name, "reuseport") == 0) {
		o->set |= SOCKOPT_REUSEPORT;
	} else if (strcmp(name, "sndbuf") == 0 || strcmp(name, "rcvbuf") == 0) {
		bool snd = name[0] == 's';
		if (!sockopt_parse_size(vv, snd ? &o->sndbuf : &o->rcvbuf)) {
			snprintf(err, errlen, "bad --%s '%s' (bytes, with K, M or G)", name, vv);
			return -1;
		}
		o->set |= snd ? SOCKOPT_SNDBUF : SOCKOPT_RCVBUF;
	} else if (strcmp(name, "keepalive") == 0) {
		if (val && !parse_keepalive(val, o)) {
			snprintf(err, errlen,
				 "bad --keepalive '%s' (IDLE[,INTERVAL[,COUNT]]: seconds 1-32767, "
				 "count 1-127)",
				 vv);
			return -1;
		}
		o->set |= SOCKOPT_KEEPALIVE;
	} else if (strcmp(name, "tos") == 0) {
		if (!parse_tos(vv, &o->tos)) {
			snprintf(err, errlen,
				 "bad --tos '%s' (0-255, 0xNN, lowdelay, throughput, reliability, "
				 "mincost, ef, csN or afNN)",
				 vv);
			return -1;
		}
		o->set |= SOCKOPT_TOS;
	} else if (strcmp(name, "ttl") == 0) {
		if (!parse_int(vv, strlen(vv), 1, 255, &v)) {
			snprintf(err, errlen, "bad --ttl '%s' (1-255)", vv);
			return -1;
		}
		o->ttl = (int)v;
		o->set |= SOCKOPT_TTL;
	} else if (strcmp(name, "linger") == 0) {
		if (!parse_int(vv, strlen(vv), 0, 65535, &v)) {
			snprintf(err, errlen, "bad --linger '%s' (whole seconds 0-65535)", vv);
			return -1;
		}
		o->linger = (int)v;
		o->set |= SOCKOPT_LINGER;
	} else if (strcmp(name, "bind-dev") == 0) {
		if (!sockopt_ifname_ok(vv)) {
			snprintf(err, errlen, "bad --bind-dev '%s' (an interface name)", vv);
			return -1;
		}
		memcpy(o->bind_dev, vv, strlen(vv) + 1);
		o->set |= SOCKOPT_BINDDEV;
	} else {
		return 1;
	}
	return 0;
}

static int set(int fd, int level, int name, const void *v, socklen_t len, const char *what,
	       char *err, size_t errlen)
{
	if (setsockopt(fd, level, name, v, len) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

static int set_int(int fd, int level, int name, int v, const char *what, char *err, size_t errlen)
{
	return set(fd, level, name, &v, sizeof v, what, err, errlen);
}

int sockopt_apply_early(const struct sockopts *o, int fd, char *err, size_t errlen)
{
	if ((o->set & SOCKOPT_REUSEPORT) &&
	    set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1, "--reuseport", err, errlen) < 0)
		return -1;
	if ((o->set & SOCKOPT_BINDDEV) &&
	    set(fd, SOL_SOCKET, SO_BINDTODEVICE, o->bind_dev, (socklen_t)strlen(o->bind_dev),
		"--bind-dev", err, errlen) < 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (%s)", o->bind_dev);
		return -1;
	}
	if ((o->set & SOCKOPT_SNDBUF) &&
	    set_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf, "--sndbuf", err, errlen) < 0)
		return -1;
	if ((o->set & SOCKOPT_RCVBUF) &&
	    set_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf, "--rcvbuf", err, errlen) < 0)
		return -1;
	return 0;
}

int sockopt_apply(const struct sockopts *o, int fd, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int family = AF_UNSPEC, type = 0;
	socklen_t tl = sizeof type;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		family = ss.ss_family;
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	bool ip = family == AF_INET || family == AF_INET6, tcp = ip && type == SOCK_STREAM;
	if ((o->set & (SOCKOPT_NODELAY | SOCKOPT_KEEPALIVE)) && !tcp) {
		snprintf(err, errlen, "--%s applies to TCP sockets only",
			 (o->set & SOCKOPT_NODELAY) ? "nodelay" : "keepalive");
		return -1;
	}
	if ((o->set & (SOCKOPT_TOS | SOCKOPT_TTL)) && !ip) {
		snprintf(err, errlen, "--%s applies to IP sockets only",
			 (o->set & SOCKOPT_TOS) ? "tos" : "ttl");
		return -1;
	}
	struct sockopts early = *o;
	/* SO_BINDTODEVICE belongs before bind/connect: see sockopt_apply_early. */
	early.set &= ~(unsigned)(SOCKOPT_REUSEPORT | SOCKOPT_BINDDEV);
	if (sockopt_apply_early(&early, fd, err, errlen) < 0)
		return -1;
	if ((o->set & SOCKOPT_NODELAY) &&
	    set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "--nodelay", err, errlen) < 0)
		return -1;
	if (o->set & SOCKOPT_KEEPALIVE) {
		if (set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "--keepalive", err, errlen) < 0 ||
		    (o->ka_idle && set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, o->ka_idle,
					   "--keepalive idle", err, errlen) < 0) ||
		    (o->ka_intvl && set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, o->ka_intvl,
					    "--keepalive interval", err, errlen) < 0) ||
		    (o->ka_cnt && set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, o->ka_cnt,
					  "--keepalive count", err, errlen) < 0))
			return -1;
	}
	if ((o->set & SOCKOPT_TOS) &&
	    (family == AF_INET6
		 ? set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, o->tos, "--tos", err, errlen)
		 : set_int(fd, IPPROTO_IP, IP_TOS, o->tos, "--tos", err, errlen)) < 0)
		return -1;
	if ((o->set & SOCKOPT_TTL) &&
	    (family == AF_INET6
		 ? set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, o->ttl, "--ttl", err, errlen)
		 : set_int(fd, IPPROTO_IP, IP_TTL, o->ttl, "--ttl", err, errlen)) < 0)
		return -1;
	if (o->set & SOCKOPT_LINGER) {
		struct linger lg = {.l_onoff = 1, .l_linger = o->linger};
		if (set(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg, "--linger", err, errlen) < 0)
			return -1;
	}
	return 0;
}
