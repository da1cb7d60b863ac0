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
	struct stream *conn, *local; /* owned */
	struct relay *relay;	     /* owned */
};

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
	r->conn = conn;
	r->local = stream_socket_new(l, sp[0], STREAM_F_OWN);
	struct relay_opts o = *ro;
	o.pass_eof = true;
	o.local_is_tty = false;
	if (r->local)
		r->relay = relay_start(l, r->local, r->local, conn, peer, &o, cb, arg);
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
	relay_free(r->relay);
	stream_close(r->local);
	stream_close(r->conn);
	free(r);
}
