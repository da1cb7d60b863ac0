/* --exec over a connection that is not a plain socket (TLS): the
 * program cannot speak the connection's protocol on an fd, so its stdin
 * and stdout are one end of a socketpair, and a relay on the loop copies
 * between the other end and the connection. The program sees a socket as
 * with a plain connection (its reads end when the peer's input does; its
 * end of output becomes the connection's close_notify or FIN). */
#ifndef SOCKCTL_SPAWN_RELAY_H
#define SOCKCTL_SPAWN_RELAY_H

#include <sys/types.h>

#include "core/loop.h"
#include "net/relay.h"
#include "proc/spawn.h"

struct spawn_relay;
struct stream;
/* Starts the program (argv, or shcmd through /bin/sh -c) with env, and
 * the relay (ro: the relay's options; peer names the far end). Takes
 * conn (closed by spawn_relay_free, or at once on failure). *pid: the
 * program, for the caller's child registry. cb runs once when the relay
 * is over, from the loop and outside the relay's own callbacks (the
 * caller may free the spawn_relay there). NULL with err on failure. */
struct spawn_relay *spawn_relay_start(struct loop *l, struct stream *conn, char *const *argv,
				      const char *shcmd, const struct spawn_env *env,
				      const struct relay_opts *ro, const char *peer,
				      relay_done_cb cb, void *arg, pid_t *pid, char *err,
				      size_t errlen);
void spawn_relay_stats(const struct spawn_relay *r, struct relay_stats *st);
/* After the relay is over: the program's end goes (it sees the close). */
void spawn_relay_close_local(struct spawn_relay *r);
/* Frees the relay and closes both ends. NULL is fine. */
void spawn_relay_free(struct spawn_relay *r);

#endif
