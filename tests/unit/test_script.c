/* The script language (parser cases, escapes, substitution) and the
 * runner: two scripts talking over a socketpair, and over the fake
 * TLS-like stream, on every backend. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/mux.h"
#include "fake_stream.h"
#include "script/script.h"
#include "tap.h"
#include "unit_loop.h"

static char err[512];

/* Parses text into a new script: 0 or -1 (err set). */
static int parse(struct script *sc, unsigned flags, const char *text)
{
	script_init(sc, flags);
	return script_parse(sc, text, strlen(text), err, sizeof err);
}

static bool bad(unsigned flags, const char *text, const char *want)
{
	struct script sc;
	int r = parse(&sc, flags, text);
	script_free(&sc);
	bool good = r < 0 && strstr(err, want) != NULL;
	if (!good)
		printf("# for '%s': got %d '%s', wanted '%s'\n", text, r, err, want);
	return good;
}

static void t_parse(void)
{
	struct script sc;
	int r = parse(&sc, 0,
		      "# a comment\n"
		      "\n"
		      "  send PING\\r\\n  \n"
		      "expect ^\\+PONG\\r$\n"
		      "timeout 1.5\n"
		      "capture ID id=([0-9]+)\r\n"
		      "send \"  id $ID and ${ID}x \\$ID $ 5$\"\n"
		      "sleep 20\n"
		      "expect-eof\n");
	ok(r == 0 && sc.nsteps == 7, "a script of every step parses (%d steps, %s)", (int)sc.nsteps,
	   r ? err : "ok");
	if (r == 0 && sc.nsteps == 7) {
		struct script_step *s = sc.steps;
		char out[128];
		long n = script_text_expand(&s[0].text, NULL, NULL, out, sizeof out);
		ok(s[0].op == SCRIPT_SEND && s[0].line == 3 && n == 6 &&
		       memcmp(out, "PING\r\n", 6) == 0,
		   "send: escapes decoded, the line's blanks at its ends dropped");
		ok(s[1].op == SCRIPT_EXPECT && s[1].line == 4 && s[1].has_re, "expect: line 4");
		ok(s[2].op == SCRIPT_TIMEOUT && s[2].ms == 1500, "timeout 1.5 is 1500 ms");
		ok(s[3].op == SCRIPT_CAPTURE && s[3].var == 0 && sc.nvars == 1 &&
		       strcmp(sc.vars[0], "ID") == 0,
		   "capture names ID (a CRLF line's CR dropped)");
		char v42[] = "42", *vals[] = {v42};
		size_t lens[] = {2};
		n = script_text_expand(&s[4].text, vals, lens, out, sizeof out);
		const char *want = "  id 42 and 42x $ID $ 5$";
		ok(n == (long)strlen(want) && memcmp(out, want, (size_t)n) == 0 &&
		       script_text_len(&s[4].text, lens) == (size_t)n,
		   "quoted send keeps its blanks; $ID and ${ID} substituted, \\$ and a bare $ "
		   "are dollars (%.*s)",
		   (int)(n > 0 ? n : 0), out);
		ok(script_text_expand(&s[4].text, vals, lens, out, 5) == -1,
		   "expansion refuses a small buffer");
		ok(s[5].op == SCRIPT_SLEEP && s[5].ms == 20 && s[6].op == SCRIPT_EXPECT_EOF &&
		       s[6].index == 7,
		   "sleep 20, expect-eof as step 7");
	}
	script_free(&sc);

	ok(bad(0, "send a\nfrobnicate x\n", "line 2: unknown step 'frobnicate'"), "unknown step");
	ok(bad(0, "expect (a\n", "line 1: bad expect regex '(a'"), "bad regex: %s", err);
	ok(bad(0, "expect a++\n", "a quantifier after a quantifier"), "a++: %s", err);
	ok(bad(0, "expect a{2}*\n", "a quantifier after a quantifier"), "a{2}*: %s", err);
	ok(bad(0, "expect a{1,256}\n", "an interval bound above 255"), "a{1,256}: %s", err);
	{
		int r2 = parse(&sc, 0, "expect [+*]+ a{2,255} [[:alpha:]]+ [^]*]? \\++ (x+)*\n");
		ok(r2 == 0, "quantifiers in brackets, after escapes and groups are fine (%s)",
		   r2 ? err : "ok");
		script_free(&sc);
	}
	ok(bad(0, "send \\q\n", "line 1: unknown escape '\\q'"), "bad escape: %s", err);
	ok(bad(0, "capture X (a)\nsend ab$X\\q\n", "line 2: unknown escape '\\q' at offset 4"),
	   "a bad escape after a capture: its offset in TEXT: %s", err);
	ok(bad(0, "\n\nsend \"abc\n", "line 3: unterminated quote"), "unterminated quote: %s", err);
	ok(bad(0, "send \"a\"b\n", "text after the closing quote"), "text after a quote");
	ok(bad(0, "send $NOPE\n", "$NOPE is not captured"), "a capture used before it is made");
	ok(bad(0, "send ${X\n", "'${' without"), "${ without }");
	ok(bad(0, "capture 9x a\n", "invalid capture name '9x'"), "capture name");
	ok(bad(0, "capture X\n", "capture needs a REGEX"), "capture without regex");
	ok(bad(0, "sleep -1\n", "invalid sleep '-1'"), "sleep -1");
	ok(bad(0, "sleep 1 2\n", "sleep takes one number"), "sleep 1 2");
	ok(bad(0, "timeout 0\n", "invalid timeout '0'"), "timeout 0");
	ok(bad(0, "expect\n", "expect needs a REGEX"), "expect without regex");
	ok(bad(0, "expect-eof now\n", "takes nothing"), "expect-eof with an argument");
	ok(bad(0, "expect a\\x00b\n", "NUL byte cannot be in a regex"), "a NUL in a regex");
	ok(bad(0, "on PING send PONG\n", "'on' rules are for serve"), "rules only for serve");
	ok(bad(SCRIPT_F_RULES, "on PING reply PONG\n", "give on REGEX send TEXT"),
	   "on without send");
	{
		static const char nul[] = "send a\0b\n";
		script_init(&sc, 0);
		r = script_parse(&sc, nul, sizeof nul - 1, err, sizeof err);
		ok(r < 0 && strstr(err, "line 1: a NUL byte"), "a NUL byte in a line: %s", err);
		script_free(&sc);
	}
	r = parse(&sc, SCRIPT_F_RULES, "on \"PING \" send +PONG\\r\\n\non ^QUIT send bye\n");
	ok(r == 0 && sc.nrules == 2 && sc.rules[0].line == 1 && sc.rules[1].line == 2,
	   "serve rules parse, quoted regex with a blank");
	script_free(&sc);
	script_init(&sc, 0);
	ok(script_add(&sc, SCRIPT_SEND, " a b ", err, sizeof err) == 0 &&
	       script_add(&sc, SCRIPT_EXPECT, "x+", err, sizeof err) == 0 && sc.nsteps == 2 &&
	       sc.steps[0].line == 0 && sc.steps[0].text.parts[0].len == 5,
	   "command-line steps keep their blanks");
	ok(script_add(&sc, SCRIPT_EXPECT, "[", err, sizeof err) < 0 && strstr(err, "bad --expect"),
	   "a bad --expect: %s", err);
	script_free(&sc);
}

/* ---- the runner ---- */

struct side {
	const char *name;
	struct script sc;
	struct script_run *run;
	struct stream *s;
	bool done;
	struct script_result res;
	char tail[SCRIPT_TAIL + 1];
	char cap[64];
	int *left; /* sides still running */
	struct loop *l;
	char sent[4096], recv[4096];
	size_t nsent, nrecv;
	int step_line, step_index; /* of res.step, which goes with the script */
	struct fake fk;		   /* the fake stream's counters, when it was one */
	bool was_fake;
};

static void on_io(void *arg, bool sent, const char *p, size_t n)
{
	struct side *sd = arg;
	char *b = sent ? sd->sent : sd->recv;
	size_t *len = sent ? &sd->nsent : &sd->nrecv;
	if (*len + n < sizeof sd->sent) {
		memcpy(b + *len, p, n);
		*len += n;
	}
}

static void on_done(void *arg, const struct script_result *r)
{
	struct side *sd = arg;
	sd->done = true;
	sd->res = *r;
	sd->step_line = r->step ? r->step->line : -1;
	sd->step_index = r->step ? r->step->index : -1;
	memcpy(sd->tail, r->tail, r->tail_len);
	sd->tail[r->tail_len] = 0;
	if (r->vals && r->vals[0])
		snprintf(sd->cap, sizeof sd->cap, "%s", r->vals[0]);
	if (sd->s->ops == &fake_ops) {
		sd->fk = *(struct fake *)sd->s->priv;
		sd->was_fake = true;
	}
	/* As connect does: the connection ends with the run. */
	script_run_free(sd->run);
	sd->run = NULL;
	stream_close(sd->s);
	sd->s = NULL;
	if (--*sd->left == 0)
		loop_stop(sd->l);
}

static void on_guard(struct loop *l, void *arg)
{
	(void)arg;
	printf("# guard timer: the runs hung\n");
	loop_stop(l);
}

/* Runs client text (over a fake stream if fake) against server text. */
static void run_pair(struct side *c, struct side *s, const char *ctext, const char *stext,
		     bool fake, int expect_ms, bool crlf)
{
	struct loop *l = mkloop();
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	int left = 2;
	struct side *sides[2] = {c, s};
	const char *texts[2] = {ctext, stext};
	for (int i = 0; i < 2; i++) {
		struct side *sd = sides[i];
		sd->left = &left;
		sd->l = l;
		script_init(&sd->sc, i ? SCRIPT_F_RULES : 0);
		if (script_parse(&sd->sc, texts[i], strlen(texts[i]), err, sizeof err) < 0)
			printf("# %s: %s\n", sd->name, err);
		sd->s = i == 0 && fake ? fake_new(l, sv[0]) : stream_fd_new(l, sv[i], STREAM_F_OWN);
		struct script_run_cfg cfg = {.sc = &sd->sc,
					     .expect_ms = expect_ms,
					     .crlf = i == 0 && crlf,
					     .server = i == 1,
					     .linger_ms = 2000,
					     .io = on_io,
					     .done = on_done,
					     .arg = sd};
		sd->run = script_run_start(l, sd->s, &cfg, err, sizeof err);
	}
	struct timer guard;
	timer_init(&guard, on_guard, NULL);
	loop_timer_start(l, &guard, 10000);
	loop_run(l);
	loop_timer_stop(l, &guard);
	for (int i = 0; i < 2; i++) {
		script_run_free(sides[i]->run);
		stream_close(sides[i]->s);
		script_free(&sides[i]->sc);
	}
	loop_free(l);
}

static void t_dialogue(bool fake)
{
	const char *kind = fake ? "fake TLS stream" : "socket stream";
	struct side c = {.name = "client"}, s = {.name = "server"};
	/* The fake stream writes only after a 0xFF from its peer: the server
	 * hands out one per client send. The reply comes in pieces with a
	 * NUL inside, for the expect to find across reads. */
	run_pair(&c, &s,
		 "send PING\\n\n"
		 "expect \\+PONG\\r\n"
		 "capture ID id=([0-9]+);\n"
		 "send got $ID\\n\n"
		 "expect-eof\n",
		 "send \\xff\n"
		 "expect ^PING\\r\\n\n"
		 "send \\xff+PO\n"
		 "sleep 30\n"
		 "send NG\\r\\n\\x00\n"
		 "sleep 30\n"
		 "send id=4\n"
		 "sleep 30\n"
		 "send 2;\n"
		 "expect ^got 42\\r$\n",
		 fake, 5000, true);
	ok(c.done && c.res.status == SCRIPT_OK, "%s: client over a %s: every step matched (%d %s)",
	   B, kind, (int)c.res.status, c.res.why);
	ok(s.done && s.res.status == SCRIPT_OK, "%s: server over a socket stream: matched (%d %s)",
	   B, (int)s.res.status, s.res.why);
	ok(strcmp(c.cap, "42") == 0, "%s: %s: capture across three reads: '%s'", B, kind, c.cap);
	ok(c.nsent == 14 && memcmp(c.sent, "PING\r\ngot 42\r\n", 14) == 0,
	   "%s: %s: -C sends CRLF (%zu bytes)", B, kind, c.nsent);
	ok(c.nrecv == (fake ? 14u : 16u), "%s: %s: the transcript has what arrived (%zu bytes)", B,
	   kind, c.nrecv);
	if (fake) {
		/* Each send waited for the READ its stream asked for (a token
		 * from the peer), not spinning on a writable socket. */
		ok(c.was_fake && c.fk.waits > 0 && c.fk.spins <= c.fk.waits,
		   "%s: over a fake TLS stream: writes waited for READ %u times, %u wasted retries",
		   B, c.fk.waits, c.fk.spins);
	}
}

static void t_timeout(void)
{
	struct side c = {.name = "client"}, s = {.name = "server"};
	run_pair(&c, &s, "send hi\\n\ntimeout 0.2\nexpect never\n",
		 "expect hi\nsend not it\\r\\n\\x01\nsleep 3000\n", false, 5000, false);
	ok(c.done && c.res.status == SCRIPT_TIMED_OUT && c.step_line == 3 &&
	       c.res.deadline_ms == 200,
	   "%s: an expect that does not match times out at its deadline (step line %d, %d ms)", B,
	   c.step_line, c.res.deadline_ms);
	ok(strcmp(c.tail, "not it\r\n\x01") == 0, "%s: the tail has the last bytes received", B);
}

static void t_closed(void)
{
	struct side c = {.name = "client"}, s = {.name = "server"};
	run_pair(&c, &s, "expect bye\nexpect more\n", "send bye\\n\n", false, 5000, false);
	ok(c.done && c.res.status == SCRIPT_CLOSED && c.step_index == 2,
	   "%s: the peer closing before an expect matched is SCRIPT_CLOSED at step %d", B,
	   c.step_index);
}

/* An expect that matches no bytes matches at once, before anything
 * came (and the buffer exists). */
static void t_empty_match(void)
{
	struct side c = {.name = "client"}, s = {.name = "server"};
	run_pair(&c, &s, "expect x*\nexpect-eof\n", "sleep 50\n", false, 5000, false);
	ok(c.done && c.res.status == SCRIPT_OK && c.nrecv == 0,
	   "%s: an expect of no bytes matches before anything arrives (%d)", B, (int)c.res.status);
}

static void t_rules(void)
{
	struct side c = {.name = "client"}, s = {.name = "server"};
	run_pair(&c, &s,
		 "send PING\\r\\nPING\\r\\nSET k v\\r\\n\n"
		 "expect (\\+PONG\\r\\n){2}\\+OK\n"
		 "send QUIT\\r\\n\n"
		 "expect bye\n",
		 "send hello\\n\n"
		 "on PING\\r\\n send +PONG\\r\\n\n"
		 "on ^SET send +OK\\r\\n\n"
		 "on x* send never\n"
		 "on ^QUIT.* send bye\\n\n",
		 false, 5000, false);
	ok(c.done && c.res.status == SCRIPT_OK, "%s: rules answer each request in turn (%d)", B,
	   (int)c.res.status);
	ok(s.done && s.res.status == SCRIPT_OK &&
	       s.nsent == strlen("hello\n+PONG\r\n+PONG\r\n+OK\r\nbye\n"),
	   "%s: the server's rules sent %zu bytes, an empty match answering nothing", B, s.nsent);
}

/* A peer that never reads: the sends pile up past what the queue may
 * hold, and the deadline ends the run instead of a hang. */
static void t_stuck(void)
{
	struct side c = {.name = "client"};
	struct loop *l = mkloop();
	int sv[2], left = 1;
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	size_t line = 60000, n = 30;
	char *text = malloc(n * (line + 6) + 32), *p = text;
	p += sprintf(p, "timeout 0.2\n");
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "send ");
		memset(p, 'x', line);
		p += line;
		*p++ = '\n';
	}
	*p = 0;
	script_init(&c.sc, 0);
	int r = script_parse(&c.sc, text, strlen(text), err, sizeof err);
	c.left = &left;
	c.l = l;
	c.s = stream_fd_new(l, sv[0], STREAM_F_OWN);
	struct script_run_cfg cfg = {.sc = &c.sc, .done = on_done, .arg = &c};
	c.run = script_run_start(l, c.s, &cfg, err, sizeof err);
	int64_t t0 = clock_ms();
	loop_run(l);
	int64_t ms = clock_ms() - t0;
	ok(r == 0 && c.done && c.res.status == SCRIPT_FAILED && strstr(c.res.why, "took nothing") &&
	       c.res.step && c.res.step->op == SCRIPT_SEND && ms < 5000,
	   "%s: sends to a peer that reads nothing fail at the deadline (%s, after %lld ms)", B,
	   c.res.why, (long long)ms);
	script_run_free(c.run);
	stream_close(c.s);
	script_free(&c.sc);
	close(sv[1]);
	loop_free(l);
	free(text);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	t_parse();
	const char *const *names = mux_backends();
	for (size_t i = 0; names[i]; i++) {
		B = names[i];
		t_dialogue(false);
		t_dialogue(true);
		t_timeout();
		t_closed();
		t_rules();
		t_stuck();
		t_empty_match();
	}
	tap_done();
}
