/* A bounded, non-blocking queue of whole lines for a program's own output
 * (an access log, a chat room shown on stdout, diagnostics) written from
 * inside the event loop, so that a reader that stops reading never stalls
 * the loop and everyone it serves.
 *
 * In a loop, the lines of one iteration are written together at its end
 * (or at once when they pass 64 KiB); what the descriptor does not take
 * stays queued, and the loop writes it when the descriptor is ready.
 * Without a loop, lines are written straight away. A write that does not
 * fit under the cap is dropped whole and counted (a line is never torn by
 * a drop). The queue writes through a descriptor of
 * its own that never blocks, without changing the flags of the one it was
 * given (which the shell or the other end of a pipeline may share).
 *
 * Nothing here prints: the owner learns of drops through the callback and
 * logq_dropped(), and says so itself. Not thread-safe: one owner. */
#ifndef SOCKCTL_LOGQ_H
#define SOCKCTL_LOGQ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct logq;

#define LOGQ_CAP_DEFAULT (1024 * 1024)

/* How the queue writes without blocking (see logq.c for why each). */
enum logq_how {
	LOGQ_DIRECT,   /* regular file, block device, /dev/null: never blocks */
	LOGQ_NONBLOCK, /* a private O_NONBLOCK descriptor (pipe, FIFO, terminal) */
	LOGQ_SOCKET,   /* send(MSG_DONTWAIT) */
	LOGQ_TOGGLE,   /* O_NONBLOCK set for each write, restored right after */
};

/* A queue for output to fd (not owned; its flags are never changed), of
 * at most cap bytes. NULL with errno when fd is not open for writing or
 * out of memory. */
struct logq *logq_new(int fd, size_t cap);
/* Detaches and frees; what is still queued is dropped (and counted,
 * though nobody can read the count any more: logq_flush first). */
void logq_free(struct logq *q);
enum logq_how logq_how(const struct logq *q);

/* From now on the loop writes what is queued: at the end of the
 * iteration that queued it, and when the descriptor has room again. Its
 * watch never keeps loop_run() going by itself. 0, or -1 with errno
 * (ERANGE: beyond what select can watch). */
int logq_attach(struct logq *q, struct loop *l);
void logq_detach(struct logq *q);

/* Called once, at the first drop (full, or the descriptor failed: see
 * logq_error), from inside logq_write or the loop. It may write to this
 * very queue: that write is dropped and counted like any other. */
typedef void (*logq_drop_cb)(struct logq *q, void *arg);
void logq_on_drop(struct logq *q, logq_drop_cb cb, void *arg);

/* Queues n bytes (one or more whole lines) as one unit: written or queued
 * whole, or dropped whole. true if taken, false if dropped. */
bool logq_write(struct logq *q, const void *buf, size_t n);
bool logq_printf(struct logq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool logq_vprintf(struct logq *q, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Writes what is queued, waiting at most timeout_ms (without the loop):
 * for the end of a run. What is left at the deadline is dropped and
 * counted. 0 when all was written, -1 if not (errno ETIMEDOUT, or the
 * write error). */
int logq_flush(struct logq *q, int timeout_ms);

size_t logq_pending(const struct logq *q);
/* Lines dropped so far (a unit without a newline counts as one). */
uint64_t logq_dropped(const struct logq *q);
/* The errno of the write that failed (EPIPE: the reader left), or 0.
 * After a failure every write is dropped. */
int logq_error(const struct logq *q);

#endif
