/* serve --model=fork|thread: one process or one thread per connection,
 * each running a built-in handler with plain blocking I/O. (--model=loop,
 * the default, is the event loop in cmd_serve.c.) */
#ifndef SOCKCTL_MODEL_H
#define SOCKCTL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum model { MODEL_LOOP, MODEL_FORK, MODEL_THREAD };
bool model_parse(const char *s, enum model *out);
const char *model_name(enum model m);

enum job_kind { JOB_ECHO, JOB_UPPER, JOB_DISCARD, JOB_RESPOND };

/* Byte totals every job adds to as it goes. Made by job_totals_new in a
 * shared anonymous mapping, so forked children add to the parent's copy
 * (lock-free atomics work across processes) as threads do; no pipe or
 * message per child, and a child killed mid-connection has still counted
 * what it moved. */
struct job_totals {
	_Atomic uint64_t in, out;
};
/* NULL if the mapping fails or the atomics are not lock-free. */
struct job_totals *job_totals_new(void);
void job_totals_free(struct job_totals *t);
void job_totals_get(const struct job_totals *t, uint64_t *in, uint64_t *out);

struct job {
	int fd; /* owned by the job: closed when it ends */
	enum job_kind kind;
	const char *data; /* JOB_RESPOND: the text (not owned; outlives the job) */
	size_t len;
	int idle_ms;		   /* 0 = none */
	bool crlf;		   /* -C: send "\n" as "\r\n" */
	uint64_t in, out;	   /* bytes received and sent, filled by job_run */
	struct job_totals *totals; /* also added to, if not NULL; not owned */
};

/* Serves one connection to the end with blocking I/O (fd is made
 * blocking), then closes it. */
void job_run(struct job *j);

/* Runs the job in a detached thread. When it ends, one byte is written
 * to notify_fd (a pipe the loop watches) so the server can count it.
 * Returns 0 or an errno value (the fd is then still the caller's). */
int job_thread(const struct job *j, int notify_fd);
/* Runs the job in a child process, which exits when it is done; the
 * caller closes its copy of the fd. Returns the pid or -1. */
pid_t job_fork(const struct job *j);

#endif
