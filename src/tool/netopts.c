#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool/cmd.h"
#include "dns/dns_fmt.h"
#include "net/acl.h"
#include "tool/netopts.h"
#include "proc/spawn.h"

static const char *const so_names[] = {"nodelay", "sndbuf", "rcvbuf", "keepalive", "reuseport",
				       "tos",	  "ttl",    "linger", "bind-dev"};

int netopt_handle(struct netopts *n, int c, const char *arg)
{
	char err[256];
	if (c >= NOPT_NODELAY && c <= NOPT_BINDDEV) {
		if (sockopt_parse(&n->so, so_names[c - NOPT_NODELAY], arg, err, sizeof err) != 0) {
			usage_error("%s", err);
			return -1;
		}
		return 1;
	}
	switch (c) {
	case 'e':
	case 'c':
		if (n->exec_argv || n->sh_exec) {
			usage_error("give one of --exec and --sh-exec, once");
			return -1;
		}
		if (c == 'c')
			n->sh_exec = arg;
		else if (!(n->exec_argv = spawn_split_words(arg))) {
			usage_error("--exec needs a program");
			return -1;
		}
		return 1;
	case 'o':
		n->log_raw = arg;
		return 1;
	case 'x':
		n->log_hex = arg;
		return 1;
	case NOPT_APPEND:
		n->append = true;
		return 1;
	case 'C':
		n->crlf = true;
		return 1;
	case NOPT_PROGRESS:
		n->progress = true;
		return 1;
	case NOPT_STATS:
		if (strcmp(arg, "json") == 0)
			n->stats_json = true;
		else if (strcmp(arg, "text") == 0)
			n->stats_text = true;
		else {
			usage_error("invalid --stats '%s': give json or text", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int aclopt_handle(struct acl *a, int c, const char *arg)
{
	char err[400];
	bool allow = c == NOPT_ALLOW || c == NOPT_ALLOW_FILE;
	switch (c) {
	case NOPT_ALLOW:
	case NOPT_DENY:
		if (acl_add(a, allow, arg, err, sizeof err) < 0) {
			usage_error("--%s: %s", allow ? "allow" : "deny", err);
			return -1;
		}
		return 1;
	case NOPT_ALLOW_FILE:
	case NOPT_DENY_FILE:
		if (acl_add_file(a, allow, arg, err, sizeof err) < 0) {
			errmsg("--%s: %s", allow ? "allow-file" : "deny-file", err);
			return -2;
		}
		return 1;
	}
	return 0;
}

int relayopt_handle(struct relay_opts *ro, int c, const char *arg)
{
	int ms;
	switch (c) {
	case 'i':
		if (!parse_seconds(arg, &ms) || ms == 0) {
			usage_error("invalid -i '%s': give seconds > 0", arg);
			return -1;
		}
		ro->idle_ms = ms;
		return 1;
	case 'q':
		if (!parse_seconds(arg, &ms)) {
			usage_error("invalid -q '%s': give seconds >= 0", arg);
			return -1;
		}
		ro->quit_after_eof_ms = ms;
		return 1;
	case NOPT_NO_SHUTDOWN:
		ro->no_shutdown = true;
		return 1;
	case NOPT_SEND_ONLY:
		ro->send_only = true;
		return 1;
	case NOPT_RECV_ONLY:
		ro->recv_only = true;
		return 1;
	case NOPT_NO_ZC:
		ro->zero_copy = false;
		return 1;
	}
	return 0;
}

int relayopt_check(const struct relay_opts *ro)
{
	if (ro->send_only && ro->recv_only)
		return usage_error("--send-only and --recv-only exclude each other");
	return 0;
}

int netopt_prepare(int fd, void *arg, char *err, size_t errlen)
{
	return sockopt_apply_early(arg, fd, err, errlen);
}

int netopt_open_logs(struct netopts *n)
{
	char err[300];
	if (!n->log_raw && !n->log_hex)
		return 0;
	if (hexlog_open(&n->log, n->log_raw, n->log_hex, n->append, err, sizeof err) < 0) {
		errmsg("%s", err);
		return -1;
	}
	n->log_open = true;
	return 0;
}

void netopt_close_logs(struct netopts *n)
{
	if (!n->log_open)
		return;
	if (n->log.failed)
		errmsg("%s", n->log.errtext);
	hexlog_close(&n->log);
	n->log_open = false;
}

void netopt_report(const struct netopts *n, const struct netopt_totals *t)
{
	unsigned long long sent = t->sent, received = t->received;
	double secs = (double)t->ms / 1000.0;
	if ((g_opts.verbose || n->stats_text) && t->started) {
		if (t->kind == TOTALS_CLIENT)
			errline("sockctl: sent %llu bytes, received %llu bytes in %.3f s\n", sent,
				received, secs);
		else
			errline("sockctl: served %llu %s, %s %llu; received %llu bytes, sent %llu "
				"bytes\n",
				(unsigned long long)t->connections,
				t->kind == TOTALS_DGRAM_SERVER ? "datagrams" : "connections",
				t->kind == TOTALS_DGRAM_SERVER ? "dropped" : "refused",
				(unsigned long long)t->refused, received, sent);
	}
	if (!n->stats_json)
		return;
	struct sbuf b;
	sb_init(&b);
	sb_printf(&b, "{\"sent\":%llu,\"received\":%llu,\"seconds\":%.3f,\"connections\":%llu",
		  sent, received, secs, (unsigned long long)t->connections);
	if (t->error) {
		sb_puts(&b, ",\"error\":");
		json_str(&b, *t->error ? t->error : "failed");
	}
	/* Only where lines were lost (a server whose stderr stalled). */
	if (logs_dropped())
		sb_printf(&b, ",\"log_dropped\":%llu", (unsigned long long)logs_dropped());
	sb_puts(&b, "}\n");
	errline("%s", sb_str(&b));
	sb_free(&b);
}

static void human(char *b, size_t len, double v)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(b, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* "1:05", "2:03:04". */
static void clock_text(char *b, size_t len, double secs)
{
	unsigned long t = secs > 0 && secs < 1e9 ? (unsigned long)(secs + 0.5) : 0;
	if (t >= 3600)
		snprintf(b, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(b, len, "%lu:%02lu", t / 60, t % 60);
}

/* "sent 3.0 MiB of 8.0 MiB (37%)" while the size is known and not all
 * sent (or live), else "sent 3.0 MiB". */
static int sent_text(const struct progress *p, char *b, size_t len, uint64_t sent, bool live)
{
	char a[32], z[32];
	human(a, sizeof a, (double)sent);
	if (!p->size || (!live && sent == p->size))
		return snprintf(b, len, "sent %s", a);
	human(z, sizeof z, (double)p->size);
	uint64_t pct = sent >= p->size ? 100 : sent * 100 / p->size;
	return snprintf(b, len, "sent %s of %s (%llu%%)", a, z, (unsigned long long)pct);
}

/* A live line is on the terminal (set while one is drawn). */
static bool line_drawn;

static void clear_line(void)
{
	if (line_drawn)
		errline("\r\033[K");
	line_drawn = false;
}

static void progress_tick(struct loop *l, void *arg)
{
	struct progress *p = arg;
	uint64_t s = 0, r = 0;
	p->get(p->arg, &s, &r);
	char st[96], b[32], c[32], eta[48] = "";
	sent_text(p, st, sizeof st, s, true);
	human(b, sizeof b, (double)r);
	human(c, sizeof c, (double)(s + r - p->last_total));
	p->last_total = s + r;
	if (p->size && s < p->size) {
		/* From the average rate so far: steadier than the last second's. */
		double secs = (double)(loop_now(l) - p->start) / 1000.0;
		char t[24] = "--:--";
		if (s && secs > 0)
			clock_text(t, sizeof t, (double)(p->size - s) * secs / (double)s);
		snprintf(eta, sizeof eta, ", ETA %s", t);
	}
	/* Through the same queue as the messages, so that they stay in
	 * order with the line, and a stalled terminal stalls nothing. */
	errline("\r\033[K%s, received %s, %s/s%s", st, b, c, eta);
	line_drawn = true;
	loop_timer_start(l, &p->t, 1000);
}

void progress_start(struct progress *p, struct loop *l, const struct netopts *n,
		    void (*get)(void *, uint64_t *, uint64_t *), void *arg)
{
	memset(p, 0, sizeof *p);
	/* Only for a person watching: a log file gets no carriage returns. */
	if (!n->progress || !isatty(STDERR_FILENO))
		return;
	p->on = true;
	p->get = get;
	p->arg = arg;
	p->start = loop_now(l);
	g_before_msg = clear_line;
	timer_init(&p->t, progress_tick, p);
	loop_timer_start(l, &p->t, 1000);
}

void progress_size_from_stdin(struct progress *p)
{
	struct stat st;
	if (!p->on || fstat(STDIN_FILENO, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
	if (at >= 0 && st.st_size > at)
		p->size = (uint64_t)(st.st_size - at);
}

void progress_stop(struct progress *p, struct loop *l)
{
	if (!p->on)
		return;
	loop_timer_stop(l, &p->t);
	p->on = false;
	g_before_msg = NULL;
	line_drawn = false;
	/* The live line becomes the summary, and stays. */
	uint64_t s = 0, r = 0;
	p->get(p->arg, &s, &r);
	double secs = (double)(clock_ms() - p->start) / 1000.0;
	char st[96], b[32], c[32];
	sent_text(p, st, sizeof st, s, false);
	human(b, sizeof b, (double)r);
	human(c, sizeof c, secs > 0 ? (double)(s + r) / secs : 0.0);
	errline("\r\033[K%s, received %s in %.1f s (%s/s)\n", st, b, secs, c);
}
