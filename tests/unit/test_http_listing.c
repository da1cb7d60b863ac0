/* http serve's listings: the query that sorts them, Accept asking for
 * JSON, sorting, and JSON strings that keep UTF-8 names. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "http/http_listing.h"
#include "tap.h"

static struct http_list_query q;

static bool query(const char *s, enum http_list_sort sort, bool desc, enum http_list_format f)
{
	http_list_query_parse(s, s ? strlen(s) : 0, &q);
	return q.sort == sort && q.desc == desc && q.format == f;
}

static bool accept_json(const char *v)
{
	return http_accept_json(v, strlen(v));
}

static const char *utf8(const char *s, size_t n)
{
	static struct sbuf b;
	sb_reset(&b);
	json_string_utf8(&b, s, n);
	return sb_str(&b);
}

int main(void)
{
	ok(query(NULL, HTTP_SORT_NAME, false, HTTP_LIST_AUTO), "no query: by name, ascending");
	ok(query("sort=size&order=desc", HTTP_SORT_SIZE, true, HTTP_LIST_AUTO), "size, desc");
	ok(query("order=desc;sort=date", HTTP_SORT_DATE, true, HTTP_LIST_AUTO), "';' separates");
	ok(query("sort=mtime", HTTP_SORT_DATE, false, HTTP_LIST_AUTO), "mtime is date");
	ok(query("format=json&x=1&&=&sort", HTTP_SORT_NAME, false, HTTP_LIST_JSON),
	   "junk ignored, format=json");
	ok(query("format=html&sort=bogus&order=up", HTTP_SORT_NAME, false, HTTP_LIST_HTML),
	   "unknown values ignored");
	ok(query("sort=size&sort=name", HTTP_SORT_NAME, false, HTTP_LIST_AUTO),
	   "the last one counts");
	ok(query("SORT=size", HTTP_SORT_NAME, false, HTTP_LIST_AUTO), "keys are case-sensitive");

	ok(accept_json("application/json"), "Accept: application/json");
	ok(accept_json("application/json, */*;q=0.1"), "json with a fallback");
	ok(accept_json("APPLICATION/JSON;charset=utf-8"), "any case, parameters");
	ok(!accept_json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
	   "a browser");
	ok(!accept_json("application/json, text/html"), "html listed too: html");
	ok(!accept_json("application/json;q=0"), "json refused");
	ok(!accept_json("application/json; q=0.000"), "json refused with decimals");
	ok(accept_json("application/json;q=0.5"), "json with a low q is still json");
	ok(accept_json("application/json, text/html;q=0"), "html refused: json");
	ok(!accept_json("*/*") && !accept_json(""), "anything: html");

	struct http_listing l = {0};
	struct http_dirent v[] = {{strdup("b"), HTTP_DIRENT_FILE, 30, 100},
				  {strdup("a"), HTTP_DIRENT_FILE, 10, 300},
				  {strdup("d"), HTTP_DIRENT_DIR, 4096, 200},
				  {strdup("c"), HTTP_DIRENT_FILE, 10, 100}};
	l.v = malloc(sizeof v);
	memcpy(l.v, v, sizeof v);
	l.n = 4;
	char got[5];
#define ORDER(s)                                                                                   \
	(http_list_query_parse(s, strlen(s), &q), http_listing_sort(&l, &q),                       \
	 got[0] = l.v[0].name[0], got[1] = l.v[1].name[0], got[2] = l.v[2].name[0],                \
	 got[3] = l.v[3].name[0], got[4] = 0, got)
	ok(strcmp(ORDER(""), "abcd") == 0, "by name");
	ok(strcmp(ORDER("order=desc"), "dcba") == 0, "by name, descending");
	ok(strcmp(ORDER("sort=size"), "dacb") == 0, "by size: directories first, ties by name");
	ok(strcmp(ORDER("sort=size&order=desc"), "bcad") == 0, "by size, descending");
	ok(strcmp(ORDER("sort=date"), "bcda") == 0, "by date, ties by name");
	http_listing_free(&l);

	ok(strcmp(utf8("a\"b\\c", 5), "\"a\\\"b\\\\c\"") == 0, "quotes and backslashes");
	ok(strcmp(utf8("\xc3\xa9t\xc3\xa9", 5), "\"\xc3\xa9t\xc3\xa9\"") == 0, "UTF-8 kept");
	ok(strcmp(utf8("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"") == 0, "4-byte UTF-8 kept");
	ok(strcmp(utf8("a\xff"
		       "b",
		       3),
		  "\"a\\ufffdb\"") == 0,
	   "a stray byte: U+FFFD");
	ok(strcmp(utf8("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"") == 0, "overlong: U+FFFD");
	ok(strcmp(utf8("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"") == 0, "surrogate: U+FFFD");
	ok(strcmp(utf8("\xe2\x82", 2), "\"\\ufffd\\ufffd\"") == 0, "cut short: U+FFFD");
	ok(strcmp(utf8("\x01\n\x7f", 3), "\"\\u0001\\u000a\\u007f\"") == 0, "controls escaped");
	struct sbuf b;
	sb_init(&b);
	json_string(&b, "\xc3\xa9", 2);
	ok(strcmp(sb_str(&b), "\"\\u00c3\\u00a9\"") == 0, "json_string itself is unchanged");
	sb_free(&b);
	tap_done();
}
