/* Inherited listening sockets: `serve --fd N` and systemd-style socket
 * activation (LISTEN_FDS / LISTEN_PID, fds from 3). */
#ifndef SOCKCTL_ACTIVATION_H
#define SOCKCTL_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>

struct activated {
	int fd;
	int family, socktype;
	bool listening; /* SO_ACCEPTCONN (streams) */
};

/* Checks that fd is an open socket and describes it; makes it
 * non-blocking and close-on-exec. Returns 0 or -1 with err. */
int activation_check(int fd, struct activated *out, char *err, size_t errlen);
/* Parses the value of --fd (3 or more: 0-2 are stdio) and checks it. */
int activation_fd(const char *arg, struct activated *out, char *err, size_t errlen);
/* Socket activation: when LISTEN_PID is this process, returns LISTEN_FDS
 * (the fds are 3..3+n-1), else 0; -1 with err when the variables are
 * malformed. With unset, the variables are removed so children do not
 * see them. */
int activation_listen_fds(bool unset, char *err, size_t errlen);

#endif
