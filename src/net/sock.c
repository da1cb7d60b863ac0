#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/sock.h"

bool sock_parse_port(const char *s, int socktype, bool allow_zero, uint16_t *out, char *err,
		     size_t errlen)
{
	if (!s || !*s) {
		snprintf(err, errlen, "empty port");
		return false;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		unsigned long v = 0;
		const char *p = s;
		for (; *p >= '0' && *p <= '9' && v <= 65535; p++)
			v = v * 10 + (unsigned long)(*p - '0');
		if (*p == '\0' && v <= 65535 && (v > 0 || allow_zero)) {
			*out = (uint16_t)v;
			return true;
		}
		snprintf(err, errlen, "invalid port '%s' (use 1-65535%s or a service name)", s,
			 allow_zero ? ", 0 for any free port," : "");
		return false;
	}
	const char *proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
	struct servent *se = getservbyname(s, proto);
	if (!se) {
		snprintf(err, errlen, "invalid port '%s': not a number nor a known %s service", s,
			 proto);
		return false;
	}
	*out = ntohs((uint16_t)se->s_port);
	return true;
}

bool sock_unix_addr(const char *path, struct sock_addr *out)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
	memset(out, 0, sizeof *out);
	un->sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (path[0] == '@') {
		/* Abstract namespace: a leading NUL, the name, no terminator. */
		if (n > sizeof un->sun_path)
			return false;
		memcpy(un->sun_path + 1, path + 1, n - 1);
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return true;
	}
	if (n == 0 || n >= sizeof un->sun_path)
		return false;
	memcpy(un->sun_path, path, n + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return true;
}

/* "*" and "" mean every address. */
static bool is_wildcard(const char *host)
{
	return host && (*host == '\0' || strcmp(host, "*") == 0);
}

int sock_resolve(const struct sock_endpoint *ep, bool passive, struct addrinfo **res, char *err,
		 size_t errlen)
{
	if (ep->unix_path) {
		struct addrinfo *ai = calloc(1, sizeof *ai + sizeof(struct sock_addr));
		if (!ai) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		struct sock_addr *sa = (struct sock_addr *)(ai + 1);
		if (!sock_unix_addr(ep->unix_path, sa)) {
			free(ai);
			snprintf(err, errlen, "Unix socket path '%s' is empty or too long",
				 ep->unix_path);
			return -1;
		}
		ai->ai_family = AF_UNIX;
		ai->ai_socktype = ep->socktype;
		ai->ai_addr = (struct sockaddr *)&sa->ss;
		ai->ai_addrlen = sa->len;
		/* Marks a list made here rather than by getaddrinfo. */
		ai->ai_flags = -1;
		*res = ai;
		return 0;
	}
	uint16_t port;
	if (!sock_parse_port(ep->port, ep->socktype, passive, &port, err, errlen))
		return -1;
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	struct addrinfo hints = {0};
	hints.ai_family = ep->family;
	hints.ai_socktype = ep->socktype;
	hints.ai_flags = AI_NUMERICSERV | (ep->numeric ? AI_NUMERICHOST : 0);
	const char *host = ep->host;
	if (!host) {
		/* Listeners bind loopback unless told otherwise. */
		host = ep->family == AF_INET6 ? "::1" : "127.0.0.1";
	} else if (is_wildcard(host)) {
		host = NULL;
		hints.ai_flags |= AI_PASSIVE;
	}
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	else if (!ep->numeric)
		hints.ai_flags |= AI_ADDRCONFIG;
	int r = getaddrinfo(host, portstr, &hints, res);
	if (r == EAI_ADDRFAMILY || (r == EAI_NONAME && (hints.ai_flags & AI_ADDRCONFIG))) {
		hints.ai_flags &= ~AI_ADDRCONFIG;
		r = getaddrinfo(host, portstr, &hints, res);
	}
	if (r != 0) {
		const char *why = r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r);
		if (r == EAI_NONAME && ep->numeric)
			why = "not a numeric address (-n given)";
		snprintf(err, errlen, "%s: %s", ep->host ? ep->host : "(loopback)", why);
		return -1;
	}
	return 0;
}

void sock_freeaddrinfo(struct addrinfo *res)
{
	if (!res)
		return;
	if (res->ai_flags == -1)
		free(res);
	else
		freeaddrinfo(res);
}

void sock_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return;
	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int sock_socket(int family, int socktype, int protocol)
{
	return socket(family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
}

/* A Unix socket file left behind by a dead server: replace it only if it
 * is a socket and nothing answers on it. */
static void unlink_stale_unix(const struct sock_addr *sa, int socktype)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&sa->ss;
	if (un->sun_path[0] == '\0')
		return;
	struct stat st;
	if (stat(un->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	int fd = socket(AF_UNIX, socktype | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (const struct sockaddr *)&sa->ss, sa->len) < 0 && errno == ECONNREFUSED)
		unlink(un->sun_path);
	close(fd);
}

/* Reorders a getaddrinfo list: its IPv6 entries first. */
static struct addrinfo *ipv6_first(struct addrinfo *res)
{
	struct addrinfo *v6 = NULL, **v6end = &v6, *other = NULL, **otherend = &other;
	for (struct addrinfo *ai = res, *next; ai; ai = next) {
		next = ai->ai_next;
		ai->ai_next = NULL;
		if (ai->ai_family == AF_INET6) {
			*v6end = ai;
			v6end = &ai->ai_next;
		} else {
			*otherend = ai;
			otherend = &ai->ai_next;
		}
	}
	*v6end = other;
	return v6;
}

/* The errors of a kernel without IPv6 (built without it, ipv6.disable=1). */
static bool ipv6_missing(int e)
{
	return e == EAFNOSUPPORT || e == EPROTONOSUPPORT || e == EADDRNOTAVAIL;
}

int sock_listen(const struct sock_endpoint *ep, const struct sock_listen_opts *o,
		struct sock_addr *bound, char *err, size_t errlen)
{
	struct addrinfo *res;
	if (sock_resolve(ep, true, &res, err, errlen) < 0)
		return -1;
	/* A wildcard listens on both families with one socket: the IPv6 one
	 * (below, IPV6_V6ONLY off) also takes IPv4 peers, as ::ffff:a.b.c.d.
	 * getaddrinfo lists 0.0.0.0 first; that socket is the fallback for
	 * a kernel without IPv6, not for any other failure (a port taken on
	 * IPv6 must not quietly become an IPv4-only listener). */
	bool wild = is_wildcard(ep->host) && ep->family == AF_UNSPEC;
	if (wild)
		res = ipv6_first(res);
	int fd = -1, saved = 0;
	char where[SOCK_ADDRSTRLEN];
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (fd < 0 && saved && wild && !ipv6_missing(saved))
			break;
		sock_addr_str(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
		fd = sock_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		if (ai->ai_family != AF_UNIX) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			if (o && o->reuseport &&
			    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
				saved = errno;
				close(fd);
				fd = -1;
				continue;
			}
			/* "::" (and "*") take IPv4 peers too, whatever the
			 * system default (net.ipv6.bindv6only); -6 asks for
			 * IPv6 alone. */
			int v6only = ep->family == AF_INET6;
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
		} else {
			struct sock_addr sa;
			memcpy(&sa.ss, ai->ai_addr, ai->ai_addrlen);
			sa.len = ai->ai_addrlen;
			unlink_stale_unix(&sa, ai->ai_socktype);
		}
		if (o && o->prepare && o->prepare(fd, o->prepare_arg, err, errlen) < 0) {
			close(fd);
			sock_freeaddrinfo(res);
			return -1;
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    (ai->ai_socktype == SOCK_STREAM &&
		     listen(fd, o && o->backlog > 0 ? o->backlog : SOMAXCONN) < 0)) {
			saved = errno;
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	sock_freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "listen %s: %s", where, strerror(saved));
		return -1;
	}
	if (bound && sock_local_addr(fd, bound) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int sock_listen_again(const struct sock_addr *bound, const struct sock_endpoint *ep,
		      const struct sock_listen_opts *o, char *err, size_t errlen)
{
	char host[SOCK_ADDRSTRLEN], port[16];
	sock_addr_parts((const struct sockaddr *)&bound->ss, bound->len, host, sizeof host, port,
			sizeof port);
	struct sock_endpoint again = *ep;
	again.host = host;
	again.port = port;
	again.numeric = true;
	return sock_listen(&again, o, NULL, err, errlen);
}

int sock_bind_source(int fd, int family, int socktype, const char *host, const char *port,
		     char *err, size_t errlen)
{
	struct sock_endpoint ep = {.host = host ? host : "",
				   .port = port ? port : "0",
				   .family = family,
				   .socktype = socktype,
				   .numeric = false};
	struct addrinfo *res;
	if (sock_resolve(&ep, true, &res, err, errlen) < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int r = bind(fd, res->ai_addr, res->ai_addrlen);
	if (r < 0) {
		char a[SOCK_ADDRSTRLEN];
		snprintf(err, errlen, "bind source %s: %s",
			 sock_addr_str(res->ai_addr, res->ai_addrlen, a, sizeof a),
			 strerror(errno));
	}
	sock_freeaddrinfo(res);
	return r;
}

int sock_connect_start(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno == EINPROGRESS || errno == EINTR)
		return 1;
	/* A Unix socket whose backlog is full says EAGAIN: like a refusal. */
	return -1;
}

int sock_connect_result(int fd)
{
	int e = 0;
	socklen_t l = sizeof e;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		return errno;
	return e;
}

int sock_accept(int lfd, struct sock_addr *peer)
{
	struct sock_addr tmp;
	if (!peer)
		peer = &tmp;
	peer->len = sizeof peer->ss;
	return accept4(lfd, (struct sockaddr *)&peer->ss, &peer->len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int sock_local_addr(int fd, struct sock_addr *out)
{
	out->len = sizeof out->ss;
	return getsockname(fd, (struct sockaddr *)&out->ss, &out->len);
}

int sock_peer_addr(int fd, struct sock_addr *out)
{
	out->len = sizeof out->ss;
	return getpeername(fd, (struct sockaddr *)&out->ss, &out->len);
}

uint16_t sock_addr_port(const struct sock_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void sock_addr_set_port(struct sock_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

/* Unix paths may hold any byte: show them escaped so a hostile name
 * cannot drive the terminal. */
static void escape_path(const char *p, size_t n, char *buf, size_t buflen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < buflen; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
	}
	buf[o] = '\0';
}

/* An IPv4 peer of a dual-stack socket, ::ffff:a.b.c.d. */
static bool v4mapped(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

void sock_addr_parts(const struct sockaddr *sa, socklen_t len, char *host, size_t hostlen,
		     char *port, size_t portlen)
{
	host[0] = port[0] = '\0';
	if (v4mapped(sa)) {
		/* Shown, logged and exported as the IPv4 address it is, like
		 * a peer of an IPv4 socket; --allow/--deny match it so too. */
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, host, (socklen_t)hostlen);
		snprintf(port, portlen, "%u", ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)hostlen);
		snprintf(port, portlen, "%u", ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		char tmp[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &in6->sin6_addr, tmp, sizeof tmp);
		if (in6->sin6_scope_id)
			snprintf(host, hostlen, "%s%%%u", tmp, in6->sin6_scope_id);
		else
			snprintf(host, hostlen, "%s", tmp);
		snprintf(port, portlen, "%u", ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		if (len <= off) {
			snprintf(host, hostlen, "(unnamed)");
		} else if (un->sun_path[0] == '\0') {
			char esc[SOCK_ADDRSTRLEN];
			escape_path(un->sun_path + 1, len - off - 1, esc, sizeof esc);
			snprintf(host, hostlen, "@%s", esc);
		} else {
			escape_path(un->sun_path, strnlen(un->sun_path, len - off), host, hostlen);
		}
	} else {
		snprintf(host, hostlen, "(family %d)", sa->sa_family);
	}
}

const char *sock_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char host[SOCK_ADDRSTRLEN], port[8];
	sock_addr_parts(sa, len, host, sizeof host, port, sizeof port);
	if (sa->sa_family == AF_INET || v4mapped(sa))
		snprintf(buf, buflen, "%s:%s", host, port);
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, buflen, "[%s]:%s", host, port);
	else
		snprintf(buf, buflen, "%s", host);
	return buf;
}

const char *sock_proto_name(int family, int socktype)
{
	if (family == AF_UNIX)
		return socktype == SOCK_DGRAM ? "unixgram" : "unix";
	return socktype == SOCK_DGRAM ? "udp" : "tcp";
}
