/* Datagram servers (UDP, Unix datagram): every sender gets its own
 * answer; nothing locks onto the first peer. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"
#include "serve.h"

#define DGRAM_MAX 65536
#define MAX_PEERS 256

static void remember_peer(struct server *s, const struct sock_addr *a)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i].len == a->len && memcmp(&s->peers[i].ss, &a->ss, a->len) == 0)
			return;
	if (!s->peers) {
		s->peers = calloc(MAX_PEERS, sizeof *s->peers);
		if (!s->peers)
			return;
	}
	/* The oldest peer makes room for the newest. */
	s->peers[s->peer_next] = *a;
	s->peer_next = (s->peer_next + 1) % MAX_PEERS;
	if (s->npeers < MAX_PEERS)
		s->npeers++;
}

static void reply(struct server *s, const struct sock_addr *to, const char *p, size_t n)
{
	if (to->len <= sizeof(sa_family_t)) {
		vmsg("datagram from an unnamed Unix socket: cannot reply");
		return;
	}
	ssize_t w = sendto(s->lfd, p, n, 0, (const struct sockaddr *)&to->ss, to->len);
	if (w > 0)
		s->bytes_out += (uint64_t)w;
	if (w < 0 && g_opts.verbose) {
		char a[SOCK_ADDRSTRLEN];
		vmsg("reply to %s: %s",
		     sock_addr_str((const struct sockaddr *)&to->ss, to->len, a, sizeof a),
		     strerror(errno));
	}
}

static void on_datagram(struct loop *l, int fd, int mask, void *arg)
{
	struct server *s = arg;
	static char buf[DGRAM_MAX + 1];
	for (int i = 0; i < 64; i++) {
		struct sock_addr from;
		from.len = sizeof from.ss;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from.ss, &from.len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				errmsg("recvfrom: %s", strerror(errno));
			return;
		}
		size_t len = (size_t)n;
		if (len > sizeof buf) {
			char a[SOCK_ADDRSTRLEN];
			errmsg("datagram of %zu bytes from %s truncated to %zu", len,
			       sock_addr_str((struct sockaddr *)&from.ss, from.len, a, sizeof a),
			       sizeof buf);
			len = sizeof buf;
		}
		if (!acl_permits(&s->acl, (const struct sockaddr *)&from.ss)) {
			/* Dropped unanswered: a reply would make the server a
			 * reflector for forged senders. */
			s->refused++;
			if (g_opts.verbose) {
				char a[SOCK_ADDRSTRLEN];
				vmsg("dropped datagram of %zu bytes from %s: not allowed by "
				     "--allow/--deny",
				     len,
				     sock_addr_str((struct sockaddr *)&from.ss, from.len, a,
						   sizeof a));
			}
			continue;
		}
		if (g_opts.verbose) {
			char a[SOCK_ADDRSTRLEN];
			vmsg("datagram of %zu bytes from %s", len,
			     sock_addr_str((struct sockaddr *)&from.ss, from.len, a, sizeof a));
		}
		s->served++;
		s->bytes_in += len;
		switch (s->handler) {
		case H_UPPER:
			serve_upper(buf, len);
			FALLTHROUGH;
		case H_ECHO:
			reply(s, &from, buf, len);
			break;
		case H_RESPOND:
			reply(s, &from, s->respond, s->respond_len);
			break;
		case H_DISCARD:
		case H_BROKER: /* stream only */
			break;
		case H_RELAY: {
			remember_peer(s, &from);
			const char *p = buf;
			while (len) {
				ssize_t w = write(STDOUT_FILENO, p, len);
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					if (errno != EPIPE)
						errmsg("write to stdout: %s", strerror(errno));
					s->status = EXIT_FAIL;
					loop_stop(l);
					return;
				}
				p += w;
				len -= (size_t)w;
			}
			break;
		}
		}
	}
}

/* Relay mode: each stdin read goes as one datagram to every peer heard
 * from so far. */
static void on_stdin(struct loop *l, int fd, int mask, void *arg)
{
	struct server *s = arg;
	static char buf[DGRAM_MAX];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		loop_io(l, STDIN_FILENO, 0, NULL, NULL);
		s->stdin_eof = true;
		return;
	}
	if (!s->npeers)
		vmsg("no peer yet: %zd bytes from stdin dropped", n);
	for (size_t i = 0; i < s->npeers; i++)
		reply(s, &s->peers[i], buf, (size_t)n);
}

int serve_dgram_start(struct server *s)
{
	if (loop_io(s->loop, s->lfd, MUX_READ, on_datagram, s) < 0)
		return -1;
	if (s->handler == H_RELAY)
		loop_io(s->loop, STDIN_FILENO, MUX_READ, on_stdin, s);
	return 0;
}

void serve_dgram_cleanup(struct server *s)
{
	free(s->peers);
	s->peers = NULL;
}
