#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/outq.h"
#include "core/sbuf.h"
#include "core/text_escape.h"
#include "forward/fault_control.h"
#include "forward/fault_ctl.h"
#include "net/acceptor.h"
#include "net/stream.h"

/* Answers waiting for a controller that does not read them: past this
 * it is closed (a controller that only writes would grow it forever). */
#define ANSWERS_MAX (256 * 1024)

struct fc_client {
	struct fault_control *fc;
	struct fc_client *prev, *next;
	struct stream *s; /* owned */
	struct outq q;
	char line[FAULT_CTL_LINE];
	size_t len;
	bool overlong; /* the line being read is too long: skip to its end */
	bool eof;
};

struct fault_control {
	struct loop *loop;
	int lfd; /* owned */
	struct acceptor *acc;
	struct fault_set *fs; /* not owned */
	struct fc_client *clients;
	size_t n;
	struct sbuf out;
};

static void client_close(struct fc_client *c)
{
	struct fault_control *fc = c->fc;
	if (c->prev)
		c->prev->next = c->next;
	else
		fc->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	fc->n--;
	outq_clear(&c->q);
	stream_close(c->s);
	free(c);
}

/* Answers one line; false when the answer cannot be queued. */
static bool answer(struct fc_client *c, const char *line, size_t len)
{
	struct fault_control *fc = c->fc;
	sb_reset(&fc->out);
	if (c->overlong)
		sb_printf(&fc->out, "error: a line longer than %d bytes\n", FAULT_CTL_LINE - 1);
	else
		fault_ctl_line(fc->fs, line, len, &fc->out);
	if (!fc->out.len)
		return true;
	if (log_wants(LOG_LVL_INFO)) {
		/* The controller's bytes (and the answer that echoes them)
		 * escaped: no terminal controls reach the log. */
		struct sbuf l;
		sb_init(&l);
		text_escape(&l, line, c->overlong ? 0 : len);
		sb_puts(&l, ": ");
		text_escape(&l, sb_str(&fc->out), fc->out.len - 1);
		log_info("control: %s", l.oom ? "(out of memory)" : sb_str(&l));
		sb_free(&l);
	}
	return outq_write(&c->q, c->s, sb_str(&fc->out), fc->out.len, NULL) == OUTQ_OK;
}

/* Takes the lines in what was read; false when the controller must go. */
static bool take(struct fc_client *c, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (!c->overlong && c->len + k > sizeof c->line - 1)
			c->overlong = true;
		if (!c->overlong) {
			memcpy(c->line + c->len, p, k);
			c->len += k;
		}
		if (!nl)
			return true;
		if (!answer(c, c->line, c->len))
			return false;
		c->len = 0;
		c->overlong = false;
		p += k + 1;
		n -= k + 1;
	}
	return true;
}

static void on_client(struct stream *s, int ready, void *arg)
{
	(void)ready;
	struct fc_client *c = arg;
	if (!outq_empty(&c->q) && outq_flush(&c->q, s) < 0) {
		client_close(c);
		return;
	}
	/* One read per event: a controller flooding lines waits for its
	 * answers to go out (the queue's bound) before more are read. */
	if (!c->eof && outq_len(&c->q) < ANSWERS_MAX / 2) {
		char buf[4096];
		ssize_t r = stream_read(s, buf, sizeof buf);
		if (r > 0 && !take(c, buf, (size_t)r)) {
			client_close(c);
			return;
		}
		if (r == 0) {
			/* A last line without its newline is still a command. */
			if ((c->len || c->overlong) && !answer(c, c->line, c->len)) {
				client_close(c);
				return;
			}
			c->eof = true;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			client_close(c);
			return;
		}
	}
	if (c->eof && outq_empty(&c->q)) {
		client_close(c);
		return;
	}
	int want = outq_empty(&c->q) ? 0 : STREAM_WRITE;
	if (!c->eof && outq_len(&c->q) < ANSWERS_MAX / 2)
		want |= STREAM_READ;
	if (stream_want(s, want) < 0)
		client_close(c);
}

static int admit(void *arg, int fd, const struct sock_addr *peer, const char **say)
{
	(void)fd;
	(void)peer;
	struct fault_control *fc = arg;
	if (fc->n < FAULT_CONTROL_MAX)
		return ACCEPT_KEEP;
	*say = "error: too many controllers\n";
	return ACCEPT_REFUSE;
}

static void on_accepted(void *arg, struct stream *s, const struct sock_addr *peer)
{
	(void)peer;
	struct fault_control *fc = arg;
	struct fc_client *c = calloc(1, sizeof *c);
	if (!c) {
		log_error("control: out of memory");
		stream_close(s);
		return;
	}
	c->fc = fc;
	c->s = s;
	outq_init(&c->q, ANSWERS_MAX);
	c->next = fc->clients;
	if (fc->clients)
		fc->clients->prev = c;
	fc->clients = c;
	fc->n++;
	stream_set_cb(s, on_client, c);
	if (stream_want(s, STREAM_READ) < 0)
		client_close(c);
}

static void on_warn(void *arg, const char *text)
{
	(void)arg;
	log_error("control: %s", text);
}

struct fault_control *fault_control_new(struct loop *l, int lfd, struct fault_set *fs, char *err,
					size_t errlen)
{
	struct fault_control *fc = calloc(1, sizeof *fc);
	if (!fc) {
		snprintf(err, errlen, "control socket: out of memory");
		close(lfd);
		return NULL;
	}
	fc->loop = l;
	fc->lfd = lfd;
	fc->fs = fs;
	sb_init(&fc->out);
	struct acceptor_cfg ac = {
	    .lfd = lfd, .admit = admit, .accepted = on_accepted, .warn = on_warn, .arg = fc};
	if (!(fc->acc = acceptor_new(l, &ac))) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		fault_control_free(fc);
		return NULL;
	}
	return fc;
}

void fault_control_free(struct fault_control *fc)
{
	if (!fc)
		return;
	while (fc->clients)
		client_close(fc->clients);
	acceptor_free(fc->acc);
	close(fc->lfd);
	sb_free(&fc->out);
	free(fc);
}
