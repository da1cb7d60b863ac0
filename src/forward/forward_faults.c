/* forward's faults: every client stream behind a fault stream when the
 * configuration has a fault set, cuts carried out as the engine ends
 * connections, and clients refused (with a reset) while the set says so. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "forward/fault_stream.h"
#include "forward/forward_int.h"
#include "net/relay.h"
#include "net/stream.h"

static void on_cut(struct stream *s, enum fault_cut_kind kind, const char *why, void *arg)
{
	(void)s;
	struct fwd_conn *c = arg;
	struct forward *f = c->fwd;
	/* What the relay moved counts, as it does for a relay that ends. */
	if (c->relay) {
		struct relay_stats st;
		relay_get_stats(c->relay, &st);
		f->res.up += st.sent;
		f->res.down += st.received;
	}
	fwd_conn_end(c, kind == FAULT_CUT_RESET ? FWD_END_RESET : FWD_END_CLOSE, why);
}

/* Chunks must leave as separate segments, and a delayed small write must
 * not wait for Nagle: no delay on both sockets of a faulted connection. */
static void nodelay(int fd)
{
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

struct stream *fwd_faults_wrap(struct fwd_conn *c, struct stream *accepted)
{
	struct stream *s = fault_stream_new(accepted, c->fwd->cfg.faults, on_cut, c);
	if (!s)
		return NULL;
	nodelay(s->fd);
	if (c->target)
		nodelay(c->target->fd);
	return s;
}

void fwd_faults_reset(struct stream *client)
{
	if (fault_stream_is(client))
		fault_stream_reset(client);
}

bool fwd_faults_refuse(struct forward *f, int fd)
{
	struct fault_set *fs = f->cfg.faults;
	if (!fs || !fault_set_refuses(fs))
		return false;
	/* Accepted, then reset: the client sees ECONNRESET, not a wait. */
	fault_arm_reset(fd);
	fs->stats.refused++;
	log_info("refused a client: %s", fs->st.refuse ? "--refuse" : "the faults are down");
	return true;
}

/* --blackhole: the client's bytes are read and dropped, nothing is ever
 * sent back, and the target is never reached (so its own close or
 * refusal cannot answer the client either); the client's end ends it. */
static void sunk(void *arg, const void *p, size_t n)
{
	(void)p;
	struct fwd_conn *c = arg;
	c->fwd->res.up += (uint64_t)n;
}

static void on_sink(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct fwd_conn *c = arg;
	char buf[16384];
	int r = stream_drain(s, buf, sizeof buf, 16, sunk, c);
	if (r > 0)
		return;
	c->fwd->cfg.faults->stats.active--;
	fwd_conn_end(c, FWD_END_CLOSE,
		     r < 0 ? strerror(errno) : "blackholed, closed by the client");
}

bool fwd_faults_sink(struct fwd_conn *c)
{
	struct fault_set *fs = c->fwd->cfg.faults;
	if (!fs || !fs->st.blackhole)
		return false;
	/* Counted as the connections the fault streams carry. */
	fs->stats.conns++;
	fs->stats.active++;
	stream_set_cb(c->client_raw, on_sink, c);
	if (stream_want(c->client_raw, STREAM_READ) < 0)
		fwd_conn_end(c, FWD_END_RESET, strerror(errno));
	return true;
}
