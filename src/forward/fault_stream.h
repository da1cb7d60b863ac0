/* A stream type that puts a struct fault_set's faults on a connection:
 * it wraps the client's stream (plain or TLS) and is what the forwarding
 * engine reads and writes instead.
 *
 * Reading applies the up direction: bytes read from the client are held
 * until their time (delay +/- jitter, order kept), handed out at most a
 * chunk per read with chunk-delay between, under a token bucket (rate).
 * Writing applies the down direction: writes are taken into a bounded
 * queue and sent to the client when due, at most a chunk per send, under
 * the rate; a full queue answers EAGAIN, and the stream wants the engine
 * again when there is room. Bytes still queued when the engine closes the
 * stream are sent before the connection closes (unless it was cut).
 *
 * Cuts (close-after, reset-after, the control socket's `down`) are the
 * engine's to carry out: the stream stops moving bytes at the threshold
 * and calls the cut callback from the loop, never inside a read or write.
 * For a reset it has already armed the socket to send RST on close.
 * timeout-after and `down hold` stop bytes both ways and keep the
 * connection.
 *
 * It has no zero-copy operations: the engine copies. */
#ifndef SOCKCTL_FAULT_STREAM_H
#define SOCKCTL_FAULT_STREAM_H

#include <stdbool.h>

#include "forward/fault.h"
#include "net/stream.h"

enum fault_cut_kind { FAULT_CUT_CLOSE, FAULT_CUT_RESET };

/* why: "close-after 1000 bytes", "down", ... for the engine's log. */
typedef void (*fault_cut_cb)(struct stream *s, enum fault_cut_kind kind, const char *why,
			     void *arg);

/* The fault stream over inner, which it owns from now on (its loop
 * registration is taken over: inner must not be used directly again).
 * fs outlives the stream. Returns NULL with errno (inner untouched). */
struct stream *fault_stream_new(struct stream *inner, struct fault_set *fs, fault_cut_cb cut,
				void *arg);
bool fault_stream_is(const struct stream *s);
/* The wrapped stream, for queries (tls_summary, ...); s itself for
 * other streams. */
struct stream *fault_stream_inner(struct stream *s);

/* The engine resets the connection: nothing more moves, what is queued
 * is dropped, and the close sends RST. */
void fault_stream_reset(struct stream *s);

/* Makes the close of socket fd send RST instead of FIN (SO_LINGER 0).
 * Returns 0, or -1 with errno. */
int fault_arm_reset(int fd);

/* Ends the closed fault streams of fs still draining their last bytes
 * (the engine stops: nothing more will be sent). */
void fault_stream_drains_free(struct fault_set *fs);

#endif
