/* MIME types, dates, ranges and escaping. */
#include "config.h"

#include <string.h>

#include "core/sbuf.h"
#include "http/http_date.h"
#include "http/http_escape.h"
#include "http/http_mime.h"
#include "http/http_range.h"
#include "tap.h"

static struct http_range r[HTTP_RANGES_MAX];
static size_t n;

static int range(const char *s, uint64_t size)
{
	return http_range_parse(s, strlen(s), size, r, HTTP_RANGES_MAX, &n);
}

int main(void)
{
	const char types[] = "# comment\ntext/x-foo\tfoo FOO2\n\napplication/x-bar bar\nbad\tbaz\n"
			     "text/html html htm\n";
	struct http_mime *m = http_mime_parse(types, sizeof types - 1);
	ok(m != NULL, "mime table parses");
	ok(strcmp(http_mime_type(m, "a/b.foo"), "text/x-foo") == 0, "extension lookup");
	ok(strcmp(http_mime_type(m, "x.FOO2"), "text/x-foo") == 0, "case-insensitive");
	ok(strcmp(http_mime_type(m, "x.bar"), "application/x-bar") == 0, "second line");
	ok(strcmp(http_mime_type(m, "x.baz"), "application/octet-stream") == 0,
	   "types without a slash ignored");
	ok(strcmp(http_mime_type(m, "x.png"), "image/png") == 0, "built-in fills gaps");
	ok(strcmp(http_mime_type(m, "noext"), "application/octet-stream") == 0, "no extension");
	ok(strcmp(http_mime_type(m, "dir.d/noext"), "application/octet-stream") == 0,
	   "dots in directories do not count");
	http_mime_free(m);
	m = http_mime_load("/nonexistent/mime.types");
	ok(m && strcmp(http_mime_type(m, "i.html"), "text/html") == 0, "missing file: built-in");
	http_mime_free(m);

	char d[HTTP_DATE_LEN];
	http_date_format(784111777, d);
	ok(strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT") == 0, "format");
	time_t t = 0;
	ok(http_date_parse(d, strlen(d), &t) && t == 784111777, "IMF-fixdate");
	const char *rfc850 = "Sunday, 06-Nov-94 08:49:37 GMT", *asc = "Sun Nov  6 08:49:37 1994";
	ok(http_date_parse(rfc850, strlen(rfc850), &t) && t == 784111777, "RFC 850");
	ok(http_date_parse(asc, strlen(asc), &t) && t == 784111777, "asctime");
	const char *bad[] = {"Sun, 06 Nov 1994 08:49:37 UTC",
			     "Sun, 6 Nov 1994 08:49:37 GMT",
			     "Sun, 06 Nov 1994 25:49:37 GMT",
			     "yesterday",
			     "",
			     "Sun, 06 Nov 1994 08:49:37 GMTx"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(!http_date_parse(bad[i], strlen(bad[i]), &t), "refused: '%s'", bad[i]);

	ok(range("bytes=0-9", 100) == HTTP_RANGE_OK && n == 1 && r[0].first == 0 && r[0].last == 9,
	   "single range");
	ok(range("bytes=90-", 100) == HTTP_RANGE_OK && r[0].first == 90 && r[0].last == 99,
	   "open range");
	ok(range("bytes=-10", 100) == HTTP_RANGE_OK && r[0].first == 90 && r[0].last == 99,
	   "suffix range");
	ok(range("bytes=-500", 100) == HTTP_RANGE_OK && r[0].first == 0 && r[0].last == 99,
	   "suffix longer than the file");
	ok(range("bytes=50-500", 100) == HTTP_RANGE_OK && r[0].last == 99, "end clipped");
	ok(range("bytes=0-1, 5-6,-2", 100) == HTTP_RANGE_OK && n == 3 && r[2].first == 98,
	   "multiple ranges");
	ok(range("bytes=0-10,5-20,21-22", 100) == HTTP_RANGE_OK && n == 1 && r[0].last == 22,
	   "overlapping and touching ranges merged");
	ok(range("bytes=100-", 100) == HTTP_RANGE_UNSATISFIABLE, "past the end: 416");
	ok(range("bytes=-0", 100) == HTTP_RANGE_UNSATISFIABLE, "empty suffix: 416");
	ok(range("bytes=0-0", 0) == HTTP_RANGE_UNSATISFIABLE, "empty file: 416");
	ok(range("bytes=200-300,0-1", 100) == HTTP_RANGE_OK && n == 1,
	   "unsatisfiable part dropped");
	ok(range("bytes=5-1", 100) == HTTP_RANGE_NONE, "reversed: ignored");
	ok(range("items=0-1", 100) == HTTP_RANGE_NONE, "other units: ignored");
	ok(range("bytes=a-b", 100) == HTTP_RANGE_NONE, "garbage: ignored");
	ok(range("bytes=", 100) == HTTP_RANGE_NONE, "empty: ignored");
	ok(range("bytes=99999999999999999999-", 100) == HTTP_RANGE_NONE, "overflow: ignored");
	char many[512] = "bytes=";
	for (int i = 0; i <= HTTP_RANGES_MAX; i++)
		sprintf(many + strlen(many), "%d-%d,", i * 4, i * 4 + 1);
	ok(range(many, 1000) == HTTP_RANGE_NONE, "more than the cap: the whole file");

	char out[256];
	http_escape_html("<a href=\"x\">&'", 14, out, sizeof out);
	ok(strcmp(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;") == 0, "html escaping");
	http_escape_html("a\x1b[2Jb", 6, out, sizeof out);
	ok(!strchr(out, 0x1b), "html: no escape characters");
	http_escape_log("a\"b\\c\r\n\x1b\xff", 9, out, sizeof out);
	ok(strcmp(out, "a\\x22b\\x5cc\\x0d\\x0a\\x1b\\xff") == 0, "log escaping");
	http_escape_log_word("CN=a b,O=\"x\"", 12, out, sizeof out);
	ok(strcmp(out, "CN=a\\x20b,O=\\x22x\\x22") == 0, "a log field kept one word: %s", out);
	struct sbuf j; /* the JSON access log's escaper */
	sb_init(&j);
	json_string(&j, "a\"\\\n\x01\xc3", 6);
	ok(strcmp(sb_str(&j), "\"a\\\"\\\\\\u000a\\u0001\\u00c3\"") == 0, "json escaping");
	sb_free(&j);
	http_escape_html("&&&&", 4, out, 11);
	ok(strcmp(out, "&amp;&amp;") == 0, "cut at a whole entity");
	tap_done();
}
