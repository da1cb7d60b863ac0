/* Socket layer: endpoints, resolution, listeners, connects, accepts and
 * address text. Returns errors as text in err[] and never prints or exits.
 * Every socket it creates is non-blocking and close-on-exec. */
#ifndef SOCKCTL_SOCK_H
#define SOCKCTL_SOCK_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SOCK_ERRLEN 256
/* "[ffff:...:ffff%interface]:65535" or a Unix path (up to 108 bytes),
 * with room for escaping. */
#define SOCK_ADDRSTRLEN 512

struct sock_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Where to listen or connect. */
struct sock_endpoint {
	const char *host;      /* NULL: loopback for listeners */
	const char *port;      /* number or service name; NULL for Unix */
	const char *unix_path; /* -U: path, or "@name" for the abstract namespace */
	int family;	       /* AF_UNSPEC, AF_INET, AF_INET6 */
	int socktype;	       /* SOCK_STREAM or SOCK_DGRAM */
	bool numeric;	       /* no DNS lookups (-n) */
};

/* Parses a port: decimal 0..65535 or a service name from /etc/services
 * for the socket type. Returns false with a message otherwise. Port 0 is
 * accepted only when allow_zero. */
bool sock_parse_port(const char *s, int socktype, bool allow_zero, uint16_t *out, char *err,
		     size_t errlen);

/* Resolves an endpoint into a getaddrinfo list (free with freeaddrinfo);
 * for Unix endpoints a one-element list made here (free with
 * sock_freeaddrinfo, which handles both). passive: for bind(). */
int sock_resolve(const struct sock_endpoint *ep, bool passive, struct addrinfo **res, char *err,
		 size_t errlen);
void sock_freeaddrinfo(struct addrinfo *res);

/* Fills a Unix address; "@name" is abstract. Returns false if too long. */
bool sock_unix_addr(const char *path, struct sock_addr *out);

/* Creates a socket for an addrinfo entry: non-blocking, close-on-exec. */
int sock_socket(int family, int socktype, int protocol);
void sock_set_nonblock(int fd, bool on);

/* Binds and (for streams) listens; SO_REUSEADDR on. For Unix paths a
 * stale socket file nobody listens on is replaced. Returns the fd or -1.
 * Addresses: "::" is one dual-stack socket (IPV6_V6ONLY off) that takes
 * IPv4 peers too; "*" and "" are the same socket, or 0.0.0.0 on a kernel
 * without IPv6; "0.0.0.0" is IPv4 only; with family AF_INET6 (-6) an IPv6
 * socket is IPv6 only. */
struct sock_listen_opts {
	int backlog;
	bool reuseport;
	/* Called on the new socket before bind() (socket options); a failure
	 * fails the listen with its text. May be NULL. */
	int (*prepare)(int fd, void *arg, char *err, size_t errlen);
	void *prepare_arg;
};
int sock_listen(const struct sock_endpoint *ep, const struct sock_listen_opts *o,
		struct sock_addr *bound, char *err, size_t errlen);
/* Another listening socket on an address already bound (a --workers
 * process's own, beside the first: port 0 resolved), with ep's other
 * settings. */
int sock_listen_again(const struct sock_addr *bound, const struct sock_endpoint *ep,
		      const struct sock_listen_opts *o, char *err, size_t errlen);

/* Binds a socket to a local address/port before connect (-s/-p). */
int sock_bind_source(int fd, int family, int socktype, const char *host, const char *port,
		     char *err, size_t errlen);

/* Starts a non-blocking connect. Returns 0 when connected at once, 1 when
 * in progress (wait for writable, then sock_connect_result), -1 on error. */
int sock_connect_start(int fd, const struct sockaddr *sa, socklen_t len);
/* The outcome of a connect in progress: 0 or an errno value. */
int sock_connect_result(int fd);

/* accept4 with non-blocking and close-on-exec; -1 with errno. */
int sock_accept(int lfd, struct sock_addr *peer);

/* "127.0.0.1:80", "[::1]:80", "/path", "@abstract", "(unnamed)". An
 * IPv4-mapped IPv6 address (an IPv4 peer of a dual-stack listener) is
 * shown as IPv4: "127.0.0.1:80", and so are its parts below. */
const char *sock_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);
/* The host part and the port alone (for environment variables). */
void sock_addr_parts(const struct sockaddr *sa, socklen_t len, char *host, size_t hostlen,
		     char *port, size_t portlen);
int sock_local_addr(int fd, struct sock_addr *out);
int sock_peer_addr(int fd, struct sock_addr *out);
/* The port of an AF_INET or AF_INET6 address, host order (0 for others),
 * and setting it (ignored for others). */
uint16_t sock_addr_port(const struct sock_addr *a);
void sock_addr_set_port(struct sock_addr *a, uint16_t port);

/* "tcp", "udp", "unix", "unixgram". */
const char *sock_proto_name(int family, int socktype);

#endif
