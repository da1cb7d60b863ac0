/* The chat line protocol, pure functions only (no I/O): line framing,
 * input sanitising (control characters, invalid UTF-8), nickname and room
 * validation, command parsing and recognising the kinds of server lines.
 * The protocol itself is described in sockctl-chat(1). */
#ifndef SOCKCTL_CHAT_PROTO_H
#define SOCKCTL_CHAT_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define CHAT_NAME_MAX	  24   /* bytes in a nickname or a room name */
#define CHAT_LINE_DEFAULT 1024 /* default maximum line length in bytes */
#define CHAT_LINE_MIN	  16
#define CHAT_LINE_LIMIT	  65536

/* Framing state for one byte stream. */
struct chat_framer {
	bool discard; /* skipping the rest of a line that was cut */
};

enum chat_frame { CHAT_FRAME_MORE, CHAT_FRAME_LINE, CHAT_FRAME_CUT };

/* Takes the next line from data[0..len). Returns CHAT_FRAME_LINE or
 * CHAT_FRAME_CUT with line and linelen set (without CR or LF), or CHAT_FRAME_MORE
 * when a complete line is not there yet. *used is always set to the bytes
 * to consume (it may be non-zero with CHAT_FRAME_MORE while the rest of a
 * cut line is skipped). A line longer than max bytes is cut at max (at a
 * UTF-8 character boundary) and the rest up to the newline discarded; the
 * caller's buffer must hold at least max + 2 bytes so framing progresses. */
enum chat_frame chat_frame_next(struct chat_framer *f, const char *data, size_t len, size_t max,
				const char **line, size_t *linelen, size_t *used);
/* chat_frame_next, except that at the end of the input (eof) an
 * unterminated last line is returned as a line rather than waited for. */
enum chat_frame chat_frame_next_eof(struct chat_framer *f, const char *data, size_t len, size_t max,
				    bool eof, const char **line, size_t *linelen, size_t *used);

/* Copies in[0..len) to out, dropping control characters (C0, DEL, C1 and
 * the bidirectional overrides), turning a tab into a space and replacing
 * each invalid UTF-8 sequence (bad bytes, overlong forms, surrogates,
 * values past U+10FFFF, truncated sequences) with U+FFFD. Valid UTF-8 is
 * kept intact. out needs 3 * len + 1 bytes; the result is NUL-terminated
 * and its length returned. */
size_t chat_sanitize(const char *in, size_t len, char *out);

/* Checks a nickname or a room name (already sanitised): 1..CHAT_NAME_MAX
 * bytes, no spaces, none of the characters < > * @ / : ! # , ' " and not
 * starting with '-'. Returns NULL if valid, else why not. */
const char *chat_name_check(const char *s, size_t len);

/* Case-insensitive name comparison (ASCII letters fold; other characters
 * compare exactly). */
bool chat_name_eq(const char *a, const char *b);

enum chat_cmd {
	CHAT_TEXT, /* an ordinary line for the room */
	CHAT_NICK,
	CHAT_WHO,
	CHAT_ME,
	CHAT_MSG,
	CHAT_JOIN,
	CHAT_ROOMS,
	CHAT_QUIT,
	CHAT_HELP,
	CHAT_ECHO,
	CHAT_UNKNOWN,
};

struct chat_parsed {
	enum chat_cmd cmd;
	const char *arg; /* points into the line; for CHAT_TEXT the text */
	size_t arglen;
	const char *arg2; /* CHAT_MSG: the text after the name */
	size_t arg2len;
};

/* Parses one sanitised line. "//x" is the text "/x". Arguments are
 * trimmed of surrounding spaces. */
void chat_parse(const char *line, size_t len, struct chat_parsed *out);

/* The kinds of line a server sends, for the client's colours. */
enum chat_kind {
	CHAT_K_OTHER,
	CHAT_K_SAY,	/* <name> text */
	CHAT_K_ACTION,	/* * name text */
	CHAT_K_PRIVATE, /* *name* text, or -> *name* text */
	CHAT_K_NOTICE,	/* *** text */
};

/* Classifies a server line and locates the name in it (*name_off,
 * *name_len; 0 for notices and unknown lines). */
enum chat_kind chat_classify(const char *line, size_t len, size_t *name_off, size_t *name_len);

#endif
