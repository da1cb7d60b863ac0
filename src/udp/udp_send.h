/* The udp-send engine: datagrams out of a payload list, filler or the
 * lines of an input stream, paced or in sendmmsg batches, on the loop;
 * replies taken in recvmmsg batches, matched to the datagrams they answer
 * and timed. Each reply goes to a callback as it comes; the counts, the
 * round-trip times and the failure that ended the run are in the result.
 * Failures are also said through core/log as they happen. Never prints.
 *
 * The datagram socket is not a connection: the engine watches it on the
 * loop itself. Input lines come through a stream. */
#ifndef SOCKCTL_UDP_SEND_H
#define SOCKCTL_UDP_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "udp/udp_dest.h"
#include "udp/udp_probe.h"

struct loop;
struct stream;

/* The largest payloads: IPv4 65535 - 20 - 8, IPv6 65535 - 8 (no
 * jumbograms); Unix datagrams are capped here at 64 KiB. */
enum {
	UDP_MAX_IPV4 = 65507,
	UDP_MAX_IPV6 = 65527,
	UDP_MAX_UNIX = 65536,
	UDP_MAX_PAYLOAD = 65536,
};
/* An input line may hold separators around its hex digits. */
enum { UDP_LINE_CAP = 4 * UDP_MAX_PAYLOAD };

/* The largest datagram for a socket of this family (AF_INET, AF_INET6,
 * AF_UNIX). */
size_t udp_max_datagram(int family);

struct udp_payload {
	unsigned char *data; /* owned by whoever made the list */
	size_t len;
};

/* Reads all of in (one datagram), waiting for it off the loop, into a
 * new buffer (p->data, the caller frees it, also on failure) of up to
 * max bytes. Returns 0, 1 if in holds more than max bytes, or -1 with
 * errno. */
int udp_payload_read(struct stream *in, size_t max, struct udp_payload *p);

enum udp_src {
	UDP_SRC_LIST,	/* payloads[], cycled through */
	UDP_SRC_FILLER, /* `size` bytes of filler, numbered (udp_probe.h) */
	UDP_SRC_LINES,	/* one datagram per line of `in`, until its end */
};

/* What ended a run badly. */
enum udp_err {
	UDP_ERR_NONE,
	UDP_ERR_TIMEOUT,     /* not all replies within the wait */
	UDP_ERR_UNREACHABLE, /* ICMP port unreachable (ECONNREFUSED) */
	UDP_ERR_TRUNCATED,   /* a reply was cut to the receive buffer */
	UDP_ERR_BAD_INPUT,   /* an input line that is no datagram */
	UDP_ERR_INTERRUPTED, /* udp_send_fail by the program (a signal) */
	UDP_ERR_OTHER,
};

enum udp_status {
	UDP_RUNNING,
	UDP_OK,	       /* the expected replies came, or none were waited for */
	UDP_FAILED,    /* see err */
	UDP_BAD_INPUT, /* an input line could not be sent (err: UDP_ERR_BAD_INPUT) */
};

/* One reply, valid during the callback. */
struct udp_reply {
	const unsigned char *data;
	size_t len;		      /* bytes received */
	size_t size;		      /* the datagram's size: more than len when truncated */
	const struct sock_addr *from; /* from->len 0: an unnamed Unix sender */
	bool seq_known;		      /* filler that names the datagram it answers */
	uint64_t seq;
	int64_t rtt_us; /* -1: not timed */
};

struct udp_send;

struct udp_send_config {
	enum udp_src src;
	const struct udp_payload *payloads; /* UDP_SRC_LIST: not owned, outlives the run */
	size_t npayloads;
	size_t size;	     /* UDP_SRC_FILLER */
	struct stream *in;   /* UDP_SRC_LINES: not owned; its callback is ours while we run */
	const char *in_name; /* for messages ("stdin") */
	bool hex;	     /* UDP_SRC_LINES: lines are hex text */
	uint64_t count;	     /* datagrams in all (not UDP_SRC_LINES) */
	int interval_ms;     /* pace: one datagram per interval, or */
	double rate;	     /* datagrams per second; neither: as fast as possible */
	int wait_ms;	     /* after the last datagram, wait this long for replies; 0: none */
	uint64_t want;	     /* stop after this many replies; 0: one per datagram sent */
	size_t recv_buffer;  /* bytes for one reply; larger ones are truncated */

	/* Each reply as it comes. */
	void (*on_reply)(struct udp_send *u, const struct udp_reply *r, void *arg);
	/* After each batch of replies (the program writes out what it
	 * holds); may be NULL. */
	void (*on_batch)(struct udp_send *u, void *arg);
	/* The run is over (once; it may come from udp_send_start already):
	 * stop the loop here, free u after it. */
	void (*on_done)(struct udp_send *u, void *arg);
	void *arg;
};

struct udp_send_result {
	enum udp_status status;
	/* The failure that ended the run (a truncated reply gives way to a
	 * later failure); UDP_ERR_NONE and "" when none. */
	enum udp_err err;
	const char *errtext;
	const struct probe *probe; /* sent, received, round-trip times */
	uint64_t truncated;	   /* replies cut to the receive buffer */
};

/* Takes over the open destination *d (its fd and socket file; d->fd is
 * -1 after). Returns NULL with a message in err, leaving *d to the
 * caller, when out of memory or the loop refuses the socket. */
struct udp_send *udp_send_new(struct loop *l, struct udp_dest *d, const struct udp_send_config *c,
			      char *err, size_t errlen);
/* Sends what may go now; the rest follows on the loop. */
void udp_send_start(struct udp_send *u);
/* Ends the run as failed (a signal, output that cannot be written):
 * says text through log_error and keeps it for the result. Nothing if
 * the run is over already, but the text is kept if none was. */
void udp_send_fail(struct udp_send *u, enum udp_err kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool udp_send_done(const struct udp_send *u);
void udp_send_get_result(const struct udp_send *u, struct udp_send_result *r);
const struct udp_dest *udp_send_dest(const struct udp_send *u);
/* Closes the socket (removing its socket file) and frees u. NULL is fine. */
void udp_send_free(struct udp_send *u);

#endif
