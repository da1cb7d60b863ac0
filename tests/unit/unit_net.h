/* For the unit tests that need a real TCP connection on loopback. */
#ifndef SOCKCTL_UNIT_NET_H
#define SOCKCTL_UNIT_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A TCP socket bound on 127.0.0.1 that does not listen: a connect to
 * *a is refused, and no other program can take the port meanwhile (as
 * it could once a listener is closed). Its fd, or -1. */
static inline int loopback_refusing(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	*a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof *a;
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) < 0 ||
	    getsockname(fd, (struct sockaddr *)a, &len) < 0)
		return -1;
	return fd;
}

/* The same socket listening, at the port the kernel picked: its fd,
 * with its address in *a, or -1. */
static inline int loopback_listener(struct sockaddr_in *a, int backlog)
{
	int fd = loopback_refusing(a);
	return fd < 0 || listen(fd, backlog) < 0 ? -1 : fd;
}

#endif
