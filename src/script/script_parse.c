/* The script language: text to steps. Pure: no I/O. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "core/text_escape.h"
#include "script/script.h"

static const char *const op_names[] = {
    [SCRIPT_SEND] = "send",   [SCRIPT_EXPECT] = "expect",   [SCRIPT_EXPECT_EOF] = "expect-eof",
    [SCRIPT_SLEEP] = "sleep", [SCRIPT_TIMEOUT] = "timeout", [SCRIPT_CAPTURE] = "capture",
};

const char *script_op_name(enum script_op op)
{
	return op_names[op];
}

void script_init(struct script *sc, unsigned flags)
{
	*sc = (struct script){.flags = flags};
}

static void text_free(struct script_text *t)
{
	free(t->bytes);
	free(t->parts);
	*t = (struct script_text){0};
}

static void step_free(struct script_step *st)
{
	free(st->src);
	text_free(&st->text);
	if (st->has_re)
		regfree(&st->re);
}

void script_free(struct script *sc)
{
	for (size_t i = 0; i < sc->nsteps; i++)
		step_free(&sc->steps[i]);
	for (size_t i = 0; i < sc->nrules; i++) {
		free(sc->rules[i].src);
		text_free(&sc->rules[i].reply);
		regfree(&sc->rules[i].re);
	}
	for (size_t i = 0; i < sc->nvars; i++)
		free(sc->vars[i]);
	free(sc->steps);
	free(sc->rules);
	*sc = (struct script){.flags = sc->flags};
}

/* What a parse is working on, for its messages. */
struct pctx {
	struct script *sc;
	int line; /* 0: a command-line step */
	char *err;
	size_t errlen;
};

static int fail(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct pctx *p, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (p->line)
		snprintf(p->err, p->errlen, "line %d: %s", p->line, why);
	else
		snprintf(p->err, p->errlen, "%s", why);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* An argument at s[0..n): "quoted" (escapes kept for the decoder, a
 * backslash skipping the byte after it) or bare; word: a bare one ends at
 * a blank, else at the end. Sets *arg and *alen, and *rest to what
 * follows (blanks skipped). */
static int take_arg(struct pctx *p, const char *s, size_t n, bool word, const char **arg,
		    size_t *alen, const char **rest, size_t *rlen, const char *what)
{
	size_t i = 0, end;
	if (n && s[0] == '"') {
		for (i = 1; i < n && s[i] != '"'; i++)
			if (s[i] == '\\')
				i++;
		if (i >= n)
			return fail(p, "unterminated quote in %s", what);
		*arg = s + 1;
		*alen = i - 1;
		end = i + 1;
		if (end < n && !is_space(s[end]))
			return fail(p, "text after the closing quote of %s", what);
	} else {
		while (i < n && !(word && is_space(s[i])))
			i++;
		*arg = s;
		*alen = i;
		end = i;
	}
	while (end < n && is_space(s[end]))
		end++;
	*rest = s + end;
	*rlen = n - end;
	return 0;
}

static int var_find(const struct script *sc, const char *name, size_t n)
{
	for (size_t i = 0; i < sc->nvars; i++)
		if (strlen(sc->vars[i]) == n && memcmp(sc->vars[i], name, n) == 0)
			return (int)i;
	return -1;
}

static int add_part(struct pctx *p, struct script_text *t, int var, size_t off, size_t len)
{
	struct script_part *np = realloc(t->parts, (t->nparts + 1) * sizeof *np);
	if (!np)
		return fail(p, "out of memory");
	t->parts = np;
	t->parts[t->nparts++] = (struct script_part){.var = var, .off = off, .len = len};
	return 0;
}

/* The literal run s[0..n) decoded onto t's bytes at *o. */
static int add_literal(struct pctx *p, struct script_text *t, size_t *o, const char *s, size_t n,
		       size_t cap)
{
	if (!n)
		return 0;
	char why[160];
	long k = text_unescape(s, n, t->bytes + *o, cap - *o, why, sizeof why);
	if (k < 0)
		return fail(p, "%s", why);
	if (k && add_part(p, t, -1, *o, (size_t)k) < 0)
		return -1;
	*o += (size_t)k;
	return 0;
}

/* TEXT: escapes decoded, $NAME and ${NAME} naming earlier captures. */
static int parse_text(struct pctx *p, const char *s, size_t n, struct script_text *t)
{
	*t = (struct script_text){.bytes = malloc(n + 1)};
	if (!t->bytes)
		return fail(p, "out of memory");
	/* The escapes checked over the whole TEXT first, so that an error's
	 * offset is in TEXT, not in a run between two captures ("$NAME" is
	 * plain bytes to the decoder). */
	char why[160];
	if (text_unescape(s, n, t->bytes, n + 1, why, sizeof why) < 0) {
		text_free(t);
		return fail(p, "%s", why);
	}
	size_t o = 0, start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++; /* the escaped byte is never a '$' of a capture */
			continue;
		}
		if (s[i] != '$')
			continue;
		bool brace = i + 1 < n && s[i + 1] == '{';
		size_t ns = i + 1 + brace, ne = ns;
		if (ne < n && name_start(s[ne]))
			while (ne < n && name_char(s[ne]))
				ne++;
		if (ne == ns) {
			if (brace)
				goto bad_brace;
			continue; /* a '$' not before a name is itself */
		}
		if (brace && (ne >= n || s[ne] != '}'))
			goto bad_brace;
		int v = var_find(p->sc, s + ns, ne - ns);
		if (v < 0) {
			text_free(t);
			return fail(p, "$%.*s is not captured by an earlier step", (int)(ne - ns),
				    s + ns);
		}
		if (add_literal(p, t, &o, s + start, i - start, n + 1) < 0 ||
		    add_part(p, t, v, 0, 0) < 0) {
			text_free(t);
			return -1;
		}
		i = ne + brace - 1;
		start = i + 1;
	}
	if (add_literal(p, t, &o, s + start, n - start, n + 1) < 0) {
		text_free(t);
		return -1;
	}
	return 0;
bad_brace:
	text_free(t);
	return fail(p, "'${' without a NAME and '}'");
}

/* What regcomp would take, but not in reasonable memory: a quantifier
 * on a quantifier (undefined in POSIX EREs; glibc's memory for "a+++++"
 * grows with each +) and an interval bound above 255 (POSIX's least
 * RE_DUP_MAX). NULL, or why not. */
static const char *regex_shape(const char *pat, size_t n)
{
	bool quant = false; /* the item before is a quantifier */
	for (size_t i = 0; i < n; i++) {
		char c = pat[i];
		if (c == '\\') {
			i++;
			quant = false;
			continue;
		}
		if (c == '[') {
			/* A bracket expression: "]" first is a member, and so are
			 * the "]" of [:class:], [.coll.] and [=equiv=]. */
			size_t j = i + 1;
			if (j < n && pat[j] == '^')
				j++;
			if (j < n && pat[j] == ']')
				j++;
			while (j < n && pat[j] != ']') {
				if (pat[j] == '[' && j + 1 < n && strchr(":.=", pat[j + 1])) {
					char end = pat[j + 1];
					for (j += 2;
					     j + 1 < n && !(pat[j] == end && pat[j + 1] == ']');
					     j++)
						;
					j += 2;
				} else {
					j++;
				}
			}
			i = j;
			quant = false;
			continue;
		}
		if (c != '*' && c != '+' && c != '?' && c != '{') {
			quant = false;
			continue;
		}
		if (quant)
			return "a quantifier after a quantifier (undefined in POSIX)";
		quant = true;
		long v = 0;
		for (i++; c == '{' && i < n && pat[i] != '}'; i++) {
			v = pat[i] >= '0' && pat[i] <= '9' ? v * 10 + (pat[i] - '0') : 0;
			if (v > 255)
				return "an interval bound above 255";
		}
		if (c != '{')
			i--;
	}
	return NULL;
}

int script_regex(const char *s, size_t n, regex_t *re, int cflags, char *why, size_t whylen)
{
	char *pat = malloc(n + 1);
	if (!pat) {
		snprintf(why, whylen, "out of memory");
		return SCRIPT_RE_ESCAPE;
	}
	long k = text_unescape_regex(s, n, pat, n, why, whylen);
	if (k < 0) {
		free(pat);
		return SCRIPT_RE_ESCAPE;
	}
	pat[k] = '\0';
	const char *shape = regex_shape(pat, (size_t)k);
	if (shape) {
		free(pat);
		snprintf(why, whylen, "%s", shape);
		return SCRIPT_RE_BAD;
	}
	/* REG_NEWLINE: ^ and $ match at line ends, as line protocols want;
	 * "." and [^x] do not run past a newline. */
	int rc = regcomp(re, pat, REG_EXTENDED | REG_NEWLINE | cflags);
	free(pat);
	if (rc != 0) {
		regerror(rc, re, why, whylen);
		regfree(re);
		return SCRIPT_RE_BAD;
	}
	return 0;
}

static int parse_regex(struct pctx *p, const char *s, size_t n, regex_t *re, const char *what)
{
	if (!n)
		return fail(p, "%s needs a REGEX", what);
	char why[160];
	switch (script_regex(s, n, re, 0, why, sizeof why)) {
	case 0:
		return 0;
	case SCRIPT_RE_ESCAPE:
		return fail(p, "%s: %s", what, why);
	default:
		return fail(p, "bad %s regex '%.*s': %s", what, (int)(n > 80 ? 80 : n), s, why);
	}
}

static struct script_step *new_step(struct pctx *p, enum script_op op, const char *src, size_t n)
{
	struct script *sc = p->sc;
	if (sc->nsteps >= SCRIPT_STEPS_MAX) {
		fail(p, "more than %d steps", SCRIPT_STEPS_MAX);
		return NULL;
	}
	if (sc->nsteps == sc->capsteps) {
		size_t cap = sc->capsteps ? 2 * sc->capsteps : 16;
		struct script_step *ns = realloc(sc->steps, cap * sizeof *ns);
		if (!ns) {
			fail(p, "out of memory");
			return NULL;
		}
		sc->steps = ns;
		sc->capsteps = cap;
	}
	struct script_step *st = &sc->steps[sc->nsteps];
	*st = (struct script_step){.op = op, .line = p->line, .var = -1, .src = strndup(src, n)};
	if (!st->src) {
		fail(p, "out of memory");
		return NULL;
	}
	return st;
}

/* The step at sc->steps[nsteps] is complete: it counts. */
static int commit_step(struct script *sc)
{
	struct script_step *st = &sc->steps[sc->nsteps++];
	st->index = (int)sc->nsteps;
	return 0;
}

static int drop_step(struct script *sc)
{
	step_free(&sc->steps[sc->nsteps]);
	return -1;
}

static int var_add(struct pctx *p, const char *name, size_t n)
{
	int v = var_find(p->sc, name, n);
	if (v >= 0)
		return v;
	if (p->sc->nvars >= SCRIPT_VARS_MAX)
		return fail(p, "more than %d captures", SCRIPT_VARS_MAX);
	char *s = strndup(name, n);
	if (!s)
		return fail(p, "out of memory");
	p->sc->vars[p->sc->nvars] = s;
	return (int)p->sc->nvars++;
}

static int parse_rule(struct pctx *p, const char *s, size_t n)
{
	const char *arg, *rest, *text;
	size_t alen, rlen, tlen;
	struct script *sc = p->sc;
	if (!(sc->flags & SCRIPT_F_RULES))
		return fail(p, "'on' rules are for serve --script");
	if (take_arg(p, s, n, true, &arg, &alen, &rest, &rlen, "on") < 0)
		return -1;
	if (rlen < 4 || memcmp(rest, "send", 4) != 0 || (rlen > 4 && !is_space(rest[4])))
		return fail(p, "give on REGEX send TEXT");
	rest += 4;
	rlen -= 4;
	while (rlen && is_space(*rest))
		rest++, rlen--;
	if (take_arg(p, rest, rlen, false, &text, &tlen, &rest, &rlen, "on ... send") < 0)
		return -1;
	if (sc->nrules == sc->caprules) {
		size_t cap = sc->caprules ? 2 * sc->caprules : 8;
		struct script_rule *nr = realloc(sc->rules, cap * sizeof *nr);
		if (!nr)
			return fail(p, "out of memory");
		sc->rules = nr;
		sc->caprules = cap;
	}
	if (sc->nrules >= SCRIPT_STEPS_MAX)
		return fail(p, "more than %d rules", SCRIPT_STEPS_MAX);
	struct script_rule *r = &sc->rules[sc->nrules];
	*r = (struct script_rule){.line = p->line, .src = strndup(arg, alen)};
	if (!r->src)
		return fail(p, "out of memory");
	if (parse_regex(p, arg, alen, &r->re, "on") < 0) {
		free(r->src);
		return -1;
	}
	if (parse_text(p, text, tlen, &r->reply) < 0) {
		free(r->src);
		regfree(&r->re);
		return -1;
	}
	sc->nrules++;
	return 0;
}

/* One step, its keyword parsed; s[0..n) is what follows the keyword. */
static int parse_step(struct pctx *p, enum script_op op, const char *s, size_t n)
{
	const char *name = op_names[op], *arg, *rest;
	size_t alen, rlen;
	long v;
	int ms;
	bool word = op == SCRIPT_SLEEP || op == SCRIPT_TIMEOUT || op == SCRIPT_CAPTURE;
	if (take_arg(p, s, n, word, &arg, &alen, &rest, &rlen, name) < 0)
		return -1;
	if (op == SCRIPT_EXPECT_EOF) {
		if (alen || rlen)
			return fail(p, "expect-eof takes nothing after it");
	} else if (word && op != SCRIPT_CAPTURE && rlen) {
		return fail(p, "%s takes one number", name);
	} else if (!alen && op != SCRIPT_SEND) {
		return fail(p, "%s needs %s", name,
			    op == SCRIPT_SLEEP	   ? "MS"
			    : op == SCRIPT_TIMEOUT ? "SECONDS"
			    : op == SCRIPT_CAPTURE ? "NAME and a REGEX"
						   : "a REGEX");
	}
	/* A capture is shown with its name and regex. */
	struct script_step *st =
	    op == SCRIPT_CAPTURE ? new_step(p, op, s, n) : new_step(p, op, arg, alen);
	if (!st)
		return -1;
	char num[32];
	snprintf(num, sizeof num, "%.*s", (int)(alen < 31 ? alen : 31), arg);
	switch (op) {
	case SCRIPT_SEND:
		if (parse_text(p, arg, alen, &st->text) < 0)
			return drop_step(p->sc);
		break;
	case SCRIPT_EXPECT:
		if (parse_regex(p, arg, alen, &st->re, name) < 0)
			return drop_step(p->sc);
		st->has_re = true;
		break;
	case SCRIPT_SLEEP:
		if (alen > 30 || !parse_long(num, 0, 3600000, &v)) {
			drop_step(p->sc);
			return fail(p, "invalid sleep '%s': give milliseconds, 0-3600000", num);
		}
		st->ms = (int)v;
		break;
	case SCRIPT_TIMEOUT:
		if (alen > 30 || !parse_seconds(num, &ms) || ms == 0) {
			drop_step(p->sc);
			return fail(p, "invalid timeout '%s': give seconds > 0", num);
		}
		st->ms = ms;
		break;
	case SCRIPT_CAPTURE: {
		bool ok = alen <= SCRIPT_NAME_MAX && name_start(arg[0]);
		for (size_t i = 1; ok && i < alen; i++)
			ok = name_char(arg[i]);
		if (!ok) {
			drop_step(p->sc);
			return fail(p,
				    "invalid capture name '%.*s': give letters, digits and _ "
				    "(at most %d, not a digit first)",
				    (int)(alen > 40 ? 40 : alen), arg, SCRIPT_NAME_MAX);
		}
		const char *re;
		size_t relen;
		if (take_arg(p, rest, rlen, false, &re, &relen, &rest, &rlen, name) < 0 ||
		    parse_regex(p, re, relen, &st->re, name) < 0)
			return drop_step(p->sc);
		st->has_re = true;
		/* Named only now: "send $X" on this same step cannot use it. */
		if ((st->var = var_add(p, arg, alen)) < 0)
			return drop_step(p->sc);
		break;
	}
	case SCRIPT_EXPECT_EOF:
		break;
	}
	return commit_step(p->sc);
}

static int parse_line(struct pctx *p, const char *s, size_t n)
{
	while (n && is_space(*s))
		s++, n--;
	/* Trailing blanks (and a CRLF file's CR) are not part of a bare
	 * argument: an editor's invisible space must not be sent. */
	while (n && (is_space(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	if (!n || s[0] == '#')
		return 0;
	if (memchr(s, '\0', n))
		return fail(p, "a NUL byte (write \\x00 in TEXT)");
	size_t k = 0;
	while (k < n && !is_space(s[k]))
		k++;
	const char *rest = s + k;
	size_t rlen = n - k;
	while (rlen && is_space(*rest))
		rest++, rlen--;
	if (k == 2 && memcmp(s, "on", 2) == 0)
		return parse_rule(p, rest, rlen);
	for (size_t op = 0; op < sizeof op_names / sizeof op_names[0]; op++)
		if (strlen(op_names[op]) == k && memcmp(s, op_names[op], k) == 0)
			return parse_step(p, (enum script_op)op, rest, rlen);
	return fail(p,
		    "unknown step '%.*s' (give send, expect, expect-eof, sleep, timeout, "
		    "capture%s)",
		    (int)(k > 40 ? 40 : k), s, (p->sc->flags & SCRIPT_F_RULES) ? " or on" : "");
}

int script_parse(struct script *sc, const char *text, size_t len, char *err, size_t errlen)
{
	struct pctx p = {.sc = sc, .err = err, .errlen = errlen};
	size_t at = 0;
	while (at < len) {
		p.line++;
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		if (n > SCRIPT_LINE_MAX)
			return fail(&p, "longer than %d bytes", SCRIPT_LINE_MAX);
		if (parse_line(&p, text + at, n) < 0)
			return -1;
		at += n + (nl != NULL);
	}
	return 0;
}

int script_add(struct script *sc, enum script_op op, const char *arg, char *err, size_t errlen)
{
	struct pctx p = {.sc = sc, .err = err, .errlen = errlen};
	/* The argument as it is: no quotes to strip (the shell's are gone),
	 * and blanks at its ends are what the user quoted. */
	size_t n = strlen(arg);
	if (memchr(arg, '\n', n) && op != SCRIPT_SEND)
		return fail(&p, "a newline in the REGEX (write \\n)");
	struct script_step *st = new_step(&p, op, arg, n);
	if (!st)
		return -1;
	if (op == SCRIPT_SEND && parse_text(&p, arg, n, &st->text) < 0)
		return drop_step(sc);
	if (op == SCRIPT_EXPECT) {
		if (parse_regex(&p, arg, n, &st->re, "--expect") < 0)
			return drop_step(sc);
		st->has_re = true;
	}
	return commit_step(sc);
}

size_t script_text_len(const struct script_text *t, const size_t *lens)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nparts; i++)
		n += t->parts[i].var < 0 ? t->parts[i].len : lens[t->parts[i].var];
	return n;
}

long script_text_expand(const struct script_text *t, char *const *vals, const size_t *lens,
			char *out, size_t outcap)
{
	size_t o = 0;
	for (size_t i = 0; i < t->nparts; i++) {
		const struct script_part *pt = &t->parts[i];
		const char *src = pt->var < 0 ? t->bytes + pt->off : vals[pt->var];
		size_t n = pt->var < 0 ? pt->len : lens[pt->var];
		if (n > outcap - o)
			return -1;
		if (n)
			memcpy(out + o, src, n);
		o += n;
	}
	return (long)o;
}
