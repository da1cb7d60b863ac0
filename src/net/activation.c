#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/activation.h"

static bool parse_uint(const char *s, long max, long *out)
{
	if (!s || !*s || strlen(s) > 10)
		return false;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

int activation_check(int fd, struct activated *out, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "fd %d is not a socket", fd);
		return -1;
	}
	int v = 0;
	socklen_t l = sizeof v;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	memset(out, 0, sizeof *out);
	out->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
		return -1;
	}
	out->socktype = v;
	out->family = ss.ss_family;
	l = sizeof v;
	out->listening = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == 0 && v;
	if (out->socktype == SOCK_STREAM && !out->listening) {
		snprintf(err, errlen, "fd %d is a stream socket that is not listening", fd);
		return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

int activation_fd(const char *arg, struct activated *out, char *err, size_t errlen)
{
	long v;
	if (!parse_uint(arg, INT_MAX, &v) || v < 3) {
		snprintf(err, errlen, "bad --fd '%s' (a descriptor number, 3 or more)", arg);
		return -1;
	}
	return activation_check((int)v, out, err, errlen);
}

int activation_listen_fds(bool unset, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long p, n;
	int ret = 0;
	if (!pid || !fds)
		goto out;
	if (!parse_uint(pid, INT_MAX, &p)) {
		snprintf(err, errlen, "bad LISTEN_PID '%.20s'", pid);
		ret = -1;
		goto out;
	}
	/* Meant for another process (we were started by a child of the
	 * activating one, or the variables leaked): not ours. */
	if (p != (long)getpid())
		goto out;
	if (!parse_uint(fds, INT_MAX - 3, &n)) {
		snprintf(err, errlen, "bad LISTEN_FDS '%.20s'", fds);
		ret = -1;
		goto out;
	}
	ret = (int)n;
out:
	if (unset) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	}
	return ret;
}
