/* A connection, whatever carries it: the one type every engine reads,
 * writes, half-closes and waits on, and the only code that registers a
 * connection's fd with the loop.
 *
 * The engine says what it wants (stream_want: STREAM_READ, STREAM_WRITE)
 * and is called back with what it may try now. The stream's type maps
 * between the two: a plain fd needs the fd readable to read, while a TLS
 * stream may need the fd readable to write (a renegotiation or key
 * update), or have decrypted bytes waiting that the fd will never report.
 * Engines therefore never look at the fd's readiness themselves, and
 * handle read and write returning -1 with EAGAIN at any time.
 *
 * Zero-copy operations (splice, sendfile) are optional: a type that
 * cannot do them leaves them out, and the engine copies instead.
 */
#ifndef SOCKCTL_STREAM_H
#define SOCKCTL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/loop.h"

enum { STREAM_READ = MUX_READ, STREAM_WRITE = MUX_WRITE };

/* Properties of a stream, found when it is made. */
enum {
	STREAM_F_OWN = 1 << 0,	   /* the stream closes its fd */
	STREAM_F_SOCKET = 1 << 1,  /* a socket */
	STREAM_F_DGRAM = 1 << 2,   /* a datagram socket: one read = one datagram */
	STREAM_F_REGULAR = 1 << 3, /* a regular file: never waits, sendfile source */
	STREAM_F_TTY = 1 << 4,	   /* a terminal */
	STREAM_F_PIPE = 1 << 5,	   /* a pipe or FIFO */
	/* The fd is blocking and could not be given a non-blocking file
	 * description of its own: each read or write waits for the loop to
	 * report it ready, and writes are kept small enough not to wait. */
	STREAM_F_GATED = 1 << 6,
	/* stream_set_blocking: reads and writes wait inside the call. */
	STREAM_F_BLOCKING = 1 << 7,
	/* Set by stream_release: the connection goes on elsewhere. */
	STREAM_F_RELEASED = 1 << 11,
	/* What this stream can do without a copy (the ops may exist while
	 * this instance cannot: a blocking socket never splices). */
	STREAM_F_SPLICE_READ = 1 << 8,	/* stream -> pipe */
	STREAM_F_SPLICE_WRITE = 1 << 9, /* pipe -> stream */
	STREAM_F_SENDFILE = 1 << 10,	/* regular file -> stream */
};

struct stream;
/* ready: what the engine may try now (a subset of what it wants). */
typedef void (*stream_cb)(struct stream *s, int ready, void *arg);

struct stream_ops {
	const char *name; /* "fd", "tls", ... for messages and tests */
	/* Like read(2)/write(2)/writev(2): bytes moved, 0 at end of input,
	 * or -1 with errno (EAGAIN: wait for the callback). */
	ssize_t (*read)(struct stream *s, void *buf, size_t n);
	ssize_t (*write)(struct stream *s, const void *buf, size_t n);
	ssize_t (*writev)(struct stream *s, const struct iovec *iov, int iovcnt);
	/* Ends the write side (FIN, close_notify): 0, or -1 with errno
	 * (EAGAIN: call again when the callback says STREAM_WRITE). */
	int (*shutdown_write)(struct stream *s);
	/* Releases what the type holds (not the struct, not the loop
	 * registration: stream_close does those). */
	void (*close)(struct stream *s);
	/* The fd events needed for what the engine wants; NULL = the same. */
	int (*events)(const struct stream *s, int want);
	/* What the engine may try given the fd's events; NULL = the same. */
	int (*ready)(struct stream *s, int fdmask);
	/* Bytes the stream already holds for the reader; NULL = none. */
	size_t (*pending)(const struct stream *s);
	/* Optional, NULL when the type cannot:
	 * splice_read moves up to n bytes from the stream into a pipe,
	 * splice_write up to n bytes from a pipe into the stream,
	 * sendfile up to n bytes of a regular file (its offset advances). */
	ssize_t (*splice_read)(struct stream *s, int pipe_wr, size_t n);
	ssize_t (*splice_write)(struct stream *s, int pipe_rd, size_t n);
	ssize_t (*sendfile)(struct stream *s, int file_fd, size_t n);
};

struct stream {
	const struct stream_ops *ops;
	struct loop *loop; /* not owned */
	int fd;		   /* what is read and written; the loop watches it (a pipe: orig_fd) */
	int orig_fd;	   /* the fd given, when fd is a reopened copy of it; else -1 */
	unsigned flags;	   /* STREAM_F_* */
	int want;	   /* what the engine wants (STREAM_READ|STREAM_WRITE) */
	int mask;	   /* fd events registered with the loop */
	int seen;	   /* STREAM_F_GATED: fd events not yet used up */
	int events;	   /* the fd events of the last callback (MUX_*) */
	stream_cb cb;
	void *arg;
	void *priv; /* the type's own state */
};

/* A stream over a socket, pipe, terminal or file. flags: STREAM_F_OWN or
 * 0 (the other STREAM_F_* are found from the fd). A blocking pipe or
 * terminal is reopened through /proc/self/fd into a non-blocking file
 * description of its own (the original's flags, shared with other
 * processes, stay as they are); a blocking socket is read and written
 * with MSG_DONTWAIT and loses splice reads (splicing from a blocking
 * socket would wait inside the kernel). What cannot be made non-blocking
 * is STREAM_F_GATED. Returns NULL with errno (ENOMEM, EBADF). */
struct stream *stream_fd_new(struct loop *l, int fd, unsigned flags);

/* The same for what is known to be a connected non-blocking stream
 * socket (an accept4 with SOCK_NONBLOCK): no system call to find out. */
struct stream *stream_socket_new(struct loop *l, int fd, unsigned flags);

/* Sets the callback (before the first stream_want). */
void stream_set_cb(struct stream *s, stream_cb cb, void *arg);
/* Declares what the engine wants and watches the fd for it. Returns 0,
 * or -1 with errno (ERANGE: fd beyond what select can watch). */
int stream_want(struct stream *s, int want);
/* Wants nothing, leaving the fd's registration as it is until the next
 * stream_want changes it in one step, or until an event nobody wants
 * arrives: a stream handed from one engine to the next (the connector
 * to a relay) then costs one change of the registration, not two. */
void stream_want_later(struct stream *s);
/* Forgets the fd on the loop, releases the type's state, closes the fd
 * if owned and frees s. NULL is fine. */
void stream_close(struct stream *s);
/* Closes this process's copy of a connection that goes on in another
 * (a forked handler's parent): as stream_close, but nothing is sent to
 * the peer (a TLS stream's close otherwise ends with close_notify). */
void stream_release(struct stream *s);
/* For a plain fd stream whose fd goes on elsewhere (a program's stdin and
 * stdout with --exec): forgets it on the loop and frees s, leaving the fd
 * open. Returns the fd, or -1 (and closes nothing) for other types or a
 * reopened fd. */
int stream_detach_fd(struct stream *s);

static inline ssize_t stream_read(struct stream *s, void *buf, size_t n)
{
	return s->ops->read(s, buf, n);
}
static inline ssize_t stream_write(struct stream *s, const void *buf, size_t n)
{
	return s->ops->write(s, buf, n);
}
ssize_t stream_writev(struct stream *s, const struct iovec *iov, int iovcnt);
/* stream_writev when more bytes follow at once (a response's head before
 * its sendfile body): a plain socket holds a partial segment back for
 * them (MSG_MORE) instead of sending it alone. */
ssize_t stream_writev_more(struct stream *s, const struct iovec *iov, int iovcnt);
static inline int stream_shutdown_write(struct stream *s)
{
	return s->ops->shutdown_write(s);
}
static inline size_t stream_pending(const struct stream *s)
{
	return s->ops->pending ? s->ops->pending(s) : 0;
}
static inline bool stream_has(const struct stream *s, unsigned flag)
{
	return (s->flags & flag) != 0;
}
/* Reads what s has and drops it (a discard server, a black hole): at
 * most rounds reads into buf (the caller's scratch), each piece shown to
 * seen (NULL: none) first; a short read ends the round too. Returns 1
 * when s would wait or the rounds ran out (the loop calls again), 0 at
 * its end, -1 on an error (errno). */
int stream_drain(struct stream *s, void *buf, size_t bufsize, int rounds,
		 void (*seen)(void *arg, const void *p, size_t n), void *arg);

/* Blocking use, off the loop (a --model=thread or fork handler): waits
 * up to timeout_ms (-1 = forever) until the stream may do what want says,
 * mapped to fd events as the loop would. Returns the ready subset of want,
 * 0 on timeout, or -1 with errno. Never registers with the loop. */
int stream_wait(struct stream *s, int want, int timeout_ms);

/* Blocking use with one system call per read or write, for a handler
 * off the loop that owns the connection and has no deadline to keep
 * (stream_wait and a read cost two): the fd is made blocking and the
 * calls wait inside. Never on a stream a loop watches. Returns 0, or -1
 * with errno ENOTSUP for a type or fd that cannot (the caller goes on
 * with stream_wait). */
int stream_set_blocking(struct stream *s);

/* Whether the fd's last event said that all is well: the loop's
 * backend reports errors and hang-ups (MUX_FAULT) and that event had
 * none. A connecting socket reported writable so has connected, with
 * no need to ask (SO_ERROR); false: ask. */
bool stream_event_clean(const struct stream *s);

/* The fd of a plain fd stream (for sendfile's source, fstat, getsockopt),
 * -1 for other types. */
int stream_raw_fd(const struct stream *s);

/* For stream types: called when the type's pending bytes or readiness
 * changed outside an event (a TLS read buffered more records), so the
 * loop registration is brought up to date. */
int stream_update(struct stream *s);

/* The plain fd stream's operations, for types that wrap it. */
extern const struct stream_ops stream_fd_ops;

#endif
