/* Dialogues with deadlines: the script language of connect --send,
 * --expect and --script and of serve --script, parsed into steps
 * (script_parse.c, pure), and the runner that plays them over a stream on
 * the loop (script_run.c). Library code: errors come back as text, the
 * outcome and the transcript through callbacks; nothing is printed.
 *
 * A script has one step per line:
 *   send TEXT          the bytes of TEXT (escapes \r \n \t \\ \xHH ...,
 *                      $NAME or ${NAME} for a capture)
 *   expect REGEX       POSIX ERE over the bytes received and not yet
 *                      consumed; the match consumes up to its end
 *   expect-eof         the peer ends its side
 *   sleep MS           a pause
 *   timeout SECONDS    the deadline of each expect from here on
 *   capture NAME REGEX as expect, keeping the first group (or the match)
 *   on REGEX send TEXT (serve) after the steps, the reply to whatever
 *                      arrives that matches
 * and # comments. TEXT and REGEX may be "quoted" to keep spaces at their
 * ends. */
#ifndef SOCKCTL_SCRIPT_H
#define SOCKCTL_SCRIPT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

enum script_op {
	SCRIPT_SEND,
	SCRIPT_EXPECT,
	SCRIPT_EXPECT_EOF,
	SCRIPT_SLEEP,
	SCRIPT_TIMEOUT,
	SCRIPT_CAPTURE,
};

/* Longest capture name, and most captures in one script. */
#define SCRIPT_NAME_MAX 32
#define SCRIPT_VARS_MAX 64
/* Longest line of a script, and most steps and rules. */
#define SCRIPT_LINE_MAX	 65536
#define SCRIPT_STEPS_MAX 100000

/* A send's bytes: literal runs of bytes (escapes decoded) and captures,
 * in order. */
struct script_part {
	int var; /* the capture's index, or -1 for bytes[off..off+len) */
	size_t off, len;
};
struct script_text {
	char *bytes;		   /* owned: the literal runs, back to back */
	struct script_part *parts; /* owned */
	size_t nparts;
};

struct script_step {
	enum script_op op;
	int line;		 /* in the script file; 0 for a step from the command line */
	int index;		 /* 1-based among the steps */
	char *src;		 /* the argument as written (for messages); owned */
	struct script_text text; /* SCRIPT_SEND */
	regex_t re;		 /* SCRIPT_EXPECT, SCRIPT_CAPTURE */
	bool has_re;
	int var; /* SCRIPT_CAPTURE */
	int ms;	 /* SCRIPT_SLEEP, SCRIPT_TIMEOUT */
};

struct script_rule {
	int line;
	char *src; /* the regex as written; owned */
	regex_t re;
	struct script_text reply;
};

/* The script may have 'on' rules (serve). */
enum { SCRIPT_F_RULES = 1 };

struct script {
	unsigned flags;
	struct script_step *steps;
	size_t nsteps, capsteps;
	struct script_rule *rules;
	size_t nrules, caprules;
	char *vars[SCRIPT_VARS_MAX]; /* capture names, owned */
	size_t nvars;
};

void script_init(struct script *sc, unsigned flags);
void script_free(struct script *sc);

/* Appends the steps (and rules) of text[0..len), which may hold NUL
 * bytes only where a line does not matter (they are refused). Returns 0,
 * or -1 with "line N: WHY" in err, and the script as it was before the
 * bad line (steps from earlier lines kept). */
int script_parse(struct script *sc, const char *text, size_t len, char *err, size_t errlen);

/* One step from the command line (--send TEXT, --expect REGEX), with the
 * same rules for its argument as a script line. Returns 0 or -1 with err
 * (no line number: the option names itself). */
int script_add(struct script *sc, enum script_op op, const char *arg, char *err, size_t errlen);

/* "send", "expect", ... */
const char *script_op_name(enum script_op op);

/* A regex as the language takes it (an expect, a capture, a rule, and
 * the --expect of other commands): the escapes of text_unescape_regex
 * decoded, shapes that would take regcomp unbounded memory refused, then
 * compiled as a POSIX ERE with REG_NEWLINE (plus cflags: REG_NOSUB).
 * 0, or SCRIPT_RE_ESCAPE (a bad escape) / SCRIPT_RE_BAD (a bad regex)
 * with why; re needs regfree only after 0. */
enum { SCRIPT_RE_ESCAPE = 1, SCRIPT_RE_BAD };
int script_regex(const char *s, size_t n, regex_t *re, int cflags, char *why, size_t whylen);

/* The bytes of t with the captures' values (vals[i], lens[i]) in place of
 * their names, into out (at most outcap bytes). Returns the length, or
 * -1 when it does not fit. */
long script_text_expand(const struct script_text *t, char *const *vals, const size_t *lens,
			char *out, size_t outcap);
/* Its length (captures as given). */
size_t script_text_len(const struct script_text *t, const size_t *lens);

/* ---- the runner (script_run.c) ---- */

struct loop;
struct stream;

enum script_status {
	SCRIPT_OK,	  /* every step matched */
	SCRIPT_TIMED_OUT, /* an expect (capture, expect-eof) met its deadline */
	SCRIPT_CLOSED,	  /* the peer ended its side before an expect matched */
	SCRIPT_FAILED,	  /* the connection failed (why says how) */
};

/* The last bytes received, for a diagnostic. */
#define SCRIPT_TAIL 200

struct script_result {
	enum script_status status;
	const struct script_step *step; /* the step that failed, or NULL */
	int deadline_ms;		/* its deadline (SCRIPT_TIMED_OUT) */
	const char *tail;		/* the last SCRIPT_TAIL bytes received */
	size_t tail_len;
	const char *rest; /* received and not consumed by an expect */
	size_t rest_len;
	char why[200];	   /* SCRIPT_FAILED */
	char *const *vals; /* the captures' values, by index (NULL: none yet) */
	const size_t *lens;
	unsigned long long sent, received;
	long long ms; /* from the start */
};

struct script_run_cfg {
	const struct script *sc; /* not owned; outlives the run */
	int expect_ms;		 /* each expect's deadline until a timeout step */
	bool crlf;		 /* -C: each "\n" of a send goes out as "\r\n" */
	/* The server's end: after the steps the rules answer until the peer
	 * ends, then the write side is shut down and what still comes is
	 * read (up to linger_ms), so that closing does not reset the
	 * connection and lose the last reply. */
	bool server;
	int linger_ms;
	/* The server's rules: a peer that sends nothing for this long is
	 * done (its connection closes as at its end); 0 = never. */
	int idle_ms;
	/* The transcript (NULL: not wanted): bytes as they are sent
	 * (sent) and as they arrive. */
	void (*io)(void *arg, bool sent, const char *p, size_t n);
	/* The outcome, once; the run may be freed inside. The run no longer
	 * uses the stream: it may go on to another engine. */
	void (*done)(void *arg, const struct script_result *r);
	void *arg;
};

struct script_run;
/* Plays cfg->sc over s (not owned: it must outlive the run), from now on
 * the loop; a datagram stream gets each send as one datagram. NULL with
 * err (out of memory, the stream cannot be watched). */
struct script_run *script_run_start(struct loop *l, struct stream *s,
				    const struct script_run_cfg *cfg, char *err, size_t errlen);
/* Stops and frees (the stream is left as it is). NULL is fine. */
void script_run_free(struct script_run *r);

struct sbuf;
/* The outcome in one line: the step (its line, or its place among the
 * command line's steps), what went wrong, and the last bytes received,
 * escaped: 'line 3 (expect ^\+PONG): no match within 5 s; the last 13
 * bytes received: "-ERR unknown\r\n"'. */
void script_describe(struct sbuf *b, const struct script_result *r);

#endif
