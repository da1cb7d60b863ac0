#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workers.h"

int workers_listen_again(const struct sock_addr *bound, int backlog, char *err, size_t errlen)
{
	char where[SOCK_ADDRSTRLEN];
	const struct sockaddr *sa = (const struct sockaddr *)&bound->ss;
	int fd = sock_socket(sa->sa_family, SOCK_STREAM, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    (sa->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
	    bind(fd, sa, bound->len) < 0 || listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "listen %s (another worker): %s",
			 sock_addr_str(sa, bound->len, where, sizeof where), strerror(e));
		return -1;
	}
	return fd;
}

int workers_fork(int n, pid_t *kids, char *err, size_t errlen)
{
	pid_t parent = getpid();
	for (int i = 1; i < n; i++) {
		fflush(NULL);
		pid_t p = fork();
		if (p < 0) {
			snprintf(err, errlen, "fork worker %d: %s", i, strerror(errno));
			for (int k = 0; k < i - 1; k++)
				kill(kids[k], SIGKILL);
			workers_reap(kids, i - 1);
			return -1;
		}
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent) /* the parent died before prctl */
				_exit(0);
			return i;
		}
		kids[i - 1] = p;
	}
	return 0;
}

void workers_reap(const pid_t *kids, int n)
{
	for (int i = 0; i < n; i++) {
		for (int t = 0; t < 200; t++) {
			if (waitpid(kids[i], NULL, WNOHANG) != 0)
				goto next;
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	next:;
	}
}
