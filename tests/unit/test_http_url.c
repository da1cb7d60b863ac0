/* Unit tests for the client's URL parser and redirect resolution. */
#include "config.h"

#include <string.h>

#include "http/http_url.h"
#include "tap.h"

static struct http_url u, v;
static char err[256];

static int parse(const char *s)
{
	err[0] = '\0';
	return http_url_parse(s, &u, err, sizeof err);
}

static const char *resolve(const char *base, const char *ref)
{
	static char out[HTTP_URL_TARGETMAX + 400];
	if (http_url_parse(base, &u, err, sizeof err) != HTTP_URL_OK)
		return "(bad base)";
	if (http_url_resolve(&u, ref, &v, err, sizeof err) != HTTP_URL_OK)
		return "(error)";
	char auth[300];
	http_url_authority(&v, auth, sizeof auth);
	snprintf(out, sizeof out, "%s://%s%s", v.scheme, auth, v.target);
	return out;
}

int main(void)
{
	ok(parse("http://Example.COM/a/b?c=d#frag") == HTTP_URL_OK, "plain URL");
	ok(strcmp(u.host, "example.com") == 0, "host lower-cased");
	ok(u.port == 80 && strcmp(u.portstr, "80") == 0, "default port 80");
	ok(strcmp(u.target, "/a/b?c=d") == 0, "target keeps query, drops fragment: %s", u.target);

	ok(parse("http://127.0.0.1:8080") == HTTP_URL_OK && u.port == 8080, "explicit port");
	ok(strcmp(u.target, "/") == 0, "empty path becomes /");
	ok(parse("http://h:8080?q") == HTTP_URL_OK && strcmp(u.target, "/?q") == 0,
	   "query without path: %s", u.target);

	ok(parse("http://[::1]:9000/x") == HTTP_URL_OK && u.ipv6 && strcmp(u.host, "::1") == 0 &&
	       u.port == 9000,
	   "IPv6 literal");
	char auth[300];
	ok(http_url_authority(&u, auth, sizeof auth) && strcmp(auth, "[::1]:9000") == 0,
	   "IPv6 authority: %s", auth);
	parse("http://h/");
	ok(http_url_authority(&u, auth, sizeof auth) && strcmp(auth, "h") == 0,
	   "default port left out of Host");

	ok(parse("localhost:8080/x") == HTTP_URL_OK && u.port == 8080 &&
	       strcmp(u.host, "localhost") == 0,
	   "no scheme means http");
	ok(parse("HTTP://h/") == HTTP_URL_OK, "scheme is case-insensitive");

	ok(parse("https://h/") == HTTP_URL_OK && strcmp(u.scheme, "https") == 0 && u.port == 443,
	   "https: port 443");
	ok(http_url_authority(&u, auth, sizeof auth) && strcmp(auth, "h") == 0,
	   "https: default port left out of Host");
	ok(parse("https://h:80/") == HTTP_URL_OK && http_url_authority(&u, auth, sizeof auth) &&
	       strcmp(auth, "h:80") == 0,
	   "https on port 80 keeps it in Host: %s", auth);
	ok(parse("ftp://h/") == HTTP_URL_UNSUPPORTED && strstr(err, "ftp"), "ftp: %s", err);

	ok(parse("http://h/a b") == HTTP_URL_BAD, "space refused");
	ok(parse("http://h/a\r\nX-Injected: 1") == HTTP_URL_BAD, "CRLF refused");
	ok(parse("http://h/\x7f") == HTTP_URL_BAD, "DEL refused");
	ok(parse("http://user:pw@h/") == HTTP_URL_BAD, "credentials refused: %s", err);
	ok(parse("http:///x") == HTTP_URL_BAD, "empty host refused");
	ok(parse("http://h:0/") == HTTP_URL_BAD, "port 0 refused");
	ok(parse("http://h:65536/") == HTTP_URL_BAD, "port 65536 refused");
	ok(parse("http://h:12x/") == HTTP_URL_BAD, "junk port refused");
	ok(parse("http://h:123456/") == HTTP_URL_BAD, "long port refused");
	ok(parse("http://[::1/") == HTTP_URL_BAD, "unterminated bracket refused");
	ok(parse("http://[::1]x/") == HTTP_URL_BAD, "junk after bracket refused");
	ok(parse("http://h%2f/") == HTTP_URL_BAD, "percent in host refused");
	ok(parse("http://h/\xc3\xa9") == HTTP_URL_OK && strcmp(u.target, "/%C3%A9") == 0,
	   "non-ASCII percent-encoded: %s", u.target);
	char big[HTTP_URL_TARGETMAX + 64] = "http://h/";
	memset(big + 9, 'a', sizeof big - 10);
	big[sizeof big - 1] = '\0';
	ok(parse(big) == HTTP_URL_BAD, "overlong path refused");

	ok(strcmp(resolve("http://h/a/b/c?q", "d"), "http://h/a/b/d") == 0, "relative: %s",
	   resolve("http://h/a/b/c?q", "d"));
	ok(strcmp(resolve("http://h/a/b/c", "../d"), "http://h/a/d") == 0, "dot-dot: %s",
	   resolve("http://h/a/b/c", "../d"));
	ok(strcmp(resolve("http://h/a/b/c", "./d/./e"), "http://h/a/b/d/e") == 0, "dot: %s",
	   resolve("http://h/a/b/c", "./d/./e"));
	ok(strcmp(resolve("http://h/a/b/c", "../../../../d"), "http://h/d") == 0,
	   "dot-dot above root: %s", resolve("http://h/a/b/c", "../../../../d"));
	ok(strcmp(resolve("http://h/a/b/c", ".."), "http://h/a/") == 0, "bare dot-dot: %s",
	   resolve("http://h/a/b/c", ".."));
	ok(strcmp(resolve("http://h/a/b", "/x/../y?z=/../"), "http://h/y?z=/../") == 0,
	   "absolute path, query untouched: %s", resolve("http://h/a/b", "/x/../y?z=/../"));
	ok(strcmp(resolve("http://h:81/a?b", "?c"), "http://h:81/a?c") == 0, "query only: %s",
	   resolve("http://h:81/a?b", "?c"));
	ok(strcmp(resolve("http://h:81/a", "//other:82/p"), "http://other:82/p") == 0,
	   "scheme-relative: %s", resolve("http://h:81/a", "//other:82/p"));
	ok(strcmp(resolve("http://h/a", "http://o/q"), "http://o/q") == 0, "absolute");
	ok(strcmp(resolve("http://h/a", "https://o/q"), "https://o/q") == 0, "redirect to https");
	ok(strcmp(resolve("https://h:8443/a", "/b"), "https://h:8443/b") == 0,
	   "https keeps its scheme and port: %s", resolve("https://h:8443/a", "/b"));
	ok(strcmp(resolve("https://h/a", "//o/b"), "https://o/b") == 0,
	   "scheme-relative from https: %s", resolve("https://h/a", "//o/b"));
	ok(strcmp(resolve("http://h/a/", "x\r\nSet-Cookie: a"), "(error)") == 0,
	   "CRLF in Location refused");

	http_url_parse("http://h:81/a", &u, err, sizeof err);
	http_url_parse("http://h:81/b", &v, err, sizeof err);
	ok(http_url_same_origin(&u, &v), "same origin");
	http_url_parse("http://h:82/a", &v, err, sizeof err);
	ok(!http_url_same_origin(&u, &v), "other port, other origin");
	/* A kept-alive plain connection never carries an https request. */
	http_url_parse("https://h:81/a", &v, err, sizeof err);
	ok(!http_url_same_origin(&u, &v), "other scheme, same host and port: other origin");
	tap_done();
}
