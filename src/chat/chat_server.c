/* `sockctl chat serve`: the chat hub. Every client has a bounded input
 * buffer (framed into lines), a bounded output queue, a flood bucket and a
 * room. A client whose queue is full is dropped, so one stalled reader
 * never holds the room back. Clients that die while a broadcast is under
 * way go to a graveyard and are announced and freed by reap() when the
 * callback ends, so no list is changed under an iteration.
 *
 * Broadcast lines are framed once into a shared batch while they go to the
 * same room from the same sender; the batch is written straight from that
 * buffer to every member whose queue is empty (one write per member per
 * read of the sender), and only what a socket did not take is queued.
 * Anything else sent to a client, and any change of who is in a room, first
 * delivers the pending batch, so every client sees lines in order. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat/chat.h"
#include "chat/chat_proto.h"
#include "tool/cmd.h"
#include "core/loop.h"
#include "net/sock.h"

#define SERVER_NAME	"@server"
#define JOIN_GRACE_MS	500  /* time a new client has to send /nick and /join quietly */
#define CLOSE_GRACE_MS	3000 /* time a leaving client has to take its last lines */
#define SHUTDOWN_MS	2000
#define ACCEPT_PAUSE_MS 100
#define BATCH_MIN	64 * 1024 /* room for a sender's read of lines, framed */
#define READS_PER_EVENT 4	  /* at most 4 * 16 KiB read from one client per event */
#define DIRECT_MIN	1024	  /* smaller batches are queued, written once per loop iteration */

struct room {
	char name[CHAT_NAME_MAX + 1];
	int members;
	struct room *next;
};

struct server;

struct client {
	struct server *srv; /* not owned */
	int fd;
	struct client *prev, *next; /* live clients, or the graveyard (next only) */
	struct client *dnext;	    /* dirty list: has output to write */
	bool dirty;
	struct room *room; /* not owned; NULL once left */
	char nick[CHAT_NAME_MAX + 1];
	char addr[SOCK_ADDRSTRLEN];
	char *in; /* owned, srv->incap bytes */
	size_t inlen;
	struct chat_framer fr;
	char *out; /* owned, grows up to srv->queue_max */
	size_t outoff, outlen, outcap;
	double tokens;
	int64_t refilled;
	int mask; /* what the loop watches for */
	bool throttled, warned, announced, closing, dead, echo, eof;
	const char *why;	  /* leave notice to give when reaped; NULL = none */
	struct timer timer;	  /* join announcement, then close deadline */
	struct timer flood_timer; /* resumes reading after a flood pause */
};

struct server {
	struct loop *loop;
	int lfd;
	struct client *clients, *grave, *dirty;
	int nclients;
	struct room *rooms; /* owned list; the lobby is first and stays */
	unsigned guest_seq;
	/* options */
	long max_clients, max_line, queue_max, flood;
	bool show_addr;
	size_t incap;
	bool shutting;
	struct timer shutdown_timer, accept_timer;
	struct timer flush_timer; /* end of this loop iteration: write, reap */
	struct chat_framer stdin_fr;
	char stdin_buf[CHAT_LINE_DEFAULT + 2];
	size_t stdin_len;
	char *scratch; /* owned: sanitised line, 3 * max_line + 1 */
	char *fmt;     /* owned: one formatted outgoing line */
	size_t fmtcap;
	/* the pending broadcast: lines for room broom (NULL: all rooms),
	 * everyone there but bexcept */
	char *batch; /* owned, bcap bytes */
	size_t blen, bcap;
	struct room *broom;
	struct client *bexcept;
};

static void client_io(struct loop *l, int fd, int mask, void *arg);
static void client_close(struct client *c, const char *why);

/* ---- rooms ---- */

static struct room *room_find(struct server *s, const char *name, bool create)
{
	for (struct room *r = s->rooms; r; r = r->next)
		if (chat_name_eq(r->name, name))
			return r;
	if (!create)
		return NULL;
	struct room *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	snprintf(r->name, sizeof r->name, "%s", name);
	r->next = s->rooms->next; /* after the lobby */
	s->rooms->next = r;
	return r;
}

static void batch_flush(struct server *s);

static void room_leave(struct client *c)
{
	struct room *r = c->room;
	if (!r)
		return;
	batch_flush(c->srv); /* its lines went to the members it had */
	c->room = NULL;
	if (--r->members > 0 || r == c->srv->rooms)
		return;
	for (struct room *p = c->srv->rooms; p->next; p = p->next)
		if (p->next == r) {
			p->next = r->next;
			free(r);
			return;
		}
}

/* ---- output ---- */

static void client_kill(struct client *c, const char *why)
{
	if (c->dead)
		return;
	struct server *s = c->srv;
	c->dead = true;
	c->why = c->announced && c->room ? why : NULL;
	loop_io(s->loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	c->fd = -1;
	loop_timer_stop(s->loop, &c->timer);
	loop_timer_stop(s->loop, &c->flood_timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = s->grave;
	s->grave = c;
	s->nclients--;
}

static void queue(struct client *c, const char *data, size_t len)
{
	if (c->dead)
		return;
	struct server *s = c->srv;
	if (c->outoff && c->outoff + c->outlen + len > c->outcap) {
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outoff = 0;
	}
	if (c->outlen + len > (size_t)s->queue_max) {
		/* Best effort: the socket is most likely full as well. */
		static const char bye[] = "*** dropped: your output queue is full (not reading)\n";
		ssize_t r = send(c->fd, bye, sizeof bye - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)r;
		vmsg("chat: %s dropped: output queue full (%zu bytes)", c->nick, c->outlen);
		client_kill(c, "dropped: not reading");
		return;
	}
	if (c->outlen + len > c->outcap) {
		size_t cap = c->outcap ? c->outcap : 4096;
		while (cap < c->outlen + len)
			cap *= 2;
		if (cap > (size_t)s->queue_max)
			cap = (size_t)s->queue_max;
		char *n = realloc(c->out, cap);
		if (!n) {
			client_kill(c, "dropped: out of memory");
			return;
		}
		c->out = n;
		c->outcap = cap;
	}
	memcpy(c->out + c->outoff + c->outlen, data, len);
	c->outlen += len;
	if (!c->dirty) {
		c->dirty = true;
		c->dnext = s->dirty;
		s->dirty = c;
	}
}

/* One write to c: the bytes taken (0 when its socket is full), or -1
 * when the write failed and c was killed. */
static ssize_t client_write(struct client *c, const char *p, size_t n)
{
	for (;;) {
		ssize_t w = write(c->fd, p, n);
		if (w >= 0)
			return w;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR) {
			vmsg("chat: write to %s: %s", c->nick, strerror(errno));
			client_kill(c, "connection lost");
			return -1;
		}
	}
}

/* Gives a batch to c: written at once when c has nothing queued (and the
 * batch is big enough to be worth its own write), the rest queued. */
static void deliver(struct client *c, const char *data, size_t len)
{
	if (c->dead)
		return;
	if (c->outlen == 0 && len >= DIRECT_MIN) {
		ssize_t w = client_write(c, data, len);
		if (w < 0)
			return;
		data += w;
		len -= (size_t)w;
	}
	if (len > 0)
		queue(c, data, len);
}

/* Delivers the pending broadcast batch, if any, to its recipients. */
static void batch_flush(struct server *s)
{
	if (s->blen == 0)
		return;
	size_t len = s->blen;
	s->blen = 0;
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c != s->bexcept && !c->closing && (!s->broom || c->room == s->broom))
			deliver(c, s->batch, len);
	}
}

/* Formats one line into the server's scratch buffer, cut to fit, with
 * its newline added; returns its length without the newline, or -1. */
__attribute__((format(printf, 2, 0))) static int format_line(struct server *s, const char *fmt,
							     va_list ap)
{
	int n = vsnprintf(s->fmt, s->fmtcap - 1, fmt, ap);
	if (n < 0)
		return -1;
	if ((size_t)n > s->fmtcap - 2)
		n = (int)s->fmtcap - 2;
	s->fmt[n] = '\n';
	return n;
}

static void sendf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sendf(struct client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = format_line(c->srv, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		batch_flush(c->srv);
		queue(c, c->srv->fmt, (size_t)n + 1);
	}
}

/* Sends a line to every member of room r (all rooms if NULL) except
 * `except`, and shows it on the server's stdout. */
static void room_send(struct server *s, struct room *r, struct client *except, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void room_send(struct server *s, struct room *r, struct client *except, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = format_line(s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_printf("[%s] %.*s\n", r ? r->name : "*", n, s->fmt);
	if (s->blen && (s->broom != r || s->bexcept != except || s->blen + (size_t)n + 1 > s->bcap))
		batch_flush(s);
	s->broom = r;
	s->bexcept = except;
	memcpy(s->batch + s->blen, s->fmt, (size_t)n + 1);
	s->blen += (size_t)n + 1;
}

static void client_flush(struct client *c)
{
	while (c->outlen > 0) {
		ssize_t w = client_write(c, c->out + c->outoff, c->outlen);
		if (w < 0)
			return;
		if (w == 0)
			break;
		c->outoff += (size_t)w;
		c->outlen -= (size_t)w;
	}
	if (c->outlen == 0)
		c->outoff = 0;
	if (c->closing && c->outlen == 0) {
		client_kill(c, NULL);
		return;
	}
	int mask = (c->outlen ? MUX_WRITE : 0) | (c->closing || c->throttled ? 0 : MUX_READ);
	if (mask != c->mask) {
		c->mask = mask;
		/* loop_io, not loop_io_mask: mask 0 forgets the callback. */
		loop_io(c->srv->loop, c->fd, mask, client_io, c);
	}
}

static void client_free(struct client *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

/* Writes what is queued, announces and frees the dead, until settled.
 * Runs from a timer due at once, that is after every event of this loop
 * iteration: a burst of lines or of joins costs one write per client, not
 * one per line. */

static void on_flush_timer(struct loop *l, void *arg)
{
	(void)l;
	struct server *s = arg;
	for (;;) {
		batch_flush(s);
		while (s->dirty) {
			struct client *c = s->dirty;
			s->dirty = c->dnext;
			c->dirty = false;
			if (!c->dead)
				client_flush(c);
		}
		if (!s->grave)
			break;
		struct client *g = s->grave;
		s->grave = NULL;
		while (g) {
			struct client *c = g;
			g = c->next;
			if (c->why)
				room_send(s, c->room, NULL, "*** %s left%s%s%s", c->nick,
					  *c->why ? " (" : "", c->why, *c->why ? ")" : "");
			room_leave(c);
			client_free(c);
		}
	}
	fflush(stdout);
	if (s->shutting && !s->clients)
		loop_stop(s->loop);
}

static void reap(struct server *s)
{
	batch_flush(s);
	if ((s->dirty || s->grave || s->shutting) && !timer_armed(&s->flush_timer))
		loop_timer_start(s->loop, &s->flush_timer, 0);
}

/* ---- commands ---- */

static struct client *find_nick(struct server *s, const char *nick)
{
	for (struct client *c = s->clients; c; c = c->next)
		if (chat_name_eq(c->nick, nick))
			return c;
	return NULL;
}

static void announce_join(struct client *c)
{
	if (c->announced || c->closing || !c->room)
		return;
	c->announced = true;
	loop_timer_stop(c->srv->loop, &c->timer);
	if (c->srv->show_addr)
		room_send(c->srv, c->room, c, "*** %s joined (%s)", c->nick, c->addr);
	else
		room_send(c->srv, c->room, c, "*** %s joined", c->nick);
}

static void on_join_timer(struct loop *l, void *arg)
{
	(void)l;
	struct client *c = arg;
	if (c->closing) {
		client_kill(c, NULL);
	} else {
		announce_join(c);
	}
	reap(c->srv);
}

/* Lists the names in room r (or everyone) into one reply line. */
static void send_who(struct client *to, struct room *r)
{
	struct server *s = to->srv;
	char line[8192];
	size_t n = (size_t)snprintf(line, sizeof line, "*** in %s:", r ? r->name : "all rooms");
	for (struct client *c = s->clients; c; c = c->next) {
		if (c->closing || (r && c->room != r))
			continue;
		int k = s->show_addr
			    ? snprintf(line + n, sizeof line - n, " %s (%s)", c->nick, c->addr)
			    : snprintf(line + n, sizeof line - n, " %s", c->nick);
		if (k < 0 || (size_t)k >= sizeof line - n - 8) {
			snprintf(line + n, sizeof line - n, " ...");
			break;
		}
		n += (size_t)k;
	}
	sendf(to, "%s", line);
}

static bool take_name(struct client *c, const char *arg, size_t len, char *out, const char *what)
{
	const char *why = chat_name_check(arg, len);
	if (why) {
		sendf(c, "*** invalid %s '%.*s': %s", what, (int)(len > 64 ? 64 : len), arg, why);
		return false;
	}
	memcpy(out, arg, len);
	out[len] = '\0';
	return true;
}

static void do_nick(struct client *c, const char *arg, size_t len)
{
	char nick[CHAT_NAME_MAX + 1];
	if (len == 0) {
		sendf(c, "*** you are %s", c->nick);
		return;
	}
	if (!take_name(c, arg, len, nick, "nick"))
		return;
	struct client *o = find_nick(c->srv, nick);
	if (o && o != c) {
		sendf(c, "*** nick %s is taken", nick);
		return;
	}
	if (strcmp(nick, c->nick) == 0)
		return;
	char old[CHAT_NAME_MAX + 1];
	memcpy(old, c->nick, sizeof old);
	memcpy(c->nick, nick, sizeof c->nick);
	if (c->announced)
		room_send(c->srv, c->room, c, "*** %s is now known as %s", old, nick);
	sendf(c, "*** you are now %s", nick);
}

static void do_join(struct client *c, const char *arg, size_t len)
{
	char name[CHAT_NAME_MAX + 1];
	if (len > 1 && arg[0] == '#') {
		arg++;
		len--;
	}
	if (len == 0) {
		sendf(c, "*** you are in %s", c->room->name);
		return;
	}
	if (!take_name(c, arg, len, name, "room"))
		return;
	struct room *r = room_find(c->srv, name, true);
	if (!r) {
		sendf(c, "*** cannot create room %s: out of memory", name);
		return;
	}
	if (r == c->room)
		return;
	if (c->announced)
		room_send(c->srv, c->room, c, "*** %s left (joined %s)", c->nick, r->name);
	room_leave(c);
	c->room = r;
	r->members++;
	if (c->announced)
		room_send(c->srv, r, c, "*** %s joined", c->nick);
	send_who(c, r);
}

static void send_rooms(struct client *c)
{
	char line[8192];
	size_t n = (size_t)snprintf(line, sizeof line, "*** rooms:");
	for (struct room *r = c->srv->rooms; r; r = r->next) {
		int k = snprintf(line + n, sizeof line - n, " %s (%d)", r->name, r->members);
		if (k < 0 || (size_t)k >= sizeof line - n - 8)
			break;
		n += (size_t)k;
	}
	sendf(c, "%s", line);
}

static const char *const help_lines[] = {
    "*** commands:",
    "***   /nick NAME        change your name",
    "***   /who              who is in this room",
    "***   /me TEXT          an action: * NAME TEXT",
    "***   /msg NAME TEXT    a private message",
    "***   /join ROOM        change rooms (the first room is lobby)",
    "***   /rooms            list the rooms",
    "***   /echo on|off      also send your own lines back to you",
    "***   /quit [REASON]    leave",
    "***   //TEXT            a line that starts with /",
};

/* Every command answers: one given too little, or more than it takes, gets
 * its usage line rather than silence or acting on part of the line. */
static void send_usage(struct client *c, const char *form)
{
	sendf(c, "*** usage: %s", form);
}

static bool has_space(const char *s, size_t len)
{
	return memchr(s, ' ', len) != NULL;
}

static void handle_line(struct client *c, const char *raw, size_t rawlen, bool cut)
{
	struct server *s = c->srv;
	size_t len = chat_sanitize(raw, rawlen, s->scratch);
	const char *line = s->scratch;
	if (cut)
		sendf(c, "*** your line was longer than %ld bytes: it was cut", s->max_line);
	struct chat_parsed p;
	chat_parse(line, len, &p);
	if (p.cmd != CHAT_NICK && p.cmd != CHAT_JOIN && p.cmd != CHAT_ECHO)
		announce_join(c);
	switch (p.cmd) {
	case CHAT_TEXT:
		if (p.arglen == 0)
			return;
		room_send(s, c->room, c->echo ? NULL : c, "<%s> %.*s", c->nick, (int)p.arglen,
			  p.arg);
		return;
	case CHAT_ME:
		if (p.arglen == 0) {
			send_usage(c, "/me TEXT");
			return;
		}
		room_send(s, c->room, c->echo ? NULL : c, "* %s %.*s", c->nick, (int)p.arglen,
			  p.arg);
		return;
	case CHAT_NICK:
		if (has_space(p.arg, p.arglen))
			send_usage(c, "/nick NAME");
		else
			do_nick(c, p.arg, p.arglen);
		return;
	case CHAT_JOIN:
		if (has_space(p.arg, p.arglen))
			send_usage(c, "/join ROOM");
		else
			do_join(c, p.arg, p.arglen);
		return;
	case CHAT_WHO:
		if (p.arglen)
			send_usage(c, "/who");
		else
			send_who(c, c->room);
		return;
	case CHAT_ROOMS:
		if (p.arglen)
			send_usage(c, "/rooms");
		else
			send_rooms(c);
		return;
	case CHAT_MSG: {
		char name[CHAT_NAME_MAX + 1];
		struct client *to = NULL;
		if (p.arglen == 0 || p.arg2len == 0) {
			send_usage(c, "/msg NAME TEXT");
			return;
		}
		if (p.arglen <= CHAT_NAME_MAX) {
			memcpy(name, p.arg, p.arglen);
			name[p.arglen] = '\0';
			to = find_nick(s, name);
		}
		if (!to || to->closing) {
			sendf(c, "*** no such nick: %.*s", (int)(p.arglen > 64 ? 64 : p.arglen),
			      p.arg);
			return;
		}
		sendf(to, "*%s* %.*s", c->nick, (int)p.arg2len, p.arg2);
		sendf(c, "-> *%s* %.*s", to->nick, (int)p.arg2len, p.arg2);
		return;
	}
	case CHAT_ECHO:
		if (p.arglen == 2 && strncasecmp(p.arg, "on", 2) == 0)
			c->echo = true;
		else if (p.arglen == 3 && strncasecmp(p.arg, "off", 3) == 0)
			c->echo = false;
		else
			send_usage(c, "/echo on|off");
		return;
	case CHAT_HELP:
		for (size_t i = 0; i < sizeof help_lines / sizeof help_lines[0]; i++)
			sendf(c, "%s", help_lines[i]);
		return;
	case CHAT_QUIT: {
		char why[96];
		if (p.arglen)
			snprintf(why, sizeof why, "quit: %.*s",
				 (int)(p.arglen > 80 ? 80 : p.arglen), p.arg);
		else
			snprintf(why, sizeof why, "quit");
		sendf(c, "*** bye");
		client_close(c, why);
		return;
	}
	case CHAT_UNKNOWN:
		sendf(c, "*** unknown command /%.*s (try /help)",
		      (int)(p.arglen > 32 ? 32 : p.arglen), p.arg);
		return;
	}
}

/* ---- input ---- */

/* Takes one token from the flood bucket; false (and a pause) if empty. */
static bool flood_take(struct client *c)
{
	struct server *s = c->srv;
	if (s->flood <= 0)
		return true;
	int64_t now = loop_now(s->loop);
	c->tokens += (double)(now - c->refilled) * (double)s->flood / 1000.0;
	c->refilled = now;
	if (c->tokens > (double)s->flood)
		c->tokens = (double)s->flood;
	if (c->tokens >= 1.0) {
		c->tokens -= 1.0;
		return true;
	}
	c->throttled = true;
	int64_t wait = (int64_t)((1.0 - c->tokens) * 1000.0 / (double)s->flood) + 1;
	loop_timer_start(s->loop, &c->flood_timer, wait);
	if (!c->warned) {
		c->warned = true;
		sendf(c, "*** flood limit: %ld lines a second; your lines are held back", s->flood);
	}
	return false;
}

/* Handles the complete lines in c->in; at EOF also a last unterminated
 * line. */
static void process_input(struct client *c, bool eof)
{
	struct server *s = c->srv;
	size_t off = 0;
	while (!c->dead && !c->closing && off < c->inlen) {
		const char *line;
		size_t len, used;
		enum chat_frame fr = chat_frame_next(&c->fr, c->in + off, c->inlen - off,
						     (size_t)s->max_line, &line, &len, &used);
		if (fr == CHAT_FRAME_MORE && eof && used == 0) {
			fr = CHAT_FRAME_LINE;
			line = c->in + off;
			len = c->inlen - off;
			used = len;
		}
		if (fr != CHAT_FRAME_MORE && !flood_take(c))
			break;
		off += used;
		if (fr == CHAT_FRAME_MORE) {
			if (used == 0)
				break;
			continue;
		}
		handle_line(c, line, len, fr == CHAT_FRAME_CUT);
	}
	if (c->dead)
		return;
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static void on_flood_timer(struct loop *l, void *arg)
{
	(void)l;
	struct client *c = arg;
	c->throttled = false;
	process_input(c, c->eof);
	if (!c->dead) {
		if (!c->throttled)
			c->warned = false;
		if (c->eof && !c->throttled)
			client_close(c, "");
		else
			client_flush(c);
	}
	reap(c->srv);
}

/* Leaves the room now, then closes once the queue is written (or the
 * grace time is over). */
static void client_close(struct client *c, const char *why)
{
	if (c->closing || c->dead)
		return;
	struct server *s = c->srv;
	if (c->announced && why)
		room_send(s, c->room, c, "*** %s left%s%s%s", c->nick, *why ? " (" : "", why,
			  *why ? ")" : "");
	batch_flush(s); /* lines posted before it closed are still its to take */
	c->announced = false;
	c->closing = true;
	loop_timer_stop(s->loop, &c->flood_timer);
	loop_timer_start(s->loop, &c->timer, CLOSE_GRACE_MS);
	client_flush(c);
}

static void client_io(struct loop *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)fd;
	struct client *c = arg;
	struct server *s = c->srv;
	/* A few reads while they fill the buffer: a burst of lines makes one
	 * batch, one write per member, not one per read. */
	for (int i = 0; i < READS_PER_EVENT && (mask & MUX_READ) && !c->dead && !c->closing &&
			!c->throttled && c->inlen < s->incap;
	     i++) {
		size_t want = s->incap - c->inlen;
		ssize_t r = read(c->fd, c->in + c->inlen, want);
		if (r > 0) {
			c->inlen += (size_t)r;
			process_input(c, false);
			if ((size_t)r < want)
				break;
		} else {
			if (r == 0) {
				c->eof = true;
				process_input(c, true);
				if (!c->throttled)
					client_close(c, "");
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				vmsg("chat: read from %s: %s", c->nick, strerror(errno));
				client_kill(c, "connection lost");
			}
			break;
		}
	}
	if (!c->dead && (mask & MUX_WRITE))
		client_flush(c);
	else if (!c->dead && !c->dirty)
		client_flush(c); /* the read mask may have changed */
	reap(s);
}

/* ---- accepting ---- */

static void refuse(int fd, const char *why)
{
	char line[128];
	int n = snprintf(line, sizeof line, "*** %s\n", why);
	ssize_t r = send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)r;
	close(fd);
}

static void guest_name(struct server *s, char *out)
{
	do
		snprintf(out, CHAT_NAME_MAX + 1, "guest%u", ++s->guest_seq);
	while (find_nick(s, out));
}

static void on_accept_timer(struct loop *l, void *arg);

static void on_accept(struct loop *l, int lfd, int mask, void *arg)
{
	(void)mask;
	struct server *s = arg;
	batch_flush(s); /* a new client takes only what is posted after it came */
	for (int i = 0; i < 64; i++) {
		struct sock_addr peer;
		int fd = sock_accept(lfd, &peer);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				errmsg("accept: %s", strerror(errno));
				loop_io_mask(l, lfd, 0);
				loop_timer_start(l, &s->accept_timer, ACCEPT_PAUSE_MS);
			}
			break;
		}
		if (s->nclients >= s->max_clients) {
			refuse(fd, "server full");
			continue;
		}
		struct client *c = calloc(1, sizeof *c);
		char *in = malloc(s->incap);
		if (!c || !in) {
			free(c);
			free(in);
			refuse(fd, "server out of memory");
			continue;
		}
		c->srv = s;
		c->fd = fd;
		c->in = in;
		c->tokens = (double)s->flood;
		c->refilled = loop_now(l);
		timer_init(&c->timer, on_join_timer, c);
		timer_init(&c->flood_timer, on_flood_timer, c);
		c->mask = MUX_READ;
		if (loop_io(l, fd, MUX_READ, client_io, c) < 0) {
			free(in);
			free(c);
			refuse(fd,
			       errno == ERANGE ? "server full" : "server cannot watch this socket");
			continue;
		}
		/* A bounded kernel buffer keeps "not reading" detectable; no
		 * Nagle delay on a chat line. */
		int sndbuf = 64 * 1024, one = 1;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
		if (peer.ss.ss_family != AF_UNIX)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		sock_addr_str((struct sockaddr *)&peer.ss, peer.len, c->addr, sizeof c->addr);
		guest_name(s, c->nick);
		c->room = s->rooms;
		s->rooms->members++;
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		s->clients = c;
		s->nclients++;
		vmsg("chat: %s connected from %s", c->nick, c->addr);
		sendf(c,
		      "*** welcome to sockctl chat, %s: /nick NAME to change names, /help for more",
		      c->nick);
		loop_timer_start(l, &c->timer, JOIN_GRACE_MS);
	}
	reap(s);
}

static void on_accept_timer(struct loop *l, void *arg)
{
	struct server *s = arg;
	if (!s->shutting)
		loop_io(l, s->lfd, MUX_READ, on_accept, s);
}

/* ---- the server's own terminal ---- */

static void on_stdin(struct loop *l, int fd, int mask, void *arg)
{
	(void)mask;
	struct server *s = arg;
	ssize_t r = read(fd, s->stdin_buf + s->stdin_len, sizeof s->stdin_buf - s->stdin_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	bool eof = r <= 0;
	if (r > 0)
		s->stdin_len += (size_t)r;
	size_t off = 0;
	for (;;) {
		const char *line;
		size_t len, used;
		enum chat_frame fr =
		    chat_frame_next_eof(&s->stdin_fr, s->stdin_buf + off, s->stdin_len - off,
					CHAT_LINE_DEFAULT, eof, &line, &len, &used);
		off += used;
		if (fr == CHAT_FRAME_MORE) {
			if (used == 0)
				break;
			continue;
		}
		size_t n = chat_sanitize(line, len, s->scratch);
		if (n)
			room_send(s, NULL, NULL, "<%s> %s", SERVER_NAME, s->scratch);
	}
	memmove(s->stdin_buf, s->stdin_buf + off, s->stdin_len - off);
	s->stdin_len -= off;
	if (eof)
		loop_io(l, fd, 0, NULL, NULL);
	reap(s);
}

/* ---- shutdown ---- */

static void on_shutdown_timer(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct server *s = arg;
	if (s->shutting) {
		loop_stop(l);
		return;
	}
	vmsg("chat: %s: shutting down", strsignal(signo));
	s->shutting = true;
	loop_io(l, s->lfd, 0, NULL, NULL);
	loop_io(l, 0, 0, NULL, NULL);
	loop_timer_stop(l, &s->accept_timer);
	room_send(s, NULL, NULL, "*** server shutting down");
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		c->announced = false; /* no leave notices to a closing room */
		client_close(c, NULL);
	}
	loop_timer_start(l, &s->shutdown_timer, SHUTDOWN_MS);
	reap(s);
}

/* ---- options ---- */

static const char serve_help[] =
    "usage: sockctl chat serve [options] [ADDRESS] PORT\n"
    "       sockctl chat serve [options] -U PATH\n"
    "\n"
    "A chat room server for `sockctl chat connect`, nc or telnet: one line of\n"
    "UTF-8 text is one message; /help lists the commands. Binds 127.0.0.1\n"
    "unless ADDRESS is given (\"*\" or :: for all, IPv4 and IPv6; 0.0.0.0 for all\n"
    "IPv4); port 0 picks a free port. The room is shown on stdout (when nobody\n"
    "reads it, lines of it are dropped and counted on stderr); lines typed on\n"
    "stdin are posted to every room as @server.\n"
    "\n"
    "Options:\n"
    "  -U, --unix=PATH         listen on a Unix socket (@NAME: abstract)\n"
    "  -m, --max-clients=N     at most N clients at once (default 1000)\n"
    "      --max-line=BYTES    longest line; longer ones are cut (default 1024)\n"
    "      --queue=BYTES       output queue per client; a client whose queue is\n"
    "                          full (it stopped reading) is dropped\n"
    "                          (default 262144)\n"
    "      --flood=N           lines a second per client, 0 = no limit (default 20)\n"
    "      --show-addresses    show client addresses in join notices and /who\n"
    "  global options: --mux, -4, -6, -n, -v, -q (see sockctl --help)\n";

enum { OPT_MAXLINE = OPT_BASE, OPT_QUEUE, OPT_FLOOD, OPT_SHOWADDR };

static int parse_serve(struct server *s, struct sock_endpoint *ep, int argc, char **argv)
{
	static const struct option longopts[] = {
	    COMMON_LONGOPTS,
	    {"unix", required_argument, NULL, 'U'},
	    {"max-clients", required_argument, NULL, 'm'},
	    {"max-line", required_argument, NULL, OPT_MAXLINE},
	    {"queue", required_argument, NULL, OPT_QUEUE},
	    {"flood", required_argument, NULL, OPT_FLOOD},
	    {"show-addresses", no_argument, NULL, OPT_SHOWADDR},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = cmd_getopt(argc, argv, COMMON_SHORTOPTS "U:m:", longopts)) != -1) {
		switch (c) {
		case 'h':
			return print_help(serve_help), -1;
		case 'U':
			if (!opt_unix_path(optarg))
				return EXIT_USAGE;
			ep->unix_path = optarg;
			break;
		case 'm':
			if (!parse_long(optarg, 1, 100000, &s->max_clients))
				return usage_error("--max-clients: '%s' is not a number from 1 to "
						   "100000",
						   optarg);
			break;
		case OPT_MAXLINE:
			if (!parse_long(optarg, CHAT_LINE_MIN, CHAT_LINE_LIMIT, &s->max_line))
				return usage_error("--max-line: '%s' is not a number from %d to %d",
						   optarg, CHAT_LINE_MIN, CHAT_LINE_LIMIT);
			break;
		case OPT_QUEUE:
			if (!parse_long(optarg, 4096, 1L << 30, &s->queue_max))
				return usage_error("--queue: '%s' is not a number from 4096 to %ld",
						   optarg, 1L << 30);
			break;
		case OPT_FLOOD:
			if (!parse_long(optarg, 0, 1000000, &s->flood))
				return usage_error(
				    "--flood: '%s' is not a number from 0 to 1000000", optarg);
			break;
		case OPT_SHOWADDR:
			s->show_addr = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	int rest = argc - optind;
	if (ep->unix_path) {
		if (rest != 0)
			return usage_error("no ADDRESS or PORT with --unix");
	} else {
		if (endpoint_operands(rest, argv + optind, ENDPOINT_LISTEN | ENDPOINT_EXACT,
				      SOCK_STREAM, &ep->host, &ep->port) < 0)
			return EXIT_USAGE;
	}
	/* One line may grow three-fold when invalid bytes become U+FFFD,
	 * and a reply must hold a whole line plus a name. */
	if ((size_t)s->queue_max < (size_t)s->max_line * 3 + 64)
		return usage_error("--queue must be at least 3 * --max-line + 64");
	return 0;
}

int chat_serve(int argc, char **argv)
{
	struct server s = {.lfd = -1,
			   .max_clients = 1000,
			   .max_line = CHAT_LINE_DEFAULT,
			   .queue_max = 256 * 1024,
			   .flood = 20};
	struct sock_endpoint ep = {.socktype = SOCK_STREAM, .family = AF_UNSPEC, .numeric = false};
	int r = parse_serve(&s, &ep, argc, argv);
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	ep.family = g_opts.family;
	ep.numeric = g_opts.numeric;

	int status = EXIT_FAIL;
	s.loop = cmd_loop((int)s.max_clients + 16, &status);
	if (!s.loop)
		return status;
	/* The room on stdout is a log: a reader that stalls loses lines of
	 * it, the clients lose nothing. */
	logs_start(s.loop, "lines of the room");
	int limit = loop_fd_limit(s.loop);
	if (limit > 0 && s.max_clients > limit - 32) {
		/* select: stay below FD_SETSIZE with room for our own fds. */
		s.max_clients = limit - 32;
		vmsg("chat: mux=%s holds at most %ld clients", loop_backend(s.loop), s.max_clients);
	}
	s.incap = (size_t)s.max_line + 2 > 16384 ? (size_t)s.max_line + 2 : 16384;
	s.scratch = malloc(
	    (size_t)(s.max_line > CHAT_LINE_DEFAULT ? s.max_line : CHAT_LINE_DEFAULT) * 3 + 1);
	s.fmtcap = (size_t)(s.max_line > 8192 ? s.max_line : 8192) * 3 + 256;
	s.fmt = malloc(s.fmtcap);
	s.bcap = s.fmtcap > BATCH_MIN ? s.fmtcap : BATCH_MIN;
	s.batch = malloc(s.bcap);
	s.rooms = calloc(1, sizeof *s.rooms);
	if (!s.scratch || !s.fmt || !s.batch || !s.rooms) {
		errmsg("chat serve: out of memory");
		goto out;
	}
	snprintf(s.rooms->name, sizeof s.rooms->name, "lobby");

	/* stdin may be closed, /dev/null or a file: post what it holds.
	 * Watched before the listener exists so a closed fd 0 cannot be
	 * taken for it. */
	loop_io(s.loop, 0, MUX_READ, on_stdin, &s);
	char err[SOCK_ERRLEN];
	struct sock_addr bound;
	s.lfd =
	    sock_listen(&ep, &(struct sock_listen_opts){.backlog = 1024}, &bound, err, sizeof err);
	if (s.lfd < 0) {
		errmsg("%s", err);
		goto out;
	}
	timer_init(&s.shutdown_timer, on_shutdown_timer, &s);
	timer_init(&s.accept_timer, on_accept_timer, &s);
	timer_init(&s.flush_timer, on_flush_timer, &s);
	if (loop_io(s.loop, s.lfd, MUX_READ, on_accept, &s) < 0 ||
	    loop_signal(s.loop, SIGINT, on_signal, &s) < 0 ||
	    loop_signal(s.loop, SIGTERM, on_signal, &s) < 0) {
		errmsg("event loop: %s", strerror(errno));
		goto out;
	}
	char where[SOCK_ADDRSTRLEN];
	sock_addr_str((struct sockaddr *)&bound.ss, bound.len, where, sizeof where);
	errmsg("listening on %s (%s, mux=%s)", where,
	       sock_proto_name(bound.ss.ss_family, SOCK_STREAM), loop_backend(s.loop));
	if (loop_run(s.loop) < 0) {
		errmsg("event loop: %s", strerror(errno));
		goto out;
	}
	status = EXIT_OK;
out:
	for (struct client *c = s.clients, *next; c; c = next) {
		next = c->next;
		client_kill(c, NULL);
	}
	for (struct client *c = s.grave, *next; c; c = next) {
		next = c->next;
		client_free(c);
	}
	while (s.rooms) {
		struct room *n = s.rooms->next;
		free(s.rooms);
		s.rooms = n;
	}
	if (s.lfd >= 0) {
		loop_io(s.loop, s.lfd, 0, NULL, NULL);
		close(s.lfd);
	}
	free(s.scratch);
	free(s.fmt);
	free(s.batch);
	logs_end(LOGS_END_MS);
	loop_free(s.loop);
	return status;
}
