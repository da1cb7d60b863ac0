#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/sbuf.h"
#include "forward/fault_ctl.h"

static const char help_text[] =
    "ok commands: set NAME VALUE, set FLAG, clear [NAME], down [hold], up, stats, show, help;"
    " names:";

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "error: %s", what);
	return -1;
}

/* The next blank-separated word of [*p, end) into w; false if none. */
static bool word(const char **p, const char *end, char *w, size_t wl, bool *toolong)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	const char *b = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	size_t n = (size_t)(s - b);
	if (!n)
		return false;
	if (n >= wl) {
		*toolong = true;
		n = wl - 1;
	}
	memcpy(w, b, n);
	w[n] = 0;
	return true;
}

int fault_ctl_parse(const char *line, size_t len, struct fault_cmd *cmd, char *err, size_t errlen)
{
	memset(cmd, 0, sizeof cmd->kind + sizeof cmd->name);
	cmd->value[0] = 0;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len >= FAULT_CTL_LINE)
		return fail(err, errlen, "a line longer than 511 bytes");
	if (memchr(line, 0, len) || memchr(line, '\n', len) || memchr(line, '\r', len))
		return fail(err, errlen, "a control character in the line");
	const char *p = line, *end = line + len;
	char verb[16], extra[8];
	bool toolong = false;
	if (!word(&p, end, verb, sizeof verb, &toolong)) {
		cmd->kind = FAULT_CMD_NONE;
		return 0;
	}
	if (toolong)
		return fail(err, errlen, "unknown command '%s...' (try help)", verb);
	bool more;
	if (!strcmp(verb, "set")) {
		cmd->kind = FAULT_CMD_SET;
		if (!word(&p, end, cmd->name, sizeof cmd->name, &toolong) || toolong)
			return fail(err, errlen, "set wants NAME [VALUE]");
		/* The value is one word; a second is a slip. */
		word(&p, end, cmd->value, sizeof cmd->value, &toolong);
		if (word(&p, end, extra, sizeof extra, &toolong))
			return fail(err, errlen, "set %s: one value only", cmd->name);
		struct fault_settings scratch;
		fault_settings_init(&scratch);
		char why[192];
		if (fault_settings_set(&scratch, cmd->name, cmd->value[0] ? cmd->value : NULL, why,
				       sizeof why) < 0)
			return fail(err, errlen, "%s", why);
		return 0;
	}
	if (!strcmp(verb, "clear")) {
		cmd->kind = FAULT_CMD_CLEAR;
		if (word(&p, end, cmd->name, sizeof cmd->name, &toolong)) {
			struct fault_settings scratch;
			fault_settings_init(&scratch);
			char why[192];
			if (toolong)
				return fail(err, errlen, "unknown fault '%s'", cmd->name);
			if (fault_settings_clear(&scratch, cmd->name, why, sizeof why) < 0)
				return fail(err, errlen, "%s", why);
		}
		more = word(&p, end, extra, sizeof extra, &toolong);
		if (more)
			return fail(err, errlen, "clear wants one NAME at most");
		return 0;
	}
	if (!strcmp(verb, "down")) {
		cmd->kind = FAULT_CMD_DOWN;
		if (word(&p, end, extra, sizeof extra, &toolong)) {
			if (toolong || strcmp(extra, "hold"))
				return fail(err, errlen, "down takes only the word hold");
			cmd->kind = FAULT_CMD_HOLD;
		}
	} else if (!strcmp(verb, "up")) {
		cmd->kind = FAULT_CMD_UP;
	} else if (!strcmp(verb, "stats")) {
		cmd->kind = FAULT_CMD_STATS;
	} else if (!strcmp(verb, "show")) {
		cmd->kind = FAULT_CMD_SHOW;
	} else if (!strcmp(verb, "help")) {
		cmd->kind = FAULT_CMD_HELP;
	} else {
		return fail(err, errlen, "unknown command '%s' (try help)", verb);
	}
	if (word(&p, end, extra, sizeof extra, &toolong))
		return fail(err, errlen, "%s takes no arguments", verb);
	return 0;
}

void fault_ctl_run(struct fault_set *fs, const struct fault_cmd *cmd, struct sbuf *out)
{
	char why[192];
	switch (cmd->kind) {
	case FAULT_CMD_NONE:
		return;
	case FAULT_CMD_SET:
		if (fault_settings_set(&fs->st, cmd->name, cmd->value[0] ? cmd->value : NULL, why,
				       sizeof why) < 0) {
			sb_printf(out, "error: %s\n", why);
			return;
		}
		if (!strcmp(cmd->name, "seed"))
			fault_set_seed(fs);
		fault_set_changed(fs);
		sb_printf(out, "ok %s %s\n", cmd->name, cmd->value[0] ? cmd->value : "on");
		return;
	case FAULT_CMD_CLEAR:
		if (fault_settings_clear(&fs->st, cmd->name[0] ? cmd->name : NULL, why,
					 sizeof why) < 0) {
			sb_printf(out, "error: %s\n", why);
			return;
		}
		fault_set_changed(fs);
		sb_printf(out, "ok cleared %s\n", cmd->name[0] ? cmd->name : "all");
		return;
	case FAULT_CMD_DOWN:
		fault_set_state(fs, FAULT_STATE_DOWN);
		sb_puts(out, "ok down\n");
		return;
	case FAULT_CMD_HOLD:
		fault_set_state(fs, FAULT_STATE_HOLD);
		sb_puts(out, "ok down hold\n");
		return;
	case FAULT_CMD_UP:
		fault_set_state(fs, FAULT_STATE_UP);
		sb_puts(out, "ok up\n");
		return;
	case FAULT_CMD_STATS:
		sb_puts(out, "ok ");
		fault_stats_json(&fs->stats, out);
		sb_putc(out, '\n');
		return;
	case FAULT_CMD_SHOW:
		sb_puts(out, "ok ");
		fault_settings_json(&fs->st, fs->state, out);
		sb_putc(out, '\n');
		return;
	case FAULT_CMD_HELP:
		sb_puts(out, help_text);
		for (size_t i = 0; fault_name(i); i++)
			sb_printf(out, " %s", fault_name(i));
		sb_putc(out, '\n');
		return;
	}
}

void fault_ctl_line(struct fault_set *fs, const char *line, size_t len, struct sbuf *out)
{
	struct fault_cmd cmd;
	char err[256];
	if (fault_ctl_parse(line, len, &cmd, err, sizeof err) < 0) {
		sb_printf(out, "%s\n", err);
		return;
	}
	fault_ctl_run(fs, &cmd, out);
}
