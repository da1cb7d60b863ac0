/* HTTP URL parsing and redirect resolution for the client (pure: no I/O).
 *
 * Accepts http(s)://HOST[:PORT][/PATH][?QUERY][#FRAGMENT] with HOST a
 * name, an IPv4 address or a bracketed IPv6 literal. The fragment is dropped
 * (it never goes on the wire). Control characters and spaces are
 * refused so that nothing a URL holds can split the request line;
 * bytes >= 0x80 are percent-encoded. */
#ifndef SOCKCTL_HTTP_URL_H
#define SOCKCTL_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_URL_HOSTMAX   256
#define HTTP_URL_TARGETMAX 8192

struct http_url {
	char scheme[8];		     /* "http" or "https", lower case */
	char host[HTTP_URL_HOSTMAX]; /* without brackets */
	bool ipv6;		     /* host was a bracketed literal */
	uint16_t port;
	char portstr[6];
	char target[HTTP_URL_TARGETMAX]; /* origin-form: "/path?query" */
};

enum {
	HTTP_URL_OK = 0,
	HTTP_URL_BAD = -1,	   /* malformed */
	HTTP_URL_UNSUPPORTED = -2, /* well-formed, but a scheme we cannot speak */
};

/* Parses an absolute URL. A missing scheme means http:// (as curl does).
 * Returns HTTP_URL_OK, or an error with a reason in err. */
int http_url_parse(const char *s, struct http_url *u, char *err, size_t errlen);

/* Resolves a reference (a Location value) against base (RFC 3986 5.2):
 * absolute URLs, "//authority/path", "/path", "?query" and relative
 * paths with dot segments removed. */
int http_url_resolve(const struct http_url *base, const char *ref, struct http_url *out, char *err,
		     size_t errlen);

/* "host", "host:port" or "[v6]:port" for the Host header (the port only
 * when it is not the scheme's default). Returns false if it does not fit. */
bool http_url_authority(const struct http_url *u, char *buf, size_t len);

/* True when a and b reach the same origin (scheme, host, port). */
bool http_url_same_origin(const struct http_url *a, const struct http_url *b);

#endif
