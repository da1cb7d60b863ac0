/* Inherited sockets: --fd values, what kind of fd is accepted, and the
 * LISTEN_PID/LISTEN_FDS protocol. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/activation.h"
#include "net/sock.h"
#include "tap.h"

int main(void)
{
	char err[256];
	struct activated a;
	struct sock_endpoint ep = {.host = "127.0.0.1", .port = "0", .socktype = SOCK_STREAM};
	int lfd = sock_listen(&ep, NULL, NULL, err, sizeof err);
	sock_set_nonblock(lfd, false);
	char num[16];
	snprintf(num, sizeof num, "%d", lfd);
	ok(activation_fd(num, &a, err, sizeof err) == 0 && a.listening && a.family == AF_INET &&
	       a.socktype == SOCK_STREAM && (fcntl(lfd, F_GETFL) & O_NONBLOCK),
	   "--fd %s: a TCP listener, made non-blocking", num);
	ok(activation_fd("2", &a, err, sizeof err) < 0 && strstr(err, "3 or more"), "fd 2: %s",
	   err);
	ok(activation_fd("x", &a, err, sizeof err) < 0 && strstr(err, "bad --fd 'x'"), "fd x");
	ok(activation_fd("99999999999", &a, err, sizeof err) < 0, "huge fd");
	ok(activation_fd("1000", &a, err, sizeof err) < 0 &&
	       !strcmp(err, "fd 1000: Bad file descriptor"),
	   "closed fd: %s", err);
	int pf[2];
	pipe(pf);
	snprintf(num, sizeof num, "%d", pf[0]);
	ok(activation_fd(num, &a, err, sizeof err) < 0 && strstr(err, "is not a socket"),
	   "pipe: %s", err);
	int cs = socket(AF_INET, SOCK_STREAM, 0);
	ok(activation_check(cs, &a, err, sizeof err) < 0 && strstr(err, "not listening"),
	   "unconnected stream socket: %s", err);
	int us = socket(AF_INET, SOCK_DGRAM, 0);
	ok(activation_check(us, &a, err, sizeof err) == 0 && a.socktype == SOCK_DGRAM,
	   "datagram sockets are fine");

	ok(activation_listen_fds(false, err, sizeof err) == 0, "no variables: 0");
	char pid[16];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	ok(activation_listen_fds(false, err, sizeof err) == 2, "ours: 2 fds");
	setenv("LISTEN_PID", "1", 1);
	ok(activation_listen_fds(false, err, sizeof err) == 0, "another pid: ignored");
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "two", 1);
	ok(activation_listen_fds(false, err, sizeof err) < 0 && strstr(err, "LISTEN_FDS 'two'"),
	   "bad count: %s", err);
	setenv("LISTEN_FDS", "1", 1);
	ok(activation_listen_fds(true, err, sizeof err) == 1 && !getenv("LISTEN_PID") &&
	       !getenv("LISTEN_FDS"),
	   "variables removed");
	tap_done();
}
