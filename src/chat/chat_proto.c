#include "config.h"

#include <string.h>

#include "chat/chat_proto.h"

enum chat_frame chat_frame_next(struct chat_framer *f, const char *data, size_t len, size_t max,
				const char **line, size_t *linelen, size_t *used)
{
	*used = 0;
	*line = NULL;
	*linelen = 0;
	if (f->discard) {
		const char *nl = memchr(data, '\n', len);
		if (!nl) {
			*used = len;
			return CHAT_FRAME_MORE;
		}
		f->discard = false;
		*used = (size_t)(nl - data) + 1;
		data = nl + 1;
		len -= *used;
	}
	/* A line of max bytes may still be followed by "\r\n". */
	size_t look = len < max + 2 ? len : max + 2;
	const char *nl = memchr(data, '\n', look);
	if (nl) {
		size_t n = (size_t)(nl - data);
		*used += n + 1;
		if (n > 0 && data[n - 1] == '\r')
			n--;
		if (n <= max) {
			*line = data;
			*linelen = n;
			return CHAT_FRAME_LINE;
		}
		/* max + 1 bytes then "\n": cut, nothing left to skip. */
		size_t cut = max;
		while (cut > 0 && cut > max - 3 && ((unsigned char)data[cut] & 0xC0) == 0x80)
			cut--;
		*line = data;
		*linelen = cut;
		return CHAT_FRAME_CUT;
	}
	if (len <= max + 1)
		return CHAT_FRAME_MORE;
	/* More than max bytes and no newline: cut at a character boundary
	 * (a UTF-8 character is at most 4 bytes) and skip to the newline. */
	size_t cut = max;
	while (cut > 0 && cut > max - 3 && ((unsigned char)data[cut] & 0xC0) == 0x80)
		cut--;
	*line = data;
	*linelen = cut;
	const char *end = memchr(data + max + 2, '\n', len - (max + 2));
	if (end) {
		*used += (size_t)(end - data) + 1;
	} else {
		*used += len;
		f->discard = true;
	}
	return CHAT_FRAME_CUT;
}

/* Decodes one UTF-8 character at s[0..len). Returns its length and the
 * code point, or 0 if the sequence is invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		min = 0x80;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		min = 0x800;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static bool is_dropped(unsigned cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
	       (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t chat_sanitize(const char *in, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		/* A run of printable ASCII, what most lines are, is copied
		 * whole: a room's burst goes through here line by line. */
		size_t j = i;
		while (j < len && s[j] >= 0x20 && s[j] < 0x7F)
			j++;
		if (j > i) {
			memcpy(out + o, s + i, j - i);
			o += j - i;
			i = j;
			continue;
		}
		unsigned cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			/* Skip the continuation bytes of this broken sequence:
			 * one replacement character per bad sequence. */
			while (i < len && (s[i] & 0xC0) == 0x80)
				i++;
			continue;
		}
		if (cp == '\t')
			out[o++] = ' ';
		else if (!is_dropped(cp)) {
			memcpy(out + o, s + i, n);
			o += n;
		}
		i += n;
	}
	out[o] = '\0';
	return o;
}

const char *chat_name_check(const char *s, size_t len)
{
	if (len == 0)
		return "empty";
	if (len > CHAT_NAME_MAX)
		return "too long (at most 24 bytes)";
	if (s[0] == '-')
		return "must not start with '-'";
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = utf8_decode(u + i, len - i, &cp);
		if (n == 0 || is_dropped(cp))
			return "not printable UTF-8";
		if (cp == ' ' || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200F) ||
		    (cp >= 0x2028 && cp <= 0x202F) || cp == 0x205F || cp == 0x3000 ||
		    cp == 0xFEFF || cp == 0xFFFD)
			return "must not contain spaces";
		if (cp < 0x80 && strchr("<>*@/:!#,'\"", (int)cp))
			return "must not contain any of < > * @ / : ! # , ' \"";
		i += n;
	}
	return NULL;
}

static int fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool chat_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (fold((unsigned char)*a) != fold((unsigned char)*b))
			return false;
	return *a == *b;
}

static void trim(const char **p, size_t *n)
{
	while (*n && **p == ' ') {
		(*p)++;
		(*n)--;
	}
	while (*n && (*p)[*n - 1] == ' ')
		(*n)--;
}

static const struct {
	const char *name;
	enum chat_cmd cmd;
} commands[] = {
    {"nick", CHAT_NICK}, {"who", CHAT_WHO},   {"me", CHAT_ME},
    {"msg", CHAT_MSG},	 {"join", CHAT_JOIN}, {"rooms", CHAT_ROOMS},
    {"quit", CHAT_QUIT}, {"help", CHAT_HELP}, {"echo", CHAT_ECHO},
};

void chat_parse(const char *line, size_t len, struct chat_parsed *out)
{
	memset(out, 0, sizeof *out);
	out->arg = line;
	out->arglen = len;
	if (len == 0 || line[0] != '/') {
		out->cmd = CHAT_TEXT;
		return;
	}
	if (len >= 2 && line[1] == '/') {
		out->cmd = CHAT_TEXT;
		out->arg = line + 1;
		out->arglen = len - 1;
		return;
	}
	const char *word = line + 1;
	size_t wlen = 0;
	while (1 + wlen < len && word[wlen] != ' ')
		wlen++;
	const char *rest = word + wlen;
	size_t restlen = len - 1 - wlen;
	trim(&rest, &restlen);
	out->cmd = CHAT_UNKNOWN;
	out->arg = word;
	out->arglen = wlen;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strlen(commands[i].name) == wlen &&
		    strncasecmp(commands[i].name, word, wlen) == 0) {
			out->cmd = commands[i].cmd;
			out->arg = rest;
			out->arglen = restlen;
			break;
		}
	}
	if (out->cmd == CHAT_MSG) {
		size_t n = 0;
		while (n < restlen && rest[n] != ' ')
			n++;
		out->arglen = n;
		out->arg2 = rest + n;
		out->arg2len = restlen - n;
		trim(&out->arg2, &out->arg2len);
	}
}

enum chat_kind chat_classify(const char *line, size_t len, size_t *name_off, size_t *name_len)
{
	*name_off = *name_len = 0;
	if (len >= 4 && memcmp(line, "*** ", 4) == 0)
		return CHAT_K_NOTICE;
	if (len >= 3 && line[0] == '<') {
		const char *e = memchr(line + 1, '>', len - 1);
		if (e && e > line + 1 && (size_t)(e - line) + 1 < len && e[1] == ' ') {
			*name_off = 1;
			*name_len = (size_t)(e - line) - 1;
			return CHAT_K_SAY;
		}
	}
	size_t off = 0;
	if (len >= 3 && memcmp(line, "-> ", 3) == 0)
		off = 3;
	if (len > off + 2 && line[off] == '*' && line[off + 1] != '*' && line[off + 1] != ' ') {
		const char *e = memchr(line + off + 1, '*', len - off - 1);
		if (e && (size_t)(e - line) + 1 < len && e[1] == ' ') {
			*name_off = off + 1;
			*name_len = (size_t)(e - line) - off - 1;
			return CHAT_K_PRIVATE;
		}
	}
	if (len >= 3 && line[0] == '*' && line[1] == ' ') {
		const char *e = memchr(line + 2, ' ', len - 2);
		*name_off = 2;
		*name_len = e ? (size_t)(e - line) - 2 : len - 2;
		return CHAT_K_ACTION;
	}
	return CHAT_K_OTHER;
}

enum chat_frame chat_frame_next_eof(struct chat_framer *f, const char *data, size_t len, size_t max,
				    bool eof, const char **line, size_t *linelen, size_t *used)
{
	enum chat_frame fr = chat_frame_next(f, data, len, max, line, linelen, used);
	if (fr == CHAT_FRAME_MORE && eof && *used == 0 && len > 0) {
		*line = data;
		*linelen = *used = len;
		return CHAT_FRAME_LINE;
	}
	return fr;
}
