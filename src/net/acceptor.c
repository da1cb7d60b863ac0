#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "net/acceptor.h"
#include "net/acl.h"
#include "net/sockopt.h"
#include "net/stream.h"

#define PAUSE_MS 100

struct acceptor {
	struct loop *loop;
	struct acceptor_cfg cfg;
	int reserve_fd; /* given up at EMFILE to take one connection and close it */
	bool paused;	/* by acceptor_pause */
	bool backoff;	/* waiting on the timer after ENOBUFS/ENOMEM */
	struct timer retry;
	int64_t last_warn;
	unsigned long long accepted, dropped;
};

static void on_listen(struct loop *l, int fd, int mask, void *arg);

static void watch(struct acceptor *a)
{
	bool on = !a->paused && !a->backoff;
	loop_io(a->loop, a->cfg.lfd, on ? MUX_READ : 0, on ? on_listen : NULL, a);
}

__attribute__((format(printf, 2, 3))) static void warn(struct acceptor *a, const char *fmt, ...)
{
	int64_t now = loop_now(a->loop);
	if (!a->cfg.warn || (a->last_warn && now - a->last_warn < 1000))
		return;
	a->last_warn = now;
	char t[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	a->cfg.warn(a->cfg.arg, t);
}

static void on_retry(struct loop *l, void *arg)
{
	(void)l;
	struct acceptor *a = arg;
	a->backoff = false;
	watch(a);
}

static void back_off(struct acceptor *a)
{
	a->backoff = true;
	watch(a);
	loop_timer_start(a->loop, &a->retry, PAUSE_MS);
}

/* Out of descriptors: give up the spare, take the waiting connection and
 * close it, so the backlog does not keep the listener readable and the
 * loop spinning; the client learns at once instead of hanging. */
static void out_of_fds(struct acceptor *a, int err)
{
	warn(a, "accept: %s (connection dropped)", strerror(err));
	if (a->reserve_fd < 0) {
		back_off(a);
		return;
	}
	close(a->reserve_fd);
	int fd = accept(a->cfg.lfd, NULL, NULL);
	if (fd >= 0) {
		close(fd);
		a->dropped++;
	}
	a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Best effort: a line the socket takes at once, then the close. */
static void refuse(struct loop *l, int fd, const char *say)
{
	struct stream *s = say ? stream_socket_new(l, fd, STREAM_F_OWN) : NULL;
	if (!s) {
		close(fd);
		return;
	}
	ssize_t r = stream_write(s, say, strlen(say));
	(void)r;
	stream_close(s);
}

static void on_listen(struct loop *l, int lfd, int mask, void *arg)
{
	(void)mask;
	struct acceptor *a = arg;
	int limit = loop_fd_limit(l);
	int batch = a->cfg.batch > 0 ? a->cfg.batch : 64;
	for (int i = 0; i < batch && !a->paused && !a->backoff; i++) {
		struct sock_addr peer;
		int fd = sock_accept(lfd, &peer);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				out_of_fds(a, errno);
			else if (errno == ENOBUFS || errno == ENOMEM) {
				warn(a, "accept: %s (pausing)", strerror(errno));
				back_off(a);
			}
			/* EAGAIN: drained; ECONNABORTED and the like: the
			 * client left, nothing to do. */
			return;
		}
		if (limit && fd >= limit) {
			warn(a,
			     "connection refused: descriptor beyond what %s can watch; use "
			     "--mux=poll or --mux=epoll",
			     loop_backend(l));
			close(fd);
			a->dropped++;
			continue;
		}
		const char *say = NULL;
		if (a->cfg.admit && a->cfg.admit(a->cfg.arg, fd, &peer, &say) == ACCEPT_REFUSE) {
			refuse(l, fd, say);
			continue;
		}
		/* accept4 made it non-blocking; the listener is a stream one. */
		struct stream *s = stream_socket_new(l, fd, STREAM_F_OWN);
		if (!s) {
			warn(a, "connection dropped: %s", strerror(errno));
			close(fd);
			a->dropped++;
			continue;
		}
		a->accepted++;
		a->cfg.accepted(a->cfg.arg, s, &peer);
	}
}

struct acceptor *acceptor_new(struct loop *l, const struct acceptor_cfg *cfg)
{
	struct acceptor *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->loop = l;
	a->cfg = *cfg;
	a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	timer_init(&a->retry, on_retry, a);
	if (loop_io(l, cfg->lfd, MUX_READ, on_listen, a) < 0) {
		int e = errno;
		acceptor_free(a);
		errno = e;
		return NULL;
	}
	return a;
}

void acceptor_pause(struct acceptor *a)
{
	if (a->paused)
		return;
	a->paused = true;
	watch(a);
}

void acceptor_resume(struct acceptor *a)
{
	if (!a->paused)
		return;
	a->paused = false;
	watch(a);
}

unsigned long long acceptor_accepted(const struct acceptor *a)
{
	return a->accepted;
}

unsigned long long acceptor_dropped(const struct acceptor *a)
{
	return a->dropped;
}

void acceptor_free(struct acceptor *a)
{
	if (!a)
		return;
	loop_io(a->loop, a->cfg.lfd, 0, NULL, NULL);
	loop_timer_stop(a->loop, &a->retry);
	if (a->reserve_fd >= 0)
		close(a->reserve_fd);
	free(a);
}

const char *acceptor_rules(int fd, const struct sock_addr *peer, const struct acl *acl, long max,
			   size_t active, const struct sockopts *so)
{
	const char *why = NULL;
	char err[300];
	if (acl && !acl_permits(acl, (const struct sockaddr *)&peer->ss))
		why = "not allowed by --allow/--deny";
	else if (max && active >= (size_t)max)
		why = "connection limit (-m) reached";
	else if (so && sockopt_apply(so, fd, err, sizeof err) < 0) {
		log_error("%s", err);
		why = "socket options failed";
	}
	if (why && log_wants(LOG_LVL_INFO)) {
		char a[SOCK_ADDRSTRLEN];
		log_info("refused %s: %s",
			 peer->len ? sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, a,
						   sizeof a)
				   : "an unnamed peer",
			 why);
	}
	return why;
}
