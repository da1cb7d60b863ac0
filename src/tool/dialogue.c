/* The dialogue options and what connect shows of a run. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/parse.h"
#include "core/text_escape.h"
#include "tool/cmd.h"
#include "tool/dialogue.h"

/* The largest script read. */
#define SCRIPT_FILE_MAX (16 * 1024 * 1024)

static int last_status;

void dialogue_init(struct dialogue *d, unsigned flags)
{
	*d = (struct dialogue){.expect_ms = -1, .tr_first = true};
	script_init(&d->sc, flags);
	sb_init(&d->tr);
}

void dialogue_free(struct dialogue *d)
{
	script_free(&d->sc);
	sb_free(&d->tr);
}

int dialogue_status(void)
{
	return last_status;
}

/* FILE ("-": stdin) whole, into *out (NUL-terminated) and *len: 0, or -1
 * after the message. */
static int read_script(const char *file, char **out, size_t *len)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (!f) {
		errmsg("--script %s: %s", file, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	while (p) {
		if (n + 1 >= cap) {
			char *np = cap < SCRIPT_FILE_MAX ? realloc(p, cap * 2) : NULL;
			if (!np) {
				free(p);
				p = NULL;
				break;
			}
			p = np;
			cap *= 2;
		}
		size_t k = fread(p + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	bool bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!p || bad) {
		errmsg("--script %s: %s", file,
		       !p ? "larger than 16 MiB or out of memory" : strerror(errno));
		free(p);
		return -1;
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

int dialogue_opt(struct dialogue *d, int c, const char *arg)
{
	char err[600];
	int ms;
	last_status = EXIT_USAGE;
	switch (c) {
	case DOPT_SEND:
	case DOPT_EXPECT:
		if (script_add(&d->sc, c == DOPT_SEND ? SCRIPT_SEND : SCRIPT_EXPECT, arg, err,
			       sizeof err) < 0) {
			usage_error("--%s: %s", c == DOPT_SEND ? "send" : "expect", err);
			return -1;
		}
		break;
	case DOPT_SCRIPT: {
		if (d->file) {
			usage_error("give one --script");
			return -1;
		}
		char *text;
		size_t len;
		if (read_script(arg, &text, &len) < 0) {
			last_status = EXIT_FAIL;
			return -1;
		}
		d->file = arg;
		int r = script_parse(&d->sc, text, len, err, sizeof err);
		free(text);
		if (r < 0) {
			usage_error("--script %s: %s", arg, err);
			return -1;
		}
		break;
	}
	case DOPT_EXPECT_TIMEOUT:
		if (!parse_seconds(arg, &ms) || ms == 0) {
			usage_error("invalid --expect-timeout '%s': give seconds > 0", arg);
			return -1;
		}
		d->expect_ms = ms;
		return 1;
	case DOPT_THEN_RELAY:
		d->then_relay = true;
		return 1;
	default:
		return 0;
	}
	d->on = true;
	return 1;
}

void dialogue_io(void *arg, bool sent, const char *p, size_t n)
{
	struct dialogue *d = arg;
	int64_t now = clock_ms();
	if (!d->t0)
		d->t0 = now;
	if (d->json && d->tr_bytes < DIALOGUE_TRANSCRIPT_MAX) {
		/* Bounded, as the runner's own buffer is: a peer that streams
		 * through a long sleep cannot take all memory this way. */
		size_t k = n;
		if (k > DIALOGUE_TRANSCRIPT_MAX - d->tr_bytes)
			k = DIALOGUE_TRANSCRIPT_MAX - d->tr_bytes;
		d->tr_bytes += k;
		sb_printf(&d->tr, "%s{\"ms\":%lld,\"dir\":\"%s\",\"data\":", d->tr_first ? "" : ",",
			  (long long)(now - d->t0), sent ? "sent" : "received");
		json_string(&d->tr, p, k);
		if (k < n || d->tr_bytes == DIALOGUE_TRANSCRIPT_MAX)
			sb_puts(&d->tr, ",\"truncated\":true");
		sb_putc(&d->tr, '}');
		d->tr_first = false;
	}
	if (!g_opts.verbose)
		return;
	/* One line per line of the data, its line end shown escaped. */
	struct sbuf b;
	sb_init(&b);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
		sb_reset(&b);
		text_escape(&b, p + i, k);
		errline("%s %s\n", sent ? ">" : "<", sb_str(&b));
		i += k;
	}
	sb_free(&b);
}

static const char *status_name(enum script_status st)
{
	switch (st) {
	case SCRIPT_OK:
		return "ok";
	case SCRIPT_TIMED_OUT:
		return "timeout";
	case SCRIPT_CLOSED:
		return "closed";
	case SCRIPT_FAILED:
		break;
	}
	return "failed";
}

int dialogue_exit(int script_status)
{
	switch (script_status) {
	case SCRIPT_OK:
		return EXIT_OK;
	case SCRIPT_TIMED_OUT:
		return EXIT_EXPECT_TIMEOUT;
	case SCRIPT_CLOSED:
		return EXIT_EXPECT_CLOSED;
	default:
		return EXIT_FAIL;
	}
}

int dialogue_report(struct dialogue *d, const struct script_result *r)
{
	int status = dialogue_exit(r->status);
	struct sbuf b;
	sb_init(&b);
	script_describe(&b, r);
	/* The script's name first: its line numbers are its own. */
	const char *file = d->file && strcmp(d->file, "-") == 0 ? "stdin" : d->file;
	if (r->status != SCRIPT_OK)
		errmsg("%s%s%s", file ? file : "", file ? ": " : "", sb_str(&b));
	if (d->json) {
		struct sbuf j;
		sb_init(&j);
		sb_printf(
		    &j,
		    "{\"status\":\"%s\",\"exit\":%d,\"ms\":%lld,\"sent\":%llu,\"received\":%llu,",
		    status_name(r->status), status, r->ms, r->sent, r->received);
		sb_puts(&j, "\"step\":");
		if (r->step) {
			const struct script_step *st = r->step;
			sb_printf(&j, "{\"index\":%d,\"line\":%d,\"op\":\"%s\",\"arg\":", st->index,
				  st->line, script_op_name(st->op));
			json_str(&j, st->src);
			sb_printf(&j, ",\"deadline_ms\":%d}", r->deadline_ms);
		} else {
			sb_puts(&j, "null");
		}
		sb_puts(&j, ",\"message\":");
		json_str(&j, sb_str(&b));
		sb_puts(&j, ",\"captures\":{");
		for (size_t i = 0; i < d->sc.nvars; i++) {
			sb_puts(&j, i ? "," : "");
			json_str(&j, d->sc.vars[i]);
			sb_putc(&j, ':');
			if (r->vals && r->vals[i])
				json_string(&j, r->vals[i], r->lens[i]);
			else
				sb_puts(&j, "null");
		}
		sb_puts(&j, "},\"transcript\":[");
		sb_putn(&j, d->tr.p ? d->tr.p : "", d->tr.len);
		sb_puts(&j, "]}\n");
		if (j.oom || d->tr.oom)
			errmsg("--json: the transcript does not fit in memory");
		else
			fwrite(j.p, 1, j.len, stdout);
		sb_free(&j);
		if (fflush(stdout) != 0 && status == EXIT_OK) {
			errmsg("standard output: %s", strerror(errno));
			status = EXIT_FAIL;
		}
	}
	sb_free(&b);
	return status;
}
