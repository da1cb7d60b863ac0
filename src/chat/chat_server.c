/* The chat hub's engine. Every member has a bounded input buffer (framed
 * into lines), an output queue (core/outq) bounded by --queue, a flood
 * bucket and a room. A member whose queue is full is dropped, so one
 * stalled reader never holds the room back. Members that die while a
 * broadcast is under way go to a graveyard and are announced and freed
 * by reap() when the callback ends, so no list is changed under an
 * iteration.
 *
 * Broadcast lines are framed into one batch while they go to the same
 * room from the same sender. The batch is stored once, in one shared
 * chunk: it is written straight from there to every member whose queue
 * is empty (one write per member per read of the sender), and what a
 * member's stream does not take is queued by reference to the chunk, not
 * copied. Anything else sent to a member, and any change of who is in a
 * room, first delivers the pending batch, so every member sees lines in
 * order. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "chat/chat_proto.h"
#include "chat/chat_server.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/outq.h"
#include "net/acceptor.h"
#include "net/tls_accept.h"
#include "net/sock.h"
#include "net/stream.h"

#define SERVER_NAME	"@server"
#define JOIN_GRACE_MS	500  /* time a new member has to send /nick and /join quietly */
#define CLOSE_GRACE_MS	3000 /* time a leaving member has to take its last lines */
#define SHUTDOWN_MS	2000
#define READS_PER_EVENT 4    /* at most 4 reads of incap from one member per event */
#define DIRECT_MIN	1024 /* smaller batches are queued, written once per loop iteration */
/* Room for what one event reads from a sender (READS_PER_EVENT * 16 KiB),
 * framed, with the "<NICK> " each line gains: a batch cut in two costs
 * every member a second write, nearly as dear as the first. */
#define BATCH_MIN (256 * 1024)

struct chat_room {
	char name[CHAT_NAME_MAX + 1];
	int members;
	struct chat_room *next;
};

struct chat_member {
	struct chat_server *srv;	 /* not owned */
	struct stream *st;		 /* owned; NULL once dead */
	struct chat_member *prev, *next; /* live members, or the graveyard (next only) */
	struct chat_member *dnext;	 /* dirty list: has output to write */
	bool dirty;
	struct chat_room *room; /* not owned; NULL once left */
	char nick[CHAT_NAME_MAX + 1];
	char addr[SOCK_ADDRSTRLEN];
	char subject[256]; /* a verified client certificate's, or "" */
	char *in;	   /* owned, srv->incap bytes */
	size_t inlen;
	struct chat_framer fr;
	struct outq q;
	double tokens;
	int64_t refilled;
	bool throttled, warned, announced, closing, dead, echo, eof;
	const char *why;	  /* leave notice to give when reaped; NULL = none */
	struct timer timer;	  /* join announcement, then close deadline */
	struct timer flood_timer; /* resumes reading after a flood pause */
};

struct chat_server {
	struct loop *loop;
	struct chat_server_cfg cfg;
	struct acceptor *acc;  /* owned; NULL when not accepting */
	struct tls_accepts hs; /* with cfg.tls: the handshakes under way */
	struct chat_member *clients, *grave, *dirty;
	int nclients;
	struct chat_room *rooms; /* owned list; the lobby is first and stays */
	unsigned guest_seq;
	size_t incap;
	bool shutting, stopped;
	struct timer shutdown_timer;
	struct timer flush_timer; /* end of this loop iteration: write, reap */
	char *scratch;		  /* owned: sanitised line, 3 * max_line + 1 */
	char *fmt;		  /* owned: one formatted outgoing line */
	size_t fmtcap;
	/* the pending broadcast: lines for room broom (NULL: all rooms),
	 * everyone there but bexcept */
	char *batch; /* owned, bcap bytes */
	size_t blen, bcap;
	struct chat_room *broom;
	struct chat_member *bexcept;
	struct chat_server_stats st;
};

static void member_io(struct stream *st, int ready, void *arg);
static void member_close(struct chat_member *c, const char *why);
static void reap(struct chat_server *s);

/* ---- rooms ---- */

static struct chat_room *room_find(struct chat_server *s, const char *name, bool create)
{
	for (struct chat_room *r = s->rooms; r; r = r->next)
		if (chat_name_eq(r->name, name))
			return r;
	if (!create)
		return NULL;
	struct chat_room *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	snprintf(r->name, sizeof r->name, "%s", name);
	r->next = s->rooms->next; /* after the lobby */
	s->rooms->next = r;
	return r;
}

static void batch_flush(struct chat_server *s);

static void room_leave(struct chat_member *c)
{
	struct chat_room *r = c->room;
	if (!r)
		return;
	batch_flush(c->srv); /* its lines went to the members it had */
	c->room = NULL;
	if (--r->members > 0 || r == c->srv->rooms)
		return;
	for (struct chat_room *p = c->srv->rooms; p->next; p = p->next)
		if (p->next == r) {
			p->next = r->next;
			free(r);
			return;
		}
}

/* ---- output ---- */

static void member_kill(struct chat_member *c, const char *why)
{
	if (c->dead)
		return;
	struct chat_server *s = c->srv;
	c->dead = true;
	c->why = c->announced && c->room ? why : NULL;
	stream_close(c->st);
	c->st = NULL;
	outq_clear(&c->q); /* the references to shared batches go now */
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

/* Whether what c's stream has taken so far ends inside a line. All that
 * is queued for a member is whole lines, and a queued piece starts
 * inside its chunk only when the part before it was written: so the
 * written bytes end mid-line exactly when the byte before the first
 * queued one is not a newline. */
static bool mid_line(const struct outq *q)
{
	if (outq_empty(q))
		return false;
	const struct outq_seg *g = &q->seg[q->head];
	return g->off > 0 && g->c->data[g->off - 1] != '\n';
}

/* The queue policy: a member whose queue is full has stopped reading and
 * is dropped. mid: what its stream took ends inside a line. */
static void drop_full(struct chat_member *c, bool mid)
{
	/* Best effort, straight into the stream (most likely full as well),
	 * on a line of its own: not glued to the half of a line it took. */
	static const char bye[] = "\n*** dropped: your output queue is full (not reading)\n";
	const char *p = mid ? bye : bye + 1;
	ssize_t r = stream_write(c->st, p, strlen(p));
	(void)r;
	log_info("chat: %s dropped: output queue full (%zu bytes)", c->nick, outq_len(&c->q));
	c->srv->st.dropped++;
	member_kill(c, "dropped: not reading");
}

/* What the stream wants: READ unless closing or held back by the flood
 * limit, WRITE while something is queued. Called after every attempt to
 * write, since a stream (TLS) may need other fd events now. A closing
 * member that has taken everything is closed. */
static void member_watch(struct chat_member *c)
{
	if (c->closing && outq_empty(&c->q)) {
		member_kill(c, NULL);
		return;
	}
	int want =
	    (outq_empty(&c->q) ? 0 : STREAM_WRITE) | (c->closing || c->throttled ? 0 : STREAM_READ);
	if (stream_want(c->st, want) < 0) {
		log_info("chat: %s: %s", c->nick, strerror(errno));
		member_kill(c, "connection lost");
	}
}

static void mark_dirty(struct chat_member *c)
{
	if (!c->dirty) {
		c->dirty = true;
		c->dnext = c->srv->dirty;
		c->srv->dirty = c;
	}
}

/* The outcome of an outq call for c: false when c is gone. */
static bool queued(struct chat_member *c, int r, bool mid)
{
	if (r == OUTQ_OK)
		return true;
	if (r == OUTQ_FULL)
		drop_full(c, mid);
	else if (r == OUTQ_NOMEM)
		member_kill(c, "dropped: out of memory");
	else {
		log_info("chat: write to %s: %s", c->nick, strerror(errno));
		member_kill(c, "connection lost");
	}
	return false;
}

/* A line (or lines) for c alone: copied into its queue, written at the
 * end of this loop iteration. */
static void queue(struct chat_member *c, const char *data, size_t len)
{
	if (c->dead)
		return;
	bool was_empty = outq_empty(&c->q);
	if (!queued(c, outq_add(&c->q, data, len), mid_line(&c->q)))
		return;
	c->srv->st.copy_bytes += len;
	/* A queue that held bytes already waits for WRITE. */
	if (was_empty)
		mark_dirty(c);
}

/* Gives c the batch in chunk b: written at once when c has nothing
 * queued (and the batch is big enough to be worth its own write), what
 * the stream does not take queued by reference. */
static void deliver(struct chat_member *c, struct outq_chunk *b)
{
	if (c->dead)
		return;
	struct chat_server *s = c->srv;
	size_t len = b->len;
	if (outq_empty(&c->q) && len >= DIRECT_MIN) {
		size_t w = 0;
		int r = outq_write_ref(&c->q, c->st, b, 0, len, &w);
		if (!queued(c, r, w > 0 && b->data[w - 1] != '\n'))
			return;
		if (w < len) {
			s->st.ref_bytes += len - w;
			member_watch(c);
		}
		return;
	}
	bool was_empty = outq_empty(&c->q);
	if (!queued(c, outq_add_ref(&c->q, b, 0, len), mid_line(&c->q)))
		return;
	s->st.ref_bytes += len;
	if (was_empty)
		mark_dirty(c);
}

/* Delivers the pending broadcast batch, if any, to its recipients: one
 * chunk, shared by every queue that keeps part of it. */
static void batch_flush(struct chat_server *s)
{
	if (s->blen == 0)
		return;
	size_t len = s->blen;
	s->blen = 0;
	/* Sized to the batch: a member's queue may keep it long after. */
	struct outq_chunk *b = outq_chunk_new(len);
	if (!b) {
		log_error("chat: out of memory for %zu bytes of a room's lines", len);
		return;
	}
	memcpy(b->data, s->batch, len);
	b->len = len;
	s->st.batches++;
	s->st.batch_bytes += len;
	for (struct chat_member *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c != s->bexcept && !c->closing && (!s->broom || c->room == s->broom))
			deliver(c, b);
	}
	s->st.last_refs = b->refs;
	outq_chunk_unref(b);
}

/* Formats one line into the server's scratch buffer, cut to fit, with
 * its newline added; returns its length without the newline, or -1. */
__attribute__((format(printf, 2, 0))) static int format_line(struct chat_server *s, const char *fmt,
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

static void sendf(struct chat_member *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sendf(struct chat_member *c, const char *fmt, ...)
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

/* Adds the line s->fmt[0..n] (newline included) to the batch for room r
 * (all rooms if NULL), everyone there but except, and shows it. */
static void post(struct chat_server *s, struct chat_room *r, struct chat_member *except, size_t n)
{
	if (s->cfg.show)
		s->cfg.show(s->cfg.arg, r ? r->name : "*", s->fmt, n - 1);
	if (s->blen && (s->broom != r || s->bexcept != except || s->blen + n > s->bcap))
		batch_flush(s);
	s->broom = r;
	s->bexcept = except;
	memcpy(s->batch + s->blen, s->fmt, n);
	s->blen += n;
}

/* Sends a line to every member of room r (all rooms if NULL) except
 * `except`, and shows it. */
static void room_send(struct chat_server *s, struct chat_room *r, struct chat_member *except,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void room_send(struct chat_server *s, struct chat_room *r, struct chat_member *except,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = format_line(s, fmt, ap);
	va_end(ap);
	if (n >= 0)
		post(s, r, except, (size_t)n + 1);
}

/* What most lines are, "<NICK> TEXT" (or "* NICK TEXT" for /me), put
 * together without printf: a room's burst goes through here line by
 * line. Cut to fit as room_send's lines are. */
static void room_say(struct chat_server *s, struct chat_room *r, struct chat_member *except,
		     bool action, const char *nick, const char *text, size_t len)
{
	size_t nl = strlen(nick), head = nl + 3, max = s->fmtcap - 2;
	if (head + len > max)
		len = max - head;
	char *p = s->fmt;
	*p++ = action ? '*' : '<';
	if (action)
		*p++ = ' ';
	memcpy(p, nick, nl);
	p += nl;
	if (!action)
		*p++ = '>';
	*p++ = ' ';
	memcpy(p, text, len);
	p += len;
	*p++ = '\n';
	post(s, r, except, (size_t)(p - s->fmt));
}

/* Writes what is queued for c, as much as its stream takes. */
static void member_flush(struct chat_member *c)
{
	if (!outq_empty(&c->q) && outq_flush(&c->q, c->st) < 0) {
		log_info("chat: write to %s: %s", c->nick, strerror(errno));
		member_kill(c, "connection lost");
		return;
	}
	member_watch(c);
}

static void member_free(struct chat_member *c)
{
	outq_clear(&c->q);
	free(c->in);
	free(c);
}

/* Writes what is queued, announces and frees the dead, until settled.
 * Runs from a timer due at once, that is after every event of this loop
 * iteration: a burst of lines or of joins costs one write per member, not
 * one per line. */
static void on_flush_timer(struct loop *l, void *arg)
{
	(void)l;
	struct chat_server *s = arg;
	for (;;) {
		batch_flush(s);
		while (s->dirty) {
			struct chat_member *c = s->dirty;
			s->dirty = c->dnext;
			c->dirty = false;
			if (!c->dead)
				member_flush(c);
		}
		if (!s->grave)
			break;
		struct chat_member *g = s->grave;
		s->grave = NULL;
		while (g) {
			struct chat_member *c = g;
			g = c->next;
			if (c->why)
				room_send(s, c->room, NULL, "*** %s left%s%s%s", c->nick,
					  *c->why ? " (" : "", c->why, *c->why ? ")" : "");
			room_leave(c);
			member_free(c);
		}
	}
	if (s->shutting && !s->clients && !s->stopped) {
		s->stopped = true;
		loop_timer_stop(s->loop, &s->shutdown_timer);
		if (s->cfg.stopped)
			s->cfg.stopped(s->cfg.arg);
	}
}

static void reap(struct chat_server *s)
{
	batch_flush(s);
	if ((s->dirty || s->grave || (s->shutting && !s->stopped)) && !timer_armed(&s->flush_timer))
		loop_timer_start(s->loop, &s->flush_timer, 0);
}

/* ---- commands ---- */

static struct chat_member *find_nick(struct chat_server *s, const char *nick)
{
	for (struct chat_member *c = s->clients; c; c = c->next)
		if (chat_name_eq(c->nick, nick))
			return c;
	return NULL;
}

static void announce_join(struct chat_member *c)
{
	if (c->announced || c->closing || !c->room)
		return;
	c->announced = true;
	loop_timer_stop(c->srv->loop, &c->timer);
	if (c->srv->cfg.show_addr)
		room_send(c->srv, c->room, c, "*** %s joined (%s)", c->nick, c->addr);
	else
		room_send(c->srv, c->room, c, "*** %s joined", c->nick);
}

static void on_join_timer(struct loop *l, void *arg)
{
	(void)l;
	struct chat_member *c = arg;
	if (c->closing) {
		member_kill(c, NULL);
	} else {
		announce_join(c);
	}
	reap(c->srv);
}

/* Lists the names in room r (or everyone) into one reply line. */
static void send_who(struct chat_member *to, struct chat_room *r)
{
	struct chat_server *s = to->srv;
	char line[8192];
	size_t n = (size_t)snprintf(line, sizeof line, "*** in %s:", r ? r->name : "all rooms");
	for (struct chat_member *c = s->clients; c; c = c->next) {
		if (c->closing || (r && c->room != r))
			continue;
		int k = s->cfg.show_addr
			    ? snprintf(line + n, sizeof line - n, " %s (%s)", c->nick, c->addr)
			    : snprintf(line + n, sizeof line - n, " %s", c->nick);
		if (k >= 0 && (size_t)k < sizeof line - n - 8 && c->subject[0])
			k += snprintf(line + n + k, sizeof line - n - (size_t)k, " [%s]",
				      c->subject);
		if (k < 0 || (size_t)k >= sizeof line - n - 8) {
			snprintf(line + n, sizeof line - n, " ...");
			break;
		}
		n += (size_t)k;
	}
	sendf(to, "%s", line);
}

static bool take_name(struct chat_member *c, const char *arg, size_t len, char *out,
		      const char *what)
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

static void do_nick(struct chat_member *c, const char *arg, size_t len)
{
	char nick[CHAT_NAME_MAX + 1];
	if (len == 0) {
		sendf(c, "*** you are %s", c->nick);
		return;
	}
	if (!take_name(c, arg, len, nick, "nick"))
		return;
	struct chat_member *o = find_nick(c->srv, nick);
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

static void do_join(struct chat_member *c, const char *arg, size_t len)
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
	struct chat_room *r = room_find(c->srv, name, true);
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

static void send_rooms(struct chat_member *c)
{
	char line[8192];
	size_t n = (size_t)snprintf(line, sizeof line, "*** rooms:");
	for (struct chat_room *r = c->srv->rooms; r; r = r->next) {
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
static void send_usage(struct chat_member *c, const char *form)
{
	sendf(c, "*** usage: %s", form);
}

static bool has_space(const char *s, size_t len)
{
	return memchr(s, ' ', len) != NULL;
}

static void handle_line(struct chat_member *c, const char *raw, size_t rawlen, bool cut)
{
	struct chat_server *s = c->srv;
	size_t len = chat_sanitize(raw, rawlen, s->scratch);
	const char *line = s->scratch;
	if (cut)
		sendf(c, "*** your line was longer than %ld bytes: it was cut", s->cfg.max_line);
	struct chat_parsed p;
	chat_parse(line, len, &p);
	if (p.cmd != CHAT_NICK && p.cmd != CHAT_JOIN && p.cmd != CHAT_ECHO)
		announce_join(c);
	switch (p.cmd) {
	case CHAT_TEXT:
		if (p.arglen == 0)
			return;
		room_say(s, c->room, c->echo ? NULL : c, false, c->nick, p.arg, p.arglen);
		return;
	case CHAT_ME:
		if (p.arglen == 0) {
			send_usage(c, "/me TEXT");
			return;
		}
		room_say(s, c->room, c->echo ? NULL : c, true, c->nick, p.arg, p.arglen);
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
		struct chat_member *to = NULL;
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
		member_close(c, why);
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
static bool flood_take(struct chat_member *c)
{
	struct chat_server *s = c->srv;
	if (s->cfg.flood <= 0)
		return true;
	int64_t now = loop_now(s->loop);
	c->tokens += (double)(now - c->refilled) * (double)s->cfg.flood / 1000.0;
	c->refilled = now;
	if (c->tokens > (double)s->cfg.flood)
		c->tokens = (double)s->cfg.flood;
	if (c->tokens >= 1.0) {
		c->tokens -= 1.0;
		return true;
	}
	c->throttled = true;
	int64_t wait = (int64_t)((1.0 - c->tokens) * 1000.0 / (double)s->cfg.flood) + 1;
	loop_timer_start(s->loop, &c->flood_timer, wait);
	if (!c->warned) {
		c->warned = true;
		sendf(c, "*** flood limit: %ld lines a second; your lines are held back",
		      s->cfg.flood);
	}
	return false;
}

/* Handles the complete lines in c->in; at EOF also a last unterminated
 * line. */
static void process_input(struct chat_member *c, bool eof)
{
	struct chat_server *s = c->srv;
	size_t off = 0;
	while (!c->dead && !c->closing && off < c->inlen) {
		const char *line;
		size_t len, used;
		enum chat_frame fr = chat_frame_next(&c->fr, c->in + off, c->inlen - off,
						     (size_t)s->cfg.max_line, &line, &len, &used);
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
	struct chat_member *c = arg;
	c->throttled = false;
	process_input(c, c->eof);
	if (!c->dead) {
		if (!c->throttled)
			c->warned = false;
		if (c->eof && !c->throttled)
			member_close(c, "");
		else
			member_watch(c);
	}
	reap(c->srv);
}

/* Leaves the room now, then closes once the queue is written (or the
 * grace time is over). */
static void member_close(struct chat_member *c, const char *why)
{
	if (c->closing || c->dead)
		return;
	struct chat_server *s = c->srv;
	if (c->announced && why)
		room_send(s, c->room, c, "*** %s left%s%s%s", c->nick, *why ? " (" : "", why,
			  *why ? ")" : "");
	batch_flush(s); /* lines posted before it closed are still its to take */
	if (c->dead)
		return; /* it took them no more: dropped */
	c->announced = false;
	c->closing = true;
	loop_timer_stop(s->loop, &c->flood_timer);
	loop_timer_start(s->loop, &c->timer, CLOSE_GRACE_MS);
	member_watch(c);
}

static void member_io(struct stream *st, int ready, void *arg)
{
	(void)st;
	struct chat_member *c = arg;
	struct chat_server *s = c->srv;
	/* A few reads while they fill the buffer: a burst of lines makes one
	 * batch, one write per member, not one per read. */
	for (int i = 0; i < READS_PER_EVENT && (ready & STREAM_READ) && !c->dead && !c->closing &&
			!c->throttled && c->inlen < s->incap;
	     i++) {
		size_t want = s->incap - c->inlen;
		ssize_t r = stream_read(c->st, c->in + c->inlen, want);
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
					member_close(c, "");
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				log_info("chat: read from %s: %s", c->nick, strerror(errno));
				member_kill(c, "connection lost");
			}
			break;
		}
	}
	if (!c->dead) {
		if (ready & STREAM_WRITE)
			member_flush(c);
		else
			member_watch(c); /* the read side may have changed */
	}
	reap(s);
}

/* ---- members ---- */

/* Best effort: a line the stream takes at once, then the close. */
static void refuse(struct stream *st, const char *why)
{
	char line[128];
	int n = snprintf(line, sizeof line, "*** %s\n", why);
	ssize_t r = stream_write(st, line, (size_t)n);
	(void)r;
	stream_close(st);
}

static void guest_name(struct chat_server *s, char *out)
{
	do
		snprintf(out, CHAT_NAME_MAX + 1, "guest%u", ++s->guest_seq);
	while (find_nick(s, out));
}

bool chat_server_add(struct chat_server *s, struct stream *st, const char *addr)
{
	batch_flush(s); /* a new member takes only what is posted after it came */
	if (s->shutting || s->nclients >= s->cfg.max_clients) {
		refuse(st, "server full");
		return false;
	}
	struct chat_member *c = calloc(1, sizeof *c);
	char *in = malloc(s->incap);
	if (!c || !in) {
		free(c);
		free(in);
		refuse(st, "server out of memory");
		return false;
	}
	c->srv = s;
	c->st = st;
	c->in = in;
	outq_init(&c->q, (size_t)s->cfg.queue_max);
	c->tokens = (double)s->cfg.flood;
	c->refilled = loop_now(s->loop);
	timer_init(&c->timer, on_join_timer, c);
	timer_init(&c->flood_timer, on_flood_timer, c);
	stream_set_cb(st, member_io, c);
	if (stream_want(st, STREAM_READ) < 0) {
		free(in);
		free(c);
		refuse(st, errno == ERANGE ? "server full" : "server cannot watch this socket");
		return false;
	}
	snprintf(c->addr, sizeof c->addr, "%s", addr ? addr : "?");
	tls_peer_subject(st, c->subject, sizeof c->subject);
	guest_name(s, c->nick);
	c->room = s->rooms;
	s->rooms->members++;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	if (c->subject[0])
		log_info("chat: %s connected from %s, certificate %s", c->nick, c->addr,
			 c->subject);
	else
		log_info("chat: %s connected from %s", c->nick, c->addr);
	sendf(c, "*** welcome to sockctl chat, %s: /nick NAME to change names, /help for more",
	      c->nick);
	loop_timer_start(s->loop, &c->timer, JOIN_GRACE_MS);
	reap(s);
	return true;
}

/* ---- accepting ---- */

static int admit(void *arg, int fd, const struct sock_addr *peer, const char **say)
{
	struct chat_server *s = arg;
	if (s->nclients + s->hs.n >= s->cfg.max_clients) {
		/* A TLS client could not read a plain line. */
		*say = s->cfg.tls ? NULL : "*** server full\n";
		return ACCEPT_REFUSE;
	}
	/* A bounded kernel buffer keeps "not reading" detectable; no Nagle
	 * delay on a chat line. */
	int sndbuf = 64 * 1024, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (peer->ss.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return ACCEPT_KEEP;
}

static void member_ready(void *arg, struct stream *st, const struct sock_addr *peer)
{
	char addr[SOCK_ADDRSTRLEN];
	sock_addr_str((const struct sockaddr *)&peer->ss, peer->len, addr, sizeof addr);
	chat_server_add(arg, st, addr);
}

static void accepted(void *arg, struct stream *st, const struct sock_addr *peer)
{
	struct chat_server *s = arg;
	if (s->cfg.tls)
		tls_accepts_start(&s->hs, st, peer);
	else
		member_ready(s, st, peer);
}

static void accept_warn(void *arg, const char *text)
{
	(void)arg;
	log_error("%s", text);
}

int chat_server_listen(struct chat_server *s, int lfd)
{
	struct acceptor_cfg ac = {
	    .lfd = lfd, .admit = admit, .accepted = accepted, .warn = accept_warn, .arg = s};
	acceptor_free(s->acc);
	s->acc = acceptor_new(s->loop, &ac);
	return s->acc ? 0 : -1;
}

/* ---- the server's own lines, and its end ---- */

void chat_server_say(struct chat_server *s, const char *line, size_t len)
{
	if (s->shutting)
		return;
	if (len > CHAT_LINE_DEFAULT)
		len = CHAT_LINE_DEFAULT;
	size_t n = chat_sanitize(line, len, s->scratch);
	if (n)
		room_say(s, NULL, NULL, false, SERVER_NAME, s->scratch, n);
	/* The lines of one read of the program's stdin make one batch:
	 * delivered at the end of this loop iteration. */
	if (!timer_armed(&s->flush_timer))
		loop_timer_start(s->loop, &s->flush_timer, 0);
}

static void on_shutdown_timer(struct loop *l, void *arg)
{
	(void)l;
	struct chat_server *s = arg;
	if (!s->stopped) {
		s->stopped = true;
		if (s->cfg.stopped)
			s->cfg.stopped(s->cfg.arg);
	}
}

void chat_server_shutdown(struct chat_server *s)
{
	if (s->shutting)
		return;
	s->shutting = true;
	acceptor_free(s->acc);
	s->acc = NULL;
	tls_accepts_cancel(&s->hs);
	room_send(s, NULL, NULL, "*** server shutting down");
	for (struct chat_member *c = s->clients, *next; c; c = next) {
		next = c->next;
		c->announced = false; /* no leave notices to a closing room */
		member_close(c, NULL);
	}
	loop_timer_start(s->loop, &s->shutdown_timer, SHUTDOWN_MS);
	reap(s);
}

struct chat_server *chat_server_new(struct loop *l, const struct chat_server_cfg *cfg)
{
	struct chat_server *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->loop = l;
	s->cfg = *cfg;
	long ml = cfg->max_line;
	s->incap = (size_t)ml + 2 > 16384 ? (size_t)ml + 2 : 16384;
	s->scratch = malloc((size_t)(ml > CHAT_LINE_DEFAULT ? ml : CHAT_LINE_DEFAULT) * 3 + 1);
	s->fmtcap = (size_t)(ml > 8192 ? ml : 8192) * 3 + 256;
	s->fmt = malloc(s->fmtcap);
	s->bcap = s->fmtcap > BATCH_MIN ? s->fmtcap : BATCH_MIN;
	s->batch = malloc(s->bcap);
	s->rooms = calloc(1, sizeof *s->rooms);
	if (!s->scratch || !s->fmt || !s->batch || !s->rooms) {
		chat_server_free(s);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(s->rooms->name, sizeof s->rooms->name, "lobby");
	tls_accepts_init(&s->hs, l, cfg->tls, cfg->handshake_ms, member_ready, s);
	timer_init(&s->shutdown_timer, on_shutdown_timer, s);
	timer_init(&s->flush_timer, on_flush_timer, s);
	return s;
}

void chat_server_free(struct chat_server *s)
{
	if (!s)
		return;
	acceptor_free(s->acc);
	tls_accepts_cancel(&s->hs);
	for (struct chat_member *c = s->clients, *next; c; c = next) {
		next = c->next;
		member_kill(c, NULL);
	}
	for (struct chat_member *c = s->grave, *next; c; c = next) {
		next = c->next;
		member_free(c);
	}
	while (s->rooms) {
		struct chat_room *n = s->rooms->next;
		free(s->rooms);
		s->rooms = n;
	}
	loop_timer_stop(s->loop, &s->shutdown_timer);
	loop_timer_stop(s->loop, &s->flush_timer);
	free(s->scratch);
	free(s->fmt);
	free(s->batch);
	free(s);
}

void chat_server_stats(const struct chat_server *s, struct chat_server_stats *st)
{
	*st = s->st;
	st->members = (unsigned)s->nclients;
}
