/* Backslash escapes in TEXT option values. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "core/sbuf.h"
#include "core/text_escape.h"

static char out[256], err[128];

/* Decodes s; the result is in out, its length returned. */
static long dec(const char *s)
{
	err[0] = '\0';
	return text_unescape(s, strlen(s), out, sizeof out, err, sizeof err);
}

int main(void)
{
	long n;

	n = dec("HTTP/1.0 200 OK\\r\\n\\r\\nhi");
	ok(n == 21 && memcmp(out, "HTTP/1.0 200 OK\r\n\r\nhi", 21) == 0,
	   "CR LF as printf writes them");
	n = dec("a\\tb\\\\c\\\"d");
	ok(n == 7 && memcmp(out, "a\tb\\c\"d", 7) == 0, "tab, backslash, quote");
	n = dec("\\a\\b\\e\\f\\v");
	ok(n == 5 && memcmp(out, "\a\b\033\f\v", 5) == 0, "the other C escapes");
	n = dec("\\x41\\x4a\\xff\\x7");
	ok(n == 4 && memcmp(out, "AJ\xff\x07", 4) == 0, "hex, one or two digits");
	n = dec("\\x414");
	ok(n == 2 && memcmp(out, "A4", 2) == 0, "hex stops after two digits");
	n = dec("\\0x\\012\\101\\1014\\377");
	ok(n == 7 && memcmp(out, "\0x\nAA4\xff", 7) == 0, "NUL and octal, up to three digits");
	n = dec("plain text, no escapes @ all");
	ok(n == 28 && memcmp(out, "plain text, no escapes @ all", 28) == 0,
	   "other bytes as they are");
	ok(dec("") == 0, "empty text");
	n = dec("\\x40FILE");
	ok(n == 5 && memcmp(out, "@FILE", 5) == 0, "a literal leading @");

	ok(dec("a\\") == -1 && strstr(err, "at the end"), "trailing backslash: %s", err);
	ok(dec("\\q") == -1 && strstr(err, "'\\q' at offset 0"), "unknown escape: %s", err);
	ok(dec("ab\\ ") == -1 && strstr(err, "0x20 at offset 2"), "backslash space: %s", err);
	ok(dec("\\xg") == -1 && strstr(err, "\\x without a hex digit"), "\\x without digits: %s",
	   err);
	ok(dec("\\x") == -1 && strstr(err, "\\x without"), "\\x at the end: %s", err);
	ok(dec("\\400") == -1 && strstr(err, "above \\377"), "octal too big: %s", err);
	ok(text_unescape("abc", 3, out, 2, err, sizeof err) == -1 && strstr(err, "longer than 2"),
	   "capacity enforced: %s", err);
	ok(text_unescape("\\n", 1, out, sizeof out, err, sizeof err) == -1 &&
	       strstr(err, "at the end"),
	   "length bound respected (no NUL needed)");

	char *p;
	n = text_unescape_dup("x\\0y\\n", &p, err, sizeof err);
	ok(n == 4 && p && memcmp(p, "x\0y\n", 5) == 0, "dup: bytes and a NUL terminator");
	free(p);
	ok(text_unescape_dup("\\z", &p, err, sizeof err) == -1 && p == NULL,
	   "dup: error, no buffer");
	n = dec("\\$HOME");
	ok(n == 5 && memcmp(out, "$HOME", 5) == 0, "\\$ is a dollar (a script's capture is not)");

	/* Regexes: only the byte escapes are decoded, the regex keeps its own. */
	n = text_unescape_regex("^\\+OK\\r\\n\\x41\\e\\t\\\\n\\1\\b", 22, out, sizeof out, err,
				sizeof err);
	ok(n == 15 && memcmp(out, "^\\+OK\r\nA\033\t\\\\n\\1\\b", 15) == 0,
	   "regex: \\r \\n \\xHH \\e \\t decoded; \\+ \\\\ \\1 \\b kept (%ld)", n);
	ok(text_unescape_regex("a\\x00", 5, out, sizeof out, err, sizeof err) == -1 &&
	       strstr(err, "NUL byte cannot be in a regex"),
	   "regex: a NUL refused: %s", err);
	ok(text_unescape_regex("a\\", 2, out, sizeof out, err, sizeof err) == 2 &&
	       memcmp(out, "a\\", 2) == 0,
	   "regex: a backslash at the end is the regex's to refuse");
	ok(text_unescape_regex("abc\\.", 5, out, 4, err, sizeof err) == -1,
	   "regex: capacity enforced");

	struct sbuf b;
	sb_init(&b);
	text_escape(&b, "a\\\"\r\n\t\0\x7f\xffz", 10);
	ok(strcmp(sb_str(&b), "a\\\\\\\"\\r\\n\\t\\x00\\x7f\\xffz") == 0, "escaped back: %s",
	   sb_str(&b));
	long m = text_unescape(b.p, b.len, out, sizeof out, err, sizeof err);
	ok(m == 10 && memcmp(out, "a\\\"\r\n\t\0\x7f\xffz", 10) == 0,
	   "what text_escape writes decodes to the bytes again");
	sb_free(&b);
	tap_done();
}
