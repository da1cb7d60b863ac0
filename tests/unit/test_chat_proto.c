/* Unit tests for the chat protocol's pure functions. */
#include "config.h"

#include <string.h>

#include "chat/chat_proto.h"
#include "tap.h"

static size_t frame_all(const char *data, size_t len, size_t max, char out[][64], int *kinds,
			size_t nout)
{
	struct chat_framer f = {0};
	size_t n = 0, off = 0;
	while (off < len && n < nout) {
		const char *line;
		size_t ll, used;
		enum chat_frame k =
		    chat_frame_next(&f, data + off, len - off, max, &line, &ll, &used);
		off += used;
		if (k == CHAT_FRAME_MORE) {
			if (used == 0)
				break;
			continue;
		}
		memcpy(out[n], line, ll);
		out[n][ll] = '\0';
		kinds[n++] = k;
	}
	return n;
}

static void test_framing(void)
{
	char lines[8][64];
	int kinds[8];
	size_t n = frame_all("a\nbb\r\nccc", 9, 16, lines, kinds, 8);
	ok(n == 2 && !strcmp(lines[0], "a") && !strcmp(lines[1], "bb"),
	   "LF and CRLF lines; a partial line waits");

	/* 20 bytes with max 16: cut to 16, the rest discarded, the next kept. */
	const char *longl = "0123456789abcdefghij\nnext\n";
	n = frame_all(longl, strlen(longl), 16, lines, kinds, 8);
	ok(n == 2 && kinds[0] == CHAT_FRAME_CUT && !strcmp(lines[0], "0123456789abcdef") &&
	       kinds[1] == CHAT_FRAME_LINE && !strcmp(lines[1], "next"),
	   "a long line is cut and its tail is not delivered as another line");

	/* The cut does not split a UTF-8 character (é is 2 bytes). */
	const char *u = "abcdefghijklmno\xc3\xa9xyz\n";
	n = frame_all(u, strlen(u), 16, lines, kinds, 8);
	ok(n == 1 && kinds[0] == CHAT_FRAME_CUT && !strcmp(lines[0], "abcdefghijklmno"),
	   "cut at a character boundary");

	/* Exactly max bytes then CRLF is a whole line. */
	const char *exact = "0123456789abcdef\r\n";
	n = frame_all(exact, strlen(exact), 16, lines, kinds, 8);
	ok(n == 1 && kinds[0] == CHAT_FRAME_LINE && strlen(lines[0]) == 16,
	   "a line of exactly max bytes is not cut");

	/* A long line arriving in pieces: cut once, tail skipped across reads. */
	struct chat_framer f = {0};
	const char *line;
	size_t ll, used;
	char buf[40];
	memset(buf, 'x', 18);
	enum chat_frame k = chat_frame_next(&f, buf, 18, 16, &line, &ll, &used);
	ok(k == CHAT_FRAME_CUT && ll == 16 && used == 18 && f.discard, "first piece cut");
	k = chat_frame_next(&f, "yyyy", 4, 16, &line, &ll, &used);
	ok(k == CHAT_FRAME_MORE && used == 4 && f.discard, "second piece skipped");
	k = chat_frame_next(&f, "zz\nok\n", 6, 16, &line, &ll, &used);
	ok(k == CHAT_FRAME_LINE && ll == 2 && !memcmp(line, "ok", 2) && !f.discard,
	   "skipping ends at the newline");
}

static void test_sanitize(void)
{
	char out[256];
	const char *in = "h\x1b[31mi\x07\tthere\x7f";
	size_t n = chat_sanitize(in, strlen(in), out);
	ok(n == strlen("h[31mi there") && !strcmp(out, "h[31mi there"),
	   "ESC, BEL, DEL dropped, tab becomes a space: '%s'", out);
	const char *utf = "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5";
	n = chat_sanitize(utf, strlen(utf), out);
	ok(n == strlen(utf) && !memcmp(out, utf, n), "valid UTF-8 passes through intact");
	n = chat_sanitize("a\xff"
			  "b",
			  3, out);
	ok(!strcmp(out, "a\xef\xbf\xbd"
			"b"),
	   "a bad byte becomes U+FFFD");
	n = chat_sanitize("\xc0\xaf", 2, out);
	ok(!strcmp(out, "\xef\xbf\xbd"), "an overlong form becomes one U+FFFD");
	n = chat_sanitize("\xed\xa0\x80", 3, out);
	ok(!strcmp(out, "\xef\xbf\xbd"), "a surrogate becomes U+FFFD");
	n = chat_sanitize("x\xe2\x82", 3, out);
	ok(!strcmp(out, "x\xef\xbf\xbd"), "a truncated sequence becomes U+FFFD");
	n = chat_sanitize("a\xc2\x9b"
			  "b\xe2\x80\xae"
			  "c",
			  8, out);
	ok(!strcmp(out, "abc"), "C1 CSI and a bidi override are dropped");
	/* Runs of printable ASCII are copied whole: their ends, ' ' and
	 * '~', stay; what borders them is still looked at. */
	n = chat_sanitize(" ~x\x7f~ \x1f\xc3\xbc ~\t ", 13, out);
	ok(n == 11 && !strcmp(out, " ~x~ \xc3\xbc ~  "), "printable ASCII around other bytes: '%s'",
	   out);
}

static void test_names(void)
{
	ok(chat_name_check("alice", 5) == NULL, "alice is a name");
	ok(chat_name_check("J\xc3\xbcrgen", 7) == NULL, "non-ASCII letters are fine");
	ok(chat_name_check("", 0) != NULL, "empty is not");
	ok(chat_name_check("a b", 3) != NULL, "spaces are not");
	ok(chat_name_check("<x>", 3) != NULL, "angle brackets are not");
	ok(chat_name_check("@server", 7) != NULL, "@ is reserved");
	ok(chat_name_check("-x", 2) != NULL, "a leading dash is not");
	ok(chat_name_check("abcdefghijklmnopqrstuvwxy", 25) != NULL, "25 bytes is too long");
	ok(chat_name_check("a\xc2\xa0"
			   "b",
			   4) != NULL,
	   "a no-break space is a space");
	ok(chat_name_eq("Alice", "aLICE") && !chat_name_eq("alice", "alic"),
	   "names compare case-insensitively");
}

static void test_parse(void)
{
	struct chat_parsed p;
	chat_parse("hello", 5, &p);
	ok(p.cmd == CHAT_TEXT && p.arglen == 5, "text");
	chat_parse("//etc", 5, &p);
	ok(p.cmd == CHAT_TEXT && p.arglen == 4 && !memcmp(p.arg, "/etc", 4), "// escapes a slash");
	chat_parse("/NICK  bob ", 11, &p);
	ok(p.cmd == CHAT_NICK && p.arglen == 3 && !memcmp(p.arg, "bob", 3),
	   "/nick, case-insensitive, argument trimmed");
	chat_parse("/msg bob  hi there", 18, &p);
	ok(p.cmd == CHAT_MSG && p.arglen == 3 && !memcmp(p.arg, "bob", 3) && p.arg2len == 8 &&
	       !memcmp(p.arg2, "hi there", 8),
	   "/msg NAME TEXT");
	chat_parse("/who", 4, &p);
	ok(p.cmd == CHAT_WHO && p.arglen == 0, "/who");
	chat_parse("/frob x", 7, &p);
	ok(p.cmd == CHAT_UNKNOWN && p.arglen == 4, "unknown command named");
	chat_parse("/", 1, &p);
	ok(p.cmd == CHAT_UNKNOWN, "a lone slash");
}

static void test_classify(void)
{
	size_t off, len;
	ok(chat_classify("<bob> hi", 8, &off, &len) == CHAT_K_SAY && off == 1 && len == 3, "say");
	ok(chat_classify("* bob waves", 11, &off, &len) == CHAT_K_ACTION && off == 2 && len == 3,
	   "action");
	ok(chat_classify("*bob* psst", 10, &off, &len) == CHAT_K_PRIVATE && off == 1 && len == 3,
	   "private");
	ok(chat_classify("-> *bob* psst", 13, &off, &len) == CHAT_K_PRIVATE && off == 4 && len == 3,
	   "private, sent");
	ok(chat_classify("*** bob joined", 14, &off, &len) == CHAT_K_NOTICE, "notice");
	ok(chat_classify("plain", 5, &off, &len) == CHAT_K_OTHER, "other");
}

/* At the end of input an unterminated last line is a line; before it,
 * it is waited for. */
static void test_frame_eof(void)
{
	struct chat_framer f = {0};
	const char *line;
	size_t len, used;
	enum chat_frame fr = chat_frame_next_eof(&f, "tail", 4, 64, false, &line, &len, &used);
	ok(fr == CHAT_FRAME_MORE && used == 0, "unterminated line waited for before EOF");
	fr = chat_frame_next_eof(&f, "tail", 4, 64, true, &line, &len, &used);
	ok(fr == CHAT_FRAME_LINE && len == 4 && used == 4 && memcmp(line, "tail", 4) == 0,
	   "unterminated line returned at EOF");
	fr = chat_frame_next_eof(&f, "a\nb", 3, 64, true, &line, &len, &used);
	ok(fr == CHAT_FRAME_LINE && len == 1 && used == 2, "complete lines first at EOF");
	fr = chat_frame_next_eof(&f, "", 0, 64, true, &line, &len, &used);
	ok(fr == CHAT_FRAME_MORE && used == 0, "nothing left at EOF is no line");
}

int main(void)
{
	test_frame_eof();
	test_framing();
	test_sanitize();
	test_names();
	test_parse();
	test_classify();
	tap_done();
}
