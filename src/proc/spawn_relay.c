/* A program's socketpair relayed to a connection (see spawn_relay.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/stream.h"
#include "proc/spawn_relay.h"

struct spawn_relay {
	struct loop *loop;
	struct stream *conn, *local; /* owned */
	struct relay *relay;	     /* owned */
	/* The relay's end is passed on from the loop: the relay is still in
	 * its callback when it ends, and the caller may free everything. */
	struct timer done;
	int status;
	char text[512];
	relay_done_cb cb;
	void *arg;
};

static void on_relay_done(struct loop *l, int status, const char *errtext, void *arg)
{
	struct spawn_relay *r = arg;
	r->status = status;
	snprintf(r->text, sizeof r->text, "%s", errtext ? errtext : "");
	loop_timer_start(l, &r->done, 0);
}

static void on_done(struct loop *l, void *arg)
{
	struct spawn_relay *r = arg;
	r->cb(l, r->status, r->text, r->arg);
}

struct spawn_relay *spawn_relay_start(struct loop *l, struct stream *conn, char *const *argv,
				      const char *shcmd, const struct spawn_env *env,
				      const struct relay_opts *ro, const char *peer,
				      relay_done_cb cb, void *arg, pid_t *pid, char *err,
				      size_t errlen)
{
	struct spawn_relay *r = calloc(1, sizeof *r);
	int sp[2] = {-1, -1};
	if (!r || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, errlen, "--exec: %s", strerror(errno));
		goto fail;
	}
	/* The program's end is made blocking by spawn_child (its own file
	 * description: ours stays non-blocking). */
	*pid = spawn_child(sp[1], argv, shcmd, env, err, errlen);
	close(sp[1]);
	if (*pid < 0) {
		close(sp[0]);
		goto fail;
	}
	r->loop = l;
	r->cb = cb;
	r->arg = arg;
	timer_init(&r->done, on_done, r);
	r->conn = conn;
	r->local = stream_socket_new(l, sp[0], STREAM_F_OWN);
	struct relay_opts o = *ro;
	o.pass_eof = true;
	o.local_is_tty = false;
	if (r->local)
		r->relay = relay_start(l, r->local, r->local, conn, peer, &o, on_relay_done, r);
	if (!r->relay) {
		/* The program is running: the caller reaps it; it sees its
		 * socket close. */
		snprintf(err, errlen, "--exec: out of memory");
		if (!r->local)
			close(sp[0]);
		spawn_relay_free(r);
		return NULL;
	}
	return r;
fail:
	free(r);
	stream_close(conn);
	return NULL;
}

void spawn_relay_stats(const struct spawn_relay *r, struct relay_stats *st)
{
	relay_get_stats(r->relay, st);
}

void spawn_relay_close_local(struct spawn_relay *r)
{
	relay_free(r->relay);
	r->relay = NULL;
	stream_close(r->local);
	r->local = NULL;
}

void spawn_relay_free(struct spawn_relay *r)
{
	if (!r)
		return;
	if (r->loop)
		loop_timer_stop(r->loop, &r->done);
	relay_free(r->relay);
	stream_close(r->local);
	stream_close(r->conn);
	free(r);
}
