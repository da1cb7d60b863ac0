/* Small helpers shared by the load generators (echoload.c, chatload.c):
 * each is one file built with `cc -O2 FILE.c`, so they are static here. */
#ifndef BENCH_LOADGEN_H
#define BENCH_LOADGEN_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ends the run: "PROG: WHAT: strerror(errno)". */
static inline void fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

/* Closes with a reset rather than a FIN: back-to-back runs would otherwise
 * leave thousands of loopback ports in TIME_WAIT. */
static inline void abort_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

#endif
