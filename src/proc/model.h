/* serve --model=fork|thread: one process or one thread per connection,
 * each running a built-in handler as plain blocking code, waiting on its
 * stream off the loop. (--model=loop, the default, is serve's event loop
 * engine.) */
#ifndef SOCKCTL_MODEL_H
#define SOCKCTL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum model { MODEL_LOOP, MODEL_FORK, MODEL_THREAD };
bool model_parse(const char *s, enum model *out);
const char *model_name(enum model m);

enum model_job_kind { MODEL_JOB_ECHO, MODEL_JOB_UPPER, MODEL_JOB_DISCARD, MODEL_JOB_RESPOND };

/* Byte totals every job adds to as it goes. Made by model_totals_new in
 * a shared anonymous mapping, so forked children add to the parent's copy
 * (lock-free atomics work across processes) as threads do; no pipe or
 * message per child, and a child killed mid-connection has still counted
 * what it moved. */
struct model_totals {
	_Atomic uint64_t in, out;
};
/* NULL if the mapping fails or the atomics are not lock-free. */
struct model_totals *model_totals_new(void);
void model_totals_free(struct model_totals *t);
void model_totals_get(const struct model_totals *t, uint64_t *in, uint64_t *out);

struct stream;

struct model_job {
	/* The connection, owned by the job: closed when it ends. Used off
	 * the loop, waiting with stream_wait: it must never have been
	 * registered with a loop (no stream_want). */
	struct stream *s;
	enum model_job_kind kind;
	const char *data; /* MODEL_JOB_RESPOND: the bytes (not owned; outlive the job) */
	size_t len;
	int idle_ms;		     /* 0 = none */
	uint64_t in, out;	     /* bytes received and sent, filled by model_job_run */
	struct model_totals *totals; /* also added to, if not NULL; not owned */
};

/* Serves one connection to the end, waiting for it as blocking I/O
 * would, then closes it. */
void model_job_run(struct model_job *j);

/* Runs the job in a detached thread. When it ends, one byte is written
 * to notify_fd (a pipe the loop watches) so the server can count it.
 * Returns 0 or an errno value (the stream is then still the caller's). */
int model_job_thread(const struct model_job *j, int notify_fd);
/* Runs the job in a child process, which exits when it is done; the
 * caller closes its copy of the stream. Returns the pid or -1. */
pid_t model_job_fork(const struct model_job *j);

#endif
